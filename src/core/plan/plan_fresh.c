/* plan_fresh.c: tying a plan to the topology it was made from. The
 * fingerprint hashes the masters (ids, addresses, configEpochs) and the
 * slot->owner map; plan_check_fresh says in words what changed when a live
 * cluster no longer matches, so that a stale plan is never applied. Pure. */
#include "slotctl/core/plan.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/strbuf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL
#define SHORT_ID 8    /* id prefix length used in messages */
#define MAX_CHANGES 6 /* changes spelled out before "and N more" */

bool plan_node_eligible(const struct node *n)
{
	return node_is_master(n) && !(n->flags & (NODE_HANDSHAKE | NODE_NOADDR)) && n->ip[0];
}

static int plan_node_cmp(const void *a, const void *b)
{
	return strcmp(((const struct plan_node *)a)->id, ((const struct plan_node *)b)->id);
}

static int id_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* bsearch: an id against a plan node. */
static int id_key_cmp(const void *key, const void *node)
{
	return strcmp(key, ((const struct plan_node *)node)->id);
}

/* The replicas of each of the n masters of nodes (sorted by id) into its
 * replicas, in map order up to PLAN_MAX_REPLICAS, then sorted by id. One
 * pass over the map: walking it once per master was quadratic in the nodes
 * (at 10,000 masters most of a 40 s rebalance plan, each walk reading
 * every node's 2 KB slot bitmap's cache lines). */
static void fill_replicas(const struct topology *map, struct plan_node *nodes, size_t n)
{
	for (size_t i = 0; i < map->count; i++) {
		const struct node *r = &map->nodes[i];
		struct plan_node *m;

		if (!(r->flags & NODE_REPLICA) || (r->flags & NODE_HANDSHAKE) ||
		    !(m = bsearch(r->master_id, nodes, n, sizeof(*nodes), id_key_cmp)) ||
		    m->replica_count >= PLAN_MAX_REPLICAS)
			continue;
		memcpy(m->replicas[m->replica_count++], r->id, sizeof(m->replicas[0]));
	}
	for (size_t k = 0; k < n; k++)
		qsort(nodes[k].replicas, (size_t)nodes[k].replica_count, sizeof(nodes[k].replicas[0]), id_cmp);
}

int plan_nodes_from_map(const struct topology *map, struct plan_node **out, size_t *count,
	struct sc_error *err)
{
	struct plan_node *nodes = calloc(map->count ? map->count : 1, sizeof(*nodes));
	size_t n = 0;

	if (!nodes)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory listing the masters");
	for (size_t i = 0; i < map->count; i++) {
		const struct node *src = &map->nodes[i];
		struct plan_node *dst = &nodes[n];

		if (!plan_node_eligible(src))
			continue;
		memcpy(dst->id, src->id, sizeof(dst->id));
		snprintf(dst->host, sizeof(dst->host), "%s", src->ip);
		dst->port = src->port;
		dst->config_epoch = src->config_epoch;
		dst->slots = *node_slots(src);
		dst->slots_after = slotset_count(node_slots(src));
		dst->used_memory = -1;
		dst->maxmemory = -1;
		dst->weight = 1.0;
		n++;
	}
	qsort(nodes, n, sizeof(*nodes), plan_node_cmp);
	fill_replicas(map, nodes, n);
	*out = nodes;
	*count = n;
	return 0;
}

static uint64_t fnv_bytes(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h;
}

