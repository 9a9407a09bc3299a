/* preflight.c: what apply checks before it changes anything: the plan was
 * made from this very cluster as it is now, every node answers, the cluster
 * is healthy (full coverage, no open slot, views agree, no failed node), and
 * every target has the memory for what it receives. Each refusal names the
 * reason and the command that helps.
 *
 * The health rules here are the minimum a move needs; they are to be replaced
 * by check's rules (slotctl/check.h) once those are shared. */
#include "executor_priv.h"
#include "slotctl/exitcode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int exec_require_reachable(const struct snapshot *s, struct sc_error *err)
{
	for (size_t i = 0; i < s->count; i++) {
		const struct node_view *v = &s->nodes[i];

		if (!v->reachable)
			return sc_error_set(err, SC_EXIT_UNREACHABLE,
				"%s; every node must answer before slots move (see 'slotctl check')",
				v->error.msg[0] ? v->error.msg : "a node cannot be reached");
	}
	return 0;
}

static int refuse_health(struct sc_error *err, const char *what, const char *help)
{
	return sc_error_set(err, SC_EXIT_REFUSED, "refusing to move slots: %s; %s", what, help);
}

static int check_views(const struct snapshot *s, struct sc_error *err)
{
	const struct topology *map = snapshot_map(s);
	int ref[SC_SLOTS], owner[SC_SLOTS];
	char what[512];

	topology_owner_map(map, ref);
	for (int slot = 0; slot < SC_SLOTS; slot++) {
		if (ref[slot] < 0) {
			snprintf(what, sizeof(what), "slot %d %s", slot,
				ref[slot] == -1 ? "has no owner" : "is claimed by two masters");
			return refuse_health(err, what, "run 'slotctl fix' first");
		}
	}
	for (size_t i = 0; i < s->count; i++) {
		const struct node_view *v = &s->nodes[i];
		const struct topology *t = &v->view;

		if (strcmp(v->cluster_state, "ok") != 0) {
			snprintf(what, sizeof(what), "'%s' says cluster_state:%s", v->addr, v->cluster_state);
			return refuse_health(err, what, "run 'slotctl check'");
		}
		for (size_t n = 0; n < t->count; n++) {
			const struct node *nd = &t->nodes[n];

			if (nd->flags & (NODE_FAIL | NODE_PFAIL)) {
				snprintf(what, sizeof(what), "'%s' flags node %s:%d as failing", v->addr, nd->ip, nd->port);
				return refuse_health(err, what, "run 'slotctl check'");
			}
			if ((nd->flags & NODE_MYSELF) && nd->open_count > 0) {
				snprintf(what, sizeof(what), "slot %d is open (%s) on '%s'", nd->open[0].slot,
					nd->open[0].importing ? "importing" : "migrating", v->addr);
				return refuse_health(err, what,
					"run 'slotctl resume' or 'slotctl abort' if a slotctl run left it, else 'slotctl fix'");
			}
		}
		topology_owner_map(t, owner);
		for (int slot = 0; slot < SC_SLOTS; slot++) {
			if ((owner[slot] < 0) != (ref[slot] < 0) ||
			    (owner[slot] >= 0 && strcmp(t->nodes[owner[slot]].id, map->nodes[ref[slot]].id) != 0)) {
				snprintf(what, sizeof(what), "'%s' disagrees about the owner of slot %d", v->addr, slot);
				return refuse_health(err, what, "wait for the views to converge ('slotctl check')");
			}
		}
	}
	return 0;
}

/* "used_memory:N" and "maxmemory:N" from INFO memory. */
static long long info_number(const char *info, const char *field)
{
	size_t flen = strlen(field);

	for (const char *p = info; (p = strstr(p, field)) != NULL; p += flen)
		if ((p == info || p[-1] == '\n') && p[flen] == ':')
			return atoll(p + flen + 1);
	return -1;
}

static int check_headroom(const struct plan *plan, const struct snapshot *s, const struct exec_opts *o,
	struct sc_error *err)
{
	struct conn_pool *pool = conn_pool_new(&o->conn);
	int rc = 0;

	if (!pool)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	for (size_t i = 0; rc == 0 && i < plan->node_count; i++) {
		const struct plan_node *t = &plan->nodes[i];
		const struct node_view *v = snapshot_find(s, t->id);
		long long incoming = 0, used, max;
		struct conn *c;
		redisReply *r;

		for (size_t b = 0; b < plan->batch_count; b++)
			for (size_t k = 0; k < plan->batches[b].count; k++)
				if (strcmp(plan->batches[b].moves[k].to, t->id) == 0)
					incoming += plan->batches[b].moves[k].bytes;
		if (incoming == 0 || !v)
			continue;
		if (!(c = conn_pool_get(pool, v->host, v->port, err)) || !(r = conn_command(c, err, "INFO memory"))) {
			rc = -1;
			break;
		}
		if ((rc = conn_check_reply(c, r, "INFO memory", err)) == 0 && r->type == REDIS_REPLY_STRING) {
			used = info_number(r->str, "used_memory");
			max = info_number(r->str, "maxmemory");
			if (max > 0 && used >= 0 && used + incoming + incoming / 10 > max)
				rc = sc_error_set(err, SC_EXIT_REFUSED,
					"refusing to move slots: '%s' uses %lld of its maxmemory %lld bytes and would "
					"receive about %lld more; raise its maxmemory, or make a plan that sends it less "
					"('slotctl plan rebalance --weight %.8s=...')", v->addr, used, max, incoming, t->id);
		}
		freeReplyObject(r);
	}
	conn_pool_free(pool);
	return rc;
}

int exec_preflight(const struct plan *plan, const struct snapshot *s, const struct exec_opts *o,
	struct sc_error *err)
{
	const struct topology *map = snapshot_map(s);

	if (!map)
		return sc_error_set(err, SC_EXIT_UNREACHABLE, "no node of the cluster answered");
	if (plan_check_fresh(plan, map, err) != 0)
		return -1;
	if (exec_require_reachable(s, err) != 0 || check_views(s, err) != 0)
		return -1;
	return check_headroom(plan, s, o, err);
}
