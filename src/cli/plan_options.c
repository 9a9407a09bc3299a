/* plan_options.c: from the planning options of a command to a planning
 * request, and from the request to a plan with its progress and error
 * reported (see plan_options.h). The orchestration itself (snapshot,
 * sampling, planner) is the planning service's, io/plan/planning.c. */
#include "plan_options.h"
#include "slotctl/core/exitcode.h"

#include <stdio.h>
#include <string.h>

static int reshard_options(const struct cmd_args *args, struct planner_opts *po)
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
	if (!po->from || !po->to || (po->slots > 0) == (po->slot_ranges != NULL)) {
		cli_error("%s: give --from, --to and one of --slots or --slot-ranges (usage: slotctl %s %s)",
			args->cmd->name, args->cmd->name, args->cmd->synopsis);
		return -1;
	}
	return 0;
}

/* --by, --use-empty-masters, and for a rebalance --weight and --threshold. */
static int balance_options(const struct cmd_args *args, enum plan_kind kind, struct planner_opts *po)
{
	const char *by = args_value(args, "by");
	struct sc_error err;

	if (by && plan_measure_parse(by, &po->by, &err) < 0) {
		cli_error("%s", err.msg);
		return -1;
	}
	po->use_empty_masters = args_flag(args, "use-empty-masters");
	if (kind == PLAN_DRAIN) {
		po->drain = args->argv[1];
		return 0;
	}
	po->weight_count = (size_t)args_list(args, "weight", &po->weights);
	return args_double(args, "threshold", 0.01, 1000, po->threshold, &po->threshold);
}

static int sampling_options(const struct cmd_args *args, struct planning_request *req)
{
	long long sample, bigkey, batch;

	if (args_int(args, "sample-keys", 0, 100000, req->sampling.sample_keys, &sample) < 0 ||
	    args_int(args, "bigkey-bytes", 1, 1LL << 50, req->sampling.bigkey_bytes, &bigkey) < 0 ||
	    args_int(args, "max-slots-per-batch", 1, SC_SLOTS, req->planner.max_slots_per_batch, &batch) < 0)
		return -1;
	req->sampling.sample_keys = (int)sample;
	req->sample_keys_given = args_value(args, "sample-keys") != NULL;
	req->sampling.bigkey_bytes = bigkey;
	req->planner.max_slots_per_batch = (int)batch;
	req->planner.strict = args_flag(args, "strict");
	return 0;
}

int plan_options_read(const struct cmd_args *args, enum plan_kind kind, struct planning_request *req)
{
	struct sc_error err;

	planning_request_init(req, kind);
	req->name = args->cmd->name;
	req->seed = args->argv[0];
	if ((kind == PLAN_RESHARD ? reshard_options(args, &req->planner) :
	     balance_options(args, kind, &req->planner)) < 0 || sampling_options(args, req) < 0)
		return SC_EXIT_USAGE;
	if (req->sampling.sample_keys == 0 && req->planner.by == MEASURE_MEMORY) {
		cli_error("%s: planning by memory needs --sample-keys of 1 or more (or --by keys|slots)",
			args->cmd->name);
		return SC_EXIT_USAGE;
	}
	/* everything that needs no cluster is checked before the first connection */
	if (planning_request_check(req, &err) < 0) {
		cli_usage_error(args->cmd->name, "%s", err.msg);
		return SC_EXIT_USAGE;
	}
	return args_conn_opts(args, &req->conn) < 0 ? SC_EXIT_USAGE : SC_EXIT_OK;
}

static void print_cost(const struct sampler_cost *c, FILE *f)
{
	fprintf(f, "sampled %d master%s (memory of %d) in %.2f s: %lld commands in %lld round trips, "
		"%lld keys measured (key counts from %s)\n", c->nodes, c->nodes == 1 ? "" : "s", c->memory_nodes,
		c->seconds, c->commands, c->round_trips, c->keys_sampled,
		c->slot_stats_nodes == c->nodes && c->nodes ? "CLUSTER SLOT-STATS" :
		c->slot_stats_nodes ? "CLUSTER SLOT-STATS and COUNTKEYSINSLOT" : "CLUSTER COUNTKEYSINSLOT");
}

/* The planning service's events, on stderr. */
static void on_planning_event(void *ctx, const struct planning_event *ev)
{
	(void)ctx;
	if (ev->type == PLANNING_SAMPLING && cli_use_progress(stderr))
		fprintf(stderr, "sampling the slots of %s...\n", ev->seed);
	else if (ev->type == PLANNING_SAMPLED)
		print_cost(ev->cost, stderr);
}

int plan_options_make(const struct planning_request *req, struct plan *out)
{
	struct planning_request reported = *req;
	struct sc_error err;

	reported.on_event = on_planning_event;
	if (planning_make(&reported, out, &err) < 0) {
		cli_error("%s", err.msg);
		return sc_exit_code(&err);
	}
	return SC_EXIT_OK;
}
