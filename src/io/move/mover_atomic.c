/* mover_atomic.c: the "atomic" mover backend (mover.h): a group of pending
 * slots from one source shard to one target shard moves as one server-side
 * job on Valkey 9 (CLUSTER MIGRATESLOTS on the source, the steps in
 * atomic_ops.c): the target streams the slots' keys and takes them at once.
 *
 * Per group (every pending slot of one source/target pair, across the
 * plan's batches: a job costs the same for 1 slot or 4096): start the job
 * through mover_take (the handover gate: the target's bump when it takes
 * must land above every other master); journal every slot "migrating" with
 * the job's name (synced); wait for it (bounded: a job whose state stops
 * changing for ATOMIC_STALL_MS is cancelled); on success journal the slots
 * done (the target's own broadcast tells the cluster). A job that fails is retried
 * (ATOMIC_ATTEMPTS, backoff doubling from ATOMIC_BACKOFF_MS), then the group
 * falls back to the key-by-key path, said in a FALLBACK event. A stop
 * (Ctrl-C) cancels the job (CANCELSLOTMIGRATIONS on the source) and leaves
 * the slots open for resume or abort. Resume and abort settle first: every
 * job still running between the run's masters is waited for (resume) or
 * cancelled (abort); the nodes' views then say where each slot stands, and a
 * slot resumed from a later phase or rolled back takes the key path. */
#include "mover.h"
#include "slotctl/io/atomic_ops.h"
#include "slotctl/io/clock.h"
#include "slotctl/core/exitcode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ATOMIC_ATTEMPTS 3        /* jobs tried per group before the key path */
#define ATOMIC_BACKOFF_MS 250    /* before the second attempt; doubled after each */
#define ATOMIC_STALL_MIN_MS 30000 /* a job whose state and update time stay the same this long
                                     (or 6 command timeouts, if longer) is cancelled */

/* The test-only fault hook: SLOTCTL_TEST_ATOMIC_FAIL=<n> makes the first n
 * job starts of the process fail as if the server had refused them, so
 * tests can see the retries and the fallback to the key path. */
#define ATOMIC_FAIL_ENV "SLOTCTL_TEST_ATOMIC_FAIL"

static int stall_ms(const struct exec_opts *o)
{
	int t = 6 * o->conn.command_timeout_ms;

	return t > ATOMIC_STALL_MIN_MS ? t : ATOMIC_STALL_MIN_MS;
}

/* Whether the test hook fails this start (counted over the process). */
static bool injected_failure(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static long starts;
	const char *env = getenv(ATOMIC_FAIL_ENV);
	bool fail;

	if (!env || !env[0])
		return false;
	pthread_mutex_lock(&lock);
	fail = starts++ < atol(env);
	pthread_mutex_unlock(&lock);
	return fail;
}

/* ---- waiting for a job ---- */

struct watch {
	const struct mover_group *g;
	char state[SLOTMIG_STATE_MAX];
	long long update_time;
	long long changed_ms;     /* when the job was last seen to change */
	int stall_ms;
	bool stalled, stopped;
};

static int on_poll(void *ctx, const struct slotmig_job *now)
{
	struct watch *w = ctx;
	long long t = sc_clock_ms();

	if (w->g && mover_stopped(w->g)) {
		w->stopped = true;
		return 1;
	}
	if (now && (strcmp(now->state, w->state) != 0 || now->last_update_time != w->update_time)) {
		snprintf(w->state, sizeof(w->state), "%s", now->state);
		w->update_time = now->last_update_time;
		w->changed_ms = t;
	}
	if (t - w->changed_ms > w->stall_ms) {
		w->stalled = true;
		return 1;
	}
	return 0;
}

/* Waits until job `name` listed by the node behind c ends, at most
 * within_ms; g (may be NULL) lets a stop request end the wait. Returns 0
 * with *out and *listed (see atomic_wait), 1 when stopped or stalled (w says
 * which), -1 on error (also at the deadline). */
static void watch_start(struct watch *w, const struct mover_group *g, const struct exec_opts *o)
{
	memset(w, 0, sizeof(*w));
	w->g = g;
	w->changed_ms = sc_clock_ms();
	w->stall_ms = stall_ms(o);
}

