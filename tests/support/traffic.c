/* traffic.c: the cluster-aware traffic client of traffic.h. The parent
 * shares one anonymous mapping with a forked child: the child routes GET/SET
 * of known keys by its own copy of the slot map, follows redirections,
 * writes counters and a latency histogram into the mapping, and polls a stop
 * flag the parent sets. Nothing here uses Check except traffic_start. */
#include "traffic.h"
#include "support.h"
#include "slotctl/core/keyslot.h"
#include "slotctl/io/sandbox.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_NODES 128
#define MAX_REDIRECTS 16
#define STOP_WAIT_MS 10000
#define READY_WAIT_MS 15000
#define TRYAGAIN_MAX_SLEEP_US 50000

/* Latency histogram: exact below 1024 us, then 64 steps per power of two. */
#define HIST_EXACT 1024
#define HIST_SUB 64
#define HIST_SIZE (HIST_EXACT + 40 * HIST_SUB)

struct shared {
	atomic_int stop;
	atomic_int ready;        /* 1: map read; -1: gave up */
	atomic_long ops;
	atomic_long errors;
	long moved, ask, tryagain, loops, max_us;
	double seconds;
	char first_error[256];
	long hist[HIST_SIZE];
	long hist_sched[HIST_SIZE]; /* from each operation's scheduled start (paced runs) */
};

struct traffic {
	pid_t pid;
	struct shared *sh;
};

/* -- the child's view of the cluster */

struct tnode {
	char host[64];
	int port;
	struct conn *c;         /* slotctl's transport: TLS when the cluster speaks it */
};

struct client {
	const struct traffic_opts *o;
	struct shared *sh;
	struct tnode nodes[MAX_NODES];
	int nnodes;
	short slot_node[SC_SLOTS];  /* index into nodes, -1 unknown */
	long long deadline_us;      /* of the operation in progress */
};

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int hist_index(long us)
{
	int e = 0;

	if (us < HIST_EXACT)
		return us < 0 ? 0 : (int)us;
	for (long v = us; v > 1; v >>= 1)
		e++;
	if (e >= 10 + 40)
		return HIST_SIZE - 1;
	return HIST_EXACT + (e - 10) * HIST_SUB + (int)((us >> (e - 6)) & (HIST_SUB - 1));
}

static long hist_value(int idx)
{
	int e, sub;

	if (idx < HIST_EXACT)
		return idx;
	e = 10 + (idx - HIST_EXACT) / HIST_SUB;
	sub = (idx - HIST_EXACT) % HIST_SUB;
	return (1L << e) + ((long)sub << (e - 6));
}

static void record_error(struct client *cl, const char *fmt, ...)
{
	struct shared *sh = cl->sh;
	va_list ap;

	if (atomic_fetch_add(&sh->errors, 1) == 0) {
		va_start(ap, fmt);
		vsnprintf(sh->first_error, sizeof(sh->first_error), fmt, ap);
		va_end(ap);
	}
}

static int node_index(struct client *cl, const char *host, int port)
{
	for (int i = 0; i < cl->nnodes; i++)
		if (cl->nodes[i].port == port && strcmp(cl->nodes[i].host, host) == 0)
			return i;
	if (cl->nnodes == MAX_NODES)
		return -1;
	snprintf(cl->nodes[cl->nnodes].host, sizeof(cl->nodes[0].host), "%s", host);
	cl->nodes[cl->nnodes].port = port;
	cl->nodes[cl->nnodes].c = NULL;
	return cl->nnodes++;
}

/* The node named by "host:port" (as in MOVED/ASK), or -1. */
static int node_by_addr(struct client *cl, const char *addr)
{
	const char *colon = strrchr(addr, ':');
	char host[64];

	if (!colon || colon == addr || (size_t)(colon - addr) >= sizeof(host))
		return -1;
	memcpy(host, addr, (size_t)(colon - addr));
	host[colon - addr] = '\0';
	return node_index(cl, host, atoi(colon + 1));
}

/* The connection to node i, opened when there is none or it broke; NULL
 * with err when it cannot be. */
