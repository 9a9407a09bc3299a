/* test_fix_lost.c: `slotctl fix` on a lost shard, against real servers: 3
 * masters with a replica each and known keys; one master and its replica
 * are killed and flagged fail by the others. fix names the shard and its
 * slots and refuses (exit 3, nothing changed); the dry run with
 * --accept-data-loss names exactly the lost slots; fix --yes
 * --accept-data-loss gives them, empty, to the two live masters, half each;
 * after node forget-failed, check is healthy, every surviving key is once
 * on its (unchanged) owner with its value, and the lost slots hold none. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "slotctl/io/clock.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/keyslot.h"
#include "slotctl/core/slotset.h"
#include "support.h"
#include "check_run.h"

#define NKEYS 600
#define LOST 2   /* the master killed (not the seed, node 0) */

/* The line of node id in node 0's CLUSTER NODES: whether it is flagged fail (not
 * fail?), and its slots field into slots. */
static bool line_of(const struct test_cluster *tc, const char *id, char *slots, size_t size)
{
	redisReply *r = tc_command(tc, 0, "CLUSTER NODES");
	const char *line, *end, *conn;
	bool failed;

	ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
	/* the line that starts with id, not a replica's naming it as master */
	for (line = strstr(r->str, id); line && line != r->str && line[-1] != '\n'; line = strstr(line + 1, id))
		;
	ck_assert_ptr_nonnull(line);
	end = strchr(line, '\n');
	ck_assert_ptr_nonnull(end);
	conn = strstr(line, "connected ");
	failed = strstr(line, ",fail ") && strstr(line, ",fail ") < end;
	if (slots)
		snprintf(slots, size, "%.*s", conn && conn < end ? (int)(end - conn - 10) : 0, conn ? conn + 10 : "");
	freeReplyObject(r);
	return failed;
}

static void keyname(int i, char *buf, size_t size)
{
	snprintf(buf, size, "k:%d", i);
}

