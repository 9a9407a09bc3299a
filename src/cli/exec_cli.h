/* exec_cli.h: what the commands that move slots (apply, resume, abort,
 * reshard, rebalance) share in the command layer: their common options, the
 * SIGINT/SIGTERM handling, and the reporting of executor events as a progress
 * bar (on a TTY) or status lines (off it), JSON lines (--json) and a Prometheus textfile
 * (--metrics-file). Not a public interface. */
#ifndef SLOTCTL_EXEC_CLI_H
#define SLOTCTL_EXEC_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include "slotctl/cli/cli.h"
#include "slotctl/io/executor.h"

#define EXEC_CLI_JSON_VERSION "1.1"
#define EXEC_CLI_DEFAULT_PARALLEL 4
#define EXEC_CLI_DEFAULT_INTERVAL_S 10

/* Options of every command that moves slots; splice into a table. */
#define EXEC_CLI_OPTIONS \
	{ "parallel", 'p', OPT_VALUE, "N", "slots moved at once, never two on one node (default 4)" }, \
	{ "backend", 0, OPT_VALUE, "auto|keys|atomic", "how slots move: key by key (MIGRATE), or server-side atomic migration (Valkey 9); auto picks atomic when every master has it (default: apply auto, resume/abort the journal's)" }, \
	{ "json", 0, OPT_FLAG, NULL, "one JSON event per line on stdout" }, \
	{ "metrics-file", 0, OPT_VALUE, "PATH", "keep a Prometheus textfile of progress and errors" }, \
	{ "quiet", 'q', OPT_FLAG, NULL, "no progress on stderr (errors still)" }, \
	{ "verbose", 'v', OPT_FLAG, NULL, "a line on stderr for every batch of keys moved" }, \
	{ "progress-interval", 0, OPT_VALUE, "SECONDS", "off a terminal, a status line on stderr every SECONDS (default 10)" }, \
	{ "replace", 0, OPT_FLAG, NULL, "overwrite keys that already exist on a target (default: stop)" }, \
	{ "max-keys-per-sec", 0, OPT_VALUE, "N", "pace the moves to at most N keys per second" }, \
	{ "max-bytes-per-sec", 0, OPT_VALUE, "N", "pace the moves to at most N bytes per second" }, \
	{ "batch-keys", 0, OPT_VALUE, "N", "keys per MIGRATE (default 20, gentle on clients; 1000 with --fast; adapts to keep MIGRATE short)" }, \
	{ "max-block-ms", 0, OPT_VALUE, "MS", "bound on how long one MIGRATE may block its source, fractions allowed (0.3): batches shrink to stay under it (default 20)" }, \
	{ "fast", 0, OPT_FLAG, NULL, "full speed, for a maintenance window: --batch-keys 1000, a slot per MIGRATE (clients wait longer)" }, \
	{ "migrate-timeout", 0, OPT_VALUE, "MS", "MIGRATE's own timeout for its exchange with the target, grown by a probed key's size (default: --timeout)" }

/* The reporting state of one command run. */
struct exec_cli {
	const char *op;           /* "apply", "resume", "abort" */
	bool json;
	bool progress;            /* progress bar on stderr (a TTY) */
	bool status_lines;        /* a status line on stderr every interval_ms (not a TTY) */
	bool verbose;             /* a line per batch */
	bool quiet;               /* -q: results and errors only, no START line */
	struct cJSON *events;     /* non-NULL: --json events and summary go into this array, not stdout */
	long long interval_ms;
	long long last_status_ms;
	const char *metrics_path;
	long long last_draw_ms;
	long long last_metrics_ms;
	long long errors;
	bool bar_drawn;
	bool metrics_warned;      /* a failed metrics write was reported */
	struct exec_progress last;
	char command[1100];       /* the run as the journal's lock names it (exec_opts.command) */
	char summary[512];        /* the SUMMARY event's message: why a run did nothing */
};

/* Fills o and ui from the EXEC_CLI_OPTIONS and CMD_CONN_OPTIONS of a.
 * Returns 0, or -1 having printed the error. */
int exec_cli_opts(const struct cmd_args *a, const char *op, struct exec_opts *o, struct exec_cli *ui);

/* Installs SIGINT/SIGTERM handlers: the first sets the stop flag (the
 * executor finishes the batch in flight and stops, resumable), a second exits
 * at once with SC_EXIT_INTERRUPTED. Returns the flag to give the executor. */
volatile int *exec_cli_signals(void);

/* The executor's event callback (ctx: struct exec_cli). */
void exec_cli_event(void *ctx, const struct exec_event *ev);

/* Reports the outcome once: a summary line on stdout (or a JSON "summary"
 * event), the error on stderr when rc != 0, and the final metrics. Returns the
 * exit code. */
int exec_cli_finish(struct exec_cli *ui, int rc, const struct exec_result *res, const struct sc_error *err);

/* What resume and abort share: --yes, EXEC_CLI_OPTIONS and CMD_CONN_OPTIONS,
 * and their synopsis. */
extern const struct cmd_option exec_cli_journal_options[];
#define EXEC_CLI_JOURNAL_SYNOPSIS \
	"PLAN|STATE [--yes] [--parallel N] [--backend auto|keys|atomic] [--json] [--metrics-file PATH] [--replace] " \
	"[--fast] [--max-keys-per-sec N] [--max-bytes-per-sec N] [--batch-keys N] [--max-block-ms MS] [--migrate-timeout MS]"

/* An executor entry point that takes over the run recorded in a journal
 * (executor_resume, executor_abort). */
typedef int exec_cli_journal_fn(const char *journal_path, const char *plan_path, const struct plan *plan,
	const struct exec_opts *opts, struct exec_result *res, struct sc_error *err);

/* The whole of `resume` and `abort`: reads the options, finds the journal
 * of args->argv[0] (a plan, which is then read too, or a state file), runs
 * fn on it with the signal handling in place and reports the outcome.
 * Returns the exit code. */
int exec_cli_run_journal(const struct cmd_args *args, const char *op, exec_cli_journal_fn *fn);

#endif
