/* journal.c: the checkpoint format (see slotctl/core/journal.h): journal records
 * to and from JSON lines, and folding them into each slot's last known phase.
 * Pure: no files, no sockets. */
#include "slotctl/core/journal.h"
#include "slotctl/core/transport.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/json_strict.h"
#include "slotctl/core/strbuf.h"
#include "slotctl/core/json_doc.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const phase_names[JOURNAL_PHASE_COUNT] = {
	[JOURNAL_PENDING] = "pending",
	[JOURNAL_IMPORTING] = "importing",
	[JOURNAL_MIGRATING] = "migrating",
	[JOURNAL_KEYS_MOVED] = "keys-moved",
	[JOURNAL_OWNER_TARGET] = "owner-on-target",
	[JOURNAL_OWNER_SOURCE] = "owner-on-source",
	[JOURNAL_OWNER_ALL] = "owner-on-all",
	[JOURNAL_DONE] = "done",
	[JOURNAL_ABORTED] = "aborted",
};

static const char *const kind_names[] = { "start", "slot", "end" };

const char *journal_phase_name(enum journal_phase phase)
{
	if ((int)phase < 0 || phase >= JOURNAL_PHASE_COUNT)
		return "unknown";
	return phase_names[phase];
}

int journal_phase_parse(const char *name, enum journal_phase *out)
{
	for (int i = 0; i < JOURNAL_PHASE_COUNT; i++) {
		if (strcmp(name, phase_names[i]) == 0) {
			*out = (enum journal_phase)i;
			return 0;
		}
	}
	return -1;
}

static int add_string(cJSON *o, const char *name, const char *value)
{
	return cJSON_AddStringToObject(o, name, value) ? 0 : -1;
}

static int add_number(cJSON *o, const char *name, double value)
{
	return json_add_number(o, name, value) ? 0 : -1;
}

/* The START record's "pacing" object (format 1.1). */
static int encode_pacing(cJSON *o, const struct journal_pacing *p)
{
	cJSON *q = cJSON_AddObjectToObject(o, "pacing");
	int rc = 0;

	if (!q)
		return -1;
	rc |= add_number(q, "max_keys_per_sec", (double)p->max_keys_per_sec);
	rc |= add_number(q, "max_bytes_per_sec", (double)p->max_bytes_per_sec);
	rc |= add_number(q, "max_block_us", (double)p->max_block_us);
	rc |= add_number(q, "batch_keys", (double)p->batch_keys);
	rc |= add_number(q, "batch_bytes", (double)p->batch_bytes);
	rc |= add_number(q, "parallel", p->parallel);
	return rc;
}

/* "shards": the text form of journal_record.shards as an array of arrays. */
static int add_shards(cJSON *o, const char *p)
{
	cJSON *all = cJSON_AddArrayToObject(o, "shards");

	while (all && *p) {
		cJSON *one = cJSON_CreateArray();

		if (!one || !cJSON_AddItemToArray(all, one)) {
			cJSON_Delete(one);
			return -1;
		}
		while (*p && *p != ';') {
			size_t n = strcspn(p, " ;");
			char id[SC_NODE_ID_LEN + 1];

			if (n > 0 && n <= SC_NODE_ID_LEN) {
				memcpy(id, p, n);
				id[n] = '\0';
				if (!cJSON_AddItemToArray(one, cJSON_CreateString(id)))
					return -1;
			}
			p += n;
			if (*p == ' ')
				p++;
		}
		if (*p == ';')
			p++;
	}
	return all ? 0 : -1;
}

/* The "shards" array of arrays of ids into journal_record.shards' text
 * form; absent: NULL. */
static int decode_shards(const cJSON *o, char **out, struct sc_error *err)
{
	const cJSON *all = cJSON_GetObjectItemCaseSensitive(o, "shards"), *one, *id;
	size_t size = 1;
	struct strbuf sb;
	char *s;

	*out = NULL;
	if (!all)
		return 0;
	if (!cJSON_IsArray(all))
		return sc_error_set(err, SC_EXIT_USAGE, "field 'shards' is not an array");
	cJSON_ArrayForEach(one, all) {
		if (!cJSON_IsArray(one))
			return sc_error_set(err, SC_EXIT_USAGE, "field 'shards' holds something else than arrays");
		cJSON_ArrayForEach(id, one)
			if (!cJSON_IsString(id) || !*id->valuestring || strlen(id->valuestring) > SC_NODE_ID_LEN ||
			    strpbrk(id->valuestring, " ;"))
				return sc_error_set(err, SC_EXIT_USAGE, "field 'shards' holds something else than node ids");
		size += (size_t)cJSON_GetArraySize(one) * (SC_NODE_ID_LEN + 1) + 1;
	}
	if (!(s = malloc(size)))
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	strbuf_init(&sb, s, size);
	cJSON_ArrayForEach(one, all) {
		bool first = true;

		cJSON_ArrayForEach(id, one) {
			strbuf_addf(&sb, "%s%s", first ? (sb.len ? ";" : "") : " ", id->valuestring);
			first = false;
		}
	}
	*out = s;
	return 0;
}

