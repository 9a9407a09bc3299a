/* repair_owner.c: fix's owner stage, one new owner at a time, after every
 * key has moved: each target takes its slots through the one finaliser,
 * handover_take (slotctl/io/handover.h), the other masters are told, and
 * every view must show it owning them before the next owner takes; first
 * the slots a Valkey 8+ server would hand over by itself
 * (repair_server_may_take), then the rest. */
#include "repair_priv.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/handover.h"

#include <stdlib.h>

/* Connections from pool to every reachable node of s (masters only, when
 * masters_only) into out (room for s->count). Returns how many, or -1. */
static int connect_nodes(struct conn_pool *pool, const struct snapshot *s, bool masters_only,
	struct conn **out, struct sc_error *err)
{
	int n = 0;

	for (size_t i = 0; i < s->count; i++) {
		if (!s->nodes[i].reachable || (masters_only && !repair_is_master(s, i)))
			continue;
		if (!(out[n++] = repair_conn_of(pool, s, (int)i, err)))
			return -1;
	}
	return n;
}

/* Whether item idx is still going and has owner-stage steps for target t. */
static bool still_hands(const struct repair_survey *sv, size_t idx, int t)
{
	const struct repair_item *it = &sv->plan.items[idx];

	return it->target == t && sv->outcomes[idx].status == REPAIR_PLANNED &&
	       repair_owner_stage_start(it) < it->step_count;
}

/* still_hands, in the pass: first (the slots a server may hand over by
 * itself, repair_server_may_take) or the rest. */
static bool hands_to(const struct repair_survey *sv, size_t idx, int t, bool first)
{
	return still_hands(sv, idx, t) && repair_server_may_take(&sv->snap, &sv->plan.items[idx]) == first;
}

/* Whether item idx's owner stage has t take the slot or bump its epoch. */
static bool raises_epoch(const struct repair_item *it, int t)
{
	for (size_t k = repair_owner_stage_start(it); k < it->step_count; k++)
		if (it->steps[k].node == t &&
		    (it->steps[k].op == REPAIR_OP_SET_NODE || it->steps[k].op == REPAIR_OP_BUMP_EPOCH))
			return true;
	return false;
}

static void fail_item(struct repair_survey *sv, size_t idx, const struct sc_error *e)
{
	struct repair_outcome *out = &sv->outcomes[idx];

	out->status = REPAIR_FAILED;
	out->error = *e;
	sc_error_prefix(&out->error, "slot %d: not handed over to '%s' (its keys are in place; run fix "
		"again)", sv->plan.items[idx].slot, sv->snap.nodes[sv->plan.items[idx].target].addr);
}

/* What target t's take runs: t's own owner-stage steps for every item
 * handed to it (it takes the slots, bumping once). */
struct take_ctx {
	struct conn_pool *pool;
	struct repair_survey *sv;
	const struct repair_opts *o;
	int t;
	bool first;              /* the pass (hands_to) */
};

static int take_steps(void *arg, struct sc_error *err)
{
	struct take_ctx *c = arg;
	const struct step_filter on_t = { c->t, false, false };

	(void)err; /* a step that fails fails its item */
	for (size_t i = 0; i < c->sv->plan.count; i++)
		if (hands_to(c->sv, i, c->t, c->first))
			repair_run_item(c->pool, c->sv, c->o, i, STAGE_OWNER, &on_t);
	return 0;
}

/* Hands target t the slots of its items, keeping the invariant of
 * handover.h: when t takes a slot or bumps, its own steps for every item
 * (it takes them, bumping once) run as the one finaliser's taking step,
 * handover_take, past the gate (no epoch collision, t has heard of the
 * greatest epoch); then every other master's steps (told the new owner,
 * slot closed); then the wait until every node's view shows t owning them.
 * Returns 0, or -1 with err when the views did not follow within the bound:
 * then no later owner may take. */
