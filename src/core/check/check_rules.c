/* check_rules.c: the rules of `slotctl check`. Each rule reads the snapshot
 * (every node's own view, state and settings) and adds findings that name the
 * nodes and slot ranges involved, or one ok finding when it found nothing.
 * This file holds the finding helpers, the rules about reachability and the
 * slot map, and check_evaluate; the rules about node health and settings are
 * in check_rules_nodes.c, those about impossible views in check_rules_views.c. Pure: no I/O; the probes that need node I/O are in
 * src/io/cluster/check_probe.c. */
#include "slotctl/core/check.h"
#include "slotctl/core/addr.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/strbuf.h"
#include "check_rules_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIFF_KINDS 4      /* kinds of difference spelled out per disagreeing view */

const struct node *rules_view_self(const struct node_view *v)
{
	if (!v->reachable || v->view.myself < 0 || (size_t)v->view.myself >= v->view.count)
		return NULL;
	return &v->view.nodes[v->view.myself];
}

struct check_finding *rules_add(struct rules *c, enum check_severity sev, const char *code)
{
	struct check_finding *f = c->oom ? NULL : check_report_add(c->r, sev, code, "%s", "");

	if (!f)
		c->oom = true;
	return f;
}

void rules_add_node(struct rules *c, struct check_finding *f, const char *id, const struct node *entry)
{
	struct check_node_ref ref;

	if (!f)
		return;
	check_node_ref_fill(c->s, id, &ref);
	if (!ref.addr[0] && entry && entry->ip[0])
		addr_format(ref.addr, sizeof(ref.addr), entry->ip, entry->port);
	if (check_finding_add_node(f, ref.id, ref.addr) < 0)
		c->oom = true;
}

void rules_ref_name(const struct check_node_ref *ref, char *buf, size_t size)
{
	if (ref->id[0])
		snprintf(buf, size, "'%s' (%.8s)", ref->addr[0] ? ref->addr : "noaddr", ref->id);
	else
		snprintf(buf, size, "'%s'", ref->addr);
}

/* "'a' (id), 'b' (id) and 2 more" for f's nodes from index `from`. */
void rules_list_names(const struct check_finding *f, size_t from, char *buf, size_t size)
{
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
	for (size_t i = from; i < f->node_count && !sb.truncated; i++) {
		char name[NAME_MAX_LEN];

		if (i - from == LIST_NAMES) {
			strbuf_addf(&sb, " and %zu more", f->node_count - i);
			return;
		}
		rules_ref_name(&f->nodes[i], name, sizeof(name));
		strbuf_addf(&sb, "%s%s", i > from ? ", " : "", name);
	}
}

void rules_say(struct check_finding *f, const char *fmt, ...)
{
	va_list ap;

	if (!f)
		return;
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
}

void rules_add_view(struct rules *c, struct check_finding *f, const struct node_view *v)
{
	if (f && check_finding_add_node(f, v->id, v->addr) < 0)
		c->oom = true;
}

/* -- the reference by id ------------------------------------------------- */

static int by_id_then_order(const void *a, const void *b)
{
	const struct node *x = *(const struct node *const *)a, *y = *(const struct node *const *)b;
	int d = strcmp(x->id, y->id);

	return d ? d : (x > y) - (x < y);
}

/* Fills c->ref_by_id; an allocation failure leaves it NULL (lookups then
 * walk the reference). */
static void index_ref(struct rules *c)
{
	if (!c->ref || c->ref->count == 0 || !(c->ref_by_id = malloc(c->ref->count * sizeof(*c->ref_by_id))))
		return;
	for (size_t i = 0; i < c->ref->count; i++)
		c->ref_by_id[i] = &c->ref->nodes[i];
	qsort(c->ref_by_id, c->ref->count, sizeof(*c->ref_by_id), by_id_then_order);
}

