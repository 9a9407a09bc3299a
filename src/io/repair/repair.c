/* repair.c: the I/O half of `slotctl fix`. Gathers what the rules need (the
 * snapshot, every master's key count per slot, its used memory), checks each
 * planned key move for keys that exist on both nodes, and runs the planned
 * steps with the shared slot-migration steps (slotops), concurrently for
 * slots on disjoint nodes. The decisions live in src/core/repair/repair_rules.c. */
#include "slotctl/io/repair.h"
#include "slotctl/io/clock.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/handover.h"
#include "slotctl/core/info_text.h"
#include "slotctl/core/keyslot.h"
#include "slotctl/io/parallel.h"
#include "slotctl/io/pool.h"
#include "slotctl/io/sched.h"
#include "slotctl/io/slotops.h"
#include "slotctl/core/strbuf.h"
#include "slotctl/io/atomic_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPAIR_DEFAULT_THREADS 8
#define REPAIR_NAMED_KEYS 5
#define REPAIR_BATCH_KEYS 256
#define REPAIR_BATCH_BYTES (4LL << 20)
#define REPAIR_MIGRATE_TIMEOUT_MS 5000

int repair_prefer_parse(const char *text, enum repair_prefer *out, struct sc_error *err)
{
	static const char *const names[] = { "owner", "source", "target" };

	for (int i = 0; i < 3; i++) {
		if (strcmp(text, names[i]) == 0) {
			*out = (enum repair_prefer)(REPAIR_PREFER_OWNER + i);
			return 0;
		}
	}
	return sc_error_set(err, SC_EXIT_USAGE, "--prefer: '%s' is not one of owner, source, target", text);
}

static int threads_of(const struct repair_opts *o)
{
	return o->threads > 0 ? o->threads : REPAIR_DEFAULT_THREADS;
}

/* ---- gathering key counts and memory ---------------------------------- */

static bool is_reachable_master(const struct snapshot *s, size_t i)
{
	const struct node_view *v = &s->nodes[i];

	return v->reachable && v->view.myself >= 0 && node_is_master(&v->view.nodes[v->view.myself]);
}

/* COUNTKEYSINSLOT of every slot on c into out[0..SC_SLOTS), pipelined; an
 * empty node (DBSIZE 0) is answered at once. */
static int count_all_slots(struct conn *c, long long *out, struct sc_error *err)
{
	long long total = 0;

	if (conn_take_integer(c, conn_command(c, err, "DBSIZE"), "DBSIZE", &total, err) != 0)
		return -1;
	for (int s = 0; s < SC_SLOTS; s++)
		out[s] = 0;
	return total > 0 ? slotops_count_keys_many(c, NULL, SC_SLOTS, out, err) : 0;
}

/* used_memory from INFO memory, or -1 when it cannot be read. */
static long long used_memory(struct conn *c)
{
	struct sc_error err;
	redisReply *r = conn_command(c, &err, "INFO memory");
	long long m = -1;

	if (r && r->type == REDIS_REPLY_STRING)
		m = info_get_bytes(r->str, "used_memory");
	if (r)
		freeReplyObject(r);
	return m;
}

struct gather_ctx {
	struct repair_survey *sv;
	const struct conn_opts *opts;
	pthread_mutex_t lock;    /* sv->atomic_held, sv->atomic_jobs */
};

/* The slots the running atomic migrations that c lists hold, into sv. 0,
 * or -1 with err when the list cannot be read (which slots a job holds is
 * then unknown). */
static int gather_atomic(struct gather_ctx *g, struct conn *c, const char *id, struct sc_error *err)
{
	struct slotmig_list l;
	struct slotset held;
	bool supported;
	int exports = 0;

	if (atomic_list_if_any(c, id, &l, &supported, err) != 0)
		return -1;
	slotmig_list_held(&l, &held);
	for (size_t j = 0; j < l.count; j++)
		exports += l.jobs[j].op == SLOTMIG_EXPORT && l.jobs[j].outcome == SLOTMIG_RUNNING;
	pthread_mutex_lock(&g->lock);
	slotset_union(&g->sv->atomic_held, &g->sv->atomic_held, &held);
	g->sv->atomic_jobs += exports;
	pthread_mutex_unlock(&g->lock);
	slotmig_list_release(&l);
	return 0;
}

static void gather_one(void *arg, size_t i)
{
	struct gather_ctx *g = arg;
	struct node_view *v = &g->sv->snap.nodes[i];
	long long *keys = g->sv->keys + i * SC_SLOTS;
	struct conn *c = NULL;

	if (!is_reachable_master(&g->sv->snap, i))
		return;
	if (conn_open(v->host, v->port, g->opts, &c, &v->error) != 0 ||
	    count_all_slots(c, keys, &v->error) != 0 || gather_atomic(g, c, v->id, &v->error) != 0) {
		/* it stopped answering since the snapshot (or its atomic
		 * migrations cannot be told): treat it as unreachable */
		v->reachable = false;
		for (int s = 0; s < SC_SLOTS; s++)
			keys[s] = -1;
	} else {
		g->sv->memory[i] = used_memory(c);
	}
	conn_close(c);
}

