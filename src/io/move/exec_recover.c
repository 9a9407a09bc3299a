/* exec_recover.c: `slotctl resume` and `slotctl abort` (executor_resume,
 * executor_abort, slotctl/io/executor.h; and executor_journal_path, which
 * finds the journal of a plan): under the journal's lock, the journal says
 * which slots to look at (a journal that names no slot is not taken for a
 * finished one: exec_recover_journal.c), the nodes say where each one stands
 * (exec_place.c); the mover backend the journal recorded first settles what
 * it left in flight on the servers, then the run continues with the backend
 * given, at the pace the journal recorded unless given another, and runs to
 * its end (exec_run_to_end, executor.c). Abort rolls back each slot whose
 * keys have not all moved, and finishes the others. */
#include "mover.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/file_text.h"

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

/* Adds one unfinished journal slot as a move, starting from the phase the
 * nodes show (exec_place_move). */
static int add_recovered_move(struct exec_run *run, const struct snapshot *s, struct conn_pool *pool,
	const struct journal_slot *js, bool abort, struct sc_error *err)
{
	struct exec_move placed = { .slot = js->slot };
	struct exec_move *m;

	placed.src_shard = exec_shard_of(run, js->from);
	placed.dst_shard = exec_shard_of(run, js->to);
	if (exec_place_move(run, s, pool, &placed, abort, err) != 0 ||
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

/* True when some move of the run was started: past pending, or a marker. */
static bool any_started(const struct exec_run *run)
{
	for (size_t i = 0; i < run->move_count; i++)
		if (run->moves[i].phase != JOURNAL_PENDING || run->moves[i].src_open || run->moves[i].dst_open)
			return true;
	return false;
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
	if (exec_gather(NULL, seeds, &run->o->conn, snap, host, host_size, port, err) != 0 ||
	    exec_shards_link(run, snap, err) != 0)
		return -1;
	exec_shards_retire(run, snap);
	return exec_require_reachable(run, snap, err);
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
	if ((plan && exec_check_same_plan(&st, journal_path, plan, err) != 0) ||
	    exec_tls_as_recorded(&st.transport, "the journal", journal_path, &given->conn, err) != 0)
		goto out;
	if (st.count == 0) {
		if (exec_slots_from_plan(&st, journal_path, plan, op, err) != 0)
			goto out;
		unknown = true;
	}
	if (journal_state_finished(&st)) {
		exec_emit(&run, EXEC_EVENT_SUMMARY, NULL, 0, 0, "nothing to do: every slot of the journal is settled");
		rc = 0;
		goto out;
	}
	opts = exec_inherit_pacing(given, &st.pacing);
	exec_describe_inherited(given, &opts, run.start_note, sizeof(run.start_note));
	if (exec_gather(unknown ? plan->seed : NULL, st.seeds, &opts.conn, &snap, host, sizeof(host), &port, err) != 0 ||
	    exec_run_nodes(&run, snapshot_map(&snap), err) != 0 ||
	    journal_shards(&run, &st, &snap, err) != 0 ||
	    exec_require_reachable(&run, &snap, err) != 0 ||
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
	if (exec_mark_alone(&run, plan, &st, err) != 0)
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
	 * a master yet: give them the time gossip takes (exec_await_failover) */
	{
		struct snapshot now = { 0 };
		struct sc_error ignored;
		bool changed;

		exec_await_failover(&run, &now, true, &changed, &ignored);
		snapshot_release(&now);
	}
	if (exec_run_start_journal(&run, st.fingerprint, unknown ? plan_path : st.plan_path, unknown, err) != 0)
		goto out;
	rc = exec_run_to_end(&run, abort, host, port, res, err);
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
