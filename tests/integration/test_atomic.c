/* test_atomic.c: the atomic mover backend (io/move/mover_atomic.c) on a
 * real Valkey 9 cluster: apply --backend atomic moves known keys under live
 * client traffic (every key once on its slot's owner with its value, no
 * client error, jobs reported in --json events and the metrics file), auto
 * picks it, a slotctl killed -9 mid-job is resumed (the job is waited for,
 * then finished) or aborted (the job is cancelled, ownership stays), Ctrl-C
 * cancels the job and leaves the run resumable, a source that leaves polls
 * unanswered for a while does not fail its running job, a job names at most
 * 256 slot ranges (the target's replica stays in step), a group that fails
 * says so on one line naming its slots, jobs that keep failing
 * fall back to the key path, said in the output, and a pair's job goes
 * across plan batches only as far as the plan's order lets its slots start
 * (a node gives and takes in the plan's order), and three sources feed an
 * empty master at once (a job sends clients no ASK). Skipped (exit 77) unless
 * SLOTCTL_VALKEY_SERVER names a valkey-server. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check_run.h"
#include "exec_support.h"
#include "support.h"
#include "traffic.h"
#include "slotctl/io/journal_file.h"

#define NKEYS 20000

struct fixture {
	struct test_cluster *tc;
	char dir[64], plan[128], journal[160];
	int from, to;
};

/* 3 Valkey masters with NKEYS keys "a:<i>"; a plan moving `slots` slots of
 * master `from` to master `to` in one batch. */
static void setup_pair(struct fixture *f, int from, int to, int slots)
{
	struct exec_transfer t = { from, to, slots };

	f->tc = tc_start_server(tc_valkey_server(), 3, 0);
	tc_load_keys(f->tc, "a", NKEYS);
	f->from = from;
	f->to = to;
	exec_temp_path(f->dir, sizeof(f->dir), f->plan, sizeof(f->plan), "plan.json");
	exec_write_plan_batched(f->tc, &t, 1, "a", NKEYS, f->plan, true);
	snprintf(f->journal, sizeof(f->journal), "%s.journal", f->plan);
}

/* setup_pair from master 0 to master 2. */
static void setup(struct fixture *f, int slots)
{
	setup_pair(f, 0, 2, slots);
}

/* The first slot the plan moves: master 0's first slot holding keys. */
static int first_slot(void)
{
	for (int s = 0; s < SC_SLOTS; s++)
		if (exec_keys_in_slot("a", NKEYS, s) > 0)
			return s;
	return 0;
}

/* resume of f's plan moves every slot: master 0's first slot on master 2,
 * every key once on its slot's owner with its value. */
static void resume_moves_every_slot(const struct fixture *f)
{
	struct run_result r;

	EXEC_RUN(&r, 0, 300, "resume", f->plan, "--yes");
	run_result_free(&r);
	ck_assert_int_eq(tc_owner_of(f->tc, 0, first_slot()), 2);
	tc_verify_keys(f->tc, "a", NKEYS);
}

/* The first slot master i owns that holds keys (the plan's first). */
static int first_slot_of(const struct test_cluster *tc, int i)
{
	for (int s = 0; s < SC_SLOTS; s++)
		if (tc_owner_of(tc, i, s) == i && exec_keys_in_slot("a", NKEYS, s) > 0)
			return s;
	return -1;
}

static void prevent_pause(const struct test_cluster *tc, int on)
{
	for (int i = 0; i < tc_count(tc); i++) {
		redisReply *r = tc_command(tc, i, "DEBUG SLOTMIGRATION PREVENT-PAUSE %d", on);
		ck_assert_msg(r->type == REDIS_REPLY_STATUS, "DEBUG SLOTMIGRATION: %s", r->str ? r->str : "?");
		freeReplyObject(r);
	}
}

/* How many jobs node i lists in state `state` ("" any). */
static int jobs_in(const struct test_cluster *tc, int i, const char *state)
{
	redisReply *r = tc_command(tc, i, "CLUSTER GETSLOTMIGRATIONS");
	int n = 0;

	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	for (size_t j = 0; j < r->elements; j++) {
		const redisReply *e = r->element[j];
		for (size_t k = 0; k + 1 < e->elements; k += 2)
			if (strcmp(e->element[k]->str, "state") == 0 &&
			    (!state[0] || strcmp(e->element[k + 1]->str, state) == 0))
				n++;
	}
	freeReplyObject(r);
	return n;
}

