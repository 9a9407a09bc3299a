/* test_ux.c: what an operator or a CI pipeline relies on: exit codes that
 * never lie (a failed write to stdout is an error naming stdout; a metrics
 * path that cannot be written is refused before anything moves; re-applying
 * a finished plan says so and exits 0; check --json prints its document even
 * when the seed cannot be reached), and progress that a person can follow
 * on a terminal and in a log. */
#include "exec_support.h"
#include "check_run.h"
#include "slotctl/core/check.h"
#include "slotctl/core/exitcode.h"

#include <cjson/cJSON.h>
#include <sys/wait.h>

#define NKEYS 1000

/* Runs `$SLOTCTL_BIN args > /dev/full` through sh; its stderr into err
 * (size bytes). Returns the exit status. */
static int run_to_full(char *err, size_t size, const char *args)
{
	char dir[64], path[128], cmd[2048];
	FILE *f;
	size_t n;
	int st;

	tc_temp_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/stderr", dir);
	snprintf(cmd, sizeof(cmd), "timeout 60 \"$SLOTCTL_BIN\" %s > /dev/full 2> %s", args, path);
	st = system(cmd);
	ck_assert_msg(st != -1 && WIFEXITED(st), "cannot run '%s'", cmd);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(err, 1, size - 1, f);
	err[n] = '\0';
	fclose(f);
	return WEXITSTATUS(st);
}

START_TEST(a_failed_write_to_stdout_is_an_error)
{
	struct test_cluster *tc = tc_start(3, 0);
	char err[4096], args[1024];

	ck_assert_int_eq(run_to_full(err, sizeof(err), "version"), SC_EXIT_PROBLEMS);
	ck_assert_contains(err, "cannot write to stdout: No space left on device");

	snprintf(args, sizeof(args), "check %s --json", tc_seed(tc));
	ck_assert_int_eq(run_to_full(err, sizeof(err), args), SC_EXIT_PROBLEMS);
	ck_assert_contains(err, "cannot write to stdout");

	snprintf(args, sizeof(args), "plan reshard %s --from all --to %s --slots 10 -o -", tc_seed(tc), tc_id(tc, 2));
	ck_assert_int_eq(run_to_full(err, sizeof(err), args), SC_EXIT_PROBLEMS);
	ck_assert_contains(err, "cannot write to stdout");
	tc_stop(tc);
}
END_TEST

/* The owners (by node index, in node 0's view) of every slot. */
static void owners(const struct test_cluster *tc, int *out)
{
	for (int s = 0; s < SC_SLOTS; s++)
		out[s] = tc_owner_of(tc, 0, s);
}

START_TEST(unwritable_metrics_file_is_refused_before_anything_moves)
{
	struct test_cluster *tc = tc_start(3, 0);
	struct exec_transfer t[] = { { 0, 2, 20 } };
	char dir[64], plan[128], metrics[160];
	static int before[SC_SLOTS], after[SC_SLOTS];
	struct run_result r;

	tc_load_keys(tc, "k", NKEYS);
	exec_temp_path(dir, sizeof(dir), plan, sizeof(plan), "plan.json");
	exec_write_plan(tc, t, 1, "k", NKEYS, plan);
	snprintf(metrics, sizeof(metrics), "%s/missing/dir/m.prom", dir);
	owners(tc, before);
	EXEC_RUN(&r, SC_EXIT_USAGE, 60, "apply", plan, "--yes", "--metrics-file", metrics);
	ck_assert_contains(r.err, "--metrics-file");
	ck_assert_contains(r.err, "No such file or directory");
	run_result_free(&r);
	owners(tc, after);
	ck_assert_mem_eq(before, after, sizeof(before));
	ck_assert_int_ne(access(metrics, F_OK), 0);
	tc_verify_keys(tc, "k", NKEYS);
	tc_stop(tc);
}
END_TEST

