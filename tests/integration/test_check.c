/* test_check.c: `slotctl check` against a real 3-master + 3-replica cluster:
 * healthy gives [OK] lines, exit 0 and a versioned JSON document; an open
 * slot, slots uncovered by DELSLOTS, a node with its own view of the slot map
 * and a frozen node each give a non-zero exit naming the node and the slots;
 * the frozen node is reported within --timeout, and so is a node whose reply
 * comes a byte at a time; --wait waits out a change; keys left in a slot
 * that looks normal are found by default, named by --deep and moved by fix. */
#include "support.h"
#include "slotctl/core/check.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/keyslot.h"
#include "slotctl/core/topology.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check_run.h"
#include "trickle.h"

#define RUN_LIMIT_S 60   /* run_slotctl kills the command after this */

static const char *addr_of(const struct test_cluster *tc, int i)
{
	static char buf[4][32];
	static int next;
	char *out = buf[next++ % 4];

	snprintf(out, sizeof(buf[0]), "'127.0.0.1:%d'", tc_port(tc, i));
	return out;
}

/* A master other than a and b. */
static int other_master(const struct test_cluster *tc, int a, int b)
{
	for (int i = 0; i < tc_count(tc); i++)
		if (tc_is_master(tc, i) && i != a && i != b)
			return i;
	ck_abort_msg("no third master");
	return -1;
}

static void expect_ok_reply(redisReply *r, const char *what)
{
	ck_assert_msg(r->type != REDIS_REPLY_ERROR, "%s: %s", what, r->str);
	freeReplyObject(r);
}

/* The slot ranges master m owns in node 0's view, as "0-5460". */
static void slots_of(const struct test_cluster *tc, int m, char *buf, size_t size)
{
	redisReply *r = tc_command(tc, 0, "CLUSTER NODES");
	struct topology t;
	struct sc_error err;
	const struct node *n;

	ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
	ck_assert_msg(topology_parse(r->str, r->len, &t, &err) == 0, "%s", err.msg);
	freeReplyObject(r);
	n = topology_find(&t, tc_id(tc, m));
	ck_assert_ptr_nonnull(n);
	slotset_format(node_slots(n), buf, size);
	topology_release(&t);
}

/* Runs `slotctl check --json SEED [extra]` and returns the parsed document. */
static cJSON *check_json(const struct test_cluster *tc, int expect_status, const char *extra)
{
	struct run_result r;
	cJSON *doc;

	run_slotctl(&r, RUN_LIMIT_S, "check", tc_seed(tc), "--json", extra, NULL);
	ck_assert_exit(&r, expect_status);
	doc = cJSON_Parse(r.out);
	ck_assert_msg(doc != NULL, "not JSON:\n%s", r.out);
	ck_assert_str_eq(cJSON_GetObjectItem(doc, "format_version")->valuestring, "2.0");
	ck_assert_int_eq(cJSON_GetObjectItem(doc, "exit_code")->valueint, expect_status);
	run_result_free(&r);
	return doc;
}

/* The first finding of code with severity in doc, or NULL. */
static cJSON *json_finding(cJSON *doc, const char *code, const char *severity)
{
	cJSON *f;

	cJSON_ArrayForEach(f, cJSON_GetObjectItem(doc, "findings"))
		if (strcmp(cJSON_GetObjectItem(f, "code")->valuestring, code) == 0 &&
		    strcmp(cJSON_GetObjectItem(f, "severity")->valuestring, severity) == 0)
			return f;
	return NULL;
}

static const char *first_node_addr(cJSON *finding)
{
	return cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(finding, "nodes"), 0), "address")->valuestring;
}

/* `check --wait 30` exits 0: the cluster has settled (a fresh cluster's
 * replicas take a few seconds to be known as replicas by every node). */
static void expect_settles(const struct test_cluster *tc)
{
	struct run_result r;

	run_slotctl(&r, RUN_LIMIT_S, "check", tc_seed(tc), "--wait", "30", NULL);
	ck_assert_exit(&r, SC_EXIT_OK);
	ck_assert_contains(r.out, "[OK]   roles-disagree:");
	run_result_free(&r);
}

