/* cmd_check.c: the `slotctl check` command (not implemented yet). */
#include "slotctl/cli.h"
#include "slotctl/exitcode.h"

static int run_check(const struct cmd_args *args)
{
	(void)args;
	cli_error("check: not implemented yet");
	return SC_EXIT_PROBLEMS;
}

static const struct cmd_option cmd_check_options[] = {
	CMD_CONN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_check = {
	.name = "check",
	.synopsis = "HOST:PORT [--json] [--wait SECONDS] [--strict]",
	.summary = "diagnose a cluster: coverage, open slots, agreement, node health",
	.options = cmd_check_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_check,
};