/* Waits (up to 30 s) until node i lists a job in state. */
static bool wait_job_state(const struct test_cluster *tc, int i, const char *state)
{
	for (int k = 0; k < 3000; k++) {
		if (jobs_in(tc, i, state) > 0)
			return true;
		usleep(10000);
	}
	return false;
}

static int count_of(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

START_TEST(apply_atomic_moves_every_key_under_traffic)
{
	struct fixture f;
	struct run_result r;
	struct traffic *t;
	struct traffic_stats st;
	char metrics[200];

	setup(&f, 2000);
	snprintf(metrics, sizeof(metrics), "%s/metrics.prom", f.dir);
	t = traffic_start(f.tc, "a", NKEYS);
	ck_assert(traffic_wait_ops(t, 200, 10000));
	EXEC_RUN(&r, 0, 300, "apply", f.plan, "--yes", "--json", "--backend", "atomic", "--metrics-file", metrics);
	ck_assert(traffic_wait_ops(t, 200, 10000));
	traffic_stop(t, &st);
	ck_assert_msg(st.errors == 0 && st.ops > 0, "%ld errors in %ld ops: %s", st.errors, st.ops, st.first_error);
	/* the batch's 2000 scattered slots (about 900 ranges) in jobs of at
	 * most 256 ranges, each reported started and ended, counted alike in
	 * the summary and the metrics */
	const char *summary = NULL; /* the last count: the run's summary */
	for (const char *p = r.out; (p = strstr(p, "\"atomic_jobs\":")) != NULL; p++)
		summary = p;
	ck_assert_ptr_nonnull(summary);
	int jobs = atoi(summary + strlen("\"atomic_jobs\":"));
	ck_assert_msg(jobs >= 2 && jobs <= 8, "%d jobs", jobs);
	ck_assert_int_eq(count_of(r.out, "\"event\":\"job\""), 2 * jobs);
	ck_assert_int_eq(count_of(r.out, "\"event\":\"slot_done\""), 2000);
	run_result_free(&r);
	char *m = NULL, want[80];
	size_t len;
	struct sc_error err;
	ck_assert_int_eq(file_read(metrics, "metrics", 1 << 20, 0, &m, &len, &err), 0);
	snprintf(want, sizeof(want), "slotctl_atomic_jobs_total{op=\"apply\"} %d\n", jobs);
	ck_assert_msg(strstr(m, want), "no '%s' in:\n%s", want, m);
	free(m);
	/* the journal says which backend ran and which job moved each slot */
	ck_assert_int_eq(file_read(f.journal, "journal", 64 << 20, 0, &m, &len, &err), 0);
	ck_assert_ptr_nonnull(strstr(m, "\"backend\":\"atomic\""));
	ck_assert_ptr_nonnull(strstr(m, "\"job\":\""));
	free(m);
	for (int s = 0; s < 3; s++)
		ck_assert_int_eq(exec_open_slots(f.tc, s), 0);
	ck_assert_int_eq(tc_owner_of(f.tc, 0, first_slot()), 2);
	tc_verify_keys(f.tc, "a", NKEYS);
	/* check sees the successful job as nothing to report */
	EXEC_RUN(&r, 0, 60, "check", tc_seed(f.tc));
	ck_assert_ptr_null(strstr(r.out, "atomic-migration-failed"));
	run_result_free(&r);
	tc_stop(f.tc);
}
END_TEST

/* auto picks atomic on Valkey 9. */
/* How many COMMAND INFO calls node i has served (INFO commandstats). */
static long command_info_calls(const struct test_cluster *tc, int i)
{
	redisReply *r = tc_command(tc, i, "INFO commandstats");
	const char *p;
	long n = 0;

	ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
	if ((p = strstr(r->str, "cmdstat_command|info:calls=")))
		n = atol(p + strlen("cmdstat_command|info:calls="));
	freeReplyObject(r);
	return n;
}

/* auto picks atomic, asking each master once whether it has it (COMMAND
 * INFO: auto's choice and the backend's check used to ask twice). */
START_TEST(auto_picks_atomic)
{
	struct fixture f;
	struct run_result r;
	long calls[3];

	setup(&f, 100);
	for (int i = 0; i < 3; i++)
		calls[i] = command_info_calls(f.tc, i);
	EXEC_RUN(&r, 0, 300, "apply", f.plan, "--yes", "--json", "--backend", "auto");
	ck_assert_int_eq(count_of(r.out, "\"event\":\"job\""), 2);
	run_result_free(&r);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(command_info_calls(f.tc, i) - calls[i], 1);
	ck_assert_int_eq(tc_owner_of(f.tc, 0, first_slot()), 2);
	tc_verify_keys(f.tc, "a", NKEYS);
	tc_stop(f.tc);
}
END_TEST

/* How many slots master i owns in its own view. */
static int owned_by(const struct test_cluster *tc, int i)
{
	int owner[SC_SLOTS], n = 0;

	tc_owners(tc, i, owner);
	for (int s = 0; s < SC_SLOTS; s++)
		n += owner[s] == i;
	return n;
}

/* A one-shot reshard that the atomic backend applies samples key counts
 * only (the servers move whole slots), its bytes estimated from each
 * master's used_memory, where the key path measures keys; the estimate
 * still keeps a target that has no room for the slots from receiving them. */
START_TEST(atomic_reshard_samples_key_counts_only)
{
	struct test_cluster *tc = tc_start_server(tc_valkey_server(), 3, 0);
	struct run_result r;
	redisReply *rep;

	tc_load_keys(tc, "a", NKEYS);
	int before = owned_by(tc, 2);
	EXEC_RUN(&r, 0, 300, "reshard", tc_seed(tc), "--from", tc_id(tc, 0), "--to", tc_id(tc, 2), "--slots", "100",
		"--yes", "--backend", "atomic");
	ck_assert_msg(strstr(r.err, "(memory of 0)") && strstr(r.err, " 0 keys measured") &&
		!strstr(r.err, "? -> ?"), "%s", r.err);
	run_result_free(&r);
	tc_verify_keys(tc, "a", NKEYS);
	EXEC_RUN(&r, 0, 300, "reshard", tc_seed(tc), "--from", tc_id(tc, 0), "--to", tc_id(tc, 2), "--slots", "100",
		"--yes", "--backend", "keys");
	ck_assert_msg(strstr(r.err, "(memory of 1)"), "%s", r.err);
	run_result_free(&r);
	tc_verify_keys(tc, "a", NKEYS);
	/* the target's maxmemory just above what it uses: no room for 1000 slots (the
	 * lowest: the cheapest hold no key) */
	rep = tc_command(tc, 2, "INFO memory");
	ck_assert_ptr_nonnull(strstr(rep->str, "used_memory:"));
	long long used = atoll(strstr(rep->str, "used_memory:") + strlen("used_memory:"));
	freeReplyObject(rep);
	freeReplyObject(tc_command(tc, 2, "CONFIG SET maxmemory %lld", used + 200000));
	EXEC_RUN(&r, 6, 300, "reshard", tc_seed(tc), "--from", tc_id(tc, 0), "--to", tc_id(tc, 2), "--slots", "1000", "--pick", "lowest",
		"--yes", "--backend", "atomic");
	ck_assert_msg(strstr(r.err, "(memory of 0)") && strstr(r.err, "refusing to move slots"), "%s", r.err);
	run_result_free(&r);
	freeReplyObject(tc_command(tc, 2, "CONFIG SET maxmemory 0"));
	ck_assert_int_eq(owned_by(tc, 2), before + 200); /* the first two reshards' slots only */
	tc_verify_keys(tc, "a", NKEYS);
	tc_stop(tc);
}
END_TEST

/* Jobs that keep failing (the test hook fails the first 3 starts): the
 * batch moves key by key, which the output says; every key arrives. */
START_TEST(failing_jobs_fall_back_to_keys)
{
	struct fixture f;
	struct run_result r;

	setup(&f, 50);
	setenv("SLOTCTL_TEST_ATOMIC_FAIL", "3", 1);
	EXEC_RUN(&r, 0, 300, "apply", f.plan, "--yes", "--backend", "atomic");
	ck_assert_msg(strstr(r.err, "failed 3 times") && strstr(r.err, "moving them key by key") &&
		strstr(r.err, "injected failure"), "%s", r.err);
	run_result_free(&r);
	/* the same in --json: a fallback event */
	unsetenv("SLOTCTL_TEST_ATOMIC_FAIL");
	ck_assert_int_eq(tc_owner_of(f.tc, 0, first_slot()), 2);
	tc_verify_keys(f.tc, "a", NKEYS);
	ck_assert_int_eq(jobs_in(f.tc, 0, ""), 0);
	tc_stop(f.tc);

	setup(&f, 50);
	setenv("SLOTCTL_TEST_ATOMIC_FAIL", "3", 1);
	EXEC_RUN(&r, 0, 300, "apply", f.plan, "--yes", "--json", "--backend", "atomic");
	unsetenv("SLOTCTL_TEST_ATOMIC_FAIL");
	ck_assert_int_eq(count_of(r.out, "\"event\":\"fallback\""), 1);
	ck_assert_ptr_nonnull(strstr(r.out, "\"atomic_fallbacks\":1"));
	run_result_free(&r);
	tc_verify_keys(f.tc, "a", NKEYS);
	tc_stop(f.tc);
}
END_TEST

/* A fixture moving 200 slots whose apply is killed -9 while its job is
 * held before the handover (every node refuses to pause): the job runs on. */
static void crash_mid_job_of(struct fixture *f, int from, int to)
{
	struct run_result r;

	setup_pair(f, from, to, 200);
	prevent_pause(f->tc, 1);
	/* the first "migrating" record: the first slot's, naming the started job */
	setenv("SLOTCTL_TEST_CRASH_AT", "migrating:1", 1);
	EXEC_RUN(&r, 128 + SIGKILL, 120, "apply", f->plan, "--yes", "--backend", "atomic");
	unsetenv("SLOTCTL_TEST_CRASH_AT");
	run_result_free(&r);
	ck_assert(wait_job_state(f->tc, from, "waiting-to-pause"));
}

static void crash_mid_job(struct fixture *f)
{
	crash_mid_job_of(f, 0, 2);
}

/* slotctl killed -9 while its job runs (held before the handover); resume
 * waits for the job, then finishes every slot. */
START_TEST(kill_mid_job_then_resume)
{
	struct fixture f;
	struct run_result r;

	crash_mid_job(&f);
	ck_assert_int_eq(tc_owner_of(f.tc, 0, first_slot()), 0);
	/* check shows the job in flight */
	EXEC_RUN(&r, 0, 60, "check", tc_seed(f.tc));
	ck_assert_msg(strstr(r.out, "atomic-migration") && strstr(r.out, "waiting-to-pause"), "%s", r.out);
	run_result_free(&r);
	prevent_pause(f.tc, 0);
	resume_moves_every_slot(&f);
	for (int s = 0; s < 3; s++)
		ck_assert_int_eq(exec_open_slots(f.tc, s), 0);
	tc_stop(f.tc);
}
END_TEST

/* slotctl killed -9 mid-job; abort cancels the job on the source and
 * ownership stays where it was, every key on its source. */
START_TEST(kill_mid_job_then_abort)
{
	struct fixture f;
	struct run_result r;

	crash_mid_job(&f);
	EXEC_RUN(&r, 0, 300, "abort", f.plan, "--yes");
	run_result_free(&r);
	ck_assert_int_eq(jobs_in(f.tc, 0, "cancelled"), 1);
	ck_assert_int_eq(jobs_in(f.tc, 0, "waiting-to-pause"), 0);
	prevent_pause(f.tc, 0);
	ck_assert_int_eq(tc_owner_of(f.tc, 0, first_slot()), 0);
	ck_assert_int_eq(tc_owner_of(f.tc, 2, first_slot()), 0);
	tc_verify_keys(f.tc, "a", NKEYS);
	/* check names the cancelled job */
	EXEC_RUN(&r, 0, 60, "check", tc_seed(f.tc));
	ck_assert_msg(strstr(r.out, "atomic-migration-failed") && strstr(r.out, "cancelled"), "%s", r.out);
	run_result_free(&r);
	tc_stop(f.tc);
}
END_TEST

/* Starts `slotctl apply --backend atomic [--timeout timeout]` of f's plan
 * (200 slots, set up here) with every job held before its handover, and
 * returns its pid once the source lists the job. */
static pid_t apply_held(struct fixture *f, const char *timeout)
{
	const char *argv[] = { "slotctl", "apply", NULL, "--yes", "--backend", "atomic", timeout ? "--timeout" : NULL,
		timeout, NULL };
	pid_t pid;

	setup(f, 200);
	prevent_pause(f->tc, 1);
	argv[2] = f->plan;
	pid = exec_spawn(argv);
	ck_assert(wait_job_state(f->tc, 0, "waiting-to-pause"));
	return pid;
}

/* Ctrl-C while the job runs: the job is cancelled on the source, apply
 * exits 5 (resumable), nothing moved; resume then moves every slot. */
START_TEST(interrupt_cancels_the_job)
{
	struct fixture f;
	int status;

	pid_t pid = apply_held(&f, NULL);

	kill(pid, SIGINT);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 5);
	ck_assert_int_eq(jobs_in(f.tc, 0, "cancelled"), 1);
	ck_assert_int_eq(tc_owner_of(f.tc, 0, first_slot()), 0);
	prevent_pause(f.tc, 0);
	tc_verify_keys(f.tc, "a", NKEYS);
	resume_moves_every_slot(&f);
	tc_stop(f.tc);
}
END_TEST

