/* planner_rebalance.c: `plan rebalance` (and `plan drain`). Each master taking
 * part gets a target: its weighted share of the balanced measure (slots,
 * keys or memory), or, when it holds a slot larger than that share, that
 * slot (whole slots cannot do better; the others share the rest). First
 * every slot of a master with weight 0 (the drained one) goes, largest
 * first, to the receiver furthest below its target. Then, while some master
 * is outside the threshold (by slots: once one is, until every master is
 * within one slot of its target, as redis-cli), the most overloaded master gives the most
 * underloaded one a slot that does not overshoot the smaller of the two
 * gaps: while that gap is several slots wide, its lowest-numbered one of
 * ordinary cost (ranges stay whole, big keys stay put); near the goal, the
 * one that best closes it (among equals, the one with the fewest bytes).
 * Every move strictly lowers the total deviation and no slot moves twice,
 * so it ends. If a master stays outside the threshold (big slots, --by
 * memory or keys), pw_improve (planner_improve.c) moves or swaps big slots
 * too, and a second way is tried from the same start (repack: big slots
 * dealt first, the small ones balanced around them); the more even result
 * wins, then the one moving fewer bytes. A plan that piles the keys onto
 * one master gets a warning. Here: the weights, the passes in order and the
 * warnings; the passes are planner_drain.c (the drain pass),
 * planner_balance.c (the balancing loop) and planner_repack.c (pw_improve
 * and the second way), on the state of planner_targets.c. Pure. */
#include "planner_rebalance_priv.h"
#include "slotctl/core/exitcode.h"

#include <math.h>

static int parse_weight(struct planner_work *w, const char *text, struct balance *b,
	struct sc_error *err)
{
	char id[SC_NODE_ID_LEN + 2];
	double v;
	int i;

	if (planner_weight_parse(text, id, sizeof(id), &v, err) < 0)
		return -1;
	i = pw_find_master(w, id, "--weight", err);
	if (i < 0)
		return -1;
	b->weight[i] = v;
	return 0;
}

static void warn_outside(struct planner_work *w, const struct balance *b, double pct)
{
	for (size_t i = 0; i < w->count; i++) {
		if (!b->part[i] || b->weight[i] <= 0 || balance_within(w, b, i, pct))
			continue;
		pw_warn(w, "'%.8s' stays %.1f%% from its share of %s (threshold %g%%): slots move whole",
			w->nodes[i].id, 100.0 * fabs(w->load[i] - b->target[i]) / b->target[i],
			plan_measure_name(w->opts->by), pct);
	}
}

/* Balancing memory (or slots) can pile the keys onto one master when a few
 * big slots elsewhere make up the rest; if requests follow keys, so does
 * the load. Warns for a master that would end with over
 * PLANNER_KEY_SPREAD_WARN times its weighted share of the keys. */
static void warn_key_pileup(struct planner_work *w, const struct balance *b)
{
	double keys_total = 0, load_total = 0, weights = 0;

	if (w->opts->by == MEASURE_KEYS)
		return;
	pw_summarise(w);
	for (size_t i = 0; i < w->count; i++) {
		if (w->nodes[i].keys_after < 0)
			return; /* key counts unknown */
		keys_total += (double)w->nodes[i].keys_after;
		if (!b->part[i] || b->weight[i] <= 0)
			continue;
		load_total += w->load[i];
		weights += b->weight[i];
	}
	for (size_t i = 0; keys_total > 0 && load_total > 0 && i < w->count; i++) {
		double share = b->part[i] && weights > 0 ? b->weight[i] / weights : 0;
		double keys = (double)w->nodes[i].keys_after;

		if (share <= 0 || keys / keys_total <= PLANNER_KEY_SPREAD_WARN * share)
			continue;
		pw_warn(w, "'%.8s' would hold %.1f%% of the keys for %.1f%% of the %s (a fair share: %.1f%%); "
			"if requests follow keys, so will the load: rebalance --by keys spreads the keys instead",
			w->nodes[i].id, 100.0 * keys / keys_total, 100.0 * w->load[i] / load_total,
			plan_measure_name(w->opts->by), 100.0 * share);
	}
}

int planner_rebalance(const struct topology *map, const struct slot_stats *stats,
	const struct planner_opts *opts, struct plan *out, struct sc_error *err)
{
	struct planner_work w;
	struct balance b;
	struct attempt *start = NULL;
	double pct = opts->threshold > 0 ? opts->threshold : PLANNER_DEFAULT_THRESHOLD;
	int rc = -1;

	if (balance_start(&w, &b, map, stats, opts, err) < 0)
		return -1;
	for (size_t i = 0; i < w.count; i++)
		b.weight[i] = 1.0;
	for (size_t i = 0; i < opts->weight_count; i++)
		if (parse_weight(&w, opts->weights[i], &b, err) < 0)
			goto out;
	if (balance_setup(&w, &b, err) < 0 || balance_empty_zero_weights(&w, &b, err) < 0)
		goto out;
	start = attempt_save(&w, &b);
	if (!start) {
		pw_no_memory(err);
		goto out;
	}
	if (balance_refine_targets(&w, &b, NULL, err) < 0 || balance_run(&w, &b, pct, err) < 0)
		goto out;
	/* --by slots: every slot is as big as any other, nothing to improve */
	if (opts->by != MEASURE_SLOTS && (!balance_all_within(&w, &b, pct) || balance_giant_kept(&w, &b, start)) &&
	    balance_improve(&w, &b, pct, start, err) < 0)
		goto out;
	warn_outside(&w, &b, pct);
	warn_key_pileup(&w, &b);
	rc = pw_finish(&w, PLAN_REBALANCE, out, err);
out:
	attempt_free(start);
	balance_free(&b);
	pw_release(&w);
	return rc;
}