static int encode_fields(cJSON *o, const struct journal_record *r)
{
	int rc = 0;

	rc |= add_string(o, "record", kind_names[r->kind]);
	rc |= add_number(o, "time_ms", (double)r->time_ms);
	switch (r->kind) {
	case JOURNAL_REC_START:
		rc |= add_string(o, "op", r->op);
		rc |= add_string(o, "fingerprint", r->fingerprint);
		rc |= add_string(o, "plan", r->plan_path);
		rc |= add_string(o, "seeds", r->seeds ? r->seeds : "");
		if (r->pacing.recorded)
			rc |= encode_pacing(o, &r->pacing);
		if (r->shards)
			rc |= add_shards(o, r->shards);
		if (r->backend[0])
			rc |= add_string(o, "backend", r->backend);
		if (r->transport.recorded)
			rc |= transport_note_encode(o, &r->transport);
		break;
	case JOURNAL_REC_SLOT:
		rc |= add_number(o, "slot", r->slot);
		rc |= add_string(o, "phase", journal_phase_name(r->phase));
		rc |= add_string(o, "from", r->from);
		rc |= add_string(o, "to", r->to);
		rc |= add_number(o, "batch", r->batch);
		rc |= add_number(o, "keys", (double)r->keys);
		if (r->job[0])
			rc |= add_string(o, "job", r->job);
		if (r->failed) {
			rc |= cJSON_AddTrueToObject(o, "failed") ? 0 : -1;
			rc |= add_string(o, "message", r->message);
		}
		break;
	case JOURNAL_REC_END:
		rc |= add_string(o, "status", r->status);
		rc |= add_string(o, "message", r->message);
		break;
	}
	return rc;
}

/* A SLOT record that is not a failure, with plain names, straight into its
 * line: the same text encode_fields and cJSON give (fields in the same
 * order, numbers as add_number prints them), without building a cJSON tree
 * per record (a 4096-slot move writes three records a slot: the tree was
 * most of the journaling's CPU). NULL when the record is another kind
 * (the caller then takes the general path) or out of memory. */
static char *encode_slot_line(const struct journal_record *r)
{
	char buf[512];
	struct strbuf sb;

	if (r->kind != JOURNAL_REC_SLOT || r->failed || !json_is_plain(r->from) || !json_is_plain(r->to) ||
	    !json_is_plain(r->job) ||
	    r->time_ms < 0 || r->time_ms > 1000000000000000LL || r->keys < -1000000000000000LL ||
	    r->keys > 1000000000000000LL)
		return NULL;
	/* strbuf_adds/addll, not one snprintf: three records a slot made the
	 * format parsing most of a big move's journaling CPU */
	strbuf_init(&sb, buf, sizeof(buf));
	strbuf_adds(&sb, "{\"format_version\":\"");
	strbuf_addll(&sb, JOURNAL_FORMAT_MAJOR);
	strbuf_adds(&sb, ".");
	strbuf_addll(&sb, JOURNAL_FORMAT_MINOR);
	strbuf_adds(&sb, "\",\"record\":\"slot\",\"time_ms\":");
	strbuf_addll(&sb, r->time_ms);
	strbuf_adds(&sb, ",\"slot\":");
	strbuf_addll(&sb, r->slot);
	strbuf_adds(&sb, ",\"phase\":\"");
	strbuf_adds(&sb, journal_phase_name(r->phase));
	strbuf_adds(&sb, "\",\"from\":\"");
	strbuf_adds(&sb, r->from);
	strbuf_adds(&sb, "\",\"to\":\"");
	strbuf_adds(&sb, r->to);
	strbuf_adds(&sb, "\",\"batch\":");
	strbuf_addll(&sb, r->batch);
	strbuf_adds(&sb, ",\"keys\":");
	strbuf_addll(&sb, r->keys);
	if (r->job[0]) {
		strbuf_adds(&sb, ",\"job\":\"");
		strbuf_adds(&sb, r->job);
		strbuf_adds(&sb, "\"");
	}
	strbuf_adds(&sb, "}\n");
	return sb.truncated ? NULL : strdup(buf);
}

