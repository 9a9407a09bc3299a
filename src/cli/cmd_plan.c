/* cmd_plan.c: `slotctl plan reshard|rebalance|drain`: snapshot the cluster
 * from the seed, sample what its slots hold (src/io/sampler.c), let the pure
 * planner decide (src/core/planner*.c), write the plan file and print the
 * reviewer's summary to stderr. Nothing on the cluster changes. */
#include "slotctl/addr.h"
#include "slotctl/cli.h"
#include "slotctl/exitcode.h"
#include "slotctl/plan_file.h"
#include "slotctl/planner.h"
#include "slotctl/sampler.h"
#include "slotctl/snapshot.h"
#include "plan_summary.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Options every plan command takes. */
#define PLAN_OPTIONS \
	{ "output", 'o', OPT_VALUE, "FILE", "write the plan to FILE ('-': standard output); required" }, \
	{ "sample-keys", 0, OPT_VALUE, "N", "keys measured per slot for memory (default 16; 0: key counts only)" }, \
	{ "bigkey-bytes", 0, OPT_VALUE, "BYTES", "keys above this size are named as big (default 1048576)" }, \
	{ "max-slots-per-batch", 0, OPT_VALUE, "N", "slots per batch of moves (default 64)" }, \
	{ "strict", 0, OPT_FLAG, NULL, "refuse when a target would exceed or run short of its maxmemory" }, \
	{ "detailed-exitcode", 0, OPT_FLAG, NULL, "exit 0 when nothing needs to move, 2 when moves are planned" }, \
	CMD_CONN_OPTIONS

typedef int (*planner_fn)(const struct topology *map, const struct slot_stats *stats,
	const struct planner_opts *opts, struct plan *out, struct sc_error *err);