static int hand_over(struct conn_pool *pool, struct repair_survey *sv, const struct repair_opts *o, int t,
	bool first, struct handover_ledger *ledger, struct conn **conns, int *slots, struct sc_error *err)
{
	const struct step_filter elsewhere = { t, true, false };
	struct take_ctx take = { pool, sv, o, t, first };
	size_t n = sv->plan.count, nslots = 0;
	unsigned long seen = 0; /* fix gates every new owner */
	bool raises = false;
	struct conn *taker;
	struct sc_error e;
	int nc;

	for (size_t i = 0; i < n; i++)
		raises |= hands_to(sv, i, t, first) && raises_epoch(&sv->plan.items[i], t);
	if (!raises)
		take_steps(&take, &e);
	else if (!(taker = repair_conn_of(pool, &sv->snap, t, &e)) ||
	         (nc = connect_nodes(pool, &sv->snap, true, conns, &e)) < 0 ||
	         handover_take(ledger, &seen, taker, conns, (size_t)nc, take_steps, &take, &e) != 0) {
		for (size_t i = 0; i < n; i++)
			if (hands_to(sv, i, t, first))
				fail_item(sv, i, &e);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (hands_to(sv, i, t, first))
			repair_run_item(pool, sv, o, i, STAGE_OWNER, &elsewhere);
	for (size_t i = 0; i < n; i++)
		if (hands_to(sv, i, t, first))
			slots[nslots++] = sv->plan.items[i].slot;
	if (nslots == 0)
		return 0;
	if ((nc = connect_nodes(pool, &sv->snap, false, conns, err)) < 0 ||
	    handover_wait_views(conns, (size_t)nc, sv->snap.nodes[t].id, slots, nslots, HANDOVER_WAIT_MS,
		    err) != 0)
		return sc_error_prefix(err, "after handing %zu slot%s to '%s'", nslots, nslots == 1 ? "" : "s",
			sv->snap.nodes[t].addr);
	return 0;
}

/* The owner stage of every item, one new owner after another. A node that
 * gives slots and takes others is safe either way round: taking first, its
 * bump cannot touch the slots it gives, which their new owners still import
 * (an importing node ignores other claims) and every view still shows as
 * its own; giving first, every view shows their new owners before it
 * takes. A slot its new owner already claims while others claim it too
 * (SETSLOT NODE reached the target only; several owners) is first released
 * by those others, before any node takes anything: otherwise one of them
 * taking another slot would bump above the new owner and win this one back,
 * keys and all. The slots a server may hand over by itself (Valkey 8+:
 * repair_server_may_take) go first, every new owner of them in turn, before
 * any other take: left for later, their target would take them, bumping,
 * the moment it heard their former owner's slots change (that former owner
 * taking another slot, say), at a time no gate chose: while it still claims
 * a slot it gives, before that slot's new owner is shown everywhere, its
 * bump would win that slot back (invariant of slotctl/io/handover.h). Once
 * the views do not follow a new owner, the items of the owners after it
 * fail (left open with their keys in place) rather than risk a bump. */
void repair_hand_over_all(struct repair_survey *sv, const struct repair_opts *o)
{
	struct conn_pool *pool = conn_pool_new(&o->conn);
	struct conn **conns = calloc(sv->snap.count ? sv->snap.count : 1, sizeof(*conns));
	int *slots = calloc(sv->plan.count ? sv->plan.count : 1, sizeof(*slots));
	struct handover_ledger ledger;
	struct sc_error err = { 0 };
	bool stopped = !pool || !conns || !slots;

	handover_ledger_init(&ledger);
	if (stopped)
		sc_error_set(&err, SC_EXIT_PROBLEMS, "out of memory");
	for (size_t i = 0; !stopped && i < sv->plan.count; i++) {
		const struct repair_item *it = &sv->plan.items[i];
		const struct step_filter others = { it->target, false, true };

		if (still_hands(sv, i, it->target) && repair_claims(&sv->snap, (size_t)it->target, it->slot))
			repair_run_item(pool, sv, o, i, STAGE_OWNER, &others);
	}
	for (int pass = 0; pass < 2; pass++) {
		bool first = pass == 0;

		for (size_t t = 0; t < sv->snap.count; t++) {
			for (size_t i = 0; stopped && i < sv->plan.count; i++)
				if (hands_to(sv, i, (int)t, first))
					fail_item(sv, i, &err);
			if (!stopped && hand_over(pool, sv, o, (int)t, first, &ledger, conns, slots, &err) != 0)
				stopped = true;
		}
	}
	handover_ledger_release(&ledger);
	free(slots);
	free(conns);
	conn_pool_free(pool);
}
