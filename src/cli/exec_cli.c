/* exec_cli.c: the command layer's side of moving slots (see exec_cli.h):
 * options, signals, and turning executor events into a progress bar, JSON
 * lines and a Prometheus textfile. The only place executor output is
 * printed. */
#include "exec_cli.h"
#include "slotctl/io/clock.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/file_text.h"
#include "slotctl/io/plan_file.h"
#include "slotctl/core/strbuf.h"
#include "slotctl/core/json_doc.h"
#include "slotctl/core/slotset.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define DRAW_INTERVAL_MS 200
#define METRICS_INTERVAL_MS 1000
#define PROGRESS_DEFAULT_WIDTH 80
#define PROGRESS_MIN_BAR 10
#define PROGRESS_MAX_BAR 30

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	if (stop_flag)
		_exit(SC_EXIT_INTERRUPTED); /* the journal is consistent after every write */
	stop_flag = 1;
}

volatile int *exec_cli_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	return (volatile int *)&stop_flag;
}

/* "slotctl <command> '<arg>'...": the run as others are told who holds a
 * journal. Options are left out: --pass would be among them. */
static void describe_command(const struct cmd_args *a, char *buf, size_t size)
{
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
	strbuf_addf(&sb, "slotctl %s", a->cmd->name);
	for (int i = 0; i < a->argc && !sb.truncated; i++)
		strbuf_addf(&sb, " '%s'", a->argv[i]);
}

int exec_cli_opts(const struct cmd_args *a, const char *op, struct exec_opts *o, struct exec_cli *ui)
{
	long long parallel, kps, bps, batch, block, mig_timeout, interval;
	bool fast = args_flag(a, "fast");
	struct sc_error err;

	memset(o, 0, sizeof(*o));
	memset(ui, 0, sizeof(*ui));
	if (args_conn_opts(a, &o->conn) != 0 ||
	    args_int(a, "parallel", 1, 256, EXEC_CLI_DEFAULT_PARALLEL, &parallel) != 0 ||
	    args_int(a, "max-keys-per-sec", 0, 1000000000LL, 0, &kps) != 0 ||
	    args_int(a, "max-bytes-per-sec", 0, 1LL << 50, 0, &bps) != 0 ||
	    args_int(a, "batch-keys", 1, 1000000, fast ? EXEC_FAST_BATCH_KEYS : EXEC_DEFAULT_BATCH_KEYS, &batch) != 0 ||
	    args_ms_as_us(a, "max-block-ms", 10, 600000000LL, EXEC_DEFAULT_MAX_BLOCK_US, &block) != 0 ||
	    args_int(a, "migrate-timeout", 1, 3600000, o->conn.command_timeout_ms, &mig_timeout) != 0 ||
	    args_int(a, "progress-interval", 1, 86400, EXEC_CLI_DEFAULT_INTERVAL_S, &interval) != 0)
		return -1;
	o->parallel = (int)parallel;
	o->max_keys_per_sec = kps;
	o->max_bytes_per_sec = bps;
	o->batch_keys = (int)batch;
	o->max_block_us = block;
	o->migrate_timeout_ms = (int)mig_timeout;
	o->replace = args_flag(a, "replace");
	o->backend = args_value(a, "backend");
	if (o->backend && strcmp(o->backend, "auto") != 0 && strcmp(o->backend, "keys") != 0 &&
	    strcmp(o->backend, "atomic") != 0) {
		cli_error("--backend: '%s' is not one of auto, keys, atomic", o->backend);
		return -1;
	}
	o->given = (args_value(a, "max-keys-per-sec") ? EXEC_GIVEN_MAX_KEYS_PER_SEC : 0) |
		(args_value(a, "max-bytes-per-sec") ? EXEC_GIVEN_MAX_BYTES_PER_SEC : 0) |
		(args_value(a, "max-block-ms") ? EXEC_GIVEN_MAX_BLOCK : 0) |
		(args_value(a, "batch-keys") || fast ? EXEC_GIVEN_BATCH_KEYS : 0) |
		(args_value(a, "parallel") ? EXEC_GIVEN_PARALLEL : 0);
	describe_command(a, ui->command, sizeof(ui->command));
	o->command = ui->command;
	o->on_event = exec_cli_event;
	o->ctx = ui;
	ui->op = op;
	ui->json = args_flag(a, "json");
	ui->metrics_path = args_value(a, "metrics-file");
	ui->verbose = args_flag(a, "verbose");
	ui->quiet = args_flag(a, "quiet");
	ui->progress = !ui->json && !args_flag(a, "quiet") && cli_use_progress(stderr);
	ui->status_lines = !ui->json && !args_flag(a, "quiet") && !ui->progress;
	ui->interval_ms = interval * 1000;
	ui->last_status_ms = sc_clock_ms();
	if (ui->metrics_path && file_check_writable(ui->metrics_path, "metrics file", &err) < 0) {
		cli_error("--metrics-file: %s", err.msg);
		return -1;
	}
	return 0;
}

