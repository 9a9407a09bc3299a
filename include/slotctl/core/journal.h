/* journal.h: the executor's checkpoint. An append-only file of JSON lines next
 * to the plan ("<plan>.journal", or --state FILE): one "start" record per run
 * (apply, resume, abort), a "slot" record at every phase change of every
 * slot, an "end" record when a run stops. The journal says where to look; the
 * cluster says what is true: resume and abort re-derive each unfinished
 * slot's phase from the nodes.
 *
 * The core part (records, encoding, folding into per-slot state) is pure and
 * lives here and in src/core/journal/journal.c; the file edge (append + fsync,
 * load) and the lock that keeps one run per journal at a time
 * ("<journal>.lock") are io's: slotctl/io/journal_file.h. */
#ifndef SLOTCTL_JOURNAL_H
#define SLOTCTL_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include "slotctl/core/error.h"
#include "slotctl/core/keyslot.h"
#include "slotctl/core/topology.h"
#include "slotctl/core/transport.h"

#define JOURNAL_FORMAT_MAJOR 1
#define JOURNAL_FORMAT_MINOR 3 /* 1.1: "pacing" and "shards" in START records;
                                  1.2: "backend" in START, "job" in SLOT records;
                                  1.3: "transport" in START */

/* A slot's progress, in protocol order. FAILED and ABORTED are outcomes. */
enum journal_phase {
	JOURNAL_PENDING = 0,      /* planned, untouched */
	JOURNAL_IMPORTING,        /* IMPORTING set on the target */
	JOURNAL_MIGRATING,        /* MIGRATING set on the source; keys may be moving */
	JOURNAL_KEYS_MOVED,       /* the source holds no key of the slot */
	JOURNAL_OWNER_TARGET,     /* SETSLOT NODE sent to the target */
	JOURNAL_OWNER_SOURCE,     /* ... and to the source */
	JOURNAL_OWNER_ALL,        /* ... and to every other master */
	JOURNAL_DONE,             /* finished */
	JOURNAL_ABORTED,          /* rolled back: the source owns it again, nothing open */
	JOURNAL_PHASE_COUNT
};

/* The pacing and batching a run moved keys with (START record "pacing",
 * format 1.1), so that a resume or abort continues at the same pace unless
 * told otherwise. 0 in a field: that limit was off (pacing) or the default
 * (batching). */
struct journal_pacing {
	bool recorded;            /* the START record carried it (older journals do not) */
	long long max_keys_per_sec;
	long long max_bytes_per_sec;
	long long max_block_us;
	long long batch_keys;
	long long batch_bytes;
	int parallel;
};

enum journal_kind {
	JOURNAL_REC_START = 0,    /* a run begins */
	JOURNAL_REC_SLOT,         /* a slot changed phase, or failed */
	JOURNAL_REC_END,          /* a run stopped */
};

struct journal_record {
	enum journal_kind kind;
	long long time_ms;        /* wall clock, ms since the epoch */
	/* START */
	char op[16];              /* "apply", "resume", "abort" */
	char fingerprint[17];     /* the plan's topology fingerprint */
	char plan_path[1024];     /* the plan file, as given ("" when unknown) */
	char *seeds;              /* "host:port,host:port,..." of the plan's masters (owned) */
	struct journal_pacing pacing; /* written when pacing.recorded */
	char backend[16];         /* the mover backend the run moved slots with ("keys", "atomic";
	                             "" in a journal before 1.2: "keys") */
	char *shards;             /* the run's shards, each its name (the master the plan named) and
	                             the other node ids of it, space-separated, shards separated by ';'
	                             (owned; NULL: not recorded, a journal before 1.1); in the file an
	                             array of arrays of ids */
	struct transport_note transport; /* TLS and which of its options (1.2; never a secret) */
	/* SLOT */
	int slot;
	enum journal_phase phase;
	bool failed;              /* the slot stopped at `phase` with `message` */
	char from[SC_NODE_ID_LEN + 1];
	char to[SC_NODE_ID_LEN + 1];
	int batch;                /* the plan batch the move belongs to */
	long long keys;           /* keys moved so far in this slot (informative) */
	char job[SC_NODE_ID_LEN + 1]; /* the server-side (atomic) migration job moving the slot,
	                             "" when none (written from 1.2 on) */
	/* END */
	char status[16];          /* "done", "aborted", "interrupted", "failed" */
	char message[512];        /* SLOT failed / END: what happened */
};

/* Returns the record's phase name ("pending", "importing", "migrating",
 * "keys-moved", "owner-on-target", "owner-on-source", "owner-on-all", "done",
 * "aborted"). */
const char *journal_phase_name(enum journal_phase phase);