START_TEST(reapplying_a_finished_plan_says_so_and_exits_0)
{
	struct test_cluster *tc = tc_start(3, 0);
	struct exec_transfer t[] = { { 0, 2, 20 }, { 1, 2, 10 } };
	char dir[64], plan[128];
	struct run_result r;

	tc_load_keys(tc, "k", NKEYS);
	exec_temp_path(dir, sizeof(dir), plan, sizeof(plan), "plan.json");
	exec_write_plan(tc, t, 2, "k", NKEYS, plan);
	EXEC_RUN(&r, SC_EXIT_OK, 300, "apply", plan, "--yes");
	run_result_free(&r);
	tc_verify_keys(tc, "k", NKEYS);

	EXEC_RUN(&r, SC_EXIT_OK, 60, "apply", plan, "--yes");
	ck_assert_contains(r.out, "already applied");
	ck_assert_contains(r.out, "30 slots are done");
	run_result_free(&r);
	EXEC_RUN(&r, SC_EXIT_OK, 60, "apply", plan, "--yes", "--json");
	ck_assert_contains(r.out, "\"status\":\"already-applied\"");
	run_result_free(&r);
	tc_verify_keys(tc, "k", NKEYS);

	/* a plan already applied, then undone by hand, is stale again */
	{
		struct exec_transfer back[] = { { 2, 0, 1 } };
		char plan2[160];

		snprintf(plan2, sizeof(plan2), "%s/back.json", dir);
		exec_write_plan(tc, back, 1, "k", NKEYS, plan2);
		EXEC_RUN(&r, SC_EXIT_OK, 120, "apply", plan2, "--yes");
		run_result_free(&r);
	}
	run_slotctl(&r, 60, "apply", plan, "--yes", NULL);
	ck_assert_msg(r.status != SC_EXIT_OK && strstr(r.out, "already applied") == NULL,
		"a plan whose result was undone passed as applied:\n%s%s", r.out, r.err);
	run_result_free(&r);
	tc_verify_keys(tc, "k", NKEYS);
	tc_stop(tc);
}
END_TEST

START_TEST(check_json_prints_a_document_when_the_seed_is_unreachable)
{
	char seed[64];
	struct run_result r;
	cJSON *doc, *f;

	snprintf(seed, sizeof(seed), "127.0.0.1:%d", tc_free_port());
	EXEC_RUN(&r, SC_EXIT_UNREACHABLE, 60, "check", seed, "--json", "--timeout", "500");
	doc = cJSON_Parse(r.out);
	ck_assert_msg(doc != NULL, "no JSON document on stdout:\n%s", r.out);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "format_version")), CHECK_FORMAT_VERSION);
	ck_assert_int_eq((int)cJSON_GetNumberValue(cJSON_GetObjectItem(doc, "exit_code")), SC_EXIT_UNREACHABLE);
	f = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "findings"), 0);
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(f, "code")), "node-unreachable");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(f, "severity")), "err");
	ck_assert_contains(cJSON_GetStringValue(cJSON_GetObjectItem(f, "message")), seed);
	cJSON_Delete(doc);
	run_result_free(&r);
}
END_TEST

