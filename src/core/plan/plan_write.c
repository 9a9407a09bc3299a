/* plan_write.c: writing a plan as the JSON of a plan file (format in
 * man/slotctl-plan.5): deterministic and indented, so that equal plans give
 * equal bytes and a reviewer can diff two plans. Unknown fields a reader kept
 * (plan->extra) are written back. Pure: model in, text out. */
#include "slotctl/core/plan.h"
#include "slotctl/core/addr.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/json_doc.h"
#include "slotctl/core/strbuf.h"
#include "plan_priv.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *summary_json(enum plan_measure by, long long slots, long long keys, long long bytes,
	long long cpu_usec, double total)
{
	cJSON *o = cJSON_CreateObject();
	double m = (double)plan_measure_pick(by, slots, keys, bytes, cpu_usec);

	json_add_number(o, "slots", (double)slots);
	json_add_number(o, "keys", (double)keys);
	json_add_number(o, "bytes", (double)bytes);
	json_add_number(o, "cpu_usec", (double)cpu_usec);
	json_add_number(o, "share", total > 0 && m >= 0 ? round(10000.0 * m / total) / 100.0 : 0);
	return o;
}

static cJSON *node_json(const struct plan_node *n, enum plan_measure by, double total_before,
	double total_after)
{
	cJSON *o = cJSON_CreateObject(), *replicas;
	size_t need = slotset_format(&n->slots, NULL, 0) + 1;
	char *ranges = malloc(need);
	int slots = slotset_count(&n->slots);
	char address[sizeof(n->host) + 16];

	if (!o || !ranges) {
		free(ranges);
		cJSON_Delete(o);
		return NULL;
	}
	slotset_format(&n->slots, ranges, need);
	cJSON_AddStringToObject(o, "id", n->id);
	addr_format(address, sizeof(address), n->host, n->port);
	cJSON_AddStringToObject(o, "address", address);
	json_add_number(o, "config_epoch", (double)n->config_epoch);
	cJSON_AddStringToObject(o, "slots", ranges);
	if ((replicas = cJSON_AddArrayToObject(o, "replicas")))
		for (int i = 0; i < n->replica_count; i++)
			cJSON_AddItemToArray(replicas, cJSON_CreateString(n->replicas[i]));
	json_add_number(o, "weight", n->weight);
	json_add_number(o, "used_memory", (double)n->used_memory);
	json_add_number(o, "maxmemory", (double)n->maxmemory);
	cJSON_AddItemToObject(o, "before", summary_json(by, slots, n->keys_before, n->bytes_before,
		n->cpu_usec_before, total_before));
	cJSON_AddItemToObject(o, "after", summary_json(by, n->slots_after, n->keys_after, n->bytes_after,
		n->cpu_usec_after, total_after));
	free(ranges);
	return o;
}