char *journal_encode(const struct journal_record *r, struct sc_error *err)
{
	char version[16], *text = NULL, *line = NULL;
	cJSON *o;
	size_t len;

	if ((line = encode_slot_line(r)))
		return line;
	snprintf(version, sizeof(version), "%d.%d", JOURNAL_FORMAT_MAJOR, JOURNAL_FORMAT_MINOR);
	o = json_doc_new(version);
	if (!o || encode_fields(o, r) != 0 || !(text = cJSON_PrintUnformatted(o)))
		goto out;
	len = strlen(text);
	if ((line = malloc(len + 2))) {
		memcpy(line, text, len);
		line[len] = '\n';
		line[len + 1] = '\0';
	}
out:
	cJSON_Delete(o);
	cJSON_free(text);
	if (!line)
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory encoding a journal record");
	return line;
}

/* Copies the string field name of o into buf; -1 when absent or too long
 * (unless optional and absent). */
static int get_string(const cJSON *o, const char *name, bool optional, char *buf, size_t size,
	struct sc_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!v && optional) {
		buf[0] = '\0';
		return 0;
	}
	if (!cJSON_IsString(v) || strlen(v->valuestring) >= size)
		return sc_error_set(err, SC_EXIT_USAGE, "field '%s' is missing or not a valid string", name);
	memcpy(buf, v->valuestring, strlen(v->valuestring) + 1);
	return 0;
}

static int get_number(const cJSON *o, const char *name, double min, double max, double *out,
	struct sc_error *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > max) {
		/* a literal -1, not sc_error_set's value: the compiler must see that *out
		 * is unset only when we fail (release builds warn otherwise) */
		sc_error_set(err, SC_EXIT_USAGE, "field '%s' is missing or out of range", name);
		return -1;
	}
	*out = v->valuedouble;
	return 0;
}

static int check_version(const cJSON *o, struct sc_error *err)
{
	char version[16];
	int major = 0, minor;

	if (get_string(o, "format_version", false, version, sizeof(version), err) != 0)
		return -1;
	if (json_doc_version(version, &major, &minor) < 0 || major != JOURNAL_FORMAT_MAJOR)
		return sc_error_set(err, SC_EXIT_USAGE,
			"unsupported journal format_version '%s' (this slotctl reads %d.x)",
			version, JOURNAL_FORMAT_MAJOR);
	return 0;
}

static int decode_kind(const cJSON *o, enum journal_kind *kind, struct sc_error *err)
{
	char name[16];

	if (get_string(o, "record", false, name, sizeof(name), err) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
		if (strcmp(name, kind_names[i]) == 0) {
			*kind = (enum journal_kind)i;
			return 0;
		}
	}
	return sc_error_set(err, SC_EXIT_USAGE, "field 'record' has unknown value '%s'", name);
}

/* Reads the optional "pacing" object; a journal before 1.1 has none. */
static int decode_pacing(const cJSON *o, struct journal_pacing *p, struct sc_error *err)
{
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(o, "pacing");
	double kps, bps, block, keys, bytes, parallel;

	if (!q)
		return 0;
	if (!cJSON_IsObject(q))
		return sc_error_set(err, SC_EXIT_USAGE, "field 'pacing' is not an object");
	if (get_number(q, "max_keys_per_sec", 0, 1e15, &kps, err) != 0 ||
	    get_number(q, "max_bytes_per_sec", 0, 1e18, &bps, err) != 0 ||
	    get_number(q, "max_block_us", 0, 1e15, &block, err) != 0 ||
	    get_number(q, "batch_keys", 0, 1e9, &keys, err) != 0 ||
	    get_number(q, "batch_bytes", 0, 1e18, &bytes, err) != 0 ||
	    get_number(q, "parallel", 0, 1e6, &parallel, err) != 0)
		return sc_error_prefix(err, "field 'pacing'");
	p->recorded = true;
	p->max_keys_per_sec = (long long)kps;
	p->max_bytes_per_sec = (long long)bps;
	p->max_block_us = (long long)block;
	p->batch_keys = (long long)keys;
	p->batch_bytes = (long long)bytes;
	p->parallel = (int)parallel;
	return 0;
}

