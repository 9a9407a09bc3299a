/* cmd_sandbox.c: `slotctl sandbox up|down|status`: throwaway local clusters
 * of redis-server processes on 127.0.0.1 for demos, tests and rehearsing a
 * plan. The work is in src/io/sandbox*.c; this file parses and prints. */
#include "slotctl/cli/cli.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/parallel.h"
#include "slotctl/io/sandbox.h"
#include "slotctl/core/json_doc.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DIR "./.sandbox"
#define DEFAULT_PORT 30001
#define SAMPLE_PREFIX "key"
#define DOWN_GRACE_MS 5000
#define STATUS_THREADS 32          /* nodes read at once by status */
/* 2.0: a string, and each node's "address" ("127.0.0.1:PORT"; 1 was a
 * number, with "host" alone) */
#define SANDBOX_STATUS_FORMAT_VERSION "2.1" /* 2.1: "tls" */

static const char *dir_option(const struct cmd_args *args)
{
	const char *dir = args_value(args, "dir");

	return dir ? dir : DEFAULT_DIR;
}

/* Live facts about one node, for status. */
struct node_live {
	bool running;
	char state[32];            /* its cluster_state, "-", "unreachable" or STATE_AUTH */
};

/* The state of a node that refuses commands without a password. */
#define STATE_AUTH "auth-needed"

struct live_round {
	const struct sandbox *sb;
	struct node_live *live;
};

static void read_live(void *ctx, size_t i)
{
	const struct live_round *round = ctx;
	struct node_live *l = &round->live[i];
	struct sc_error err;

	l->running = sandbox_node_alive(round->sb, (int)i);
	snprintf(l->state, sizeof(l->state), "-");
	if (l->running && sandbox_cluster_state(round->sb, (int)i, l->state, sizeof(l->state), &err) < 0)
		snprintf(l->state, sizeof(l->state), "%s", strstr(err.msg, "NOAUTH") || strstr(err.msg, "WRONGPASS") ?
			STATE_AUTH : "unreachable");
}

/* How many nodes of live (sb->count) are in state. */
static int count_state(const struct sandbox *sb, const struct node_live *live, const char *state)
{
	int n = 0;

	for (int i = 0; i < sb->count; i++)
		n += live[i].running && strcmp(live[i].state, state) == 0;
	return n;
}

/* Reads every node's live facts concurrently (parallel_for). Returns an
 * array of sb->count the caller frees, and in *bad how many nodes are not
 * running with cluster_state:ok; NULL on OOM. */
static struct node_live *nodes_live(const struct sandbox *sb, int *bad)
{
	struct live_round round = { sb, calloc((size_t)sb->count, sizeof(*round.live)) };

	if (!round.live)
		return NULL;
	parallel_for((size_t)sb->count, sb->count < STATUS_THREADS ? sb->count : STATUS_THREADS,
		read_live, &round);
	*bad = 0;
	for (int i = 0; i < sb->count; i++)
		*bad += !round.live[i].running || strcmp(round.live[i].state, "ok") != 0;
	return round.live;
}

/* Prints the nodes table; with live (from nodes_live), adds the RUNNING and
 * STATE columns. */
static void print_nodes(const struct sandbox *sb, const struct node_live *live)
{
	printf("%-4s %-21s %-6s %-8s %-7s %-40s %s%s\n", "NODE", "ADDRESS", "BUS", "PID", "ROLE", "ID",
		"MASTER", live ? "  RUNNING STATE" : "");
	for (int i = 0; i < sb->count; i++) {
		const struct sandbox_node *n = &sb->nodes[i];
		char addr[32], master[16] = "-";

		snprintf(addr, sizeof(addr), "127.0.0.1:%d", n->port);
		if (n->master >= 0)
			snprintf(master, sizeof(master), "%d", n->master);
		printf("%-4d %-21s %-6d %-8ld %-7s %-40s %-6s", i, addr, n->cport, (long)n->pid,
			n->master < 0 ? "master" : "replica", n->id[0] ? n->id : "-", master);
		if (live)
			printf("  %-7s %s", live[i].running ? "yes" : "no", live[i].state);
		printf("\n");
	}
}

static int up_opts(const struct cmd_args *args, struct sandbox_opts *o, long long *keys)
{
	long long masters, replicas, empty, port, node_timeout, hz;

	if (args_int(args, "masters", 1, SANDBOX_MAX_NODES, 3, &masters) < 0 ||
	    args_int(args, "replicas", 0, SANDBOX_MAX_NODES, 0, &replicas) < 0 ||
	    args_int(args, "empty-masters", 0, SANDBOX_MAX_NODES, 0, &empty) < 0 ||
	    args_int(args, "port", 0, 55535, DEFAULT_PORT, &port) < 0 ||
	    args_int(args, "keys", 0, 100000000, 0, keys) < 0 ||
	    args_int(args, "node-timeout", 100, 3600000, SANDBOX_DEFAULT_NODE_TIMEOUT_MS, &node_timeout) < 0 ||
	    args_int(args, "hz", 0, 500, 0, &hz) < 0)
		return -1;
	memset(o, 0, sizeof(*o));
	o->dir = dir_option(args);
	o->redis_server = args_value(args, "redis-server");
	o->masters = (int)masters;
	o->replicas = (int)replicas;
	o->empty_masters = (int)empty;
	o->base_port = (int)port;
	o->node_timeout_ms = (int)node_timeout;
	o->hz = (int)hz;
	o->tls = args_flag(args, "tls") || args_flag(args, "tls-auth-clients");
	o->tls_auth_clients = args_flag(args, "tls-auth-clients");
	return 0;
}

