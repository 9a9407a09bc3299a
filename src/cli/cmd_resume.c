/* cmd_resume.c: `slotctl resume PLAN|STATE`: continues an interrupted or
 * failed apply. The journal (the plan's, or the state file given) says which
 * slots to look at; the executor re-derives each one's phase from the nodes
 * and finishes it. */
#include "exec_cli.h"
#include "slotctl/exitcode.h"

static int run_resume(const struct cmd_args *args)
{
	struct exec_opts opts;
	struct exec_cli ui;
	struct exec_result res;
	struct sc_error err = { 0 };
	char journal[1024];
	int rc;

	if (exec_cli_opts(args, "resume", &opts, &ui) != 0)
		return SC_EXIT_USAGE;
	executor_journal_path(args->argv[0], journal, sizeof(journal));
	opts.stop = exec_cli_signals();
	rc = executor_resume(journal, &opts, &res, &err);
	return exec_cli_finish(&ui, rc, &res, &err);
}

static const struct cmd_option cmd_resume_options[] = {
	EXEC_CLI_OPTIONS,
	CMD_CONN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_resume = {
	.name = "resume",
	.synopsis = "PLAN|STATE [--parallel N] [--json] [--metrics-file PATH] [--replace] "
		"[--max-keys-per-sec N] [--max-bytes-per-sec N] [--batch-keys N]",
	.summary = "continue an interrupted apply",
	.options = cmd_resume_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_resume,
};
