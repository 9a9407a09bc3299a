/* test_resume.c: interrupted applies are finished by `resume` and rolled
 * back by `abort`, with nothing lost: slotctl killed with SIGKILL (through
 * the test-only SLOTCTL_TEST_CRASH_AT hook) after IMPORTING, after
 * MIGRATING, in the middle of a slot's keys, and after SETSLOT NODE reached
 * the target only (for a batch's first slot, and for one taken quietly with
 * the rest of its batch); and a source or a target frozen with SIGSTOP mid-slot,
 * which fails within a bound of the timeouts (a frozen target: one MIGRATE
 * timeout, then at most two of retrying) and is resumed once the node
 * continues. */
#include "exec_support.h"
#include "check_run.h"
#include "slotctl/io/clock.h"

#include <signal.h>
#include <sys/wait.h>

#define NKEYS EXEC_HOT_NKEYS
#define NHOT EXEC_HOT_NHOT

static void crash_then_resume(const char *crash_at)
{
	struct exec_hot f;
	struct run_result r;

	exec_hot_start(&f);
	exec_hot_apply_and_crash(&f, crash_at);
	/* a new apply is refused: the journal is unfinished */
	EXEC_RUN(&r, 6, 60, "apply", f.plan, "--yes");
	run_result_free(&r);
	EXEC_RUN(&r, 0, 120, "resume", f.plan);
	ck_assert_contains(r.out, "resume: done");
	run_result_free(&r);
	exec_hot_verify(&f);
	ck_assert_int_eq(tc_owner_of(f.tc, 0, f.hot_slot), f.to);
	tc_stop(f.tc);
}

/* After abort, the hot slot is back on its source unless the target already
 * claimed it (then abort finishes it). */
static void crash_then_abort(const char *crash_at, bool finished)
{
	struct exec_hot f;
	struct run_result r;
	char journal[160];

	exec_hot_start(&f);
	exec_hot_apply_and_crash(&f, crash_at);
	snprintf(journal, sizeof(journal), "%s.journal", f.plan);
	EXEC_RUN(&r, 0, 120, "abort", journal);
	ck_assert_contains(r.out, "abort: aborted");
	run_result_free(&r);
	exec_hot_verify(&f);
	ck_assert_int_eq(tc_owner_of(f.tc, 0, f.hot_slot), finished ? f.to : f.from);
	EXEC_RUN(&r, 0, 60, "check", tc_seed(f.tc));
	run_result_free(&r);
	/* the journal is settled: a second abort has nothing to do */
	EXEC_RUN(&r, 0, 60, "abort", journal);
	run_result_free(&r);
	tc_stop(f.tc);
}

START_TEST(resume_after_importing) { crash_then_resume("importing:1"); }
END_TEST
START_TEST(resume_after_migrating) { crash_then_resume("migrating:1"); }
END_TEST
START_TEST(resume_mid_keys) { crash_then_resume("keys:3"); }
END_TEST
START_TEST(resume_after_owner_on_target) { crash_then_resume("owner-on-target:1"); }
END_TEST
/* The third slot to reach the target: taken in the quiet MULTI/EXEC after
 * its batch's first, together with the rest of the batch, whose journal
 * lines were never written. */
START_TEST(resume_after_quiet_owner_on_target) { crash_then_resume("owner-on-target:3"); }
END_TEST
START_TEST(abort_after_importing) { crash_then_abort("importing:1", false); }
END_TEST
START_TEST(abort_after_migrating) { crash_then_abort("migrating:1", false); }
END_TEST
START_TEST(abort_mid_keys) { crash_then_abort("keys:3", false); }
END_TEST
START_TEST(abort_after_owner_on_target) { crash_then_abort("owner-on-target:1", true); }
END_TEST
START_TEST(abort_after_quiet_owner_on_target) { crash_then_abort("owner-on-target:3", true); }
END_TEST

/* From a child process: stops victim (the source or the target) with
 * SIGSTOP once the hot slot is mid-move, and writes when (sc_clock_ms) to
 * the pipe *when_fd; the child exits 0 when it did, 1 when that was never
 * seen. */
