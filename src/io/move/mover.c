/* mover.c: choosing a mover backend, and the services the executor gives
 * every backend (mover.h): journaling a slot's phase, progress with pacing,
 * the stop request, connections to every master and the one way a target
 * takes slots (handover_take with the run's ledger). */
#include "mover.h"
#include "slotctl/io/clock.h"
#include "slotctl/core/exitcode.h"

#include <stdlib.h>
#include <string.h>

/* Every backend; a new one is added here (and named in exec_opts.backend). */
static const struct mover_backend *const backends[] = {
	&mover_keys,
	&mover_atomic,
	&mover_auto,
};

const struct mover_backend *mover_backend_find(const char *name)
{
	if (!name || !name[0])
		return &mover_keys;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

int mover_record(struct mover_group *g, size_t i, enum journal_phase phase, struct sc_error *err)
{
	return exec_record(g->run, g->m[i], phase, err);
}

int mover_record_live(struct mover_group *g, enum journal_phase phase, bool sync, struct sc_error *err)
{
	struct exec_move **live = calloc(g->n ? g->n : 1, sizeof(*live));
	size_t n = 0;
	int rc;

	if (!live)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	for (size_t i = 0; i < g->n; i++)
		if (mover_alive(g, i))
			live[n++] = g->m[i];
	rc = exec_record_many(g->run, live, n, phase, sync, err);
	free(live);
	return rc;
}

void mover_progress(struct mover_group *g, size_t i, long long keys, long long bytes)
{
	struct exec_run *run = g->run;
	struct exec_move *m = g->m[i];
	const struct exec_opts *o = run->o;
	double need_s = 0;
	long long wait_us;

	if (bytes == 0 && !m->probe && m->keys_est > 0)
		bytes = keys * (m->bytes_est / m->keys_est); /* unmeasured: the plan's estimate */
	pthread_mutex_lock(&run->lock);
	m->keys_moved += keys;
	run->progress.keys_moved += keys;
	run->progress.bytes_moved += bytes;
	run->progress.batches++;
	if (o->max_keys_per_sec > 0)
		need_s = (double)run->progress.keys_moved / (double)o->max_keys_per_sec;
	if (o->max_bytes_per_sec > 0 && (double)run->progress.bytes_moved / (double)o->max_bytes_per_sec > need_s)
		need_s = (double)run->progress.bytes_moved / (double)o->max_bytes_per_sec;
	pthread_mutex_unlock(&run->lock);
	exec_emit(run, EXEC_EVENT_BATCH, m, keys, bytes, NULL);
	exec_test_hooks(run, JOURNAL_PHASE_COUNT);
	wait_us = (long long)(need_s * 1e6) - (sc_clock_us() - run->start_us);
	if (wait_us > 0)
		sc_sleep_us(wait_us);
}

bool mover_stopped(const struct mover_group *g)
{
	return g->o->stop && *g->o->stop;
}

void mover_settled(struct mover_group *g, size_t i)
{
	pthread_mutex_lock(&g->run->lock); /* other groups read it (exec_group.c) */
	g->run->expected[g->m[i]->slot] = g->rollback ? g->m[i]->src : g->m[i]->dst;
	pthread_mutex_unlock(&g->run->lock);
}

int mover_masters(struct mover_group *g, struct conn_pool *pool, struct conn **out, size_t *n,
	struct sc_error *err)
{
	const struct exec_run *run = g->run;
	int src = g->m[0]->src, dst = g->m[0]->dst;

	*n = 0;
	if (!(out[(*n)++] = conn_pool_get(pool, g->src->host, g->src->port, err)))
		return -1;
	for (size_t k = 0; k < run->node_count; k++) {
		if ((int)k == src || (int)k == dst || run->nodes[k].retired)
			continue;
		if (!(out[(*n)++] = conn_pool_get(pool, run->nodes[k].host, run->nodes[k].port, err)))
			return -1;
	}
	return 0;
}

int mover_take(struct mover_group *g, struct conn *taker, struct conn *const *masters, size_t n,
	unsigned long *seen, handover_take_fn *take, void *ctx, struct sc_error *err)
{
	return handover_take(&g->run->ledger, seen, taker, masters, n, take, ctx, err);
}
