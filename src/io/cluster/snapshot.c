/* snapshot.c: gathers what every node of a cluster says about it (see
 * slotctl/io/snapshot.h). Starting from the seed, nodes are discovered in rounds:
 * each round reads every newly named node concurrently (parallel_for, one
 * connection per node, its commands pipelined), then looks in the views it got
 * for nodes nobody has read yet. A node that cannot be read is recorded with
 * its error; only the seed is required. */
#include "slotctl/io/snapshot.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "slotctl/core/exitcode.h"
#include "slotctl/core/info_text.h"
#include "slotctl/io/parallel.h"

/* Bound on the nodes read at once. */
#define SNAPSHOT_THREADS 32

/* What is asked of every node, pipelined, in this order. */
enum gather_step { STEP_NODES, STEP_INFO, STEP_NODE_TIMEOUT, STEP_FULL_COVERAGE,
	STEP_MIGRATION_BARRIER, STEP_ENDPOINT_TYPE, STEP_REPLICATION, STEP_COUNT };

static const char *const gather_argv[STEP_COUNT][3] = {
	[STEP_NODES] = { "CLUSTER", "NODES", NULL },
	[STEP_INFO] = { "CLUSTER", "INFO", NULL },
	[STEP_NODE_TIMEOUT] = { "CONFIG", "GET", "cluster-node-timeout" },
	[STEP_FULL_COVERAGE] = { "CONFIG", "GET", "cluster-require-full-coverage" },
	[STEP_MIGRATION_BARRIER] = { "CONFIG", "GET", "cluster-migration-barrier" },
	[STEP_ENDPOINT_TYPE] = { "CONFIG", "GET", "cluster-preferred-endpoint-type" },
	[STEP_REPLICATION] = { "INFO", "replication", NULL },
};

struct gather_round {
	struct node_view *nodes;
	const struct conn_opts *opts;
	const struct slots_index *share; /* the seed's slot sets, which views that agree share */
};

static int read_nodes(struct node_view *v, struct conn *c, const redisReply *r, const struct slots_index *share)
{
	struct sc_error perr;

	if (conn_check_reply(c, r, "CLUSTER NODES", &v->error) < 0) {
		v->error.code = SC_EXIT_UNREACHABLE; /* no view: counts as not reachable */
		v->loading = r && r->type == REDIS_REPLY_ERROR && r->str && strncmp(r->str, "LOADING", 7) == 0;
		return -1;
	}
	if (r->type != REDIS_REPLY_STRING)
		return sc_error_set(&v->error, SC_EXIT_UNREACHABLE,
			"'%s' replied to CLUSTER NODES with something other than text", v->addr);
	if (topology_parse_shared(r->str, r->len, share, &v->view, &perr) < 0)
		return sc_error_set(&v->error, SC_EXIT_UNREACHABLE,
			"cannot read the CLUSTER NODES reply of '%s': %s", v->addr, perr.msg);
	v->reachable = true;
	if (v->view.myself >= 0)
		memcpy(v->id, v->view.nodes[v->view.myself].id, sizeof(v->id));
	return 0;
}

static void read_info(struct node_view *v, struct conn *c, const redisReply *r)
{
	char epoch[32];

	if (conn_check_reply(c, r, "CLUSTER INFO", &v->error) < 0 || r->type != REDIS_REPLY_STRING)
		return;
	info_get(r->str, "cluster_state", v->cluster_state, sizeof(v->cluster_state));
	info_get(r->str, "cluster_current_epoch", epoch, sizeof(epoch));
	v->current_epoch = strtoull(epoch, NULL, 10);
}

/* A master's replicas and offset from INFO replication (check's
 * replica-not-acknowledging); nothing when it is denied or not text. */
static void read_replication(struct node_view *v, const redisReply *r)
{
	if (!r || r->type != REDIS_REPLY_STRING)
		return;
	v->replica_count = info_replicas(r->str, v->replicas, INFO_REPLICAS_MAX);
	v->repl_offset = info_get_ll(r->str, "master_repl_offset", -1);
}

/* A CONFIG GET reply's value, or NULL when CONFIG is denied, renamed or empty. */
static const char *config_value(const redisReply *r)
{
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 2
		|| r->element[1]->type != REDIS_REPLY_STRING)
		return NULL;
	return r->element[1]->str;
}

static void read_config(struct node_view *v, enum gather_step step, const redisReply *r)
{
	const char *val = config_value(r);

	if (!val)
		return;
	if (step == STEP_NODE_TIMEOUT)
		v->node_timeout_ms = strtoll(val, NULL, 10);
	else if (step == STEP_FULL_COVERAGE)
		v->require_full_coverage = strcmp(val, "yes") == 0;
	else if (step == STEP_MIGRATION_BARRIER) {
		long barrier = strtol(val, NULL, 10);

		v->migration_barrier = barrier >= INT_MIN && barrier <= INT_MAX ? (int)barrier : -1;
	} else if (step == STEP_ENDPOINT_TYPE) {
		v->prefers_hostnames = strcmp(val, "hostname") == 0;
	}
}

