/* verify.c: the check after a run. The cluster is done only when every node
 * says so: each view maps every slot to the owner the run expects, no slot is
 * left open, every node is cluster_state:ok, and no two masters share a
 * configEpoch. Owners are compared by shard: a master that failed over
 * after its moves finished has its place taken by the replica promoted.
 * Gossip takes a moment, so this polls within a bound and, when the bound
 * passes, says what is still wrong. One thing does not settle by itself: a
 * replica that missed its master's close of a slot of the run (Valkey 8+;
 * see reclose_missed), which the master is told to close again. */
#include "executor_priv.h"
#include "slotctl/io/clock.h"
#include "slotctl/io/pool.h"
#include "slotctl/io/slotops.h"
#include "slotctl/core/exitcode.h"

#include <stdio.h>
#include <string.h>

/* Pauses between looks: the first short (replicas usually hear of the new
 * owners within milliseconds of the masters: on Redis 7.0 with a replica per
 * master the first look after a key-by-key reshard failed every time and the
 * second, 100 ms later, passed), doubling up to VERIFY_POLL_MAX_MS, and never
 * shorter than the last look took (a large cluster is not asked for every
 * node's CLUSTER NODES more than half the time), nor past the deadline. */
#define VERIFY_POLL_MIN_MS 5
#define VERIFY_POLL_MAX_MS 100

/* Whether the node with id has the place of node want: it is that node, or
 * a member of its shard (which failed over since). */
static bool plays(const struct exec_run *run, const char *id, int want)
{
	int k = run->nodes[want].shard;

	return strcmp(id, run->nodes[want].id) == 0 || (k >= 0 && exec_shard_of(run, id) == k);
}

/* The first way view disagrees with the expected map, into what; 0 when none. */
static int view_problem(const struct exec_run *run, const struct node_view *v, char *what, size_t size)
{
	const struct topology *t = &v->view;
	int owner[SC_SLOTS];

	if (!v->reachable) {
		snprintf(what, size, "%s", v->error.msg);
		return -1;
	}
	if (strcmp(v->cluster_state, "ok") != 0) {
		snprintf(what, size, "'%s' says cluster_state:%s", v->addr, v->cluster_state);
		return -1;
	}
	if (t->myself >= 0 && t->nodes[t->myself].open_count > 0) {
		const struct open_slot *o = &t->nodes[t->myself].open[0];

		snprintf(what, size, "slot %d is still %s on '%s'", o->slot, o->importing ? "importing" : "migrating",
			v->addr);
		return -1;
	}
	topology_owner_map(t, owner);
	for (int s = 0; s < SC_SLOTS; s++) {
		int want = run->expected[s];
		const char *has = owner[s] >= 0 ? t->nodes[owner[s]].id : NULL;

		if (want < 0 && !has)
			continue;
		if (want < 0 || !has || !plays(run, has, want)) {
			snprintf(what, size, "'%s' says slot %d is owned by %.8s, expected %.8s", v->addr, s,
				has ? has : "no node", want >= 0 ? run->nodes[want].id : "no node");
			return -1;
		}
	}
	return 0;
}

static int epochs_problem(const struct topology *map, char *what, size_t size)
{
	for (size_t i = 0; i < map->count; i++) {
		if (!node_is_master(&map->nodes[i]) || slotset_count(node_slots(&map->nodes[i])) == 0)
			continue;
		for (size_t j = i + 1; j < map->count; j++) {
			if (node_is_master(&map->nodes[j]) && slotset_count(node_slots(&map->nodes[j])) > 0 &&
			    map->nodes[i].config_epoch == map->nodes[j].config_epoch) {
				snprintf(what, size, "masters %.8s and %.8s share configEpoch %llu", map->nodes[i].id,
					map->nodes[j].id, map->nodes[i].config_epoch);
				return -1;
			}
		}
	}
	return 0;
}

/* Whether node's own line in view shows slot open (either way). */
static bool shows_open(const struct topology *view, int slot)
{
	const struct node *me = view->myself >= 0 ? &view->nodes[view->myself] : NULL;

	for (size_t i = 0; me && i < me->open_count; i++)
		if (me->open[i].slot == slot)
			return true;
	return false;
}

static bool run_moves(const struct exec_run *run, int slot)
{
	for (size_t i = 0; i < run->move_count; i++)
		if (run->moves[i].slot == slot)
			return true;
	return false;
}

