/* sampler.c: measures what each slot holds (see slotctl/io/sampler.h). One job
 * per master, run with parallel_for, each on its own connection: INFO memory;
 * CLUSTER SLOT-STATS tried once (key counts and, where the server counts it,
 * CPU time per slot; servers without it answer an error and the job falls
 * back to CLUSTER COUNTKEYSINSLOT); then, slot by slot in groups,
 * CLUSTER GETKEYSINSLOT and MEMORY USAGE of the keys it returns. Every step is
 * pipelined (SAMPLER_PIPELINE commands per round trip, SAMPLER_KEYS_PIPELINE
 * for the costlier GETKEYSINSLOT). Read-only. */
#include "slotctl/io/sampler.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "slotctl/io/clock.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/info_text.h"
#include "slotctl/core/keyslot.h"
#include "slotctl/io/parallel.h"

#define SLOTS_PER_GROUP 64 /* slots whose keys are listed, then measured, together */

struct node_job {
	const struct node *node;
	const struct sampler_opts *opts;
	const struct conn_opts *copts;
	struct slot_stats *out;       /* shared: a job writes only its own slots */
	struct conn *conn;
	int *slots;                   /* owned slots */
	size_t slot_count;
	struct node_memory mem;
	bool slot_stats;              /* answered CLUSTER SLOT-STATS */
	bool measure;                 /* sample memory, not only key counts */
	long long commands, round_trips, keys_sampled;
	struct plan_big_key *big;
	size_t big_count;
	struct sc_error err;
	int failed;
};

/* ---- pipelining ---- */

/* One command of a pipelined series: up to 4 arguments. */
struct command {
	const char *argv[4];
	size_t argvlen[4];
	int argc;
};

typedef void (*build_fn)(void *ctx, size_t i, struct command *cmd);
typedef int (*take_fn)(void *ctx, size_t i, const redisReply *r, struct sc_error *err);

/* Sends n commands (build fills the i-th) in round trips of depth commands
 * and hands each reply, in order, to take. what names the command in errors. */
