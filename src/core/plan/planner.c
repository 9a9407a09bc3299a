/* planner.c: what every planning command shares: the slot statistics model,
 * the names of the measures, and the working state (which master owns and
 * receives what, how much each holds) that planner_reshard.c and
 * planner_rebalance.c (with the files of planner_rebalance_priv.h) fill and
 * plan_batches.c turns into a plan. Pure. */
#include "planner_work.h"
#include "slotctl/core/exitcode.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void slot_stats_init(struct slot_stats *s)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < SC_SLOTS; i++)
		s->keys[i] = s->bytes[i] = s->cpu_usec[i] = -1;
}

void slot_stats_release(struct slot_stats *s)
{
	for (size_t i = 0; i < s->big_key_count; i++)
		free(s->big_keys[i].key);
	free(s->big_keys);
	free(s->nodes);
	slot_stats_init(s);
}

const struct node_memory *slot_stats_node(const struct slot_stats *s, const char *id)
{
	for (size_t i = 0; i < s->node_count; i++)
		if (strcmp(s->nodes[i].id, id) == 0)
			return &s->nodes[i];
	return NULL;
}

int planner_weight_parse(const char *text, char *id, size_t id_size, double *weight, struct sc_error *err)
{
	const char *eq = strrchr(text, '=');
	char *end;
	double v;

	if (!eq || eq == text || (size_t)(eq - text) > SC_NODE_ID_LEN || (size_t)(eq - text) >= id_size)
		return sc_error_set(err, SC_EXIT_USAGE, "--weight: '%s' is not ID=WEIGHT", text);
	errno = 0;
	v = strtod(eq + 1, &end);
	if (errno || end == eq + 1 || *end || !(v >= 0) || v > 1e6)
		return sc_error_set(err, SC_EXIT_USAGE,
			"--weight: '%s' needs a weight from 0 to 1000000 after '='", text);
	memcpy(id, text, (size_t)(eq - text));
	id[eq - text] = '\0';
	*weight = v;
	return 0;
}

int planner_opts_check(const struct planner_opts *opts, struct sc_error *err)
{
	char id[SC_NODE_ID_LEN + 1];
	struct slotset set;
	double v;

	if (opts->slot_ranges && slotset_parse(opts->slot_ranges, &set, err) < 0)
		return sc_error_prefix(err, "--slot-ranges");
	for (size_t i = 0; i < opts->weight_count; i++)
		if (planner_weight_parse(opts->weights[i], id, sizeof(id), &v, err) < 0)
			return -1;
	return 0;
}

static double slot_value(const struct slot_stats *st, enum plan_measure by, int slot)
{
	long long v = plan_measure_pick(by, 1, st->keys[slot], st->bytes[slot], st->cpu_usec[slot]);

	return v > 0 ? (double)v : 0;
}

/* --by cpu: every master that owns slots has its CPU counted per slot
 * (CLUSTER SLOT-STATS cpu-usec, which a server gives only with
 * cluster-slot-stats-enabled yes) and some of it spent: a master whose slots
 * count none has just had counting turned on, and would look empty. */
static int require_cpu_counted(const struct planner_work *w, struct sc_error *err)
{
	for (size_t i = 0; i < w->count; i++) {
		const struct plan_node *n = &w->nodes[i];
		long long total = 0;
		int owned = 0;

		for (int s = 0; s < SC_SLOTS; s++) {
			if (w->owner[s] != (int)i)
				continue;
			owned++;
			if (w->stats->cpu_usec[s] < 0)
				return sc_error_set(err, SC_EXIT_USAGE,
					"master '%s' (%s:%d) does not count CPU per slot (CLUSTER SLOT-STATS cpu-usec, "
					"Valkey 8+): cannot plan --by cpu; run 'CONFIG SET cluster-slot-stats-enabled yes' "
					"on every master and let traffic run, or plan --by memory",
					n->id, n->host, n->port);
			total += w->stats->cpu_usec[s];
		}
		if (owned > 0 && total == 0)
			return sc_error_set(err, SC_EXIT_USAGE,
				"master '%s' (%s:%d) has counted no CPU on its %d slots: cannot plan --by cpu; "
				"run 'CONFIG SET cluster-slot-stats-enabled yes' on every master and let traffic run first",
				n->id, n->host, n->port, owned);
	}
	return 0;
}

/* Checks that stats answer the measure for every owned slot. */
int pw_require_measured(const struct planner_work *w, struct sc_error *err)
{
	if (w->opts->by == MEASURE_CPU)
		return require_cpu_counted(w, err);
	for (int s = 0; s < SC_SLOTS; s++) {
		if (w->owner[s] < 0 || w->opts->by == MEASURE_SLOTS)
			continue;
		if ((w->opts->by == MEASURE_KEYS && w->stats->keys[s] < 0) ||
		    (w->opts->by == MEASURE_MEMORY && w->stats->bytes[s] < 0))
			return sc_error_set(err, SC_EXIT_PROBLEMS,
				"no %s measured for slot %d (owned by '%s'): cannot plan --by %s",
				w->opts->by == MEASURE_KEYS ? "key count" : "memory", s,
				w->nodes[w->owner[s]].id, plan_measure_name(w->opts->by));
	}
	return 0;
}

