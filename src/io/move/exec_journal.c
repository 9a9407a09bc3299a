/* exec_journal.c: what an executor run writes down and tells: the
 * journal's START record with the pacing and (apply) a pending record per
 * move, every phase a slot reaches, failures, the END record; the events the
 * command layer shows (exec_emit); and the test-only hooks, which fire at
 * the journaled phases. Calls no other executor file but the shards' text
 * form (exec_shard.c). */
#include "executor_priv.h"
#include "mover.h"
#include "slotctl/io/clock.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/strbuf.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

long long exec_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads a hook's "<phase>:<n>" ("keys:<n>" for MIGRATE batches) from the
 * start of spec; *used gets the length read. */
static void hook_init(struct exec_hook *h, const char *spec, int *used)
{
	char name[32];
	long n;
	enum journal_phase phase;

	h->phase = -1;
	*used = 0;
	if (!spec || sscanf(spec, "%31[^:]:%ld%n", name, &n, used) != 2 || n < 1)
		return;
	if (strcmp(name, "keys") == 0)
		h->phase = JOURNAL_PHASE_COUNT;
	else if (journal_phase_parse(name, &phase) == 0)
		h->phase = (int)phase;
	h->at = n;
}

static void hooks_init(struct exec_run *run)
{
	const char *hold = getenv(EXEC_HOLD_ENV);
	int used;

	hook_init(&run->crash, getenv(EXEC_CRASH_ENV), &used);
	hook_init(&run->hold, hold, &used);
	if (run->hold.phase >= 0 && hold[used] == ':' && hold[used + 1])
		snprintf(run->hold_path, sizeof(run->hold_path), "%s", hold + used + 1);
	else
		run->hold.phase = -1;
}

/* Whether h is due now that a slot reached phase. */
static bool hook_due(struct exec_run *run, struct exec_hook *h, int phase)
{
	bool due;

	if (h->phase != phase)
		return false;
	pthread_mutex_lock(&run->lock);
	due = ++h->seen == h->at;
	pthread_mutex_unlock(&run->lock);
	return due;
}

/* The hold hook: "<path>.held" appears, then the run waits for <path>. */
static void hold(const struct exec_run *run)
{
	char held[1100];
	FILE *f;

	snprintf(held, sizeof(held), "%s.held", run->hold_path);
	if ((f = fopen(held, "w")))
		fclose(f);
	for (long long waited = 0; access(run->hold_path, F_OK) != 0 && waited < EXEC_HOLD_MAX_MS; waited += 10)
		sc_sleep_ms(10);
}

void exec_test_hooks(struct exec_run *run, int phase)
{
	if (hook_due(run, &run->crash, phase))
		raise(SIGKILL);
	if (hook_due(run, &run->hold, phase))
		hold(run);
}

static void slot_record(const struct exec_run *run, const struct exec_move *m, enum journal_phase phase,
	struct journal_record *r)
{
	memset(r, 0, sizeof(*r));
	r->kind = JOURNAL_REC_SLOT;
	r->time_ms = exec_wall_ms();
	r->slot = m->slot;
	r->phase = phase;
	r->batch = m->batch;
	r->keys = m->keys_moved;
	memcpy(r->job, m->job, sizeof(r->job));
	/* the shards' names: the nodes the plan named, whoever plays them now */
	memcpy(r->from, m->src_shard >= 0 ? run->shards[m->src_shard].name : run->nodes[m->src].id, sizeof(r->from));
	memcpy(r->to, m->dst_shard >= 0 ? run->shards[m->dst_shard].name : run->nodes[m->dst].id, sizeof(r->to));
}

char *exec_join_addrs(size_t n, exec_addr_fn *addr_of, const void *ctx)
{
	size_t size = n * (ADDR_TEXT_MAX + 1) + 1;
	char *s = malloc(size);
	struct strbuf sb;

	if (!s)
		return NULL;
	strbuf_init(&sb, s, size);
	for (size_t i = 0; i < n; i++) {
		char addr[ADDR_TEXT_MAX];

		addr_of(ctx, i, addr, sizeof(addr));
		strbuf_addf(&sb, "%s%s", i ? "," : "", addr);
	}
	return s;
}

