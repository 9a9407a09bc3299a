/* cmd_fix.c: `slotctl fix HOST:PORT`: surveys the cluster (src/io/repair/repair_survey.c),
 * prints each broken slot's state and the steps that repair it, asks before
 * changing anything, runs the repairs, then runs the full check with a
 * bounded wait for the nodes to agree. Exit 0 only when the cluster is
 * healthy afterwards; 7 when states were left unrepaired; 3 when a master
 * could not be reached. */
#include "slotctl/core/addr.h"
#include "slotctl/core/check.h"
#include "slotctl/io/check_probe.h"
#include "slotctl/cli/cli.h"
#include "slotctl/io/clock.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/journal_file.h"
#include "slotctl/io/repair.h"
#include "slotctl/core/json_doc.h"
#include "fix_human.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPAIR_FORMAT_VERSION "1.0" /* fix --json, built by print_json */
#define FIX_DEFAULT_WAIT_S 30
#define FIX_POLL_MS 200

struct fix_run {
	const char *seed;
	char host[256];
	int port;
	struct repair_opts ro;
	struct repair_hint *hints;
	size_t hint_count;
	struct journal_lock *locks[CMD_MAX_VALUES]; /* of the --journal files, held to the end */
	int lock_count;
	long long wait_s;
	bool dry_run, json, executed;
	struct repair_survey sv;
	struct check_report report;  /* after repairing */
	bool checked, settled;
	int check_code;
};

static const char *status_name(enum repair_status s)
{
	static const char *const names[] = { "planned", "repaired", "unrepaired", "failed" };

	return names[s];
}

static const char *addr_or_null(const struct snapshot *s, int i)
{
	return i >= 0 ? s->nodes[i].addr : NULL;
}

/* ---- options ---------------------------------------------------------- */

static int load_journals(const struct cmd_args *args, struct fix_run *f)
{
	const char *const *paths;
	int n = args_list(args, "journal", &paths);

	for (int i = 0; i < n; i++) {
		struct journal_state st;
		struct sc_error err;
		int rc = journal_load(paths[i], &st, &err);

		if (rc == 1) {
			cli_error("--journal: '%s' does not exist", paths[i]);
			journal_state_release(&st);
			return -1;
		}
		struct transport_note now = conn_tls_note(&f->ro.conn.tls);
		char what[1100];

		snprintf(what, sizeof(what), "the journal '%s'", paths[i]);
		if (rc < 0 || transport_note_check(&st.transport, &now, what, &err) < 0 ||
		    repair_hints_from_journal(&st, &f->hints, &f->hint_count, &err) < 0) {
			cli_error("%s", err.msg);
			journal_state_release(&st);
			return -1;
		}
		journal_state_release(&st);
	}
	return 0;
}

/* Takes the lock of every --journal file, so that no apply, resume or abort
 * runs on it while fix follows it. Returns 0, or the exit code having
 * printed why (SC_EXIT_REFUSED: another process holds one). */
static int lock_journals(const struct cmd_args *args, struct fix_run *f)
{
	const char *const *paths;
	int n = args_list(args, "journal", &paths);

	for (int i = 0; i < n && i < CMD_MAX_VALUES; i++) {
		struct sc_error err = { 0 };
		bool again = false;

		for (int k = 0; k < i; k++)
			again = again || strcmp(paths[k], paths[i]) == 0;
		if (again || access(paths[i], F_OK) != 0)
			continue; /* a missing one is reported by load_journals */
		if (journal_lock_acquire(paths[i], "slotctl fix --journal", &f->locks[f->lock_count], &err) != 0) {
			cli_error("%s", err.msg);
			return sc_exit_code(&err);
		}
		f->lock_count++;
	}
	return 0;
}

static void fix_run_release(struct fix_run *f)
{
	for (int i = 0; i < f->lock_count; i++)
		journal_lock_release(f->locks[i]);
	free(f->hints);
}

static int parse_options(const struct cmd_args *args, struct fix_run *f)
{
	const char *prefer = args_value(args, "prefer");
	struct sc_error err;

	f->seed = args->argv[0];
	if (args_conn_opts(args, &f->ro.conn) < 0 ||
	    args_int(args, "wait", 0, 86400, FIX_DEFAULT_WAIT_S, &f->wait_s) < 0)
		return -1;
	if (addr_parse(f->seed, f->host, sizeof(f->host), &f->port, &err) < 0 ||
	    (prefer && repair_prefer_parse(prefer, &f->ro.prefer, &err) < 0)) {
		cli_error("%s", err.msg);
		return -1;
	}
	if (load_journals(args, f) < 0)
		return -1;
	f->ro.allow_unreachable = args_flag(args, "allow-unreachable");
	f->ro.accept_data_loss = args_flag(args, "accept-data-loss");
	f->ro.hints = f->hints;
	f->ro.hint_count = f->hint_count;
	f->dry_run = args_flag(args, "dry-run");
	f->json = args_flag(args, "json");
	return 0;
}