START_TEST(healthy_cluster_is_ok)
{
	struct test_cluster *tc = tc_start(3, 1);
	struct run_result r;
	cJSON *doc, *cluster;

	tc_load_keys(tc, "k", 300);
	expect_settles(tc);
	run_slotctl(&r, RUN_LIMIT_S, "check", tc_seed(tc), NULL);
	ck_assert_exit(&r, SC_EXIT_OK);
	ck_assert_contains(r.out, "[OK]   node-unreachable: all 6 nodes answered");
	ck_assert_contains(r.out, "[OK]   uncovered-slots: all 16384 slots are covered");
	ck_assert_contains(r.out, "[OK]   open-slot:");
	ck_assert_contains(r.out, "[OK]   views-disagree: all 6 reachable nodes agree");
	ck_assert_contains(r.out, "[OK]   no-replica:");
	ck_assert_contains(r.out, "[OK]   replica-not-acknowledging: every replica acknowledged");
	ck_assert_contains(r.out,
		"summary: 6 nodes (6 reachable), 3 masters, 3 replicas, 16384/16384 slots covered, 300 keys;");
	ck_assert_msg(!strstr(r.out, "[ERR]") && !strstr(r.out, "[WARN]"), "problems in:\n%s", r.out);
	ck_assert_str_eq(r.err, "");
	run_result_free(&r);

	run_slotctl(&r, RUN_LIMIT_S, "check", tc_seed(tc), "--strict", NULL);
	ck_assert_exit(&r, SC_EXIT_OK);
	run_result_free(&r);

	doc = check_json(tc, SC_EXIT_OK, NULL);
	cluster = cJSON_GetObjectItem(doc, "cluster");
	ck_assert_int_eq(cJSON_GetObjectItem(cluster, "masters")->valueint, 3);
	ck_assert_int_eq(cJSON_GetObjectItem(cluster, "replicas")->valueint, 3);
	ck_assert_int_eq(cJSON_GetObjectItem(cluster, "slots_covered")->valueint, SC_SLOTS);
	ck_assert_int_eq(cJSON_GetObjectItem(cluster, "keys")->valueint, 300);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "counts"), "err")->valueint, 0);
	ck_assert_ptr_nonnull(json_finding(doc, "uncovered-slots", "ok"));
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(doc, "settled")));
	cJSON_Delete(doc);
	tc_verify_keys(tc, "k", 300);
	tc_stop(tc);
}
END_TEST

START_TEST(open_slot_names_node_and_slot)
{
	struct test_cluster *tc = tc_start(3, 1);
	int owner = tc_owner_of(tc, 0, 100);
	int target = other_master(tc, owner, -1);
	struct run_result r;
	char want[128];
	cJSON *doc, *f;

	expect_ok_reply(tc_command(tc, owner, "CLUSTER SETSLOT 100 MIGRATING %s", tc_id(tc, target)),
		"SETSLOT MIGRATING");
	run_slotctl(&r, RUN_LIMIT_S, "check", tc_seed(tc), NULL);
	ck_assert_exit(&r, SC_EXIT_PROBLEMS);
	snprintf(want, sizeof(want), "[ERR]  open-slot: %s", addr_of(tc, owner));
	ck_assert_contains(r.out, want);
	snprintf(want, sizeof(want), "has slot 100 migrating to %s", addr_of(tc, target));
	ck_assert_contains(r.out, want);
	run_result_free(&r);

	doc = check_json(tc, SC_EXIT_PROBLEMS, NULL);
	f = json_finding(doc, "open-slot", "err");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(cJSON_GetObjectItem(f, "slots")->valuestring, "100");
	snprintf(want, sizeof(want), "127.0.0.1:%d", tc_port(tc, owner));
	ck_assert_str_eq(first_node_addr(f), want);
	cJSON_Delete(doc);

	/* a slot left open does not go away by waiting: --wait gives up and says so */
	run_slotctl(&r, RUN_LIMIT_S, "check", tc_seed(tc), "--wait", "1", NULL);
	ck_assert_exit(&r, SC_EXIT_PROBLEMS);
	ck_assert_contains(r.err, "did not converge within 1 s");
	ck_assert_contains(r.out, "[ERR]  open-slot:");
	run_result_free(&r);

	expect_ok_reply(tc_command(tc, owner, "CLUSTER SETSLOT 100 STABLE"), "SETSLOT STABLE");
	expect_settles(tc);
	tc_stop(tc);
}
END_TEST

