/* support.c: the integration tests' shared helpers (see support.h): test
 * clusters built on the sandbox library (ephemeral ports, a mkdtemp dir,
 * servers that die with the test), key loading and verification, and running
 * the slotctl binary under a time bound. Any failure aborts the current Check
 * test with a message naming what went wrong. */
#define _XOPEN_SOURCE 700
#include "support.h"
#include "slotctl/io/clock.h"
#include "slotctl/io/file_text.h"
#include "slotctl/core/keyslot.h"
#include "slotctl/io/sandbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define CONVERGE_TIMEOUT_MS 30000
#define TC_COMMAND_TIMEOUT_MS 10000
#define STOP_GRACE_MS 2000
#define MAX_CLUSTERS 16
#define MAX_TEMP_DIRS 16

struct test_cluster {
	struct sandbox *sb;
	char seed[32];
	struct conn **conns;    /* per node, opened on first use (TLS for a TLS sandbox) */
	pid_t creator;          /* only this process may stop it at exit */
	pid_t watchdog;         /* tc_attach's (see watch_attached), or 0 */
	int watchdog_fd;        /* the write end of its pipe, or -1 */
};

/* Clusters still running, stopped at exit if a test aborts before tc_stop. */
static struct test_cluster *live[MAX_CLUSTERS];

static void stop_leftovers(void)
{
	for (int k = 0; k < MAX_CLUSTERS; k++)
		if (live[k] && live[k]->creator == getpid())
			tc_stop(live[k]);
}

/* A test program dies with whoever ran it (meson, a shell): when that is
 * killed, the test does not run on as an orphan with its servers. Meson and
 * Check run tests in process groups of their own, so killing the runner's
 * group does not reach them. */
