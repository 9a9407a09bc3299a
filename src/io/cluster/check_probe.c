/* check_probe.c: the I/O edge of `slotctl check`: one whole round from a
 * seed (check_gather), and the key probe. It asks every reachable master,
 * concurrently, for DBSIZE and CLUSTER COUNTKEYSINSLOT of the slots the key
 * rule (src/core/check/check_rules_keys.c) names, pipelined; when DBSIZE
 * has keys those slots do not, it counts the other slots (pipelined) to find
 * where they are; with --deep it names a few. The rule judges the counts.
 * Read-only. */
#include "slotctl/io/check_probe.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/parallel.h"
#include "slotctl/io/slotops.h"
#include "slotctl/io/atomic_ops.h"

#include <stdlib.h>
#include <string.h>

#define PROBE_THREADS 16

struct probe {
	const struct snapshot *s;
	const struct check_report *r;  /* the rules' findings: the suspicious slots */
	const struct conn_opts *opts;
	enum check_keys mode;
	struct check_keys_count *nodes;
	size_t count;
};

/* DBSIZE, then the COUNTKEYSINSLOT of slots (pipelined, as fix and --deep
 * count), then DBSIZE again; *dbsize is the larger of the two. No
 * transaction: a MULTI/EXEC of thousands of counts held each master for
 * milliseconds while its clients waited. Between the two DBSIZEs keys may
 * come and go; taking the larger errs towards counting the other slots too
 * (check_keys_unaccounted), never towards hiding a key held outside the
 * counted slots while writes or deletions run, and what is reported as stray
 * is always what those slot counts say, never the difference alone. */
static int count_slots_and_size(struct conn *c, const int *slots, size_t n, long long *dbsize, long long *out,
	struct sc_error *err)
{
	long long before, after;

	if (conn_take_integer(c, conn_command(c, err, "DBSIZE"), "DBSIZE", &before, err) != 0 ||
	    slotops_count_keys_many(c, slots, n, out, err) != 0 ||
	    conn_take_integer(c, conn_command(c, err, "DBSIZE"), "DBSIZE", &after, err) != 0)
		return -1;
	*dbsize = before > after ? before : after;
	return 0;
}

/* The slots of set (or, with outside, of its complement) into slots[]. */
static size_t slot_list(const struct slotset *set, bool outside, int *slots)
{
	size_t n = 0;

	for (int slot = 0; slot < SC_SLOTS; slot++)
		if (slotset_has(set, slot) != outside)
			slots[n++] = slot;
	return n;
}

/* Records the counts of slots[0..n) in pc. */
static int record_counts(struct check_keys_count *pc, const int *slots, const long long *counts, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (check_keys_count_set(pc, slots[k], counts[k]) < 0)
			return sc_error_set(&pc->error, SC_EXIT_PROBLEMS, "out of memory");
	return 0;
}

/* Counts the slots pc has not counted yet (pipelined, in chunks). */
static int count_rest(struct conn *c, struct check_keys_count *pc, int *slots, long long *scratch)
{
	struct slotset counted;
	size_t n;

	slotset_clear(&counted);
	for (int slot = 0; slot < SC_SLOTS; slot++)
		if (check_keys_count_of(pc, slot) >= 0)
			slotset_add(&counted, slot);
	n = slot_list(&counted, true, slots);
	if (slotops_count_keys_many(c, slots, n, scratch, &pc->error) < 0)
		return -1;
	return record_counts(pc, slots, scratch, n);
}

/* A few names of keys in pc's stray slots (CLUSTER GETKEYSINSLOT). */
static int name_keys(struct conn *c, const struct snapshot *s, struct check_keys_count *pc)
{
	struct slotset stray;

	check_keys_stray(s, pc, &stray);
	for (int slot = 0; slot < SC_SLOTS && pc->named < CHECK_NAMED_KEYS; slot++) {
		redisReply *r;

		if (!slotset_has(&stray, slot))
			continue;
		r = conn_command(c, &pc->error, "CLUSTER GETKEYSINSLOT %d %d", slot,
			(int)(CHECK_NAMED_KEYS - pc->named));
		if (conn_check_reply(c, r, "CLUSTER GETKEYSINSLOT", &pc->error) != 0) {
			if (r)
				freeReplyObject(r);
			return -1;
		}
		for (size_t k = 0; r->type == REDIS_REPLY_ARRAY && k < r->elements &&
		     pc->named < CHECK_NAMED_KEYS; k++) {
			const redisReply *e = r->element[k];
			size_t len = e->len < CHECK_KEY_NAME_MAX ? e->len : CHECK_KEY_NAME_MAX;

			if (e->type != REDIS_REPLY_STRING)
				continue;
			memcpy(pc->names[pc->named], e->str, len);
			pc->name_lens[pc->named++] = len;
		}
		freeReplyObject(r);
	}
	return 0;
}

