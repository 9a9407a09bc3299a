/* repair_rules.c: the plan of `slotctl fix` (repair_plan_build). For every
 * slot it gathers what each master says about itself and how many keys each
 * holds in the slot (repair_rules_facts.c), names the state of a broken one
 * and chooses its owner after the repair (repair_rules_classify.c), and
 * writes the repair as protocol steps (repair_rules_steps.c); here, which
 * items are left (blocked) and why: a master that cannot be reached, a lost
 * shard without --accept-data-loss, an atomic migration holding the slot. */
#include "repair_rules_priv.h"
#include "slotctl/core/exitcode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The owner in the cluster's map (the reference view), or -1. */
static int map_owner(const struct snapshot *s, int slot)
{
	return s->reference < 0 ? -1 : repair_view_owner(s, (size_t)s->reference, slot);
}

/* ---- reachability ------------------------------------------------------ */

/* Whether a reachable master has slot open towards or from node u, or sees
 * u as the slot's owner in its own view. */
static bool named_by_others(const struct snapshot *s, size_t u, int slot)
{
	for (size_t i = 0; i < s->count; i++) {
		if (i == u || !repair_is_addressed_master(s, i) || !s->nodes[i].reachable)
			continue;
		if (repair_marker(s, i, slot, false) == (int)u || repair_marker(s, i, slot, true) == (int)u ||
		    repair_view_owner(s, i, slot) == (int)u)
			return true;
	}
	return false;
}

/* The first unreachable master the state of slot involves (a claimant, the
 * peer of a MIGRATING or IMPORTING marker, the owner in some master's view,
 * or the chosen owner), or -1. */
static int unreachable_involved(const struct plan_ctx *c, int slot, const struct repair_item *it)
{
	const struct snapshot *s = c->in->snap;

	for (size_t i = 0; i < s->count; i++) {
		if (!repair_counts_unreachable(s, i))
			continue;
		if ((int)i == it->target || repair_claims(s, i, slot) || named_by_others(s, i, slot))
			return (int)i;
	}
	return -1;
}

static void block(struct repair_item *it, bool reach)
{
	it->blocked = true;
	it->needs_reach = reach;
}

/* A slot of a lost shard (the owner in the cluster's map heads one):
 * blocked without accept_data_loss, else given to its live master. Returns
 * 1 when slot is no such slot, 0 when it is (it filled), -1 on OOM. */
static int plan_lost(struct plan_ctx *c, int slot, struct repair_item *it)
{
	const struct snapshot *s = c->in->snap;
	int owner = map_owner(s, slot);

	if (owner < 0 || !repair_shard_lost(s, (size_t)owner))
		return 1;
	memset(it, 0, sizeof(*it));
	it->slot = slot;
	it->state = REPAIR_LOST_SHARD;
	it->owner = owner;
	it->source = it->importer = -1;
	it->target = c->lost_target ? c->lost_target[slot] : -1;
	it->involves_unreachable = true;
	if (!c->in->accept_data_loss) {
		block(it, true);
		snprintf(it->reason, sizeof(it->reason), "lost shard: '%s' and every replica of it are down "
			"and flagged fail, so every key of the slot is gone; --accept-data-loss gives the slot, "
			"empty, to a live master", s->nodes[owner].addr);
		return 0;
	}
	if (it->target < 0 || c->unreachable > 0) {
		block(it, true);
		snprintf(it->reason, sizeof(it->reason), c->unreachable > 0 ?
			"not repaired while another master cannot be reached (it may be a partition)" :
			"no live master can own the slot");
		return 0;
	}
	return repair_write_steps(c, slot, it) ? -1 : 0;
}

/* accept_data_loss: the lost shards' slots, ascending, split into
 * contiguous ranges of as even a size as can be among the live masters in
 * snapshot order (see repair_shard_lost). */
static void split_lost(const struct snapshot *s, int *lost_target)
{
	int lost = 0, live = 0, k = 0, m = 0;

	for (int slot = 0; slot < SC_SLOTS; slot++) {
		int o = map_owner(s, slot);

		lost_target[slot] = -1;
		lost += o >= 0 && repair_shard_lost(s, (size_t)o);
	}
	for (size_t i = 0; i < s->count; i++)
		live += repair_is_addressed_master(s, i) && s->nodes[i].reachable &&
			!(repair_self_line(s, i)->flags & (NODE_FAIL | NODE_PFAIL));
	for (size_t i = 0; live > 0 && i < s->count; i++) {
		int first = (int)((long long)m * lost / live), last = (int)((long long)(m + 1) * lost / live);

		if (!repair_is_addressed_master(s, i) || !s->nodes[i].reachable ||
		    (repair_self_line(s, i)->flags & (NODE_FAIL | NODE_PFAIL)))
			continue;
		for (; k < SC_SLOTS; k++) {
			int o = map_owner(s, k);

			if (o < 0 || !repair_shard_lost(s, (size_t)o))
				continue;
			if (first >= last)
				break;
			lost_target[k] = (int)i;
			first++;
		}
		m++;
	}
}

