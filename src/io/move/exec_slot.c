/* exec_slot.c: one slot's protocol, forward (apply, resume, and abort's
 * "finish instead") and backward (abort's rollback), journaling each phase.
 * The steps themselves are slotops_*; this file decides their order and
 * resumes from any phase. The one rule above all: SETSLOT NODE is never sent
 * while the source still holds keys of the slot. */
#include "executor_priv.h"
#include "slotctl/core/exitcode.h"

#include <stdio.h>
#include <stdlib.h>

static int get_conns(struct conn_pool *pool, const struct exec_node *a, const struct exec_node *b,
	struct conn **ca, struct conn **cb, struct sc_error *err)
{
	if (!(*ca = conn_pool_get(pool, a->host, a->port, err)))
		return -1;
	if (!(*cb = conn_pool_get(pool, b->host, b->port, err)))
		return -1;
	return 0;
}

static int move_keys(struct exec_run *run, struct exec_move *m, struct conn *from,
	const struct exec_node *to, bool asking, struct sc_error *err)
{
	struct exec_batch_ctx ctx;
	struct migrate_opts mo;
	struct migrate_stats stats = { 0 };

	exec_migrate_opts(run, m, asking, &ctx, &mo);
	return slotops_migrate_keys(from, to->host, to->port, m->slot, &mo, &stats, err);
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

/* The target of m takes its slot: past exec_gate against every other
 * master of the run (see fin_anchor in exec_finish.c and handover.h), then
 * NODE on the target. */
static int take(struct exec_run *run, struct conn_pool *pool, const struct exec_move *m, struct conn *dc,
	struct sc_error *err)
{
	struct conn **conns = calloc(run->node_count ? run->node_count : 1, sizeof(*conns));
	unsigned long seen = 0;
	size_t n = 0;
	int rc = 0;

	if (!conns)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	for (size_t i = 0; rc == 0 && i < run->node_count; i++)
		if ((int)i != m->dst && !run->nodes[i].retired &&
		    !(conns[n++] = conn_pool_get(pool, run->nodes[i].host, run->nodes[i].port, err)))
			rc = -1;
	if (rc == 0)
		rc = exec_gate(run, dc, conns, n, &seen, err);
	free(conns);
	if (rc == 0 && (rc = slotops_set_node(dc, m->slot, run->nodes[m->dst].id, err)) == 0)
		exec_took(run, &seen);
	return rc;
}

/* Drives m from whatever NODE step it reached to done, one step at a time:
 * NODE on the target (from keys-moved), then on the source and every other
 * master at once. The caller has made sure the source holds no key of the
 * slot. */
static int finish_from(struct exec_run *run, struct conn_pool *pool, struct exec_move *m,
	struct conn *sc, struct conn *dc, struct others *o, struct sc_error *err)
{
	const struct exec_node *dst = &run->nodes[m->dst];

	switch (m->phase) {
	case JOURNAL_KEYS_MOVED:
		if (take(run, pool, m, dc, err) != 0 || exec_record(run, m, JOURNAL_OWNER_TARGET, err) != 0)
			return -1;
		/* fallthrough */
	case JOURNAL_OWNER_TARGET:
		if (others_send(run, pool, m, o, err) != 0 ||
		    slotops_setslot_send(sc, m->slot, "NODE", dst->id, err) != 0 ||
		    slotops_setslot_read(sc, m->slot, "NODE", true, err) != 0 ||
		    exec_record(run, m, JOURNAL_OWNER_SOURCE, err) != 0)
			return -1;
		/* fallthrough */
	case JOURNAL_OWNER_SOURCE:
		if (others_send(run, pool, m, o, err) != 0 || others_read(m, o, err) != 0 ||
		    exec_record(run, m, JOURNAL_OWNER_ALL, err) != 0)
			return -1;
		/* fallthrough */
	case JOURNAL_OWNER_ALL:
		if (exec_record(run, m, JOURNAL_DONE, err) != 0)
			return -1;
		/* fallthrough */
	default:
		break;
	}
	run->expected[m->slot] = m->dst;
	return 0;
}

/* finish_from with its own set of other masters. */
static int finish(struct exec_run *run, struct conn_pool *pool, struct exec_move *m,
	struct conn *sc, struct conn *dc, struct sc_error *err)
{
	struct others o = { 0 };
	int rc = finish_from(run, pool, m, sc, dc, &o, err);

	free(o.conns);
	return rc;
}

int exec_slot_forward(struct exec_run *run, struct conn_pool *pool, struct exec_move *m,
	struct sc_error *err)
{
	const struct exec_node *src = &run->nodes[m->src], *dst = &run->nodes[m->dst];
	struct conn *sc, *dc;

	if (get_conns(pool, src, dst, &sc, &dc, err) != 0)
		return -1;
	switch (m->phase) {
	case JOURNAL_PENDING:
		if (slotops_set_importing(dc, m->slot, src->id, err) != 0 ||
		    exec_record(run, m, JOURNAL_IMPORTING, err) != 0)
			return -1;
		/* fallthrough */
	case JOURNAL_IMPORTING:
		if (slotops_set_migrating(sc, m->slot, dst->id, err) != 0 ||
		    exec_record(run, m, JOURNAL_MIGRATING, err) != 0)
			return -1;
		/* fallthrough */
	case JOURNAL_MIGRATING:
		if (move_keys(run, m, sc, dst, false, err) != 0 ||
		    exec_record(run, m, JOURNAL_KEYS_MOVED, err) != 0)
			return -1;
		/* the mover's last GETKEYSINSLOT came back empty: NODE may follow */
		return finish(run, pool, m, sc, dc, err);
	default:
		if (m->phase == JOURNAL_KEYS_MOVED && slotops_require_empty(sc, m->slot, err) != 0)
			return -1;
		return finish(run, pool, m, sc, dc, err);
	}
}

int exec_slot_rollback(struct exec_run *run, struct conn_pool *pool, struct exec_move *m,
	struct sc_error *err)
{
	const struct exec_node *src = &run->nodes[m->src], *dst = &run->nodes[m->dst];
	struct conn *sc, *dc;
	long long on_target = 0;

	if (get_conns(pool, src, dst, &sc, &dc, err) != 0)
		return -1;
	if (slotops_count_keys(dc, m->slot, &on_target, err) != 0)
		return -1;
	/* The source must stop redirecting (MIGRATING) before it can take keys
	 * back: a migrating owner answers RESTORE of a key it lacks with ASK. */
	if (m->src_open && slotops_set_stable(sc, m->slot, err) != 0)
		return -1;
	if (on_target > 0) {
		if (!m->dst_open && slotops_set_importing(dc, m->slot, src->id, err) != 0)
			return -1;
		if (move_keys(run, m, dc, src, true, err) != 0)
			return -1;
	}
	if ((m->dst_open || on_target > 0) && slotops_set_stable(dc, m->slot, err) != 0)
		return -1;
	if (exec_record(run, m, JOURNAL_ABORTED, err) != 0)
		return -1;
	run->expected[m->slot] = m->src;
	return 0;
}