static int pipeline(struct node_job *j, size_t n, size_t depth, build_fn build, take_fn take, void *ctx,
	const char *what)
{
	for (size_t start = 0; start < n; start += depth) {
		size_t end = start + depth < n ? start + depth : n;
		int rc = 0;

		for (size_t i = start; i < end; i++) {
			struct command cmd = { { NULL }, { 0 }, 0 };

			build(ctx, i, &cmd);
			if (conn_append_argv(j->conn, cmd.argc, cmd.argv, cmd.argvlen, &j->err) < 0)
				return -1;
		}
		j->commands += (long long)(end - start);
		j->round_trips++;
		for (size_t i = start; i < end; i++) {
			redisReply *r = conn_get_reply(j->conn, &j->err);

			if (!r)
				return -1;
			if (rc == 0 && conn_check_reply(j->conn, r, what, &j->err) < 0)
				rc = -1;
			if (rc == 0)
				rc = take(ctx, i, r, &j->err);
			freeReplyObject(r);
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

static void set_arg(struct command *cmd, const char *text, size_t len)
{
	cmd->argv[cmd->argc] = text;
	cmd->argvlen[cmd->argc++] = len;
}

/* ---- INFO memory ---- */

static int read_memory(struct node_job *j)
{
	redisReply *r = conn_command(j->conn, &j->err, "INFO memory");

	j->commands++;
	j->round_trips++;
	if (conn_check_reply(j->conn, r, "INFO memory", &j->err) < 0) {
		freeReplyObject(r);
		return -1;
	}
	if (r->type == REDIS_REPLY_STRING) {
		j->mem.used_memory = info_get_bytes(r->str, "used_memory");
		j->mem.maxmemory = info_get_bytes(r->str, "maxmemory");
	}
	freeReplyObject(r);
	return 0;
}

/* ---- key counts ---- */

/* The budget of a CLUSTER SLOT-STATS reply: an entry per slot, each with up
 * to SLOT_STATS_MAX_FIELDS name/value pairs (Valkey 9 gives 4: key-count,
 * cpu-usec, network-bytes-in, network-bytes-out), each element taking some
 * 64 bytes of the budget with its name (Valkey's 4 fields for every slot:
 * 163,840 elements). */
#define SLOT_STATS_MAX_FIELDS 16
#define SLOT_STATS_MAX_ELEMENTS ((size_t)SC_SLOTS * (2 + 2 * SLOT_STATS_MAX_FIELDS))
#define SLOT_STATS_MAX_BYTES (SLOT_STATS_MAX_ELEMENTS * 64)

/* The value of field name among an entry's name/value pairs: 1 and *out
 * when it is a count (0 to CONN_MAX_COUNT), 0 when the entry has no such
 * field, -1 when its value is anything else. */
static int field_count(const redisReply *pairs, const char *name, long long *out)
{
	for (size_t k = 0; k + 1 < pairs->elements; k += 2) {
		const redisReply *key = pairs->element[k], *val = pairs->element[k + 1];

		if (key->type != REDIS_REPLY_STRING || strcmp(key->str, name) != 0)
			continue;
		if (val->type != REDIS_REPLY_INTEGER || val->integer < 0 || val->integer > CONN_MAX_COUNT)
			return -1;
		*out = val->integer;
		return 1;
	}
	return 0;
}

static int slot_stats_refused(struct node_job *j, const char *what, long long slot)
{
	if (slot < 0)
		return sc_error_set(&j->err, SC_EXIT_PROBLEMS, "'%s' replied to CLUSTER SLOT-STATS with %s",
			conn_addr(j->conn), what);
	return sc_error_set(&j->err, SC_EXIT_PROBLEMS, "'%s' replied to CLUSTER SLOT-STATS with %s %lld",
		conn_addr(j->conn), what, slot);
}

/* Takes one entry, [slot, [name, value, ...]]: the key count and CPU time
 * of a slot the node owns in the map (a slot it lists but does not own there
 * is its owner's to count). A malformed entry, a slot out of range or listed
 * twice, or a key-count or cpu-usec that is not a count is refused. */
static int take_slot_stat(struct node_job *j, const redisReply *e, bool *listed)
{
	const redisReply *fields;
	long long slot, keys = -1, cpu = -1;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_INTEGER ||
	    e->element[1]->type != REDIS_REPLY_ARRAY || e->element[1]->elements % 2 != 0)
		return slot_stats_refused(j, "an entry that is not [slot, [name, value, ...]]", -1);
	slot = e->element[0]->integer;
	fields = e->element[1];
	if (slot < 0 || slot >= SC_SLOTS)
		return slot_stats_refused(j, "slot", slot);
	if (listed[slot])
		return slot_stats_refused(j, "twice the slot", slot);
	listed[slot] = true;
	if (field_count(fields, "key-count", &keys) < 0 || field_count(fields, "cpu-usec", &cpu) < 0)
		return slot_stats_refused(j, "a key-count or cpu-usec that is not a count for slot", slot);
	if (!slotset_has(node_slots(j->node), (int)slot))
		return 0;
	j->out->keys[slot] = keys; /* -1 when not given: COUNTKEYSINSLOT asks */
	j->out->cpu_usec[slot] = cpu;
	return 0;
}

/* CLUSTER SLOT-STATS SLOTSRANGE 0 16383, where the server has it (Valkey 8+,
 * Redis 8.2+): one round trip for the key counts (and CPU time, when the
 * server counts it) of every slot the node owns, in a reply held to
 * SLOT_STATS_MAX_ELEMENTS and SLOT_STATS_MAX_BYTES. A server without it
 * answers an error: not a failure, COUNTKEYSINSLOT counts instead. */
static int try_slot_stats(struct node_job *j)
{
	bool *listed = calloc(SC_SLOTS, sizeof(*listed));
	redisReply *r;
	int rc = 0;

	if (!listed)
		return sc_error_set(&j->err, SC_EXIT_PROBLEMS, "out of memory sampling '%s'", conn_addr(j->conn));
	conn_set_reply_limit(j->conn, SLOT_STATS_MAX_BYTES, SLOT_STATS_MAX_ELEMENTS);
	r = conn_command(j->conn, &j->err, "CLUSTER SLOT-STATS SLOTSRANGE 0 %d", SC_SLOTS - 1);
	conn_set_reply_limit(j->conn, 0, 0);
	j->commands++;
	j->round_trips++;
	if (!r)
		rc = -1;
	else if (r->type == REDIS_REPLY_ARRAY) {
		j->slot_stats = true;
		for (size_t i = 0; rc == 0 && i < r->elements; i++)
			rc = take_slot_stat(j, r->element[i], listed);
	} else if (r->type != REDIS_REPLY_ERROR)
		rc = slot_stats_refused(j, "something other than a list of slots", -1);
	freeReplyObject(r);
	free(listed);
	return rc;
}

struct count_ctx {
	struct node_job *j;
	int *slots;
	char (*text)[8];
};

static void build_count(void *ctx, size_t i, struct command *cmd)
{
	struct count_ctx *c = ctx;

	snprintf(c->text[i], sizeof(c->text[i]), "%d", c->slots[i]);
	set_arg(cmd, "CLUSTER", 7);
	set_arg(cmd, "COUNTKEYSINSLOT", 15);
	set_arg(cmd, c->text[i], strlen(c->text[i]));
}

static int take_count(void *ctx, size_t i, const redisReply *r, struct sc_error *err)
{
	struct count_ctx *c = ctx;
	char what[48];

	snprintf(what, sizeof(what), "CLUSTER COUNTKEYSINSLOT %d", c->slots[i]);
	return conn_reply_count(c->j->conn, r, what, &c->j->out->keys[c->slots[i]], err);
}

/* COUNTKEYSINSLOT for every owned slot SLOT-STATS did not answer. */
static int count_keys(struct node_job *j)
{
	struct count_ctx c = { j, malloc(j->slot_count * sizeof(int) + 1), NULL };
	size_t n = 0;
	int rc = -1;

	c.text = malloc(j->slot_count * sizeof(*c.text) + 1);
	if (!c.slots || !c.text) {
		sc_error_set(&j->err, SC_EXIT_PROBLEMS, "out of memory sampling '%s'", conn_addr(j->conn));
		goto out;
	}
	for (size_t i = 0; i < j->slot_count; i++)
		if (j->out->keys[j->slots[i]] < 0)
			c.slots[n++] = j->slots[i];
	rc = pipeline(j, n, SAMPLER_PIPELINE, build_count, take_count, &c, "CLUSTER COUNTKEYSINSLOT");
out:
	free(c.slots);
	free(c.text);
	return rc;
}

/* ---- memory per slot ---- */

struct sampled_key {
	int slot;
	char *name;
	size_t len;
};

struct memory_ctx {
	struct node_job *j;
	const int *slots;            /* the group's slots with keys */
	char (*text)[8];
	char count[16];
	struct sampled_key *keys;    /* listed by GETKEYSINSLOT */
	size_t key_count;
	long long sum[SLOTS_PER_GROUP];
	long long seen[SLOTS_PER_GROUP];
	int group_index[SLOTS_PER_GROUP];
};

static void build_getkeys(void *ctx, size_t i, struct command *cmd)
{
	struct memory_ctx *m = ctx;

	snprintf(m->text[i], sizeof(m->text[i]), "%d", m->slots[i]);
	set_arg(cmd, "CLUSTER", 7);
	set_arg(cmd, "GETKEYSINSLOT", 13);
	set_arg(cmd, m->text[i], strlen(m->text[i]));
	set_arg(cmd, m->count, strlen(m->count));
}

/* Takes the keys of the group's i-th slot into m->keys, which has room for
 * the COUNT asked of every slot: a reply with more keys than asked, or with
 * anything but keys of that slot, is refused. */
static int take_getkeys(void *ctx, size_t i, const redisReply *r, struct sc_error *err)
{
	struct memory_ctx *m = ctx;
	const char *addr = conn_addr(m->j->conn);
	int slot = m->slots[i];

	if (r->type != REDIS_REPLY_ARRAY || r->elements > (size_t)m->j->opts->sample_keys)
		return sc_error_set(err, SC_EXIT_PROBLEMS,
			"'%s' replied to CLUSTER GETKEYSINSLOT %d %d with %s", addr, slot, m->j->opts->sample_keys,
			r->type != REDIS_REPLY_ARRAY ? "something other than a list of keys" : "more keys than asked for");
	for (size_t k = 0; k < r->elements; k++) {
		struct sampled_key *sk = &m->keys[m->key_count];

		if (r->element[k]->type != REDIS_REPLY_STRING ||
		    keyslot_of(r->element[k]->str, r->element[k]->len) != slot)
			return sc_error_set(err, SC_EXIT_PROBLEMS,
				"'%s' replied to CLUSTER GETKEYSINSLOT %d with %s", addr, slot,
				r->element[k]->type != REDIS_REPLY_STRING ? "a non-string key" : "a key of another slot");
		sk->name = malloc(r->element[k]->len + 1);
		if (!sk->name)
			return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory sampling");
		memcpy(sk->name, r->element[k]->str, r->element[k]->len);
		sk->name[r->element[k]->len] = '\0';
		sk->len = r->element[k]->len;
		sk->slot = (int)i; /* index in the group */
		m->key_count++;
	}
	return 0;
}

static void build_usage(void *ctx, size_t i, struct command *cmd)
{
	struct memory_ctx *m = ctx;

	set_arg(cmd, "MEMORY", 6);
	set_arg(cmd, "USAGE", 5);
	set_arg(cmd, m->keys[i].name, m->keys[i].len);
}

/* The key in printable form: bytes outside ASCII graphics as \xNN. */
static char *printable(const char *name, size_t len)
{
	char *out = malloc(4 * len + 1), *p = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch >= 0x21 && ch <= 0x7e && ch != '\\')
			*p++ = (char)ch;
		else
			p += sprintf(p, "\\x%02x", ch);
	}
	*p = '\0';
	return out;
}