/* A number option with a fraction (--threshold), within [min, max]. */
static int args_double(const struct cmd_args *args, const char *name, double min, double max,
	double def, double *out)
{
	const char *text = args_value(args, name);
	char *end;
	double v;

	if (!text) {
		*out = def;
		return 0;
	}
	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || *end || !(v >= min && v <= max)) {
		cli_error("--%s: '%s' is not a number from %g to %g", name, text, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

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
	fprintf(f, "sampled %d master%s in %.2f s: %lld commands in %lld round trips, %lld keys measured "
		"(key counts from %s)\n", c->nodes, c->nodes == 1 ? "" : "s", c->seconds, c->commands,
		c->round_trips, c->keys_sampled,
		c->slot_stats_nodes == c->nodes && c->nodes ? "CLUSTER SLOT-STATS" :
		c->slot_stats_nodes ? "CLUSTER SLOT-STATS and COUNTKEYSINSLOT" : "CLUSTER COUNTKEYSINSLOT");
}

static int write_plan(const char *output, const struct plan *p)
{
	struct sc_error err;

	if (strcmp(output, "-") == 0) {
		char *text = plan_serialize(p, &err);

		if (!text) {
			cli_error("%s", err.msg);
			return err.code;
		}
		printf("%s\n", text);
		free(text);
		return fflush(stdout) == 0 ? SC_EXIT_OK : SC_EXIT_PROBLEMS;
	}
	if (plan_save(output, p, &err) < 0) {
		cli_error("%s", err.msg);
		return err.code;
	}
	return SC_EXIT_OK;
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

/* Snapshot, sample, plan. Fills *out, or returns an exit code with the
 * error printed. */
static int make_plan(const struct cmd_args *args, const struct sampler_opts *so,
	const struct planner_opts *po, planner_fn fn, struct plan *out)
{
	struct conn_opts copts;
	struct snapshot snap;
	struct slot_stats stats;
	struct sampler_cost cost;
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
		return err.code;
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
	if (cli_use_progress(stderr))
		fprintf(stderr, "sampling the slots of %s...\n", args->argv[0]);
	if (sampler_run(&map, &copts, so, &stats, &cost, &err) < 0) {
		cli_error("cannot sample the cluster: %s", err.msg);
		rc = err.code;
	} else {
		print_cost(&cost, stderr);
		if (fn(&map, &stats, po, out, &err) < 0) {
			cli_error("%s: %s", args->cmd->name, err.msg);
			rc = err.code;
		}
		slot_stats_release(&stats);
	}
	topology_release(&map);
	snapshot_release(&snap);
	return rc;
}

/* What all three commands share: options, the plan, the file, the summary.
 * balances: the command takes --by (reshard does not: its summary falls back
 * to keys when no memory is sampled). */
static int run_plan(const struct cmd_args *args, struct planner_opts *po, planner_fn fn,
	bool balances)
{
	const char *output = args_value(args, "output");
	struct sampler_opts so = { 0 };
	long long sample, bigkey, batch;
	struct plan p;
	int rc;

	if (!output) {
		cli_error("%s: -o FILE is required ('-o -' writes to standard output)", args->cmd->name);
		return SC_EXIT_USAGE;
	}
	if (args_int(args, "sample-keys", 0, 100000, SAMPLER_DEFAULT_KEYS, &sample) < 0 ||
	    args_int(args, "bigkey-bytes", 1, 1LL << 50, SAMPLER_DEFAULT_BIGKEY, &bigkey) < 0 ||
	    args_int(args, "max-slots-per-batch", 1, SC_SLOTS, PLANNER_DEFAULT_BATCH, &batch) < 0)
		return SC_EXIT_USAGE;
	if (sample == 0 && po->by == MEASURE_MEMORY && !balances)
		po->by = MEASURE_KEYS;
	if (sample == 0 && po->by == MEASURE_MEMORY) {
		cli_error("%s: planning by memory needs --sample-keys of 1 or more (or --by keys|slots)",
			args->cmd->name);
		return SC_EXIT_USAGE;
	}
	so.sample_keys = (int)sample;
	so.bigkey_bytes = bigkey;
	po->seed = args->argv[0];
	po->max_slots_per_batch = (int)batch;
	po->strict = args_flag(args, "strict");
	rc = make_plan(args, &so, po, fn, &p);
	if (rc != SC_EXIT_OK)
		return rc;
	stamp(&p);
	rc = write_plan(output, &p);
	if (rc == SC_EXIT_OK) {
		plan_summary_print(&p, stderr);
		if (strcmp(output, "-") != 0)
			fprintf(stderr, "\nplan written to '%s'; review it with 'slotctl show %s', then 'slotctl apply %s'\n",
				output, output, output);
		if (args_flag(args, "detailed-exitcode") && plan_move_count(&p) > 0)
			rc = SC_EXIT_USAGE; /* terraform's convention: 2 = changes planned */
	}
	plan_release(&p);
	return rc;
}

/* ---- plan reshard ---- */

static int run_plan_reshard(const struct cmd_args *args)
{
	struct planner_opts po = { 0 };
	const char *pick = args_value(args, "pick");
	long long slots;

	if (args_int(args, "slots", 1, SC_SLOTS, 0, &slots) < 0)
		return SC_EXIT_USAGE;
	if (pick && strcmp(pick, "lowest") != 0 && strcmp(pick, "cheapest") != 0) {
		cli_error("--pick: '%s' is not cheapest or lowest", pick);
		return SC_EXIT_USAGE;
	}
	po.from = args_value(args, "from");
	po.to = args_value(args, "to");
	po.slots = (int)slots;
	po.slot_ranges = args_value(args, "slot-ranges");
	po.pick = pick && strcmp(pick, "lowest") == 0 ? PICK_LOWEST : PICK_CHEAPEST;
	if (!po.from || !po.to || (po.slots > 0) == (po.slot_ranges != NULL)) {
		cli_error("plan reshard: give --from, --to and one of --slots or --slot-ranges (usage: slotctl %s %s)",
			args->cmd->name, args->cmd->synopsis);
		return SC_EXIT_USAGE;
	}
	po.by = MEASURE_MEMORY;
	return run_plan(args, &po, planner_reshard, false);
}

static const struct cmd_option cmd_plan_reshard_options[] = {
	{ "from", 0, OPT_VALUE, "ID[,ID...]|all", "masters to take slots from (IDs or unique prefixes)" },
	{ "to", 0, OPT_VALUE, "ID", "master to give the slots to" },
	{ "slots", 0, OPT_VALUE, "N", "move exactly N slots" },
	{ "slot-ranges", 0, OPT_VALUE, "RANGES", "move exactly these slots (\"0-99,500\")" },
	{ "pick", 0, OPT_VALUE, "cheapest|lowest", "which slots: fewest bytes first (default), or lowest numbers as redis-cli" },
	PLAN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_plan_reshard = {
	.name = "plan reshard",
	.synopsis = "HOST:PORT --from ID[,ID...]|all --to ID (--slots N | --slot-ranges RANGES) -o FILE",
	.summary = "plan moving slots from some masters to one",
	.options = cmd_plan_reshard_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_plan_reshard,
};

/* ---- plan rebalance ---- */

static int run_plan_rebalance(const struct cmd_args *args)
{
	struct planner_opts po = { 0 };

	if (by_option(args, &po.by) < 0 ||
	    args_double(args, "threshold", 0.01, 1000, PLANNER_DEFAULT_THRESHOLD, &po.threshold) < 0)
		return SC_EXIT_USAGE;
	po.weight_count = (size_t)args_list(args, "weight", &po.weights);
	po.use_empty_masters = args_flag(args, "use-empty-masters");
	return run_plan(args, &po, planner_rebalance, true);
}

static const struct cmd_option cmd_plan_rebalance_options[] = {
	{ "by", 0, OPT_VALUE, "slots|keys|memory", "what to balance (default memory)" },
	{ "weight", 0, OPT_LIST, "ID=W", "a master's share weight (default 1; 0 empties it); repeatable" },
	{ "threshold", 0, OPT_VALUE, "PCT", "leave masters within PCT% of their share alone (default 2)" },
	{ "use-empty-masters", 0, OPT_FLAG, NULL, "let masters without slots receive (as redis-cli)" },
	PLAN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_plan_rebalance = {
	.name = "plan rebalance",
	.synopsis = "HOST:PORT [--by slots|keys|memory] [--weight ID=W]... [--threshold PCT] [--use-empty-masters] -o FILE",
	.summary = "plan balancing masters by slots, keys or memory",
	.options = cmd_plan_rebalance_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_plan_rebalance,
};

/* ---- plan drain ---- */

static int run_plan_drain(const struct cmd_args *args)
{
	struct planner_opts po = { 0 };

	if (by_option(args, &po.by) < 0)
		return SC_EXIT_USAGE;
	po.drain = args->argv[1];
	po.use_empty_masters = args_flag(args, "use-empty-masters");
	return run_plan(args, &po, planner_drain, true);
}

static const struct cmd_option cmd_plan_drain_options[] = {
	{ "by", 0, OPT_VALUE, "slots|keys|memory", "how to spread the slots over the others (default memory)" },
	{ "use-empty-masters", 0, OPT_FLAG, NULL, "let masters without slots receive" },
	PLAN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_plan_drain = {
	.name = "plan drain",
	.synopsis = "HOST:PORT ID [--by slots|keys|memory] [--use-empty-masters] -o FILE",
	.summary = "plan moving every slot off a master",
	.options = cmd_plan_drain_options,
	.min_args = 2,
	.max_args = 2,
	.run = run_plan_drain,
};
