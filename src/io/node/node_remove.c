/* node_remove.c: the I/O of `slotctl node remove` and `node forget-failed`
 * (see node_ops.h): CLUSTER FORGET on every other node at once, so that all
 * of them drop the node within the 60-second ban during which gossip cannot
 * teach it back, then a check that none lists it; CLUSTER RESET (and
 * SHUTDOWN) of the removed node. */
#include "slotctl/io/node_ops.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/parallel.h"
#include "slotctl/core/strbuf.h"

#include <stdlib.h>
#include <string.h>

#define FORGET_THREADS 16

struct forget_job {
	const struct snapshot *s;
	const char *id;
	const struct conn_opts *opts;
	struct sc_error *errs;        /* per node of s; code 0: forgotten, or skipped */
	bool *follows;                /* per node of s: a replica of id, left knowing it; NULL: never skip */
};

/* Whether v says, of itself, that it is a replica of id. */
static bool follows_in_own_view(const struct node_view *v, const char *id)
{
	const struct node *self = topology_find(&v->view, v->id);

	return self && (self->flags & NODE_REPLICA) && strcmp(self->master_id, id) == 0;
}

/* FORGET, then CLUSTER NODES again to see that the node is gone. A node
 * that did not answer the snapshot is a failure (it may still know it and
 * teach it back once the ban ends), unless it is itself flagged failed. */
static void forget_one(void *ctx, size_t i)
{
	struct forget_job *j = ctx;
	const struct node_view *v = &j->s->nodes[i];
	struct sc_error *err = &j->errs[i];
	struct topology t;
	struct conn *c;
	redisReply *r;

	if (strcmp(v->id, j->id) == 0)
		return;
	if (!v->reachable) {
		/* a node flagged failed is forgotten in turn, not asked */
		const struct node *m = snapshot_map(j->s) ? topology_find(snapshot_map(j->s), v->id) : NULL;

		if (!m || !(m->flags & (NODE_FAIL | NODE_NOADDR)))
			sc_error_set(err, v->error.code ? v->error.code : SC_EXIT_UNREACHABLE,
				"'%s' did not answer, so it may still know it: %s", v->addr, v->error.msg);
		return;
	}
	if (j->follows && follows_in_own_view(v, j->id)) {
		j->follows[i] = true; /* Redis: "Can't forget my master!" */
		return;
	}
	if (conn_open(v->host, v->port, j->opts, &c, err) < 0)
		return;
	r = conn_command(c, err, "CLUSTER FORGET %s", j->id);
	/* a node that never knew it, or already forgot it, is where we want it */
	if (!(r && r->type == REDIS_REPLY_ERROR && strstr(r->str, "Unknown node")) &&
	    conn_check_reply(c, r, "CLUSTER FORGET", err) < 0)
		goto out;
	freeReplyObject(r);
	r = conn_command(c, err, "CLUSTER NODES");
	if (conn_check_reply(c, r, "CLUSTER NODES", err) < 0 || r->type != REDIS_REPLY_STRING ||
	    topology_parse(r->str, r->len, &t, err) < 0) {
		if (!err->code)
			sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' replied to CLUSTER NODES with a non-string", v->addr);
		goto out;
	}
	if (topology_find(&t, j->id))
		sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' still knows node %.8s after CLUSTER FORGET", v->addr, j->id);
	topology_release(&t);
out:
	freeReplyObject(r);
	conn_close(c);
}

int node_forget_everywhere(const struct snapshot *s, const char *id, const struct conn_opts *opts,
	struct strbuf *followers, struct sc_error *err)
{
	size_t n = s->count ? s->count : 1;
	struct forget_job j = { s, id, opts, calloc(n, sizeof(struct sc_error)),
		followers ? calloc(n, sizeof(bool)) : NULL };
	size_t failed = 0, first = 0;

	if (!j.errs || (followers && !j.follows)) {
		free(j.errs);
		free(j.follows);
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	}
	if (s->count > 0)
		parallel_for(s->count, s->count < FORGET_THREADS ? (int)s->count : FORGET_THREADS, forget_one, &j);
	for (size_t i = 0; i < s->count; i++) {
		if (j.errs[i].code && failed++ == 0)
			first = i;
		if (j.follows && j.follows[i])
			strbuf_addf(followers, "%s'%s'", followers->len ? ", " : "", s->nodes[i].addr);
	}
	if (failed)
		sc_error_set(err, j.errs[first].code, "node %.8s is not forgotten everywhere: %s%s "
			"(run the same command again within 60 s, or forget it on the rest by hand)", id,
			j.errs[first].msg, failed > 1 ? ", and more" : "");
	free(j.errs);
	free(j.follows);
	return failed ? -1 : 0;
}

int node_reset(const char *host, int port, const struct conn_opts *opts, bool shutdown,
	struct sc_error *err)
{
	struct conn *c;
	redisReply *r;
	int rc;

	if (conn_open(host, port, opts, &c, err) < 0)
		return -1;
	r = conn_command(c, err, "CLUSTER RESET HARD");
	rc = conn_check_reply(c, r, "CLUSTER RESET HARD", err);
	freeReplyObject(r);
	if (rc == 0 && shutdown) {
		struct sc_error ignored = { 0 };

		/* the server closes the connection as it stops: that is success;
		 * an error reply (a failed save, say) is not */
		r = conn_command(c, &ignored, "SHUTDOWN");
		if (r && r->type == REDIS_REPLY_ERROR)
			rc = conn_check_reply(c, r, "SHUTDOWN", err);
		freeReplyObject(r);
	}
	conn_close(c);
	return rc;
}
