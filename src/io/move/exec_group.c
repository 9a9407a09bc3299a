/* exec_group.c: moving a group of pending slots of one source -> target pair
 * as a stream. IMPORTING for every slot of the group goes to the target in
 * one round trip (one per lane of the finisher's, exec_finish.c), MIGRATING
 * for all to the source in one, then the keys move
 * slot after slot, each slot's first keys fetched in the round trip that
 * empties the one before, in batches adapted to --max-block-ms from slot to
 * slot. Each emptied slot goes to the finisher
 * (exec_finish.c), whose SETSLOT NODE steps overlap the next slots' keys.
 * Each slot is journaled at every phase exactly as exec_slot.c does. */
#include "mover_keys.h"
#include "slotctl/core/exitcode.h"

#include <stdlib.h>

/* One SETSLOT per live slot of [from, to) to node (-1: the target, 0: the
 * source) on the finisher's lanes (the k-th slot on lane k mod W, all
 * flushed before any reply is read: a server that holds each SETSLOT for its
 * replicas then acks them together), each reply checked apart; a slot whose
 * reply is good reaches phase. An I/O failure fails every slot still waiting
 * for its reply on that lane; a finisher already broken fails them all. */
static void setslot_all(struct mover_group *g, size_t from, size_t to, const struct exec_finisher *f, int node,
	const char *how, const char *id, enum journal_phase phase)
{
	struct sc_error e;

	if (f->broken) {
		/* a lane may hold replies nobody read: none of them is used again */
		for (size_t i = from; i < to; i++)
			if (mover_alive(g, i))
				mover_fail(g, i, &f->broke);
		return;
	}
	for (size_t i = from; i < to; i++)
		if (mover_alive(g, i) && slotops_setslot_send(exec_finisher_lane(f, node, (i - from) % f->lanes),
		    g->m[i]->slot, how, id, &e) != 0)
			mover_fail(g, i, &e);
	for (size_t w = 0; w < f->lanes && w < to - from; w++)
		(void)conn_flush(exec_finisher_lane(f, node, w), &e); /* a failure fails its replies below */
	for (size_t i = from; i < to; i++) {
		if (!mover_alive(g, i))
			continue;
		if (slotops_setslot_read(exec_finisher_lane(f, node, (i - from) % f->lanes), g->m[i]->slot, how,
		    false, &e) != 0 || mover_record(g, i, phase, &e) != 0)
			mover_fail(g, i, &e);
	}
}

/* The live slot of [.., to) after i, or to when none. */
static size_t next_alive(const struct mover_group *g, size_t i, size_t to)
{
	while (++i < to && !mover_alive(g, i))
		;
	return i;
}

/* Moves the keys of every live slot of [from, to), one slot after the
 * other, handing each emptied slot to the finisher. After a failure (or a
 * stop) the slots not yet emptied, in the range and after it, stay as they
 * are for resume. */
static void move_all_keys(struct mover_group *g, size_t from, size_t to, struct conn *sc,
	struct exec_finisher *f, int *batch)
{
	redisReply *carry = NULL;

	for (size_t i = next_alive(g, from - 1, to); i < to; i = next_alive(g, i, to)) {
		size_t next = next_alive(g, i, to);
		struct keys_batch_ctx ctx;
		struct migrate_opts mo;
		struct migrate_stats stats = { 0 };
		struct sc_error e;

		keys_migrate_opts(g, i, false, &ctx, &mo);
		mo.carry = &carry;
		mo.batch_hint = batch;
		mo.next_slot = next < to ? g->m[next]->slot : -1;
		if (slotops_migrate_keys(sc, g->dst->host, g->dst->port, g->m[i]->slot, &mo, &stats, &e) != 0 ||
		    mover_record(g, i, JOURNAL_KEYS_MOVED, &e) != 0) {
			mover_fail(g, i, &e);
			sc_error_set(&e, SC_EXIT_INTERRUPTED, "left open after slot %d stopped", g->m[i]->slot);
			for (size_t j = i + 1; j < g->n; j++)
				if (mover_alive(g, j))
					mover_fail(g, j, &e);
			break;
		}
		exec_finisher_push(f, i);
		exec_finisher_step(f, next >= to);
	}
	if (carry)
		freeReplyObject(carry);
}

/* How many of its next slots a target that owns fewer than
 * EXEC_NEW_TARGET_SLOTS takes one at a time (see exec_slot_group). */
static size_t warmup_slots(struct exec_run *run, int dst)
{
	size_t owned = 0;

	pthread_mutex_lock(&run->lock);
	for (int s = 0; s < SC_SLOTS && owned < EXEC_NEW_TARGET_SLOTS; s++)
		owned += run->expected[s] == dst;
	pthread_mutex_unlock(&run->lock);
	return EXEC_NEW_TARGET_SLOTS - owned;
}

/* Opens the live slots of [from, to) (IMPORTING on the target, then
 * MIGRATING on the source, one round trip each) and moves their keys. */
static void move_range(struct mover_group *g, size_t from, size_t to, struct exec_finisher *f,
	struct conn *sc, int *batch)
{
	setslot_all(g, from, to, f, -1, "IMPORTING", g->src->id, JOURNAL_IMPORTING);
	setslot_all(g, from, to, f, 0, "MIGRATING", g->dst->id, JOURNAL_MIGRATING);
	move_all_keys(g, from, to, sc, f, batch);
}

/* Whether every slot of g finished: the worker's control connections then
 * hold no unread reply and serve its next group. */
static bool group_clean(const struct mover_group *g, const struct exec_finisher *f)
{
	for (size_t i = 0; i < g->n; i++)
		if (!mover_alive(g, i))
			return false;
	return !f->broken;
}

void exec_slot_group(struct mover_group *g)
{
	/* the worker's control connections, kept across its groups: a source
	 * gives a few slots to each of many targets (or the reverse), and
	 * each group opened its own to every master before (a reshard from
	 * all 500 masters: 250,000 connections). Cleared after a failure, so
	 * replies it left unread never meet another group's commands. */
	struct conn_pool *ctl = g->ctl;
	struct exec_finisher f = { 0 };
	struct conn *sc;
	struct sc_error e;
	size_t first = 0, warm = warmup_slots(g->run, g->m[0]->dst);
	int batch = 0; /* as adapted to --max-block-ms so far */

	if (exec_finisher_open(&f, g, ctl, &e) != 0 ||
	    !(sc = conn_pool_get(g->pool, g->src->host, g->src->port, &e))) {
		for (size_t i = 0; i < g->n; i++)
			mover_fail(g, i, &e);
		exec_finisher_free(&f);
		conn_pool_clear(ctl);
		return;
	}
	/* a target new to the cluster's clients first takes slots one at a time,
	 * each finished everywhere before the next opens (EXEC_NEW_TARGET_SLOTS) */
	for (; first < g->n && first < warm; first++) {
		move_range(g, first, first + 1, &f, sc, &batch);
		exec_finisher_drain(&f);
	}
	if (first < g->n)
		move_range(g, first, g->n, &f, sc, &batch);
	exec_finisher_drain(&f);
	if (!group_clean(g, &f))
		conn_pool_clear(ctl);
	exec_finisher_free(&f);
}
