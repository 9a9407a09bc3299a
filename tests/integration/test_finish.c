/* test_finish.c: how apply finishes the slots it moved (SETSLOT NODE),
 * against real servers: the target announces its new slots once per batch
 * of finished slots, not once per slot (counted by the PONGs its cluster bus
 * sent), and with an ACL user that may not use MULTI/EXEC the quiet steps of
 * a batch run one by one; a master that gives away its last slot and becomes
 * a replica meanwhile does not fail the move, nor stop resume or abort
 * after slotctl was killed there, nor fix finishing such a move that
 * another tool left open. Every key ends on its slot's owner with its value
 * and every node sees the new owner. */
#include "exec_support.h"
#include "check_run.h"
#include "slotctl/core/info_text.h"

#include <signal.h>

#define NKEYS 3000
#define NSLOTS 256

static long long pongs_sent(const struct test_cluster *tc, int node)
{
	redisReply *r = tc_command(tc, node, "CLUSTER INFO");
	long long n;

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
	n = info_get_ll(r->str, "cluster_stats_messages_pong_sent", -1);
	freeReplyObject(r);
	ck_assert_int_ge(n, 0);
	return n;
}

/* Slots master `owner` holds in node view's own view. */
static int slots_held(const struct test_cluster *tc, int view, int owner)
{
	redisReply *r = tc_command(tc, view, "CLUSTER NODES");
	struct topology t;
	struct sc_error err;
	const struct node *n;
	int count;

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
	ck_assert_msg(topology_parse(r->str, r->len, &t, &err) == 0, "%s", err.msg);
	freeReplyObject(r);
	n = topology_find(&t, tc_id(tc, owner));
	ck_assert_ptr_nonnull(n);
	count = slotset_count(node_slots(n));
	topology_release(&t);
	return count;
}

/* Moves count slots of master 0 to master 1 with apply and the extra
 * arguments (NULL-terminated), then checks every key, every view and the
 * cluster. */
static void move_and_verify(struct test_cluster *tc, int count, const char *const *extra)
{
	struct exec_transfer t = { 0, 1, count };
	char dir[64], plan[128];
	const char *argv[16] = { "apply", plan, "--yes", "--parallel", "1" };
	struct run_result r;
	int argc = 5, before = slots_held(tc, 0, 1);

	exec_temp_path(dir, sizeof(dir), plan, sizeof(plan), "plan.json");
	exec_write_plan(tc, &t, 1, "k", NKEYS, plan);
	while (extra && *extra)
		argv[argc++] = *extra++;
	argv[argc] = NULL;
	run_slotctl_argv(&r, 300, argv);
	ck_assert_exit(&r, 0);
	run_result_free(&r);

	tc_verify_keys(tc, "k", NKEYS);
	ck_assert(tc_wait_converged(tc, 10000));
	for (int node = 0; node < 3; node++) {
		ck_assert_int_eq(exec_open_slots(tc, node), 0);
		ck_assert_int_eq(slots_held(tc, node, 1), before + count);
	}
	EXEC_RUN(&r, 0, 60, "check", tc_seed(tc));
	run_result_free(&r);
}

/* Announcing every slot would send each of the two other nodes NSLOTS
 * PONGs; batches of 8 send each about NSLOTS / 8, plus ordinary gossip. */
START_TEST(target_announces_once_per_batch)
{
	struct test_cluster *tc = tc_start(3, 0);
	long long before, sent;

	tc_load_keys(tc, "k", NKEYS);
	before = pongs_sent(tc, 1);
	move_and_verify(tc, NSLOTS, NULL);
	sent = pongs_sent(tc, 1) - before;
	ck_assert_msg(sent < NSLOTS, "the target sent %lld PONGs while taking %d slots: one announcement per slot?",
		sent, NSLOTS);
	tc_stop(tc);
}
END_TEST

/* Users that may not run MULTI and EXEC, or EXEC only (the server then
 * discards the transaction with EXECABORT): the quiet steps go one by one
 * instead, and every move completes. */