static int wait_job(struct conn *c, const char *self_id, const char *name, const struct mover_group *g,
	const struct exec_opts *o, long long within_ms, struct watch *w, struct slotmig_job *out, bool *listed,
	struct sc_error *err)
{
	watch_start(w, g, o);
	return atomic_wait(c, self_id, name, w->changed_ms + within_ms, on_poll, w, out, listed, err);
}

/* A job that progresses: the stall rule ends the wait sooner. */
#define ATOMIC_JOB_MAX_MS (24LL * 3600 * 1000)

/* Follows g's job `name` on its source as wait_job does (until it ends,
 * stalls or the run stops), but a poll the source leaves unanswered past
 * the command timeout (a loaded host; the fork of the job's snapshot) does
 * not end it: the job runs on in the server, so polling goes on over a
 * connection of its own (*own, opened here, closed by the caller) for as
 * long as the stall rule allows, counted from the job's last change seen.
 * A source that cannot be reached again ends it (-1). The pool's
 * connections, which the group's other steps hold, are left alone. */
static int follow_job(struct mover_group *g, struct conn *src, struct conn **own, const char *name,
	struct watch *w, struct slotmig_job *end, bool *listed, struct sc_error *err)
{
	long long deadline;

	watch_start(w, g, g->o);
	deadline = w->changed_ms + ATOMIC_JOB_MAX_MS;
	for (;;) {
		struct conn *c = *own ? *own : src;
		char msg[SC_ERROR_MSG_MAX + 64];
		int rc = atomic_wait(c, g->src->id, name, deadline, on_poll, w, end, listed, err);

		if (rc >= 0 || !conn_broken(c) || mover_stopped(g) || sc_clock_ms() - w->changed_ms > w->stall_ms)
			return rc;
		snprintf(msg, sizeof(msg), "atomic job %.8s: %s; polling the source again", name, err->msg);
		exec_emit(g->run, EXEC_EVENT_JOB, NULL, 0, 0, msg);
		conn_close(*own);
		*own = NULL;
		if (conn_open(g->src->host, g->src->port, &g->o->conn, own, err) != 0)
			return -1;
	}
}

/* Cancels every job the source behind c runs and waits until `name` ends
 * there: a cancelled job ends at once, so at most one stall period, whatever
 * it reports meanwhile. *out and *listed as the last poll saw it. */
static int cancel_job(struct conn *c, const char *self_id, const char *name, const struct exec_opts *o,
	struct slotmig_job *out, bool *listed, struct sc_error *err)
{
	struct watch w;
	bool any;
	int rc;

	if (atomic_cancel(c, &any, err) != 0)
		return -1;
	rc = wait_job(c, self_id, name, NULL, o, stall_ms(o), &w, out, listed, err);
	if (rc < 0 && !conn_broken(c))
		err->code = SC_EXIT_PROBLEMS; /* the deadline: the job, not the node, is at fault */
	if (rc == 1)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "slot migration job %.8s on '%s' does not end after "
			"CLUSTER CANCELSLOTMIGRATIONS (still %s)", name, conn_addr(c), w.state);
	return rc;
}

/* ---- one attempt ---- */

struct start_ctx {
	struct conn *src;
	const char *src_id, *dst_id;
	const struct slotset *slots;
	struct slotmig_job job;
	bool named;
};

static int start_job(void *ctx, struct sc_error *err)
{
	struct start_ctx *s = ctx;

	if (injected_failure())
		return sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' replied to CLUSTER MIGRATESLOTS: injected failure (%s)",
			conn_addr(s->src), ATOMIC_FAIL_ENV);
	return atomic_start_job(s->src, s->src_id, s->slots, s->dst_id, &s->job, &s->named, err);
}

/* Whether the node behind c claims every slot of set in its own view. */
static int view_claims(struct conn *c, const char *id, const struct slotset *set, bool *all, struct sc_error *err)
{
	redisReply *r = conn_command(c, err, "CLUSTER NODES");
	struct topology t;
	const struct node *n;
	struct slotset both;

	if (conn_check_reply(c, r, "CLUSTER NODES", err) != 0) {
		freeReplyObject(r);
		return -1;
	}
	if (r->type != REDIS_REPLY_STRING || topology_parse(r->str, r->len, &t, err) != 0) {
		freeReplyObject(r);
		return sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' gave an unreadable CLUSTER NODES", conn_addr(c));
	}
	freeReplyObject(r);
	n = topology_find(&t, id);
	slotset_clear(&both);
	if (n)
		slotset_intersect(&both, node_slots(n), set);
	*all = slotset_equal(&both, set);
	topology_release(&t);
	return 0;
}

