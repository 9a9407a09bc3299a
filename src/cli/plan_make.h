/* plan_make.h: from command-line options to a plan, for every command that
 * plans: `plan reshard|rebalance|drain` (cmd_plan.c) and the one-step
 * `reshard` and `rebalance`. Snapshot from the seed (args->argv[0]), sample,
 * plan; the option tables below keep the options' names and help in one
 * place. */
#ifndef SLOTCTL_CLI_PLAN_MAKE_H
#define SLOTCTL_CLI_PLAN_MAKE_H

#include "slotctl/cli/cli.h"
#include "slotctl/core/plan.h"


/* Sampling and batching: every planning command takes these. */
#define PLAN_SAMPLING_OPTIONS \
	{ "sample-keys", 0, OPT_VALUE, "N", "keys measured per slot for memory (default 16; 0: key counts only)" }, \
	{ "bigkey-bytes", 0, OPT_VALUE, "BYTES", "keys above this size are named as big (default 1048576)" }, \
	{ "max-slots-per-batch", 0, OPT_VALUE, "N", "slots per batch of moves (default 64)" }, \
	{ "strict", 0, OPT_FLAG, NULL, "refuse when a target would exceed or run short of its maxmemory" }

#define PLAN_RESHARD_OPTIONS \
	{ "from", 0, OPT_VALUE, "ID[,ID...]|all", "masters to take slots from (IDs or unique prefixes)" }, \
	{ "to", 0, OPT_VALUE, "ID", "master to give the slots to" }, \
	{ "slots", 0, OPT_VALUE, "N", "move exactly N slots" }, \
	{ "slot-ranges", 0, OPT_VALUE, "RANGES", "move exactly these slots (\"0-99,500\")" }, \
	{ "pick", 0, OPT_VALUE, "cheapest|lowest", "which slots: fewest bytes first (default), or lowest numbers as redis-cli" }, \
	PLAN_SAMPLING_OPTIONS

#define PLAN_REBALANCE_OPTIONS \
	{ "by", 0, OPT_VALUE, "slots|keys|memory", "what to balance (default memory)" }, \
	{ "weight", 0, OPT_LIST, "ID=W", "a master's share weight (default 1; 0 empties it); repeatable" }, \
	{ "threshold", 0, OPT_VALUE, "PCT", "leave masters within PCT% of their share alone (default 2)" }, \
	{ "use-empty-masters", 0, OPT_FLAG, NULL, "let masters without slots receive (as redis-cli)" }, \
	PLAN_SAMPLING_OPTIONS

#define PLAN_DRAIN_OPTIONS \
	{ "by", 0, OPT_VALUE, "slots|keys|memory", "how to spread the slots over the others (default memory)" }, \
	{ "use-empty-masters", 0, OPT_FLAG, NULL, "let masters without slots receive" }, \
	PLAN_SAMPLING_OPTIONS

/* Reads the options of kind (its table must hold the matching PLAN_*_OPTIONS
 * and CMD_CONN_OPTIONS; drain takes the master's ID as args->argv[1]),
 * snapshots the cluster from args->argv[0], samples it (cost printed to
 * stderr) and plans. Returns SC_EXIT_OK with *out filled and stamped
 * (created, version; caller releases), or another exit code with the error
 * printed. Read-only on the cluster. */
int plan_make(const struct cmd_args *args, enum plan_kind kind, struct plan *out);

#endif
