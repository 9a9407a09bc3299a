/* parallel.h: the one loop that runs a job for each of N items on a bounded
 * pool of threads (per node, per slot pair). Everything that talks to many
 * nodes at once goes through here. */
#ifdef SLOTCTL_LAYER_CORE
#error "slotctl/io/parallel.h is an io header: the core may not include it (ARCHITECTURE.md)"
#endif
#ifndef SLOTCTL_PARALLEL_H
#define SLOTCTL_PARALLEL_H

#include <stddef.h>

/* Calls fn(ctx, i) once for every i in [0, count), using at most max_threads
 * threads (1 runs inline in the caller). fn must be thread-safe for distinct
 * i. Returns after all calls have returned. */
void parallel_for(size_t count, int max_threads, void (*fn)(void *ctx, size_t i), void *ctx);

#endif
