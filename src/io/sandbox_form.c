/* sandbox_form.c: talking to the sandbox's nodes, forming the cluster
 * without redis-cli (ADDSLOTSRANGE, SET-CONFIG-EPOCH, MEET, REPLICATE), and
 * waiting until every node's view agrees (read from CLUSTER SLOTS and
 * CLUSTER INFO). */
#include "sandbox_priv.h"
#include "slotctl/exitcode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one node sees: the owner of each slot and each replica's master, as
 * indexes into sb->nodes (-1: none or unknown). */
struct view {
	int owner[SC_SLOTS];
	int master_of[SANDBOX_MAX_NODES];
};

redisContext *sandbox_connect(const struct sandbox *sb, int i, struct sc_error *err)
{
	struct timeval connect_tv = { 2, 0 };
	struct timeval io_tv = { SANDBOX_IO_TIMEOUT_MS / 1000, (SANDBOX_IO_TIMEOUT_MS % 1000) * 1000 };
	redisContext *c = redisConnectWithTimeout(SANDBOX_HOST, sb->nodes[i].port, connect_tv);

	if (!c || c->err) {
		sc_error_set(err, SC_EXIT_UNREACHABLE, "cannot reach node %d '%s:%d': %s", i, SANDBOX_HOST,
			sb->nodes[i].port, c ? c->errstr : "out of memory");
		redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, io_tv);
	return c;
}

static redisReply *checked(redisContext *c, redisReply *r, const struct sandbox *sb, int i,
	const char *what, struct sc_error *err)
{
	if (!r) {
		sc_error_set(err, SC_EXIT_UNREACHABLE, "node %d '%s:%d' did not answer %s: %s", i,
			SANDBOX_HOST, sb->nodes[i].port, what, c->errstr[0] ? c->errstr : "no reply");
		return NULL;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		sc_error_set(err, SC_EXIT_PROBLEMS, "node %d '%s:%d' refused %s: %s", i, SANDBOX_HOST,
			sb->nodes[i].port, what, r->str);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static redisReply *vcommand(redisContext *c, const struct sandbox *sb, int i,
	struct sc_error *err, const char *fmt, va_list ap)
{
	char what[128];

	/* name the command by its format up to the first argument */
	snprintf(what, sizeof(what), "'%.*s'", (int)strcspn(fmt, "%"), fmt);
	return checked(c, redisvCommand(c, fmt, ap), sb, i, what, err);
}

redisReply *sandbox_command(redisContext *c, const struct sandbox *sb, int i,
	struct sc_error *err, const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = vcommand(c, sb, i, err, fmt, ap);
	va_end(ap);
	return r;
}

redisReply *sandbox_get_reply(redisContext *c, const struct sandbox *sb, int i,
	const char *what, struct sc_error *err)
{
	void *r = NULL;

	if (redisGetReply(c, &r) != REDIS_OK)
		r = NULL;
	return checked(c, r, sb, i, what, err);
}

static int run_ok(redisContext *c, const struct sandbox *sb, int i, struct sc_error *err,
	const char *fmt, ...)
{
	redisReply *r;
	va_list ap;

	va_start(ap, fmt);
	r = vcommand(c, sb, i, err, fmt, ap);
	va_end(ap);
	if (!r)
		return -1;
	freeReplyObject(r);
	return 0;
}

static int node_by_port(const struct sandbox *sb, long long port)
{
	for (int i = 0; i < sb->count; i++)
		if (sb->nodes[i].port == port)
			return i;
	return -1;
}

static int read_view(redisContext *c, const struct sandbox *sb, int i, struct view *v, struct sc_error *err)
{
	redisReply *r = sandbox_command(c, sb, i, err, "CLUSTER SLOTS");

	if (!r)
		return -1;
	for (int s = 0; s < SC_SLOTS; s++)
		v->owner[s] = -1;
	for (int k = 0; k < SANDBOX_MAX_NODES; k++)
		v->master_of[k] = -1;
	for (size_t e = 0; r->type == REDIS_REPLY_ARRAY && e < r->elements; e++) {
		const redisReply *range = r->element[e];
		int master;

		if (range->type != REDIS_REPLY_ARRAY || range->elements < 3 ||
		    range->element[2]->type != REDIS_REPLY_ARRAY || range->element[2]->elements < 2)
			continue;
		master = node_by_port(sb, range->element[2]->element[1]->integer);
		for (long long s = range->element[0]->integer; s <= range->element[1]->integer && s < SC_SLOTS; s++)
			v->owner[s] = master;
		for (size_t k = 3; k < range->elements; k++) {
			const redisReply *rep = range->element[k];
			int idx = rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2 ?
				node_by_port(sb, rep->element[1]->integer) : -1;

			if (idx >= 0)
				v->master_of[idx] = master;
		}
	}
	freeReplyObject(r);
	return 0;
}

/* The value of "field:" in an INFO-style reply, into buf ("" if absent). */
static void info_field(const char *text, const char *field, char *buf, size_t size)
{
	size_t flen = strlen(field);

	buf[0] = '\0';
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, field, flen) == 0 && p[flen] == ':') {
			snprintf(buf, size, "%.*s", (int)strcspn(p + flen + 1, "\r\n"), p + flen + 1);
			return;
		}
}

