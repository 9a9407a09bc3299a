/* mover_keys.h: the parts of the "keys" mover backend (mover.h), today's
 * key-by-key path: mover_keys.c its entry points, exec_group.c a group of pending slots as a stream, exec_finish.c the
 * finisher of a group's emptied slots, exec_slot.c one slot's protocol from
 * any phase, forward and back, and the MIGRATE options. Calls go one way:
 * mover_keys.c to exec_group.c and exec_slot.c, exec_group.c to
 * exec_finish.c and exec_slot.c (each to the services of mover.h). Not a public interface. */
#ifndef SLOTCTL_MOVER_KEYS_H
#define SLOTCTL_MOVER_KEYS_H

#include "mover.h"

/* ---- exec_slot.c: MIGRATE options ---- */

/* What the key mover's per-batch callback needs (lives as long as the move). */
struct keys_batch_ctx {
	struct mover_group *g;
	size_t i;
};

/* The migrate options for slot i of g (asking: the keys leave a node that
 * is importing the slot, i.e. a rollback), batches sized by the run's
 * batching and pacing. ctx is filled and used as the callback's context
 * (mover_progress). */
void keys_migrate_opts(struct mover_group *g, size_t i, bool asking, struct keys_batch_ctx *ctx,
	struct migrate_opts *out);

/* ---- exec_slot.c: one slot ---- */

/* Drives slot i of g forward from its phase to done: IMPORTING, MIGRATING,
 * keys, NODE on the target, then the source and every other master. Never
 * sends NODE while the source holds keys of the slot. 0, or -1 with err. */
int exec_slot_forward(struct mover_group *g, size_t i, struct sc_error *err);

/* Rolls slot i of g back: STABLE on the source, keys on the target back to
 * the source (ASKING + MIGRATE), STABLE on the target; journals aborted. */
int exec_slot_rollback(struct mover_group *g, size_t i, struct sc_error *err);

/* ---- exec_group.c: pending slots of one pair, as a stream ---- */

/* Slots moved as one group at most: opened together (one round trip to the
 * target, one to the source), then emptied and finished one by one. */
#define EXEC_GROUP_SLOTS 256

/* A target that owns fewer slots than this takes its next ones one at a
 * time, each finished on every master before the next opens, so clients
 * meet few ASK redirections to it before a MOVED has shown it to them. A
 * cluster client that builds its node list from CLUSTER SLOTS, which leaves
 * out a master owning no slot, cannot follow an ASK to a node it does not
 * know (redis-py 4.3's RedisCluster raises AttributeError), and learns of
 * the node only from a MOVED (or a reload after it owns a slot). Opening a
 * whole group at once sent it ASKs for every migrated key, and for every
 * missing key written or read, in up to EXEC_GROUP_SLOTS slots. */
#define EXEC_NEW_TARGET_SLOTS 256

/* Moves g's pending slots (same source, target and batch) from pending to
 * done: IMPORTING and MIGRATING for all in one round trip each, then each
 * slot's keys, each emptied slot's NODE steps overlapping the next slots'
 * keys. Fills every outcome (SC_EXIT_INTERRUPTED for slots left open
 * because an earlier one of the group failed or a stop came). */
void exec_slot_group(struct mover_group *g);

/* ---- exec_finish.c: SETSLOT NODE for a group's emptied slots ---- */

/* The finisher: SETSLOT NODE for emptied slots, in two stages, each a list
 * of group indexes:
 *   ready:   emptied, NODE not sent yet (finished a batch at a time: the
 *            target's replies are awaited at once);
 *   at_rest: the target took it; NODE sent to the source and the others,
 *            replies read at the next step (a FIFO: entries [hr, nr)).
 * Its connections are its own, so its commands never wait behind a MIGRATE
 * of the key stream. Once a send fails, the replies can no longer be matched
 * to slots: every slot queued or pushed later fails (left for resume). */
struct exec_finisher {
	struct mover_group *g;
	const char *dst_id;
	struct conn *target;
	struct conn **rest;       /* [0] the source, then every other master */
	size_t n_rest;
	size_t *ready, nready;
	size_t *at_rest, nr, hr;
	bool broken;
	struct sc_error broke;    /* why, when broken */
	bool plain;               /* quiet steps go one by one: the target refused MULTI or
	                             EXEC, or replicates SETSLOT (slotops_setslot_replicated) */
	size_t lanes;             /* W, connections per node for SETSLOT (exec_finish.c); lane 0 is
	                             target and rest[k], the others are in lane[] */
	struct conn **lane;       /* lanes 1..W-1: [(w - 1) * (1 + n_rest) + 0] the target's,
	                             [.. + 1 + k] rest[k]'s; the connections are ctl's */
	unsigned long seen_takes; /* the run's takes after its last anchor, 0 before the first (handover_take) */
};

/* Sets f up for group g (f zeroed by the caller): connections from ctl to
 * the group's target, source and every other master, and, where the target
 * holds each SETSLOT until its replicas have it (Valkey 8+), lanes: more of
 * ctl's connections to each of them, so that the SETSLOTs of several slots
 * wait for the replicas together (exec_finish.c). 0, or -1 with err;
 * exec_finisher_free in both cases. */
int exec_finisher_open(struct exec_finisher *f, struct mover_group *g, struct conn_pool *ctl,
	struct sc_error *err);
void exec_finisher_free(struct exec_finisher *f);

/* Slot i of the group has no key left on its source: it may be finished. */
void exec_finisher_push(struct exec_finisher *f, size_t i);

/* Between two slots' keys: reads the replies of the slots last sent on to
 * the source and the others, then finishes the pushed slots once a batch of
 * them waits, or any when last (no slot of the group is left to empty).
 * Each slot ends done, or failed in the group. */
void exec_finisher_step(struct exec_finisher *f, bool last);

/* Finishes every slot pushed so far, waiting for each reply. */
void exec_finisher_drain(struct exec_finisher *f);

/* The connection of lane w (0 <= w < f->lanes) to the target (node -1) or
 * to rest[node]. */
struct conn *exec_finisher_lane(const struct exec_finisher *f, int node, size_t w);

#endif