static int note_big_key(struct node_job *j, int slot, const struct sampled_key *k, long long bytes)
{
	struct plan_big_key *grown = realloc(j->big, (j->big_count + 1) * sizeof(*grown));

	if (!grown)
		return sc_error_set(&j->err, SC_EXIT_PROBLEMS, "out of memory sampling");
	j->big = grown;
	j->big[j->big_count].slot = slot;
	j->big[j->big_count].bytes = bytes;
	j->big[j->big_count].key = printable(k->name, k->len);
	if (!j->big[j->big_count].key)
		return sc_error_set(&j->err, SC_EXIT_PROBLEMS, "out of memory sampling");
	j->big_count++;
	j->out->big[slot] = true;
	return 0;
}

static int take_usage(void *ctx, size_t i, const redisReply *r, struct sc_error *err)
{
	struct memory_ctx *m = ctx;
	const struct sampled_key *k = &m->keys[i];
	long long limit = m->j->opts->bigkey_bytes > 0 ? m->j->opts->bigkey_bytes : SAMPLER_DEFAULT_BIGKEY;
	long long bytes;

	if (r->type == REDIS_REPLY_NIL) /* gone since it was listed */
		return 0;
	if (conn_reply_count(m->j->conn, r, "MEMORY USAGE", &bytes, err) != 0)
		return -1;
	m->sum[k->slot] += bytes;
	m->seen[k->slot]++;
	if (bytes > limit)
		return note_big_key(m->j, m->slots[k->slot], k, bytes);
	return 0;
}

