/* exec_group.c: moving a group of pending slots of one source -> target pair
 * as a stream. IMPORTING for every slot of the group goes to the target in
 * one round trip, MIGRATING for all to the source in one, then the keys move
 * slot after slot, each slot's first keys fetched in the round trip that
 * empties the one before. Emptied slots get their SETSLOT NODE steps, a few
 * at a time, on control connections of their own (the finisher): the target
 * first, and as soon as it has taken them the source and every other master;
 * those last replies are read while later slots' keys move. Finishing a few
 * slots at a time instead of a whole group at once spreads the bus traffic
 * each NODE causes (the target announces its new slots to every node), which
 * is what clients feel. Each slot is journaled at every phase exactly as
 * exec_slot.c does; SETSLOT NODE is sent only for slots whose keys have all
 * left the source. */
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

/* Emptied slots are finished this many at a time: a node then handles
 * their NODEs (and the bus messages announcing them) in one event-loop turn,
 * saving its config once, instead of once per slot; few enough that no turn
 * keeps clients waiting long. Measured on 4096 slots (bench/README.md): 4
 * and 8 keep client p99 alike, 8 is faster; 16 stalls every node longer. */
#define FIN_BATCH 8

/* The finisher: SETSLOT NODE for emptied slots, in two stages, each a list
 * of group indexes:
 *   ready:   emptied, NODE not sent yet (finished FIN_BATCH at a time: the
 *            target's replies are awaited at once);
 *   at_rest: the target took it; NODE sent to the source and the others,
 *            replies read at the next step (a FIFO: entries [hr, nr)).
 * Its connections are its own, so its commands never wait behind a MIGRATE
 * of the key stream. Once a send fails, the replies can no longer be matched
 * to slots: every slot queued or pushed later fails (left for resume). */
struct finisher {
	struct group *g;
	const char *dst_id;
	struct conn *target;
	struct conn **rest;       /* [0] the source, then every other master */
	size_t n_rest;
	size_t *ready, nready;
	size_t *at_rest, nr, hr;
	bool broken;
	struct sc_error broke;    /* why, when broken */
};

static int fin_open(struct finisher *f, struct group *g, struct conn_pool *ctl, struct sc_error *err)
{
	struct exec_run *run = g->run;
	const struct exec_move *first = g->m[0];
	const struct exec_node *src = &run->nodes[first->src], *dst = &run->nodes[first->dst];

	f->g = g;
	f->dst_id = dst->id;
	f->ready = calloc(g->n, sizeof(*f->ready));
	f->at_rest = calloc(g->n, sizeof(*f->at_rest));
	f->rest = calloc(run->node_count ? run->node_count : 1, sizeof(*f->rest));
	if (!f->ready || !f->at_rest || !f->rest)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	if (!(f->target = conn_pool_get(ctl, dst->host, dst->port, err)) ||
	    !(f->rest[f->n_rest++] = conn_pool_get(ctl, src->host, src->port, err)))
		return -1;
	for (size_t k = 0; k < run->node_count; k++) {
		if ((int)k == first->src || (int)k == first->dst)
			continue;
		if (!(f->rest[f->n_rest++] = conn_pool_get(ctl, run->nodes[k].host, run->nodes[k].port, err)))
			return -1;
	}
	return 0;
}

static void fin_free(struct finisher *f)
{
	free(f->ready);
	free(f->at_rest);
	free(f->rest);
}

static void fin_break(struct finisher *f, size_t i, const struct sc_error *e)
{
	if (!f->broken) {
		f->broken = true;
		f->broke = *e;
	}
	fail(f->g, i, e);
}

/* Slot i's keys have all left the source: it is ready for NODE. */
static void fin_push(struct finisher *f, size_t i)
{
	f->ready[f->nready++] = i;
}

/* Reads the source's and the others' replies for the oldest slot of
 * at_rest (every one, so the next slot's are next): done when all took it,
 * else failed with the first refusal. */
static void fin_reap_rest(struct finisher *f)
{
	struct group *g = f->g;
	struct exec_move *m = g->m[f->at_rest[f->hr]];
	struct sc_error e, first;
	bool ok = true;

	for (size_t k = 0; k < f->n_rest; k++) {
		if ((exec_setslot_read(f->rest[k], m->slot, "NODE", &e) != 0 ||
		     (k == 0 && exec_record(g->run, m, JOURNAL_OWNER_SOURCE, &e) != 0)) && ok) {
			first = e;
			ok = false;
		}
	}
	if (ok && (exec_record(g->run, m, JOURNAL_OWNER_ALL, &e) != 0 ||
	           exec_record(g->run, m, JOURNAL_DONE, &e) != 0)) {
		first = e;
		ok = false;
	}
	if (ok)
		g->run->expected[m->slot] = m->dst;
	else
		fail(g, f->at_rest[f->hr], &first);
	f->hr++;
}

/* Reads the target's reply for slot i; when it took the slot, NODE goes to
 * the source and the others (flushed by the caller). */
static void fin_promote(struct finisher *f, size_t i)
{
	struct group *g = f->g;
	struct sc_error e;

	if (exec_setslot_read(f->target, g->m[i]->slot, "NODE", &e) != 0 ||
	    exec_record(g->run, g->m[i], JOURNAL_OWNER_TARGET, &e) != 0) {
		fail(g, i, &e);
		return;
	}
	if (f->broken) {
		fail(g, i, &f->broke);
		return;
	}
	for (size_t k = 0; k < f->n_rest; k++) {
		if (exec_setslot_send(f->rest[k], g->m[i]->slot, "NODE", f->dst_id, &e) != 0) {
			fin_break(f, i, &e);
			return;
		}
	}
	f->at_rest[f->nr++] = i;
}

