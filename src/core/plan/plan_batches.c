/* plan_batches.c: turning the planner's chosen moves into a plan: per-master
 * before/after estimates, hot-slot flags, ordered batches (plain moves in
 * batches of --max-slots-per-batch grouped by source and target, then each
 * hot slot alone, last), capacity warnings against maxmemory, the big keys,
 * the options used and the topology fingerprint. Pure. */
#include "planner_work.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/json_doc.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long long nonneg(long long v)
{
	return v > 0 ? v : 0;
}

/* Adds v (a slot's count, -1 unknown) to a master's before or after sum;
 * an unknown count makes the sum unknown (-1) for good. */
static void add_known(long long *sum, long long v)
{
	if (*sum >= 0)
		*sum = v < 0 ? -1 : *sum + v;
}

void pw_summarise(struct planner_work *w)
{
	for (size_t i = 0; i < w->count; i++) {
		struct plan_node *n = &w->nodes[i];

		n->keys_before = n->keys_after = n->bytes_before = n->bytes_after = 0;
		n->cpu_usec_before = n->cpu_usec_after = 0;
		n->slots_after = 0;
	}
	for (int s = 0; s < SC_SLOTS; s++) {
		int o = w->owner[s];
		int f = w->dest[s] >= 0 ? w->dest[s] : o;
		long long k = w->stats->keys[s], b = w->stats->bytes[s], c = w->stats->cpu_usec[s];
		struct plan_node *from, *to;

		if (o < 0)
			continue;
		from = &w->nodes[o];
		to = &w->nodes[f];
		add_known(&from->keys_before, k);
		add_known(&from->bytes_before, b);
		add_known(&from->cpu_usec_before, c);
		to->slots_after++;
		/* a slot unknown anywhere leaves both its masters' sums unknown */
		add_known(&to->keys_after, k);
		add_known(&to->bytes_after, b);
		add_known(&to->cpu_usec_after, c);
		if (k < 0)
			to->keys_before = from->keys_after = -1;
		if (b < 0)
			to->bytes_before = from->bytes_after = -1;
		if (c < 0)
			to->cpu_usec_before = from->cpu_usec_after = -1;
	}
	for (size_t i = 0; i < w->count; i++) {
		struct plan_node *n = &w->nodes[i];

		if (n->keys_before < 0 || n->keys_after < 0)
			n->keys_before = n->keys_after = -1;
		if (n->bytes_before < 0 || n->bytes_after < 0)
			n->bytes_before = n->bytes_after = -1;
		if (n->cpu_usec_before < 0 || n->cpu_usec_after < 0)
			n->cpu_usec_before = n->cpu_usec_after = -1;
	}
}

/* Hot: holds a big key, or more than PLANNER_HOT_SHARE of its node's memory
 * (used_memory when known, else the node's sampled bytes). */
static bool slot_is_hot(const struct planner_work *w, int s)
{
	const struct plan_node *n = &w->nodes[w->owner[s]];
	double mem = n->used_memory > 0 ? (double)n->used_memory : (double)n->bytes_before;

	if (w->stats->big[s])
		return true;
	return w->stats->bytes[s] > 0 && mem > 0 && (double)w->stats->bytes[s] > PLANNER_HOT_SHARE * mem;
}

struct move_ref {
	int slot;
	int from, to;
	long long bytes;
};

static int plain_cmp(const void *a, const void *b)
{
	const struct move_ref *x = a, *y = b;

	if (x->from != y->from)
		return x->from - y->from;
	if (x->to != y->to)
		return x->to - y->to;
	return x->slot - y->slot;
}

static int hot_cmp(const void *a, const void *b)
{
	const struct move_ref *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? -1 : 1;
	return x->slot - y->slot;
}

static void fill_move(const struct planner_work *w, const struct move_ref *r, struct plan_move *m)
{
	m->slot = r->slot;
	memcpy(m->from, w->nodes[r->from].id, sizeof(m->from));
	memcpy(m->to, w->nodes[r->to].id, sizeof(m->to));
	m->keys = w->stats->keys[r->slot];
	m->bytes = w->stats->bytes[r->slot];
	m->big = w->stats->big[r->slot];
	m->hot = slot_is_hot(w, r->slot);
}

