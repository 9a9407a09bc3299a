/* cmd_reshard.c: the `slotctl reshard` command (not implemented yet). */
#include "slotctl/cli.h"
#include "slotctl/exitcode.h"

static int run_reshard(const struct cmd_args *args)
{
	(void)args;
	cli_error("reshard: not implemented yet");
	return SC_EXIT_PROBLEMS;
}

static const struct cmd_option cmd_reshard_options[] = {
	CMD_CONN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_reshard = {
	.name = "reshard",
	.synopsis = "HOST:PORT --from ID[,ID...]|all --to ID --slots N [--yes]",
	.summary = "plan and apply a reshard in one step",
	.options = cmd_reshard_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_reshard,
};
