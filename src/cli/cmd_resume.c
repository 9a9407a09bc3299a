/* cmd_resume.c: the `slotctl resume` command (not implemented yet). */
#include "slotctl/cli.h"
#include "slotctl/exitcode.h"

static int run_resume(const struct cmd_args *args)
{
	(void)args;
	cli_error("resume: not implemented yet");
	return SC_EXIT_PROBLEMS;
}

static const struct cmd_option cmd_resume_options[] = {
	CMD_CONN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_resume = {
	.name = "resume",
	.synopsis = "PLAN|STATE",
	.summary = "continue an interrupted apply",
	.options = cmd_resume_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_resume,
};
