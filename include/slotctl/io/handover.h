/* handover.h: the rule every change of a slot's owner keeps, and the waits
 * that enforce it. Every take goes through one function, handover_take (the
 * gate, the take, the count of takes): the executor's finisher (exec_finish.c,
 * exec_slot.c through mover_take: apply, resume, abort, reshard, rebalance,
 * drain, and any mover backend) and fix's owner stage (repair_owner.c) both call
 * it before a node takes a slot with SETSLOT NODE on itself (or bumps); fix
 * also waits with handover_wait_views after each new owner.
 *
 * THE INVARIANT. A node that takes slot S (SETSLOT S NODE <itself>) while
 * importing it takes the greatest configEpoch, E. From then until every node
 * of the cluster, replicas included, shows the new owner in its own view of
 * S, no other node may reach a configEpoch at or above E. Redis hands a slot
 * to whichever claimant has the greater configEpoch, and a node that loses a
 * slot it holds keys in deletes those keys (cluster.c,
 * clusterUpdateSlotsConfigWith, "dirty slots"): a former owner that still
 * claims S (not yet told SETSLOT S NODE), or that some node's stale view
 * still credits with S, would win S back with a higher epoch, and the new
 * owner would delete every key of S. A node's epoch rises by taking a slot
 * it imports (a bump without consensus; on Valkey 8+ also unasked, when
 * a node importing a slot hears that its source no longer claims it: fix
 * hands such slots over before any other, repair_server_may_take), by
 * CLUSTER BUMPEPOCH, by losing an
 * epoch collision (of two masters with equal configEpochs the one with the
 * smaller node id bumps) and by a failover. Hence:
 *   - before a node takes: no two masters share a configEpoch, and the taker
 *     has heard of the greatest (its currentEpoch is at least every master's
 *     configEpoch), so its bump lands above every other node, alone
 *     (handover_gate);
 *   - keys move before any owner changes: every key of S is on the new owner
 *     before it takes S, and SETSLOT NODE goes to a former owner only once it
 *     holds no key of S;
 *   - after a node takes, every master is told at once; and no node that
 *     gives a slot away takes another (bumps) until the slot it gave is shown
 *     as its new owner's everywhere (fix: handover_wait_views after each new
 *     owner; the executor: a node never gives and takes in two moves running
 *     at once, and passes handover_gate before it takes). */
#ifdef SLOTCTL_LAYER_CORE
#error "slotctl/io/handover.h is an io header: the core may not include it (ARCHITECTURE.md)"
#endif
#ifndef SLOTCTL_HANDOVER_H
#define SLOTCTL_HANDOVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include "slotctl/io/conn.h"

/* How long a handover waits for the cluster by default (an epoch collision
 * resolving, the views catching up) before giving up, in ms. */
#define HANDOVER_WAIT_MS 15000

/* Waits, at most wait_ms, until the n masters behind masters[] (every
 * master of the cluster that answers; taker may be among them) report
 * distinct configEpochs (CLUSTER INFO cluster_my_epoch) and taker's
 * cluster_current_epoch is at least each of them: then taker's bump, if
 * any, gives it the greatest configEpoch alone. Changes nothing. Every
 * connection must have no reply pending. Returns 0, or -1 with an
 * SC_EXIT_PROBLEMS error naming the two masters that collide or the epoch
 * taker has not heard of (an I/O error as conn reports it). */
int handover_gate(struct conn *taker, struct conn *const *masters, size_t n, int wait_ms,
	struct sc_error *err);

/* ---- the one finaliser's taking step ----
 *
 * Every change of a slot's owner in slotctl (the executor's finisher for
 * apply, resume, abort and the one-shot commands; fix's owner stage) passes
 * handover_take: the gate above before the taker takes, the take itself,
 * and the count of takes that lets a taker that took last skip the gate next
 * time (no other node can have bumped since). */

/* The takes of one process run (an executor run, a fix), shared by its
 * threads. */
struct handover_ledger {
	pthread_mutex_t lock;
	unsigned long takes;      /* takes counted so far */
};

void handover_ledger_init(struct handover_ledger *l);
void handover_ledger_release(struct handover_ledger *l);

/* The command(s) by which a taker takes: 0, or -1 with err. */
typedef int handover_take_fn(void *ctx, struct sc_error *err);

/* THE place where a node takes slots (keeps the invariant above): unless
 * *seen (the caller's last take, 0 for none) shows that no other take was
 * counted in l since, passes handover_gate (taker against masters[0..n),
 * every master of the cluster that answers, each with no reply pending;
 * HANDOVER_WAIT_MS); then runs take(ctx); when it succeeds, counts the take
 * in l and writes the new count into *seen. The caller tells every other
 * master the new owner right after. Returns 0; -1 with err when the gate
 * did not open (nothing was sent to the taker) or with take's error. */
int handover_take(struct handover_ledger *l, unsigned long *seen, struct conn *taker,
	struct conn *const *masters, size_t n, handover_take_fn *take, void *ctx, struct sc_error *err);

/* Waits, at most wait_ms, until every node behind nodes[] (masters and
 * replicas) shows owner_id owning each of the nslots slots in its own
 * CLUSTER NODES. Changes nothing. Returns 0, or -1 with an SC_EXIT_PROBLEMS
 * error naming a node and a slot it still shows elsewhere (or an I/O
 * error). */
int handover_wait_views(struct conn *const *nodes, size_t n, const char *owner_id, const int *slots,
	size_t nslots, int wait_ms, struct sc_error *err);

#endif
