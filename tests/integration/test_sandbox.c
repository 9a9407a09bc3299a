/* test_sandbox.c: `slotctl sandbox up|status|down` against real redis-server
 * processes (the cluster forms, sample keys sit where they belong, down stops
 * every recorded PID), and a self-test of the support library: tc_verify_keys
 * catches a missing key, a key on the wrong node and a wrong value; a
 * crashed or failed test leaves no servers running, its own or attached. */
#include "support.h"
#include "slotctl/core/keyslot.h"
#include "slotctl/io/clock.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check_run.h"

/* True when pid no longer runs (gone, or a zombie nobody reaped yet). */
static bool process_gone(pid_t pid)
{
	char path[64], buf[512];
	FILE *f;
	size_t len;
	char *paren;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' && paren[2] == 'Z';
}

static void status_json_says_running(const char *dir, int nodes)
{
	struct run_result r;
	cJSON *root, *list, *n;

	ck_assert_int_eq(run_slotctl(&r, 60, "sandbox", "status", "--dir", dir, "--json", NULL), 0);
	root = cJSON_Parse(r.out);
	ck_assert_msg(root != NULL, "status --json is not JSON:\n%s", r.out);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(root, "format_version")), "2.1");
	list = cJSON_GetObjectItem(root, "nodes");
	ck_assert_int_eq(cJSON_GetArraySize(list), nodes);
	cJSON_ArrayForEach(n, list) {
		ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(n, "running")));
		ck_assert_int_eq(strncmp(cJSON_GetStringValue(cJSON_GetObjectItem(n, "address")), "127.0.0.1:", 10), 0);
		ck_assert_str_eq(cJSON_GetObjectItem(n, "cluster_state")->valuestring, "ok");
	}
	cJSON_Delete(root);
	run_result_free(&r);
}

START_TEST(up_status_down)
{
	char tmp[64];
	char dir[80];
	struct test_cluster *tc;
	struct run_result r;
	pid_t pids[6];

	tc_temp_dir(tmp, sizeof(tmp));
	snprintf(dir, sizeof(dir), "%s/sb", tmp);
	ck_assert_int_eq(run_slotctl(&r, 120, "sandbox", "up", "--port", "0", "--dir", dir,
		"--masters", "3", "--replicas", "1", "--keys", "500", NULL), 0);
	/* taken on at once, so that a failed assertion still stops its servers */
	tc = tc_attach(dir);
	ck_assert_msg(strncmp(r.out, "127.0.0.1:", 10) == 0, "first line is not the seed:\n%s", r.out);
	ck_assert_contains(r.out, "replica");
	run_result_free(&r);

	ck_assert_int_eq(run_slotctl(&r, 60, "sandbox", "status", "--dir", dir, NULL), 0);
	ck_assert_contains(r.out, "RUNNING");
	run_result_free(&r);
	status_json_says_running(dir, 6);

	/* a second `up` on the same dir is refused and changes nothing */
	ck_assert_int_eq(run_slotctl(&r, 60, "sandbox", "up", "--port", "0", "--dir", dir, NULL), 6);
	ck_assert_contains(r.err, "already holds a running sandbox");
	run_result_free(&r);

	ck_assert_int_eq(tc_count(tc), 6);
	ck_assert(tc_wait_converged(tc, 30000));
	tc_verify_keys(tc, "key", 500);
	for (int i = 0; i < 6; i++) {
		ck_assert(tc_is_master(tc, i) == (i < 3));
		pids[i] = tc_pid(tc, i);
		ck_assert(!process_gone(pids[i]));
	}

	ck_assert_int_eq(run_slotctl(&r, 60, "sandbox", "down", "--dir", dir, NULL), 0);
	ck_assert_contains(r.out, "stopped 6");
	run_result_free(&r);
	for (int i = 0; i < 6; i++)
		ck_assert_msg(process_gone(pids[i]), "pid %ld still runs after sandbox down", (long)pids[i]);

	ck_assert_int_eq(run_slotctl(&r, 60, "sandbox", "status", "--dir", dir, NULL), 2);
	ck_assert_contains(r.err, "no sandbox");
	run_result_free(&r);
	tc_stop(tc);
}
END_TEST

