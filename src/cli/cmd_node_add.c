/* cmd_node_add.c: `slotctl node add NEW_HOST:PORT SEED`: joins an empty
 * server to the cluster (refused when it holds keys or knows other nodes,
 * core/node/node_rules.c), MEET and a bounded wait until every node knows it
 * (io/node/node_add.c); as a replica, REPLICATE and a bounded wait for the sync;
 * as a master, the rebalance to run next, or run with --rebalance. */
#include "node_cli.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/node_ops.h"
#include "slotctl/core/node_rules.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

extern const struct cmd_entry cmd_rebalance;

/* The address to give CLUSTER MEET: the seed's own IP as the cluster knows
 * it (MEET takes an IP, not a host name), else the seed as given. */
static void seed_ip(const struct node_run *r, char *ip, size_t size, int *port, int *cport)
{
	const struct topology *map = snapshot_map(&r->snap);
	const struct node *me = map->myself >= 0 ? &map->nodes[map->myself] : NULL;

	snprintf(ip, size, "%s", me && me->ip[0] ? me->ip : r->seed_host);
	*port = me && me->ip[0] ? me->port : r->seed_port;
	*cport = me && me->ip[0] ? me->cport : 0;
}

/* `slotctl rebalance SEED --use-empty-masters`, after a master joined. */
static int run_rebalance(const struct node_run *r, const char *seed)
{
	struct planning_request req;

	planning_request_init(&req, PLAN_REBALANCE);
	req.seed = seed;
	req.planner.use_empty_masters = true;
	return node_run_oneshot(r, &cmd_rebalance, (const char *const[]){ seed, NULL }, &req);
}

/* The master a new replica follows (--replica-of ID, or with --replica the
 * one with the fewest replicas); NULL for a new master, or on error (*code). */
static const struct node *replica_master(struct node_run *r, int *code)
{
	const struct topology *map = snapshot_map(&r->snap);
	const char *of = args_value(r->args, "replica-of");
	const struct node *m = NULL;

	*code = SC_EXIT_OK;
	if (of) {
		m = topology_find_prefix(map, of, &r->err);
		if (m && !node_is_master(m))
			sc_error_set(&r->err, SC_EXIT_USAGE, "'%s:%d' (%.8s) is a replica: --replica-of takes a master",
				m->ip, m->port, m->id), m = NULL;
	} else if (args_flag(r->args, "replica")) {
		m = node_rules_fewest_replicas(map);
		if (!m)
			sc_error_set(&r->err, SC_EXIT_REFUSED, "no healthy master serving slots to follow");
	}
	if (!m && (of || args_flag(r->args, "replica")))
		*code = node_failed(r);
	return m;
}

static int run_node_add(const struct cmd_args *args)
{
	const char *new_addr = args->argv[0], *seed = args->argv[1];
	struct node_run r;
	struct topology view = { 0 };
	const struct node *master, *me;
	char host[256], ip[64], addr[ADDR_TEXT_MAX];
	int port, sport, scport, code;
	long long keys = 0;
	bool stop;

	if ((code = node_run_init(&r, args, seed)) != SC_EXIT_OK)
		return node_finish(&r, code);
	if (args_value(args, "replica-of") && args_flag(args, "replica")) {
		cli_usage_error(args->cmd->name, "give --replica-of ID or --replica, not both");
		return node_finish(&r, SC_EXIT_USAGE);
	}
	if (addr_parse(new_addr, host, sizeof(host), &port, &r.err) < 0) {
		cli_usage_error(args->cmd->name, "%s", r.err.msg);
		r.err.code = 0;
		return node_finish(&r, SC_EXIT_USAGE);
	}
	if (args_flag(args, "rebalance") && (args_flag(args, "replica") || args_value(args, "replica-of"))) {
		cli_usage_error(args->cmd->name, "--rebalance is for a new master, not a replica");
		return node_finish(&r, SC_EXIT_USAGE);
	}
	if ((code = node_run_gather(&r)) != SC_EXIT_OK)
		return node_finish(&r, code);
	master = replica_master(&r, &code);
	if (code != SC_EXIT_OK)
		return node_finish(&r, code);
	if (node_probe(host, port, &r.opts, &view, &keys, &r.err) < 0 ||
	    node_rules_joinable(&view, keys, new_addr, &r.err) < 0) {
		topology_release(&view);
		return node_finish(&r, node_failed(&r));
	}
	me = &view.nodes[view.myself];
	addr_format(addr, sizeof(addr), host, port);
	cJSON_AddStringToObject(r.doc, "address", addr);
	cJSON_AddStringToObject(r.doc, "id", me->id);
	cJSON_AddStringToObject(r.doc, "role", master ? "replica" : "master");
	if (master)
		node_json_add(r.doc, "master", master->ip, master->port, master->id);
	seed_ip(&r, ip, sizeof(ip), &sport, &scport);
	if (!r.json)
		printf("add '%s' (%.8s) to the cluster of '%s' as a %s:\n", addr, me->id, seed,
			master ? "replica" : "master");
	node_step(&r, "CLUSTER MEET %s %d %d on '%s'", ip, sport, scport, addr);
	node_step(&r, "wait until every node knows %.8s (at most %d s)", me->id, r.wait_ms / 1000);
	if (master)
		node_step(&r, "CLUSTER REPLICATE %s on '%s', then wait for its sync (at most %d s)", master->id,
			addr, r.wait_ms / 1000);
	else if (args_flag(args, "rebalance"))
		node_step(&r, "slotctl rebalance %s --use-empty-masters", seed);
	code = node_confirm(&r, "add this node to the cluster?", &stop);
	if (stop) {
		topology_release(&view);
		return node_finish(&r, code);
	}
	if (node_meet(host, port, ip, sport, scport, &r.opts, &r.err) < 0 ||
	    node_wait_known(r.seed_host, r.seed_port, me->id, &r.opts, r.wait_ms, &r.err) < 0 ||
	    (master && node_replicate(host, port, master->id, &r.opts, r.wait_ms, &r.err) < 0)) {
		topology_release(&view);
		return node_finish(&r, node_failed(&r));
	}
	if (!r.json)
		fprintf(stderr, "'%s' (%.8s) joined as a %s\n", addr, me->id, master ? "replica" : "master");
	if (!master && args_flag(args, "rebalance")) {
		topology_release(&view);
		code = run_rebalance(&r, seed);
		return node_finish(&r, code);
	}
	if (!master && !r.json)
		fprintf(stderr, "it serves no slot yet: run 'slotctl rebalance %s --use-empty-masters'\n", seed);
	topology_release(&view);
	return node_finish(&r, SC_EXIT_OK);
}

static const struct cmd_option node_add_options[] = {
	{ "replica-of", 0, OPT_VALUE, "ID", "join as a replica of this master" },
	{ "replica", 0, OPT_FLAG, NULL, "join as a replica of the master with the fewest replicas" },
	{ "rebalance", 0, OPT_FLAG, NULL, "then give the new master its share (slotctl rebalance --use-empty-masters)" },
	{ "wait", 'w', OPT_VALUE, "SECONDS", "bound on each wait: gossip, sync (default 60)" },
	NODE_COMMON_OPTIONS,
	{ 0 },
};

const struct cmd_entry cmd_node_add = {
	.name = "node add",
	.synopsis = "NEW_HOST:PORT SEED_HOST:PORT [--replica-of ID | --replica] [--rebalance] [--wait SECONDS] "
		"[--yes] [--dry-run] [--json]",
	.summary = "add an empty server to the cluster as a master or a replica",
	.options = node_add_options,
	.min_args = 2,
	.max_args = 2,
	.run = run_node_add,
};
