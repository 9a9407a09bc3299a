/* topology.c: the topology model of one node's view (see slotctl/core/topology.h):
 * lifecycle, lookups by id, id prefix and address, the slot owner map and
 * flag formatting, and the defects no real cluster shows (ids, addresses or
 * myself lines listed twice). Parsing lives in topology_parse.c. */
#include "slotctl/core/topology.h"
#include "slotctl/core/addr.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void topology_release(struct topology *t)
{
	for (size_t i = 0; i < t->count; i++) {
		free(t->nodes[i].text);
		free(t->nodes[i].open);
		node_slots_release(&t->nodes[i]);
	}
	free(t->nodes);
	memset(t, 0, sizeof(*t));
}

/* Deep-copies the heap parts of src into dst (a memcpy of src); on failure
 * dst's heap parts are NULL so it can be released. */
static int node_copy_heap(struct node *dst, const struct node *src)
{
	dst->text = NULL;
	dst->open = NULL;
	if (src->text) {
		size_t len = strlen(src->text) + 1 + (src->aux ? strlen(src->aux) + 1 : 0);

		if (!(dst->text = malloc(len)))
			return -1;
		memcpy(dst->text, src->text, len);
		dst->hostname = dst->text;
		dst->aux = src->aux ? dst->text + (src->aux - src->text) : NULL;
	}
	if (src->open_count) {
		dst->open = malloc(src->open_count * sizeof(*dst->open));
		if (!dst->open)
			return -1;
		memcpy(dst->open, src->open, src->open_count * sizeof(*dst->open));
	}
	return 0;
}

int topology_copy(struct topology *dst, const struct topology *src)
{
	struct topology t = { .nodes = NULL, .count = 0, .myself = src->myself };

	if (src->count) {
		t.nodes = malloc(src->count * sizeof(*t.nodes));
		if (!t.nodes)
			return -1;
	}
	for (size_t i = 0; i < src->count; i++) {
		t.nodes[i] = src->nodes[i];
		node_slots_share(&t.nodes[i], &src->nodes[i]);
		t.count++;
		if (node_copy_heap(&t.nodes[i], &src->nodes[i]) < 0) {
			topology_release(&t);
			return -1;
		}
	}
	*dst = t;
	return 0;
}

const struct node *topology_find(const struct topology *t, const char *id)
{
	for (size_t i = 0; i < t->count; i++)
		if (strcmp(t->nodes[i].id, id) == 0)
			return &t->nodes[i];
	return NULL;
}

const struct node *topology_find_prefix(const struct topology *t, const char *prefix, struct sc_error *err)
{
	const struct node *found = NULL;
	size_t plen = strlen(prefix), matches = 0;
	char list[SC_ERROR_MSG_MAX / 2];
	struct strbuf sb;

	if (plen == 0)
		return sc_error_set(err, SC_EXIT_USAGE, "empty node id"), NULL;
	strbuf_init(&sb, list, sizeof(list));
	for (size_t i = 0; i < t->count; i++) {
		if (strncmp(t->nodes[i].id, prefix, plen) != 0)
			continue;
		found = &t->nodes[i];
		strbuf_addf(&sb, "%s'%s'", matches ? ", " : "", found->id);
		matches++;
	}
	if (matches == 1)
		return found;
	if (matches == 0)
		sc_error_set(err, SC_EXIT_USAGE, "no node id starts with '%s'", prefix);
	else
		sc_error_set(err, SC_EXIT_USAGE, "node id '%s' is ambiguous: %zu nodes match (%s); give more characters",
			prefix, matches, list);
	return NULL;
}

const struct node *topology_find_addr(const struct topology *t, const char *ip, int port)
{
	for (size_t i = 0; i < t->count; i++)
		if (t->nodes[i].port == port && strcmp(t->nodes[i].ip, ip) == 0)
			return &t->nodes[i];
	return NULL;
}

