/* exec_place.c: where one move stands, from what the nodes say, not the
 * journal: which masters play its source and target shards now (a failover
 * gives a shard another master; a source that gave its last slot away may
 * be a replica now), its phase as their views and the others' show it
 * (journal_derive_phase_shards), the marks its shards' nodes still hold, and
 * the slot's owner told to a target that lost track of it after a failover.
 * Used by resume and abort for every unfinished journaled slot
 * (exec_recover.c) and by a run that follows a failover for every
 * unfinished move (exec_failover.c). */
#include "executor_priv.h"
#include "slotctl/io/clock.h"
#include "slotctl/core/exitcode.h"

#include <stdlib.h>
#include <string.h>

/* Whether node's own view has a marker for slot (importing or migrating). */
static bool has_marker(const struct topology *view, int slot, bool importing)
{
	const struct node *me = view->myself >= 0 ? &view->nodes[view->myself] : NULL;

	for (size_t i = 0; me && i < me->open_count; i++)
		if (me->open[i].slot == slot && me->open[i].importing == importing)
			return true;
	return false;
}

/* Whether the node with id, or a replica of it, has slot's marker in its
 * own view. Valkey 8+ replicates SETSLOT to the replicas before the master
 * runs it, and drops it on the master when the client that sent it goes
 * away meanwhile: a run killed there leaves the mark on the replicas alone,
 * which a STABLE on the master (replicated too) clears. */
static bool shard_has_marker(const struct snapshot *s, const char *id, int slot, bool importing)
{
	for (size_t i = 0; i < s->count; i++) {
		const struct topology *v = &s->nodes[i].view;
		const struct node *me = s->nodes[i].reachable && v->myself >= 0 ? &v->nodes[v->myself] : NULL;

		if (me && (strcmp(me->id, id) == 0 || strcmp(me->master_id, id) == 0) &&
		    has_marker(v, slot, importing))
			return true;
	}
	return false;
}

/* The views of every master but src and dst (for "owner on all"). */
static const struct topology **other_views(const struct exec_run *run, const struct snapshot *s,
	int src, int dst, size_t *n)
{
	const struct topology **v = calloc(run->node_count ? run->node_count : 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; v && i < run->node_count; i++) {
		const struct node_view *nv = snapshot_find(s, run->nodes[i].id);

		if ((int)i != src && (int)i != dst && nv && !run->nodes[i].retired)
			v[(*n)++] = &nv->view;
	}
	return v;
}

/* Finds the source of a move that is no longer a master: a master that
 * gave away its last slot becomes a replica of the node that took it
 * (cluster-allow-replica-migration), and a run killed before it told that
 * master SETSLOT NODE finds it so. Such a node is added to the run and *out
 * gets its index; otherwise *out is -1. Returns 0, or -1 with err on OOM. */
static int former_master(struct exec_run *run, const struct snapshot *s, const char *id, int *out,
	struct sc_error *err)
{
	const struct node_view *v = snapshot_find(s, id);
	const struct node *me;

	*out = -1;
	if (!v || !v->reachable || v->view.myself < 0)
		return 0;
	me = &v->view.nodes[v->view.myself];
	if (node_is_master(me) || slotset_count(node_slots(me)) > 0)
		return 0;
	*out = exec_run_add_node(run, id, v->host, v->port, err);
	return *out < 0 ? -1 : 0;
}

/* The ids of shard k for journal_derive_phase_shards: node first, then
 * the other members (caller frees; NULL on OOM). */
static const char **shard_ids(const struct exec_run *run, int k, int node, size_t *n)
{
	size_t count = k >= 0 ? run->shards[k].count : 0;
	const char **ids = calloc(count + 1, sizeof(*ids));

	*n = 0;
	if (!ids)
		return NULL;
	ids[(*n)++] = run->nodes[node].id;
	for (size_t j = 0; j < count; j++)
		if (strcmp(run->shards[k].members[j], run->nodes[node].id) != 0)
			ids[(*n)++] = run->shards[k].members[j];
	return ids;
}

/* m's phase from the views of src and dst (the nodes that play its shards
 * now) and the others, a view that names a replaced member of a shard as
 * the owner counting for that shard. */
