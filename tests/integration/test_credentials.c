/* test_credentials.c: where a password comes from and where it never goes.
 * A cluster whose ACL user 'ops' has a password (the default user stays
 * open for the test's own checks): -a/--pass warns that it may not be safe
 * (--no-auth-warning silences it), --pass-file reads its first line and
 * --askpass asks on the terminal with echo off (under script(1)); two of
 * them at once are refused. After a plan and an apply with --json and a
 * metrics file, the password is in none of: the plan, its journal, the
 * metrics file, any run's stdout or stderr, the command line of any
 * process the cluster runs. */
#define _GNU_SOURCE /* memmem */
#include "support.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check_run.h"
#include "slotctl/io/file_text.h"

#define SECRET "s3cret-Pa55-w0rd"
#define NKEYS 3000

static char dir[64], pass_file[128];

/* Fails the test when path holds the password (a missing file holds none). */
static void assert_no_secret_in_file(const char *path)
{
	struct sc_error err;
	char *text;
	size_t len;

	if (file_read(path, "file", 256u << 20, 0, &text, &len, &err) != 0)
		return;
	ck_assert_msg(!memmem(text, len, SECRET, strlen(SECRET)), "the password is in '%s'", path);
	free(text);
}

static void assert_no_secret_in_run(const struct run_result *r)
{
	ck_assert_msg(!strstr(r->out, SECRET) && !strstr(r->err, SECRET), "the password is in the output:\n%s\n%s",
		r->out, r->err);
}

