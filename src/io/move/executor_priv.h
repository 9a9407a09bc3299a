/* executor_priv.h: what the executor's files share: the run's types, then
 * each file's functions under its name, in the order the calls go (each
 * file calls only files listed below it): exec_apply.c apply and
 * exec_recover.c resume and abort (the entry points, slotctl/io/executor.h),
 * exec_recover_journal.c what resume and abort take from the journal,
 * executor.c what the entry points share (a run to its end), exec_failover.c
 * following a failover mid-run, exec_place.c where a move stands from what
 * the nodes say, preflight.c gathering the cluster and the checks before
 * apply, verify.c the check after a run, exec_sched.c the scheduler, which
 * hands groups of moves to a mover backend (mover.h: mover_keys.h for the
 * key-by-key one; mover.c the services backends use), exec_journal.c the
 * journal and events, exec_shard.c the shards, exec_run.c the run's state.
 * Not a public interface. */
#ifndef SLOTCTL_EXECUTOR_PRIV_H
#define SLOTCTL_EXECUTOR_PRIV_H

#include <pthread.h>
#include "slotctl/io/executor.h"
#include "slotctl/io/journal_file.h"
#include "slotctl/io/pool.h"
#include "slotctl/io/slotops.h"
#include "slotctl/io/snapshot.h"
#include "slotctl/io/handover.h"

struct mover_backend;

/* A master of the live map, as the run addresses it. */
struct exec_node {
	char id[SC_NODE_ID_LEN + 1];
	char host[256];
	int port;
	char addr[ADDR_TEXT_MAX];
	bool busy;                /* keys are leaving it in a running move (scheduler, under the lock) */
	int giving, taking;       /* running forward moves it is the source / the target of (under the
	                             lock): never both at once (see handover.h) */
	int first_give, first_take; /* the earliest batch in which it still gives / takes a slot
	                             (INT_MAX: none), and */
	int owns;                 /* whether it owns a slot (-1 not looked up): scheduler scratch,
	                             one pick's, under the lock (plan_order) */
	bool retired;             /* no longer a master (failed over): told nothing, plays no part */
	int shard;                /* index into run->shards of the shard it is a member of, -1 none */
};

/* A shard: a master and its replicas, named by the id of the master it had
 * when the run (or the plan) began; the journal's from/to are shard names.
 * After a failover its master is another member: the run follows it. Every
 * known node is a member of one shard at most. */
struct exec_shard {
	char name[SC_NODE_ID_LEN + 1];
	char (*members)[SC_NODE_ID_LEN + 1]; /* the name first */
	size_t count;
};

enum exec_move_state { MOVE_WAITING, MOVE_RUNNING, MOVE_FINISHED, MOVE_FAILED };

struct exec_move {
	int slot;
	int batch;
	int src, dst;             /* indexes into run->nodes: the masters playing source and target now */
	int src_shard, dst_shard; /* indexes into run->shards: whose master src and dst are */
	enum journal_phase phase; /* where it stands; the protocol continues from here */
	bool rollback;            /* abort: bring it back to the source */
	bool src_open, dst_open;  /* markers seen at the start on the shard's master or replicas (rollback only) */
	long long keys_est, bytes_est;
	bool probe;               /* measure key sizes (MEMORY USAGE) to bound batches by bytes */
	bool alone;               /* the plan moves it alone (a hot slot): a barrier (exec_sched.c) */
	long long keys_moved;
	char job[SC_NODE_ID_LEN + 1]; /* the atomic backend's server-side job moving it, "" none:
	                             journaled with its phases */
	enum exec_move_state state;
};

/* A test-only hook: due at the at-th time a slot reaches phase (a journal
 * phase, JOURNAL_PHASE_COUNT for a MIGRATE batch); phase -1: off. */
struct exec_hook {
	int phase;
	long at, seen;
};

