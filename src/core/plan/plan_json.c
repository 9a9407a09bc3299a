/* plan_json.c: reading plan files (format in man/slotctl-plan.5) and the
 * plan model's small helpers. plan_parse validates everything a plan claims
 * before anyone acts on it and names the offending field; plan_write.c
 * writes the same model back. Pure: text in, model out. */
#include "slotctl/core/plan.h"
#include "slotctl/core/addr.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/json_strict.h"
#include "slotctl/core/json_doc.h"
#include "plan_priv.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Top-level fields of the model; anything else is kept verbatim in extra. */
static const char *const known_fields[] = {
	"format_version", "created", "slotctl_version", "seed", "kind", "by",
	"fingerprint", "nodes", "batches", "big_keys", "warnings", "transport", NULL,
};

#define MAX_SAFE_INT 9007199254740992.0 /* 2^53: every integer below is exact in JSON */

/* ---- reading: typed field access that names the field on error ---- */

static void join_path(char *buf, size_t size, const char *prefix, const char *name)
{
	snprintf(buf, size, "%s%s%s", prefix, *prefix ? "." : "", name);
}

static int missing(struct sc_error *err, const char *prefix, const char *name)
{
	char path[160];

	join_path(path, sizeof(path), prefix, name);
	return sc_error_set(err, SC_EXIT_USAGE, "plan field '%s' is missing", path);
}

/* The member name of obj, or NULL (absent or JSON null). */
static const cJSON *member(const cJSON *obj, const char *name)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsNull(item) ? NULL : item;
}

static int read_string(const cJSON *obj, const char *prefix, const char *name, bool required,
	char *buf, size_t size, struct sc_error *err)
{
	const cJSON *item = member(obj, name);
	char path[160];

	if (!item) {
		if (required)
			return missing(err, prefix, name);
		buf[0] = '\0';
		return 0;
	}
	join_path(path, sizeof(path), prefix, name);
	if (!cJSON_IsString(item))
		return sc_error_set(err, SC_EXIT_USAGE, "plan field '%s' must be a string", path);
	if (strlen(item->valuestring) >= size)
		return sc_error_set(err, SC_EXIT_USAGE, "plan field '%s' is too long (at most %zu bytes)",
			path, size - 1);
	memcpy(buf, item->valuestring, strlen(item->valuestring) + 1);
	return 0;
}

static int read_number(const cJSON *obj, const char *prefix, const char *name, bool required,
	double min, double max, double def, double *out, bool integer, struct sc_error *err)
{
	const cJSON *item = member(obj, name);
	char path[160];
	double v;

	if (!item) {
		if (required)
			return missing(err, prefix, name);
		*out = def;
		return 0;
	}
	join_path(path, sizeof(path), prefix, name);
	v = cJSON_IsNumber(item) ? item->valuedouble : NAN;
	if (isnan(v) || v < min || v > max || (integer && floor(v) != v))
		return sc_error_set(err, SC_EXIT_USAGE, "plan field '%s' must be a %s from %.0f to %.0f",
			path, integer ? "whole number" : "number", min, max);
	*out = v;
	return 0;
}

static int read_ll(const cJSON *obj, const char *prefix, const char *name, bool required,
	long long min, long long def, long long *out, struct sc_error *err)
{
	double v;

	if (read_number(obj, prefix, name, required, (double)min, MAX_SAFE_INT, (double)def,
			&v, true, err) < 0)
		return -1;
	*out = (long long)v;
	return 0;
}

static int read_bool(const cJSON *obj, const char *prefix, const char *name, bool *out,
	struct sc_error *err)
{
	const cJSON *item = member(obj, name);
	char path[160];

	*out = false;
	if (!item)
		return 0;
	join_path(path, sizeof(path), prefix, name);
	if (!cJSON_IsBool(item))
		return sc_error_set(err, SC_EXIT_USAGE, "plan field '%s' must be true or false", path);
	*out = cJSON_IsTrue(item);
	return 0;
}

/* The error for a failed allocation while reading a plan; returns -1. */
static int no_memory(struct sc_error *err)
{
	return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory reading the plan");
}