/* Lines of text (split at '\n' and '\r') that hold needle. */
static int count_lines_with(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

START_TEST(off_a_terminal_a_status_line_every_interval_nothing_with_quiet)
{
	struct test_cluster *tc = tc_start(3, 0);
	struct exec_transfer t[] = { { 0, 2, 100 } }, t2[] = { { 1, 2, 10 } };
	char dir[64], plan[128], plan2[160];
	struct run_result r;

	tc_load_keys(tc, "k", 3 * NKEYS);
	exec_temp_path(dir, sizeof(dir), plan, sizeof(plan), "plan.json");
	exec_write_plan(tc, t, 1, "k", 3 * NKEYS, plan);
	/* ~110 keys at 40 keys/s: about 3 s, a status line every second */
	EXEC_RUN(&r, SC_EXIT_OK, 300, "apply", plan, "--yes", "--max-keys-per-sec", "40",
		"--progress-interval", "1", "-v");
	ck_assert_msg(count_lines_with(r.err, "apply: ") - count_lines_with(r.err, "apply: slot ") >= 2,
		"expected status lines on stderr, one a second:\n%s", r.err);
	ck_assert_contains(r.err, "/100 slots");
	ck_assert_contains(r.err, " keys/s  ETA ");
	ck_assert_msg(count_lines_with(r.err, "apply: slot ") >= 1, "-v printed no batch line:\n%s", r.err);
	ck_assert_msg(strchr(r.err, '\r') == NULL && strstr(r.err, "\033[") == NULL,
		"terminal control off a terminal:\n%s", r.err);
	run_result_free(&r);

	snprintf(plan2, sizeof(plan2), "%s/plan2.json", dir);
	exec_write_plan(tc, t2, 1, "k", 3 * NKEYS, plan2);
	EXEC_RUN(&r, SC_EXIT_OK, 300, "apply", plan2, "--yes", "--max-keys-per-sec", "40",
		"--progress-interval", "1", "--quiet");
	ck_assert_msg(r.err[0] == '\0', "--quiet printed on stderr:\n%s", r.err);
	run_result_free(&r);
	tc_verify_keys(tc, "k", 3 * NKEYS);
	tc_stop(tc);
}
END_TEST

/* A resume that inherits the journal's pace (apply ran with --batch-keys
 * 50) says so on stderr in a START line; under --quiet it says nothing there
 * (before: the START line still printed): the result on stdout, errors only
 * on stderr. */
START_TEST(quiet_resume_prints_no_start_line)
{
	struct exec_hot f;
	struct run_result r;

	exec_hot_start(&f);
	exec_hot_apply_and_crash(&f, "keys:3");
	EXEC_RUN(&r, SC_EXIT_OK, 120, "resume", f.plan, "--quiet");
	ck_assert_contains(r.out, "resume: done");
	ck_assert_msg(r.err[0] == '\0', "--quiet printed on stderr:\n%s", r.err);
	run_result_free(&r);
	exec_hot_verify(&f);
	tc_stop(f.tc);
}
END_TEST

/* Under a pseudo-terminal 80 columns wide (script(1)), the bar is one line
 * redrawn in place that never reaches the last column. */
START_TEST(the_progress_bar_fits_the_terminal)
{
	struct test_cluster *tc = tc_start(3, 0);
	struct exec_transfer t[] = { { 0, 2, 100 } };
	char dir[64], plan[128], out[160], cmd[2048];
	static char text[1 << 20];
	int st, drawn = 0, bars = 0, lines = 0;
	size_t len;
	FILE *f;

	tc_load_keys(tc, "k", 3 * NKEYS);
	exec_temp_path(dir, sizeof(dir), plan, sizeof(plan), "plan.json");
	exec_write_plan(tc, t, 1, "k", 3 * NKEYS, plan);
	snprintf(out, sizeof(out), "%s/tty.out", dir);
	snprintf(cmd, sizeof(cmd), "timeout 120 script -q -e -c 'stty cols 80 rows 24; \"$SLOTCTL_BIN\" apply %s --yes "
		"--max-keys-per-sec 40' %s > /dev/null < /dev/null", plan, out);
	st = system(cmd);
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "'%s' failed (%d)", cmd, st);
	f = fopen(out, "r");
	ck_assert_ptr_nonnull(f);
	len = fread(text, 1, sizeof(text) - 1, f);
	text[len] = '\0';
	fclose(f);
	/* redrawn in place: at most the final state stays on a line of its own */
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lines += strstr(line, "/100 slots") != NULL;
		for (char *seg = line, *end; seg; seg = end) {
			char *esc;

			if ((end = strchr(seg, '\r')) != NULL)
				*end++ = '\0';
			while ((esc = strstr(seg, "\033[K")) != NULL)
				memmove(esc, esc + 3, strlen(esc + 3) + 1);
			if (!strstr(seg, "/100 slots"))
				continue; /* the script(1) header, the summary */
			drawn++;
			ck_assert_msg(strlen(seg) < 80, "a bar of %zu columns on a 80-column terminal: '%s'",
				strlen(seg), seg);
			bars += seg[0] == '[';
		}
	}
	ck_assert_msg(drawn >= 2 && bars >= 1, "the progress was drawn %d times, %d with a bar", drawn, bars);
	ck_assert_msg(lines <= 2, "%d lines on screen hold the bar", lines);
	tc_verify_keys(tc, "k", 3 * NKEYS);
	tc_stop(tc);
}
END_TEST

