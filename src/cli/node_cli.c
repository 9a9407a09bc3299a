/* node_cli.c: what the node commands share (see node_cli.h): gathering
 * the cluster, listing steps, asking, the --json document, and running
 * another command's handler in this process. */
#include "node_cli.h"
#include "oneshot.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/json_doc.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int node_run_init(struct node_run *r, const struct cmd_args *args, const char *seed)
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
		sc_error_clear(&r->err); /* reported */
		return SC_EXIT_USAGE;
	}
	r->doc = json_doc_new(NODE_FORMAT_VERSION);
	r->steps = cJSON_CreateArray();
	if (!r->doc || !r->steps) {
		cli_error("out of memory");
		return SC_EXIT_PROBLEMS;
	}
	cJSON_AddStringToObject(r->doc, "command", args->cmd->name);
	return SC_EXIT_OK;
}

int node_run_gather(struct node_run *r)
{
	snapshot_release(&r->snap);
	if (snapshot_gather(r->seed_host, r->seed_port, &r->opts, &r->snap, &r->err) < 0)
		return sc_exit_code(&r->err); /* reported by node_finish */
	if (!snapshot_map(&r->snap))
		return sc_error_set(&r->err, SC_EXIT_UNREACHABLE, "no node of '%s:%d' answered", r->seed_host,
			r->seed_port), SC_EXIT_UNREACHABLE;
	return SC_EXIT_OK;
}

static void node_run_release(struct node_run *r)
{
	snapshot_release(&r->snap);
	cJSON_Delete(r->doc);
	cJSON_Delete(r->steps);
}

void node_step(struct node_run *r, const char *fmt, ...)
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

void node_json_add(cJSON *obj, const char *key, const char *ip, int port, const char *id)
{
	cJSON *n = cJSON_AddObjectToObject(obj, key);
	char addr[ADDR_TEXT_MAX];

	addr_format(addr, sizeof(addr), ip, port);
	cJSON_AddStringToObject(n, "address", addr);
	cJSON_AddStringToObject(n, "id", id);
}

int node_confirm(struct node_run *r, const char *prompt, bool *stop)
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

int node_finish(struct node_run *r, int code)
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

int node_failed(struct node_run *r)
{
	return sc_exit_code(&r->err);
}

int node_run_oneshot(const struct node_run *r, const struct cmd_entry *entry, const char *const *words,
	struct planning_request *req)
{
	const char *timeout = args_value(r->args, "timeout");
	const char *argv[24];
	int argc = 0, rc;
	struct cmd_args sub;

	argv[argc++] = entry->name;
	for (int w = 0; words[w] && argc < 12; w++)
		argv[argc++] = words[w];
	argv[argc++] = "--yes";
	/* the run connects as req->conn says; --timeout is also the default
	 * of the executor's --migrate-timeout */
	if (timeout) {
		argv[argc++] = "--timeout";
		argv[argc++] = timeout;
	}
	argv[argc] = NULL;
	if (cmd_args_parse(entry, argc, (char **)argv, &sub) != 0) {
		free(sub.argv);
		return SC_EXIT_USAGE;
	}
	req->conn = r->opts;
	/* with --json, apply's events go inside the one document */
	rc = oneshot_run_request(&sub, req, r->json ? cJSON_AddArrayToObject(r->doc, "events") : NULL);
	free(sub.argv);
	return rc;
}

const struct node_view *node_staying(const struct node_run *r, const char *id,
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