/* ---- progress on stderr: a bar on a TTY, status lines off it ---- */

/* The terminal's width (TIOCGWINSZ on stderr), else 80. */
static int term_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return PROGRESS_DEFAULT_WIDTH;
}

/* How far the run is, 0..1: by keys when the plan estimated them, else by
 * slots. */
static double progress_fraction(const struct exec_progress *p)
{
	double frac = 0;

	if (p->keys_estimated > 0)
		frac = (double)p->keys_moved / (double)p->keys_estimated;
	else if (p->slots_total > 0)
		frac = (double)p->slots_done / (double)p->slots_total;
	if ((p->slots_total > 0 && p->slots_done == p->slots_total) || frac > 1)
		frac = 1;
	return frac;
}

/* The status in words: slots, keys and bytes done of their totals, the rate
 * and the ETA. The bar and the status lines both say this. */
static void format_status(const struct exec_progress *p, char *buf, size_t size)
{
	double frac = progress_fraction(p), rate = p->elapsed_s > 0 ? (double)p->keys_moved / p->elapsed_s : 0;
	char bytes[32], bytes_total[32], eta[32] = "--:--";

	if (frac > 0.001 && frac < 1) {
		long long left = (long long)(p->elapsed_s * (1 - frac) / frac);

		snprintf(eta, sizeof(eta), "%lld:%02lld", left / 60, left % 60);
	} else if (frac >= 1) {
		snprintf(eta, sizeof(eta), "0:00");
	}
	cli_format_bytes(p->bytes_moved, bytes, sizeof(bytes));
	cli_format_bytes(p->bytes_estimated, bytes_total, sizeof(bytes_total));
	snprintf(buf, size, "%zu/%zu slots  %lld/%lld keys  %s/%s  %.0f keys/s  ETA %s", p->slots_done,
		p->slots_total, p->keys_moved, p->keys_estimated, bytes, bytes_total, rate, eta);
}

/* One line that fits width - 1 columns: "[===>   ] status", the bar taking
 * what the status leaves (none when too little is left; the status is cut
 * when even it does not fit). */
static void format_bar(const struct exec_progress *p, int width, char *buf, size_t size)
{
	char status[256];
	int room, bar, fill;
	size_t k = 0;

	format_status(p, status, sizeof(status));
	room = width - 1;
	bar = room - (int)strlen(status) - 3;
	if (bar >= PROGRESS_MIN_BAR && (size_t)room < size) {
		if (bar > PROGRESS_MAX_BAR)
			bar = PROGRESS_MAX_BAR;
		fill = (int)(progress_fraction(p) * bar);
		buf[k++] = '[';
		for (int i = 0; i < bar; i++)
			buf[k++] = i < fill ? '=' : (i == fill ? '>' : ' ');
		buf[k++] = ']';
		buf[k++] = ' ';
	}
	snprintf(buf + k, size - k, "%.*s", room - (int)k > 0 ? room - (int)k : 0, status);
}

