/* executor.c: the entry points of the executor (see slotctl/io/executor.h):
 * apply (pre-flight, then every move of a plan), resume and abort (the journal
 * says which slots to look at, the nodes say where each one stands; a
 * journal that names no slot is not taken for a finished one), each holding
 * the journal's lock for the whole run, and following a failover mid-run.
 * The scheduler is exec_sched.c, which hands groups of slots to the run's
 * mover backend (mover.h; chosen here). */
#include "mover.h"
#include "slotctl/io/clock.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/file_text.h"
#include "slotctl/core/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOURNAL_HEAD_BYTES (1 << 20) /* a journal's first line (its start record, with the seeds and
                                       * shards of a cluster of thousands of nodes) fits */

void executor_journal_path(const char *plan_or_state, char *buf, size_t size)
{
	size_t len = strlen(plan_or_state), n;
	char *head;
	struct journal_record r;
	struct sc_error ignored;
	bool journal = len > 8 && strcmp(plan_or_state + len - 8, ".journal") == 0;

	/* the first line only, bounded like every read (file_read) */
	if (!journal && file_read(plan_or_state, "plan", JOURNAL_HEAD_BYTES, FILE_READ_HEAD, &head, &n,
	    &ignored) == 0) {
		if (journal_decode(head, strcspn(head, "\n"), &r, &ignored) == 0) {
			journal = true;
			journal_record_release(&r);
		}
		free(head);
	}
	if (journal)
		snprintf(buf, size, "%s", plan_or_state);
	else
		journal_path_for_plan(plan_or_state, buf, size);
}

/* Gathers a snapshot from the first seed that answers: first, then each of
 * the comma-separated others. Remembers the seed used. Refuses, before
 * anything changes, a map no real cluster gives (apply, resume, abort). */
static int gather(const char *first, const char *others, const struct conn_opts *o, struct snapshot *s,
	char *host, size_t host_size, int *port, struct sc_error *err)
{
	char list[8192];
	char *save = NULL, *tok;
	bool tried = false;

	snprintf(list, sizeof(list), "%s,%s", first ? first : "", others ? others : "");
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct sc_error e;

		if (addr_parse(tok, host, host_size, port, &e) != 0)
			continue;
		tried = true;
		if (snapshot_gather(host, *port, o, s, err) == 0)
			return snapshot_require_sound(s, "move slots", err);
	}
	if (!tried)
		return sc_error_set(err, SC_EXIT_USAGE, "no address of the cluster to connect to");
	return -1;
}

static int follow_failovers(struct exec_run *run, int rc, bool abort, struct sc_error *err);

/* Ends a run: verifies when its moves all finished (and no stop came),
 * then the END record and the summary (exec_run_finish). Returns rc or the
 * verification's failure. */
static int end_run(struct exec_run *run, int rc, const char *seed_host, int seed_port,
	struct exec_result *res, struct sc_error *err)
{
	if (rc == 0 && !(run->o->stop && *run->o->stop)) {
		exec_emit(run, EXEC_EVENT_VERIFY, NULL, 0, 0, NULL);
		rc = exec_verify(run, seed_host, seed_port, err);
		res->verified = rc == 0;
	}
	return exec_run_finish(run, rc, res, err);
}

/* Runs the moves of run, following a failover mid-run (follow_failovers),
 * and ends it (end_run): the rest of apply, resume and abort. */
static int run_to_end(struct exec_run *run, bool abort, const char *seed_host, int seed_port,
	struct exec_result *res, struct sc_error *err)
{
	int rc = exec_run_moves(run, err);

	rc = follow_failovers(run, rc, abort, err);
	return end_run(run, rc, seed_host, seed_port, res, err);
}

static int refuse_unfinished(const char *path, struct sc_error *err)
{
	struct journal_state st;
	int rc = journal_load(path, &st, err);

	if (rc < 0)
		return -1;
	if (rc == 0 && !journal_state_finished(&st))
		rc = sc_error_set(err, SC_EXIT_REFUSED,
			"the journal '%s' holds an unfinished run (%zu slots not done); run 'slotctl resume %s' "
			"to finish it or 'slotctl abort %s' to roll it back", path, journal_state_unfinished(&st),
			path, path);
	else
		rc = 0;
	journal_state_release(&st);
	return rc;
}

/* True when the journal at path records plan (same fingerprint) as
 * finished, every move of it done to its target. */
static bool journal_says_applied(const char *path, const struct plan *plan)
{
	struct journal_state st;
	struct sc_error ignored;
	bool done = journal_load(path, &st, &ignored) == 0 && journal_state_finished(&st) &&
		strcmp(st.fingerprint, plan->fingerprint) == 0 && plan_move_count(plan) > 0;

	for (size_t b = 0; done && b < plan->batch_count; b++) {
		for (size_t k = 0; done && k < plan->batches[b].count; k++) {
			const struct plan_move *pm = &plan->batches[b].moves[k];
			const struct journal_slot *js = journal_state_slot(&st, pm->slot);

			done = js && js->phase == JOURNAL_DONE && strcmp(js->to, pm->to) == 0;
		}
	}
	journal_state_release(&st);
	return done;
}

/* True when map gives every slot that plan moves to the move's target. */
static bool map_has_plan_applied(const struct topology *map, const struct plan *plan)
{
	int owner[SC_SLOTS];

	topology_owner_map(map, owner);
	for (size_t b = 0; b < plan->batch_count; b++) {
		for (size_t k = 0; k < plan->batches[b].count; k++) {
			const struct plan_move *pm = &plan->batches[b].moves[k];

			if (owner[pm->slot] < 0 || strcmp(map->nodes[owner[pm->slot]].id, pm->to) != 0)
				return false;
		}
	}
	return true;
}

