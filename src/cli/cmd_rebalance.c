/* cmd_rebalance.c: `slotctl rebalance HOST:PORT [planner options]`: plans a
 * rebalance exactly as `slotctl plan rebalance` does, shows it, asks, and
 * applies it with checkpoints (see oneshot.c). */
#include "exec_cli.h"
#include "oneshot.h"

extern const struct cmd_entry cmd_plan_rebalance;

static int run_rebalance(const struct cmd_args *args)
{
	static const char *const forward[] = { "by", "weight", "threshold", "use-empty-masters", NULL };

	return oneshot_run(args, &cmd_plan_rebalance, PLAN_REBALANCE, forward);
}

static const struct cmd_option cmd_rebalance_options[] = {
	{ "by", 0, OPT_VALUE, "slots|keys|memory", "what to balance (default memory)" },
	{ "weight", 0, OPT_LIST, "ID=W", "a master's share weight (default 1; 0 empties it); repeatable" },
	{ "threshold", 0, OPT_VALUE, "PCT", "leave masters within PCT% of their share alone (default 2)" },
	{ "use-empty-masters", 0, OPT_FLAG, NULL, "let masters without slots receive (as redis-cli)" },
	ONESHOT_OPTIONS,
	EXEC_CLI_OPTIONS,
	CMD_CONN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_rebalance = {
	.name = "rebalance",
	.synopsis = "HOST:PORT [--by slots|keys|memory] [--weight ID=W]... [--threshold PCT] "
		"[--use-empty-masters] [--yes] [--dry-run] [--plan-out FILE]",
	.summary = "plan and apply a rebalance in one step",
	.options = cmd_rebalance_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_rebalance,
};
