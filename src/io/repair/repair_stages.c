/* repair_stages.c: `slotctl fix` running its plan (repair_execute,
 * slotctl/io/repair.h): stage by stage, each for every item before the next
 * begins: coverage and keys on the executor's one scheduler (sched.h) with
 * fix's rule (items whose key moves share a node run one after the other),
 * then the owner stage (repair_owner.c). The decisions live in
 * src/core/repair/repair_rules*.c; one item's steps are repair_steps.c. */
#include "repair_priv.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/sched.h"

#include <stdlib.h>

/* One stage of the items listed in items, run on the one scheduler
 * (sched.h): an item starts once none of the nodes its key moves use is
 * busy with another item's, in list order. */
struct stage_run {
	struct repair_survey *sv;
	const struct repair_opts *o;
	const size_t *items;     /* the item indices */
	size_t count;
	enum stage stage;
	bool *started;           /* per entry of items */
	bool *busy;              /* per snapshot node: an item's key moves use it */
	size_t running;
	pthread_mutex_t lock;
	pthread_cond_t changed;
};

static bool has_moves(const struct repair_item *it)
{
	for (size_t k = 0; k < it->step_count; k++)
		if (it->steps[k].op == REPAIR_OP_MOVE_KEYS)
			return true;
	return false;
}

/* Marks busy (or idle) every node item's key moves use. */
static void mark_nodes(const struct repair_item *it, bool *busy, bool on)
{
	for (size_t k = 0; k < it->step_count; k++) {
		const struct repair_step *st = &it->steps[k];

		if (st->op == REPAIR_OP_MOVE_KEYS)
			busy[st->node] = busy[st->peer] = on;
	}
}

/* Whether item's key moves use a node already busy. */
static bool nodes_busy(const struct repair_item *it, const bool *busy)
{
	for (size_t k = 0; k < it->step_count; k++) {
		const struct repair_step *st = &it->steps[k];

		if (st->op == REPAIR_OP_MOVE_KEYS && (busy[st->node] || busy[st->peer]))
			return true;
	}
	return false;
}

/* fix's rule for sched_run (under the lock): the first item not started
 * whose key moves use no busy node (an item without key moves always may,
 * and any in the coverage stage), its nodes then busy. */
static bool next_item(void *ctx, void **job, bool *wait)
{
	struct stage_run *r = ctx;
	bool waiting = false;

	for (size_t k = 0; k < r->count; k++) {
		const struct repair_item *it = &r->sv->plan.items[r->items[k]];

		if (r->started[k])
			continue;
		if (r->stage == STAGE_KEYS && has_moves(it) && nodes_busy(it, r->busy)) {
			waiting = true;
			continue;
		}
		if (r->stage == STAGE_KEYS)
			mark_nodes(it, r->busy, true);
		r->started[k] = true;
		r->running++;
		*job = (void *)&r->items[k];
		return true;
	}
	*wait = waiting && r->running > 0;
	return false;
}

static void run_stage_item(void *ctx, void *job, struct conn_pool *pool, struct conn_pool *ctl)
{
	static const struct step_filter every_node = { -1, false, false };
	struct stage_run *r = ctx;
	size_t idx = *(const size_t *)job;

	(void)ctl; /* fix's steps run on pool alone */
	repair_run_item(pool, r->sv, r->o, idx, r->stage, &every_node);
	pthread_mutex_lock(&r->lock);
	if (r->stage == STAGE_KEYS)
		mark_nodes(&r->sv->plan.items[idx], r->busy, false);
	r->running--;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

/* Runs one stage's steps of the count items listed in items on the one
 * scheduler, up to repair_threads(o) at once; in the keys stage, items whose key
 * moves share a node one after the other. */
static void run_stage(struct repair_survey *sv, const struct repair_opts *o, const size_t *items,
	size_t count, enum stage stage)
{
	struct stage_run r = { sv, o, items, count, stage, NULL, NULL, 0,
		PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER };
	struct sched_ops ops = { &r.lock, &r.changed, next_item, run_stage_item, &r, &o->conn };
	int workers = repair_threads(o) < (int)count ? repair_threads(o) : (int)count;

	r.started = calloc(count ? count : 1, sizeof(*r.started));
	r.busy = calloc(sv->snap.count ? sv->snap.count : 1, sizeof(*r.busy));
	if (r.started && r.busy && count > 0) {
		sched_run(&ops, workers);
	} else {
		for (size_t k = 0; k < count; k++) {
			sv->outcomes[items[k]].status = REPAIR_FAILED;
			sc_error_set(&sv->outcomes[items[k]].error, SC_EXIT_PROBLEMS, "out of memory");
		}
	}
	free(r.started);
	free(r.busy);
	pthread_mutex_destroy(&r.lock);
	pthread_cond_destroy(&r.changed);
}

/* Marks every item failed for want of memory; returns how many there are. */
static size_t fail_all_for_memory(struct repair_survey *sv)
{
	for (size_t i = 0; i < sv->plan.count; i++) {
		sv->outcomes[i].status = REPAIR_FAILED;
		sc_error_set(&sv->outcomes[i].error, SC_EXIT_PROBLEMS, "out of memory");
	}
	return sv->plan.count;
}

/* Drops from pending the items that failed or were left; returns how many
 * are still pending. */
static size_t prune(const struct repair_survey *sv, bool *pending)
{
	size_t left = 0;

	for (size_t i = 0; i < sv->plan.count; i++) {
		pending[i] = pending[i] && sv->outcomes[i].status == REPAIR_PLANNED;
		left += pending[i];
	}
	return left;
}

/* The stages, each for every item before the next (see handover.h for
 * why): coverage (every slot gets a known owner on every node); keys (every
 * key of every repaired slot moves to where it goes, items on disjoint
 * nodes concurrently; no owner changes yet); owner (one new owner at a
 * time, repair_hand_over_all). */
size_t repair_execute(struct repair_survey *sv, const struct repair_opts *o)
{
	size_t n = sv->plan.count, not_done = 0;
	size_t *items = calloc(n ? n : 1, sizeof(*items));
	bool *pending = calloc(n ? n : 1, sizeof(*pending));

	if (!items || !pending) {
		free(items);
		free(pending);
		return fail_all_for_memory(sv);
	}
	for (size_t i = 0; i < n; i++) {
		pending[i] = !sv->plan.items[i].blocked;
		if (!pending[i])
			sv->outcomes[i].status = REPAIR_LEFT;
	}
	for (enum stage stage = STAGE_COVER; stage <= STAGE_KEYS; stage++) {
		size_t count = 0;

		if (prune(sv, pending) == 0)
			break;
		for (size_t i = 0; i < n; i++)
			if (pending[i])
				items[count++] = i;
		run_stage(sv, o, items, count, stage);
	}
	repair_hand_over_all(sv, o);
	for (size_t i = 0; i < n; i++) {
		if (sv->outcomes[i].status == REPAIR_PLANNED)
			sv->outcomes[i].status = REPAIR_DONE;
		not_done += sv->outcomes[i].status != REPAIR_DONE;
	}
	free(items);
	free(pending);
	return not_done;
}
