/* preflight.c: the cluster a run starts from and what apply checks before
 * it changes anything. Gathering: a snapshot from the first seed that
 * answers (apply, resume, abort, and a run looking for a failover). The
 * checks: the plan was made from this very cluster as it is now, every node
 * answers, the cluster is healthy (full coverage, no open slot, views agree,
 * no failed node), and every target has the memory for what it receives.
 * Each refusal names the reason and the command that helps.
 * Health is check's verdict (its rules and stray-key probe). */
#include "executor_priv.h"
#include "slotctl/core/check.h"
#include "slotctl/io/check_probe.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/info_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int exec_require_reachable(const struct exec_run *run, const struct snapshot *s, struct sc_error *err)
{
	for (size_t i = 0; i < s->count; i++) {
		const struct node_view *v = &s->nodes[i];
		int n = run && v->id[0] ? exec_run_node(run, v->id) : -1;

		if (!v->reachable && !(n >= 0 && run->nodes[n].retired))
			return sc_error_set(err, SC_EXIT_UNREACHABLE,
				"%s; every node must answer before slots move (see 'slotctl check')",
				v->error.msg[0] ? v->error.msg : "a node cannot be reached");
	}
	return 0;
}

int exec_gather(const char *first, const char *others, const struct conn_opts *o, struct snapshot *s,
	char *host, size_t host_size, int *port, struct sc_error *err)
{
	char list[8192];
	char *save = NULL, *tok;
	bool tried = false;

	snprintf(list, sizeof(list), "%s,%s", first ? first : "", others ? others : "");
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct sc_error e;

		if (addr_parse(tok, host, host_size, port, &e) != 0)
			continue;
		tried = true;
		if (snapshot_gather(host, *port, o, s, err) == 0)
			return snapshot_require_sound(s, "move slots", err);
	}
	if (!tried)
		return sc_error_set(err, SC_EXIT_USAGE, "no address of the cluster to connect to");
	return -1;
}

/* The cluster must pass check's rules (slotctl/core/check.h) and its stray-key
 * probe: any error finding refuses, naming the first and the command that
 * helps. Warnings do not refuse. */
static int check_health(const struct snapshot *s, const struct exec_opts *o, bool *transient,
	struct sc_error *err)
{
	struct check_report r;
	int rc = 0;

	if (check_evaluate(s, &r, err) != 0)
		return -1;
	/* keys counted in the suspicious slots only, as before `check` counted
	 * every master's keys: the mover meets a stray copy of a key it moves
	 * (BUSYKEY, which --replace overrules) */
	if (check_probe(s, &o->conn, CHECK_KEYS_SUSPICIOUS, &r, err) != 0) {
		check_report_release(&r);
		return -1;
	}
	/* Any finding may still settle (gossip spreading, a bus link
	 * reconnecting under load): the caller looks again for a few seconds. */
	*transient = true;
	for (size_t i = 0; i < r.count; i++) {
		const struct check_finding *f = &r.findings[i];

		if (f->severity != CHECK_ERR)
			continue;
		rc = sc_error_set(err, strcmp(f->code, "node-unreachable") == 0 ? SC_EXIT_UNREACHABLE : SC_EXIT_REFUSED,
			"refusing to move slots: the cluster does not pass check: %s: %s (%zu error%s; run 'slotctl "
			"check %s', then 'slotctl fix', or 'slotctl resume'/'slotctl abort' if a slotctl run left "
			"slots open)", f->code, f->message, check_report_count(&r, CHECK_ERR),
			check_report_count(&r, CHECK_ERR) == 1 ? "" : "s", s->nodes[0].addr);
		break;
	}
	check_report_release(&r);
	return rc;
}

/* "used_memory:N" and "maxmemory:N" from INFO memory. */
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
			used = info_get_bytes(r->str, "used_memory");
			max = info_get_bytes(r->str, "maxmemory");
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
	bool *transient, struct sc_error *err)
{
	const struct topology *map = snapshot_map(s);

	*transient = false;
	if (!map)
		return sc_error_set(err, SC_EXIT_UNREACHABLE, "no node of the cluster answered");
	if (plan_check_fresh(plan, map, err) != 0)
		return -1;
	if (exec_require_reachable(NULL, s, err) != 0 || check_health(s, o, transient, err) != 0)
		return -1;
	return check_headroom(plan, s, o, err);
}