/* ---- human output (the plan and outcomes: fix_human.c) ----------------- */

static void print_check(const struct fix_run *f)
{
	if (f->check_code == SC_EXIT_OK) {
		printf("check: healthy\n");
		return;
	}
	for (size_t i = 0; i < f->report.count; i++) {
		const struct check_finding *fd = &f->report.findings[i];

		if (fd->severity == CHECK_ERR)
			printf("check: [ERR] %s: %s\n", fd->code, fd->message);
	}
	printf("check: not healthy (exit %d)%s\n", f->check_code,
		f->check_code == SC_EXIT_UNREACHABLE ? "; a node cannot be reached, so views cannot converge: not waited for" :
		f->settled ? "" : "; views had not converged when --wait ran out");
}

/* ---- JSON output ------------------------------------------------------ */

static cJSON *item_json(const struct fix_run *f, size_t i)
{
	const struct snapshot *s = &f->sv.snap;
	const struct repair_item *it = &f->sv.plan.items[i];
	const struct repair_outcome *o = &f->sv.outcomes[i];
	const struct repair_state_info *info = repair_state_info(it->state);
	cJSON *j = cJSON_CreateObject(), *steps;

	json_add_number(j, "slot", it->slot);
	cJSON_AddStringToObject(j, "state", info->name);
	cJSON_AddStringToObject(j, "meaning", info->meaning);
	if (addr_or_null(s, it->owner))
		cJSON_AddStringToObject(j, "owner_before", addr_or_null(s, it->owner));
	else
		cJSON_AddNullToObject(j, "owner_before");
	if (!it->blocked && addr_or_null(s, it->target))
		cJSON_AddStringToObject(j, "owner_after", addr_or_null(s, it->target));
	else
		cJSON_AddNullToObject(j, "owner_after");
	cJSON_AddBoolToObject(j, "by_journal", it->by_journal);
	cJSON_AddStringToObject(j, "status", status_name(o->status));
	if (it->blocked)
		cJSON_AddStringToObject(j, "reason", it->reason);
	if (o->status == REPAIR_FAILED)
		cJSON_AddStringToObject(j, "error", o->error.msg);
	cJSON_AddBoolToObject(j, "needs_unreachable", it->needs_reach);
	json_add_number(j, "keys_moved", (double)o->keys_moved);
	json_add_number(j, "copies_dropped", (double)o->keys_dropped);
	steps = cJSON_AddArrayToObject(j, "steps");
	for (size_t k = 0; k < it->step_count; k++) {
		char step[512];
		cJSON *st = cJSON_CreateObject();

		repair_step_describe(s, it->slot, &it->steps[k], step, sizeof(step));
		cJSON_AddStringToObject(st, "op", repair_op_name(it->steps[k].op));
		cJSON_AddStringToObject(st, "node", s->nodes[it->steps[k].node].addr);
		if (it->steps[k].peer >= 0)
			cJSON_AddStringToObject(st, "peer", s->nodes[it->steps[k].peer].addr);
		cJSON_AddStringToObject(st, "text", step);
		cJSON_AddItemToArray(steps, st);
	}
	return j;
}

static void print_json(const struct fix_run *f, int code)
{
	cJSON *root = json_doc_new(REPAIR_FORMAT_VERSION), *items;
	struct slotset lost;
	char slots[SC_SLOTS * 6];

	cJSON_AddStringToObject(root, "seed", f->seed);
	cJSON_AddBoolToObject(root, "dry_run", f->dry_run);
	json_add_number(root, "unreachable_masters", f->sv.plan.unreachable_masters);
	cJSON_AddBoolToObject(root, "refused", f->sv.plan.refused);
	json_add_number(root, "lost_shards", f->sv.plan.lost_masters);
	if (repair_lost_slots(&f->sv.plan, &lost) > 0) {
		slotset_format(&lost, slots, sizeof(slots));
		cJSON_AddStringToObject(root, "keys_lost_slots", slots);
	} else {
		cJSON_AddNullToObject(root, "keys_lost_slots");
	}
	json_add_number(root, "broken", (double)f->sv.plan.count);
	items = cJSON_AddArrayToObject(root, "repairs");
	for (size_t i = 0; i < f->sv.plan.count; i++)
		cJSON_AddItemToArray(items, item_json(f, i));
	if (f->checked) {
		cJSON_AddBoolToObject(root, "healthy", f->check_code == SC_EXIT_OK);
		json_add_number(root, "check_exit_code", f->check_code);
	}
	json_add_number(root, "exit_code", code);
	cli_print_json(root);
}

