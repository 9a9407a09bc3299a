/* exec_failover.c: following a failover mid-run. When a run of moves fails
 * and a shard of an unfinished move failed over (its master answers as a
 * replica, another member is master now), waits, bounded, for the new
 * master and its peers to know each other as masters, places every
 * unfinished move anew from the nodes (exec_place.c), clears the marks left
 * on the nodes replaced, says which pairs the moves run between now and
 * runs them again; at most EXEC_FAILOVER_MAX times a run. Resume and abort
 * wait here too, before they move, for their moves' ends to agree. */
#include "executor_priv.h"
#include "slotctl/io/clock.h"
#include "slotctl/core/exitcode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
 * (former_master, exec_place.c) needs only to know the target. */
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

int exec_await_failover(struct exec_run *run, struct snapshot *s, bool before, bool *changed,
	struct sc_error *err)
{
	long long deadline = sc_clock_ms() + EXEC_FAILOVER_WAIT_MS;
	char *seeds = exec_join_addrs(run->node_count, node_addr, run);
	char host[256];
	int port, rc = -1;

	*changed = false;
	while (seeds) {
		bool settled, suspect;

		if (exec_gather(NULL, seeds, &run->o->conn, s, host, sizeof(host), &port, err) != 0)
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

/* Places every unfinished move anew after a failover (exec_place_move), clears
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
		if ((rc = exec_place_move(run, s, pool, m, abort, err)) != 0)
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

int exec_follow_failovers(struct exec_run *run, int rc, bool abort, struct sc_error *err)
{
	/* a node that stopped answering (frozen, or dead and not yet failed
	 * over: that takes the cluster its node timeout) fails the run at once,
	 * as before; resume follows the failover if one comes */
	while (rc != 0 && err->code != SC_EXIT_INTERRUPTED && err->code != SC_EXIT_UNREACHABLE &&
	       run->failovers < EXEC_FAILOVER_MAX && !(run->o->stop && *run->o->stop)) {
		struct sc_error failure = *err;
		struct snapshot s = { 0 };
		bool changed = false;

		if (exec_await_failover(run, &s, false, &changed, err) != 0 || !changed) {
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