static void run_addr(const void *ctx, size_t i, char *buf, size_t size)
{
	const struct exec_run *run = ctx;

	snprintf(buf, size, "%s", run->nodes[i].addr);
}

/* Appends a record of phase for each of n moves (ms[i], or with ms NULL
 * run->moves[i]), JOURNAL_BATCH_RECORDS a write. */
static int append_slots(struct exec_run *run, struct exec_move *const *ms, size_t n, enum journal_phase phase,
	struct sc_error *err)
{
	size_t cap = n < JOURNAL_BATCH_RECORDS ? n : JOURNAL_BATCH_RECORDS;
	struct journal_record *rs = calloc(cap ? cap : 1, sizeof(*rs));
	int rc = 0;

	if (!rs)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	for (size_t start = 0; rc == 0 && start < n; start += cap) {
		size_t count = n - start < cap ? n - start : cap;

		for (size_t i = 0; i < count; i++)
			slot_record(run, ms ? ms[start + i] : &run->moves[start + i], phase, &rs[i]);
		rc = journal_file_append_many(run->journal, rs, count, err);
	}
	free(rs);
	return rc;
}

int exec_run_start_journal(struct exec_run *run, const char *fingerprint, const char *plan_path,
	bool write_pending, struct sc_error *err)
{
	struct journal_record r = { .kind = JOURNAL_REC_START, .time_ms = exec_wall_ms() };
	int rc;

	hooks_init(run);
	if (journal_file_open(run->journal_path, &run->journal, err) != 0)
		return -1;
	snprintf(r.op, sizeof(r.op), "%s", run->op);
	snprintf(r.fingerprint, sizeof(r.fingerprint), "%s", fingerprint);
	snprintf(r.plan_path, sizeof(r.plan_path), "%s", plan_path ? plan_path : "");
	r.pacing = (struct journal_pacing){ .recorded = true,
		.max_keys_per_sec = run->o->max_keys_per_sec, .max_bytes_per_sec = run->o->max_bytes_per_sec,
		.max_block_us = run->o->max_block_us, .batch_keys = run->o->batch_keys,
		.batch_bytes = run->o->batch_bytes, .parallel = run->o->parallel };
	snprintf(r.backend, sizeof(r.backend), "%s", run->backend->name);
	r.seeds = exec_join_addrs(run->node_count, run_addr, run);
	r.shards = exec_shards_format(run);
	r.transport = conn_tls_note(&run->o->conn.tls);
	rc = r.seeds && r.shards ? journal_file_append(run->journal, &r, false, err) :
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	free(r.seeds);
	free(r.shards);
	if (rc == 0 && write_pending)
		rc = append_slots(run, NULL, run->move_count, JOURNAL_PENDING, err);
	return rc == 0 ? journal_file_sync(run->journal, err) : -1;
}

int exec_record(struct exec_run *run, struct exec_move *m, enum journal_phase phase, struct sc_error *err)
{
	struct journal_record r;

	slot_record(run, m, phase, &r);
	if (journal_file_append(run->journal, &r, false, err) != 0)
		return -1;
	m->phase = phase;
	exec_test_hooks(run, (int)phase);
	return 0;
}

int exec_record_many(struct exec_run *run, struct exec_move *const *ms, size_t n, enum journal_phase phase,
	bool sync, struct sc_error *err)
{
	if (append_slots(run, ms, n, phase, err) != 0 || (sync && journal_file_sync(run->journal, err) != 0))
		return -1;
	for (size_t i = 0; i < n; i++) {
		ms[i]->phase = phase;
		exec_test_hooks(run, (int)phase);
	}
	return 0;
}

