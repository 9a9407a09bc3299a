/* oneshot.h: `slotctl reshard` and `slotctl rebalance`: plan and apply in
 * one command. The planning is the `plan reshard|rebalance` command's
 * (plan_make on the forwarded options), then the summary, confirmation and
 * the executor, as `apply` does. Not a
 * public interface. */
#ifndef SLOTCTL_CLI_ONESHOT_H
#define SLOTCTL_CLI_ONESHOT_H

#include "slotctl/cli/cli.h"
#include "plan_make.h"

/* Options every one-shot command takes besides its planner's and the
 * executor's (EXEC_CLI_OPTIONS). */
#define ONESHOT_OPTIONS \
	{ "yes", 'y', OPT_FLAG, NULL, "apply without asking" }, \
	{ "dry-run", 'n', OPT_FLAG, NULL, "show the plan and stop; nothing changes" }, \
	{ "plan-out", 0, OPT_VALUE, "FILE", "keep the plan in FILE (its journal is FILE.journal); without it a temporary copy is removed once the apply completes" }, \
	{ "sample-keys", 0, OPT_VALUE, "N", "keys measured per slot for memory (default 16; 0: key counts only)" }, \
	{ "bigkey-bytes", 0, OPT_VALUE, "BYTES", "keys above this size are named as big (default 1048576)" }, \
	{ "max-slots-per-batch", 0, OPT_VALUE, "N", "slots per batch of moves (default 64)" }, \
	{ "strict", 0, OPT_FLAG, NULL, "refuse when a target would exceed or run short of its maxmemory" }

/* Plans a plan of kind as plan_cmd does, on args' positional arguments (the
 * seed; for `plan drain` also the master's id), forwarding the options of
 * args named in forward (NULL-terminated; ONESHOT_OPTIONS' planner options
 * and the connection options are always forwarded), then shows, confirms
 * and applies. Returns the exit code. */
int oneshot_run(const struct cmd_args *args, const struct cmd_entry *plan_cmd, enum plan_kind kind,
	const char *const *forward);

#endif