/* Parses a phase name into *out. Returns 0, or -1 when unknown. */
int journal_phase_parse(const char *name, enum journal_phase *out);

/* Encodes r as one JSON line ending in "\n" (caller frees). NULL with an error
 * on OOM. Never holds a password. */
char *journal_encode(const struct journal_record *r, struct sc_error *err);

/* Decodes one line (len bytes, without its newline) into out (released with
 * journal_record_release). Returns -1 with an SC_EXIT_USAGE error naming the
 * field on malformed input or an unknown major version; out is written only
 * on success. */
int journal_decode(const char *line, size_t len, struct journal_record *out, struct sc_error *err);

/* Frees what a record owns (seeds, shards) and zeroes it. */
void journal_record_release(struct journal_record *r);

/* What the journal says about one slot of the plan. */
struct journal_slot {
	int slot;
	char from[SC_NODE_ID_LEN + 1];
	char to[SC_NODE_ID_LEN + 1];
	int batch;
	enum journal_phase phase;
	bool failed;
	char message[512];        /* the failure, when failed */
	long long keys;
	char job[SC_NODE_ID_LEN + 1]; /* the atomic job of its last record, "" none */
};

/* The journal folded: the latest run's plan and every slot's last state. */
struct journal_state {
	char fingerprint[17];
	char plan_path[1024];
	char *seeds;              /* owned */
	struct journal_pacing pacing; /* the latest run's (recorded false when it had none) */
	struct transport_note transport; /* the latest run's (recorded false before 1.2) */
	char *shards;             /* of the latest START that recorded them (owned; NULL: none did) */
	char backend[16];         /* the latest START's backend ("" when it named none: "keys") */
	int runs;                 /* START records seen */
	char last_op[16];         /* op of the latest run */
	bool ended;               /* the latest run wrote an END record */
	char end_status[16];      /* its status, when ended */
	char end_message[512];
	struct journal_slot *slots; /* in first-seen order (the plan's order) */
	size_t count, cap;
	int index[SC_SLOTS];      /* slot -> position in slots, -1 when absent */
};

/* Zeroes st and marks every slot absent. */
void journal_state_init(struct journal_state *st);

/* Applies one record. A START of an "apply" run after a finished run starts
 * over (a new plan); other STARTs continue the same slots. Returns 0, or -1 on
 * OOM. */
int journal_fold(struct journal_state *st, const struct journal_record *r, struct sc_error *err);

/* Decodes and folds every complete line of text (len bytes). A last line
 * without its newline (torn by a crash mid-write) is ignored. Returns -1 with
 * an SC_EXIT_USAGE error naming the line number on a malformed line. */
int journal_replay(struct journal_state *st, const char *text, size_t len, struct sc_error *err);

/* The slot's state, or NULL when the journal does not mention it. */
const struct journal_slot *journal_state_slot(const struct journal_state *st, int slot);

/* True when the slot needs no more work (done or aborted). */
bool journal_slot_settled(const struct journal_slot *s);

/* Number of slots that are not settled. */
size_t journal_state_unfinished(const struct journal_state *st);

/* True when every slot is settled: a new apply may start. */
bool journal_state_finished(const struct journal_state *st);

void journal_state_release(struct journal_state *st);

/* ---- what the cluster says (pure, src/core/journal/journal_derive.c) ---- */

/* Where a move of slot from -> to stands according to the nodes' own views
 * (each node's CLUSTER NODES): the source's, the target's and those of the
 * other masters (others may be NULL when n_others is 0). The phase returned is
 * the one to continue from:
 *   target claims the slot:  owner-on-all (every view agrees), owner-on-source
 *                            (the source agrees), else owner-on-target;
 *   only the source gave it: keys-moved (NODE must still reach the target);
 *   source owns it:          migrating (both markers), importing (target's
 *                            marker only), else pending.
 * Returns -1 with an SC_EXIT_PROBLEMS error saying what each node claims when
 * no move from -> to explains the state (a third owner, no owner): a case for
 * `slotctl fix`. Key counts are the caller's business. */
int journal_derive_phase(const struct topology *src_view, const struct topology *dst_view,
	const struct topology *const *others, size_t n_others, int slot,
	const char *from, const char *to, enum journal_phase *out, struct sc_error *err);

/* The same by shard: from[0] and to[0] are the nodes that play the source
 * and the target now (the marks must name them), the other entries the
 * other members of their shards: a view that still names a node replaced by
 * a failover as a slot's owner counts for its shard. */
int journal_derive_phase_shards(const struct topology *src_view, const struct topology *dst_view,
	const struct topology *const *others, size_t n_others, int slot,
	const char *const *from, size_t n_from, const char *const *to, size_t n_to,
	enum journal_phase *out, struct sc_error *err);

#endif
