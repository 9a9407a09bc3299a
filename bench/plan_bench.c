/* plan_bench.c: times the planner on synthetic clusters (up to 10,000
 * masters and 16384 slots, skewed memory) for rebalance by each measure,
 * drain and reshard. Built and run by bench/plan-bench.sh; not part of the
 * test suite (no timed assertions there). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "slotctl/core/planner.h"

static unsigned long long seed = 88172645463325252ULL;

static unsigned long long next(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

/* masters masters with slots dealt unevenly, one replica each. */
static void make(int masters, struct topology *map, struct slot_stats *st)
{
	map->count = (size_t)masters * 2;
	map->nodes = calloc(map->count, sizeof(*map->nodes));
	map->myself = 0;
	slot_stats_init(st);
	st->nodes = calloc((size_t)masters, sizeof(*st->nodes));
	st->node_count = (size_t)masters;
	for (size_t i = 0; i < map->count; i++) {
		struct node *n = &map->nodes[i];

		snprintf(n->id, sizeof(n->id), "%040zx", i * 2654435761u + 1);
		snprintf(n->ip, sizeof(n->ip), "10.0.%zu.%zu", i / 250, i % 250);
		n->port = 6379;
		n->flags = (i < (size_t)masters ? NODE_MASTER : NODE_REPLICA) | (i == 0 ? NODE_MYSELF : 0);
		n->config_epoch = i + 1;
		if (i < (size_t)masters) {
			memcpy(st->nodes[i].id, n->id, sizeof(n->id));
			st->nodes[i].used_memory = 1LL << 30;
			st->nodes[i].maxmemory = 0;
		}
	}
	for (int s = 0; s < SC_SLOTS; s++) {
		/* uneven: a third of the masters get twice the slots */
		int m = (int)(next() % (unsigned)(masters + masters / 3));

		slotset_add(&map->nodes[m % masters].slots, s);
		st->keys[s] = (long long)(next() % 1000);
		st->bytes[s] = st->keys[s] * (long long)(64 + next() % 512);
		if (next() % 500 == 0)
			st->bytes[s] *= 50; /* a few large slots */
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the planner is one thread, and a loaded host then does not count */
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef int (*plan_fn)(const struct topology *, const struct slot_stats *,
	const struct planner_opts *, struct plan *, struct sc_error *);

static void run(const char *what, int masters, plan_fn fn, const struct topology *map,
	const struct slot_stats *st, const struct planner_opts *o)
{
	struct plan p;
	struct sc_error err;
	double best = 1e9;
	size_t moves = 0;

	for (int rep = 0; rep < 3; rep++) {
		double t0 = now();

		if (fn(map, st, o, &p, &err) < 0) {
			fprintf(stderr, "%s: %s\n", what, err.msg);
			exit(1);
		}
		if (now() - t0 < best)
			best = now() - t0;
		moves = plan_move_count(&p);
		plan_release(&p);
	}
	printf("%-20s %5d masters %6zu moves %8.1f ms%s\n", what, masters, moves, best * 1000,
		best > 0.1 ? "  (over the 100 ms goal)" : "");
}

int main(int argc, char **argv)
{
	int sizes[] = { 3, 10, 100, 1000, 10000 };
	int max = argc > 1 ? atoi(argv[1]) : 1000;

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]) && sizes[k] <= max; k++) {
		struct topology map = { 0 };
		struct slot_stats st;
		struct planner_opts o = { 0 };
		int m = sizes[k];

		make(m, &map, &st);
		o.by = MEASURE_MEMORY;
		run("rebalance memory", m, planner_rebalance, &map, &st, &o);
		o.by = MEASURE_KEYS;
		run("rebalance keys", m, planner_rebalance, &map, &st, &o);
		o.by = MEASURE_SLOTS;
		run("rebalance slots", m, planner_rebalance, &map, &st, &o);
		o.by = MEASURE_MEMORY;
		o.drain = map.nodes[0].id;
		run("drain", m, planner_drain, &map, &st, &o);
		o.from = "all";
		o.to = map.nodes[m - 1].id;
		o.slots = 4096;
		run("reshard 4096", m, planner_reshard, &map, &st, &o);
		free(map.nodes);
		slot_stats_release(&st);
	}
	return 0;
}