__attribute__((constructor)) static void die_with_runner(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static void remember(struct test_cluster *tc)
{
	static bool registered;

	/* the process running a Check test (forked by Check into its own
	 * process group) dies with the runner too, and its servers with it */
	prctl(PR_SET_PDEATHSIG, SIGKILL);

	if (!registered) {
		atexit(stop_leftovers);
		registered = true;
	}
	for (int k = 0; k < MAX_CLUSTERS; k++)
		if (!live[k]) {
			live[k] = tc;
			return;
		}
}

static void forget(struct test_cluster *tc)
{
	for (int k = 0; k < MAX_CLUSTERS; k++)
		if (live[k] == tc)
			live[k] = NULL;
}

static struct test_cluster *wrap(struct sandbox *sb)
{
	struct test_cluster *tc = calloc(1, sizeof(*tc));

	ck_assert_msg(tc != NULL, "out of memory");
	tc->sb = sb;
	tc->conns = calloc((size_t)sb->count, sizeof(*tc->conns));
	ck_assert_msg(tc->conns != NULL, "out of memory");
	tc->creator = getpid();
	tc->watchdog_fd = -1;
	snprintf(tc->seed, sizeof(tc->seed), "127.0.0.1:%d", sb->nodes[0].port);
	remember(tc);
	return tc;
}

/* Temp dirs of tc_temp_dir, removed at exit by the process that made them
 * (and with the run's SLOTCTL_TEST_TMP when a failed test skipped that). */
static struct {
	char path[128];
	pid_t creator;
} temp_dirs[MAX_TEMP_DIRS];

/* Writes a mkdtemp template for a test directory into buf: under the run's
 * SLOTCTL_TEST_TMP (see check_run.h), else /tmp. */
static void temp_template(char *buf, size_t size)
{
	const char *base = getenv("SLOTCTL_TEST_TMP");
	int n = snprintf(buf, size, "%s/slotctl-test-XXXXXX", base && base[0] ? base : "/tmp");

	ck_assert_msg(n > 0 && (size_t)n < size, "temp dir name too long for a buffer of %zu", size);
}

static void remove_temp_dirs(void)
{
	for (int k = 0; k < MAX_TEMP_DIRS; k++)
		if (temp_dirs[k].path[0] && temp_dirs[k].creator == getpid()) {
			file_remove_tree(temp_dirs[k].path);
			temp_dirs[k].path[0] = '\0';
		}
}

void tc_temp_dir(char *buf, size_t size)
{
	static bool registered;
	int k = 0;

	while (k < MAX_TEMP_DIRS && temp_dirs[k].path[0] && temp_dirs[k].creator == getpid())
		k++;
	ck_assert_msg(k < MAX_TEMP_DIRS, "tc_temp_dir: more than %d temp dirs", MAX_TEMP_DIRS);
	temp_template(buf, size);
	ck_assert_msg(mkdtemp(buf) != NULL, "mkdtemp '%s': %s", buf, strerror(errno));
	if (!registered) {
		atexit(remove_temp_dirs);
		registered = true;
	}
	snprintf(temp_dirs[k].path, sizeof(temp_dirs[k].path), "%s", buf);
	temp_dirs[k].creator = getpid();
}

const char *tc_server_binary(void)
{
	const char *env = getenv(SANDBOX_SERVER_ENV);

	return env && env[0] ? env : "redis-server";
}

struct test_cluster *tc_start(int masters, int replicas)
{
	return tc_start_server(NULL, masters, replicas);
}

struct test_cluster *tc_start_server(const char *server, int masters, int replicas)
{
	char dir[128];
	struct sandbox_opts o = {
		.dir = dir,
		.redis_server = server,
		.masters = masters,
		.replicas = replicas,
		.base_port = 0,
		.die_with_parent = true,
	};
	struct sandbox *sb;
	struct sc_error err;

	temp_template(dir, sizeof(dir));
	ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp '%s': %s", dir, strerror(errno));
	if (sandbox_up(&o, &sb, &err) < 0) {
		rmdir(dir);
		ck_abort_msg("tc_start(%d, %d): %s", masters, replicas, err.msg);
	}
	return wrap(sb);
}

const char *tc_valkey_server(void)
{
	const char *p = getenv("SLOTCTL_VALKEY_SERVER");
	const char *any = getenv("SLOTCTL_REDIS_SERVER");

	if (p != NULL && p[0] != '\0')
		return p;
	/* the suite's server, when it is a valkey-server */
	if (any != NULL && strstr(any, "valkey-server") != NULL)
		return any;
	return NULL;
}

/* The servers of an attached sandbox are not this process's children:
 * `slotctl sandbox up` started them, so PR_SET_PDEATHSIG (tc_start's way)
 * cannot tie them to the test, and a failed assertion ends the test with
 * _exit, past stop_leftovers. A watchdog process does: it waits on a pipe
 * whose only writer is the test, and when the test is gone (any way: EOF)
 * it stops the sandbox as tc_stop would (sandbox_down, by recorded PIDs,
 * each checked in /proc first). tc_stop, having stopped them, kills it. It
 * leaves the test's process group, which Check kills on a timeout. */
static void watch_attached(struct test_cluster *tc)
{
	int fds[2];
	pid_t pid;

	/* close-on-exec: no slotctl or server the test runs holds it open */
	ck_assert_msg(pipe(fds) == 0 && fcntl(fds[0], F_SETFD, FD_CLOEXEC) == 0 &&
		fcntl(fds[1], F_SETFD, FD_CLOEXEC) == 0, "pipe: %s", strerror(errno));
	pid = fork();
	ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		struct sc_error err;
		char c;

		setpgid(0, 0);
		for (int fd = 3; fd < 1024; fd++) /* another watchdog's pipe, say */
			if (fd != fds[0])
				close(fd);
		while (read(fds[0], &c, 1) < 0 && errno == EINTR)
			;
		sandbox_down(tc->sb, STOP_GRACE_MS, &err);
		_exit(0);
	}
	close(fds[0]);
	tc->watchdog = pid;
	tc->watchdog_fd = fds[1];
}

struct test_cluster *tc_attach(const char *dir)
{
	struct test_cluster *tc;
	struct sandbox *sb;
	struct sc_error err;

	if (sandbox_open(dir, &sb, &err) < 0)
		ck_abort_msg("tc_attach('%s'): %s", dir, err.msg);
	tc = wrap(sb);
	watch_attached(tc);
	return tc;
}

/* Ends tc's watchdog (the test stopped the sandbox itself) and reaps it:
 * our child, so its pid is not reused before waitpid. */
static void disarm(struct test_cluster *tc)
{
	if (tc->watchdog_fd < 0)
		return;
	kill(tc->watchdog, SIGKILL);
	waitpid(tc->watchdog, NULL, 0);
	close(tc->watchdog_fd);
	tc->watchdog_fd = -1;
}

void tc_stop(struct test_cluster *tc)
{
	struct sc_error err;
	int rc;

	if (!tc)
		return;
	forget(tc);
	for (int i = 0; i < tc->sb->count; i++)
		conn_close(tc->conns[i]);
	rc = sandbox_down(tc->sb, STOP_GRACE_MS, &err);
	disarm(tc);
	sandbox_free(tc->sb);
	free(tc->conns);
	free(tc);
	ck_assert_msg(rc == 0, "tc_stop: %s", err.msg);
}

