/* slotops_migrate.c: the key mover. Moves every key of one slot from a source
 * node to a target with CLUSTER GETKEYSINSLOT + MIGRATE ... KEYS, in batches
 * bounded by key count, bytes and the time one MIGRATE may block the source.
 * The GETKEYSINSLOT of the next batch rides in the same round trip as the
 * MIGRATE of the last one, and so can the first of the next slot (chaining).
 * A key that already exists on the target is never overwritten unless the
 * caller asked for REPLACE or both copies are byte-identical; I/O trouble
 * between the nodes is retried with backoff and smaller batches, for at
 * most MOVER_RETRY_BUDGET times the longer of the two timeouts (plus a big
 * batch's allowance) in all, then reported with the slot left as it is.
 * Replies are judged before use: keys must be of the slot asked for, sizes
 * counts, MIGRATE's answer OK or NOKEY. */
#include "slotctl/io/slotops.h"
#include "slotctl/io/clock.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/keyslot.h"
#include "slotctl/core/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MOVER_DEFAULT_RETRIES 4
/* the retries of one slot's failing MIGRATEs end this many times
 * max(--timeout, --migrate-timeout), plus the time the batch's known size
 * calls for, after the first failure; a retried MIGRATE gets no longer
 * than what is left of that */
#define MOVER_RETRY_BUDGET 2
#define MOVER_MIN_ATTEMPT_MS 100 /* less left than this: no retry */
/* how long a target may answer CLUSTERDOWN (a node flagged failed, or one
 * that came back and has not rejoined yet) before the move gives up */
#define MOVER_CLUSTERDOWN_WAIT_MS 30000
#define MOVER_CLUSTERDOWN_PAUSE_MS 250
#define MOVER_MAX_STALLS 8
#define MOVER_BYTES_PER_MS 20000 /* assume 20 MB/s when sizing a big key's timeout */
#define MOVER_MAX_NAMED_KEYS 5
#define MOVER_MAX_MIGRATE_MS 3600000 /* the longest MIGRATE timeout a big key gets */

struct mover {
	struct conn *from;
	const char *dst_host;
	int dst_port;
	int slot;
	const struct migrate_opts *o;
	struct migrate_stats *stats;
	int io_timeout_ms;
	int cur_timeout_ms;        /* read bound currently set on `from` */
	int batch;                 /* keys per MIGRATE, adapted as we go */
	redisReply *keys;          /* last GETKEYSINSLOT reply (array of keys) */
	bool keys_short;           /* it held fewer keys than asked for: likely the slot's last */
	redisReply *ahead;         /* keys of opts->next_slot, fetched early (chaining) */
	size_t next;               /* first key of `keys` not yet sent */
	long long *sizes;          /* MEMORY USAGE of each key of `keys`, when probed */
	bool probe;                /* probe sizes (asked for, or since an I/O error or timeout) */
	int failures;              /* consecutive I/O failures */
	long long failed_at;       /* first failure of those in a row (sc_clock_ms); 0: none */
	int stalls;                /* consecutive rounds that moved nothing */
	long long down_since;      /* when the target began answering CLUSTERDOWN; 0: it does not */
};

static int mover_fail(struct mover *m, struct sc_error *err)
{
	return sc_error_prefix(err, "cannot move keys of slot %d from '%s' to '%s:%d' (%lld keys moved so far; "
		"the slot is left open: run 'slotctl resume' or 'slotctl abort')",
		m->slot, conn_addr(m->from), m->dst_host, m->dst_port, m->stats->keys);
}

static void mover_drop_keys(struct mover *m)
{
	if (m->keys)
		freeReplyObject(m->keys);
	m->keys = NULL;
	m->next = 0;
	free(m->sizes);
	m->sizes = NULL;
}

static size_t mover_remaining(const struct mover *m)
{
	return m->keys ? m->keys->elements - m->next : 0;
}