/* Where to dial each node of a view: its announced host name instead of
 * its IP when names are preferred (conn_opts.prefer_hostnames, or the node
 * says cluster-preferred-endpoint-type hostname), so that connections, the
 * plan's addresses and the TLS name check all use the name. A node that
 * announces none, or one too long for the address field, keeps its IP. */
static void dial_by_hostname(struct node_view *v)
{
	for (size_t i = 0; i < v->view.count; i++) {
		struct node *n = &v->view.nodes[i];

		if (n->hostname && n->hostname[0] && strlen(n->hostname) < sizeof(n->ip))
			snprintf(n->ip, sizeof(n->ip), "%s", n->hostname);
	}
}

/* Takes in the reply to one step; -1 when the node has no view, so the rest
 * does not matter. */
static int read_step(struct node_view *v, struct conn *c, enum gather_step step, const redisReply *r,
	const struct slots_index *share)
{
	if (step == STEP_NODES)
		return read_nodes(v, c, r, share);
	if (step == STEP_INFO)
		read_info(v, c, r);
	else if (step == STEP_REPLICATION)
		read_replication(v, r);
	else
		read_config(v, step, r);
	return 0;
}

/* Reads one node: connects, sends every step at once, reads the replies. */
static void node_gather(struct node_view *v, const struct conn_opts *opts, const struct slots_index *share)
{
	struct conn *c;
	int step;

	if (conn_open(v->host, v->port, opts, &c, &v->error) < 0)
		return;
	for (step = 0; step < STEP_COUNT; step++)
		if (conn_append_argv(c, gather_argv[step][2] ? 3 : 2, (const char **)gather_argv[step],
				NULL, &v->error) < 0)
			break;
	for (int i = 0; step == STEP_COUNT && i < STEP_COUNT; i++) {
		redisReply *r = conn_get_reply(c, &v->error);
		int rc;

		if (!r)
			break;
		rc = read_step(v, c, (enum gather_step)i, r, share);
		freeReplyObject(r);
		if (rc < 0)
			break;
	}
	if (v->reachable && (opts->prefer_hostnames || v->prefers_hostnames))
		dial_by_hostname(v);
	conn_close(c);
}

static void gather_one(void *ctx, size_t i)
{
	const struct gather_round *round = ctx;

	node_gather(&round->nodes[i], round->opts, round->share);
}

/* Appends an unread node. Returns 0, or -1 on OOM. */
static int snapshot_add(struct snapshot *s, size_t *cap, const char *host, int port, const char *id)
{
	struct node_view *v;

	if (s->count == *cap) {
		size_t grown = *cap ? *cap * 2 : 16;
		struct node_view *nodes = realloc(s->nodes, grown * sizeof(*nodes));

		if (!nodes)
			return -1;
		s->nodes = nodes;
		*cap = grown;
	}
	v = &s->nodes[s->count++];
	memset(v, 0, sizeof(*v));
	snprintf(v->host, sizeof(v->host), "%s", host);
	v->port = port;
	addr_format(v->addr, sizeof(v->addr), host, port);
	snprintf(v->id, sizeof(v->id), "%s", id);
	v->view.myself = -1;
	v->node_timeout_ms = -1;
	v->require_full_coverage = -1;
	v->migration_barrier = -1;
	v->repl_offset = -1;
	return 0;
}

/* The nodes already in a snapshot, by id and by address: two open-addressing
 * tables of indexes + 1 (0: empty), so that looking up each entry of every
 * view costs a hash, not a walk of every node (which made discovery cubic in
 * the nodes: a billion comparisons at 1,000 masters). */
struct seen {
	size_t *by_id, *by_addr;
	size_t cap;               /* a power of two, at least twice the nodes */
};

static size_t text_hash(const char *t)
{
	size_t h = 14695981039346656037ULL;

	for (; *t; t++)
		h = (h ^ (unsigned char)*t) * 1099511628211ULL;
	return h;
}

/* The cell of table tab for key: the one holding a node whose id (or
 * address) is key, or the empty one where it would go. */
static size_t *seen_cell(const struct seen *k, size_t *tab, const struct snapshot *s, const char *key, bool addr)
{
	for (size_t i = text_hash(key) & (k->cap - 1);; i = (i + 1) & (k->cap - 1)) {
		const struct node_view *v = tab[i] ? &s->nodes[tab[i] - 1] : NULL;

		if (!v || strcmp(addr ? v->addr : v->id, key) == 0)
			return &tab[i];
	}
}