/* The source leaves the job's polls unanswered for four --timeouts (frozen
 * with SIGSTOP while its job is held): the job runs on in the server, so
 * apply polls again on a connection of its own and ends with every slot
 * moved. Before, the first poll that timed out failed the whole group
 * (exit 3) while its job went on. */
START_TEST(unanswered_polls_do_not_fail_a_running_job)
{
	struct fixture f;
	struct run_result r;
	int status;

	pid_t pid = apply_held(&f, "500");

	ck_assert_int_eq(kill(tc_pid(f.tc, 0), SIGSTOP), 0);
	usleep(2000 * 1000);
	ck_assert_int_eq(kill(tc_pid(f.tc, 0), SIGCONT), 0);
	prevent_pause(f.tc, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert_int_eq(tc_owner_of(f.tc, 0, first_slot()), 2);
	tc_verify_keys(f.tc, "a", NKEYS);
	EXEC_RUN(&r, 0, 60, "check", tc_seed(f.tc));
	run_result_free(&r);
	tc_stop(f.tc);
}
END_TEST

/* Lines of text that contain needle. */
static int lines_with(const char *text, const char *needle)
{
	int n = 0;

	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		const char *hit = strstr(line, needle);

		n += hit && hit < line + len;
		line = end ? end + 1 : NULL;
	}
	return n;
}

