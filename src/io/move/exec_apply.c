/* exec_apply.c: `slotctl apply` (executor_apply, slotctl/io/executor.h):
 * under the journal's lock, refuses a journal with an unfinished run and a
 * plan made without the TLS options given, says "already applied" when the
 * journal and the live map both show the plan done, else gathers the cluster
 * (looking again for a few seconds while its only problems are transient
 * ones), runs the pre-flight checks (preflight.c), builds the run from the
 * plan (its masters, shards and moves, the mover backend asked for), writes
 * the journal's START and pending records and runs it to the end
 * (exec_run_to_end, executor.c). What only apply uses lives here; resume and
 * abort are exec_recover.c. */
#include "mover.h"
#include "slotctl/io/clock.h"
#include "slotctl/core/exitcode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

		if (exec_gather(plan->seed, seeds, &opts->conn, snap, host, host_size, port, err) != 0)
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
	    refuse_unfinished(run.journal_path, err) != 0 || exec_tls_as_recorded(&plan->transport, "the plan",
	    plan_path, &opts->conn, err) != 0)
		goto out;
	if (journal_says_applied(run.journal_path, plan)) {
		if (exec_gather(plan->seed, seeds, &opts->conn, &snap, host, sizeof(host), &port, err) != 0)
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
	rc = exec_run_to_end(&run, false, host, port, res, err);
out:
	free(seeds);
	snapshot_release(&snap);
	exec_run_release(&run);
	journal_lock_release(lock);
	return rc;
}