static int decode_start(const cJSON *o, struct journal_record *r, struct sc_error *err)
{
	const cJSON *seeds;

	if (get_string(o, "op", false, r->op, sizeof(r->op), err) != 0 ||
	    get_string(o, "fingerprint", false, r->fingerprint, sizeof(r->fingerprint), err) != 0 ||
	    get_string(o, "plan", true, r->plan_path, sizeof(r->plan_path), err) != 0 ||
	    get_string(o, "backend", true, r->backend, sizeof(r->backend), err) != 0 ||
	    decode_pacing(o, &r->pacing, err) != 0 || transport_note_decode(o, &r->transport, err) != 0)
		return -1;
	seeds = cJSON_GetObjectItemCaseSensitive(o, "seeds");
	if (seeds && !cJSON_IsString(seeds))
		return sc_error_set(err, SC_EXIT_USAGE, "field 'seeds' is not a string");
	if (!(r->seeds = strdup(seeds ? seeds->valuestring : "")))
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	return decode_shards(o, &r->shards, err);
}

static int decode_slot(const cJSON *o, struct journal_record *r, struct sc_error *err)
{
	char phase[32];
	double slot, batch, keys;

	if (get_number(o, "slot", 0, SC_SLOTS - 1, &slot, err) != 0 ||
	    get_string(o, "phase", false, phase, sizeof(phase), err) != 0 ||
	    get_string(o, "from", false, r->from, sizeof(r->from), err) != 0 ||
	    get_string(o, "to", false, r->to, sizeof(r->to), err) != 0 ||
	    get_number(o, "batch", 0, 1e9, &batch, err) != 0 ||
	    get_number(o, "keys", 0, 9e18, &keys, err) != 0 ||
	    get_string(o, "message", true, r->message, sizeof(r->message), err) != 0 ||
	    get_string(o, "job", true, r->job, sizeof(r->job), err) != 0)
		return -1;
	if (journal_phase_parse(phase, &r->phase) != 0)
		return sc_error_set(err, SC_EXIT_USAGE, "field 'phase' has unknown value '%s'", phase);
	r->slot = (int)slot;
	r->batch = (int)batch;
	r->keys = (long long)keys;
	r->failed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "failed"));
	return 0;
}

int journal_decode(const char *line, size_t len, struct journal_record *out, struct sc_error *err)
{
	cJSON *o = NULL;
	struct journal_record r;
	double t;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	/* one object per line, no key twice (json_strict.h) */
	if (json_parse_strict(line, len, "record", &o, err) < 0)
		goto out;
	if (!cJSON_IsObject(o)) {
		sc_error_set(err, SC_EXIT_USAGE, "not a JSON object");
		goto out;
	}
	if (check_version(o, err) != 0 || decode_kind(o, &r.kind, err) != 0 ||
	    get_number(o, "time_ms", 0, 9e15, &t, err) != 0)
		goto out;
	r.time_ms = (long long)t;
	if (r.kind == JOURNAL_REC_START)
		rc = decode_start(o, &r, err);
	else if (r.kind == JOURNAL_REC_SLOT)
		rc = decode_slot(o, &r, err);
	else
		rc = get_string(o, "status", false, r.status, sizeof(r.status), err) != 0 ||
			get_string(o, "message", true, r.message, sizeof(r.message), err) != 0 ? -1 : 0;
out:
	cJSON_Delete(o);
	if (rc == 0)
		*out = r;
	else
		journal_record_release(&r);
	return rc;
}

void journal_record_release(struct journal_record *r)
{
	free(r->seeds);
	free(r->shards);
	memset(r, 0, sizeof(*r));
}

void journal_state_init(struct journal_state *st)
{
	memset(st, 0, sizeof(*st));
	for (int i = 0; i < SC_SLOTS; i++)
		st->index[i] = -1;
}

static void state_forget_slots(struct journal_state *st)
{
	for (size_t i = 0; i < st->count; i++)
		st->index[st->slots[i].slot] = -1;
	st->count = 0;
}

static struct journal_slot *state_slot_add(struct journal_state *st, int slot, struct sc_error *err)
{
	struct journal_slot *s;