static void emit_job(struct mover_group *g, const char *fmt, const char *name, const struct slotset *set,
	const char *state)
{
	char slots[200], msg[400];

	slotset_format(set, slots, sizeof(slots));
	snprintf(msg, sizeof(msg), fmt, name, slots, g->src->addr, g->dst->addr, state);
	exec_emit(g->run, EXEC_EVENT_JOB, NULL, 0, 0, msg);
}

/* Journals every live slot of g at phase with job (synced when sync). */
static int record_all(struct mover_group *g, enum journal_phase phase, const char *job, bool sync,
	struct sc_error *err)
{
	for (size_t i = 0; i < g->n; i++)
		if (mover_alive(g, i))
			snprintf(g->m[i]->job, sizeof(g->m[i]->job), "%s", job);
	return mover_record_live(g, phase, sync, err);
}

/* Leaves every live slot of g open with e (SC_EXIT_INTERRUPTED) or failed. */
static void fail_all(struct mover_group *g, const struct sc_error *e)
{
	for (size_t i = 0; i < g->n; i++)
		if (mover_alive(g, i))
			mover_fail(g, i, e);
}

enum attempt { ATTEMPT_DONE, ATTEMPT_RETRY, ATTEMPT_LEFT };

/* The slots of g moved: journal and count them. No master needs telling:
 * the target took the slots with a bumped configEpoch and broadcast it, and
 * the job ended successfully only once the source had seen it (a SETSLOT
 * NODE per slot and master would cost each of them a config fsync); the
 * run's verification waits until every node shows it. */
static enum attempt finish(struct mover_group *g, struct sc_error *err)
{
	if (mover_record_live(g, JOURNAL_DONE, false, err) != 0)
		return ATTEMPT_LEFT;
	for (size_t i = 0; i < g->n; i++) {
		if (!mover_alive(g, i))
			continue;
		mover_progress(g, i, g->m[i]->keys_est, g->m[i]->bytes_est);
		mover_settled(g, i);
	}
	pthread_mutex_lock(&g->run->lock);
	g->run->progress.atomic_jobs++;
	pthread_mutex_unlock(&g->run->lock);
	return ATTEMPT_DONE;
}

static enum attempt conclude(struct mover_group *g, struct conn *src, struct conn **own, struct conn *dst,
	const struct slotmig_job *job, const struct slotset *set, struct sc_error *err);

/* One job for the slots of set. ATTEMPT_DONE: moved and journaled;
 * ATTEMPT_RETRY: it did not move (err says why); ATTEMPT_LEFT: stopped, or
 * an I/O failure that leaves the slots as they are (err). */
static enum attempt attempt(struct mover_group *g, struct conn *src, struct conn *dst, struct conn *const *masters,
	size_t n, const struct slotset *set, unsigned long *seen, struct sc_error *err)
{
	struct start_ctx s;
	bool owned = false;

	memset(&s, 0, sizeof(s));
	s.src = src;
	s.src_id = g->src->id;
	s.dst_id = g->dst->id;
	s.slots = set;
	/* The slots are journaled (pending) since the run began; a crash
	 * between the start and the record below leaves a job that resume and
	 * abort find anyway: they settle every job running between the run's
	 * masters before the nodes are asked. */
	if (mover_take(g, dst, masters, n, seen, start_job, &s, err) != 0)
		return conn_broken(src) || conn_broken(dst) ? ATTEMPT_LEFT : ATTEMPT_RETRY;
	if (!s.named) {
		/* answered OK, already gone from the log: ownership tells */
		if (view_claims(dst, g->dst->id, set, &owned, err) != 0)
			return ATTEMPT_LEFT;
		if (owned)
			return finish(g, err);
		sc_error_set(err, SC_EXIT_PROBLEMS, "the atomic migration job of slots to '%s' is not listed on '%s'",
			g->dst->addr, g->src->addr);
		return ATTEMPT_RETRY;
	}
	if (record_all(g, JOURNAL_MIGRATING, s.job.name, true, err) != 0)
		return ATTEMPT_LEFT;
	emit_job(g, "atomic job %.8s started: slots %s from %s to %s (%s)", s.job.name, set, s.job.state);
	struct conn *own = NULL;
	enum attempt a = conclude(g, src, &own, dst, &s.job, set, err);

	conn_close(own);
	return a;
}

