/* exec_slot.c: one slot's protocol, forward (apply, resume, and abort's
 * "finish instead") and backward (abort's rollback), journaling each phase.
 * The steps themselves are slotops_*; this file decides their order and
 * resumes from any phase; and the MIGRATE options a move of the keys
 * backend gets from the run's batching and pacing. The one rule above all: SETSLOT NODE is never sent
 * while the source still holds keys of the slot. */
#include "mover_keys.h"
#include "slotctl/core/exitcode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The key mover's per-batch callback. */
static void on_batch(void *ctx, int slot, long long keys, long long bytes)
{
	struct keys_batch_ctx *b = ctx;

	(void)slot;
	mover_progress(b->g, b->i, keys, bytes);
}

/* Under pacing, batches small enough for EXEC_PACED_MIGRATES_PER_SEC
 * MIGRATEs a second at the pace (see its definition). */
static void paced_batches(const struct exec_opts *o, struct migrate_opts *out)
{
	long long keys = o->max_keys_per_sec / EXEC_PACED_MIGRATES_PER_SEC;
	long long bytes = o->max_bytes_per_sec / EXEC_PACED_MIGRATES_PER_SEC;

	if (keys < EXEC_PACED_MIN_BATCH)
		keys = EXEC_PACED_MIN_BATCH;
	if (keys > o->max_keys_per_sec)
		keys = o->max_keys_per_sec;
	if (o->max_keys_per_sec > 0 && out->batch_keys > keys)
		out->batch_keys = (int)keys;
	if (bytes < 1)
		bytes = 1;
	if (o->max_bytes_per_sec > 0 && out->batch_bytes > bytes)
		out->batch_bytes = bytes;
}

void keys_migrate_opts(struct mover_group *g, size_t i, bool asking, struct keys_batch_ctx *ctx,
	struct migrate_opts *out)
{
	const struct exec_opts *o = g->o;
	struct exec_move *m = g->m[i];

	memset(out, 0, sizeof(*out));
	out->batch_keys = o->batch_keys > 0 ? o->batch_keys : EXEC_DEFAULT_BATCH_KEYS;
	out->batch_bytes = o->batch_bytes > 0 ? o->batch_bytes : EXEC_DEFAULT_BATCH_BYTES;
	paced_batches(o, out);
	if (o->max_bytes_per_sec > 0)
		m->probe = true; /* pacing by bytes needs the sizes */
	out->probe_sizes = m->probe;
	out->max_block_us = o->max_block_us > 0 ? o->max_block_us : EXEC_DEFAULT_MAX_BLOCK_US;
	out->io_timeout_ms = o->conn.command_timeout_ms;
	out->migrate_timeout_ms = o->migrate_timeout_ms > 0 ? o->migrate_timeout_ms : o->conn.command_timeout_ms;
	out->replace = o->replace;
	out->asking = asking;
	out->user = o->conn.user;
	out->pass = o->conn.pass;
	out->tls = o->conn.tls;
	out->stop = o->stop;
	out->on_batch = on_batch;
	out->ctx = ctx;
	ctx->g = g;
	ctx->i = i;
}

static int get_conns(struct conn_pool *pool, const struct exec_node *a, const struct exec_node *b,
	struct conn **ca, struct conn **cb, struct sc_error *err)
{
	if (!(*ca = conn_pool_get(pool, a->host, a->port, err)))
		return -1;
	if (!(*cb = conn_pool_get(pool, b->host, b->port, err)))
		return -1;
	return 0;
}

static int move_keys(struct mover_group *g, size_t i, struct conn *from, const struct exec_node *to,
	bool asking, struct sc_error *err)
{
	struct keys_batch_ctx ctx;
	struct migrate_opts mo;
	struct migrate_stats stats = { 0 };

	keys_migrate_opts(g, i, asking, &ctx, &mo);
	return slotops_migrate_keys(from, to->host, to->port, g->m[i]->slot, &mo, &stats, err);
}

/* SETSLOT NODE for a slot on every master but its source and target: sent
 * once the target took the slot, together with the source's, read last, so
 * the other masters cost no round trip of their own. */
struct others {
	struct conn **conns;
	size_t n;
	bool sent;
};

static int others_send(struct exec_run *run, struct conn_pool *pool, const struct exec_move *m,
	struct others *o, struct sc_error *err)
{
	if (o->sent)
		return 0;
	if (!o->conns && !(o->conns = calloc(run->node_count ? run->node_count : 1, sizeof(*o->conns))))
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	o->n = 0;
	for (size_t i = 0; i < run->node_count; i++) {
		struct conn *c;

		if ((int)i == m->src || (int)i == m->dst || run->nodes[i].retired)
			continue;
		if (!(c = conn_pool_get(pool, run->nodes[i].host, run->nodes[i].port, err)) ||
		    slotops_setslot_send(c, m->slot, "NODE", run->nodes[m->dst].id, err) != 0)
			return -1;
		o->conns[o->n++] = c;
	}
	o->sent = true;
	return 0;
}

static int others_read(const struct exec_move *m, struct others *o, struct sc_error *err)
{
	int rc = 0;
	struct sc_error one;

	for (size_t i = 0; i < o->n; i++)
		if (slotops_setslot_read(o->conns[i], m->slot, "NODE", true, &one) != 0 && rc == 0)
			rc = sc_error_set(err, one.code, "%s", one.msg);
	o->sent = false;
	o->n = 0;
	return rc;
}

/* The take: NODE for the slot on the target. */
struct take_ctx {
	struct conn *dc;
	int slot;
	const char *owner;
};

static int take_node(void *ctx, struct sc_error *err)
{
	const struct take_ctx *t = ctx;

	return slotops_set_node(t->dc, t->slot, t->owner, err);
}