static int add_plan_moves(struct exec_run *run, const struct plan *plan, struct sc_error *err)
{
	for (size_t b = 0; b < plan->batch_count; b++) {
		for (size_t k = 0; k < plan->batches[b].count; k++) {
			const struct plan_move *pm = &plan->batches[b].moves[k];
			int src = exec_run_node(run, pm->from), dst = exec_run_node(run, pm->to);
			struct exec_move *m;

			if (src < 0 || dst < 0)
				return sc_error_set(err, SC_EXIT_STALE_PLAN,
					"plan moves slot %d between %.8s and %.8s, but the cluster has no such master; "
					"make a new plan", pm->slot, pm->from, pm->to);
			if (!(m = exec_run_add(run, pm->slot, (int)b, src, dst, JOURNAL_PENDING, err)))
				return -1;
			m->keys_est = pm->keys;
			m->bytes_est = pm->bytes;
			m->alone = pm->hot;
			/* the plan's sampling found no big key and small ones: skip MEMORY USAGE */
			m->probe = pm->big || pm->keys <= 0 || pm->bytes / pm->keys >= EXEC_PROBE_AVG_BYTES;
		}
	}
	return 0;
}

/* The shards of an apply: each master of the run with its replicas in the
 * live cluster, and the replicas the plan recorded that the map places in no
 * other shard (a plan without them, before format 1.1, relies on the map). */
static int plan_shards(struct exec_run *run, const struct plan *plan, const struct snapshot *s,
	struct sc_error *err)
{
	for (size_t i = 0; i < run->node_count; i++)
		if (exec_shard_ensure(run, run->nodes[i].id, err) < 0)
			return -1;
	if (exec_shards_grow(run, s, err) != 0)
		return -1;
	for (size_t i = 0; i < plan->node_count; i++) {
		int k = exec_shard_of(run, plan->nodes[i].id);

		for (int j = 0; k >= 0 && j < plan->nodes[i].replica_count; j++)
			if (exec_shard_add(run, k, plan->nodes[i].replicas[j], err) != 0)
				return -1;
	}
	return exec_shards_link(run, s, err);
}

static void plan_addr(const void *ctx, size_t i, char *buf, size_t size)
{
	const struct plan *plan = ctx;

	addr_format(buf, size, plan->nodes[i].host, plan->nodes[i].port);
}

/* Gathers the cluster and runs the pre-flight checks, looking again for a
 * few seconds while the only problems are transient ones. */
static int gather_healthy(const struct plan *plan, const char *seeds, const struct exec_opts *opts,
	struct snapshot *snap, char *host, size_t host_size, int *port, struct sc_error *err)
{
	long long deadline = sc_clock_ms() + EXEC_PREFLIGHT_WAIT_MS;

	for (;;) {
		bool transient = false;

		if (gather(plan->seed, seeds, &opts->conn, snap, host, host_size, port, err) != 0)
			return -1;
		if (exec_preflight(plan, snap, opts, &transient, err) == 0)
			return 0;
		if (!transient || sc_clock_ms() >= deadline || (opts->stop && *opts->stop))
			return -1;
		snapshot_release(snap);
		memset(snap, 0, sizeof(*snap));
		sc_sleep_ms(200);
	}
}

/* Refuses a run without the TLS options that made the plan or the journal
 * (what, path: "the journal", its path), naming the missing ones. */
static int tls_as_recorded(const struct transport_note *then, const char *what, const char *path,
	const struct conn_opts *conn, struct sc_error *err)
{
	struct transport_note now = conn_tls_note(&conn->tls);
	char subject[1100];

	snprintf(subject, sizeof(subject), "%s '%s'", what, path ? path : "");
	return transport_note_check(then, &now, subject, err);
}

int executor_apply(const struct plan *plan, const char *plan_path, const char *journal_path,
	const struct exec_opts *opts, struct exec_result *res, struct sc_error *err)
{
	struct exec_run run;
	struct snapshot snap = { 0 };
	struct journal_lock *lock = NULL;
	char host[256];
	int port = 0, rc = -1;
	char *seeds = exec_join_addrs(plan->node_count, plan_addr, plan);

	memset(res, 0, sizeof(*res));
	exec_run_init(&run, "apply", opts);
	run.backend = mover_backend_find(opts->backend ? opts->backend : EXEC_DEFAULT_BACKEND);
	if (journal_path)
		snprintf(run.journal_path, sizeof(run.journal_path), "%s", journal_path);
	else
		journal_path_for_plan(plan_path, run.journal_path, sizeof(run.journal_path));
	snprintf(res->journal, sizeof(res->journal), "%s", run.journal_path);
	if (!seeds) {
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
		goto out;
	}
	if (!run.backend) {
		sc_error_set(err, SC_EXIT_USAGE, "no mover backend '%s'", opts->backend);
		goto out;
	}
	if (journal_lock_acquire(run.journal_path, opts->command, &lock, err) != 0 ||
	    refuse_unfinished(run.journal_path, err) != 0 || tls_as_recorded(&plan->transport, "the plan",
	    plan_path, &opts->conn, err) != 0)
		goto out;
	if (journal_says_applied(run.journal_path, plan)) {
		if (gather(plan->seed, seeds, &opts->conn, &snap, host, sizeof(host), &port, err) != 0)
			goto out;
		if (map_has_plan_applied(snapshot_map(&snap), plan)) {
			res->already_applied = true;
			res->progress.slots_total = res->progress.slots_done = plan_move_count(plan);
			rc = 0;
			goto out;
		}
		snapshot_release(&snap);
		memset(&snap, 0, sizeof(snap));
	}
	if (gather_healthy(plan, seeds, opts, &snap, host, sizeof(host), &port, err) != 0 ||
	    exec_run_nodes(&run, snapshot_map(&snap), err) != 0 ||
	    plan_shards(&run, plan, &snap, err) != 0 ||
	    add_plan_moves(&run, plan, err) != 0 ||
	    mover_backend_resolve(&run, err) != 0 ||
	    (run.backend->usable && run.backend->usable(&run, &snap, err) != 0) ||
	    exec_run_start_journal(&run, plan->fingerprint, plan_path, true, err) != 0)
		goto out;
	rc = run_to_end(&run, false, host, port, res, err);
out:
	free(seeds);
	snapshot_release(&snap);
	exec_run_release(&run);
	journal_lock_release(lock);
	return rc;
}