START_TEST(one_shot_commands_print_the_summary_once_and_name_only_kept_plans)
{
	struct test_cluster *tc = tc_start(3, 0);
	char dir[64], kept[128];
	static int before[SC_SLOTS], after[SC_SLOTS];
	struct run_result r;

	tc_load_keys(tc, "k", NKEYS);
	owners(tc, before);
	/* a dry run: the summary once, on stdout; no plan named */
	EXEC_RUN(&r, SC_EXIT_OK, 120, "reshard", tc_seed(tc), "--from", "all", "--to", tc_id(tc, 2), "--slots", "10",
		"--dry-run");
	ck_assert_int_eq(count_lines_with(r.out, "to move: 10 slots"), 1);
	ck_assert_int_eq(count_lines_with(r.err, "to move: "), 0);
	ck_assert_msg(strstr(r.err, "plan written") == NULL && strstr(r.err, "plan.json") == NULL,
		"a dry run named a plan file that is gone:\n%s", r.err);
	ck_assert_contains(r.err, "dry run: nothing changed");
	run_result_free(&r);

	/* refused on a closed stdin: the summary once (the review, on stderr), no plan named */
	EXEC_RUN(&r, SC_EXIT_REFUSED, 120, "reshard", tc_seed(tc), "--from", "all", "--to", tc_id(tc, 2), "--slots", "10");
	ck_assert_int_eq(count_lines_with(r.out, "to move: ") + count_lines_with(r.err, "to move: 10 slots"), 1);
	ck_assert_msg(strstr(r.err, "plan written") == NULL && strstr(r.err, "plan.json") == NULL,
		"a refusal named a plan file that is gone:\n%s", r.err);
	run_result_free(&r);

	/* with --plan-out the plan stays there and is named */
	exec_temp_path(dir, sizeof(dir), kept, sizeof(kept), "kept.json");
	EXEC_RUN(&r, SC_EXIT_OK, 120, "reshard", tc_seed(tc), "--from", "all", "--to", tc_id(tc, 2), "--slots", "10",
		"--dry-run", "--plan-out", kept);
	ck_assert_contains(r.err, "plan written to '");
	ck_assert_contains(r.err, kept);
	ck_assert_int_eq(access(kept, R_OK), 0);
	ck_assert_int_eq(count_lines_with(r.out, "to move: ") + count_lines_with(r.err, "to move: "), 1);
	run_result_free(&r);
	EXEC_RUN(&r, SC_EXIT_OK, 60, "show", kept);
	run_result_free(&r);

	owners(tc, after);
	ck_assert_mem_eq(before, after, sizeof(before));
	tc_verify_keys(tc, "k", NKEYS);
	tc_stop(tc);
}
END_TEST

/* ---- the Prometheus textfile ---- */

/* The exposition-format rules the metrics file must keep (what promtool
 * check metrics enforces of them): every sample's family has HELP and TYPE
 * lines before it, once each; a counter's name ends in _total and a gauge's
 * does not; names are [a-zA-Z_:][a-zA-Z0-9_:]*; every value is a number.
 * Returns NULL, or what is wrong (static buffer). */