/* ---- duplicate keys ----------------------------------------------------- */

struct keylist {
	redisReply *reply;       /* GETKEYSINSLOT reply owning the names */
	const char **names;
	size_t *lens;
	size_t count;
};

static void keylist_release(struct keylist *k)
{
	if (k->reply)
		freeReplyObject(k->reply);
	free(k->names);
	free(k->lens);
	memset(k, 0, sizeof(*k));
}

/* Every key of slot held by c (COUNTKEYSINSLOT, then GETKEYSINSLOT). */
static int keylist_fetch(struct conn *c, int slot, struct keylist *out, struct sc_error *err)
{
	long long n = 0;
	char what[64];

	memset(out, 0, sizeof(*out));
	if (slotops_count_keys(c, slot, &n, err) != 0)
		return -1;
	if (n == 0)
		return 0;
	snprintf(what, sizeof(what), "CLUSTER GETKEYSINSLOT %d", slot);
	conn_set_reply_limit(c, CONN_REPLY_MAX_VALUE_BYTES, (size_t)n); /* all n keys, named at length */
	out->reply = conn_command(c, err, "CLUSTER GETKEYSINSLOT %d %lld", slot, n);
	conn_set_reply_limit(c, 0, 0);
	if (!out->reply)
		return -1;
	if (conn_check_reply(c, out->reply, what, err) != 0) {
		keylist_release(out);
		return -1;
	}
	if (out->reply->type != REDIS_REPLY_ARRAY) {
		keylist_release(out);
		return sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' replied to %s with a non-array",
			conn_addr(c), what);
	}
	out->count = out->reply->elements;
	out->names = calloc(out->count ? out->count : 1, sizeof(*out->names));
	out->lens = calloc(out->count ? out->count : 1, sizeof(*out->lens));
	if (!out->names || !out->lens) {
		keylist_release(out);
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	}
	for (size_t i = 0; i < out->count; i++) {
		const redisReply *key = out->reply->element[i];

		if (key->type != REDIS_REPLY_STRING || keyslot_of(key->str, key->len) != slot) {
			keylist_release(out);
			return sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' replied to %s with %s", conn_addr(c), what,
				key->type != REDIS_REPLY_STRING ? "a non-string key" : "a key of another slot");
		}
		out->names[i] = key->str;
		out->lens[i] = key->len;
	}
	return 0;
}

/* Sends "ASKING" + "<cmd> key" for each key (ASKING lets a node serve a slot
 * it imports) and reads each command's reply into out[] (caller frees), each
 * within the budget of a reply carrying a value (DUMP). */
static int asking_pipeline(struct conn *c, const char *cmd, const char *const *keys,
	const size_t *lens, size_t n, redisReply **out, struct sc_error *err)
{
	for (size_t i = 0; i < n; i++) {
		const char *argv[2] = { cmd, keys[i] };
		size_t argvlen[2] = { strlen(cmd), lens[i] };

		out[i] = NULL;
		if (conn_append(c, err, "ASKING") != 0 || conn_append_argv(c, 2, argv, argvlen, err) != 0)
			return -1;
	}
	conn_set_reply_limit(c, CONN_REPLY_MAX_VALUE_BYTES, 0);
	for (size_t i = 0; i < n; i++) {
		redisReply *r = conn_get_reply(c, err);

		if (!r)
			return -1;
		freeReplyObject(r);
		if (!(out[i] = conn_get_reply(c, err)))
			return -1;
	}
	conn_set_reply_limit(c, 0, 0);
	return 0;
}

static void free_replies(redisReply **r, size_t n)
{
	for (size_t i = 0; r && i < n; i++)
		if (r[i])
			freeReplyObject(r[i]);
	free(r);
}

/* Keys of a slot present on both nodes of a move. */
struct dup_scan {
	struct keylist src, dst;
	const char **diff;       /* different values (names borrowed from src) */
	size_t *diff_lens;
	size_t ndiff;
	size_t same;             /* byte-identical DUMP payloads */
	size_t unknown;          /* on both, but a value could not be read */
};

static void dup_scan_release(struct dup_scan *d)
{
	keylist_release(&d->src);
	keylist_release(&d->dst);
	free(d->diff);
	free(d->diff_lens);
	memset(d, 0, sizeof(*d));
}

static int key_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	return c ? c : (al > bl) - (al < bl);
}

static bool keylist_has(const struct keylist *k, const char *name, size_t len)
{
	for (size_t i = 0; i < k->count; i++)
		if (key_cmp(k->names[i], k->lens[i], name, len) == 0)
			return true;
	return false;
}

/* DUMPs the n keys named both[] on src and dst and sorts them into d: same,
 * different (d->diff, which must have room for n) or unknown. Changes
 * nothing. */