/* Whether node's own view has a marker for slot (importing or migrating). */
static bool has_marker(const struct topology *view, int slot, bool importing)
{
	const struct node *me = view->myself >= 0 ? &view->nodes[view->myself] : NULL;

	for (size_t i = 0; me && i < me->open_count; i++)
		if (me->open[i].slot == slot && me->open[i].importing == importing)
			return true;
	return false;
}

/* Whether the node with id, or a replica of it, has slot's marker in its
 * own view. Valkey 8+ replicates SETSLOT to the replicas before the master
 * runs it, and drops it on the master when the client that sent it goes
 * away meanwhile: a run killed there leaves the mark on the replicas alone,
 * which a STABLE on the master (replicated too) clears. */
static bool shard_has_marker(const struct snapshot *s, const char *id, int slot, bool importing)
{
	for (size_t i = 0; i < s->count; i++) {
		const struct topology *v = &s->nodes[i].view;
		const struct node *me = s->nodes[i].reachable && v->myself >= 0 ? &v->nodes[v->myself] : NULL;

		if (me && (strcmp(me->id, id) == 0 || strcmp(me->master_id, id) == 0) &&
		    has_marker(v, slot, importing))
			return true;
	}
	return false;
}

/* The views of every master but src and dst (for "owner on all"). */
static const struct topology **other_views(const struct exec_run *run, const struct snapshot *s,
	int src, int dst, size_t *n)
{
	const struct topology **v = calloc(run->node_count ? run->node_count : 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; v && i < run->node_count; i++) {
		const struct node_view *nv = snapshot_find(s, run->nodes[i].id);

		if ((int)i != src && (int)i != dst && nv && !run->nodes[i].retired)
			v[(*n)++] = &nv->view;
	}
	return v;
}

/* Finds the source of a move that is no longer a master: a master that
 * gave away its last slot becomes a replica of the node that took it
 * (cluster-allow-replica-migration), and a run killed before it told that
 * master SETSLOT NODE finds it so. Such a node is added to the run and *out
 * gets its index; otherwise *out is -1. Returns 0, or -1 with err on OOM. */
static int former_master(struct exec_run *run, const struct snapshot *s, const char *id, int *out,
	struct sc_error *err)
{
	const struct node_view *v = snapshot_find(s, id);
	const struct node *me;

	*out = -1;
	if (!v || !v->reachable || v->view.myself < 0)
		return 0;
	me = &v->view.nodes[v->view.myself];
	if (node_is_master(me) || slotset_count(node_slots(me)) > 0)
		return 0;
	*out = exec_run_add_node(run, id, v->host, v->port, err);
	return *out < 0 ? -1 : 0;
}

/* The ids of shard k for journal_derive_phase_shards: node first, then
 * the other members (caller frees; NULL on OOM). */
static const char **shard_ids(const struct exec_run *run, int k, int node, size_t *n)
{
	size_t count = k >= 0 ? run->shards[k].count : 0;
	const char **ids = calloc(count + 1, sizeof(*ids));

	*n = 0;
	if (!ids)
		return NULL;
	ids[(*n)++] = run->nodes[node].id;
	for (size_t j = 0; j < count; j++)
		if (strcmp(run->shards[k].members[j], run->nodes[node].id) != 0)
			ids[(*n)++] = run->shards[k].members[j];
	return ids;
}

/* m's phase from the views of src and dst (the nodes that play its shards
 * now) and the others, a view that names a replaced member of a shard as
 * the owner counting for that shard. */
static int derive_by_shard(const struct exec_run *run, const struct exec_move *m, int src, int dst,
	const struct topology *sv, const struct topology *dv, const struct topology **others, size_t n,
	enum journal_phase *phase, struct sc_error *err)
{
	size_t nf, nt;
	const char **from = shard_ids(run, m->src_shard, src, &nf), **to = shard_ids(run, m->dst_shard, dst, &nt);
	int rc = from && to ? journal_derive_phase_shards(sv, dv, others, n, m->slot, from, nf, to, nt, phase, err) :
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");

	free(from);
	free(to);
	return rc;
}

/* The id of the master view says owns slot, or "". */
static const char *owner_in(const struct topology *view, int slot)
{
	for (size_t i = 0; i < view->count; i++)
		if (node_is_master(&view->nodes[i]) && slotset_has(node_slots(&view->nodes[i]), slot))
			return view->nodes[i].id;
	return "";
}

/* After its source's shard failed over, the target of an open move ignores
 * the promoted replica's claim on the slot (a node importing a slot takes
 * no owner for it from the bus) and, once it hears that the old master is
 * a replica, knows no owner at all: it answers the MIGRATE of the slot's
 * keys with CLUSTERDOWN. SETSLOT NODE tells it the owner; on a node that is
 * not given the slot it changes nothing else (no mark, no epoch). */
static int tell_target_owner(struct exec_run *run, struct conn_pool *pool, const struct exec_move *m,
	const struct topology *dv, struct sc_error *err)
{
	const struct exec_node *src = &run->nodes[m->src], *dst = &run->nodes[m->dst];
	long long deadline = sc_clock_ms() + EXEC_FAILOVER_WAIT_MS;
	struct conn *c;
	int rc;

	if (m->phase >= JOURNAL_KEYS_MOVED || strcmp(owner_in(dv, m->slot), src->id) == 0)
		return 0;
	if (!(c = conn_pool_get(pool, dst->host, dst->port, err)))
		return -1;
	/* right after the failover the target may not yet know the promoted
	 * replica as a master ("Target node is not a master"): give it the
	 * time gossip takes */
	while ((rc = slotops_set_node(c, m->slot, src->id, err)) != 0 && strstr(err->msg, "not a master") &&
	       sc_clock_ms() < deadline)
		sc_sleep_ms(100);
	return rc;
}

