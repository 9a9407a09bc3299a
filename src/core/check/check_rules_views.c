/* check_rules_views.c: the rules of `slotctl check` about views no real
 * cluster gives (topology_defects): a node listed twice, two nodes at one
 * address, a myself line missing or repeated. Such a CLUSTER NODES comes from
 * a broken server or from something in front of it (a proxy, a fake), and
 * every other rule and every plan would act on nodes that are not there.
 * Pure: no I/O. */
#include "slotctl/core/check.h"
#include "check_rules_priv.h"

#include <stdlib.h>
#include <string.h>

/* The defects of every reachable view (n 0 for the others). */
struct view_defects {
	struct topology_defect *d;
	size_t n;
};

/* The same problem seen in two views: one id, or one address, listed twice.
 * A myself line missing or repeated belongs to its own view. */
static bool same_defect(const struct topology *ta, const struct topology_defect *da,
	const struct topology *tb, const struct topology_defect *db)
{
	const struct node *a = &ta->nodes[da->a], *b = &tb->nodes[db->a];

	if (da->kind != db->kind)
		return false;
	if (da->kind == TOPOLOGY_ID_TWICE)
		return strcmp(a->id, b->id) == 0;
	if (da->kind == TOPOLOGY_ADDR_TWICE)
		return a->port == b->port && strcmp(a->ip, b->ip) == 0;
	return false;
}

/* True when view j has a defect the same as d of view i (j == i: one
 * earlier than index k). */
static bool view_has(const struct rules *c, const struct view_defects *vd, size_t j, size_t i,
	const struct topology_defect *d, size_t before)
{
	size_t n = j == i ? before : vd[j].n;

	for (size_t k = 0; k < n; k++)
		if (same_defect(&c->s->nodes[j].view, &vd[j].d[k], &c->s->nodes[i].view, d))
			return true;
	return false;
}

/* One finding for defect k of view i, naming the nodes listed and every view
 * that lists them so; nothing when an earlier one already said it. */
static void report_defect(struct rules *c, const struct view_defects *vd, size_t i, size_t k)
{
	const struct topology *t = &c->s->nodes[i].view;
	const struct topology_defect *d = &vd[i].d[k];
	struct check_finding *f;
	char what[400], observers[4 * NAME_MAX_LEN];
	size_t first_observer;

	for (size_t j = 0; j <= i; j++)
		if (view_has(c, vd, j, i, d, k))
			return;
	f = rules_add(c, CHECK_ERR, topology_defect_code(d->kind));
	if (d->kind == TOPOLOGY_ID_TWICE || d->kind == TOPOLOGY_ADDR_TWICE) {
		rules_add_node(c, f, t->nodes[d->a].id, &t->nodes[d->a]);
		if (d->kind == TOPOLOGY_ADDR_TWICE)
			rules_add_node(c, f, t->nodes[d->b].id, &t->nodes[d->b]);
	}
	first_observer = f ? f->node_count : 0;
	rules_add_view(c, f, &c->s->nodes[i]);
	for (size_t j = i + 1; j < c->s->count; j++)
		if (view_has(c, vd, j, i, d, vd[j].n))
			rules_add_view(c, f, &c->s->nodes[j]);
	if (!f || c->oom)
		return;
	if (d->kind != TOPOLOGY_NO_MYSELF)
		slotset_union(&f->slots, node_slots(&t->nodes[d->a]), node_slots(&t->nodes[d->b]));
	topology_defect_format(t, d, what, sizeof(what));
	rules_list_names(f, first_observer, observers, sizeof(observers));
	rules_say(f, "%s in the CLUSTER NODES of %s, which no real cluster gives (a broken server or "
		"something in front of it answered); slotctl plans nothing on it", what, observers);
}

/* Marks the entries of the reference view whose id is listed twice: their
 * configEpoch and role are ambiguous, so the rules about them keep quiet. */
static void mark_twice(struct rules *c, const struct view_defects *ref)
{
	if (!(c->listed_twice = calloc(c->ref->count ? c->ref->count : 1, sizeof(*c->listed_twice)))) {
		c->oom = true;
		return;
	}
	for (size_t k = 0; k < ref->n; k++)
		if (ref->d[k].kind == TOPOLOGY_ID_TWICE)
			c->listed_twice[ref->d[k].a] = c->listed_twice[ref->d[k].b] = true;
}

void rule_views(struct rules *c)
{
	struct view_defects *vd = calloc(c->s->count ? c->s->count : 1, sizeof(*vd));
	size_t found = 0;

	for (size_t i = 0; vd && i < c->s->count && !c->oom; i++) {
		const struct node_view *v = &c->s->nodes[i];
		size_t n = v->reachable ? topology_defects(&v->view, NULL, 0) : 0;

		if (n == 0)
			continue;
		if (n == (size_t)-1 || !(vd[i].d = malloc(n * sizeof(*vd[i].d))) ||
		    topology_defects(&v->view, vd[i].d, n) != n)
			c->oom = true;
		else
			vd[i].n = n;
	}
	if (!vd || c->oom) {
		c->oom = true;
	} else {
		mark_twice(c, &vd[c->s->reference]);
		for (size_t i = 0; i < c->s->count; i++) {
			found += vd[i].n;
			for (size_t k = 0; k < vd[i].n; k++)
				report_defect(c, vd, i, k);
		}
		if (!found)
			rules_say(rules_add(c, CHECK_OK, "node-listed-twice"),
				"every view lists each node and each address once, and itself once");
	}
	for (size_t i = 0; vd && i < c->s->count; i++)
		free(vd[i].d);
	free(vd);
}