/* ---- the run ----------------------------------------------------------- */

/* The full check after repairing (check_gather), re-run until nothing
 * transient is left (views agree, nothing open) or --wait runs out; not
 * again once a node cannot be reached, since views cannot converge then. */
static void verify(struct fix_run *f)
{
	long long deadline = sc_clock_ms() + (f->executed ? f->wait_s * 1000 : 0);

	for (;;) {
		struct sc_error err;
		int rc = check_gather(f->host, f->port, &f->ro.conn, CHECK_KEYS_STRAY, &f->report, &err);

		f->settled = rc == 0 && check_report_settled(&f->report);
		f->check_code = rc == 0 ? check_exit_code(&f->report, false) :
			sc_exit_code(&err);
		if (f->settled || f->check_code == SC_EXIT_UNREACHABLE || sc_clock_ms() + FIX_POLL_MS > deadline) {
			if (rc < 0)
				cli_error("check after fix: %s", err.msg);
			break;
		}
		if (rc == 0)
			check_report_release(&f->report);
		sc_sleep_ms(FIX_POLL_MS);
	}
	f->checked = true;
}

/* Exit code: unreachable masters first, then unrepaired states, then check. */
static int exit_code(const struct fix_run *f)
{
	const struct repair_plan *p = &f->sv.plan;
	bool left = false;

	if (p->refused || repair_plan_needs_reach(p) > 0)
		return SC_EXIT_UNREACHABLE;
	for (size_t i = 0; i < p->count; i++) {
		const struct repair_outcome *o = &f->sv.outcomes[i];

		if (o->status == REPAIR_FAILED && o->error.code == SC_EXIT_UNREACHABLE)
			return SC_EXIT_UNREACHABLE;
		left |= p->items[i].blocked || (f->executed && o->status != REPAIR_DONE);
	}
	if (left)
		return SC_EXIT_UNREPAIRED;
	if (f->checked)
		return f->check_code;
	return p->unreachable_masters > 0 ? SC_EXIT_UNREACHABLE : SC_EXIT_OK;
}

static void report_left(const struct fix_run *f)
{
	const struct repair_plan *p = &f->sv.plan;
	size_t reach = repair_plan_needs_reach(p), involving = 0;
	char names[512];

	if (!p->refused && reach == 0)
		return;
	if (p->lost_masters > 0 && !f->ro.accept_data_loss) {
		repair_lost_names(&f->sv.snap, names, sizeof(names));
		cli_error("lost shard%s: %s: the master and every replica of it are down and flagged fail, so "
			"every key of those slots is gone; nothing was changed: bring a node of it back, or rerun "
			"with --accept-data-loss to give its slots, empty, to the live masters (review with "
			"--dry-run --accept-data-loss)", p->lost_masters == 1 ? "" : "s", names);
		return;
	}
	repair_unreachable_names(&f->sv.snap, names, sizeof(names));
	for (size_t i = 0; i < p->count; i++)
		involving += p->items[i].involves_unreachable;
	if (p->refused && p->count > involving)
		cli_error("cannot reach %s: refusing to repair while a master is unreachable (it may be a "
			"partition); nothing was changed: bring it back, or rerun with --allow-unreachable to "
			"repair the %zu broken slot%s not involving it", names, p->count - involving,
			p->count - involving == 1 ? "" : "s");
	else if (p->refused)
		cli_error("cannot reach %s: refusing to repair while a master is unreachable (it may be a "
			"partition); nothing was changed: bring it back, then run fix again", names);
	else
		cli_error("cannot reach %s: %zu slot%s involving it left unrepaired (listed above); nothing "
			"was changed there: run fix again once it is back", names, reach, reach == 1 ? "" : "s");
}

/* Asks before changing the cluster unless --yes. Returns 0 to go on, or the
 * exit code to stop with (nothing changed). */
