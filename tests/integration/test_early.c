/* test_early.c: input that needs no cluster is refused before the first
 * connection, with exit 2: bad --slot-ranges and --weight values, an -o or
 * --plan-out or --metrics-file that cannot be written (a missing directory,
 * a symbolic link), and plan files that are too large, not regular files,
 * followed by more data, or hold a key twice; a journal that is a symbolic
 * link. The seed is a witness, a listener that never answers and counts who
 * connected: before, each of these was refused only after the whole cluster
 * was sampled (or, for files, not at all). Also: --pass is gone from
 * /proc/PID/cmdline while slotctl runs. */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check_run.h"
#include "temp_files.h"

static int witness;
static char seed[32];
static char dir[64];

static void setup(void)
{
	int port;

	witness = tc_witness_open(&port);
	snprintf(seed, sizeof(seed), "127.0.0.1:%d", port);
	tc_temp_dir(dir, sizeof(dir));
}

static void teardown(void)
{
	close(witness);
}

static const char *at(const char *name)
{
	return temp_file(dir, name);
}

/* Runs slotctl with argv and expects a usage error (exit 2) saying want,
 * given before anything connected to the seed. */
static void expect_early(const char *want, const char *const *argv)
{
	struct run_result r;

	run_slotctl_argv(&r, 60, argv);
	ck_assert_exit(&r, 2);
	ck_assert_contains(r.err, want);
	ck_assert_msg(tc_witness_connections(witness) == 0, "'%s %s' connected to the seed before refusing: %s",
		argv[0], argv[1], r.err);
	run_result_free(&r);
}

START_TEST(slot_ranges_refused_before_connecting)
{
	static const char *const bad[][2] = {
		{ "16384", "'16384' is not a slot from 0 to 16383" },
		{ "5-2", "5-2 runs backwards" },
		{ "a-b", "'a' is not a slot" },
		{ "1,", "trailing comma" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_early(bad[i][1], (const char *const[]){ "plan", "reshard", seed, "--from", "all", "--to", "abcd",
			"--slot-ranges", bad[i][0], "-o", at("p.json"), "--timeout", "1000", NULL });
		expect_early(bad[i][1], (const char *const[]){ "reshard", seed, "--from", "all", "--to", "abcd",
			"--slot-ranges", bad[i][0], "--yes", "--timeout", "1000", NULL });
	}
}
END_TEST

START_TEST(weights_refused_before_connecting)
{
	static const char *const bad[] = { "abcd=-1", "abcd=nan", "abcd=inf", "abcd=1e7", "abcd=", "=2" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		expect_early("--weight: '", (const char *const[]){ "plan", "rebalance", seed, "--weight", bad[i],
			"-o", at("p.json"), "--timeout", "1000", NULL });
		expect_early("--weight: '", (const char *const[]){ "rebalance", seed, "--weight", "ab=1",
			"--weight", bad[i], "--yes", "--timeout", "1000", NULL });
	}
}
END_TEST

START_TEST(outputs_checked_before_connecting)
{
	struct stat st;

	expect_early("cannot write plan '/nonexistent/dir/p.json': directory '/nonexistent/dir'",
		(const char *const[]){ "plan", "rebalance", seed, "-o", "/nonexistent/dir/p.json",
			"--timeout", "1000", NULL });
	expect_early("cannot write plan '/nonexistent/dir/p.json'",
		(const char *const[]){ "rebalance", seed, "--plan-out", "/nonexistent/dir/p.json", "--yes",
			"--timeout", "1000", NULL });
	expect_early("it is a directory", (const char *const[]){ "plan", "drain", seed, "abcd", "-o", dir,
		"--timeout", "1000", NULL });

	/* -o through a symbolic link: refused, and the link's target untouched
	 * (before, it was rewritten in place after sampling) */
	temp_file_put(at("target.json"), "precious\n");
	ck_assert_int_eq(symlink(at("target.json"), at("link.json")), 0);
	expect_early("is a symbolic link", (const char *const[]){ "plan", "rebalance", seed, "-o", at("link.json"),
		"--timeout", "1000", NULL });
	ck_assert_int_eq(stat(at("target.json"), &st), 0);
	ck_assert_int_eq(st.st_size, 9);

	/* the metrics textfile too, for apply, resume and abort */
	ck_assert_int_eq(symlink(at("nowhere.prom"), at("metrics.prom")), 0);
	expect_early("--metrics-file: cannot write metrics file '", (const char *const[]){ "apply", at("p.json"),
		"--metrics-file", at("metrics.prom"), "--yes", NULL });
	expect_early("--metrics-file: cannot write metrics file '", (const char *const[]){ "resume", at("p.json"),
		"--metrics-file", "/nonexistent/m.prom", NULL });
	ck_assert_int_eq(access(at("nowhere.prom"), F_OK), -1);
}
END_TEST

/* A valid plan of one master at the witness, with nothing to move. */
static const char *plan_text(void)
{
	static char text[512];

	snprintf(text, sizeof(text), "{\"format_version\":\"1.0\",\"seed\":\"%s\",\"kind\":\"rebalance\","
		"\"by\":\"slots\",\"fingerprint\":\"0123456789abcdef\",\"nodes\":[{\"id\":"
		"\"0001000100010001000100010001000100010001\",\"host\":\"127.0.0.1\",\"port\":%s,"
		"\"config_epoch\":1,\"slots\":\"0-16383\"}],\"batches\":[]}\n", seed, strchr(seed, ':') + 1);
	return text;
}

START_TEST(plan_files_read_strictly)
{
	char buf[2048];
	struct run_result r;
	int fd;

	temp_file_put(at("plan.json"), plan_text());
	ck_assert_int_eq(run_slotctl(&r, 30, "show", at("plan.json"), NULL), 0);
	run_result_free(&r);

	/* a plan followed by garbage, two plans, a key twice */
	snprintf(buf, sizeof(buf), "%sgarbage\n", plan_text());
	temp_file_put(at("garbage.json"), buf);
	expect_early("plan has more after its JSON value (line 2, column 1)",
		(const char *const[]){ "apply", at("garbage.json"), "--yes", "--timeout", "1000", NULL });
	expect_early("plan has more after its JSON value",
		(const char *const[]){ "show", at("garbage.json"), NULL });
	snprintf(buf, sizeof(buf), "%s%s", plan_text(), plan_text());
	temp_file_put(at("twice.json"), buf);
	expect_early("plan has more after its JSON value (line 2, column 1)",
		(const char *const[]){ "apply", at("twice.json"), "--yes", "--timeout", "1000", NULL });
	snprintf(buf, sizeof(buf), "{\"kind\":\"drain\",%s", plan_text() + 1);
	temp_file_put(at("dup.json"), buf);
	expect_early("plan has key 'kind' twice in 'the top-level object'",
		(const char *const[]){ "apply", at("dup.json"), "--yes", "--timeout", "1000", NULL });

	/* no size bound before: `apply /dev/zero` grew to 2.1 GB */
	expect_early("cannot read plan '/dev/zero': not a regular file",
		(const char *const[]){ "apply", "/dev/zero", "--yes", NULL });
	fd = open(at("huge.json"), O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)300 << 20), 0);
	close(fd);
	expect_early("larger than 256 MiB", (const char *const[]){ "apply", at("huge.json"), "--yes", NULL });
	expect_early("larger than 256 MiB", (const char *const[]){ "show", at("huge.json"), NULL });
	ck_assert_int_eq(mkfifo(at("fifo.json"), 0600), 0);
	expect_early("not a regular file", (const char *const[]){ "apply", at("fifo.json"), "--yes", NULL });
	/* before, resume opened the FIFO to look for a journal's first line and
	 * waited forever */
	expect_early("nothing to resume", (const char *const[]){ "resume", at("fifo.json"), NULL });
}
END_TEST