static void fin_flush_rest(struct finisher *f)
{
	struct sc_error e;
	int rc = 0;

	for (size_t k = 0; rc == 0 && !f->broken && k < f->n_rest; k++)
		rc = conn_flush(f->rest[k], &e);
	if (rc != 0) {
		/* the slots just sent there cannot be told apart any more */
		while (f->hr < f->nr)
			fin_break(f, f->at_rest[f->hr++], &e);
	}
}

/* NODE to the target for every ready slot in one write; then, reply by
 * reply, each slot the target took goes on to the source and the others,
 * flushed at once: they then hear of the new owner from us before the
 * target's own announcement reaches them, which they would follow with an
 * fsync of their config (measured on 4095 slots: a third of the fsyncs,
 * client p99 1.22 -> 1.12 ms). */
static void fin_finish_ready(struct finisher *f)
{
	struct sc_error e;
	size_t sent = 0, n = f->nready, nr_before = f->nr;

	f->nready = 0;
	for (size_t k = 0; k < n; k++) {
		size_t i = f->ready[k];

		if (f->broken)
			fail(f->g, i, &f->broke);
		else if (exec_setslot_send(f->target, f->g->m[i]->slot, "NODE", f->dst_id, &e) != 0)
			fin_break(f, i, &e);
		else
			f->ready[sent++] = i; /* sent <= k: compacts in place */
	}
	if (sent > 0 && !f->broken && conn_flush(f->target, &e) != 0) {
		while (sent > 0)
			fin_break(f, f->ready[--sent], &e);
	}
	for (size_t k = 0; k < sent; k++)
		fin_promote(f, f->ready[k]);
	if (f->nr > nr_before)
		fin_flush_rest(f);
}

/* One step of the finisher between two slots' keys: the slots sent on to the
 * source and the others last time are read, then the ready slots are
 * finished once FIN_BATCH of them wait (or any, when last). */
static void fin_step(struct finisher *f, bool last)
{
	while (f->hr < f->nr)
		fin_reap_rest(f);
	if (f->nready >= FIN_BATCH || (last && f->nready > 0))
		fin_finish_ready(f);
}

/* Finishes every slot pushed so far, waiting for each reply. */
static void fin_drain(struct finisher *f)
{
	fin_step(f, true);
	while (f->hr < f->nr)
		fin_reap_rest(f);
}

/* The live slot after i, or n when none. */
static size_t next_alive(const struct group *g, size_t i)
{
	while (++i < g->n && !alive(g, i))
		;
	return i;
}

/* Moves the keys of every live slot, one slot after the other, handing each
 * emptied slot to the finisher. After a failure (or a stop) the slots not yet
 * emptied stay open for resume. */
static void move_all_keys(struct group *g, struct conn *sc, const struct exec_node *dst,
	struct finisher *f)
{
	redisReply *carry = NULL;

	for (size_t i = next_alive(g, (size_t)-1); i < g->n; i = next_alive(g, i)) {
		size_t next = next_alive(g, i);
		struct exec_batch_ctx ctx;
		struct migrate_opts mo;
		struct migrate_stats stats = { 0 };
		struct sc_error e;

		exec_migrate_opts(g->run, g->m[i], false, &ctx, &mo);
		mo.carry = &carry;
		mo.next_slot = next < g->n ? g->m[next]->slot : -1;
		if (slotops_migrate_keys(sc, dst->host, dst->port, g->m[i]->slot, &mo, &stats, &e) != 0 ||
		    exec_record(g->run, g->m[i], JOURNAL_KEYS_MOVED, &e) != 0) {
			fail(g, i, &e);
			sc_error_set(&e, SC_EXIT_INTERRUPTED, "left open after slot %d stopped", g->m[i]->slot);
			for (size_t j = i + 1; j < g->n; j++)
				if (alive(g, j))
					fail(g, j, &e);
			break;
		}
		fin_push(f, i);
		fin_step(f, false);
	}
	if (carry)
		freeReplyObject(carry);
}

int exec_slot_group(struct exec_run *run, struct conn_pool *pool, struct exec_move **moves, size_t n,
	int *rcs, struct sc_error *errs)
{
	struct group g = { run, moves, n, rcs, errs };
	const struct exec_node *src = &run->nodes[moves[0]->src], *dst = &run->nodes[moves[0]->dst];
	/* the group's own control connections: closed with it, so replies a
	 * failure left unread never meet another group's commands */
	struct conn_pool *ctl = conn_pool_new(&run->o->conn);
	struct finisher f = { 0 };
	struct conn *sc;
	struct sc_error e;

	for (size_t i = 0; i < n; i++)
		rcs[i] = 0;
	if (!ctl)
		sc_error_set(&e, SC_EXIT_PROBLEMS, "out of memory");
	if (!ctl || fin_open(&f, &g, ctl, &e) != 0 || !(sc = conn_pool_get(pool, src->host, src->port, &e))) {
		for (size_t i = 0; i < n; i++)
			fail(&g, i, &e);
		fin_free(&f);
		conn_pool_free(ctl);
		return -1;
	}
	setslot_all(&g, f.target, "IMPORTING", src->id, JOURNAL_IMPORTING);
	setslot_all(&g, f.rest[0], "MIGRATING", dst->id, JOURNAL_MIGRATING);
	move_all_keys(&g, sc, dst, &f);
	fin_drain(&f);
	fin_free(&f);
	conn_pool_free(ctl);
	for (size_t i = 0; i < n; i++)
		if (!alive(&g, i))
			return -1;
	return 0;
}
