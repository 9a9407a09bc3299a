/* cmd_reshard.c: `slotctl reshard HOST:PORT --from ... --to ... --slots N`:
 * plans a reshard exactly as `slotctl plan reshard` does (the same options
 * and request), shows it, asks, and applies it with checkpoints (see
 * oneshot.c). */
#include "exec_cli.h"
#include "oneshot.h"

static int run_reshard(const struct cmd_args *args)
{
	return oneshot_run(args, PLAN_RESHARD);
}

static const struct cmd_option cmd_reshard_options[] = {
	PLAN_RESHARD_OPTIONS,
	ONESHOT_OPTIONS,
	PLAN_SAMPLING_OPTIONS,
	EXEC_CLI_OPTIONS,
	CMD_CONN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_reshard = {
	.name = "reshard",
	.synopsis = "HOST:PORT --from ID[,ID...]|all --to ID (--slots N | --slot-ranges RANGES) [--yes] "
		"[--fast] [--dry-run] [--plan-out FILE] [--backend auto|keys|atomic]",
	.summary = "plan and apply a reshard in one step",
	.options = cmd_reshard_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_reshard,
};
