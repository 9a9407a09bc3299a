/* test_node.c: `slotctl node add|remove|forget-failed` against real
 * redis-server processes: a sandbox with two empty masters is scaled in
 * (both removed: no node knows them, each knows only itself) and out again
 * (one back as a master and rebalanced onto, every key verified; one as a
 * replica of the master with the fewest), a master with a replica is
 * drained and removed with it while a client reads and writes (no error,
 * every key verified), a killed replica is forgotten everywhere; refusals for a node with keys, a node that knows others and a
 * master that serves slots. `check` is healthy after each step, and no node
 * knows a removed node's id once the 60-second FORGET ban has expired.
 * node remove --drain --json prints one document (the apply's events
 * inside), its dry run says "nothing changed" once, and forget-failed of a
 * failed master whose replica follows it completes and names the replica. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "slotctl/io/clock.h"
#include "slotctl/core/exitcode.h"
#include "support.h"
#include "traffic.h"
#include "check_run.h"

#include <cjson/cJSON.h>

#define NKEYS 2000
#define MASTERS 3
#define EMPTY_A 6      /* the sandbox's empty masters, after 3 masters and 3 replicas */
#define EMPTY_B 7

/* The last run's output, shown when a later check fails. */
static char last_out[1500];

static void addr_of(const struct test_cluster *tc, int i, char *buf, size_t size)
{
	snprintf(buf, size, "127.0.0.1:%d", tc_port(tc, i));
}

/* Node i's own id (it changes with CLUSTER RESET HARD). */
static void myid(const struct test_cluster *tc, int i, char *id, size_t size)
{
	redisReply *r = tc_command(tc, i, "CLUSTER MYID");

	ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
	snprintf(id, size, "%s", r->str);
	freeReplyObject(r);
}

/* How many lines of node i's CLUSTER NODES there are, and whether id is one. */
static bool knows(const struct test_cluster *tc, int i, const char *id, int *lines)
{
	redisReply *r = tc_command(tc, i, "CLUSTER NODES");
	bool found;

	ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
	found = strstr(r->str, id) != NULL;
	if (lines) {
		*lines = 0;
		for (const char *p = r->str; *p; p++)
			*lines += *p == '\n';
	}
	freeReplyObject(r);
	return found;
}

static void assert_nobody_knows(const struct test_cluster *tc, const char *id, int except, int dead)
{
	for (int i = 0; i < tc_count(tc); i++) {
		redisReply *r;
		const char *line;

		if (i == except || i == dead || !knows(tc, i, id, NULL))
			continue;
		r = tc_command(tc, i, "CLUSTER NODES");
		line = strstr(r->str, id);
		while (line > r->str && line[-1] != '\n')
			line--;
		ck_abort_msg("node %d still knows %s: %.200s\nlast slotctl run:\n%s", i, id, line, last_out);
	}
}

static void assert_healthy(const char *seed)
{
	struct run_result r;

	run_slotctl(&r, 120, "check", seed, NULL);
	ck_assert_exit(&r, SC_EXIT_OK);
	run_result_free(&r);
}

/* Runs slotctl and expects code, and (when not NULL) want in its stderr. */
static void expect(int code, const char *want, const char *const *argv)
{
	struct run_result r;

	run_slotctl_argv(&r, 300, argv);
	ck_assert_exit(&r, code);
	if (want)
		ck_assert_contains(r.err, want);
	snprintf(last_out, sizeof(last_out), "%.700s\n%.700s", r.out, r.err);
	run_result_free(&r);
}

static struct test_cluster *sandbox_with_empty_masters(char *dir, size_t size)
{
	struct run_result r;

	tc_temp_dir(dir, size);
	run_slotctl(&r, 120, "sandbox", "up", "--dir", dir, "--masters", "3", "--replicas", "1",
		"--empty-masters", "2", "--port", "0", NULL);
	ck_assert_exit(&r, SC_EXIT_OK);
	run_result_free(&r);
	return tc_attach(dir);
}

