/* sched.h: the one scheduler of slot moves: worker threads, each with its
 * own connections, take jobs as the caller's rule lets them start (never
 * two on a busy node, say) and wait while none may start yet but one is
 * running. The executor (exec_sched.c: groups of moves for a mover backend)
 * and fix (repair_stages.c: a slot's steps of one stage) both run on it; the rule
 * of which job may start is each caller's. Implemented in
 * src/io/move/exec_sched.c. */
#ifdef SLOTCTL_LAYER_CORE
#error "slotctl/io/sched.h is an io header: the core may not include it (ARCHITECTURE.md)"
#endif
#ifndef SLOTCTL_SCHED_H
#define SLOTCTL_SCHED_H

#include <pthread.h>
#include <stdbool.h>
#include "slotctl/io/pool.h"

struct sched_ops {
	pthread_mutex_t *lock;    /* the caller's lock, held around next() */
	pthread_cond_t *changed;  /* broadcast by the caller whenever a job ends (under lock) */
	/* Under lock: claims the next job that may start now into *job and
	 * returns true; or returns false with *wait set when one may start
	 * later (a job that blocks it is running), clear when none will. */
	bool (*next)(void *ctx, void **job, bool *wait);
	/* On a worker, outside the lock: runs job with the worker's
	 * connections (pool), and its control connections (ctl), a second set
	 * kept across the worker's jobs like pool (a job that may leave
	 * replies unread on ctl clears it: conn_pool_clear); when it ends, the
	 * caller's bookkeeping takes lock and broadcasts changed. */
	void (*run)(void *ctx, void *job, struct conn_pool *pool, struct conn_pool *ctl);
	void *ctx;
	const struct conn_opts *conn; /* the workers' connections */
};

/* Runs jobs on `workers` threads (>= 1) until next() has none to give.
 * Returns when every worker has stopped. */
void sched_run(const struct sched_ops *ops, int workers);

#endif