START_TEST(finishes_when_multi_is_refused)
{
	struct test_cluster *tc = tc_start(3, 0);

	tc_load_keys(tc, "k", NKEYS);
	for (int u = 0; u < 2; u++) {
		char name[16];
		const char *as_user[] = { "--user", name, "--pass", "s3cret", NULL };

		snprintf(name, sizeof(name), "mover%d", u);
		for (int node = 0; node < 3; node++) {
			redisReply *r = u == 0 ?
				tc_command(tc, node, "ACL SETUSER mover0 on >s3cret ~* &* +@all -multi -exec") :
				tc_command(tc, node, "ACL SETUSER mover1 on >s3cret ~* &* +@all -exec");

			ck_assert_ptr_nonnull(r);
			ck_assert_int_ne(r->type, REDIS_REPLY_ERROR);
			freeReplyObject(r);
		}
		move_and_verify(tc, 64, as_user);
	}
	tc_stop(tc);
}
END_TEST

/* With a replica per master (Valkey 8+ then holds each SETSLOT until the
 * replica has it, and the finisher spreads a batch's SETSLOTs over lanes,
 * several connections per node): every key and every slot lands, on every
 * node, replicas included; and slotctl killed while lanes still hold
 * unread replies leaves a state resume completes. */
static void on_lanes_verify(struct test_cluster *tc, int before, int count)
{
	tc_verify_keys(tc, "k", NKEYS);
	ck_assert(tc_wait_converged(tc, 10000));
	for (int node = 0; node < tc_count(tc); node++) {
		ck_assert_int_eq(exec_open_slots(tc, node), 0);
		ck_assert_int_eq(slots_held(tc, node, 1), before + count);
	}
}

START_TEST(finishes_on_lanes_with_replicas)
{
	struct test_cluster *tc = tc_start(3, 1);
	const char *keys_path[] = { "--backend", "keys", NULL };
	int before = slots_held(tc, 0, 1);

	tc_load_keys(tc, "k", NKEYS);
	move_and_verify(tc, NSLOTS, keys_path);
	on_lanes_verify(tc, before, NSLOTS);
	tc_stop(tc);
}
END_TEST

START_TEST(resume_after_kill_on_lanes)
{
	struct test_cluster *tc = tc_start(3, 1);
	struct exec_transfer t = { 0, 1, NSLOTS };
	char dir[64], plan[128];
	struct run_result r;
	int before = slots_held(tc, 0, 1);

	tc_load_keys(tc, "k", NKEYS);
	exec_temp_path(dir, sizeof(dir), plan, sizeof(plan), "plan.json");
	exec_write_plan(tc, &t, 1, "k", NKEYS, plan);
	/* mid-batch: the target took slots whose NODE to the source and the
	 * other master is still on its lanes, unread */
	setenv("SLOTCTL_TEST_CRASH_AT", "owner-on-target:21", 1);
	EXEC_RUN(&r, 128 + SIGKILL, 300, "apply", plan, "--yes", "--parallel", "1", "--backend", "keys");
	unsetenv("SLOTCTL_TEST_CRASH_AT");
	run_result_free(&r);
	EXEC_RUN(&r, 0, 300, "resume", plan);
	run_result_free(&r);
	on_lanes_verify(tc, before, NSLOTS);
	tc_stop(tc);
}
END_TEST

/* Applies a plan moving count slots of master 2 to master 0; with crash_at
 * set, slotctl is killed there (the test-only SLOTCTL_TEST_CRASH_AT hook). */
static void move_from_2(struct test_cluster *tc, int count, const char *crash_at, char *plan, size_t size)
{
	struct exec_transfer t = { 2, 0, count };
	char dir[64];
	struct run_result r;

	exec_temp_path(dir, sizeof(dir), plan, size, "plan.json");
	exec_write_plan(tc, &t, 1, "k", NKEYS, plan);
	if (crash_at)
		setenv("SLOTCTL_TEST_CRASH_AT", crash_at, 1);
	/* key by key: the crash hooks name the key path's phases */
	EXEC_RUN(&r, crash_at ? 128 + SIGKILL : 0, 300, "apply", plan, "--yes", "--backend", "keys");
	unsetenv("SLOTCTL_TEST_CRASH_AT");
	run_result_free(&r);
}