START_TEST(scale_in_and_out)
{
	char dir[128], seed[32], a[32], b[32], replica[32], id_a[48], id_b[48], id[48], m0[48];
	char old_a[48], old_b[48];
	struct test_cluster *tc = sandbox_with_empty_masters(dir, sizeof(dir));
	long long removed_ms;
	int lines;

	snprintf(seed, sizeof(seed), "%s", tc_seed(tc));
	addr_of(tc, EMPTY_A, a, sizeof(a));
	addr_of(tc, EMPTY_B, b, sizeof(b));
	addr_of(tc, MASTERS, replica, sizeof(replica));
	snprintf(id_a, sizeof(id_a), "%s", tc_id(tc, EMPTY_A));
	snprintf(id_b, sizeof(id_b), "%s", tc_id(tc, EMPTY_B));
	snprintf(m0, sizeof(m0), "%s", tc_id(tc, 0));
	tc_load_keys(tc, "k", NKEYS);

	/* the replica has its master's keys (replication is asynchronous) */
	for (long long deadline = sc_clock_ms() + 30000;;) {
		redisReply *r = tc_command(tc, MASTERS, "DBSIZE");
		bool synced = r->type == REDIS_REPLY_INTEGER && r->integer > 0;

		freeReplyObject(r);
		if (synced)
			break;
		ck_assert_msg(sc_clock_ms() < deadline, "replica %d has no key after 30 s", MASTERS);
		usleep(100000);
	}

	/* refusals: a node that holds keys, a node that knows others, a master
	 * that serves slots, and no change without --yes on a closed stdin */
	expect(SC_EXIT_REFUSED, "keys: a new node must be empty",
		(const char *[]){ "node", "add", replica, seed, "--yes", NULL });
	expect(SC_EXIT_REFUSED, "knows 7 other nodes",
		(const char *[]){ "node", "add", a, seed, "--yes", NULL });
	expect(SC_EXIT_REFUSED, "slotctl plan drain SEED",
		(const char *[]){ "node", "remove", seed, m0, "--yes", NULL });
	expect(SC_EXIT_REFUSED, "pass --yes", (const char *[]){ "node", "remove", seed, id_a, NULL });
	expect(SC_EXIT_OK, "dry run", (const char *[]){ "node", "remove", seed, id_a, "--dry-run", NULL });
	ck_assert(knows(tc, 0, id_a, NULL));

	/* scale in: both empty masters leave; nobody knows them, they know nobody */
	removed_ms = sc_clock_ms();
	expect(SC_EXIT_OK, NULL, (const char *[]){ "node", "remove", seed, id_a, "--yes", NULL });
	expect(SC_EXIT_OK, NULL, (const char *[]){ "node", "remove", seed, id_b, "--yes", "--json", NULL });
	assert_nobody_knows(tc, id_a, EMPTY_A, EMPTY_B);
	assert_nobody_knows(tc, id_b, EMPTY_B, EMPTY_A);
	knows(tc, EMPTY_A, "", &lines);
	ck_assert_int_eq(lines, 1);
	assert_healthy(seed);

	snprintf(old_a, sizeof(old_a), "%s", id_a);
	snprintf(old_b, sizeof(old_b), "%s", id_b);

	/* scale out: one back as a master, rebalanced onto; one as a replica of
	 * the master with the fewest replicas (the new one, with none) */
	expect(SC_EXIT_OK, "joined as a master",
		(const char *[]){ "node", "add", a, seed, "--rebalance", "--yes", NULL });
	myid(tc, EMPTY_A, id_a, sizeof(id_a));
	expect(SC_EXIT_OK, "joined as a replica",
		(const char *[]){ "node", "add", b, seed, "--replica", "--yes", NULL });
	for (int i = 0; i < tc_count(tc); i++) {
		myid(tc, EMPTY_B, id, sizeof(id));
		ck_assert_msg(knows(tc, i, id, NULL), "node %d does not know the new replica", i);
	}
	{
		redisReply *r = tc_command(tc, EMPTY_B, "CLUSTER NODES");
		char want[96];

		snprintf(want, sizeof(want), "myself,slave %s", id_a);
		ck_assert_contains(r->str, want);
		freeReplyObject(r);
	}
	tc_verify_keys(tc, "k", NKEYS);
	{
		redisReply *r = tc_command(tc, EMPTY_A, "DBSIZE");

		ck_assert_int_gt(r->integer, 0); /* the rebalance gave it keys */
		freeReplyObject(r);
	}
	assert_healthy(seed);

	/* once the 60-second ban on the removed ids has expired, gossip has not
	 * brought them back: the removed nodes were reset and took new ids */
	while (sc_clock_ms() < removed_ms + 62000)
		usleep(200000);
	assert_nobody_knows(tc, old_a, -1, -1);
	assert_nobody_knows(tc, old_b, -1, -1);
	assert_healthy(seed);
	tc_stop(tc);
}
END_TEST

/* The replica (index >= masters) whose own view says it follows master_id. */
static int replica_of(const struct test_cluster *tc, const char *master_id)
{
	char want[64];

	snprintf(want, sizeof(want), "myself,slave %s", master_id);
	for (int i = 0; i < tc_count(tc); i++) {
		redisReply *r = tc_command(tc, i, "CLUSTER NODES");
		bool found = r->type == REDIS_REPLY_STRING && strstr(r->str, want);

		freeReplyObject(r);
		if (found)
			return i;
	}
	ck_abort_msg("no replica of %s", master_id);
	return -1;
}