static void seen_put(struct seen *k, const struct snapshot *s, size_t i)
{
	size_t *cell;

	if (s->nodes[i].id[0] && !*(cell = seen_cell(k, k->by_id, s, s->nodes[i].id, false)))
		*cell = i + 1;
	if (!*(cell = seen_cell(k, k->by_addr, s, s->nodes[i].addr, true)))
		*cell = i + 1;
}

/* Makes room for one more node (tables at most half full). 0, or -1 on OOM. */
static int seen_grow(struct seen *k, const struct snapshot *s)
{
	size_t cap = k->cap ? k->cap : 64;

	while (cap < 2 * (s->count + 1))
		cap *= 2;
	if (cap == k->cap)
		return 0;
	free(k->by_id);
	free(k->by_addr);
	k->cap = cap;
	k->by_id = calloc(cap, sizeof(*k->by_id));
	k->by_addr = calloc(cap, sizeof(*k->by_addr));
	if (!k->by_id || !k->by_addr)
		return -1;
	for (size_t i = 0; i < s->count; i++)
		seen_put(k, s, i);
	return 0;
}

static void seen_release(struct seen *k)
{
	free(k->by_id);
	free(k->by_addr);
}

/* Whether n (by id, or by address) is in s already; a node found by address
 * whose id was unknown (the seed) learns it. */
static bool snapshot_knows(struct snapshot *s, struct seen *k, const struct node *n)
{
	char addr[ADDR_TEXT_MAX];
	size_t *cell;

	if (*seen_cell(k, k->by_id, s, n->id, false))
		return true;
	addr_format(addr, sizeof(addr), n->ip, n->port);
	if (!*(cell = seen_cell(k, k->by_addr, s, addr, true)))
		return false;
	if (!s->nodes[*cell - 1].id[0]) {
		memcpy(s->nodes[*cell - 1].id, n->id, sizeof(s->nodes[*cell - 1].id));
		seen_put(k, s, *cell - 1);
	}
	return true;
}

/* Adds every node that t names and nobody has read yet. */
static int snapshot_discover(struct snapshot *s, size_t *cap, struct seen *k, const struct topology *t)
{
	for (size_t i = 0; i < t->count; i++) {
		const struct node *n = &t->nodes[i];

		if ((n->flags & (NODE_NOADDR | NODE_HANDSHAKE)) || !n->ip[0] || n->port <= 0)
			continue;
		if (snapshot_knows(s, k, n))
			continue;
		if (seen_grow(k, s) < 0 || snapshot_add(s, cap, n->ip, n->port, n->id) < 0)
			return -1;
		seen_put(k, s, s->count - 1);
	}
	return 0;
}

/* Reads nodes [first, s->count) concurrently, their views sharing the slot
 * sets of share. */
static void snapshot_read_round(struct snapshot *s, size_t first, const struct conn_opts *opts,
	const struct slots_index *share)
{
	struct gather_round round = { s->nodes + first, opts, share };
	size_t n = s->count - first;

	parallel_for(n, n < SNAPSHOT_THREADS ? (int)n : SNAPSHOT_THREADS, gather_one, &round);
}

int snapshot_gather(const char *host, int port, const struct conn_opts *opts,
	struct snapshot *out, struct sc_error *err)
{
	struct snapshot s = { NULL, 0, -1 };
	struct seen known = { 0 };
	struct slots_index share = { 0 };
	size_t cap = 0, done = 0;
	int rc = 0;

	if (seen_grow(&known, &s) < 0 || snapshot_add(&s, &cap, host, port, "") < 0)
		rc = sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	else
		seen_put(&known, &s, 0);
	while (rc == 0 && done < s.count) {
		size_t first = done;

		snapshot_read_round(&s, first, opts, &share);
		if (first == 0 && !s.nodes[0].reachable) {
			if (err)
				*err = s.nodes[0].error;
			rc = -1;
			break;
		}
		/* every other view shares the sets it agrees about with the seed's:
		   N views of N lines then hold about N sets, not N² */
		if (first == 0 && slots_index_build(&share, &s.nodes[0].view) < 0)
			rc = sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
		done = s.count;
		for (size_t i = first; rc == 0 && i < done; i++) {
			/* by value: adding the nodes it names moves s.nodes (the
			   lines stay where they are) */
			struct topology view = s.nodes[i].view;

			if (s.nodes[i].reachable && snapshot_discover(&s, &cap, &known, &view) < 0)
				rc = sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
		}
	}
	slots_index_release(&share);
	seen_release(&known);
	if (rc < 0) {
		snapshot_release(&s);
		return -1;
	}
	s.reference = 0; /* the seed, always reachable here */
	*out = s;
	return 0;
}