int tc_count(const struct test_cluster *tc)
{
	return tc->sb->count;
}

static void check_index(const struct test_cluster *tc, int i)
{
	ck_assert_msg(i >= 0 && i < tc->sb->count, "no node %d in a cluster of %d", i, tc->sb->count);
}

int tc_port(const struct test_cluster *tc, int i)
{
	check_index(tc, i);
	return tc->sb->nodes[i].port;
}

pid_t tc_pid(const struct test_cluster *tc, int i)
{
	check_index(tc, i);
	return tc->sb->nodes[i].pid;
}

const char *tc_id(const struct test_cluster *tc, int i)
{
	check_index(tc, i);
	return tc->sb->nodes[i].id;
}

bool tc_is_master(const struct test_cluster *tc, int i)
{
	check_index(tc, i);
	return tc->sb->nodes[i].master < 0;
}

int tc_replica_of(const struct test_cluster *tc, int master)
{
	check_index(tc, master);
	for (int i = 0; i < tc->sb->count; i++)
		if (tc->sb->nodes[i].master == master)
			return i;
	return -1;
}

const char *tc_seed(const struct test_cluster *tc)
{
	return tc->seed;
}

const char *tc_dir(const struct test_cluster *tc)
{
	return tc->sb->dir;
}

int tc_free_port(void)
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

redisContext *tc_connect(const struct test_cluster *tc, int i)
{
	struct timeval tv = { 2, 0 };
	redisContext *c;

	check_index(tc, i);
	c = redisConnectWithTimeout("127.0.0.1", tc->sb->nodes[i].port, tv);
	if (!c || c->err)
		ck_abort_msg("cannot connect to node %d '127.0.0.1:%d': %s", i, tc->sb->nodes[i].port,
			c ? c->errstr : "out of memory");
	redisSetTimeout(c, tv);
	return c;
}

struct conn_opts tc_conn_opts(const struct test_cluster *tc, int timeout_ms)
{
	int ms = timeout_ms > 0 ? timeout_ms : 2000;

	return sandbox_conn_opts(tc->sb, ms, ms);
}

/* The cached connection to node i, reopened after an error. Its commands
 * are bounded as a whole (conn bounds the whole reply, where hiredis bounded
 * each read), so the bound is wide enough for a test's largest value (GET
 * of 48 MB under ASan on a loaded machine), and so is its reply budget. */
static struct conn *conn_for(const struct test_cluster *tc, int i)
{
	struct conn_opts opts = tc_conn_opts(tc, 0);
	struct sc_error err = { 0 };

	check_index(tc, i);
	opts.command_timeout_ms = TC_COMMAND_TIMEOUT_MS;
	if (tc->conns[i] && conn_broken(tc->conns[i])) {
		conn_close(tc->conns[i]);
		tc->conns[i] = NULL;
	}
	if (!tc->conns[i] && conn_open("127.0.0.1", tc->sb->nodes[i].port, &opts, &tc->conns[i], &err) != 0)
		ck_abort_msg("cannot connect to node %d: %s", i, err.msg);
	conn_set_reply_limit(tc->conns[i], CONN_REPLY_MAX_VALUE_BYTES, 0);
	return tc->conns[i];
}

void tc_adopt(const struct test_cluster *tc, int i, pid_t pid)
{
	check_index(tc, i);
	tc->sb->nodes[i].pid = pid;
	conn_close(tc->conns[i]);
	tc->conns[i] = NULL;
}

redisReply *tc_command(const struct test_cluster *tc, int i, const char *fmt, ...)
{
	struct conn *c = conn_for(tc, i);
	struct sc_error err = { 0 };
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = conn_vcommand(c, &err, fmt, ap);
	va_end(ap);
	if (!r)
		ck_abort_msg("node %d did not answer '%s': %s", i, fmt, err.msg);
	return r;
}

