/* node_cli.h: what the `node add|remove|forget-failed` commands
 * (cmd_node_*.c) share: the cluster seen from the seed, the steps listed
 * before anything changes (all that --dry-run shows), one confirmation,
 * the --json document, and planning and applying in-process (oneshot.h).
 * Not a public interface. */
#ifndef SLOTCTL_CLI_NODE_CLI_H
#define SLOTCTL_CLI_NODE_CLI_H

#include "slotctl/cli/cli.h"
#include "slotctl/io/planning.h"
#include "slotctl/io/snapshot.h"

#include <stdbool.h>

#define NODE_FORMAT_VERSION "1.1"

/* Options every node command takes. */
#define NODE_COMMON_OPTIONS \
	{ "yes", 'y', OPT_FLAG, NULL, "change the cluster without asking" }, \
	{ "dry-run", 'n', OPT_FLAG, NULL, "list the steps and stop; nothing changes" }, \
	{ "json", 0, OPT_FLAG, NULL, "print a JSON document (format_version, steps) on stdout" }, \
	CMD_CONN_OPTIONS

struct cJSON;

/* One run of a node command. */
struct node_run {
	const struct cmd_args *args;
	struct conn_opts opts;
	char seed_host[256];
	int seed_port;
	int wait_ms;             /* --wait, for commands that take it */
	bool json, dry_run;
	struct snapshot snap;    /* the cluster seen from the seed */
	struct cJSON *doc, *steps;
	struct sc_error err;     /* a failed step's error, reported by node_finish */
};

/* Parses the common options and the seed and starts the document; no
 * connection yet. Returns SC_EXIT_OK, or the exit code to end with
 * (node_finish). */
int node_run_init(struct node_run *r, const struct cmd_args *args, const char *seed);

/* Gathers (again) the cluster from the seed into r->snap. Returns
 * SC_EXIT_OK, or the exit code to end with, r->err filled. */
int node_run_gather(struct node_run *r);

/* Lists one step: on stdout now (unless --json), and in the document. */
void node_step(struct node_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Adds {"address": "host:port", "id": ...} under key to obj. */
void node_json_add(struct cJSON *obj, const char *key, const char *ip, int port, const char *id);

/* After the steps are listed: stops on --dry-run (SC_EXIT_OK, *stop set),
 * asks unless --yes, refusing (SC_EXIT_REFUSED) on a closed stdin. Returns
 * SC_EXIT_OK to go on (*stop false) or the exit code to end with. */
int node_confirm(struct node_run *r, const char *prompt, bool *stop);

/* Ends a command and releases r: on success the --json document on stdout;
 * on failure r->err, once, on stderr. Returns code. */
int node_finish(struct node_run *r, int code);

/* The exit code of a failed step (r->err's, or SC_EXIT_PROBLEMS). */
int node_failed(struct node_run *r);

/* Plans and applies req in this process (oneshot_run_request), connecting
 * as this command's connection options say, for the planning and the moves
 * alike (the caller sets req's seed). The one-shot's and the executor's
 * options are those of entry's table, given words (positional arguments and
 * options), then --yes (this command already asked) and --timeout (the
 * default of --migrate-timeout). With --json its apply's events go into
 * the document's "events" array. Returns its exit code. */
int node_run_oneshot(const struct node_run *r, const struct cmd_entry *entry, const char *const *words,
	struct planning_request *req);

/* A reachable node that stays in the cluster (not id, nor one of the ngoing
 * ids in going), to look at the cluster from once they are gone; NULL when
 * none. */
const struct node_view *node_staying(const struct node_run *r, const char *id,
	char (*going)[SC_NODE_ID_LEN + 1], size_t ngoing);

#endif
