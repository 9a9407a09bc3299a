/* sandbox_form.c: talking to the sandbox's nodes, forming the cluster
 * without redis-cli (ADDSLOTSRANGE, SET-CONFIG-EPOCH, MEET, REPLICATE), and
 * waiting until every node's view agrees (slot owners from CLUSTER SLOTS,
 * who replicates whom from CLUSTER NODES, state from CLUSTER INFO and, while
 * forming, every bus link connected (as `check` wants it), every
 * node at once with parallel_for). */
#include "sandbox_priv.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/info_text.h"
#include "slotctl/io/parallel.h"
#include "slotctl/core/topology.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONVERGE_THREADS 32        /* nodes read at once while waiting */
#define MEET_MISSING_MS 1000       /* nodes missing peers that long are MEETed to them */
#define INTRODUCE_MS 3000          /* views still apart that long: MEETs carry the headers */

/* What one node sees: the owner of each slot and each replica's master, as
 * indexes into sb->nodes (-1: none or unknown). */
struct view {
	int owner[SC_SLOTS];
	int master_of[SANDBOX_MAX_NODES];
	int link_down;             /* a node shown disconnected from the bus, or -1 */
};

struct conn *sandbox_connect(const struct sandbox *sb, int i, struct sc_error *err)
{
	/* hundreds of busy servers on a few cores answer late: 50 ms more a
	 * node beyond the 100th */
	int io_ms = SANDBOX_IO_TIMEOUT_MS + (sb->count > 100 ? (sb->count - 100) * 50 : 0);
	const struct conn_opts opts = sandbox_conn_opts(sb, 2000, io_ms);
	struct conn *c;

	if (conn_open(SANDBOX_HOST, sb->nodes[i].port, &opts, &c, err) < 0)
		return NULL;
	return c;
}

redisReply *sandbox_checked(struct conn *c, redisReply *r, const char *what, struct sc_error *err)
{
	if (conn_check_reply(c, r, what, err) == 0)
		return r;
	if (r)
		freeReplyObject(r);
	return NULL;
}