static int dup_compare(struct conn *src, struct conn *dst, const char **both, const size_t *both_lens,
	size_t n, struct dup_scan *d, struct sc_error *err)
{
	redisReply **sd = calloc(n ? n : 1, sizeof(*sd)), **dd = calloc(n ? n : 1, sizeof(*dd));
	int rc = -1;

	if (!sd || !dd)
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	else if (asking_pipeline(src, "DUMP", both, both_lens, n, sd, err) == 0 &&
	    asking_pipeline(dst, "DUMP", both, both_lens, n, dd, err) == 0)
		rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		bool sv = sd[i]->type == REDIS_REPLY_STRING, dv = dd[i]->type == REDIS_REPLY_STRING;

		if (sd[i]->type == REDIS_REPLY_NIL || dd[i]->type == REDIS_REPLY_NIL)
			continue; /* gone from one side meanwhile: no longer a duplicate */
		if (!sv || !dv)
			d->unknown++;
		else if (sd[i]->len == dd[i]->len && memcmp(sd[i]->str, dd[i]->str, sd[i]->len) == 0)
			d->same++;
		else {
			d->diff[d->ndiff] = both[i];
			d->diff_lens[d->ndiff++] = both_lens[i];
		}
	}
	free_replies(sd, n);
	free_replies(dd, n);
	return rc;
}

/* Finds the keys of slot that both src and dst hold and compares their DUMP
 * payloads. Changes nothing. On failure d is left released. */
static int dup_scan_run(struct conn *src, struct conn *dst, int slot, struct dup_scan *d,
	struct sc_error *err)
{
	const char **both = NULL;
	size_t *both_lens = NULL, nboth = 0;
	int rc = -1;

	memset(d, 0, sizeof(*d));
	if (keylist_fetch(src, slot, &d->src, err) != 0 || keylist_fetch(dst, slot, &d->dst, err) != 0) {
		dup_scan_release(d);
		return -1;
	}
	if (d->src.count == 0 || d->dst.count == 0)
		return 0;
	both = calloc(d->src.count, sizeof(*both));
	both_lens = calloc(d->src.count, sizeof(*both_lens));
	d->diff = calloc(d->src.count, sizeof(*d->diff));
	d->diff_lens = calloc(d->src.count, sizeof(*d->diff_lens));
	if (!both || !both_lens || !d->diff || !d->diff_lens) {
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	} else {
		for (size_t i = 0; i < d->src.count; i++) {
			if (keylist_has(&d->dst, d->src.names[i], d->src.lens[i])) {
				both[nboth] = d->src.names[i];
				both_lens[nboth++] = d->src.lens[i];
			}
		}
		rc = nboth ? dup_compare(src, dst, both, both_lens, nboth, d, err) : 0;
	}
	free(both);
	free(both_lens);
	if (rc != 0)
		dup_scan_release(d);
	return rc;
}

static void name_keys(const struct dup_scan *d, char *buf, size_t size)
{
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
	strbuf_add_keys(&sb, d->diff, d->diff_lens, d->ndiff, REPAIR_NAMED_KEYS);
}

enum keep { KEEP_UNDECIDED, KEEP_SOURCE, KEEP_TARGET };

/* Which copy --prefer keeps for a move of item from node src to node dst. */
static enum keep keep_for(const struct repair_item *it, int src, int dst, enum repair_prefer p)
{
	switch (p) {
	case REPAIR_PREFER_SOURCE:
		return KEEP_SOURCE;
	case REPAIR_PREFER_TARGET:
		return KEEP_TARGET;
	case REPAIR_PREFER_OWNER:
		return it->owner == src ? KEEP_SOURCE : it->owner == dst ? KEEP_TARGET : KEEP_UNDECIDED;
	default:
		return KEEP_UNDECIDED;
	}
}

/* Marks item left, naming the conflicting keys and how to resolve them. */
static void leave_for_conflicts(const struct snapshot *s, struct repair_item *it,
	const struct repair_step *st, const struct dup_scan *d, enum repair_prefer p)
{
	char names[300];

	name_keys(d, names, sizeof(names));
	it->blocked = true;
	snprintf(it->reason, sizeof(it->reason),
		"%zu key%s exist%s on both '%s' and '%s' with different values: %s; nothing was "
		"overwritten (%s)", d->ndiff, d->ndiff == 1 ? "" : "s", d->ndiff == 1 ? "s" : "",
		s->nodes[st->node].addr, s->nodes[st->peer].addr, names,
		p == REPAIR_PREFER_OWNER ? "--prefer owner does not apply: neither node owned the slot; "
		"use --prefer source or target" : "choose a copy with --prefer owner|source|target");
}

/* ---- survey ----------------------------------------------------------- */

static struct conn *conn_of(struct conn_pool *pool, const struct snapshot *s, int i,
	struct sc_error *err)
{
	return conn_pool_get(pool, s->nodes[i].host, s->nodes[i].port, err);
}

/* Before anything changes: leaves the items whose moves would meet keys with
 * different values that --prefer does not settle. A node that cannot be
 * asked leaves the check to the move itself. */
