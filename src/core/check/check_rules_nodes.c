/* check_rules_nodes.c: the rules of `slotctl check` about the nodes
 * themselves: configEpochs, failure flags, cluster_state, masters without a
 * replica, and the cluster settings (node timeout, full coverage, migration
 * barrier). The slot-map rules and the finding helpers are in check_rules.c.
 * Pure: no I/O. */
#include "slotctl/core/check.h"
#include "slotctl/core/addr.h"
#include "slotctl/core/exitcode.h"
#include "check_rules_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -- node health ----------------------------------------------------------- */

bool rules_node_usable(const struct node *n)
{
	return !(n->flags & (NODE_FAIL | NODE_NOADDR | NODE_HANDSHAKE));
}

/* Masters whose configEpoch decides slot ownership: usable ones with slots. */
static bool serves_slots(const struct node *n)
{
	return node_is_master(n) && rules_node_usable(n) && slotset_count(node_slots(n)) > 0;
}

/* A master's configEpoch as it says itself, or as the reference view says. */
static unsigned long long epoch_of(const struct rules *c, const struct node *n)
{
	for (size_t i = 0; i < c->s->count; i++) {
		const struct node *self = rules_view_self(&c->s->nodes[i]);

		if (self && strcmp(self->id, n->id) == 0)
			return self->config_epoch;
	}
	return n->config_epoch;
}

/* Each master of the reference view that takes part: serves slots and is
 * listed once; epochs[a] its configEpoch. Computed once, so comparing every
 * pair costs two loads instead of a slot count and a walk of every view
 * (cubic in the masters: at 500 fake masters most of check's time). NULL on
 * OOM. */
static bool *epoch_candidates(const struct rules *c, unsigned long long **epochs)
{
	bool *in = calloc(c->ref->count ? c->ref->count : 1, sizeof(*in));

	*epochs = calloc(c->ref->count ? c->ref->count : 1, sizeof(**epochs));
	if (!in || !*epochs) {
		free(in);
		free(*epochs);
		return NULL;
	}
	for (size_t a = 0; a < c->ref->count; a++) {
		const struct node *na = &c->ref->nodes[a];

		/* a node listed twice has no one epoch (node-listed-twice says so) */
		in[a] = serves_slots(na) && !(c->listed_twice && c->listed_twice[a]);
		if (in[a])
			(*epochs)[a] = epoch_of(c, na);
	}
	return in;
}

void rule_epochs(struct rules *c)
{
	size_t found = 0;
	unsigned long long *epochs;
	bool *in = epoch_candidates(c, &epochs);

	if (!in) {
		c->oom = true;
		return;
	}
	for (size_t a = 0; a < c->ref->count; a++) {
		const struct node *na = &c->ref->nodes[a];
		struct check_finding *f = NULL;
		bool first = true;
		char names[4 * NAME_MAX_LEN];

		if (!in[a])
			continue;
		for (size_t b = 0; b < c->ref->count; b++) {
			const struct node *nb = &c->ref->nodes[b];

			if (b == a || !in[b] || epochs[b] != epochs[a])
				continue;
			if (b < a)
				first = false; /* reported with the earlier master */
			if (!first)
				break;
			if (!f) {
				f = rules_add(c, CHECK_ERR, "epoch-collision");
				rules_add_node(c, f, na->id, na);
				found++;
			}
			rules_add_node(c, f, nb->id, nb);
		}
		if (f && first && !c->oom) {
			rules_list_names(f, 0, names, sizeof(names));
			rules_say(f, "masters %s share configEpoch %llu", names, epochs[a]);
		}
	}
	free(in);
	free(epochs);
	if (!found)
		rules_say(rules_add(c, CHECK_OK, "epoch-collision"), "every master serving slots has its own configEpoch");
}

struct flag_rule {
	unsigned flag;
	const char *code;
	enum check_severity sev;
	const char *what;
};

static const struct flag_rule flag_rules[] = {
	{ NODE_FAIL, "node-failed", CHECK_ERR, "flagged fail" },
	{ NODE_PFAIL, "node-suspected", CHECK_WARN, "flagged fail?" },
	{ NODE_NOADDR, "node-noaddr", CHECK_ERR, "flagged noaddr" },
	{ NODE_HANDSHAKE, "node-handshake", CHECK_WARN, "in handshake" },
	{ 0, "link-disconnected", CHECK_ERR, "disconnected from the cluster bus" },
};

