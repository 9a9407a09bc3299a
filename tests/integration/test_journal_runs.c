/* test_journal_runs.c: one run per journal, and journals that cannot be
 * taken at their word. While a paced apply runs, resume, abort, a second
 * apply and fix --journal on the same journal are refused (exit 6) naming
 * the apply's pid; once the apply is killed with SIGKILL, resume proceeds
 * without being told the pace, and keeps the apply's (recorded in the
 * journal). An empty journal, or one holding only the start of a run, never
 * makes resume or abort claim success: with the plan they look at the nodes
 * and finish (or roll back) what was started, without it they refuse. A
 * journal copied from another plan is refused. Every key is verified. */
#include "exec_support.h"
#include "check_run.h"
#include "slotctl/io/journal_file.h"

#define NKEYS EXEC_HOT_NKEYS
#define NHOT EXEC_HOT_NHOT
#define PACE 50 /* keys per second: the hot slot alone takes 6 s */

/* Cuts the journal to its first `lines` lines (0: empty). */
static void journal_keep_lines(const struct exec_hot *f, int lines)
{
	FILE *in = fopen(f->journal, "r");
	char *text = NULL;
	size_t cap = 0, len = 0;
	ssize_t n;

	ck_assert_ptr_nonnull(in);
	while (lines-- > 0 && (n = getline(&text, &cap, in)) > 0)
		len += (size_t)n;
	fclose(in);
	free(text);
	ck_assert_int_eq(truncate(f->journal, (off_t)len), 0);
}

/* Runs slotctl expecting the refusal of a held journal, naming pid. */
static void expect_held(const char *pidtext, const char *arg0, const char *arg1, const char *arg2,
	const char *arg3, const char *arg4)
{
	struct run_result r;

	EXEC_RUN(&r, 6, 60, arg0, arg1, arg2, arg3, arg4);
	ck_assert_contains(r.err, "in use by pid");
	ck_assert_contains(r.err, pidtext);
	ck_assert_contains(r.err, "slotctl apply");
	run_result_free(&r);
}

/* A paced apply holds the journal: every other run on it is refused naming
 * the apply. Killed with SIGKILL, it blocks nothing: resume, given no pacing
 * option, continues at the apply's pace (the journal's START records it, and
 * the keys it moved took at least their time at that pace). */
START_TEST(one_run_at_a_time_and_resume_keeps_the_pace)
{
	struct exec_hot f;
	struct run_result r;
	struct journal_state st;
	struct sc_error err;
	char pidtext[32];
	long long keys = 0;
	const char *done;
	int status;
	pid_t pid;

	exec_hot_start(&f);
	{
		/* key by key: the run is caught mid-slot */
		const char *argv[] = { getenv("SLOTCTL_BIN"), "apply", f.plan, "--yes", "--parallel", "1",
			"--batch-keys", "20", "--max-keys-per-sec", "50", "--backend", "keys", NULL };

		pid = exec_spawn(argv);
	}
	if (!exec_wait_mid_slot(f.tc, f.to, f.hot_slot, NHOT)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		ck_abort_msg("the hot slot was never seen mid-move");
	}
	snprintf(pidtext, sizeof(pidtext), "pid %d ", (int)pid);
	expect_held(pidtext, "resume", f.plan, NULL, NULL, NULL);
	expect_held(pidtext, "abort", f.journal, "--yes", NULL, NULL);
	expect_held(pidtext, "apply", f.plan, "--yes", NULL, NULL);
	expect_held(pidtext, "fix", tc_seed(f.tc), "--journal", f.journal, "--yes");
	ck_assert_msg(waitpid(pid, &status, WNOHANG) == 0, "the paced apply ended before it was killed");
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));

	EXEC_RUN(&r, 0, 120, "resume", f.plan);
	ck_assert_contains(r.out, "resume: done");
	ck_assert_contains(r.err, "pace the journal records: --max-keys-per-sec 50 ");
	done = strstr(r.out, "slots, ");
	ck_assert_ptr_nonnull(done);
	ck_assert_int_eq(sscanf(done, "slots, %lld keys", &keys), 1);
	ck_assert_int_gt(keys, 0);
	/* at 50 keys/s, k keys take (k - one batch) / 50 s at least */
	ck_assert_msg(r.seconds >= (double)(keys - 20) / PACE * 0.9,
		"resume moved %lld keys in %.2f s: faster than the recorded pace", keys, r.seconds);
	run_result_free(&r);
	ck_assert_int_eq(journal_load(f.journal, &st, &err), 0);
	ck_assert_str_eq(st.last_op, "resume");
	ck_assert(st.pacing.recorded);
	ck_assert_int_eq(st.pacing.max_keys_per_sec, PACE);
	ck_assert_int_eq(st.pacing.batch_keys, 20);
	ck_assert_int_eq(st.pacing.parallel, 1);
	journal_state_release(&st);
	exec_hot_verify(&f);
	ck_assert_int_eq(tc_owner_of(f.tc, 0, f.hot_slot), f.to);
	tc_stop(f.tc);
}
END_TEST

