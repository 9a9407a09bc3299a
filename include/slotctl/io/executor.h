/* executor.h: applying a plan to a live cluster, with a journal that lets an
 * interrupted run be resumed or aborted. Three entry points share one engine:
 *   executor_apply   pre-flight (fresh plan, healthy cluster, every node
 *                    reachable, memory headroom), then every move;
 *   executor_resume  re-derives each unfinished slot's phase from the nodes
 *                    and drives it forward;
 *   executor_abort   rolls every unfinished slot back to its source (keys
 *                    already on the target travel back), except slots whose
 *                    new owner the target already claims: those are finished.
 * Each slot follows the protocol of slotops.h; moves run concurrently
 * (--parallel) but never two sent by the same node at once, and a node never
 * gives slots in one move while it takes slots in another; a target takes a
 * slot only past the gate of handover.h (the epoch invariant). After the run every
 * node's view is checked against the expected map (bounded wait). Nothing here
 * prints: progress and results go to the caller's event callback. */
#ifdef SLOTCTL_LAYER_CORE
#error "slotctl/io/executor.h is an io header: the core may not include it (ARCHITECTURE.md)"
#endif
#ifndef SLOTCTL_EXECUTOR_H
#define SLOTCTL_EXECUTOR_H

#include <stdbool.h>
#include <stddef.h>
#include "slotctl/io/conn.h"
#include "slotctl/core/error.h"
#include "slotctl/core/plan.h"

/* Defaults for struct exec_opts fields left 0. Keys per MIGRATE: gentle by
 * default, 20 (a slot of ~60 small keys goes in three short MIGRATEs, each
 * blocking the source ~0.15 ms, and the source is idle between them, so its
 * clients wait about as little as under redis-cli's 10-key MIGRATEs, at
 * about twice its speed: bench/README.md); with --fast (a maintenance
 * window) 1000, a whole slot in one MIGRATE at the pace the servers allow.
 * A count, not a time: a bound on each MIGRATE's time as slotctl sees it
 * includes the round trip to the source, so on a busy host or over a
 * network a bound as short as 0.3 ms shrank every MIGRATE to one key (a
 * 4096-slot reshard took 88 s instead of 5 on this machine under load). */
#define EXEC_DEFAULT_BATCH_KEYS 20
#define EXEC_FAST_BATCH_KEYS 1000
#define EXEC_DEFAULT_BATCH_BYTES (8LL << 20)
#define EXEC_DEFAULT_MAX_BLOCK_US 20000
#define EXEC_DEFAULT_VERIFY_WAIT_MS 30000
/* A paced move has time to spare, so its MIGRATEs are kept small (each
 * blocks its source for less): paced by keys, at most the pace / this many
 * keys, and no fewer than EXEC_PACED_MIN_BATCH (redis-cli's default) unless
 * the pace itself is lower; paced by bytes, at most the pace / this many
 * bytes (a key bigger than that still travels, alone). About 2000 MIGRATEs
 * a second leave a stream half idle even on a slow host. */
#define EXEC_PACED_MIGRATES_PER_SEC 2000
#define EXEC_PACED_MIN_BATCH 10

/* The test-only crash hook: SLOTCTL_TEST_CRASH_AT=<phase>:<n> makes the
 * executor SIGKILL itself right after journaling the n-th slot to reach
 * <phase> (a journal phase name, e.g. "importing", "owner-on-target"), or
 * after the n-th MIGRATE batch with "keys:<n>". For fault tests only. */
#define EXEC_CRASH_ENV "SLOTCTL_TEST_CRASH_AT"

/* The test-only hold hook: SLOTCTL_TEST_HOLD_AT=<phase>:<n>:<path> makes
 * the executor, at the same points, create "<path>.held" and wait (up to 120
 * s) until <path> exists: a test acts on the cluster at a known point of a
 * run (a failover in the middle of a slot, say). For fault tests only. */
#define EXEC_HOLD_ENV "SLOTCTL_TEST_HOLD_AT"
#define EXEC_HOLD_MAX_MS 120000

