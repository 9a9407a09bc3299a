/* mover.h: the executor's mover backends, and what the executor gives them.
 *
 * A backend is how the keys and the ownership of a group of slots get from
 * one shard to another. The executor (exec_sched.c) decides which slots move
 * when; a backend only moves the group it is handed and says how each slot
 * ended. Backends:
 *   "keys"    today's key-by-key path (mover_keys.c: IMPORTING/MIGRATING,
 *             GETKEYSINSLOT + MIGRATE, then SETSLOT NODE through the one
 *             finaliser of handover.h); the default, and the one every
 *             journal written before backends existed ran with;
 *   "atomic"  (issue 17) server-side atomic slot migration on Valkey 9:
 *             CLUSTER MIGRATESLOTS on the source for the group's ranges, the
 *             server moving the data and flipping ownership itself.
 * A backend is chosen once per run (mover_backend_find, by exec_opts.backend
 * for apply; by the name the journal records for resume and abort) and the
 * run keeps it (exec_run.backend).
 *
 * WHAT A BACKEND IS GIVEN: a struct mover_group: n slots (exec_move) of one
 * plan batch, from one source shard to one target shard, all forward or all
 * rollback, with the masters that play source and target now; the worker's
 * connection pool (data path; open others with conn_pool_new(&g->o->conn),
 * never share one between groups); the run's options (timeouts in
 * g->o->conn, MIGRATE's own in g->o->migrate_timeout_ms, pacing, batching,
 * the stop flag); and the services below: journal hooks (mover_record),
 * progress for events, metrics and pacing (mover_progress), cancellation
 * (mover_stopped), connections to every master (mover_masters) and the one
 * gate in front of every change of owner (mover_take, handover.h).
 * Groups of pending forward slots hold up to backend->max_group slots; a
 * slot resumed from a later phase, and a rollback, come alone (n == 1).
 *
 * WHAT IT REPORTS, per slot i, before returning: g->rc[i] == 0, moved and
 * finalised (journaled done, or aborted for a rollback, and
 * exec_run.expected updated: mover_settled); or mover_fail(g, i, e): failed
 * with e (a real failure: journaled as failed, an ERROR event, resumable),
 * or left open for resume (e->code SC_EXIT_INTERRUPTED: after a stop, or
 * because an earlier slot of the group failed). Progress goes through
 * mover_progress as keys move; the executor emits SLOT_DONE and ERROR from
 * the outcomes.
 *
 * WHAT IT MUST KEEP: the epoch invariant of handover.h (no target takes a
 * slot, nor starts a job in which the server makes it take one, except
 * through mover_take; keys move before any owner changes; every master is
 * told the new owner at once); every phase it reaches journaled
 * (mover_record) before the next step, so that resume can pick the slot up;
 * no call waits forever (every wait bounded by the run's timeouts); nothing
 * printed. */
#ifndef SLOTCTL_MOVER_H
#define SLOTCTL_MOVER_H

#include <stdbool.h>
#include <stddef.h>
#include "executor_priv.h"
#include "slotctl/io/handover.h"

/* A group of slots handed to a backend (see the top of this file). */
struct mover_group {
	struct exec_run *run;
	const struct exec_opts *o;  /* the run's options: timeouts, pacing, batching, stop */
	struct conn_pool *pool;     /* the worker's connections (data path) */
	struct conn_pool *ctl;      /* the worker's control connections (SETSLOTs, the handover gate), kept
	                             * across its groups; a group that fails clears them (conn_pool_clear) */
	struct exec_move **m;       /* the slots: m[i]->slot, ->phase, ->keys_est, ->bytes_est, ->keys_moved */
	size_t n;
	const struct exec_node *src, *dst; /* the masters playing source and target now (id, host, port, addr) */
	bool rollback;              /* abort: every slot goes back to src (keys leave dst) */
	int *rc;                    /* per slot: 0 while it progresses and when it finished */
	struct sc_error *err;       /* per slot, when failed or left open */
};

/* Whether slot i of g still progresses (not failed nor left open). */
static inline bool mover_alive(const struct mover_group *g, size_t i)
{
	return g->rc[i] == 0;
}

/* Slot i of g failed with e, or (e->code SC_EXIT_INTERRUPTED) is left open
 * for resume. */
static inline void mover_fail(struct mover_group *g, size_t i, const struct sc_error *e)
{
	g->rc[i] = -1;
	g->err[i] = *e;
}

