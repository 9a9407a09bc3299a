/* oneshot.c: plan, show, confirm and apply in one command (see oneshot.h).
 * The plan is made by the planning service from the same request `slotctl
 * plan` fills, so the one-shot commands plan exactly as it does; its summary
 * is printed once. The plan file is kept with --plan-out, else written (only
 * when it is applied) to a fresh temporary directory (under $TMPDIR, or
 * /tmp) that is removed once the apply completes; its journal sits next to
 * it for `resume` and `abort` until then. The executor runs on the plan in
 * memory, the one just written. A dry run or a refusal writes no temporary
 * plan and names none. */
#include "oneshot.h"
#include "exec_cli.h"
#include "plan_summary.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/file_text.h"
#include "slotctl/io/journal_file.h"
#include "slotctl/io/plan_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Applies the reviewed plan p: written once (to --plan-out, else to a
 * temporary directory) for the journal, resume and abort, then run by the
 * executor from memory. Returns the exit code. */
static int apply_plan(const struct cmd_args *args, const struct plan *p, struct exec_opts *opts,
	struct exec_cli *ui)
{
	const char *keep = args_value(args, "plan-out");
	char dir[1024] = "", path[1100];
	struct exec_result res;
	struct sc_error err = { 0 };
	int rc;

	if (keep) {
		snprintf(path, sizeof(path), "%s", keep);
	} else {
		if (make_plan_dir(args->cmd->name, dir, sizeof(dir)) != 0) {
			cli_error("%s: cannot create a temporary directory for the plan under '%s': %s "
				"(set TMPDIR, or keep the plan with --plan-out FILE)",
				args->cmd->name, temp_base(), strerror(errno));
			return SC_EXIT_PROBLEMS;
		}
		snprintf(path, sizeof(path), "%s/plan.json", dir);
	}
	rc = save_plan(path, p);
	if (rc != 0) {
		forget_plan(path, dir);
		return rc;
	}
	fprintf(stderr, "plan %s '%s' (journal '%s.journal')%s\n", keep ? "written to" : "kept in", path, path,
		keep ? "" : " until the apply completes");
	opts->stop = exec_cli_signals();
	rc = executor_apply(p, path, NULL, opts, &res, &err);
	rc = exec_cli_finish(ui, rc, &res, &err);
	if (rc == SC_EXIT_OK)
		forget_plan(path, dir); /* done and verified: nothing left to resume */
	return rc;
}

/* Whether the plan goes straight to a backend that moves whole slots in
 * the servers where it can (auto, atomic): the planning service then
 * samples key counts only where every master has atomic migration. */
static bool applies_atomically(const struct exec_opts *o)
{
	const char *b = o->backend ? o->backend : EXEC_DEFAULT_BACKEND;

	return strcmp(b, "auto") == 0 || strcmp(b, "atomic") == 0;
}

/* The whole one-shot run: the request is req, or (req NULL) read from
 * args' planning options of kind once the early checks passed. inner: run
 * inside another command (oneshot_run_request), events its --json array. */
static int run(const struct cmd_args *args, enum plan_kind kind, const struct planning_request *req,
	bool inner, struct cJSON *events)
{
	const char *keep = args_value(args, "plan-out");
	struct planning_request read;
	struct exec_opts opts;
	struct exec_cli ui;
	struct sc_error err = { 0 };
	struct plan made;
	bool dry;
	int rc;

	if (exec_cli_opts(args, args->cmd->name, &opts, &ui) != 0)
		return SC_EXIT_USAGE;
	ui.events = events;
	/* before the first connection, as `plan -o`: a plan that cannot be kept costs no sampling */
	if (keep && file_check_writable(keep, "plan", &err) < 0) {
		cli_error("%s: %s", args->cmd->name, err.msg);
		return sc_exit_code(&err);
	}
	if (!req) {
		if ((rc = plan_options_read(args, kind, &read)) != SC_EXIT_OK)
			return rc;
		req = &read;
	}
	/* one way to connect for the whole run: the request's (a node
	 * command's own options, whatever args' table holds) */
	opts.conn = req->conn;
	read = *req;
	read.atomic_apply = applies_atomically(&opts);
	if ((rc = plan_options_make(&read, &made)) != SC_EXIT_OK)
		return rc;
	/* the summary once: the result of a dry run (stdout), else the review
	 * before the question (stderr); a plan file is named only when kept */
	dry = args_flag(args, "dry-run") || plan_move_count(&made) == 0;
	plan_summary_print(&made, dry && !events ? stdout : stderr);
	if (dry || confirm(args, &made) != 0) {
		rc = keep ? save_plan(keep, &made) : 0;
		if (rc == 0 && keep)
			plan_summary_written(keep, stderr);
		if (rc == 0 && dry && !(inner && plan_move_count(&made) > 0)) /* else the caller says it */
			fprintf(stderr, "%s\n", plan_move_count(&made) == 0 ? "nothing to move" : "dry run: nothing changed");
		plan_release(&made);
		return rc ? rc : dry ? SC_EXIT_OK : SC_EXIT_REFUSED;
	}
	rc = apply_plan(args, &made, &opts, &ui);
	plan_release(&made);
	return rc;
}

int oneshot_run(const struct cmd_args *args, enum plan_kind kind)
{
	return run(args, kind, NULL, false, NULL);
}

int oneshot_run_request(const struct cmd_args *args, const struct planning_request *req, struct cJSON *events)
{
	struct planning_request named = *req;

	named.name = args->cmd->name;
	return run(args, req->kind, &named, true, events);
}
