/* slotmig.h: the model of a server-side (atomic) slot migration: a job
 * that Valkey 9's CLUSTER MIGRATESLOTS starts on a source master and that
 * CLUSTER GETSLOTMIGRATIONS lists on the source (EXPORT) and on the target
 * (IMPORT), the target streaming the slots' keys into a staging area until
 * ownership flips at once. io hands each listed job over as its field/value
 * pairs (src/io/move/atomic_ops.c); this file judges them. Pure: no I/O.
 *
 * What the server promises (valkey src/cluster_migrateslots.c, 9.0/9.1):
 * - states: an export goes connecting, ..., snapshotting, replicating,
 *   waiting-to-pause, failover-paused, failover-granted; an import goes
 *   waiting-for-ack, receiving-snapshot, waiting-for-paused,
 *   failover-requested, failover-granted; an import that did not succeed
 *   passes cleaning-up (its staged keys are dropped) before failed or
 *   cancelled. success, failed, cancelled are final; a failed or cancelled
 *   job never moved ownership (an export "failed" after failover-granted
 *   may have: its message says so, and only ownership tells);
 * - finished jobs stay listed until cluster-slot-migration-log-max-len
 *   newer ones push them out, and not across a restart: a job that is no
 *   longer listed is known only from slot ownership;
 * - an importing target counts the staged keys in COUNTKEYSINSLOT (not in
 *   DBSIZE): they are not stray keys while the import runs. */
#ifndef SLOTCTL_SLOTMIG_H
#define SLOTCTL_SLOTMIG_H

#include <stdbool.h>
#include <stddef.h>
#include "slotctl/core/error.h"
#include "slotctl/core/slotset.h"
#include "slotctl/core/topology.h"

#define SLOTMIG_NAME_LEN 40
#define SLOTMIG_STATE_MAX 32
#define SLOTMIG_MESSAGE_MAX 256

enum slotmig_op { SLOTMIG_EXPORT, SLOTMIG_IMPORT };

/* Where a job stands, from its state. */
enum slotmig_outcome {
	SLOTMIG_RUNNING = 0,  /* any state but the three final ones (also one this
	                         version does not know: it may still hold slots) */
	SLOTMIG_SUCCESS,      /* ownership moved to the target */
	SLOTMIG_FAILED,       /* ownership did not move (but see above) */
	SLOTMIG_CANCELLED,    /* CANCELSLOTMIGRATIONS: ownership did not move */
};

struct slotmig_job {
	char name[SLOTMIG_NAME_LEN + 1];
	enum slotmig_op op;
	struct slotset slots;
	char source_id[SC_NODE_ID_LEN + 1];   /* "" when the reply does not say */
	char target_id[SC_NODE_ID_LEN + 1];
	char state[SLOTMIG_STATE_MAX];        /* the server's word, e.g. "snapshotting" */
	enum slotmig_outcome outcome;
	long long create_time;                /* unix seconds; -1 when not given */
	long long last_update_time;
	char message[SLOTMIG_MESSAGE_MAX];    /* the server's reason, "" when none (cut to fit) */
};

/* One field of a listed job, as io read it (not NUL-terminated; integers
 * given as their decimal text). */
struct slotmig_field {
	const char *key;
	size_t key_len;
	const char *val;
	size_t val_len;
};

/* Parses one job listed by the node whose id is self_id (CLUSTER MYID; it
 * fills the side a 9.0 reply leaves out: its "node" field names only the
 * other end). Needs name (40 hex digits), operation (EXPORT or IMPORT),
 * slot_ranges ("a-b c-d", each in 0..16383, a <= b) and state; takes
 * source_node and target_node, or node, create_time, last_update_time and
 * message when given; ignores fields it does not know. Returns 0 and *out,
 * or -1 with an SC_EXIT_PROBLEMS error "...: <what is wrong>" (out is then
 * untouched). */
int slotmig_job_parse(const struct slotmig_field *f, size_t n, const char *self_id, struct slotmig_job *out,
	struct sc_error *err);

/* The outcome a state word means (see enum slotmig_outcome). */
enum slotmig_outcome slotmig_outcome_of(const char *state);

/* "running", "success", "failed", "cancelled". */
const char *slotmig_outcome_name(enum slotmig_outcome o);

/* Parses "a-b c-d" (GETSLOTMIGRATIONS' slot_ranges) into out (cleared
 * first). 0, or -1 with an SC_EXIT_PROBLEMS error naming the bad range. */
int slotmig_ranges_parse(const char *text, size_t len, struct slotset *out, struct sc_error *err);

/* The jobs one node lists. */
struct slotmig_list {
	struct slotmig_job *jobs;
	size_t count;
};

/* Frees l's jobs and zeroes it. Safe on a zeroed list. */
void slotmig_list_release(struct slotmig_list *l);

/* The listed job named name, or NULL. */
const struct slotmig_job *slotmig_list_find(const struct slotmig_list *l, const char *name);

/* The job an export of exactly `slots` to target_id started: an EXPORT job
 * with those slots and that target whose name is not among the `before`
 * names (the jobs listed before the start; NULL when none); among several,
 * the newest. NULL when there is none. */
const struct slotmig_job *slotmig_list_find_started(const struct slotmig_list *l, const struct slotset *slots,
	const char *target_id, const struct slotmig_list *before);

/* The slots that running jobs of l hold (export and import alike): fills out. */
void slotmig_list_held(const struct slotmig_list *l, struct slotset *out);

/* The slots a node with list l is staging keys for: its running IMPORT
 * jobs (and imports still cleaning up). Fills out. */
void slotmig_list_importing(const struct slotmig_list *l, struct slotset *out);

#endif