/* Takes ownership of r, a GETKEYSINSLOT reply, as the keys to move next. */
static int mover_take_keys(struct mover *m, redisReply *r, struct sc_error *err)
{
	char what[64];

	snprintf(what, sizeof(what), "CLUSTER GETKEYSINSLOT %d", m->slot);
	mover_drop_keys(m);
	if (conn_check_reply(m->from, r, what, err) != 0) {
		freeReplyObject(r);
		return -1;
	}
	if (r->type != REDIS_REPLY_ARRAY) {
		freeReplyObject(r);
		return sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' replied to %s with a non-array",
			conn_addr(m->from), what);
	}
	for (size_t i = 0; i < r->elements; i++) {
		const redisReply *key = r->element[i];

		if (key->type != REDIS_REPLY_STRING || keyslot_of(key->str, key->len) != m->slot) {
			sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' replied to %s with %s", conn_addr(m->from), what,
				key->type != REDIS_REPLY_STRING ? "a non-string key" : "a key of another slot");
			freeReplyObject(r);
			return -1;
		}
	}
	m->keys = r;
	m->keys_short = r->elements < (size_t)m->batch;
	return 0;
}

/* Queues CLUSTER GETKEYSINSLOT for slot (this one, or the next when
 * chaining), as many keys as a batch holds. */
static int mover_append_getkeys(struct mover *m, int slot, struct sc_error *err)
{
	return conn_append(m->from, err, "CLUSTER GETKEYSINSLOT %d %d", slot, m->batch);
}

/* Whether this round trip should also fetch the next slot's keys: chaining
 * is on and the keys in hand are probably the slot's last. */
static bool mover_chains(const struct mover *m)
{
	return m->o->carry && m->o->next_slot >= 0 && m->keys_short;
}

static int mover_fetch(struct mover *m, struct sc_error *err)
{
	redisReply *r;

	if (mover_append_getkeys(m, m->slot, err) != 0 || !(r = conn_get_reply(m->from, err)))
		return -1;
	return mover_take_keys(m, r, err);
}

/* Appends "[ASKING] CMD key" for each key, then reads the replies into
 * replies[] (caller frees each). ASKING lets a node serve keys of a slot it
 * is importing. */
static int keyed_pipeline(struct conn *c, bool asking, const char *cmd, const char *sub,
	const char *const *keys, const size_t *lens, size_t n, redisReply **replies, struct sc_error *err)
{
	for (size_t i = 0; i < n; i++) {
		const char *argv[3];
		size_t argvlen[3];
		int argc = 0;

		if (asking && conn_append(c, err, "ASKING") != 0)
			return -1;
		argv[argc] = cmd;
		argvlen[argc++] = strlen(cmd);
		if (sub) {
			argv[argc] = sub;
			argvlen[argc++] = strlen(sub);
		}
		argv[argc] = keys[i];
		argvlen[argc++] = lens[i];
		if (conn_append_argv(c, argc, argv, argvlen, err) != 0)
			return -1;
	}
	for (size_t i = 0; i < n; i++) {
		redisReply *r;

		replies[i] = NULL;
		if (asking) {
			if (!(r = conn_get_reply(c, err)))
				return -1;
			freeReplyObject(r);
		}
		if (!(replies[i] = conn_get_reply(c, err)))
			return -1;
	}
	return 0;
}

static void free_replies(redisReply **replies, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (replies[i])
			freeReplyObject(replies[i]);
}

/* MEMORY USAGE of every key not yet sent, so batches can be bounded by bytes
 * and a big key can travel alone. A key gone meanwhile counts 0. */
static int mover_probe_sizes(struct mover *m, struct sc_error *err)
{
	size_t n = m->keys->elements;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	size_t *lens = calloc(n ? n : 1, sizeof(*lens));
	redisReply **replies = calloc(n ? n : 1, sizeof(*replies));
	int rc = -1;

	m->sizes = calloc(n ? n : 1, sizeof(*m->sizes));
	if (!keys || !lens || !replies || !m->sizes) {
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		keys[i] = m->keys->element[i]->str;
		lens[i] = m->keys->element[i]->len;
	}
	if (keyed_pipeline(m->from, m->o->asking, "MEMORY", "USAGE", keys, lens, n, replies, err) == 0) {
		rc = 0;
		for (size_t i = 0; rc == 0 && i < n; i++)
			if (replies[i]->type != REDIS_REPLY_NIL) /* nil: gone meanwhile */
				rc = conn_reply_count(m->from, replies[i], "MEMORY USAGE", &m->sizes[i], err);
	}
	free_replies(replies, n);
out:
	free(keys);
	free(lens);
	free(replies);
	return rc;
}

