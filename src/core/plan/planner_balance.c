/* planner_balance.c: the balancing passes of `plan rebalance`
 * (balance_run): while some master is outside the threshold, the most
 * overloaded master gives the most underloaded one a slot that does not
 * overshoot the smaller of the two gaps: while that gap is several slots
 * wide, its lowest-numbered one of ordinary cost (ranges stay whole, big
 * keys stay put); near the goal, the one that best closes it. Every move
 * strictly lowers the total deviation and no slot moves twice, so it
 * ends. Pure. */
#include "planner_rebalance_priv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

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

bool balance_within(const struct planner_work *w, const struct balance *b, size_t i, double pct)
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

bool balance_all_within(const struct planner_work *w, const struct balance *b, double pct)
{
	for (size_t i = 0; i < w->count; i++)
		if (b->part[i] && b->weight[i] > 0 && !balance_within(w, b, i, pct))
			return false;
	return true;
}

static int balance_loop(struct planner_work *w, struct balance *b, double pct, struct donor *donors)
{
	for (;;) {
		int d, r;
		ssize_t k;
		struct donor *dn;

		if (balance_all_within(w, b, pct))
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
		balance_record_move(w, b, dn->slots[k].slot, r);
		memmove(&dn->slots[k], &dn->slots[k + 1], (dn->n - (size_t)k - 1) * sizeof(*dn->slots));
		dn->n--;
	}
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

int balance_run(struct planner_work *w, struct balance *b, double pct, struct sc_error *err)
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
		donors[i].n = balance_movable_slots(w, (int)i, donors[i].slots);
		donors[i].n = drop_above(donors[i].slots, donors[i].n, b->small_max);
		/* balance_movable_slots lists them in slot order */
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
		rc = balance_loop(w, b, w->opts->by == MEASURE_SLOTS && !balance_all_within(w, b, pct) ? 0 : pct, donors);
	for (size_t i = 0; i < w->count; i++) {
		free(donors[i].slots);
		free(donors[i].by_slot);
	}
	free(donors);
	return rc;
}
