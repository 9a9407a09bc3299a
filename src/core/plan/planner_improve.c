/* planner_improve.c: the improvement phase of `plan rebalance`. The first
 * phase (planner_balance.c) moves only slots that fit the gaps, so when a
 * few big slots sit on one master it can stop far from what whole slots
 * allow. This phase works on load per weight: while the most loaded master
 * can give one slot (however big) to another, or the least loaded take one,
 * so that both end strictly between the two's old loads, the best such move
 * is made (the pair closest afterwards, then the fewest bytes moved); when
 * no single move helps, a swap of two slots between them is tried. Every
 * step keeps each master inside the band [lowest, highest] and lowers the
 * sum of squared loads per weight, so it ends; the steps are also capped.
 * Then each moved slot, dearest first, goes back to its owner when that
 * keeps both masters inside the band reached: the same balance for fewer
 * bytes. Only slots above a size take part: moving small ones one by one
 * would scatter slot ranges; the balancing loop places those. Pure. */
#include "planner_work.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A cap on improving steps: each searches every master's slots at most once
 * for moves and a few masters' for swaps, so planning stays fast at 16384
 * slots and hundreds of masters. */
#define IMPROVE_MAX_STEPS 4096
/* Masters at each end tried as swap partners per step. */
#define SWAP_PARTNERS 4
/* Slots either side of the ideal size looked at in a sorted list. */
#define NEAR 3

struct held {
	double value;
	int slot;
};

/* A node's slots holding something, by value then slot. */
struct holding {
	struct held *v;
	size_t n, cap;
};

struct improve {
	struct planner_work *w;
	const bool *takes;
	const double *weight;
	struct holding *h;  /* per node */
	int *order;         /* taking-part nodes by load per weight, ascending */
	size_t order_n;
};

struct candidate {
	int a, b;       /* a goes from d to r; b (or -1) from r to d */
	double range;   /* |x_d - x_r| afterwards */
	double cost;    /* bytes moved more (less when a slot returns home) */
	bool found;
};

static double xload(const struct improve *im, int i)
{
	return im->w->load[i] / im->weight[i];
}

static int by_value(const void *a, const void *b)
{
	const struct held *x = a, *y = b;

	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return x->slot - y->slot;
}

