/* check_probe.c: the I/O edge of `slotctl check`: one whole round from a
 * seed (check_gather), and the probes. For slots the rules found
 * suspicious (open, uncovered, claimed twice, disagreed about), or for every
 * slot when deep, asks every reachable master how many keys it holds there
 * (CLUSTER COUNTKEYSINSLOT, pipelined), so that keys held by a node that does
 * not own their slot are named; DBSIZE gives the key total. Read-only. */
#include "slotctl/check_probe.h"
#include "slotctl/exitcode.h"
#include "slotctl/parallel.h"
#include "slotctl/slotops.h"

#include <stdlib.h>
#include <string.h>

#define PROBE_THREADS 16

static const char *const suspicious_codes[] = {
	"open-slot", "uncovered-slots", "slot-claimed-twice", "views-disagree",
};

struct probe_node {
	const struct node_view *v;
	const struct node *self;     /* its own line in its view */
	long long dbsize;
	long long *counts;           /* per probed slot */
	struct sc_error err;
	bool failed;
};

struct probe {
	const struct conn_opts *opts;
	const int *slots;
	size_t nslots;
	struct probe_node *nodes;
	size_t count;
};

/* DBSIZE, then the probed slots, pipelined. */
static int probe_counts(struct conn *c, const struct probe *p, struct probe_node *pn)
{
	if (conn_take_integer(c, conn_command(c, &pn->err, "DBSIZE"), "DBSIZE", &pn->dbsize, &pn->err) < 0)
		return -1;
	return slotops_count_keys_many(c, p->slots, p->nslots, pn->counts, &pn->err);
}

static void probe_one(void *ctx, size_t i)
{
	struct probe *p = ctx;
	struct probe_node *pn = &p->nodes[i];
	struct conn *c;

	if (conn_open(pn->v->host, pn->v->port, p->opts, &c, &pn->err) < 0) {
		pn->failed = true;
		return;
	}
	if (probe_counts(c, p, pn) < 0)
		pn->failed = true;
	conn_close(c);
}

static bool is_open_on(const struct node *self, int slot)
{
	for (size_t k = 0; k < self->open_count; k++)
		if (self->open[k].slot == slot)
			return true;
	return false;
}

/* One finding for the slots of pn, all open on it (warning) or not (error). */
static int report_stray(const struct snapshot *s, struct check_report *r, const struct probe_node *pn,
	const struct slotset *slots, long long keys, bool open)
{
	struct check_finding *f;
	char name[340], text[300];

	if (slotset_count(slots) == 0)
		return 0;
	check_node_name(s, pn->self->id, name, sizeof(name));
	slotset_format(slots, text, sizeof(text));
	f = check_report_add(r, open ? CHECK_WARN : CHECK_ERR, "stray-keys",
		"%s holds %lld key%s in slot%s %s that it does not own%s", name, keys, keys == 1 ? "" : "s",
		slotset_count(slots) == 1 ? "" : "s", text,
		open ? " (the slots are open on it: a migration is in progress)" :
		" (run 'slotctl fix' to move them to the owner)");
	if (!f || check_finding_add_node(f, pn->v->id, pn->v->addr) < 0)
		return -1;
	f->slots = *slots;
	return 0;
}

static int report_failed(const struct snapshot *s, struct check_report *r, const struct probe_node *pn)
{
	bool unreachable = pn->err.code == SC_EXIT_UNREACHABLE;
	struct check_finding *f;
	char name[340];

	check_node_name(s, pn->self->id, name, sizeof(name));
	if (unreachable)
		check_report_drop_ok(r, "node-unreachable");
	f = check_report_add(r, unreachable ? CHECK_ERR : CHECK_WARN,
		unreachable ? "node-unreachable" : "stray-keys", "%s%s%s",
		unreachable ? "" : "could not count keys on ", unreachable ? "" : name, pn->err.msg);
	if (!f || check_finding_add_node(f, pn->v->id, pn->v->addr) < 0)
		return -1;
	return 0;
}

/* True when every master that serves slots in map answered the probe. */
static bool all_owners_probed(const struct topology *map, const struct probe *p)
{
	for (size_t i = 0; i < map->count; i++) {
		const struct node *m = &map->nodes[i];
		bool probed = false;

		if (!node_is_master(m) || slotset_count(&m->slots) == 0)
			continue;
		for (size_t k = 0; k < p->count && !probed; k++)
			probed = !p->nodes[k].failed && strcmp(p->nodes[k].self->id, m->id) == 0;
		if (!probed)
			return false;
	}
	return true;
}

/* Keys on a master that owns no slot at all, beyond those already named. */
static int report_slotless(const struct snapshot *s, const struct topology *map, struct check_report *r,
	const struct probe_node *pn, long long named)
{
	const struct node *entry = topology_find(map, pn->self->id);
	struct check_finding *f;
	char name[340];

	if (pn->dbsize <= named || (entry && slotset_count(&entry->slots) > 0) ||
	    slotset_count(&pn->self->slots) > 0)
		return 0;
	check_node_name(s, pn->self->id, name, sizeof(name));
	f = check_report_add(r, CHECK_ERR, "stray-keys",
		"%s holds %lld key%s but owns no slot (run 'slotctl fix' to move them to their owners)",
		name, pn->dbsize - named, pn->dbsize - named == 1 ? "" : "s");
	if (!f || check_finding_add_node(f, pn->v->id, pn->v->addr) < 0)
		return -1;
	return 0;
}

/* The ok finding when no master holds keys it should not, saying how far
 * the probe looked. */