/* The array member name of obj (NULL and 0 when absent and optional). */
static int read_array(const cJSON *obj, const char *prefix, const char *name, bool required,
	const cJSON **out, size_t *count, struct sc_error *err)
{
	const cJSON *item = member(obj, name);
	char path[160];

	*out = NULL;
	*count = 0;
	if (!item)
		return required ? missing(err, prefix, name) : 0;
	join_path(path, sizeof(path), prefix, name);
	if (!cJSON_IsArray(item))
		return sc_error_set(err, SC_EXIT_USAGE, "plan field '%s' must be an array", path);
	*out = item;
	*count = (size_t)cJSON_GetArraySize(item);
	return 0;
}

static int expect_object(const cJSON *item, const char *path, struct sc_error *err)
{
	if (!cJSON_IsObject(item))
		return sc_error_set(err, SC_EXIT_USAGE, "plan field '%s' must be an object", path);
	return 0;
}

static int read_node_id(const cJSON *obj, const char *prefix, const char *name,
	char out[SC_NODE_ID_LEN + 1], struct sc_error *err)
{
	char path[160];

	if (read_string(obj, prefix, name, true, out, SC_NODE_ID_LEN + 1, err) < 0)
		return -1;
	join_path(path, sizeof(path), prefix, name);
	if (!*out)
		return sc_error_set(err, SC_EXIT_USAGE, "plan field '%s' is empty", path);
	return 0;
}

/* ---- reading: the parts of a plan ---- */

static int parse_version(const cJSON *root, struct plan *p, struct sc_error *err)
{
	char text[32];
	int major, minor;

	if (read_string(root, "", "format_version", true, text, sizeof(text), err) < 0)
		return -1;
	if (json_doc_version(text, &major, &minor) < 0)
		return sc_error_set(err, SC_EXIT_USAGE,
			"plan field 'format_version' is '%s', not MAJOR.MINOR", text);
	if (major < PLAN_FORMAT_OLDEST_MAJOR || major > PLAN_FORMAT_MAJOR)
		return sc_error_set(err, SC_EXIT_USAGE,
			"plan field 'format_version' is '%s': this slotctl reads versions %d.x to %d.x only",
			text, PLAN_FORMAT_OLDEST_MAJOR, PLAN_FORMAT_MAJOR);
	p->format_major = major;
	p->format_minor = minor;
	return 0;
}

static int parse_slots(const cJSON *obj, const char *prefix, struct slotset *out,
	struct sc_error *err)
{
	const cJSON *item = member(obj, "slots");
	char path[160];

	join_path(path, sizeof(path), prefix, "slots");
	slotset_clear(out);
	if (!item)
		return missing(err, prefix, "slots");
	if (!cJSON_IsString(item))
		return sc_error_set(err, SC_EXIT_USAGE, "plan field '%s' must be a string of slot ranges", path);
	if (!*item->valuestring)
		return 0;
	if (slotset_parse(item->valuestring, out, err) < 0)
		return sc_error_prefix(err, "plan field '%s'", path);
	return 0;
}

static int parse_summary(const cJSON *obj, const char *prefix, const char *name,
	long long *slots, long long *keys, long long *bytes, long long *cpu_usec, struct sc_error *err)
{
	const cJSON *item = member(obj, name);
	char path[160];

	*slots = *keys = *bytes = *cpu_usec = -1;
	if (!item)
		return 0;
	join_path(path, sizeof(path), prefix, name);
	if (expect_object(item, path, err) < 0 ||
	    read_ll(item, path, "slots", false, 0, -1, slots, err) < 0 ||
	    read_ll(item, path, "keys", false, -1, -1, keys, err) < 0 ||
	    read_ll(item, path, "bytes", false, -1, -1, bytes, err) < 0 ||
	    read_ll(item, path, "cpu_usec", false, -1, -1, cpu_usec, err) < 0)
		return -1;
	if (*slots > SC_SLOTS)
		return sc_error_set(err, SC_EXIT_USAGE, "plan field '%s.slots' is above %d", path, SC_SLOTS);
	return 0;
}

/* "replicas": an optional array of node ids (format 1.1); ids past
 * PLAN_MAX_REPLICAS are left out. */