/* Index of the first entry of h not below (value, slot). */
static size_t lower_bound(const struct holding *h, double value, int slot)
{
	size_t lo = 0, hi = h->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (h->v[mid].value < value || (h->v[mid].value == value && h->v[mid].slot < slot))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int holding_grow(struct holding *h)
{
	size_t cap = h->cap ? 2 * h->cap : 16;
	struct held *grown;

	if (h->n < h->cap)
		return 0;
	grown = realloc(h->v, cap * sizeof(*grown));
	if (!grown)
		return -1;
	h->v = grown;
	h->cap = cap;
	return 0;
}

/* Appends, unsorted (improve_init sorts once). */
static int holding_push(struct holding *h, double value, int slot)
{
	if (holding_grow(h) < 0)
		return -1;
	h->v[h->n++] = (struct held){ value, slot };
	return 0;
}

static int holding_add(struct holding *h, double value, int slot)
{
	size_t k;

	if (holding_grow(h) < 0)
		return -1;
	k = lower_bound(h, value, slot);
	memmove(&h->v[k + 1], &h->v[k], (h->n - k) * sizeof(*h->v));
	h->v[k] = (struct held){ value, slot };
	h->n++;
	return 0;
}

static void holding_remove(struct holding *h, double value, int slot)
{
	size_t k = lower_bound(h, value, slot);

	if (k < h->n && h->v[k].slot == slot) {
		memmove(&h->v[k], &h->v[k + 1], (h->n - k - 1) * sizeof(*h->v));
		h->n--;
	}
}

/* Bytes moved more when slot goes from node from to node to. */
static double cost_delta(const struct planner_work *w, int slot, int from, int to)
{
	double c = pw_cost(w, slot);

	return (to != w->owner[slot] ? c : 0) - (from != w->owner[slot] ? c : 0);
}

/* Weighs moving slot a from d to r (and b back when b >= 0) into best. */
static void consider(const struct improve *im, int d, int r, int a, int b, struct candidate *best)
{
	const struct planner_work *w = im->w;
	double net = w->value[a] - (b >= 0 ? w->value[b] : 0);
	double xd = xload(im, d), xr = xload(im, r), eps = 1e-9 * fmax(1, xd);
	double nd = xd - net / im->weight[d], nr = xr + net / im->weight[r];
	double range, cost;

	if (net <= 0 || fmax(nd, nr) >= xd - eps || fmin(nd, nr) <= xr + eps)
		return;
	range = fabs(nd - nr);
	cost = cost_delta(w, a, d, r) + (b >= 0 ? cost_delta(w, b, r, d) : 0);
	if (!best->found || range < best->range - eps || (range <= best->range + eps && cost < best->cost))
		*best = (struct candidate){ a, b, range, cost, true };
}

/* The net amount d should give r to bring the two level. */
static double ideal(const struct improve *im, int d, int r)
{
	return (xload(im, d) - xload(im, r)) / (1 / im->weight[d] + 1 / im->weight[r]);
}

/* Considers d's slots whose value is nearest want, giving b in exchange. */
static void consider_near(const struct improve *im, int d, int r, double want, int b, struct candidate *best)
{
	const struct holding *h = &im->h[d];
	size_t k = lower_bound(h, want, -1);
	size_t from = k > NEAR ? k - NEAR : 0, to = k + NEAR < h->n ? k + NEAR : h->n;

	for (size_t i = from; i < to; i++)
		consider(im, d, r, h->v[i].slot, b, best);
}

static struct candidate best_move(const struct improve *im, int d, int r)
{
	struct candidate c = { .found = false };

	if (d != r && xload(im, d) > xload(im, r))
		consider_near(im, d, r, ideal(im, d, r), -1, &c);
	return c;
}

static struct candidate best_swap(const struct improve *im, int d, int r)
{
	struct candidate c = { .found = false };
	const struct holding *hr = &im->h[r];

	if (d == r || xload(im, d) <= xload(im, r))
		return c;
	for (size_t i = 0; i < hr->n; i++)
		consider_near(im, d, r, hr->v[i].value + ideal(im, d, r), hr->v[i].slot, &c);
	return c;
}

static int send(struct improve *im, int slot, int to)
{
	struct planner_work *w = im->w;
	int from = pw_holder(w, slot);

	holding_remove(&im->h[from], w->value[slot], slot);
	pw_move(w, slot, to);
	return holding_add(&im->h[to], w->value[slot], slot);
}

static int apply(struct improve *im, int d, int r, const struct candidate *c)
{
	if (send(im, c->a, r) < 0)
		return -1;
	return c->b >= 0 ? send(im, c->b, d) : 0;
}

/* Whether node a comes before node b: lower load per weight, then index. */
static bool before(const struct improve *im, int a, int b)
{
	double x = xload(im, a), y = xload(im, b);

	return x < y || (x == y && a < b);
}

/* Insertion sort: after a step only two nodes move, so the order is
 * nearly sorted and this is linear. */
static void sort_order(struct improve *im)
{
	for (size_t k = 1; k < im->order_n; k++) {
		int v = im->order[k];
		size_t j = k;

		for (; j > 0 && before(im, v, im->order[j - 1]); j--)
			im->order[j] = im->order[j - 1];
		im->order[j] = v;
	}
}

/* One improving step: 1 made, 0 none found, -1 OOM. */
static int step(struct improve *im)
{
	size_t n = im->order_n;
	int hi, lo;

	sort_order(im);
	hi = im->order[n - 1];
	lo = im->order[0];
	for (size_t k = 0; k + 1 < n; k++) {
		struct candidate c = best_move(im, hi, im->order[k]);

		if (c.found)
			return apply(im, hi, im->order[k], &c) < 0 ? -1 : 1;
	}
	for (size_t k = n - 1; k > 0; k--) {
		struct candidate c = best_move(im, im->order[k], lo);

		if (c.found)
			return apply(im, im->order[k], lo, &c) < 0 ? -1 : 1;
	}
	for (size_t k = 0; k + 1 < n && k < SWAP_PARTNERS; k++) {
		struct candidate c = best_swap(im, hi, im->order[k]);

		if (c.found)
			return apply(im, hi, im->order[k], &c) < 0 ? -1 : 1;
		c = best_swap(im, im->order[n - 1 - k], lo);
		if (c.found)
			return apply(im, im->order[n - 1 - k], lo, &c) < 0 ? -1 : 1;
	}
	return 0;
}

struct by_cost {
	double cost;
	int slot;
};

static int dearest_first(const void *a, const void *b)
{
	const struct by_cost *x = a, *y = b;

	if (x->cost != y->cost)
		return x->cost > y->cost ? -1 : 1;
	return x->slot - y->slot;
}

/* Sends moved slots home, dearest first, where both masters stay inside the
 * band [lowest, highest] of load per weight. 0, or -1 on OOM. */
static int send_home(struct improve *im, double min_value)
{
	struct planner_work *w = im->w;
	struct by_cost *moved = malloc(SC_SLOTS * sizeof(*moved));
	size_t n = 0;
	double lo, hi;

	if (!moved)
		return -1;
	sort_order(im);
	lo = xload(im, im->order[0]);
	hi = xload(im, im->order[im->order_n - 1]);
	for (int s = 0; s < SC_SLOTS; s++)
		if (w->dest[s] >= 0 && w->value[s] > fmax(min_value, 0) && im->takes[w->owner[s]] && im->takes[w->dest[s]])
			moved[n++] = (struct by_cost){ pw_cost(w, s), s };
	qsort(moved, n, sizeof(*moved), dearest_first);
	for (size_t k = 0; k < n; k++) {
		int s = moved[k].slot, o = w->owner[s], d = w->dest[s];
		double eps = 1e-9 * fmax(1, hi);

		if (xload(im, d) - w->value[s] / im->weight[d] < lo - eps ||
		    xload(im, o) + w->value[s] / im->weight[o] > hi + eps)
			continue;
		if (send(im, s, o) < 0) {
			free(moved);
			return -1;
		}
	}
	free(moved);
	return 0;
}

static void improve_free(struct improve *im)
{
	for (size_t i = 0; im->h && i < im->w->count; i++)
		free(im->h[i].v);
	free(im->h);
	free(im->order);
}

static int improve_init(struct improve *im, struct planner_work *w, const bool *takes, const double *weight,
	double min_value)
{
	size_t c = w->count ? w->count : 1;

	*im = (struct improve){ .w = w, .takes = takes, .weight = weight };
	im->h = calloc(c, sizeof(*im->h));
	im->order = malloc(c * sizeof(*im->order));
	if (!im->h || !im->order)
		return -1;
	for (size_t i = 0; i < w->count; i++)
		if (takes[i] && weight[i] > 0)
			im->order[im->order_n++] = (int)i;
	for (int s = 0; s < SC_SLOTS; s++) {
		int at = pw_holder(w, s);

		if (at >= 0 && takes[at] && w->value[s] > fmax(min_value, 0) &&
		    holding_push(&im->h[at], w->value[s], s) < 0)
			return -1;
	}
	for (size_t i = 0; i < w->count; i++)
		if (im->h[i].n > 1)
			qsort(im->h[i].v, im->h[i].n, sizeof(*im->h[i].v), by_value);
	return 0;
}

int pw_improve(struct planner_work *w, const bool *takes, const double *weight, double min_value,
	struct sc_error *err)
{
	struct improve im;
	int rc = improve_init(&im, w, takes, weight, min_value);

	for (int k = 0; rc == 0 && im.order_n > 1 && k < IMPROVE_MAX_STEPS; k++) {
		rc = step(&im);
		if (rc == 0)
			break;
		rc = rc < 0 ? -1 : 0;
	}
	if (rc == 0 && im.order_n > 1)
		rc = send_home(&im, min_value);
	improve_free(&im);
	return rc < 0 ? pw_no_memory(err) : 0;
}

double pw_spread(const struct planner_work *w, const bool *takes, const double *weight)
{
	double lo = INFINITY, hi = 0;

	for (size_t i = 0; i < w->count; i++) {
		if (!takes[i] || weight[i] <= 0)
			continue;
		lo = fmin(lo, w->load[i] / weight[i]);
		hi = fmax(hi, w->load[i] / weight[i]);
	}
	return hi > 0 ? 1 - lo / hi : 0;
}