START_TEST(uncovered_slots_are_named)
{
	struct test_cluster *tc = tc_start(3, 1);
	int owner = tc_owner_of(tc, 0, 16383);
	struct run_result r;
	char want[160];
	int stray = 0;
	cJSON *doc, *f;

	tc_load_keys(tc, "k", 1000);
	for (int i = 0; i < 1000; i++) {
		char key[32];

		snprintf(key, sizeof(key), "k:%d", i);
		if (keyslot_of(key, strlen(key)) >= 16000)
			stray++;
	}
	ck_assert_int_gt(stray, 0);
	for (int i = 0; i < tc_count(tc); i++)
		expect_ok_reply(tc_command(tc, i, "CLUSTER DELSLOTSRANGE 16000 16383"), "DELSLOTSRANGE");
	run_slotctl(&r, RUN_LIMIT_S, "check", tc_seed(tc), NULL);
	ck_assert_exit(&r, SC_EXIT_PROBLEMS);
	ck_assert_contains(r.out, "[ERR]  uncovered-slots: 384 slots have no owner");
	ck_assert_contains(r.out, ": 16000-16383;");
	/* the keys still on the former owner are named, with their slots */
	snprintf(want, sizeof(want), "[ERR]  stray-keys: %s", addr_of(tc, owner));
	ck_assert_contains(r.out, want);
	snprintf(want, sizeof(want), "holds %d key%s in slot", stray, stray == 1 ? "" : "s");
	ck_assert_contains(r.out, want);
	ck_assert_contains(r.out, "16000/16384 slots covered");
	run_result_free(&r);

	doc = check_json(tc, SC_EXIT_PROBLEMS, NULL);
	f = json_finding(doc, "uncovered-slots", "err");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(cJSON_GetObjectItem(f, "slots")->valuestring, "16000-16383");
	ck_assert_int_eq(cJSON_GetObjectItem(f, "slot_count")->valueint, 384);
	cJSON_Delete(doc);
	tc_stop(tc);
}
END_TEST

START_TEST(node_with_its_own_view_is_named)
{
	struct test_cluster *tc = tc_start(3, 1);
	int owner = tc_owner_of(tc, 0, 0);
	int odd = other_master(tc, owner, 0); /* not the seed: the reference stays right */
	struct run_result r;
	char range[64], want[256];
	cJSON *doc, *f;

	/* odd forgets the owner of slot 0 (for 60 s nobody can remind it), so
	 * in its view the owner's slots have no owner */
	slots_of(tc, owner, range, sizeof(range));
	expect_ok_reply(tc_command(tc, odd, "CLUSTER FORGET %s", tc_id(tc, owner)), "CLUSTER FORGET");
	run_slotctl(&r, RUN_LIMIT_S, "check", tc_seed(tc), NULL);
	ck_assert_exit(&r, SC_EXIT_PROBLEMS);
	snprintf(want, sizeof(want), "[ERR]  views-disagree: %s", addr_of(tc, odd));
	ck_assert_contains(r.out, want);
	snprintf(want, sizeof(want), "about slots %s (%s: unassigned here, %s", range, range, addr_of(tc, owner));
	ck_assert_contains(r.out, want);
	run_result_free(&r);

	doc = check_json(tc, SC_EXIT_PROBLEMS, NULL);
	f = json_finding(doc, "views-disagree", "err");
	ck_assert_ptr_nonnull(f);
	snprintf(want, sizeof(want), "127.0.0.1:%d", tc_port(tc, odd));
	ck_assert_str_eq(first_node_addr(f), want);
	ck_assert_str_eq(cJSON_GetObjectItem(f, "slots")->valuestring, range);
	cJSON_Delete(doc);
	tc_stop(tc);
}
END_TEST

/* A replica frozen for longer than CHECK_REPLICA_SILENT_S is named by its
 * master's INFO replication: a warning naming master, replica and offsets
 * (besides the replica's own node-unreachable). */
START_TEST(silent_replica_is_named)
{
	struct test_cluster *tc = tc_start(3, 1);
	int master = 0, replica = tc_replica_of(tc, 0);
	struct run_result r;
	char want[160];

	ck_assert_int_ge(replica, 0);
	tc_load_keys(tc, "k", 300);
	expect_settles(tc);
	ck_assert_int_eq(kill(tc_pid(tc, replica), SIGSTOP), 0);
	sleep(CHECK_REPLICA_SILENT_S + 2);
	run_slotctl(&r, RUN_LIMIT_S, "check", tc_seed(tc), "--timeout", "500", NULL);
	ck_assert_int_eq(kill(tc_pid(tc, replica), SIGCONT), 0);
	snprintf(want, sizeof(want), "[WARN] replica-not-acknowledging: replica %s", addr_of(tc, replica));
	ck_assert_contains(r.out, want);
	snprintf(want, sizeof(want), "of master %s", addr_of(tc, master));
	ck_assert_contains(r.out, want);
	ck_assert_contains(r.out, "a failover to it would lose them");
	run_result_free(&r);
	tc_verify_keys(tc, "k", 300);
	tc_stop(tc);
}
END_TEST