static int read_info(redisContext *c, const struct sandbox *sb, int i, const char *cmd,
	const char *field, char *buf, size_t size, struct sc_error *err)
{
	redisReply *r = sandbox_command(c, sb, i, err, cmd);

	if (!r)
		return -1;
	info_field(r->type == REDIS_REPLY_STRING ? r->str : "", field, buf, size);
	freeReplyObject(r);
	return 0;
}

int sandbox_cluster_state(const struct sandbox *sb, int i, char *buf, size_t size, struct sc_error *err)
{
	redisContext *c = sandbox_connect(sb, i, err);
	int rc;

	if (!c)
		return -1;
	rc = read_info(c, sb, i, "CLUSTER INFO", "cluster_state", buf, size, err);
	redisFree(c);
	return rc;
}

int sandbox_owner_map(const struct sandbox *sb, int view, int owner[SC_SLOTS], struct sc_error *err)
{
	redisContext *c = sandbox_connect(sb, view, err);
	struct view *v = malloc(sizeof(*v));
	int rc = -1;

	if (c && v && read_view(c, sb, view, v, err) == 0) {
		memcpy(owner, v->owner, sizeof(v->owner));
		rc = 0;
	} else if (c && !v) {
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	}
	free(v);
	redisFree(c);
	return rc;
}

/* Checks node i once: reachable, cluster_state:ok, knows `alive` nodes; fills
 * v. Returns 0, or -1 with the reason in err. */
static int node_ready(const struct sandbox *sb, int i, int alive, struct view *v, struct sc_error *err)
{
	redisContext *c = sandbox_connect(sb, i, err);
	char state[32], known[32];
	int rc = -1;

	if (!c)
		return -1;
	if (read_info(c, sb, i, "CLUSTER INFO", "cluster_state", state, sizeof(state), err) == 0 &&
	    read_info(c, sb, i, "CLUSTER INFO", "cluster_known_nodes", known, sizeof(known), err) == 0) {
		if (strcmp(state, "ok") != 0)
			sc_error_set(err, SC_EXIT_PROBLEMS, "node %d '%s:%d' says cluster_state:%s", i,
				SANDBOX_HOST, sb->nodes[i].port, state);
		else if (atoi(known) < alive)
			sc_error_set(err, SC_EXIT_PROBLEMS, "node %d '%s:%d' knows %s of %d nodes", i,
				SANDBOX_HOST, sb->nodes[i].port, known, alive);
		else
			rc = read_view(c, sb, i, v, err);
	}
	redisFree(c);
	return rc;
}

/* One round over every running node. Returns 0 when all are ready and agree. */
static int converged_once(const struct sandbox *sb, struct view *first, struct view *v, struct sc_error *err)
{
	int alive = 0, base = -1;

	for (int i = 0; i < sb->count; i++)
		alive += sandbox_node_alive(sb, i);
	for (int i = 0; i < sb->count; i++) {
		if (!sandbox_node_alive(sb, i))
			continue;
		if (node_ready(sb, i, alive, base < 0 ? first : v, err) < 0)
			return -1;
		if (base < 0) {
			base = i;
			continue;
		}
		for (int s = 0; s < SC_SLOTS; s++)
			if (v->owner[s] != first->owner[s])
				return sc_error_set(err, SC_EXIT_PROBLEMS,
					"node %d '%s:%d' and node %d disagree about slot %d (node %d vs node %d)",
					i, SANDBOX_HOST, sb->nodes[i].port, base, s, v->owner[s], first->owner[s]);
		if (memcmp(v->master_of, first->master_of, sizeof(v->master_of)) != 0)
			return sc_error_set(err, SC_EXIT_PROBLEMS,
				"node %d '%s:%d' and node %d disagree about which replica follows which master",
				i, SANDBOX_HOST, sb->nodes[i].port, base);
	}
	if (base < 0)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "no sandbox node is running");
	return 0;
}

int sandbox_wait_converged(const struct sandbox *sb, int timeout_ms, struct sc_error *err)
{
	long long deadline = sandbox_now_ms() + timeout_ms;
	struct view *views = malloc(2 * sizeof(*views));

	if (!views)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	while (converged_once(sb, &views[0], &views[1], err) < 0) {
		if (sandbox_now_ms() >= deadline) {
			free(views);
			return sc_error_prefix(err, "cluster did not converge within %d ms", timeout_ms);
		}
		sandbox_sleep_ms(100);
	}
	free(views);
	return 0;
}