static struct conn *node_conn(struct client *cl, int i, struct sc_error *err)
{
	struct tnode *n = &cl->nodes[i];
	int ms = cl->o->op_timeout_ms > 0 ? cl->o->op_timeout_ms : 2000;
	struct conn_opts opts = { .connect_timeout_ms = ms, .command_timeout_ms = ms, .tls = cl->o->tls };

	if (n->c && conn_broken(n->c)) {
		conn_close(n->c);
		n->c = NULL;
	}
	if (!n->c && conn_open(n->host, n->port, &opts, &n->c, err) != 0)
		n->c = NULL;
	return n->c;
}

static void drop_conn(struct client *cl, int i)
{
	conn_close(cl->nodes[i].c);
	cl->nodes[i].c = NULL;
}

/* Reads CLUSTER SLOTS from the first node that answers. */
static int refresh_map(struct client *cl)
{
	for (int i = 0; i < cl->nnodes; i++) {
		struct sc_error err = { 0 };
		struct conn *c = node_conn(cl, i, &err);
		redisReply *r;
		char host[64];

		if (!c)
			continue;
		r = conn_command(c, &err, "CLUSTER SLOTS");
		if (!r) {
			drop_conn(cl, i);
			continue;
		}
		if (r->type != REDIS_REPLY_ARRAY) {
			freeReplyObject(r);
			continue;
		}
		for (size_t k = 0; k < r->elements; k++) {
			const redisReply *e = r->element[k];
			const redisReply *m;
			int n;

			if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 || e->element[2]->elements < 2)
				continue;
			m = e->element[2];
			snprintf(host, sizeof(host), "%s", m->element[0]->len ? m->element[0]->str : cl->nodes[i].host);
			n = node_index(cl, host, (int)m->element[1]->integer);
			for (long long s = e->element[0]->integer; s <= e->element[1]->integer && s < SC_SLOTS; s++)
				if (s >= 0)
					cl->slot_node[s] = (short)n;
		}
		freeReplyObject(r);
		return 0;
	}
	return -1;
}

