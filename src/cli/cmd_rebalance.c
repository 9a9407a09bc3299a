/* cmd_rebalance.c: `slotctl rebalance HOST:PORT [planner options]`: plans a
 * rebalance exactly as `slotctl plan rebalance` does (the same options and
 * request), shows it, asks, and applies it with checkpoints (see oneshot.c). */
#include "exec_cli.h"
#include "oneshot.h"

static int run_rebalance(const struct cmd_args *args)
{
	return oneshot_run(args, PLAN_REBALANCE);
}

static const struct cmd_option cmd_rebalance_options[] = {
	PLAN_REBALANCE_OPTIONS,
	ONESHOT_OPTIONS,
	PLAN_SAMPLING_OPTIONS,
	EXEC_CLI_OPTIONS,
	CMD_CONN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_rebalance = {
	.name = "rebalance",
	.synopsis = "HOST:PORT [--by slots|keys|memory|cpu] [--weight ID=W]... [--threshold PCT] "
		"[--use-empty-masters] [--yes] [--fast] [--dry-run] [--plan-out FILE] [--backend auto|keys|atomic]",
	.summary = "plan and apply a rebalance in one step",
	.options = cmd_rebalance_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_rebalance,
};