/* The next group: up to m->batch keys and opts->batch_bytes bytes, at least
 * one key (a key bigger than the byte bound travels alone). */
static size_t mover_pick(const struct mover *m, long long *bytes)
{
	size_t n = 0, left = mover_remaining(m);

	*bytes = 0;
	while (n < left && n < (size_t)m->batch) {
		long long size = m->sizes ? m->sizes[m->next + n] : 0;

		if (n > 0 && m->o->batch_bytes > 0 && *bytes + size > m->o->batch_bytes)
			break;
		*bytes += size;
		n++;
	}
	return n;
}

static int mover_set_timeout(struct mover *m, int ms, struct sc_error *err)
{
	if (ms == m->cur_timeout_ms)
		return 0;
	if (conn_set_timeout(m->from, ms, err) != 0)
		return -1;
	m->cur_timeout_ms = ms;
	return 0;
}

/* Fills argv/argvlen (room for n + 12) with a MIGRATE of the n keys to the
 * target: REPLACE when asked, AUTH2 or AUTH with the run's credentials. port
 * and timeout are the caller's strings for those arguments. Returns argc. */
static size_t mover_migrate_args(const struct mover *m, const char *const *keys, const size_t *lens,
	size_t n, bool replace, const char *port, const char *timeout, const char **argv, size_t *argvlen)
{
	size_t argc = 0;

#define ARG(s) (argv[argc] = (s), argvlen[argc] = strlen(s), argc++)
	ARG("MIGRATE");
	ARG(m->dst_host);
	ARG(port);
	ARG("");
	ARG("0");
	ARG(timeout);
	if (replace)
		ARG("REPLACE");
	if (m->o->pass && m->o->user) {
		ARG("AUTH2");
		ARG(m->o->user);
		ARG(m->o->pass);
	} else if (m->o->pass) {
		ARG("AUTH");
		ARG(m->o->pass);
	}
	ARG("KEYS");
#undef ARG
	for (size_t i = 0; i < n; i++) {
		argv[argc] = keys[i];
		argvlen[argc++] = lens[i];
	}
	return argc;
}

/* One round trip on the source: [ASKING,] the MIGRATE of argv [, the
 * GETKEYSINSLOT of the next batch [, and of the next slot (ahead)]], read in
 * order. MIGRATE may legitimately run up to its own timeout (mig_timeout)
 * per exchange with the target, so the source is not given up on before
 * that. */
static int mover_exchange(struct mover *m, int argc, const char **argv, const size_t *argvlen,
	int mig_timeout, bool fetch, redisReply **reply, redisReply **next_keys, struct sc_error *err)
{
	bool ahead = fetch && mover_chains(m);

	if (mover_set_timeout(m, m->io_timeout_ms + 2 * mig_timeout, err) != 0)
		return -1;
	if (m->o->asking && conn_append(m->from, err, "ASKING") != 0)
		return -1;
	if (conn_append_argv(m->from, argc, argv, argvlen, err) != 0)
		return -1;
	if (fetch && mover_append_getkeys(m, m->slot, err) != 0)
		return -1;
	if (ahead && mover_append_getkeys(m, m->o->next_slot, err) != 0)
		return -1;
	if (m->o->asking) {
		redisReply *r = conn_get_reply(m->from, err);

		if (!r)
			return -1;
		freeReplyObject(r);
	}
	if (!(*reply = conn_get_reply(m->from, err)))
		return -1;
	if (fetch && !(*next_keys = conn_get_reply(m->from, err)))
		return -1;
	if (ahead) {
		redisReply *r = conn_get_reply(m->from, err);

		if (!r)
			return -1;
		if (m->ahead)
			freeReplyObject(m->ahead);
		m->ahead = r;
	}
	return mover_set_timeout(m, m->io_timeout_ms, err);
}

static long long min_ll(long long a, long long b)
{
	return a < b ? a : b;
}

/* When a slot failing since m->failed_at stops retrying a batch of `bytes`:
 * MOVER_RETRY_BUDGET times the longer of the command and MIGRATE timeouts
 * plus the time its size calls for. */