/* Lists up to N keys of each slot of the group, measures them, extrapolates. */
static int measure_group(struct node_job *j, const int *slots, size_t n)
{
	struct memory_ctx m;
	char text[SLOTS_PER_GROUP][8];
	int rc;

	memset(&m, 0, sizeof(m));
	m.j = j;
	m.slots = slots;
	m.text = text;
	snprintf(m.count, sizeof(m.count), "%d", j->opts->sample_keys);
	m.keys = calloc(n * (size_t)j->opts->sample_keys + 1, sizeof(*m.keys));
	if (!m.keys)
		return sc_error_set(&j->err, SC_EXIT_PROBLEMS, "out of memory sampling");
	rc = pipeline(j, n, SAMPLER_KEYS_PIPELINE, build_getkeys, take_getkeys, &m, "CLUSTER GETKEYSINSLOT");
	if (rc == 0)
		rc = pipeline(j, m.key_count, SAMPLER_PIPELINE, build_usage, take_usage, &m, "MEMORY USAGE");
	j->keys_sampled += (long long)m.key_count;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		long long keys = j->out->keys[slots[i]];
		double bytes = (double)m.sum[i];

		if (m.seen[i] > 0 && keys > m.seen[i])
			bytes = bytes * (double)keys / (double)m.seen[i];
		/* each factor is at most CONN_MAX_COUNT, their product need not be */
		j->out->bytes[slots[i]] = bytes < (double)CONN_MAX_COUNT ? llround(bytes) : CONN_MAX_COUNT;
	}
	for (size_t k = 0; k < m.key_count; k++)
		free(m.keys[k].name);
	free(m.keys);
	return rc;
}

static int measure_memory(struct node_job *j)
{
	int group[SLOTS_PER_GROUP];
	size_t n = 0;

	for (size_t i = 0; i < j->slot_count; i++) {
		int s = j->slots[i];

		if (j->out->keys[s] <= 0) {
			j->out->bytes[s] = 0;
			continue;
		}
		group[n++] = s;
		if (n == SLOTS_PER_GROUP) {
			if (measure_group(j, group, n) < 0)
				return -1;
			n = 0;
		}
	}
	return n ? measure_group(j, group, n) : 0;
}

/* Each owned slot's bytes as its share of the node's keys times its
 * used_memory (no command: INFO memory and the key counts are in); left
 * unknown when either is. */