int tc_migrate_keys(const struct test_cluster *tc, int slot, int from, int to, int n)
{
	redisReply *keys = tc_command(tc, from, "CLUSTER GETKEYSINSLOT %d %d", slot, n < 0 ? 100000 : n);
	int moved;

	ck_assert_msg(keys->type == REDIS_REPLY_ARRAY, "node %d: GETKEYSINSLOT %d gave no array", from, slot);
	for (size_t i = 0; i < keys->elements; i++) {
		redisReply *m = tc_command(tc, from, "MIGRATE 127.0.0.1 %d %b 0 5000 KEYS %b", tc_port(tc, to),
			"", (size_t)0, keys->element[i]->str, keys->element[i]->len);

		ck_assert_msg(m->type != REDIS_REPLY_ERROR, "node %d: MIGRATE of a key of slot %d: %s", from, slot,
			m->str);
		freeReplyObject(m);
	}
	moved = (int)keys->elements;
	freeReplyObject(keys);
	return moved;
}

void tc_server_version(const struct test_cluster *tc, int i, struct server_version *v)
{
	redisReply *r = tc_command(tc, i, "INFO server");

	ck_assert_msg(r->type == REDIS_REPLY_STRING,
		"node %d answered INFO server with reply type %d", i, r->type);
	info_server_version(r->str, v);
	freeReplyObject(r);
}

bool tc_wait_for_file(const char *path, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 10) {
		if (access(path, F_OK) == 0)
			return true;
		usleep(10 * 1000);
	}
	return access(path, F_OK) == 0;
}

void tc_owners(const struct test_cluster *tc, int view_node, int *owner)
{
	struct sc_error err;

	if (sandbox_owner_map(tc->sb, view_node, owner, &err) < 0)
		ck_abort_msg("tc_owners: %s", err.msg);
}

int tc_owner_of(const struct test_cluster *tc, int view_node, int slot)
{
	static int owner[SC_SLOTS];

	ck_assert_msg(slot >= 0 && slot < SC_SLOTS, "no slot %d", slot);
	tc_owners(tc, view_node, owner);
	return owner[slot];
}

void tc_load_keys(const struct test_cluster *tc, const char *prefix, int n)
{
	struct sc_error err;

	if (sandbox_load_keys(tc->sb, prefix, n, &err) < 0)
		ck_abort_msg("tc_load_keys('%s', %d): %s", prefix, n, err.msg);
}

const char *tc_value_for(const char *prefix, int i)
{
	static char buf[512];

	sandbox_value_for(prefix, i, buf, sizeof(buf));
	return buf;
}

bool tc_wait_converged(const struct test_cluster *tc, int timeout_ms)
{
	struct sc_error err;

	return sandbox_wait_converged(tc->sb, timeout_ms, &err) == 0;
}

/* -- verifying keys */

struct key_check {
	const struct test_cluster *tc;
	const char *prefix;
	int n;
	int owner[SC_SLOTS];
	int *found_on;          /* per key: node index, or -1 */
};

/* The key index of "<prefix>:<i>", or -1 when key is not of that form. */
static long key_index(const char *prefix, const char *key, size_t len)
{
	size_t plen = strlen(prefix);
	long i = 0;

	if (len <= plen + 1 || strncmp(key, prefix, plen) != 0 || key[plen] != ':')
		return -1;
	for (size_t k = plen + 1; k < len; k++) {
		if (key[k] < '0' || key[k] > '9' || i > 100000000)
			return -1;
		i = i * 10 + (key[k] - '0');
	}
	return (len > plen + 2 && key[plen + 1] == '0') ? -1 : i;
}

/* Checks one key found on master node: known, not seen elsewhere, owned by
 * node, right value. */
static void check_found_key(struct key_check *kc, int node, const char *key, size_t len)
{
	const struct sandbox *sb = kc->tc->sb;
	long i = key_index(kc->prefix, key, len);
	int slot = keyslot_of(key, len);
	redisReply *r;

	if (i < 0 || i >= kc->n)
		ck_abort_msg("unexpected key '%.*s' on node %d '127.0.0.1:%d' (expected %s:0..%s:%d only)",
			(int)len, key, node, sb->nodes[node].port, kc->prefix, kc->prefix, kc->n - 1);
	if (kc->found_on[i] >= 0)
		ck_abort_msg("key '%.*s' is on two masters: node %d '127.0.0.1:%d' and node %d '127.0.0.1:%d'",
			(int)len, key, kc->found_on[i], sb->nodes[kc->found_on[i]].port, node, sb->nodes[node].port);
	kc->found_on[i] = node;
	if (kc->owner[slot] != node)
		ck_abort_msg("key '%.*s' (slot %d) is on node %d '127.0.0.1:%d' but node 0 says slot %d is owned by node %d",
			(int)len, key, slot, node, sb->nodes[node].port, slot, kc->owner[slot]);
	r = tc_command(kc->tc, node, "GET %b", key, len);
	if (r->type != REDIS_REPLY_STRING || strcmp(r->str, tc_value_for(kc->prefix, (int)i)) != 0) {
		char got[256];

		snprintf(got, sizeof(got), "%s", r->type == REDIS_REPLY_STRING ? r->str :
			r->type == REDIS_REPLY_ERROR ? r->str : "(not a string)");
		freeReplyObject(r);
		ck_abort_msg("key '%.*s' on node %d '127.0.0.1:%d' has value '%s', expected '%s'",
			(int)len, key, node, sb->nodes[node].port, got, tc_value_for(kc->prefix, (int)i));
	}
	freeReplyObject(r);
}