void topology_owner_map(const struct topology *t, int owner[SC_SLOTS])
{
	for (int slot = 0; slot < SC_SLOTS; slot++)
		owner[slot] = -1;
	for (size_t i = 0; i < t->count; i++) {
		const struct slotset *s = node_slots(&t->nodes[i]);

		for (int w = 0; w < SC_SLOTS / 64; w++) {
			for (uint64_t bits = s->bits[w]; bits; bits &= bits - 1) {
				int slot = w * 64 + __builtin_ctzll(bits);

				owner[slot] = owner[slot] == -1 ? (int)i : -2;
			}
		}
	}
}

bool node_is_master(const struct node *n)
{
	return (n->flags & NODE_MASTER) && !(n->flags & NODE_REPLICA);
}

void node_flags_format(unsigned flags, char *buf, size_t size)
{
	static const struct {
		unsigned flag;
		const char *name;
	} order[] = {
		{ NODE_MYSELF, "myself" },
		{ NODE_MASTER, "master" },
		{ NODE_REPLICA, "slave" },
		{ NODE_PFAIL, "fail?" },
		{ NODE_FAIL, "fail" },
		{ NODE_HANDSHAKE, "handshake" },
		{ NODE_NOADDR, "noaddr" },
		{ NODE_NOFAILOVER, "nofailover" },
	};
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (flags & order[i].flag)
			strbuf_addf(&sb, "%s%s", sb.len ? "," : "", order[i].name);
	if (sb.len == 0)
		strbuf_addf(&sb, "noflags");
}

/* -- defects ------------------------------------------------------------- */

/* Entries that answer at their address: others (fail, noaddr, handshake, no
 * address) may share it with the node that now lives there. */
static bool answers_at_addr(const struct node *n)
{
	return !(n->flags & (NODE_FAIL | NODE_NOADDR | NODE_HANDSHAKE)) && n->ip[0] && n->port > 0;
}

/* qsort orders: by key, then by position, so runs list entries in input order. */
static int by_position(const struct node *a, const struct node *b)
{
	return (a > b) - (a < b);
}

static int by_id(const void *x, const void *y)
{
	const struct node *a = *(const struct node *const *)x, *b = *(const struct node *const *)y;
	int c = strcmp(a->id, b->id);

	return c ? c : by_position(a, b);
}

static int by_addr(const void *x, const void *y)
{
	const struct node *a = *(const struct node *const *)x, *b = *(const struct node *const *)y;
	int c = strcmp(a->ip, b->ip);

	if (!c)
		c = (a->port > b->port) - (a->port < b->port);
	return c ? c : by_position(a, b);
}

struct defect_list {
	struct topology_defect *out;
	size_t max, count;
};

static void defect_add(struct defect_list *l, enum topology_defect_kind kind, size_t a, size_t b)
{
	if (l->count < l->max)
		l->out[l->count] = (struct topology_defect){ kind, a, b };
	l->count++;
}

/* One defect per entry of sorted that has the same key as the first of its run. */
static void defects_of_runs(const struct topology *t, const struct node **sorted, size_t n,
	int (*cmp)(const void *, const void *), enum topology_defect_kind kind, struct defect_list *l)
{
	qsort(sorted, n, sizeof(*sorted), cmp);
	for (size_t first = 0, i = 1; i < n; i++) {
		bool same = kind == TOPOLOGY_ID_TWICE ? strcmp(sorted[i]->id, sorted[first]->id) == 0 :
			strcmp(sorted[i]->ip, sorted[first]->ip) == 0 && sorted[i]->port == sorted[first]->port;

		if (!same)
			first = i;
		else if (kind == TOPOLOGY_ID_TWICE || strcmp(sorted[i]->id, sorted[first]->id) != 0)
			defect_add(l, kind, (size_t)(sorted[first] - t->nodes), (size_t)(sorted[i] - t->nodes));
	}
}