static void estimate_memory(struct node_job *j)
{
	long long total = 0;

	for (size_t i = 0; i < j->slot_count; i++) {
		if (j->out->keys[j->slots[i]] < 0)
			return;
		total += j->out->keys[j->slots[i]];
	}
	if (j->mem.used_memory < 0)
		return;
	for (size_t i = 0; i < j->slot_count; i++) {
		int s = j->slots[i];
		double bytes = total > 0 ? (double)j->out->keys[s] * (double)j->mem.used_memory / (double)total : 0;

		j->out->bytes[s] = bytes < (double)CONN_MAX_COUNT ? llround(bytes) : CONN_MAX_COUNT;
	}
}

/* ---- one node, all nodes ---- */

static int sample_node(struct node_job *j)
{
	const struct node *n = j->node;

	memcpy(j->mem.id, n->id, sizeof(j->mem.id));
	j->mem.used_memory = j->mem.maxmemory = -1;
	j->slots = malloc(SC_SLOTS * sizeof(*j->slots));
	if (!j->slots)
		return sc_error_set(&j->err, SC_EXIT_PROBLEMS, "out of memory sampling");
	for (int s = 0; s < SC_SLOTS; s++)
		if (slotset_has(node_slots(n), s))
			j->slots[j->slot_count++] = s;
	if (conn_open(n->ip, n->port, j->copts, &j->conn, &j->err) < 0 || read_memory(j) < 0)
		return -1;
	if (j->slot_count == 0)
		return 0;
	if (try_slot_stats(j) < 0 || count_keys(j) < 0)
		return -1;
	if (j->measure)
		return measure_memory(j);
	if (j->opts->estimate_bytes)
		estimate_memory(j);
	return 0;
}

static void sample_job(void *ctx, size_t i)
{
	struct node_job *j = &((struct node_job *)ctx)[i];

	j->failed = sample_node(j) < 0;
	conn_close(j->conn);
	j->conn = NULL;
}

static int big_key_cmp(const void *a, const void *b)
{
	const struct plan_big_key *x = a, *y = b;

	return x->slot != y->slot ? x->slot - y->slot : strcmp(x->key, y->key);
}

/* Moves the jobs' results into out and cost; returns the first failure. */
static int collect(struct node_job *jobs, size_t count, struct slot_stats *out,
	struct sampler_cost *cost, struct sc_error *err)
{
	size_t big = 0;
	int rc = 0;

	for (size_t i = 0; i < count; i++)
		big += jobs[i].big_count;
	out->big_keys = calloc(big + 1, sizeof(*out->big_keys));
	out->nodes = calloc(count + 1, sizeof(*out->nodes));
	if (!out->big_keys || !out->nodes)
		rc = sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory sampling");
	for (size_t i = 0; i < count; i++) {
		struct node_job *j = &jobs[i];

		if (rc == 0 && j->failed) {
			if (err)
				*err = j->err;
			rc = -1;
		}
		if (rc == 0) {
			out->nodes[out->node_count++] = j->mem;
			for (size_t k = 0; k < j->big_count; k++)
				out->big_keys[out->big_key_count++] = j->big[k];
		} else {
			for (size_t k = 0; k < j->big_count; k++)
				free(j->big[k].key);
		}
		cost->nodes++;
		cost->memory_nodes += j->measure;
		cost->slot_stats_nodes += j->slot_stats;
		cost->commands += j->commands;
		cost->round_trips += j->round_trips;
		cost->keys_sampled += j->keys_sampled;
		free(j->big);
		free(j->slots);
	}
	if (rc == 0)
		qsort(out->big_keys, out->big_key_count, sizeof(*out->big_keys), big_key_cmp);
	return rc;
}

int sampler_run(const struct topology *map, const struct conn_opts *copts,
	const struct sampler_opts *opts, struct slot_stats *out, struct sampler_cost *cost,
	struct sc_error *err)
{
	struct node_job *jobs = calloc(map->count + 1, sizeof(*jobs));
	long long start = sc_clock_ms();
	size_t count = 0;
	int rc;

	memset(cost, 0, sizeof(*cost));
	slot_stats_init(out);
	if (!jobs)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory sampling");
	for (size_t i = 0; i < map->count; i++) {
		if (!plan_node_eligible(&map->nodes[i]))
			continue;
		jobs[count].node = &map->nodes[i];
		jobs[count].opts = opts;
		jobs[count].copts = copts;
		jobs[count].out = out;
		jobs[count].measure = opts->sample_keys > 0 && (!opts->measure || opts->measure[i]);
		count++;
	}
	parallel_for(count, opts->threads > 0 ? opts->threads : SAMPLER_THREADS, sample_job, jobs);
	rc = collect(jobs, count, out, cost, err);
	free(jobs);
	cost->seconds = (double)(sc_clock_ms() - start) / 1000;
	if (rc < 0)
		slot_stats_release(out);
	return rc;
}