START_TEST(up_with_empty_masters)
{
	char tmp[64];
	char dir[80];
	struct test_cluster *tc;
	struct run_result r;
	int empty;

	tc_temp_dir(tmp, sizeof(tmp));
	snprintf(dir, sizeof(dir), "%s/sb", tmp);
	ck_assert_int_eq(run_slotctl(&r, 120, "sandbox", "up", "--port", "0", "--dir", dir,
		"--masters", "2", "--replicas", "1", "--empty-masters", "1", "--keys", "200", NULL), 0);
	run_result_free(&r);
	tc = tc_attach(dir);
	ck_assert_int_eq(tc_count(tc), 5);
	empty = tc_count(tc) - 1;
	ck_assert(tc_is_master(tc, empty));
	for (int slot = 0; slot < SC_SLOTS; slot++) {
		int owner = tc_owner_of(tc, 0, slot);

		ck_assert_msg(owner == 0 || owner == 1, "slot %d is owned by node %d, not by a slot-holding master",
			slot, owner);
	}
	tc_verify_keys(tc, "key", 200);

	/* down says which servers it stopped and which had already died
	 * (before: "stopped 5" with one of them long gone) */
	ck_assert_int_eq(kill(tc_pid(tc, empty), SIGKILL), 0);
	for (int k = 0; k < 500 && !process_gone(tc_pid(tc, empty)); k++)
		usleep(10000);
	ck_assert(process_gone(tc_pid(tc, empty)));
	ck_assert_int_eq(run_slotctl(&r, 60, "sandbox", "down", "--dir", dir, NULL), 0);
	{
		const char *server = strrchr(tc_server_binary(), '/');
		char said[256];

		/* the binary it ran by name (a valkey-server is not a redis-server) */
		snprintf(said, sizeof(said), "stopped 4 %s processes of the sandbox in '",
			server ? server + 1 : tc_server_binary());
		ck_assert_contains(r.out, said);
	}
	ck_assert_contains(r.out, "; 1 was no longer running");
	run_result_free(&r);
	tc_stop(tc);
}
END_TEST

/* The CONFIG GET value of name on node i. */
static void config_is(const struct test_cluster *tc, int i, const char *name, const char *want)
{
	redisReply *r = tc_command(tc, i, "CONFIG GET %s", name);

	ck_assert_msg(r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
		r->element[1]->type == REDIS_REPLY_STRING, "CONFIG GET %s: unexpected reply", name);
	ck_assert_msg(strcmp(r->element[1]->str, want) == 0, "node %d: %s is %s, not %s", i, name,
		r->element[1]->str, want);
	freeReplyObject(r);
}

/* The lean nodes of a large sandbox (--node-timeout, --hz) on 12 masters:
 * each node gets the settings; the cluster forms though a node pings a peer
 * only every 30 s and gossips 3 of 12 nodes a message (before: a node still
 * lacked a peer, or a master's slots, when the 30 s bound ran out; now the
 * sandbox MEETs what a node lacks); check finds it whole at once; and
 * `down` asks every node to stop
 * before waiting for any, where before a node with hz 1 took up to a
 * second to notice SIGTERM, one after another (4 minutes for 500 nodes). */