/* Where each key was found; static (reachable) so an abort leaks nothing. */
static int *found_array(int n)
{
	static int *found;
	static int cap;

	if (n + 1 > cap) {
		free(found);
		cap = n + 1;
		found = malloc((size_t)cap * sizeof(int));
		ck_assert_msg(found != NULL, "out of memory");
	}
	return found;
}

/* True when node i is a running master by its own ROLE reply. */
static bool live_master(const struct test_cluster *tc, int i)
{
	redisReply *r;
	bool master;

	if (!sandbox_node_alive(tc->sb, i))
		return false;
	r = tc_command(tc, i, "ROLE");
	master = r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
		r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "master") == 0;
	freeReplyObject(r);
	return master;
}

/* The SCAN page being checked; static so that an abort leaves it reachable. */
static redisReply *scan_page;

static void scan_master(struct key_check *kc, int node)
{
	char cursor[32] = "0";

	do {
		redisReply *r = scan_page = tc_command(kc->tc, node, "SCAN %s MATCH %s:* COUNT 1000", cursor, kc->prefix);

		if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
			ck_abort_msg("node %d '127.0.0.1:%d' gave a bad SCAN reply%s%s", node,
				kc->tc->sb->nodes[node].port, r->type == REDIS_REPLY_ERROR ? ": " : "",
				r->type == REDIS_REPLY_ERROR ? r->str : "");
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		for (size_t k = 0; k < r->element[1]->elements; k++) {
			const redisReply *key = r->element[1]->element[k];
			char copy[512];
			size_t len = key->len < sizeof(copy) ? key->len : sizeof(copy) - 1;

			memcpy(copy, key->str, len);
			check_found_key(kc, node, copy, len);
		}
		freeReplyObject(r);
		scan_page = NULL;
	} while (strcmp(cursor, "0") != 0);
}

void tc_verify_keys(const struct test_cluster *tc, const char *prefix, int n)
{
	struct key_check kc = { .tc = tc, .prefix = prefix, .n = n };
	struct sc_error err;

	if (sandbox_wait_converged(tc->sb, CONVERGE_TIMEOUT_MS, &err) < 0)
		ck_abort_msg("tc_verify_keys: %s", err.msg);
	if (sandbox_owner_map(tc->sb, 0, kc.owner, &err) < 0)
		ck_abort_msg("tc_verify_keys: %s", err.msg);
	kc.found_on = found_array(n);
	for (int i = 0; i < n; i++)
		kc.found_on[i] = -1;
	for (int node = 0; node < tc->sb->count; node++)
		if (live_master(tc, node))
			scan_master(&kc, node);
	for (int i = 0; i < n; i++) {
		if (kc.found_on[i] < 0) {
			char key[256];
			int slot;

			snprintf(key, sizeof(key), "%s:%d", prefix, i);
			slot = keyslot_of(key, strlen(key));
			ck_abort_msg("key '%s' (slot %d, owned by node %d) is missing from every master",
				key, slot, kc.owner[slot]);
		}
	}
}

/* -- running slotctl */

static double now_seconds(void)
{
	return (double)sc_clock_ms() / 1000;
}

struct capture {
	char *buf;
	size_t len, cap;
};

static void capture_read(struct capture *c, int fd, bool *open)
{
	char chunk[4096];
	ssize_t got = read(fd, chunk, sizeof(chunk));

	if (got < 0 && errno == EINTR)
		return;
	if (got <= 0) {
		*open = false;
		return;
	}
	if (c->len + (size_t)got + 1 > c->cap) {
		c->cap = (c->len + (size_t)got + 1) * 2;
		c->buf = realloc(c->buf, c->cap);
		ck_assert_msg(c->buf != NULL, "out of memory");
	}
	memcpy(c->buf + c->len, chunk, (size_t)got);
	c->len += (size_t)got;
	c->buf[c->len] = '\0';
}

