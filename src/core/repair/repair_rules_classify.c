/* repair_rules_classify.c: naming a broken slot's state and choosing its
 * owner after `slotctl fix` (repair_classify), by the rules documented in
 * the state table (repair_rules_describe.c): the slot's open migration is
 * finished or rolled back, an uncovered slot goes to the master holding the
 * most keys (none: the least loaded), several claimants to the one with the
 * most keys; a slotctl journal's direction for the slot wins over the rules
 * (repair_apply_hint, repair_hints_from_journal). */
#include "repair_rules_priv.h"
#include "slotctl/core/exitcode.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long epoch_of(const struct snapshot *s, size_t i)
{
	const struct node *n = repair_self_line(s, i);

	return n ? n->config_epoch : 0;
}

/* Among reachable masters (claimants only when only_claimants): the most
 * keys in slot, ties (among claimants) by highest configEpoch, then by lowest
 * id. -1 when none is reachable. */
static int most_keys(const struct plan_ctx *c, int slot, bool only_claimants)
{
	const struct snapshot *s = c->in->snap;
	int best = -1;

	for (size_t i = 0; i < s->count; i++) {
		long long k, bk;

		if (!repair_is_addressed_master(s, i) || !s->nodes[i].reachable)
			continue;
		if (only_claimants && !repair_claims(s, i, slot))
			continue;
		if (best < 0) {
			best = (int)i;
			continue;
		}
		k = repair_keys_of(c->in, i, slot);
		bk = repair_keys_of(c->in, (size_t)best, slot);
		if (k != bk) {
			if (k > bk)
				best = (int)i;
			continue;
		}
		if (only_claimants && epoch_of(s, i) != epoch_of(s, (size_t)best)) {
			if (epoch_of(s, i) > epoch_of(s, (size_t)best))
				best = (int)i;
			continue;
		}
		if (strcmp(s->nodes[i].id, s->nodes[best].id) < 0)
			best = (int)i;
	}
	return best;
}

static long long memory_of(const struct plan_ctx *c, size_t i)
{
	long long m = c->in->used_memory ? c->in->used_memory[i] : -1;

	return m < 0 ? LLONG_MAX : m;
}

static int slots_of(const struct plan_ctx *c, size_t i)
{
	const struct node *n = repair_self_line(c->in->snap, i);

	return (n ? slotset_count(node_slots(n)) : 0) + c->assigned[i];
}

/* The documented policy for an empty uncovered slot: least used_memory, ties
 * by fewest slots (counting those given in this pass), then lowest id. */
static int least_loaded(const struct plan_ctx *c)
{
	const struct snapshot *s = c->in->snap;
	int best = -1;

	for (size_t i = 0; i < s->count; i++) {
		const struct node *n = repair_self_line(s, i);

		if (!repair_is_addressed_master(s, i) || !s->nodes[i].reachable ||
		    (n->flags & (NODE_FAIL | NODE_PFAIL)))
			continue;
		if (best < 0 || memory_of(c, i) < memory_of(c, (size_t)best) ||
		    (memory_of(c, i) == memory_of(c, (size_t)best) &&
		     (slots_of(c, i) < slots_of(c, (size_t)best) ||
		      (slots_of(c, i) == slots_of(c, (size_t)best) &&
		       strcmp(s->nodes[i].id, s->nodes[best].id) < 0))))
			best = (int)i;
	}
	return best;
}

/* A slot open both ways between its owner a and b: finish the move when b
 * got keys, else roll it back. */
static bool classify_open_pair(const struct plan_ctx *c, int slot, const struct slot_facts *f,
	struct repair_item *it)
{
	int a = f->migrator, b = f->importer;
	long long ka, kb;

	if (!(f->migrating == 1 && f->importing == 1 && f->mig_peer == b && f->imp_peer == a &&
	      f->claimants == 1 && f->claimant == a))
		return false;
	ka = repair_keys_of(c->in, (size_t)a, slot);
	kb = repair_keys_of(c->in, (size_t)b, slot);
	it->source = a;
	it->importer = b;
	if (kb <= 0) {
		it->state = REPAIR_OPEN_NO_KEYS_MOVED;
		it->target = a;
	} else {
		it->state = ka <= 0 ? REPAIR_OPEN_ALL_KEYS_MOVED : REPAIR_OPEN_SOME_KEYS_MOVED;
		it->target = b;
	}
	return true;
}

/* Only one node shows MIGRATING (nobody IMPORTING). */
static bool classify_migrating_only(const struct plan_ctx *c, int slot, const struct slot_facts *f,
	struct repair_item *it)
{
	const struct snapshot *s = c->in->snap;
	int a = f->migrator;
	bool a_claims;