static cJSON *nodes_json(const struct plan *p)
{
	cJSON *arr = cJSON_CreateArray();
	double before = 0, after = 0;

	for (size_t i = 0; i < p->node_count; i++) {
		const struct plan_node *n = &p->nodes[i];
		double b = (double)plan_measure_pick(p->by, slotset_count(&n->slots), n->keys_before,
			n->bytes_before, n->cpu_usec_before);
		double a = (double)plan_measure_pick(p->by, n->slots_after, n->keys_after, n->bytes_after,
			n->cpu_usec_after);

		before += b > 0 ? b : 0;
		after += a > 0 ? a : 0;
	}
	for (size_t i = 0; arr && i < p->node_count; i++) {
		cJSON *n = node_json(&p->nodes[i], p->by, before, after);

		if (!n) {
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddItemToArray(arr, n);
	}
	return arr;
}

static cJSON *move_json(const struct plan_move *m)
{
	cJSON *o = cJSON_CreateObject();

	json_add_number(o, "slot", m->slot);
	cJSON_AddStringToObject(o, "from", m->from);
	cJSON_AddStringToObject(o, "to", m->to);
	json_add_number(o, "keys", (double)m->keys);
	json_add_number(o, "bytes", (double)m->bytes);
	cJSON_AddBoolToObject(o, "hot", m->hot);
	cJSON_AddBoolToObject(o, "big", m->big);
	return o;
}

/* The tabs before a move's fields and before its closing brace: a move
 * object sits at depth 5 of a plan (root, "batches", a batch, "moves", the
 * move), where cJSON_Print indents its members 5 tabs and its "}" 4. */
#define MOVE_FIELD "\n\t\t\t\t\t\""
#define MOVE_CLOSE "\n\t\t\t\t}"

/* A move as the very text cJSON_Print gives move_json's object in its place
 * (test_plan pins the two equal), made by hand into one raw member: the
 * 4096 objects of a 4096-slot plan, their members and their printing were
 * the largest piece (9 of 45 ms) of what a one-shot did before its first
 * move. NULL when
 * a name needs escaping or a number is beyond +-1e15 (the caller then builds
 * the object), or out of memory. */
static cJSON *move_raw(const struct plan_move *m)
{
	char buf[512];
	struct strbuf sb;

	if (!json_is_plain(m->from) || !json_is_plain(m->to) || m->keys < -1000000000000000LL ||
	    m->keys > 1000000000000000LL || m->bytes < -1000000000000000LL || m->bytes > 1000000000000000LL)
		return NULL;
	strbuf_init(&sb, buf, sizeof(buf));
	strbuf_adds(&sb, "{" MOVE_FIELD "slot\":\t");
	strbuf_addll(&sb, m->slot);
	strbuf_adds(&sb, "," MOVE_FIELD "from\":\t\"");
	strbuf_adds(&sb, m->from);
	strbuf_adds(&sb, "\"," MOVE_FIELD "to\":\t\"");
	strbuf_adds(&sb, m->to);
	strbuf_adds(&sb, "\"," MOVE_FIELD "keys\":\t");
	strbuf_addll(&sb, m->keys);
	strbuf_adds(&sb, "," MOVE_FIELD "bytes\":\t");
	strbuf_addll(&sb, m->bytes);
	strbuf_adds(&sb, "," MOVE_FIELD "hot\":\t");
	strbuf_adds(&sb, m->hot ? "true" : "false");
	strbuf_adds(&sb, "," MOVE_FIELD "big\":\t");
	strbuf_adds(&sb, m->big ? "true" : "false");
	strbuf_adds(&sb, MOVE_CLOSE);
	return sb.truncated ? NULL : cJSON_CreateRaw(buf);
}

static cJSON *batches_json(const struct plan *p)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t b = 0; arr && b < p->batch_count; b++) {
		cJSON *batch = cJSON_CreateObject();
		cJSON *moves = cJSON_AddArrayToObject(batch, "moves");

		for (size_t i = 0; moves && i < p->batches[b].count; i++) {
			const struct plan_move *m = &p->batches[b].moves[i];
			cJSON *raw = move_raw(m);

			cJSON_AddItemToArray(moves, raw ? raw : move_json(m));
		}
		cJSON_AddItemToArray(arr, batch);
	}
	return arr;
}

static cJSON *big_keys_json(const struct plan *p)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; arr && i < p->big_key_count; i++) {
		cJSON *o = cJSON_CreateObject();

		json_add_number(o, "slot", p->big_keys[i].slot);
		cJSON_AddStringToObject(o, "key", p->big_keys[i].key);
		json_add_number(o, "bytes", (double)p->big_keys[i].bytes);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *warnings_json(const struct plan *p)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; arr && i < p->warning_count; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(p->warnings[i]));
	return arr;
}

static cJSON *plan_json(const struct plan *p)
{
	char version[32];
	cJSON *root;
	const cJSON *item;

	snprintf(version, sizeof(version), "%d.%d", PLAN_FORMAT_MAJOR, PLAN_FORMAT_MINOR);
	if (!(root = json_doc_new(version)))
		return NULL;
	cJSON_AddStringToObject(root, "created", p->created);
	cJSON_AddStringToObject(root, "slotctl_version", p->version);
	cJSON_AddStringToObject(root, "seed", p->seed);
	cJSON_AddStringToObject(root, "kind", plan_kind_name(p->kind));
	cJSON_AddStringToObject(root, "by", plan_measure_name(p->by));
	cJSON_AddStringToObject(root, "fingerprint", p->fingerprint);
	cJSON_AddItemToObject(root, "nodes", nodes_json(p));
	cJSON_AddItemToObject(root, "batches", batches_json(p));
	cJSON_AddItemToObject(root, "big_keys", big_keys_json(p));
	cJSON_AddItemToObject(root, "warnings", warnings_json(p));
	if (p->transport.recorded && transport_note_encode(root, &p->transport) != 0) {
		cJSON_Delete(root);
		return NULL;
	}
	if (p->extra)
		cJSON_ArrayForEach(item, (const cJSON *)p->extra)
			if (!plan_field_is_known(item->string))
				cJSON_AddItemToObject(root, item->string, cJSON_Duplicate(item, true));
	return root;
}

char *plan_serialize(const struct plan *p, struct sc_error *err)
{
	cJSON *root = plan_json(p);
	char *text = root ? cJSON_Print(root) : NULL;

	cJSON_Delete(root);
	if (!text) {
		sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory writing the plan");
		return NULL;
	}
	/* cJSON allocates with malloc by default: callers free() it */
	return text;
}