static bool entry_matches(const struct node *n, const struct flag_rule *fr)
{
	if (n->flags & NODE_MYSELF)
		return false;
	if (fr->flag)
		return (n->flags & fr->flag) != 0;
	return !n->link_connected && rules_node_usable(n);
}

/* The entry for subject in view i, when it matches the rule there. */
static const struct node *flagged_in(const struct rules *c, size_t i, const char *id,
	const struct flag_rule *fr)
{
	const struct node_view *v = &c->s->nodes[i];
	const struct node *n;

	if (!v->reachable)
		return NULL;
	n = topology_find(&v->view, id);
	return n && entry_matches(n, fr) ? n : NULL;
}

static void flag_subject(struct rules *c, const struct flag_rule *fr, size_t first_view,
	const struct node *subject)
{
	const struct node *entry = rules_ref_find(c, subject->id);
	struct check_finding *f = rules_add(c, fr->sev, fr->code);
	char me[NAME_MAX_LEN], observers[4 * NAME_MAX_LEN], slots[200] = "";

	rules_add_node(c, f, subject->id, subject);
	for (size_t i = first_view; i < c->s->count; i++)
		if (flagged_in(c, i, subject->id, fr))
			rules_add_view(c, f, &c->s->nodes[i]);
	if (!f || c->oom)
		return;
	if (entry && node_is_master(entry) && slotset_count(node_slots(entry)) > 0) {
		f->slots = *node_slots(entry);
		slotset_format(node_slots(entry), slots, sizeof(slots));
	}
	rules_ref_name(&f->nodes[0], me, sizeof(me));
	rules_list_names(f, 1, observers, sizeof(observers));
	rules_say(f, "%s is %s in the view of %s%s%s", me, fr->what, observers,
		slots[0] ? "; it serves slots " : "", slots);
}

static size_t rule_flag(struct rules *c, const struct flag_rule *fr)
{
	size_t found = 0;

	for (size_t i = 0; i < c->s->count; i++) {
		const struct node_view *v = &c->s->nodes[i];

		for (size_t j = 0; v->reachable && j < v->view.count; j++) {
			const struct node *n = &v->view.nodes[j];
			bool seen = false;

			if (!entry_matches(n, fr))
				continue;
			for (size_t k = 0; k < i && !seen; k++)
				seen = flagged_in(c, k, n->id, fr) != NULL;
			if (seen)
				continue;
			found++;
			flag_subject(c, fr, i, n);
		}
	}
	return found;
}

void rule_flags(struct rules *c)
{
	size_t flagged = 0;

	for (size_t k = 0; k < sizeof(flag_rules) / sizeof(flag_rules[0]) - 1; k++)
		flagged += rule_flag(c, &flag_rules[k]);
	if (!flagged)
		rules_say(rules_add(c, CHECK_OK, "node-failed"), "no node is flagged fail, fail?, handshake or noaddr");
	if (!rule_flag(c, &flag_rules[sizeof(flag_rules) / sizeof(flag_rules[0]) - 1]))
		rules_say(rules_add(c, CHECK_OK, "link-disconnected"), "every cluster-bus link is connected");
}

/* One finding per cluster_state other than ok, naming the nodes that report it. */
void rule_cluster_state(struct rules *c)
{
	size_t bad = 0, known = 0;

	for (size_t i = 0; i < c->s->count; i++) {
		const struct node_view *v = &c->s->nodes[i];
		struct check_finding *f;
		char names[4 * NAME_MAX_LEN];
		bool seen = false;

		if (!v->reachable || !v->cluster_state[0])
			continue;
		known++;
		for (size_t k = 0; k < i && !seen; k++)
			seen = c->s->nodes[k].reachable && strcmp(c->s->nodes[k].cluster_state, v->cluster_state) == 0;
		if (strcmp(v->cluster_state, "ok") == 0 || seen)
			continue;
		bad++;
		f = rules_add(c, CHECK_ERR, "cluster-state-fail");
		for (size_t k = i; k < c->s->count; k++)
			if (c->s->nodes[k].reachable && strcmp(c->s->nodes[k].cluster_state, v->cluster_state) == 0)
				rules_add_view(c, f, &c->s->nodes[k]);
		if (!f || c->oom)
			return;
		rules_list_names(f, 0, names, sizeof(names));
		rules_say(f, "cluster_state is %s on %s", v->cluster_state, names);
	}
	if (!bad && known)
		rules_say(rules_add(c, CHECK_OK, "cluster-state-fail"), "cluster_state is ok on all %zu reachable nodes", known);
}

