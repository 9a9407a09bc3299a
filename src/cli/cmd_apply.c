/* cmd_apply.c: `slotctl apply PLAN`: executes a plan file on the live
 * cluster with checkpoints. Reads and validates the plan, asks for
 * confirmation (unless --yes), then hands it to the executor, which refuses
 * stale plans, unhealthy clusters and unfinished journals before it changes
 * anything. */
#include "exec_cli.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/plan_file.h"

#include <string.h>

static int confirm_apply(const struct plan *plan, const char *path, bool yes)
{
	char prompt[512];
	bool closed = false;

	if (yes)
		return 0;
	snprintf(prompt, sizeof(prompt), "apply '%s': move %zu slots on the cluster at '%s'?", path,
		plan_move_count(plan), plan->seed);
	if (cli_confirm(prompt, &closed))
		return 0;
	if (closed)
		cli_error("refusing to apply '%s' without confirmation: stdin is not a terminal; pass --yes", path);
	else
		cli_error("not applied");
	return -1;
}

static int run_apply(const struct cmd_args *args)
{
	const char *path = args->argv[0];
	struct exec_opts opts;
	struct exec_cli ui;
	struct exec_result res;
	struct sc_error err = { 0 };
	struct plan plan;
	int rc;

	if (exec_cli_opts(args, "apply", &opts, &ui) != 0)
		return SC_EXIT_USAGE;
	if (strcmp(path, "-") == 0) {
		cli_error("apply: give the plan as a file, not standard input: its journal goes next to it");
		return SC_EXIT_USAGE;
	}
	if (plan_load(path, &plan, &err) != 0) { /* bounded and strict, like every plan read */
		cli_error("%s", err.msg);
		return sc_exit_code(&err);
	}
	if (confirm_apply(&plan, path, args_flag(args, "yes")) != 0) {
		plan_release(&plan);
		return SC_EXIT_REFUSED;
	}
	opts.stop = exec_cli_signals();
	rc = executor_apply(&plan, path, args_value(args, "state"), &opts, &res, &err);
	plan_release(&plan);
	return exec_cli_finish(&ui, rc, &res, &err);
}

static const struct cmd_option cmd_apply_options[] = {
	{ "state", 0, OPT_VALUE, "FILE", "journal file (default: PLAN.journal next to the plan)" },
	{ "yes", 'y', OPT_FLAG, NULL, "apply without asking" },
	EXEC_CLI_OPTIONS,
	CMD_CONN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_apply = {
	.name = "apply",
	.synopsis = "PLAN [--parallel N] [--backend auto|keys|atomic] [--state FILE] [--yes] [--json] [--metrics-file PATH] [--replace] "
		"[--fast] [--max-keys-per-sec N] [--max-bytes-per-sec N] [--batch-keys N] [--max-block-ms MS] [--migrate-timeout MS]",
	.summary = "execute a plan with checkpoints",
	.options = cmd_apply_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_apply,
};
