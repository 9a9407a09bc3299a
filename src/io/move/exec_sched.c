/* exec_sched.c: the one scheduler of slot moves (sched_run, sched.h: worker
 * threads taking jobs as the caller's rule lets them start), used by fix
 * too, and the executor's rule on it, shared by apply, resume and abort:
 * hands the run's moves to worker threads as groups for the run's
 * mover backend (mover.h), so that no node sends in two moves at once and
 * no node gives a slot in one forward move while it takes one in another,
 * and plan batches kept as barriers only where the plan needs one (a slot
 * planned alone; a node's giving and taking in the plan's order), so that
 * independent pairs of different batches run together; counts each move's
 * end, and halts the run on the first failure or a stop request. Pacing is the backends' services'
 * (mover_progress, mover.c). */
#include "mover.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/parallel.h"
#include "slotctl/io/sched.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static bool stop_requested(const struct exec_run *run)
{
	return run->o->stop && *run->o->stop;
}

/* The node keys leave in m: the source, or the target for a rollback. */
static int sender(const struct exec_move *m)
{
	return m->rollback ? m->dst : m->src;
}

/* What the plan's order asks of the moves still to start, gathered in one
 * pass over the unfinished moves (under the lock). */
struct plan_order {
	int first;   /* the earliest batch with an unfinished move */
	int barrier; /* the earliest batch with an unfinished move planned alone (INT_MAX: none) */
};

/* Fills o and, per node, the earliest batch in which it still gives and
 * takes a slot (first_give, first_take; INT_MAX: none). */
static void plan_order(struct exec_run *run, struct plan_order *o)
{
	o->first = o->barrier = INT_MAX;
	for (size_t i = 0; i < run->node_count; i++) {
		run->nodes[i].first_give = run->nodes[i].first_take = INT_MAX;
		run->nodes[i].owns = -1;
	}
	for (size_t i = 0; i < run->move_count; i++) {
		const struct exec_move *m = &run->moves[i];

		if (m->state != MOVE_WAITING && m->state != MOVE_RUNNING)
			continue;
		if (m->batch < o->first)
			o->first = m->batch;
		if (m->alone && m->batch < o->barrier)
			o->barrier = m->batch;
		if (!m->rollback && m->batch < run->nodes[m->src].first_give)
			run->nodes[m->src].first_give = m->batch;
		if (!m->rollback && m->batch < run->nodes[m->dst].first_take)
			run->nodes[m->dst].first_take = m->batch;
	}
}

/* Whether the plan's order lets m start now (under the lock, o and the
 * nodes' first_give/first_take from plan_order). The plan's batches are no
 * barriers in general: a move of a later batch runs beside the earlier ones
 * (three sources feed a new master as three streams), save where the plan
 * needs one:
 *   - a slot planned alone (a hot slot, exec_move.alone) starts once every
 *     move of the batches before it has ended, and nothing of a later batch
 *     starts before it has;
 *   - a node the plan makes give in one batch and take in another does so
 *     in the plan's order: a move waits while its source still takes, or its
 *     target still gives, in an earlier batch (the plan may count on the
 *     room the giving leaves). */
static bool order_free(const struct exec_run *run, const struct plan_order *o, const struct exec_move *m)
{
	if (m->batch > o->barrier || (m->batch == o->barrier && o->first < m->batch))
		return false;
	return m->rollback ||
	       (run->nodes[m->src].first_take >= m->batch && run->nodes[m->dst].first_give >= m->batch);
}

/* Whether node i owns a slot of the map the run leaves so far (under the
 * lock; looked up once per pick, in the node's scratch). */
static bool owns_a_slot(struct exec_run *run, int i)
{
	if (run->nodes[i].owns < 0) {
		run->nodes[i].owns = 0;
		for (int s = 0; s < SC_SLOTS && !run->nodes[i].owns; s++)
			run->nodes[i].owns = run->expected[s] == i;
	}
	return run->nodes[i].owns > 0;
}