static void draw_bar(struct exec_cli *ui, const struct exec_progress *p, bool final)
{
	char line[1024];

	format_bar(p, term_width(), line, sizeof(line));
	fprintf(stderr, "\r%s\033[K", line);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
	ui->bar_drawn = !final;
}

static void clear_bar(struct exec_cli *ui)
{
	if (ui->bar_drawn) {
		fputs("\r\033[K", stderr);
		ui->bar_drawn = false;
	}
}

/* A plain status line, for logs: "apply: 12/100 slots ...". */
static void print_status(const struct exec_cli *ui, const struct exec_progress *p)
{
	char status[256];

	format_status(p, status, sizeof(status));
	fprintf(stderr, "%s: %s\n", ui->op, status);
	fflush(stderr);
}

/* -v: one line per batch of keys moved. */
static void print_batch(struct exec_cli *ui, const struct exec_event *ev)
{
	char bytes[32];

	clear_bar(ui);
	fprintf(stderr, "%s: slot %d %s -> %s: %lld keys, %s\n", ui->op, ev->slot, ev->from ? ev->from : "?",
		ev->to ? ev->to : "?", ev->keys, cli_format_bytes(ev->bytes, bytes, sizeof(bytes)));
}

/* ---- JSON lines (stdout) ---- */

static void json_add_progress(cJSON *o, const struct exec_progress *p)
{
	json_add_number(o, "slots_total", (double)p->slots_total);
	json_add_number(o, "slots_done", (double)p->slots_done);
	json_add_number(o, "slots_failed", (double)p->slots_failed);
	json_add_number(o, "keys_moved", (double)p->keys_moved);
	json_add_number(o, "bytes_moved", (double)p->bytes_moved);
	json_add_number(o, "atomic_jobs", (double)p->atomic_jobs);
	json_add_number(o, "atomic_fallbacks", (double)p->atomic_fallbacks);
	json_add_number(o, "elapsed_s", p->elapsed_s);
}

/* One event line on stdout, or into ui's events array when a command runs
 * the executor inside its own one document (node remove --drain --json). */
static void json_print(struct exec_cli *ui, cJSON *o)
{
	char *text;

	if (ui->events) {
		cJSON_AddItemToArray(ui->events, o);
		return;
	}
	text = cJSON_PrintUnformatted(o);

	if (text) {
		fputs(text, stdout);
		fputc('\n', stdout);
		cli_flush_stdout();
	}
	cJSON_free(text);
	cJSON_Delete(o);
}

static cJSON *json_event(const char *event, const char *op)
{
	cJSON *o = json_doc_new(EXEC_CLI_JSON_VERSION);

	cJSON_AddStringToObject(o, "event", event);
	cJSON_AddStringToObject(o, "op", op);
	return o;
}

static const char *event_name(enum exec_event_kind k)
{
	switch (k) {
	case EXEC_EVENT_START: return "start";
	case EXEC_EVENT_BATCH: return "batch";
	case EXEC_EVENT_SLOT_DONE: return "slot_done";
	case EXEC_EVENT_ERROR: return "error";
	case EXEC_EVENT_FAILOVER: return "failover";
	case EXEC_EVENT_VERIFY: return "verify";
	case EXEC_EVENT_SUMMARY: return "summary";
	case EXEC_EVENT_JOB: return "job";
	case EXEC_EVENT_FALLBACK: return "fallback";
	}
	return "unknown";
}