size_t topology_defects(const struct topology *t, struct topology_defect *out, size_t max)
{
	struct defect_list l = { out, max, 0 };
	const struct node **sorted = malloc((t->count ? t->count : 1) * sizeof(*sorted));
	size_t n = 0, myself = t->count;

	if (!sorted)
		return (size_t)-1;
	for (size_t i = 0; i < t->count; i++)
		sorted[i] = &t->nodes[i];
	defects_of_runs(t, sorted, t->count, by_id, TOPOLOGY_ID_TWICE, &l);
	for (size_t i = 0; i < t->count; i++)
		if (answers_at_addr(&t->nodes[i]))
			sorted[n++] = &t->nodes[i];
	defects_of_runs(t, sorted, n, by_addr, TOPOLOGY_ADDR_TWICE, &l);
	free(sorted);
	for (size_t i = 0; i < t->count; i++) {
		if (!(t->nodes[i].flags & NODE_MYSELF))
			continue;
		if (myself < t->count)
			defect_add(&l, TOPOLOGY_MYSELF_TWICE, myself, i);
		else
			myself = i;
	}
	if (myself == t->count)
		defect_add(&l, TOPOLOGY_NO_MYSELF, 0, 0);
	return l.count;
}

void topology_defect_format(const struct topology *t, const struct topology_defect *d, char *buf, size_t size)
{
	const struct node *a, *b;
	char at_a[ADDR_TEXT_MAX], at_b[ADDR_TEXT_MAX];

	if (d->kind == TOPOLOGY_NO_MYSELF) {
		snprintf(buf, size, "no node is flagged myself");
		return;
	}
	a = &t->nodes[d->a];
	b = &t->nodes[d->b];
	addr_format(at_a, sizeof(at_a), a->ip[0] ? a->ip : "noaddr", a->port);
	addr_format(at_b, sizeof(at_b), b->ip[0] ? b->ip : "noaddr", b->port);
	if (d->kind == TOPOLOGY_ID_TWICE)
		snprintf(buf, size, "node '%s' is listed twice (at '%s' and at '%s')", a->id, at_a, at_b);
	else if (d->kind == TOPOLOGY_ADDR_TWICE)
		snprintf(buf, size, "two nodes are listed at '%s': '%s' and '%s'", at_a, a->id, b->id);
	else
		snprintf(buf, size, "two nodes are flagged myself: '%s' (at '%s') and '%s' (at '%s')",
			a->id, at_a, b->id, at_b);
}

const char *topology_defect_code(enum topology_defect_kind kind)
{
	switch (kind) {
	case TOPOLOGY_ID_TWICE: return "node-listed-twice";
	case TOPOLOGY_ADDR_TWICE: return "address-listed-twice";
	case TOPOLOGY_NO_MYSELF:
	case TOPOLOGY_MYSELF_TWICE: break;
	}
	return "myself-not-one";
}

int topology_require_sound_to(const struct topology *t, const char *doing, struct sc_error *err)
{
	struct topology_defect *d = NULL;
	size_t n = topology_defects(t, NULL, 0);
	char what[SC_ERROR_MSG_MAX / 2], more[128];
	struct strbuf sb;

	if (n == 0)
		return 0;
	if (n == (size_t)-1 || !(d = malloc(n * sizeof(*d))) || topology_defects(t, d, n) != n) {
		free(d);
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory checking the cluster map");
	}
	topology_defect_format(t, &d[0], what, sizeof(what));
	/* "(and more: CODE, ...)": the codes of check's other findings, each once
	 * (defects come grouped by kind) */
	strbuf_init(&sb, more, sizeof(more));
	if (n > 1)
		strbuf_addf(&sb, " (and more");
	for (size_t k = 1; k < n; k++)
		if (strcmp(topology_defect_code(d[k].kind), topology_defect_code(d[k - 1].kind)) != 0)
			strbuf_addf(&sb, "%s%s", strchr(more, ':') ? ", " : ": ", topology_defect_code(d[k].kind));
	if (n > 1)
		strbuf_addf(&sb, ")");
	sc_error_set(err, SC_EXIT_REFUSED, "refusing to %s on an impossible cluster map: %s: %s%s; no real "
		"cluster lists itself so (a broken server or something in front of it answered): run 'slotctl check'",
		doing, topology_defect_code(d[0].kind), what, more);
	free(d);
	return -1;
}

int topology_require_sound(const struct topology *t, struct sc_error *err)
{
	return topology_require_sound_to(t, "plan", err);
}
