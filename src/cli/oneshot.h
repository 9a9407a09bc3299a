/* oneshot.h: plan, show, confirm and apply in one command: `slotctl
 * reshard`, `slotctl rebalance`, and the rebalance of `node add` and the
 * drain of `node remove --drain`. The plan is made by the planning service
 * (slotctl/io/planning.h) from a typed request, then the summary,
 * confirmation and the executor run on the plan in memory, as `apply`
 * does. Not a public interface. */
#ifndef SLOTCTL_CLI_ONESHOT_H
#define SLOTCTL_CLI_ONESHOT_H

#include "slotctl/cli/cli.h"
#include "plan_options.h"

struct cJSON;

/* Options every one-shot command takes besides its planner's
 * (plan_options.h) and the executor's (EXEC_CLI_OPTIONS). */
#define ONESHOT_OPTIONS \
	{ "yes", 'y', OPT_FLAG, NULL, "apply without asking" }, \
	{ "dry-run", 'n', OPT_FLAG, NULL, "show the plan and stop; nothing changes" }, \
	{ "plan-out", 0, OPT_VALUE, "FILE", "keep the plan in FILE (its journal is FILE.journal); without it a temporary copy is removed once the apply completes" }

/* Plans a plan of kind from args' planning and connection options
 * (plan_options_read: its table holds kind's group, PLAN_SAMPLING_OPTIONS
 * and CMD_CONN_OPTIONS), then shows, confirms and applies it with args'
 * ONESHOT_OPTIONS and EXEC_CLI_OPTIONS. Returns the exit code. */
int oneshot_run(const struct cmd_args *args, enum plan_kind kind);

/* The same for a request the caller filled (req->name and on_event are
 * set here: the errors name args' command); the moves connect as
 * req->conn says too. args' table holds ONESHOT_OPTIONS, EXEC_CLI_OPTIONS
 * and CMD_CONN_OPTIONS. Run inside the caller's command (node add, node
 * remove): a dry run's "nothing changed" is the caller's to say, and with
 * events non-NULL (the caller's --json document holds them) apply's --json
 * events and summary are added to that array and a dry run's summary goes
 * to stderr, so stdout keeps one document. Returns the exit code. */
int oneshot_run_request(const struct cmd_args *args, const struct planning_request *req, struct cJSON *events);

#endif