/* For a TLS sandbox, the options slotctl's commands need, on one line. */
static void print_tls_options(const struct sandbox *sb)
{
	if (sb->tls)
		printf("connect with: --tls --cacert %s%s%s%s%s\n", sb->tls_cacert, " --cert ", sb->tls_cert,
			" --key ", sb->tls_key);
}

static int load_sample_data(const struct sandbox *sb, long long keys, bool skewed)
{
	struct sc_error err;

	if (keys > 0 && sandbox_load_keys(sb, SAMPLE_PREFIX, (long)keys, &err) < 0) {
		cli_error("sandbox up: cannot load sample keys: %s", err.msg);
		return sc_exit_code(&err);
	}
	if (skewed && sandbox_load_skewed(sb, &err) < 0) {
		cli_error("sandbox up: cannot load skewed sample data: %s", err.msg);
		return sc_exit_code(&err);
	}
	return SC_EXIT_OK;
}

/* The file name of a server binary's path, as messages name it
 * ("valkey-server"). */
static const char *server_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static int run_sandbox_up(const struct cmd_args *args)
{
	struct sandbox_opts o;
	struct sandbox *sb;
	struct sc_error err;
	long long keys;
	int rc;

	if (up_opts(args, &o, &keys) < 0)
		return SC_EXIT_USAGE;
	if (cli_use_progress(stderr))
		fprintf(stderr, "starting %d %s processes in '%s'...\n",
			o.masters * (1 + o.replicas) + o.empty_masters, o.redis_server ? server_name(o.redis_server) :
			"server", o.dir);
	if (sandbox_up(&o, &sb, &err) < 0) {
		cli_error("sandbox up: %s", err.msg);
		return sc_exit_code(&err);
	}
	rc = load_sample_data(sb, keys, args_flag(args, "skewed"));
	if (rc != SC_EXIT_OK) {
		cli_error("the sandbox is running; stop it with 'slotctl sandbox down --dir %s'", o.dir);
		sandbox_free(sb);
		return rc;
	}
	printf("127.0.0.1:%d\n", sb->nodes[0].port);
	print_nodes(sb, NULL);
	print_tls_options(sb);
	sandbox_free(sb);
	return SC_EXIT_OK;
}

static const struct cmd_option cmd_sandbox_up_options[] = {
	{ "masters", 0, OPT_VALUE, "N", "number of masters (default 3)" },
	{ "replicas", 0, OPT_VALUE, "N", "replicas per master (default 0)" },
	{ "empty-masters", 0, OPT_VALUE, "N", "also join N masters holding no slots, to rehearse scale-out" },
	{ "port", 'p', OPT_VALUE, "PORT", "first port, bus ports +10000 (default 30001; 0: free ephemeral ports)" },
	{ "dir", 'd', OPT_VALUE, "DIR", "where the servers and the state file live (default ./.sandbox)" },
	{ "keys", 0, OPT_VALUE, "N", "load N sample string keys key:0..key:N-1" },
	{ "skewed", 0, OPT_FLAG, NULL, "also load a few MB-sized hashes and lists into a few slots" },
	{ "node-timeout", 0, OPT_VALUE, "MS", "the nodes' cluster-node-timeout (default 5000; hundreds of nodes want 60000 or more)" },
	{ "hz", 0, OPT_VALUE, "N", "the nodes' hz, their timer ticks a second (default: the server's, 10; 1 keeps hundreds of idle nodes lean)" },
	{ "redis-server", 0, OPT_VALUE, "PATH", "the server binary (default: $SLOTCTL_REDIS_SERVER, else redis-server or valkey-server from PATH)" },
	{ "tls", 0, OPT_FLAG, NULL, "TLS-only nodes, with a throwaway CA and certificates made in DIR/tls" },
	{ "tls-auth-clients", 0, OPT_FLAG, NULL, "TLS-only nodes that want a client certificate (mutual TLS; implies --tls)" },
	{ 0 },
};

const struct cmd_entry cmd_sandbox_up = {
	.name = "sandbox up",
	.synopsis = "[--masters N] [--replicas N] [--empty-masters N] [--port PORT] [--dir DIR] [--keys N] [--skewed] "
		"[--node-timeout MS] [--hz N] [--redis-server PATH]",
	.summary = "start a throwaway local cluster of redis-server processes",
	.options = cmd_sandbox_up_options,
	.min_args = 0,
	.max_args = 0,
	.run = run_sandbox_up,
};