static int parse_replicas(const cJSON *obj, const char *prefix, struct plan_node *n, struct sc_error *err)
{
	const cJSON *arr, *item;
	size_t count;
	char path[160];

	if (read_array(obj, prefix, "replicas", false, &arr, &count, err) < 0)
		return -1;
	join_path(path, sizeof(path), prefix, "replicas");
	n->replica_count = 0;
	cJSON_ArrayForEach(item, arr) {
		if (!cJSON_IsString(item) || !*item->valuestring || strlen(item->valuestring) > SC_NODE_ID_LEN)
			return sc_error_set(err, SC_EXIT_USAGE, "plan field '%s' must hold node ids", path);
		if (n->replica_count < PLAN_MAX_REPLICAS)
			memcpy(n->replicas[n->replica_count++], item->valuestring, strlen(item->valuestring) + 1);
	}
	return 0;
}

/* A node's address: "address" ("host:port") from version 2, "host" and
 * "port" before. */
static int parse_node_address(const cJSON *item, const char *path, int major, struct plan_node *n,
	struct sc_error *err)
{
	char text[sizeof(n->host) + 8];
	struct sc_error why;
	double port;

	if (major < 2) {
		char host[sizeof(n->host)];

		if (read_string(item, path, "host", true, host, sizeof(host), err) < 0 ||
		    read_number(item, path, "port", true, 1, 65535, 0, &port, true, err) < 0)
			return -1;
		/* held to what a 2.x "address" may say, so that the plan this
		 * one is written out as reads back (an empty host did not) */
		addr_format(text, sizeof(text), host, (int)port);
	} else if (read_string(item, path, "address", true, text, sizeof(text), err) < 0) {
		return -1;
	}
	if (addr_parse(text, n->host, sizeof(n->host), &n->port, &why) < 0)
		return sc_error_set(err, SC_EXIT_USAGE, "plan field '%s.%s' is '%s', not HOST:PORT", path,
			major < 2 ? "host" : "address", text);
	return 0;
}

static int parse_node(const cJSON *item, size_t i, int major, struct plan_node *n, struct sc_error *err)
{
	char path[64];
	double epoch;
	long long unused;

	snprintf(path, sizeof(path), "nodes[%zu]", i);
	if (expect_object(item, path, err) < 0 ||
	    read_node_id(item, path, "id", n->id, err) < 0 ||
	    parse_node_address(item, path, major, n, err) < 0 ||
	    read_number(item, path, "config_epoch", true, 0, MAX_SAFE_INT, 0, &epoch, true, err) < 0 ||
	    parse_slots(item, path, &n->slots, err) < 0 ||
	    parse_replicas(item, path, n, err) < 0 ||
	    read_number(item, path, "weight", false, 0, 1e9, 1.0, &n->weight, false, err) < 0 ||
	    read_ll(item, path, "used_memory", false, -1, -1, &n->used_memory, err) < 0 ||
	    read_ll(item, path, "maxmemory", false, -1, -1, &n->maxmemory, err) < 0 ||
	    parse_summary(item, path, "before", &unused, &n->keys_before, &n->bytes_before,
		    &n->cpu_usec_before, err) < 0 ||
	    parse_summary(item, path, "after", &unused, &n->keys_after, &n->bytes_after,
		    &n->cpu_usec_after, err) < 0)
		return -1;
	n->config_epoch = (unsigned long long)epoch;
	n->slots_after = unused >= 0 ? (int)unused : slotset_count(&n->slots);
	return 0;
}

static int node_cmp(const void *a, const void *b)
{
	return strcmp(((const struct plan_node *)a)->id, ((const struct plan_node *)b)->id);
}

