/* exec_run.c: the executor's engine, shared by apply, resume and abort. It
 * holds the run's masters and moves, hands moves to worker threads so that no
 * node takes part in two moves at once, journals every phase change, paces
 * and counts the keys moved, fires the test-only hooks, and ends a run
 * with verification and a summary. */
#include "mover.h"
#include "slotctl/io/clock.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/parallel.h"
#include "slotctl/core/strbuf.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool stop_requested(const struct exec_run *run)
{
	return run->o->stop && *run->o->stop;
}

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

void exec_run_init(struct exec_run *run, const char *op, const struct exec_opts *opts)
{
	memset(run, 0, sizeof(*run));
	run->op = op;
	run->o = opts;
	for (int i = 0; i < SC_SLOTS; i++)
		run->expected[i] = -1;
	pthread_mutex_init(&run->lock, NULL);
	pthread_mutex_init(&run->event_lock, NULL);
	pthread_cond_init(&run->changed, NULL);
	run->start_us = sc_clock_us();
	run->backend = mover_backend_find(opts->backend);
	handover_ledger_init(&run->ledger);
	hooks_init(run);
}

void exec_run_release(struct exec_run *run)
{
	journal_file_close(run->journal);
	exec_shards_release(run);
	free(run->nodes);
	free(run->moves);
	pthread_mutex_destroy(&run->lock);
	pthread_mutex_destroy(&run->event_lock);
	pthread_cond_destroy(&run->changed);
	handover_ledger_release(&run->ledger);
	memset(run, 0, sizeof(*run));
}

/* Fills run->nodes[run->node_count] (allocated, zeroed) and counts it. */
static int add_node(struct exec_run *run, const char *id, const char *host, int port)
{
	struct exec_node *e = &run->nodes[run->node_count];

	snprintf(e->id, sizeof(e->id), "%s", id);
	snprintf(e->host, sizeof(e->host), "%s", host);
	e->port = port;
	e->shard = -1;
	addr_format(e->addr, sizeof(e->addr), e->host, e->port);
	return (int)run->node_count++;
}

int exec_run_nodes(struct exec_run *run, const struct topology *map, struct sc_error *err)
{
	int owner[SC_SLOTS];

	run->nodes = calloc(map->count ? map->count : 1, sizeof(*run->nodes));
	if (!run->nodes)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	for (size_t i = 0; i < map->count; i++)
		if (plan_node_eligible(&map->nodes[i]))
			add_node(run, map->nodes[i].id, map->nodes[i].ip, map->nodes[i].port);
	topology_owner_map(map, owner);
	for (int s = 0; s < SC_SLOTS; s++)
		run->expected[s] = owner[s] >= 0 ? exec_run_node(run, map->nodes[owner[s]].id) : -1;
	return 0;
}

int exec_run_add_node(struct exec_run *run, const char *id, const char *host, int port,
	struct sc_error *err)
{
	int i = exec_run_node(run, id);
	struct exec_node *nodes;

	if (i >= 0)
		return i;
	if (!(nodes = realloc(run->nodes, (run->node_count + 1) * sizeof(*nodes))))
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	run->nodes = nodes;
	memset(&nodes[run->node_count], 0, sizeof(*nodes));
	return add_node(run, id, host, port);
}

int exec_run_node(const struct exec_run *run, const char *id)
{
	for (size_t i = 0; i < run->node_count; i++)
		if (strcmp(run->nodes[i].id, id) == 0)
			return (int)i;
	return -1;
}

struct exec_move *exec_run_add(struct exec_run *run, int slot, int batch, int src, int dst,
	enum journal_phase phase, struct sc_error *err)
{
	struct exec_move *grown = realloc(run->moves, (run->move_count + 1) * sizeof(*grown)), *m;