/* Freezes master i (SIGSTOP) from a child process as soon as it lists a
 * job waiting to pause, so a synchronous run meets the freeze mid-job.
 * Returns the child's pid (its exit status 0: it froze the node). */
static pid_t freeze_when_held(const struct test_cluster *tc, int i)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid > 0)
		return pid;
	for (int k = 0; k < 6000; k++) {
		if (jobs_in(tc, i, "waiting-to-pause") > 0)
			_exit(kill(tc_pid(tc, i), SIGSTOP) == 0 ? 0 : 2);
		usleep(10000);
	}
	_exit(1);
}

/* A 200-slot atomic job whose source stops answering for good (frozen
 * while the job is held, past the stall limit) fails the whole group with
 * one reason: stderr says so once, naming the slots' ranges, source and
 * target, not once per slot (before: 200 identical lines); the
 * metrics count 200 failed slots and errors. Thawed, resume finishes every
 * slot. */
START_TEST(a_failed_group_reports_once)
{
	struct fixture f;
	struct run_result r;
	char metrics[200], line[128], reason[160];
	const char *hit, *end;
	int status;
	pid_t freezer;

	setup(&f, 200);
	snprintf(metrics, sizeof(metrics), "%s/metrics.prom", f.dir);
	prevent_pause(f.tc, 1);
	freezer = freeze_when_held(f.tc, 0);
	run_slotctl(&r, 240, "apply", f.plan, "--yes", "--backend", "atomic", "--timeout", "500",
		"--metrics-file", metrics, NULL);
	ck_assert_int_eq(waitpid(freezer, &status, 0), freezer);
	ck_assert_int_eq(kill(tc_pid(f.tc, 0), SIGCONT), 0);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_msg(r.status != 0 && r.status != 5, "apply exited %d:\n%s", r.status, tc_tail(r.err, 3000));
	snprintf(line, sizeof(line), " from 127.0.0.1:%d to 127.0.0.1:%d: ", tc_port(f.tc, 0), tc_port(f.tc, 2));
	ck_assert_msg(lines_with(r.err, line) == 1 && lines_with(r.err, "slotctl: slots ") == 1,
		"expected one line naming the failed slots:\n%s", tc_tail(r.err, 3000));
	/* the reason itself: on that line and in the run's final error, no more */
	hit = strstr(r.err, line) + strlen(line);
	end = strchr(hit, '\n');
	snprintf(reason, sizeof(reason), "%.*s", (int)(end ? end - hit : (long)strlen(hit)), hit);
	ck_assert_msg(lines_with(r.err, reason) <= 2, "'%s' said more than twice:\n%s", reason, tc_tail(r.err, 3000));
	ck_assert(tc_file_has(metrics, "slotctl_slots_failed{op=\"apply\"} 200\n"));
	ck_assert(tc_file_has(metrics, "slotctl_errors_total{op=\"apply\"} 200\n"));
	run_result_free(&r);
	prevent_pause(f.tc, 0);
	resume_moves_every_slot(&f);
	tc_stop(f.tc);
}
END_TEST

