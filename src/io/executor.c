/* executor.c: the entry points of the executor (see slotctl/executor.h):
 * apply (pre-flight, then every move of a plan), resume and abort (the journal
 * says which slots to look at, the nodes say where each one stands; a
 * journal that names no slot is not taken for a finished one), each holding
 * the journal's lock for the whole run. The engine is exec_run.c, one slot's
 * protocol exec_slot.c. */
#include "executor_priv.h"
#include "slotctl/clock.h"
#include "slotctl/exitcode.h"
#include "slotctl/file_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOURNAL_HEAD_BYTES 4096 /* a journal's first line (its start record) fits */

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
 * the comma-separated others. Remembers the seed used. */
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
			return 0;
	}
	if (!tried)
		return sc_error_set(err, SC_EXIT_USAGE, "no address of the cluster to connect to");
	return -1;
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
			/* the plan's sampling found no big key and small ones: skip MEMORY USAGE */
			m->probe = pm->big || pm->keys <= 0 || pm->bytes / pm->keys >= EXEC_PROBE_AVG_BYTES;
		}
	}
	return 0;
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
	if (journal_path)
		snprintf(run.journal_path, sizeof(run.journal_path), "%s", journal_path);
	else
		journal_path_for_plan(plan_path, run.journal_path, sizeof(run.journal_path));
	snprintf(res->journal, sizeof(res->journal), "%s", run.journal_path);
	if (!seeds) {
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
		goto out;
	}
	if (journal_lock_acquire(run.journal_path, opts->command, &lock, err) != 0 ||
	    refuse_unfinished(run.journal_path, err) != 0 ||
	    gather_healthy(plan, seeds, opts, &snap, host, sizeof(host), &port, err) != 0 ||
	    exec_run_nodes(&run, snapshot_map(&snap), err) != 0 ||
	    add_plan_moves(&run, plan, err) != 0 ||
	    exec_run_start_journal(&run, plan->fingerprint, plan_path, true, err) != 0)
		goto out;
	rc = exec_run_moves(&run, err);
	rc = exec_run_finish(&run, rc, host, port, res, err);
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

/* The views of every master but src and dst (for "owner on all"). */
static const struct topology **other_views(const struct exec_run *run, const struct snapshot *s,
	int src, int dst, size_t *n)
{
	const struct topology **v = calloc(run->node_count ? run->node_count : 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; v && i < run->node_count; i++) {
		const struct node_view *nv = snapshot_find(s, run->nodes[i].id);

		if ((int)i != src && (int)i != dst && nv)
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
	if (node_is_master(me) || slotset_count(&me->slots) > 0)
		return 0;
	*out = exec_run_add_former_master(run, id, v->host, v->port, err);
	return *out < 0 ? -1 : 0;
}

/* Adds one unfinished journal slot as a move, starting from the phase the
 * nodes show. Refuses (changing nothing) when the state is not one a move
 * explains. */
static int add_recovered_move(struct exec_run *run, const struct snapshot *s, const struct journal_slot *js,
	bool abort, struct sc_error *err)
{
	int src = exec_run_node(run, js->from), dst = exec_run_node(run, js->to);
	const struct node_view *sv, *dv;
	const struct topology **others;
	enum journal_phase phase;
	struct exec_move *m;
	size_t n;
	int rc;

	if (src < 0 && dst >= 0 && former_master(run, s, js->from, &src, err) != 0)
		return -1;
	if (src < 0 || dst < 0 || !(sv = snapshot_find(s, js->from)) || !(dv = snapshot_find(s, js->to)))
		return sc_error_set(err, SC_EXIT_REFUSED,
			"slot %d moves from %.8s to %.8s, but one of them is no longer a master of the cluster; "
			"run 'slotctl fix'", js->slot, js->from, js->to);
	if (!(others = other_views(run, s, src, dst, &n)))
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	rc = journal_derive_phase(&sv->view, &dv->view, others, n, js->slot, js->from, js->to, &phase, err);
	free(others);
	if (rc != 0) {
		err->code = SC_EXIT_REFUSED;
		return -1;
	}
	if (!(m = exec_run_add(run, js->slot, js->batch, src, dst, phase, err)))
		return -1;
	m->keys_moved = js->keys;
	m->rollback = abort && phase < JOURNAL_KEYS_MOVED;
	m->src_open = has_marker(&sv->view, js->slot, false);
	m->dst_open = has_marker(&dv->view, js->slot, true);
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
	size_t len = 0;

	buf[0] = '\0';
#define INHERITED(field, fmt, value) \
	if (m->field != o->field && len < size) \
		len += (size_t)snprintf(buf + len, size - len, "%s" fmt, len ? " " : \
			"continuing at the pace the journal records: ", value)
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

/* True when some move of the run was started: past pending, or a marker. */
static bool any_started(const struct exec_run *run)
{
	for (size_t i = 0; i < run->move_count; i++)
		if (run->moves[i].phase != JOURNAL_PENDING || run->moves[i].src_open || run->moves[i].dst_open)
			return true;
	return false;
}

static int recover(const char *journal_path, const char *plan_path, const struct plan *plan,
	const char *op, const struct exec_opts *given, struct exec_result *res, struct sc_error *err)
{
	struct exec_run run;
	struct snapshot snap = { 0 };
	struct journal_state st;
	struct journal_lock *lock = NULL;
	struct exec_opts opts = *given;
	char host[256];
	int port = 0, rc = -1, loaded;
	bool abort = strcmp(op, "abort") == 0, unknown = false;

	memset(res, 0, sizeof(*res));
	snprintf(res->journal, sizeof(res->journal), "%s", journal_path);
	journal_state_init(&st);
	exec_run_init(&run, op, &opts);
	snprintf(run.journal_path, sizeof(run.journal_path), "%s", journal_path);
	if (journal_lock_acquire(journal_path, given->command, &lock, err) != 0)
		goto out;
	loaded = journal_load(journal_path, &st, err);
	if (loaded != 0) {
		if (loaded == 1)
			sc_error_set(err, SC_EXIT_USAGE, "no journal '%s': nothing to %s", journal_path, op);
		goto out;
	}
	if (plan && check_same_plan(&st, journal_path, plan, err) != 0)
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
	    exec_require_reachable(&snap, err) != 0 ||
	    exec_run_nodes(&run, snapshot_map(&snap), err) != 0)
		goto out;
	for (size_t i = 0; i < st.count; i++)
		if (!journal_slot_settled(&st.slots[i]) &&
		    add_recovered_move(&run, &snap, &st.slots[i], abort, err) != 0)
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
		int owner = exec_run_node(&run, js->phase == JOURNAL_DONE ? js->to : js->from);

		if (journal_slot_settled(js) && owner >= 0)
			run.expected[js->slot] = owner;
	}
	if (exec_run_start_journal(&run, st.fingerprint, unknown ? plan_path : st.plan_path, unknown, err) != 0)
		goto out;
	rc = exec_run_moves(&run, err);
	rc = exec_run_finish(&run, rc, host, port, res, err);
out:
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