struct exec_run {
	const struct exec_opts *o;
	const char *op;           /* "apply", "resume", "abort" */
	struct journal_file *journal;
	char journal_path[1024];
	struct exec_node *nodes;  /* every master of the map the run started from, then masters it followed */
	size_t node_count;
	struct exec_shard *shards;
	size_t shard_count;
	int failovers;            /* failovers followed so far */
	struct exec_move *moves;  /* in plan order */
	size_t move_count;
	int expected[SC_SLOTS];   /* node index each slot should end on, -1 unowned */
	pthread_mutex_t lock;     /* scheduler state, progress */
	pthread_cond_t changed;
	pthread_mutex_t event_lock; /* one on_event call at a time */
	size_t running;
	const struct mover_backend *backend; /* how the run's slots move (mover.h) */
	bool atomic_asked;        /* every master of the run said it has atomic migration (asked once:
	                             mover_backend_resolve, then the backend's usable) */
	struct handover_ledger ledger; /* the takes of the run (handover_take) */
	bool halted;              /* a failure or a stop: start no new move */
	struct sc_error failure;  /* the first failure, when halted by one */
	struct exec_progress progress;
	long long start_us;
	char start_note[300];     /* the START event's message ("" none): the pace a resume inherited */
	/* the test-only hooks (EXEC_CRASH_ENV, EXEC_HOLD_ENV) */
	struct exec_hook crash, hold;
	char hold_path[1024];
};

/* ---- exec_recover_journal.c: what resume and abort take from the journal ---- */

/* The options of a resume or abort: those the operator gave (o), the others
 * as the run it continues recorded them (p; exec_opts.given says which were
 * given). Returns them; changes nothing. */
struct exec_opts exec_inherit_pacing(const struct exec_opts *o, const struct journal_pacing *p);

/* Says which options m took from the journal rather than from o (those that
 * differ), in the words of the command line, into buf ("" when none). */
void exec_describe_inherited(const struct exec_opts *o, const struct exec_opts *m, char *buf, size_t size);

/* Refuses (SC_EXIT_REFUSED, -1) a journal that records a run of another
 * plan than the one the operator named: another fingerprint, or a slot the
 * plan does not move so. Returns 0 when it is the plan's. */
int exec_check_same_plan(const struct journal_state *st, const char *journal_path,
	const struct plan *plan, struct sc_error *err);

/* A journal that records no slot (empty, or a START only: a run cut short
 * before its pending records reached the file) cannot say which slots were
 * moving. With the plan, every move of it is folded into st as a slot of
 * unknown phase (pending), which the nodes then tell, and st takes the
 * plan's fingerprint when it records no run; without (plan NULL), refused
 * (SC_EXIT_REFUSED). Returns 0, or -1 with err. */
int exec_slots_from_plan(struct journal_state *st, const char *journal_path, const struct plan *plan,
	const char *op, struct sc_error *err);

/* Marks the recovered moves the plan moves alone (exec_move.alone): its hot
 * slots, when the operator gave the plan; else, from the journal alone,
 * every slot that was alone in its batch (a hot slot is, and so may be a
 * batch of one slot that was not hot: it then waits as a barrier, as every
 * batch once did). Returns 0, or -1 on OOM. */
int exec_mark_alone(struct exec_run *run, const struct plan *plan, const struct journal_state *st,
	struct sc_error *err);

/* ---- executor.c: what the entry points share ---- */

/* Refuses a run without the TLS options that made the plan or the journal
 * (what, path: "the journal", its path), naming the missing ones. Returns
 * 0 when the options given match what was recorded. */
int exec_tls_as_recorded(const struct transport_note *then, const char *what, const char *path,
	const struct conn_opts *conn, struct sc_error *err);

/* The rest of apply, resume and abort once run is built and its START
 * journaled: runs its moves (exec_run_moves), follows a failover mid-run
 * (exec_follow_failovers), then, when every move finished and no stop came,
 * verifies (exec_verify; res->verified), writes the END record and the
 * summary and fills res (exec_run_finish). seed_host:seed_port is the node
 * verification starts from. Returns 0, or -1 with err: the run's failure or
 * the verification's. */
int exec_run_to_end(struct exec_run *run, bool abort, const char *seed_host, int seed_port,
	struct exec_result *res, struct sc_error *err);

/* ---- exec_failover.c: following a failover ---- */

/* How long a run waits, after a move failed, for a failover of its source's
 * or target's shard to show and settle (the new master and its peer knowing
 * each other as masters), and a recovered run, before it moves, for its
 * moves' ends to know each other so; how many failovers one run follows. */