START_TEST(up_lean_nodes_and_quick_down)
{
	char tmp[64];
	char dir[80];
	struct test_cluster *tc;
	struct run_result r;
	long long t0;

	tc_temp_dir(tmp, sizeof(tmp));
	snprintf(dir, sizeof(dir), "%s/sb", tmp);
	ck_assert_int_eq(run_slotctl(&r, 120, "sandbox", "up", "--port", "0", "--dir", dir, "--masters", "12",
		"--node-timeout", "60000", "--hz", "1", "--keys", "300", NULL), 0);
	run_result_free(&r);
	tc = tc_attach(dir);
	ck_assert_int_eq(tc_count(tc), 12);
	/* up waits for every bus link too: at hz 1 a node opens its links at
	 * its next tick, and check called 4-6 of them disconnected right after
	 * up (exit 1, link-disconnected) before */
	ck_assert_int_eq(run_slotctl(&r, 60, "check", tc_seed(tc), NULL), 0);
	run_result_free(&r);
	for (int i = 0; i < 12; i++) {
		config_is(tc, i, "cluster-node-timeout", "60000");
		config_is(tc, i, "hz", "1");
	}
	tc_verify_keys(tc, "key", 300);

	t0 = sc_clock_ms();
	ck_assert_int_eq(run_slotctl(&r, 60, "sandbox", "down", "--dir", dir, NULL), 0);
	ck_assert_contains(r.out, "stopped 12");
	run_result_free(&r);
	/* one after another: about 6 s (12 times half a tick on average) */
	ck_assert_msg(sc_clock_ms() - t0 < 3000, "sandbox down of 12 nodes with hz 1 took %lld ms",
		sc_clock_ms() - t0);
	tc_stop(tc);
}
END_TEST

/* Writes script to the executable file wrapper, runs `sandbox up` of one
 * master with 10 keys in dir through it (--redis-server wrapper), and takes
 * the sandbox on. */
static struct test_cluster *up_through(const char *dir, const char *wrapper, const char *script)
{
	struct run_result r;
	FILE *f = fopen(wrapper, "w");

	ck_assert_ptr_nonnull(f);
	fputs(script, f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(wrapper, 0755), 0);
	run_slotctl(&r, 120, "sandbox", "up", "--port", "0", "--dir", dir, "--masters", "1",
		"--replicas", "0", "--keys", "10", "--redis-server", wrapper, NULL);
	ck_assert_exit(&r, 0);
	run_result_free(&r);
	return tc_attach(dir);
}

/* A node whose port was taken between choosing it and binding it is started
 * again on fresh ports. The stand-in redis-server fails its first start the
 * way redis-server 7.0.15 does when another process got its bus port first
 * (its last log line then never said "in use", so no retry happened). */
START_TEST(up_retries_a_port_lost_at_bind)
{
	char tmp[64], dir[80], wrapper[96], mark[96], script[1024];
	struct test_cluster *tc;

	tc_temp_dir(tmp, sizeof(tmp));
	snprintf(dir, sizeof(dir), "%s/sb", tmp);
	snprintf(wrapper, sizeof(wrapper), "%s/redis-server", tmp);
	snprintf(mark, sizeof(mark), "%s/first-start", tmp);
	snprintf(script, sizeof(script), "#!/bin/sh\n"
		"if mkdir '%s' 2>/dev/null; then\n"
		"  echo '1:M 04 Dec 2026 21:08:34.190 # Warning: Could not create server TCP listening socket "
		"127.0.0.1:41201: bind: Address already in use'\n"
		"  echo '1:M 04 Dec 2026 21:08:34.190 # Failed listening on port 41201 (cluster), aborting.'\n"
		"  exit 1\n"
		"fi\n"
		"exec \"%s\" \"$@\"\n", mark, tc_server_binary());
	tc = up_through(dir, wrapper, script);
	ck_assert_int_eq(access(mark, F_OK), 0); /* the first start did fail */
	tc_verify_keys(tc, "key", 10);
	tc_stop(tc);
}
END_TEST

/* A server run under another name (here "kv-server", the way Valkey's
 * title reads "valkey-server 127.0.0.1:PORT [cluster]") is still known as
 * the sandbox's own: up forms the cluster and down stops it. Before, only a
 * title saying "redis-server" counted: up took every node for dead and
 * failed, leaving the servers running. */