static pid_t freeze_mid_slot(const struct exec_hot *f, pid_t victim, int *when_fd)
{
	int fds[2];
	pid_t child;

	ck_assert_int_eq(pipe(fds), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		long long when;

		close(fds[0]);
		if (!exec_wait_mid_slot(f->tc, f->to, f->hot_slot, NHOT))
			_exit(1);
		kill(victim, SIGSTOP);
		when = sc_clock_ms();
		_exit(write(fds[1], &when, sizeof(when)) == sizeof(when) ? 0 : 1);
	}
	close(fds[1]);
	*when_fd = fds[0];
	return child;
}

/* Paced to 100 keys/s, the hot slot takes 3 s: its source (or its target)
 * is frozen once some of its keys reached the target. apply fails naming the
 * slot and resume, within 4.5 s of the freeze at --timeout 1000: a frozen
 * source fails its connection's bound (the command timeout plus twice
 * MIGRATE's), a frozen target one MIGRATE timeout and then the retry budget
 * (twice the timeout; before it, four retries took 6.5 s). Once the node
 * thaws, resume finishes the move. */
static void frozen_node_fails_then_resumes(bool source)
{
	struct exec_hot f;
	struct run_result r;
	long long frozen_at = 0, failed_after;
	pid_t child, node;
	int status, rc, when_fd;

	exec_hot_start(&f);
	node = tc_pid(f.tc, source ? f.from : f.to);
	child = freeze_mid_slot(&f, node, &when_fd);
	/* key by key (a pace resolves auto to keys anyway): a node frozen mid-slot */
	rc = run_slotctl(&r, 120, "apply", f.plan, "--yes", "--parallel", "1", "--batch-keys", "20",
		"--max-keys-per-sec", "100", "--timeout", "1000", "--backend", "keys", NULL);
	failed_after = sc_clock_ms();
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"the hot slot was never seen mid-move, so its %s was not frozen (apply exited %d)",
		source ? "source" : "target", rc);
	ck_assert_int_eq(read(when_fd, &frozen_at, sizeof(frozen_at)), (ssize_t)sizeof(frozen_at));
	close(when_fd);
	failed_after -= frozen_at;
	ck_assert_msg(rc == 3, "slotctl exited %d, expected 3; stderr:\n%s", rc, r.err);
	ck_assert_contains(r.err, "slot");
	ck_assert_contains(r.err, "resume");
	ck_assert_msg(failed_after < 4500, "failed %lld ms after the freeze; stderr:\n%s", failed_after, r.err);
	run_result_free(&r);
	/* never finalised: the third master still sees the source own the slot */
	ck_assert_int_eq(tc_owner_of(f.tc, 3 - f.from - f.to, f.hot_slot), f.from);
	kill(node, SIGCONT);
	EXEC_RUN(&r, 0, 120, "resume", f.plan);
	run_result_free(&r);
	exec_hot_verify(&f);
	tc_stop(f.tc);
}

START_TEST(frozen_source_fails_then_resumes)
{
	frozen_node_fails_then_resumes(true);
}
END_TEST

START_TEST(frozen_target_fails_then_resumes)
{
	frozen_node_fails_then_resumes(false);
}
END_TEST

/* Whether node i has apply's SETSLOT MIGRATING in hand: it shows the slot
 * migrating (Redis runs it at once), or (Valkey 8+, its replica frozen) it
 * lists a client blocked in CLUSTER SETSLOT, waiting for the replica's ack. */
static bool setslot_reached(const struct test_cluster *tc, int i)
{
	redisReply *r;
	bool waiting = false;

	if (exec_open_slots(tc, i) > 0)
		return true;
	r = tc_command(tc, i, "CLIENT LIST");
	ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
	for (const char *line = r->str; line && *line && !waiting;) {
		const char *eol = strchr(line, '\n');
		const char *cmd = strstr(line, " cmd=cluster|setslot "), *flags = strstr(line, " flags=b");

		waiting = cmd && flags && (!eol || (cmd < eol && flags < eol));
		line = eol ? eol + 1 : NULL;
	}
	freeReplyObject(r);
	return waiting;
}

