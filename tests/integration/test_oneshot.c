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
#include <stdlib.h>
#include <string.h>
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

/* Node i's INFO stats total_connections_received. */
static long long connections_received(const struct test_cluster *tc, int i)
{
	redisReply *r = tc_command(tc, i, "INFO stats");
	const char *at;
	long long n;

	ck_assert(r && r->type == REDIS_REPLY_STRING);
	at = strstr(r->str, "total_connections_received:");
	ck_assert_ptr_nonnull(at);
	n = atoll(at + strlen("total_connections_received:"));
	freeReplyObject(r);
	return n;
}

/* A reshard from all of 12 masters runs 11 groups (one per source); a
 * worker's control connections (the target's SETSLOTs, every master's for
 * NODE and the handover gate) serve all its groups. Before, each group
 * opened its own to every master: 500 masters, 250,000 connections, and a
 * 1000-slot reshard took 11 minutes. With one worker, the target sees its
 * few (gather, sampling, the worker's two) and not one per group (19).
 * The keys backend's groups (Valkey 9's atomic one, which auto would
 * pick there, opens its own: 20 on Valkey 9.1.2). */
START_TEST(reshard_from_all_reuses_control_connections)
{
	struct test_cluster *tc = tc_start(12, 0);
	struct run_result r;
	int had = slots_of(tc, 11);
	long long before;

	tc_load_keys(tc, "k", NKEYS);
	before = connections_received(tc, 11);
	EXEC_RUN(&r, 0, 300, "reshard", tc_seed(tc), "--from", "all", "--to", tc_id(tc, 11), "--slots", "110",
		"--parallel", "1", "--backend", "keys", "--yes");
	ck_assert_contains(r.out, "reshard: done: 110 of 110 slots");
	run_result_free(&r);
	ck_assert_msg(connections_received(tc, 11) - before <= 11,
		"the target took %lld connections during a reshard of 11 groups",
		connections_received(tc, 11) - before);
	tc_verify_keys(tc, "k", NKEYS);
	ck_assert_int_eq(slots_of(tc, 11), had + 110);
	tc_stop(tc);
}
END_TEST

/* How many slots node i's own view shows owned by node `owner`, and how
 * many it shows itself importing ("[slot-<-id]" on its myself line). */
static int view_counts(const struct test_cluster *tc, int i, int owner, int *importing)
{
	redisReply *r = tc_command(tc, i, "CLUSTER NODES");
	char *save_line = NULL, *text;
	int owned = 0;

	*importing = 0;
	ck_assert(r && r->type == REDIS_REPLY_STRING);
	text = strdup(r->str);
	ck_assert_ptr_nonnull(text);
	for (char *line = strtok_r(text, "\n", &save_line); line; line = strtok_r(NULL, "\n", &save_line)) {
		bool of_owner = strncmp(line, tc_id(tc, owner), 40) == 0, myself = false;
		char *save = NULL;
		int field = 0;

		for (char *f = strtok_r(line, " ", &save); f; f = strtok_r(NULL, " ", &save), field++) {
			int a, b;

			if (field == 2)
				myself = strstr(f, "myself") != NULL;
			if (field < 8)
				continue;
			if (*f == '[')
				*importing += myself && strstr(f, "-<-");
			else if (of_owner && sscanf(f, "%d-%d", &a, &b) == 2)
				owned += b - a + 1;
			else if (of_owner && sscanf(f, "%d", &a) == 1)
				owned++;
		}
	}
	free(text);
	freeReplyObject(r);
	return owned;
}

/* A master that owns no slot is unknown to cluster clients that list the
 * masters from CLUSTER SLOTS (redis-py 4.3's RedisCluster fails on an ASK to
 * it), so it takes its first slots one at a time, each finished on every
 * master before the next opens: held as the third slot opens, every master
 * shows the new master owning two slots, and it imports one. (Before, the
 * whole group of 40 was opened first: 40 importing, none owned.) */
START_TEST(new_master_takes_its_first_slots_one_at_a_time)
{
	char dir[256], go[320], held[330], hold[340];
	struct test_cluster *tc;
	struct run_result r;
	int status, importing;
	pid_t pid;

	tc_temp_dir(dir, sizeof(dir));
	run_slotctl(&r, 120, "sandbox", "up", "--dir", dir, "--masters", "2", "--empty-masters", "1",
		"--port", "0", NULL);
	ck_assert_exit(&r, 0);
	run_result_free(&r);
	tc = tc_attach(dir);
	tc_load_keys(tc, "k", NKEYS);
	snprintf(go, sizeof(go), "%s/go", dir);
	snprintf(held, sizeof(held), "%s.held", go);
	snprintf(hold, sizeof(hold), "importing:3:%s", go);
	{
		/* key by key: the key path opens a new master's first slots one at a time */
		const char *argv[] = { getenv("SLOTCTL_BIN"), "reshard", tc_seed(tc), "--from", tc_id(tc, 0),
			"--to", tc_id(tc, 2), "--slots", "40", "--yes", "--pick", "lowest", "--backend", "keys", NULL };

		setenv("SLOTCTL_TEST_HOLD_AT", hold, 1);
		pid = exec_spawn(argv);
		unsetenv("SLOTCTL_TEST_HOLD_AT");
	}
	ck_assert_msg(tc_wait_for_file(held, 60000), "the reshard never opened a third slot");
	for (int i = 0; i < 3; i++) {
		int owned = view_counts(tc, i, 2, &importing);

		ck_assert_msg(owned == 2, "node %d shows the new master owning %d slots as its third opens (2 expected)",
			i, owned);
		if (i == 2)
			ck_assert_msg(importing == 1, "the new master imports %d slots at once (1 expected)", importing);
	}
	close(open(go, O_CREAT | O_WRONLY, 0644));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "reshard exited %d", WEXITSTATUS(status));
	ck_assert_int_eq(slots_of(tc, 2), 40);
	tc_verify_keys(tc, "k", NKEYS);
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
	tcase_add_test(tc, reshard_from_all_reuses_control_connections);
	tcase_add_test(tc, new_master_takes_its_first_slots_one_at_a_time);
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
