/* cmd_node.c: `slotctl node add|remove|forget-failed`: the two ends of
 * scaling a cluster out and in, around the slot moves `rebalance` and
 * `plan drain` do. Each gathers the cluster, lets node_rules.h decide,
 * lists its steps (all a --dry-run shows), asks unless --yes, then runs
 * them with node_ops.h, every wait bounded by --wait. */
#include "exec_cli.h"
#include "oneshot.h"
#include "slotctl/cli.h"
#include "slotctl/exitcode.h"
#include "slotctl/node_ops.h"
#include "slotctl/node_rules.h"
#include "slotctl/snapshot.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NODE_FORMAT_VERSION "1.0"
#define NODE_MAX_FORGET 256

extern const struct cmd_entry cmd_rebalance;
extern const struct cmd_entry cmd_plan_drain;

/* What every node command shares: options, the cluster seen from the seed,
 * the steps listed before anything changes, and the --json document. */
struct node_run {
	const struct cmd_args *args;
	struct conn_opts opts;
	char seed_host[256];
	int seed_port;
	int wait_ms;
	bool json, dry_run;
	struct snapshot snap;
	cJSON *doc, *steps;
	struct sc_error err;
};

static int node_run_init(struct node_run *r, const struct cmd_args *args, const char *seed)
{
	long long wait_s = 60;

	memset(r, 0, sizeof(*r));
	r->snap.reference = -1;
	r->args = args;
	r->json = args_flag(args, "json");
	r->dry_run = args_flag(args, "dry-run");
	if (args_conn_opts(args, &r->opts) < 0)
		return SC_EXIT_USAGE;
	for (const struct cmd_option *o = args->cmd->options; o->name; o++)
		if (strcmp(o->name, "wait") == 0 && args_int(args, "wait", 1, 3600, 60, &wait_s) < 0)
			return SC_EXIT_USAGE;
	r->wait_ms = (int)wait_s * 1000;
	if (addr_parse(seed, r->seed_host, sizeof(r->seed_host), &r->seed_port, &r->err) < 0) {
		cli_usage_error(args->cmd->name, "%s", r->err.msg);
		return SC_EXIT_USAGE;
	}
	r->doc = cJSON_CreateObject();
	r->steps = cJSON_CreateArray();
	if (!r->doc || !r->steps) {
		cli_error("out of memory");
		return SC_EXIT_PROBLEMS;
	}
	cJSON_AddStringToObject(r->doc, "format_version", NODE_FORMAT_VERSION);
	cJSON_AddStringToObject(r->doc, "command", args->cmd->name);
	if (snapshot_gather(r->seed_host, r->seed_port, &r->opts, &r->snap, &r->err) < 0 ||
	    !snapshot_map(&r->snap)) {
		if (!r->err.code)
			sc_error_set(&r->err, SC_EXIT_UNREACHABLE, "no node of '%s' answered", seed);
		cli_error("%s", r->err.msg);
		return r->err.code;
	}
	return SC_EXIT_OK;
}

static void node_run_release(struct node_run *r)
{
	snapshot_release(&r->snap);
	cJSON_Delete(r->doc);
	cJSON_Delete(r->steps);
}

