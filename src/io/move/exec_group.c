/* exec_group.c: moving a group of pending slots of one source -> target pair
 * as a stream. IMPORTING for every slot of the group goes to the target in
 * one round trip, MIGRATING for all to the source in one, then the keys move
 * slot after slot, each slot's first keys fetched in the round trip that
 * empties the one before, in batches adapted to --max-block-ms from slot to
 * slot. Each emptied slot goes to the finisher
 * (exec_finish.c), whose SETSLOT NODE steps overlap the next slots' keys.
 * Each slot is journaled at every phase exactly as exec_slot.c does. */
#include "mover_keys.h"
#include "slotctl/core/exitcode.h"

#include <stdlib.h>

/* One SETSLOT per live slot on c, pipelined, each reply checked apart; a
 * slot whose reply is good reaches phase. An I/O failure fails every slot
 * still waiting for its reply. */
static void setslot_all(struct mover_group *g, struct conn *c, const char *how, const char *id,
	enum journal_phase phase)
{
	struct sc_error e;

	for (size_t i = 0; i < g->n; i++)
		if (mover_alive(g, i) && slotops_setslot_send(c, g->m[i]->slot, how, id, &e) != 0)
			mover_fail(g, i, &e);
	for (size_t i = 0; i < g->n; i++) {
		if (!mover_alive(g, i))
			continue;
		if (slotops_setslot_read(c, g->m[i]->slot, how, false, &e) != 0 ||
		    mover_record(g, i, phase, &e) != 0)
			mover_fail(g, i, &e);
	}
}

/* The live slot after i, or n when none. */
static size_t next_alive(const struct mover_group *g, size_t i)
{
	while (++i < g->n && !mover_alive(g, i))
		;
	return i;
}

/* Moves the keys of every live slot, one slot after the other, handing each
 * emptied slot to the finisher. After a failure (or a stop) the slots not yet
 * emptied stay open for resume. */
static void move_all_keys(struct mover_group *g, struct conn *sc, struct exec_finisher *f)
{
	redisReply *carry = NULL;
	int batch = 0; /* as adapted to --max-block-ms so far */

	for (size_t i = next_alive(g, (size_t)-1); i < g->n; i = next_alive(g, i)) {
		size_t next = next_alive(g, i);
		struct keys_batch_ctx ctx;
		struct migrate_opts mo;
		struct migrate_stats stats = { 0 };
		struct sc_error e;

		keys_migrate_opts(g, i, false, &ctx, &mo);
		mo.carry = &carry;
		mo.batch_hint = &batch;
		mo.next_slot = next < g->n ? g->m[next]->slot : -1;
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
		exec_finisher_step(f, next >= g->n);
	}
	if (carry)
		freeReplyObject(carry);
}

void exec_slot_group(struct mover_group *g)
{
	/* the group's own control connections: closed with it, so replies a
	 * failure left unread never meet another group's commands */
	struct conn_pool *ctl = conn_pool_new(&g->o->conn);
	struct exec_finisher f = { 0 };
	struct conn *sc;
	struct sc_error e;

	if (!ctl)
		sc_error_set(&e, SC_EXIT_PROBLEMS, "out of memory");
	if (!ctl || exec_finisher_open(&f, g, ctl, &e) != 0 ||
	    !(sc = conn_pool_get(g->pool, g->src->host, g->src->port, &e))) {
		for (size_t i = 0; i < g->n; i++)
			mover_fail(g, i, &e);
		exec_finisher_free(&f);
		conn_pool_free(ctl);
		return;
	}
	setslot_all(g, f.target, "IMPORTING", g->src->id, JOURNAL_IMPORTING);
	setslot_all(g, f.rest[0], "MIGRATING", g->dst->id, JOURNAL_MIGRATING);
	move_all_keys(g, sc, &f);
	exec_finisher_drain(&f);
	exec_finisher_free(&f);
	conn_pool_free(ctl);
}