static struct check_finding *report_no_stray(struct check_report *r, const struct probe *p)
{
	if (p->nslots == SC_SLOTS)
		return check_report_add(r, CHECK_OK, "stray-keys", "no master holds keys in a slot it does not "
			"own (all %d slots counted on every master)", SC_SLOTS);
	if (p->nslots)
		return check_report_add(r, CHECK_OK, "stray-keys", "no master holds keys of the %zu suspicious "
			"slots that it does not own, nor keys without owning a slot", p->nslots);
	return check_report_add(r, CHECK_OK, "stray-keys", "no master holds keys without owning a slot");
}

/* Turns the counts into findings and the key total. */
static int probe_report(const struct snapshot *s, const struct probe *p, struct check_report *r)
{
	const struct topology *map = &s->nodes[s->reference].view;
	int *owner = calloc(SC_SLOTS, sizeof(*owner));
	long long total = 0;
	bool complete = true, stray = false;
	int rc = 0;

	if (!owner)
		return -1;
	topology_owner_map(map, owner);
	for (size_t i = 0; i < p->count && rc == 0; i++) {
		const struct probe_node *pn = &p->nodes[i];
		struct slotset open, closed;
		long long open_keys = 0, closed_keys = 0;
		size_t before = r->count;

		if (pn->failed) {
			complete = false;
			rc = report_failed(s, r, pn);
			continue;
		}
		total += pn->dbsize;
		slotset_clear(&open);
		slotset_clear(&closed);
		for (size_t k = 0; k < p->nslots; k++) {
			int slot = p->slots[k];

			if (pn->counts[k] == 0 || (owner[slot] >= 0 && strcmp(map->nodes[owner[slot]].id, pn->self->id) == 0))
				continue;
			if (is_open_on(pn->self, slot)) {
				slotset_add(&open, slot);
				open_keys += pn->counts[k];
			} else {
				slotset_add(&closed, slot);
				closed_keys += pn->counts[k];
			}
		}
		if (report_stray(s, r, pn, &closed, closed_keys, false) < 0 ||
		    report_stray(s, r, pn, &open, open_keys, true) < 0 ||
		    report_slotless(s, map, r, pn, open_keys + closed_keys) < 0)
			rc = -1;
		stray = stray || r->count > before;
	}
	if (rc == 0 && !stray && !report_no_stray(r, p))
		rc = -1;
	r->summary.keys = complete && all_owners_probed(map, p) ? total : -1;
	free(owner);
	return rc;
}

/* The slots named by findings that make a slot suspicious. */
static size_t suspicious_slots(const struct check_report *r, int *slots)
{
	struct slotset all;
	size_t n = 0;

	slotset_clear(&all);
	for (size_t i = 0; i < r->count; i++) {
		const struct check_finding *f = &r->findings[i];

		if (f->severity == CHECK_OK)
			continue;
		for (size_t k = 0; k < sizeof(suspicious_codes) / sizeof(suspicious_codes[0]); k++)
			if (strcmp(f->code, suspicious_codes[k]) == 0)
				for (size_t w = 0; w < SC_SLOTS / 64; w++)
					all.bits[w] |= f->slots.bits[w];
	}
	for (int slot = 0; slot < SC_SLOTS; slot++)
		if (slotset_has(&all, slot))
			slots[n++] = slot;
	return n;
}

int check_probe(const struct snapshot *s, const struct conn_opts *opts, bool deep, struct check_report *r,
	struct sc_error *err)
{
	struct probe p = { .opts = opts };
	int *slots = NULL;
	int rc = -1;

	if (s->reference < 0)
		return 0;
	slots = calloc(SC_SLOTS, sizeof(*slots));
	p.nodes = calloc(s->count ? s->count : 1, sizeof(*p.nodes));
	if (!slots || !p.nodes)
		goto out;
	p.slots = slots;
	if (deep)
		for (int slot = 0; slot < SC_SLOTS; slot++)
			slots[p.nslots++] = slot;
	else
		p.nslots = suspicious_slots(r, slots);
	for (size_t i = 0; i < s->count; i++) {
		const struct node_view *v = &s->nodes[i];
		const struct node *self = v->reachable && v->view.myself >= 0 ? &v->view.nodes[v->view.myself] : NULL;
		struct probe_node *pn = &p.nodes[p.count];

		if (!self || !node_is_master(self))
			continue;
		pn->v = v;
		pn->self = self;
		pn->counts = calloc(p.nslots ? p.nslots : 1, sizeof(*pn->counts));
		p.count++;
		if (!pn->counts)
			goto out;
	}
	parallel_for(p.count, PROBE_THREADS, probe_one, &p);
	rc = probe_report(s, &p, r);
out:
	for (size_t i = 0; i < p.count; i++)
		free(p.nodes[i].counts);
	free(p.nodes);
	free(slots);
	if (rc < 0)
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory while probing the cluster");
	return rc;
}

int check_gather(const char *host, int port, const struct conn_opts *opts, bool deep,
	struct check_report *out, struct sc_error *err)
{
	struct snapshot snap;
	struct check_report r;
	int rc;

	if (snapshot_gather(host, port, opts, &snap, err) < 0)
		return -1;
	rc = check_evaluate(&snap, &r, err);
	if (rc == 0 && check_probe(&snap, opts, deep, &r, err) < 0) {
		check_report_release(&r);
		rc = -1;
	}
	snapshot_release(&snap);
	if (rc == 0)
		*out = r;
	return rc;
}
