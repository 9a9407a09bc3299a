/* cmd_plan.c: the `slotctl plan` command (not implemented yet). */
#include "slotctl/cli.h"
#include "slotctl/exitcode.h"

static int run_plan_reshard(const struct cmd_args *args)
{
	(void)args;
	cli_error("plan reshard: not implemented yet");
	return SC_EXIT_PROBLEMS;
}

static const struct cmd_option cmd_plan_reshard_options[] = {
	CMD_CONN_OPTIONS,
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

static int run_plan_rebalance(const struct cmd_args *args)
{
	(void)args;
	cli_error("plan rebalance: not implemented yet");
	return SC_EXIT_PROBLEMS;
}

static const struct cmd_option cmd_plan_rebalance_options[] = {
	CMD_CONN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_plan_rebalance = {
	.name = "plan rebalance",
	.synopsis = "HOST:PORT [--by slots|keys|memory] [--weight ID=W]... -o FILE",
	.summary = "plan balancing masters by slots, keys or memory",
	.options = cmd_plan_rebalance_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_plan_rebalance,
};

static int run_plan_drain(const struct cmd_args *args)
{
	(void)args;
	cli_error("plan drain: not implemented yet");
	return SC_EXIT_PROBLEMS;
}

static const struct cmd_option cmd_plan_drain_options[] = {
	CMD_CONN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_plan_drain = {
	.name = "plan drain",
	.synopsis = "HOST:PORT ID -o FILE",
	.summary = "plan moving every slot off a master",
	.options = cmd_plan_drain_options,
	.min_args = 2,
	.max_args = 2,
	.run = run_plan_drain,
};
