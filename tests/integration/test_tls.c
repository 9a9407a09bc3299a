/* test_tls.c: the TLS transport against real TLS servers (Debian's
 * redis-server is built with TLS). A throwaway CA (tls_certs.c) signs a
 * server certificate for 127.0.0.1, an expired one and one for another
 * name; a second CA stands for the wrong one. Each failure exits 3 within
 * --timeout naming its cause: unknown CA, no client certificate for a
 * server that wants one, expired, name mismatch (by address and by --sni),
 * a plaintext server, a server that accepts and never answers the
 * handshake. On the good server: check works, and conn works through TLS
 * as over TCP (a multi-MB reply, a pipeline, a reply slower than the
 * command timeout failing within it). Options are refused before any
 * connection when they cannot work (--cacert without --tls, --cert without
 * --key, a missing CA file). */
#include "support.h"
#include "traffic.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check_run.h"
#include "slotctl/io/clock.h"
#include "slotctl/io/conn.h"
#include "slotctl/io/file_text.h"
#include "slotctl/io/tls_certs.h"

#define TIMEOUT_MS 2000
/* what a run may take over --timeout: starting slotctl under ASan on a
 * loaded host (a stall the timeout misses takes the 30 s run limit) */
#define SLACK_S 3.0

enum server { GOOD, EXPIRED, WRONG_NAME, PLAIN, SERVERS };

static char dir[64];
static pid_t pids[SERVERS];
static int ports[SERVERS];
static int stall_fd, stall_port;
static char path_buf[8][128];

/* <dir>/<name> in one of a few static buffers. */
static const char *in_dir(const char *name)
{
	static int next;
	char *p = path_buf[next++ % 8];

	snprintf(p, sizeof(path_buf[0]), "%s/%s", dir, name);
	return p;
}

static bool port_listens(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;

	if (fd >= 0)
		close(fd);
	return ok;
}

/* Starts redis-server on a free port: TLS-only with cert (the server's
 * certificate name in dir) unless cert is NULL; waits until it listens. */
static void start_server(enum server which, const char *cert, bool want_client_cert)
{
	char port[16], bus[16], log[128], conf[128], crt[128], key[128], ca[128];
	pid_t pid;

	ports[which] = tc_free_port();
	snprintf(port, sizeof(port), "%d", ports[which]);
	snprintf(bus, sizeof(bus), "%d", tc_free_port()); /* with --port 0 it would be 10000 */
	snprintf(log, sizeof(log), "%s/server-%d.log", dir, which);
	snprintf(conf, sizeof(conf), "%s/nodes-%d.conf", dir, which);
	snprintf(crt, sizeof(crt), "%s/%s.crt", dir, cert ? cert : "");
	snprintf(key, sizeof(key), "%s/%s.key", dir, cert ? cert : "");
	snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		const char *tls_argv[] = { "redis-server", "--port", "0", "--tls-port", port, "--tls-cert-file", crt,
			"--tls-key-file", key, "--tls-ca-cert-file", ca, "--tls-auth-clients",
			want_client_cert ? "yes" : "no", "--cluster-enabled", "yes", "--cluster-config-file", conf,
			"--cluster-port", bus, "--tls-cluster", "yes",
			"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", log, NULL };
		const char *plain_argv[] = { "redis-server", "--port", port, "--save", "", "--dir", dir,
			"--logfile", log, NULL };

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execvp("redis-server", (char *const *)(cert ? tls_argv : plain_argv));
		_exit(127);
	}
	pids[which] = pid;
	for (int i = 0; i < 500 && !port_listens(ports[which]); i++)
		usleep(10000);
	ck_assert_msg(port_listens(ports[which]), "redis-server %d does not listen on %d", which, ports[which]);
}