/* How the started job ends (attempt): followed on the source (follow_job;
 * *own as it says), cancelled when it stalls or the run stops, its slots
 * journaled done when it succeeded or ownership says it moved. */
static enum attempt conclude(struct mover_group *g, struct conn *src, struct conn **own, struct conn *dst,
	const struct slotmig_job *job, const struct slotset *set, struct sc_error *err)
{
	struct slotmig_job end;
	struct watch w;
	bool listed = false, owned = false;
	int rc = follow_job(g, src, own, job->name, &w, &end, &listed, err);

	if (*own)
		src = *own;
	if (rc < 0)
		return ATTEMPT_LEFT;
	if (rc == 1) {
		/* stopped or stalled: cancel, then see what the job became */
		if (cancel_job(src, g->src->id, job->name, g->o, &end, &listed, err) != 0)
			return ATTEMPT_LEFT;
		if (listed && end.outcome == SLOTMIG_SUCCESS)
			return finish(g, err);
		if (w.stopped) {
			sc_error_set(err, SC_EXIT_INTERRUPTED, "stopped: atomic job %.8s cancelled, ownership did not move",
				job->name);
			return ATTEMPT_LEFT;
		}
		sc_error_set(err, SC_EXIT_PROBLEMS, "atomic job %.8s made no progress for %d ms (%s): cancelled",
			job->name, w.stall_ms, w.state);
		return ATTEMPT_RETRY;
	}
	if (listed && end.outcome == SLOTMIG_SUCCESS) {
		emit_job(g, "atomic job %.8s ended: slots %s from %s to %s (%s)", job->name, set, end.state);
		return finish(g, err);
	}
	/* not listed, or failed after the source granted the handover (the
	 * server says the move may have happened): ownership tells */
	if (view_claims(dst, g->dst->id, set, &owned, err) == 0 && owned)
		return finish(g, err);
	sc_error_set(err, SC_EXIT_PROBLEMS, "atomic job %.8s of slots to '%s' %s%s%s%s", job->name, g->dst->addr,
		listed ? slotmig_outcome_name(end.outcome) : "is no longer listed", listed && end.message[0] ? ": '" : "",
		listed ? end.message : "", listed && end.message[0] ? "'" : "");
	emit_job(g, "atomic job %.8s ended: slots %s from %s to %s (%s)", job->name, set,
		listed ? end.state : "gone");
	/* the target drops what it staged before a new job may import the slots */
	struct sc_error ignored;
	if (wait_job(dst, g->dst->id, job->name, NULL, g->o, ATOMIC_JOB_MAX_MS, &w, &end, &listed, &ignored) < 0)
		return ATTEMPT_LEFT;
	return ATTEMPT_RETRY;
}

/* The group goes key by key: every live slot back to pending (nothing of
 * the failed jobs is left on the servers), then the keys backend. */
static void fall_back(struct mover_group *g, const struct slotset *set, const struct sc_error *why)
{
	char slots[200], msg[800];

	slotset_format(set, slots, sizeof(slots));
	snprintf(msg, sizeof(msg), "atomic migration of slots %s from %s to %s failed %d times (last: %s): "
		"moving them key by key", slots, g->src->addr, g->dst->addr, ATOMIC_ATTEMPTS, why->msg);
	pthread_mutex_lock(&g->run->lock);
	g->run->progress.atomic_fallbacks++;
	pthread_mutex_unlock(&g->run->lock);
	exec_emit(g->run, EXEC_EVENT_FALLBACK, NULL, 0, 0, msg);
	for (size_t i = 0; i < g->n; i++) {
		g->m[i]->job[0] = '\0';
		g->m[i]->phase = JOURNAL_PENDING;
	}
	mover_keys.move(g);
}