static long long mover_retry_deadline(const struct mover *m, long long bytes)
{
	long long mig = m->o->migrate_timeout_ms > m->io_timeout_ms ? m->o->migrate_timeout_ms : m->io_timeout_ms;

	return m->failed_at + MOVER_RETRY_BUDGET * (mig + min_ll(bytes / MOVER_BYTES_PER_MS, MOVER_MAX_MIGRATE_MS));
}

/* Sends MIGRATE for n keys (REPLACE when asked), optionally followed in the
 * same round trip by the GETKEYSINSLOT of the next batch. On success *reply
 * holds MIGRATE's reply (may be an error reply) and *next_keys the fetch's. */
static int mover_send(struct mover *m, const char *const *keys, const size_t *lens, size_t n,
	long long bytes, bool replace, bool fetch, redisReply **reply, redisReply **next_keys,
	struct sc_error *err)
{
	size_t cap = n + 12, argc;
	const char **argv = calloc(cap, sizeof(*argv));
	size_t *argvlen = calloc(cap, sizeof(*argvlen));
	char port[16], timeout[16];
	int mig_timeout = m->o->migrate_timeout_ms > 0 ? m->o->migrate_timeout_ms : 2000;
	int rc = -1;

	*reply = *next_keys = NULL;
	if (!argv || !argvlen) {
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
		goto out;
	}
	/* a key of known size gets time for it, doubled after each failure in a
	 * row (a loaded target may restore slower than assumed), all within an
	 * hour (bytes are sizes of at most CONN_MAX_COUNT) and, when retrying,
	 * within what is left of the retry budget */
	mig_timeout += (int)min_ll((bytes / MOVER_BYTES_PER_MS) << (m->failures < 4 ? m->failures : 4),
		MOVER_MAX_MIGRATE_MS);
	if (m->failed_at)
		mig_timeout = (int)min_ll(mig_timeout, mover_retry_deadline(m, bytes) - sc_clock_ms());
	if (mig_timeout < 1)
		mig_timeout = 1;
	snprintf(port, sizeof(port), "%d", m->dst_port);
	snprintf(timeout, sizeof(timeout), "%d", mig_timeout);
	argc = mover_migrate_args(m, keys, lens, n, replace, port, timeout, argv, argvlen);
	rc = mover_exchange(m, (int)argc, argv, argvlen, mig_timeout, fetch, reply, next_keys, err);
out:
	if (rc != 0) {
		if (*reply)
			freeReplyObject(*reply);
		*reply = NULL;
	}
	free(argv);
	free(argvlen);
	return rc;
}

static bool reply_is_error(const redisReply *r)
{
	return r->type == REDIS_REPLY_ERROR;
}

static bool error_has(const redisReply *r, const char *word)
{
	return reply_is_error(r) && r->str && strstr(r->str, word) != NULL;
}

/* I/O trouble between the two nodes, a timeout included. */
static bool error_is_io(const redisReply *r)
{
	return error_has(r, "IOERR") || error_has(r, "timeout");
}

/* Errors between the two nodes that a retry may cure. */
static bool error_is_transient(const redisReply *r)
{
	return error_is_io(r) || error_has(r, "LOADING") || error_has(r, "TRYAGAIN");
}

/* One I/O failure between the nodes, of a batch of `bytes` (0: unknown):
 * back off, halve the batch, and refetch (some keys may have moved). Fails
 * once the retries or the time budget (mover_retry_deadline) are spent. */
static int mover_retry(struct mover *m, const char *why, long long bytes, struct sc_error *err)
{
	int retries = m->o->retries > 0 ? m->o->retries : MOVER_DEFAULT_RETRIES;
	long long now = sc_clock_ms(), pause;

	if (!m->failed_at)
		m->failed_at = now;
	pause = min_ll(100LL << (m->failures < 10 ? m->failures : 10),
		mover_retry_deadline(m, bytes) - now - MOVER_MIN_ATTEMPT_MS);
	if (++m->failures > retries || pause < 0)
		return sc_error_set(err, SC_EXIT_UNREACHABLE, "'%s' replied to MIGRATE: %s (after %d %s in %lld ms)",
			conn_addr(m->from), why, m->failures - 1, m->failures == 2 ? "retry" : "retries",
			now - m->failed_at);
	sc_sleep_ms(pause);
	m->batch = m->batch / 2 > 0 ? m->batch / 2 : 1;
	mover_drop_keys(m);
	return 0;
}