const struct node *rules_ref_find(const struct rules *c, const char *id)
{
	size_t lo = 0, hi;

	if (!c->ref)
		return NULL;
	if (!c->ref_by_id)
		return topology_find(c->ref, id);
	hi = c->ref->count;
	while (lo < hi) { /* the first entry not below id */
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(c->ref_by_id[mid]->id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->ref->count && strcmp(c->ref_by_id[lo]->id, id) == 0 ? c->ref_by_id[lo] : NULL;
}

/* -- reachability ------------------------------------------------------- */

static void rule_reachable(struct rules *c)
{
	size_t bad = 0;

	for (size_t i = 0; i < c->s->count; i++) {
		const struct node_view *v = &c->s->nodes[i];
		const struct node *entry = v->id[0] ? rules_ref_find(c, v->id) : NULL;
		struct check_finding *f;
		char slots[200] = "";

		bool serves = entry && node_is_master(entry) && slotset_count(node_slots(entry)) > 0;

		if (v->reachable)
			continue;
		if (serves)
			slotset_format(node_slots(entry), slots, sizeof(slots));
		if (v->loading) {
			/* it answered: a replica resyncing after a role change (a drained
			 * master's former replicas) or a restart; transient */
			f = rules_add(c, serves ? CHECK_ERR : CHECK_WARN, "node-loading");
			if (!f)
				return;
			rules_add_view(c, f, v);
			if (serves)
				f->slots = *node_slots(entry);
			rules_say(f, "'%s' (node %.8s) is loading its dataset (LOADING) and cannot say what it sees%s%s",
				v->addr, v->id[0] ? v->id : "unknown", serves ? "; its clients get LOADING errors for slots " :
				"; check again once it has loaded (check --wait waits for it)", slots);
			continue;
		}
		bad++;
		f = rules_add(c, CHECK_ERR, "node-unreachable");
		if (!f)
			return;
		rules_add_view(c, f, v);
		if (serves)
			f->slots = *node_slots(entry);
		if (v->error.msg[0])
			rules_say(f, "%s (node %.8s)%s%s", v->error.msg, v->id[0] ? v->id : "unknown",
				slots[0] ? "; it serves slots " : "", slots);
		else
			rules_say(f, "cannot reach '%s' (node %.8s)%s%s", v->addr, v->id[0] ? v->id : "unknown",
				slots[0] ? "; it serves slots " : "", slots);
	}
	if (!bad)
		rules_say(rules_add(c, CHECK_OK, "node-unreachable"), "all %zu nodes answered", c->s->count);
}

/* -- the slot map --------------------------------------------------------- */

static void rule_coverage(struct rules *c, const int owner[SC_SLOTS])
{
	struct slotset missing;
	struct check_finding *f;
	char slots[400];

	slotset_clear(&missing);
	for (int slot = 0; slot < SC_SLOTS; slot++)
		if (owner[slot] == -1)
			slotset_add(&missing, slot);
	if (slotset_count(&missing) == 0) {
		rules_say(rules_add(c, CHECK_OK, "uncovered-slots"), "all %d slots are covered", SC_SLOTS);
		return;
	}
	f = rules_add(c, CHECK_ERR, "uncovered-slots");
	if (!f)
		return;
	f->slots = missing;
	slotset_format(&missing, slots, sizeof(slots));
	rules_say(f, "%d slots have no owner in the view of '%s': %s; assign them with 'slotctl fix'",
		slotset_count(&missing), c->r->summary.reference, slots);
}

/* What each master claims: its own claim (from its view's myself line) merged
 * with what the reference view says it owns. */
struct claim {
	const char *id;
	const struct node *entry;
	struct slotset slots;
};

static struct claim *claim_of(struct claim *claims, size_t *count, const struct node *n)
{
	for (size_t i = 0; i < *count; i++)
		if (strcmp(claims[i].id, n->id) == 0)
			return &claims[i];
	claims[*count].id = n->id;
	claims[*count].entry = n;
	slotset_clear(&claims[*count].slots);
	return &claims[(*count)++];
}

static void claim_union(struct claim *cl, const struct slotset *slots)
{
	slotset_union(&cl->slots, &cl->slots, slots);
}

static void rule_claims(struct rules *c)
{
	size_t max = c->ref->count + c->s->count, count = 0, found = 0;
	struct claim *claims = calloc(max ? max : 1, sizeof(*claims));

	if (!claims) {
		c->oom = true;
		return;
	}
	for (size_t i = 0; i < c->ref->count; i++)
		if (node_is_master(&c->ref->nodes[i]))
			claim_union(claim_of(claims, &count, &c->ref->nodes[i]), node_slots(&c->ref->nodes[i]));
	for (size_t i = 0; i < c->s->count; i++) {
		const struct node *self = rules_view_self(&c->s->nodes[i]);

		if (self && node_is_master(self))
			claim_union(claim_of(claims, &count, self), node_slots(self));
	}
	for (size_t a = 0; a < count; a++) {
		for (size_t b = a + 1; b < count; b++) {
			struct slotset both;
			struct check_finding *f;
			char names[2 * NAME_MAX_LEN], slots[300];

			slotset_intersect(&both, &claims[a].slots, &claims[b].slots);
			if (slotset_count(&both) == 0)
				continue;
			found++;
			f = rules_add(c, CHECK_ERR, "slot-claimed-twice");
			rules_add_node(c, f, claims[a].id, claims[a].entry);
			rules_add_node(c, f, claims[b].id, claims[b].entry);
			if (!f)
				break;
			f->slots = both;
			rules_list_names(f, 0, names, sizeof(names));
			slotset_format(&both, slots, sizeof(slots));
			rules_say(f, "slots %s are claimed by two masters: %s", slots, names);
		}
	}
	if (!found)
		rules_say(rules_add(c, CHECK_OK, "slot-claimed-twice"), "no slot is claimed by two masters");
	free(claims);
}

/* Open-slot markers of one node, grouped by direction and peer. */
static size_t open_groups(struct rules *c, const struct node_view *v, const struct node *self)
{
	size_t groups = 0;

	for (size_t k = 0; k < self->open_count; k++) {
		const struct open_slot *o = &self->open[k];
		struct slotset slots;
		struct check_finding *f;
		char me[NAME_MAX_LEN], peer[NAME_MAX_LEN], text[300];
		bool seen = false;

		for (size_t j = 0; j < k; j++)
			if (self->open[j].importing == o->importing && strcmp(self->open[j].peer, o->peer) == 0)
				seen = true;
		if (seen)
			continue;
		slotset_clear(&slots);
		for (size_t j = k; j < self->open_count; j++)
			if (self->open[j].importing == o->importing && strcmp(self->open[j].peer, o->peer) == 0)
				slotset_add(&slots, self->open[j].slot);
		groups++;
		f = rules_add(c, CHECK_ERR, "open-slot");
		rules_add_node(c, f, self->id, NULL);
		rules_add_node(c, f, o->peer, topology_find(&v->view, o->peer));
		if (!f)
			return groups;
		f->slots = slots;
		rules_ref_name(&f->nodes[0], me, sizeof(me));
		rules_ref_name(&f->nodes[1], peer, sizeof(peer));
		slotset_format(&slots, text, sizeof(text));
		rules_say(f, "%s has slot%s %s %s %s; finish the move with 'slotctl resume' or repair it with 'slotctl fix'", me,
			slotset_count(&slots) > 1 ? "s" : "", text,
			o->importing ? "importing from" : "migrating to", peer);
	}
	return groups;
}

static void rule_open_slots(struct rules *c)
{
	size_t found = 0;

	for (size_t i = 0; i < c->s->count; i++) {
		const struct node *self = rules_view_self(&c->s->nodes[i]);

		if (self)
			found += open_groups(c, &c->s->nodes[i], self);
	}
	if (!found)
		rules_say(rules_add(c, CHECK_OK, "open-slot"), "no slot is migrating or importing");
}

/* The owner id of each slot in t: "" when none, "?" when claimed twice. */
static void owner_ids(const struct topology *t, const char *ids[SC_SLOTS], int *scratch)
{
	topology_owner_map(t, scratch);
	for (int slot = 0; slot < SC_SLOTS; slot++)
		ids[slot] = scratch[slot] >= 0 ? t->nodes[scratch[slot]].id : scratch[slot] == -1 ? "" : "?";
}

struct diff_kind {
	const char *here, *there;
	struct slotset slots;
};

static void owner_text(const struct rules *c, const char *id, char *buf, size_t size)
{
	if (!id[0])
		snprintf(buf, size, "unassigned");
	else if (strcmp(id, "?") == 0)
		snprintf(buf, size, "claimed twice");
	else
		check_node_name(c->s, id, buf, size);
}

/* Spells out how view v differs: "0-99 unassigned (reference: 'a' (id))". */
static void describe_diff(const struct rules *c, const struct diff_kind *kinds, size_t n,
	size_t more, char *buf, size_t size)
{
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
	for (size_t k = 0; k < n && !sb.truncated; k++) {
		char slots[200], here[NAME_MAX_LEN], there[NAME_MAX_LEN];

		slotset_format(&kinds[k].slots, slots, sizeof(slots));
		owner_text(c, kinds[k].here, here, sizeof(here));
		owner_text(c, kinds[k].there, there, sizeof(there));
		strbuf_addf(&sb, "%s%s: %s here, %s in the reference", k ? "; " : "", slots, here, there);
	}
	if (more)
		strbuf_addf(&sb, "; and %zu more differences", more);
}

static void diff_view(struct rules *c, const struct node_view *v, const char **ref_ids,
	const char **ids, int *scratch, size_t *found)
{
	struct diff_kind kinds[DIFF_KINDS];
	struct slotset differ;
	struct check_finding *f;
	size_t nkinds = 0, more = 0;
	char me[NAME_MAX_LEN], ref[NAME_MAX_LEN], slots[200], detail[500];

	owner_ids(&v->view, ids, scratch);
	slotset_clear(&differ);
	for (int slot = 0; slot < SC_SLOTS; slot++) {
		size_t k;

		if (strcmp(ids[slot], ref_ids[slot]) == 0)
			continue;
		slotset_add(&differ, slot);
		for (k = 0; k < nkinds; k++)
			if (strcmp(kinds[k].here, ids[slot]) == 0 && strcmp(kinds[k].there, ref_ids[slot]) == 0)
				break;
		if (k == nkinds && nkinds == DIFF_KINDS) {
			more++;
			continue;
		}
		if (k == nkinds) {
			kinds[k].here = ids[slot];
			kinds[k].there = ref_ids[slot];
			slotset_clear(&kinds[k].slots);
			nkinds++;
		}
		slotset_add(&kinds[k].slots, slot);
	}
	if (slotset_count(&differ) == 0)
		return;
	(*found)++;
	f = rules_add(c, CHECK_ERR, "views-disagree");
	if (!f)
		return;
	rules_add_view(c, f, v);
	rules_add_view(c, f, &c->s->nodes[c->s->reference]);
	if (c->oom)
		return;
	f->slots = differ;
	rules_ref_name(&f->nodes[0], me, sizeof(me));
	rules_ref_name(&f->nodes[1], ref, sizeof(ref));
	slotset_format(&differ, slots, sizeof(slots));
	describe_diff(c, kinds, nkinds, more, detail, sizeof(detail));
	rules_say(f, "%s disagrees with the reference view of %s about slots %s (%s)", me, ref, slots, detail);
}

static void rule_agreement(struct rules *c)
{
	const char **ref_ids = calloc(2 * SC_SLOTS, sizeof(*ref_ids));
	int *scratch = calloc(SC_SLOTS, sizeof(*scratch));
	size_t found = 0, compared = 0;

	if (!ref_ids || !scratch) {
		c->oom = true;
		goto out;
	}
	owner_ids(c->ref, ref_ids, scratch);
	for (size_t i = 0; i < c->s->count; i++) {
		const struct node_view *v = &c->s->nodes[i];

		if ((int)i == c->s->reference || !v->reachable || v->view.count == 0)
			continue;
		compared++;
		diff_view(c, v, ref_ids, ref_ids + SC_SLOTS, scratch, &found);
	}
	if (!found)
		rules_say(rules_add(c, CHECK_OK, "views-disagree"), "all %zu reachable nodes agree about the slot map",
			compared + 1);
out:
	free(ref_ids);
	free(scratch);
}

/* A node's role as text: "master" or "replica of 'addr' (id8)". */
static void role_text(const struct rules *c, const struct node *n, char *buf, size_t size)
{
	char master[NAME_MAX_LEN];

	if (node_is_master(n)) {
		snprintf(buf, size, "master");
	} else if (n->flags & NODE_REPLICA) {
		check_node_name(c->s, n->master_id, master, sizeof(master));
		snprintf(buf, size, "replica of %s", master);
	} else {
		snprintf(buf, size, "without a role");
	}
}

static bool same_role(const struct node *a, const struct node *b)
{
	if (node_is_master(a) != node_is_master(b) || (a->flags & NODE_REPLICA) != (b->flags & NODE_REPLICA))
		return false;
	return !(a->flags & NODE_REPLICA) || strcmp(a->master_id, b->master_id) == 0;
}

/* One finding when view v gives some node another role than the reference. */
static void diff_roles(struct rules *c, const struct node_view *v, size_t *found)
{
	struct check_finding *f = NULL;
	size_t differ = 0;
	char detail[500], me[NAME_MAX_LEN], ref[NAME_MAX_LEN];
	struct strbuf sb;

	strbuf_init(&sb, detail, sizeof(detail));
	for (size_t j = 0; j < v->view.count; j++) {
		const struct node *mine = &v->view.nodes[j];
		const struct node *theirs = rules_ref_find(c, mine->id);
		char name[NAME_MAX_LEN], here[2 * NAME_MAX_LEN], there[2 * NAME_MAX_LEN];

		if (!theirs || ((mine->flags | theirs->flags) & (NODE_HANDSHAKE | NODE_NOADDR)) ||
		    same_role(mine, theirs))
			continue;
		if (!f) {
			f = rules_add(c, CHECK_WARN, "roles-disagree");
			rules_add_view(c, f, v);
			rules_add_view(c, f, &c->s->nodes[c->s->reference]);
			(*found)++;
		}
		rules_add_node(c, f, mine->id, mine);
		if (++differ > 3 || sb.truncated)
			continue;
		check_node_name(c->s, mine->id, name, sizeof(name));
		role_text(c, mine, here, sizeof(here));
		role_text(c, theirs, there, sizeof(there));
		strbuf_addf(&sb, "%s%s is %s here, %s in the reference", differ > 1 ? "; " : "", name, here, there);
	}
	if (!f || c->oom)
		return;
	if (differ > 3)
		strbuf_addf(&sb, "; and %zu more", differ - 3);
	rules_ref_name(&f->nodes[0], me, sizeof(me));
	rules_ref_name(&f->nodes[1], ref, sizeof(ref));
	rules_say(f, "%s disagrees with the reference view of %s about the role of %zu node%s (%s)", me, ref,
		differ, differ == 1 ? "" : "s", detail);
}

static void rule_roles(struct rules *c)
{
	size_t found = 0;

	for (size_t i = 0; i < c->s->count; i++) {
		const struct node_view *v = &c->s->nodes[i];

		if ((int)i != c->s->reference && v->reachable && v->view.count > 0)
			diff_roles(c, v, &found);
	}
	if (!found)
		rules_say(rules_add(c, CHECK_OK, "roles-disagree"), "all reachable nodes agree about masters and replicas");
}

/* -- the whole check -------------------------------------------------------- */

static void summarize(const struct snapshot *s, const struct topology *ref, const int owner[SC_SLOTS],
	struct check_summary *sum)
{
	sum->nodes = (int)s->count;
	sum->keys = -1;
	for (size_t i = 0; i < s->count; i++)
		if (s->nodes[i].reachable)
			sum->reachable++;
	if (!ref)
		return;
	snprintf(sum->reference, sizeof(sum->reference), "%s", s->nodes[s->reference].addr);
	for (size_t i = 0; i < ref->count; i++) {
		if (!rules_node_usable(&ref->nodes[i]))
			continue;
		if (node_is_master(&ref->nodes[i]))
			sum->masters++;
		else if (ref->nodes[i].flags & NODE_REPLICA)
			sum->replicas++;
	}
	for (int slot = 0; slot < SC_SLOTS; slot++)
		if (owner[slot] != -1)
			sum->slots_covered++;
}

int check_evaluate(const struct snapshot *s, struct check_report *out, struct sc_error *err)
{
	struct rules c = { .s = s, .r = out };
	int *owner = calloc(SC_SLOTS, sizeof(*owner));

	memset(out, 0, sizeof(*out));
	if (!owner)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory while checking the cluster");
	c.ref = snapshot_map(s);
	if (c.ref)
		topology_owner_map(c.ref, owner);
	index_ref(&c);
	summarize(s, c.ref, owner, &out->summary);
	rule_reachable(&c);
	if (c.ref) {
		rule_views(&c);
		rule_coverage(&c, owner);
		rule_claims(&c);
		rule_open_slots(&c);
		rule_agreement(&c);
		rule_roles(&c);
		rule_epochs(&c);
		rule_flags(&c);
		rule_cluster_state(&c);
		rule_replicas(&c);
		rule_replica_acks(&c);
		rule_settings(&c);
	}
	free(owner);
	free(c.listed_twice);
	free(c.ref_by_id);
	if (c.oom) {
		check_report_release(out);
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory while checking the cluster");
	}
	return 0;
}
