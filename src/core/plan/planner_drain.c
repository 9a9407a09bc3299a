/* planner_drain.c: `plan drain`, and the drain pass a rebalance runs first:
 * every slot of a master with weight 0 goes, largest first, to the receiver
 * furthest below its target (balance_empty_zero_weights). Pure. */
#include "planner_rebalance_priv.h"
#include "slotctl/core/exitcode.h"

#include <stdlib.h>

/* The receiver furthest below its target (relative), fewest slots on ties. */
static int neediest(const struct planner_work *w, const struct balance *b)
{
	int best = -1;
	double best_gap = 0;

	for (size_t i = 0; i < w->count; i++) {
		double gap;

		if (!b->receives[i])
			continue;
		gap = b->target[i] > 0 ? (w->load[i] - b->target[i]) / b->target[i] : 0;
		if (best < 0 || gap < best_gap || (gap == best_gap && b->held[i] < b->held[best])) {
			best = (int)i;
			best_gap = gap;
		}
	}
	return best;
}

int balance_empty_zero_weights(struct planner_work *w, struct balance *b, struct sc_error *err)
{
	struct valued *v = malloc(SC_SLOTS * sizeof(*v));

	if (!v)
		return pw_no_memory(err);
	for (size_t i = 0; i < w->count; i++) {
		size_t n;

		if (!b->part[i] || b->weight[i] > 0 || b->held[i] == 0)
			continue;
		n = balance_movable_slots(w, (int)i, v);
		qsort(v, n, sizeof(*v), balance_largest_first);
		for (size_t k = 0; k < n; k++) {
			int to = neediest(w, b);

			if (to < 0) {
				free(v);
				return sc_error_set(err, SC_EXIT_USAGE,
					"no master can receive the slots of '%s' (add --use-empty-masters, or give a weight above 0)",
					w->nodes[i].id);
			}
			balance_record_move(w, b, v[k].slot, to);
		}
	}
	free(v);
	return 0;
}

int planner_drain(const struct topology *map, const struct slot_stats *stats,
	const struct planner_opts *opts, struct plan *out, struct sc_error *err)
{
	struct planner_work w;
	struct balance b;
	int victim, rc = -1;

	if (!opts->drain)
		return sc_error_set(err, SC_EXIT_USAGE, "drain needs the ID of the master to empty");
	if (balance_start(&w, &b, map, stats, opts, err) < 0)
		return -1;
	victim = pw_find_master(&w, opts->drain, "drain", err);
	if (victim < 0)
		goto out;
	for (size_t i = 0; i < w.count; i++)
		b.weight[i] = (int)i == victim ? 0 : 1.0;
	if (balance_setup(&w, &b, err) < 0)
		goto out;
	if (b.held[victim] == 0)
		pw_warn(&w, "'%.8s' owns no slots: nothing to drain", w.nodes[victim].id);
	if (balance_empty_zero_weights(&w, &b, err) < 0)
		goto out;
	rc = pw_finish(&w, PLAN_DRAIN, out, err);
out:
	balance_free(&b);
	pw_release(&w);
	return rc;
}