/* Whether m may start beside the moves m's target is taking already (under
 * the lock): with a backend that redirects clients (keys), a master that
 * owns no slot yet takes its first from one source at a time, as from one
 * (issue 18 item 2: a cluster client that lists masters from CLUSTER SLOTS
 * does not know it, and cannot follow an ASK to it, until it owns a slot).
 * A server-side job (atomic) sends no ASK, and one target takes jobs from
 * several sources at once (Valkey 9.1), so three sources feed a new master
 * together (issue 17). */
static bool first_take_free(struct exec_run *run, const struct exec_move *m)
{
	return m->rollback || !run->backend->redirects_clients || run->nodes[m->dst].taking == 0 ||
	       owns_a_slot(run, m->dst);
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

/* The waiting move of the earliest batch whose sending node is idle and
 * whose roles and order are free (under the lock). A node sends one move at
 * a time (MIGRATE occupies it); it may receive several from different
 * senders. */
static struct exec_move *pick_move(struct exec_run *run, bool *any_waiting)
{
	struct exec_move *best = NULL;
	struct plan_order o;

	plan_order(run, &o);
	*any_waiting = false;
	for (size_t i = 0; i < run->move_count; i++) {
		struct exec_move *m = &run->moves[i];

		if (m->state != MOVE_WAITING)
			continue;
		*any_waiting = true;
		if ((!best || m->batch < best->batch) && !run->nodes[sender(m)].busy && roles_free(run, m) &&
		    order_free(run, &o, m) && first_take_free(run, m))
			best = m;
	}
	return best;
}

static void halt_if_stopped(struct exec_run *run)
{
	if (stop_requested(run) && !run->halted) {
		run->halted = true;
		sc_error_set(&run->failure, SC_EXIT_INTERRUPTED, "interrupted");
	}
}

/* The executor's rule for sched_run (under the lock): the waiting move of
 * the earliest batch whose sender is idle and whose roles and order are
 * free (pick_move), claimed as running with its sender busy; none once the run
 * halts. */
static bool next_move(void *ctx, void **job, bool *wait)
{
	struct exec_run *run = ctx;
	struct exec_move *m;
	bool waiting;

	*wait = false;
	halt_if_stopped(run);
	if (run->halted)
		return false;
	if (!(m = pick_move(run, &waiting))) {
		*wait = waiting && run->running > 0;
		return false;
	}
	start_move(run, m);
	run->nodes[sender(m)].busy = true;
	*job = m;
	return true;
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

/* Claims up to max more pending forward moves of first's pair and batch (of
 * any batch the plan's order lets start now, for a backend that goes across
 * batches), for a worker that hands them to the backend as one group (the
 * sender stays busy). Returns how many were put in out (0 when the run is
 * halting). */
static size_t claim_group(struct exec_run *run, const struct exec_move *first,
	struct exec_move **out, size_t max)
{
	struct plan_order o;
	size_t n = 0;

	pthread_mutex_lock(&run->lock);
	halt_if_stopped(run);
	plan_order(run, &o);
	for (size_t i = 0; !run->halted && n < max && i < run->move_count; i++) {
		struct exec_move *c = &run->moves[i];

		if (c->state == MOVE_WAITING && !c->rollback && c->phase == JOURNAL_PENDING &&
		    c->src == first->src && c->dst == first->dst &&
		    (c->batch == first->batch || (run->backend->across_batches && order_free(run, &o, c)))) {
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

/* Whether moves i and j of a group both failed, and alike (one message). */
static bool failed_alike(const int *rcs, const struct sc_error *errs, size_t i, size_t j)
{
	return rcs[i] != 0 && rcs[j] != 0 && errs[i].code == errs[j].code && strcmp(errs[i].msg, errs[j].msg) == 0;
}

/* Reports how the n moves of a group ended (failures journaled by the
 * caller: exec_record_failures): a slot_done event for each that finished,
 * one error event for each run of consecutive moves that failed alike (a
 * failed 4096-slot atomic job is one error, not 4096). The worker's sender
 * stays busy until the last. */
static void report_group(struct exec_run *run, struct exec_move *const *ms, const int *rcs,
	const struct sc_error *errs, size_t n)
{
	size_t from = 0;

	for (size_t i = 0; i < n; i++) {
		move_ended(run, ms[i], rcs[i], &errs[i], i + 1 < n);
		if (rcs[i] == 0) {
			exec_emit(run, EXEC_EVENT_SLOT_DONE, ms[i], ms[i]->keys_moved, 0, NULL);
			from = i + 1;
		} else if (i + 1 == n || !failed_alike(rcs, errs, i, i + 1)) {
			exec_run_failed(run, ms + from, i + 1 - from, &errs[i]);
			from = i + 1;
		}
	}
}

/* m and, when it is a pending forward move, the other pending moves of its
 * pair and batch, as one group handed to the run's backend (mover.h). */
static void run_group(struct exec_run *run, struct conn_pool *pool, struct conn_pool *ctl, struct exec_move *m)
{
	size_t max = m->rollback || m->phase != JOURNAL_PENDING ? 1 : run->backend->max_group;
	struct exec_move **ms = calloc(max, sizeof(*ms));
	struct sc_error *errs = calloc(max, sizeof(*errs));
	int *rcs = calloc(max, sizeof(*rcs));
	struct mover_group g = { run, run->o, pool, ctl, ms, 1, &run->nodes[m->src], &run->nodes[m->dst],
		m->rollback, rcs, errs };

	if (!ms || !errs || !rcs) {
		struct sc_error e;

		int failed = -1;

		sc_error_set(&e, SC_EXIT_PROBLEMS, "out of memory");
		exec_record_failures(run, &m, &failed, &e, 1);
		report_group(run, &m, &failed, &e, 1);
	} else {
		ms[0] = m;
		if (max > 1)
			g.n += claim_group(run, m, ms + 1, max - 1);
		if (g.rollback)
			run->backend->rollback(&g);
		else
			run->backend->move(&g);
		exec_record_failures(run, ms, rcs, errs, g.n);
		report_group(run, ms, rcs, errs, g.n);
	}
	free(ms);
	free(errs);
	free(rcs);
}

static void run_job(void *ctx, void *job, struct conn_pool *pool, struct conn_pool *ctl)
{
	run_group(ctx, pool, ctl, job);
}

/* ---- the one scheduler (sched.h) ---- */

/* The next job for a worker: waits while none may start yet. */
static bool sched_next(const struct sched_ops *ops, void **job)
{
	bool wait = false, got;

	pthread_mutex_lock(ops->lock);
	while (!(got = ops->next(ops->ctx, job, &wait)) && wait)
		pthread_cond_wait(ops->changed, ops->lock);
	pthread_mutex_unlock(ops->lock);
	return got;
}

static void sched_worker(void *ctx, size_t i)
{
	const struct sched_ops *ops = ctx;
	struct conn_pool *pool = conn_pool_new(ops->conn), *ctl = conn_pool_new(ops->conn);
	void *job;

	(void)i;
	while (pool && ctl && sched_next(ops, &job))
		ops->run(ops->ctx, job, pool, ctl);
	conn_pool_free(pool);
	conn_pool_free(ctl);
}

void sched_run(const struct sched_ops *ops, int workers)
{
	parallel_for((size_t)workers, workers, sched_worker, (void *)ops);
}

int exec_run_moves(struct exec_run *run, struct sc_error *err)
{
	struct sched_ops ops = { &run->lock, &run->changed, next_move, run_job, run, &run->o->conn };
	int workers = run->o->parallel > 0 ? run->o->parallel : 1;

	if ((size_t)workers > run->move_count)
		workers = run->move_count > 0 ? (int)run->move_count : 1;
	for (size_t i = 0; i < run->move_count; i++) {
		run->progress.keys_estimated += run->moves[i].keys_est;
		run->progress.bytes_estimated += run->moves[i].bytes_est;
	}
	exec_emit(run, EXEC_EVENT_START, NULL, 0, 0, run->start_note[0] ? run->start_note : NULL);
	sched_run(&ops, workers);
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
