/* plan_make.c: from command-line options to a plan (see plan_make.h):
 * option parsing for each kind of plan, then snapshot, sampling and the
 * pure planner. Shared by every command that plans, so they all read the
 * same options the same way. */
#include "plan_make.h"
#include "slotctl/core/addr.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/planner.h"
#include "slotctl/io/sampler.h"
#include "slotctl/io/snapshot.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int (*planner_fn)(const struct topology *map, const struct slot_stats *stats,
	const struct planner_opts *opts, struct plan *out, struct sc_error *err);

static int by_option(const struct cmd_args *args, enum plan_measure *by)
{
	const char *text = args_value(args, "by");
	struct sc_error err;

	*by = MEASURE_MEMORY;
	if (text && plan_measure_parse(text, by, &err) < 0) {
		cli_error("%s", err.msg);
		return -1;
	}
	return 0;
}

static void stamp(struct plan *p)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(p->created, sizeof(p->created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(p->version, sizeof(p->version), "%s", SLOTCTL_VERSION);
}

static void print_cost(const struct sampler_cost *c, FILE *f)
{
	fprintf(f, "sampled %d master%s (memory of %d) in %.2f s: %lld commands in %lld round trips, "
		"%lld keys measured (key counts from %s)\n", c->nodes, c->nodes == 1 ? "" : "s", c->memory_nodes,
		c->seconds, c->commands, c->round_trips, c->keys_sampled,
		c->slot_stats_nodes == c->nodes && c->nodes ? "CLUSTER SLOT-STATS" :
		c->slot_stats_nodes ? "CLUSTER SLOT-STATS and COUNTKEYSINSLOT" : "CLUSTER COUNTKEYSINSLOT");
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
		    slotset_count(&n->slots) > 0)
			continue;
		self = &v->view.nodes[v->view.myself];
		if (self->flags & NODE_REPLICA) {
			n->flags = (n->flags & ~(unsigned)NODE_MASTER) | NODE_REPLICA;
			memcpy(n->master_id, self->master_id, sizeof(n->master_id));
		}
	}
	return 0;
}

/* The planner of each kind (enum plan_kind order). */
static const planner_fn planners[] = { planner_reshard, planner_rebalance, planner_drain };

/* Samples map and plans a kind; for a reshard only the --from masters have
 * their memory sampled (the others' would go unused, at the cost of a
 * MEMORY USAGE per sampled key that their clients wait behind). Returns an
 * exit code, errors reported. */
static int sample_then_plan(const struct cmd_args *args, const struct topology *map,
	const struct conn_opts *copts, const struct sampler_opts *so, const struct planner_opts *po,
	enum plan_kind kind, struct plan *out)
{
	struct sampler_opts sampling = *so;
	bool *sources = NULL;
	struct slot_stats stats;
	struct sampler_cost cost;
	struct sc_error err;
	int rc = SC_EXIT_OK;

	if (kind == PLAN_RESHARD && so->sample_keys > 0) {
		if (!(sources = calloc(map->count ? map->count : 1, sizeof(*sources)))) {
			cli_error("out of memory");
			return SC_EXIT_PROBLEMS;
		}
		if (planner_reshard_sources(map, po, sources, &err) < 0) {
			cli_error("%s: %s", args->cmd->name, err.msg);
			free(sources);
			return sc_exit_code(&err);
		}
		sampling.measure = sources;
	}
	if (cli_use_progress(stderr))
		fprintf(stderr, "sampling the slots of %s...\n", args->argv[0]);
	if (sampler_run(map, copts, &sampling, &stats, &cost, &err) < 0) {
		cli_error("cannot sample the cluster: %s", err.msg);
		rc = sc_exit_code(&err);
	} else {
		print_cost(&cost, stderr);
		if (planners[kind](map, &stats, po, out, &err) < 0) {
			cli_error("%s: %s", args->cmd->name, err.msg);
			rc = sc_exit_code(&err);
		}
		slot_stats_release(&stats);
	}
	free(sources);
	return rc;
}