/* A job left running (its apply killed -9), its keys staged on the
 * target: fix leaves its slots alone (nothing moved, exit 7 naming why);
 * fix --cancel-atomic cancels it, after which nothing is left to repair
 * and every key is on its source. */
START_TEST(fix_leaves_a_running_job_alone_unless_told)
{
	struct fixture f;
	struct run_result r;

	crash_mid_job(&f);
	EXEC_RUN(&r, 7, 120, "fix", tc_seed(f.tc), "--yes", "--wait", "0");
	ck_assert_msg(strstr(r.out, "atomic slot migration") || strstr(r.err, "atomic slot migration"), "%s%s",
		r.out, r.err);
	run_result_free(&r);
	ck_assert_int_eq(jobs_in(f.tc, 0, "waiting-to-pause"), 1);
	EXEC_RUN(&r, 0, 120, "fix", tc_seed(f.tc), "--yes", "--cancel-atomic");
	ck_assert_msg(strstr(r.err, "cancelled 1 atomic slot migration job"), "%s", r.err);
	run_result_free(&r);
	ck_assert_int_eq(jobs_in(f.tc, 0, "cancelled"), 1);
	prevent_pause(f.tc, 0);
	ck_assert_int_eq(tc_owner_of(f.tc, 2, first_slot()), 0);
	tc_verify_keys(f.tc, "a", NKEYS);
	tc_stop(f.tc);
}
END_TEST