static void make_certs(void)
{
	const char *const here[] = { "127.0.0.1", "localhost", NULL };
	const char *const elsewhere[] = { "elsewhere.example", NULL };
	struct sc_error err = { 0 };

	ck_assert_msg(tls_certs_make_ca(dir, "ca", &err) == 0, "%s", err.msg);
	ck_assert_msg(tls_certs_make_ca(dir, "otherca", &err) == 0, "%s", err.msg);
	ck_assert_msg(tls_certs_make(dir, "ca", "server", here, -60, 86400, &err) == 0, "%s", err.msg);
	ck_assert_msg(tls_certs_make(dir, "ca", "client", NULL, -60, 86400, &err) == 0, "%s", err.msg);
	ck_assert_msg(tls_certs_make(dir, "ca", "expired", here, -2 * 86400, -86400, &err) == 0, "%s", err.msg);
	ck_assert_msg(tls_certs_make(dir, "ca", "wrongname", elsewhere, -60, 86400, &err) == 0, "%s", err.msg);
}

static void servers_up(void)
{
	tc_temp_dir(dir, sizeof(dir));
	make_certs();
	start_server(GOOD, "server", true);
	start_server(EXPIRED, "expired", false);
	start_server(WRONG_NAME, "wrongname", false);
	start_server(PLAIN, NULL, false);
	stall_fd = tc_witness_open(&stall_port);
}

static void servers_down(void)
{
	for (int i = 0; i < SERVERS; i++)
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
		}
	close(stall_fd);
}

/* Runs `slotctl check 127.0.0.1:PORT --timeout TIMEOUT_MS` with extra
 * (NULL-terminated) options. */