static int derive_by_shard(const struct exec_run *run, const struct exec_move *m, int src, int dst,
	const struct topology *sv, const struct topology *dv, const struct topology **others, size_t n,
	enum journal_phase *phase, struct sc_error *err)
{
	size_t nf, nt;
	const char **from = shard_ids(run, m->src_shard, src, &nf), **to = shard_ids(run, m->dst_shard, dst, &nt);
	int rc = from && to ? journal_derive_phase_shards(sv, dv, others, n, m->slot, from, nf, to, nt, phase, err) :
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");

	free(from);
	free(to);
	return rc;
}

/* The id of the master view says owns slot, or "". */
static const char *owner_in(const struct topology *view, int slot)
{
	for (size_t i = 0; i < view->count; i++)
		if (node_is_master(&view->nodes[i]) && slotset_has(node_slots(&view->nodes[i]), slot))
			return view->nodes[i].id;
	return "";
}

/* After its source's shard failed over, the target of an open move ignores
 * the promoted replica's claim on the slot (a node importing a slot takes
 * no owner for it from the bus) and, once it hears that the old master is
 * a replica, knows no owner at all: it answers the MIGRATE of the slot's
 * keys with CLUSTERDOWN. SETSLOT NODE tells it the owner; on a node that is
 * not given the slot it changes nothing else (no mark, no epoch). */
static int tell_target_owner(struct exec_run *run, struct conn_pool *pool, const struct exec_move *m,
	const struct topology *dv, struct sc_error *err)
{
	const struct exec_node *src = &run->nodes[m->src], *dst = &run->nodes[m->dst];
	long long deadline = sc_clock_ms() + EXEC_FAILOVER_WAIT_MS;
	struct conn *c;
	int rc;

	if (m->phase >= JOURNAL_KEYS_MOVED || strcmp(owner_in(dv, m->slot), src->id) == 0)
		return 0;
	if (!(c = conn_pool_get(pool, dst->host, dst->port, err)))
		return -1;
	/* right after the failover the target may not yet know the promoted
	 * replica as a master ("Target node is not a master"): give it the
	 * time gossip takes */
	while ((rc = slotops_set_node(c, m->slot, src->id, err)) != 0 && strstr(err->msg, "not a master") &&
	       sc_clock_ms() < deadline)
		sc_sleep_ms(100);
	return rc;
}

int exec_place_move(struct exec_run *run, const struct snapshot *s, struct conn_pool *pool,
	struct exec_move *m, bool abort, struct sc_error *err)
{
	const struct node_view *sv, *dv;
	const struct topology **others;
	enum journal_phase phase;
	size_t n;
	int src, dst, rc;

	if (exec_shard_master(run, s, m->src_shard, &src, err) != 0 ||
	    exec_shard_master(run, s, m->dst_shard, &dst, err) != 0)
		return -1;
	if (src < 0 && dst >= 0 && former_master(run, s, run->shards[m->src_shard].name, &src, err) != 0)
		return -1;
	if (src < 0 || dst < 0)
		return exec_shard_none_left(run, src < 0 ? m->src_shard : m->dst_shard, m->slot, err);
	if (src == dst)
		return sc_error_set(err, SC_EXIT_REFUSED,
			"slot %d moves from the shard of %.8s to that of %.8s, but '%s' is the master of both now; "
			"run 'slotctl fix'", m->slot, run->shards[m->src_shard].name, run->shards[m->dst_shard].name,
			run->nodes[src].addr);
	if (!(sv = snapshot_find(s, run->nodes[src].id)) || !(dv = snapshot_find(s, run->nodes[dst].id)))
		return sc_error_set(err, SC_EXIT_UNREACHABLE, "slot %d: '%s' or '%s' did not answer", m->slot,
			run->nodes[src].addr, run->nodes[dst].addr);
	if (!(others = other_views(run, s, src, dst, &n)))
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	rc = derive_by_shard(run, m, src, dst, &sv->view, &dv->view, others, n, &phase, err);
	free(others);
	if (rc != 0) {
		err->code = SC_EXIT_REFUSED;
		return -1;
	}
	m->src = src;
	m->dst = dst;
	m->phase = phase;
	m->rollback = abort && phase < JOURNAL_KEYS_MOVED;
	m->src_open = shard_has_marker(s, run->nodes[src].id, m->slot, false);
	m->dst_open = shard_has_marker(s, run->nodes[dst].id, m->slot, true);
	return tell_target_owner(run, pool, m, &dv->view, err);
}