START_TEST(drain_and_remove_under_traffic)
{
	struct test_cluster *tc = tc_start(3, 1);
	char seed[32], leaving[48], replica_id[48];
	struct traffic_stats st;
	struct traffic *t;
	int replica;

	snprintf(seed, sizeof(seed), "%s", tc_seed(tc));
	snprintf(leaving, sizeof(leaving), "%s", tc_id(tc, 1));
	replica = replica_of(tc, leaving);
	snprintf(replica_id, sizeof(replica_id), "%s", tc_id(tc, replica));
	tc_load_keys(tc, "k", NKEYS);
	t = traffic_start(tc, "k", NKEYS);
	ck_assert(traffic_wait_ops(t, 200, 20000));
	expect(SC_EXIT_OK, "removed; no node knows it any more",
		(const char *[]){ "node", "remove", seed, leaving, "--drain", "--with-replicas", "--shutdown",
			"--yes", NULL });
	ck_assert(traffic_wait_ops(t, 200, 20000));
	traffic_stop(t, &st);
	ck_assert_msg(st.errors == 0 && st.ops > 0, "%ld errors in %ld operations; first: %s", st.errors,
		st.ops, st.first_error);
	assert_nobody_knows(tc, leaving, 1, replica);
	assert_nobody_knows(tc, replica_id, 1, replica);
	tc_verify_keys(tc, "k", NKEYS);
	assert_healthy(seed);
	tc_stop(tc);
}
END_TEST

/* The line of CLUSTER NODES text that starts with id (a replica's line also
 * names its master's id, in the middle), or NULL. */
static char *node_line(char *text, const char *id)
{
	size_t n = strlen(id);

	for (char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, id, n) == 0)
			return p;
	return NULL;
}

/* Waits (at most 120 s) until node 0 flags id fail (not fail?). */
static void wait_flagged_fail(const struct test_cluster *tc, const char *id)
{
	long long deadline = sc_clock_ms() + 120000;

	for (;;) {
		redisReply *nodes = tc_command(tc, 0, "CLUSTER NODES");
		char *line = node_line(nodes->str, id);
		char *end = line ? strchr(line, '\n') : NULL;
		char *flag = line ? strstr(line, "fail") : NULL;
		bool failed = flag && (!end || flag < end) && strncmp(flag, "fail?", 5) != 0;

		freeReplyObject(nodes);
		if (failed)
			return;
		ck_assert_msg(sc_clock_ms() < deadline, "node %.8s is not flagged fail after 120 s", id);
		usleep(200000);
	}
}

START_TEST(forget_a_killed_replica)
{
	char dir[128], seed[32], dead_id[48];
	struct test_cluster *tc = sandbox_with_empty_masters(dir, sizeof(dir));
	const int dead = MASTERS + 2; /* a replica */
	struct run_result r;

	snprintf(seed, sizeof(seed), "%s", tc_seed(tc));
	snprintf(dead_id, sizeof(dead_id), "%s", tc_id(tc, dead));
	tc_load_keys(tc, "k", 500);
	expect(SC_EXIT_OK, "no failed node", (const char *[]){ "node", "forget-failed", seed, "--yes", NULL });
	ck_assert_int_eq(kill(tc_pid(tc, dead), SIGKILL), 0);
	wait_flagged_fail(tc, dead_id);
	run_slotctl(&r, 120, "node", "forget-failed", seed, "--dry-run", "--json", NULL);
	ck_assert_exit(&r, SC_EXIT_OK);
	ck_assert_contains(r.out, dead_id);
	ck_assert_contains(r.out, "\"format_version\":\t\"1.1\"");
	run_result_free(&r);
	ck_assert(knows(tc, 0, dead_id, NULL));
	expect(SC_EXIT_OK, "forgot 1 node", (const char *[]){ "node", "forget-failed", seed, "--yes", NULL });
	assert_nobody_knows(tc, dead_id, dead, dead);
	tc_verify_keys(tc, "k", 500);
	assert_healthy(seed);
	tc_stop(tc);
}
END_TEST