static void survey_conflicts(struct repair_survey *sv, const struct repair_opts *o)
{
	struct conn_pool *pool = conn_pool_new(&o->conn);

	for (size_t i = 0; pool && i < sv->plan.count; i++) {
		struct repair_item *it = &sv->plan.items[i];

		for (size_t k = 0; !it->blocked && k < it->step_count; k++) {
			const struct repair_step *st = &it->steps[k];
			struct conn *src, *dst;
			struct dup_scan d;
			struct sc_error err;

			if (st->op != REPAIR_OP_MOVE_KEYS)
				continue;
			if (!(src = conn_of(pool, &sv->snap, st->node, &err)) ||
			    !(dst = conn_of(pool, &sv->snap, st->peer, &err)) ||
			    dup_scan_run(src, dst, it->slot, &d, &err) != 0)
				continue;
			if (d.ndiff && keep_for(it, st->node, st->peer, o->prefer) == KEEP_UNDECIDED)
				leave_for_conflicts(&sv->snap, it, st, &d, o->prefer);
			dup_scan_release(&d);
		}
	}
	conn_pool_free(pool);
}

int repair_survey(const char *host, int port, const struct repair_opts *o,
	struct repair_survey *out, struct sc_error *err)
{
	struct repair_survey sv = { 0 };
	struct gather_ctx g = { &sv, &o->conn, PTHREAD_MUTEX_INITIALIZER };
	struct repair_input in = { 0 };
	size_t n;

	if (snapshot_gather(host, port, &o->conn, &sv.snap, err) != 0)
		return -1;
	if (snapshot_require_sound(&sv.snap, "repair", err) != 0) {
		snapshot_release(&sv.snap);
		return -1;
	}
	n = sv.snap.count;
	sv.keys = malloc(n * SC_SLOTS * sizeof(*sv.keys));
	sv.memory = malloc(n * sizeof(*sv.memory));
	if (!sv.keys || !sv.memory) {
		repair_survey_release(&sv);
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	}
	for (size_t i = 0; i < n * SC_SLOTS; i++)
		sv.keys[i] = -1;
	for (size_t i = 0; i < n; i++)
		sv.memory[i] = -1;
	parallel_for(n, threads_of(o), gather_one, &g);
	in.snap = &sv.snap;
	in.keys = sv.keys;
	in.used_memory = sv.memory;
	in.allow_unreachable = o->allow_unreachable;
	in.accept_data_loss = o->accept_data_loss;
	in.hints = o->hints;
	in.hint_count = o->hint_count;
	in.atomic_held = &sv.atomic_held;
	if (repair_plan_build(&in, &sv.plan, err) != 0) {
		repair_survey_release(&sv);
		return -1;
	}
	sv.outcomes = calloc(sv.plan.count ? sv.plan.count : 1, sizeof(*sv.outcomes));
	if (!sv.outcomes) {
		repair_survey_release(&sv);
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	}
	survey_conflicts(&sv, o);
	*out = sv;
	return 0;
}

void repair_survey_release(struct repair_survey *sv)
{
	if (!sv)
		return;
	repair_plan_release(&sv->plan);
	snapshot_release(&sv->snap);
	free(sv->keys);
	free(sv->memory);
	free(sv->outcomes);
	memset(sv, 0, sizeof(*sv));
}

/* ---- running the steps ------------------------------------------------ */

/* The stages of a repair, run for every item before the next begins (see
 * repair_execute): coverage (the early steps), keys (opening the slot and
 * moving its keys: every step before the first NODE or BUMPEPOCH), owner
 * (the rest: the new owner takes the slot, the others are told). */
enum stage { STAGE_COVER, STAGE_KEYS, STAGE_OWNER };

/* Which steps of a stage run_item runs: all, only those on one node, or
 * all but those; with claimants, only the NODE steps sent to a node that
 * claims the slot (in the snapshot) and is not `node`. */
struct step_filter {
	int node;                /* -1: every node */
	bool except;             /* the steps on every node but `node` */
	bool claimants;
};

/* One stage of the items listed in items, run on the one scheduler
 * (sched.h): an item starts once none of the nodes its key moves use is
 * busy with another item's, in list order. */
struct stage_run {
	struct repair_survey *sv;
	const struct repair_opts *o;
	const size_t *items;     /* the item indices */
	size_t count;
	enum stage stage;
	bool *started;           /* per entry of items */
	bool *busy;              /* per snapshot node: an item's key moves use it */
	size_t running;
	pthread_mutex_t lock;
	pthread_cond_t changed;
};

/* Deletes keys on c (ASKING first): the copies --prefer target overrules. */
static int delete_keys(struct conn *c, const struct dup_scan *d, long long *dropped,
	struct sc_error *err)
{
	redisReply **r = calloc(d->ndiff ? d->ndiff : 1, sizeof(*r));
	int rc;

	if (!r)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	rc = asking_pipeline(c, "DEL", d->diff, d->diff_lens, d->ndiff, r, err);
	for (size_t i = 0; rc == 0 && i < d->ndiff; i++) {
		long long n = 0;

		rc = conn_reply_count(c, r[i], "DEL", &n, err);
		*dropped += n;
	}
	free_replies(r, d->ndiff);
	return rc;
}

/* Moves the keys of one MOVE step, after comparing duplicates again (now
 * that the target serves the slot). Returns 0 moved, 1 left (conflicts),
 * -1 failed. */
