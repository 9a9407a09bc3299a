/* test_snapshot.c: the transport and the snapshot against real redis-server
 * processes: refused and frozen nodes fail within their bound and name the
 * node, host names resolve within the bound too, authentication errors never show the password, and a snapshot of a
 * cluster finds every node with its own view. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "slotctl/io/clock.h"
#include "slotctl/io/conn.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/pool.h"
#include "slotctl/io/resolve.h"
#include "slotctl/io/snapshot.h"
#include "support.h"
#include "check_run.h"

/* A lone redis-server on a free loopback port in a temp dir, stopped by PID. */
struct lone_server {
	pid_t pid;
	int port;
	char dir[64];
};

static double now_s(void)
{
	return (double)sc_clock_ms() / 1000;
}

#define LONE_ATTEMPTS 8

/* One start of redis-server on fresh ports (its port, and a fresh one for a
 * "--cluster-port" value in extra). Returns true once it accepts
 * connections, false when it exited at start (a port taken between choosing
 * and binding: "Failed listening on port N"). */
static bool lone_try(struct lone_server *s, const char *const *extra)
{
	char port[16], cport[16];
	redisContext *c = NULL;

	s->port = tc_free_port();
	snprintf(port, sizeof(port), "%d", s->port);
	snprintf(cport, sizeof(cport), "%d", tc_free_port());
	s->pid = fork();
	ck_assert_int_ge(s->pid, 0);
	if (s->pid == 0) {
		const char *argv[32] = { tc_server_binary(), "--port", port, "--bind", "127.0.0.1",
			"--dir", s->dir, "--save", "", "--appendonly", "no", "--logfile", "redis.log" };
		int argc = 13;

		for (int i = 0; extra && extra[i] && i < 8; i++)
			argv[argc++] = i > 0 && strcmp(extra[i - 1], "--cluster-port") == 0 ? cport : extra[i];

		execvp(tc_server_binary(), (char *const *)argv);
		_exit(127);
	}
	for (int tries = 0; tries < 200; tries++) {
		struct timeval tv = { 0, 200000 };

		c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
		if (c && !c->err)
			break;
		redisFree(c);
		c = NULL;
		if (waitpid(s->pid, NULL, WNOHANG) == s->pid)
			return false;
		usleep(50000);
	}
	ck_assert_msg(c != NULL, "redis-server on port %d did not start", s->port);
	redisFree(c);
	return true;
}

/* Starts redis-server with extra arguments (NULL-terminated, at most 8) and
 * waits until it accepts connections, on new ports when another process took
 * the chosen ones first. */
