/* cmd_node_remove.c: `slotctl node remove SEED NODE_ID`: takes a node out
 * of the cluster. A master serving slots is refused unless --drain, which
 * plans and applies its drain as `plan drain` + `apply` do (oneshot.c, with
 * the same plan file and journal for resume and abort). Its replicas follow
 * another master or go with it; then FORGET on every other node at once and
 * RESET HARD of the node (io/node/node_remove.c). */
#include "exec_cli.h"
#include "node_cli.h"
#include "oneshot.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/node_ops.h"
#include "slotctl/core/node_rules.h"

#include <stdio.h>
#include <string.h>

/* The options the drain's one-shot run reads (see oneshot.h); it plans
 * with the defaults of a drain. */
static const struct cmd_option drain_options[] = {
	ONESHOT_OPTIONS,
	EXEC_CLI_OPTIONS,
	CMD_CONN_OPTIONS,
	{ 0 },
};

static const struct cmd_entry drain_entry = {
	.name = "node-remove", /* names its temporary plan directory: no space */
	.options = drain_options,
	.min_args = 2,
	.max_args = 2,
};

/* Drains master id as `plan drain` + `apply` do (a plan file and its
 * journal, kept with --plan-out, for resume and abort), or with --dry-run
 * only shows the plan. */
static int run_drain(const struct node_run *r, const char *seed, const char *id)
{
	const char *plan_out = args_value(r->args, "plan-out");
	const char *words[8] = { seed, id };
	struct planning_request req;
	int w = 2;

	if (r->dry_run)
		words[w++] = "--dry-run";
	if (r->json)
		words[w++] = "--json";
	if (plan_out) {
		words[w++] = "--plan-out";
		words[w++] = plan_out;
	}
	planning_request_init(&req, PLAN_DRAIN);
	req.seed = seed;
	req.planner.drain = id;
	return node_run_oneshot(r, &drain_entry, words, &req);
}

/* Forgets id everywhere (seen afresh from stay), then resets it. */
static int remove_one(struct node_run *r, const struct node_view *stay, const char *id)
{
	const struct node_view *v = snapshot_find(&r->snap, id);
	struct snapshot now;
	int rc;

	if (snapshot_gather(stay->host, stay->port, &r->opts, &now, &r->err) < 0)
		return -1;
	rc = node_forget_everywhere(&now, id, &r->opts, NULL, &r->err);
	snapshot_release(&now);
	if (rc < 0)
		return -1;
	if (v && v->reachable)
		return node_reset(v->host, v->port, &r->opts, args_flag(r->args, "shutdown"), &r->err);
	if (!r->json)
		cli_warn("node %.8s did not answer: forgotten, but not reset; reset it before it runs again", id);
	return 0;
}

#define NODE_MAX_REPLICAS 64

/* Whether node x follows master_id: by x's own view when it answered (the
 * seed may not have heard of a recent REPLICATE yet), else by the map. */
static bool follows(const struct node_run *r, const struct node *x, const char *master_id)
{
	const struct node_view *v = snapshot_find(&r->snap, x->id);
	const struct node *self = v && v->reachable ? topology_find(&v->view, x->id) : NULL;

	if (self)
		x = self;
	return (x->flags & NODE_REPLICA) && strcmp(x->master_id, master_id) == 0;
}

/* Lists the steps of removing n (replicas: going with it, or following
 * another master) and records its replicas' ids. Returns how many. */
static size_t remove_steps(struct node_run *r, const struct node *n, bool drain,
	char (*replicas)[SC_NODE_ID_LEN + 1])
{
	const struct topology *map = snapshot_map(&r->snap);
	bool with = args_flag(r->args, "with-replicas");
	size_t count = 0;

	if (drain)
		node_step(r, "slotctl plan drain %s %s, then apply it (its journal allows resume and abort)",
			r->args->argv[0], n->id);
	for (size_t i = 0; i < map->count && count < NODE_MAX_REPLICAS; i++) {
		const struct node *x = &map->nodes[i];

		if (!follows(r, x, n->id))
			continue;
		snprintf(replicas[count++], SC_NODE_ID_LEN + 1, "%s", x->id);
		if (with)
			node_step(r, "remove its replica '%s:%d' (%.8s) the same way", x->ip, x->port, x->id);
		else
			node_step(r, "its replica '%s:%d' (%.8s) follows the master with the fewest replicas "
				"(CLUSTER REPLICATE, then wait for the sync)", x->ip, x->port, x->id);
	}
	node_step(r, "CLUSTER FORGET %s on every other node at once, then check none knows it", n->id);
	node_step(r, "CLUSTER RESET HARD on '%s:%d'%s", n->ip, n->port,
		args_flag(r->args, "shutdown") ? ", then SHUTDOWN" : "");
	return count;
}

/* Each former replica of id: removed too (--with-replicas), or, when it
 * still follows id (a drain may have moved it already), pointed at the
 * master with the fewest replicas. */
