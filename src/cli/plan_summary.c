/* plan_summary.c: the reviewer's view of a plan (see plan_summary.h). The
 * figures are computed once (struct summary) and rendered either as text or
 * as JSON, so `plan` and `show` can never disagree. */
#include "plan_summary.h"
#include "slotctl/cli/cli.h"
#include "slotctl/core/json_doc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct pair {
	int from, to;          /* indexes into p->nodes */
	int slots;
	long long keys, bytes;
};

struct summary {
	double total_before, total_after; /* of the balanced measure */
	double imbalance_before, imbalance_after; /* max/min; NAN: n/a, INFINITY: a master holds 0 */
	struct pair *pairs;
	size_t pair_count;
	int slots;             /* to move */
	long long keys, bytes;
};

/* The plan's measure of a master, NAN when unknown (not sampled). */
static double measure(const struct plan *p, long long slots, long long keys, long long bytes,
	long long cpu_usec)
{
	long long v = plan_measure_pick(p->by, slots, keys, bytes, cpu_usec);

	return v < 0 ? NAN : (double)v;
}

static double before_of(const struct plan *p, const struct plan_node *n)
{
	return measure(p, slotset_count(&n->slots), n->keys_before, n->bytes_before, n->cpu_usec_before);
}

static double after_of(const struct plan *p, const struct plan_node *n)
{
	return measure(p, n->slots_after, n->keys_after, n->bytes_after, n->cpu_usec_after);
}

/* max/min of measure/weight over the masters taking part: after the plan,
 * those holding slots; before it, also those that will receive slots, so an
 * empty master being filled makes "before" infinite rather than being left
 * out (a master with weight 0 counts with weight 1 before the plan; after
 * it, it holds none). */
static double imbalance(const struct plan *p, bool after)
{
	double lo = INFINITY, hi = 0;
	int counted = 0;

	for (size_t i = 0; i < p->node_count; i++) {
		const struct plan_node *n = &p->nodes[i];
		int slots = after ? n->slots_after : slotset_count(&n->slots) + n->slots_after;
		double w = n->weight > 0 ? n->weight : 1, v;

		if (slots == 0)
			continue;
		v = (after ? after_of(p, n) : before_of(p, n)) / w;
		if (isnan(v))
			return NAN;
		lo = fmin(lo, v);
		hi = fmax(hi, v);
		counted++;
	}
	if (counted < 2)
		return NAN;
	return lo > 0 ? hi / lo : INFINITY;
}

static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	return x->from != y->from ? x->from - y->from : x->to - y->to;
}

static void summarise(const struct plan *p, struct summary *s)
{
	size_t moves = plan_move_count(p), k = 0;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < p->node_count; i++) {
		s->total_before += before_of(p, &p->nodes[i]);
		s->total_after += after_of(p, &p->nodes[i]);
	}
	s->imbalance_before = imbalance(p, false);
	s->imbalance_after = imbalance(p, true);
	s->pairs = calloc(moves + 1, sizeof(*s->pairs));
	if (!s->pairs)
		return;
	for (size_t b = 0; b < p->batch_count; b++)
		for (size_t i = 0; i < p->batches[b].count; i++) {
			const struct plan_move *m = &p->batches[b].moves[i];

			s->pairs[k++] = (struct pair){ (int)(plan_find_node(p, m->from) - p->nodes),
				(int)(plan_find_node(p, m->to) - p->nodes), 1,
				m->keys > 0 ? m->keys : 0, m->bytes > 0 ? m->bytes : 0 };
			s->slots++;
			s->keys += m->keys > 0 ? m->keys : 0;
			s->bytes += m->bytes > 0 ? m->bytes : 0;
		}
	qsort(s->pairs, k, sizeof(*s->pairs), pair_cmp);
	for (size_t i = 0; i < k; i++) {
		struct pair *last = s->pair_count ? &s->pairs[s->pair_count - 1] : NULL;

		if (last && last->from == s->pairs[i].from && last->to == s->pairs[i].to) {
			last->slots++;
			last->keys += s->pairs[i].keys;
			last->bytes += s->pairs[i].bytes;
		} else {
			s->pairs[s->pair_count++] = s->pairs[i];
		}
	}
}

/* ---- text ---- */

static const char *count_text(long long v, char *buf, size_t size)
{
	if (v < 0)
		snprintf(buf, size, "?");
	else
		snprintf(buf, size, "%lld", v);
	return buf;
}

static const char *ratio_text(double r, char *buf, size_t size)
{
	if (isnan(r))
		snprintf(buf, size, "n/a");
	else if (isinf(r))
		snprintf(buf, size, "inf");
	else
		snprintf(buf, size, "%.2f", r);
	return buf;
}

/* Percent of total, NAN when either is unknown. */
static double share(double v, double total)
{
	if (isnan(v) || isnan(total))
		return NAN;
	return total > 0 ? 100.0 * v / total : 0;
}