	if (!(f->migrating == 1 && f->importing == 0))
		return false;
	a_claims = repair_claims(s, (size_t)a, slot);
	if (a_claims && f->mig_peer >= 0 && f->claimants == 2 &&
	    repair_claims(s, (size_t)f->mig_peer, slot)) {
		it->state = REPAIR_NODE_TARGET_ONLY;
		it->source = a;
		it->importer = f->mig_peer;
		it->target = f->mig_peer;
		return true;
	}
	if (a_claims && f->claimants == 1) {
		it->state = REPAIR_MIGRATING_OWNER_ONLY;
		it->source = a;
		it->target = a;
		return true;
	}
	if (!a_claims && f->claimants == 1) {
		it->state = REPAIR_MIGRATING_NON_OWNER;
		it->target = f->claimant;
		return true;
	}
	return false;
}

/* Only one node shows IMPORTING (nobody MIGRATING). */
static bool classify_importing_only(const struct plan_ctx *c, int slot, const struct slot_facts *f,
	struct repair_item *it)
{
	const struct snapshot *s = c->in->snap;
	int b = f->importer, src = f->imp_peer;

	if (!(f->importing == 1 && f->migrating == 0))
		return false;
	if (f->claimants == 0 && src >= 0 && s->nodes[src].reachable &&
	    repair_view_owner(s, (size_t)src, slot) == b) {
		it->state = REPAIR_NODE_SOURCE_ONLY;
		it->source = src;
		it->importer = b;
		it->target = b;
		return true;
	}
	if (f->claimants == 1 && f->claimant != b) {
		it->state = REPAIR_IMPORTING_ONLY;
		it->target = f->claimant;
		return true;
	}
	return false;
}

/* Open in a way none of the shapes above describes. */
static void classify_open_mixed(const struct plan_ctx *c, int slot, const struct slot_facts *f,
	struct repair_item *it)
{
	it->state = REPAIR_OPEN_MIXED;
	if (f->claimants == 1)
		it->target = f->claimant;
	else if (f->claimants > 1)
		it->target = most_keys(c, slot, true);
	else
		it->target = f->holders ? most_keys(c, slot, false) : least_loaded(c);
}

/* Not open: no owner, several owners, or keys on a node that does not own it. */
static void classify_ownership(const struct plan_ctx *c, int slot, const struct slot_facts *f,
	struct repair_item *it)
{
	if (f->claimants == 0) {
		if (f->holders == 0) {
			it->state = REPAIR_UNCOVERED_EMPTY;
			it->target = least_loaded(c);
		} else if (f->holders == 1) {
			it->state = REPAIR_UNCOVERED_ONE_HOLDER;
			it->target = f->holder;
		} else {
			it->state = REPAIR_UNCOVERED_SEVERAL;
			it->target = most_keys(c, slot, false);
		}
		return;
	}
	if (f->claimants > 1) {
		it->state = REPAIR_SEVERAL_OWNERS;
		it->target = most_keys(c, slot, true);
		return;
	}
	it->state = REPAIR_STRAY_KEYS;
	it->target = f->claimant;
}

void repair_classify(const struct plan_ctx *c, int slot, const struct slot_facts *f,
	struct repair_item *it)
{
	it->source = it->importer = -1;
	if (f->importing >= 2) {
		it->state = REPAIR_IMPORTING_SEVERAL;
		it->target = f->claimants == 1 ? f->claimant : most_keys(c, slot, f->claimants > 1);
		return;
	}
	if (classify_open_pair(c, slot, f, it) || classify_migrating_only(c, slot, f, it) ||
	    classify_importing_only(c, slot, f, it))
		return;
	if (f->migrating || f->importing)
		classify_open_mixed(c, slot, f, it);
	else
		classify_ownership(c, slot, f, it);
}

void repair_apply_hint(const struct plan_ctx *c, int slot, struct repair_item *it)
{
	const struct snapshot *s = c->in->snap;

	for (size_t h = 0; h < c->in->hint_count; h++) {
		const struct repair_hint *hint = &c->in->hints[h];
		int to;

		if (hint->slot != slot)
			continue;
		to = snapshot_index(s, hint->forward ? hint->to : hint->from);
		if (to < 0 || !repair_is_addressed_master(s, (size_t)to) || !s->nodes[to].reachable)
			return;
		it->target = to;
		it->by_journal = true;
		return;
	}
}

int repair_hints_from_journal(const struct journal_state *st, struct repair_hint **hints,
	size_t *count, struct sc_error *err)
{
	bool aborting = strcmp(st->last_op, "abort") == 0;

	for (size_t i = 0; i < st->count; i++) {
		const struct journal_slot *js = &st->slots[i];
		struct repair_hint *grown;

		if (journal_slot_settled(js))
			continue;
		grown = realloc(*hints, (*count + 1) * sizeof(*grown));
		if (!grown)
			return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
		*hints = grown;
		grown[*count].slot = js->slot;
		memcpy(grown[*count].from, js->from, sizeof(js->from));
		memcpy(grown[*count].to, js->to, sizeof(js->to));
		grown[*count].forward = !aborting || js->phase >= JOURNAL_OWNER_TARGET;
		(*count)++;
	}
	return 0;
}
