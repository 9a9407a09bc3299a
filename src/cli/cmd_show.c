/* cmd_show.c: the `slotctl show` command (not implemented yet). */
#include "slotctl/cli.h"
#include "slotctl/exitcode.h"

static int run_show(const struct cmd_args *args)
{
	(void)args;
	cli_error("show: not implemented yet");
	return SC_EXIT_PROBLEMS;
}

static const struct cmd_option cmd_show_options[] = {
	CMD_CONN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_show = {
	.name = "show",
	.synopsis = "PLAN [--json]",
	.summary = "summarise a plan file for review",
	.options = cmd_show_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_show,
};
