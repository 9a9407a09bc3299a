/* cmd_reshard.c: `slotctl reshard HOST:PORT --from ... --to ... --slots N`:
 * plans a reshard exactly as `slotctl plan reshard` does, shows it, asks,
 * and applies it with checkpoints (see oneshot.c). */
#include "exec_cli.h"
#include "oneshot.h"

extern const struct cmd_entry cmd_plan_reshard;

static int run_reshard(const struct cmd_args *args)
{
	static const char *const forward[] = { "from", "to", "slots", "slot-ranges", "pick", NULL };

	return oneshot_run(args, &cmd_plan_reshard, PLAN_RESHARD, forward);
}

static const struct cmd_option cmd_reshard_options[] = {
	{ "from", 0, OPT_VALUE, "ID[,ID...]|all", "masters to take slots from (IDs or unique prefixes)" },
	{ "to", 0, OPT_VALUE, "ID", "master to give the slots to" },
	{ "slots", 0, OPT_VALUE, "N", "move exactly N slots" },
	{ "slot-ranges", 0, OPT_VALUE, "RANGES", "move exactly these slots (\"0-99,500\")" },
	{ "pick", 0, OPT_VALUE, "cheapest|lowest", "which slots: fewest bytes first (default), or lowest numbers" },
	ONESHOT_OPTIONS,
	EXEC_CLI_OPTIONS,
	CMD_CONN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_reshard = {
	.name = "reshard",
	.synopsis = "HOST:PORT --from ID[,ID...]|all --to ID (--slots N | --slot-ranges RANGES) [--yes] "
		"[--dry-run] [--plan-out FILE]",
	.summary = "plan and apply a reshard in one step",
	.options = cmd_reshard_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_reshard,
};