/* DUMP of each key on c: a NULL entry when c does not hold it. */
static int dump_keys(struct conn *c, bool asking, const char *const *keys, const size_t *lens,
	size_t n, redisReply **out, struct sc_error *err)
{
	if (keyed_pipeline(c, asking, "DUMP", NULL, keys, lens, n, out, err) != 0) {
		free_replies(out, n);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (out[i]->type != REDIS_REPLY_STRING) {
			freeReplyObject(out[i]);
			out[i] = NULL;
		}
	}
	return 0;
}

static bool same_dump(const redisReply *a, const redisReply *b)
{
	return a && b && a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
}

static void name_keys(char *buf, size_t size, const char *const *keys, const size_t *lens, size_t n)
{
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
	strbuf_add_keys(&sb, keys, lens, n, MOVER_MAX_NAMED_KEYS);
}

/* The error for n keys the target holds with other values than the source. */
static int busy_refused(const struct mover *m, const char *const *keys, const size_t *lens, size_t n,
	struct sc_error *err)
{
	char names[512];

	name_keys(names, sizeof(names), keys, lens, n);
	return sc_error_set(err, SC_EXIT_PROBLEMS,
		"%zu key%s of slot %d already exist%s on '%s:%d' with other values: %s; nothing was "
		"overwritten (rerun with --replace to overwrite the target's copies)",
		n, n == 1 ? "" : "s", m->slot, n == 1 ? "s" : "", m->dst_host, m->dst_port, names);
}

/* Moves n keys whose copies on the target are identical with MIGRATE
 * REPLACE (nothing when n is 0); bytes, their serialized size, sizes the
 * timeout. */
static int mover_replace_same(struct mover *m, const char *const *keys, const size_t *lens, size_t n,
	long long bytes, struct sc_error *err)
{
	redisReply *r = NULL, *unused = NULL;

	if (n == 0)
		return 0;
	if (mover_send(m, keys, lens, n, bytes, true, false, &r, &unused, err) != 0)
		return -1;
	if (error_is_transient(r)) {
		/* as for any MIGRATE: back off and start over from the keys
		 * still on the source (the copies may meet BUSYKEY again) */
		int rc = mover_retry(m, r->str, bytes, err);

		freeReplyObject(r);
		return rc;
	}
	if (reply_is_error(r)) {
		sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' replied to MIGRATE REPLACE: %s",
			conn_addr(m->from), r->str);
		freeReplyObject(r);
		return -1;
	}
	freeReplyObject(r);
	m->failures = 0;
	m->failed_at = 0;
	m->stats->keys += (long long)n;
	m->stats->batches++;
	return 0;
}

/* After BUSYKEY: the group's keys still on the source are those the target
 * refused. Copies identical on both sides (left by an interrupted MIGRATE)
 * are moved with REPLACE, losing nothing; any other refuses the slot with
 * an error naming the keys. */