/* Polls every node until it knows all sb->count nodes. */
static int wait_known(const struct sandbox *sb, redisContext **c, long long deadline, struct sc_error *err)
{
	char known[32];

	for (int i = 0; i < sb->count; i++) {
		for (;;) {
			if (read_info(c[i], sb, i, "CLUSTER INFO", "cluster_known_nodes", known, sizeof(known), err) < 0)
				return -1;
			if (atoi(known) == sb->count)
				break;
			if (sandbox_now_ms() >= deadline)
				return sc_error_set(err, SC_EXIT_PROBLEMS,
					"timed out forming the cluster: node %d '%s:%d' knows %s of %d nodes after CLUSTER MEET",
					i, SANDBOX_HOST, sb->nodes[i].port, known, sb->count);
			sandbox_sleep_ms(50);
		}
	}
	return 0;
}

/* Makes replica i follow its master, retrying while the master is not yet
 * known to it as a master. */
static int replicate(const struct sandbox *sb, redisContext *c, int i, long long deadline, struct sc_error *err)
{
	while (run_ok(c, sb, i, err, "CLUSTER REPLICATE %s", sb->nodes[sb->nodes[i].master].id) < 0) {
		if (sandbox_now_ms() >= deadline)
			return sc_error_prefix(err, "timed out forming the cluster");
		sandbox_sleep_ms(50);
	}
	return 0;
}

static int wait_link_up(const struct sandbox *sb, redisContext *c, int i, long long deadline, struct sc_error *err)
{
	char link[32];

	for (;;) {
		if (read_info(c, sb, i, "INFO replication", "master_link_status", link, sizeof(link), err) < 0)
			return -1;
		if (strcmp(link, "up") == 0)
			return 0;
		if (sandbox_now_ms() >= deadline)
			return sc_error_set(err, SC_EXIT_PROBLEMS,
				"timed out forming the cluster: replica node %d '%s:%d' has master_link_status:%s",
				i, SANDBOX_HOST, sb->nodes[i].port, link);
		sandbox_sleep_ms(50);
	}
}

static int read_id(const struct sandbox *sb, redisContext *c, int i, struct sc_error *err)
{
	redisReply *r = sandbox_command(c, sb, i, err, "CLUSTER MYID");

	if (!r)
		return -1;
	if (r->type != REDIS_REPLY_STRING || r->len != SC_NODE_ID_LEN) {
		freeReplyObject(r);
		return sc_error_set(err, SC_EXIT_PROBLEMS, "node %d '%s:%d' gave a bad CLUSTER MYID reply",
			i, SANDBOX_HOST, sb->nodes[i].port);
	}
	memcpy(((struct sandbox *)sb)->nodes[i].id, r->str, SC_NODE_ID_LEN + 1);
	freeReplyObject(r);
	return 0;
}

static int form_steps(struct sandbox *sb, redisContext **c, long long deadline, struct sc_error *err)
{
	const struct sandbox_node *seed = &sb->nodes[0];

	for (int i = 0; i < sb->count; i++)
		if (read_id(sb, c[i], i, err) < 0)
			return -1;
	for (int m = 0; m < sb->masters; m++) {
		int first = (int)((long)m * SC_SLOTS / sb->masters);
		int last = (int)((long)(m + 1) * SC_SLOTS / sb->masters) - 1;

		if (run_ok(c[m], sb, m, err, "CLUSTER ADDSLOTSRANGE %d %d", first, last) < 0 ||
		    run_ok(c[m], sb, m, err, "CLUSTER SET-CONFIG-EPOCH %d", m + 1) < 0)
			return -1;
	}
	for (int i = 1; i < sb->count; i++)
		if (run_ok(c[i], sb, i, err, "CLUSTER MEET %s %d %d", SANDBOX_HOST, seed->port, seed->cport) < 0)
			return -1;
	if (wait_known(sb, c, deadline, err) < 0)
		return -1;
	for (int i = sb->masters; i < sb->count; i++)
		if (replicate(sb, c[i], i, deadline, err) < 0)
			return -1;
	for (int i = sb->masters; i < sb->count; i++)
		if (wait_link_up(sb, c[i], i, deadline, err) < 0)
			return -1;
	return 0;
}

int sandbox_form(struct sandbox *sb, int timeout_ms, struct sc_error *err)
{
	long long deadline = sandbox_now_ms() + timeout_ms;
	redisContext **c = calloc((size_t)sb->count, sizeof(*c));
	int rc = -1;

	if (!c)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	for (int i = 0; i < sb->count; i++)
		if (!(c[i] = sandbox_connect(sb, i, err)))
			goto out;
	rc = form_steps(sb, c, deadline, err);
out:
	for (int i = 0; i < sb->count; i++)
		redisFree(c[i]);
	free(c);
	if (rc < 0)
		return rc;
	timeout_ms = (int)(deadline - sandbox_now_ms());
	return sandbox_wait_converged(sb, timeout_ms > 0 ? timeout_ms : 1, err);
}
