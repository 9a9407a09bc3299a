/* test_oneshot.c: `slotctl reshard` and `slotctl rebalance` (plan, show,
 * confirm, apply in one command) move every key and refuse on a closed stdin
 * without --yes; --dry-run changes nothing; SIGINT stops an apply with the
 * batch in flight finished (exit 5) and `resume` completes it; a second
 * SIGINT exits at once, still resumable. A completed one-shot removes the
 * temporary plan and journal it kept under $TMPDIR. */
#include "exec_support.h"
#include "check_run.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>

#define NKEYS 2000

static int slots_of(const struct test_cluster *tc, int master)
{
	int n = 0;

	for (int s = 0; s < SC_SLOTS; s++)
		n += tc_owner_of(tc, 0, s) == master;
	return n;
}

START_TEST(reshard_one_shot)
{
	struct test_cluster *tc = tc_start(3, 0);
	char dir[64], plan[128], journal[160];
	struct run_result r;
	int before = slots_of(tc, 2);

	tc_load_keys(tc, "k", NKEYS);
	exec_temp_path(dir, sizeof(dir), plan, sizeof(plan), "plan.json");

	/* closed stdin, no --yes: refused, nothing changes */
	EXEC_RUN(&r, 6, 120, "reshard", tc_seed(tc), "--from", tc_id(tc, 0), "--to", tc_id(tc, 2), "--slots", "80");
	ck_assert_contains(r.err, "--yes");
	run_result_free(&r);
	/* --dry-run shows the plan and changes nothing */
	EXEC_RUN(&r, 0, 120, "reshard", tc_seed(tc), "--from", tc_id(tc, 0), "--to", tc_id(tc, 2), "--slots", "80",
		"--dry-run");
	ck_assert_contains(r.out, "80 slots");
	run_result_free(&r);
	ck_assert_int_eq(slots_of(tc, 2), before);

	EXEC_RUN(&r, 0, 300, "reshard", tc_seed(tc), "--from", tc_id(tc, 0), "--to", tc_id(tc, 2), "--slots", "80",
		"--yes", "--plan-out", plan);
	ck_assert_contains(r.out, "reshard: done: 80 of 80 slots");
	run_result_free(&r);
	snprintf(journal, sizeof(journal), "%s.journal", plan);
	ck_assert_int_eq(access(journal, R_OK), 0);
	tc_verify_keys(tc, "k", NKEYS);
	ck_assert_int_eq(slots_of(tc, 2), before + 80);
	tc_stop(tc);
}
END_TEST

/* Whether directory path holds no entry but . and .. */
static bool dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool empty = true;

	ck_assert_msg(d != NULL, "cannot open '%s': %s", path, strerror(errno));
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = false;
	closedir(d);
	return empty;
}

START_TEST(rebalance_into_one_master_from_two)
{
	struct test_cluster *tc = tc_start(3, 0);
	char weight[64], tmp[64];
	struct run_result r;
	int before = slots_of(tc, 0);

	tc_load_keys(tc, "k", NKEYS);
	snprintf(weight, sizeof(weight), "%s=1.1", tc_id(tc, 0));
	tc_temp_dir(tmp, sizeof(tmp));
	setenv("TMPDIR", tmp, 1); /* where the one-shot keeps its plan while it runs */
	EXEC_RUN(&r, 0, 300, "rebalance", tc_seed(tc), "--by", "slots", "--weight", weight, "--yes",
		"--parallel", "2", "--json");
	ck_assert_contains(r.out, "\"status\":\"done\"");
	ck_assert_contains(r.err, tmp);
	ck_assert_msg(dir_is_empty(tmp), "a completed rebalance left its temporary plan in '%s'", tmp);
	run_result_free(&r);
	tc_verify_keys(tc, "k", NKEYS);
	ck_assert_int_gt(slots_of(tc, 0), before + 200);
	tc_stop(tc);
}
END_TEST

static int wait_status(pid_t pid)
{
	int status = 0;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void interrupt_then_resume(bool twice)
{
	struct test_cluster *tc = tc_start(3, 0);
	struct exec_transfer t;
	char dir[64], plan[128];
	struct run_result r;
	int hot = keyslot_of("h", 1), from;
	pid_t pid;

	tc_load_keys(tc, "k", NKEYS);
	tc_load_keys(tc, "{h}", 300);
	from = tc_owner_of(tc, 0, hot);
	t = (struct exec_transfer){ from, (from + 1) % 3, 10 };
	exec_temp_path(dir, sizeof(dir), plan, sizeof(plan), "plan.json");
	exec_write_plan(tc, &t, 1, "{h}", 300, plan);
	{
		const char *argv[] = { getenv("SLOTCTL_BIN"), "apply", plan, "--yes", "--parallel", "1",
			"--batch-keys", "20", "--max-keys-per-sec", "100", NULL };

		pid = exec_spawn(argv);
	}
	/* interrupted with the hot slot mid-move (not after a fixed delay,
	 * which on a slow machine can come before slotctl set its handler) */
	if (!exec_wait_mid_slot(tc, (from + 1) % 3, hot, 300)) {
		kill(pid, SIGKILL);
		wait_status(pid);
		ck_abort_msg("the hot slot was never seen mid-move: no SIGINT sent");
	}
	kill(pid, SIGINT);
	if (twice)
		kill(pid, SIGINT);
	ck_assert_int_eq(wait_status(pid), 5);
	EXEC_RUN(&r, 0, 120, "resume", plan);
	run_result_free(&r);
	tc_verify_keys(tc, "k", NKEYS);
	tc_verify_keys(tc, "{h}", 300);
	ck_assert_int_eq(tc_owner_of(tc, 0, hot), (from + 1) % 3);
	tc_stop(tc);
}

START_TEST(sigint_stops_resumably) { interrupt_then_resume(false); }
END_TEST
START_TEST(second_sigint_exits_at_once) { interrupt_then_resume(true); }
END_TEST

static Suite *oneshot_suite(void)
{
	Suite *s = suite_create("oneshot");
	TCase *tc = tcase_create("oneshot");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, reshard_one_shot);
	tcase_add_test(tc, rebalance_into_one_master_from_two);
	tcase_add_test(tc, sigint_stops_resumably);
	tcase_add_test(tc, second_sigint_exits_at_once);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(oneshot_suite());
}