/* ev as one JSON line, about `slot` (-1: none). */
static void json_emit_slot(struct exec_cli *ui, const struct exec_event *ev, int slot)
{
	cJSON *o = json_event(event_name(ev->kind), ev->op);

	if (slot >= 0)
		json_add_number(o, "slot", slot);
	if (ev->from)
		cJSON_AddStringToObject(o, "from", ev->from);
	if (ev->to)
		cJSON_AddStringToObject(o, "to", ev->to);
	if (ev->kind == EXEC_EVENT_BATCH || ev->kind == EXEC_EVENT_SLOT_DONE) {
		json_add_number(o, "keys", (double)ev->keys);
		json_add_number(o, "bytes", (double)ev->bytes);
	}
	if ((ev->kind == EXEC_EVENT_START || ev->kind == EXEC_EVENT_SUMMARY) && ev->backend)
		cJSON_AddStringToObject(o, "backend", ev->backend);
	if (ev->kind == EXEC_EVENT_START) {
		json_add_number(o, "keys_estimated", (double)ev->progress->keys_estimated);
		json_add_number(o, "bytes_estimated", (double)ev->progress->bytes_estimated);
	}
	if (ev->message)
		cJSON_AddStringToObject(o, "message", ev->message);
	json_add_progress(o, ev->progress);
	json_print(ui, o);
}

/* ev as JSON lines: an error, one for each of its slots (format 1.x has an
 * error event per slot); any other event, one. */
static void json_emit(struct exec_cli *ui, const struct exec_event *ev)
{
	if (!ev->slots) {
		json_emit_slot(ui, ev, ev->slot);
		return;
	}
	for (int s = 0; s < SC_SLOTS; s++)
		if (slotset_has(ev->slots, s))
			json_emit_slot(ui, ev, s);
}

/* An error event on stderr: one line for all the slots of a group that
 * failed alike, "slots 0-4095 from A to B: <why>", not one per slot. */
static void print_error(struct exec_cli *ui, const struct exec_event *ev)
{
	const struct slotset *slots = ev->slots;
	struct slotset one;
	char ranges[256];

	clear_bar(ui);
	if (!slots && ev->slot < 0) {
		cli_error("%s", ev->message);
		return;
	}
	if (!slots) {
		slotset_clear(&one);
		slotset_add(&one, ev->slot);
		slots = &one;
	}
	slotset_format(slots, ranges, sizeof(ranges));
	cli_error("%s %s from %s to %s: %s", slotset_count(slots) == 1 ? "slot" : "slots", ranges,
		ev->from ? ev->from : "?", ev->to ? ev->to : "?", ev->message);
}

/* ---- Prometheus textfile ---- */

/* Replaces the textfile with the run's numbers (file_write: exclusive temp
 * file, fsync, rename; never through a symbolic link), so a collector never
 * reads half of it. A failed write warns once and the run goes on: the
 * metrics are a view of the run, not part of it. */
static void write_metrics(struct exec_cli *ui, const struct exec_progress *p, int running)
{
	struct sc_error err;
	char *text = NULL;
	size_t size = 0;
	FILE *f;

	if (!ui->metrics_path)
		return;
	if (!(f = open_memstream(&text, &size)))
		return;
#define METRIC(name, type, help, fmt, value) \
	fprintf(f, "# HELP slotctl_" name " " help "\n# TYPE slotctl_" name " " type "\n" \
		"slotctl_" name "{op=\"%s\"} " fmt "\n", ui->op, value)
	METRIC("running", "gauge", "1 while a run is moving slots.", "%d", running);
	METRIC("slots_planned", "gauge", "Slots the run handles.", "%zu", p->slots_total);
	METRIC("slots_done", "gauge", "Slots finished.", "%zu", p->slots_done);
	METRIC("slots_failed", "gauge", "Slots that failed (left resumable).", "%zu", p->slots_failed);
	METRIC("keys_moved_total", "counter", "Keys moved.", "%lld", p->keys_moved);
	METRIC("bytes_moved_total", "counter", "Bytes moved (estimated from MEMORY USAGE).", "%lld", p->bytes_moved);
	METRIC("keys_estimated", "gauge", "Keys the plan expects to move.", "%lld", p->keys_estimated);
	METRIC("errors_total", "counter", "Errors reported.", "%lld", ui->errors);
	METRIC("atomic_jobs_total", "counter", "Server-side (atomic) migration jobs that moved their slots.", "%lld",
		p->atomic_jobs);
	METRIC("atomic_fallbacks_total", "counter", "Batches the atomic backend handed to the key-by-key path.",
		"%lld", p->atomic_fallbacks);
	METRIC("elapsed_seconds", "gauge", "Seconds since the run started.", "%.3f", p->elapsed_s);
#undef METRIC
	if (fclose(f) == 0 && file_write(ui->metrics_path, "metrics file", text, &err) < 0 && !ui->metrics_warned) {
		clear_bar(ui);
		cli_warn("%s", err.msg);
		ui->metrics_warned = true;
	}
	free(text);
}