/* Sorts the nodes by id and checks ids are unique and no slot has two owners. */
static int check_nodes(struct plan *p, struct sc_error *err)
{
	struct slotset seen;

	qsort(p->nodes, p->node_count, sizeof(*p->nodes), node_cmp);
	slotset_clear(&seen);
	for (size_t i = 0; i < p->node_count; i++) {
		struct slotset both;

		if (i > 0 && strcmp(p->nodes[i - 1].id, p->nodes[i].id) == 0)
			return sc_error_set(err, SC_EXIT_USAGE, "plan field 'nodes' lists node '%s' twice",
				p->nodes[i].id);
		slotset_intersect(&both, &seen, &p->nodes[i].slots);
		if (slotset_count(&both) > 0) {
			char ranges[64];

			slotset_format(&both, ranges, sizeof(ranges));
			return sc_error_set(err, SC_EXIT_USAGE,
				"plan field 'nodes' gives slots %s to two nodes (one is '%s')",
				ranges, p->nodes[i].id);
		}
		for (size_t w = 0; w < SC_SLOTS / 64; w++)
			seen.bits[w] |= p->nodes[i].slots.bits[w];
	}
	return 0;
}

static int parse_nodes(const cJSON *root, struct plan *p, struct sc_error *err)
{
	const cJSON *arr, *item;
	size_t count, i = 0;

	if (read_array(root, "", "nodes", true, &arr, &count, err) < 0)
		return -1;
	if (count == 0)
		return sc_error_set(err, SC_EXIT_USAGE, "plan field 'nodes' is empty");
	p->nodes = calloc(count, sizeof(*p->nodes));
	if (!p->nodes)
		return no_memory(err);
	cJSON_ArrayForEach(item, arr) {
		if (parse_node(item, i, p->format_major, &p->nodes[i], err) < 0)
			return -1;
		p->node_count = ++i;
	}
	return check_nodes(p, err);
}

static int check_move_node(const struct plan *p, const char *path, const char *field,
	const char *id, struct sc_error *err)
{
	if (!plan_find_node(p, id))
		return sc_error_set(err, SC_EXIT_USAGE,
			"plan field '%s.%s' names node '%s', which is not in 'nodes'", path, field, id);
	return 0;
}

static int parse_move(const cJSON *item, const char *path, const struct plan *p,
	struct plan_move *m, struct sc_error *err)
{
	double slot;
	const struct plan_node *from;

	if (expect_object(item, path, err) < 0 ||
	    read_number(item, path, "slot", true, 0, SC_SLOTS - 1, 0, &slot, true, err) < 0 ||
	    read_node_id(item, path, "from", m->from, err) < 0 ||
	    read_node_id(item, path, "to", m->to, err) < 0 ||
	    read_ll(item, path, "keys", false, -1, -1, &m->keys, err) < 0 ||
	    read_ll(item, path, "bytes", false, -1, -1, &m->bytes, err) < 0 ||
	    read_bool(item, path, "hot", &m->hot, err) < 0 ||
	    read_bool(item, path, "big", &m->big, err) < 0)
		return -1;
	m->slot = (int)slot;
	if (check_move_node(p, path, "from", m->from, err) < 0 ||
	    check_move_node(p, path, "to", m->to, err) < 0)
		return -1;
	if (strcmp(m->from, m->to) == 0)
		return sc_error_set(err, SC_EXIT_USAGE,
			"plan field '%s' moves slot %d from node '%s' to itself", path, m->slot, m->from);
	from = plan_find_node(p, m->from);
	if (!slotset_has(&from->slots, m->slot))
		return sc_error_set(err, SC_EXIT_USAGE,
			"plan field '%s' moves slot %d from node '%s', which does not own it in 'nodes'",
			path, m->slot, m->from);
	return 0;
}

static int parse_batch(const cJSON *item, size_t b, struct plan *p, int *seen_at,
	struct sc_error *err)
{
	struct plan_batch *batch = &p->batches[b];
	const cJSON *arr, *mv;
	char prefix[48], path[80];
	size_t count, i = 0;

	snprintf(prefix, sizeof(prefix), "batches[%zu]", b);
	if (expect_object(item, prefix, err) < 0 ||
	    read_array(item, prefix, "moves", true, &arr, &count, err) < 0)
		return -1;
	batch->moves = calloc(count ? count : 1, sizeof(*batch->moves));
	if (!batch->moves)
		return no_memory(err);
	cJSON_ArrayForEach(mv, arr) {
		struct plan_move *m = &batch->moves[i];

		snprintf(path, sizeof(path), "%s.moves[%zu]", prefix, i);
		if (parse_move(mv, path, p, m, err) < 0)
			return -1;
		batch->count = ++i;
		if (seen_at[m->slot] >= 0)
			return sc_error_set(err, SC_EXIT_USAGE,
				"plan field '%s' moves slot %d, which batch %d already moves",
				path, m->slot, seen_at[m->slot]);
		seen_at[m->slot] = (int)b;
	}
	return 0;
}