static int mover_resolve_busy(struct mover *m, const char *const *keys, const size_t *lens,
	size_t n, struct sc_error *err)
{
	struct conn_opts copts = { .user = m->o->user, .pass = m->o->pass, .connect_timeout_ms = m->io_timeout_ms,
		.command_timeout_ms = m->io_timeout_ms, .tls = m->o->tls };
	redisReply **src = calloc(n, sizeof(*src)), **dst = calloc(n, sizeof(*dst));
	const char **same = calloc(n, sizeof(*same)), **diff = calloc(n, sizeof(*diff));
	size_t *same_len = calloc(n, sizeof(*same_len)), *diff_len = calloc(n, sizeof(*diff_len));
	size_t nsame = 0, ndiff = 0;
	long long same_bytes = 0;
	struct conn *target = NULL;
	int rc = -1;

	if (!src || !dst || !same || !diff || !same_len || !diff_len) {
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
		goto out;
	}
	if (dump_keys(m->from, m->o->asking, keys, lens, n, src, err) != 0)
		goto out;
	if (conn_open(m->dst_host, m->dst_port, &copts, &target, err) != 0)
		goto out;
	conn_set_reply_limit(target, CONN_REPLY_MAX_VALUE_BYTES, 0);
	if (dump_keys(target, true, keys, lens, n, dst, err) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (!src[i])
			m->stats->keys++; /* the target took it */
		if (!src[i] || !dst[i])
			continue; /* moved, or not on the target after all: the next round takes it */
		if (same_dump(src[i], dst[i])) {
			same[nsame] = keys[i];
			same_len[nsame++] = lens[i];
			same_bytes += (long long)src[i]->len;
		} else {
			diff[ndiff] = keys[i];
			diff_len[ndiff++] = lens[i];
		}
	}
	if (ndiff > 0)
		busy_refused(m, diff, diff_len, ndiff, err);
	else
		rc = mover_replace_same(m, same, same_len, nsame, same_bytes, err);
out:
	if (src)
		free_replies(src, n);
	if (dst)
		free_replies(dst, n);
	conn_close(target);
	free(src);
	free(dst);
	free(same);
	free(diff);
	free(same_len);
	free(diff_len);
	return rc;
}

/* Adapts the batch to keep one MIGRATE under the blocking bound: over it,
 * the batch shrinks in proportion; well under it (three quarters) after a
 * full batch, it grows by a quarter (at least one key), so one slow
 * exchange does not keep batches small for the rest of a stream. */
static void mover_adapt(struct mover *m, size_t sent, long long elapsed_us)
{
	long long bound = m->o->max_block_us;

	if (bound <= 0)
		return;
	if (elapsed_us > bound && sent > 1) {
		long long b = (long long)sent * bound / elapsed_us;

		m->batch = b < 1 ? 1 : (int)b;
	} else if (elapsed_us * 4 < bound * 3 && sent >= (size_t)m->batch && m->batch < m->o->batch_keys) {
		int grown = m->batch + (m->batch / 4 > 0 ? m->batch / 4 : 1);

		m->batch = grown > m->o->batch_keys ? m->o->batch_keys : grown;
	}
}

/* The target says the cluster is down: wait for it to come back, bounded,
 * without counting it as an I/O failure (nothing moved, nothing is lost). */
static int mover_wait_cluster(struct mover *m, const char *why, struct sc_error *err)
{
	long long now = sc_clock_ms();

	if (!m->down_since)
		m->down_since = now;
	if (now - m->down_since > MOVER_CLUSTERDOWN_WAIT_MS)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' replied to MIGRATE: %s (for %d s; see 'slotctl check')",
			conn_addr(m->from), why, MOVER_CLUSTERDOWN_WAIT_MS / 1000);
	sc_sleep_ms(MOVER_CLUSTERDOWN_PAUSE_MS);
	mover_drop_keys(m);
	return 0;
}

static bool mover_stopped(const struct mover *m)
{
	return m->o->stop && *m->o->stop;
}

/* MIGRATE took the group of n keys (bytes): count it, or, when none of them
 * was there any more (NOKEY), count a stall. Fails when keys keep
 * reappearing. */
static int mover_accept(struct mover *m, const redisReply *r, size_t n, long long bytes,
	struct sc_error *err)
{
	bool nokey = r->type == REDIS_REPLY_STATUS && strcmp(r->str, "NOKEY") == 0;

	if (!nokey && (r->type != REDIS_REPLY_STATUS || strcmp(r->str, "OK") != 0))
		return sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' replied to MIGRATE with neither OK nor NOKEY",
			conn_addr(m->from));
	m->failures = 0;
	m->failed_at = 0;
	m->down_since = 0;
	m->stalls = nokey ? m->stalls + 1 : 0;
	if (m->stalls > MOVER_MAX_STALLS)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "keys of slot %d keep reappearing on '%s'",
			m->slot, conn_addr(m->from));
	if (!nokey) {
		m->stats->keys += (long long)n;
		m->stats->bytes += bytes;
		m->stats->batches++;
		if (m->o->on_batch)
			m->o->on_batch(m->o->ctx, m->slot, (long long)n, bytes);
	}
	m->next += n;
	return 0;
}