static int confirm(const struct cmd_args *args, const struct fix_run *f)
{
	size_t runnable = f->sv.plan.count - repair_plan_blocked(&f->sv.plan);
	char prompt[128];
	bool closed = false;

	if (args_flag(args, "yes"))
		return 0;
	snprintf(prompt, sizeof(prompt), "repair %zu slot%s of '%s'?", runnable,
		runnable == 1 ? "" : "s", f->seed);
	if (cli_confirm(prompt, &closed))
		return 0;
	if (closed)
		cli_error("refusing to repair without --yes: standard input is not a terminal; "
			"nothing was changed (review with --dry-run, then rerun with --yes)");
	else
		cli_error("not confirmed; nothing was changed");
	return SC_EXIT_REFUSED;
}

/* --cancel-atomic: every running atomic slot migration cancelled and ended
 * before the survey. 0, or the exit code (the error printed). */
static int cancel_atomic(struct fix_run *f)
{
	struct sc_error err = { 0 };
	int n = 0;

	if (repair_cancel_atomic(f->host, f->port, &f->ro.conn, &n, &err) != 0) {
		cli_error("--cancel-atomic: %s", err.msg);
		return sc_exit_code(&err);
	}
	if (n > 0 && !f->json)
		cli_warn("cancelled %d atomic slot migration job%s (ownership did not move)", n, n == 1 ? "" : "s");
	return 0;
}

static int run_fix(const struct cmd_args *args)
{
	struct fix_run f = { 0 };
	struct sc_error err = { 0 };
	int code;

	/* locked before they are read: a run that ends meanwhile leaves its last word */
	if ((code = lock_journals(args, &f)) != 0) {
		fix_run_release(&f);
		return code;
	}
	if (parse_options(args, &f) < 0) {
		fix_run_release(&f);
		return SC_EXIT_USAGE;
	}
	if (args_flag(args, "cancel-atomic") && !f.dry_run && (code = cancel_atomic(&f)) != 0) {
		fix_run_release(&f);
		return code;
	}
	if (repair_survey(f.host, f.port, &f.ro, &f.sv, &err) < 0) {
		cli_error("%s", err.msg);
		fix_run_release(&f);
		return sc_exit_code(&err);
	}
	if (!f.json)
		fix_print_plan(&f.sv);
	code = 0;
	if (!f.dry_run && f.sv.plan.count > repair_plan_blocked(&f.sv.plan))
		code = confirm(args, &f);
	if (code == 0 && !f.dry_run && !f.sv.plan.refused) {
		if (f.sv.plan.count > repair_plan_blocked(&f.sv.plan)) {
			repair_execute(&f.sv, &f.ro);
			f.executed = true;
			if (!f.json)
				fix_print_outcomes(&f.sv);
		}
		verify(&f);
		if (!f.json)
			print_check(&f);
	}
	if (code == 0) {
		code = exit_code(&f);
		report_left(&f);
	}
	if (f.json)
		print_json(&f, code);
	if (f.checked)
		check_report_release(&f.report);
	repair_survey_release(&f.sv);
	fix_run_release(&f);
	return code;
}

static const struct cmd_option cmd_fix_options[] = {
	{ "dry-run", 0, OPT_FLAG, NULL, "print the repairs it would make; change nothing" },
	{ "yes", 'y', OPT_FLAG, NULL, "repair without asking (required when stdin is not a terminal)" },
	{ "json", 0, OPT_FLAG, NULL, "print a versioned JSON document instead of text" },
	{ "prefer", 0, OPT_VALUE, "owner|source|target", "which copy to keep when a key differs on two nodes" },
	{ "allow-unreachable", 0, OPT_FLAG, NULL, "repair the slots not involving masters that cannot be reached" },
	{ "accept-data-loss", 0, OPT_FLAG, NULL, "give a lost shard's slots, empty, to the live masters (its keys are gone)" },
	{ "cancel-atomic", 0, OPT_FLAG, NULL, "first cancel every running atomic slot migration (Valkey 9); without it fix leaves their slots alone" },
	{ "journal", 'j', OPT_LIST, "FILE", "follow this slotctl journal's direction for its unfinished slots" },
	{ "wait", 'w', OPT_VALUE, "SECONDS", "after repairing, wait up to SECONDS for check to pass (default 30)" },
	CMD_CONN_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_fix = {
	.name = "fix",
	.synopsis = "HOST:PORT [--dry-run] [--yes] [--json] [--prefer owner|source|target] "
		"[--allow-unreachable] [--accept-data-loss] [--cancel-atomic] [--journal FILE] [--wait SECONDS]",
	.summary = "repair open, uncovered and doubly-owned slots without losing a key",
	.options = cmd_fix_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_fix,
};
