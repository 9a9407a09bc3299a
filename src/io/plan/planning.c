/* planning.c: the planning service (see slotctl/io/planning.h): snapshot,
 * role fix-up, sampling, the pure planner, in that order and nowhere else.
 * The command layer fills the request from its options and prints; this
 * file gathers and decides nothing a planner does not. */
#include "slotctl/io/planning.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "slotctl/core/addr.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/atomic_ops.h"
#include "slotctl/io/snapshot.h"

typedef int (*planner_fn)(const struct topology *map, const struct slot_stats *stats,
	const struct planner_opts *opts, struct plan *out, struct sc_error *err);

/* The planner of each kind (enum plan_kind, core/plan.h). */
static const planner_fn planners[] = {
	[PLAN_RESHARD] = planner_reshard, [PLAN_REBALANCE] = planner_rebalance, [PLAN_DRAIN] = planner_drain,
};

void planning_request_init(struct planning_request *req, enum plan_kind kind)
{
	memset(req, 0, sizeof(*req));
	req->kind = kind;
	req->sampling.sample_keys = SAMPLER_DEFAULT_KEYS;
	req->sampling.bigkey_bytes = SAMPLER_DEFAULT_BIGKEY;
	req->planner.max_slots_per_batch = PLANNER_DEFAULT_BATCH;
	req->planner.threshold = PLANNER_DEFAULT_THRESHOLD;
	req->planner.pick = PICK_CHEAPEST;
	/* a reshard balances nothing; its summary counts keys, which are known
	 * on every master (memory is sampled on the sources only) */
	req->planner.by = kind == PLAN_RESHARD ? MEASURE_KEYS : MEASURE_MEMORY;
}

int planning_request_check(const struct planning_request *req, struct sc_error *err)
{
	return planner_opts_check(&req->planner, err);
}

/* Fails with err judging the request: prefixed with the request's name. */
static int judged(const struct planning_request *req, struct sc_error *err)
{
	return req->name ? sc_error_prefix(err, "%s", req->name) : -1;
}

static void tell(const struct planning_request *req, enum planning_event_type type,
	const struct sampler_cost *cost)
{
	struct planning_event ev = { .type = type, .seed = req->seed, .cost = cost };

	if (req->on_event)
		req->on_event(req->ctx, &ev);
}

static void stamp(struct plan *p)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(p->created, sizeof(p->created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(p->version, sizeof(p->version), "%s", SLOTCTL_VERSION);
}

/* The seed's map, with each slotless "master" that says itself it is a
 * replica marked as one: right after CLUSTER REPLICATE or a failover, peers
 * may still list a replica as an empty master, and no plan may send slots to
 * a replica. Returns 0, or -1 on OOM. */
static int map_with_own_roles(const struct snapshot *snap, struct topology *out)
{
	if (topology_copy(out, snapshot_map(snap)) < 0)
		return -1;
	for (size_t i = 0; i < out->count; i++) {
		struct node *n = &out->nodes[i];
		const struct node_view *v = snapshot_find(snap, n->id);
		const struct node *self;

		if (!v || !v->reachable || v->view.myself < 0 || !node_is_master(n) ||
		    slotset_count(node_slots(n)) > 0)
			continue;
		self = &v->view.nodes[v->view.myself];
		if (self->flags & NODE_REPLICA) {
			n->flags = (n->flags & ~(unsigned)NODE_MASTER) | NODE_REPLICA;
			memcpy(n->master_id, self->master_id, sizeof(n->master_id));
		}
	}
	return 0;
}

/* Whether every eligible master of map says it has atomic migration
 * (atomic_probe_all: one COMMAND INFO each, asked at once). A master that
 * cannot be asked makes it false: the sampler then meets it and says why. */
static bool all_atomic(const struct topology *map, const struct conn_opts *copts)
{
	struct atomic_probe *p = calloc(map->count ? map->count : 1, sizeof(*p));
	bool all = p != NULL;

	for (size_t i = 0; all && i < map->count; i++)
		if (plan_node_eligible(&map->nodes[i]))
			p[i] = (struct atomic_probe){ .host = map->nodes[i].ip, .port = map->nodes[i].port };
	if (all)
		atomic_probe_all(p, map->count, copts);
	for (size_t i = 0; all && i < map->count; i++)
		all = p[i].rc == 1 || (p[i].rc == 0 && p[i].yes);
	free(p);
	return all;
}

/* Samples map and plans with po; for a reshard with memory sampled, only
 * its sources have their memory measured (the others' would go unused, at
 * the cost of a MEMORY USAGE per sampled key that their clients wait
 * behind). */
static int sample_then_plan(const struct planning_request *req, const struct topology *map,
	const struct planner_opts *po, struct plan *out, struct sc_error *err)
{
	struct sampler_opts sampling = req->sampling;
	bool *sources = NULL;
	struct slot_stats stats;
	struct sampler_cost cost;
	int rc;

	if (req->kind == PLAN_RESHARD && sampling.sample_keys > 0) {
		if (!(sources = calloc(map->count ? map->count : 1, sizeof(*sources))))
			return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
		if (planner_reshard_sources(map, po, sources, err) < 0) {
			free(sources);
			return judged(req, err);
		}
	}
	sampling.measure = sources;
	/* the servers move whole slots: per-key sizes would serve only the key path */
	if (req->atomic_apply && !req->sample_keys_given && po->by != MEASURE_MEMORY && sampling.sample_keys > 0 &&
	    all_atomic(map, &req->conn)) {
		sampling.sample_keys = 0;
		sampling.estimate_bytes = true;
	}
	tell(req, PLANNING_SAMPLING, NULL);
	rc = sampler_run(map, &req->conn, &sampling, &stats, &cost, err);
	free(sources);
	if (rc < 0)
		return sc_error_prefix(err, "cannot sample the cluster");
	tell(req, PLANNING_SAMPLED, &cost);
	rc = planners[req->kind](map, &stats, po, out, err);
	slot_stats_release(&stats);
	return rc < 0 ? judged(req, err) : 0;
}

int planning_make(const struct planning_request *req, struct plan *out, struct sc_error *err)
{
	struct planner_opts po = req->planner;
	struct snapshot snap;
	struct topology map;
	char host[256];
	int port, rc;

	if (addr_parse(req->seed, host, sizeof(host), &port, err) < 0) {
		err->code = SC_EXIT_USAGE;
		return judged(req, err);
	}
	po.seed = req->seed;
	if (snapshot_gather(host, port, &req->conn, &snap, err) < 0)
		return -1;
	if (!snapshot_map(&snap)) {
		snapshot_release(&snap);
		return sc_error_set(err, SC_EXIT_UNREACHABLE, "no node of '%s' answered CLUSTER NODES", req->seed);
	}
	if (map_with_own_roles(&snap, &map) < 0) {
		snapshot_release(&snap);
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	}
	/* the planner refuses such a map too; refusing here spares the sampling */
	if (topology_require_sound(&map, err) < 0)
		rc = judged(req, err);
	else
		rc = sample_then_plan(req, &map, &po, out, err);
	topology_release(&map);
	snapshot_release(&snap);
	if (rc == 0) {
		stamp(out);
		out->transport = conn_tls_note(&req->conn.tls); /* that it speaks TLS, never a secret */
	}
	return rc;
}