static int run_move(struct conn_pool *pool, struct repair_survey *sv, const struct repair_opts *o,
	struct repair_item *it, const struct repair_step *st, struct repair_outcome *out)
{
	const struct snapshot *s = &sv->snap;
	struct conn *src, *dst;
	struct dup_scan d;
	struct migrate_opts mo = { 0 };
	struct migrate_stats stats = { 0 };
	struct sc_error *err = &out->error;
	bool replace = false;
	int rc;

	if (!(src = conn_of(pool, s, st->node, err)) || !(dst = conn_of(pool, s, st->peer, err)))
		return -1;
	if (dup_scan_run(src, dst, it->slot, &d, err) != 0)
		return -1;
	if (d.ndiff) {
		enum keep k = keep_for(it, st->node, st->peer, o->prefer);

		if (k == KEEP_UNDECIDED) {
			leave_for_conflicts(s, it, st, &d, o->prefer);
			dup_scan_release(&d);
			return 1;
		}
		if (k == KEEP_TARGET && delete_keys(src, &d, &out->keys_dropped, err) != 0) {
			dup_scan_release(&d);
			return -1;
		}
		replace = k == KEEP_SOURCE;
	}
	dup_scan_release(&d);
	mo.batch_keys = REPAIR_BATCH_KEYS;
	mo.batch_bytes = REPAIR_BATCH_BYTES;
	mo.probe_sizes = true;
	mo.migrate_timeout_ms = REPAIR_MIGRATE_TIMEOUT_MS;
	mo.replace = replace;
	mo.asking = true;
	mo.user = o->conn.user;
	mo.pass = o->conn.pass;
	mo.tls = o->conn.tls;
	mo.io_timeout_ms = o->conn.command_timeout_ms;
	/* a node that just restarted says CLUSTERDOWN until it has rejoined: the
	 * mover waits for it (bounded) */
	rc = slotops_migrate_keys(src, s->nodes[st->peer].host, s->nodes[st->peer].port,
		it->slot, &mo, &stats, err);
	out->keys_moved += stats.keys;
	return rc;
}

/* Whether the node behind c is a replica now (false when it cannot say). */
static bool turned_replica(struct conn *c)
{
	struct sc_error ignored;
	bool replica = false;

	return slotops_is_replica(c, &replica, &ignored) == 0 && replica;
}

/* One step other than a key move. */
static int run_setslot(struct conn_pool *pool, const struct snapshot *s, const struct repair_item *it,
	const struct repair_step *st, struct sc_error *err)
{
	struct conn *c = conn_of(pool, s, st->node, err);
	const char *peer = st->peer >= 0 ? s->nodes[st->peer].id : NULL;
	redisReply *r;
	int rc;

	if (!c)
		return -1;
	switch (st->op) {
	case REPAIR_OP_SET_NODE:
		if (st->node == st->peer)
			return slotops_set_node(c, it->slot, peer, err);
		/* never hand a slot away while this node still holds keys of it,
		 * unless they are its master's: a master that gave its last slot
		 * away may have turned replica since the snapshot */
		if (repair_claims(s, (size_t)st->node, it->slot) &&
		    slotops_require_empty(c, it->slot, err) != 0 && !turned_replica(c))
			return -1;
		return slotops_tell_node(c, it->slot, peer, err);
	case REPAIR_OP_SET_STABLE:
		return slotops_tell_stable(c, it->slot, err);
	case REPAIR_OP_SET_IMPORTING:
		return slotops_set_importing(c, it->slot, peer, err);
	case REPAIR_OP_SET_MIGRATING:
		return slotops_set_migrating(c, it->slot, peer, err);
	case REPAIR_OP_BUMP_EPOCH:
		r = conn_command(c, err, "CLUSTER BUMPEPOCH");
		rc = conn_check_reply(c, r, "CLUSTER BUMPEPOCH", err);
		if (r)
			freeReplyObject(r);
		return rc;
	case REPAIR_OP_MOVE_KEYS:
		break;
	}
	return 0;
}

/* The index of item's first step of the owner stage: its first NODE or
 * BUMPEPOCH that is not a coverage step (step_count when none). */
static size_t owner_stage_start(const struct repair_item *it)
{
	for (size_t k = 0; k < it->step_count; k++)
		if (!it->steps[k].early &&
		    (it->steps[k].op == REPAIR_OP_SET_NODE || it->steps[k].op == REPAIR_OP_BUMP_EPOCH))
			return k;
	return it->step_count;
}

static enum stage stage_of(const struct repair_item *it, size_t k)
{
	if (it->steps[k].early)
		return STAGE_COVER;
	return k < owner_stage_start(it) ? STAGE_KEYS : STAGE_OWNER;
}

static bool filter_takes(const struct step_filter *f, const struct snapshot *s, const struct repair_item *it,
	const struct repair_step *st)
{
	if (f->claimants)
		return st->op == REPAIR_OP_SET_NODE && st->node != f->node &&
		       repair_claims(s, (size_t)st->node, it->slot);
	return f->node < 0 || (st->node == f->node) != f->except;
}

/* Runs item idx's steps of one stage that f lets through, in order; a step
 * that fails or leaves the item ends it (status failed or left). */