static int handle_replicas(struct node_run *r, const struct node_view *stay, const char *id,
	char (*replicas)[SC_NODE_ID_LEN + 1], size_t count)
{
	const struct topology *map = snapshot_map(&r->snap);
	const struct node *to = node_rules_new_master(map, id);

	for (size_t k = 0; k < count; k++) {
		const struct node *x = topology_find(map, replicas[k]);
		const struct node_view *xv = snapshot_find(&r->snap, replicas[k]);

		if (args_flag(r->args, "with-replicas")) {
			if (remove_one(r, stay, replicas[k]) < 0)
				return -1;
		} else if (x && follows(r, x, id) && xv && xv->reachable) {
			if (!to)
				return sc_error_set(&r->err, SC_EXIT_REFUSED, "no healthy master to take replica %.8s",
					replicas[k]);
			if (node_replicate(xv->host, xv->port, to->id, &r->opts, r->wait_ms, &r->err) < 0)
				return -1;
		}
	}
	return 0;
}

static int run_node_remove(const struct cmd_args *args)
{
	char replicas[NODE_MAX_REPLICAS][SC_NODE_ID_LEN + 1], id[SC_NODE_ID_LEN + 1], addr[ADDR_TEXT_MAX];
	struct node_run r;
	const struct topology *map;
	const struct node *n;
	const struct node_view *stay;
	bool with = args_flag(args, "with-replicas"), drain, stop;
	size_t nrep;
	int code;

	if ((code = node_run_init(&r, args, args->argv[0])) != SC_EXIT_OK ||
	    (code = node_run_gather(&r)) != SC_EXIT_OK)
		return node_finish(&r, code);
	map = snapshot_map(&r.snap);
	n = topology_find_prefix(map, args->argv[1], &r.err);
	if (!n || node_rules_removable(map, n->id, args_flag(args, "drain"), with, &r.err) < 0)
		return node_finish(&r, node_failed(&r));
	snprintf(id, sizeof(id), "%s", n->id);
	addr_format(addr, sizeof(addr), n->ip, n->port);
	drain = slotset_count(node_slots(n)) > 0;
	node_json_add(r.doc, "node", n->ip, n->port, n->id);
	if (!r.json)
		printf("remove '%s' (%.8s) from the cluster of '%s':\n", addr, id, args->argv[0]);
	nrep = remove_steps(&r, n, drain, replicas);
	stay = node_staying(&r, id, with ? replicas : NULL, with ? nrep : 0);
	if (!stay) {
		sc_error_set(&r.err, SC_EXIT_REFUSED, "no reachable node would stay in the cluster");
		return node_finish(&r, node_failed(&r));
	}
	if (drain && r.dry_run && (code = run_drain(&r, args->argv[0], id)) != SC_EXIT_OK)
		return node_finish(&r, code);
	code = node_confirm(&r, "remove this node from the cluster?", &stop);
	if (stop)
		return node_finish(&r, code);
	if (drain && ((code = run_drain(&r, args->argv[0], id)) != SC_EXIT_OK ||
	    (code = node_run_gather(&r)) != SC_EXIT_OK))
		return node_finish(&r, code);
	map = snapshot_map(&r.snap);
	stay = node_staying(&r, id, with ? replicas : NULL, with ? nrep : 0);
	if (!stay || node_rules_removable(map, id, false, with, &r.err) < 0) {
		if (!r.err.code)
			sc_error_set(&r.err, SC_EXIT_REFUSED, "no reachable node would stay in the cluster");
		return node_finish(&r, node_failed(&r));
	}
	if (handle_replicas(&r, stay, id, replicas, nrep) < 0 || remove_one(&r, stay, id) < 0)
		return node_finish(&r, node_failed(&r));
	if (!r.json)
		fprintf(stderr, "'%s' (%.8s) removed; no node knows it any more\n", addr, id);
	return node_finish(&r, SC_EXIT_OK);
}

static const struct cmd_option node_remove_options[] = {
	{ "drain", 0, OPT_FLAG, NULL, "move a master's slots away first, as plan drain + apply do" },
	{ "plan-out", 0, OPT_VALUE, "FILE", "with --drain, keep the drain's plan in FILE (its journal is FILE.journal)" },
	{ "with-replicas", 0, OPT_FLAG, NULL, "remove its replicas too (else they follow other masters)" },
	{ "shutdown", 0, OPT_FLAG, NULL, "stop the removed node(s) once reset" },
	{ "wait", 'w', OPT_VALUE, "SECONDS", "bound on each replica's sync with its new master (default 60)" },
	NODE_COMMON_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_node_remove = {
	.name = "node remove",
	.synopsis = "SEED_HOST:PORT NODE_ID [--drain [--plan-out FILE]] [--with-replicas] [--shutdown] [--wait SECONDS] [--yes] [--fast] [--dry-run] [--json]",
	.summary = "remove a node from the cluster (draining a master first with --drain)",
	.options = node_remove_options,
	.min_args = 2,
	.max_args = 2,
	.run = run_node_remove,
};