/* Starts bin with argv, stdin from /dev/null, stdout and stderr onto out and
 * err (which the child closes). */
static pid_t spawn_slotctl(const char *bin, const char *const *argv, int out, int err)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		const char **full;
		int n = 0, null = open("/dev/null", O_RDONLY);

		while (argv[n])
			n++;
		full = calloc((size_t)n + 2, sizeof(*full));
		if (!full)
			_exit(127);
		full[0] = bin;
		memcpy(full + 1, argv, (size_t)n * sizeof(*full));
		dup2(null, STDIN_FILENO);
		dup2(out, STDOUT_FILENO);
		dup2(err, STDERR_FILENO);
		/* a pipe's other end must not stay open in slotctl */
		for (int fd = STDERR_FILENO + 1; fd < 1024; fd++)
			close(fd);
		execv(bin, (char *const *)full);
		dprintf(STDERR_FILENO, "cannot run '%s': %s\n", bin, strerror(errno));
		_exit(127);
	}
	return pid;
}

static const char *slotctl_bin(void)
{
	const char *bin = getenv("SLOTCTL_BIN");

	ck_assert_msg(bin && *bin, "SLOTCTL_BIN is not set (run the tests with meson test)");
	return bin;
}

pid_t run_slotctl_background(const char *const *argv)
{
	int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pid_t pid;

	ck_assert_int_ge(null, 0);
	pid = spawn_slotctl(slotctl_bin(), argv, null, null);
	close(null);
	return pid;
}

int run_slotctl_wait(pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0)
		ck_assert_msg(errno == EINTR, "waitpid %ld: %s", (long)pid, strerror(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int tc_witness_open(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 64), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

int tc_witness_connections(int fd)
{
	int n = 0, c;

	while ((c = accept(fd, NULL, NULL)) >= 0) {
		close(c);
		n++;
	}
	return n;
}

int run_slotctl_argv(struct run_result *r, int timeout_s, const char *const *argv)
{
	struct capture out = { 0 }, err = { 0 };
	int out_fd[2], err_fd[2], status = 0;
	bool out_open = true, err_open = true, killed = false;
	double start = now_seconds();
	pid_t pid;

	ck_assert_msg(pipe(out_fd) == 0 && pipe(err_fd) == 0, "pipe: %s", strerror(errno));
	pid = spawn_slotctl(slotctl_bin(), argv, out_fd[1], err_fd[1]);
	close(out_fd[1]);
	close(err_fd[1]);
	while (out_open || err_open) {
		struct pollfd p[2] = { { out_fd[0], POLLIN, 0 }, { err_fd[0], POLLIN, 0 } };
		int left = (int)((start + timeout_s - now_seconds()) * 1000);

		if (!out_open)
			p[0].fd = -1;
		if (!err_open)
			p[1].fd = -1;
		if (left <= 0 && !killed) {
			kill(pid, SIGKILL);
			killed = true;
		}
		/* a grandchild may still hold the pipes: stop reading soon after the kill */
		if (killed && left < -5000)
			break;
		if (poll(p, 2, killed ? 1000 : left) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			capture_read(&out, out_fd[0], &out_open);
		if (p[1].revents)
			capture_read(&err, err_fd[0], &err_open);
	}
	close(out_fd[0]);
	close(err_fd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r->out = out.buf ? out.buf : strdup("");
	r->err = err.buf ? err.buf : strdup("");
	r->seconds = now_seconds() - start;
	return r->status;
}

int run_slotctl(struct run_result *r, int timeout_s, const char *arg, ...)
{
	const char *argv[128];
	int n = 0;
	va_list ap;

	va_start(ap, arg);
	for (const char *a = arg; a; a = va_arg(ap, const char *)) {
		ck_assert_msg(n < 127, "run_slotctl: too many arguments");
		argv[n++] = a;
	}
	va_end(ap);
	argv[n] = NULL;
	return run_slotctl_argv(r, timeout_s, argv);
}

void run_result_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

bool tc_file_has(const char *path, const char *text)
{
	char *data;
	size_t len;
	struct sc_error err;
	bool has;

	if (file_read(path, "file", 64u << 20, 0, &data, &len, &err) != 0)
		return false;
	has = strstr(data, text) != NULL;
	free(data);
	return has;
}