#define EXEC_FAILOVER_WAIT_MS 10000
#define EXEC_FAILOVER_MAX 8

/* Looks at the cluster, gathering s from the run's masters, until: after a
 * run of moves failed (!before), a failover of an unfinished move's shard
 * has settled (0, *changed, s filled), or none shows within
 * EXEC_FAILOVER_WAIT_MS while an endpoint answers as a replica, or at once
 * when none does (0, !*changed); -1 with err when a failover did not settle
 * in time or no node answers. Before a recovered run moves (before): until
 * every unfinished move's ends know each other as masters, at most
 * EXEC_FAILOVER_WAIT_MS (0 either way: without agreement the run fails as
 * before, naming the node). Changes nothing on the cluster; the caller
 * releases s. */
int exec_await_failover(struct exec_run *run, struct snapshot *s, bool before, bool *changed,
	struct sc_error *err);

/* After a run of moves failed (rc != 0, err): when a shard of an unfinished
 * move failed over, follows it: once the new master and its peers agree,
 * every unfinished move is placed anew from the nodes (exec_place_move: the
 * promoted replica holds the keys already moved, not the marks), the marks
 * its slot left on the nodes replaced are cleared (SETSLOT STABLE), a
 * FAILOVER event says which pair each now runs between, and the moves run
 * again; at most EXEC_FAILOVER_MAX times a run. Returns the run's outcome
 * (rc when it was 0); the original failure when no failover explains it. */
int exec_follow_failovers(struct exec_run *run, int rc, bool abort, struct sc_error *err);

/* ---- exec_place.c: where a move stands ---- */

/* Where move m (its slot and shards set) stands now: which masters play its
 * source and target shards (a failover gives a shard another one; a source
 * that gave its last slot away and turned replica is added to the run), and
 * its phase as their views show it (marks left on a node that was replaced
 * do not count: the protocol opens them again on the new one); sets m's
 * src, dst, phase, rollback (abort, keys not all moved) and src_open /
 * dst_open. Tells its target the slot's owner when it lost track of it
 * after a failover (SETSLOT NODE naming the owner, on pool). Returns 0, or
 * -1 with err: refuses (SC_EXIT_REFUSED), changing nothing, when a shard has
 * no master left or the state is not one a move explains; SC_EXIT_UNREACHABLE
 * when a master playing an end does not answer. */
int exec_place_move(struct exec_run *run, const struct snapshot *s, struct conn_pool *pool,
	struct exec_move *m, bool abort, struct sc_error *err);

/* ---- preflight.c: the cluster a run starts from, the checks before apply ---- */

/* Gathers a snapshot into s from the first seed that answers: first (NULL:
 * none), then each of the comma-separated others; host, port get the seed
 * used. Refuses, before anything changes, a map no real cluster gives
 * (snapshot_require_sound). Returns 0, or -1 with err (SC_EXIT_USAGE when no
 * address parses). */
int exec_gather(const char *first, const char *others, const struct conn_opts *o, struct snapshot *s,
	char *host, size_t host_size, int *port, struct sc_error *err);

/* The checks before apply changes anything: the plan matches the live map
 * (SC_EXIT_STALE_PLAN), every node answers (SC_EXIT_UNREACHABLE), the cluster
 * passes check and every target has memory headroom (SC_EXIT_REFUSED).
 * *transient is set when the refusal comes from check's findings, which may
 * still settle (views converging, a bus link reconnecting): worth another
 * look in a moment. */
int exec_preflight(const struct plan *plan, const struct snapshot *s, const struct exec_opts *o,
	bool *transient, struct sc_error *err);

/* Keys the plan says average more than this get their sizes measured. */
#define EXEC_PROBE_AVG_BYTES (64LL << 10)

/* How long apply keeps looking while check finds problems, before refusing. */
#define EXEC_PREFLIGHT_WAIT_MS 5000

/* Every node of s answered, but (run given: resume, abort) one that its
 * shard has replaced (a master that failed over and died: retired in run);
 * else SC_EXIT_UNREACHABLE naming the first. run may be NULL (apply). */