static int add_batch(struct plan *p, const struct planner_work *w, const struct move_ref *refs,
	size_t n)
{
	struct plan_batch *b = &p->batches[p->batch_count];

	b->moves = calloc(n, sizeof(*b->moves));
	if (!b->moves)
		return -1;
	for (size_t i = 0; i < n; i++)
		fill_move(w, &refs[i], &b->moves[i]);
	b->count = n;
	p->batch_count++;
	return 0;
}

static void warn_hot(struct planner_work *w, const struct move_ref *r, size_t batch)
{
	const struct plan_node *n = &w->nodes[r->from];

	if (w->stats->big[r->slot])
		pw_warn(w, "slot %d holds a big key (%lld bytes in the slot, on '%.8s'): moved alone in batch %zu",
			r->slot, nonneg(r->bytes), n->id, batch + 1);
	else
		pw_warn(w, "slot %d is hot (%lld bytes, over %.0f%% of '%.8s'): moved alone in batch %zu",
			r->slot, nonneg(r->bytes), 100 * PLANNER_HOT_SHARE, n->id, batch + 1);
}

/* Splits the moves into plain and hot, then batches: plain first, grouped
 * by source and target, at most max per batch; each hot slot alone, last. */
static int make_batches(struct planner_work *w, struct plan *p)
{
	struct move_ref *plain = malloc(SC_SLOTS * sizeof(*plain));
	struct move_ref *hot = malloc(SC_SLOTS * sizeof(*hot));
	size_t np = 0, nh = 0, max = w->opts->max_slots_per_batch > 0 ?
		(size_t)w->opts->max_slots_per_batch : PLANNER_DEFAULT_BATCH;
	int rc = -1;

	if (!plain || !hot)
		goto out;
	for (int s = 0; s < SC_SLOTS; s++) {
		struct move_ref r = { s, w->owner[s], w->dest[s], w->stats->bytes[s] };

		if (r.to < 0)
			continue;
		if (slot_is_hot(w, s))
			hot[nh++] = r;
		else
			plain[np++] = r;
	}
	qsort(plain, np, sizeof(*plain), plain_cmp);
	qsort(hot, nh, sizeof(*hot), hot_cmp);
	p->batches = calloc((np + max - 1) / max + nh + 1, sizeof(*p->batches));
	if (!p->batches)
		goto out;
	for (size_t i = 0; i < np; i += max)
		if (add_batch(p, w, plain + i, np - i < max ? np - i : max) < 0)
			goto out;
	for (size_t i = 0; i < nh; i++) {
		warn_hot(w, &hot[i], p->batch_count);
		if (add_batch(p, w, &hot[i], 1) < 0)
			goto out;
	}
	rc = 0;
out:
	free(plain);
	free(hot);
	return rc;
}

/* Warns of every master the plan leaves without a slot: Redis makes a
 * master that gives away its last slot a replica of the node that takes it
 * (cluster-allow-replica-migration, on by default), so an operator retiring
 * it knows what it turns into and one moving slots back knows why it
 * cannot receive them. Summarised first. */
static void warn_emptied(struct planner_work *w)
{
	for (size_t i = 0; i < w->count; i++) {
		const struct plan_node *n = &w->nodes[i];

		if (n->slots_after == 0 && slotset_count(&n->slots) > 0)
			pw_warn(w, "'%.8s' (%s:%d) gives away all its slots: once it has lost the last one, Redis "
				"makes it a replica of the master that took it, unless cluster-allow-replica-migration "
				"is no", n->id, n->host, n->port);
	}
}

/* Warns when a receiving master would exceed its maxmemory, or keep less
 * headroom than the data it receives; with --strict that refuses the plan. */
