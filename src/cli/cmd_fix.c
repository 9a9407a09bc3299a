/* cmd_fix.c: the `slotctl fix` command (not implemented yet). */
#include "slotctl/cli.h"
#include "slotctl/exitcode.h"

static int run_fix(const struct cmd_args *args)
{
	(void)args;
	cli_error("fix: not implemented yet");
	return SC_EXIT_PROBLEMS;
}

static const struct cmd_option cmd_fix_options[] = {
	CMD_CONN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_fix = {
	.name = "fix",
	.synopsis = "HOST:PORT [--dry-run] [--yes]",
	.summary = "repair open, uncovered and doubly-owned slots without losing a key",
	.options = cmd_fix_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_fix,
};