/* On Valkey 8+ a replica holds its master's importing and migrating marks
 * only as the master replicates its SETSLOTs, and a master replicates one
 * only to the replicas online at that moment (valkey cluster_legacy.c,
 * clusterCommandSetSlot). A node that missed the close of a slot (a source
 * demoted by a failover, still reconnecting to its new master when the run
 * closed the slot there) keeps the mark on its own line until that slot is
 * replicated again, and acts on it if it is ever promoted (a failover keeps
 * a shard's marks). So for each slot of the run that a replica shows open
 * and its master does not, the master closes it again: SETSLOT STABLE,
 * which changes no owner and clears nothing on the master, and is
 * replicated to its replicas online now; one still reconnecting misses this
 * one too, and the next poll sends it again. Errors are left to the check
 * (what stays open is reported). The first time a slot is closed again it
 * is said (a VERIFY event with a message; told holds the slots said). */
static void reclose_missed(struct exec_run *run, const struct snapshot *s, struct conn_pool *pool,
	struct slotset *told)
{
	for (size_t i = 0; i < s->count; i++) {
		const struct topology *t = &s->nodes[i].view;
		const struct node *me = s->nodes[i].reachable && t->myself >= 0 ? &t->nodes[t->myself] : NULL;
		const struct node_view *master;

		if (!me || node_is_master(me) || !me->master_id[0] ||
		    !(master = snapshot_find(s, me->master_id)) || !master->reachable)
			continue;
		for (size_t k = 0; k < me->open_count; k++) {
			int slot = me->open[k].slot;
			struct sc_error ignored;
			struct conn *c;
			char msg[512];

			if (!run_moves(run, slot) || shows_open(&master->view, slot) ||
			    !(c = conn_pool_get(pool, master->host, master->port, &ignored)) ||
			    slotops_tell_stable(c, slot, &ignored) != 0 || slotset_has(told, slot))
				continue;
			slotset_add(told, slot);
			snprintf(msg, sizeof(msg), "slot %d: replica '%s' still shows it %s (it missed its master's "
				"close); closing it again on its master '%s' (CLUSTER SETSLOT %d STABLE)", slot,
				s->nodes[i].addr, me->open[k].importing ? "importing" : "migrating", master->addr, slot);
			exec_emit(run, EXEC_EVENT_VERIFY, NULL, 0, 0, msg);
		}
	}
}

static int cluster_problem(struct exec_run *run, struct conn_pool *pool, struct slotset *told, const char *host,
	int port, char *what, size_t size)
{
	struct snapshot s;
	struct sc_error e;
	int rc = 0;

	if (snapshot_gather(host, port, &run->o->conn, &s, &e) != 0) {
		snprintf(what, size, "%s", e.msg);
		return -1;
	}
	/* a replica promoted since the run began plays its shard */
	if (exec_shards_grow(run, &s, &e) != 0) {
		snprintf(what, size, "%s", e.msg);
		snapshot_release(&s);
		return -1;
	}
	for (size_t i = 0; rc == 0 && i < s.count; i++)
		rc = view_problem(run, &s.nodes[i], what, size);
	if (rc != 0)
		reclose_missed(run, &s, pool, told);
	if (rc == 0 && snapshot_map(&s))
		rc = epochs_problem(snapshot_map(&s), what, size);
	snapshot_release(&s);
	return rc;
}

int exec_verify(struct exec_run *run, const char *seed_host, int seed_port, struct sc_error *err)
{
	int wait_ms = run->o->verify_wait_ms > 0 ? run->o->verify_wait_ms : EXEC_DEFAULT_VERIFY_WAIT_MS;
	long long deadline = sc_clock_ms() + wait_ms;
	struct conn_pool *pool = conn_pool_new(&run->o->conn);
	struct slotset told;
	char what[512];

	if (!pool)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	slotset_clear(&told);
	for (long long pause_ms = VERIFY_POLL_MIN_MS;;) {
		long long looked = sc_clock_ms(), now, sleep_ms;

		if (cluster_problem(run, pool, &told, seed_host, seed_port, what, sizeof(what)) == 0) {
			conn_pool_free(pool);
			return 0;
		}
		now = sc_clock_ms();
		if (now >= deadline || (run->o->stop && *run->o->stop))
			break;
		sleep_ms = pause_ms > now - looked ? pause_ms : now - looked;
		sc_sleep_ms(sleep_ms < deadline - now ? sleep_ms : deadline - now);
		pause_ms = pause_ms * 2 < VERIFY_POLL_MAX_MS ? pause_ms * 2 : VERIFY_POLL_MAX_MS;
	}
	conn_pool_free(pool);
	return sc_error_set(err, SC_EXIT_PROBLEMS,
		"the cluster did not settle on the expected map within %d ms: %s; run 'slotctl check'",
		wait_ms, what);
}
