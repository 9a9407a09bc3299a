/* oneshot.c: plan, show, confirm and apply in one command (see oneshot.h).
 * The plan is made by plan_make on the `plan` command's own options, so the
 * one-shot commands plan exactly as `slotctl plan` does; its summary is
 * printed once. The plan file is kept with --plan-out, else written (only
 * when it is applied) to a fresh temporary directory (under $TMPDIR, or
 * /tmp) that is removed once the apply completes; its journal sits next to
 * it for `resume` and `abort` until then. A dry run or a refusal writes no
 * temporary plan and names none. */
#include "oneshot.h"
#include "exec_cli.h"
#include "plan_make.h"
#include "plan_summary.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/file_text.h"
#include "slotctl/core/journal.h"
#include "slotctl/io/plan_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ONESHOT_MAX_ARGV 256

static const char *const always_forwarded[] = {
	"sample-keys", "bigkey-bytes", "max-slots-per-batch", "strict", "timeout", "user", "pass", NULL,
};

static const struct cmd_option *find_option(const struct cmd_entry *cmd, const char *name)
{
	for (const struct cmd_option *o = cmd->options; o && o->name; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	return NULL;
}

/* Appends "--name [value]" for every given occurrence of option name. */
static int forward_option(const struct cmd_args *args, const char *name, char **argv, int *argc,
	char (*bufs)[128])
{
	const struct cmd_option *o = find_option(args->cmd, name);
	const char *const *values;
	int n;

	if (!o)
		return 0;
	n = o->arg == OPT_FLAG ? (args_flag(args, name) ? 1 : 0) : o->arg == OPT_LIST ?
		args_list(args, name, &values) : (args_value(args, name) ? 1 : 0);
	for (int i = 0; i < n; i++) {
		if (*argc + 2 >= ONESHOT_MAX_ARGV)
			return -1;
		snprintf(bufs[*argc], sizeof(bufs[0]), "--%s", name);
		argv[*argc] = bufs[*argc];
		(*argc)++;
		if (o->arg == OPT_VALUE)
			argv[(*argc)++] = (char *)args_value(args, name);
		else if (o->arg == OPT_LIST)
			argv[(*argc)++] = (char *)values[i];
	}
	return 0;
}

/* Makes the plan of kind as plan_cmd would, from the options of args that
 * it takes (forward, and always_forwarded), into *out (caller releases).
 * Returns its exit code. */
static int make_plan(const struct cmd_args *args, const struct cmd_entry *plan_cmd, enum plan_kind kind,
	const char *const *forward, struct plan *out)
{
	static char bufs[ONESHOT_MAX_ARGV][128];
	char *argv[ONESHOT_MAX_ARGV];
	struct cmd_args pargs;
	int argc = 0, rc;

	argv[argc++] = (char *)plan_cmd->name;
	for (int i = 0; i < args->argc && i < 4; i++) /* the positional arguments: SEED [ID] */
		argv[argc++] = args->argv[i];
	for (int f = 0; forward[f]; f++)
		if (forward_option(args, forward[f], argv, &argc, bufs) != 0)
			goto too_many;
	for (int f = 0; always_forwarded[f]; f++)
		if (forward_option(args, always_forwarded[f], argv, &argc, bufs) != 0)
			goto too_many;
	argv[argc] = NULL;
	rc = cmd_args_parse(plan_cmd, argc, argv, &pargs);
	if (rc != 0) {
		free(pargs.argv);
		return SC_EXIT_USAGE;
	}
	rc = plan_make(&pargs, kind, out);
	free(pargs.argv);
	return rc;
too_many:
	cli_error("%s: too many options", args->cmd->name);
	return SC_EXIT_USAGE;
}

/* Writes the plan to path. Returns 0, or the exit code having reported why. */
static int save_plan(const char *path, const struct plan *p)
{
	struct sc_error err;

	if (plan_save(path, p, &err) == 0)
		return 0;
	cli_error("%s", err.msg);
	return sc_exit_code(&err);
}

static int confirm(const struct cmd_args *args, const struct plan *p)
{
	char prompt[512];
	bool closed = false;

	if (args_flag(args, "yes"))
		return 0;
	snprintf(prompt, sizeof(prompt), "move %zu slots on the cluster at '%s' as planned above?",
		plan_move_count(p), p->seed);
	if (cli_confirm(prompt, &closed))
		return 0;
	if (closed)
		cli_error("%s: refusing to move slots without confirmation: stdin is not a terminal; pass --yes "
			"(or --dry-run to only see the plan)", args->cmd->name);
	else
		cli_error("%s: nothing changed", args->cmd->name);
	return -1;
}

/* Removes a temporary plan, its journal if any, and its directory (dir ""
 * when the plan is the operator's own, from --plan-out: kept). */
static void forget_plan(const char *path, const char *dir)
{
	char journal[1200];

	if (!dir[0])
		return;
	journal_path_for_plan(path, journal, sizeof(journal));
	unlink(journal);
	unlink(path);
	rmdir(dir);
}

/* Where temporary plans go: $TMPDIR, or /tmp. */
static const char *temp_base(void)
{
	const char *base = getenv("TMPDIR");

	return base && base[0] ? base : "/tmp";
}

/* Makes a fresh private directory for a temporary plan under temp_base()
 * into dir. Returns 0 or -1 (errno says why). */
static int make_plan_dir(const char *cmd, char *dir, size_t size)
{
	if ((size_t)snprintf(dir, size, "%s/slotctl-%s-XXXXXX", temp_base(), cmd) >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkdtemp(dir) ? 0 : -1;
}

int oneshot_run(const struct cmd_args *args, const struct cmd_entry *plan_cmd, enum plan_kind kind,
	const char *const *forward)
{
	const char *keep = args_value(args, "plan-out");
	char dir[1024] = "", path[1100];
	struct exec_opts opts;
	struct exec_cli ui;
	struct exec_result res;
	struct sc_error err = { 0 };
	struct plan made, p;
	bool dry;
	int rc;

	if (exec_cli_opts(args, args->cmd->name, &opts, &ui) != 0)
		return SC_EXIT_USAGE;
	/* before the first connection, as `plan -o`: a plan that cannot be kept costs no sampling */
	if (keep && file_check_writable(keep, "plan", &err) < 0) {
		cli_error("%s: %s", args->cmd->name, err.msg);
		return sc_exit_code(&err);
	}
	rc = make_plan(args, plan_cmd, kind, forward, &made);
	if (rc != SC_EXIT_OK)
		return rc;
	/* the summary once: the result of a dry run (stdout), else the review
	 * before the question (stderr); a plan file is named only when kept */
	dry = args_flag(args, "dry-run") || plan_move_count(&made) == 0;
	plan_summary_print(&made, dry ? stdout : stderr);
	if (dry || confirm(args, &made) != 0) {
		rc = keep ? save_plan(keep, &made) : 0;
		if (rc == 0 && keep)
			plan_summary_written(keep, stderr);
		if (rc == 0 && dry)
			fprintf(stderr, "%s\n", plan_move_count(&made) == 0 ? "nothing to move" : "dry run: nothing changed");
		plan_release(&made);
		return rc ? rc : dry ? SC_EXIT_OK : SC_EXIT_REFUSED;
	}
	if (keep) {
		snprintf(path, sizeof(path), "%s", keep);
	} else {
		if (make_plan_dir(args->cmd->name, dir, sizeof(dir)) != 0) {
			cli_error("%s: cannot create a temporary directory for the plan under '%s': %s "
				"(set TMPDIR, or keep the plan with --plan-out FILE)",
				args->cmd->name, temp_base(), strerror(errno));
			plan_release(&made);
			return SC_EXIT_PROBLEMS;
		}
		snprintf(path, sizeof(path), "%s/plan.json", dir);
	}
	rc = save_plan(path, &made);
	plan_release(&made);
	if (rc == 0 && plan_load(path, &p, &err) != 0) {
		cli_error("%s", err.msg);
		rc = sc_exit_code(&err);
	}
	if (rc != 0) {
		forget_plan(path, dir);
		return rc;
	}
	fprintf(stderr, "plan %s '%s' (journal '%s.journal')%s\n", keep ? "written to" : "kept in", path, path,
		keep ? "" : " until the apply completes");
	opts.stop = exec_cli_signals();
	rc = executor_apply(&p, path, NULL, &opts, &res, &err);
	plan_release(&p);
	rc = exec_cli_finish(&ui, rc, &res, &err);
	if (rc == SC_EXIT_OK)
		forget_plan(path, dir); /* done and verified: nothing left to resume */
	return rc;
}