START_TEST(up_and_down_a_server_of_another_name)
{
	char tmp[64], dir[80], wrapper[96], script[512];
	struct test_cluster *tc;
	struct run_result r;
	pid_t pid;

	tc_temp_dir(tmp, sizeof(tmp));
	snprintf(dir, sizeof(dir), "%s/sb", tmp);
	snprintf(wrapper, sizeof(wrapper), "%s/kv-server", tmp);
	snprintf(script, sizeof(script), "#!/bin/bash\nexec -a \"$0\" \"%s\" \"$@\"\n", tc_server_binary());
	tc = up_through(dir, wrapper, script);
	pid = tc_pid(tc, 0);
	tc_verify_keys(tc, "key", 10);
	ck_assert_int_eq(run_slotctl(&r, 60, "sandbox", "down", "--dir", dir, NULL), 0);
	ck_assert_contains(r.out, "stopped 1 kv-server process");
	run_result_free(&r);
	ck_assert_msg(process_gone(pid), "pid %ld still runs after sandbox down", (long)pid);
	tc_stop(tc);
}
END_TEST

START_TEST(up_reports_missing_server)
{
	struct run_result r;

	ck_assert_int_eq(run_slotctl(&r, 60, "sandbox", "up", "--port", "0", "--dir", "/tmp/slotctl-never-made",
		"--redis-server", "/nonexistent/redis-server", NULL), 2);
	ck_assert_contains(r.err, "redis-server not found");
	ck_assert_str_eq(r.out, "");
	run_result_free(&r);
}
END_TEST

/* -- support self-test: tc_verify_keys must fail on each kind of damage */

#define SELF_PREFIX "self"
#define SELF_KEYS 200

static struct test_cluster *shared;

START_TEST(inner_verify)
{
	tc_verify_keys(shared, SELF_PREFIX, SELF_KEYS);
}
END_TEST

/* Runs tc_verify_keys in a nested Check runner (its own forked child) and
 * asserts it failed with a message containing want. */
static void expect_verify_failure(const char *want)
{
	Suite *s = suite_create("inner");
	TCase *t = tcase_create("inner");
	SRunner *sr;
	TestResult **results;

	tcase_add_test(t, inner_verify);
	tcase_set_timeout(t, 120);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_SILENT);
	ck_assert_msg(srunner_ntests_failed(sr) == 1, "tc_verify_keys did not fail; expected '%s'", want);
	results = srunner_failures(sr);
	ck_assert_msg(strstr(tr_msg(results[0]), want) != NULL, "tc_verify_keys failed with '%s', expected '%s'",
		tr_msg(results[0]), want);
	free(results);
	srunner_free(sr);
}

static int owner_of_key(const char *key)
{
	return tc_owner_of(shared, 0, keyslot_of(key, strlen(key)));
}

static void ok_reply(redisReply *r)
{
	ck_assert_msg(r->type != REDIS_REPLY_ERROR, "unexpected error reply: %s", r->str);
	freeReplyObject(r);
}

START_TEST(verify_catches_damage)
{
	const char *key = SELF_PREFIX ":7";
	int owner, other;

	shared = tc_start(3, 0);
	tc_load_keys(shared, SELF_PREFIX, SELF_KEYS);
	tc_verify_keys(shared, SELF_PREFIX, SELF_KEYS);
	owner = owner_of_key(key);
	other = (owner + 1) % 3;

	/* a wrong value */
	ok_reply(tc_command(shared, owner, "SET %s %s", key, "damaged"));
	expect_verify_failure("key 'self:7' on node");
	ok_reply(tc_command(shared, owner, "SET %s %s", key, tc_value_for(SELF_PREFIX, 7)));
	tc_verify_keys(shared, SELF_PREFIX, SELF_KEYS);

	/* a key of the prefix that was never loaded */
	ok_reply(tc_command(shared, owner_of_key(SELF_PREFIX ":5000"), "SET %s x", SELF_PREFIX ":5000"));
	expect_verify_failure("unexpected key 'self:5000'");
	ok_reply(tc_command(shared, owner_of_key(SELF_PREFIX ":5000"), "DEL %s", SELF_PREFIX ":5000"));
	tc_verify_keys(shared, SELF_PREFIX, SELF_KEYS);

	/* a missing key */
	ok_reply(tc_command(shared, owner, "DEL %s", key));
	expect_verify_failure("key 'self:7' (slot");
	expect_verify_failure("is missing from every master");

	/* the key on a master that does not own its slot (written there with
	 * ASKING while the slot is marked importing, then made stable again) */
	ok_reply(tc_command(shared, other, "CLUSTER SETSLOT %d IMPORTING %s",
		keyslot_of(key, strlen(key)), tc_id(shared, owner)));
	ok_reply(tc_command(shared, other, "ASKING"));
	ok_reply(tc_command(shared, other, "SET %s %s", key, tc_value_for(SELF_PREFIX, 7)));
	ok_reply(tc_command(shared, other, "CLUSTER SETSLOT %d STABLE", keyslot_of(key, strlen(key))));
	expect_verify_failure("but node 0 says slot");

	/* the key on two masters (which of the two is reported first depends
	 * on the scan order) */
	ok_reply(tc_command(shared, owner, "SET %s %s", key, tc_value_for(SELF_PREFIX, 7)));
	expect_verify_failure(other < owner ? "but node 0 says slot" : "is on two masters");
	tc_stop(shared);
	shared = NULL;
}
END_TEST

