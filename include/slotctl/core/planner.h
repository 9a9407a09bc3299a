/* planner.h: deciding which slots go where. Pure: a cluster map, what the
 * slots hold (struct slot_stats, filled by the sampler) and options in, a
 * struct plan out (see plan.h). No sockets, no clock, no printing; the same
 * inputs give the same plan. */
#ifndef SLOTCTL_PLANNER_H
#define SLOTCTL_PLANNER_H

#include <stdbool.h>
#include <stddef.h>
#include "slotctl/core/error.h"
#include "slotctl/core/plan.h"
#include "slotctl/core/topology.h"

/* What the slots of a cluster hold, as measured (or estimated) by sampling. */
struct node_memory {
	char id[SC_NODE_ID_LEN + 1];
	long long used_memory;   /* INFO used_memory, -1 unknown */
	long long maxmemory;     /* INFO maxmemory, 0 unlimited, -1 unknown */
};

struct slot_stats {
	long long keys[SC_SLOTS];  /* keys in the slot, -1 unknown */
	long long bytes[SC_SLOTS]; /* estimated memory of its keys, -1 unknown */
	bool big[SC_SLOTS];        /* holds a key above the big-key threshold */
	long long cpu_usec[SC_SLOTS]; /* CPU the server spent on the slot's commands (CLUSTER
	                                 SLOT-STATS cpu-usec, counted while the server's
	                                 cluster-slot-stats-enabled is yes), -1 unknown */
	struct node_memory *nodes; /* per master; may be NULL */
	size_t node_count;
	struct plan_big_key *big_keys; /* sorted by slot, then key */
	size_t big_key_count;
};

/* Sets every slot unknown (-1), no nodes, no big keys. */
void slot_stats_init(struct slot_stats *s);

/* Frees nodes and big keys and re-initialises s. */
void slot_stats_release(struct slot_stats *s);

/* The memory entry of node id, or NULL. */
const struct node_memory *slot_stats_node(const struct slot_stats *s, const char *id);

enum plan_pick { PICK_CHEAPEST = 0, PICK_LOWEST };

#define PLANNER_DEFAULT_THRESHOLD 2.0      /* percent, as redis-cli */
#define PLANNER_DEFAULT_BATCH 64           /* slots per batch */
#define PLANNER_HOT_SHARE 0.15             /* of its node's memory */
#define PLANNER_KEY_SPREAD_WARN 2.0        /* rebalance warns when a master ends with this many times its share of keys */

struct planner_opts {
	const char *seed;          /* "host:port", recorded in the plan */
	enum plan_measure by;      /* the balanced measure (rebalance, drain) */
	int max_slots_per_batch;   /* 0: PLANNER_DEFAULT_BATCH */
	bool strict;               /* refuse (SC_EXIT_REFUSED) on capacity warnings */
	/* reshard */
	const char *from;          /* "ID[,ID...]" or "all" (IDs may be unique prefixes) */
	const char *to;            /* ID or unique prefix */
	int slots;                 /* how many slots (exactly), or 0 with slot_ranges */
	const char *slot_ranges;   /* "0-99,500", or NULL */
	enum plan_pick pick;
	/* rebalance */
	const char *const *weights; /* "ID=W" texts (ID a unique prefix, W >= 0) */
	size_t weight_count;
	double threshold;          /* percent of each master's share; <= 0: default */
	bool use_empty_masters;    /* masters without slots may receive */
	/* drain */
	const char *drain;         /* ID or unique prefix */
};

/* Checks what of opts needs no cluster: --slot-ranges is a valid range list
 * and each --weight is ID=W with W a number from 0 to 1000000. Commands call
 * it before they connect, so a typo costs no sampling; the planners apply
 * the same rules (and check the ids against the map). Returns 0, or -1 with
 * an SC_EXIT_USAGE error naming the option. */
int planner_opts_check(const struct planner_opts *opts, struct sc_error *err);

/* Splits a --weight text "ID=W" into id (NUL-terminated, at most
 * SC_NODE_ID_LEN characters; id_size > SC_NODE_ID_LEN) and *weight (0 to
 * 1000000; not NaN or infinite). Returns 0, or -1 with an SC_EXIT_USAGE error
 * quoting text. Outputs are written only on success. */
int planner_weight_parse(const char *text, char *id, size_t id_size, double *weight, struct sc_error *err);

/* Each makes a plan of kind "reshard", "rebalance" or "drain" from map (the
 * cluster's reference view) and stats, filling out (caller releases with
 * plan_release): nodes with before/after estimates, ordered batches (hot
 * slots alone and last), big keys, warnings and the fingerprint; `created`
 * and `version` are left for the caller. A plan with no moves is valid
 * ("nothing to do"). Returns -1 with an error otherwise: SC_EXIT_USAGE for bad
 * options (unknown or ambiguous ID, impossible slot count, a slot not owned
 * by a source), SC_EXIT_REFUSED for a capacity problem with opts->strict, a
 * failing master that would have to give or take slots, or a map no real
 * cluster gives (topology_require_sound). out is written only
 * on success. */
int planner_reshard(const struct topology *map, const struct slot_stats *stats,
	const struct planner_opts *opts, struct plan *out, struct sc_error *err);
int planner_rebalance(const struct topology *map, const struct slot_stats *stats,
	const struct planner_opts *opts, struct plan *out, struct sc_error *err);
int planner_drain(const struct topology *map, const struct slot_stats *stats,
	const struct planner_opts *opts, struct plan *out, struct sc_error *err);

/* The masters a reshard with opts (--from, --to) would take slots from, so
 * that only their memory need be sampled: source[i] is set for
 * map->nodes[i] (map->count entries, written only on success). Returns 0, or
 * -1 with the error planner_reshard would give for --from and --to. */
int planner_reshard_sources(const struct topology *map, const struct planner_opts *opts, bool *source,
	struct sc_error *err);

#endif