static int run_check(struct run_result *r, int port, const char *const *extra)
{
	char seed[32], timeout[16];
	const char *argv[32] = { "check" };
	int n = 1;

	snprintf(seed, sizeof(seed), "127.0.0.1:%d", port);
	snprintf(timeout, sizeof(timeout), "%d", TIMEOUT_MS);
	argv[n++] = seed;
	argv[n++] = "--timeout";
	argv[n++] = timeout;
	for (int i = 0; extra[i] && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	return run_slotctl_argv(r, 30, argv);
}

/* The run failed as unreachable (exit 3) within the timeout, naming why. */
static void assert_refused(struct run_result *r, const char *cause)
{
	ck_assert_exit(r, 3);
	ck_assert_contains(r->err, cause);
	ck_assert_msg(r->seconds < TIMEOUT_MS / 1000.0 + SLACK_S, "took %.2f s, over the %d ms timeout",
		r->seconds, TIMEOUT_MS);
}

/* check of the node on port with extra refused it within the timeout, naming cause. */
static void check_refused(int port, const char *cause, const char *const *extra)
{
	struct run_result r;

	run_check(&r, port, extra);
	assert_refused(&r, cause);
	run_result_free(&r);
}

/* check with extra exited with status, its stderr saying text. */
static void check_exits(int status, const char *text, const char *const *extra)
{
	struct run_result r;

	run_check(&r, stall_port, extra);
	ck_assert_exit(&r, status);
	ck_assert_contains(r.err, text);
	run_result_free(&r);
}

/* check of the node on port with extra got past the TLS handshake (any
 * exit but 3: the node need not be a cluster). */
static void check_passes_tls(int port, const char *const *extra)
{
	struct run_result r;

	run_check(&r, port, extra);
	ck_assert_msg(r.status != 3, "exit %d: %s", r.status, r.err);
	run_result_free(&r);
}

START_TEST(mutual_tls_check_works)
{
	struct run_result r;

	run_check(&r, ports[GOOD], (const char *const[]){ "--tls", "--cacert", in_dir("ca.crt"), "--cert",
		in_dir("client.crt"), "--key", in_dir("client.key"), NULL });
	/* one node, slots or none (conn_over_tls adds them): every node answered over TLS */
	ck_assert_msg(r.status == 0 || r.status == 1, "exit %d: %s", r.status, r.err);
	ck_assert_contains(r.out, "all 1 nodes answered");
	run_result_free(&r);
}
END_TEST

START_TEST(unknown_ca_named)
{
	check_refused(ports[GOOD], "signed by an unknown CA", (const char *const[]){ "--tls", "--cacert",
		in_dir("otherca.crt"), "--cert", in_dir("client.crt"), "--key", in_dir("client.key"), NULL });
	/* no --cacert: the system's CAs do not know the throwaway one either */
	check_refused(ports[GOOD], "signed by an unknown CA", (const char *const[]){ "--tls", NULL });
}
END_TEST

START_TEST(missing_client_certificate_named)
{
	check_refused(ports[GOOD], "the server wants a client certificate (give --cert and --key)",
		(const char *const[]){ "--tls", "--cacert", in_dir("ca.crt"), NULL });
}
END_TEST

START_TEST(expired_certificate_named)
{
	check_refused(ports[EXPIRED], "the server's certificate expired on ",
		(const char *const[]){ "--tls", "--cacert", in_dir("ca.crt"), NULL });
}
END_TEST

START_TEST(name_mismatch_named)
{
	check_refused(ports[WRONG_NAME], "name mismatch: the server's certificate is not for '127.0.0.1'",
		(const char *const[]){ "--tls", "--cacert", in_dir("ca.crt"), NULL });
	/* --sni names what the certificate must carry */
	check_refused(ports[GOOD], "not for 'elsewhere.example'", (const char *const[]){ "--tls", "--cacert",
		in_dir("ca.crt"), "--cert", in_dir("client.crt"), "--key", in_dir("client.key"), "--sni",
		"elsewhere.example", NULL });
	/* and the right name passes */
	check_passes_tls(ports[WRONG_NAME], (const char *const[]){ "--tls", "--cacert", in_dir("ca.crt"), "--sni",
		"elsewhere.example", NULL });
	/* --insecure checks nothing */
	check_passes_tls(ports[EXPIRED], (const char *const[]){ "--tls", "--insecure", NULL });
}
END_TEST

START_TEST(plaintext_server_named)
{
	check_refused(ports[PLAIN], "the server does not speak TLS",
		(const char *const[]){ "--tls", "--cacert", in_dir("ca.crt"), NULL });
}
END_TEST

START_TEST(stalled_handshake_bounded)
{
	struct run_result r;

	run_check(&r, stall_port, (const char *const[]){ "--tls", "--cacert", in_dir("ca.crt"), NULL });
	assert_refused(&r, "timed out after 2000 ms during the TLS handshake");
	ck_assert_msg(r.seconds >= TIMEOUT_MS / 1000.0 - 0.1, "gave up after %.2f s, before the timeout", r.seconds);
	run_result_free(&r);
}
END_TEST

START_TEST(options_checked_before_connecting)
{
	tc_witness_connections(stall_fd); /* forget the other tests' */
	check_exits(2, "--cacert needs --tls", (const char *const[]){ "--cacert", in_dir("ca.crt"), NULL });
	check_exits(2, "--cert and --key go together",
		(const char *const[]){ "--tls", "--cert", in_dir("client.crt"), NULL });
	check_exits(2, "cannot use --cacert '", (const char *const[]){ "--tls", "--cacert", in_dir("missing.crt"), NULL });
	check_exits(2, "is not the key of --cert", (const char *const[]){ "--tls", "--cert", in_dir("client.crt"),
		"--key", in_dir("server.key"), NULL });
	/* the files are read bounded: a FIFO would hang OpenSSL's own reading,
	 * and a file larger than any CA bundle or key is not read at all */
	ck_assert_int_eq(mkfifo(in_dir("fifo.crt"), 0600), 0);
	check_exits(2, "cannot use --cacert '", (const char *const[]){ "--tls", "--cacert", in_dir("fifo.crt"), NULL });
	check_exits(2, "not a regular file", (const char *const[]){ "--tls", "--cacert", in_dir("fifo.crt"), NULL });
	close(open(in_dir("huge.key"), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	ck_assert_int_eq(truncate(in_dir("huge.key"), 64 << 20), 0);
	check_exits(2, "larger than", (const char *const[]){ "--tls", "--cert", in_dir("client.crt"), "--key",
		in_dir("huge.key"), NULL });
	ck_assert_int_eq(tc_witness_connections(stall_fd), 0);
}
END_TEST

/* conn over TLS: replies larger than a TLS record and the read buffer, a
 * pipeline, and a reply slower than the command timeout. */
START_TEST(conn_over_tls)
{
	struct conn_opts o = { .connect_timeout_ms = TIMEOUT_MS, .command_timeout_ms = TIMEOUT_MS,
		.tls = { .enabled = true, .cacert = in_dir("ca.crt"), .cert = in_dir("client.crt"),
			.key = in_dir("client.key") } };
	struct sc_error err = { 0 };
	struct conn *c;
	redisReply *reply;
	size_t big = 3u << 20;
	char *value = malloc(big);
	long long start;

	ck_assert_ptr_nonnull(value);
	for (size_t i = 0; i < big; i++)
		value[i] = (char)('a' + i % 26);
	ck_assert_msg(conn_open("127.0.0.1", ports[GOOD], &o, &c, &err) == 0, "%s", err.msg);
	reply = conn_command(c, &err, "CLUSTER ADDSLOTSRANGE 0 16383");
	ck_assert_msg(reply && reply->type == REDIS_REPLY_STATUS, "%s", reply ? reply->str : err.msg);
	freeReplyObject(reply);
	for (int i = 0; i < 100; i++) {
		reply = conn_command(c, &err, "SET k v");
		ck_assert_ptr_nonnull(reply);
		if (reply->type == REDIS_REPLY_STATUS)
			i = 100;
		else
			usleep(50000); /* until the node sees its slots: CLUSTERDOWN before */
		freeReplyObject(reply);
	}
	reply = conn_command_argv(c, 3, (const char *[]){ "SET", "big", value }, (const size_t[]){ 3, 3, big }, &err);
	ck_assert_msg(reply && reply->type == REDIS_REPLY_STATUS, "%s", err.msg);
	freeReplyObject(reply);
	reply = conn_command(c, &err, "GET big");
	ck_assert_msg(reply && reply->type == REDIS_REPLY_STRING, "%s", err.msg);
	ck_assert_uint_eq(reply->len, big);
	ck_assert(memcmp(reply->str, value, big) == 0);
	freeReplyObject(reply);
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(conn_append(c, &err, "INCR counter"), 0);
	for (int i = 1; i <= 1000; i++) {
		reply = conn_get_reply(c, &err);
		ck_assert_msg(reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == i, "%s", err.msg);
		freeReplyObject(reply);
	}
	ck_assert_int_eq(conn_set_timeout(c, 300, &err), 0);
	start = sc_clock_ms();
	reply = conn_command(c, &err, "BLPOP nothing 2");
	ck_assert_ptr_null(reply);
	ck_assert_int_lt(sc_clock_ms() - start, 1000);
	ck_assert_msg(strstr(err.msg, "timed out after 300 ms"), "%s", err.msg);
	ck_assert(conn_broken(c));
	conn_close(c);
	free(value);
}
END_TEST

/* A second connection to the same server resumes the session the first was
 * handed (the mover opens a few hundred: each full handshake costs both
 * sides certificates and signatures); one under other TLS options does not. */
START_TEST(second_connection_resumes)
{
	struct conn_opts o = { .connect_timeout_ms = TIMEOUT_MS, .command_timeout_ms = TIMEOUT_MS,
		.tls = { .enabled = true, .cacert = in_dir("ca.crt"), .cert = in_dir("client.crt"),
			.key = in_dir("client.key") } };
	struct conn_opts other = o;
	struct sc_error err = { 0 };
	struct conn *c;
	redisReply *reply;

	other.tls.insecure = true;
	for (int i = 0; i < 3; i++) {
		ck_assert_msg(conn_open("127.0.0.1", ports[GOOD], &o, &c, &err) == 0, "%s", err.msg);
		ck_assert_msg(conn_tls_resumed(c) == (i > 0), "connection %d: resumed %d", i, conn_tls_resumed(c));
		reply = conn_command(c, &err, "PING");
		ck_assert_msg(reply && reply->type == REDIS_REPLY_STATUS && strcmp(reply->str, "PONG") == 0, "%s",
			reply ? reply->str : err.msg);
		freeReplyObject(reply);
		conn_close(c);
	}
	ck_assert_msg(conn_open("127.0.0.1", ports[GOOD], &other, &c, &err) == 0, "%s", err.msg);
	ck_assert(!conn_tls_resumed(c));
	conn_close(c);
}
END_TEST

/* ---- a TLS-only cluster with mutual TLS, end to end ---- */

#define NKEYS 20000

static char sb_dir[128];
static const char *tls_opts[9];

/* Runs slotctl with words (NULL-terminated) and, when tls, the sandbox's TLS options. */
static int run_words(struct run_result *r, bool tls, const char *const *words)
{
	const char *argv[40];
	int n = 0;

	for (int i = 0; words[i] && n < 30; i++)
		argv[n++] = words[i];
	for (int i = 0; tls && tls_opts[i]; i++)
		argv[n++] = tls_opts[i];
	argv[n] = NULL;
	return run_slotctl_argv(r, 180, argv);
}

/* Starts apply of plan with TLS, paced so that it runs for seconds, and
 * kills it with SIGKILL ms after its first slot started moving keys;
 * asserts it was still running. */
static void apply_then_kill9(const char *plan, int ms)
{
	const char *argv[24] = { "apply", plan, "--yes", "--max-keys-per-sec", "1500", "--parallel", "1" };
	char journal[256];
	int n = 7, status;
	pid_t pid;

	for (int i = 0; tls_opts[i]; i++)
		argv[n++] = tls_opts[i];
	argv[n] = NULL;
	pid = run_slotctl_background(argv);
	snprintf(journal, sizeof(journal), "%s.journal", plan);
	/* until its journal shows keys moving, then ms more */
	for (int i = 0; i < 600 && !tc_file_has(journal, "\"phase\":\"migrating\""); i++)
		usleep(50000);
	ck_assert_msg(tc_file_has(journal, "\"phase\":\"migrating\""), "apply of '%s' moved nothing in 30 s", plan);
	usleep((useconds_t)ms * 1000);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	status = run_slotctl_wait(pid);
	ck_assert_msg(status == 128 + SIGKILL, "apply ended by itself (exit %d) before the kill", status);
}

static struct test_cluster *tls_cluster_up(void)
{
	static char ca[160], cert[160], key[160];
	struct run_result r;

	tc_temp_dir(dir, sizeof(dir));
	snprintf(sb_dir, sizeof(sb_dir), "%s/sandbox", dir);
	run_words(&r, false, (const char *const[]){ "sandbox", "up", "--dir", sb_dir, "--port", "0", "--masters", "3",
		"--replicas", "1", "--tls-auth-clients", NULL });
	ck_assert_exit(&r, 0);
	snprintf(ca, sizeof(ca), "%s/tls/ca.crt", sb_dir);
	snprintf(cert, sizeof(cert), "%s/tls/client.crt", sb_dir);
	snprintf(key, sizeof(key), "%s/tls/client.key", sb_dir);
	ck_assert_contains(r.out, "connect with: --tls --cacert ");
	ck_assert_contains(r.out, ca);
	run_result_free(&r);
	tls_opts[0] = "--tls", tls_opts[1] = "--cacert", tls_opts[2] = ca, tls_opts[3] = "--cert";
	tls_opts[4] = cert, tls_opts[5] = "--key", tls_opts[6] = key, tls_opts[7] = NULL;
	return tc_attach(sb_dir);
}

/* check exits 0 over TLS, and the keys are all there, once, on their owners. */
static void healthy_with_keys(struct test_cluster *tc)
{
	struct run_result r;

	ck_assert(tc_wait_converged(tc, 30000));
	run_words(&r, true, (const char *const[]){ "check", tc_seed(tc), NULL });
	ck_assert_exit(&r, 0);
	run_result_free(&r);
	tc_verify_keys(tc, "k", NKEYS);
}

START_TEST(mutual_tls_cluster_end_to_end)
{
	struct test_cluster *tc = tls_cluster_up();
	char plan[3][192], journal[200];
	struct traffic_stats stats;
	struct traffic *traffic;
	struct run_result r;
	int open_slot = 0;

	for (int i = 0; i < 3; i++)
		snprintf(plan[i], sizeof(plan[i]), "%s/plan-%d.json", dir, i);
	tc_load_keys(tc, "k", NKEYS);
	healthy_with_keys(tc);
	/* a TLS-only node does not answer plaintext, nor TLS without the client certificate */
	run_words(&r, false, (const char *const[]){ "check", tc_seed(tc), "--timeout", "2000", NULL });
	ck_assert_exit(&r, 3);
	run_result_free(&r);
	run_words(&r, false, (const char *const[]){ "check", tc_seed(tc), "--tls", "--cacert", tls_opts[2], NULL });
	ck_assert_exit(&r, 3);
	ck_assert_contains(r.err, "the server wants a client certificate");
	run_result_free(&r);

	/* plan, then apply under live traffic; the plan says TLS, never a secret */
	run_words(&r, true, (const char *const[]){ "plan", "reshard", tc_seed(tc), "--from", "all", "--to", tc_id(tc, 0),
		"--slots", "3000", "-o", plan[0], NULL });
	ck_assert_exit(&r, 0);
	run_result_free(&r);
	ck_assert(tc_file_has(plan[0], "\"transport\":\t{"));
	ck_assert(!tc_file_has(plan[0], "PRIVATE KEY") && !tc_file_has(plan[0], "client.key"));
	run_words(&r, false, (const char *const[]){ "apply", plan[0], "--yes", NULL });
	ck_assert_exit(&r, 2);
	ck_assert_contains(r.err, "says the cluster speaks TLS: give --tls --cacert --cert --key");
	run_result_free(&r);
	traffic = traffic_start(tc, "k", NKEYS);
	run_words(&r, true, (const char *const[]){ "apply", plan[0], "--yes", NULL });
	traffic_stop(traffic, &stats);
	ck_assert_exit(&r, 0);
	ck_assert_msg(stats.errors == 0 && stats.ops > 0, "traffic: %ld errors of %ld ops: %s", stats.errors,
		stats.ops, stats.first_error);
	run_result_free(&r);
	healthy_with_keys(tc);

	/* kill -9 mid-drain, then resume: without the TLS options it names them */
	run_words(&r, true, (const char *const[]){ "plan", "drain", tc_seed(tc), tc_id(tc, 2), "-o", plan[1], NULL });
	ck_assert_exit(&r, 0);
	run_result_free(&r);
	apply_then_kill9(plan[1], 700);
	run_words(&r, false, (const char *const[]){ "resume", plan[1], NULL });
	ck_assert_exit(&r, 2);
	ck_assert_contains(r.err, "give --tls --cacert --cert --key");
	run_result_free(&r);
	snprintf(journal, sizeof(journal), "%s.journal", plan[1]);
	ck_assert(tc_file_has(journal, "\"transport\":{\"options\":[\"cacert\",\"cert\",\"key\"],\"tls\":true}"));
	ck_assert(!tc_file_has(journal, "PRIVATE KEY") && !tc_file_has(journal, "client.key"));
	run_words(&r, true, (const char *const[]){ "resume", plan[1], NULL });
	ck_assert_exit(&r, 0);
	ck_assert_contains(r.out, "resume: done");
	run_result_free(&r);
	healthy_with_keys(tc);

	/* kill -9 mid-rebalance onto the drained master, then abort */
	run_words(&r, true, (const char *const[]){ "plan", "rebalance", tc_seed(tc), "--use-empty-masters", "--by",
		"slots", "-o", plan[2], NULL });
	ck_assert_exit(&r, 0);
	run_result_free(&r);
	apply_then_kill9(plan[2], 700);
	snprintf(journal, sizeof(journal), "%s.journal", plan[2]);
	run_words(&r, true, (const char *const[]){ "abort", journal, NULL });
	ck_assert_exit(&r, 0);
	ck_assert_contains(r.out, "abort: aborted");
	run_result_free(&r);
	healthy_with_keys(tc);

	/* fix: a slot left open by hand is closed, over TLS */
	while (tc_owner_of(tc, 1, open_slot) != 1)
		open_slot += 97;
	ck_assert_int_lt(open_slot, 16384);
	freeReplyObject(tc_command(tc, 1, "CLUSTER SETSLOT %d MIGRATING %s", open_slot, tc_id(tc, 0)));
	run_words(&r, false, (const char *const[]){ "fix", tc_seed(tc), "--yes", "--journal", journal, "--tls", NULL });
	ck_assert_exit(&r, 2);
	ck_assert_contains(r.err, "give --cacert --cert --key");
	run_result_free(&r);
	run_words(&r, true, (const char *const[]){ "fix", tc_seed(tc), "--yes", NULL });
	ck_assert_msg(r.status == 0, "fix exited %d: %s%s", r.status, r.out, r.err);
	run_result_free(&r);
	healthy_with_keys(tc);
	tc_stop(tc);
}
END_TEST

/* Every node of tc's view from node 0 announces hostname; waits for gossip. */
static void announce_hostname(struct test_cluster *tc, const char *hostname)
{
	char want[80];
	int seen = 0;

	snprintf(want, sizeof(want), ",%s ", hostname);
	for (int i = 0; i < tc_count(tc); i++)
		freeReplyObject(tc_command(tc, i, "CONFIG SET cluster-announce-hostname %s", hostname));
	for (int tries = 0; tries < 200 && seen < tc_count(tc); tries++) {
		redisReply *r = tc_command(tc, 0, "CLUSTER NODES");

		seen = 0;
		for (const char *p = r->str; (p = strstr(p, want)) != NULL; p++)
			seen++;
		freeReplyObject(r);
		if (seen < tc_count(tc))
			usleep(50000);
	}
	ck_assert_int_eq(seen, tc_count(tc));
}

/* Nodes that announce a host name are dialled by it with --prefer-hostnames
 * or when the cluster prefers it (cluster-preferred-endpoint-type
 * hostname): the plan's addresses are the name's, and apply connects by the
 * name, whose certificate check passes since the sandbox's certificate
 * names localhost. */
START_TEST(host_names_when_preferred)
{
	struct test_cluster *tc = tls_cluster_up();
	char plan[192];
	struct run_result r;

	snprintf(plan, sizeof(plan), "%s/plan.json", dir);
	announce_hostname(tc, "localhost");
	run_words(&r, true, (const char *const[]){ "plan", "reshard", tc_seed(tc), "--from", "all", "--to", tc_id(tc, 0),
		"--slots", "100", "-o", plan, NULL });
	ck_assert_exit(&r, 0);
	run_result_free(&r);
	ck_assert(tc_file_has(plan, "\"address\":\t\"127.0.0.1:") && !tc_file_has(plan, "\"address\":\t\"localhost:"));
	run_words(&r, true, (const char *const[]){ "plan", "reshard", tc_seed(tc), "--from", "all", "--to", tc_id(tc, 0),
		"--slots", "100", "-o", plan, "--prefer-hostnames", NULL });
	ck_assert_exit(&r, 0);
	run_result_free(&r);
	ck_assert(tc_file_has(plan, "\"address\":\t\"localhost:") && !tc_file_has(plan, "\"address\":\t\"127.0.0.1:"));
	for (int i = 0; i < tc_count(tc); i++)
		freeReplyObject(tc_command(tc, i, "CONFIG SET cluster-preferred-endpoint-type hostname"));
	run_words(&r, true, (const char *const[]){ "plan", "reshard", tc_seed(tc), "--from", "all", "--to", tc_id(tc, 0),
		"--slots", "100", "-o", plan, NULL });
	ck_assert_exit(&r, 0);
	run_result_free(&r);
	ck_assert(tc_file_has(plan, "\"address\":\t\"localhost:") && !tc_file_has(plan, "\"address\":\t\"127.0.0.1:"));
	run_words(&r, true, (const char *const[]){ "apply", plan, "--yes", NULL });
	ck_assert_exit(&r, 0);
	run_result_free(&r);
	tc_stop(tc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("tls");

	tcase_add_unchecked_fixture(tc, servers_up, servers_down);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, mutual_tls_check_works);
	tcase_add_test(tc, unknown_ca_named);
	tcase_add_test(tc, missing_client_certificate_named);
	tcase_add_test(tc, expired_certificate_named);
	tcase_add_test(tc, name_mismatch_named);
	tcase_add_test(tc, plaintext_server_named);
	tcase_add_test(tc, stalled_handshake_bounded);
	tcase_add_test(tc, options_checked_before_connecting);
	tcase_add_test(tc, conn_over_tls);
	tcase_add_test(tc, second_connection_resumes);
	suite_add_tcase(s, tc);
	tc = tcase_create("cluster");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, mutual_tls_cluster_end_to_end);
	tcase_add_test(tc, host_names_when_preferred);
	suite_add_tcase(s, tc);
	return check_run(s);
}
