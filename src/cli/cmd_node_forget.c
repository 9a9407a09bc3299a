/* cmd_node_forget.c: `slotctl node forget-failed SEED`: the nodes the
 * seed's view flags fail or noaddr and that serve no slot
 * (core/node/node_rules.c) are forgotten on every node at once, and checked
 * gone (io/node/node_remove.c); --dry-run lists them. */
#include "node_cli.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/node_ops.h"
#include "slotctl/core/node_rules.h"
#include "slotctl/core/strbuf.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define NODE_MAX_FORGET 256

static int run_node_forget_failed(const struct cmd_args *args)
{
	struct node_run r;
	const struct topology *map;
	const struct node_view *stay;
	size_t idx[NODE_MAX_FORGET], count;
	cJSON *list;
	bool stop;
	int code;
	size_t kept = 0;

	if ((code = node_run_init(&r, args, args->argv[0])) != SC_EXIT_OK ||
	    (code = node_run_gather(&r)) != SC_EXIT_OK)
		return node_finish(&r, code);
	map = snapshot_map(&r.snap);
	count = node_rules_forgettable(map, idx, NODE_MAX_FORGET);
	if (count > NODE_MAX_FORGET)
		count = NODE_MAX_FORGET; /* the rest on the next run */
	list = cJSON_AddArrayToObject(r.doc, "nodes");
	for (size_t k = 0; k < count; k++) {
		const struct node *x = &map->nodes[idx[k]];
		cJSON *o = cJSON_CreateObject();
		char addr[ADDR_TEXT_MAX], flags[128];

		addr_format(addr, sizeof(addr), x->ip, x->port);
		node_flags_format(x->flags, flags, sizeof(flags));
		cJSON_AddStringToObject(o, "address", addr);
		cJSON_AddStringToObject(o, "id", x->id);
		cJSON_AddStringToObject(o, "flags", flags);
		cJSON_AddItemToArray(list, o);
		node_step(&r, "CLUSTER FORGET %s ('%s', %s) on every node at once", x->id, addr, flags);
	}
	if (count == 0) {
		if (!r.json)
			fprintf(stderr, "no failed node to forget\n");
		return node_finish(&r, SC_EXIT_OK);
	}
	code = node_confirm(&r, "forget these nodes on every node?", &stop);
	if (stop)
		return node_finish(&r, code);
	stay = node_staying(&r, "", NULL, 0);
	for (size_t k = 0; k < count; k++) {
		const struct node *x = &map->nodes[idx[k]];
		char addrs[1024];
		struct strbuf followers;
		struct snapshot now;
		int rc;

		strbuf_init(&followers, addrs, sizeof(addrs));
		if (!stay || snapshot_gather(stay->host, stay->port, &r.opts, &now, &r.err) < 0)
			return node_finish(&r, node_failed(&r));
		rc = node_forget_everywhere(&now, x->id, &r.opts, &followers, &r.err);
		snapshot_release(&now);
		if (rc < 0)
			return node_finish(&r, node_failed(&r));
		if (followers.len) {
			kept++;
			cli_warn("%s still know%s '%s:%d' (%.8s): a replica cannot forget its master; point it at a "
				"live master (CLUSTER REPLICATE) or remove it ('slotctl node remove'), then run "
				"forget-failed again", addrs, strchr(addrs, ',') ? "" : "s", x->ip, x->port, x->id);
		}
	}
	if (!r.json)
		fprintf(stderr, "forgot %zu node%s; no node knows %s any more%s\n", count, count == 1 ? "" : "s",
			count == 1 ? "it" : "them", kept ? " but the replicas named above" : "");
	return node_finish(&r, SC_EXIT_OK);
}

static const struct cmd_option node_forget_failed_options[] = {
	NODE_COMMON_OPTIONS,
	{ 0 },
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