static size_t healthy_replicas(const struct topology *t, const char *master_id)
{
	size_t n = 0;

	for (size_t i = 0; i < t->count; i++)
		if ((t->nodes[i].flags & NODE_REPLICA) && rules_node_usable(&t->nodes[i]) &&
		    strcmp(t->nodes[i].master_id, master_id) == 0)
			n++;
	return n;
}

void rule_replicas(struct rules *c)
{
	size_t masters = 0, bare = 0;

	for (size_t i = 0; i < c->ref->count; i++) {
		const struct node *m = &c->ref->nodes[i];
		struct check_finding *f;
		char me[NAME_MAX_LEN], slots[200];

		if (!node_is_master(m) || !rules_node_usable(m) || slotset_count(node_slots(m)) == 0)
			continue;
		masters++;
		if (healthy_replicas(c->ref, m->id) > 0)
			continue;
		bare++;
		f = rules_add(c, CHECK_WARN, "no-replica");
		rules_add_node(c, f, m->id, m);
		if (!f || c->oom)
			return;
		f->slots = *node_slots(m);
		rules_ref_name(&f->nodes[0], me, sizeof(me));
		slotset_format(node_slots(m), slots, sizeof(slots));
		rules_say(f, "master %s serves slots %s without a healthy replica", me, slots);
	}
	if (masters && !bare)
		rules_say(rules_add(c, CHECK_OK, "no-replica"), "every master serving slots has a replica");
}

/* Every replica a reachable master lists online (INFO replication) that has
 * acknowledged nothing for CHECK_REPLICA_SILENT_S: a replica that is frozen,
 * stuck, or (Valkey 9.1.2 after an atomic job of many slot ranges) reading
 * a broken stream. */
void rule_replica_acks(struct rules *c)
{
	size_t listed = 0, silent = 0;

	for (size_t i = 0; i < c->s->count; i++) {
		const struct node_view *v = &c->s->nodes[i];

		if (!v->reachable)
			continue;
		for (int k = 0; k < v->replica_count; k++) {
			const struct info_replica *rep = &v->replicas[k];
			const struct node *entry;
			struct check_finding *f;
			char master[NAME_MAX_LEN], replica[NAME_MAX_LEN];

			listed++;
			if (strcmp(rep->state, "online") != 0 || rep->lag_s < CHECK_REPLICA_SILENT_S)
				continue;
			silent++;
			f = rules_add(c, CHECK_WARN, "replica-not-acknowledging");
			rules_add_view(c, f, v);
			entry = topology_find_addr(c->ref, rep->ip, rep->port);
			if (entry)
				rules_add_node(c, f, entry->id, entry);
			if (!f || c->oom)
				return;
			rules_ref_name(&f->nodes[0], master, sizeof(master));
			if (f->node_count > 1)
				rules_ref_name(&f->nodes[1], replica, sizeof(replica));
			else
				snprintf(replica, sizeof(replica), "'%s:%d'", rep->ip, rep->port);
			rules_say(f, "replica %s of master %s has acknowledged nothing for %lld s (offset %lld of "
				"%lld): it may be missing writes, a failover to it would lose them, and on Valkey 8+ "
				"every CLUSTER SETSLOT on the master waits up to 2 s for it", replica, master,
				rep->lag_s, rep->offset, v->repl_offset);
		}
	}
	if (listed && !silent)
		rules_say(rules_add(c, CHECK_OK, "replica-not-acknowledging"),
			"every replica acknowledged its master's stream within %d s", CHECK_REPLICA_SILENT_S);
}

/* -- settings -------------------------------------------------------------- */

struct setting_rule {
	const char *code;
	const char *name;            /* "cluster-node-timeout" */
	const char *unit;            /* " ms", or "" */
	long long (*get)(const struct node_view *v); /* -1 unknown */
	bool (*bad)(long long value, const struct rules *c);
	const char *advice;          /* why a bad value is warned about */
};

static long long get_timeout(const struct node_view *v) { return v->node_timeout_ms; }
static long long get_coverage(const struct node_view *v) { return v->require_full_coverage; }
static long long get_barrier(const struct node_view *v) { return v->migration_barrier; }

static bool bad_timeout(long long v, const struct rules *c)
{
	(void)c;
	return v < CHECK_NODE_TIMEOUT_MIN_MS || v > CHECK_NODE_TIMEOUT_MAX_MS;
}