static void run_item(struct conn_pool *pool, struct repair_survey *sv, const struct repair_opts *o,
	size_t idx, enum stage stage, const struct step_filter *f)
{
	struct repair_item *it = &sv->plan.items[idx];
	struct repair_outcome *out = &sv->outcomes[idx];

	for (size_t k = 0; out->status == REPAIR_PLANNED && k < it->step_count; k++) {
		const struct repair_step *st = &it->steps[k];
		int rc;

		if (stage_of(it, k) != stage || !filter_takes(f, &sv->snap, it, st))
			continue;
		if (st->op == REPAIR_OP_MOVE_KEYS)
			rc = run_move(pool, sv, o, it, st, out);
		else
			rc = run_setslot(pool, &sv->snap, it, st, &out->error);
		if (rc > 0) {
			out->status = REPAIR_LEFT;
		} else if (rc < 0) {
			char step[256];

			repair_step_describe(&sv->snap, it->slot, st, step, sizeof(step));
			if (!out->error.code)
				out->error.code = SC_EXIT_PROBLEMS;
			sc_error_prefix(&out->error, "slot %d: %s failed", it->slot, step);
			out->status = REPAIR_FAILED;
		}
	}
}

static bool has_moves(const struct repair_item *it)
{
	for (size_t k = 0; k < it->step_count; k++)
		if (it->steps[k].op == REPAIR_OP_MOVE_KEYS)
			return true;
	return false;
}

/* Marks busy (or idle) every node item's key moves use. */
static void mark_nodes(const struct repair_item *it, bool *busy, bool on)
{
	for (size_t k = 0; k < it->step_count; k++) {
		const struct repair_step *st = &it->steps[k];

		if (st->op == REPAIR_OP_MOVE_KEYS)
			busy[st->node] = busy[st->peer] = on;
	}
}

/* Whether item's key moves use a node already busy. */
static bool nodes_busy(const struct repair_item *it, const bool *busy)
{
	for (size_t k = 0; k < it->step_count; k++) {
		const struct repair_step *st = &it->steps[k];

		if (st->op == REPAIR_OP_MOVE_KEYS && (busy[st->node] || busy[st->peer]))
			return true;
	}
	return false;
}

/* fix's rule for sched_run (under the lock): the first item not started
 * whose key moves use no busy node (an item without key moves always may,
 * and any in the coverage stage), its nodes then busy. */
static bool next_item(void *ctx, void **job, bool *wait)
{
	struct stage_run *r = ctx;
	bool waiting = false;

	for (size_t k = 0; k < r->count; k++) {
		const struct repair_item *it = &r->sv->plan.items[r->items[k]];

		if (r->started[k])
			continue;
		if (r->stage == STAGE_KEYS && has_moves(it) && nodes_busy(it, r->busy)) {
			waiting = true;
			continue;
		}
		if (r->stage == STAGE_KEYS)
			mark_nodes(it, r->busy, true);
		r->started[k] = true;
		r->running++;
		*job = (void *)&r->items[k];
		return true;
	}
	*wait = waiting && r->running > 0;
	return false;
}

