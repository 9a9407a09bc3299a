/* snapshot.h: what every node of a cluster says, gathered at one moment from
 * one seed address: the data and its pure accessors. Each node keeps its own
 * view (its CLUSTER NODES, CLUSTER INFO and the cluster settings operators
 * are warned about), so that checks can say which node disagrees about what.
 * Gathering it from the nodes is io's (slotctl/io/snapshot.h,
 * src/io/cluster/snapshot.c); reading it is here (src/core/cluster/snapshot_view.c). */
#ifndef SLOTCTL_CORE_SNAPSHOT_H
#define SLOTCTL_CORE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include "slotctl/core/addr.h"  /* addr_parse, addr_format */
#include "slotctl/core/error.h"
#include "slotctl/core/info_text.h"
#include "slotctl/core/topology.h"

struct node_view {
	char host[256];
	int port;
	char addr[ADDR_TEXT_MAX];                 /* "host:port" */
	char id[SC_NODE_ID_LEN + 1];    /* as known from peers' views; "" if unknown */
	bool reachable;                 /* answered CLUSTER NODES */
	bool loading;                   /* answered it LOADING: still loading its dataset (not reachable) */
	struct sc_error error;          /* why not reachable (or what failed), when set */
	struct topology view;           /* its own CLUSTER NODES (empty if unreachable) */
	char cluster_state[16];         /* "ok", "fail", or "" when unknown */
	unsigned long long current_epoch;
	long long node_timeout_ms;      /* cluster-node-timeout, -1 unknown */
	int require_full_coverage;      /* 1 yes, 0 no, -1 unknown */
	int migration_barrier;          /* -1 unknown */
	bool prefers_hostnames;         /* cluster-preferred-endpoint-type is hostname: the view's
	                                   nodes are dialled by their announced names */
	struct info_replica replicas[INFO_REPLICAS_MAX]; /* a master's replicas as its INFO
	                                   replication lists them (acknowledged offset, lag) */
	int replica_count;              /* of them; 0 also when unknown */
	long long repl_offset;          /* its master_repl_offset, -1 unknown */
};

struct snapshot {
	struct node_view *nodes;        /* seed first, then in discovery order */
	size_t count;
	int reference;                  /* index of the reachable view used as the cluster's map, or -1 */
};

/* Frees every view and the node array; s is left empty (count 0, reference
 * -1) and may be released again. */
void snapshot_release(struct snapshot *s);

/* The reference view (the seed's, or the first reachable one): the cluster's
 * map that commands act on. NULL when no node was reachable (reference -1 or
 * out of range). */
const struct topology *snapshot_map(const struct snapshot *s);

/* The index of the view of the node with this id, or -1 (also for a NULL or
 * empty id: a node whose id is unknown is not found by it). */
int snapshot_index(const struct snapshot *s, const char *id);

/* The view of the node with this id, or NULL (as snapshot_index). */
const struct node_view *snapshot_find(const struct snapshot *s, const char *id);

/* 0 when every reachable node's view is one a real cluster gives; else -1
 * with topology_require_sound_to's SC_EXIT_REFUSED error for the first
 * defect found (slotctl refuses to doing, e.g. "move slots", on it). The
 * findings check names node-listed-twice, address-listed-twice and
 * myself-not-one. */
int snapshot_require_sound(const struct snapshot *s, const char *doing, struct sc_error *err);

#endif