START_TEST(frozen_node_is_unreachable_within_timeout)
{
	struct test_cluster *tc = tc_start(3, 1);
	int frozen = other_master(tc, 0, -1);
	struct run_result r;
	char want[128], range[64];
	cJSON *doc, *f;

	slots_of(tc, frozen, range, sizeof(range));
	ck_assert_int_eq(kill(tc_pid(tc, frozen), SIGSTOP), 0);
	run_slotctl(&r, RUN_LIMIT_S, "check", tc_seed(tc), "--timeout", "500", NULL);
	/* exit 3, not killed by run_slotctl: the frozen node cost about 500 ms */
	ck_assert_exit(&r, SC_EXIT_UNREACHABLE);
	ck_assert_msg(r.seconds < RUN_LIMIT_S / 4, "check took %.1f s", r.seconds);
	snprintf(want, sizeof(want), "[ERR]  node-unreachable: no reply from %s", addr_of(tc, frozen));
	ck_assert_contains(r.out, want);
	snprintf(want, sizeof(want), "it serves slots %s", range);
	ck_assert_contains(r.out, want);
	ck_assert_contains(r.out, "6 nodes (5 reachable)");
	run_result_free(&r);

	doc = check_json(tc, SC_EXIT_UNREACHABLE, "--timeout=500");
	f = json_finding(doc, "node-unreachable", "err");
	ck_assert_ptr_nonnull(f);
	snprintf(want, sizeof(want), "127.0.0.1:%d", tc_port(tc, frozen));
	ck_assert_str_eq(first_node_addr(f), want);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "cluster"), "keys")));
	cJSON_Delete(doc);
	ck_assert_int_eq(kill(tc_pid(tc, frozen), SIGCONT), 0);
	tc_stop(tc);
}
END_TEST

/* Every byte arrives well within --timeout, the whole reply would take
 * minutes: the bound is on the reply, so check gives up within it. */
START_TEST(trickled_reply_is_bounded_by_timeout)
{
	struct test_cluster *tc = tc_start(3, 0);
	struct run_result r;
	char seed[32], want[96];
	int port;
	pid_t relay = trickle_start(tc_port(tc, 0), 50, &port);

	snprintf(seed, sizeof(seed), "127.0.0.1:%d", port);
	run_slotctl(&r, RUN_LIMIT_S, "check", seed, "--timeout", "300", NULL);
	ck_assert_exit(&r, SC_EXIT_UNREACHABLE);
	ck_assert_msg(r.seconds < RUN_LIMIT_S / 4, "check took %.1f s", r.seconds);
	snprintf(want, sizeof(want), "no reply from '%s': timed out after 300 ms", seed);
	ck_assert_contains(r.err, want);
	run_result_free(&r);
	trickle_stop(relay);
	tc_stop(tc);
}
END_TEST

#define STRAY_KEYS 8

/* STRAY_KEYS keys "{strayT}:<i>" with values "v<i>" of a slot master `owner`
 * owns, written on master `holder` (briefly importing the slot there) and
 * left behind with the slot closed again: nothing in any view looks wrong.
 * Writes the hash tag into tag and returns the slot. */
static int leave_stray_keys(const struct test_cluster *tc, int holder, int owner, char *tag, size_t size)
{
	redisContext *c = tc_connect(tc, holder);
	int slot;

	for (int t = 0;; t++) {
		snprintf(tag, size, "{stray%d}", t);
		slot = keyslot_of(tag, strlen(tag));
		if (tc_owner_of(tc, 0, slot) == owner)
			break;
	}
	expect_ok_reply(redisCommand(c, "CLUSTER SETSLOT %d IMPORTING %s", slot, tc_id(tc, owner)), "IMPORTING");
	for (int i = 0; i < STRAY_KEYS; i++) {
		expect_ok_reply(redisCommand(c, "ASKING"), "ASKING");
		expect_ok_reply(redisCommand(c, "SET %s:%d v%d", tag, i, i), "SET");
	}
	expect_ok_reply(redisCommand(c, "CLUSTER SETSLOT %d STABLE", slot), "STABLE");
	redisFree(c);
	return slot;
}