int exec_require_reachable(const struct exec_run *run, const struct snapshot *s, struct sc_error *err);

/* ---- verify.c ---- */

/* Waits (up to opts->verify_wait_ms) until every node reachable from the
 * seed agrees that each slot is owned as run->expected says (by that node or
 * another of its shard: a failover after the moves is no failure), no slot is
 * open, every view is cluster_state:ok and the masters' configEpochs are
 * distinct. Changes one thing: a slot of the run that a replica alone
 * shows open (it missed its master's replicated close, Valkey 8+) its master
 * is told to close again (SETSLOT STABLE, no owner change; see verify.c),
 * said once a slot (a VERIFY event with a message).
 * Returns 0, or -1 with an SC_EXIT_PROBLEMS error naming what is still
 * wrong. */
int exec_verify(struct exec_run *run, const char *seed_host, int seed_port, struct sc_error *err);

/* ---- exec_sched.c: the scheduler ---- */

/* Runs every waiting move on up to opts->parallel workers, handing them to
 * the run's backend in groups (mover.h), never two moves sent by one node at
 * once, and never a forward move in which a node gives a slot beside one in
 * which it takes one (handover.h); moves of different plan batches run
 * together but where the plan needs a barrier (a slot planned alone, a
 * node's giving and taking in the plan's order; exec_sched.c). Stops
 * starting moves after the first failure or a stop request. Returns 0 when
 * all finished, else -1 with the
 * first failure (or SC_EXIT_INTERRUPTED). */
int exec_run_moves(struct exec_run *run, struct sc_error *err);

/* Makes a halted run ready to run its waiting moves again (after a
 * failover): no failure, no node busy, no slot counted as failed. */
void exec_run_rearm(struct exec_run *run);

/* ---- exec_journal.c: the journal, events and the test-only hooks ---- */

/* Wall clock in ms since the epoch (journal timestamps). */
long long exec_wall_ms(void);

/* Writes the address ("host:port") of the i-th of n nodes of ctx into buf. */
typedef void exec_addr_fn(const void *ctx, size_t i, char *buf, size_t size);

/* The n addresses given by addr_of, comma-separated: the seeds a journal
 * records. Returns a new string (the caller frees it), or NULL on OOM. */
char *exec_join_addrs(size_t n, exec_addr_fn *addr_of, const void *ctx);

/* Arms the test-only hooks, opens the journal and appends the run's START
 * record with the pacing in effect (and, with write_pending, a pending
 * record per move), synced. */
int exec_run_start_journal(struct exec_run *run, const char *fingerprint, const char *plan_path,
	bool write_pending, struct sc_error *err);

/* Journals m reaching phase (written at once, on disk within
 * JOURNAL_FLUSH_INTERVAL_MS: the nodes, not the journal, are the truth about
 * a slot's phase), updates m->phase, and fires the test-only hooks. The run's
 * START and pending records, failures and END are synced before going on. */
int exec_record(struct exec_run *run, struct exec_move *m, enum journal_phase phase, struct sc_error *err);

/* exec_record for the n moves of ms, every record in one write
 * (journal_file_append_many), synced when sync; the hooks fire after the
 * write, one per move, in order. */
int exec_record_many(struct exec_run *run, struct exec_move *const *ms, size_t n, enum journal_phase phase,
	bool sync, struct sc_error *err);

/* Journals the failures among the n moves of ms (rcs[i] != 0 with errs[i]
 * not an interruption: a slot left open for resume is no failure), one
 * record each and one fdatasync for them all: a failed job of 4096 slots
 * took 44 s of syncs one by one. */
void exec_record_failures(struct exec_run *run, struct exec_move *const *ms, const int *rcs,
	const struct sc_error *errs, size_t n);

/* Reports that the moves ms[0..n) of one group failed with e (not an
 * interruption: nothing then) as one error event naming all their slots;
 * their journal records are exec_record_failures'. */
void exec_run_failed(struct exec_run *run, struct exec_move *const *ms, size_t n, const struct sc_error *e);

/* Fires the test-only hooks (EXEC_CRASH_ENV, EXEC_HOLD_ENV) due now that a
 * slot reached phase (JOURNAL_PHASE_COUNT: a MIGRATE batch). */