void plan_fingerprint_nodes(const struct plan_node *nodes, size_t count, char out[17])
{
	uint64_t h = FNV_OFFSET;

	for (size_t i = 0; i < count; i++) {
		const struct plan_node *n = &nodes[i];
		char head[400];
		int len;

		if (slotset_count(&n->slots) == 0)
			continue; /* masters without slots come and go (roles settle late) */
		len = snprintf(head, sizeof(head), "%s %s %d %llu\n", n->id, n->host, n->port,
			n->config_epoch);

		h = fnv_bytes(h, head, (size_t)len < sizeof(head) ? (size_t)len : sizeof(head) - 1);
		for (size_t w = 0; w < SC_SLOTS / 64; w++) {
			unsigned char bytes[8];

			for (int b = 0; b < 8; b++) /* little-endian, whatever the host */
				bytes[b] = (unsigned char)(n->slots.bits[w] >> (8 * b));
			h = fnv_bytes(h, bytes, sizeof(bytes));
		}
	}
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

void plan_fingerprint(const struct topology *map, char out[17])
{
	struct plan_node *nodes;
	size_t count;

	if (plan_nodes_from_map(map, &nodes, &count, NULL) < 0) {
		snprintf(out, 17, "%016x", 0); /* OOM: matches no real fingerprint */
		return;
	}
	plan_fingerprint_nodes(nodes, count, out);
	free(nodes);
}

/* ---- describing what changed ---- */

struct changes {
	char text[SC_ERROR_MSG_MAX - 80];
	struct strbuf sb;          /* on text, started by changes_init */
	int count;
};

static void change_add(struct changes *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void change_add(struct changes *c, const char *fmt, ...)
{
	va_list ap;

	if (c->count++ >= MAX_CHANGES || c->sb.truncated)
		return;
	if (c->sb.len)
		strbuf_addf(&c->sb, "; ");
	va_start(ap, fmt);
	strbuf_vaddf(&c->sb, fmt, ap);
	va_end(ap);
}

static const struct plan_node *find_sorted(const struct plan_node *nodes, size_t count,
	const char *id)
{
	struct plan_node key;

	snprintf(key.id, sizeof(key.id), "%s", id);
	return count ? bsearch(&key, nodes, count, sizeof(*nodes), plan_node_cmp) : NULL;
}

/* True when node id receives a slot in p. */
static bool is_target(const struct plan *p, const char *id)
{
	for (size_t b = 0; b < p->batch_count; b++)
		for (size_t i = 0; i < p->batches[b].count; i++)
			if (strcmp(p->batches[b].moves[i].to, id) == 0)
				return true;
	return false;
}

/* Masters with slots must be the same (address, epoch); a master without
 * slots matters only when it receives slots in the plan. */
static void diff_nodes(const struct plan *p, const struct plan_node *now, size_t now_count,
	struct changes *c)
{
	for (size_t i = 0; i < p->node_count; i++) {
		const struct plan_node *o = &p->nodes[i];
		const struct plan_node *n = find_sorted(now, now_count, o->id);
		bool owned = slotset_count(&o->slots) > 0;

		if (!owned && !is_target(p, o->id))
			continue;
		if (!n) {
			change_add(c, "master '%.*s' (%s:%d) is gone", SHORT_ID, o->id, o->host, o->port);
			continue;
		}
		if (strcmp(o->host, n->host) != 0 || o->port != n->port)
			change_add(c, "master '%.*s' moved from %s:%d to %s:%d", SHORT_ID, o->id,
				o->host, o->port, n->host, n->port);
		if (owned && o->config_epoch != n->config_epoch)
			change_add(c, "configEpoch of '%.*s' is %llu (plan: %llu)", SHORT_ID, o->id,
				n->config_epoch, o->config_epoch);
	}
	for (size_t i = 0; i < now_count; i++)
		if (slotset_count(&now[i].slots) > 0 && !find_sorted(p->nodes, p->node_count, now[i].id))
			change_add(c, "new master '%.*s' (%s:%d)", SHORT_ID, now[i].id,
				now[i].host, now[i].port);
}

static void owners(const struct plan_node *nodes, size_t count, const char *owner[SC_SLOTS])
{
	for (int s = 0; s < SC_SLOTS; s++)
		owner[s] = NULL;
	for (size_t i = 0; i < count; i++)
		for (int s = 0; s < SC_SLOTS; s++)
			if (slotset_has(&nodes[i].slots, s))
				owner[s] = nodes[i].id;
}

static bool same_id(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void diff_owners(const struct plan_node *old, size_t old_count,
	const struct plan_node *now, size_t now_count, struct changes *c)
{
	const char **was = malloc(SC_SLOTS * sizeof(*was));
	const char **is = malloc(SC_SLOTS * sizeof(*is));

	if (!was || !is) {
		change_add(c, "out of memory comparing slot owners");
		goto out;
	}
	owners(old, old_count, was);
	owners(now, now_count, is);
	for (int s = 0; s < SC_SLOTS; s++) {
		int last = s;
		char range[sizeof("slots 16383-16383")];

		if (same_id(was[s], is[s]))
			continue;
		while (last + 1 < SC_SLOTS && !same_id(was[last + 1], is[last + 1]) &&
		       same_id(was[last + 1], was[s]) && same_id(is[last + 1], is[s]))
			last++;
		if (last == s)
			snprintf(range, sizeof(range), "slot %d", s);
		else
			snprintf(range, sizeof(range), "slots %d-%d", s, last);
		change_add(c, "%s owned by '%.*s' (plan: '%.*s')", range,
			SHORT_ID, is[s] ? is[s] : "none", SHORT_ID, was[s] ? was[s] : "none");
		s = last;
	}
out:
	free(was);
	free(is);
}

int plan_check_fresh(const struct plan *p, const struct topology *live, struct sc_error *err)
{
	struct plan_node *now;
	size_t now_count;
	struct changes c;
	char fp[17];

	if (plan_nodes_from_map(live, &now, &now_count, err) < 0)
		return -1;
	memset(&c, 0, sizeof(c));
	strbuf_init(&c.sb, c.text, sizeof(c.text));
	diff_nodes(p, now, now_count, &c);
	diff_owners(p->nodes, p->node_count, now, now_count, &c);
	plan_fingerprint_nodes(now, now_count, fp);
	free(now);
	if (c.count == 0 && strcmp(fp, p->fingerprint) == 0)
		return 0;
	if (c.count == 0)
		return sc_error_set(err, SC_EXIT_STALE_PLAN,
			"plan fingerprint '%s' does not match the cluster's '%s' (was the plan edited?); "
			"make a new plan", p->fingerprint, fp);
	if (c.count > MAX_CHANGES)
		return sc_error_set(err, SC_EXIT_STALE_PLAN,
			"plan is stale, the cluster changed since it was made: %s; and %d more changes; "
			"make a new plan", c.text, c.count - MAX_CHANGES);
	return sc_error_set(err, SC_EXIT_STALE_PLAN,
		"plan is stale, the cluster changed since it was made: %s; make a new plan", c.text);
}
