/* check_rules_keys.c: the rule of `slotctl check` about keys held where they
 * do not belong. src/io/cluster/check_probe.c gathers each master's DBSIZE and
 * CLUSTER COUNTKEYSINSLOT counts; this file says which slots to count and
 * judges the counts: a master may hold keys of the slots it owns (in the
 * reference view or its own) and of the slots open on it (a migration in
 * progress, which the open-slot rule reports); any other key is stray and is
 * an error that `slotctl fix` repairs. Pure: no I/O. */
#include "slotctl/core/check.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/strbuf.h"
#include "check_rules_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Findings whose slots are worth counting on every master. */
static const char *const suspicious_codes[] = {
	"open-slot", "uncovered-slots", "slot-claimed-twice", "views-disagree",
};

/* Adds the slots named by the problems that make a slot suspicious. */
static void add_suspicious(const struct check_report *r, struct slotset *out)
{
	for (size_t i = 0; i < r->count; i++) {
		const struct check_finding *f = &r->findings[i];

		if (f->severity == CHECK_OK)
			continue;
		for (size_t k = 0; k < sizeof(suspicious_codes) / sizeof(suspicious_codes[0]); k++)
			if (strcmp(f->code, suspicious_codes[k]) == 0)
				slotset_union(out, out, &f->slots);
	}
}

/* The reference view's line for node, when it is a master there. */
static const struct node *ref_master(const struct snapshot *s, size_t node)
{
	const struct topology *map = snapshot_map(s);
	const struct node *n;

	if (!map)
		return NULL;
	n = topology_find(map, s->nodes[node].id);
	return n && node_is_master(n) ? n : NULL;
}

/* The slots whose keys node may hold: owned in the reference view or its own
 * view, or open on it. */
static void rightful_slots(const struct snapshot *s, size_t node, struct slotset *out)
{
	const struct node *ref = ref_master(s, node);
	const struct node *self = rules_view_self(&s->nodes[node]);

	slotset_clear(out);
	if (ref)
		slotset_union(out, out, node_slots(ref));
	if (self && node_is_master(self))
		slotset_union(out, out, node_slots(self));
	for (size_t k = 0; self && k < self->open_count; k++)
		slotset_add(out, self->open[k].slot);
}

void check_keys_slots(const struct snapshot *s, const struct check_report *r, size_t node,
	enum check_keys mode, struct slotset *out)
{
	struct slotset mine;

	slotset_clear(out);
	if (mode == CHECK_KEYS_DEEP) {
		for (int slot = 0; slot < SC_SLOTS; slot++)
			slotset_add(out, slot);
		return;
	}
	add_suspicious(r, out);
	if (mode == CHECK_KEYS_SUSPICIOUS)
		return;
	rightful_slots(s, node, &mine);
	slotset_union(out, out, &mine);
}

long long check_keys_count_of(const struct check_keys_count *p, int slot)
{
	const long long *page = p->count_pages[slot / CHECK_COUNT_PAGE];

	return page ? page[slot % CHECK_COUNT_PAGE] : -1;
}

int check_keys_count_set(struct check_keys_count *p, int slot, long long keys)
{
	long long **page = &p->count_pages[slot / CHECK_COUNT_PAGE];

	if (!*page) {
		if (!(*page = malloc(CHECK_COUNT_PAGE * sizeof(**page))))
			return -1;
		for (int k = 0; k < CHECK_COUNT_PAGE; k++)
			(*page)[k] = -1;
	}
	(*page)[slot % CHECK_COUNT_PAGE] = keys;
	return 0;
}

void check_keys_count_release(struct check_keys_count *p)
{
	for (size_t k = 0; k < SC_SLOTS / CHECK_COUNT_PAGE; k++) {
		free(p->count_pages[k]);
		p->count_pages[k] = NULL;
	}
	slotmig_list_release(&p->migrations);
}

long long check_keys_unlocated(const struct snapshot *s, const struct check_keys_count *p,
	enum check_keys mode)
{
	struct slotset mine;
	long long counted = 0;
	bool every = true;

	if (!p->answered)
		return 0;
	for (int slot = 0; slot < SC_SLOTS; slot++) {
		if (check_keys_count_of(p, slot) < 0)
			every = false;
		else
			counted += check_keys_count_of(p, slot);
	}
	if (every || p->dbsize <= counted)
		return 0;
	if (mode == CHECK_KEYS_SUSPICIOUS) {
		/* the node's own slots were not counted: DBSIZE says something
		 * only for a node that may hold no key at all */
		rightful_slots(s, p->node, &mine);
		if (slotset_count(&mine) > 0)
			return 0;
	}
	return p->dbsize - counted;
}

void check_keys_stray(const struct snapshot *s, const struct check_keys_count *p, struct slotset *out)
{
	struct slotset mine;

	slotset_clear(out);
	if (!p->answered)
		return;
	rightful_slots(s, p->node, &mine);
	if (p->migrations_listed) {
		struct slotset staged;
		slotmig_list_importing(&p->migrations, &staged);
		slotset_union(&mine, &mine, &staged);
	}
	for (int slot = 0; slot < SC_SLOTS; slot++)
		if (check_keys_count_of(p, slot) > 0 && !slotset_has(&mine, slot))
			slotset_add(out, slot);
}

/* ": 'a', 'b' and 3 more" for the keys named in p (bytes that would not
 * print are written '?'), "" when none is. */