int pw_init(struct planner_work *w, const struct topology *map, const struct slot_stats *stats,
	const struct planner_opts *opts, struct sc_error *err)
{
	memset(w, 0, sizeof(*w));
	w->map = map;
	w->stats = stats;
	w->opts = opts;
	if (topology_require_sound(map, err) < 0 || plan_nodes_from_map(map, &w->nodes, &w->count, err) < 0)
		return -1;
	w->src = calloc(w->count ? w->count : 1, sizeof(*w->src));
	w->load = calloc(w->count ? w->count : 1, sizeof(*w->load));
	if (!w->src || !w->load) {
		pw_release(w);
		return pw_no_memory(err);
	}
	for (int s = 0; s < SC_SLOTS; s++)
		w->owner[s] = w->dest[s] = -1;
	for (size_t i = 0; i < w->count; i++) {
		struct plan_node *n = &w->nodes[i];
		const struct node_memory *mem = slot_stats_node(stats, n->id);

		w->src[i] = topology_find(map, n->id);
		if (mem) {
			n->used_memory = mem->used_memory;
			n->maxmemory = mem->maxmemory;
		}
		for (int word = 0; word < SC_SLOTS / 64; word++)
			for (uint64_t bits = n->slots.bits[word]; bits; bits &= bits - 1)
				w->owner[word * 64 + __builtin_ctzll(bits)] = (int)i;
	}
	for (int s = 0; s < SC_SLOTS; s++) {
		w->value[s] = slot_value(stats, opts->by, s);
		if (w->owner[s] >= 0)
			w->load[w->owner[s]] += w->value[s];
	}
	return 0;
}

int pw_no_memory(struct sc_error *err)
{
	return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory planning");
}

void pw_release(struct planner_work *w)
{
	for (size_t i = 0; i < w->warning_count; i++)
		free(w->warnings[i]);
	free(w->warnings);
	free(w->nodes);
	free(w->src);
	free(w->load);
	memset(w, 0, sizeof(*w));
}

int pw_find_master(const struct planner_work *w, const char *prefix, const char *what,
	struct sc_error *err)
{
	const struct node *n = topology_find_prefix(w->map, prefix, err);

	if (!n)
		return sc_error_prefix(err, "%s", what);
	for (size_t i = 0; i < w->count; i++)
		if (w->src[i] == n)
			return (int)i;
	return sc_error_set(err, SC_EXIT_USAGE, "%s: node '%s' (%s:%d) is not a master", what,
		n->id, n->ip, n->port);
}

int pw_require_healthy(const struct planner_work *w, int i, struct sc_error *err)
{
	if (w->src[i] && (w->src[i]->flags & (NODE_FAIL | NODE_PFAIL)))
		return sc_error_set(err, SC_EXIT_REFUSED,
			"master '%s' (%s:%d) is flagged %s: run 'slotctl check' and repair the cluster before planning",
			w->nodes[i].id, w->nodes[i].host, w->nodes[i].port,
			(w->src[i]->flags & NODE_FAIL) ? "fail" : "fail?");
	return 0;
}

double pw_cost(const struct planner_work *w, int slot)
{
	if (w->stats->bytes[slot] >= 0)
		return (double)w->stats->bytes[slot];
	return w->stats->keys[slot] > 0 ? (double)w->stats->keys[slot] : 0;
}

static int ascending(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double pw_sorted_at(double *values, size_t n, size_t k)
{
	if (n == 0)
		return 0;
	qsort(values, n, sizeof(*values), ascending);
	return values[k < n ? k : n - 1];
}

int pw_holder(const struct planner_work *w, int slot)
{
	return w->dest[slot] >= 0 ? w->dest[slot] : w->owner[slot];
}

void pw_move(struct planner_work *w, int slot, int to)
{
	w->load[pw_holder(w, slot)] -= w->value[slot];
	w->load[to] += w->value[slot];
	w->dest[slot] = to == w->owner[slot] ? -1 : to;
}

void pw_warn(struct planner_work *w, const char *fmt, ...)
{
	char **grown = realloc(w->warnings, (w->warning_count + 1) * sizeof(*grown));
	char buf[512];
	va_list ap;

	if (!grown)
		return;
	w->warnings = grown;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	w->warnings[w->warning_count] = strdup(buf);
	if (w->warnings[w->warning_count])
		w->warning_count++;
}