/* A test process that crashes takes its servers with it (PR_SET_PDEATHSIG). */
START_TEST(crashed_test_leaves_no_servers)
{
	struct { pid_t pid; char dir[200]; } info;
	char cmd[300];
	int fds[2], status;
	pid_t child;
	long long waited = 0;

	ck_assert_int_eq(pipe(fds), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		struct test_cluster *tc = tc_start(1, 0);

		info.pid = tc_pid(tc, 0);
		snprintf(info.dir, sizeof(info.dir), "%s", tc_dir(tc));
		if (write(fds[1], &info, sizeof(info)) != (ssize_t)sizeof(info))
			_exit(1);
		abort();
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &info, sizeof(info)), (ssize_t)sizeof(info));
	close(fds[0]);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFSIGNALED(status));
	while (!process_gone(info.pid) && waited < 10000) {
		usleep(10000);
		waited += 10;
	}
	ck_assert_msg(process_gone(info.pid), "server pid %ld outlived its crashed test", (long)info.pid);
	/* the crash left its files behind; remove them */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", info.dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* A test that attached to a `slotctl sandbox up` sandbox and then failed
 * (Check ends it with _exit: no clean-up of its own runs) takes the
 * sandbox's servers with it: tc_attach's watchdog stops them. Before, they
 * ran on, their cwd "(deleted)" once the run's temp dir went. */
START_TEST(failed_test_stops_an_attached_sandbox)
{
	char tmp[64], dir[80];
	struct run_result r;
	pid_t pids[2], child;
	int fds[2], status;
	long long waited = 0;
	bool gone = false;

	tc_temp_dir(tmp, sizeof(tmp));
	snprintf(dir, sizeof(dir), "%s/sb", tmp);
	ck_assert_int_eq(run_slotctl(&r, 120, "sandbox", "up", "--port", "0", "--dir", dir, "--masters", "2",
		"--replicas", "0", NULL), 0);
	run_result_free(&r);
	ck_assert_int_eq(pipe(fds), 0);
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		struct test_cluster *tc = tc_attach(dir);

		for (int i = 0; i < 2; i++)
			pids[i] = tc_pid(tc, i);
		if (write(fds[1], pids, sizeof(pids)) != (ssize_t)sizeof(pids))
			_exit(2);
		_exit(1); /* as Check ends a test whose assertion failed */
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], pids, sizeof(pids)), (ssize_t)sizeof(pids));
	close(fds[0]);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1);
	/* the watchdog removes the files once both are stopped */
	while (!(gone = process_gone(pids[0]) && process_gone(pids[1]) && access(dir, F_OK) != 0) &&
	       waited < 10000) {
		usleep(10000);
		waited += 10;
	}
	if (!gone) { /* stop them before failing, or this test leaks them itself */
		run_slotctl(&r, 60, "sandbox", "down", "--dir", dir, NULL);
		run_result_free(&r);
	}
	ck_assert_msg(gone, "servers %ld and %ld (or their files) outlived the failed test that attached them",
		(long)pids[0], (long)pids[1]);
}
END_TEST