static bool starts_with(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* Sends (ASKING +) the command to node i; returns its reply, NULL on I/O error. */
static redisReply *send_to(struct client *cl, int i, bool asking, int argc, const char **argv, char *why,
	size_t whysize)
{
	struct sc_error err = { 0 };
	struct conn *c = node_conn(cl, i, &err);
	redisReply *r = NULL;

	if (!c) {
		snprintf(why, whysize, "%s", err.msg);
		return NULL;
	}
	if ((asking && conn_append(c, &err, "ASKING") != 0) || conn_append_argv(c, argc, argv, NULL, &err) != 0)
		goto io_error;
	if (asking) {
		if (!(r = conn_get_reply(c, &err)))
			goto io_error;
		if (r->type == REDIS_REPLY_ERROR) {
			snprintf(why, whysize, "ASKING refused by '%s:%d': %s", cl->nodes[i].host, cl->nodes[i].port, r->str);
			freeReplyObject(r);
			drop_conn(cl, i);
			return NULL;
		}
		freeReplyObject(r);
	}
	if (!(r = conn_get_reply(c, &err)))
		goto io_error;
	return r;
io_error:
	snprintf(why, whysize, "%s", err.msg);
	drop_conn(cl, i);
	return NULL;
}

/* Checks the final reply of one operation; returns false with why filled. */
static bool reply_ok(const redisReply *r, bool set, const char *key, const char *value, char *why, size_t whysize)
{
	if (set) {
		if (r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0)
			return true;
		snprintf(why, whysize, "SET '%s' answered %s", key, r->type == REDIS_REPLY_ERROR ? r->str : "not OK");
		return false;
	}
	if (r->type == REDIS_REPLY_NIL)
		snprintf(why, whysize, "GET '%s' found no key", key);
	else if (r->type == REDIS_REPLY_ERROR)
		snprintf(why, whysize, "GET '%s' answered %s", key, r->str);
	else if (r->type != REDIS_REPLY_STRING)
		snprintf(why, whysize, "GET '%s' answered a non-string", key);
	else if (strcmp(r->str, value) != 0)
		snprintf(why, whysize, "GET '%s' has a wrong value '%.60s', expected '%s'", key, r->str, value);
	else
		return true;
	return false;
}

/* Handles a redirection or TRYAGAIN reply; returns false when r is none of
 * them. Updates *target and *asking for the next attempt. */
static bool follow(struct client *cl, const redisReply *r, int slot, int *target, bool *asking, long *backoff)
{
	const char *sp;

	if (r->type != REDIS_REPLY_ERROR)
		return false;
	if (starts_with(r->str, "MOVED ") && (sp = strchr(r->str + 6, ' '))) {
		int n;

		cl->sh->moved++;
		refresh_map(cl);
		n = node_by_addr(cl, sp + 1);
		if (n < 0)
			return false;
		cl->slot_node[slot] = (short)n;
		*target = n;
		*asking = false;
		return true;
	}
	if (starts_with(r->str, "ASK ") && (sp = strchr(r->str + 4, ' '))) {
		int n = node_by_addr(cl, sp + 1);

		if (n < 0)
			return false;
		cl->sh->ask++;
		*target = n;
		*asking = true;
		return true;
	}
	if (starts_with(r->str, "TRYAGAIN")) {
		cl->sh->tryagain++;
		sleep_us(*backoff);
		*backoff = *backoff * 2 > TRYAGAIN_MAX_SLEEP_US ? TRYAGAIN_MAX_SLEEP_US : *backoff * 2;
		*target = cl->slot_node[slot];
		*asking = false;
		return true;
	}
	return false;
}

/* After an I/O error on node *target (a node removed from the cluster and
 * stopped, say), reads the map again as cluster clients do: true, with
 * *target changed, when the slot now has another owner and the operation's
 * deadline allows another try. */
static bool reroute(struct client *cl, int slot, int *target)
{
	int before = *target;

	refresh_map(cl);
	if (cl->slot_node[slot] < 0 || cl->slot_node[slot] == before || now_us() > cl->deadline_us)
		return false;
	*target = cl->slot_node[slot];
	return true;
}

/* One GET or SET of key i, following redirections, bounded in time.
 * scheduled: when a paced loop meant to start it (0: unpaced). */
static void one_op(struct client *cl, int i, bool set, long long scheduled)
{
	char key[128], value[300], why[256] = "";
	const char *argv[3] = { set ? "SET" : "GET", key, value };
	long long start = now_us();
	long long ms = cl->o->op_timeout_ms > 0 ? cl->o->op_timeout_ms : 2000;
	long backoff = 1000, lat, lat_sched;
	int slot, target, hops;
	bool asking = false, ok = false;

	snprintf(key, sizeof(key), "%s:%d", cl->o->prefix, i);
	sandbox_value_for(cl->o->prefix, i, value, sizeof(value));
	slot = keyslot_of(key, strlen(key));
	if (cl->slot_node[slot] < 0)
		refresh_map(cl);
	target = cl->slot_node[slot];
	cl->deadline_us = start + ms * 1000;
	for (hops = 0; target >= 0 && hops <= MAX_REDIRECTS; hops++) {
		redisReply *r = send_to(cl, target, asking, set ? 3 : 2, argv, why, sizeof(why));

		if (!r && reroute(cl, slot, &target)) {
			asking = false;
			why[0] = '\0';
			continue;
		}
		if (!r)
			break;
		if (follow(cl, r, slot, &target, &asking, &backoff)) {
			freeReplyObject(r);
			if (now_us() > cl->deadline_us) {
				snprintf(why, sizeof(why), "%s '%s' (slot %d) still redirected after %lld ms",
					argv[0], key, slot, ms);
				break;
			}
			continue;
		}
		ok = reply_ok(r, set, key, value, why, sizeof(why));
		freeReplyObject(r);
		break;
	}
	if (!ok && (hops > MAX_REDIRECTS || strstr(why, "still redirected")))
		cl->sh->loops++;
	if (!ok && !why[0])
		snprintf(why, sizeof(why), "%s '%s' (slot %d): %s", argv[0], key, slot,
			target < 0 ? "no node owns the slot" : "too many redirections");
	if (!ok)
		record_error(cl, "%s", why);
	lat = (long)(now_us() - start);
	cl->sh->hist[hist_index(lat)]++;
	lat_sched = lat;
	if (scheduled > 0 && scheduled < start)
		lat_sched += (long)(start - scheduled); /* held back by the operation before */
	cl->sh->hist_sched[hist_index(lat_sched)]++;
	if (lat > cl->sh->max_us)
		cl->sh->max_us = lat;
	atomic_fetch_add(&cl->sh->ops, 1);
}

/* When a loop paced at rate ops/s from start means to begin its n-th
 * operation (0: not paced). */
static long long due_us(long long start, long long n, int rate)
{
	return rate > 0 ? start + n * 1000000 / rate : 0;
}

static void client_loop(struct client *cl)
{
	const struct traffic_opts *o = cl->o;
	int rate = o->ops_per_sec < 0 ? TRAFFIC_DEFAULT_RATE : o->ops_per_sec;
	int secs = o->max_seconds > 0 ? o->max_seconds : TRAFFIC_DEFAULT_SECONDS;
	long long start = now_us(), end = start + (long long)secs * 1000000;
	long long n = 0;

	for (int i = 0; !atomic_load(&cl->sh->stop); i = (i + 1) % o->nkeys) {
		long long now = now_us();

		if (now > end)
			break;
		one_op(cl, i, false, due_us(start, n, rate));
		n++;
		if (!o->read_only) {
			one_op(cl, i, true, due_us(start, n, rate));
			n++;
		}
		if (rate > 0) {
			long long due = due_us(start, n, rate);

			now = now_us();
			if (due > now)
				sleep_us((long)(due - now));
		}
	}
	cl->sh->seconds = (double)(now_us() - start) / 1e6;
}

static void child_main(const struct traffic_opts *o, struct shared *sh)
{
	static struct client cl;
	const char *host = o->host ? o->host : "127.0.0.1";

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	cl.o = o;
	cl.sh = sh;
	memset(cl.slot_node, 0xff, sizeof(cl.slot_node));
	for (int i = 0; i < o->nports; i++)
		node_index(&cl, host, o->ports[i]);
	if (refresh_map(&cl) < 0) {
		record_error(&cl, "cannot read CLUSTER SLOTS from any seed (first '%s:%d')", host, o->ports[0]);
		atomic_store(&sh->ready, -1);
		_exit(1);
	}
	atomic_store(&sh->ready, 1);
	client_loop(&cl);
	for (int i = 0; i < cl.nnodes; i++)
		conn_close(cl.nodes[i].c);
	_exit(0);
}

/* -- the parent's side */

struct traffic *traffic_start_opts(const struct traffic_opts *o, char *errbuf, int errsize)
{
	struct traffic *t;
	long long until;

	if (!o->prefix || o->nkeys <= 0 || o->nports <= 0 || o->nports > TRAFFIC_MAX_SEEDS) {
		snprintf(errbuf, (size_t)errsize, "traffic: need a prefix, nkeys > 0 and 1..%d seed ports",
			TRAFFIC_MAX_SEEDS);
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(errbuf, (size_t)errsize, "traffic: out of memory");
		return NULL;
	}
	t->sh = mmap(NULL, sizeof(*t->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t->sh == MAP_FAILED) {
		snprintf(errbuf, (size_t)errsize, "traffic: mmap: %s", strerror(errno));
		free(t);
		return NULL;
	}
	memset(t->sh, 0, sizeof(*t->sh));
	fflush(NULL);
	t->pid = fork();
	if (t->pid < 0) {
		snprintf(errbuf, (size_t)errsize, "traffic: fork: %s", strerror(errno));
		munmap(t->sh, sizeof(*t->sh));
		free(t);
		return NULL;
	}
	if (t->pid == 0)
		child_main(o, t->sh);
	until = now_us() + READY_WAIT_MS * 1000LL;
	while (atomic_load(&t->sh->ready) == 0 && now_us() < until)
		sleep_us(2000);
	if (atomic_load(&t->sh->ready) != 1) {
		snprintf(errbuf, (size_t)errsize, "traffic: %s", t->sh->first_error[0] ? t->sh->first_error :
			"the client did not read the slot map in time");
		traffic_stop(t, NULL);
		return NULL;
	}
	return t;
}

struct traffic *traffic_start(const struct test_cluster *tc, const char *prefix, int nkeys)
{
	return traffic_start_patient(tc, prefix, nkeys, 0);
}

struct traffic *traffic_start_patient(const struct test_cluster *tc, const char *prefix, int nkeys,
	int op_timeout_ms)
{
	struct traffic_opts o = { .prefix = prefix, .nkeys = nkeys, .ops_per_sec = -1,
		.op_timeout_ms = op_timeout_ms, .tls = tc_conn_opts(tc, 0).tls };
	char err[300];
	struct traffic *t;

	for (int i = 0; i < tc_count(tc) && i < TRAFFIC_MAX_SEEDS; i++)
		o.ports[o.nports++] = tc_port(tc, i);
	t = traffic_start_opts(&o, err, sizeof(err));
	ck_assert_msg(t != NULL, "%s", err);
	return t;
}

long traffic_ops(const struct traffic *t)
{
	return atomic_load(&t->sh->ops);
}

long traffic_errors(const struct traffic *t)
{
	return atomic_load(&t->sh->errors);
}

bool traffic_wait_ops(const struct traffic *t, long n, int timeout_ms)
{
	long target = traffic_ops(t) + n;
	long long until = now_us() + (long long)timeout_ms * 1000;

	while (traffic_ops(t) < target) {
		if (now_us() > until)
			return false;
		sleep_us(1000);
	}
	return true;
}

/* Waits up to ms for the child; returns its wait status, or -1. */
static int reap(pid_t pid, int ms)
{
	long long until = now_us() + (long long)ms * 1000;
	int status;

	for (;;) {
		pid_t got = waitpid(pid, &status, WNOHANG);

		if (got == pid)
			return status;
		if (got < 0 && errno != EINTR)
			return -1;
		if (now_us() > until)
			return -1;
		sleep_us(2000);
	}
}

static long percentile(const long *hist, long total, double p)
{
	long want = (long)((double)total * p + 0.5), seen = 0;

	if (want < 1)
		want = 1;
	for (int i = 0; i < HIST_SIZE; i++) {
		seen += hist[i];
		if (seen >= want)
			return hist_value(i);
	}
	return 0;
}

static void fill_stats(const struct shared *sh, struct traffic_stats *out)
{
	long total = 0;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < HIST_SIZE; i++) {
		total += sh->hist[i];
		if (i >= hist_index(1000))
			out->over_1ms += sh->hist[i];
	}
	out->ops = atomic_load(&sh->ops);
	out->errors = atomic_load(&sh->errors);
	out->moved = sh->moved;
	out->ask = sh->ask;
	out->tryagain = sh->tryagain;
	out->loops = sh->loops;
	out->p50_us = percentile(sh->hist, total, 0.50);
	out->p99_us = percentile(sh->hist, total, 0.99);
	out->p99_sched_us = percentile(sh->hist_sched, total, 0.99);
	out->max_us = sh->max_us;
	out->seconds = sh->seconds;
	snprintf(out->first_error, sizeof(out->first_error), "%s", sh->first_error);
}

void traffic_stop(struct traffic *t, struct traffic_stats *out)
{
	struct shared *sh = t->sh;
	int status;

	atomic_store(&sh->stop, 1);
	status = reap(t->pid, STOP_WAIT_MS);
	if (status < 0) {
		kill(t->pid, SIGKILL);
		reap(t->pid, STOP_WAIT_MS);
		if (atomic_fetch_add(&sh->errors, 1) == 0)
			snprintf(sh->first_error, sizeof(sh->first_error),
				"the traffic client did not stop within %d ms and was killed", STOP_WAIT_MS);
	} else if (!WIFEXITED(status) || (WEXITSTATUS(status) != 0 && atomic_load(&sh->ready) == 1)) {
		if (atomic_fetch_add(&sh->errors, 1) == 0)
			snprintf(sh->first_error, sizeof(sh->first_error), "the traffic client died (status %d)", status);
	}
	if (out)
		fill_stats(sh, out);
	munmap(sh, sizeof(*sh));
	free(t);
}
