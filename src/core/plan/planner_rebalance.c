/* planner_rebalance.c: `plan rebalance` and `plan drain`. Each master taking
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
 * one master gets a warning. Pure. */
#include "planner_work.h"
#include "slotctl/core/exitcode.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

struct balance {
	double *weight;   /* per node */
	double *target;   /* per node: its share of the measure */
	bool *part;       /* takes part (owns slots, or empty with --use-empty-masters) */
	bool *receives;   /* may receive: takes part, weight > 0, healthy */
	int *held;        /* slots held with the moves so far (ties when values are 0) */
	double small_max; /* donors of the balancing loop give no slot above this */
};

static void balance_free(struct balance *b)
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

/* The work of a rebalance or a drain: w from the map and stats (every
 * owned slot measured), b allocated for its masters. On failure neither
 * needs releasing. */
static int balance_start(struct planner_work *w, struct balance *b, const struct topology *map,
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

/* Decides who takes part and who receives, checks health, sets targets. */
static int balance_setup(struct planner_work *w, struct balance *b, struct sc_error *err)
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

struct valued {
	double value, cost;
	int slot;
};

/* Largest value first; then fewest bytes; then lowest slot. */
static int largest_first(const void *a, const void *b)
{
	const struct valued *x = a, *y = b;

	if (x->value != y->value)
		return x->value > y->value ? -1 : 1;
	if (x->cost != y->cost)
		return x->cost < y->cost ? -1 : 1;
	return x->slot - y->slot;
}

static size_t movable_slots(const struct planner_work *w, int node, struct valued *out)
{
	size_t n = 0;

	for (int s = 0; s < SC_SLOTS; s++)
		if (w->owner[s] == node && w->dest[s] < 0)
			out[n++] = (struct valued){ w->value[s], pw_cost(w, s), s };
	return n;
}

static void record_move(struct planner_work *w, struct balance *b, int slot, int to)
{
	b->held[pw_holder(w, slot)]--;
	b->held[to]++;
	pw_move(w, slot, to);
}

/* Moves every slot of each taking-part master with weight 0 to receivers. */
static int empty_zero_weights(struct planner_work *w, struct balance *b, struct sc_error *err)
{
	struct valued *v = malloc(SC_SLOTS * sizeof(*v));

	if (!v)
		return pw_no_memory(err);
	for (size_t i = 0; i < w->count; i++) {
		size_t n;

		if (!b->part[i] || b->weight[i] > 0 || b->held[i] == 0)
			continue;
		n = movable_slots(w, (int)i, v);
		qsort(v, n, sizeof(*v), largest_first);
		for (size_t k = 0; k < n; k++) {
			int to = neediest(w, b);

			if (to < 0) {
				free(v);
				return sc_error_set(err, SC_EXIT_USAGE,
					"no master can receive the slots of '%s' (add --use-empty-masters, or give a weight above 0)",
					w->nodes[i].id);
			}
			record_move(w, b, v[k].slot, to);
		}
	}
	free(v);
	return 0;
}

/* A donor's movable slots by value ascending; among equal values the
 * cheapest last, so the slot just below a bound is the cheapest of its size. */
static int smallest_first(const void *a, const void *b)
{
	const struct valued *x = a, *y = b;

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	if (x->cost != y->cost)
		return x->cost > y->cost ? -1 : 1;
	return y->slot - x->slot;
}

struct donor {
	struct valued *slots;
	size_t n;
	/* the same slots in slot order, those given away still there (the
	 * donor no longer holds them); the first that may still be the
	 * lowest-numbered ordinary one (cheap) or the lowest-numbered one
	 * (best): they only move forward, as slots only leave */
	struct valued *by_slot;
	size_t by_slot_n, cheap, best;
	double cost_cap;   /* above this a slot costs far more than the donor's usual one */
	bool stuck;
};

static bool within(const struct planner_work *w, const struct balance *b, size_t i, double pct)
{
	double dev = fabs(w->load[i] - b->target[i]);

	return dev <= pct / 100.0 * b->target[i] + 1e-9;
}

/* Index of the first slot of d whose value is above x. */
static size_t upper_bound(const struct donor *d, double x)
{
	size_t lo = 0, hi = d->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (d->slots[mid].value <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* While the gap is at least this many of the donor's typical large slots
 * (its 90th percentile: one giant slot must not make every gap look
 * small), which slot moves hardly matters for the balance: take the
 * donor's lowest one. */
#define CONTIGUOUS_GAP_SLOTS 4.0
#define CONTIGUOUS_SCALE_PERCENTILE 0.9

/* The value of d's slot at CONTIGUOUS_SCALE_PERCENTILE (d has slots). */
static double typical_large(const struct donor *d)
{
	return d->slots[(size_t)((double)(d->n - 1) * CONTIGUOUS_SCALE_PERCENTILE)].value;
}

/* A slot costing more than this many times the donor's typical large slot
 * (in bytes, its 90th percentile) is passed over while the gap is wide:
 * balancing keys or slots must not drag a big key along when ordinary slots
 * do the same. */
#define CONTIGUOUS_COST_FACTOR 4.0

/* Sets d->cost_cap from the costs of d's slots. 0, or -1 on OOM. */
static int set_cost_cap(struct donor *d)
{
	double *costs = malloc((d->n ? d->n : 1) * sizeof(*costs));

	if (!costs)
		return -1;
	for (size_t k = 0; k < d->n; k++)
		costs[k] = d->slots[k].cost;
	d->cost_cap = d->n ? CONTIGUOUS_COST_FACTOR *
		pw_sorted_at(costs, d->n, (size_t)((double)(d->n - 1) * CONTIGUOUS_SCALE_PERCENTILE)) : 0;
	free(costs);
	return 0;
}

/* Among the first ub slots of d (none above the gap; the last holds
 * something), the lowest-numbered one holding something and of ordinary
 * cost (else the lowest-numbered holding something): moving slots in
 * order keeps each master's ranges whole, so CLUSTER SLOTS and nodes.conf
 * stay short (scattered slots make every node's config save and every
 * client's map refresh heavier). Empty slots stay: moving them would cost
 * SETSLOTs on every node and balance nothing. */
static size_t lowest_numbered_scan(const struct donor *d, size_t ub)
{
	size_t best = ub - 1, cheap = ub; /* best holds something: value > 0 */

	for (size_t k = 0; k < ub; k++) {
		if (d->slots[k].value <= 0)
			continue;
		if (d->slots[k].slot < d->slots[best].slot)
			best = k;
		if (d->slots[k].cost <= d->cost_cap && (cheap == ub || d->slots[k].slot < d->slots[cheap].slot))
			cheap = k;
	}
	return cheap < ub ? cheap : best;
}

/* Whether by_slot[k] of donor d (nodes[i]) is one lowest_numbered_scan
 * may pick when every slot fits: still held, holding something, and of
 * ordinary cost when cheap. */
static bool candidate(const struct planner_work *w, const struct donor *d, int i, size_t k, bool cheap)
{
	const struct valued *v = &d->by_slot[k];

	return v->value > 0 && (!cheap || v->cost <= d->cost_cap) && pw_holder(w, v->slot) == i;
}

/* lowest_numbered_scan's pick for donor d (nodes[i]): while every slot of
 * d fits under the gap (ub == n), from the slot-ordered cursors instead of
 * a scan of all of them (a rebalance onto a new master moves thousands of
 * slots, each of which used to scan the donor's thousands), then found in
 * d->slots by its sort key (unique: the slot number breaks ties). */
static size_t lowest_numbered(const struct planner_work *w, struct donor *d, int i, size_t ub)
{
	const struct valued *pick, *at;

	if (ub != d->n || !d->by_slot)
		return lowest_numbered_scan(d, ub);
	while (d->cheap < d->by_slot_n && !candidate(w, d, i, d->cheap, true))
		d->cheap++;
	while (d->best < d->by_slot_n && !candidate(w, d, i, d->best, false))
		d->best++;
	if (d->cheap < d->by_slot_n)
		pick = &d->by_slot[d->cheap];
	else if (d->best < d->by_slot_n)
		pick = &d->by_slot[d->best];
	else
		return lowest_numbered_scan(d, ub);
	at = bsearch(pick, d->slots, d->n, sizeof(*d->slots), smallest_first);
	return at ? (size_t)(at - d->slots) : lowest_numbered_scan(d, ub);
}

/* The slot of donor D to give receiver R, or -1 when none helps: far from
 * the goal the donor's lowest slot, near it the largest that fits. */
static ssize_t best_slot(const struct planner_work *w, struct donor *d, int i, double gap_d, double gap_r)
{
	double x = gap_d < gap_r ? gap_d : gap_r;
	size_t ub = upper_bound(d, x);
	double v;

	if (ub > 0 && d->slots[ub - 1].value > 0)
		return x >= CONTIGUOUS_GAP_SLOTS * typical_large(d) ?
			(ssize_t)lowest_numbered(w, d, i, ub) : (ssize_t)ub - 1;
	if (ub >= d->n)
		return -1;
	v = d->slots[ub].value;
	if (fmax(fabs(gap_d - v), fabs(v - gap_r)) < fmax(gap_d, gap_r) - 1e-9)
		return (ssize_t)ub;
	return -1;
}

static void pick_pair(const struct planner_work *w, const struct balance *b,
	const struct donor *donors, int *dd, int *rr)
{
	double best_d = 0, best_r = 0;

	*dd = *rr = -1;
	for (size_t i = 0; i < w->count; i++) {
		double rel;

		if (!b->part[i] || b->weight[i] <= 0 || b->target[i] <= 0)
			continue;
		rel = (w->load[i] - b->target[i]) / b->target[i];
		if (rel > best_d && !donors[i].stuck && donors[i].n > 0) {
			best_d = rel;
			*dd = (int)i;
		}
		if (rel < best_r && b->receives[i]) {
			best_r = rel;
			*rr = (int)i;
		}
	}
}

static bool all_within(const struct planner_work *w, const struct balance *b, double pct)
{
	for (size_t i = 0; i < w->count; i++)
		if (b->part[i] && b->weight[i] > 0 && !within(w, b, i, pct))
			return false;
	return true;
}

static int balance_loop(struct planner_work *w, struct balance *b, double pct, struct donor *donors)
{
	for (;;) {
		int d, r;
		ssize_t k;
		struct donor *dn;

		if (all_within(w, b, pct))
			return 0;
		pick_pair(w, b, donors, &d, &r);
		if (d < 0 || r < 0)
			return 0;
		dn = &donors[d];
		k = best_slot(w, dn, d, w->load[d] - b->target[d], b->target[r] - w->load[r]);
		if (k < 0) {
			dn->stuck = true;
			continue;
		}
		record_move(w, b, dn->slots[k].slot, r);
		memmove(&dn->slots[k], &dn->slots[k + 1], (dn->n - (size_t)k - 1) * sizeof(*dn->slots));
		dn->n--;
	}
}

static void warn_outside(struct planner_work *w, const struct balance *b, double pct)
{
	for (size_t i = 0; i < w->count; i++) {
		if (!b->part[i] || b->weight[i] <= 0 || within(w, b, i, pct))
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

/* Whole slots cannot be split: a master holding a slot larger than its share
 * can at best hold just that slot. Such a master's target becomes its
 * largest slot, and the rest is shared among the others by weight, again
 * until no master's largest slot exceeds its share (water-filling). */
static int refine_targets(struct planner_work *w, struct balance *b, const double *floor,
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

/* Keeps the slots of v[0..n) whose value is at most max; returns how many. */
static size_t drop_above(struct valued *v, size_t n, double max)
{
	size_t kept = 0;

	for (size_t k = 0; k < n; k++)
		if (v[k].value <= max)
			v[kept++] = v[k];
	return kept;
}

static int balance(struct planner_work *w, struct balance *b, double pct, struct sc_error *err)
{
	struct donor *donors = calloc(w->count ? w->count : 1, sizeof(*donors));
	int rc = 0;

	if (!donors)
		return pw_no_memory(err);
	for (size_t i = 0; i < w->count && rc == 0; i++) {
		if (!b->part[i] || b->weight[i] <= 0 || b->held[i] == 0)
			continue;
		donors[i].slots = malloc((size_t)b->held[i] * sizeof(*donors[i].slots));
		if (!donors[i].slots) {
			rc = pw_no_memory(err);
			break;
		}
		donors[i].n = movable_slots(w, (int)i, donors[i].slots);
		donors[i].n = drop_above(donors[i].slots, donors[i].n, b->small_max);
		/* movable_slots lists them in slot order */
		if ((donors[i].by_slot = malloc((donors[i].n ? donors[i].n : 1) * sizeof(*donors[i].by_slot))))
			memcpy(donors[i].by_slot, donors[i].slots, donors[i].n * sizeof(*donors[i].by_slot));
		donors[i].by_slot_n = donors[i].n;
		qsort(donors[i].slots, donors[i].n, sizeof(*donors[i].slots), smallest_first);
		if (set_cost_cap(&donors[i]) < 0)
			rc = pw_no_memory(err);
	}
	/* as redis-cli: the threshold decides whether slots move at all; once
	 * they do, slot counts are evened out to within one slot */
	if (rc == 0)
		rc = balance_loop(w, b, w->opts->by == MEASURE_SLOTS && !all_within(w, b, pct) ? 0 : pct, donors);
	for (size_t i = 0; i < w->count; i++) {
		free(donors[i].slots);
		free(donors[i].by_slot);
	}
	free(donors);
	return rc;
}

/* The moves so far and what they change, to try another way from the same
 * point and keep the better. */
struct attempt {
	int dest[SC_SLOTS];
	double *load, *target;
	int *held;
};

static void attempt_free(struct attempt *a)
{
	if (!a)
		return;
	free(a->load);
	free(a->target);
	free(a->held);
	free(a);
}

/* A copy of the state of w and b, or NULL on OOM. */
static struct attempt *attempt_save(const struct planner_work *w, const struct balance *b)
{
	size_t c = w->count ? w->count : 1;
	struct attempt *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->load = malloc(c * sizeof(*a->load));
	a->target = malloc(c * sizeof(*a->target));
	a->held = malloc(c * sizeof(*a->held));
	if (!a->load || !a->target || !a->held) {
		attempt_free(a);
		return NULL;
	}
	memcpy(a->dest, w->dest, sizeof(a->dest));
	memcpy(a->load, w->load, w->count * sizeof(*a->load));
	memcpy(a->target, b->target, w->count * sizeof(*a->target));
	memcpy(a->held, b->held, w->count * sizeof(*a->held));
	return a;
}

static void attempt_restore(const struct attempt *a, struct planner_work *w, struct balance *b)
{
	memcpy(w->dest, a->dest, sizeof(a->dest));
	memcpy(w->load, a->load, w->count * sizeof(*a->load));
	memcpy(b->target, a->target, w->count * sizeof(*a->target));
	memcpy(b->held, a->held, w->count * sizeof(*a->held));
}

static double moved_cost(const struct planner_work *w)
{
	double n = 0;

	for (int s = 0; s < SC_SLOTS; s++)
		if (w->dest[s] >= 0)
			n += pw_cost(w, s);
	return n;
}

static bool taker(const struct balance *b, size_t i)
{
	return b->receives[i] && b->weight[i] > 0;
}

/* The master with the most room left under its share for big slots: the
 * holder itself while its big slots fit (within pct), else the one with the
 * most bytes of room (lowest index on ties). */
static int roomiest(const struct planner_work *w, const struct balance *b, const double *bigload,
	int holder, double value, double pct)
{
	int best = -1;

	if (taker(b, (size_t)holder) && bigload[holder] + value <= b->target[holder] * (1 + pct / 100.0))
		return holder;
	for (size_t i = 0; i < w->count; i++)
		if (taker(b, i) && (best < 0 || b->target[i] - bigload[i] > b->target[best] - bigload[best]))
			best = (int)i;
	return best;
}

/* Sets b->small_max: half the threshold band on the smallest share. Slots
 * above it are big: the balancing loop leaves them, pw_improve places them. */
static void set_small_max(const struct planner_work *w, struct balance *b, double pct)
{
	double min_target = INFINITY;

	for (size_t i = 0; i < w->count; i++)
		if (taker(b, i))
			min_target = fmin(min_target, b->target[i]);
	b->small_max = pct / 200.0 * min_target;
}

/* With the big slots where they are: improves their places (pw_improve),
 * sets targets around them (a master whose big slots exceed its share keeps
 * just those) and balances the small slots. */
static int settle(struct planner_work *w, struct balance *b, double pct, struct sc_error *err)
{
	double *bigload = calloc(w->count ? w->count : 1, sizeof(*bigload));
	int rc;

	if (!bigload)
		return pw_no_memory(err);
	rc = pw_improve(w, b->receives, b->weight, b->small_max, err);
	for (size_t i = 0; i < w->count; i++)
		b->held[i] = 0;
	for (int s = 0; rc == 0 && s < SC_SLOTS; s++) {
		int h = pw_holder(w, s);

		if (h >= 0)
			b->held[h]++;
		if (h >= 0 && w->value[s] > b->small_max)
			bigload[h] += w->value[s];
	}
	if (rc == 0)
		rc = refine_targets(w, b, bigload, err);
	free(bigload);
	return rc < 0 ? -1 : balance(w, b, pct, err);
}

/* The second way, for when big slots keep the first outside the threshold:
 * the slots too big for the threshold band (above half of it on the
 * smallest share) are dealt first, largest first, each staying with its
 * holder while that holder's big slots fit its share, else going to the
 * master with the most room (longest-processing-time first); the small
 * slots then balance around them as in the first way. */
static int repack(struct planner_work *w, struct balance *b, double pct, struct sc_error *err)
{
	double *bigload = calloc(w->count ? w->count : 1, sizeof(*bigload));
	struct valued *big = malloc(SC_SLOTS * sizeof(*big));
	size_t n = 0;

	if (!bigload || !big) {
		free(bigload);
		free(big);
		return pw_no_memory(err);
	}
	for (int s = 0; s < SC_SLOTS; s++) {
		int h = pw_holder(w, s);

		if (h >= 0 && taker(b, (size_t)h) && w->value[s] > b->small_max)
			big[n++] = (struct valued){ w->value[s], pw_cost(w, s), s };
	}
	qsort(big, n, sizeof(*big), largest_first);
	for (size_t k = 0; k < n; k++) {
		int h = pw_holder(w, big[k].slot), to = roomiest(w, b, bigload, h, big[k].value, pct);

		if (to != h)
			record_move(w, b, big[k].slot, to);
		bigload[to] += big[k].value;
	}
	free(big);
	free(bigload);
	return settle(w, b, pct, err);
}

/* Whether refine_targets raised a master's target to a slot above its
 * share: with unequal weights another master may hold that slot better. */
static bool giant_kept(const struct planner_work *w, const struct balance *b, const struct attempt *start)
{
	for (size_t i = 0; i < w->count; i++)
		if (taker(b, i) && b->target[i] > start->target[i] * (1 + 1e-9))
			return true;
	return false;
}

/* When the first way leaves a master outside the threshold (or keeps a
 * slot above its share where it was): improves it
 * (pw_improve), tries the second way from start (repack, then pw_improve),
 * and keeps the more even result, or on a tie the one moving fewer bytes. */
static int improve(struct planner_work *w, struct balance *b, double pct, const struct attempt *start,
	struct sc_error *err)
{
	struct attempt *first;
	double spread, bytes;
	int rc = 0;

	set_small_max(w, b, pct);
	if (settle(w, b, pct, err) < 0)
		return -1;
	first = attempt_save(w, b);
	if (!first)
		return pw_no_memory(err);
	spread = pw_spread(w, b->receives, b->weight);
	bytes = moved_cost(w);
	attempt_restore(start, w, b);
	if (repack(w, b, pct, err) < 0)
		rc = -1;
	else if (spread < pw_spread(w, b->receives, b->weight) - 1e-9 ||
		 (spread <= pw_spread(w, b->receives, b->weight) + 1e-9 && bytes <= moved_cost(w)))
		attempt_restore(first, w, b);
	attempt_free(first);
	return rc;
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
	if (balance_setup(&w, &b, err) < 0 || empty_zero_weights(&w, &b, err) < 0)
		goto out;
	start = attempt_save(&w, &b);
	if (!start) {
		pw_no_memory(err);
		goto out;
	}
	if (refine_targets(&w, &b, NULL, err) < 0 || balance(&w, &b, pct, err) < 0)
		goto out;
	/* --by slots: every slot is as big as any other, nothing to improve */
	if (opts->by != MEASURE_SLOTS && (!all_within(&w, &b, pct) || giant_kept(&w, &b, start)) &&
	    improve(&w, &b, pct, start, err) < 0)
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
	if (empty_zero_weights(&w, &b, err) < 0)
		goto out;
	rc = pw_finish(&w, PLAN_DRAIN, out, err);
out:
	balance_free(&b);
	pw_release(&w);
	return rc;
}