/* Snapshot, sample, plan. */
static int sample_and_plan(const struct cmd_args *args, const struct sampler_opts *so,
	const struct planner_opts *po, enum plan_kind kind, struct plan *out)
{
	struct conn_opts copts;
	struct snapshot snap;
	struct sc_error err;
	struct topology map;
	char host[256];
	int port, rc = SC_EXIT_OK;

	if (addr_parse(args->argv[0], host, sizeof(host), &port, &err) < 0) {
		cli_error("%s: %s", args->cmd->name, err.msg);
		return SC_EXIT_USAGE;
	}
	if (args_conn_opts(args, &copts) < 0)
		return SC_EXIT_USAGE;
	if (snapshot_gather(host, port, &copts, &snap, &err) < 0) {
		cli_error("%s", err.msg);
		return sc_exit_code(&err);
	}
	if (!snapshot_map(&snap)) {
		cli_error("no node of '%s' answered CLUSTER NODES", args->argv[0]);
		snapshot_release(&snap);
		return SC_EXIT_UNREACHABLE;
	}
	if (map_with_own_roles(&snap, &map) < 0) {
		cli_error("out of memory");
		snapshot_release(&snap);
		return SC_EXIT_PROBLEMS;
	}
	/* the planner refuses such a map too; refusing here spares the sampling */
	if (topology_require_sound(&map, &err) < 0) {
		cli_error("%s: %s", args->cmd->name, err.msg);
		rc = sc_exit_code(&err);
	} else {
		rc = sample_then_plan(args, &map, &copts, so, po, kind, out);
	}
	topology_release(&map);
	snapshot_release(&snap);
	return rc;
}

static int reshard_opts(const struct cmd_args *args, struct planner_opts *po)
{
	const char *pick = args_value(args, "pick");
	long long slots;

	if (args_int(args, "slots", 1, SC_SLOTS, 0, &slots) < 0)
		return -1;
	if (pick && strcmp(pick, "lowest") != 0 && strcmp(pick, "cheapest") != 0) {
		cli_error("--pick: '%s' is not cheapest or lowest", pick);
		return -1;
	}
	po->from = args_value(args, "from");
	po->to = args_value(args, "to");
	po->slots = (int)slots;
	po->slot_ranges = args_value(args, "slot-ranges");
	po->pick = pick && strcmp(pick, "lowest") == 0 ? PICK_LOWEST : PICK_CHEAPEST;
	/* a reshard balances nothing; its summary counts keys, which are known
	 * on every master (memory is sampled on the sources only) */
	po->by = MEASURE_KEYS;
	if (!po->from || !po->to || (po->slots > 0) == (po->slot_ranges != NULL)) {
		cli_error("%s: give --from, --to and one of --slots or --slot-ranges (usage: slotctl %s %s)",
			args->cmd->name, args->cmd->name, args->cmd->synopsis);
		return -1;
	}
	return 0;
}

static int kind_opts(const struct cmd_args *args, enum plan_kind kind, struct planner_opts *po)
{
	if (kind == PLAN_RESHARD)
		return reshard_opts(args, po);
	if (by_option(args, &po->by) < 0)
		return -1;
	po->use_empty_masters = args_flag(args, "use-empty-masters");
	if (kind == PLAN_DRAIN) {
		po->drain = args->argv[1];
		return 0;
	}
	po->weight_count = (size_t)args_list(args, "weight", &po->weights);
	return args_double(args, "threshold", 0.01, 1000, PLANNER_DEFAULT_THRESHOLD, &po->threshold);
}

int plan_make(const struct cmd_args *args, enum plan_kind kind, struct plan *out)
{
	struct planner_opts po = { 0 };
	struct sampler_opts so = { 0 };
	struct sc_error err;
	long long sample, bigkey, batch;
	int rc;

	if (kind_opts(args, kind, &po) < 0 ||
	    args_int(args, "sample-keys", 0, 100000, SAMPLER_DEFAULT_KEYS, &sample) < 0 ||
	    args_int(args, "bigkey-bytes", 1, 1LL << 50, SAMPLER_DEFAULT_BIGKEY, &bigkey) < 0 ||
	    args_int(args, "max-slots-per-batch", 1, SC_SLOTS, PLANNER_DEFAULT_BATCH, &batch) < 0)
		return SC_EXIT_USAGE;
	if (sample == 0 && po.by == MEASURE_MEMORY) {
		cli_error("%s: planning by memory needs --sample-keys of 1 or more (or --by keys|slots)",
			args->cmd->name);
		return SC_EXIT_USAGE;
	}
	/* everything that needs no cluster is checked before the first connection */
	if (planner_opts_check(&po, &err) < 0) {
		cli_usage_error(args->cmd->name, "%s", err.msg);
		return SC_EXIT_USAGE;
	}
	so.sample_keys = (int)sample;
	so.bigkey_bytes = bigkey;
	po.seed = args->argv[0];
	po.max_slots_per_batch = (int)batch;
	po.strict = args_flag(args, "strict");
	rc = sample_and_plan(args, &so, &po, kind, out);
	if (rc == SC_EXIT_OK)
		stamp(out);
	return rc;
}
