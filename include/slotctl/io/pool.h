/* pool.h: a set of open connections keyed by "host:port" (and a lane, for
 * more than one to a node), opened on first use and reopened when broken.
 * Not thread-safe: each worker thread keeps its own pool. */
#ifdef SLOTCTL_LAYER_CORE
#error "slotctl/io/pool.h is an io header: the core may not include it (ARCHITECTURE.md)"
#endif
#ifndef SLOTCTL_POOL_H
#define SLOTCTL_POOL_H

#include "slotctl/io/conn.h"

struct conn_pool;

/* Returns a new empty pool using a copy of opts (the strings are borrowed and
 * must outlive the pool), or NULL on OOM. */
struct conn_pool *conn_pool_new(const struct conn_opts *opts);

/* Returns the pool's connection to host:port, opening it (or reopening it when
 * broken) as needed; NULL with an SC_EXIT_UNREACHABLE error when it cannot.
 * The pool keeps ownership. */
struct conn *conn_pool_get(struct conn_pool *p, const char *host, int port, struct sc_error *err);

/* The same for the pool's lane-th connection to host:port (lane 0 is
 * conn_pool_get's): several connections to one node, each kept as the
 * first is. */
struct conn *conn_pool_get_lane(struct conn_pool *p, const char *host, int port, unsigned lane,
	struct sc_error *err);

/* Closes every connection; the next conn_pool_get opens afresh. For a pool
 * kept across jobs after one that may have left replies unread. */
void conn_pool_clear(struct conn_pool *p);

/* Closes every connection and frees p. NULL is fine. */
void conn_pool_free(struct conn_pool *p);

#endif
