/* test_traffic.c: the traffic client of tests/support/traffic.h against real
 * servers. While the test moves one slot by hand (IMPORTING, MIGRATING, key
 * by key MIGRATE, SETSLOT NODE everywhere) the client follows ASK and MOVED
 * and sees no error; when a key is corrupted or deleted it does report
 * errors, so a data-moving test asserting errors == 0 can fail. */
#include "support.h"
#include "traffic.h"
#include "slotctl/core/keyslot.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PASS_TIMEOUT_MS 60000

/* The slot holding the most of the keys "<prefix>:0..n-1". */
static int busiest_slot(const char *prefix, int n)
{
	static int count[SC_SLOTS];
	int best = 0;

	memset(count, 0, sizeof(count));
	for (int i = 0; i < n; i++) {
		char key[64];
		int s;

		snprintf(key, sizeof(key), "%s:%d", prefix, i);
		s = keyslot_of(key, strlen(key));
		if (++count[s] > count[best])
			best = s;
	}
	return best;
}

static void expect_ok(redisReply *r, const char *what)
{
	ck_assert_msg(r->type == REDIS_REPLY_STATUS, "%s: %s", what,
		r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
	freeReplyObject(r);
}

/* Moves every key of slot from src to dst one MIGRATE at a time, letting the
 * client run between keys. Returns how many keys moved. */
static int migrate_keys(const struct test_cluster *tc, struct traffic *t, int slot, int src, int dst)
{
	redisReply *keys = tc_command(tc, src, "CLUSTER GETKEYSINSLOT %d 1000", slot);
	int moved = 0;

	ck_assert_int_eq(keys->type, REDIS_REPLY_ARRAY);
	for (size_t k = 0; k < keys->elements; k++) {
		redisReply *r = tc_command(tc, src, "MIGRATE 127.0.0.1 %d %b 0 5000", tc_port(tc, dst),
			keys->element[k]->str, keys->element[k]->len);

		expect_ok(r, "MIGRATE");
		moved++;
		ck_assert(traffic_wait_ops(t, 20, PASS_TIMEOUT_MS));
	}
	freeReplyObject(keys);
	return moved;
}

START_TEST(hand_move_no_errors)
{
	const int n = 600;
	struct test_cluster *tc = tc_start(3, 0);
	struct traffic_stats st;
	struct traffic *t;
	int slot = busiest_slot("t", n);
	int src, dst;

	tc_load_keys(tc, "t", n);
	src = tc_owner_of(tc, 0, slot);
	dst = (src + 1) % 3;
	t = traffic_start(tc, "t", n);
	ck_assert(traffic_wait_ops(t, 2 * n, PASS_TIMEOUT_MS));

	expect_ok(tc_command(tc, dst, "CLUSTER SETSLOT %d IMPORTING %s", slot, tc_id(tc, src)), "IMPORTING");
	expect_ok(tc_command(tc, src, "CLUSTER SETSLOT %d MIGRATING %s", slot, tc_id(tc, dst)), "MIGRATING");
	ck_assert(traffic_wait_ops(t, 2 * n, PASS_TIMEOUT_MS));
	ck_assert_int_gt(migrate_keys(tc, t, slot, src, dst), 0);
	/* every key now answers ASK from the source: a full pass sees them */
	ck_assert(traffic_wait_ops(t, 2 * n, PASS_TIMEOUT_MS));
	expect_ok(tc_command(tc, dst, "CLUSTER SETSLOT %d NODE %s", slot, tc_id(tc, dst)), "NODE on target");
	expect_ok(tc_command(tc, src, "CLUSTER SETSLOT %d NODE %s", slot, tc_id(tc, dst)), "NODE on source");
	/* the client's map still says source: it gets MOVED */
	ck_assert(traffic_wait_ops(t, 2 * n, PASS_TIMEOUT_MS));
	expect_ok(tc_command(tc, 3 - src - dst, "CLUSTER SETSLOT %d NODE %s", slot, tc_id(tc, dst)), "NODE on other");
	ck_assert(traffic_wait_ops(t, 2 * n, PASS_TIMEOUT_MS));

	traffic_stop(t, &st);
	fprintf(stderr, "traffic: %ld ops in %.1f s, %ld errors, %ld MOVED, %ld ASK, %ld TRYAGAIN, "
		"p50 %ld us, p99 %ld us, max %ld us, %ld over 1 ms\n", st.ops, st.seconds, st.errors, st.moved,
		st.ask, st.tryagain, st.p50_us, st.p99_us, st.max_us, st.over_1ms);
	ck_assert_msg(st.errors == 0, "%ld errors, first: %s", st.errors, st.first_error);
	ck_assert_int_gt(st.ops, 10 * n);
	ck_assert_int_gt(st.ask, 0);
	ck_assert_int_gt(st.moved, 0);
	ck_assert_int_eq(st.first_error[0], '\0');
	ck_assert_int_gt(st.p50_us, 0);
	ck_assert_int_le(st.p50_us, st.p99_us);
	ck_assert_int_le(st.p99_us, st.max_us + st.max_us / 32);
	/* the count of slow operations agrees with the slowest one */
	ck_assert_msg(st.max_us >= 1000 ? st.over_1ms >= 1 && st.over_1ms <= st.ops : st.over_1ms == 0,
		"over_1ms %ld with max %ld us in %ld ops", st.over_1ms, st.max_us, st.ops);
	ck_assert_int_eq(tc_owner_of(tc, 0, slot), dst);
	tc_verify_keys(tc, "t", n);
	tc_stop(tc);
}
END_TEST

/* A read-only client, so that its own SETs cannot repair what it must see. */
static struct traffic *read_only_client(const struct test_cluster *tc, const char *prefix, int n)
{
	struct traffic_opts o = { .prefix = prefix, .nkeys = n, .ops_per_sec = -1, .read_only = true };
	char err[300];
	struct traffic *t;

	for (int i = 0; i < tc_count(tc); i++)
		o.ports[o.nports++] = tc_port(tc, i);
	t = traffic_start_opts(&o, err, sizeof(err));
	ck_assert_msg(t != NULL, "%s", err);
	return t;
}

START_TEST(reports_wrong_and_missing_values)
{
	const int n = 200;
	struct test_cluster *tc = tc_start(3, 0);
	struct traffic_stats st;
	struct traffic *t;
	long before;

	tc_load_keys(tc, "c", n);
	t = read_only_client(tc, "c", n);
	ck_assert(traffic_wait_ops(t, n, PASS_TIMEOUT_MS));
	ck_assert_int_eq(traffic_errors(t), 0);

	expect_ok(tc_command(tc, tc_owner_of(tc, 0, keyslot_of("c:5", 3)), "SET c:5 garbage"), "SET");
	ck_assert(traffic_wait_ops(t, 2 * n, PASS_TIMEOUT_MS));
	before = traffic_errors(t);
	ck_assert_int_gt(before, 0);
	freeReplyObject(tc_command(tc, tc_owner_of(tc, 0, keyslot_of("c:7", 3)), "DEL c:7"));
	ck_assert(traffic_wait_ops(t, 2 * n, PASS_TIMEOUT_MS));
	ck_assert_int_gt(traffic_errors(t), before + 1);

	traffic_stop(t, &st);
	ck_assert_int_gt(st.errors, 1);
	ck_assert_int_gt(st.ops, st.errors);
	ck_assert_contains(st.first_error, "'c:5'");
	ck_assert_contains(st.first_error, "wrong value 'garbage'");
	tc_stop(tc);
}
END_TEST

START_TEST(default_client_sees_its_own_corruption)
{
	const int n = 100;
	struct test_cluster *tc = tc_start(3, 0);
	struct traffic_stats st;
	struct traffic *t;
	int node = 0;

	tc_load_keys(tc, "d", n);
	t = traffic_start(tc, "d", n);
	/* the writer puts values back, so corrupt every key until one is read */
	for (int round = 0; round < 20 && traffic_errors(t) == 0; round++) {
		for (int i = 0; i < n; i++) {
			char key[32];

			snprintf(key, sizeof(key), "d:%d", i);
			node = tc_owner_of(tc, 0, keyslot_of(key, strlen(key)));
			freeReplyObject(tc_command(tc, node, "SET %s bad", key));
		}
		ck_assert(traffic_wait_ops(t, 2 * n, PASS_TIMEOUT_MS));
	}
	traffic_stop(t, &st);
	ck_assert_int_gt(st.errors, 0);
	ck_assert_contains(st.first_error, "wrong value 'bad'");
	tc_stop(tc);
}
END_TEST

static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

START_TEST(no_seed_answers)
{
	struct traffic_opts o = { .prefix = "x", .nkeys = 10, .nports = 1 };
	char err[300];

	o.ports[0] = free_port();
	ck_assert_ptr_null(traffic_start_opts(&o, err, sizeof(err)));
	ck_assert_contains(err, "cannot read CLUSTER SLOTS");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("traffic");
	TCase *tcase = tcase_create("traffic");
	SRunner *sr;
	int failed;

	tcase_add_test(tcase, hand_move_no_errors);
	tcase_add_test(tcase, reports_wrong_and_missing_values);
	tcase_add_test(tcase, default_client_sees_its_own_corruption);
	tcase_add_test(tcase, no_seed_answers);
	suite_add_tcase(s, tcase);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
