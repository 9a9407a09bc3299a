/* sandbox_data.c: sample data for a sandbox: uniform string keys with
 * deterministic values, and a skewed set of large hashes and lists so that a
 * few slots hold far more memory than the rest. Each key is written to the
 * master that owns its slot, pipelined. */
#include "sandbox_priv.h"
#include "slotctl/core/exitcode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIPELINE_DEPTH 256
#define SKEW_SLOTS 4
#define SKEW_SEED 0x5107c71u
#define SKEW_FIELD_BYTES 200
#define SKEW_BATCH 100

/* One pipelined connection per master that owns slots. */
struct writer {
	const struct sandbox *sb;
	int owner[SC_SLOTS];
	struct conn **c;        /* per node, opened on first use */
	int *pending;           /* replies not yet read, per node */
};

static int writer_init(struct writer *w, const struct sandbox *sb, struct sc_error *err)
{
	w->sb = sb;
	w->c = calloc((size_t)sb->count, sizeof(*w->c));
	w->pending = calloc((size_t)sb->count, sizeof(*w->pending));
	if (!w->c || !w->pending)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	return sandbox_owner_map(sb, 0, w->owner, err);
}

static int writer_drain(struct writer *w, int i, struct sc_error *err)
{
	for (; w->pending[i] > 0; w->pending[i]--) {
		redisReply *r = sandbox_checked(w->c[i], conn_get_reply(w->c[i], err), "a sample-data write", err);

		if (!r)
			return -1;
		freeReplyObject(r);
	}
	return 0;
}

/* Queues one command (argv form) for the owner of slot. */
static int writer_send(struct writer *w, int slot, int argc, const char **argv, const size_t *argvlen,
	struct sc_error *err)
{
	int i = w->owner[slot];

	if (i < 0)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "cannot write '%s': node 0 says no master owns slot %d",
			argv[1], slot);
	if (!w->c[i] && !(w->c[i] = sandbox_connect(w->sb, i, err)))
		return -1;
	if (conn_append_argv(w->c[i], argc, argv, argvlen, err) < 0)
		return -1;
	if (++w->pending[i] >= PIPELINE_DEPTH)
		return writer_drain(w, i, err);
	return 0;
}

static int writer_finish(struct writer *w, int rc, struct sc_error *err)
{
	for (int i = 0; w->c && i < w->sb->count; i++) {
		if (rc == 0 && w->c[i] && writer_drain(w, i, err) < 0)
			rc = -1;
		conn_close(w->c[i]);
	}
	free(w->c);
	free(w->pending);
	return rc;
}

void sandbox_value_for(const char *prefix, long i, char *buf, size_t size)
{
	unsigned long h = 5381;

	for (const char *p = prefix; *p; p++)
		h = h * 33 + (unsigned char)*p;
	h = (h ^ (unsigned long)i) * 2654435761u;
	snprintf(buf, size, "%s:%ld:%08lx", prefix, i, h & 0xffffffffu);
}

int sandbox_load_keys(const struct sandbox *sb, const char *prefix, long n, struct sc_error *err)
{
	struct writer w = { 0 };
	int rc = writer_init(&w, sb, err);

	for (long i = 0; rc == 0 && i < n; i++) {
		char key[256], value[300];
		const char *argv[3] = { "SET", key, value };

		snprintf(key, sizeof(key), "%s:%ld", prefix, i);
		sandbox_value_for(prefix, i, value, sizeof(value));
		rc = writer_send(&w, keyslot_of(key, strlen(key)), 3, argv, NULL, err);
	}
	return writer_finish(&w, rc, err);
}

static unsigned next_random(unsigned *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

/* Appends `count` fields/elements to key with cmd (HSET key f v ... or
 * RPUSH key v ...), SKEW_BATCH per command. */
static int write_big(struct writer *w, const char *cmd, const char *key, int count, unsigned *rnd,
	struct sc_error *err)
{
	const char *argv[2 + 2 * SKEW_BATCH];
	char fields[SKEW_BATCH][24];
	char value[SKEW_FIELD_BYTES + 1];
	bool hash = strcmp(cmd, "HSET") == 0;
	int slot = keyslot_of(key, strlen(key));

	memset(value, 'a' + (int)(next_random(rnd) % 26), SKEW_FIELD_BYTES);
	value[SKEW_FIELD_BYTES] = '\0';
	for (int done = 0; done < count;) {
		int argc = 2;

		argv[0] = cmd;
		argv[1] = key;
		for (int k = 0; k < SKEW_BATCH && done < count; k++, done++) {
			if (hash) {
				snprintf(fields[k], sizeof(fields[k]), "f%d", done);
				argv[argc++] = fields[k];
			}
			argv[argc++] = value;
		}
		if (writer_send(w, slot, argc, argv, NULL, err) < 0)
			return -1;
	}
	return 0;
}

int sandbox_load_skewed(const struct sandbox *sb, struct sc_error *err)
{
	struct writer w = { 0 };
	unsigned rnd = SKEW_SEED;
	int rc = writer_init(&w, sb, err);

	for (int k = 0; rc == 0 && k < SKEW_SLOTS; k++) {
		unsigned tag = next_random(&rnd);
		/* 1 to 4 MB of hash, half that of list, per hot slot */
		int fields = (int)((k + 1) * 5000 + next_random(&rnd) % 1000);
		char key[64];

		snprintf(key, sizeof(key), "skew:{%08x}:hash", tag);
		rc = write_big(&w, "HSET", key, fields, &rnd, err);
		snprintf(key, sizeof(key), "skew:{%08x}:list", tag);
		if (rc == 0)
			rc = write_big(&w, "RPUSH", key, fields / 2, &rnd, err);
	}
	return writer_finish(&w, rc, err);
}