static int plan_slot(struct plan_ctx *c, int slot, struct repair_item *it)
{
	const struct snapshot *s = c->in->snap;
	struct slot_facts f;
	int gone = plan_lost(c, slot, it);

	if (gone <= 0)
		return gone;
	repair_gather_facts(c->in, slot, &f);
	if (!repair_slot_is_broken(&f))
		return 1;
	memset(it, 0, sizeof(*it));
	it->slot = slot;
	it->owner = map_owner(s, slot);
	repair_classify(c, slot, &f, it);
	repair_apply_hint(c, slot, it);
	gone = unreachable_involved(c, slot, it);
	if (gone >= 0) {
		block(it, true);
		it->involves_unreachable = true;
		snprintf(it->reason, sizeof(it->reason),
			"'%s' could not be reached; run fix again once it is back", s->nodes[gone].addr);
		return 0;
	}
	if (it->target < 0) {
		block(it, c->unreachable > 0);
		snprintf(it->reason, sizeof(it->reason), "no reachable master can own the slot");
		return 0;
	}
	if (c->unreachable > 0 && !c->in->allow_unreachable) {
		/* it may be a partition: nothing changes unless the operator says so */
		block(it, true);
		snprintf(it->reason, sizeof(it->reason), "not repaired while a master cannot be reached; "
			"--allow-unreachable repairs it without that master");
		return 0;
	}
	if (f.claimants == 0)
		c->assigned[it->target]++;
	return repair_write_steps(c, slot, it) ? -1 : 0;
}

int repair_plan_build(const struct repair_input *in, struct repair_plan *out, struct sc_error *err)
{
	const struct snapshot *s = in->snap;
	struct repair_plan p = { 0 };
	struct plan_ctx c = { in, NULL, 0, NULL };
	size_t cap = 0;

	if (!snapshot_map(s))
		return sc_error_set(err, SC_EXIT_UNREACHABLE, "no node of the cluster could be reached");
	c.assigned = calloc(s->count ? s->count : 1, sizeof(int));
	c.lost_target = calloc(SC_SLOTS, sizeof(int));
	if (!c.assigned || !c.lost_target) {
		free(c.assigned);
		free(c.lost_target);
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	}
	split_lost(s, c.lost_target);
	for (size_t i = 0; i < s->count; i++) {
		bool lost = repair_shard_lost(s, i);

		p.lost_masters += lost;
		c.unreachable += repair_counts_unreachable(s, i) && !(lost && in->accept_data_loss);
	}
	p.unreachable_masters = c.unreachable;
	p.refused = c.unreachable > 0 && !in->allow_unreachable;
	for (int slot = 0; slot < SC_SLOTS; slot++) {
		struct repair_item it;
		int rc;

		if (p.count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct repair_item *grown = realloc(p.items, ncap * sizeof(*grown));

			if (!grown)
				goto oom;
			p.items = grown;
			cap = ncap;
		}
		rc = plan_slot(&c, slot, &it);
		if (rc < 0) {
			free(it.steps);
			goto oom;
		}
		if (rc == 0 && in->atomic_held && slotset_has(in->atomic_held, slot)) {
			block(&it, false);
			snprintf(it.reason, sizeof(it.reason), "an atomic slot migration (Valkey 9) holds the slot: "
				"left to the servers (see 'slotctl check'; 'slotctl fix --cancel-atomic' cancels it)");
		}
		if (rc == 0)
			p.items[p.count++] = it;
	}
	free(c.assigned);
	free(c.lost_target);
	*out = p;
	return 0;
oom:
	free(c.assigned);
	free(c.lost_target);
	repair_plan_release(&p);
	return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory while planning repairs");
}

void repair_plan_release(struct repair_plan *p)
{
	for (size_t i = 0; p && i < p->count; i++)
		free(p->items[i].steps);
	if (p) {
		free(p->items);
		memset(p, 0, sizeof(*p));
	}
}

size_t repair_plan_blocked(const struct repair_plan *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->count; i++)
		n += p->items[i].blocked;
	return n;
}

int repair_lost_slots(const struct repair_plan *p, struct slotset *out)
{
	slotset_clear(out);
	for (size_t i = 0; i < p->count; i++)
		if (p->items[i].state == REPAIR_LOST_SHARD)
			slotset_add(out, p->items[i].slot);
	return slotset_count(out);
}

size_t repair_plan_needs_reach(const struct repair_plan *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->count; i++)
		n += p->items[i].needs_reach;
	return n;
}
