/* node_ops.h: the I/O of `slotctl node add|remove|forget-failed`: meeting a
 * new node and waiting until the cluster knows it, making it a replica and
 * waiting for its sync, forgetting a node on every other node at once (within
 * the 60-second ban in which gossip cannot bring it back) and resetting the
 * removed node. The decisions are node_rules.h's. Every wait is bounded. */
#ifdef SLOTCTL_LAYER_CORE
#error "slotctl/io/node_ops.h is an io header: the core may not include it (ARCHITECTURE.md)"
#endif
#ifndef SLOTCTL_NODE_OPS_H
#define SLOTCTL_NODE_OPS_H

#include <stdbool.h>
#include "slotctl/io/conn.h"
#include "slotctl/io/snapshot.h"
#include "slotctl/core/topology.h"

/* -- node_add.c */

/* Reads the server at host:port: its own CLUSTER NODES into *view (caller
 * releases) and its key count (DBSIZE) into *keys. Returns 0, or -1 with
 * an error (SC_EXIT_UNREACHABLE when it does not answer, SC_EXIT_REFUSED
 * when cluster support is disabled on it). */
int node_probe(const char *host, int port, const struct conn_opts *opts, struct topology *view,
	long long *keys, struct sc_error *err);

/* Changes the cluster: CLUSTER MEET seed_ip seed_port [seed_cport] on the
 * new node at host:port (seed_cport 0: the server's default, port + 10000).
 * Returns 0 or -1 with an error naming the node. */
int node_meet(const char *host, int port, const char *seed_ip, int seed_port, int seed_cport,
	const struct conn_opts *opts, struct sc_error *err);

/* Waits, at most wait_ms, until every reachable node of the cluster seen
 * from seed knows node id (not in handshake) and it knows them all. Returns
 * 0, or -1 with an SC_EXIT_PROBLEMS error naming a node that still does not
 * (or SC_EXIT_UNREACHABLE when the seed stops answering). */
int node_wait_known(const char *seed_host, int seed_port, const char *id, const struct conn_opts *opts,
	int wait_ms, struct sc_error *err);

/* Changes the cluster: CLUSTER REPLICATE master_id on host:port (retried
 * while the node does not know the master yet), then waits until
 * master_link_status:up. All within wait_ms. Returns 0 or -1 with an error. */
int node_replicate(const char *host, int port, const char *master_id, const struct conn_opts *opts,
	int wait_ms, struct sc_error *err);

/* -- node_remove.c */

struct strbuf;

/* Changes the cluster: CLUSTER FORGET id on every reachable node of s other
 * than id itself, concurrently (parallel.h), then reads each one's CLUSTER
 * NODES again and checks that it no longer lists id. With followers not
 * NULL, a replica that says it follows id is not asked (Redis refuses to
 * forget a node's own master) and its address is appended to followers
 * ("'host:port', ..."). Returns 0, or -1 with an error naming the nodes that
 * refused, did not answer (unless s's map flags them fail or noaddr) or
 * still know id. */
int node_forget_everywhere(const struct snapshot *s, const char *id, const struct conn_opts *opts,
	struct strbuf *followers, struct sc_error *err);

/* Changes the node: CLUSTER RESET HARD on host:port, so that it forgets
 * every other node (and takes a new id, so that even within the ban it can
 * be added back); with shutdown, then SHUTDOWN (the dropped connection is
 * its success). Returns 0 or -1 with an error naming the node. */
int node_reset(const char *host, int port, const struct conn_opts *opts, bool shutdown,
	struct sc_error *err);

#endif