/* The counts of one master: its slots to count and DBSIZE at once, then the
 * other slots when DBSIZE has more keys, then (deep) a few stray keys. */
static int probe_counts(struct conn *c, const struct probe *p, struct check_keys_count *pc)
{
	int *slots = malloc(SC_SLOTS * sizeof(*slots));
	long long *scratch = malloc(SC_SLOTS * sizeof(*scratch));
	struct slotset set;
	size_t n;
	int rc = -1;

	if (!slots || !scratch) {
		sc_error_set(&pc->error, SC_EXIT_PROBLEMS, "out of memory");
		goto out;
	}
	check_keys_slots(p->s, p->r, pc->node, p->mode, &set);
	n = slot_list(&set, false, slots);
	if (count_slots_and_size(c, slots, n, &pc->dbsize, scratch, &pc->error) < 0 ||
	    record_counts(pc, slots, scratch, n) < 0)
		goto out;
	pc->answered = true;
	if (check_keys_unlocated(p->s, pc, p->mode) > 0 && count_rest(c, pc, slots, scratch) < 0)
		goto out;
	rc = p->mode == CHECK_KEYS_DEEP ? name_keys(c, p->s, pc) : 0;
	/* the atomic migrations it lists: their staged keys are not stray */
	if (rc == 0)
		rc = atomic_list_if_any(c, p->s->nodes[pc->node].id, &pc->migrations, &pc->migrations_listed,
			&pc->error);
out:
	free(slots);
	free(scratch);
	return rc;
}

static void probe_one(void *ctx, size_t i)
{
	struct probe *p = ctx;
	struct check_keys_count *pc = &p->nodes[i];
	const struct node_view *v = &p->s->nodes[pc->node];
	struct conn *c;

	if (conn_open(v->host, v->port, p->opts, &c, &pc->error) < 0)
		return;
	if (probe_counts(c, p, pc) < 0)
		pc->answered = false;
	conn_close(c);
}

int check_probe(const struct snapshot *s, const struct conn_opts *opts, enum check_keys mode,
	struct check_report *r, struct sc_error *err)
{
	struct probe p = { .s = s, .r = r, .opts = opts, .mode = mode };
	int rc = -1;

	if (s->reference < 0)
		return 0;
	p.nodes = calloc(s->count ? s->count : 1, sizeof(*p.nodes));
	if (!p.nodes)
		goto oom;
	for (size_t i = 0; i < s->count; i++) {
		const struct node_view *v = &s->nodes[i];
		const struct node *self = v->reachable && v->view.myself >= 0 ? &v->view.nodes[v->view.myself] : NULL;
		struct check_keys_count *pc = &p.nodes[p.count];

		if (!self || !node_is_master(self))
			continue;
		pc->node = i;
		p.count++;
	}
	parallel_for(p.count, PROBE_THREADS, probe_one, &p);
	rc = check_keys_judge(s, p.nodes, p.count, mode, r, err);
	if (rc == 0)
		rc = check_atomic_judge(s, p.nodes, p.count, r, err);
	goto out;
oom:
	sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory while probing the cluster");
out:
	for (size_t i = 0; i < p.count; i++)
		check_keys_count_release(&p.nodes[i]);
	free(p.nodes);
	return rc;
}

int check_gather(const char *host, int port, const struct conn_opts *opts, enum check_keys mode,
	struct check_report *out, struct sc_error *err)
{
	struct snapshot snap;
	struct check_report r;
	int rc;

	if (snapshot_gather(host, port, opts, &snap, err) < 0)
		return -1;
	rc = check_evaluate(&snap, &r, err);
	if (rc == 0 && check_probe(&snap, opts, mode, &r, err) < 0) {
		check_report_release(&r);
		rc = -1;
	}
	snapshot_release(&snap);
	if (rc == 0)
		*out = r;
	return rc;
}