START_TEST(lost_shard_recovered_with_accept_data_loss)
{
	struct test_cluster *tc = tc_start(3, 1);
	int replica = tc_replica_of(tc, LOST), owner_before[NKEYS], lost_to[2] = { 0, 0 };
	char lost_id[48], lost_slots[64], seed[32], want[160], addr[32];
	long long deadline;
	struct run_result r;

	ck_assert_int_ge(replica, 0);
	snprintf(seed, sizeof(seed), "%s", tc_seed(tc));
	snprintf(lost_id, sizeof(lost_id), "%s", tc_id(tc, LOST));
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", tc_port(tc, LOST));
	tc_load_keys(tc, "k", NKEYS);
	line_of(tc, lost_id, lost_slots, sizeof(lost_slots));
	ck_assert_msg(lost_slots[0] && !strchr(lost_slots, ' '), "slots '%s'", lost_slots);
	for (int i = 0; i < NKEYS; i++) {
		char k[32];

		keyname(i, k, sizeof(k));
		owner_before[i] = tc_owner_of(tc, 0, keyslot_of(k, strlen(k)));
	}

	ck_assert_int_eq(kill(tc_pid(tc, LOST), SIGKILL), 0);
	ck_assert_int_eq(kill(tc_pid(tc, replica), SIGKILL), 0);
	deadline = sc_clock_ms() + 60000;
	while (!line_of(tc, lost_id, NULL, 0)) {
		ck_assert_msg(sc_clock_ms() < deadline, "the killed master is not flagged fail after 60 s");
		usleep(200000);
	}

	/* named and refused; nothing changed */
	run_slotctl(&r, 120, "fix", seed, "--yes", NULL);
	ck_assert_exit(&r, SC_EXIT_UNREACHABLE);
	ck_assert_contains(r.err, "lost shard");
	ck_assert_contains(r.err, addr);
	ck_assert_contains(r.err, lost_slots);
	ck_assert_contains(r.err, "--accept-data-loss");
	run_result_free(&r);
	ck_assert(line_of(tc, lost_id, want, sizeof(want)));
	ck_assert_str_eq(want, lost_slots);

	/* the dry run names exactly the lost slots; nothing changed */
	run_slotctl(&r, 120, "fix", seed, "--dry-run", "--accept-data-loss", NULL);
	ck_assert_exit(&r, SC_EXIT_OK);
	snprintf(want, sizeof(want), "keys lost: every key of slots %s (", lost_slots);
	ck_assert_contains(r.out, want);
	ck_assert_contains(r.out, "lost-shard");
	run_result_free(&r);
	ck_assert(line_of(tc, lost_id, want, sizeof(want)));
	ck_assert_str_eq(want, lost_slots);

	/* every lost slot repaired; check's only findings are the dead nodes
	 * (exit 3: they cannot be reached) until they are forgotten */
	run_slotctl(&r, 300, "fix", seed, "--yes", "--accept-data-loss", "--wait", "5", NULL);
	ck_assert_exit(&r, SC_EXIT_UNREACHABLE);
	ck_assert_contains(r.out, " repaired, 0 left unrepaired, 0 failed");
	for (const char *p = strstr(r.out, "check: [ERR] "); p; p = strstr(p + 1, "check: [ERR] "))
		ck_assert_msg(strncmp(p + 13, "node-unreachable: ", 18) == 0 ||
			strncmp(p + 13, "node-failed: ", 13) == 0, "%s", r.out);
	run_result_free(&r);
	run_slotctl(&r, 120, "node", "forget-failed", seed, "--yes", NULL);
	ck_assert_exit(&r, SC_EXIT_OK);
	run_result_free(&r);
	run_slotctl(&r, 120, "check", seed, "--wait", "30", NULL);
	ck_assert_exit(&r, SC_EXIT_OK);
	run_result_free(&r);

	/* every lost slot empty on a live master, split in two; every other key
	 * once on its unchanged owner with its value */
	{
		struct slotset lost;
		struct sc_error err;

		ck_assert_int_eq(slotset_parse(lost_slots, &lost, &err), 0);
		for (int s = 0; s < SC_SLOTS; s++) {
			int o;

			if (!slotset_has(&lost, s))
				continue;
			o = tc_owner_of(tc, 0, s);
			ck_assert_msg(o == 0 || o == 1, "lost slot %d owned by node %d", s, o);
			lost_to[o]++;
			if (s % 97 == 0)
				for (int m = 0; m < 2; m++) {
					redisReply *c = tc_command(tc, m, "CLUSTER COUNTKEYSINSLOT %d", s);

					ck_assert_int_eq(c->integer, 0);
					freeReplyObject(c);
				}
		}
		ck_assert_int_le(abs(lost_to[0] - lost_to[1]), 1);
		ck_assert_int_eq(lost_to[0] + lost_to[1], slotset_count(&lost));
		for (int i = 0, lost_keys = 0, kept = 0; i < NKEYS; i++) {
			char k[32];
			int slot;
			redisReply *g;

			keyname(i, k, sizeof(k));
			slot = keyslot_of(k, strlen(k));
			if (slotset_has(&lost, slot)) {
				for (int m = 0; m < 2; m++) {
					redisReply *c = tc_command(tc, m, "CLUSTER COUNTKEYSINSLOT %d", slot);

					ck_assert_msg(c->integer == 0, "lost key %s is back on node %d", k, m);
					freeReplyObject(c);
				}
				lost_keys++;
			} else {
				ck_assert_int_eq(tc_owner_of(tc, 0, slot), owner_before[i]);
				g = tc_command(tc, owner_before[i], "GET %s", k);
				ck_assert_msg(g->type == REDIS_REPLY_STRING, "key %s missing on its owner", k);
				ck_assert_str_eq(g->str, tc_value_for("k", i));
				freeReplyObject(g);
				g = tc_command(tc, 1 - owner_before[i], "CLUSTER COUNTKEYSINSLOT %d", slot);
				ck_assert_int_eq(g->integer, 0);
				freeReplyObject(g);
				kept++;
			}
			if (i == NKEYS - 1)
				ck_assert_msg(lost_keys > 0 && kept > 0, "lost %d kept %d", lost_keys, kept);
		}
	}
	tc_stop(tc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fix_lost");
	TCase *tc = tcase_create("fix_lost");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, lost_shard_recovered_with_accept_data_loss);
	suite_add_tcase(s, tc);
	return check_run(s);
}