/* A dangling PLAN.journal link: before, apply created and filled its
 * target; now the journal is refused before anything connects. */
START_TEST(journal_symlink_refused)
{
	temp_file_put(at("plan.json"), plan_text());
	ck_assert_int_eq(symlink(at("elsewhere"), at("plan.json.journal")), 0);
	expect_early("journal '", (const char *const[]){ "apply", at("plan.json"), "--yes", "--timeout", "1000", NULL });
	expect_early("it is a symbolic link",
		(const char *const[]){ "resume", at("plan.json"), "--timeout", "1000", NULL });
	ck_assert_int_eq(access(at("elsewhere"), F_OK), -1);
}
END_TEST

/* --pass is readable in /proc/PID/cmdline only until slotctl has read it:
 * checked while `check` waits on a node that never answers. */
START_TEST(pass_hidden_from_cmdline)
{
	const char *const argv[] = { "check", seed, "--pass", "s3cret-pw-77", "--timeout", "4000", NULL };
	char path[64], buf[4096];
	struct pollfd p = { .fd = witness, .events = POLLIN };
	pid_t pid = run_slotctl_background(argv);
	int n = 0, fd;
	ssize_t len;

	/* a connection waits in the witness's queue (not accepted: slotctl
	 * keeps waiting for its answer) */
	ck_assert_msg(poll(&p, 1, 10000) == 1, "slotctl check never connected to the seed");
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	ck_assert_int_gt(len, 0);
	for (ssize_t i = 0; i < len; i++)
		if (buf[i] == '\0') {
			buf[i] = ' ';
			n++;
		}
	buf[len] = '\0';
	ck_assert_int_ge(n, 6);
	ck_assert_msg(strstr(buf, "s3cret") == NULL, "the password is readable: %s", buf);
	ck_assert_msg(strstr(buf, "--pass xxxxxxxxxxxx ") != NULL, "%s", buf);
	ck_assert_msg(strstr(buf, seed) != NULL, "%s", buf);
	kill(pid, SIGKILL);
	run_slotctl_wait(pid);
}
END_TEST

static Suite *early_suite(void)
{
	Suite *s = suite_create("early");
	TCase *tc = tcase_create("cli");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, slot_ranges_refused_before_connecting);
	tcase_add_test(tc, weights_refused_before_connecting);
	tcase_add_test(tc, outputs_checked_before_connecting);
	tcase_add_test(tc, plan_files_read_strictly);
	tcase_add_test(tc, journal_symlink_refused);
	tcase_add_test(tc, pass_hidden_from_cmdline);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(early_suite());
}
