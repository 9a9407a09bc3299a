/* exec_slot.c: one slot's protocol, forward (apply, resume, and abort's
 * "finish instead") and backward (abort's rollback), journaling each phase.
 * The steps themselves are slotops_*; this file decides their order and
 * resumes from any phase. The one rule above all: SETSLOT NODE is never sent
 * while the source still holds keys of the slot. */
#include "executor_priv.h"
#include "slotctl/exitcode.h"

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

/* SETSLOT NODE on every master but the source and the target, in one round
 * trip. */
static int set_node_on_others(struct exec_run *run, struct conn_pool *pool, struct exec_move *m,
	struct sc_error *err)
{
	struct conn **conns = calloc(run->node_count ? run->node_count : 1, sizeof(*conns));
	size_t n = 0;
	int rc = -1;

	if (!conns)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	for (size_t i = 0; i < run->node_count; i++) {
		if ((int)i == m->src || (int)i == m->dst)
			continue;
		if (!(conns[n++] = conn_pool_get(pool, run->nodes[i].host, run->nodes[i].port, err)))
			goto out;
	}
	rc = slotops_set_node_all(conns, n, m->slot, run->nodes[m->dst].id, err);
out:
	free(conns);
	return rc;
}

int exec_slot_forward(struct exec_run *run, struct conn_pool *pool, struct exec_move *m,
	struct sc_error *err)
{
	const struct exec_node *src = &run->nodes[m->src], *dst = &run->nodes[m->dst];
	struct conn *sc, *dc;
	bool emptied = false;

	if (get_conns(pool, src, dst, &sc, &dc, err) != 0)
		return -1;
	switch (m->phase) {
	case JOURNAL_PENDING:
		if (slotops_set_importing(dc, m->slot, src->id, err) != 0 ||
		    exec_record(run, m, JOURNAL_IMPORTING, true, err) != 0)
			return -1;
		/* fallthrough */
	case JOURNAL_IMPORTING:
		if (slotops_set_migrating(sc, m->slot, dst->id, err) != 0 ||
		    exec_record(run, m, JOURNAL_MIGRATING, true, err) != 0)
			return -1;
		/* fallthrough */
	case JOURNAL_MIGRATING:
		if (move_keys(run, m, sc, dst, false, err) != 0 ||
		    exec_record(run, m, JOURNAL_KEYS_MOVED, true, err) != 0)
			return -1;
		emptied = true; /* the mover's last GETKEYSINSLOT came back empty */
		/* fallthrough */
	case JOURNAL_KEYS_MOVED:
		if (!emptied && slotops_require_empty(sc, m->slot, err) != 0)
			return -1;
		if (slotops_set_node(dc, m->slot, dst->id, err) != 0 ||
		    exec_record(run, m, JOURNAL_OWNER_TARGET, true, err) != 0)
			return -1;
		/* fallthrough */
	case JOURNAL_OWNER_TARGET:
		if (slotops_set_node(sc, m->slot, dst->id, err) != 0 ||
		    exec_record(run, m, JOURNAL_OWNER_SOURCE, true, err) != 0)
			return -1;
		/* fallthrough */
	case JOURNAL_OWNER_SOURCE:
		if (set_node_on_others(run, pool, m, err) != 0 ||
		    exec_record(run, m, JOURNAL_OWNER_ALL, false, err) != 0)
			return -1;
		/* fallthrough */
	case JOURNAL_OWNER_ALL:
		if (exec_record(run, m, JOURNAL_DONE, true, err) != 0)
			return -1;
		/* fallthrough */
	default:
		break;
	}
	run->expected[m->slot] = m->dst;
	return 0;
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
	if (exec_record(run, m, JOURNAL_ABORTED, true, err) != 0)
		return -1;
	run->expected[m->slot] = m->src;
	return 0;
}