/* Where move m (its slot and shards set) stands now: which masters play its
 * source and target shards (a failover gives a shard another one), and its
 * phase as their views show it (marks left on a node that was replaced do
 * not count: the protocol opens them again on the new one), and tells its
 * target the slot's owner when it lost track of it (tell_target_owner).
 * Refuses, changing nothing, when a shard has no master left or the state
 * is not one a move explains. */
static int place_move(struct exec_run *run, const struct snapshot *s, struct conn_pool *pool,
	struct exec_move *m, bool abort, struct sc_error *err)
{
	const struct node_view *sv, *dv;
	const struct topology **others;
	enum journal_phase phase;
	size_t n;
	int src, dst, rc;

	if (exec_shard_master(run, s, m->src_shard, &src, err) != 0 ||
	    exec_shard_master(run, s, m->dst_shard, &dst, err) != 0)
		return -1;
	if (src < 0 && dst >= 0 && former_master(run, s, run->shards[m->src_shard].name, &src, err) != 0)
		return -1;
	if (src < 0 || dst < 0)
		return exec_shard_none_left(run, src < 0 ? m->src_shard : m->dst_shard, m->slot, err);
	if (src == dst)
		return sc_error_set(err, SC_EXIT_REFUSED,
			"slot %d moves from the shard of %.8s to that of %.8s, but '%s' is the master of both now; "
			"run 'slotctl fix'", m->slot, run->shards[m->src_shard].name, run->shards[m->dst_shard].name,
			run->nodes[src].addr);
	if (!(sv = snapshot_find(s, run->nodes[src].id)) || !(dv = snapshot_find(s, run->nodes[dst].id)))
		return sc_error_set(err, SC_EXIT_UNREACHABLE, "slot %d: '%s' or '%s' did not answer", m->slot,
			run->nodes[src].addr, run->nodes[dst].addr);
	if (!(others = other_views(run, s, src, dst, &n)))
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	rc = derive_by_shard(run, m, src, dst, &sv->view, &dv->view, others, n, &phase, err);
	free(others);
	if (rc != 0) {
		err->code = SC_EXIT_REFUSED;
		return -1;
	}
	m->src = src;
	m->dst = dst;
	m->phase = phase;
	m->rollback = abort && phase < JOURNAL_KEYS_MOVED;
	m->src_open = shard_has_marker(s, run->nodes[src].id, m->slot, false);
	m->dst_open = shard_has_marker(s, run->nodes[dst].id, m->slot, true);
	return tell_target_owner(run, pool, m, &dv->view, err);
}

/* Adds one unfinished journal slot as a move, starting from the phase the
 * nodes show (place_move). */
static int add_recovered_move(struct exec_run *run, const struct snapshot *s, struct conn_pool *pool,
	const struct journal_slot *js, bool abort, struct sc_error *err)
{
	struct exec_move placed = { .slot = js->slot };
	struct exec_move *m;

	placed.src_shard = exec_shard_of(run, js->from);
	placed.dst_shard = exec_shard_of(run, js->to);
	if (place_move(run, s, pool, &placed, abort, err) != 0 ||
	    !(m = exec_run_add(run, js->slot, js->batch, placed.src, placed.dst, placed.phase, err)))
		return -1;
	m->src_shard = placed.src_shard;
	m->dst_shard = placed.dst_shard;
	m->keys_moved = js->keys;
	m->rollback = placed.rollback;
	m->src_open = placed.src_open;
	m->dst_open = placed.dst_open;
	return 0;
}

/* The options of a resume or abort: those the operator gave, the others as
 * the run it continues recorded them (exec_opts.given). */
static struct exec_opts inherit_pacing(const struct exec_opts *o, const struct journal_pacing *p)
{
	struct exec_opts m = *o;

	if (!p->recorded)
		return m;
	if (!(o->given & EXEC_GIVEN_MAX_KEYS_PER_SEC))
		m.max_keys_per_sec = p->max_keys_per_sec;
	if (!(o->given & EXEC_GIVEN_MAX_BYTES_PER_SEC))
		m.max_bytes_per_sec = p->max_bytes_per_sec;
	if (!(o->given & EXEC_GIVEN_MAX_BLOCK) && p->max_block_us > 0)
		m.max_block_us = p->max_block_us;
	if (!(o->given & EXEC_GIVEN_BATCH_KEYS) && p->batch_keys > 0)
		m.batch_keys = (int)p->batch_keys;
	if (!(o->given & EXEC_GIVEN_PARALLEL) && p->parallel > 0)
		m.parallel = p->parallel;
	if (m.batch_bytes == 0)
		m.batch_bytes = p->batch_bytes;
	return m;
}

/* Says which options m took from the journal rather than from o (those that
 * differ), in the words of the command line, into buf ("" when none). */
static void describe_inherited(const struct exec_opts *o, const struct exec_opts *m, char *buf, size_t size)
{
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
#define INHERITED(field, fmt, value) \
	if (m->field != o->field) \
		strbuf_addf(&sb, "%s" fmt, sb.len ? " " : "continuing at the pace the journal records: ", value)
	INHERITED(max_keys_per_sec, "--max-keys-per-sec %lld", m->max_keys_per_sec);
	INHERITED(max_bytes_per_sec, "--max-bytes-per-sec %lld", m->max_bytes_per_sec);
	INHERITED(max_block_us, "--max-block-ms %g", (double)m->max_block_us / 1000.0);
	INHERITED(batch_keys, "--batch-keys %d", m->batch_keys);
	INHERITED(parallel, "--parallel %d", m->parallel);
#undef INHERITED
}