/* Lists one step: on stdout now (unless --json), and in the document. */
static void step(struct node_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void step(struct node_run *r, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	cJSON_AddItemToArray(r->steps, cJSON_CreateString(line));
	if (!r->json)
		printf("  %d. %s\n", cJSON_GetArraySize(r->steps), line);
}

/* Adds {"address": "host:port", "id": ...} under key to obj. */
static void add_node_json(cJSON *obj, const char *key, const char *ip, int port, const char *id)
{
	cJSON *n = cJSON_AddObjectToObject(obj, key);
	char addr[300];

	addr_format(addr, sizeof(addr), ip, port);
	cJSON_AddStringToObject(n, "address", addr);
	cJSON_AddStringToObject(n, "id", id);
}

/* After the steps are listed: stops on --dry-run (SC_EXIT_OK, *stop set),
 * asks unless --yes. Returns 0 to go on or the exit code to end with. */
static int confirm(struct node_run *r, const char *prompt, bool *stop)
{
	bool closed = false;

	*stop = r->dry_run;
	if (r->dry_run) {
		fprintf(stderr, "dry run: nothing changed\n");
		return SC_EXIT_OK;
	}
	if (args_flag(r->args, "yes") || cli_confirm(prompt, &closed))
		return SC_EXIT_OK;
	*stop = true;
	if (closed)
		cli_error("%s: refusing to change the cluster without confirmation: stdin is not a terminal; "
			"pass --yes (or --dry-run to only see the steps)", r->args->cmd->name);
	else
		cli_error("%s: nothing changed", r->args->cmd->name);
	return SC_EXIT_REFUSED;
}

/* Ends a command: on success the --json document (steps, done) on stdout;
 * on failure the error, once, on stderr and nothing on stdout. */
static int finish(struct node_run *r, int code)
{
	if (code != SC_EXIT_OK) {
		if (r->err.code)
			cli_error("%s", r->err.msg);
		node_run_release(r);
		return code;
	}
	if (r->json) {
		cJSON_AddBoolToObject(r->doc, "dry_run", r->dry_run);
		cJSON_AddItemToObject(r->doc, "steps", r->steps);
		r->steps = NULL;
		code = cli_print_json(r->doc);
		r->doc = NULL;
	}
	node_run_release(r);
	return code;
}

/* An error code from a failed step, with its message kept for finish. */
static int failed(struct node_run *r)
{
	return r->err.code ? r->err.code : SC_EXIT_PROBLEMS;
}

/* -- node add */

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

/* Runs another command's handler in this process: entry (its options parsed
 * from words, then --yes, since this command already asked, and this
 * command's connection options), then runner (entry->run when NULL, else a
 * one-shot runner planning with plan_cmd). Returns its exit code. */
static int run_sub(const struct node_run *r, const struct cmd_entry *entry, const char *const *words,
	const struct cmd_entry *plan_cmd)
{
	static const char *const conn_options[] = { "--timeout", "--user", "--pass", NULL };
	const char *argv[24];
	int argc = 0, rc;
	struct cmd_args sub;

	argv[argc++] = entry->name;
	for (int w = 0; words[w] && argc < 12; w++)
		argv[argc++] = words[w];
	argv[argc++] = "--yes";
	for (int o = 0; conn_options[o]; o++) {
		const char *v = args_value(r->args, conn_options[o] + 2);

		if (v) {
			argv[argc++] = conn_options[o];
			argv[argc++] = v;
		}
	}
	argv[argc] = NULL;
	if (cmd_args_parse(entry, argc, (char **)argv, &sub) != 0) {
		free(sub.argv);
		return SC_EXIT_USAGE;
	}
	rc = plan_cmd ? oneshot_run(&sub, plan_cmd, (const char *const[]){ NULL }) : entry->run(&sub);
	free(sub.argv);
	return rc;
}

/* `slotctl rebalance SEED --use-empty-masters`, after a master joined. */
static int run_rebalance(const struct node_run *r, const char *seed)
{
	return run_sub(r, &cmd_rebalance, (const char *const[]){ seed, "--use-empty-masters", NULL }, NULL);
}

/* The options the drain's one-shot run reads (see oneshot.h). */
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
	int w = 2;

	if (r->dry_run)
		words[w++] = "--dry-run";
	if (r->json)
		words[w++] = "--json";
	if (plan_out) {
		words[w++] = "--plan-out";
		words[w++] = plan_out;
	}
	return run_sub(r, &drain_entry, words, &cmd_plan_drain);
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
		*code = failed(r);
	return m;
}

