/* plan.h: the plan file's model, and reading, validating and writing it as
 * versioned JSON (format documented in man/slotctl-plan.5). Pure: text in,
 * text out; no file or network I/O. */
#ifndef SLOTCTL_PLAN_H
#define SLOTCTL_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include "slotctl/error.h"
#include "slotctl/slotset.h"
#include "slotctl/topology.h"

#define PLAN_FORMAT_MAJOR 1
#define PLAN_FORMAT_MINOR 0

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
	int slots_after;
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

struct plan {
	int format_major, format_minor;
	char created[32];          /* ISO 8601 UTC */
	char version[32];          /* slotctl version that wrote it */
	char seed[300];            /* "host:port" */
	char kind[16];             /* "reshard", "rebalance", "drain" */
	char fingerprint[17];      /* 16 hex digits over masters, addresses, epochs and slot owners */
	struct plan_node *nodes;   /* masters at plan time, sorted by id */
	size_t node_count;
	struct plan_batch *batches;
	size_t batch_count;
	char **warnings;
	size_t warning_count;
	void *extra;               /* cJSON object of fields kept verbatim (options, by, ...); may be NULL */
};

/* Total number of moves across batches. */
size_t plan_move_count(const struct plan *p);

/* The topology fingerprint of a cluster map (masters with slots, their
 * addresses and configEpochs, the slot->owner map), as 16 hex digits. */
void plan_fingerprint(const struct topology *map, char out[17]);

/* Parses and validates plan JSON. Returns -1 with an SC_EXIT_USAGE error
 * naming the field on malformed JSON, an unknown major version, missing
 * fields, a slot out of range or moved twice, or an unknown node; out is
 * written only on success. Caller releases with plan_release. */
int plan_parse(const char *text, size_t len, struct plan *out, struct sc_error *err);

/* Serialises p as indented JSON (caller frees). NULL with an error on OOM.
 * Deterministic: equal plans give equal bytes. */
char *plan_serialize(const struct plan *p, struct sc_error *err);

/* Compares the plan's recorded topology with a live map. Returns 0 when the
 * fingerprint matches; otherwise -1 with an SC_EXIT_STALE_PLAN error saying
 * what changed (a node gone or moved, a slot with another owner, an epoch). */
int plan_check_fresh(const struct plan *p, const struct topology *live, struct sc_error *err);

void plan_release(struct plan *p);

#endif