/* Every key in place, master 0 holding what it had and all of master 2's
 * slots in every view, master 2 none. */
static void verify_emptied(struct test_cluster *tc, int before, int all)
{
	tc_verify_keys(tc, "k", NKEYS);
	ck_assert(tc_wait_converged(tc, 10000));
	for (int node = 0; node < 3; node++) {
		ck_assert_int_eq(slots_held(tc, node, 0), before + all);
		ck_assert_int_eq(slots_held(tc, node, 2), 0);
	}
}

/* Every slot of master 2 goes to master 0, its last slot in an apply of its
 * own. The announcement of that slot makes master 2 a replica of master 0
 * (cluster-allow-replica-migration) before its own SETSLOT NODE arrives,
 * which it then refuses ("Please use SETSLOT only with masters"): the move
 * is complete all the same. */
START_TEST(master_giving_its_last_slot_may_become_a_replica)
{
	struct test_cluster *tc = tc_start(3, 0);
	int all = slots_held(tc, 0, 2), before = slots_held(tc, 0, 0);
	char plan[128];

	tc_load_keys(tc, "k", NKEYS);
	move_from_2(tc, all - 1, NULL, plan, sizeof(plan));
	move_from_2(tc, 1, NULL, plan, sizeof(plan));
	verify_emptied(tc, before, all);
	tc_stop(tc);
}
END_TEST

/* The same, slotctl killed once the target took the last slot: master 2,
 * now a replica, is no longer a master of the cluster, and resume (or
 * abort, which finishes a slot the target owns) still completes the move. */
static void killed_at_last_slot_then(const char *op)
{
	struct test_cluster *tc = tc_start(3, 0);
	int all = slots_held(tc, 0, 2), before = slots_held(tc, 0, 0);
	char plan[128];
	struct run_result r;

	tc_load_keys(tc, "k", NKEYS);
	move_from_2(tc, all - 1, NULL, plan, sizeof(plan));
	move_from_2(tc, 1, "owner-on-target:1", plan, sizeof(plan));
	EXEC_RUN(&r, 0, 120, op, plan);
	run_result_free(&r);
	verify_emptied(tc, before, all);
	tc_stop(tc);
}

START_TEST(resume_after_the_last_slot_left)
{
	killed_at_last_slot_then("resume");
}
END_TEST

START_TEST(abort_after_the_last_slot_left)
{
	killed_at_last_slot_then("abort");
}
END_TEST

/* The one slot master `owner` still holds, in node view's view. */
static int last_slot_of(const struct test_cluster *tc, int view, int owner)
{
	redisReply *r = tc_command(tc, view, "CLUSTER NODES");
	struct topology t;
	struct sc_error err;
	const struct node *n;
	int slot = -1;

	ck_assert_ptr_nonnull(r);
	ck_assert_msg(topology_parse(r->str, r->len, &t, &err) == 0, "%s", err.msg);
	freeReplyObject(r);
	n = topology_find(&t, tc_id(tc, owner));
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(slotset_count(node_slots(n)), 1);
	for (int s = 0; s < SC_SLOTS && slot < 0; s++)
		if (slotset_has(node_slots(n), s))
			slot = s;
	topology_release(&t);
	return slot;
}

/* Writes LAST_KEYS keys "{<tag>}:<i>" of slot on node (its owner), their
 * values the keys themselves; tag (of size 32) gets the hash tag used. */
#define LAST_KEYS 5
static void load_slot(const struct test_cluster *tc, int node, int slot, char *tag)
{
	for (int n = 0; ; n++) {
		snprintf(tag, 32, "last%d", n);
		if (keyslot_of(tag, strlen(tag)) == slot)
			break;
	}
	for (int i = 0; i < LAST_KEYS; i++) {
		char key[64];

		snprintf(key, sizeof(key), "{%s}:%d", tag, i);
		freeReplyObject(tc_command(tc, node, "SET %s %s", key, key));
	}
}