void exec_test_hooks(struct exec_run *run, int phase);

/* Emits an event about m (NULL: none) with the current progress. */
void exec_emit(struct exec_run *run, enum exec_event_kind kind, const struct exec_move *m,
	long long keys, long long bytes, const char *message);

/* Ends the run (rc its outcome so far, err its failure when rc != 0; the
 * caller verified): writes the END record, emits the summary and fills res.
 * Returns rc. */
int exec_run_finish(struct exec_run *run, int rc, struct exec_result *res, const struct sc_error *err);

/* ---- exec_shard.c: shards, and which node plays each one now ---- */

/* The shard id is a member of, or -1. */
int exec_shard_of(const struct exec_run *run, const char *id);

/* The shard id is a member of, or a new one named id. Returns its index, or
 * -1 with an error on OOM. */
int exec_shard_ensure(struct exec_run *run, const char *id, struct sc_error *err);

/* Adds id to shard k unless it is in a shard already. 0, or -1 on OOM. */
int exec_shard_add(struct exec_run *run, int k, const char *id, struct sc_error *err);

/* Adds the shards of a journal's text form (journal_record.shards; NULL or
 * "" adds none). 0, or -1 on OOM. */
int exec_shards_parse(struct exec_run *run, const char *text, struct sc_error *err);

/* The run's shards in the journal's text form (caller frees), NULL on OOM. */
char *exec_shards_format(const struct exec_run *run);

/* Adds to the shards the nodes of s's map that are in none yet, each as it
 * describes itself in its own view when it answered (the seed's view may
 * not know a role yet): a replica joins its master's shard; a master joins
 * the shard of one of its replicas (a node promoted since, or one that
 * joined and was promoted). 0, or -1 on OOM. */
int exec_shards_grow(struct exec_run *run, const struct snapshot *s, struct sc_error *err);

/* Grows the shards with s, gives every node of the run that is in none a
 * shard of its own (named by its id), and sets each node's shard. */
int exec_shards_link(struct exec_run *run, const struct snapshot *s, struct sc_error *err);

/* Which node plays shard k now (see exec_shard.c): *out gets its index in
 * run->nodes (appended when new), or -1 when no member answers as a master.
 * 0, or -1 with an error on OOM. */
int exec_shard_master(struct exec_run *run, const struct snapshot *s, int k, int *out, struct sc_error *err);

/* The refusal for a slot whose shard k has no master left, naming it and
 * its replicas (SC_EXIT_REFUSED). Returns -1. */
int exec_shard_none_left(const struct exec_run *run, int k, int slot, struct sc_error *err);

/* Marks retired every node of the run that is no longer its shard's master
 * (another member is, or it answers as a replica). */
void exec_shards_retire(struct exec_run *run, const struct snapshot *s);

/* ---- exec_run.c: the run's state ---- */

/* Initialises run for op with opts (nodes/moves empty). */
void exec_run_init(struct exec_run *run, const char *op, const struct exec_opts *opts);
void exec_run_release(struct exec_run *run);

/* Fills run->nodes with the map's masters (plan_node_eligible) and
 * run->expected with the map's owners. Returns 0 or -1 on OOM. */
int exec_run_nodes(struct exec_run *run, const struct topology *map, struct sc_error *err);

/* The index of the node with this id in run->nodes, or -1. */
int exec_run_node(const struct exec_run *run, const char *id);

/* The index of the node with this id in run->nodes, appending it when
 * missing: a replica promoted by a failover, or a node that is no longer a
 * master (the source of an interrupted move that gave away its last slot and
 * became a replica) so that the move can be finished: told SETSLOT NODE, it
 * answers as a replica, which counts as done. Returns its index, or -1 with
 * an error on OOM. */
int exec_run_add_node(struct exec_run *run, const char *id, const char *host, int port,
	struct sc_error *err);

/* Appends a move (state waiting) from the shard of node src to the shard of
 * node dst. Returns it, or NULL with an error on OOM. */
struct exec_move *exec_run_add(struct exec_run *run, int slot, int batch, int src, int dst,
	enum journal_phase phase, struct sc_error *err);

#endif
