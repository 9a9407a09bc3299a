/* cmd_abort.c: `slotctl abort PLAN|STATE`: rolls back an interrupted or
 * failed apply. Every slot left open goes back to its source with its keys;
 * a slot whose new owner the target already claims is finished instead. */
#include "exec_cli.h"

static int run_abort(const struct cmd_args *args)
{
	return exec_cli_run_journal(args, "abort", executor_abort);
}

const struct cmd_entry cmd_abort = {
	.name = "abort",
	.synopsis = EXEC_CLI_JOURNAL_SYNOPSIS,
	.summary = "put every open slot of an interrupted apply back",
	.options = exec_cli_journal_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_abort,
};