static int check_capacity(struct planner_work *w, struct sc_error *err)
{
	long long *in = calloc(w->count ? w->count : 1, sizeof(*in));
	long long *out = calloc(w->count ? w->count : 1, sizeof(*out));
	int refused = 0;

	if (!in || !out) {
		free(in);
		free(out);
		return pw_no_memory(err);
	}
	for (int s = 0; s < SC_SLOTS; s++) {
		if (w->dest[s] < 0)
			continue;
		in[w->dest[s]] += nonneg(w->stats->bytes[s]);
		out[w->owner[s]] += nonneg(w->stats->bytes[s]);
	}
	for (size_t i = 0; i < w->count; i++) {
		const struct plan_node *n = &w->nodes[i];
		long long after = n->used_memory - out[i] + in[i];

		if (in[i] == 0 || n->used_memory < 0 || n->maxmemory <= 0)
			continue;
		if (after > n->maxmemory)
			pw_warn(w, "'%.8s' (%s:%d) would use about %lld bytes after the plan, above its maxmemory %lld",
				n->id, n->host, n->port, after, n->maxmemory);
		else if (n->maxmemory - after < in[i])
			pw_warn(w, "'%.8s' (%s:%d) would keep only %lld bytes of headroom under maxmemory after receiving %lld bytes",
				n->id, n->host, n->port, n->maxmemory - after, in[i]);
		else
			continue;
		if (w->opts->strict && !refused)
			refused = sc_error_set(err, SC_EXIT_REFUSED, "refused by --strict: %s",
				w->warning_count ? w->warnings[w->warning_count - 1] : "capacity");
	}
	free(in);
	free(out);
	return refused;
}

static cJSON *strings_json(const char *const *items, size_t count)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; arr && i < count; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(items[i]));
	return arr;
}

static cJSON *options_json(const struct planner_opts *o, enum plan_kind kind)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "by", plan_measure_name(o->by));
	json_add_number(j, "max_slots_per_batch",
		o->max_slots_per_batch > 0 ? o->max_slots_per_batch : PLANNER_DEFAULT_BATCH);
	cJSON_AddBoolToObject(j, "strict", o->strict);
	cJSON_AddBoolToObject(j, "use_empty_masters", o->use_empty_masters);
	if (kind == PLAN_RESHARD) {
		cJSON_AddStringToObject(j, "from", o->from ? o->from : "");
		cJSON_AddStringToObject(j, "to", o->to ? o->to : "");
		if (o->slot_ranges)
			cJSON_AddStringToObject(j, "slot_ranges", o->slot_ranges);
		else
			json_add_number(j, "slots", o->slots);
		cJSON_AddStringToObject(j, "pick", o->pick == PICK_LOWEST ? "lowest" : "cheapest");
	} else if (kind == PLAN_REBALANCE) {
		json_add_number(j, "threshold", o->threshold > 0 ? o->threshold : PLANNER_DEFAULT_THRESHOLD);
		cJSON_AddItemToObject(j, "weights", strings_json(o->weights, o->weight_count));
	} else {
		cJSON_AddStringToObject(j, "drain", o->drain ? o->drain : "");
	}
	return j;
}

static int copy_big_keys(const struct slot_stats *st, struct plan *p)
{
	if (st->big_key_count == 0)
		return 0;
	p->big_keys = calloc(st->big_key_count, sizeof(*p->big_keys));
	if (!p->big_keys)
		return -1;
	for (size_t i = 0; i < st->big_key_count; i++) {
		p->big_keys[i] = st->big_keys[i];
		p->big_keys[i].key = strdup(st->big_keys[i].key);
		if (!p->big_keys[i].key)
			return -1;
		p->big_key_count = i + 1;
	}
	return 0;
}

int pw_finish(struct planner_work *w, enum plan_kind kind, struct plan *out, struct sc_error *err)
{
	struct plan p;

	memset(&p, 0, sizeof(p));
	pw_summarise(w);
	warn_emptied(w);
	if (make_batches(w, &p) < 0 || copy_big_keys(w->stats, &p) < 0) {
		plan_release(&p);
		return pw_no_memory(err);
	}
	if (check_capacity(w, err) < 0) {
		plan_release(&p);
		return -1;
	}
	p.format_major = PLAN_FORMAT_MAJOR;
	p.format_minor = PLAN_FORMAT_MINOR;
	snprintf(p.seed, sizeof(p.seed), "%s", w->opts->seed ? w->opts->seed : "");
	p.kind = kind;
	p.by = w->opts->by;
	plan_fingerprint_nodes(w->nodes, w->count, p.fingerprint);
	p.nodes = w->nodes;
	p.node_count = w->count;
	w->nodes = NULL;
	p.warnings = w->warnings;
	p.warning_count = w->warning_count;
	w->warnings = NULL;
	w->warning_count = 0;
	p.extra = cJSON_CreateObject();
	if (p.extra)
		cJSON_AddItemToObject(p.extra, "options", options_json(w->opts, kind));
	*out = p;
	return 0;
}
