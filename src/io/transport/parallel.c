/* parallel.c: runs a job per item on a bounded pool of POSIX threads (see
 * slotctl/io/parallel.h). Items are handed out through a shared counter. */
#include "slotctl/io/parallel.h"

#include <pthread.h>
#include <stdlib.h>

struct parallel_job {
	size_t count;
	size_t next;
	pthread_mutex_t lock;
	void (*fn)(void *ctx, size_t i);
	void *ctx;
};

static void *parallel_worker(void *arg)
{
	struct parallel_job *job = arg;

	for (;;) {
		size_t i;

		pthread_mutex_lock(&job->lock);
		i = job->next++;
		pthread_mutex_unlock(&job->lock);
		if (i >= job->count)
			return NULL;
		job->fn(job->ctx, i);
	}
}

void parallel_for(size_t count, int max_threads, void (*fn)(void *ctx, size_t i), void *ctx)
{
	struct parallel_job job = { count, 0, PTHREAD_MUTEX_INITIALIZER, fn, ctx };
	pthread_t *threads;
	size_t nthreads = max_threads < 1 ? 1 : (size_t)max_threads;
	size_t started = 0;

	if (nthreads > count)
		nthreads = count;
	threads = nthreads > 1 ? calloc(nthreads - 1, sizeof(*threads)) : NULL;
	for (size_t t = 0; threads && t + 1 < nthreads; t++)
		if (pthread_create(&threads[t], NULL, parallel_worker, &job) == 0)
			started++;
	/* the caller's thread works too, so progress never depends on thread creation */
	parallel_worker(&job);
	for (size_t t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	free(threads);
	pthread_mutex_destroy(&job.lock);
}
