/* verify.c: the check after a run. The cluster is done only when every node
 * says so: each view maps every slot to the owner the run expects, no slot is
 * left open, every node is cluster_state:ok, and no two masters share a
 * configEpoch. Owners are compared by shard: a master that failed over
 * after its moves finished has its place taken by the replica promoted.
 * Gossip takes a moment, so this polls within a bound and, when the bound
 * passes, says what is still wrong. */
#include "executor_priv.h"
#include "slotctl/io/clock.h"
#include "slotctl/core/exitcode.h"

#include <stdio.h>
#include <string.h>

#define VERIFY_POLL_MS 100

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

static int cluster_problem(struct exec_run *run, const char *host, int port, char *what, size_t size)
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
	if (rc == 0 && snapshot_map(&s))
		rc = epochs_problem(snapshot_map(&s), what, size);
	snapshot_release(&s);
	return rc;
}

int exec_verify(struct exec_run *run, const char *seed_host, int seed_port, struct sc_error *err)
{
	int wait_ms = run->o->verify_wait_ms > 0 ? run->o->verify_wait_ms : EXEC_DEFAULT_VERIFY_WAIT_MS;
	long long deadline = sc_clock_ms() + wait_ms;
	char what[512];

	for (;;) {
		if (cluster_problem(run, seed_host, seed_port, what, sizeof(what)) == 0)
			return 0;
		if (sc_clock_ms() >= deadline || (run->o->stop && *run->o->stop))
			break;
		sc_sleep_ms(VERIFY_POLL_MS);
	}
	return sc_error_set(err, SC_EXIT_PROBLEMS,
		"the cluster did not settle on the expected map within %d ms: %s; run 'slotctl check'",
		wait_ms, what);
}