/* An empty journal: without the plan resume and abort refuse; with it,
 * nothing started means resume refuses (apply is what starts a plan) and
 * abort has nothing to do; after a crash with a slot open, the journal
 * emptied, resume of the plan finds the open slot on the nodes and
 * finishes the plan. */
START_TEST(empty_journal_never_claims_success)
{
	struct exec_hot f;
	struct run_result r;
	int fd;

	exec_hot_start(&f);
	fd = open(f.journal, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	EXEC_RUN(&r, 6, 60, "resume", f.plan);
	ck_assert_contains(r.err, "no move of plan");
	ck_assert_contains(r.err, "slotctl apply");
	run_result_free(&r);
	EXEC_RUN(&r, 0, 60, "abort", f.plan, "--yes");
	ck_assert_contains(r.out, "abort: nothing to do: the nodes show no move of the plan started");
	run_result_free(&r);

	exec_hot_apply_and_crash(&f, "importing:1");
	journal_keep_lines(&f, 0);
	EXEC_RUN(&r, 6, 60, "resume", f.journal);
	ck_assert_contains(r.err, "records no slot");
	ck_assert_msg(strstr(r.out, "done") == NULL, "claimed success:\n%s", r.out);
	run_result_free(&r);
	EXEC_RUN(&r, 6, 60, "abort", f.journal);
	ck_assert_contains(r.err, "records no slot");
	run_result_free(&r);
	EXEC_RUN(&r, 0, 120, "resume", f.plan, "--yes");
	ck_assert_contains(r.out, "resume: done: 20 of 20 slots");
	run_result_free(&r);
	exec_hot_verify(&f);
	ck_assert_int_eq(tc_owner_of(f.tc, 0, f.hot_slot), f.to);
	tc_stop(f.tc);
}
END_TEST

/* A journal holding only the START of a run killed mid-slot: abort of the
 * plan finds the slot on the nodes and rolls it back, keys and all. */
START_TEST(start_only_journal_is_rolled_back_from_the_nodes)
{
	struct exec_hot f;
	struct run_result r;

	exec_hot_start(&f);
	exec_hot_apply_and_crash(&f, "keys:3");
	journal_keep_lines(&f, 1);
	EXEC_RUN(&r, 6, 60, "abort", f.journal);
	ck_assert_contains(r.err, "only the start of a run");
	ck_assert_contains(r.err, f.plan);
	run_result_free(&r);
	EXEC_RUN(&r, 0, 120, "abort", f.plan);
	ck_assert_contains(r.out, "abort: aborted");
	run_result_free(&r);
	exec_hot_verify(&f);
	ck_assert_int_eq(tc_owner_of(f.tc, 0, f.hot_slot), f.from);
	EXEC_RUN(&r, 0, 60, "check", tc_seed(f.tc));
	run_result_free(&r);
	/* the lock is free again, and one journal named twice is locked once */
	EXEC_RUN(&r, 0, 60, "fix", tc_seed(f.tc), "--journal", f.journal, "--journal", f.journal, "--dry-run");
	run_result_free(&r);
	tc_stop(f.tc);
}
END_TEST

/* The journal of plan A copied next to plan B: resume and abort of B refuse,
 * naming A; resume of A then finishes A. */
START_TEST(journal_of_another_plan_is_refused)
{
	struct exec_hot f;
	struct run_result r;
	struct exec_transfer t;
	char other[160], other_journal[200], cmd[512];

	exec_hot_start(&f);
	snprintf(other, sizeof(other), "%s/other.json", f.dir);
	t = (struct exec_transfer){ f.to, f.from, 5 };
	exec_write_plan(f.tc, &t, 1, "k", NKEYS, other);
	exec_hot_apply_and_crash(&f, "importing:1");
	snprintf(other_journal, sizeof(other_journal), "%s.journal", other);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", f.journal, other_journal);
	ck_assert_int_eq(system(cmd), 0);
	EXEC_RUN(&r, 6, 60, "resume", other);
	ck_assert_contains(r.err, "another plan");
	ck_assert_contains(r.err, f.plan);
	run_result_free(&r);
	EXEC_RUN(&r, 6, 60, "abort", other, "--yes");
	ck_assert_contains(r.err, "another plan");
	run_result_free(&r);
	EXEC_RUN(&r, 0, 120, "resume", f.plan);
	run_result_free(&r);
	exec_hot_verify(&f);
	ck_assert_int_eq(tc_owner_of(f.tc, 0, f.hot_slot), f.to);
	tc_stop(f.tc);
}
END_TEST

static Suite *journal_runs_suite(void)
{
	Suite *s = suite_create("journal_runs");
	TCase *tc = tcase_create("journal_runs");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, one_run_at_a_time_and_resume_keeps_the_pace);
	tcase_add_test(tc, empty_journal_never_claims_success);
	tcase_add_test(tc, start_only_journal_is_rolled_back_from_the_nodes);
	tcase_add_test(tc, journal_of_another_plan_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(journal_runs_suite());
}
