/* planner_targets.c: the state every pass of `plan rebalance` and `plan
 * drain` works on (struct balance): who takes part and who receives, each
 * master's target (its weighted share of the measure, or its largest slot
 * when that is bigger: balance_refine_targets), and the moves recorded
 * against them. Pure. */
#include "planner_rebalance_priv.h"
#include "slotctl/core/exitcode.h"

#include <math.h>
#include <stdlib.h>

void balance_free(struct balance *b)
{
	free(b->weight);
	free(b->target);
	free(b->part);
	free(b->receives);
	free(b->held);
}

static int balance_alloc(struct balance *b, size_t n, struct sc_error *err)
{
	size_t c = n ? n : 1;

	b->weight = calloc(c, sizeof(*b->weight));
	b->target = calloc(c, sizeof(*b->target));
	b->part = calloc(c, sizeof(*b->part));
	b->receives = calloc(c, sizeof(*b->receives));
	b->held = calloc(c, sizeof(*b->held));
	if (!b->weight || !b->target || !b->part || !b->receives || !b->held) {
		balance_free(b);
		return pw_no_memory(err);
	}
	b->small_max = INFINITY;
	return 0;
}

int balance_start(struct planner_work *w, struct balance *b, const struct topology *map,
	const struct slot_stats *stats, const struct planner_opts *opts, struct sc_error *err)
{
	if (pw_init(w, map, stats, opts, err) < 0)
		return -1;
	if (pw_require_measured(w, err) < 0 || balance_alloc(b, w->count, err) < 0) {
		pw_release(w);
		return -1;
	}
	return 0;
}

static bool failing(const struct planner_work *w, size_t i)
{
	return w->src[i] && (w->src[i]->flags & (NODE_FAIL | NODE_PFAIL));
}

int balance_setup(struct planner_work *w, struct balance *b, struct sc_error *err)
{
	double total = 0, weights = 0;

	for (size_t i = 0; i < w->count; i++) {
		b->held[i] = slotset_count(&w->nodes[i].slots);
		b->part[i] = b->held[i] > 0 || (w->opts->use_empty_masters && !failing(w, i));
		if (b->part[i] && b->held[i] > 0 && pw_require_healthy(w, (int)i, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < w->count; i++) {
		b->receives[i] = b->part[i] && b->weight[i] > 0 && !failing(w, i);
		if (!b->part[i])
			continue;
		total += w->load[i];
		weights += b->weight[i];
	}
	if (weights <= 0)
		return sc_error_set(err, SC_EXIT_USAGE,
			"no master taking part has a weight above 0, so none could hold the slots "
			"(masters without slots take part only with --use-empty-masters)");
	for (size_t i = 0; i < w->count; i++) {
		w->nodes[i].weight = b->weight[i];
		b->target[i] = b->part[i] ? total * b->weight[i] / weights : 0;
	}
	return 0;
}

int balance_refine_targets(struct planner_work *w, struct balance *b, const double *floor,
	struct sc_error *err)
{
	double *largest = calloc(w->count ? w->count : 1, sizeof(*largest));
	bool *fixed = calloc(w->count ? w->count : 1, sizeof(*fixed));
	bool changed = true;

	if (!largest || !fixed) {
		free(largest);
		free(fixed);
		return pw_no_memory(err);
	}
	for (int s = 0; !floor && s < SC_SLOTS; s++) {
		int holder = pw_holder(w, s);

		if (holder >= 0 && w->value[s] > largest[holder])
			largest[holder] = w->value[s];
	}
	for (size_t i = 0; floor && i < w->count; i++)
		largest[i] = floor[i];
	while (changed) {
		double pool = 0, weights = 0;

		changed = false;
		for (size_t i = 0; i < w->count; i++) {
			if (!b->part[i] || b->weight[i] <= 0)
				continue;
			pool += w->load[i] - (fixed[i] ? b->target[i] : 0);
			weights += fixed[i] ? 0 : b->weight[i];
		}
		for (size_t i = 0; weights > 0 && i < w->count; i++) {
			if (!b->part[i] || b->weight[i] <= 0 || fixed[i])
				continue;
			b->target[i] = pool * b->weight[i] / weights;
			if (largest[i] > b->target[i] + 1e-9) {
				b->target[i] = largest[i];
				fixed[i] = changed = true;
			}
		}
	}
	free(largest);
	free(fixed);
	return 0;
}

int balance_largest_first(const void *a, const void *b)
{
	const struct valued *x = a, *y = b;

	if (x->value != y->value)
		return x->value > y->value ? -1 : 1;
	if (x->cost != y->cost)
		return x->cost < y->cost ? -1 : 1;
	return x->slot - y->slot;
}

size_t balance_movable_slots(const struct planner_work *w, int node, struct valued *out)
{
	size_t n = 0;

	for (int s = 0; s < SC_SLOTS; s++)
		if (w->owner[s] == node && w->dest[s] < 0)
			out[n++] = (struct valued){ w->value[s], pw_cost(w, s), s };
	return n;
}

void balance_record_move(struct planner_work *w, struct balance *b, int slot, int to)
{
	b->held[pw_holder(w, slot)]--;
	b->held[to]++;
	pw_move(w, slot, to);
}