	if (!grown) {
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
		return NULL;
	}
	run->moves = grown;
	m = &run->moves[run->move_count++];
	memset(m, 0, sizeof(*m));
	m->slot = slot;
	m->batch = batch;
	m->src = src;
	m->dst = dst;
	m->src_shard = run->nodes[src].shard;
	m->dst_shard = run->nodes[dst].shard;
	m->phase = phase;
	m->probe = true;
	run->progress.slots_total++;
	return m;
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

int exec_run_start_journal(struct exec_run *run, const char *fingerprint, const char *plan_path,
	bool write_pending, struct sc_error *err)
{
	struct journal_record r = { .kind = JOURNAL_REC_START, .time_ms = exec_wall_ms() };
	int rc;

	if (journal_file_open(run->journal_path, &run->journal, err) != 0)
		return -1;
	snprintf(r.op, sizeof(r.op), "%s", run->op);
	snprintf(r.fingerprint, sizeof(r.fingerprint), "%s", fingerprint);
	snprintf(r.plan_path, sizeof(r.plan_path), "%s", plan_path ? plan_path : "");
	r.pacing = (struct journal_pacing){ .recorded = true,
		.max_keys_per_sec = run->o->max_keys_per_sec, .max_bytes_per_sec = run->o->max_bytes_per_sec,
		.max_block_us = run->o->max_block_us, .batch_keys = run->o->batch_keys,
		.batch_bytes = run->o->batch_bytes, .parallel = run->o->parallel };
	r.seeds = exec_join_addrs(run->node_count, run_addr, run);
	r.shards = exec_shards_format(run);
	rc = r.seeds && r.shards ? journal_file_append(run->journal, &r, false, err) :
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	free(r.seeds);
	free(r.shards);
	for (size_t i = 0; rc == 0 && write_pending && i < run->move_count; i++) {
		struct journal_record p;

		slot_record(run, &run->moves[i], JOURNAL_PENDING, &p);
		rc = journal_file_append(run->journal, &p, false, err);
	}
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

static void record_failure(struct exec_run *run, struct exec_move *m, const struct sc_error *e)
{
	struct journal_record r;
	struct sc_error ignored;

	slot_record(run, m, m->phase, &r);
	r.failed = true;
	snprintf(r.message, sizeof(r.message), "%s", e->msg);
	journal_file_append(run->journal, &r, true, &ignored);
}

void exec_emit(struct exec_run *run, enum exec_event_kind kind, const struct exec_move *m,
	long long keys, long long bytes, const char *message)
{
	struct exec_event ev = { .kind = kind, .op = run->op, .slot = -1, .keys = keys,
		.bytes = bytes, .message = message };
	struct exec_progress p;

	if (!run->o->on_event)
		return;
	pthread_mutex_lock(&run->lock);
	p = run->progress;
	pthread_mutex_unlock(&run->lock);
	p.elapsed_s = (double)(sc_clock_us() - run->start_us) / 1e6;
	ev.progress = &p;
	if (m) {
		ev.slot = m->slot;
		ev.from = run->nodes[m->src].addr;
		ev.to = run->nodes[m->dst].addr;
		if (m->rollback) {
			ev.from = run->nodes[m->dst].addr;
			ev.to = run->nodes[m->src].addr;
		}
	}
	pthread_mutex_lock(&run->event_lock);
	run->o->on_event(run->o->ctx, &ev);
	pthread_mutex_unlock(&run->event_lock);
}

/* ---- the scheduler ---- */

/* The node keys leave in m: the source, or the target for a rollback. */
static int sender(const struct exec_move *m)
{
	return m->rollback ? m->dst : m->src;
}

/* The batch moves may come from: the first with an unfinished move (plan
 * batches are barriers: a hot slot planned alone moves alone). */
static int current_batch(const struct exec_run *run)
{
	for (size_t i = 0; i < run->move_count; i++)
		if (run->moves[i].state == MOVE_WAITING || run->moves[i].state == MOVE_RUNNING)
			return run->moves[i].batch;
	return -1;
}

/* Whether m may run beside the running moves as far as epochs go (under
 * the lock): a node never gives a slot in one forward move while it takes
 * one in another, for a target bumps its configEpoch when it takes, and a
 * source still claims its slot until told the new owner (handover.h). A
 * hand-written plan may make a node both; its moves then take turns. A
 * rollback changes no owner. */
static bool roles_free(const struct exec_run *run, const struct exec_move *m)
{
	return m->rollback || (run->nodes[m->dst].giving == 0 && run->nodes[m->src].taking == 0);
}

/* Counts m as running (under the lock). */
static void start_move(struct exec_run *run, struct exec_move *m)
{
	m->state = MOVE_RUNNING;
	run->running++;
	if (!m->rollback) {
		run->nodes[m->src].giving++;
		run->nodes[m->dst].taking++;
	}
}

/* The first waiting move of the current batch whose sending node is idle
 * and whose roles are free (under the lock). A node sends one move at a
 * time (MIGRATE occupies it); it may receive several from different
 * senders. */
static struct exec_move *pick_move(struct exec_run *run, bool *any_waiting)
{
	int batch = current_batch(run);

	*any_waiting = false;
	for (size_t i = 0; i < run->move_count; i++) {
		struct exec_move *m = &run->moves[i];

		if (m->state != MOVE_WAITING)
			continue;
		*any_waiting = true;
		if (m->batch == batch && !run->nodes[sender(m)].busy && roles_free(run, m))
			return m;
	}
	return NULL;
}

static void halt_if_stopped(struct exec_run *run)
{
	if (stop_requested(run) && !run->halted) {
		run->halted = true;
		sc_error_set(&run->failure, SC_EXIT_INTERRUPTED, "interrupted");
	}
}

static struct exec_move *next_move(struct exec_run *run)
{
	struct exec_move *m = NULL;
	bool waiting;

	pthread_mutex_lock(&run->lock);
	for (;;) {
		halt_if_stopped(run);
		if (run->halted)
			break;
		m = pick_move(run, &waiting);
		if (m || !waiting || run->running == 0)
			break;
		pthread_cond_wait(&run->changed, &run->lock);
	}
	if (m) {
		start_move(run, m);
		run->nodes[sender(m)].busy = true;
	}
	pthread_mutex_unlock(&run->lock);
	return m;
}

void exec_run_rearm(struct exec_run *run)
{
	pthread_mutex_lock(&run->lock);
	run->halted = false;
	memset(&run->failure, 0, sizeof(run->failure));
	run->progress.slots_failed = 0;
	for (size_t i = 0; i < run->node_count; i++)
		run->nodes[i].busy = false;
	pthread_mutex_unlock(&run->lock);
}

size_t exec_run_claim_group(struct exec_run *run, const struct exec_move *first,
	struct exec_move **out, size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&run->lock);
	halt_if_stopped(run);
	for (size_t i = 0; !run->halted && n < max && i < run->move_count; i++) {
		struct exec_move *c = &run->moves[i];

		if (c->state == MOVE_WAITING && !c->rollback && c->phase == JOURNAL_PENDING &&
		    c->src == first->src && c->dst == first->dst && c->batch == first->batch) {
			start_move(run, c);
			out[n++] = c;
		}
	}
	pthread_mutex_unlock(&run->lock);
	return n;
}

/* Records the end of m; keep_sender: the worker goes on with a move of the
 * same sender (a chain), which keeps the node. */
static void move_ended(struct exec_run *run, struct exec_move *m, int rc, const struct sc_error *e,
	bool keep_sender)
{
	pthread_mutex_lock(&run->lock);
	if (!keep_sender)
		run->nodes[sender(m)].busy = false;
	run->running--;
	if (!m->rollback) {
		run->nodes[m->src].giving--;
		run->nodes[m->dst].taking--;
	}
	m->state = rc == 0 ? MOVE_FINISHED : MOVE_FAILED;
	if (rc == 0) {
		run->progress.slots_done++;
	} else {
		if (e->code != SC_EXIT_INTERRUPTED)
			run->progress.slots_failed++;
		/* the first failure wins, but a real one outranks an interruption */
		if (!run->halted || (run->failure.code == SC_EXIT_INTERRUPTED && e->code != SC_EXIT_INTERRUPTED))
			run->failure = *e;
		run->halted = true;
	}
	pthread_cond_broadcast(&run->changed);
	pthread_mutex_unlock(&run->lock);
}

void exec_run_failed(struct exec_run *run, struct exec_move *m, const struct sc_error *e)
{
	if (e->code == SC_EXIT_INTERRUPTED)
		return;
	record_failure(run, m, e);
	exec_emit(run, EXEC_EVENT_ERROR, m, 0, 0, e->msg);
}

/* Reports how one move ended; keep_sender when the worker's group goes on. */
static void move_report(struct exec_run *run, struct exec_move *m, int rc, const struct sc_error *e,
	bool keep_sender)
{
	if (rc != 0)
		exec_run_failed(run, m, e);
	move_ended(run, m, rc, e, keep_sender);
	if (rc == 0)
		exec_emit(run, EXEC_EVENT_SLOT_DONE, m, m->keys_moved, 0, NULL);
}

/* m and, when it is a pending forward move, the other pending moves of its
 * pair and batch, as one group handed to the run's backend (mover.h). */
static void run_group(struct exec_run *run, struct conn_pool *pool, struct exec_move *m)
{
	size_t max = m->rollback || m->phase != JOURNAL_PENDING ? 1 : run->backend->max_group;
	struct exec_move **ms = calloc(max, sizeof(*ms));
	struct sc_error *errs = calloc(max, sizeof(*errs));
	int *rcs = calloc(max, sizeof(*rcs));
	struct mover_group g = { run, run->o, pool, ms, 1, &run->nodes[m->src], &run->nodes[m->dst],
		m->rollback, rcs, errs };

	if (!ms || !errs || !rcs) {
		struct sc_error e;

		sc_error_set(&e, SC_EXIT_PROBLEMS, "out of memory");
		move_report(run, m, -1, &e, false);
	} else {
		ms[0] = m;
		if (max > 1)
			g.n += exec_run_claim_group(run, m, ms + 1, max - 1);
		if (g.rollback)
			run->backend->rollback(&g);
		else
			run->backend->move(&g);
		for (size_t i = 0; i < g.n; i++)
			move_report(run, ms[i], rcs[i], &errs[i], i + 1 < g.n);
	}
	free(ms);
	free(errs);
	free(rcs);
}

static void worker(void *ctx, size_t i)
{
	struct exec_run *run = ctx;
	struct conn_pool *pool = conn_pool_new(&run->o->conn);
	struct exec_move *m;

	(void)i;
	while (pool && (m = next_move(run)) != NULL)
		run_group(run, pool, m);
	conn_pool_free(pool);
}

int exec_run_moves(struct exec_run *run, struct sc_error *err)
{
	int workers = run->o->parallel > 0 ? run->o->parallel : 1;

	if ((size_t)workers > run->move_count)
		workers = run->move_count > 0 ? (int)run->move_count : 1;
	for (size_t i = 0; i < run->move_count; i++) {
		run->progress.keys_estimated += run->moves[i].keys_est;
		run->progress.bytes_estimated += run->moves[i].bytes_est;
	}
	exec_emit(run, EXEC_EVENT_START, NULL, 0, 0, run->start_note[0] ? run->start_note : NULL);
	parallel_for((size_t)workers, workers, worker, run);
	if (run->halted) {
		*err = run->failure;
		if (err->code == SC_EXIT_INTERRUPTED)
			sc_error_set(err, SC_EXIT_INTERRUPTED,
				"interrupted: %zu of %zu slots done; the journal '%s' allows 'slotctl resume' or "
				"'slotctl abort'", run->progress.slots_done, run->progress.slots_total,
				run->journal_path);
		return -1;
	}
	return 0;
}

static const char *end_status(int rc, const struct sc_error *err, const char *op)
{
	if (rc == 0)
		return strcmp(op, "abort") == 0 ? "aborted" : "done";
	return err->code == SC_EXIT_INTERRUPTED ? "interrupted" : "failed";
}

int exec_run_finish(struct exec_run *run, int rc, const char *seed_host, int seed_port,
	struct exec_result *res, struct sc_error *err)
{
	struct journal_record r = { .kind = JOURNAL_REC_END };
	struct sc_error ignored;
	char summary[SC_ERROR_MSG_MAX + 64];

	if (rc == 0 && !stop_requested(run)) {
		exec_emit(run, EXEC_EVENT_VERIFY, NULL, 0, 0, NULL);
		rc = exec_verify(run, seed_host, seed_port, err);
		res->verified = rc == 0;
	}
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