static void lone_start_with(struct lone_server *s, const char *const *extra)
{
	snprintf(s->dir, sizeof(s->dir), "/tmp/slotctl-conn-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(s->dir));
	for (int attempt = 1; !lone_try(s, extra); attempt++)
		ck_assert_msg(attempt < LONE_ATTEMPTS, "redis-server exited at start %d times (last port %d; see %s/redis.log)",
			attempt, s->port, s->dir);
}

static void lone_start(struct lone_server *s, const char *requirepass)
{
	const char *extra[] = { "--requirepass", requirepass, NULL };

	lone_start_with(s, requirepass ? extra : NULL);
}

static void lone_stop(struct lone_server *s)
{
	char cmd[128];

	kill(s->pid, SIGCONT);
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct conn_opts opts_ms(int ms, const char *user, const char *pass)
{
	struct conn_opts o = { .user = user, .pass = pass, .connect_timeout_ms = ms, .command_timeout_ms = ms };

	return o;
}

START_TEST(refused_names_the_node)
{
	struct conn_opts o = opts_ms(1000, NULL, NULL);
	struct conn *c = NULL;
	struct sc_error err = { 0 };
	char addr[64];
	int port = tc_free_port();

	snprintf(addr, sizeof(addr), "'127.0.0.1:%d'", port);
	ck_assert_int_eq(conn_open("127.0.0.1", port, &o, &c, &err), -1);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(err.code, SC_EXIT_UNREACHABLE);
	ck_assert_msg(strstr(err.msg, addr) && strstr(err.msg, "connection refused"), "%s", err.msg);
}
END_TEST

/* A name server that never answers, played by a lookup that takes 1.5 s. */
static int slow_lookup(const char *host, struct resolved *out, char *why, size_t why_size)
{
	(void)host;
	(void)why;
	(void)why_size;
	usleep(1500000);
	out->count = 1;
	snprintf(out->addr[0], RESOLVE_ADDR_LEN, "127.0.0.1");
	return 0;
}

static int refusing_lookup(const char *host, struct resolved *out, char *why, size_t why_size)
{
	(void)host;
	(void)out;
	snprintf(why, why_size, "no such name here");
	return -1;
}

/* A host name resolves within the connect bound, however slow the name
 * server: the lookup that outlives the bound finishes on its own. Numeric
 * addresses are not looked up; a failed lookup says why. */
START_TEST(names_resolve_within_the_bound)
{
	struct resolved where;
	struct sc_error err = { 0 };
	double t0;

	ck_assert_int_eq(resolve_host_with(slow_lookup, "127.0.0.1", 100, &where, &err), 0);
	ck_assert_int_eq(where.count, 1);
	ck_assert_str_eq(where.addr[0], "127.0.0.1");
	ck_assert_int_eq(resolve_host_with(slow_lookup, "::1", 100, &where, &err), 0);
	ck_assert_str_eq(where.addr[0], "::1");
	t0 = now_s();
	ck_assert_int_eq(resolve_host_with(slow_lookup, "slow.example", 200, &where, &err), -1);
	ck_assert_msg(now_s() - t0 < 1.0, "waited %.2f s for a 200 ms bound", now_s() - t0);
	ck_assert_int_eq(err.code, SC_EXIT_UNREACHABLE);
	ck_assert_str_eq(err.msg, "cannot resolve 'slow.example': no answer within 200 ms");
	ck_assert_int_eq(resolve_host_with(refusing_lookup, "nowhere.example", 1000, &where, &err), -1);
	ck_assert_str_eq(err.msg, "cannot resolve 'nowhere.example': no such name here");
	ck_assert_int_eq(resolve_host("localhost", 2000, &where, &err), 0);
	ck_assert_int_ge(where.count, 1);
	usleep(1600000); /* the abandoned slow lookup ends and frees its job */
}
END_TEST

/* A seed given by name: its addresses are tried in turn (localhost may say
 * ::1 first while the server listens on 127.0.0.1 only). */
START_TEST(connects_by_name)
{
	struct lone_server s;
	struct conn_opts o = opts_ms(2000, NULL, NULL);
	struct conn *c = NULL;
	struct sc_error err = { 0 };
	redisReply *r;

	lone_start(&s, NULL);
	ck_assert_msg(conn_open("localhost", s.port, &o, &c, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(conn_host(c), "localhost");
	r = conn_command(c, &err, "PING");
	ck_assert_int_eq(conn_check_reply(c, r, "PING", &err), 0);
	freeReplyObject(r);
	conn_close(c);
	lone_stop(&s);
}
END_TEST

START_TEST(command_and_pipeline)
{
	struct lone_server s;
	struct conn_opts o = opts_ms(2000, NULL, NULL);
	struct conn *c;
	struct sc_error err = { 0 };
	redisReply *r;
	const char *argv[] = { "SET", "k\0ey", "v" };
	const size_t lens[] = { 3, 4, 1 };

	lone_start(&s, NULL);
	ck_assert_int_eq(conn_open("127.0.0.1", s.port, &o, &c, &err), 0);
	ck_assert_int_eq(conn_port(c), s.port);
	ck_assert_str_eq(conn_host(c), "127.0.0.1");
	r = conn_command_argv(c, 3, argv, lens, &err);
	ck_assert_int_eq(conn_check_reply(c, r, "SET", &err), 0);
	freeReplyObject(r);
	ck_assert_int_eq(conn_append(c, &err, "STRLEN %b", "k\0ey", (size_t)4), 0);
	ck_assert_int_eq(conn_append(c, &err, "NOSUCHCOMMAND"), 0);
	r = conn_get_reply(c, &err);
	ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
	ck_assert_int_eq(r->integer, 1);
	freeReplyObject(r);
	r = conn_get_reply(c, &err);
	ck_assert_int_eq(conn_check_reply(c, r, "NOSUCHCOMMAND", &err), -1);
	ck_assert_int_eq(err.code, SC_EXIT_PROBLEMS);
	ck_assert_msg(strstr(err.msg, conn_addr(c)) && strstr(err.msg, "unknown command"), "%s", err.msg);
	freeReplyObject(r);
	ck_assert(!conn_broken(c));
	conn_close(c);
	lone_stop(&s);
}
END_TEST

START_TEST(frozen_node_times_out)
{
	struct lone_server s;
	struct conn_opts o = opts_ms(300, NULL, NULL);
	struct conn_opts o_auth = opts_ms(300, NULL, "secret");
	struct conn *c;
	struct sc_error err = { 0 };
	double t0, elapsed;

	lone_start(&s, NULL);
	ck_assert_int_eq(kill(s.pid, SIGSTOP), 0);
	t0 = now_s();
	ck_assert_int_eq(conn_open("127.0.0.1", s.port, &o, &c, &err), 0); /* the kernel accepts */
	ck_assert_ptr_null(conn_command(c, &err, "PING"));
	elapsed = now_s() - t0;
	ck_assert_msg(elapsed < 0.9, "took %.2f s", elapsed);
	ck_assert_int_eq(err.code, SC_EXIT_UNREACHABLE);
	ck_assert_msg(strstr(err.msg, conn_addr(c)) && strstr(err.msg, "timed out after 300 ms"), "%s", err.msg);
	ck_assert(conn_broken(c));
	ck_assert_ptr_null(conn_command(c, &err, "PING"));
	ck_assert_msg(strstr(err.msg, "unusable"), "%s", err.msg);
	conn_close(c);

	/* with a password, the AUTH on open is what times out */
	t0 = now_s();
	ck_assert_int_eq(conn_open("127.0.0.1", s.port, &o_auth, &c, &err), -1);
	elapsed = now_s() - t0;
	ck_assert_msg(elapsed < 0.9, "took %.2f s", elapsed);
	ck_assert_msg(strstr(err.msg, "timed out after 300 ms") && !strstr(err.msg, "secret"), "%s", err.msg);
	kill(s.pid, SIGCONT);
	lone_stop(&s);
}
END_TEST

START_TEST(auth_errors_hide_the_password)
{
	struct lone_server s;
	struct conn_opts wrong = opts_ms(2000, NULL, "wrong-pw-123");
	struct conn_opts right = opts_ms(2000, NULL, "s3cret-PW");
	struct conn_opts user = opts_ms(2000, "default", "s3cret-PW");
	struct conn_opts bad_user = opts_ms(2000, "nobody", "s3cret-PW");
	struct conn_opts none = opts_ms(2000, NULL, NULL);
	struct conn *c = NULL;
	struct sc_error err = { 0 };
	redisReply *r;

	lone_start(&s, "s3cret-PW");
	ck_assert_int_eq(conn_open("127.0.0.1", s.port, &wrong, &c, &err), -1);
	ck_assert_int_eq(err.code, SC_EXIT_UNREACHABLE);
	ck_assert_msg(strstr(err.msg, "authentication failed"), "%s", err.msg);
	ck_assert_msg(!strstr(err.msg, "wrong-pw-123") && !strstr(err.msg, "s3cret"), "%s", err.msg);
	ck_assert_int_eq(conn_open("127.0.0.1", s.port, &bad_user, &c, &err), -1);
	ck_assert_msg(strstr(err.msg, "authentication failed") && !strstr(err.msg, "s3cret"), "%s", err.msg);

	ck_assert_int_eq(conn_open("127.0.0.1", s.port, &right, &c, &err), 0);
	r = conn_command(c, &err, "PING");
	ck_assert_int_eq(conn_check_reply(c, r, "PING", &err), 0);
	freeReplyObject(r);
	conn_close(c);
	ck_assert_int_eq(conn_open("127.0.0.1", s.port, &user, &c, &err), 0);
	conn_close(c);

	/* no password: the first command says so, as an authentication problem */
	ck_assert_int_eq(conn_open("127.0.0.1", s.port, &none, &c, &err), 0);
	r = conn_command(c, &err, "PING");
	ck_assert_int_eq(conn_check_reply(c, r, "PING", &err), -1);
	ck_assert_int_eq(err.code, SC_EXIT_UNREACHABLE);
	ck_assert_msg(strstr(err.msg, "NOAUTH"), "%s", err.msg);
	freeReplyObject(r);
	conn_close(c);
	lone_stop(&s);
}
END_TEST

START_TEST(pool_reuses_and_reopens)
{
	struct lone_server s;
	struct conn_opts o = opts_ms(300, NULL, NULL);
	struct conn_pool *p = conn_pool_new(&o);
	struct sc_error err = { 0 };
	struct conn *a, *b;
	redisReply *r;

	lone_start(&s, NULL);
	a = conn_pool_get(p, "127.0.0.1", s.port, &err);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_eq(conn_pool_get(p, "127.0.0.1", s.port, &err), a);
	kill(s.pid, SIGSTOP);
	ck_assert_ptr_null(conn_command(a, &err, "PING"));
	ck_assert(conn_broken(a));
	kill(s.pid, SIGCONT);
	b = conn_pool_get(p, "127.0.0.1", s.port, &err);
	ck_assert_ptr_nonnull(b);
	ck_assert(!conn_broken(b));
	r = conn_command(b, &err, "PING");
	ck_assert_int_eq(conn_check_reply(b, r, "PING", &err), 0);
	freeReplyObject(r);
	/* lanes: more connections to the same node, each kept as lane 0 is,
	 * and lane 0 still the one conn_pool_get gives */
	{
		struct conn *l1 = conn_pool_get_lane(p, "127.0.0.1", s.port, 1, &err);
		struct conn *l2 = conn_pool_get_lane(p, "127.0.0.1", s.port, 2, &err);

		ck_assert(l1 && l2 && l1 != b && l2 != b && l1 != l2);
		ck_assert_ptr_eq(conn_pool_get_lane(p, "127.0.0.1", s.port, 1, &err), l1);
		ck_assert_ptr_eq(conn_pool_get_lane(p, "127.0.0.1", s.port, 0, &err), b);
		ck_assert_ptr_eq(conn_pool_get(p, "127.0.0.1", s.port, &err), b);
		r = conn_command(l2, &err, "PING");
		ck_assert_int_eq(conn_check_reply(l2, r, "PING", &err), 0);
		freeReplyObject(r);
	}
	conn_pool_free(p);
	lone_stop(&s);
}
END_TEST

/* snapshot_gather from host:port with timeouts of ms; returns the elapsed seconds. */
static double gather_timed(const char *host, int port, int ms, struct snapshot *snap,
	struct sc_error *err, int *rc)
{
	struct conn_opts o = opts_ms(ms, NULL, NULL);
	double t0 = now_s();

	*rc = snapshot_gather(host, port, &o, snap, err);
	return now_s() - t0;
}

START_TEST(finds_every_node_with_its_view)
{
	struct test_cluster *tc = tc_start(3, 1);
	struct snapshot snap;
	struct sc_error err = { 0 };
	int rc;

	gather_timed("127.0.0.1", tc_port(tc, 0), 2000, &snap, &err, &rc);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_uint_eq(snap.count, 6);
	ck_assert_int_eq(snap.reference, 0);
	ck_assert_ptr_eq(snapshot_map(&snap), &snap.nodes[0].view);
	ck_assert_str_eq(snap.nodes[0].id, tc_id(tc, 0));
	for (int i = 0; i < tc_count(tc); i++) {
		const struct node_view *v = snapshot_find(&snap, tc_id(tc, i));

		ck_assert_msg(v != NULL, "node %d (%s) not found", i, tc_id(tc, i));
		ck_assert_msg(v->reachable && v->error.code == 0, "%s: %s", v->addr, v->error.msg);
		ck_assert_int_eq(v->port, tc_port(tc, i));
		ck_assert_uint_eq(v->view.count, 6);
		ck_assert_int_ge(v->view.myself, 0);
		ck_assert_str_eq(v->view.nodes[v->view.myself].id, tc_id(tc, i));
		ck_assert_str_eq(v->cluster_state, "ok");
		ck_assert_uint_gt(v->current_epoch, 0);
		ck_assert_int_gt(v->node_timeout_ms, 0);
		ck_assert(v->require_full_coverage == 0 || v->require_full_coverage == 1);
		ck_assert_int_ge(v->migration_barrier, 0);
	}
	ck_assert_ptr_null(snapshot_find(&snap, "0000000000000000000000000000000000000000"));
	snapshot_release(&snap);
	tc_stop(tc);
}
END_TEST

START_TEST(frozen_node_is_reported_unreachable_in_time)
{
	struct test_cluster *tc = tc_start(3, 1);
	struct snapshot snap;
	struct sc_error err = { 0 };
	const int frozen = 2, timeout_ms = 1000;
	const struct node_view *v;
	double elapsed;
	int rc;

	ck_assert_int_eq(kill(tc_pid(tc, frozen), SIGSTOP), 0);
	elapsed = gather_timed("127.0.0.1", tc_port(tc, 0), timeout_ms, &snap, &err, &rc);
	kill(tc_pid(tc, frozen), SIGCONT);
	/* a bound on hanging, not a speed test */
	ck_assert_msg(elapsed < 3.0 * timeout_ms / 1000, "took %.2f s", elapsed);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_uint_eq(snap.count, 6);
	v = snapshot_find(&snap, tc_id(tc, frozen));
	ck_assert_ptr_nonnull(v);
	ck_assert(!v->reachable);
	ck_assert_int_eq(v->error.code, SC_EXIT_UNREACHABLE);
	ck_assert_msg(strstr(v->error.msg, v->addr) && strstr(v->error.msg, "timed out"), "%s", v->error.msg);
	ck_assert_uint_eq(v->view.count, 0);
	for (int i = 0; i < tc_count(tc); i++)
		if (i != frozen)
			ck_assert(snapshot_find(&snap, tc_id(tc, i))->reachable);
	snapshot_release(&snap);

	/* a frozen seed is the one fatal case, and fails in time too */
	ck_assert_int_eq(kill(tc_pid(tc, 0), SIGSTOP), 0);
	elapsed = gather_timed("127.0.0.1", tc_port(tc, 0), timeout_ms, &snap, &err, &rc);
	kill(tc_pid(tc, 0), SIGCONT);
	ck_assert_msg(elapsed < 3.0 * timeout_ms / 1000, "took %.2f s", elapsed);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(err.code, SC_EXIT_UNREACHABLE);
	ck_assert_msg(strstr(err.msg, tc_seed(tc)) && strstr(err.msg, "timed out"), "%s", err.msg);
	tc_stop(tc);
}
END_TEST

START_TEST(seed_errors_name_the_seed)
{
	struct lone_server plain, guarded;
	struct conn_opts wrong = opts_ms(2000, NULL, "not-the-pw-42");
	struct conn_opts right = opts_ms(2000, NULL, "cl-pw-42");
	struct snapshot snap;
	struct sc_error err = { 0 };
	char addr[64], cport[16];
	const char *cluster_args[] = { "--cluster-enabled", "yes", "--cluster-port", cport,
		"--requirepass", "cl-pw-42", NULL };
	int port = tc_free_port(), rc;

	snprintf(addr, sizeof(addr), "'127.0.0.1:%d'", port);
	gather_timed("127.0.0.1", port, 1000, &snap, &err, &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(err.code, SC_EXIT_UNREACHABLE);
	ck_assert_msg(strstr(err.msg, addr) && strstr(err.msg, "connection refused"), "%s", err.msg);

	lone_start(&plain, NULL);
	gather_timed("127.0.0.1", plain.port, 1000, &snap, &err, &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(err.code, SC_EXIT_UNREACHABLE);
	ck_assert_msg(strstr(err.msg, "cluster support disabled"), "%s", err.msg);
	lone_stop(&plain);

	snprintf(cport, sizeof(cport), "%d", tc_free_port());
	lone_start_with(&guarded, cluster_args);
	ck_assert_int_eq(snapshot_gather("127.0.0.1", guarded.port, &wrong, &snap, &err), -1);
	ck_assert_int_eq(err.code, SC_EXIT_UNREACHABLE);
	ck_assert_msg(strstr(err.msg, "authentication failed") && !strstr(err.msg, "pw-42"), "%s", err.msg);
	gather_timed("127.0.0.1", guarded.port, 1000, &snap, &err, &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(err.code, SC_EXIT_UNREACHABLE);
	ck_assert_msg(strstr(err.msg, "NOAUTH"), "%s", err.msg);
	ck_assert_int_eq(snapshot_gather("127.0.0.1", guarded.port, &right, &snap, &err), 0);
	ck_assert_uint_eq(snap.count, 1); /* a lone node's own line has no address */
	ck_assert(snap.nodes[0].reachable);
	ck_assert_str_eq(snap.nodes[0].cluster_state, "fail");
	snapshot_release(&snap);
	lone_stop(&guarded);
}
END_TEST

static Suite *snapshot_suite(void)
{
	Suite *s = suite_create("snapshot");
	TCase *conn = tcase_create("conn");
	TCase *gather = tcase_create("gather");

	tcase_add_test(conn, refused_names_the_node);
	tcase_add_test(conn, names_resolve_within_the_bound);
	tcase_add_test(conn, connects_by_name);
	tcase_add_test(conn, command_and_pipeline);
	tcase_add_test(conn, frozen_node_times_out);
	tcase_add_test(conn, auth_errors_hide_the_password);
	tcase_add_test(conn, pool_reuses_and_reopens);
	suite_add_tcase(s, conn);
	tcase_add_test(gather, seed_errors_name_the_seed);
	tcase_add_test(gather, finds_every_node_with_its_view);
	tcase_add_test(gather, frozen_node_is_reported_unreachable_in_time);
	suite_add_tcase(s, gather);
	return s;
}

int main(void)
{
	return check_run(snapshot_suite());
}