/* Writes a state file of one node (port 1: nothing listens) whose
 * format_version is the JSON text version into dir. */
static void write_state(const char *dir, const char *version)
{
	char path[160];
	FILE *f;

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/sandbox.json", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "{\"format_version\": %s, \"dir\": \"%s\", \"redis_server\": \"redis-server\", "
		"\"masters\": 1, \"replicas\": 0, \"empty_masters\": 0, \"nodes\": [{\"port\": 1, "
		"\"cport\": 10001, \"pid\": 2147483646, \"id\": \"%040d\", \"role\": \"master\", "
		"\"master\": -1}]}\n", version, dir, 0);
	ck_assert_int_eq(fclose(f), 0);
}

/* The state file's format_version is a string "2.0" since 2.0; a state
 * written before (the number 1) is still read, an unknown major is not. */
START_TEST(state_file_versions)
{
	char tmp[64], dir[96];
	struct run_result r;
	cJSON *root;

	tc_temp_dir(tmp, sizeof(tmp));
	snprintf(dir, sizeof(dir), "%s/v1", tmp);
	write_state(dir, "1");
	ck_assert_int_eq(run_slotctl(&r, 60, "sandbox", "status", "--dir", dir, "--json", NULL), 1);
	root = cJSON_Parse(r.out);
	ck_assert_msg(root != NULL, "status --json is not JSON:\n%s\n%s", r.out, r.err);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "nodes")), 1);
	ck_assert_contains(r.err, "1 of 1 sandbox nodes are not running");
	cJSON_Delete(root);
	run_result_free(&r);

	snprintf(dir, sizeof(dir), "%s/v2", tmp);
	write_state(dir, "\"2.1\"");
	ck_assert_int_eq(run_slotctl(&r, 60, "sandbox", "status", "--dir", dir, NULL), 1);
	ck_assert_contains(r.err, "1 of 1 sandbox nodes are not running");
	run_result_free(&r);

	snprintf(dir, sizeof(dir), "%s/v3", tmp);
	write_state(dir, "\"3.0\"");
	ck_assert_int_eq(run_slotctl(&r, 60, "sandbox", "status", "--dir", dir, NULL), 2);
	ck_assert_contains(r.err, "is not a sandbox state file this slotctl understands (format_version 2.1)");
	run_result_free(&r);
}
END_TEST

START_TEST(run_slotctl_reports_status_and_output)
{
	struct run_result r;

	ck_assert_int_eq(run_slotctl(&r, 30, "--version", NULL), 0);
	ck_assert_contains(r.out, "slotctl ");
	run_result_free(&r);
	ck_assert_int_eq(run_slotctl(&r, 30, "no-such-command", NULL), 2);
	ck_assert_contains(r.err, "unknown command");
	run_result_free(&r);
}
END_TEST

static Suite *sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *cli = tcase_create("cli");
	TCase *support = tcase_create("support");

	tcase_add_test(cli, up_status_down);
	tcase_add_test(cli, up_with_empty_masters);
	tcase_add_test(cli, up_lean_nodes_and_quick_down);
	tcase_add_test(cli, up_retries_a_port_lost_at_bind);
	tcase_add_test(cli, up_and_down_a_server_of_another_name);
	tcase_add_test(cli, up_reports_missing_server);
	tcase_add_test(cli, state_file_versions);
	tcase_add_test(support, verify_catches_damage);
	tcase_add_test(support, crashed_test_leaves_no_servers);
	tcase_add_test(support, failed_test_stops_an_attached_sandbox);
	tcase_add_test(support, run_slotctl_reports_status_and_output);
	suite_add_tcase(s, cli);
	suite_add_tcase(s, support);
	return s;
}

int main(void)
{
	return check_run(sandbox_suite());
}