static const char *share_text(double v, char *buf, size_t size)
{
	if (isnan(v))
		snprintf(buf, size, "?");
	else
		snprintf(buf, size, "%.1f%%", v);
	return buf;
}

static void print_masters(const struct plan *p, const struct summary *s, FILE *f)
{
	fprintf(f, "%-10s %-21s %-15s %-19s %-23s %s\n", "MASTER", "ADDRESS", "SLOTS",
		"KEYS", "MEMORY", "SHARE");
	for (size_t i = 0; i < p->node_count; i++) {
		const struct plan_node *n = &p->nodes[i];
		char addr[ADDR_TEXT_MAX], col[4][64], a[32], b[32];

		snprintf(addr, sizeof(addr), "%s:%d", n->host, n->port);
		snprintf(col[0], sizeof(col[0]), "%d -> %d", slotset_count(&n->slots), n->slots_after);
		snprintf(col[1], sizeof(col[1]), "%s -> %s", count_text(n->keys_before, a, sizeof(a)),
			count_text(n->keys_after, b, sizeof(b)));
		snprintf(col[2], sizeof(col[2]), "%s -> %s", cli_format_bytes(n->bytes_before, a, sizeof(a)),
			cli_format_bytes(n->bytes_after, b, sizeof(b)));
		snprintf(col[3], sizeof(col[3]), "%s -> %s",
			share_text(share(before_of(p, n), s->total_before), a, sizeof(a)),
			share_text(share(after_of(p, n), s->total_after), b, sizeof(b)));
		fprintf(f, "%-10.8s %-21s %-15s %-19s %-23s %s%s\n", n->id, addr, col[0], col[1], col[2],
			col[3], n->weight != 1.0 ? (n->weight == 0 ? "  (weight 0: emptied)" : "  (weighted)") : "");
	}
}

static void print_moves(const struct plan *p, const struct summary *s, FILE *f)
{
	char a[32];

	if (s->pair_count)
		fprintf(f, "\nmoves:\n");
	for (size_t i = 0; i < s->pair_count; i++) {
		const struct pair *q = &s->pairs[i];

		fprintf(f, "  %.8s -> %.8s  %d slot%s, %lld keys, %s\n", p->nodes[q->from].id,
			p->nodes[q->to].id, q->slots, q->slots == 1 ? "" : "s", q->keys,
			cli_format_bytes(q->bytes, a, sizeof(a)));
	}
}

static void print_hot(const struct plan *p, FILE *f)
{
	bool header = false;
	char a[32];

	for (size_t b = 0; b < p->batch_count; b++)
		for (size_t i = 0; i < p->batches[b].count; i++) {
			const struct plan_move *m = &p->batches[b].moves[i];

			if (!m->hot && !m->big)
				continue;
			if (!header)
				fprintf(f, "\nhot and big slots:\n");
			header = true;
			fprintf(f, "  slot %d  %s%s  %.8s -> %.8s  batch %zu\n", m->slot,
				cli_format_bytes(m->bytes, a, sizeof(a)), m->big ? ", big key" : "", m->from, m->to, b + 1);
		}
	for (size_t i = 0; i < p->big_key_count; i++)
		fprintf(f, "%s  '%s' (slot %d): %s\n", i ? "" : "\nbig keys:\n", p->big_keys[i].key,
			p->big_keys[i].slot, cli_format_bytes(p->big_keys[i].bytes, a, sizeof(a)));
}

void plan_summary_print(const struct plan *p, FILE *f)
{
	struct summary s;
	char a[32], b[32];
	/* a plan that does not say is taken as balancing memory */
	const char *by = plan_measure_name(p->by == MEASURE_UNKNOWN ? MEASURE_MEMORY : p->by);

	summarise(p, &s);
	fprintf(f, "plan %s by %s: %d slot%s to move in %zu batch%s (seed %s, fingerprint %s%s%s)\n\n",
		plan_kind_name(p->kind), by, s.slots, s.slots == 1 ? "" : "s", p->batch_count,
		p->batch_count == 1 ? "" : "es", p->seed[0] ? p->seed : "?", p->fingerprint,
		p->created[0] ? ", made " : "", p->created);
	print_masters(p, &s, f);
	fprintf(f, "\nimbalance (max/min %s per weight): %s -> %s\n", by,
		ratio_text(s.imbalance_before, a, sizeof(a)), ratio_text(s.imbalance_after, b, sizeof(b)));
	print_moves(p, &s, f);
	print_hot(p, f);
	fprintf(f, "\nto move: %d slot%s, %lld keys, %s\n", s.slots, s.slots == 1 ? "" : "s", s.keys,
		cli_format_bytes(s.bytes, a, sizeof(a)));
	for (size_t i = 0; i < p->warning_count; i++)
		fprintf(f, "%s  %s\n", i ? "" : "\nwarnings:\n", p->warnings[i]);
	free(s.pairs);
}