/* The same with the job's target before its source in the cluster's
 * order: fix cancels every source before it waits on any node (the
 * target's import runs until its source's export is cancelled). */
START_TEST(fix_cancels_a_job_whose_target_comes_first)
{
	struct fixture f;
	struct run_result r;
	int slot;

	crash_mid_job_of(&f, 2, 0);
	slot = first_slot_of(f.tc, 2);
	ck_assert_int_ge(slot, 0);
	EXEC_RUN(&r, 0, 120, "fix", tc_seed(f.tc), "--yes", "--cancel-atomic");
	ck_assert_msg(strstr(r.err, "cancelled 1 atomic slot migration job"), "%s", r.err);
	run_result_free(&r);
	ck_assert_int_eq(jobs_in(f.tc, 2, "cancelled"), 1);
	prevent_pause(f.tc, 0);
	ck_assert_int_eq(tc_owner_of(f.tc, 0, slot), 2);
	tc_verify_keys(f.tc, "a", NKEYS);
	tc_stop(f.tc);
}
END_TEST

/* Master 1 takes from 0 in batch 0, gives to 2 in batch 1 and takes from 0
 * again in batch 2. The pair (0, 1)'s jobs go across batches only as far as
 * the plan's order lets them start: batch 2 is not in batch 0's job (master
 * 1 would take it before it gives batch 1), so three jobs run one after
 * another, each batch's slots in one; every key once on its owner. */
