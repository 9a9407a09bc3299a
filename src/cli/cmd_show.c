/* cmd_show.c: `slotctl show PLAN [--json]`: what a reviewer reads before a
 * plan is applied: per-master before -> after, imbalance, moves per source
 * -> target pair, hot and big slots, the data to move (plan_summary.c, the
 * same text `plan` prints). Reads the file only; no cluster is contacted. */
#include "slotctl/cli/cli.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/plan_file.h"
#include "plan_summary.h"

static int run_show(const struct cmd_args *args)
{
	struct plan p;
	struct sc_error err;
	int rc;

	if (plan_load(args->argv[0], &p, &err) < 0) {
		cli_error("%s", err.msg);
		return sc_exit_code(&err);
	}
	if (args_flag(args, "json")) {
		rc = cli_print_json(plan_summary_json(&p));
	} else {
		plan_summary_print(&p, stdout);
		rc = SC_EXIT_OK;
	}
	plan_release(&p);
	return rc;
}

static const struct cmd_option cmd_show_options[] = {
	{ "json", 0, OPT_FLAG, NULL, "print the summary as JSON (with format_version)" },
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
