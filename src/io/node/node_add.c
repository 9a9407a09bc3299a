/* node_add.c: the I/O of `slotctl node add` (see node_ops.h): probing the
 * new server, CLUSTER MEET, waiting until every node knows it, CLUSTER
 * REPLICATE and waiting for the sync. Every wait is bounded. */
#include "slotctl/io/node_ops.h"
#include "slotctl/io/clock.h"
#include "slotctl/core/exitcode.h"

#include <string.h>
#include <unistd.h>

#define POLL_US 200000

int node_probe(const char *host, int port, const struct conn_opts *opts, struct topology *view,
	long long *keys, struct sc_error *err)
{
	struct conn *c;
	redisReply *r;
	int rc = -1;

	if (conn_open(host, port, opts, &c, err) < 0)
		return -1;
	r = conn_command(c, err, "CLUSTER NODES");
	if (r && r->type == REDIS_REPLY_ERROR && strstr(r->str, "cluster support disabled")) {
		sc_error_set(err, SC_EXIT_REFUSED, "'%s' is not in cluster mode: start it with "
			"cluster-enabled yes", conn_addr(c));
	} else if (conn_check_reply(c, r, "CLUSTER NODES", err) == 0) {
		if (r->type != REDIS_REPLY_STRING)
			sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' replied to CLUSTER NODES with a non-string",
				conn_addr(c));
		else if (topology_parse(r->str, r->len, view, err) == 0)
			rc = view->myself >= 0 ? 0 : (topology_release(view), sc_error_set(err, SC_EXIT_PROBLEMS,
				"'%s' has no 'myself' line in its CLUSTER NODES", conn_addr(c)));
	}
	freeReplyObject(r);
	if (rc == 0 && conn_take_integer(c, conn_command(c, err, "DBSIZE"), "DBSIZE", keys, err) < 0) {
		topology_release(view);
		rc = -1;
	}
	conn_close(c);
	return rc;
}

/* Sends one command whose answer must be OK-like (any non-error reply). */
static int command_ok(const char *host, int port, const struct conn_opts *opts, const char *what,
	int argc, const char **argv, struct sc_error *err)
{
	struct conn *c;
	redisReply *r;
	int rc;

	if (conn_open(host, port, opts, &c, err) < 0)
		return -1;
	r = conn_command_argv(c, argc, argv, NULL, err);
	rc = conn_check_reply(c, r, what, err);
	freeReplyObject(r);
	conn_close(c);
	return rc;
}

int node_meet(const char *host, int port, const char *seed_ip, int seed_port, int seed_cport,
	const struct conn_opts *opts, struct sc_error *err)
{
	char sport[16], cport[16];
	const char *argv[] = { "CLUSTER", "MEET", seed_ip, sport, cport };

	snprintf(sport, sizeof(sport), "%d", seed_port);
	snprintf(cport, sizeof(cport), "%d", seed_cport);
	return command_ok(host, port, opts, "CLUSTER MEET", seed_cport > 0 ? 5 : 4, argv, err);
}

/* Whether every reachable view of s knows id (not in handshake) and the
 * view of id knows every other node s found; names the first that does not. */
static bool all_know(const struct snapshot *s, const char *id, struct sc_error *why)
{
	const struct node_view *self = snapshot_find(s, id);

	if (!self || !self->reachable)
		return sc_error_set(why, SC_EXIT_PROBLEMS, "the seed's cluster does not reach node %.8s yet",
			id), false;
	for (size_t i = 0; i < s->count; i++) {
		const struct node_view *v = &s->nodes[i];
		const struct node *n;

		if (!v->reachable)
			continue;
		n = topology_find(&v->view, id);
		if (!n || (n->flags & NODE_HANDSHAKE))
			return sc_error_set(why, SC_EXIT_PROBLEMS, "'%s' does not know node %.8s yet", v->addr, id),
				false;
		if (v->id[0] && !topology_find(&self->view, v->id))
			return sc_error_set(why, SC_EXIT_PROBLEMS, "node %.8s does not know '%s' yet", id, v->addr),
				false;
	}
	return true;
}

int node_wait_known(const char *seed_host, int seed_port, const char *id, const struct conn_opts *opts,
	int wait_ms, struct sc_error *err)
{
	long long deadline = sc_clock_ms() + wait_ms;
	struct sc_error why = { 0 };

	for (;;) {
		struct snapshot s;
		bool done;

		if (snapshot_gather(seed_host, seed_port, opts, &s, err) < 0)
			return -1;
		done = all_know(&s, id, &why);
		snapshot_release(&s);
		if (done)
			return 0;
		if (sc_clock_ms() >= deadline)
			return sc_error_set(err, SC_EXIT_PROBLEMS, "not every node knows the new node after %d ms: %s "
				"(gossip may still be spreading; check again with 'slotctl check')", wait_ms, why.msg);
		usleep(POLL_US);
	}
}

/* Reads master_link_status from INFO replication: 1 up, 0 not yet, -1 error. */
static int link_up(struct conn *c, struct sc_error *err)
{
	redisReply *r = conn_command(c, err, "INFO replication");
	int up;

	if (conn_check_reply(c, r, "INFO replication", err) < 0) {
		freeReplyObject(r);
		return -1;
	}
	up = r->type == REDIS_REPLY_STRING && strstr(r->str, "master_link_status:up") != NULL;
	freeReplyObject(r);
	return up;
}

int node_replicate(const char *host, int port, const char *master_id, const struct conn_opts *opts,
	int wait_ms, struct sc_error *err)
{
	long long deadline = sc_clock_ms() + wait_ms;
	struct conn *c;
	int rc = -1;

	if (conn_open(host, port, opts, &c, err) < 0)
		return -1;
	for (;;) { /* the new node may not have learnt of the master yet */
		redisReply *r = conn_command(c, err, "CLUSTER REPLICATE %s", master_id);
		bool unknown = r && r->type == REDIS_REPLY_ERROR && strstr(r->str, "Unknown node");

		if (!unknown || sc_clock_ms() >= deadline) {
			rc = conn_check_reply(c, r, "CLUSTER REPLICATE", err);
			freeReplyObject(r);
			break;
		}
		freeReplyObject(r);
		usleep(POLL_US);
	}
	while (rc == 0) {
		int up = link_up(c, err);

		if (up != 0) {
			rc = up > 0 ? 0 : -1;
			break;
		}
		if (sc_clock_ms() >= deadline) {
			rc = sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' has not finished its sync with master %.8s "
				"after %d ms (it goes on; check again with 'slotctl check')", conn_addr(c), master_id,
				wait_ms);
			break;
		}
		usleep(POLL_US);
	}
	conn_close(c);
	return rc;
}