static void move_one_job(struct mover_group *g)
{
	size_t cap = g->run->node_count + 1, n = 0;
	struct conn **masters = calloc(cap, sizeof(*masters));
	struct conn *src, *dst;
	struct slotset set;
	struct sc_error e = { 0 };
	unsigned long seen = 0;
	long long backoff = ATOMIC_BACKOFF_MS;

	if (g->m[0]->phase != JOURNAL_PENDING) {
		/* resumed from a later phase (no job runs: settle saw to it) */
		free(masters);
		mover_keys.move(g);
		return;
	}
	slotset_clear(&set);
	for (size_t i = 0; i < g->n; i++)
		slotset_add(&set, g->m[i]->slot);
	if (!masters) {
		sc_error_set(&e, SC_EXIT_PROBLEMS, "out of memory");
		goto left;
	}
	if (!(src = conn_pool_get(g->pool, g->src->host, g->src->port, &e)) ||
	    !(dst = conn_pool_get(g->pool, g->dst->host, g->dst->port, &e)) ||
	    mover_masters(g, g->pool, masters, &n, &e) != 0)
		goto left;
	for (int k = 0; k < ATOMIC_ATTEMPTS; k++) {
		if (mover_stopped(g)) {
			sc_error_set(&e, SC_EXIT_INTERRUPTED, "stopped before the atomic job started");
			goto left;
		}
		switch (attempt(g, src, dst, masters, n, &set, &seen, &e)) {
		case ATTEMPT_DONE:
			free(masters);
			return;
		case ATTEMPT_LEFT:
			goto left;
		case ATTEMPT_RETRY:
			break;
		}
		if (k + 1 < ATOMIC_ATTEMPTS) {
			sc_sleep_ms(backoff);
			backoff *= 2;
		}
	}
	free(masters);
	fall_back(g, &set, &e);
	return;
left:
	free(masters);
	fail_all(g, &e);
}

/* Where the chunk of g->m starting at from ends: after the slot that would
 * open range ATOMIC_MAX_RANGES + 1 (ranges counted in g's order: as many as
 * the chunk's slotset has, or more). */
static size_t chunk_end(const struct mover_group *g, size_t from)
{
	size_t ranges = 1, i = from + 1;

	for (; i < g->n; i++) {
		if (g->m[i]->slot != g->m[i - 1]->slot + 1 && ++ranges > ATOMIC_MAX_RANGES)
			break;
	}
	return i;
}

/* Invariant: no job names more than ATOMIC_MAX_RANGES slot ranges
 * (atomic_ops.h says why); a group with more moves as several jobs, one after another,
 * each through move_one_job (its own gate, journal records and retries). */
static void atomic_move(struct mover_group *g)
{
	for (size_t from = 0, to; from < g->n; from = to) {
		struct mover_group chunk = *g;

		to = chunk_end(g, from);
		chunk.m = g->m + from;
		chunk.n = to - from;
		chunk.rc = g->rc + from;
		chunk.err = g->err + from;
		move_one_job(&chunk);
	}
}

static void atomic_rollback(struct mover_group *g)
{
	/* settle cancelled every job: what is left is the key path's to undo */
	mover_keys.rollback(g);
}

/* ---- before a run: can it, and what was left in flight ---- */

/* Calls fn on every master of the run that answers (not retired), with a
 * connection from pool; stops at the first failure. */
static int each_master(struct exec_run *run, struct conn_pool *pool,
	int (*fn)(struct exec_run *, struct exec_node *, struct conn *, void *, struct sc_error *), void *ctx,
	struct sc_error *err)
{
	for (size_t k = 0; k < run->node_count; k++) {
		struct exec_node *node = &run->nodes[k];
		struct conn *c;

		if (node->retired)
			continue;
		if (!(c = conn_pool_get(pool, node->host, node->port, err)) || fn(run, node, c, ctx, err) != 0)
			return -1;
	}
	return 0;
}

/* Whether every master of run has atomic migration: *all, or -1 with err
 * (the first master, in the run's order, that could not be asked; else,
 * when one says no, *all false and an SC_EXIT_REFUSED err naming the
 * first). Asked with atomic_probe_all (one round trip's wait), and once per
 * run: a yes is kept in run->atomic_asked, so that auto's choice and the
 * backend's check do not both ask. */