/* ---- JSON ---- */

static void add_ratio(cJSON *o, const char *name, double r)
{
	if (isnan(r) || isinf(r))
		cJSON_AddNullToObject(o, name);
	else
		json_add_number(o, name, round(r * 1000) / 1000);
}

static cJSON *masters_json(const struct plan *p, const struct summary *s)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; arr && i < p->node_count; i++) {
		const struct plan_node *n = &p->nodes[i];
		cJSON *o = cJSON_CreateObject();
		char addr[ADDR_TEXT_MAX];

		snprintf(addr, sizeof(addr), "%s:%d", n->host, n->port);
		cJSON_AddStringToObject(o, "id", n->id);
		cJSON_AddStringToObject(o, "address", addr);
		json_add_number(o, "weight", n->weight);
		json_add_number(o, "slots_before", slotset_count(&n->slots));
		json_add_number(o, "slots_after", n->slots_after);
		json_add_number(o, "keys_before", (double)n->keys_before);
		json_add_number(o, "keys_after", (double)n->keys_after);
		json_add_number(o, "bytes_before", (double)n->bytes_before);
		json_add_number(o, "bytes_after", (double)n->bytes_after);
		json_add_number(o, "share_before", round(10 * share(before_of(p, n), s->total_before)) / 10);
		json_add_number(o, "share_after", round(10 * share(after_of(p, n), s->total_after)) / 10);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *pairs_json(const struct plan *p, const struct summary *s)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; arr && i < s->pair_count; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "from", p->nodes[s->pairs[i].from].id);
		cJSON_AddStringToObject(o, "to", p->nodes[s->pairs[i].to].id);
		json_add_number(o, "slots", s->pairs[i].slots);
		json_add_number(o, "keys", (double)s->pairs[i].keys);
		json_add_number(o, "bytes", (double)s->pairs[i].bytes);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *hot_json(const struct plan *p)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t b = 0; arr && b < p->batch_count; b++)
		for (size_t i = 0; i < p->batches[b].count; i++) {
			const struct plan_move *m = &p->batches[b].moves[i];
			cJSON *o;

			if (!m->hot && !m->big)
				continue;
			o = cJSON_CreateObject();
			json_add_number(o, "slot", m->slot);
			cJSON_AddStringToObject(o, "from", m->from);
			cJSON_AddStringToObject(o, "to", m->to);
			json_add_number(o, "bytes", (double)m->bytes);
			cJSON_AddBoolToObject(o, "big", m->big);
			json_add_number(o, "batch", (double)(b + 1));
			cJSON_AddItemToArray(arr, o);
		}
	return arr;
}

cJSON *plan_summary_json(const struct plan *p)
{
	cJSON *o = json_doc_new(SHOW_FORMAT_VERSION), *total, *big, *warn;
	struct summary s;

	if (!o)
		return NULL;
	summarise(p, &s);
	cJSON_AddStringToObject(o, "kind", plan_kind_name(p->kind));
	cJSON_AddStringToObject(o, "by", plan_measure_name(p->by));
	cJSON_AddStringToObject(o, "seed", p->seed);
	cJSON_AddStringToObject(o, "created", p->created);
	cJSON_AddStringToObject(o, "fingerprint", p->fingerprint);
	cJSON_AddItemToObject(o, "masters", masters_json(p, &s));
	add_ratio(o, "imbalance_before", s.imbalance_before);
	add_ratio(o, "imbalance_after", s.imbalance_after);
	cJSON_AddItemToObject(o, "pairs", pairs_json(p, &s));
	cJSON_AddItemToObject(o, "hot_slots", hot_json(p));
	big = cJSON_AddArrayToObject(o, "big_keys");
	for (size_t i = 0; big && i < p->big_key_count; i++) {
		cJSON *k = cJSON_CreateObject();

		json_add_number(k, "slot", p->big_keys[i].slot);
		cJSON_AddStringToObject(k, "key", p->big_keys[i].key);
		json_add_number(k, "bytes", (double)p->big_keys[i].bytes);
		cJSON_AddItemToArray(big, k);
	}
	total = cJSON_AddObjectToObject(o, "total");
	json_add_number(total, "slots", s.slots);
	json_add_number(total, "keys", (double)s.keys);
	json_add_number(total, "bytes", (double)s.bytes);
	json_add_number(total, "batches", (double)p->batch_count);
	warn = cJSON_AddArrayToObject(o, "warnings");
	for (size_t i = 0; warn && i < p->warning_count; i++)
		cJSON_AddItemToArray(warn, cJSON_CreateString(p->warnings[i]));
	free(s.pairs);
	return o;
}

void plan_summary_written(const char *path, FILE *f)
{
	fprintf(f, "plan written to '%s'; review it with 'slotctl show %s', then 'slotctl apply %s'\n", path, path,
		path);
}
