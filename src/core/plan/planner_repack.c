/* planner_repack.c: when the balancing passes leave a master of `plan
 * rebalance` outside the threshold (big slots, --by memory or keys):
 * pw_improve (planner_improve.c) moves or swaps the big slots and the small
 * ones balance around them; a second way is tried from the same start
 * (repack: big slots dealt first, largest first, to the master with the
 * most room); the more even result wins, then the one moving fewer bytes
 * (balance_improve). Pure. */
#include "planner_rebalance_priv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The moves so far and what they change, to try another way from the same
 * point and keep the better. */
struct attempt {
	int dest[SC_SLOTS];
	double *load, *target;
	int *held;
};

void attempt_free(struct attempt *a)
{
	if (!a)
		return;
	free(a->load);
	free(a->target);
	free(a->held);
	free(a);
}

struct attempt *attempt_save(const struct planner_work *w, const struct balance *b)
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
		rc = balance_refine_targets(w, b, bigload, err);
	free(bigload);
	return rc < 0 ? -1 : balance_run(w, b, pct, err);
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
	qsort(big, n, sizeof(*big), balance_largest_first);
	for (size_t k = 0; k < n; k++) {
		int h = pw_holder(w, big[k].slot), to = roomiest(w, b, bigload, h, big[k].value, pct);

		if (to != h)
			balance_record_move(w, b, big[k].slot, to);
		bigload[to] += big[k].value;
	}
	free(big);
	free(bigload);
	return settle(w, b, pct, err);
}

bool balance_giant_kept(const struct planner_work *w, const struct balance *b, const struct attempt *start)
{
	for (size_t i = 0; i < w->count; i++)
		if (taker(b, i) && b->target[i] > start->target[i] * (1 + 1e-9))
			return true;
	return false;
}

int balance_improve(struct planner_work *w, struct balance *b, double pct, const struct attempt *start,
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
