/* sampler.h: measuring what the slots of a cluster hold, for the planner:
 * keys per slot (CLUSTER SLOT-STATS where the server has it, otherwise
 * CLUSTER COUNTKEYSINSLOT), CPU time per slot (SLOT-STATS cpu-usec, where
 * the server has it and cluster-slot-stats-enabled is yes), memory per slot (MEMORY USAGE of up to N keys
 * per slot from CLUSTER GETKEYSINSLOT, extrapolated; exact when the slot
 * holds no more than N keys), big keys among those sampled, and each
 * master's used_memory and maxmemory (INFO memory). Pipelined, one
 * connection per node, nodes in parallel. Read-only on the cluster. */
#ifdef SLOTCTL_LAYER_CORE
#error "slotctl/io/sampler.h is an io header: the core may not include it (ARCHITECTURE.md)"
#endif
#ifndef SLOTCTL_SAMPLER_H
#define SLOTCTL_SAMPLER_H

#include "slotctl/io/conn.h"
#include "slotctl/core/planner.h"
#include "slotctl/core/topology.h"

#define SAMPLER_DEFAULT_KEYS 16              /* keys sampled per slot */
#define SAMPLER_DEFAULT_BIGKEY (1LL << 20)   /* bytes: 1 MiB */
#define SAMPLER_PIPELINE 64                  /* commands per round trip */
#define SAMPLER_KEYS_PIPELINE 16             /* GETKEYSINSLOT per round trip: each
                                                costs the node several µs, and a
                                                node serves no client meanwhile */
#define SAMPLER_THREADS 16                   /* nodes sampled at once */

struct sampler_opts {
	int sample_keys;          /* keys per slot for memory; 0: key counts only (bytes unknown) */
	long long bigkey_bytes;   /* keys above are big; <= 0: SAMPLER_DEFAULT_BIGKEY */
	int threads;              /* <= 0: SAMPLER_THREADS */
	const bool *measure;      /* per map node: whether to sample its memory (the others get
	                             key counts only, bytes unknown); NULL: every master */
	bool estimate_bytes;      /* where memory is not sampled, estimate each slot's bytes from
	                             its key count and the node's used_memory per key (whole-node
	                             overhead included: an estimate on the high side) */
};

/* What sampling cost, for the operator. */
struct sampler_cost {
	int nodes;                /* masters sampled */
	int memory_nodes;         /* of which had their memory sampled */
	int slot_stats_nodes;     /* of which answered CLUSTER SLOT-STATS */
	long long commands;       /* commands sent */
	long long round_trips;    /* pipelined round trips (summed over nodes) */
	long long keys_sampled;   /* MEMORY USAGE calls */
	double seconds;           /* wall time */
};

/* Samples every eligible master of map (plan_node_eligible), memory only
 * where opts->measure says so, and fills out
 * (initialised here; caller releases with slot_stats_release) and *cost.
 * Slots no master owns stay unknown. Returns 0, or -1 with the first
 * failing node's error (SC_EXIT_UNREACHABLE for I/O or auth, SC_EXIT_PROBLEMS
 * for a refused command), naming 'host:port'; out is then released. */
int sampler_run(const struct topology *map, const struct conn_opts *copts,
	const struct sampler_opts *opts, struct slot_stats *out, struct sampler_cost *cost,
	struct sc_error *err);

#endif