/* One MIGRATE of the next group, then whatever its reply calls for. */
static int mover_round(struct mover *m, struct sc_error *err)
{
	long long bytes, t0;
	size_t n = mover_pick(m, &bytes);
	const char **keys = calloc(n, sizeof(*keys));
	size_t *lens = calloc(n, sizeof(*lens));
	bool fetch = n == mover_remaining(m);
	redisReply *r = NULL, *next = NULL;
	int rc = -1;

	if (!keys || !lens) {
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		keys[i] = m->keys->element[m->next + i]->str;
		lens[i] = m->keys->element[m->next + i]->len;
	}
	t0 = sc_clock_us();
	if (mover_send(m, keys, lens, n, bytes, m->o->replace, fetch, &r, &next, err) != 0)
		goto out;
	mover_adapt(m, n, sc_clock_us() - t0);
	if (!reply_is_error(r)) {
		rc = mover_accept(m, r, n, bytes, err);
	} else if (error_has(r, "BUSYKEY")) {
		rc = mover_resolve_busy(m, keys, lens, n, err);
		mover_drop_keys(m);
	} else if (error_is_transient(r)) {
		/* maybe a big key nobody sampled: size the next timeouts by MEMORY USAGE */
		m->probe = m->probe || error_is_io(r);
		rc = mover_retry(m, r->str, bytes, err);
	} else if (error_has(r, "CLUSTERDOWN")) {
		rc = mover_wait_cluster(m, r->str, err);
	} else {
		sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' replied to MIGRATE: %s", conn_addr(m->from), r->str);
	}
	if (rc == 0 && next && m->keys && m->next == m->keys->elements) {
		rc = mover_take_keys(m, next, err);
		next = NULL;
	}
out:
	if (r)
		freeReplyObject(r);
	if (next)
		freeReplyObject(next);
	free(keys);
	free(lens);
	return rc;
}

int slotops_migrate_keys(struct conn *from, const char *dst_host, int dst_port, int slot,
	const struct migrate_opts *opts, struct migrate_stats *stats, struct sc_error *err)
{
	struct mover m = {
		.from = from, .dst_host = dst_host, .dst_port = dst_port, .slot = slot,
		.o = opts, .stats = stats,
		.io_timeout_ms = opts->io_timeout_ms > 0 ? opts->io_timeout_ms : SC_DEFAULT_TIMEOUT_MS,
		.batch = opts->batch_keys > 0 ? opts->batch_keys : 1,
		.probe = opts->probe_sizes,
	};
	int rc = 0;

	m.cur_timeout_ms = m.io_timeout_ms;
	/* keys named at length and DUMP payloads: the budget of replies with values */
	conn_set_reply_limit(from, CONN_REPLY_MAX_VALUE_BYTES, 0);
	if (opts->batch_hint && *opts->batch_hint > 0 && *opts->batch_hint < m.batch)
		m.batch = *opts->batch_hint;
	if (opts->carry && *opts->carry) {
		rc = mover_take_keys(&m, *opts->carry, err);
		*opts->carry = NULL;
	}
	while (rc == 0) {
		/* an empty answer, fetched while the slot is MIGRATING, stays true */
		if (mover_remaining(&m) == 0 && m.keys && m.keys->elements == 0)
			break;
		if (mover_stopped(&m)) {
			rc = sc_error_set(err, SC_EXIT_INTERRUPTED, "interrupted");
			break;
		}
		if (mover_remaining(&m) == 0 && ((rc = mover_fetch(&m, err)) != 0 || m.keys->elements == 0))
			break;
		if (m.probe && !m.sizes && (rc = mover_probe_sizes(&m, err)) != 0)
			break;
		rc = mover_round(&m, err);
	}
	mover_drop_keys(&m);
	conn_set_reply_limit(from, 0, 0);
	if (opts->batch_hint)
		*opts->batch_hint = m.batch;
	if (opts->carry && rc == 0)
		*opts->carry = m.ahead;
	else if (m.ahead)
		freeReplyObject(m.ahead);
	if (rc != 0)
		return mover_fail(&m, err);
	return 0;
}