/* Issue 13.5: 8 keys of a slot owned by another master, in an otherwise
 * healthy cluster, were invisible to a plain check (exit 0). Now the default
 * check finds them through the holder's DBSIZE, --deep names the keys, fix
 * moves each one to the owner, and check passes again. */
START_TEST(stray_keys_are_found_by_default)
{
	struct test_cluster *tc = tc_start(3, 0);
	char tag[32], want[160], addr[32];
	int holder = other_master(tc, 0, -1), slot;
	struct run_result r;
	redisReply *v;
	cJSON *doc, *f;

	tc_load_keys(tc, "k", 300);
	slot = leave_stray_keys(tc, holder, 0, tag, sizeof(tag));

	run_slotctl(&r, RUN_LIMIT_S, "check", tc_seed(tc), NULL);
	ck_assert_exit(&r, SC_EXIT_PROBLEMS);
	snprintf(want, sizeof(want), "[ERR]  stray-keys: %s", addr_of(tc, holder));
	ck_assert_contains(r.out, want);
	snprintf(want, sizeof(want), "holds %d keys in slot %d that it does not own (run 'slotctl fix'",
		STRAY_KEYS, slot);
	ck_assert_contains(r.out, want);
	ck_assert_contains(r.out, "308 keys");
	run_result_free(&r);

	doc = check_json(tc, SC_EXIT_PROBLEMS, NULL);
	f = json_finding(doc, "stray-keys", "err");
	ck_assert_ptr_nonnull(f);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", tc_port(tc, holder));
	ck_assert_str_eq(first_node_addr(f), addr);
	snprintf(want, sizeof(want), "%d", slot);
	ck_assert_str_eq(cJSON_GetObjectItem(f, "slots")->valuestring, want);
	cJSON_Delete(doc);

	run_slotctl(&r, RUN_LIMIT_S, "check", tc_seed(tc), "--deep", NULL);
	ck_assert_exit(&r, SC_EXIT_PROBLEMS);
	snprintf(want, sizeof(want), "holds %d keys in slot %d that it does not own: '%s:", STRAY_KEYS, slot, tag);
	ck_assert_contains(r.out, want);
	ck_assert_contains(r.out, " and 3 more (run 'slotctl fix'");
	run_result_free(&r);

	/* fix moves them to the owner without overwriting; then check finds nothing */
	run_slotctl(&r, RUN_LIMIT_S, "fix", tc_seed(tc), "--yes", NULL);
	ck_assert_exit(&r, SC_EXIT_OK);
	snprintf(want, sizeof(want), "slot %d: stray-keys", slot);
	ck_assert_contains(r.out, want);
	run_result_free(&r);
	run_slotctl(&r, RUN_LIMIT_S, "check", tc_seed(tc), NULL);
	ck_assert_exit(&r, SC_EXIT_OK);
	ck_assert_contains(r.out, "[OK]   stray-keys: no master holds keys in a slot it does not own");
	run_result_free(&r);
	run_slotctl(&r, RUN_LIMIT_S, "check", tc_seed(tc), "--deep", NULL);
	ck_assert_exit(&r, SC_EXIT_OK);
	snprintf(want, sizeof(want), "[OK]   stray-keys: no master holds keys in a slot it does not own (all %d slots",
		SC_SLOTS);
	ck_assert_contains(r.out, want);
	run_result_free(&r);
	/* each stray key now lives once, on its slot's owner, with its value */
	for (int i = 0; i < STRAY_KEYS; i++) {
		char value[16];

		snprintf(value, sizeof(value), "v%d", i);
		v = tc_command(tc, 0, "GET %s:%d", tag, i);
		ck_assert_msg(v->type == REDIS_REPLY_STRING && strcmp(v->str, value) == 0, "'%s:%d' is not on its owner",
			tag, i);
		freeReplyObject(v);
	}
	v = tc_command(tc, holder, "CLUSTER COUNTKEYSINSLOT %d", slot);
	ck_assert_int_eq(v->integer, 0);
	freeReplyObject(v);
	v = tc_command(tc, 0, "CLUSTER COUNTKEYSINSLOT %d", slot);
	ck_assert_int_eq(v->integer, STRAY_KEYS);
	freeReplyObject(v);
	tc_verify_keys(tc, "k", 300);
	tc_stop(tc);
}
END_TEST

