/* cmd_resume.c: `slotctl resume PLAN|STATE`: continues an interrupted or
 * failed apply. The journal (the plan's, or the state file given) says which
 * slots to look at; the executor re-derives each one's phase from the nodes
 * and finishes it. */
#include "exec_cli.h"

static int run_resume(const struct cmd_args *args)
{
	return exec_cli_run_journal(args, "resume", executor_resume);
}

const struct cmd_entry cmd_resume = {
	.name = "resume",
	.synopsis = EXEC_CLI_JOURNAL_SYNOPSIS,
	.summary = "continue an interrupted apply",
	.options = exec_cli_journal_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_resume,
};
