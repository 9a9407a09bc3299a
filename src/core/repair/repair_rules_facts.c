/* repair_rules_facts.c: what the rules of `slotctl fix` read from the
 * snapshot and the key counts: each node's line about itself, whether it is
 * a master and claims a slot, its MIGRATING/IMPORTING markers, the owner in
 * its own view, its keys in a slot; whether it counts as an unreachable
 * master or heads a lost shard; and the facts of one slot gathered over
 * every master (repair_gather_facts), which decide whether it is broken. */
#include "repair_rules_priv.h"

#include <string.h>

const struct node *repair_self_line(const struct snapshot *s, size_t i)
{
	const struct node_view *v = &s->nodes[i];
	const struct topology *ref;

	if (v->reachable && v->view.myself >= 0)
		return &v->view.nodes[v->view.myself];
	ref = snapshot_map(s);
	if (!ref || !v->id[0])
		return NULL;
	return topology_find(ref, v->id);
}

bool repair_is_addressed_master(const struct snapshot *s, size_t i)
{
	const struct node *n = repair_self_line(s, i);

	return n && node_is_master(n) && !(n->flags & NODE_NOADDR);
}

bool repair_claims(const struct snapshot *s, size_t i, int slot)
{
	const struct node *n = repair_self_line(s, i);

	return n && node_is_master(n) && slotset_has(node_slots(n), slot);
}

int repair_marker(const struct snapshot *s, size_t i, int slot, bool importing)
{
	const struct node *n;

	if (!s->nodes[i].reachable)
		return -2; /* markers are only ever shown by the node itself */
	n = repair_self_line(s, i);
	for (size_t k = 0; n && k < n->open_count; k++)
		if (n->open[k].slot == slot && n->open[k].importing == importing)
			return snapshot_index(s, n->open[k].peer);
	return -2;
}

bool repair_server_may_take(const struct snapshot *s, const struct repair_item *it)
{
	int from;

	if (it->target < 0)
		return false;
	from = repair_marker(s, (size_t)it->target, it->slot, true);
	return from >= 0 && repair_is_addressed_master(s, (size_t)from) && s->nodes[from].reachable &&
	       !repair_claims(s, (size_t)from, it->slot);
}

int repair_view_owner(const struct snapshot *s, size_t i, int slot)
{
	const struct topology *t = &s->nodes[i].view;

	for (size_t k = 0; k < t->count; k++)
		if (node_is_master(&t->nodes[k]) && slotset_has(node_slots(&t->nodes[k]), slot))
			return snapshot_index(s, t->nodes[k].id);
	return -1;
}

long long repair_keys_of(const struct repair_input *in, size_t i, int slot)
{
	if (!in->keys)
		return -1;
	return in->keys[i * SC_SLOTS + (size_t)slot];
}

void repair_gather_facts(const struct repair_input *in, int slot, struct slot_facts *f)
{
	const struct snapshot *s = in->snap;

	memset(f, 0, sizeof(*f));
	f->claimant = f->migrator = f->importer = f->holder = -1;
	f->mig_peer = f->imp_peer = -2;
	for (size_t i = 0; i < s->count; i++) {
		bool claims;
		int m, im;

		if (!repair_is_addressed_master(s, i))
			continue;
		claims = repair_claims(s, i, slot);
		if (claims) {
			f->claimants++;
			f->claimant = (int)i;
		}
		m = repair_marker(s, i, slot, false);
		im = repair_marker(s, i, slot, true);
		if (m != -2) {
			f->migrating++;
			f->migrator = (int)i;
			f->mig_peer = m;
		}
		if (im != -2) {
			f->importing++;
			f->importer = (int)i;
			f->imp_peer = im;
		}
		if (repair_keys_of(in, i, slot) > 0) {
			f->holders++;
			f->holder = (int)i;
			if (!claims)
				f->stray++;
		}
	}
}

bool repair_slot_is_broken(const struct slot_facts *f)
{
	return f->claimants != 1 || f->migrating || f->importing || f->stray;
}

bool repair_counts_unreachable(const struct snapshot *s, size_t i)
{
	const struct node *n = repair_self_line(s, i);

	if (s->nodes[i].reachable || !n || !node_is_master(n) || (n->flags & NODE_NOADDR))
		return false;
	/* a failed master that was replaced (no slots left) changes nothing */
	return !((n->flags & NODE_FAIL) && slotset_count(node_slots(n)) == 0);
}

bool repair_shard_lost(const struct snapshot *s, size_t i)
{
	const struct node *n = repair_self_line(s, i);

	if (!repair_counts_unreachable(s, i) || !(n->flags & NODE_FAIL) || slotset_count(node_slots(n)) == 0)
		return false;
	for (size_t j = 0; j < s->count; j++) {
		const struct node *r = repair_self_line(s, j);

		if (j != i && s->nodes[j].reachable && r && strcmp(r->master_id, n->id) == 0)
			return false;
	}
	return true;
}