static bool bad_coverage(long long v, const struct rules *c)
{
	return v == 1 && check_report_has(c->r, "no-replica", CHECK_WARN);
}

static bool bad_barrier(long long v, const struct rules *c)
{
	(void)c;
	return v < 1;
}

static const struct setting_rule setting_rules[] = {
	{ "setting-node-timeout", "cluster-node-timeout", " ms", get_timeout, bad_timeout,
	  "outside 5000-15000 ms failover is either trigger-happy or slow" },
	{ "setting-full-coverage", "cluster-require-full-coverage", "", get_coverage, bad_coverage,
	  "losing a master without a replica stops the whole cluster" },
	{ "setting-migration-barrier", "cluster-migration-barrier", "", get_barrier, bad_barrier,
	  "a replica may migrate away and leave its master without one" },
};

static void value_text(const struct setting_rule *sr, long long v, char *buf, size_t size)
{
	if (sr->get == get_coverage)
		snprintf(buf, size, "%s", v ? "yes" : "no");
	else
		snprintf(buf, size, "%lld%s", v, sr->unit);
}

/* Adds to f the reachable nodes whose setting equals v (or differs, when
 * `equal` is false); returns how many matched. */
static size_t add_with_value(struct rules *c, struct check_finding *f, const struct setting_rule *sr,
	long long v, bool equal)
{
	size_t n = 0;

	for (size_t i = 0; i < c->s->count; i++) {
		const struct node_view *nv = &c->s->nodes[i];
		long long mine = nv->reachable ? sr->get(nv) : -1;

		if (mine < 0 || (mine == v) != equal)
			continue;
		n++;
		rules_add_view(c, f, nv);
	}
	return n;
}

/* The distinct known values of a setting (at most max), most common first. */
static size_t setting_values(struct rules *c, const struct setting_rule *sr, long long *values,
	size_t *counts, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < c->s->count; i++) {
		long long v = c->s->nodes[i].reachable ? sr->get(&c->s->nodes[i]) : -1;
		size_t k;

		if (v < 0)
			continue;
		for (k = 0; k < n && values[k] != v; k++)
			;
		if (k == n && n == max)
			continue;
		if (k == n) {
			values[n] = v;
			counts[n++] = 0;
		}
		counts[k]++;
		while (k > 0 && counts[k] > counts[k - 1]) {
			long long tv = values[k - 1];
			size_t tc = counts[k - 1];

			values[k - 1] = values[k], counts[k - 1] = counts[k];
			values[k] = tv, counts[k] = tc;
			k--;
		}
	}
	return n;
}

static void rule_setting(struct rules *c, const struct setting_rule *sr)
{
	long long values[8];
	size_t counts[8], nvalues, warned = 0;
	char text[64], names[4 * NAME_MAX_LEN];

	nvalues = setting_values(c, sr, values, counts, sizeof(values) / sizeof(values[0]));
	if (!nvalues)
		return;
	for (size_t k = 0; k < nvalues; k++) {
		struct check_finding *f;

		if (!sr->bad(values[k], c))
			continue;
		warned++;
		f = rules_add(c, CHECK_WARN, sr->code);
		add_with_value(c, f, sr, values[k], true);
		if (!f || c->oom)
			return;
		value_text(sr, values[k], text, sizeof(text));
		rules_list_names(f, 0, names, sizeof(names));
		rules_say(f, "%s is %s on %s: %s", sr->name, text, names, sr->advice);
	}
	if (nvalues > 1) {
		struct check_finding *f = rules_add(c, CHECK_WARN, sr->code);

		warned++;
		add_with_value(c, f, sr, values[0], false);
		if (!f || c->oom)
			return;
		value_text(sr, values[0], text, sizeof(text));
		rules_list_names(f, 0, names, sizeof(names));
		rules_say(f, "nodes disagree about %s: %s on %zu nodes, another value on %s", sr->name, text,
			counts[0], names);
	}
	if (!warned) {
		value_text(sr, values[0], text, sizeof(text));
		rules_say(rules_add(c, CHECK_OK, sr->code), "%s is %s on every node", sr->name, text);
	}
}

void rule_settings(struct rules *c)
{
	for (size_t k = 0; k < sizeof(setting_rules) / sizeof(setting_rules[0]); k++)
		rule_setting(c, &setting_rules[k]);
}