START_TEST(jobs_across_batches_keep_the_plans_order)
{
	struct exec_transfer t[] = { { 0, 1, 5 }, { 1, 2, 5 }, { 0, 1, 5 } };
	char dir[64], plan[128], journal[160], jobs[3][SC_NODE_ID_LEN + 1] = { "", "", "" };
	struct test_cluster *tc = tc_start_server(tc_valkey_server(), 3, 0);
	struct journal_state st;
	struct run_result r;
	struct sc_error err;
	int events = 0;

	tc_load_keys(tc, "a", NKEYS);
	exec_temp_path(dir, sizeof(dir), plan, sizeof(plan), "plan.json");
	exec_write_plan(tc, t, 3, "a", NKEYS, plan);
	snprintf(journal, sizeof(journal), "%s.journal", plan);
	EXEC_RUN(&r, 0, 300, "apply", plan, "--yes", "--json", "--backend", "atomic", "--parallel", "4");
	ck_assert_msg(strstr(r.out, "\"atomic_jobs\":3"), "expected 3 jobs:\n%s", tc_tail(r.out, 3000));
	/* each job started after the one before it ended: started, ended, ... */
	for (const char *p = r.out; (p = strstr(p, "\"event\":\"job\"")) != NULL; p++) {
		const char *eol = strchr(p, '\n'), *word = events % 2 ? " ended: " : " started: ";
		const char *at = strstr(p, word);

		ck_assert_msg(at && (!eol || at < eol), "job event %d is not '%s':\n%s", events, word,
			tc_tail(r.out, 3000));
		events++;
	}
	ck_assert_int_eq(events, 6);
	run_result_free(&r);
	/* the journal: one job per batch, each slot done on its planned owner */
	ck_assert_int_eq(journal_load(journal, &st, &err), 0);
	ck_assert_int_eq((int)st.count, 15);
	for (size_t i = 0; i < st.count; i++) {
		const struct journal_slot *js = &st.slots[i];

		ck_assert_int_eq(js->phase, JOURNAL_DONE);
		ck_assert(js->batch >= 0 && js->batch < 3);
		ck_assert_msg(js->job[0], "slot %d moved by no job", js->slot);
		if (!jobs[js->batch][0])
			snprintf(jobs[js->batch], sizeof(jobs[js->batch]), "%s", js->job);
		ck_assert_str_eq(js->job, jobs[js->batch]);
		ck_assert_int_eq(tc_owner_of(tc, 0, js->slot), t[js->batch].to);
	}
	journal_state_release(&st);
	ck_assert_str_ne(jobs[0], jobs[1]);
	ck_assert_str_ne(jobs[0], jobs[2]);
	ck_assert_str_ne(jobs[1], jobs[2]);
	tc_verify_keys(tc, "a", NKEYS);
	tc_stop(tc);
}
END_TEST

/* A rebalance onto an empty fourth master from three sources with --backend
 * atomic runs the three pairs' jobs at once: a job sends clients no ASK, so
 * the rule that a master owning no slot takes its first from one source at
 * a time (issue 18 item 2, for the keys backend) does not hold them back,
 * and one Valkey target takes imports from several sources together (issue
 * 17). Every job is held before its handover (no node pauses) until all
 * three sources run one and the new master lists the three imports; then
 * every planned slot ends on the new master, every key once on its slot's
 * owner with its value. */