void exec_cli_event(void *ctx, const struct exec_event *ev)
{
	struct exec_cli *ui = ctx;
	long long now = sc_clock_ms();

	ui->last = *ev->progress;
	if (ev->kind == EXEC_EVENT_ERROR)
		ui->errors += ev->slots ? slotset_count(ev->slots) : 1; /* errors_total counts slots */
	if (ui->json && ev->kind != EXEC_EVENT_SUMMARY)
		json_emit(ui, ev);
	else if (ev->kind == EXEC_EVENT_START && ev->message && !ui->quiet)
		fprintf(stderr, "%s: %s\n", ui->op, ev->message);
	if (ui->verbose && !ui->json && ev->kind == EXEC_EVENT_START && ev->backend)
		fprintf(stderr, "%s: moving with the %s backend\n", ui->op, ev->backend);
	if (ev->kind == EXEC_EVENT_SUMMARY && ev->message)
		snprintf(ui->summary, sizeof(ui->summary), "%s", ev->message);
	/* a verify event with a message: something verification did (it closed
	 * again a slot a replica missed the close of), said once */
	if ((ev->kind == EXEC_EVENT_FAILOVER || ev->kind == EXEC_EVENT_FALLBACK ||
	    (ev->kind == EXEC_EVENT_VERIFY && ev->message)) && !ui->json) {
		clear_bar(ui);
		cli_warn("%s", ev->message);
	}
	if (ev->kind == EXEC_EVENT_VERIFY && ev->message)
		return;
	if (ui->verbose && ev->kind == EXEC_EVENT_BATCH)
		print_batch(ui, ev);
	if (ui->verbose && ev->kind == EXEC_EVENT_JOB && !ui->json) {
		clear_bar(ui);
		fprintf(stderr, "%s: %s\n", ui->op, ev->message);
	}
	/* errors print in every mode but --json, --quiet included */
	if (!ui->json && ev->kind == EXEC_EVENT_ERROR)
		print_error(ui, ev);
	if (ui->status_lines) {
		if (ev->kind == EXEC_EVENT_VERIFY || now - ui->last_status_ms >= ui->interval_ms) {
			print_status(ui, ev->progress);
			ui->last_status_ms = now;
		}
		if (ev->kind == EXEC_EVENT_VERIFY)
			fputs("waiting for every node to agree on the new map...\n", stderr);
	}
	if (ui->progress) {
		if (ev->kind == EXEC_EVENT_ERROR) {
			/* printed above */
		} else if (ev->kind == EXEC_EVENT_VERIFY) {
			draw_bar(ui, ev->progress, true);
			fputs("waiting for every node to agree on the new map...\n", stderr);
		} else if (ev->kind != EXEC_EVENT_SUMMARY && now - ui->last_draw_ms >= DRAW_INTERVAL_MS) {
			draw_bar(ui, ev->progress, false);
			ui->last_draw_ms = now;
		}
	}
	if (ui->metrics_path && (now - ui->last_metrics_ms >= METRICS_INTERVAL_MS ||
	    ev->kind == EXEC_EVENT_START || ev->kind == EXEC_EVENT_ERROR)) {
		write_metrics(ui, ev->progress, 1);
		ui->last_metrics_ms = now;
	}
}

static const char *status_word(const char *op, int rc, const struct sc_error *err)
{
	if (rc == 0)
		return strcmp(op, "abort") == 0 ? "aborted" : "done";
	if (err->code == SC_EXIT_INTERRUPTED)
		return "interrupted";
	return "failed";
}