/* Times needle occurs in text. */
static int occurrences(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* stdout is one JSON document and nothing else; returns it. */
static cJSON *one_document(const char *out)
{
	const char *end = NULL;
	cJSON *doc = cJSON_ParseWithOpts(out, &end, false);

	ck_assert_msg(doc != NULL, "stdout is not a JSON document:\n%.2000s", out);
	ck_assert_msg(end && end[strspn(end, " \t\r\n")] == '\0', "more than one document on stdout:\n%.2000s", out);
	return doc;
}

/* node remove --drain: a dry run says 'nothing changed' once (before: the
 * drain's one-shot and the node command each said it); with --json stdout
 * is one document, the apply's events inside it (before: apply's event
 * lines came first on stdout), the last its summary, done. Every key
 * verified. */
START_TEST(drain_with_json_prints_one_document)
{
	struct test_cluster *tc = tc_start(3, 0);
	char seed[32], leaving[48];
	struct run_result r;
	const cJSON *events, *last;
	cJSON *doc;

	snprintf(seed, sizeof(seed), "%s", tc_seed(tc));
	snprintf(leaving, sizeof(leaving), "%s", tc_id(tc, 1));
	tc_load_keys(tc, "k", NKEYS);

	run_slotctl(&r, 300, "node", "remove", seed, leaving, "--drain", "--dry-run", NULL);
	ck_assert_exit(&r, SC_EXIT_OK);
	ck_assert_msg(occurrences(r.err, "nothing changed") == 1, "'nothing changed' not said once:\n%s", r.err);
	run_result_free(&r);

	run_slotctl(&r, 300, "node", "remove", seed, leaving, "--drain", "--dry-run", "--json", NULL);
	ck_assert_exit(&r, SC_EXIT_OK);
	cJSON_Delete(one_document(r.out));
	run_result_free(&r);

	run_slotctl(&r, 300, "node", "remove", seed, leaving, "--drain", "--shutdown", "--yes", "--json", NULL);
	ck_assert_exit(&r, SC_EXIT_OK);
	doc = one_document(r.out);
	events = cJSON_GetObjectItemCaseSensitive(doc, "events");
	ck_assert_msg(cJSON_GetArraySize(events) >= 2, "no apply events in the document:\n%.2000s", r.out);
	last = cJSON_GetArrayItem(events, cJSON_GetArraySize(events) - 1);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(last, "event")), "summary");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(last, "status")), "done");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(doc, "format_version")), "1.1");
	cJSON_Delete(doc);
	run_result_free(&r);
	assert_nobody_knows(tc, leaving, 1, 1);
	tc_verify_keys(tc, "k", NKEYS);
	assert_healthy(seed);
	tc_stop(tc);
}
END_TEST

/* A failed master (no slots: no failover) whose replica still follows it:
 * forget-failed forgets it on every other node and completes, saying that
 * the replica cannot forget its master (before: it stopped on the
 * replica's "Can't forget my master!", exit 1). */
START_TEST(forget_a_failed_master_its_replica_still_follows)
{
	char dir[128], seed[32], dead_id[48], follower[32];
	struct test_cluster *tc = sandbox_with_empty_masters(dir, sizeof(dir));
	const int dead = EMPTY_A, replica = EMPTY_B;
	struct run_result r;
	redisReply *rep;

	snprintf(seed, sizeof(seed), "%s", tc_seed(tc));
	snprintf(dead_id, sizeof(dead_id), "%s", tc_id(tc, dead));
	addr_of(tc, replica, follower, sizeof(follower));
	rep = tc_command(tc, replica, "CLUSTER REPLICATE %s", dead_id);
	ck_assert_msg(rep->type == REDIS_REPLY_STATUS, "CLUSTER REPLICATE: %s", rep->str);
	freeReplyObject(rep);
	for (long long deadline = sc_clock_ms() + 30000;;) { /* the seed sees it follow */
		char want[64];
		bool seen;

		snprintf(want, sizeof(want), "slave %s", dead_id);
		rep = tc_command(tc, 0, "CLUSTER NODES");
		seen = strstr(rep->str, want) != NULL;
		freeReplyObject(rep);
		if (seen)
			break;
		ck_assert_msg(sc_clock_ms() < deadline, "node 0 does not see the replica follow %.8s", dead_id);
		usleep(100000);
	}
	ck_assert_int_eq(kill(tc_pid(tc, dead), SIGKILL), 0);
	wait_flagged_fail(tc, dead_id);

	run_slotctl(&r, 300, "node", "forget-failed", seed, "--yes", NULL);
	snprintf(last_out, sizeof(last_out), "%.700s\n%.700s", r.out, r.err);
	ck_assert_exit(&r, SC_EXIT_OK);
	ck_assert_contains(r.err, follower);
	ck_assert_contains(r.err, "cannot forget its master");
	run_result_free(&r);
	assert_nobody_knows(tc, dead_id, replica, dead);
	ck_assert(knows(tc, replica, dead_id, NULL));
	tc_stop(tc);
}
END_TEST

static Suite *node_suite(void)
{
	Suite *s = suite_create("node");
	TCase *tc = tcase_create("node");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, scale_in_and_out);
	tcase_add_test(tc, drain_and_remove_under_traffic);
	tcase_add_test(tc, forget_a_killed_replica);
	suite_add_tcase(s, tc);
	tc = tcase_create("output and followers");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, drain_with_json_prints_one_document);
	tcase_add_test(tc, forget_a_failed_master_its_replica_still_follows);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(node_suite());
}