static int all_support(struct exec_run *run, bool *all, struct sc_error *err)
{
	size_t n = run->node_count;
	struct atomic_probe *p;
	int rc = 0;

	*all = true;
	if (run->atomic_asked)
		return 0;
	if (!(p = calloc(n ? n : 1, sizeof(*p))))
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (!run->nodes[i].retired)
			p[i] = (struct atomic_probe){ .host = run->nodes[i].host, .port = run->nodes[i].port };
	atomic_probe_all(p, n, &run->o->conn);
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (p[i].rc < 0) {
			*err = p[i].err;
			rc = -1;
		}
	for (size_t i = 0; rc == 0 && *all && i < n; i++)
		if (p[i].rc == 0 && !p[i].yes) {
			*all = false;
			sc_error_set(err, SC_EXIT_REFUSED, "'%s' has no atomic slot migration (CLUSTER MIGRATESLOTS, "
				"Valkey 9 and later): use --backend keys or auto", run->nodes[i].addr);
		}
	run->atomic_asked = rc == 0 && *all;
	free(p);
	return rc;
}

static int atomic_usable(const struct exec_run *crun, const struct snapshot *s, struct sc_error *err)
{
	struct exec_run *run = (struct exec_run *)crun; /* its nodes are only read */
	bool all;

	(void)s;
	if (run->o->max_keys_per_sec > 0 || run->o->max_bytes_per_sec > 0)
		return sc_error_set(err, SC_EXIT_REFUSED, "the atomic backend cannot keep --max-keys-per-sec or "
			"--max-bytes-per-sec (the servers move the keys): use --backend keys to pace a move");
	if (all_support(run, &all, err) != 0)
		return -1;
	return all ? 0 : -1;
}

/* Ends (resume) or cancels (abort) one master's running export jobs. */
static int settle_one(struct exec_run *run, struct exec_node *node, struct conn *c, void *ctx, struct sc_error *err)
{
	bool *abort_changed = ctx; /* [0] abort, [1] changed */
	struct slotmig_list l;
	int rc = 0;

	if (atomic_list(c, node->id, &l, err) != 0)
		return -1;
	for (size_t j = 0; j < l.count && rc == 0; j++) {
		const struct slotmig_job *job = &l.jobs[j];
		struct slotmig_job end;
		struct watch w;
		bool listed;

		if (job->op != SLOTMIG_EXPORT || exec_run_node(run, job->target_id) < 0)
			continue;
		/* a job that ended may have ended after the run's first gather
		 * (one held until just before resume began): gather again */
		abort_changed[1] = true;
		if (job->outcome != SLOTMIG_RUNNING)
			continue;
		if (abort_changed[0])
			rc = cancel_job(c, node->id, job->name, run->o, &end, &listed, err);
		else
			rc = wait_job(c, node->id, job->name, NULL, run->o, ATOMIC_JOB_MAX_MS, &w, &end, &listed, err);
		if (rc == 1)
			rc = sc_error_set(err, SC_EXIT_PROBLEMS, "atomic job %.8s on '%s' made no progress for %d ms "
				"(%s): run 'slotctl abort' to cancel it", job->name, node->addr, w.stall_ms, w.state);
	}
	slotmig_list_release(&l);
	return rc;
}

static int atomic_settle(struct exec_run *run, const struct snapshot *s, bool abort, bool *changed,
	struct sc_error *err)
{
	struct conn_pool *pool = conn_pool_new(&run->o->conn);
	bool state[2] = { abort, false };
	int rc;

	(void)s;
	if (!pool)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	rc = each_master(run, pool, settle_one, state, err);
	conn_pool_free(pool);
	*changed = state[1];
	return rc;
}

const struct mover_backend mover_atomic = {
	.name = "atomic",
	.max_group = SC_SLOTS,
	.across_batches = true,
	.redirects_clients = false,
	.usable = atomic_usable,
	.move = atomic_move,
	.rollback = atomic_rollback,
	.settle = atomic_settle,
};

/* "auto" stands for atomic or keys until the run's masters are known. */
const struct mover_backend mover_auto = {
	.name = "auto",
	.max_group = 1,
	.redirects_clients = true,
	.usable = NULL,
	.move = atomic_move,
	.rollback = atomic_rollback,
	.settle = NULL,
};

int mover_backend_resolve(struct exec_run *run, struct sc_error *err)
{
	bool all;

	if (run->backend != &mover_auto)
		return 0;
	if (run->o->max_keys_per_sec > 0 || run->o->max_bytes_per_sec > 0) {
		run->backend = &mover_keys;
		return 0;
	}
	if (all_support(run, &all, err) != 0 && err->code != SC_EXIT_REFUSED)
		return -1;
	run->backend = all ? &mover_atomic : &mover_keys;
	return 0;
}
