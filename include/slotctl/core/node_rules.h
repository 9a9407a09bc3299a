/* node_rules.h: the decisions of `slotctl node add|remove|forget-failed`,
 * taken on CLUSTER NODES views alone: whether a server may join, which
 * master a new replica should follow, whether a node may leave and which of
 * its replicas must go elsewhere, which failed nodes are safe to forget.
 * Pure: no I/O. */
#ifndef SLOTCTL_NODE_RULES_H
#define SLOTCTL_NODE_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include "slotctl/core/error.h"
#include "slotctl/core/topology.h"

/* Whether the server at addr ("host:port"), whose own CLUSTER NODES is view
 * and which holds keys keys, may join a cluster as a new node. Returns 0,
 * or -1 with an SC_EXIT_REFUSED error naming addr and the reason: it holds
 * keys, it serves slots, or it knows other nodes (it is, or was, in a
 * cluster: CLUSTER RESET it first). */
int node_rules_joinable(const struct topology *view, long long keys, const char *addr,
	struct sc_error *err);

/* The master a new replica should follow: among masters that serve slots
 * and are not flagged fail, pfail, noaddr or handshake, the one with the
 * fewest replicas (not counting failed ones); ties go to the lowest id.
 * NULL when no master qualifies. */
const struct node *node_rules_fewest_replicas(const struct topology *t);

/* Counts the replicas of master_id in t (failed ones included). */
size_t node_rules_replica_count(const struct topology *t, const char *master_id);

/* Whether node id may be removed from t: it must be known, and a master
 * must serve no slot unless drain (the caller drains it first) and have no
 * open slot. A master's
 * replicas go with it when with_replicas, else they need another master
 * (node_rules_fewest_replicas excluding it) to follow. Returns 0, or -1
 * with an SC_EXIT_REFUSED error (SC_EXIT_USAGE for an unknown id) saying
 * why and what to run instead. */
int node_rules_removable(const struct topology *t, const char *id, bool drain, bool with_replicas,
	struct sc_error *err);

/* The master a replica of the removed master `leaving` should follow: as
 * node_rules_fewest_replicas, never `leaving` itself. NULL when none. */
const struct node *node_rules_new_master(const struct topology *t, const char *leaving);

/* Writes into ids (at most max) the indexes in t of the nodes that
 * forget-failed removes: flagged fail or noaddr, not myself, serving no
 * slot. Returns how many there are (may exceed max). */
size_t node_rules_forgettable(const struct topology *t, size_t *ids, size_t max);

#endif