static const char *exposition_problem(char *text)
{
	static char why[512];
	char typed[32][128], helped[32][128];
	int ntyped = 0, nhelped = 0;

	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128], type[32], *end;
		size_t len = strspn(line, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:");
		bool found = false;

		if (sscanf(line, "# TYPE %127s %31s", name, type) == 2) {
			size_t n = strlen(name);
			bool total = n > 6 && strcmp(name + n - 6, "_total") == 0;

			for (int i = 0; i < ntyped; i++)
				found = found || strcmp(typed[i], name) == 0;
			if (found || ntyped == 32)
				return snprintf(why, sizeof(why), "TYPE of '%s' twice", name), why;
			if (strcmp(type, "counter") == 0 && !total)
				return snprintf(why, sizeof(why), "counter '%s' does not end in _total", name), why;
			if (strcmp(type, "gauge") == 0 && total)
				return snprintf(why, sizeof(why), "gauge '%s' ends in _total", name), why;
			snprintf(typed[ntyped++], sizeof(typed[0]), "%s", name);
			continue;
		}
		if (sscanf(line, "# HELP %127s", name) == 1) {
			if (nhelped < 32)
				snprintf(helped[nhelped++], sizeof(helped[0]), "%s", name);
			continue;
		}
		if (line[0] == '#')
			continue;
		if (len == 0 || len >= sizeof(name) || (line[0] >= '0' && line[0] <= '9'))
			return snprintf(why, sizeof(why), "bad metric name in '%s'", line), why;
		snprintf(name, sizeof(name), "%.*s", (int)len, line);
		for (int i = 0; i < ntyped; i++)
			found = found || strcmp(typed[i], name) == 0;
		if (!found)
			return snprintf(why, sizeof(why), "sample of '%s' before its TYPE", name), why;
		found = false;
		for (int i = 0; i < nhelped; i++)
			found = found || strcmp(helped[i], name) == 0;
		if (!found)
			return snprintf(why, sizeof(why), "sample of '%s' without HELP", name), why;
		end = strrchr(line, ' ');
		if (!end || (strtod(end + 1, &end), *end != '\0'))
			return snprintf(why, sizeof(why), "value of '%s' is not a number", line), why;
	}
	return ntyped > 0 ? NULL : "no metric at all";
}

START_TEST(the_metrics_file_keeps_the_exposition_rules)
{
	struct test_cluster *tc = tc_start(3, 0);
	struct exec_transfer t[] = { { 0, 2, 20 } };
	char dir[64], plan[128], metrics[160], cmd[512];
	static char text[1 << 16], copy[1 << 16];
	const char *problem;
	struct run_result r;
	size_t len;
	FILE *f;

	tc_load_keys(tc, "k", NKEYS);
	exec_temp_path(dir, sizeof(dir), plan, sizeof(plan), "plan.json");
	exec_write_plan(tc, t, 1, "k", NKEYS, plan);
	snprintf(metrics, sizeof(metrics), "%s/slotctl.prom", dir);
	EXEC_RUN(&r, SC_EXIT_OK, 300, "apply", plan, "--yes", "--metrics-file", metrics);
	run_result_free(&r);
	f = fopen(metrics, "r");
	ck_assert_ptr_nonnull(f);
	len = fread(text, 1, sizeof(text) - 1, f);
	text[len] = '\0';
	fclose(f);
	memcpy(copy, text, len + 1); /* the checker cuts its text into lines */
	problem = exposition_problem(copy);
	ck_assert_msg(problem == NULL, "metrics file: %s", problem);
	ck_assert_contains(text, "slotctl_slots_planned{op=\"apply\"} 20\n");
	ck_assert_contains(text, "slotctl_running{op=\"apply\"} 0\n");
	/* promtool itself, where it is installed (Debian: prometheus) */
	snprintf(cmd, sizeof(cmd), "command -v promtool >/dev/null 2>&1 || exit 0; promtool check metrics < %s", metrics);
	ck_assert_msg(system(cmd) == 0, "promtool check metrics failed on '%s'", metrics);
	tc_verify_keys(tc, "k", NKEYS);
	tc_stop(tc);
}
END_TEST

