/* cmd_rebalance.c: the `slotctl rebalance` command (not implemented yet). */
#include "slotctl/cli.h"
#include "slotctl/exitcode.h"

static int run_rebalance(const struct cmd_args *args)
{
	(void)args;
	cli_error("rebalance: not implemented yet");
	return SC_EXIT_PROBLEMS;
}

static const struct cmd_option cmd_rebalance_options[] = {
	CMD_CONN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_rebalance = {
	.name = "rebalance",
	.synopsis = "HOST:PORT [planner options] [--yes]",
	.summary = "plan and apply a rebalance in one step",
	.options = cmd_rebalance_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_rebalance,
};