void exec_record_failures(struct exec_run *run, struct exec_move *const *ms, const int *rcs,
	const struct sc_error *errs, size_t n)
{
	struct sc_error ignored;
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		struct journal_record r;

		if (rcs[i] == 0 || errs[i].code == SC_EXIT_INTERRUPTED)
			continue;
		slot_record(run, ms[i], ms[i]->phase, &r);
		r.failed = true;
		snprintf(r.message, sizeof(r.message), "%s", errs[i].msg);
		any |= journal_file_append(run->journal, &r, false, &ignored) == 0;
	}
	if (any)
		journal_file_sync(run->journal, &ignored);
}

/* Tells the run's listener ev, with m's slot, source and target (the other
 * way round for a rollback), the progress so far and the backend. */
static void emit(struct exec_run *run, struct exec_event *ev, const struct exec_move *m)
{
	struct exec_progress p;

	if (!run->o->on_event)
		return;
	pthread_mutex_lock(&run->lock);
	p = run->progress;
	pthread_mutex_unlock(&run->lock);
	p.elapsed_s = (double)(sc_clock_us() - run->start_us) / 1e6;
	ev->progress = &p;
	ev->backend = run->backend ? run->backend->name : NULL;
	if (m) {
		ev->slot = m->slot;
		ev->from = run->nodes[m->rollback ? m->dst : m->src].addr;
		ev->to = run->nodes[m->rollback ? m->src : m->dst].addr;
	}
	pthread_mutex_lock(&run->event_lock);
	run->o->on_event(run->o->ctx, ev);
	pthread_mutex_unlock(&run->event_lock);
}

void exec_emit(struct exec_run *run, enum exec_event_kind kind, const struct exec_move *m,
	long long keys, long long bytes, const char *message)
{
	struct exec_event ev = { .kind = kind, .op = run->op, .slot = -1, .keys = keys,
		.bytes = bytes, .message = message };

	emit(run, &ev, m);
}

void exec_run_failed(struct exec_run *run, struct exec_move *const *ms, size_t n, const struct sc_error *e)
{
	struct exec_event ev = { .kind = EXEC_EVENT_ERROR, .op = run->op, .slot = -1, .message = e->msg };
	struct slotset slots;

	if (n == 0 || e->code == SC_EXIT_INTERRUPTED)
		return;
	slotset_clear(&slots);
	for (size_t i = 0; i < n; i++)
		slotset_add(&slots, ms[i]->slot);
	ev.slots = &slots;
	emit(run, &ev, ms[0]);
}

static const char *end_status(int rc, const struct sc_error *err, const char *op)
{
	if (rc == 0)
		return strcmp(op, "abort") == 0 ? "aborted" : "done";
	return err->code == SC_EXIT_INTERRUPTED ? "interrupted" : "failed";
}

int exec_run_finish(struct exec_run *run, int rc, struct exec_result *res, const struct sc_error *err)
{
	struct journal_record r = { .kind = JOURNAL_REC_END };
	struct sc_error ignored;
	char summary[SC_ERROR_MSG_MAX + 64];

	if (run->journal) {
		r.time_ms = exec_wall_ms();
		snprintf(r.status, sizeof(r.status), "%s", end_status(rc, err, run->op));
		snprintf(r.message, sizeof(r.message), "%s", rc == 0 ? "" : err->msg);
		journal_file_append(run->journal, &r, true, &ignored);
	}
	pthread_mutex_lock(&run->lock);
	res->progress = run->progress;
	pthread_mutex_unlock(&run->lock);
	res->progress.elapsed_s = (double)(sc_clock_us() - run->start_us) / 1e6;
	snprintf(res->journal, sizeof(res->journal), "%s", run->journal_path);
	snprintf(summary, sizeof(summary), "%s", rc == 0 ? end_status(0, err, run->op) : err->msg);
	exec_emit(run, EXEC_EVENT_SUMMARY, NULL, 0, 0, summary);
	return rc;
}