static int run_sandbox_down(const struct cmd_args *args)
{
	const char *dir = dir_option(args);
	struct sandbox *sb;
	struct sc_error err;
	int running = 0;

	if (sandbox_open(dir, &sb, &err) < 0) {
		cli_error("sandbox down: %s", err.msg);
		return sc_exit_code(&err);
	}
	/* only what still runs is stopped; say so of the others */
	for (int i = 0; i < sb->count; i++)
		running += sandbox_node_alive(sb, i);
	if (sandbox_down(sb, DOWN_GRACE_MS, &err) < 0) {
		cli_error("sandbox down: %s", err.msg);
		sandbox_free(sb);
		return sc_exit_code(&err);
	}
	if (running == sb->count)
		printf("stopped %d %s process%s of the sandbox in '%s'\n", running, server_name(sb->redis_server),
			running == 1 ? "" : "es", sb->dir);
	else
		printf("stopped %d %s process%s of the sandbox in '%s'; %d %s no longer running\n",
			running, server_name(sb->redis_server), running == 1 ? "" : "es", sb->dir, sb->count - running,
			sb->count - running == 1 ? "was" : "were");
	sandbox_free(sb);
	return SC_EXIT_OK;
}

static const struct cmd_option cmd_sandbox_down_options[] = {
	{ "dir", 'd', OPT_VALUE, "DIR", "the sandbox's directory (default ./.sandbox)" },
	{ 0 },
};

const struct cmd_entry cmd_sandbox_down = {
	.name = "sandbox down",
	.synopsis = "[--dir DIR]",
	.summary = "stop exactly the processes a sandbox started",
	.options = cmd_sandbox_down_options,
	.min_args = 0,
	.max_args = 0,
	.run = run_sandbox_down,
};

static cJSON *status_json(const struct sandbox *sb, const struct node_live *live)
{
	cJSON *root = json_doc_new(SANDBOX_STATUS_FORMAT_VERSION);
	cJSON *nodes;
	char seed[32], addr[32];

	snprintf(seed, sizeof(seed), "127.0.0.1:%d", sb->nodes[0].port);
	cJSON_AddStringToObject(root, "dir", sb->dir);
	cJSON_AddStringToObject(root, "seed", seed);
	cJSON_AddStringToObject(root, "redis_server", sb->redis_server);
	if (!(nodes = cJSON_AddArrayToObject(root, "nodes"))) {
		cJSON_Delete(root);
		return NULL;
	}
	cJSON_AddBoolToObject(root, "tls", sb->tls);
	for (int i = 0; i < sb->count; i++) {
		cJSON *o = sandbox_node_json(sb, i);

		json_add_number(o, "index", i);
		snprintf(addr, sizeof(addr), "127.0.0.1:%d", sb->nodes[i].port);
		cJSON_AddStringToObject(o, "address", addr);
		cJSON_AddBoolToObject(o, "running", live[i].running);
		cJSON_AddStringToObject(o, "cluster_state", live[i].state);
		cJSON_AddItemToArray(nodes, o);
	}
	return root;
}

static int run_sandbox_status(const struct cmd_args *args)
{
	struct sandbox *sb;
	struct node_live *live;
	struct sc_error err;
	int bad = 0, rc = SC_EXIT_OK;

	if (sandbox_open(dir_option(args), &sb, &err) < 0) {
		cli_error("sandbox status: %s", err.msg);
		return sc_exit_code(&err);
	}
	live = nodes_live(sb, &bad);
	if (!live) {
		cli_error("sandbox status: out of memory");
		sandbox_free(sb);
		return SC_EXIT_PROBLEMS;
	}
	if (args_flag(args, "json")) {
		rc = cli_print_json(status_json(sb, live));
	} else {
		printf("sandbox in '%s', seed 127.0.0.1:%d\n", sb->dir, sb->nodes[0].port);
		print_nodes(sb, live);
		print_tls_options(sb);
	}
	if (count_state(sb, live, STATE_AUTH) > 0)
		cli_warn("authentication needed: %d of %d sandbox nodes refuse commands without a password "
			"(NOAUTH: someone set requirepass); give slotctl's commands --pass", count_state(sb, live, STATE_AUTH),
			sb->count);
	if (bad > count_state(sb, live, STATE_AUTH))
		cli_warn("%d of %d sandbox nodes are not running with cluster_state:ok", bad - count_state(sb, live, STATE_AUTH),
			sb->count);
	free(live);
	sandbox_free(sb);
	return bad || rc != SC_EXIT_OK ? SC_EXIT_PROBLEMS : SC_EXIT_OK;
}

static const struct cmd_option cmd_sandbox_status_options[] = {
	{ "dir", 'd', OPT_VALUE, "DIR", "the sandbox's directory (default ./.sandbox)" },
	{ "json", 0, OPT_FLAG, NULL, "print a JSON document (format_version " SANDBOX_STATUS_FORMAT_VERSION ")" },
	{ 0 },
};

const struct cmd_entry cmd_sandbox_status = {
	.name = "sandbox status",
	.synopsis = "[--dir DIR] [--json]",
	.summary = "show a sandbox's nodes and whether they run",
	.options = cmd_sandbox_status_options,
	.min_args = 0,
	.max_args = 0,
	.run = run_sandbox_status,
};
