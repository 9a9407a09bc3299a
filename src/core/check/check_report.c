/* check_report.c: the container that `check` rules and probes fill: the
 * table of stable finding codes, appending findings, and the exit-code rule
 * over a report. Pure. */
#include "slotctl/core/check.h"
#include "slotctl/core/addr.h"
#include "slotctl/core/exitcode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct check_code_info codes[] = {
	{ "node-unreachable", false, "a node did not answer within --timeout (names the error)" },
	{ "node-loading", true, "a node that answers LOADING: still loading its dataset (a replica resyncing, a restart); an error when it serves slots" },
	{ "uncovered-slots", false, "slots that no master claims in the reference view" },
	{ "slot-claimed-twice", true, "slots that two masters claim" },
	{ "open-slot", true, "slots left migrating or importing, on which node, to or from which peer" },
	{ "views-disagree", true, "a node whose slot map differs from the reference view, and about which slots" },
	{ "roles-disagree", true, "a node whose view differs from the reference about which nodes are masters or replicas of which master" },
	{ "epoch-collision", true, "masters serving slots that share one configEpoch" },
	{ "node-failed", false, "a node flagged fail, and by which nodes" },
	{ "node-suspected", false, "a node flagged fail? (pfail), and by which nodes" },
	{ "node-handshake", false, "a node still in handshake in some view" },
	{ "node-noaddr", false, "a node with no known address in some view" },
	{ "link-disconnected", false, "a node whose cluster-bus link is disconnected in some views" },
	{ "cluster-state-fail", true, "a node that reports cluster_state other than ok" },
	{ "no-replica", false, "a master serving slots without a healthy replica" },
	{ "replica-not-acknowledging", false, "a replica its master lists online that has acknowledged nothing for 10 s or more: it may be missing writes (a failover to it would lose them), and on Valkey 8+ every CLUSTER SETSLOT on that master waits up to 2 s for it" },
	{ "setting-node-timeout", false, "cluster-node-timeout outside 5000-15000 ms, or not the same on every node" },
	{ "setting-full-coverage", false, "cluster-require-full-coverage yes while a master has no replica, or not the same on every node" },
	{ "setting-migration-barrier", false, "cluster-migration-barrier below 1, or not the same on every node" },
	{ "stray-keys", false, "keys held in a slot by a master that does not own it" },
	{ "atomic-migration", true, "an atomic slot migration (Valkey 9 CLUSTER MIGRATESLOTS) in flight: its job, slots, source, target and state" },
	{ "atomic-migration-failed", false, "the newest atomic slot migration of some slots failed or was cancelled: ownership did not move (an error when the server says writes may be lost); the server's reason" },
	{ "node-listed-twice", false, "a node id listed on two lines of a view, which no real cluster does" },
	{ "address-listed-twice", false, "two node ids at one address in a view (neither flagged fail, noaddr or handshake)" },
	{ "myself-not-one", false, "a view with no myself line, or with two" },
};

const struct check_code_info *check_codes(size_t *count)
{
	*count = sizeof(codes) / sizeof(codes[0]);
	return codes;
}

const struct check_code_info *check_code_lookup(const char *code)
{
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(codes[i].code, code) == 0)
			return &codes[i];
	return NULL;
}

const char *check_severity_name(enum check_severity s)
{
	switch (s) {
	case CHECK_OK: return "ok";
	case CHECK_WARN: return "warn";
	case CHECK_ERR: return "err";
	}
	return "?";
}

struct check_finding *check_report_add(struct check_report *r, enum check_severity sev,
	const char *code, const char *fmt, ...)
{
	struct check_finding *f;
	va_list ap;

	if (r->count == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct check_finding *grown = realloc(r->findings, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		r->findings = grown;
		r->cap = cap;
	}
	f = &r->findings[r->count++];
	memset(f, 0, sizeof(*f));
	f->severity = sev;
	f->code = code;
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
	return f;
}

int check_finding_add_node(struct check_finding *f, const char *id, const char *addr)
{
	struct check_node_ref *grown = realloc(f->nodes, (f->node_count + 1) * sizeof(*grown));
	struct check_node_ref *ref;

	if (!grown)
		return -1;
	f->nodes = grown;
	ref = &f->nodes[f->node_count++];
	snprintf(ref->id, sizeof(ref->id), "%s", id ? id : "");
	snprintf(ref->addr, sizeof(ref->addr), "%s", addr ? addr : "");
	return 0;
}

void check_report_drop_ok(struct check_report *r, const char *code)
{
	size_t kept = 0;

	for (size_t i = 0; i < r->count; i++) {
		struct check_finding *f = &r->findings[i];

		if (f->severity == CHECK_OK && strcmp(f->code, code) == 0) {
			free(f->nodes);
			continue;
		}
		r->findings[kept++] = *f;
	}
	r->count = kept;
}

size_t check_report_count(const struct check_report *r, enum check_severity sev)
{
	size_t n = 0;

	for (size_t i = 0; i < r->count; i++)
		if (r->findings[i].severity == sev)
			n++;
	return n;
}

bool check_report_has(const struct check_report *r, const char *code, enum check_severity sev)
{
	for (size_t i = 0; i < r->count; i++)
		if (r->findings[i].severity == sev && strcmp(r->findings[i].code, code) == 0)
			return true;
	return false;
}

bool check_report_settled(const struct check_report *r)
{
	for (size_t i = 0; i < r->count; i++) {
		const struct check_finding *f = &r->findings[i];
		const struct check_code_info *info = check_code_lookup(f->code);

		if (f->severity != CHECK_OK && info && info->transient)
			return false;
	}
	return true;
}

int check_exit_code(const struct check_report *r, bool strict)
{
	if (check_report_has(r, "node-unreachable", CHECK_ERR))
		return SC_EXIT_UNREACHABLE;
	if (check_report_count(r, CHECK_ERR) > 0)
		return SC_EXIT_PROBLEMS;
	if (strict && check_report_count(r, CHECK_WARN) > 0)
		return SC_EXIT_PROBLEMS;
	return SC_EXIT_OK;
}

void check_report_release(struct check_report *r)
{
	for (size_t i = 0; i < r->count; i++)
		free(r->findings[i].nodes);
	free(r->findings);
	memset(r, 0, sizeof(*r));
}

void check_node_ref_fill(const struct snapshot *s, const char *id, struct check_node_ref *ref)
{
	const struct topology *map = snapshot_map(s);
	const struct node *n = map ? topology_find(map, id) : NULL;
	const struct node_view *v = snapshot_find(s, id);

	snprintf(ref->id, sizeof(ref->id), "%s", id);
	ref->addr[0] = '\0';
	if (v)
		snprintf(ref->addr, sizeof(ref->addr), "%s", v->addr);
	else if (n && n->ip[0])
		addr_format(ref->addr, sizeof(ref->addr), n->ip, n->port);
}

void check_node_name(const struct snapshot *s, const char *id, char *buf, size_t size)
{
	struct check_node_ref ref;

	check_node_ref_fill(s, id, &ref);
	snprintf(buf, size, "'%s' (%.8s)", ref.addr[0] ? ref.addr : "noaddr", id);
}