/* The target of slot i of g takes it: through the one finaliser's taking
 * step (mover_take, handover_take: past handover_gate against every other
 * master of the run; see fin_anchor in exec_finish.c and handover.h), NODE
 * on the target. */
static int take(struct mover_group *g, size_t i, struct conn *dc, struct sc_error *err)
{
	struct exec_run *run = g->run;
	struct conn **conns = calloc(run->node_count ? run->node_count : 1, sizeof(*conns));
	struct take_ctx t = { dc, g->m[i]->slot, g->dst->id };
	unsigned long seen = 0;
	size_t n = 0;
	int rc;

	if (!conns)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	rc = mover_masters(g, g->pool, conns, &n, err);
	if (rc == 0)
		rc = mover_take(g, dc, conns, n, &seen, take_node, &t, err);
	free(conns);
	return rc;
}

/* Drives m from whatever NODE step it reached to done, one step at a time:
 * NODE on the target (from keys-moved), then on the source and every other
 * master at once. The caller has made sure the source holds no key of the
 * slot. */
static int finish_from(struct mover_group *g, size_t i, struct conn *sc, struct conn *dc, struct others *o,
	struct sc_error *err)
{
	struct exec_run *run = g->run;
	struct conn_pool *pool = g->pool;
	struct exec_move *m = g->m[i];
	const struct exec_node *dst = g->dst;

	switch (m->phase) {
	case JOURNAL_KEYS_MOVED:
		if (take(g, i, dc, err) != 0 || mover_record(g, i, JOURNAL_OWNER_TARGET, err) != 0)
			return -1;
		/* fallthrough */
	case JOURNAL_OWNER_TARGET:
		if (others_send(run, pool, m, o, err) != 0 ||
		    slotops_setslot_send(sc, m->slot, "NODE", dst->id, err) != 0 ||
		    slotops_setslot_read(sc, m->slot, "NODE", true, err) != 0 ||
		    mover_record(g, i, JOURNAL_OWNER_SOURCE, err) != 0)
			return -1;
		/* fallthrough */
	case JOURNAL_OWNER_SOURCE:
		if (others_send(run, pool, m, o, err) != 0 || others_read(m, o, err) != 0 ||
		    mover_record(g, i, JOURNAL_OWNER_ALL, err) != 0)
			return -1;
		/* fallthrough */
	case JOURNAL_OWNER_ALL:
		if (mover_record(g, i, JOURNAL_DONE, err) != 0)
			return -1;
		/* fallthrough */
	default:
		break;
	}
	mover_settled(g, i);
	return 0;
}

/* finish_from with its own set of other masters. */
static int finish(struct mover_group *g, size_t i, struct conn *sc, struct conn *dc, struct sc_error *err)
{
	struct others o = { 0 };
	int rc = finish_from(g, i, sc, dc, &o, err);

	free(o.conns);
	return rc;
}

int exec_slot_forward(struct mover_group *g, size_t i, struct sc_error *err)
{
	const struct exec_node *src = g->src, *dst = g->dst;
	struct exec_move *m = g->m[i];
	struct conn *sc, *dc;

	if (get_conns(g->pool, src, dst, &sc, &dc, err) != 0)
		return -1;
	switch (m->phase) {
	case JOURNAL_PENDING:
		if (slotops_set_importing(dc, m->slot, src->id, err) != 0 ||
		    mover_record(g, i, JOURNAL_IMPORTING, err) != 0)
			return -1;
		/* fallthrough */
	case JOURNAL_IMPORTING:
		if (slotops_set_migrating(sc, m->slot, dst->id, err) != 0 ||
		    mover_record(g, i, JOURNAL_MIGRATING, err) != 0)
			return -1;
		/* fallthrough */
	case JOURNAL_MIGRATING:
		if (move_keys(g, i, sc, dst, false, err) != 0 ||
		    mover_record(g, i, JOURNAL_KEYS_MOVED, err) != 0)
			return -1;
		/* the mover's last GETKEYSINSLOT came back empty: NODE may follow */
		return finish(g, i, sc, dc, err);
	default:
		if (m->phase == JOURNAL_KEYS_MOVED && slotops_require_empty(sc, m->slot, err) != 0)
			return -1;
		return finish(g, i, sc, dc, err);
	}
}

int exec_slot_rollback(struct mover_group *g, size_t i, struct sc_error *err)
{
	const struct exec_node *src = g->src, *dst = g->dst;
	struct exec_move *m = g->m[i];
	struct conn *sc, *dc;
	long long on_target = 0;

	if (get_conns(g->pool, src, dst, &sc, &dc, err) != 0)
		return -1;
	if (slotops_count_keys(dc, m->slot, &on_target, err) != 0)
		return -1;
	/* The source must stop redirecting (MIGRATING) before it can take keys
	 * back: a migrating owner answers RESTORE of a key it lacks with ASK. */
	if (m->src_open && slotops_set_stable(sc, m->slot, err) != 0)
		return -1;
	if (on_target > 0) {
		/* The target serves the keys it gives back only while it imports
		 * the slot (else MOVED, even after ASKING), and dst_open may come
		 * from its replicas alone: a Valkey target that took a promoted
		 * source for another shard's node drops its own mark when that
		 * node claims the slot. IMPORTING again is harmless on a mark. */
		if (slotops_set_importing(dc, m->slot, src->id, err) != 0)
			return -1;
		if (move_keys(g, i, dc, src, true, err) != 0)
			return -1;
	}
	if ((m->dst_open || on_target > 0) && slotops_set_stable(dc, m->slot, err) != 0)
		return -1;
	if (mover_record(g, i, JOURNAL_ABORTED, err) != 0)
		return -1;
	mover_settled(g, i);
	return 0;
}