/* Runs `CLUSTER SETSLOT slot STABLE` on node i after delay_ms, from a child
 * process with its own connection. */
static pid_t stabilize_later(const struct test_cluster *tc, int i, int slot, int delay_ms)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		redisContext *c;
		redisReply *reply;

		usleep((useconds_t)delay_ms * 1000);
		c = tc_connect(tc, i);
		reply = c ? redisCommand(c, "CLUSTER SETSLOT %d STABLE", slot) : NULL;
		_exit(reply && reply->type != REDIS_REPLY_ERROR ? 0 : 1);
	}
	return pid;
}

START_TEST(wait_converges_after_a_change)
{
	struct test_cluster *tc = tc_start(3, 1);
	int owner = tc_owner_of(tc, 0, 200);
	int target = other_master(tc, owner, -1);
	int replica = -1, status;
	struct run_result r;
	pid_t child;

	/* an open slot closed 1.5 s later: --wait sees it through */
	expect_ok_reply(tc_command(tc, owner, "CLUSTER SETSLOT 200 MIGRATING %s", tc_id(tc, target)),
		"SETSLOT MIGRATING");
	run_slotctl(&r, RUN_LIMIT_S, "check", tc_seed(tc), NULL);
	ck_assert_exit(&r, SC_EXIT_PROBLEMS);
	run_result_free(&r);
	child = stabilize_later(tc, owner, 200, 1500);
	run_slotctl(&r, RUN_LIMIT_S, "check", tc_seed(tc), "--wait", "30", NULL);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "SETSLOT STABLE failed");
	ck_assert_exit(&r, SC_EXIT_OK);
	ck_assert_contains(r.out, "[OK]   open-slot:");
	ck_assert_str_eq(r.err, "");
	run_result_free(&r);

	/* a replica drops slots from its view; gossip from the owner restores them */
	for (int i = 0; i < tc_count(tc); i++)
		if (!tc_is_master(tc, i))
			replica = i;
	ck_assert_int_ge(replica, 0);
	expect_ok_reply(tc_command(tc, replica, "CLUSTER DELSLOTSRANGE 0 99"), "DELSLOTSRANGE");
	run_slotctl(&r, RUN_LIMIT_S, "check", tc_seed(tc), "--wait", "30", NULL);
	ck_assert_exit(&r, SC_EXIT_OK);
	ck_assert_contains(r.out, "[OK]   views-disagree:");
	run_result_free(&r);
	tc_stop(tc);
}
END_TEST

START_TEST(bad_seed_and_usage)
{
	struct run_result r;

	run_slotctl(&r, RUN_LIMIT_S, "check", "not-an-address", NULL);
	ck_assert_exit(&r, SC_EXIT_USAGE);
	ck_assert_str_eq(r.out, "");
	run_result_free(&r);
	run_slotctl(&r, RUN_LIMIT_S, "check", "127.0.0.1:1", "--timeout", "500", NULL);
	ck_assert_exit(&r, SC_EXIT_UNREACHABLE);
	ck_assert_contains(r.err, "127.0.0.1:1");
	ck_assert_str_eq(r.out, "");
	run_result_free(&r);
	run_slotctl(&r, RUN_LIMIT_S, "check", "127.0.0.1:1", "--wait", "soon", NULL);
	ck_assert_exit(&r, SC_EXIT_USAGE);
	ck_assert_contains(r.err, "--wait");
	run_result_free(&r);
}
END_TEST

static Suite *check_suite(void)
{
	Suite *s = suite_create("check");
	TCase *t = tcase_create("cluster");

	tcase_set_timeout(t, 300);
	tcase_add_test(t, healthy_cluster_is_ok);
	tcase_add_test(t, open_slot_names_node_and_slot);
	tcase_add_test(t, uncovered_slots_are_named);
	tcase_add_test(t, node_with_its_own_view_is_named);
	tcase_add_test(t, frozen_node_is_unreachable_within_timeout);
	tcase_add_test(t, silent_replica_is_named);
	tcase_add_test(t, trickled_reply_is_bounded_by_timeout);
	tcase_add_test(t, stray_keys_are_found_by_default);
	tcase_add_test(t, wait_converges_after_a_change);
	tcase_add_test(t, bad_seed_and_usage);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return check_run(check_suite());
}