START_TEST(three_sources_feed_an_empty_master_at_once)
{
	char sdir[128], dir[64], plan[128], journal[160];
	struct test_cluster *tc;
	struct journal_state st;
	struct run_result r;
	struct sc_error err;
	int status;

	tc_temp_dir(sdir, sizeof(sdir));
	/* the sandbox runs $SLOTCTL_REDIS_SERVER: the Valkey this suite runs on */
	ck_assert_int_eq(setenv("SLOTCTL_REDIS_SERVER", tc_valkey_server(), 1), 0);
	EXEC_RUN(&r, 0, 120, "sandbox", "up", "--dir", sdir, "--masters", "3", "--replicas", "0",
		"--empty-masters", "1", "--port", "0");
	run_result_free(&r);
	tc = tc_attach(sdir);
	tc_load_keys(tc, "a", NKEYS);
	exec_temp_path(dir, sizeof(dir), plan, sizeof(plan), "plan.json");
	snprintf(journal, sizeof(journal), "%s.journal", plan);
	EXEC_RUN(&r, 0, 120, "plan", "rebalance", tc_seed(tc), "--by", "slots", "--use-empty-masters", "-o", plan);
	run_result_free(&r);
	prevent_pause(tc, 1);
	const char *argv[] = { "slotctl", "apply", plan, "--yes", "--backend", "atomic", "--parallel", "4", NULL };
	pid_t pid = exec_spawn(argv);
	for (int i = 0; i < 3; i++)
		ck_assert_msg(wait_job_state(tc, i, "waiting-to-pause"), "source %d runs no job beside the others "
			"(the jobs took turns)", i);
	ck_assert_int_eq(jobs_in(tc, 3, ""), 3);
	prevent_pause(tc, 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	/* every planned slot done on the new master, by a job */
	ck_assert_int_eq(journal_load(journal, &st, &err), 0);
	ck_assert_int_gt((int)st.count, 3000);
	for (size_t i = 0; i < st.count; i++) {
		ck_assert_int_eq(st.slots[i].phase, JOURNAL_DONE);
		ck_assert_msg(st.slots[i].job[0], "slot %d moved by no job", st.slots[i].slot);
		ck_assert_int_eq(tc_owner_of(tc, 0, st.slots[i].slot), 3);
	}
	journal_state_release(&st);
	tc_verify_keys(tc, "a", NKEYS);
	tc_stop(tc);
}
END_TEST

/* A job names at most 256 slot ranges (mover_atomic.c: Valkey 9.1.2's
 * target relays the job to its replicas as one CLUSTER SYNCSLOTS, and a
 * replica whose read buffer that command outgrows drops its stream and stops
 * acknowledging). 1000 separate slots of master 1 (every other one, 4-digit
 * numbers: one command of about 20 KB) go to master 0, which has a replica,
 * in four jobs; the replica then acknowledges its master's stream (WAIT, so
 * a SETSLOT on the target does not wait 2 s for it) and holds what its master
 * holds; every key once on its slot's owner. With one job (no limit) the
 * replica held 6642 keys against its master's 7844: a failover would have
 * lost 1202 (and by hand it broke its stream in 10 tries of 10). */
START_TEST(many_ranges_keep_the_targets_replica_in_step)
{
	struct test_cluster *tc = tc_start_server(tc_valkey_server(), 3, 1);
	char dir[64], plan[128], ranges[8192];
	size_t len = 0;
	struct run_result r;
	redisReply *w, *a, *b;
	int n = 0, replica;

	tc_load_keys(tc, "a", NKEYS);
	for (int s = 0; s < SC_SLOTS && n < 1000; s += 2)
		if (tc_owner_of(tc, 0, s) == 1)
			len += (size_t)snprintf(ranges + len, sizeof(ranges) - len, "%s%d", n++ ? "," : "", s);
	ck_assert_int_eq(n, 1000);
	exec_temp_path(dir, sizeof(dir), plan, sizeof(plan), "plan.json");
	EXEC_RUN(&r, 0, 120, "plan", "reshard", tc_seed(tc), "--from", tc_id(tc, 1), "--to", tc_id(tc, 0),
		"--slot-ranges", ranges, "-o", plan);
	run_result_free(&r);
	EXEC_RUN(&r, 0, 300, "apply", plan, "--yes", "--json", "--backend", "atomic");
	ck_assert_msg(strstr(r.out, "\"atomic_jobs\":4"), "expected 4 jobs:\n%s", tc_tail(r.out, 3000));
	run_result_free(&r);
	w = tc_command(tc, 0, "WAIT 1 5000");
	ck_assert_int_eq(w->type, REDIS_REPLY_INTEGER);
	ck_assert_msg(w->integer == 1, "the target's replica stopped acknowledging its stream");
	freeReplyObject(w);
	replica = tc_replica_of(tc, 0);
	ck_assert_int_ge(replica, 0);
	a = tc_command(tc, 0, "DBSIZE");
	b = tc_command(tc, replica, "DBSIZE");
	ck_assert_int_eq(a->integer, b->integer);
	freeReplyObject(a);
	freeReplyObject(b);
	tc_verify_keys(tc, "a", NKEYS);
	tc_stop(tc);
}
END_TEST

static Suite *atomic_suite(void)
{
	Suite *s = suite_create("atomic");
	TCase *tc = tcase_create("valkey"), *order, *polls;

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, apply_atomic_moves_every_key_under_traffic);
	tcase_add_test(tc, auto_picks_atomic);
	tcase_add_test(tc, atomic_reshard_samples_key_counts_only);
	tcase_add_test(tc, failing_jobs_fall_back_to_keys);
	tcase_add_test(tc, kill_mid_job_then_resume);
	tcase_add_test(tc, kill_mid_job_then_abort);
	tcase_add_test(tc, interrupt_cancels_the_job);
	tcase_add_test(tc, fix_leaves_a_running_job_alone_unless_told);
	tcase_add_test(tc, fix_cancels_a_job_whose_target_comes_first);
	tcase_add_test(tc, many_ranges_keep_the_targets_replica_in_step);
	suite_add_tcase(s, tc);
	order = tcase_create("order");
	tcase_set_timeout(order, 600);
	tcase_add_test(order, jobs_across_batches_keep_the_plans_order);
	tcase_add_test(order, three_sources_feed_an_empty_master_at_once);
	suite_add_tcase(s, order);
	polls = tcase_create("polls");
	tcase_set_timeout(polls, 600);
	tcase_add_test(polls, unanswered_polls_do_not_fail_a_running_job);
	tcase_add_test(polls, a_failed_group_reports_once);
	suite_add_tcase(s, polls);
	return s;
}

int main(void)
{
	if (tc_valkey_server() == NULL) {
		fprintf(stderr, "atomic: skipped: SLOTCTL_VALKEY_SERVER names no valkey-server\n");
		return 77;
	}
	return check_run(atomic_suite());
}