	if (st->index[slot] >= 0)
		return &st->slots[st->index[slot]];
	if (st->count == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 64;
		struct journal_slot *grown = realloc(st->slots, cap * sizeof(*grown));

		if (!grown) {
			sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
			return NULL;
		}
		st->slots = grown;
		st->cap = cap;
	}
	s = &st->slots[st->count];
	memset(s, 0, sizeof(*s));
	s->slot = slot;
	st->index[slot] = (int)st->count++;
	return s;
}

static int fold_start(struct journal_state *st, const struct journal_record *r, struct sc_error *err)
{
	char *seeds = strdup(r->seeds ? r->seeds : "");
	char *shards = r->shards ? strdup(r->shards) : NULL;

	if (!seeds || (r->shards && !shards)) {
		free(seeds);
		free(shards);
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	}
	if (shards) {
		free(st->shards);
		st->shards = shards;
	}
	if (strcmp(r->op, "apply") == 0 && journal_state_finished(st))
		state_forget_slots(st);
	free(st->seeds);
	st->seeds = seeds;
	snprintf(st->fingerprint, sizeof(st->fingerprint), "%s", r->fingerprint);
	snprintf(st->plan_path, sizeof(st->plan_path), "%s", r->plan_path);
	snprintf(st->last_op, sizeof(st->last_op), "%s", r->op);
	snprintf(st->backend, sizeof(st->backend), "%s", r->backend);
	st->pacing = r->pacing;
	st->transport = r->transport;
	st->runs++;
	st->ended = false;
	st->end_status[0] = st->end_message[0] = '\0';
	return 0;
}

static int fold_slot(struct journal_state *st, const struct journal_record *r, struct sc_error *err)
{
	struct journal_slot *s = state_slot_add(st, r->slot, err);

	if (!s)
		return -1;
	memcpy(s->from, r->from, sizeof(s->from));
	memcpy(s->to, r->to, sizeof(s->to));
	s->batch = r->batch;
	s->phase = r->phase;
	s->keys = r->keys;
	memcpy(s->job, r->job, sizeof(s->job));
	s->failed = r->failed;
	memcpy(s->message, r->failed ? r->message : "", r->failed ? sizeof(s->message) : 1);
	return 0;
}

int journal_fold(struct journal_state *st, const struct journal_record *r, struct sc_error *err)
{
	switch (r->kind) {
	case JOURNAL_REC_START:
		return fold_start(st, r, err);
	case JOURNAL_REC_SLOT:
		return fold_slot(st, r, err);
	case JOURNAL_REC_END:
		st->ended = true;
		snprintf(st->end_status, sizeof(st->end_status), "%s", r->status);
		snprintf(st->end_message, sizeof(st->end_message), "%s", r->message);
		return 0;
	}
	return 0;
}

int journal_replay(struct journal_state *st, const char *text, size_t len, struct sc_error *err)
{
	size_t pos = 0;
	int lineno = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		struct journal_record r;
		size_t n;

		if (!nl)
			break; /* torn last line: the write it belonged to never completed */
		n = (size_t)(nl - (text + pos));
		lineno++;
		if (n > 0) {
			if (journal_decode(text + pos, n, &r, err) != 0)
				return sc_error_prefix(err, "journal line %d", lineno);
			if (journal_fold(st, &r, err) != 0) {
				journal_record_release(&r);
				return -1;
			}
			journal_record_release(&r);
		}
		pos += n + 1;
	}
	return 0;
}

const struct journal_slot *journal_state_slot(const struct journal_state *st, int slot)
{
	if (slot < 0 || slot >= SC_SLOTS || st->index[slot] < 0)
		return NULL;
	return &st->slots[st->index[slot]];
}

bool journal_slot_settled(const struct journal_slot *s)
{
	return s->phase == JOURNAL_DONE || s->phase == JOURNAL_ABORTED;
}

size_t journal_state_unfinished(const struct journal_state *st)
{
	size_t n = 0;

	for (size_t i = 0; i < st->count; i++)
		if (!journal_slot_settled(&st->slots[i]))
			n++;
	return n;
}

bool journal_state_finished(const struct journal_state *st)
{
	return journal_state_unfinished(st) == 0;
}

void journal_state_release(struct journal_state *st)
{
	free(st->slots);
	free(st->seeds);
	free(st->shards);
	journal_state_init(st);
}
