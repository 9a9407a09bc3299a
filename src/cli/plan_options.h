/* plan_options.h: the options of every command that plans, each defined
 * once here and composed by group into the tables of `plan
 * reshard|rebalance|drain` (cmd_plan.c) and of the one-step `reshard` and
 * `rebalance`; the one function that fills a planning request
 * (slotctl/io/planning.h) from them; and the one that runs the request,
 * reporting its progress and error. */
#ifndef SLOTCTL_CLI_PLAN_OPTIONS_H
#define SLOTCTL_CLI_PLAN_OPTIONS_H

#include "slotctl/cli/cli.h"
#include "slotctl/core/plan.h"
#include "slotctl/io/planning.h"

/* What a reshard moves: every command that reshards takes these. */
#define PLAN_RESHARD_OPTIONS \
	{ "from", 0, OPT_VALUE, "ID[,ID...]|all", "masters to take slots from (IDs or unique prefixes)" }, \
	{ "to", 0, OPT_VALUE, "ID", "master to give the slots to" }, \
	{ "slots", 0, OPT_VALUE, "N", "move exactly N slots" }, \
	{ "slot-ranges", 0, OPT_VALUE, "RANGES", "move exactly these slots (\"0-99,500\")" }, \
	{ "pick", 0, OPT_VALUE, "cheapest|lowest", "which slots: fewest bytes first (default), or lowest numbers as redis-cli" }

/* The measure evened out and who may receive; their help says what they do
 * for the kind of plan whose group holds them. */
#define PLAN_BY_OPTION(help) { "by", 0, OPT_VALUE, "slots|keys|memory|cpu", help }
#define PLAN_USE_EMPTY_MASTERS_OPTION(help) { "use-empty-masters", 0, OPT_FLAG, NULL, help }

/* How a rebalance balances: every command that rebalances takes these. */
#define PLAN_REBALANCE_OPTIONS \
	PLAN_BY_OPTION("what to balance (default memory)"), \
	{ "weight", 0, OPT_LIST, "ID=W", "a master's share weight (default 1; 0 empties it); repeatable" }, \
	{ "threshold", 0, OPT_VALUE, "PCT", "leave masters within PCT% of their share alone (default 2)" }, \
	PLAN_USE_EMPTY_MASTERS_OPTION("let masters without slots receive (as redis-cli)")

/* Where a drain's slots go. */
#define PLAN_DRAIN_OPTIONS \
	PLAN_BY_OPTION("how to spread the slots over the others (default memory)"), \
	PLAN_USE_EMPTY_MASTERS_OPTION("let masters without slots receive")

/* Sampling and batching: every command that plans takes these. */
#define PLAN_SAMPLING_OPTIONS \
	{ "sample-keys", 0, OPT_VALUE, "N", "keys measured per slot for memory (default 16; 0: key counts only)" }, \
	{ "bigkey-bytes", 0, OPT_VALUE, "BYTES", "keys above this size are named as big (default 1048576)" }, \
	{ "max-slots-per-batch", 0, OPT_VALUE, "N", "slots per batch of moves (default 64)" }, \
	{ "strict", 0, OPT_FLAG, NULL, "refuse when a target would exceed or run short of its maxmemory" }

/* Fills req (planning_request_init first) from args: the seed
 * (args->argv[0]), for a drain the master (args->argv[1]), the options of
 * kind's group (PLAN_RESHARD/REBALANCE/DRAIN_OPTIONS), PLAN_SAMPLING_OPTIONS
 * and CMD_CONN_OPTIONS, all of which args' table must hold; then checks
 * what needs no cluster. req->name is the command's; req->on_event is left
 * to plan_options_make. req points into args. Returns SC_EXIT_OK, or
 * SC_EXIT_USAGE having printed the one wrong thing. */
int plan_options_read(const struct cmd_args *args, enum plan_kind kind, struct planning_request *req);

/* Makes the plan req asks for (planning_make) into *out (caller releases),
 * saying on stderr that it samples (on a terminal) and what sampling cost.
 * Returns SC_EXIT_OK, or another exit code having printed the error once. */
int plan_options_make(const struct planning_request *req, struct plan *out);

#endif