/* Each key of load_slot on node `owner` with its value, the slot's total
 * keys there, none on node `other` (a master that never had the slot). */
static void verify_slot(const struct test_cluster *tc, int owner, int other, int slot, const char *tag,
	long long total)
{
	redisReply *r;

	for (int i = 0; i < LAST_KEYS; i++) {
		char key[64];

		snprintf(key, sizeof(key), "{%s}:%d", tag, i);
		r = tc_command(tc, owner, "GET %s", key);
		ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
		ck_assert_str_eq(r->str, key);
		freeReplyObject(r);
	}
	r = tc_command(tc, owner, "CLUSTER COUNTKEYSINSLOT %d", slot);
	ck_assert(r->type == REDIS_REPLY_INTEGER && r->integer == total);
	freeReplyObject(r);
	r = tc_command(tc, other, "CLUSTER COUNTKEYSINSLOT %d", slot);
	ck_assert(r->type == REDIS_REPLY_INTEGER && r->integer == 0);
	freeReplyObject(r);
}

/* CLUSTER SETSLOT slot how <id of peer> on node, which must take it. */
static void setslot_ok(const struct test_cluster *tc, int node, int slot, const char *how, int peer)
{
	redisReply *r = tc_command(tc, node, "CLUSTER SETSLOT %d %s %s", slot, how, tc_id(tc, peer));

	ck_assert_msg(r->type == REDIS_REPLY_STATUS, "node %d: SETSLOT %d %s: %s", node, slot, how, r->str);
	freeReplyObject(r);
}

/* A move of master 2's last slot to master 0 left open with every key on
 * master 0 (a migration that stopped before SETSLOT NODE, by another tool):
 * fix finishes it, and master 2, turned replica by master 0's announcement
 * before fix told it the new owner, refusing that SETSLOT, does not fail
 * the repair. */
START_TEST(fix_finishes_a_masters_last_slot)
{
	struct test_cluster *tc = tc_start(3, 0);
	int all = slots_held(tc, 0, 2), before = slots_held(tc, 0, 0), slot;
	char plan[128], tag[32];
	struct run_result r;
	long long total;

	tc_load_keys(tc, "k", NKEYS);
	move_from_2(tc, all - 1, NULL, plan, sizeof(plan));
	slot = last_slot_of(tc, 0, 2);
	load_slot(tc, 2, slot, tag);
	setslot_ok(tc, 0, slot, "IMPORTING", 2);
	setslot_ok(tc, 2, slot, "MIGRATING", 0);
	total = tc_migrate_keys(tc, slot, 2, 0, -1);
	ck_assert_int_ge(total, LAST_KEYS);
	EXEC_RUN(&r, 0, 120, "fix", tc_seed(tc), "--yes");
	run_result_free(&r);
	verify_emptied(tc, before, all);
	verify_slot(tc, 0, 1, slot, tag, total);
	EXEC_RUN(&r, 0, 60, "check", tc_seed(tc));
	run_result_free(&r);
	tc_stop(tc);
}
END_TEST

static Suite *finish_suite(void)
{
	Suite *s = suite_create("finish");
	TCase *tc = tcase_create("finish");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, target_announces_once_per_batch);
	tcase_add_test(tc, finishes_when_multi_is_refused);
	tcase_add_test(tc, finishes_on_lanes_with_replicas);
	tcase_add_test(tc, resume_after_kill_on_lanes);
	tcase_add_test(tc, master_giving_its_last_slot_may_become_a_replica);
	tcase_add_test(tc, resume_after_the_last_slot_left);
	tcase_add_test(tc, abort_after_the_last_slot_left);
	tcase_add_test(tc, fix_finishes_a_masters_last_slot);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(finish_suite());
}