struct mover_backend {
	const char *name;           /* "keys", "atomic": as options and the journal name it */
	size_t max_group;           /* the most slots one group holds (>= 1) */
	bool across_batches;        /* a group takes the pair's pending slots of every plan batch the
	                               plan's order lets start now (exec_sched.c), not of one batch
	                               (a server-side job costs the same for 1 slot or 4096) */
	bool redirects_clients;     /* clients see ASK redirects to the target while a slot moves
	                               (keys); false when ownership flips at a job's end (atomic).
	                               A master owning no slot yet takes its first from one source
	                               at a time only with a backend that redirects (exec_sched.c) */
	/* Whether this run can use the backend on the cluster s (server
	 * versions, options it cannot keep): 0, or -1 with an SC_EXIT_REFUSED
	 * error saying why. Called before anything changes. NULL: always. */
	int (*usable)(const struct exec_run *run, const struct snapshot *s, struct sc_error *err);
	/* Moves every slot of g forward to done (from whatever phase each
	 * m[i]->phase says), filling every outcome. */
	void (*move)(struct mover_group *g);
	/* Brings every slot of g back to its source (abort), journaled
	 * aborted, filling every outcome. */
	void (*rollback)(struct mover_group *g);
	/* Resume and abort, before the nodes are asked where each slot of the
	 * journal stands: ends or cancels (abort) whatever this backend left in
	 * flight on the servers (a server-side job), so that the nodes' views
	 * tell the truth about every slot; *changed when it changed anything,
	 * or anything may have changed since the run's first gather (a job that
	 * ended by itself meanwhile): the executor then gathers the cluster
	 * again. 0, or -1 with err
	 * (nothing resumed). NULL: nothing in flight survives the process. */
	int (*settle)(struct exec_run *run, const struct snapshot *s, bool abort, bool *changed,
		struct sc_error *err);
};

/* The backend named name (NULL or "": "keys"), or NULL when none is. */
const struct mover_backend *mover_backend_find(const char *name);

/* The first backend, today's key-by-key path (mover_keys.c). */
extern const struct mover_backend mover_keys;

/* Server-side atomic slot migration on Valkey 9 (mover_atomic.c), and
 * "auto", which stands for it or for keys until mover_backend_resolve. */
extern const struct mover_backend mover_atomic;
extern const struct mover_backend mover_auto;

/* When run->backend is "auto": atomic when every master of the run has
 * atomic slot migration and no pacing is asked for, else keys. 0, or -1
 * with an error (a master that does not answer). */
int mover_backend_resolve(struct exec_run *run, struct sc_error *err);

/* ---- services the executor gives a backend ---- */

/* Journals slot i reaching phase (see exec_record): the journal is how
 * resume knows which slots to look at; the nodes say where each stands. */
int mover_record(struct mover_group *g, size_t i, enum journal_phase phase, struct sc_error *err);

/* mover_record for every live slot of g (mover_alive) in one journal
 * write, synced when sync (see exec_record_many). */
int mover_record_live(struct mover_group *g, enum journal_phase phase, bool sync, struct sc_error *err);

/* Counts keys and bytes moved for slot i (bytes 0: unknown, estimated from
 * the plan), emits a BATCH event, fires the test hooks, and sleeps as the
 * run's pacing (--max-keys-per-sec, --max-bytes-per-sec) requires. */
void mover_progress(struct mover_group *g, size_t i, long long keys, long long bytes);

/* Whether the operator asked the run to stop: finish what is in flight,
 * leave the rest open (mover_fail with SC_EXIT_INTERRUPTED). */
bool mover_stopped(const struct mover_group *g);

/* Slot i of g is settled: owned by its target (forward) or its source
 * again (rollback), which the run's verification then expects. */
void mover_settled(struct mover_group *g, size_t i);

/* Connections from pool to every master of the run but g's target, g's
 * source first (the others in run order; replaced nodes left out), into
 * out (room for the run's node count), *n how many. 0, or -1 with err. */
int mover_masters(struct mover_group *g, struct conn_pool *pool, struct conn **out, size_t *n,
	struct sc_error *err);

/* The one way a target takes slots in a run: handover_take (handover.h)
 * with the run's ledger of takes. taker is g's target; masters[0..n) every
 * other master (mover_masters); *seen is the caller's last take (0: none);
 * take(ctx) runs the command(s) by which the taker takes (SETSLOT NODE on
 * itself, or starting a server-side job that does). */
int mover_take(struct mover_group *g, struct conn *taker, struct conn *const *masters, size_t n,
	unsigned long *seen, handover_take_fn *take, void *ctx, struct sc_error *err);

#endif