static void key_names(const struct check_keys_count *p, long long keys, char *buf, size_t size)
{
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
	for (size_t k = 0; k < p->named && sb.len + 4 < size; k++) {
		strbuf_addf(&sb, "%s'", k ? ", " : ": ");
		for (size_t b = 0; b < p->name_lens[k] && sb.len + 2 < size; b++) {
			unsigned char ch = (unsigned char)p->names[k][b];

			strbuf_addf(&sb, "%c", ch >= 0x20 && ch < 0x7f && ch != '\'' ? (char)ch : '?');
		}
		strbuf_addf(&sb, "'");
	}
	if (p->named && keys > (long long)p->named)
		strbuf_addf(&sb, " and %lld more", keys - (long long)p->named);
}

static int judge_stray(const struct snapshot *s, const struct check_keys_count *p, struct check_report *r,
	bool *found)
{
	const struct node_view *v = &s->nodes[p->node];
	struct slotset stray;
	struct check_finding *f;
	long long keys = 0;
	char name[NAME_MAX_LEN], slots[240], names[300];

	check_keys_stray(s, p, &stray);
	if (slotset_count(&stray) == 0)
		return 0;
	for (int slot = 0; slot < SC_SLOTS; slot++)
		if (slotset_has(&stray, slot))
			keys += check_keys_count_of(p, slot);
	*found = true;
	check_node_name(s, v->id, name, sizeof(name));
	slotset_format(&stray, slots, sizeof(slots));
	key_names(p, keys, names, sizeof(names));
	f = check_report_add(r, CHECK_ERR, "stray-keys",
		"%s holds %lld key%s in slot%s %s that it does not own%s (run 'slotctl fix' to move them to the owner)",
		name, keys, keys == 1 ? "" : "s", slotset_count(&stray) == 1 ? "" : "s", slots, names);
	if (!f || check_finding_add_node(f, v->id, v->addr) < 0)
		return -1;
	f->slots = stray;
	return 0;
}

/* A master that answered the snapshot but not the count. */
static int judge_failed(const struct snapshot *s, const struct check_keys_count *p, struct check_report *r)
{
	const struct node_view *v = &s->nodes[p->node];
	struct check_finding *f;
	char name[NAME_MAX_LEN];

	if (p->error.code == SC_EXIT_UNREACHABLE) {
		check_report_drop_ok(r, "node-unreachable");
		f = check_report_add(r, CHECK_ERR, "node-unreachable", "%s", p->error.msg);
	} else {
		check_node_name(s, v->id, name, sizeof(name));
		f = check_report_add(r, CHECK_WARN, "stray-keys", "could not count keys on %s: %s", name,
			p->error.msg);
	}
	if (!f || check_finding_add_node(f, v->id, v->addr) < 0)
		return -1;
	return 0;
}

/* True when every master serving slots in the reference view answered. */
static bool every_owner_answered(const struct snapshot *s, const struct check_keys_count *p, size_t n)
{
	const struct topology *map = snapshot_map(s);

	for (size_t i = 0; i < map->count; i++) {
		const struct node *m = &map->nodes[i];
		bool answered = false;

		if (!node_is_master(m) || slotset_count(node_slots(m)) == 0)
			continue;
		for (size_t k = 0; k < n && !answered; k++)
			answered = p[k].answered && strcmp(s->nodes[p[k].node].id, m->id) == 0;
		if (!answered)
			return false;
	}
	return true;
}

/* The ok finding when no master holds keys it should not, saying how far
 * the probe looked. */
static struct check_finding *report_none(struct check_report *r, const struct check_keys_count *p, size_t n,
	enum check_keys mode)
{
	struct slotset counted;

	if (mode == CHECK_KEYS_DEEP)
		return check_report_add(r, CHECK_OK, "stray-keys", "no master holds keys in a slot it does not "
			"own (all %d slots counted on every master)", SC_SLOTS);
	if (mode == CHECK_KEYS_STRAY)
		return check_report_add(r, CHECK_OK, "stray-keys", "no master holds keys in a slot it does not "
			"own (the DBSIZE of each of %zu masters matches the keys of its own and open slots)", n);
	slotset_clear(&counted);
	for (size_t i = 0; i < n; i++)
		for (int slot = 0; slot < SC_SLOTS; slot++)
			if (p[i].answered && check_keys_count_of(&p[i], slot) >= 0)
				slotset_add(&counted, slot);
	if (slotset_count(&counted))
		return check_report_add(r, CHECK_OK, "stray-keys", "no master holds keys of the %d suspicious "
			"slots that it does not own, nor keys without owning a slot", slotset_count(&counted));
	return check_report_add(r, CHECK_OK, "stray-keys", "no master holds keys without owning a slot");
}

int check_keys_judge(const struct snapshot *s, const struct check_keys_count *p, size_t n,
	enum check_keys mode, struct check_report *r, struct sc_error *err)
{
	long long total = 0;
	bool complete = true, found = false;
	int rc = 0;

	if (!snapshot_map(s))
		return 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!p[i].answered) {
			complete = false;
			found = true;
			rc = judge_failed(s, &p[i], r);
			continue;
		}
		total += p[i].dbsize;
		rc = judge_stray(s, &p[i], r, &found);
	}
	if (rc == 0 && !found && !report_none(r, p, n, mode))
		rc = -1;
	r->summary.keys = complete && every_owner_answered(s, p, n) ? total : -1;
	if (rc < 0)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory while judging key counts");
	return 0;
}