/* Runs slotctl with words plus "--user ops" and extra (both NULL-terminated). */
static int run_as_ops(struct run_result *r, const char *const *words, const char *const *extra)
{
	const char *argv[40];
	int n = 0;

	for (int i = 0; words[i]; i++)
		argv[n++] = words[i];
	argv[n++] = "--user";
	argv[n++] = "ops";
	for (int i = 0; extra[i]; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	run_slotctl_argv(r, 120, argv);
	assert_no_secret_in_run(r);
	return r->status;
}

static struct test_cluster *cluster_with_password(void)
{
	struct test_cluster *tc = tc_start(3, 0);
	struct sc_error err;

	for (int i = 0; i < tc_count(tc); i++) {
		redisReply *r = tc_command(tc, i, "ACL SETUSER ops on >%s ~* &* +@all", SECRET);

		ck_assert_msg(r->type == REDIS_REPLY_STATUS, "ACL SETUSER: %s", r->str);
		freeReplyObject(r);
	}
	tc_load_keys(tc, "k", NKEYS);
	tc_temp_dir(dir, sizeof(dir));
	snprintf(pass_file, sizeof(pass_file), "%s/pass", dir);
	ck_assert_msg(file_write(pass_file, "password file", SECRET "\n", &err) == 0, "%s", err.msg);
	return tc;
}

START_TEST(pass_warns_pass_file_does_not)
{
	struct test_cluster *tc = cluster_with_password();
	const char *const check[] = { "check", tc_seed(tc), NULL };
	struct run_result r;

	run_slotctl(&r, 60, "check", tc_seed(tc), "--user", "ops", "--pass", SECRET, NULL);
	ck_assert_exit(&r, 0);
	ck_assert_contains(r.err, "a password on the command line (-a/--pass) may not be safe");
	assert_no_secret_in_run(&r);
	run_result_free(&r);
	run_as_ops(&r, check, (const char *const[]){ "--pass", SECRET, "--no-auth-warning", NULL });
	ck_assert_exit(&r, 0);
	ck_assert_msg(!strstr(r.err, "may not be safe"), "warned anyway: %s", r.err);
	run_result_free(&r);
	run_as_ops(&r, check, (const char *const[]){ "--pass-file", pass_file, NULL });
	ck_assert_exit(&r, 0);
	ck_assert_msg(!strstr(r.err, "may not be safe"), "warned for a file: %s", r.err);
	run_result_free(&r);
	run_as_ops(&r, check, (const char *const[]){ "--pass-file", pass_file, "--askpass", NULL });
	ck_assert_exit(&r, 2);
	ck_assert_contains(r.err, "give the password one way");
	run_result_free(&r);
	run_as_ops(&r, check, (const char *const[]){ "--pass-file", "/nonexistent/pass", NULL });
	ck_assert_exit(&r, 2);
	run_result_free(&r);
	tc_stop(tc);
}
END_TEST

/* --askpass under a pseudo-terminal: the answer typed (after the prompt) is
 * used, and not echoed. */
START_TEST(askpass_asks_with_echo_off)
{
	struct test_cluster *tc = cluster_with_password();
	char cmd[1024], out[160];
	struct sc_error err;
	char *text;
	size_t len;
	int st;

	if (system("command -v script > /dev/null") != 0) {
		tc_stop(tc);
		return; /* util-linux's script(1) is not installed */
	}
	snprintf(out, sizeof(out), "%s/tty.out", dir);
	snprintf(cmd, sizeof(cmd), "(sleep 2; printf '%%s\\n' '%s') | timeout 60 script -q -e -c '\"$SLOTCTL_BIN\" "
		"check %s --user ops --askpass' %s > /dev/null", SECRET, tc_seed(tc), out);
	st = system(cmd);
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "'%s' exited %d", cmd,
		WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	ck_assert_msg(file_read(out, "typescript", 1u << 20, 0, &text, &len, &err) == 0, "%s", err.msg);
	ck_assert_msg(strstr(text, "Please input password: "), "no prompt in:\n%s", text);
	ck_assert_msg(strstr(text, "summary:"), "check did not run:\n%s", text);
	ck_assert_msg(!strstr(text, SECRET), "the password was echoed:\n%s", text);
	free(text);
	tc_stop(tc);
}
END_TEST

/* The password in no document, output or process argument after a plan and
 * an apply that wrote everything they can. */
START_TEST(password_goes_nowhere)
{
	struct test_cluster *tc = cluster_with_password();
	char plan[160], journal[170], metrics[160], path[64], cmdline[4096];
	const char *const with_file[] = { "--pass-file", pass_file, NULL };
	struct run_result r;

	snprintf(plan, sizeof(plan), "%s/plan.json", dir);
	snprintf(journal, sizeof(journal), "%s.journal", plan);
	snprintf(metrics, sizeof(metrics), "%s/metrics.prom", dir);
	run_as_ops(&r, (const char *const[]){ "plan", "reshard", tc_seed(tc), "--from", "all", "--to", tc_id(tc, 0),
		"--slots", "3000", "-o", plan, NULL }, with_file);
	ck_assert_exit(&r, 0);
	run_result_free(&r);
	run_as_ops(&r, (const char *const[]){ "apply", plan, "--yes", "--json", "--metrics-file", metrics, "-v", NULL },
		(const char *const[]){ "--pass", SECRET, NULL });
	ck_assert_exit(&r, 0);
	ck_assert_contains(r.out, "\"event\"");
	run_result_free(&r);
	/* a failed login names the user, not the password */
	run_as_ops(&r, (const char *const[]){ "check", tc_seed(tc), NULL },
		(const char *const[]){ "--pass", SECRET "x", "--no-auth-warning", NULL });
	ck_assert_exit(&r, 3);
	run_result_free(&r);
	assert_no_secret_in_file(plan);
	assert_no_secret_in_file(journal);
	assert_no_secret_in_file(metrics);
	for (int i = 0; i < tc_count(tc); i++) {
		FILE *f;
		size_t n;

		snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)tc_pid(tc, i));
		f = fopen(path, "r");
		ck_assert_ptr_nonnull(f);
		n = fread(cmdline, 1, sizeof(cmdline), f);
		fclose(f);
		ck_assert_msg(!memmem(cmdline, n, SECRET, strlen(SECRET)), "the password is in node %d's argv", i);
	}
	tc_verify_keys(tc, "k", NKEYS);
	tc_stop(tc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("credentials");
	TCase *tc = tcase_create("credentials");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, pass_warns_pass_file_does_not);
	tcase_add_test(tc, askpass_asks_with_echo_off);
	tcase_add_test(tc, password_goes_nowhere);
	suite_add_tcase(s, tc);
	return check_run(s);
}