static int run_node_add(const struct cmd_args *args)
{
	const char *new_addr = args->argv[0], *seed = args->argv[1];
	struct node_run r;
	struct topology view = { 0 };
	const struct node *master, *me;
	char host[256], ip[64], addr[300];
	int port, sport, scport, code;
	long long keys = 0;
	bool stop;

	if ((code = node_run_init(&r, args, seed)) != SC_EXIT_OK)
		return finish(&r, code);
	if (args_value(args, "replica-of") && args_flag(args, "replica")) {
		cli_usage_error(args->cmd->name, "give --replica-of ID or --replica, not both");
		return finish(&r, SC_EXIT_USAGE);
	}
	if (addr_parse(new_addr, host, sizeof(host), &port, &r.err) < 0) {
		cli_usage_error(args->cmd->name, "%s", r.err.msg);
		r.err.code = 0;
		return finish(&r, SC_EXIT_USAGE);
	}
	master = replica_master(&r, &code);
	if (code != SC_EXIT_OK)
		return finish(&r, code);
	if (args_flag(args, "rebalance") && master) {
		cli_usage_error(args->cmd->name, "--rebalance is for a new master, not a replica");
		return finish(&r, SC_EXIT_USAGE);
	}
	if (node_probe(host, port, &r.opts, &view, &keys, &r.err) < 0 ||
	    node_rules_joinable(&view, keys, new_addr, &r.err) < 0) {
		topology_release(&view);
		return finish(&r, failed(&r));
	}
	me = &view.nodes[view.myself >= 0 ? view.myself : 0];
	addr_format(addr, sizeof(addr), host, port);
	cJSON_AddStringToObject(r.doc, "address", addr);
	cJSON_AddStringToObject(r.doc, "id", me->id);
	cJSON_AddStringToObject(r.doc, "role", master ? "replica" : "master");
	if (master)
		add_node_json(r.doc, "master", master->ip, master->port, master->id);
	seed_ip(&r, ip, sizeof(ip), &sport, &scport);
	if (!r.json)
		printf("add '%s' (%.8s) to the cluster of '%s' as a %s:\n", addr, me->id, seed,
			master ? "replica" : "master");
	step(&r, "CLUSTER MEET %s %d %d on '%s'", ip, sport, scport, addr);
	step(&r, "wait until every node knows %.8s (at most %d s)", me->id, r.wait_ms / 1000);
	if (master)
		step(&r, "CLUSTER REPLICATE %s on '%s', then wait for its sync (at most %d s)", master->id,
			addr, r.wait_ms / 1000);
	else if (args_flag(args, "rebalance"))
		step(&r, "slotctl rebalance %s --use-empty-masters", seed);
	code = confirm(&r, "add this node to the cluster?", &stop);
	if (stop) {
		topology_release(&view);
		return finish(&r, code);
	}
	if (node_meet(host, port, ip, sport, scport, &r.opts, &r.err) < 0 ||
	    node_wait_known(r.seed_host, r.seed_port, me->id, &r.opts, r.wait_ms, &r.err) < 0 ||
	    (master && node_replicate(host, port, master->id, &r.opts, r.wait_ms, &r.err) < 0)) {
		topology_release(&view);
		return finish(&r, failed(&r));
	}
	if (!r.json)
		fprintf(stderr, "'%s' (%.8s) joined as a %s\n", addr, me->id, master ? "replica" : "master");
	if (!master && args_flag(args, "rebalance")) {
		topology_release(&view);
		code = run_rebalance(&r, seed);
		return finish(&r, code);
	}
	if (!master && !r.json)
		fprintf(stderr, "it serves no slot yet: run 'slotctl rebalance %s --use-empty-masters'\n", seed);
	topology_release(&view);
	return finish(&r, SC_EXIT_OK);
}

/* -- node remove */

/* The address of a reachable node that stays (not id, nor one of the
 * replicas going with it), to look at the cluster from once id is gone. */
static const struct node_view *staying_node(const struct node_run *r, const char *id,
	char (*going)[SC_NODE_ID_LEN + 1], size_t ngoing)
{
	for (size_t i = 0; i < r->snap.count; i++) {
		const struct node_view *v = &r->snap.nodes[i];
		bool leaves = !v->reachable || strcmp(v->id, id) == 0;

		for (size_t k = 0; k < ngoing && !leaves; k++)
			leaves = strcmp(v->id, going[k]) == 0;
		if (!leaves && v->id[0])
			return v;
	}
	return NULL;
}

/* Forgets id everywhere (seen afresh from stay), then resets it. */
static int remove_one(struct node_run *r, const struct node_view *stay, const char *id)
{
	const struct node_view *v = snapshot_find(&r->snap, id);
	struct snapshot now;
	int rc;

	if (snapshot_gather(stay->host, stay->port, &r->opts, &now, &r->err) < 0)
		return -1;
	rc = node_forget_everywhere(&now, id, &r->opts, &r->err);
	snapshot_release(&now);
	if (rc < 0)
		return -1;
	if (v && v->reachable)
		return node_reset(v->host, v->port, &r->opts, args_flag(r->args, "shutdown"), &r->err);
	if (!r->json)
		cli_warn("node %.8s did not answer: forgotten, but not reset; reset it before it runs again", id);
	return 0;
}

/* Gathers the cluster again (after a drain) from the seed. */
static int regather(struct node_run *r)
{
	snapshot_release(&r->snap);
	if (snapshot_gather(r->seed_host, r->seed_port, &r->opts, &r->snap, &r->err) < 0)
		return -1;
	if (!snapshot_map(&r->snap))
		return sc_error_set(&r->err, SC_EXIT_UNREACHABLE, "no node answered after the drain");
	return 0;
}

#define NODE_MAX_REPLICAS 64

/* Lists the steps of removing n (replicas: going with it, or following
 * another master) and records its replicas' ids. Returns how many. */
