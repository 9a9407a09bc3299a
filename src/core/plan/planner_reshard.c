/* planner_reshard.c: `plan reshard`: move exactly N slots (or exactly the
 * listed ranges) from some masters to one. N is split over the sources in
 * proportion to the slots they own, as redis-cli does (the largest source
 * rounds up, the others down), and the shortfall redis-cli leaves is given to
 * the sources with the largest remainders, so exactly N move. Within a
 * source the cheapest slots (fewest bytes) go first, or the lowest numbered
 * with --pick lowest (redis-cli's choice). "Cheapest" tells apart only
 * slots whose size differs from the source's typical (median) slot by more
 * than PICK_TYPICAL_FACTOR: slots of ordinary size count as equal and go in
 * slot order, so on evenly spread data the moved slots form whole ranges
 * (few slot ranges to save and announce, a short CLUSTER SLOTS) instead of a
 * scatter chosen by noise. Pure. */
#include "planner_work.h"
#include "slotctl/core/exitcode.h"

#include <stdlib.h>
#include <string.h>

static int parse_sources(struct planner_work *w, int to, bool *src, struct sc_error *err)
{
	const char *from = w->opts->from;
	char *copy, *tok, *save = NULL;
	int rc = 0;

	if (!from || !*from)
		return sc_error_set(err, SC_EXIT_USAGE, "--from is required (IDs, or 'all')");
	if (strcmp(from, "all") == 0) {
		for (size_t i = 0; i < w->count; i++)
			src[i] = (int)i != to && slotset_count(&w->nodes[i].slots) > 0;
		return 0;
	}
	copy = strdup(from);
	if (!copy)
		return pw_no_memory(err);
	for (tok = strtok_r(copy, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
		int i = pw_find_master(w, tok, "--from", err);

		if (i < 0)
			rc = -1;
		else if (i == to)
			rc = sc_error_set(err, SC_EXIT_USAGE, "--from and --to both name master '%s'",
				w->nodes[i].id);
		else
			src[i] = true;
	}
	free(copy);
	return rc;
}

static int reshard_ranges(struct planner_work *w, const bool *src, int to, struct sc_error *err)
{
	struct slotset set;

	if (slotset_parse(w->opts->slot_ranges, &set, err) < 0)
		return sc_error_prefix(err, "--slot-ranges");
	for (int s = 0; s < SC_SLOTS; s++) {
		int o = w->owner[s];

		if (!slotset_has(&set, s))
			continue;
		if (o < 0)
			return sc_error_set(err, SC_EXIT_USAGE, "--slot-ranges: slot %d has no owner", s);
		if (o == to)
			return sc_error_set(err, SC_EXIT_USAGE,
				"--slot-ranges: slot %d is already on the target '%s'", s, w->nodes[to].id);
		if (!src[o])
			return sc_error_set(err, SC_EXIT_USAGE,
				"--slot-ranges: slot %d is owned by '%s', which is not a --from master",
				s, w->nodes[o].id);
		if (pw_require_healthy(w, o, err) < 0)
			return -1;
		pw_move(w, s, to);
	}
	return 0;
}

struct source {
	int node;
	int owned;
	int quota;
	long long remainder; /* of N * owned / total */
};

static int by_owned_desc(const void *a, const void *b)
{
	const struct source *x = a, *y = b;

	return x->owned != y->owned ? y->owned - x->owned : x->node - y->node;
}

static int by_remainder_desc(const void *a, const void *b)
{
	const struct source *x = a, *y = b;

	if (x->remainder != y->remainder)
		return x->remainder < y->remainder ? 1 : -1;
	return x->node - y->node;
}

/* Splits n over the sources: redis-cli's rounding, then the shortfall to
 * the largest remainders among sources with slots to spare. */
static void split_quotas(struct source *s, size_t count, int n, int total)
{
	int given = 0;

	qsort(s, count, sizeof(*s), by_owned_desc);
	for (size_t i = 0; i < count; i++) {
		long long share = (long long)n * s[i].owned;

		s[i].quota = (int)(share / total);
		s[i].remainder = share % total;
		if (i == 0 && s[i].remainder > 0)
			s[i].quota++, s[i].remainder = 0;
		given += s[i].quota;
	}
	qsort(s, count, sizeof(*s), by_remainder_desc);
	for (size_t i = 0; given < n; i = (i + 1) % count)
		if (s[i].quota < s[i].owned)
			s[i].quota++, given++;
}

/* A slot within this factor of the median slot's bytes is "ordinary". */
#define PICK_TYPICAL_FACTOR 2.0

struct candidate {
	double cost;
	int slot;
};

/* Gives the n candidates of ordinary size (within PICK_TYPICAL_FACTOR of
 * their median cost) that median as cost, so they sort by slot number among
 * themselves. Returns 0, or -1 when out of memory. */
static int flatten_ordinary(struct candidate *c, int n)
{
	double *costs = malloc((n ? (size_t)n : 1) * sizeof(*costs)), median;

	if (!costs)
		return -1;
	for (int i = 0; i < n; i++)
		costs[i] = c[i].cost;
	median = pw_sorted_at(costs, (size_t)n, (size_t)n / 2);
	free(costs);
	for (int i = 0; i < n; i++)
		if (c[i].cost * PICK_TYPICAL_FACTOR >= median && c[i].cost <= median * PICK_TYPICAL_FACTOR)
			c[i].cost = median;
	return 0;
}

static int candidate_cmp(const void *a, const void *b)
{
	const struct candidate *x = a, *y = b;

	if (x->cost != y->cost)
		return x->cost < y->cost ? -1 : 1;
	return x->slot - y->slot;
}

/* Moves s->quota slots of source s to to: the cheapest, or the lowest. */
static int take_from(struct planner_work *w, const struct source *s, int to, struct sc_error *err)
{
	struct candidate *c = malloc(SC_SLOTS * sizeof(*c));
	bool lowest = w->opts->pick == PICK_LOWEST;
	int n = 0;

	if (!c)
		return pw_no_memory(err);
	for (int slot = 0; slot < SC_SLOTS; slot++)
		if (w->owner[slot] == s->node && w->dest[slot] < 0)
			c[n++] = (struct candidate){ lowest ? 0 : pw_cost(w, slot), slot };
	if (!lowest && flatten_ordinary(c, n) != 0) {
		free(c);
		return pw_no_memory(err);
	}
	qsort(c, (size_t)n, sizeof(*c), candidate_cmp);
	for (int i = 0; i < s->quota && i < n; i++)
		pw_move(w, c[i].slot, to);
	free(c);
	return 0;
}

static int reshard_count(struct planner_work *w, const bool *src, int to, struct sc_error *err)
{
	struct source *s = calloc(w->count ? w->count : 1, sizeof(*s));
	size_t count = 0;
	int total = 0, rc = 0;

	if (!s)
		return pw_no_memory(err);
	for (size_t i = 0; i < w->count; i++) {
		int owned = slotset_count(&w->nodes[i].slots);

		if (!src[i] || owned == 0)
			continue;
		s[count++] = (struct source){ (int)i, owned, 0, 0 };
		total += owned;
	}
	if (w->opts->slots > total) {
		free(s);
		return sc_error_set(err, SC_EXIT_USAGE,
			"--slots %d: the source masters own only %d slots", w->opts->slots, total);
	}
	split_quotas(s, count, w->opts->slots, total);
	for (size_t i = 0; i < count && rc == 0; i++) {
		if (s[i].quota == 0)
			continue;
		rc = pw_require_healthy(w, s[i].node, err);
		if (rc == 0)
			rc = take_from(w, &s[i], to, err);
	}
	free(s);
	return rc;
}

/* The target (*to, refused when failing if healthy) and the sources (*src,
 * per node of w, caller frees) of a reshard. 0, or -1 with the usage error
 * (or the refusal, or OOM). */
static int reshard_ends(struct planner_work *w, bool healthy, int *to, bool **src, struct sc_error *err)
{
	*src = NULL;
	if ((*to = pw_find_master(w, w->opts->to, "--to", err)) < 0 ||
	    (healthy && pw_require_healthy(w, *to, err) < 0))
		return -1;
	if (!(*src = calloc(w->count ? w->count : 1, sizeof(**src))))
		return pw_no_memory(err);
	return parse_sources(w, *to, *src, err);
}

int planner_reshard(const struct topology *map, const struct slot_stats *stats,
	const struct planner_opts *opts, struct plan *out, struct sc_error *err)
{
	struct planner_work w;
	bool *src = NULL;
	int to, rc = -1;

	if ((opts->slots > 0) == (opts->slot_ranges != NULL))
		return sc_error_set(err, SC_EXIT_USAGE, "give exactly one of --slots N (N >= 1) and --slot-ranges");
	if (!opts->to)
		return sc_error_set(err, SC_EXIT_USAGE, "--to is required");
	if (pw_init(&w, map, stats, opts, err) < 0)
		return -1;
	if (reshard_ends(&w, true, &to, &src, err) < 0)
		goto out;
	if ((opts->slot_ranges ? reshard_ranges(&w, src, to, err) : reshard_count(&w, src, to, err)) < 0)
		goto out;
	rc = pw_finish(&w, PLAN_RESHARD, out, err);
out:
	free(src);
	pw_release(&w);
	return rc;
}

int planner_reshard_sources(const struct topology *map, const struct planner_opts *opts, bool *source,
	struct sc_error *err)
{
	struct slot_stats *none = malloc(sizeof(*none));
	struct planner_work w;
	bool *src = NULL;
	int to, rc = -1;

	if (!none)
		return pw_no_memory(err);
	slot_stats_init(none);
	if (!opts->to)
		rc = sc_error_set(err, SC_EXIT_USAGE, "--to is required");
	else if (pw_init(&w, map, none, opts, err) == 0) {
		if (reshard_ends(&w, false, &to, &src, err) == 0) {
			for (size_t i = 0; i < map->count; i++)
				source[i] = false;
			for (size_t i = 0; i < w.count; i++)
				if (src[i])
					source[w.src[i] - map->nodes] = true;
			rc = 0;
		}
		free(src);
		pw_release(&w);
	}
	free(none);
	return rc;
}