enum exec_event_kind {
	EXEC_EVENT_START,         /* the run begins (progress totals set) */
	EXEC_EVENT_BATCH,         /* a MIGRATE moved keys of `slot` */
	EXEC_EVENT_SLOT_DONE,     /* `slot` finished (or was rolled back, on abort) */
	EXEC_EVENT_ERROR,         /* `slots` failed alike (message); they are left resumable */
	EXEC_EVENT_FAILOVER,      /* a shard failed over: its unfinished moves follow its new master (message) */
	EXEC_EVENT_VERIFY,        /* waiting for every node to agree; with a message: what verification
	                             did (closed again a slot a replica missed the close of), once a slot */
	EXEC_EVENT_SUMMARY,       /* the run ended (message: outcome) */
	EXEC_EVENT_JOB,           /* a server-side (atomic) migration job started or ended (message) */
	EXEC_EVENT_FALLBACK,      /* atomic jobs of a batch kept failing: it moves key by key (message) */
};

struct exec_progress {
	size_t slots_total;       /* moves this run handles */
	size_t slots_done;
	size_t slots_failed;
	long long keys_estimated; /* from the plan; 0 when unknown */
	long long bytes_estimated;
	long long keys_moved;
	long long bytes_moved;
	long long batches;
	long long atomic_jobs;    /* server-side (atomic) jobs that moved their slots */
	long long atomic_fallbacks; /* batches the atomic backend handed to the key path */
	double elapsed_s;
};

struct exec_event {
	enum exec_event_kind kind;
	const char *op;           /* "apply", "resume", "abort" */
	int slot;                 /* -1 when not about one slot */
	const char *from;         /* "host:port" of the source, or NULL */
	const char *to;           /* "host:port" of the target, or NULL */
	long long keys;           /* keys of this batch / slot */
	long long bytes;
	const char *message;      /* ERROR: what failed; SUMMARY: the outcome;
	                           * START: the pace taken from the journal, or NULL */
	const struct exec_progress *progress; /* totals so far */
	const char *backend;      /* the run's mover backend ("keys", "atomic"; "auto"
	                           * only before it is resolved), or NULL */
	const struct slotset *slots; /* ERROR: every slot of one group that failed with this
	                           * message, one of them in `slot`; NULL otherwise */
};

/* Bits of exec_opts.given: pacing and batching options given on the command
 * line. The journal's START record keeps every run's pacing; a resume or an
 * abort continues at the recorded pace in each one not given anew. */
#define EXEC_GIVEN_MAX_KEYS_PER_SEC  (1u << 0)
#define EXEC_GIVEN_MAX_BYTES_PER_SEC (1u << 1)
#define EXEC_GIVEN_MAX_BLOCK         (1u << 2)
#define EXEC_GIVEN_BATCH_KEYS        (1u << 3)
#define EXEC_GIVEN_PARALLEL          (1u << 4)

/* The backend apply (and reshard, rebalance) moves with when none is given. */
#define EXEC_DEFAULT_BACKEND "auto"

struct exec_opts {
	struct conn_opts conn;    /* timeouts and credentials (strings borrowed) */
	int parallel;             /* concurrent moves (>= 1) */
	bool replace;             /* overwrite keys that already exist on a target */
	int batch_keys;           /* keys per MIGRATE; 0: default */
	long long batch_bytes;    /* bytes per MIGRATE; 0: default */
	long long max_block_us;   /* bound on how long one MIGRATE blocks its source (µs); 0: default */
	int migrate_timeout_ms;   /* MIGRATE's own timeout; 0: the command timeout */
	long long max_keys_per_sec;  /* pacing over all moves; 0: none */
	long long max_bytes_per_sec; /* pacing over all moves; 0: none */
	int verify_wait_ms;       /* bound on waiting for the nodes to agree; 0: default */
	volatile int *stop;       /* set (e.g. by SIGINT) to finish the batch in flight and stop */
	const char *command;      /* the run as the journal's lock names it to others, e.g.
	                           * "slotctl apply 'plan.json'" (never a password); NULL: "slotctl" */
	const char *backend;      /* the mover backend by name (see src/io/move/mover.h): "keys",
	                           * "atomic", "auto"; NULL: apply EXEC_DEFAULT_BACKEND, resume
	                           * and abort the journal's */
	unsigned given;           /* EXEC_GIVEN_* bits: the pacing options the operator gave;
	                           * resume and abort take the others from the journal */
	/* Called for every event, one call at a time, from any thread. NULL: none. */
	void (*on_event)(void *ctx, const struct exec_event *ev);
	void *ctx;
};