/* Valkey 8+ replicates SETSLOT to the replicas before the master runs it
 * and drops it when the client that sent it goes away meanwhile: slotctl
 * killed while the source waits for its replica (frozen here) leaves the
 * MIGRATING mark on the replica alone. abort clears it (a STABLE on the
 * master, replicated), and the cluster settles; before, the mark stayed
 * and abort failed after its 30 s wait for every node to agree. On Redis
 * (which does not replicate SETSLOT) the same run is a plain kill -9 then
 * abort: paced (the hot slot's 300 keys take 1.5 s) so that the kill comes
 * mid-run there too, where unpaced the run was over before it. */
START_TEST(abort_clears_marks_only_replicas_got)
{
	struct exec_hot f;
	struct run_result r;
	/* key by key: the hold is at the key path's IMPORTING */
	const char *argv[] = { "apply", NULL, "--yes", "--parallel", "1", "--max-keys-per-sec", "200", "--backend",
		"keys", NULL };
	char go[96], held[100], hold[128];
	int replica, status;
	pid_t pid;

	exec_hot_start_with(&f, 1);
	replica = tc_replica_of(f.tc, f.from);
	ck_assert_int_ge(replica, 0);
	argv[1] = f.plan;
	snprintf(go, sizeof(go), "%s/go", f.dir);
	snprintf(held, sizeof(held), "%s.held", go);
	snprintf(hold, sizeof(hold), "importing:1:%s", go);
	/* held once the target took IMPORTING: the source's replica is frozen
	 * then (apply's first look needs it), and the source waits for it */
	setenv("SLOTCTL_TEST_HOLD_AT", hold, 1);
	pid = run_slotctl_background(argv);
	unsetenv("SLOTCTL_TEST_HOLD_AT");
	for (int i = 0; i < 1500 && access(held, F_OK) != 0; i++)
		usleep(20000);
	ck_assert_msg(access(held, F_OK) == 0, "apply did not reach IMPORTING in 30 s");
	ck_assert_int_eq(kill(tc_pid(f.tc, replica), SIGSTOP), 0);
	close(open(go, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	/* killed once the source has the SETSLOT MIGRATING (a fixed 0.5 s
	 * was too short for a slow apply: killed before it sent it, the
	 * replica got no mark); paced, the run lasts 1.5 s past it on Redis,
	 * and on Valkey the source waits 2 s for its replica before NOREPLICAS */
	for (int i = 0; i < 500 && !setslot_reached(f.tc, f.from); i++)
		usleep(20000);
	ck_assert_msg(setslot_reached(f.tc, f.from), "apply sent the source no SETSLOT MIGRATING in 10 s");
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	status = run_slotctl_wait(pid);
	ck_assert_int_eq(kill(tc_pid(f.tc, replica), SIGCONT), 0);
	ck_assert_int_eq(status, 128 + SIGKILL);
	if (tc_valkey_server()) {
		for (int i = 0; i < 250 && exec_open_slots(f.tc, replica) == 0; i++)
			usleep(20000);
		ck_assert_msg(exec_open_slots(f.tc, replica) > 0, "the replica got no MIGRATING mark");
		ck_assert_int_eq(exec_open_slots(f.tc, f.from), 0);
	}
	EXEC_RUN(&r, 0, 120, "abort", f.journal);
	ck_assert_contains(r.out, "abort: aborted");
	run_result_free(&r);
	exec_hot_verify(&f);
	ck_assert_int_eq(exec_open_slots(f.tc, replica), 0);
	tc_stop(f.tc);
}
END_TEST

static Suite *resume_suite(void)
{
	Suite *s = suite_create("resume");
	TCase *tc = tcase_create("resume");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, resume_after_importing);
	tcase_add_test(tc, resume_after_migrating);
	tcase_add_test(tc, resume_mid_keys);
	tcase_add_test(tc, resume_after_owner_on_target);
	tcase_add_test(tc, resume_after_quiet_owner_on_target);
	tcase_add_test(tc, abort_after_importing);
	tcase_add_test(tc, abort_after_migrating);
	tcase_add_test(tc, abort_mid_keys);
	tcase_add_test(tc, abort_after_owner_on_target);
	tcase_add_test(tc, abort_after_quiet_owner_on_target);
	tcase_add_test(tc, frozen_source_fails_then_resumes);
	tcase_add_test(tc, frozen_target_fails_then_resumes);
	suite_add_tcase(s, tc);
	tc = tcase_create("replicas");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, abort_clears_marks_only_replicas_got);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(resume_suite());
}
