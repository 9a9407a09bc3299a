/* cmd_abort.c: the `slotctl abort` command (not implemented yet). */
#include "slotctl/cli.h"
#include "slotctl/exitcode.h"

static int run_abort(const struct cmd_args *args)
{
	(void)args;
	cli_error("abort: not implemented yet");
	return SC_EXIT_PROBLEMS;
}

static const struct cmd_option cmd_abort_options[] = {
	CMD_CONN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_abort = {
	.name = "abort",
	.synopsis = "PLAN|STATE",
	.summary = "put every open slot of an interrupted apply back",
	.options = cmd_abort_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_abort,
};