int exec_cli_finish(struct exec_cli *ui, int rc, const struct exec_result *res, const struct sc_error *err)
{
	const struct exec_progress *p = &res->progress;
	int code = rc == 0 ? SC_EXIT_OK : sc_exit_code(err);
	double rate = p->elapsed_s > 0 ? (double)p->keys_moved / p->elapsed_s : 0;
	char bytes[32];

	clear_bar(ui);
	write_metrics(ui, p, 0);
	if (rc != 0)
		cli_error("%s", err->msg);
	cli_format_bytes(p->bytes_moved, bytes, sizeof(bytes));
	if (ui->json) {
		cJSON *o = json_event("summary", ui->op);

		cJSON_AddStringToObject(o, "status", res->already_applied ? "already-applied" : status_word(ui->op, rc, err));
		json_add_number(o, "exit_code", code);
		cJSON_AddBoolToObject(o, "verified", res->verified);
		cJSON_AddStringToObject(o, "journal", res->journal);
		json_add_number(o, "keys_per_sec", rate);
		if (rc != 0)
			cJSON_AddStringToObject(o, "message", err->msg);
		else if (p->slots_total == 0 && ui->summary[0])
			cJSON_AddStringToObject(o, "message", ui->summary);
		json_add_progress(o, p);
		json_print(ui, o);
	} else if (res->already_applied) {
		printf("%s: already applied: the journal '%s' says all %zu slots are done and the cluster agrees; "
			"nothing to do\n", ui->op, res->journal, p->slots_total);
	} else if (rc == 0 && p->slots_total == 0 && ui->summary[0]) {
		printf("%s: %s\n", ui->op, ui->summary); /* nothing to do, and why */
	} else if (rc == 0 || p->slots_done > 0) {
		printf("%s: %s: %zu of %zu slots, %lld keys, %s in %.2f s (%.0f keys/s)%s\n", ui->op,
			status_word(ui->op, rc, err), p->slots_done, p->slots_total, p->keys_moved, bytes,
			p->elapsed_s, rate, res->verified ? "; every node agrees on the new map" : "");
	}
	if (rc != 0 && code != SC_EXIT_REFUSED && code != SC_EXIT_STALE_PLAN && code != SC_EXIT_USAGE &&
	    res->journal[0] && p->slots_total > 0)
		cli_warn("the journal '%s' records where every slot stands: 'slotctl resume' or 'slotctl abort' "
			"take it from here", res->journal);
	return code;
}

const struct cmd_option exec_cli_journal_options[] = {
	{ "yes", 'y', OPT_FLAG, NULL, "accepted, changes nothing: resume and abort never ask" },
	EXEC_CLI_OPTIONS,
	CMD_CONN_OPTIONS,
	{ 0 },
};

int exec_cli_run_journal(const struct cmd_args *args, const char *op, exec_cli_journal_fn *fn)
{
	struct exec_opts opts;
	struct exec_cli ui;
	struct exec_result res;
	struct sc_error err = { 0 };
	struct plan plan;
	const char *plan_path = NULL;
	char journal[1024];
	int rc;

	if (exec_cli_opts(args, op, &opts, &ui) != 0)
		return SC_EXIT_USAGE;
	executor_journal_path(args->argv[0], journal, sizeof(journal));
	if (strcmp(journal, args->argv[0]) != 0 && access(journal, F_OK) == 0) {
		/* given a plan: the journal must be that plan's (no journal: nothing to do, said below) */
		if (plan_load(args->argv[0], &plan, &err) != 0) {
			cli_error("%s", err.msg);
			return sc_exit_code(&err);
		}
		plan_path = args->argv[0];
	}
	opts.stop = exec_cli_signals();
	rc = fn(journal, plan_path, plan_path ? &plan : NULL, &opts, &res, &err);
	if (plan_path)
		plan_release(&plan);
	return exec_cli_finish(&ui, rc, &res, &err);
}
