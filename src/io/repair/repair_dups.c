/* repair_dups.c: keys that both nodes of one of fix's key moves hold. The
 * keys of the slot on each node (GETKEYSINSLOT), those on both compared by
 * their DUMP payloads: the same bytes move (REPLACE harms nothing), others
 * are settled by --prefer (the copy kept; repair_prefer_parse reads the
 * option) or leave the item, naming the keys. Only repair_delete_keys
 * changes anything: the copies --prefer target overrules. */
#include "repair_priv.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/keyslot.h"
#include "slotctl/io/slotops.h"
#include "slotctl/core/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPAIR_NAMED_KEYS 5

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


void repair_dup_scan_release(struct dup_scan *d)
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

int repair_dup_scan_run(struct conn *src, struct conn *dst, int slot, struct dup_scan *d,
	struct sc_error *err)
{
	const char **both = NULL;
	size_t *both_lens = NULL, nboth = 0;
	int rc = -1;

	memset(d, 0, sizeof(*d));
	if (keylist_fetch(src, slot, &d->src, err) != 0 || keylist_fetch(dst, slot, &d->dst, err) != 0) {
		repair_dup_scan_release(d);
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
		repair_dup_scan_release(d);
	return rc;
}

static void name_keys(const struct dup_scan *d, char *buf, size_t size)
{
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
	strbuf_add_keys(&sb, d->diff, d->diff_lens, d->ndiff, REPAIR_NAMED_KEYS);
}

enum keep repair_keep_for(const struct repair_item *it, int src, int dst, enum repair_prefer p)
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

void repair_leave_for_conflicts(const struct snapshot *s, struct repair_item *it,
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

int repair_delete_keys(struct conn *c, const struct dup_scan *d, long long *dropped,
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