static int parse_batches(const cJSON *root, struct plan *p, struct sc_error *err)
{
	const cJSON *arr, *item;
	size_t count, b = 0;
	int *seen_at;
	int rc = 0;

	if (read_array(root, "", "batches", true, &arr, &count, err) < 0)
		return -1;
	p->batches = calloc(count ? count : 1, sizeof(*p->batches));
	seen_at = malloc(SC_SLOTS * sizeof(*seen_at));
	if (!p->batches || !seen_at) {
		free(seen_at);
		return no_memory(err);
	}
	for (int s = 0; s < SC_SLOTS; s++)
		seen_at[s] = -1;
	cJSON_ArrayForEach(item, arr) {
		p->batch_count = b + 1;
		rc = parse_batch(item, b++, p, seen_at, err);
		if (rc < 0)
			break;
	}
	free(seen_at);
	return rc;
}

static int parse_warnings(const cJSON *root, struct plan *p, struct sc_error *err)
{
	const cJSON *arr, *item;
	size_t count, i = 0;

	if (read_array(root, "", "warnings", false, &arr, &count, err) < 0)
		return -1;
	if (count == 0)
		return 0;
	p->warnings = calloc(count, sizeof(*p->warnings));
	if (!p->warnings)
		return no_memory(err);
	cJSON_ArrayForEach(item, arr) {
		if (!cJSON_IsString(item))
			return sc_error_set(err, SC_EXIT_USAGE, "plan field 'warnings[%zu]' must be a string", i);
		p->warnings[i] = strdup(item->valuestring);
		if (!p->warnings[i])
			return no_memory(err);
		p->warning_count = ++i;
	}
	return 0;
}

static int parse_big_keys(const cJSON *root, struct plan *p, struct sc_error *err)
{
	const cJSON *arr, *item;
	size_t count, i = 0;

	if (read_array(root, "", "big_keys", false, &arr, &count, err) < 0)
		return -1;
	if (count == 0)
		return 0;
	p->big_keys = calloc(count, sizeof(*p->big_keys));
	if (!p->big_keys)
		return no_memory(err);
	cJSON_ArrayForEach(item, arr) {
		struct plan_big_key *k = &p->big_keys[i];
		char path[48];
		const cJSON *key;
		double slot;

		snprintf(path, sizeof(path), "big_keys[%zu]", i);
		if (expect_object(item, path, err) < 0 ||
		    read_number(item, path, "slot", true, 0, SC_SLOTS - 1, 0, &slot, true, err) < 0 ||
		    read_ll(item, path, "bytes", false, -1, -1, &k->bytes, err) < 0)
			return -1;
		key = member(item, "key");
		if (!cJSON_IsString(key))
			return key ? sc_error_set(err, SC_EXIT_USAGE, "plan field '%s.key' must be a string", path)
				   : missing(err, path, "key");
		k->slot = (int)slot;
		k->key = strdup(key->valuestring);
		if (!k->key)
			return no_memory(err);
		p->big_key_count = ++i;
	}
	return 0;
}

bool plan_field_is_known(const char *name)
{
	for (int i = 0; known_fields[i]; i++)
		if (strcmp(known_fields[i], name) == 0)
			return true;
	return false;
}

/* Moves the unknown top-level members of root into a new object (p->extra). */
static int keep_extra(cJSON *root, struct plan *p, struct sc_error *err)
{
	cJSON *item = root->child;

	while (item) {
		cJSON *next = item->next;

		if (!plan_field_is_known(item->string)) {
			if (!p->extra && !(p->extra = cJSON_CreateObject()))
				return no_memory(err);
			cJSON_AddItemToObject(p->extra, item->string,
				cJSON_DetachItemViaPointer(root, item));
		}
		item = next;
	}
	return 0;
}

