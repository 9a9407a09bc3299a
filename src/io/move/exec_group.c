/* exec_group.c: moving a group of pending slots of one source -> target pair
 * as a stream. IMPORTING for every slot of the group goes to the target in
 * one round trip, MIGRATING for all to the source in one, then the keys move
 * slot after slot, each slot's first keys fetched in the round trip that
 * empties the one before, in batches adapted to --max-block-ms from slot to
 * slot. Each emptied slot goes to the finisher
 * (exec_finish.c), whose SETSLOT NODE steps overlap the next slots' keys.
 * Each slot is journaled at every phase exactly as exec_slot.c does. */
#include "executor_priv.h"
#include "slotctl/core/exitcode.h"

#include <stdlib.h>

/* One SETSLOT per live slot on c, pipelined, each reply checked apart; a
 * slot whose reply is good reaches phase. An I/O failure fails every slot
 * still waiting for its reply. */
static void setslot_all(struct exec_group *g, struct conn *c, const char *how, const char *id,
	enum journal_phase phase)
{
	struct sc_error e;

	for (size_t i = 0; i < g->n; i++)
		if (exec_group_alive(g, i) && slotops_setslot_send(c, g->m[i]->slot, how, id, &e) != 0)
			exec_group_fail(g, i, &e);
	for (size_t i = 0; i < g->n; i++) {
		if (!exec_group_alive(g, i))
			continue;
		if (slotops_setslot_read(c, g->m[i]->slot, how, false, &e) != 0 ||
		    exec_record(g->run, g->m[i], phase, &e) != 0)
			exec_group_fail(g, i, &e);
	}
}

/* The live slot after i, or n when none. */
static size_t next_alive(const struct exec_group *g, size_t i)
{
	while (++i < g->n && !exec_group_alive(g, i))
		;
	return i;
}

/* Moves the keys of every live slot, one slot after the other, handing each
 * emptied slot to the finisher. After a failure (or a stop) the slots not yet
 * emptied stay open for resume. */
static void move_all_keys(struct exec_group *g, struct conn *sc, const struct exec_node *dst,
	struct exec_finisher *f)
{
	redisReply *carry = NULL;
	int batch = 0; /* as adapted to --max-block-ms so far */

	for (size_t i = next_alive(g, (size_t)-1); i < g->n; i = next_alive(g, i)) {
		size_t next = next_alive(g, i);
		struct exec_batch_ctx ctx;
		struct migrate_opts mo;
		struct migrate_stats stats = { 0 };
		struct sc_error e;

		exec_migrate_opts(g->run, g->m[i], false, &ctx, &mo);
		mo.carry = &carry;
		mo.batch_hint = &batch;
		mo.next_slot = next < g->n ? g->m[next]->slot : -1;
		if (slotops_migrate_keys(sc, dst->host, dst->port, g->m[i]->slot, &mo, &stats, &e) != 0 ||
		    exec_record(g->run, g->m[i], JOURNAL_KEYS_MOVED, &e) != 0) {
			exec_group_fail(g, i, &e);
			sc_error_set(&e, SC_EXIT_INTERRUPTED, "left open after slot %d stopped", g->m[i]->slot);
			for (size_t j = i + 1; j < g->n; j++)
				if (exec_group_alive(g, j))
					exec_group_fail(g, j, &e);
			break;
		}
		exec_finisher_push(f, i);
		exec_finisher_step(f, next >= g->n);
	}
	if (carry)
		freeReplyObject(carry);
}

int exec_slot_group(struct exec_run *run, struct conn_pool *pool, struct exec_move **moves, size_t n,
	int *rcs, struct sc_error *errs)
{
	struct exec_group g = { run, moves, n, rcs, errs };
	const struct exec_node *src = &run->nodes[moves[0]->src], *dst = &run->nodes[moves[0]->dst];
	/* the group's own control connections: closed with it, so replies a
	 * failure left unread never meet another group's commands */
	struct conn_pool *ctl = conn_pool_new(&run->o->conn);
	struct exec_finisher f = { 0 };
	struct conn *sc;
	struct sc_error e;

	for (size_t i = 0; i < n; i++)
		rcs[i] = 0;
	if (!ctl)
		sc_error_set(&e, SC_EXIT_PROBLEMS, "out of memory");
	if (!ctl || exec_finisher_open(&f, &g, ctl, &e) != 0 || !(sc = conn_pool_get(pool, src->host, src->port, &e))) {
		for (size_t i = 0; i < n; i++)
			exec_group_fail(&g, i, &e);
		exec_finisher_free(&f);
		conn_pool_free(ctl);
		return -1;
	}
	setslot_all(&g, f.target, "IMPORTING", src->id, JOURNAL_IMPORTING);
	setslot_all(&g, f.rest[0], "MIGRATING", dst->id, JOURNAL_MIGRATING);
	move_all_keys(&g, sc, dst, &f);
	exec_finisher_drain(&f);
	exec_finisher_free(&f);
	conn_pool_free(ctl);
	for (size_t i = 0; i < n; i++)
		if (!exec_group_alive(&g, i))
			return -1;
	return 0;
}