struct exec_result {
	struct exec_progress progress;
	bool verified;            /* every node agreed on the expected map */
	char journal[1024];       /* the journal used */
	bool already_applied;     /* apply: the journal says the plan finished and the cluster agrees; nothing done */
};

/* Applies plan (read from plan_path, which names the journal unless
 * journal_path is given). Holds the journal's lock (journal_lock_acquire)
 * for the whole run. Refuses, changing nothing, when another process holds
 * it (SC_EXIT_REFUSED, naming the holder), when the journal holds an
 * unfinished run (SC_EXIT_REFUSED, pointing to resume and abort), when the
 * plan does not match the live cluster (SC_EXIT_STALE_PLAN, saying what
 * changed), when a node cannot be reached (SC_EXIT_UNREACHABLE), when the
 * cluster is not healthy or a target lacks memory headroom (SC_EXIT_REFUSED,
 * naming the reason and the command that helps). A plan that the journal
 * records as finished, with every slot owned by its target in the live map,
 * is not applied again: returns 0 with res->already_applied. Then moves every slot,
 * journaling each phase, and verifies. Returns 0, or -1 with err's code the
 * exit code: SC_EXIT_INTERRUPTED when stopped (resumable), SC_EXIT_PROBLEMS or
 * SC_EXIT_UNREACHABLE when a slot failed (left open, recorded, resumable).
 * *res is filled in every case. */
int executor_apply(const struct plan *plan, const char *plan_path, const char *journal_path,
	const struct exec_opts *opts, struct exec_result *res, struct sc_error *err);

/* Continues the run recorded in the journal at journal_path: each unfinished
 * slot's phase is re-derived from the nodes (markers, owners, key counts) and
 * driven to the end, at the recorded pace unless opts gives one (see
 * exec_opts.given); then verifies. Holds the journal's lock. plan (read from
 * plan_path; both NULL when only a journal was given) is the plan the
 * operator named: a journal that
 * records another plan (other fingerprint, or a slot moving otherwise than
 * the plan says) is refused. A journal that records no slot (empty, or only
 * a START: cut short by a crash) is never "nothing to do": with a plan, every
 * move of the plan is looked up on the nodes and finished (refused when none
 * was started: that is a case for apply); without one, refused pointing to
 * the plan and to check and fix. Refusals are SC_EXIT_REFUSED and change
 * nothing. Same return rules as executor_apply; a slot in a state no move
 * explains fails naming it (run `slotctl fix`). */
int executor_resume(const char *journal_path, const char *plan_path, const struct plan *plan, const struct exec_opts *opts,
	struct exec_result *res, struct sc_error *err);

/* Rolls back the run recorded at journal_path: for every unfinished slot the
 * keys already on the target go back to the source (ASKING + MIGRATE), then
 * SETSLOT STABLE on both; a slot whose target already claims it is finished
 * instead. Then verifies. Lock, pace, plan and journals that record no slot
 * as for executor_resume (every move of the plan is looked up on the nodes
 * and rolled back; none started: nothing to do). Same return rules as
 * executor_apply. */
int executor_abort(const char *journal_path, const char *plan_path, const struct plan *plan, const struct exec_opts *opts,
	struct exec_result *res, struct sc_error *err);

/* Resolves what `resume`/`abort` were given: a journal file is used as is;
 * anything else is taken as a plan whose journal is "<path>.journal". */
void executor_journal_path(const char *plan_or_state, char *buf, size_t size);

#endif
