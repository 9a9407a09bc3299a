/* exec_group.c: moving a group of pending slots of one source -> target pair
 * with the protocol's SETSLOT steps pipelined: IMPORTING for every slot of
 * the group in one round trip to the target, MIGRATING for all in one to the
 * source, then each slot's keys, then NODE for every emptied slot on the
 * target, then on the source (the other masters hear it at the same time as
 * the source). A node saves its config once per round trip instead of once per
 * command, which is most of what a slot costs beyond its keys. Each slot is
 * journaled at every phase exactly as exec_slot.c does; SETSLOT NODE is sent
 * only for slots whose keys have all left the source. */
#include "executor_priv.h"
#include "slotctl/exitcode.h"

#include <stdlib.h>

struct group {
	struct exec_run *run;
	struct exec_move **m;
	size_t n;
	int *rc;                  /* per move: 0 while it progresses */
	struct sc_error *err;     /* per move */
};

static bool alive(const struct group *g, size_t i)
{
	return g->rc[i] == 0;
}

static void fail(struct group *g, size_t i, const struct sc_error *e)
{
	g->rc[i] = -1;
	g->err[i] = *e;
}

/* One SETSLOT per live slot on c, pipelined, each reply checked apart; a
 * slot whose reply is good reaches phase. An I/O failure fails every slot
 * still waiting for its reply. */
static void setslot_all(struct group *g, struct conn *c, const char *how, const char *id,
	enum journal_phase phase)
{
	struct sc_error e;

	for (size_t i = 0; i < g->n; i++)
		if (alive(g, i) && exec_setslot_send(c, g->m[i]->slot, how, id, &e) != 0)
			fail(g, i, &e);
	for (size_t i = 0; i < g->n; i++) {
		if (!alive(g, i))
			continue;
		if (exec_setslot_read(c, g->m[i]->slot, how, &e) != 0 ||
		    exec_record(g->run, g->m[i], phase, &e) != 0)
			fail(g, i, &e);
	}
}

/* NODE for every live slot on every master but the pair, sent now and read
 * by others_read. Returns the connections used (n_out), or NULL having
 * failed every live slot. */
static struct conn **others_send(struct group *g, struct conn_pool *pool, size_t *n_out)
{
	struct exec_run *run = g->run;
	const struct exec_move *first = g->m[0];
	struct conn **conns = calloc(run->node_count ? run->node_count : 1, sizeof(*conns));
	struct sc_error e;

	*n_out = 0;
	if (!conns) {
		sc_error_set(&e, SC_EXIT_PROBLEMS, "out of memory");
		goto fail_all;
	}
	for (size_t k = 0; k < run->node_count; k++) {
		struct conn *c;

		if ((int)k == first->src || (int)k == first->dst)
			continue;
		if (!(c = conn_pool_get(pool, run->nodes[k].host, run->nodes[k].port, &e)))
			goto fail_all;
		for (size_t i = 0; i < g->n; i++)
			if (alive(g, i) && exec_setslot_send(c, g->m[i]->slot, "NODE", run->nodes[first->dst].id, &e) != 0)
				goto fail_all;
		conns[(*n_out)++] = c;
	}
	return conns;
fail_all:
	for (size_t i = 0; i < g->n; i++)
		if (alive(g, i))
			fail(g, i, &e);
	free(conns);
	*n_out = 0;
	return NULL;
}

static void others_read(struct group *g, struct conn **conns, size_t n, bool *sent)
{
	struct sc_error e;

	for (size_t k = 0; k < n; k++)
		for (size_t i = 0; i < g->n; i++)
			if (sent[i] && exec_setslot_read(conns[k], g->m[i]->slot, "NODE", &e) != 0 && alive(g, i))
				fail(g, i, &e);
}

/* Moves the keys of every live slot, one slot after the other. After a
 * failure (or a stop) the slots not yet emptied stay open for resume. */
static void move_all_keys(struct group *g, struct conn *sc, const struct exec_node *dst)
{
	for (size_t i = 0; i < g->n; i++) {
		struct exec_batch_ctx ctx;
		struct migrate_opts mo;
		struct migrate_stats stats = { 0 };
		struct sc_error e;

		if (!alive(g, i))
			continue;
		exec_migrate_opts(g->run, g->m[i], false, &ctx, &mo);
		if (slotops_migrate_keys(sc, dst->host, dst->port, g->m[i]->slot, &mo, &stats, &e) != 0 ||
		    exec_record(g->run, g->m[i], JOURNAL_KEYS_MOVED, &e) != 0) {
			fail(g, i, &e);
			sc_error_set(&e, SC_EXIT_INTERRUPTED, "left open after slot %d stopped", g->m[i]->slot);
			for (size_t j = i + 1; j < g->n; j++)
				if (alive(g, j))
					fail(g, j, &e);
			return;
		}
	}
}

int exec_slot_group(struct exec_run *run, struct conn_pool *pool, struct exec_move **moves, size_t n,
	int *rcs, struct sc_error *errs)
{
	struct group g = { run, moves, n, rcs, errs };
	const struct exec_node *src = &run->nodes[moves[0]->src], *dst = &run->nodes[moves[0]->dst];
	struct conn *sc, *dc, **others;
	struct sc_error e;
	size_t n_others;
	bool *sent = calloc(n, sizeof(*sent));

	for (size_t i = 0; i < n; i++)
		rcs[i] = 0;
	if (!sent || !(dc = conn_pool_get(pool, dst->host, dst->port, &e)) ||
	    !(sc = conn_pool_get(pool, src->host, src->port, &e))) {
		if (!sent)
			sc_error_set(&e, SC_EXIT_PROBLEMS, "out of memory");
		for (size_t i = 0; i < n; i++)
			fail(&g, i, &e);
		free(sent);
		return -1;
	}
	setslot_all(&g, dc, "IMPORTING", src->id, JOURNAL_IMPORTING);
	setslot_all(&g, sc, "MIGRATING", dst->id, JOURNAL_MIGRATING);
	move_all_keys(&g, sc, dst);
	/* from here on every live slot's source holds none of its keys; the
	 * target takes the slots first, then the source and the others at once */
	setslot_all(&g, dc, "NODE", dst->id, JOURNAL_OWNER_TARGET);
	others = others_send(&g, pool, &n_others);
	for (size_t i = 0; i < n; i++)
		sent[i] = alive(&g, i);
	setslot_all(&g, sc, "NODE", dst->id, JOURNAL_OWNER_SOURCE);
	if (others)
		others_read(&g, others, n_others, sent);
	for (size_t i = 0; i < n; i++) {
		if (!alive(&g, i))
			continue;
		if (exec_record(run, moves[i], JOURNAL_OWNER_ALL, &e) != 0 ||
		    exec_record(run, moves[i], JOURNAL_DONE, &e) != 0)
			fail(&g, i, &e);
		else
			run->expected[moves[i]->slot] = moves[i]->dst;
	}
	free(others);
	free(sent);
	for (size_t i = 0; i < n; i++)
		if (!alive(&g, i))
			return -1;
	return 0;
}
