/* test_atomic_ops.c: the atomic slot migration steps (io/move/atomic_ops.c)
 * on a real Valkey 9 cluster: a node says it has MIGRATESLOTS (a Redis 7
 * one says it has not), a started job is named, waited for and moves its
 * slots with every key, a refused start starts nothing and says why, and a
 * cancelled job ends cancelled with ownership and keys where they were;
 * fix stops when a master's jobs cannot be read.
 * Skipped (exit 77) unless SLOTCTL_VALKEY_SERVER names a valkey-server. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "slotctl/io/atomic_ops.h"
#include "slotctl/io/clock.h"
#include "check_run.h"
#include "fake_server.h"
#include "support.h"

static struct conn *open_node(const struct test_cluster *tc, int i)
{
	struct conn_opts o = { .connect_timeout_ms = 2000, .command_timeout_ms = 5000 };
	struct conn *c;
	struct sc_error err;

	ck_assert_msg(conn_open("127.0.0.1", tc_port(tc, i), &o, &c, &err) == 0, "%s", err.msg);
	return c;
}

static void slots_of(int first, int last, struct slotset *s)
{
	slotset_clear(s);
	slotset_add_range(s, first, last);
}

static void debug_prevent_pause(const struct test_cluster *tc, int on)
{
	for (int i = 0; i < tc_count(tc); i++) {
		redisReply *r = tc_command(tc, i, "DEBUG SLOTMIGRATION PREVENT-PAUSE %d", on);
		ck_assert_msg(r->type == REDIS_REPLY_STATUS, "DEBUG SLOTMIGRATION: %s", r->str ? r->str : "?");
		freeReplyObject(r);
	}
}

START_TEST(redis_7_has_no_migrateslots)
{
	/* Debian's redis-server by name, whichever server the suite runs on */
	struct test_cluster *tc = tc_start_server("redis-server", 1, 0);
	struct conn *c = open_node(tc, 0);
	struct slotmig_list l;
	struct sc_error err;
	bool yes = true;

	ck_assert_msg(atomic_supported(c, &yes, &err) == 0, "%s", err.msg);
	ck_assert(!yes);
	/* listing on a server without it is an error naming the node, not a crash */
	ck_assert_int_eq(atomic_list(c, tc_id(tc, 0), &l, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "GETSLOTMIGRATIONS"));
	conn_close(c);
	tc_stop(tc);
}
END_TEST

START_TEST(start_wait_success_moves_every_key)
{
	const char *vs = tc_valkey_server();
	struct test_cluster *tc = tc_start_server(vs, 3, 0);
	struct conn *src = open_node(tc, 0), *dst = open_node(tc, 2);
	struct slotset slots;
	struct slotmig_job job, seen;
	struct slotmig_list l;
	struct sc_error err;
	bool yes = false, named = false, listed = false;

	tc_load_keys(tc, "k", 5000);
	ck_assert_msg(atomic_supported(src, &yes, &err) == 0, "%s", err.msg);
	ck_assert(yes);
	slots_of(100, 1099, &slots);
	slotset_add_range(&slots, 2000, 2099);
	ck_assert_msg(atomic_start_job(src, tc_id(tc, 0), &slots, tc_id(tc, 2), &job, &named, &err) == 0, "%s",
		err.msg);
	ck_assert(named);
	ck_assert_str_eq(job.source_id, tc_id(tc, 0));
	ck_assert_str_eq(job.target_id, tc_id(tc, 2));
	ck_assert(slotset_equal(&job.slots, &slots));
	ck_assert_msg(atomic_wait(src, tc_id(tc, 0), job.name, sc_clock_ms() + 60000, NULL, NULL, &seen, &listed,
		&err) == 0, "%s", err.msg);
	ck_assert(listed);
	ck_assert_msg(seen.outcome == SLOTMIG_SUCCESS, "job ended %s: %s", seen.state, seen.message);
	/* the target lists the same job as an import that succeeded */
	ck_assert_msg(atomic_list(dst, tc_id(tc, 2), &l, &err) == 0, "%s", err.msg);
	const struct slotmig_job *imp = slotmig_list_find(&l, job.name);
	ck_assert_ptr_nonnull(imp);
	ck_assert_int_eq(imp->op, SLOTMIG_IMPORT);
	ck_assert_int_eq(imp->outcome, SLOTMIG_SUCCESS);
	ck_assert_str_eq(imp->source_id, tc_id(tc, 0));
	slotmig_list_release(&l);
	ck_assert_int_eq(tc_owner_of(tc, 0, 100), 2);
	ck_assert_int_eq(tc_owner_of(tc, 0, 2099), 2);
	ck_assert_int_eq(tc_owner_of(tc, 0, 1100), 0);
	tc_verify_keys(tc, "k", 5000);
	conn_close(src);
	conn_close(dst);
	tc_stop(tc);
}
END_TEST

