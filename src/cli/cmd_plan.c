/* cmd_plan.c: `slotctl plan reshard|rebalance|drain`: make the plan
 * (plan_options.c fills the request; the planning service, io/plan/planning.c,
 * snapshots, samples and runs the pure planner), write the plan file
 * (or stdout with -o -) and print the reviewer's summary to stderr.
 * Nothing on the cluster changes. */
#include "slotctl/cli/cli.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/file_text.h"
#include "slotctl/io/plan_file.h"
#include "plan_options.h"
#include "plan_summary.h"

#include <stdlib.h>
#include <string.h>

/* What only `plan` takes: where the file goes, and the CI exit code. */
#define PLAN_OUTPUT_OPTIONS \
	{ "output", 'o', OPT_VALUE, "FILE", "write the plan to FILE ('-': standard output); required" }, \
	{ "detailed-exitcode", 0, OPT_FLAG, NULL, "exit 0 when nothing needs to move, 8 when moves are planned" }, \
	CMD_CONN_OPTIONS

static int write_plan(const char *output, const struct plan *p)
{
	struct sc_error err;

	if (strcmp(output, "-") == 0) {
		char *text = plan_serialize(p, &err);

		if (!text) {
			cli_error("%s", err.msg);
			return sc_exit_code(&err);
		}
		printf("%s\n", text);
		free(text);
		return cli_flush_stdout() == 0 ? SC_EXIT_OK : SC_EXIT_PROBLEMS;
	}
	if (plan_save(output, p, &err) < 0) {
		cli_error("%s", err.msg);
		return sc_exit_code(&err);
	}
	return SC_EXIT_OK;
}

/* Makes the plan of kind, writes it, prints the summary. */
static int run_plan(const struct cmd_args *args, enum plan_kind kind)
{
	const char *output = args_value(args, "output");
	struct planning_request req;
	struct sc_error err;
	struct plan p;
	int rc;

	if (!output) {
		cli_error("%s: -o FILE is required ('-o -' writes to standard output)", args->cmd->name);
		return SC_EXIT_USAGE;
	}
	/* before the first connection: a plan that cannot be written costs no sampling */
	if (strcmp(output, "-") != 0 && file_check_writable(output, "plan", &err) < 0) {
		cli_error("%s: %s", args->cmd->name, err.msg);
		return sc_exit_code(&err);
	}
	rc = plan_options_read(args, kind, &req);
	if (rc == SC_EXIT_OK)
		rc = plan_options_make(&req, &p);
	if (rc != SC_EXIT_OK)
		return rc;
	rc = write_plan(output, &p);
	if (rc == SC_EXIT_OK) {
		plan_summary_print(&p, stderr);
		if (strcmp(output, "-") != 0) {
			fputc('\n', stderr);
			plan_summary_written(output, stderr);
		}
		if (args_flag(args, "detailed-exitcode") && plan_move_count(&p) > 0)
			rc = SC_EXIT_MOVES_PLANNED; /* not 2 as in terraform: 2 is a usage error */
	}
	plan_release(&p);
	return rc;
}

static int run_plan_reshard(const struct cmd_args *args)
{
	return run_plan(args, PLAN_RESHARD);
}

static int run_plan_rebalance(const struct cmd_args *args)
{
	return run_plan(args, PLAN_REBALANCE);
}

static int run_plan_drain(const struct cmd_args *args)
{
	return run_plan(args, PLAN_DRAIN);
}

static const struct cmd_option cmd_plan_reshard_options[] = {
	PLAN_RESHARD_OPTIONS,
	PLAN_SAMPLING_OPTIONS,
	PLAN_OUTPUT_OPTIONS,
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

static const struct cmd_option cmd_plan_rebalance_options[] = {
	PLAN_REBALANCE_OPTIONS,
	PLAN_SAMPLING_OPTIONS,
	PLAN_OUTPUT_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_plan_rebalance = {
	.name = "plan rebalance",
	.synopsis = "HOST:PORT [--by slots|keys|memory|cpu] [--weight ID=W]... [--threshold PCT] [--use-empty-masters] -o FILE",
	.summary = "plan balancing masters by slots, keys or memory",
	.options = cmd_plan_rebalance_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_plan_rebalance,
};

static const struct cmd_option cmd_plan_drain_options[] = {
	PLAN_DRAIN_OPTIONS,
	PLAN_SAMPLING_OPTIONS,
	PLAN_OUTPUT_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_plan_drain = {
	.name = "plan drain",
	.synopsis = "HOST:PORT ID [--by slots|keys|memory|cpu] [--use-empty-masters] -o FILE",
	.summary = "plan moving every slot off a master",
	.options = cmd_plan_drain_options,
	.min_args = 2,
	.max_args = 2,
	.run = run_plan_drain,
};