/* ---- the sandbox ---- */

/* Starts `slotctl sandbox up` with args (NULL-terminated, after --dir DIR
 * --port 0) in a fresh dir; returns it attached (tc_stop stops it). */
static struct test_cluster *sandbox_up(char *dir, size_t size, const char *const *args)
{
	const char *argv[32] = { "sandbox", "up", "--dir", NULL, "--port", "0" };
	struct run_result r;
	int n = 6;
	struct test_cluster *tc;

	tc_temp_dir(dir, size);
	argv[3] = dir;
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	run_slotctl_argv(&r, 120, argv);
	ck_assert_exit(&r, SC_EXIT_OK);
	run_result_free(&r);
	tc = tc_attach(dir);
	return tc;
}

START_TEST(sandbox_up_returns_once_replicas_roles_have_settled)
{
	/* the roles used to settle after sandbox up returned: check at once
	 * showed roles-disagree warnings in 5 of 5 runs with 3 masters and 3
	 * replicas; three runs here */
	for (int run = 0; run < 3; run++) {
		char dir[64];
		struct test_cluster *tc = sandbox_up(dir, sizeof(dir), (const char *const[]){ "--masters", "3",
			"--replicas", "1", NULL });
		struct run_result r;

		EXEC_RUN(&r, SC_EXIT_OK, 60, "check", tc_seed(tc), "--strict");
		ck_assert_msg(strstr(r.out, "[WARN]") == NULL, "check right after sandbox up:\n%s", r.out);
		run_result_free(&r);
		tc_stop(tc);
	}
}
END_TEST

START_TEST(sandbox_status_says_when_authentication_is_needed)
{
	char dir[64];
	struct test_cluster *tc = sandbox_up(dir, sizeof(dir), (const char *const[]){ "--masters", "3", NULL });
	redisReply *rep = tc_command(tc, 1, "CONFIG SET requirepass sesame");
	struct run_result r;

	ck_assert_int_eq(rep->type, REDIS_REPLY_STATUS);
	freeReplyObject(rep);
	EXEC_RUN(&r, SC_EXIT_PROBLEMS, 60, "sandbox", "status", "--dir", dir);
	ck_assert_contains(r.err, "authentication needed: 1 of 3 sandbox nodes");
	ck_assert_contains(r.out, "auth-needed");
	ck_assert_msg(strstr(r.err, "not running with cluster_state:ok") == NULL, "%s", r.err);
	run_result_free(&r);
	tc_stop(tc);
}
END_TEST

static Suite *ux_suite(void)
{
	Suite *s = suite_create("ux");
	TCase *tc = tcase_create("exit codes");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, a_failed_write_to_stdout_is_an_error);
	tcase_add_test(tc, unwritable_metrics_file_is_refused_before_anything_moves);
	tcase_add_test(tc, reapplying_a_finished_plan_says_so_and_exits_0);
	tcase_add_test(tc, check_json_prints_a_document_when_the_seed_is_unreachable);
	tcase_add_test(tc, the_metrics_file_keeps_the_exposition_rules);
	suite_add_tcase(s, tc);
	tc = tcase_create("progress");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, off_a_terminal_a_status_line_every_interval_nothing_with_quiet);
	tcase_add_test(tc, quiet_resume_prints_no_start_line);
	tcase_add_test(tc, the_progress_bar_fits_the_terminal);
	suite_add_tcase(s, tc);
	tc = tcase_create("one-shot");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, one_shot_commands_print_the_summary_once_and_name_only_kept_plans);
	suite_add_tcase(s, tc);
	tc = tcase_create("sandbox");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, sandbox_up_returns_once_replicas_roles_have_settled);
	tcase_add_test(tc, sandbox_status_says_when_authentication_is_needed);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(ux_suite());
}