static void run_stage_item(void *ctx, void *job, struct conn_pool *pool, struct conn_pool *ctl)
{
	static const struct step_filter every_node = { -1, false, false };
	struct stage_run *r = ctx;
	size_t idx = *(const size_t *)job;

	(void)ctl; /* fix's steps run on pool alone */
	run_item(pool, r->sv, r->o, idx, r->stage, &every_node);
	pthread_mutex_lock(&r->lock);
	if (r->stage == STAGE_KEYS)
		mark_nodes(&r->sv->plan.items[idx], r->busy, false);
	r->running--;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

/* Runs one stage's steps of the count items listed in items on the one
 * scheduler, up to threads_of(o) at once; in the keys stage, items whose key
 * moves share a node one after the other. */
static void run_stage(struct repair_survey *sv, const struct repair_opts *o, const size_t *items,
	size_t count, enum stage stage)
{
	struct stage_run r = { sv, o, items, count, stage, NULL, NULL, 0,
		PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER };
	struct sched_ops ops = { &r.lock, &r.changed, next_item, run_stage_item, &r, &o->conn };
	int workers = threads_of(o) < (int)count ? threads_of(o) : (int)count;

	r.started = calloc(count ? count : 1, sizeof(*r.started));
	r.busy = calloc(sv->snap.count ? sv->snap.count : 1, sizeof(*r.busy));
	if (r.started && r.busy && count > 0) {
		sched_run(&ops, workers);
	} else {
		for (size_t k = 0; k < count; k++) {
			sv->outcomes[items[k]].status = REPAIR_FAILED;
			sc_error_set(&sv->outcomes[items[k]].error, SC_EXIT_PROBLEMS, "out of memory");
		}
	}
	free(r.started);
	free(r.busy);
	pthread_mutex_destroy(&r.lock);
	pthread_cond_destroy(&r.changed);
}

/* Marks every item failed for want of memory; returns how many there are. */
static size_t fail_all_for_memory(struct repair_survey *sv)
{
	for (size_t i = 0; i < sv->plan.count; i++) {
		sv->outcomes[i].status = REPAIR_FAILED;
		sc_error_set(&sv->outcomes[i].error, SC_EXIT_PROBLEMS, "out of memory");
	}
	return sv->plan.count;
}

/* ---- the owner stage: one new owner at a time ------------------------- */

/* Connections from pool to every reachable node of s (masters only, when
 * masters_only) into out (room for s->count). Returns how many, or -1. */
static int connect_nodes(struct conn_pool *pool, const struct snapshot *s, bool masters_only,
	struct conn **out, struct sc_error *err)
{
	int n = 0;

	for (size_t i = 0; i < s->count; i++) {
		if (!s->nodes[i].reachable || (masters_only && !is_reachable_master(s, i)))
			continue;
		if (!(out[n++] = conn_of(pool, s, (int)i, err)))
			return -1;
	}
	return n;
}

/* Whether item idx is still going and has owner-stage steps for target t. */
static bool still_hands(const struct repair_survey *sv, size_t idx, int t)
{
	const struct repair_item *it = &sv->plan.items[idx];

	return it->target == t && sv->outcomes[idx].status == REPAIR_PLANNED &&
	       owner_stage_start(it) < it->step_count;
}

/* still_hands, in the pass: first (the slots a server may hand over by
 * itself, repair_server_may_take) or the rest. */
static bool hands_to(const struct repair_survey *sv, size_t idx, int t, bool first)
{
	return still_hands(sv, idx, t) && repair_server_may_take(&sv->snap, &sv->plan.items[idx]) == first;
}

/* Whether item idx's owner stage has t take the slot or bump its epoch. */
static bool raises_epoch(const struct repair_item *it, int t)
{
	for (size_t k = owner_stage_start(it); k < it->step_count; k++)
		if (it->steps[k].node == t &&
		    (it->steps[k].op == REPAIR_OP_SET_NODE || it->steps[k].op == REPAIR_OP_BUMP_EPOCH))
			return true;
	return false;
}

static void fail_item(struct repair_survey *sv, size_t idx, const struct sc_error *e)
{
	struct repair_outcome *out = &sv->outcomes[idx];

	out->status = REPAIR_FAILED;
	out->error = *e;
	sc_error_prefix(&out->error, "slot %d: not handed over to '%s' (its keys are in place; run fix "
		"again)", sv->plan.items[idx].slot, sv->snap.nodes[sv->plan.items[idx].target].addr);
}

/* What target t's take runs: t's own owner-stage steps for every item
 * handed to it (it takes the slots, bumping once). */
struct take_ctx {
	struct conn_pool *pool;
	struct repair_survey *sv;
	const struct repair_opts *o;
	int t;
	bool first;              /* the pass (hands_to) */
};

static int take_steps(void *arg, struct sc_error *err)
{
	struct take_ctx *c = arg;
	const struct step_filter on_t = { c->t, false, false };

	(void)err; /* a step that fails fails its item */
	for (size_t i = 0; i < c->sv->plan.count; i++)
		if (hands_to(c->sv, i, c->t, c->first))
			run_item(c->pool, c->sv, c->o, i, STAGE_OWNER, &on_t);
	return 0;
}

/* Hands target t the slots of its items, keeping the invariant of
 * handover.h: when t takes a slot or bumps, its own steps for every item
 * (it takes them, bumping once) run as the one finaliser's taking step,
 * handover_take, past the gate (no epoch collision, t has heard of the
 * greatest epoch); then every other master's steps (told the new owner,
 * slot closed); then the wait until every node's view shows t owning them.
 * Returns 0, or -1 with err when the views did not follow within the bound:
 * then no later owner may take. */
static int hand_over(struct conn_pool *pool, struct repair_survey *sv, const struct repair_opts *o, int t,
	bool first, struct handover_ledger *ledger, struct conn **conns, int *slots, struct sc_error *err)
{
	const struct step_filter elsewhere = { t, true, false };
	struct take_ctx take = { pool, sv, o, t, first };
	size_t n = sv->plan.count, nslots = 0;
	unsigned long seen = 0; /* fix gates every new owner */
	bool raises = false;
	struct conn *taker;
	struct sc_error e;
	int nc;

	for (size_t i = 0; i < n; i++)
		raises |= hands_to(sv, i, t, first) && raises_epoch(&sv->plan.items[i], t);
	if (!raises)
		take_steps(&take, &e);
	else if (!(taker = conn_of(pool, &sv->snap, t, &e)) ||
	         (nc = connect_nodes(pool, &sv->snap, true, conns, &e)) < 0 ||
	         handover_take(ledger, &seen, taker, conns, (size_t)nc, take_steps, &take, &e) != 0) {
		for (size_t i = 0; i < n; i++)
			if (hands_to(sv, i, t, first))
				fail_item(sv, i, &e);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (hands_to(sv, i, t, first))
			run_item(pool, sv, o, i, STAGE_OWNER, &elsewhere);
	for (size_t i = 0; i < n; i++)
		if (hands_to(sv, i, t, first))
			slots[nslots++] = sv->plan.items[i].slot;
	if (nslots == 0)
		return 0;
	if ((nc = connect_nodes(pool, &sv->snap, false, conns, err)) < 0 ||
	    handover_wait_views(conns, (size_t)nc, sv->snap.nodes[t].id, slots, nslots, HANDOVER_WAIT_MS,
		    err) != 0)
		return sc_error_prefix(err, "after handing %zu slot%s to '%s'", nslots, nslots == 1 ? "" : "s",
			sv->snap.nodes[t].addr);
	return 0;
}

/* The owner stage of every item, one new owner after another. A node that
 * gives slots and takes others is safe either way round: taking first, its
 * bump cannot touch the slots it gives, which their new owners still import
 * (an importing node ignores other claims) and every view still shows as
 * its own; giving first, every view shows their new owners before it
 * takes. A slot its new owner already claims while others claim it too
 * (SETSLOT NODE reached the target only; several owners) is first released
 * by those others, before any node takes anything: otherwise one of them
 * taking another slot would bump above the new owner and win this one back,
 * keys and all. The slots a server may hand over by itself (Valkey 8+:
 * repair_server_may_take) go first, every new owner of them in turn, before
 * any other take: left for later, their target would take them, bumping,
 * the moment it heard their former owner's slots change (that former owner
 * taking another slot, say), at a time no gate chose: while it still claims
 * a slot it gives, before that slot's new owner is shown everywhere, its
 * bump would win that slot back (invariant of slotctl/io/handover.h). Once
 * the views do not follow a new owner, the items of the owners after it
 * fail (left open with their keys in place) rather than risk a bump. */
static void hand_over_all(struct repair_survey *sv, const struct repair_opts *o)
{
	struct conn_pool *pool = conn_pool_new(&o->conn);
	struct conn **conns = calloc(sv->snap.count ? sv->snap.count : 1, sizeof(*conns));
	int *slots = calloc(sv->plan.count ? sv->plan.count : 1, sizeof(*slots));
	struct handover_ledger ledger;
	struct sc_error err = { 0 };
	bool stopped = !pool || !conns || !slots;

	handover_ledger_init(&ledger);
	if (stopped)
		sc_error_set(&err, SC_EXIT_PROBLEMS, "out of memory");
	for (size_t i = 0; !stopped && i < sv->plan.count; i++) {
		const struct repair_item *it = &sv->plan.items[i];
		const struct step_filter others = { it->target, false, true };

		if (still_hands(sv, i, it->target) && repair_claims(&sv->snap, (size_t)it->target, it->slot))
			run_item(pool, sv, o, i, STAGE_OWNER, &others);
	}
	for (int pass = 0; pass < 2; pass++) {
		bool first = pass == 0;

		for (size_t t = 0; t < sv->snap.count; t++) {
			for (size_t i = 0; stopped && i < sv->plan.count; i++)
				if (hands_to(sv, i, (int)t, first))
					fail_item(sv, i, &err);
			if (!stopped && hand_over(pool, sv, o, (int)t, first, &ledger, conns, slots, &err) != 0)
				stopped = true;
		}
	}
	handover_ledger_release(&ledger);
	free(slots);
	free(conns);
	conn_pool_free(pool);
}

/* Drops from pending the items that failed or were left; returns how many
 * are still pending. */
static size_t prune(const struct repair_survey *sv, bool *pending)
{
	size_t left = 0;

	for (size_t i = 0; i < sv->plan.count; i++) {
		pending[i] = pending[i] && sv->outcomes[i].status == REPAIR_PLANNED;
		left += pending[i];
	}
	return left;
}

/* The stages, each for every item before the next (see handover.h for
 * why): coverage (every slot gets a known owner on every node); keys (every
 * key of every repaired slot moves to where it goes, items on disjoint
 * nodes concurrently; no owner changes yet); owner (one new owner at a
 * time, hand_over_all). */
size_t repair_execute(struct repair_survey *sv, const struct repair_opts *o)
{
	size_t n = sv->plan.count, not_done = 0;
	size_t *items = calloc(n ? n : 1, sizeof(*items));
	bool *pending = calloc(n ? n : 1, sizeof(*pending));

	if (!items || !pending) {
		free(items);
		free(pending);
		return fail_all_for_memory(sv);
	}
	for (size_t i = 0; i < n; i++) {
		pending[i] = !sv->plan.items[i].blocked;
		if (!pending[i])
			sv->outcomes[i].status = REPAIR_LEFT;
	}
	for (enum stage stage = STAGE_COVER; stage <= STAGE_KEYS; stage++) {
		size_t count = 0;

		if (prune(sv, pending) == 0)
			break;
		for (size_t i = 0; i < n; i++)
			if (pending[i])
				items[count++] = i;
		run_stage(sv, o, items, count, stage);
	}
	hand_over_all(sv, o);
	for (size_t i = 0; i < n; i++) {
		if (sv->outcomes[i].status == REPAIR_PLANNED)
			sv->outcomes[i].status = REPAIR_DONE;
		not_done += sv->outcomes[i].status != REPAIR_DONE;
	}
	free(items);
	free(pending);
	return not_done;
}
