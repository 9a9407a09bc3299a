/* cmd_abort.c: `slotctl abort PLAN|STATE`: rolls back an interrupted or
 * failed apply. Every slot left open goes back to its source with its keys;
 * a slot whose new owner the target already claims is finished instead. */
#include "exec_cli.h"
#include "slotctl/exitcode.h"

static int run_abort(const struct cmd_args *args)
{
	struct exec_opts opts;
	struct exec_cli ui;
	struct exec_result res;
	struct sc_error err = { 0 };
	char journal[1024];
	int rc;

	if (exec_cli_opts(args, "abort", &opts, &ui) != 0)
		return SC_EXIT_USAGE;
	executor_journal_path(args->argv[0], journal, sizeof(journal));
	opts.stop = exec_cli_signals();
	rc = executor_abort(journal, &opts, &res, &err);
	return exec_cli_finish(&ui, rc, &res, &err);
}

static const struct cmd_option cmd_abort_options[] = {
	EXEC_CLI_OPTIONS,
	CMD_CONN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_abort = {
	.name = "abort",
	.synopsis = "PLAN|STATE [--parallel N] [--json] [--metrics-file PATH] [--replace] "
		"[--max-keys-per-sec N] [--max-bytes-per-sec N] [--batch-keys N]",
	.summary = "put every open slot of an interrupted apply back",
	.options = cmd_abort_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_abort,
};