static size_t remove_steps(struct node_run *r, const struct node *n, bool drain,
	char (*replicas)[SC_NODE_ID_LEN + 1])
{
	const struct topology *map = snapshot_map(&r->snap);
	bool with = args_flag(r->args, "with-replicas");
	size_t count = 0;

	if (drain)
		step(r, "slotctl plan drain %s %s, then apply it (its journal allows resume and abort)",
			r->args->argv[0], n->id);
	for (size_t i = 0; i < map->count && count < NODE_MAX_REPLICAS; i++) {
		const struct node *x = &map->nodes[i];

		if (!(x->flags & NODE_REPLICA) || strcmp(x->master_id, n->id) != 0)
			continue;
		snprintf(replicas[count++], SC_NODE_ID_LEN + 1, "%s", x->id);
		if (with)
			step(r, "remove its replica '%s:%d' (%.8s) the same way", x->ip, x->port, x->id);
		else
			step(r, "its replica '%s:%d' (%.8s) follows the master with the fewest replicas "
				"(CLUSTER REPLICATE, then wait for the sync)", x->ip, x->port, x->id);
	}
	step(r, "CLUSTER FORGET %s on every other node at once, then check none knows it", n->id);
	step(r, "CLUSTER RESET HARD on '%s:%d'%s", n->ip, n->port,
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
		} else if (x && strcmp(x->master_id, id) == 0 && xv && xv->reachable) {
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
	char replicas[NODE_MAX_REPLICAS][SC_NODE_ID_LEN + 1], id[SC_NODE_ID_LEN + 1], addr[300];
	struct node_run r;
	const struct topology *map;
	const struct node *n;
	const struct node_view *stay;
	bool with = args_flag(args, "with-replicas"), drain, stop;
	size_t nrep;
	int code;

	if ((code = node_run_init(&r, args, args->argv[0])) != SC_EXIT_OK)
		return finish(&r, code);
	map = snapshot_map(&r.snap);
	n = topology_find_prefix(map, args->argv[1], &r.err);
	if (!n || node_rules_removable(map, n->id, args_flag(args, "drain"), with, &r.err) < 0)
		return finish(&r, failed(&r));
	snprintf(id, sizeof(id), "%s", n->id);
	addr_format(addr, sizeof(addr), n->ip, n->port);
	drain = slotset_count(&n->slots) > 0;
	add_node_json(r.doc, "node", n->ip, n->port, n->id);
	if (!r.json)
		printf("remove '%s' (%.8s) from the cluster of '%s':\n", addr, id, args->argv[0]);
	nrep = remove_steps(&r, n, drain, replicas);
	stay = staying_node(&r, id, with ? replicas : NULL, with ? nrep : 0);
	if (!stay) {
		sc_error_set(&r.err, SC_EXIT_REFUSED, "no reachable node would stay in the cluster");
		return finish(&r, failed(&r));
	}
	if (drain && r.dry_run && (code = run_drain(&r, args->argv[0], id)) != SC_EXIT_OK)
		return finish(&r, code);
	code = confirm(&r, "remove this node from the cluster?", &stop);
	if (stop)
		return finish(&r, code);
	if (drain && ((code = run_drain(&r, args->argv[0], id)) != SC_EXIT_OK || regather(&r) < 0)) {
		if (code == SC_EXIT_OK)
			code = failed(&r);
		return finish(&r, code);
	}
	map = snapshot_map(&r.snap);
	stay = staying_node(&r, id, with ? replicas : NULL, with ? nrep : 0);
	if (!stay || node_rules_removable(map, id, false, with, &r.err) < 0) {
		if (!r.err.code)
			sc_error_set(&r.err, SC_EXIT_REFUSED, "no reachable node would stay in the cluster");
		return finish(&r, failed(&r));
	}
	if (handle_replicas(&r, stay, id, replicas, nrep) < 0 || remove_one(&r, stay, id) < 0)
		return finish(&r, failed(&r));
	if (!r.json)
		fprintf(stderr, "'%s' (%.8s) removed; no node knows it any more\n", addr, id);
	return finish(&r, SC_EXIT_OK);
}

/* -- node forget-failed */

static int run_node_forget_failed(const struct cmd_args *args)
{
	struct node_run r;
	const struct topology *map;
	const struct node_view *stay;
	size_t idx[NODE_MAX_FORGET], count;
	cJSON *list;
	bool stop;
	int code;

	if ((code = node_run_init(&r, args, args->argv[0])) != SC_EXIT_OK)
		return finish(&r, code);
	map = snapshot_map(&r.snap);
	count = node_rules_forgettable(map, idx, NODE_MAX_FORGET);
	if (count > NODE_MAX_FORGET)
		count = NODE_MAX_FORGET; /* the rest on the next run */
	list = cJSON_AddArrayToObject(r.doc, "nodes");
	for (size_t k = 0; k < count; k++) {
		const struct node *x = &map->nodes[idx[k]];
		cJSON *o = cJSON_CreateObject();
		char addr[300], flags[128];

		addr_format(addr, sizeof(addr), x->ip, x->port);
		node_flags_format(x->flags, flags, sizeof(flags));
		cJSON_AddStringToObject(o, "address", addr);
		cJSON_AddStringToObject(o, "id", x->id);
		cJSON_AddStringToObject(o, "flags", flags);
		cJSON_AddItemToArray(list, o);
		step(&r, "CLUSTER FORGET %s ('%s', %s) on every node at once", x->id, addr, flags);
	}
	if (count == 0) {
		if (!r.json)
			fprintf(stderr, "no failed node to forget\n");
		return finish(&r, SC_EXIT_OK);
	}
	code = confirm(&r, "forget these nodes on every node?", &stop);
	if (stop)
		return finish(&r, code);
	stay = staying_node(&r, "", NULL, 0);
	for (size_t k = 0; k < count; k++) {
		struct snapshot now;
		int rc;

		if (!stay || snapshot_gather(stay->host, stay->port, &r.opts, &now, &r.err) < 0)
			return finish(&r, failed(&r));
		rc = node_forget_everywhere(&now, map->nodes[idx[k]].id, &r.opts, &r.err);
		snapshot_release(&now);
		if (rc < 0)
			return finish(&r, failed(&r));
	}
	if (!r.json)
		fprintf(stderr, "forgot %zu node%s; no node knows %s any more\n", count, count == 1 ? "" : "s",
			count == 1 ? "it" : "them");
	return finish(&r, SC_EXIT_OK);
}

/* -- the table entries */

#define NODE_COMMON_OPTIONS \
	{ "yes", 'y', OPT_FLAG, NULL, "change the cluster without asking" }, \
	{ "dry-run", 'n', OPT_FLAG, NULL, "list the steps and stop; nothing changes" }, \
	{ "json", 0, OPT_FLAG, NULL, "print a JSON document (format_version, steps) on stdout" }, \
	CMD_CONN_OPTIONS

static const struct cmd_option node_add_options[] = {
	{ "replica-of", 0, OPT_VALUE, "ID", "join as a replica of this master" },
	{ "replica", 0, OPT_FLAG, NULL, "join as a replica of the master with the fewest replicas" },
	{ "rebalance", 0, OPT_FLAG, NULL, "then give the new master its share (slotctl rebalance --use-empty-masters)" },
	{ "wait", 'w', OPT_VALUE, "SECONDS", "bound on each wait: gossip, sync (default 60)" },
	NODE_COMMON_OPTIONS,
	{ 0 },
};

static const struct cmd_option node_remove_options[] = {
	{ "drain", 0, OPT_FLAG, NULL, "move a master's slots away first, as plan drain + apply do" },
	{ "plan-out", 0, OPT_VALUE, "FILE", "with --drain, keep the drain's plan in FILE (its journal is FILE.journal)" },
	{ "with-replicas", 0, OPT_FLAG, NULL, "remove its replicas too (else they follow other masters)" },
	{ "shutdown", 0, OPT_FLAG, NULL, "stop the removed node(s) once reset" },
	{ "wait", 'w', OPT_VALUE, "SECONDS", "bound on each replica's sync with its new master (default 60)" },
	NODE_COMMON_OPTIONS,
	{ 0 },
};

static const struct cmd_option node_forget_failed_options[] = {
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

const struct cmd_entry cmd_node_remove = {
	.name = "node remove",
	.synopsis = "SEED_HOST:PORT NODE_ID [--drain [--plan-out FILE]] [--with-replicas] [--shutdown] [--wait SECONDS] [--yes] [--dry-run] [--json]",
	.summary = "remove a node from the cluster (draining a master first with --drain)",
	.options = node_remove_options,
	.min_args = 2,
	.max_args = 2,
	.run = run_node_remove,
};

const struct cmd_entry cmd_node_forget_failed = {
	.name = "node forget-failed",
	.synopsis = "SEED_HOST:PORT [--yes] [--dry-run] [--json]",
	.summary = "forget failed nodes that serve no slot on every node",
	.options = node_forget_failed_options,
	.min_args = 1,
	.max_args = 1,
	.run = run_node_forget_failed,
};
