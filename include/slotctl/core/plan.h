/* plan.h: the plan file's model, and reading, validating and writing it as
 * versioned JSON (format documented in man/slotctl-plan.5). Pure: text in,
 * text out; no file or network I/O. */
#ifndef SLOTCTL_PLAN_H
#define SLOTCTL_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include "slotctl/core/addr.h"
#include "slotctl/core/error.h"
#include "slotctl/core/slotset.h"
#include "slotctl/core/topology.h"
#include "slotctl/core/transport.h"

/* 2.0: a node's "address" ("host:port") in place of "host" and "port";
 * 1.1 added a master's "replicas". Plans of version 1.x are still read. */
#define PLAN_FORMAT_MAJOR 2
#define PLAN_FORMAT_MINOR 2 /* 2.1: "transport" (TLS and which of its options); 2.2: "by" "cpu"
                            * and a summary's "cpu_usec" */
#define PLAN_FORMAT_OLDEST_MAJOR 1

/* Which planner made a plan. */
enum plan_kind { PLAN_RESHARD = 0, PLAN_REBALANCE, PLAN_DRAIN };

/* The measure a plan balances (rebalance, drain) and gives shares in.
 * MEASURE_UNKNOWN: a plan file that does not say ("by" absent or empty),
 * taken as memory. */
enum plan_measure { MEASURE_UNKNOWN = -1, MEASURE_MEMORY = 0, MEASURE_KEYS, MEASURE_SLOTS, MEASURE_CPU };

/* "reshard", "rebalance", "drain" <-> enum plan_kind (the words of the plan
 * file's "kind"); parse returns 0, or -1 for any other text (out untouched). */
const char *plan_kind_name(enum plan_kind k);
int plan_kind_parse(const char *text, enum plan_kind *out);

/* "memory", "keys", "slots", "cpu" <-> enum plan_measure ("" for MEASURE_UNKNOWN,
 * which parse never gives); parse returns -1 with an SC_EXIT_USAGE error
 * naming the text (as --by's) for any other text. */
const char *plan_measure_name(enum plan_measure m);
int plan_measure_parse(const char *text, enum plan_measure *out, struct sc_error *err);

/* The one measure dispatch: of a master's (or a slot's) slots, keys, bytes
 * and CPU microseconds (CLUSTER SLOT-STATS cpu-usec), the one m measures
 * (bytes for memory and unknown), as it is (a negative count: unknown). */
long long plan_measure_pick(enum plan_measure m, long long slots, long long keys, long long bytes,
	long long cpu_usec);

/* Replicas of a master a plan records (more are left out: apply adds a
 * shard's replicas from the live cluster as well). */
#define PLAN_MAX_REPLICAS 16

/* A master as it was when the plan was made: part of the fingerprint. */
struct plan_node {
	char id[SC_NODE_ID_LEN + 1];
	char host[256];
	int port;
	unsigned long long config_epoch;
	struct slotset slots;      /* owned at plan time */
	/* before/after summary (estimates) */
	long long keys_before, keys_after;
	long long bytes_before, bytes_after;
	long long cpu_usec_before, cpu_usec_after; /* CPU counted on its slots (2.2), -1 unknown */
	int slots_after;
	/* added by the planner (optional in the file; -1 or 1.0 when absent) */
	long long used_memory;     /* INFO used_memory at plan time, -1 unknown */
	long long maxmemory;       /* INFO maxmemory, 0 unlimited, -1 unknown */
	double weight;             /* share weight used by rebalance (1.0 default, 0 empties) */
	/* its shard: the ids of its replicas at plan time, sorted (optional in
	 * the file, format 1.1; apply follows a shard to the replica that takes
	 * over when its master fails over) */
	char replicas[PLAN_MAX_REPLICAS][SC_NODE_ID_LEN + 1];
	int replica_count;
};

struct plan_move {
	int slot;
	char from[SC_NODE_ID_LEN + 1];
	char to[SC_NODE_ID_LEN + 1];
	long long keys;            /* estimated */
	long long bytes;           /* estimated */
	bool hot;                  /* large share of its node's memory: moved with care */
	bool big;                  /* holds a key above the big-key threshold */
};