/* The plan's move of slot, or NULL. */
static const struct plan_move *plan_move_of(const struct plan *plan, int slot)
{
	for (size_t b = 0; b < plan->batch_count; b++)
		for (size_t k = 0; k < plan->batches[b].count; k++)
			if (plan->batches[b].moves[k].slot == slot)
				return &plan->batches[b].moves[k];
	return NULL;
}

/* Refuses a journal that records a run of another plan than the one the
 * operator named: another fingerprint, or a slot the plan does not move so. */
static int check_same_plan(const struct journal_state *st, const char *journal_path,
	const struct plan *plan, struct sc_error *err)
{
	const char *why = NULL;
	char detail[160] = "";

	if (st->runs > 0 && strcmp(st->fingerprint, plan->fingerprint) != 0) {
		why = "fingerprint";
		snprintf(detail, sizeof(detail), "its fingerprint is %s, the plan's %s", st->fingerprint,
			plan->fingerprint);
	}
	for (size_t i = 0; !why && i < st->count; i++) {
		const struct journal_slot *js = &st->slots[i];
		const struct plan_move *pm = plan_move_of(plan, js->slot);

		if (!pm || strcmp(pm->from, js->from) != 0 || strcmp(pm->to, js->to) != 0) {
			why = "slot";
			snprintf(detail, sizeof(detail), "it moves slot %d from %.8s to %.8s, which the plan %s",
				js->slot, js->from, js->to, pm ? "moves otherwise" : "does not move");
		}
	}
	if (!why)
		return 0;
	return sc_error_set(err, SC_EXIT_REFUSED,
		"the journal '%s' records a run of another plan ('%s'): %s; nothing done: give the plan "
		"it belongs to, or the journal itself ('%s')", journal_path,
		st->plan_path[0] ? st->plan_path : "unnamed", detail, journal_path);
}

/* A journal that records no slot (empty, or a START only: a run cut short
 * before its pending records reached the file) cannot say which slots were
 * moving. With the plan, every move of it becomes a slot of unknown phase,
 * which the nodes then tell; without, refused. */