/* Frees a checked reply; returns 0 when it was one, else -1. */
static int ok(struct conn *c, redisReply *r, const char *what, struct sc_error *err)
{
	r = sandbox_checked(c, r, what, err);
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

/* Fills v->master_of from the node's CLUSTER NODES (the roles `check`
 * compares): CLUSTER SLOTS leaves out a replica that has not synced yet, so
 * views that agree there may still disagree about who is whose replica. A
 * replica of a node outside the sandbox counts as SANDBOX_MAX_NODES. */
static int read_roles(struct conn *c, const struct sandbox *sb, struct view *v, struct sc_error *err)
{
	redisReply *r = sandbox_checked(c, conn_command(c, err, "CLUSTER NODES"), "CLUSTER NODES", err);
	struct topology t;

	int rc;

	if (!r)
		return -1;
	rc = r->type == REDIS_REPLY_STRING ? topology_parse(r->str, r->len, &t, err) :
		sc_error_set(err, SC_EXIT_PROBLEMS, "CLUSTER NODES: not text");
	freeReplyObject(r);
	if (rc < 0)
		return -1;
	for (int k = 0; k < SANDBOX_MAX_NODES; k++)
		v->master_of[k] = -1;
	v->link_down = -1;
	for (size_t i = 0; i < t.count; i++) {
		const struct node *n = &t.nodes[i], *m;
		int idx = node_by_port(sb, n->port);

		if (idx >= 0 && v->link_down < 0 && !n->link_connected)
			v->link_down = idx;
		if (idx < 0 || !(n->flags & NODE_REPLICA))
			continue;
		m = topology_find(&t, n->master_id);
		v->master_of[idx] = m && node_by_port(sb, m->port) >= 0 ? node_by_port(sb, m->port) : SANDBOX_MAX_NODES;
	}
	topology_release(&t);
	return 0;
}

static int read_view(struct conn *c, const struct sandbox *sb, struct view *v, struct sc_error *err)
{
	redisReply *r = sandbox_checked(c, conn_command(c, err, "CLUSTER SLOTS"), "CLUSTER SLOTS", err);

	if (!r)
		return -1;
	for (int s = 0; s < SC_SLOTS; s++)
		v->owner[s] = -1;
	for (size_t e = 0; r->type == REDIS_REPLY_ARRAY && e < r->elements; e++) {
		const redisReply *range = r->element[e];
		int master;

		if (range->type != REDIS_REPLY_ARRAY || range->elements < 3 ||
		    range->element[0]->type != REDIS_REPLY_INTEGER || range->element[0]->integer < 0 ||
		    range->element[1]->type != REDIS_REPLY_INTEGER ||
		    range->element[2]->type != REDIS_REPLY_ARRAY || range->element[2]->elements < 2)
			continue;
		master = node_by_port(sb, range->element[2]->element[1]->integer);
		for (long long s = range->element[0]->integer; s <= range->element[1]->integer && s < SC_SLOTS; s++)
			v->owner[s] = master;
	}
	freeReplyObject(r);
	return read_roles(c, sb, v, err);
}

/* Runs "verb arg" (CLUSTER INFO, INFO replication) and reads one field. */
static int read_info(struct conn *c, const char *verb, const char *arg,
	const char *field, char *buf, size_t size, struct sc_error *err)
{
	redisReply *r = sandbox_checked(c, conn_command(c, err, "%s %s", verb, arg), verb, err);

	if (!r)
		return -1;
	info_get(r->type == REDIS_REPLY_STRING ? r->str : "", field, buf, size);
	freeReplyObject(r);
	return 0;
}

int sandbox_cluster_state(const struct sandbox *sb, int i, char *buf, size_t size, struct sc_error *err)
{
	struct conn *c = sandbox_connect(sb, i, err);
	int rc;

	if (!c)
		return -1;
	rc = read_info(c, "CLUSTER", "INFO", "cluster_state", buf, size, err);
	conn_close(c);
	return rc;
}

int sandbox_owner_map(const struct sandbox *sb, int view, int owner[SC_SLOTS], struct sc_error *err)
{
	struct conn *c = sandbox_connect(sb, view, err);
	struct view *v = malloc(sizeof(*v));
	int rc = -1;

	if (c && v && read_view(c, sb, v, err) == 0) {
		memcpy(owner, v->owner, sizeof(v->owner));
		rc = 0;
	} else if (c && !v) {
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	}
	free(v);
	conn_close(c);
	return rc;
}

/* Checks node i once: reachable, cluster_state:ok, knows `alive` nodes; fills
 * v. Returns 0, or -1 with the reason in err. */
static int node_ready(const struct sandbox *sb, int i, int alive, struct view *v, struct sc_error *err)
{
	struct conn *c = sandbox_connect(sb, i, err);
	char state[32], known[32];
	int rc = -1;

	if (!c)
		return -1;
	if (read_info(c, "CLUSTER", "INFO", "cluster_state", state, sizeof(state), err) == 0 &&
	    read_info(c, "CLUSTER", "INFO", "cluster_known_nodes", known, sizeof(known), err) == 0) {
		if (strcmp(state, "ok") != 0)
			sc_error_set(err, SC_EXIT_PROBLEMS, "node %d '%s:%d' says cluster_state:%s", i,
				SANDBOX_HOST, sb->nodes[i].port, state);
		else if (atoi(known) < alive)
			sc_error_set(err, SC_EXIT_PROBLEMS, "node %d '%s:%d' knows %s of %d nodes", i,
				SANDBOX_HOST, sb->nodes[i].port, known, alive);
		else
			rc = read_view(c, sb, v, err);
	}
	conn_close(c);
	return rc;
}

/* One round's reads: every running node's view, read concurrently. */
struct ready_round {
	const struct sandbox *sb;
	int alive;                 /* running nodes, each must know them all */
	bool links;                /* forming: every view must show every bus link connected */
	struct view *views;        /* per node */
	struct sc_error *errs;     /* per node */
	int *rc;                   /* per node: 0 ready, -1 not (errs[i]), 1 not running */
};

static void ready_one(void *ctx, size_t i)
{
	const struct ready_round *round = ctx;

	if (!sandbox_node_alive(round->sb, (int)i))
		round->rc[i] = 1;
	else
		round->rc[i] = node_ready(round->sb, (int)i, round->alive, &round->views[i], &round->errs[i]);
}

/* Compares the views read in round: 0 when every running node is ready and
 * all agree with the first; else -1 naming the first node (by index) that is
 * not ready or disagrees. */
static int views_agree(const struct sandbox *sb, const struct ready_round *round, struct sc_error *err)
{
	int base = -1;

	for (int i = 0; i < sb->count; i++) {
		const struct view *v = &round->views[i], *first;

		if (round->rc[i] > 0)
			continue;
		if (round->rc[i] < 0) {
			if (err)
				*err = round->errs[i];
			return -1;
		}
		if (round->links && v->link_down >= 0)
			return sc_error_set(err, SC_EXIT_PROBLEMS, "node %d '%s:%d' shows node %d disconnected from the "
				"cluster bus", i, SANDBOX_HOST, sb->nodes[i].port, v->link_down);
		if (base < 0) {
			base = i;
			continue;
		}
		first = &round->views[base];
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

/* One round over every running node (read concurrently with parallel_for).
 * Returns 0 when all are ready and agree. */
static int converged_once(const struct sandbox *sb, struct ready_round *round, struct sc_error *err)
{
	round->alive = 0;
	for (int i = 0; i < sb->count; i++)
		round->alive += sandbox_node_alive(sb, i);
	parallel_for((size_t)sb->count, sb->count < CONVERGE_THREADS ? sb->count : CONVERGE_THREADS,
		ready_one, round);
	return views_agree(sb, round, err);
}

/* Whether node k, as view t shows it, lacks what only k's own messages
 * carry: a master's slots and epoch, a replica's master. */
static bool stale_in(const struct sandbox *sb, const struct topology *t, int k)
{
	const struct sandbox_node *n = &sb->nodes[k];

	for (size_t j = 0; j < t->count; j++) {
		const struct node *v = &t->nodes[j];

		if (v->port != n->port)
			continue;
		if (n->master >= 0)
			return !(v->flags & NODE_REPLICA) || strcmp(v->master_id, sb->nodes[n->master].id) != 0;
		return k < sb->masters && (v->config_epoch == 0 || slotset_count(node_slots(v)) == 0);
	}
	return false; /* not known at all: wait_known's MEET */
}

/* For every node i and every node k whose slots, epoch or master i has not
 * heard from k itself: CLUSTER MEET i from k. Gossip refreshes a peer's
 * pong time without its header, so with a large cluster-node-timeout a
 * node that learned of a master through its handshake can go minutes
 * without the PING that carries the master's slots; a MEET from an
 * already known node carries its header at once (the handshake node it
 * makes on k is dropped when the reply names a known node). */
static int introduce_stale(const struct sandbox *sb, struct conn **c, struct sc_error *err)
{
	for (int i = 0; i < sb->count; i++) {
		redisReply *r = sandbox_checked(c[i], conn_command(c[i], err, "CLUSTER NODES"), "CLUSTER NODES", err);
		struct topology t;
		int rc = 0;

		if (!r)
			return -1;
		if (r->type != REDIS_REPLY_STRING || topology_parse(r->str, r->len, &t, err) < 0) {
			freeReplyObject(r);
			return sc_error_prefix(err, "node %d '%s:%d': CLUSTER NODES", i, SANDBOX_HOST,
				sb->nodes[i].port);
		}
		freeReplyObject(r);
		for (int k = 0; k < sb->count && rc == 0; k++)
			if (k != i && stale_in(sb, &t, k))
				rc = ok(c[k], conn_command(c[k], err, "CLUSTER MEET %s %d %d", SANDBOX_HOST,
					sb->nodes[i].port, sb->nodes[i].cport), "CLUSTER MEET", err);
		topology_release(&t);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Waits until every view agrees; with c (a connection to each node), every
 * INTRODUCE_MS introduces the nodes some view has not heard from. */
static int converge(const struct sandbox *sb, struct conn **c, int timeout_ms, struct sc_error *err)
{
	long long deadline = sc_clock_ms() + timeout_ms, introduce_at = sc_clock_ms() + INTRODUCE_MS;
	size_t n = (size_t)sb->count;
	struct ready_round round = { sb, 0, c != NULL, calloc(n, sizeof(struct view)),
		calloc(n, sizeof(struct sc_error)), calloc(n, sizeof(int)) };
	int rc = 0;

	if (!round.views || !round.errs || !round.rc) {
		rc = sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
		goto out;
	}
	while (converged_once(sb, &round, err) < 0) {
		if (sc_clock_ms() >= deadline) {
			rc = sc_error_prefix(err, "cluster did not converge within %d ms", timeout_ms);
			goto out;
		}
		if (c && sc_clock_ms() >= introduce_at) {
			if ((rc = introduce_stale(sb, c, err)) < 0)
				goto out;
			introduce_at = sc_clock_ms() + INTRODUCE_MS;
		}
		sc_sleep_ms(100);
	}
out:
	free(round.views);
	free(round.errs);
	free(round.rc);
	return rc;
}

int sandbox_wait_converged(const struct sandbox *sb, int timeout_ms, struct sc_error *err)
{
	return converge(sb, NULL, timeout_ms, err);
}

/* MEETs from node i every sandbox node its CLUSTER NODES lacks (not even in
 * handshake). Gossip alone leaves a node of a large cluster with a large
 * cluster-node-timeout missing a peer for minutes: a PING from an unknown
 * node is not a MEET, and each gossip section names a tenth of the nodes. */
static int meet_missing(const struct sandbox *sb, struct conn *c, int i, struct sc_error *err)
{
	redisReply *r = sandbox_checked(c, conn_command(c, err, "CLUSTER NODES"), "CLUSTER NODES", err);
	struct topology t;
	int rc = 0;

	if (!r)
		return -1;
	if (r->type != REDIS_REPLY_STRING || topology_parse(r->str, r->len, &t, err) < 0) {
		freeReplyObject(r);
		return sc_error_prefix(err, "node %d '%s:%d': CLUSTER NODES", i, SANDBOX_HOST, sb->nodes[i].port);
	}
	freeReplyObject(r);
	for (int k = 0; k < sb->count && rc == 0; k++) {
		bool seen = false;

		for (size_t j = 0; j < t.count && !seen; j++)
			seen = t.nodes[j].port == sb->nodes[k].port;
		if (!seen)
			rc = ok(c, conn_command(c, err, "CLUSTER MEET %s %d %d", SANDBOX_HOST, sb->nodes[k].port,
				sb->nodes[k].cport), "CLUSTER MEET", err);
	}
	topology_release(&t);
	return rc;
}

/* Polls every node until each knows all sb->count nodes; every
 * MEET_MISSING_MS, MEETs from each node still short the nodes it lacks. */
static int wait_known(const struct sandbox *sb, struct conn **c, long long deadline, struct sc_error *err)
{
	long long meet_at = sc_clock_ms() + MEET_MISSING_MS;
	char known[32];

	for (;;) {
		bool meet = sc_clock_ms() >= meet_at;
		int short_one = -1;

		for (int i = 0; i < sb->count; i++) {
			if (read_info(c[i], "CLUSTER", "INFO", "cluster_known_nodes", known, sizeof(known), err) < 0)
				return -1;
			if (atoi(known) == sb->count)
				continue;
			if (short_one < 0)
				short_one = i;
			if (meet && meet_missing(sb, c[i], i, err) < 0)
				return -1;
		}
		if (short_one < 0)
			return 0;
		if (meet)
			meet_at = sc_clock_ms() + MEET_MISSING_MS;
		if (sc_clock_ms() >= deadline)
			return sc_error_set(err, SC_EXIT_PROBLEMS,
				"timed out forming the cluster: node %d '%s:%d' knows %s of %d nodes after CLUSTER MEET",
				short_one, SANDBOX_HOST, sb->nodes[short_one].port,
				read_info(c[short_one], "CLUSTER", "INFO", "cluster_known_nodes", known, sizeof(known),
					err) == 0 ? known : "?", sb->count);
		sc_sleep_ms(50);
	}
}

/* Makes replica i follow its master, retrying while the master is not yet
 * known to it as a master. */
static int replicate(const struct sandbox *sb, struct conn *c, int i, long long deadline, struct sc_error *err)
{
	while (ok(c, conn_command(c, err, "CLUSTER REPLICATE %s", sb->nodes[sb->nodes[i].master].id),
			"CLUSTER REPLICATE", err) < 0) {
		if (sc_clock_ms() >= deadline)
			return sc_error_prefix(err, "timed out forming the cluster");
		sc_sleep_ms(50);
	}
	return 0;
}

static int wait_link_up(const struct sandbox *sb, struct conn *c, int i, long long deadline, struct sc_error *err)
{
	char link[32];

	for (;;) {
		if (read_info(c, "INFO", "replication", "master_link_status", link, sizeof(link), err) < 0)
			return -1;
		if (strcmp(link, "up") == 0)
			return 0;
		if (sc_clock_ms() >= deadline)
			return sc_error_set(err, SC_EXIT_PROBLEMS,
				"timed out forming the cluster: replica node %d '%s:%d' has master_link_status:%s",
				i, SANDBOX_HOST, sb->nodes[i].port, link);
		sc_sleep_ms(50);
	}
}

static int read_id(const struct sandbox *sb, struct conn *c, int i, struct sc_error *err)
{
	redisReply *r = sandbox_checked(c, conn_command(c, err, "CLUSTER MYID"), "CLUSTER MYID", err);

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

static int form_steps(struct sandbox *sb, struct conn **c, long long deadline, struct sc_error *err)
{
	const struct sandbox_node *seed = &sb->nodes[0];

	for (int i = 0; i < sb->count; i++)
		if (read_id(sb, c[i], i, err) < 0)
			return -1;
	for (int m = 0; m < sb->masters; m++) {
		int first = (int)((long)m * SC_SLOTS / sb->masters);
		int last = (int)((long)(m + 1) * SC_SLOTS / sb->masters) - 1;

		if (ok(c[m], conn_command(c[m], err, "CLUSTER ADDSLOTSRANGE %d %d", first, last),
			"CLUSTER ADDSLOTSRANGE", err) < 0 ||
		    ok(c[m], conn_command(c[m], err, "CLUSTER SET-CONFIG-EPOCH %d", m + 1),
			"CLUSTER SET-CONFIG-EPOCH", err) < 0)
			return -1;
	}
	for (int i = 1; i < sb->count; i++)
		if (ok(c[i], conn_command(c[i], err, "CLUSTER MEET %s %d %d", SANDBOX_HOST, seed->port, seed->cport),
			"CLUSTER MEET", err) < 0)
			return -1;
	if (wait_known(sb, c, deadline, err) < 0)
		return -1;
	for (int i = sb->masters; i < sb->count - sb->empty_masters; i++)
		if (replicate(sb, c[i], i, deadline, err) < 0)
			return -1;
	for (int i = sb->masters; i < sb->count - sb->empty_masters; i++)
		if (wait_link_up(sb, c[i], i, deadline, err) < 0)
			return -1;
	return 0;
}

int sandbox_form(struct sandbox *sb, int timeout_ms, struct sc_error *err)
{
	long long deadline = sc_clock_ms() + timeout_ms;
	struct conn **c = calloc((size_t)sb->count, sizeof(*c));
	int rc = -1;

	if (!c)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	for (int i = 0; i < sb->count; i++)
		if (!(c[i] = sandbox_connect(sb, i, err)))
			goto out;
	rc = form_steps(sb, c, deadline, err);
	if (rc == 0) {
		long long left = deadline - sc_clock_ms();

		rc = converge(sb, c, left > 0 ? (int)left : 1, err);
	}
out:
	for (int i = 0; i < sb->count; i++)
		conn_close(c[i]);
	free(c);
	return rc;
}
