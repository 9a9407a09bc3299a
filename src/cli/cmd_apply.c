/* cmd_apply.c: the `slotctl apply` command (not implemented yet). */
#include "slotctl/cli.h"
#include "slotctl/exitcode.h"

static int run_apply(const struct cmd_args *args)
{
	(void)args;
	cli_error("apply: not implemented yet");
	return SC_EXIT_PROBLEMS;
}

static const struct cmd_option cmd_apply_options[] = {
	CMD_CONN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_apply = {
	.name = "apply",
	.synopsis = "PLAN [--parallel N] [--yes]",
	.summary = "execute a plan with checkpoints",
	.options = cmd_apply_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_apply,
};