/* Line and column of offset in text, for malformed-JSON messages. */
/* "kind" (required) and "by" (optional: absent or "" is MEASURE_UNKNOWN),
 * each one of its words. */
static int parse_kind_by(const cJSON *root, struct plan *p, struct sc_error *err)
{
	char kind[16], by[16];

	if (read_string(root, "", "kind", true, kind, sizeof(kind), err) < 0 ||
	    read_string(root, "", "by", false, by, sizeof(by), err) < 0)
		return -1;
	if (plan_kind_parse(kind, &p->kind) < 0)
		return sc_error_set(err, SC_EXIT_USAGE,
			"plan field 'kind' is '%s', not reshard, rebalance or drain", kind);
	p->by = MEASURE_UNKNOWN;
	if (by[0] && plan_measure_parse(by, &p->by, err) < 0)
		return sc_error_set(err, SC_EXIT_USAGE, "plan field 'by' is '%s', not slots, keys, memory or cpu", by);
	return 0;
}

static int parse_root(cJSON *root, struct plan *p, struct sc_error *err)
{
	if (!cJSON_IsObject(root))
		return sc_error_set(err, SC_EXIT_USAGE, "plan is not a JSON object");
	if (parse_version(root, p, err) < 0 ||
	    read_string(root, "", "created", false, p->created, sizeof(p->created), err) < 0 ||
	    read_string(root, "", "slotctl_version", false, p->version, sizeof(p->version), err) < 0 ||
	    read_string(root, "", "seed", false, p->seed, sizeof(p->seed), err) < 0 ||
	    parse_kind_by(root, p, err) < 0 ||
	    read_string(root, "", "fingerprint", true, p->fingerprint, sizeof(p->fingerprint), err) < 0)
		return -1;
	if (strlen(p->fingerprint) != 16 || strspn(p->fingerprint, "0123456789abcdef") != 16)
		return sc_error_set(err, SC_EXIT_USAGE,
			"plan field 'fingerprint' is '%s', not 16 lowercase hex digits", p->fingerprint);
	if (parse_nodes(root, p, err) < 0 || parse_batches(root, p, err) < 0 ||
	    parse_warnings(root, p, err) < 0 || parse_big_keys(root, p, err) < 0)
		return -1;
	if (transport_note_decode(root, &p->transport, err) < 0)
		return sc_error_prefix(err, "plan");
	return keep_extra(root, p, err);
}

int plan_parse(const char *text, size_t len, struct plan *out, struct sc_error *err)
{
	struct plan p;
	cJSON *root;
	int rc;

	memset(&p, 0, sizeof(p));
	sc_error_clear(err);
	/* one plan and nothing after it, no key twice: what slotctl reads is
	 * what a person or another JSON reader of the file sees */
	if (json_parse_strict(text, len, "plan", &root, err) < 0)
		return -1;
	rc = parse_root(root, &p, err);
	cJSON_Delete(root);
	if (rc < 0) {
		plan_release(&p);
		return -1;
	}
	*out = p;
	return 0;
}

/* ---- the model ---- */

size_t plan_move_count(const struct plan *p)
{
	size_t n = 0;

	for (size_t b = 0; b < p->batch_count; b++)
		n += p->batches[b].count;
	return n;
}

const struct plan_node *plan_find_node(const struct plan *p, const char *id)
{
	struct plan_node key;

	if (strlen(id) > SC_NODE_ID_LEN || p->node_count == 0)
		return NULL;
	memcpy(key.id, id, strlen(id) + 1);
	return bsearch(&key, p->nodes, p->node_count, sizeof(*p->nodes), node_cmp);
}

void plan_release(struct plan *p)
{
	for (size_t b = 0; b < p->batch_count; b++)
		free(p->batches[b].moves);
	free(p->batches);
	for (size_t i = 0; i < p->warning_count; i++)
		free(p->warnings[i]);
	free(p->warnings);
	for (size_t i = 0; i < p->big_key_count; i++)
		free(p->big_keys[i].key);
	free(p->big_keys);
	free(p->nodes);
	cJSON_Delete(p->extra);
	memset(p, 0, sizeof(*p));
}