START_TEST(refused_start_starts_nothing)
{
	struct test_cluster *tc = tc_start_server(tc_valkey_server(), 3, 0);
	struct conn *src = open_node(tc, 0);
	struct slotset slots;
	struct slotmig_job job;
	struct slotmig_list l;
	struct sc_error err;
	bool named = true;

	/* node 0 does not own 6000 */
	slots_of(6000, 6000, &slots);
	ck_assert_int_eq(atomic_start_job(src, tc_id(tc, 0), &slots, tc_id(tc, 2), &job, &named, &err), -1);
	ck_assert_int_eq(err.code, 1);
	ck_assert_msg(strstr(err.msg, "MIGRATESLOTS") && strstr(err.msg, "not served by this node"), "%s", err.msg);
	/* an unknown target */
	slots_of(10, 10, &slots);
	ck_assert_int_eq(atomic_start(src, &slots, "0123456789012345678901234567890123456789", &err), -1);
	ck_assert_msg(strstr(err.msg, "Unknown node"), "%s", err.msg);
	/* the most runs a set can have (every other slot: 8192 ranges; their
	 * 16389 words once overran the argument array) are refused before
	 * anything is sent: a job names at most ATOMIC_MAX_RANGES (a bigger one
	 * breaks the target's replicas, atomic_ops.h) */
	slotset_clear(&slots);
	for (int s = 0; s < SC_SLOTS; s += 2)
		slotset_add(&slots, s);
	ck_assert_int_eq(atomic_start(src, &slots, tc_id(tc, 2), &err), -1);
	ck_assert_msg(strstr(err.msg, "refusing one atomic job of 8192 slot ranges"), "%s", err.msg);
	/* ATOMIC_MAX_RANGES of them are sent (the source owns none: refused) */
	slotset_clear(&slots);
	for (int s = 6000; s < 6000 + 2 * ATOMIC_MAX_RANGES; s += 2)
		slotset_add(&slots, s);
	ck_assert_int_eq(atomic_start(src, &slots, tc_id(tc, 2), &err), -1);
	ck_assert_msg(strstr(err.msg, "replied to CLUSTER MIGRATESLOTS"), "%s", err.msg);
	ck_assert_msg(atomic_list(src, tc_id(tc, 0), &l, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(l.count, 0);
	slotmig_list_release(&l);
	conn_close(src);
	tc_stop(tc);
}
END_TEST

/* Stops the wait at the first poll that sees the job past its snapshot. */
static int stop_when_waiting(void *ctx, const struct slotmig_job *now)
{
	(void)ctx;
	return now != NULL && strcmp(now->state, "waiting-to-pause") == 0;
}

START_TEST(cancel_leaves_ownership_and_keys)
{
	struct test_cluster *tc = tc_start_server(tc_valkey_server(), 3, 0);
	struct conn *src = open_node(tc, 0), *dst = open_node(tc, 2);
	struct slotset slots;
	struct slotmig_job job, seen;
	struct slotmig_list l;
	struct sc_error err;
	bool named = false, listed = false, cancelled = false;

	tc_load_keys(tc, "c", 3000);
	debug_prevent_pause(tc, 1);
	slots_of(0, 999, &slots);
	ck_assert_msg(atomic_start_job(src, tc_id(tc, 0), &slots, tc_id(tc, 2), &job, &named, &err) == 0, "%s",
		err.msg);
	ck_assert(named);
	ck_assert_int_eq(atomic_wait(src, tc_id(tc, 0), job.name, sc_clock_ms() + 30000, stop_when_waiting, NULL,
		&seen, &listed, &err), 1);
	/* the target stages the keys: it counts them although it owns nothing */
	ck_assert_msg(atomic_list(dst, tc_id(tc, 2), &l, &err) == 0, "%s", err.msg);
	struct slotset importing;
	slotmig_list_importing(&l, &importing);
	ck_assert(slotset_equal(&importing, &slots));
	slotmig_list_release(&l);

	ck_assert_msg(atomic_cancel(src, &cancelled, &err) == 0, "%s", err.msg);
	ck_assert(cancelled);
	ck_assert_msg(atomic_wait(src, tc_id(tc, 0), job.name, sc_clock_ms() + 10000, NULL, NULL, &seen, &listed,
		&err) == 0, "%s", err.msg);
	ck_assert_int_eq(seen.outcome, SLOTMIG_CANCELLED);
	/* nothing left to cancel */
	ck_assert_msg(atomic_cancel(src, &cancelled, &err) == 0, "%s", err.msg);
	ck_assert(!cancelled);
	/* the target drops its staged keys and ends the import failed */
	ck_assert_msg(atomic_wait(dst, tc_id(tc, 2), job.name, sc_clock_ms() + 10000, NULL, NULL, &seen, &listed,
		&err) == 0, "%s", err.msg);
	ck_assert_int_eq(seen.outcome, SLOTMIG_FAILED);
	debug_prevent_pause(tc, 0);
	ck_assert_int_eq(tc_owner_of(tc, 2, 0), 0);
	tc_verify_keys(tc, "c", 3000);
	conn_close(src);
	conn_close(dst);
	tc_stop(tc);
}
END_TEST

/* A one-master fake whose CLUSTER GETSLOTMIGRATIONS lists a job no parser
 * takes (a name and nothing else). */
static bool unreadable_jobs(struct fake_client *fc, int argc, char **argv, const size_t *len, void *ctx)
{
	(void)ctx;
	if (fake_arg_is(argc, argv, 0, "CLUSTER") && fake_arg_is(argc, argv, 1, "GETSLOTMIGRATIONS"))
		return fake_sendf(fc, "*1\r\n*2\r\n$4\r\nname\r\n$3\r\nbad\r\n");
	return fake_answer_default(fc, argc, argv, len);
}

/* fix cannot tell which slots a master's atomic migrations hold: it must
 * not repair as if none ran (it went on, exit 0, and would have repaired
 * slots a running job holds). The master counts as unreachable, as when
 * its keys cannot be counted. */
START_TEST(fix_stops_when_the_jobs_cannot_be_read)
{
	struct fake_server *fs = fake_start(unreadable_jobs, NULL);
	struct run_result r;
	char seed[32];

	snprintf(seed, sizeof(seed), "127.0.0.1:%d", fake_port(fs));
	run_slotctl(&r, 60, "fix", seed, "--yes", "--timeout", "2000", NULL);
	ck_assert_msg(r.status == 3 && strstr(r.err, "refusing to repair"), "exit %d\nstdout:\n%s\nstderr:\n%s",
		r.status, r.out, r.err);
	run_result_free(&r);
	fake_stop(fs);
}
END_TEST

static Suite *atomic_ops_suite(void)
{
	Suite *s = suite_create("atomic_ops");
	TCase *tc = tcase_create("valkey");

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, redis_7_has_no_migrateslots);
	tcase_add_test(tc, start_wait_success_moves_every_key);
	tcase_add_test(tc, refused_start_starts_nothing);
	tcase_add_test(tc, cancel_leaves_ownership_and_keys);
	tcase_add_test(tc, fix_stops_when_the_jobs_cannot_be_read);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (tc_valkey_server() == NULL) {
		fprintf(stderr, "atomic_ops: skipped: SLOTCTL_VALKEY_SERVER names no valkey-server\n");
		return 77;
	}
	return check_run(atomic_ops_suite());
}
