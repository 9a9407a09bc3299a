/* node_rules.c: who may join, which master a replica follows, who may leave,
 * who is forgotten (see node_rules.h). Pure: decisions on CLUSTER NODES
 * views only. */
#include "slotctl/core/node_rules.h"
#include "slotctl/core/exitcode.h"

#include <string.h>

#define UNHEALTHY (NODE_FAIL | NODE_PFAIL | NODE_NOADDR | NODE_HANDSHAKE)

int node_rules_joinable(const struct topology *view, long long keys, const char *addr,
	struct sc_error *err)
{
	const struct node *me = view->myself >= 0 ? &view->nodes[view->myself] : NULL;

	if (keys > 0)
		return sc_error_set(err, SC_EXIT_REFUSED, "'%s' holds %lld key%s: a new node must be empty "
			"(FLUSHALL it if its data is not needed)", addr, keys, keys == 1 ? "" : "s");
	if (me && slotset_count(node_slots(me)) > 0)
		return sc_error_set(err, SC_EXIT_REFUSED, "'%s' serves %d slot%s: it belongs to a cluster "
			"(CLUSTER RESET it if it must leave that cluster)", addr, slotset_count(node_slots(me)),
			slotset_count(node_slots(me)) == 1 ? "" : "s");
	if (view->count > 1)
		return sc_error_set(err, SC_EXIT_REFUSED, "'%s' knows %zu other node%s: it is, or was, in a "
			"cluster (CLUSTER RESET it if it must leave that cluster)", addr, view->count - 1,
			view->count == 2 ? "" : "s");
	return 0;
}

size_t node_rules_replica_count(const struct topology *t, const char *master_id)
{
	size_t n = 0;

	for (size_t i = 0; i < t->count; i++)
		if ((t->nodes[i].flags & NODE_REPLICA) && strcmp(t->nodes[i].master_id, master_id) == 0)
			n++;
	return n;
}

/* Replicas of master_id not flagged fail. */
static size_t live_replicas(const struct topology *t, const char *master_id)
{
	size_t n = 0;

	for (size_t i = 0; i < t->count; i++)
		if ((t->nodes[i].flags & NODE_REPLICA) && !(t->nodes[i].flags & NODE_FAIL) &&
		    strcmp(t->nodes[i].master_id, master_id) == 0)
			n++;
	return n;
}

static const struct node *fewest_replicas_except(const struct topology *t, const char *except)
{
	const struct node *best = NULL;
	size_t best_n = 0;

	for (size_t i = 0; i < t->count; i++) {
		const struct node *m = &t->nodes[i];
		size_t n;

		if (!node_is_master(m) || (m->flags & UNHEALTHY) || slotset_count(node_slots(m)) == 0 ||
		    (except && strcmp(m->id, except) == 0))
			continue;
		n = live_replicas(t, m->id);
		if (!best || n < best_n || (n == best_n && strcmp(m->id, best->id) < 0)) {
			best = m;
			best_n = n;
		}
	}
	return best;
}

const struct node *node_rules_fewest_replicas(const struct topology *t)
{
	return fewest_replicas_except(t, NULL);
}

const struct node *node_rules_new_master(const struct topology *t, const char *leaving)
{
	return fewest_replicas_except(t, leaving);
}

int node_rules_removable(const struct topology *t, const char *id, bool drain, bool with_replicas,
	struct sc_error *err)
{
	const struct node *n = topology_find(t, id);
	int slots;

	if (!n)
		return sc_error_set(err, SC_EXIT_USAGE, "no node '%s' in the cluster", id);
	if (!node_is_master(n))
		return 0;
	slots = slotset_count(node_slots(n));
	if (slots > 0 && !drain)
		return sc_error_set(err, SC_EXIT_REFUSED, "'%s:%d' (%.8s) serves %d slot%s: move them away "
			"first (--drain, or 'slotctl plan drain SEED %s -o drain.json', then 'slotctl apply drain.json')",
			n->ip, n->port, n->id, slots, slots == 1 ? "" : "s", n->id);
	if (n->open_count > 0)
		return sc_error_set(err, SC_EXIT_REFUSED, "'%s:%d' (%.8s) has slot %d open: finish or abort "
			"that move first ('slotctl fix SEED')", n->ip, n->port, n->id, n->open[0].slot);
	if (!with_replicas && node_rules_replica_count(t, id) > 0 && !node_rules_new_master(t, id))
		return sc_error_set(err, SC_EXIT_REFUSED, "no other healthy master serving slots can take "
			"the replicas of '%s:%d' (%.8s): remove them with it (--with-replicas)", n->ip, n->port, n->id);
	return 0;
}

size_t node_rules_forgettable(const struct topology *t, size_t *ids, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < t->count; i++) {
		const struct node *x = &t->nodes[i];

		if ((x->flags & NODE_MYSELF) || !(x->flags & (NODE_FAIL | NODE_NOADDR)) ||
		    slotset_count(node_slots(x)) > 0)
			continue;
		if (n < max)
			ids[n] = i;
		n++;
	}
	return n;
}