struct plan_batch {
	struct plan_move *moves;
	size_t count;
};

/* A key above the big-key threshold found by sampling (named for review). */
struct plan_big_key {
	int slot;
	char *key;                 /* printable form (non-printable bytes as \xNN) */
	long long bytes;           /* MEMORY USAGE */
};

struct plan {
	int format_major, format_minor;
	char created[32];          /* ISO 8601 UTC */
	char version[32];          /* slotctl version that wrote it */
	char seed[ADDR_TEXT_MAX];            /* "host:port" */
	enum plan_kind kind;
	char fingerprint[17];      /* 16 hex digits over masters, addresses, epochs and slot owners */
	struct plan_node *nodes;   /* masters at plan time, sorted by id */
	size_t node_count;
	struct plan_batch *batches;
	size_t batch_count;
	char **warnings;
	size_t warning_count;
	void *extra;               /* cJSON object of fields kept verbatim (options, ...); may be NULL */
	/* added by the planner (optional in the file) */
	enum plan_measure by;      /* the balanced measure (MEASURE_UNKNOWN when the file does not say) */
	struct plan_big_key *big_keys;
	size_t big_key_count;
	struct transport_note transport; /* how the cluster was spoken to (2.1; recorded false before) */
};

/* Total number of moves across batches. */
size_t plan_move_count(const struct plan *p);

/* Whether a node of a map is one of the plan's masters: flagged master, not a
 * replica, not in handshake, with an address. */
bool plan_node_eligible(const struct node *n);

/* The plan's view of a map: every eligible master (plan_node_eligible) as a
 * plan_node, sorted by id, with id, host (ip), port, config_epoch, slots and
 * replicas (the map's replicas of it, at most PLAN_MAX_REPLICAS) filled; summary fields zero, used_memory/maxmemory -1, weight 1.0. Returns
 * 0 and a calloc'd array (caller frees), or -1 with an error on OOM. */
int plan_nodes_from_map(const struct topology *map, struct plan_node **out,
	size_t *count, struct sc_error *err);

/* The topology fingerprint of a cluster map (its plan_nodes_from_map masters
 * that own slots: ids, addresses, configEpochs and slot->owner map), as 16
 * hex digits (FNV-1a 64). Masters without slots are left out: their roles
 * settle late after a failover or CLUSTER REPLICATE. Equal to
 * plan_fingerprint_nodes over plan_nodes_from_map. */
void plan_fingerprint(const struct topology *map, char out[17]);

/* The same fingerprint over plan nodes (sorted by id, as in a plan). */
void plan_fingerprint_nodes(const struct plan_node *nodes, size_t count, char out[17]);

/* The node of p with exactly this id, or NULL. */
const struct plan_node *plan_find_node(const struct plan *p, const char *id);

/* Parses and validates plan JSON. Returns -1 with an SC_EXIT_USAGE error
 * naming the field on malformed JSON, an unknown major version, missing
 * fields, a slot out of range or moved twice, or an unknown node (also: a
 * move whose source does not own the slot in "nodes", from equal to to, two
 * nodes claiming a slot); out is written only on success. Unknown top-level
 * fields are kept in extra (written back by plan_serialize). Caller releases
 * with plan_release. */
int plan_parse(const char *text, size_t len, struct plan *out, struct sc_error *err);

/* Serialises p as indented JSON (caller frees). NULL with an error on OOM.
 * Deterministic: equal plans give equal bytes. */
char *plan_serialize(const struct plan *p, struct sc_error *err);

/* Compares the plan's recorded topology with a live map. Returns 0 when the
 * fingerprint matches and every master that receives slots in the plan is
 * still a master at its address; otherwise -1 with an SC_EXIT_STALE_PLAN
 * error saying what changed (a node gone or moved, a slot with another owner,
 * an epoch). */
int plan_check_fresh(const struct plan *p, const struct topology *live, struct sc_error *err);

/* Frees everything p owns (nodes, batches and their moves, warnings, big
 * keys, extra) and zeroes it. Safe on a zeroed struct. Plans built by hand
 * must allocate these with malloc for this to hold. */
void plan_release(struct plan *p);

#endif