static int slots_from_plan(struct journal_state *st, const char *journal_path, const struct plan *plan,
	const char *op, struct sc_error *err)
{
	if (!plan)
		return sc_error_set(err, SC_EXIT_REFUSED,
			"the journal '%s' records no slot (%s): it cannot say which slots were moving, and "
			"nothing is done on its word; give the plan instead ('slotctl %s %s'): the nodes then say "
			"which of its moves started; or see 'slotctl check' and close open slots with 'slotctl fix'",
			journal_path, st->runs ? "only the start of a run, cut short" : "it is empty", op,
			st->plan_path[0] ? st->plan_path : "PLAN");
	for (size_t b = 0; b < plan->batch_count; b++) {
		for (size_t k = 0; k < plan->batches[b].count; k++) {
			const struct plan_move *pm = &plan->batches[b].moves[k];
			struct journal_record r = { .kind = JOURNAL_REC_SLOT, .slot = pm->slot, .batch = (int)b,
				.phase = JOURNAL_PENDING };

			snprintf(r.from, sizeof(r.from), "%s", pm->from);
			snprintf(r.to, sizeof(r.to), "%s", pm->to);
			if (journal_fold(st, &r, err) != 0)
				return -1;
		}
	}
	if (!st->runs)
		snprintf(st->fingerprint, sizeof(st->fingerprint), "%s", plan->fingerprint);
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Marks the recovered moves the plan moves alone (exec_move.alone): its hot
 * slots, when the operator gave the plan; else, from the journal alone,
 * every slot that was alone in its batch (a hot slot is, and so may be a
 * batch of one slot that was not hot: it then waits as a barrier, as every
 * batch once did). Returns 0, or -1 on OOM. */
static int mark_alone(struct exec_run *run, const struct plan *plan, const struct journal_state *st,
	struct sc_error *err)
{
	int *batches = calloc(st->count ? st->count : 1, sizeof(int));
	bool *hot = calloc(SC_SLOTS, sizeof(bool));

	if (!batches || !hot) {
		free(batches);
		free(hot);
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	}
	for (size_t b = 0; plan && b < plan->batch_count; b++)
		for (size_t k = 0; k < plan->batches[b].count; k++)
			hot[plan->batches[b].moves[k].slot] = plan->batches[b].moves[k].hot;
	for (size_t i = 0; i < st->count; i++)
		batches[i] = st->slots[i].batch;
	qsort(batches, st->count, sizeof(int), cmp_int);
	for (size_t i = 0; i < run->move_count; i++) {
		struct exec_move *m = &run->moves[i];
		int *at = bsearch(&m->batch, batches, st->count, sizeof(int), cmp_int);
		size_t lo = at ? (size_t)(at - batches) : 0, hi = lo;

		while (at && lo > 0 && batches[lo - 1] == m->batch)
			lo--;
		while (at && hi + 1 < st->count && batches[hi + 1] == m->batch)
			hi++;
		m->alone = plan ? hot[m->slot] : !at || lo == hi;
	}
	free(batches);
	free(hot);
	return 0;
}

/* True when some move of the run was started: past pending, or a marker. */
static bool any_started(const struct exec_run *run)
{
	for (size_t i = 0; i < run->move_count; i++)
		if (run->moves[i].phase != JOURNAL_PENDING || run->moves[i].src_open || run->moves[i].dst_open)
			return true;
	return false;
}

/* Every node of s answers, but for one that its shard has replaced (a
 * master that failed over and died); else SC_EXIT_UNREACHABLE naming the
 * first. */
static int require_reachable(const struct exec_run *run, const struct snapshot *s, struct sc_error *err)
{
	for (size_t i = 0; i < s->count; i++) {
		const struct node_view *v = &s->nodes[i];
		int n = v->id[0] ? exec_run_node(run, v->id) : -1;

		if (!v->reachable && !(n >= 0 && run->nodes[n].retired))
			return sc_error_set(err, SC_EXIT_UNREACHABLE,
				"%s; every node must answer before slots move (see 'slotctl check')",
				v->error.msg[0] ? v->error.msg : "a node cannot be reached");
	}
	return 0;
}

/* The shards of a recovered run: those its journal recorded, one per
 * node the journal names that is in none (a journal before 1.1: the live
 * map adds their replicas, or the replica that took over), then every
 * master of the run. */
static int journal_shards(struct exec_run *run, const struct journal_state *st, const struct snapshot *s,
	struct sc_error *err)
{
	if (exec_shards_parse(run, st->shards, err) != 0)
		return -1;
	for (size_t i = 0; i < st->count; i++)
		if (exec_shard_ensure(run, st->slots[i].from, err) < 0 || exec_shard_ensure(run, st->slots[i].to, err) < 0)
			return -1;
	if (exec_shards_link(run, s, err) != 0)
		return -1;
	exec_shards_retire(run, s);
	return 0;
}

/* The node a settled journal slot ends on: its shard's master now. */
static int settled_owner(struct exec_run *run, const struct snapshot *s, const struct journal_slot *js)
{
	struct sc_error ignored;
	int owner = -1;

	if (exec_shard_master(run, s, exec_shard_of(run, js->phase == JOURNAL_DONE ? js->to : js->from), &owner,
			&ignored) != 0)
		return -1;
	return owner;
}

/* ---- following a failover ---- */

/* Whether node a's own view (in s) knows node b as a master. */
static bool knows_master(const struct snapshot *s, const struct exec_node *a, const struct exec_node *b)
{
	const struct node_view *v = snapshot_find(s, a->id);
	const struct node *n = v && v->reachable ? topology_find(&v->view, b->id) : NULL;

	return n && node_is_master(n) && !(n->flags & NODE_FAIL);
}

/* Whether node i answers in s, and as a replica by its own view: demoted,
 * so a failover is under way or done. (A node that does not answer may be
 * frozen as well as failing over: the run fails at once, as before, and
 * resume follows the failover if one comes.) */
static bool answers_as_replica(const struct exec_run *run, const struct snapshot *s, int i)
{
	const struct node_view *v = snapshot_find(s, run->nodes[i].id);

	return v && v->reachable && v->view.myself >= 0 && !node_is_master(&v->view.nodes[v->view.myself]);
}

/* Whether a move's source and target (now) know each other as masters, as
 * SETSLOT MIGRATING and IMPORTING need ("Target node is not a master"): a
 * promoted replica is a master by its own view at once, its peers learn it
 * by gossip. A source that gave away its last slot and follows now
 * (former_master) needs only to know the target. */
static bool ends_agree(const struct exec_run *run, const struct snapshot *s, int src, int dst)
{
	return knows_master(s, &run->nodes[src], &run->nodes[dst]) &&
	       (answers_as_replica(run, s, src) || knows_master(s, &run->nodes[dst], &run->nodes[src]));
}

/* One look at the cluster: *changed when a shard of an unfinished move has
 * another master now, *settled when every unfinished move's source and
 * target as they are now agree (ends_agree), *suspect when an endpoint of a
 * failed move answers as a replica (a failover is under way). */
static void look_for_failover(struct exec_run *run, const struct snapshot *s, bool *changed, bool *settled,
	bool *suspect)
{
	struct sc_error ignored;

	*changed = *suspect = false;
	*settled = true;
	for (size_t i = 0; i < run->move_count; i++) {
		const struct exec_move *m = &run->moves[i];
		int src, dst;

		if (m->state == MOVE_FINISHED)
			continue;
		if (m->state == MOVE_FAILED &&
		    (answers_as_replica(run, s, m->src) || answers_as_replica(run, s, m->dst)))
			*suspect = true;
		if (exec_shard_master(run, s, m->src_shard, &src, &ignored) != 0 ||
		    exec_shard_master(run, s, m->dst_shard, &dst, &ignored) != 0 || dst < 0) {
			*settled = false;
			continue;
		}
		if (src < 0)
			src = m->src; /* no master in the source's shard: unchanged (see former_master) */
		if (src != m->src || dst != m->dst)
			*changed = true;
		if (!ends_agree(run, s, src, dst))
			*settled = false;
	}
}

static void node_addr(const void *ctx, size_t i, char *buf, size_t size)
{
	const struct exec_run *run = ctx;

	snprintf(buf, size, "%s", run->nodes[i].addr);
}

/* Looks at the cluster (look_for_failover). After a run of moves failed:
 * until a failover of an unfinished move's shard has settled (0, *changed,
 * s filled), or none shows within EXEC_FAILOVER_WAIT_MS while an endpoint
 * answers as a replica, or at once when none does (0, !*changed); -1 with
 * err when a failover did not settle in time or no node answers. Before a
 * recovered run moves (before): until every unfinished move's ends agree,
 * at most EXEC_FAILOVER_WAIT_MS (0 either way: without agreement the run
 * fails as before, naming the node). */
static int await_failover(struct exec_run *run, struct snapshot *s, bool before, bool *changed,
	struct sc_error *err)
{
	long long deadline = sc_clock_ms() + EXEC_FAILOVER_WAIT_MS;
	char *seeds = exec_join_addrs(run->node_count, node_addr, run);
	char host[256];
	int port, rc = -1;

	*changed = false;
	while (seeds) {
		bool settled, suspect;

		if (gather(NULL, seeds, &run->o->conn, s, host, sizeof(host), &port, err) != 0)
			break;
		look_for_failover(run, s, changed, &settled, &suspect);
		if (before ? settled : *changed ? settled : !suspect) {
			rc = 0;
			break;
		}
		if (sc_clock_ms() >= deadline || (run->o->stop && *run->o->stop)) {
			rc = *changed && !before ? sc_error_set(err, SC_EXIT_PROBLEMS, "a shard failed over, but its "
				"new master and its peers did not agree on it within %d ms; run 'slotctl resume'",
				EXEC_FAILOVER_WAIT_MS) : 0;
			break;
		}
		snapshot_release(s);
		sc_sleep_ms(100);
	}
	if (!seeds)
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	free(seeds);
	return rc;
}

/* Clears the marks of m's slot on the node that played one of its ends
 * before a failover, when it answers: a replica refuses (it dropped them
 * when it was demoted), a master that has not heard yet drops them. */
static void clear_stale_marks(struct exec_run *run, struct conn_pool *pool, const struct exec_move *m, int old)
{
	struct sc_error ignored;
	struct conn *c = conn_pool_get(pool, run->nodes[old].host, run->nodes[old].port, &ignored);

	if (c)
		slotops_tell_stable(c, m->slot, &ignored);
}

/* Emits what the run follows: each pair of nodes that unfinished moves
 * run between now instead of before (was: each move's former source and
 * target, two entries a move). */
static void report_failovers(struct exec_run *run, const int *was)
{
	for (size_t i = 0; i < run->move_count; i++) {
		const struct exec_move *m = &run->moves[i];
		char msg[SC_ERROR_MSG_MAX];
		bool seen = false;

		if (m->state == MOVE_FINISHED || (m->src == was[2 * i] && m->dst == was[2 * i + 1]))
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = run->moves[j].state != MOVE_FINISHED && run->moves[j].src == m->src &&
				run->moves[j].dst == m->dst;
		if (seen)
			continue;
		snprintf(msg, sizeof(msg), "the shard of %.8s failed over: slot %d and the other unfinished slots "
			"of the pair now move from '%s' to '%s'",
			run->shards[m->src != was[2 * i] ? m->src_shard : m->dst_shard].name, m->slot,
			run->nodes[m->src].addr, run->nodes[m->dst].addr);
		exec_emit(run, EXEC_EVENT_FAILOVER, NULL, 0, 0, msg);
	}
}

/* Places every unfinished move anew after a failover (place_move), clears
 * the marks its slot left on the nodes that were replaced, and makes it
 * wait to run again. */
static int replace_moves(struct exec_run *run, const struct snapshot *s, bool abort, struct sc_error *err)
{
	int *was = calloc(run->move_count * 2 + 1, sizeof(*was));
	struct conn_pool *pool = conn_pool_new(&run->o->conn);
	int rc = was && pool ? 0 : sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");

	for (size_t i = 0; rc == 0 && i < run->move_count; i++) {
		struct exec_move *m = &run->moves[i];

		was[2 * i] = m->src;
		was[2 * i + 1] = m->dst;
		if (m->state == MOVE_FINISHED)
			continue;
		/* an abort's rollback is placed as a rollback again */
		if ((rc = place_move(run, s, pool, m, abort, err)) != 0)
			break;
		if (m->src != was[2 * i])
			clear_stale_marks(run, pool, m, was[2 * i]);
		if (m->dst != was[2 * i + 1])
			clear_stale_marks(run, pool, m, was[2 * i + 1]);
		m->state = MOVE_WAITING;
	}
	if (rc == 0)
		report_failovers(run, was);
	conn_pool_free(pool);
	free(was);
	return rc;
}

/* After a run of moves failed (rc != 0, err): when a shard of an unfinished
 * move failed over, follows it: once the new master and its peers agree,
 * every unfinished move is placed anew from the nodes (the promoted replica
 * holds the keys already moved, not the marks) and the moves run again; at
 * most EXEC_FAILOVER_MAX times a run. Returns the run's outcome; the
 * original failure when no failover explains it. */
static int follow_failovers(struct exec_run *run, int rc, bool abort, struct sc_error *err)
{
	/* a node that stopped answering (frozen, or dead and not yet failed
	 * over: that takes the cluster its node timeout) fails the run at once,
	 * as before; resume follows the failover if one comes */
	while (rc != 0 && err->code != SC_EXIT_INTERRUPTED && err->code != SC_EXIT_UNREACHABLE &&
	       run->failovers < EXEC_FAILOVER_MAX && !(run->o->stop && *run->o->stop)) {
		struct sc_error failure = *err;
		struct snapshot s = { 0 };
		bool changed = false;

		if (await_failover(run, &s, false, &changed, err) != 0 || !changed) {
			snapshot_release(&s);
			if (!changed)
				*err = failure;
			return -1;
		}
		exec_shards_retire(run, &s);
		rc = replace_moves(run, &s, abort, err);
		snapshot_release(&s);
		if (rc != 0)
			return -1;
		run->failovers++;
		exec_run_rearm(run);
		rc = exec_run_moves(run, err);
	}
	return rc;
}

/* Lets the run's backend end or cancel what it left in flight on the
 * servers (mover_backend.settle); when that changed anything, the cluster
 * is gathered again, so that the nodes' views tell where each slot stands. */
static int settle_backend(struct exec_run *run, struct snapshot *snap, bool abort, const char *seeds,
	char *host, size_t host_size, int *port, struct sc_error *err)
{
	bool changed = false;

	if (!run->backend->settle)
		return 0;
	if (run->backend->settle(run, snap, abort, &changed, err) != 0)
		return -1;
	if (!changed)
		return 0;
	snapshot_release(snap);
	memset(snap, 0, sizeof(*snap));
	if (gather(NULL, seeds, &run->o->conn, snap, host, host_size, port, err) != 0 ||
	    exec_shards_link(run, snap, err) != 0)
		return -1;
	exec_shards_retire(run, snap);
	return require_reachable(run, snap, err);
}

/* The backend the journal's latest run recorded (before 1.2: keys): the
 * one whose jobs settle must end or cancel. */
static int recorded_backend(struct exec_run *run, const struct journal_state *st, struct sc_error *err)
{
	const struct mover_backend *b = mover_backend_find(st->backend);

	if (!b)
		return sc_error_set(err, SC_EXIT_USAGE, "the journal names mover backend '%s', which this slotctl "
			"does not have", st->backend);
	run->backend = b;
	return 0;
}

/* The backend the rest of the run moves with: the one given (auto
 * resolved), else the journal's; refused as apply refuses it (usable). */
static int chosen_backend(struct exec_run *run, const struct snapshot *snap, const struct exec_opts *given,
	struct sc_error *err)
{
	if (given->backend && given->backend[0])
		run->backend = mover_backend_find(given->backend);
	if (mover_backend_resolve(run, err) != 0)
		return -1;
	return run->backend->usable ? run->backend->usable(run, snap, err) : 0;
}

static int recover(const char *journal_path, const char *plan_path, const struct plan *plan,
	const char *op, const struct exec_opts *given, struct exec_result *res, struct sc_error *err)
{
	struct exec_run run;
	struct snapshot snap = { 0 };
	struct journal_state st;
	struct journal_lock *lock = NULL;
	struct exec_opts opts = *given;
	struct conn_pool *pool = NULL;
	char host[256];
	int port = 0, rc = -1, loaded;
	bool abort = strcmp(op, "abort") == 0, unknown = false;

	memset(res, 0, sizeof(*res));
	snprintf(res->journal, sizeof(res->journal), "%s", journal_path);
	journal_state_init(&st);
	exec_run_init(&run, op, &opts);
	run.backend = mover_backend_find(given->backend);
	snprintf(run.journal_path, sizeof(run.journal_path), "%s", journal_path);
	if (!run.backend) {
		sc_error_set(err, SC_EXIT_USAGE, "no mover backend '%s'", given->backend);
		goto out;
	}
	if (journal_lock_acquire(journal_path, given->command, &lock, err) != 0)
		goto out;
	loaded = journal_load(journal_path, &st, err);
	if (loaded != 0) {
		if (loaded == 1)
			sc_error_set(err, SC_EXIT_USAGE, "no journal '%s': nothing to %s", journal_path, op);
		goto out;
	}
	if ((plan && check_same_plan(&st, journal_path, plan, err) != 0) ||
	    tls_as_recorded(&st.transport, "the journal", journal_path, &given->conn, err) != 0)
		goto out;
	if (st.count == 0) {
		if (slots_from_plan(&st, journal_path, plan, op, err) != 0)
			goto out;
		unknown = true;
	}
	if (journal_state_finished(&st)) {
		exec_emit(&run, EXEC_EVENT_SUMMARY, NULL, 0, 0, "nothing to do: every slot of the journal is settled");
		rc = 0;
		goto out;
	}
	opts = inherit_pacing(given, &st.pacing);
	describe_inherited(given, &opts, run.start_note, sizeof(run.start_note));
	if (gather(unknown ? plan->seed : NULL, st.seeds, &opts.conn, &snap, host, sizeof(host), &port, err) != 0 ||
	    exec_run_nodes(&run, snapshot_map(&snap), err) != 0 ||
	    journal_shards(&run, &st, &snap, err) != 0 ||
	    require_reachable(&run, &snap, err) != 0 ||
	    recorded_backend(&run, &st, err) != 0 ||
	    settle_backend(&run, &snap, abort, st.seeds, host, sizeof(host), &port, err) != 0 ||
	    chosen_backend(&run, &snap, given, err) != 0)
		goto out;
	if (!(pool = conn_pool_new(&opts.conn))) {
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < st.count; i++)
		if (!journal_slot_settled(&st.slots[i]) &&
		    add_recovered_move(&run, &snap, pool, &st.slots[i], abort, err) != 0)
			goto out;
	conn_pool_free(pool);
	pool = NULL;
	if (mark_alone(&run, plan, &st, err) != 0)
		goto out;
	if (unknown && !any_started(&run)) {
		if (abort) {
			exec_emit(&run, EXEC_EVENT_SUMMARY, NULL, 0, 0,
				"nothing to do: the nodes show no move of the plan started");
			rc = 0;
		} else {
			sc_error_set(err, SC_EXIT_REFUSED,
				"the journal '%s' records no slot, and the nodes show no move of plan '%s' started: "
				"nothing to resume; run 'slotctl apply %s'", journal_path, plan_path, plan_path);
		}
		goto out;
	}
	for (size_t i = 0; i < st.count; i++) {
		const struct journal_slot *js = &st.slots[i];
		int owner = journal_slot_settled(js) ? settled_owner(&run, &snap, js) : -1;

		if (owner >= 0)
			run.expected[js->slot] = owner;
	}
	/* after a failover, the peers of a promoted replica may not know it as
	 * a master yet: give them the time gossip takes (await_failover) */
	{
		struct snapshot now = { 0 };
		struct sc_error ignored;
		bool changed;

		await_failover(&run, &now, true, &changed, &ignored);
		snapshot_release(&now);
	}
	if (exec_run_start_journal(&run, st.fingerprint, unknown ? plan_path : st.plan_path, unknown, err) != 0)
		goto out;
	rc = run_to_end(&run, abort, host, port, res, err);
out:
	conn_pool_free(pool);
	journal_state_release(&st);
	snapshot_release(&snap);
	exec_run_release(&run);
	journal_lock_release(lock);
	return rc;
}

int executor_resume(const char *journal_path, const char *plan_path, const struct plan *plan,
	const struct exec_opts *opts, struct exec_result *res, struct sc_error *err)
{
	return recover(journal_path, plan_path, plan, "resume", opts, res, err);
}

int executor_abort(const char *journal_path, const char *plan_path, const struct plan *plan,
	const struct exec_opts *opts, struct exec_result *res, struct sc_error *err)
{
	return recover(journal_path, plan_path, plan, "abort", opts, res, err);
}
