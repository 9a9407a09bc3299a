/* test_plan.c: plan files: round trip, determinism, every validation error,
 * fingerprint sensitivity and the words plan_check_fresh uses when stale. */
#include <check.h>
#include <cJSON.h>
#include <stdlib.h>
#include <string.h>
#include "slotctl/core/plan.h"
#include "fake_map.h"
#include "check_run.h"

/* A plan over a 3-master map (+1 replica each): slots 0 and 1 move from
 * master 0 to 1 in one batch, slot 6000 from 1 to 2 in another. */
static void make_plan(const struct topology *map, struct plan *p)
{
	struct sc_error err;
	static const int slots[] = { 0, 1, 6000 };
	static const int from[] = { 0, 0, 1 };
	static const int to[] = { 1, 1, 2 };

	memset(p, 0, sizeof(*p));
	p->format_major = PLAN_FORMAT_MAJOR;
	p->format_minor = PLAN_FORMAT_MINOR;
	snprintf(p->created, sizeof(p->created), "2026-11-23T18:00:00Z");
	snprintf(p->version, sizeof(p->version), "0.1.0");
	snprintf(p->seed, sizeof(p->seed), "127.0.0.1:7000");
	p->kind = PLAN_REBALANCE;
	p->by = MEASURE_MEMORY;
	ck_assert_int_eq(plan_nodes_from_map(map, &p->nodes, &p->node_count, &err), 0);
	plan_fingerprint(map, p->fingerprint);
	p->batch_count = 2;
	p->batches = calloc(2, sizeof(*p->batches));
	p->batches[0].moves = calloc(2, sizeof(struct plan_move));
	p->batches[1].moves = calloc(1, sizeof(struct plan_move));
	for (int i = 0; i < 3; i++) {
		struct plan_batch *b = &p->batches[i < 2 ? 0 : 1];
		struct plan_move *m = &b->moves[b->count++];

		m->slot = slots[i];
		memcpy(m->from, map->nodes[from[i]].id, sizeof(m->from));
		memcpy(m->to, map->nodes[to[i]].id, sizeof(m->to));
		m->keys = 10 + i;
		m->bytes = 1000 * (i + 1);
		m->hot = i == 2;
		m->big = i == 2;
	}
	for (size_t i = 0; i < p->node_count; i++) {
		p->nodes[i].keys_before = p->nodes[i].keys_after = 100;
		p->nodes[i].bytes_before = p->nodes[i].bytes_after = 100000;
		p->nodes[i].used_memory = 2000000;
		p->nodes[i].maxmemory = 0;
	}
	p->warning_count = 1;
	p->warnings = calloc(1, sizeof(char *));
	p->warnings[0] = strdup("slot 6000 is hot");
	p->big_key_count = 1;
	p->big_keys = calloc(1, sizeof(*p->big_keys));
	p->big_keys[0].slot = 6000;
	p->big_keys[0].key = strdup("big:{x}");
	p->big_keys[0].bytes = 3000;
}

static char *serialize_ok(const struct plan *p)
{
	struct sc_error err;
	char *text = plan_serialize(p, &err);

	ck_assert_msg(text != NULL, "serialize failed: %s", err.msg);
	return text;
}

static char *sample_text(void)
{
	struct topology map;
	struct plan p;
	char *text;

	fake_map_init(&map, 3, 1);
	make_plan(&map, &p);
	text = serialize_ok(&p);
	plan_release(&p);
	fake_map_free(&map);
	return text;
}

START_TEST(round_trip)
{
	struct topology map;
	struct plan p, q;
	struct sc_error err;
	char *a, *b;

	fake_map_init(&map, 3, 1);
	make_plan(&map, &p);
	a = serialize_ok(&p);
	ck_assert_msg(plan_parse(a, strlen(a), &q, &err) == 0, "parse failed: %s", err.msg);
	b = serialize_ok(&q);
	ck_assert_str_eq(a, b);
	ck_assert_uint_eq(q.node_count, 3);
	ck_assert_uint_eq(plan_move_count(&q), 3);
	ck_assert_str_eq(q.fingerprint, p.fingerprint);
	ck_assert_str_eq(plan_kind_name(q.kind), "rebalance");
	ck_assert_str_eq(plan_measure_name(q.by), "memory");
	ck_assert_str_eq(q.created, "2026-11-23T18:00:00Z");
	ck_assert(slotset_equal(&q.nodes[1].slots, &p.nodes[1].slots));
	ck_assert_int_eq(q.nodes[2].port, 7002);
	ck_assert_int_eq(q.nodes[2].config_epoch, 3);
	ck_assert_int_eq(q.batches[1].moves[0].slot, 6000);
	ck_assert(q.batches[1].moves[0].hot && q.batches[1].moves[0].big);
	ck_assert(!q.batches[0].moves[0].hot);
	ck_assert_int_eq(q.batches[0].moves[1].bytes, 2000);
	ck_assert_str_eq(q.big_keys[0].key, "big:{x}");
	ck_assert_str_eq(q.warnings[0], "slot 6000 is hot");
	ck_assert_ptr_nonnull(plan_find_node(&q, map.nodes[1].id));
	ck_assert_ptr_null(plan_find_node(&q, map.nodes[3].id)); /* a replica */
	ck_assert(strstr(a, "\"format_version\":\t\"2.2\"") != NULL);
	ck_assert(strstr(a, "\"address\":\t\"127.0.0.1:7002\"") != NULL);
	ck_assert(strstr(a, "\"host\"") == NULL && strstr(a, "\"port\"") == NULL);
	/* each master's shard: its replica (map node 3 + i follows master i) */
	for (size_t i = 0; i < 3; i++) {
		const struct plan_node *n = plan_find_node(&q, map.nodes[i].id);

		ck_assert_int_eq(n->replica_count, 1);
		ck_assert_str_eq(n->replicas[0], map.nodes[3 + i].id);
	}
	free(a);
	free(b);
	plan_release(&p);
	plan_release(&q);
	fake_map_free(&map);
}
END_TEST

/* "replicas" is optional (format 1.0 had none): a plan without it loads,
 * with no replica known (apply takes the shards from the live cluster); a
 * bad one is refused. (A 1.0 plan, host and port, loads too:
 * version_1_plans_are_still_read.) */
START_TEST(replicas_are_optional)
{
	struct plan q;
	struct sc_error err;
	char *text = sample_text();
	cJSON *root = cJSON_Parse(text), *nodes = cJSON_GetObjectItem(root, "nodes"), *n;
	char *edited;

	cJSON_ArrayForEach(n, nodes)
		cJSON_DeleteItemFromObject(n, "replicas");
	edited = cJSON_Print(root);
	ck_assert_msg(plan_parse(edited, strlen(edited), &q, &err) == 0, "%s", err.msg);
	for (size_t i = 0; i < q.node_count; i++)
		ck_assert_int_eq(q.nodes[i].replica_count, 0);
	plan_release(&q);
	cJSON_free(edited);
	cJSON_AddItemToObject(cJSON_GetArrayItem(nodes, 0), "replicas", cJSON_CreateString("abc"));
	edited = cJSON_Print(root);
	ck_assert_int_eq(plan_parse(edited, strlen(edited), &q, &err), -1);
	ck_assert(strstr(err.msg, "'nodes[0].replicas' must be an array") != NULL);
	cJSON_free(edited);
	cJSON_Delete(root);
	free(text);
}
END_TEST

START_TEST(deterministic_and_no_password)
{
	char *a = sample_text();
	char *b = sample_text();

	ck_assert_str_eq(a, b);
	ck_assert(strstr(a, "pass") == NULL);
	ck_assert(strchr(a, '\n') != NULL); /* indented */
	free(a);
	free(b);
}
END_TEST

/* The moves written by hand give the very text cJSON gives the plan's tree:
 * printing the parsed file again changes no byte; a move whose names need
 * escaping, or with numbers beyond 1e15, takes cJSON's own path. */
START_TEST(moves_are_written_as_cjson_writes_them)
{
	struct topology map;
	struct plan p;
	cJSON *tree;
	char *a, *b;

	fake_map_init(&map, 3, 1);
	make_plan(&map, &p);
	p.batches[0].moves[1].bytes = -1;
	p.batches[1].moves[0].keys = 4000000000LL;
	a = serialize_ok(&p);
	ck_assert_ptr_nonnull(tree = cJSON_Parse(a));
	b = cJSON_Print(tree);
	ck_assert_str_eq(a, b);
	cJSON_free(b);
	cJSON_Delete(tree);
	free(a);

	snprintf(p.batches[0].moves[0].from, sizeof(p.batches[0].moves[0].from), "q\"uote");
	p.batches[1].moves[0].bytes = 4000000000000000LL;
	a = serialize_ok(&p);
	ck_assert_ptr_nonnull(tree = cJSON_Parse(a));
	b = cJSON_Print(tree);
	ck_assert_str_eq(a, b);
	ck_assert(strstr(a, "\"from\":\t\"q\\\"uote\"") != NULL);
	ck_assert(strstr(a, "\"bytes\":\t4e+15") != NULL);
	cJSON_free(b);
	cJSON_Delete(tree);
	free(a);
	plan_release(&p);
	fake_map_free(&map);
}
END_TEST

START_TEST(unknown_fields_kept)
{
	char *text = sample_text();
	cJSON *root = cJSON_Parse(text);
	struct plan p;
	struct sc_error err;
	char *again, *out;

	cJSON_AddItemToObject(root, "options", cJSON_Parse("{\"threshold\": 5, \"by\": \"memory\"}"));
	cJSON_AddStringToObject(root, "future_field", "x");
	again = cJSON_Print(root);
	ck_assert_int_eq(plan_parse(again, strlen(again), &p, &err), 0);
	out = serialize_ok(&p);
	ck_assert(strstr(out, "\"threshold\":\t5") != NULL);
	ck_assert(strstr(out, "\"future_field\":\t\"x\"") != NULL);
	plan_release(&p);
	cJSON_Delete(root);
	free(text);
	free(again);
	free(out);
}
END_TEST

/* One invalid variant of the sample plan and the words its error must use. */
struct bad_case {
	const char *path;   /* dotted path into the JSON, [n] for array items */
	const char *json;   /* replacement value; NULL deletes the member */
	const char *expect; /* substring of the error */
};

static cJSON *walk(cJSON *root, const char *path, char *last, size_t size)
{
	char buf[128];
	char *tok, *save = NULL;
	cJSON *cur = root, *parent = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save)) {
		char *br = strchr(tok, '[');

		parent = cur;
		snprintf(last, size, "%s", tok);
		if (br) {
			snprintf(last, size, "%s", br);
			*br = '\0';
			parent = cJSON_GetObjectItemCaseSensitive(cur, tok);
			cur = cJSON_GetArrayItem(parent, atoi(last + 1));
		} else {
			cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
		}
		ck_assert_msg(cur != NULL, "no '%s' in sample", path);
	}
	return parent;
}

static void expect_bad(const char *path, const char *json, const char *expect)
{
	char *text = sample_text();
	cJSON *root = cJSON_Parse(text);
	char last[64], *bad;
	cJSON *parent = walk(root, path, last, sizeof(last));
	struct plan p;
	struct sc_error err;

	if (last[0] == '[') {
		cJSON_ReplaceItemInArray(parent, atoi(last + 1), cJSON_Parse(json));
	} else if (json) {
		cJSON_ReplaceItemInObjectCaseSensitive(parent, last, cJSON_Parse(json));
	} else {
		cJSON_DeleteItemFromObjectCaseSensitive(parent, last);
	}
	bad = cJSON_Print(root);
	memset(&p, 0, sizeof(p));
	ck_assert_msg(plan_parse(bad, strlen(bad), &p, &err) == -1, "accepted %s=%s", path, json);
	ck_assert_int_eq(err.code, 2);
	ck_assert_msg(strstr(err.msg, expect) != NULL, "%s=%s: expected '%s' in '%s'",
		path, json, expect, err.msg);
	ck_assert_ptr_null(p.nodes); /* out untouched */
	cJSON_Delete(root);
	free(text);
	free(bad);
}

START_TEST(validation_errors)
{
	char other[64];
	char self[64];
	char not_owner[64];

	snprintf(other, sizeof(other), "\"%s\"", "ffffffffffffffffffffffffffffffffffffffff");
	expect_bad("format_version", "\"3.0\"", "'format_version' is '3.0'");
	expect_bad("format_version", "\"0.9\"", "'format_version' is '0.9'");
	expect_bad("format_version", "\"one\"", "not MAJOR.MINOR");
	expect_bad("format_version", NULL, "'format_version' is missing");
	expect_bad("nodes", NULL, "'nodes' is missing");
	expect_bad("batches", NULL, "'batches' is missing");
	expect_bad("kind", NULL, "'kind' is missing");
	expect_bad("fingerprint", "\"xyz\"", "'fingerprint'");
	expect_bad("nodes[1].address", "\"7001\"", "'nodes[1].address' is '7001', not HOST:PORT");
	expect_bad("nodes[1].address", NULL, "'nodes[1].address' is missing");
	expect_bad("nodes[1].id", NULL, "'nodes[1].id' is missing");
	expect_bad("nodes[1].slots", "\"0-99,x\"", "'nodes[1].slots'");
	expect_bad("nodes[1].slots", "\"0-5\"", "two nodes");
	expect_bad("batches[0].moves[1].to", NULL, "'batches[0].moves[1].to' is missing");
	expect_bad("batches[0].moves[0].slot", "16384", "'batches[0].moves[0].slot' must be a whole number from 0 to 16383");
	expect_bad("batches[0].moves[0].slot", "-1", "'batches[0].moves[0].slot'");
	expect_bad("batches[0].moves[0].slot", "1.5", "'batches[0].moves[0].slot'");
	expect_bad("batches[1].moves[0]", "{\"slot\": 0, \"from\": \"0001000100010001000100010001000100010001\", "
		"\"to\": \"0003000300030003000300030003000300030003\"}", "which batch 0 already moves");
	expect_bad("batches[0].moves[1].slot", "0", "which batch 0 already moves");
	expect_bad("batches[0].moves[0].to", other, "names node 'ffff");
	expect_bad("batches[0].moves[0].from", other, "'batches[0].moves[0].from' names node");
	expect_bad("batches[0].moves[0].hot", "1", "'batches[0].moves[0].hot' must be true or false");
	expect_bad("batches[0].moves", "{}", "'batches[0].moves' must be an array");
	expect_bad("warnings[0]", "3", "'warnings[0]' must be a string");
	expect_bad("big_keys[0].key", NULL, "'big_keys[0].key' is missing");
	/* from == to, and a source that does not own the slot */
	snprintf(self, sizeof(self), "\"0001000100010001000100010001000100010001\"");
	expect_bad("batches[0].moves[0].to", self, "to itself");
	snprintf(not_owner, sizeof(not_owner), "\"0003000300030003000300030003000300030003\"");
	expect_bad("batches[0].moves[0].from", not_owner, "does not own it");
}
END_TEST

/* The sample plan with top-level field name set to the JSON value (NULL:
 * removed), parsed into p (must succeed), then written and parsed again:
 * returns that second text's value of name (the caller frees the cJSON). */
static cJSON *top_field_round_trip(const char *name, const char *json, struct plan *p)
{
	char *text = sample_text(), *edited, *again;
	cJSON *root = cJSON_Parse(text), *back;
	struct sc_error err;

	if (json)
		cJSON_ReplaceItemInObjectCaseSensitive(root, name, cJSON_Parse(json));
	else
		cJSON_DeleteItemFromObjectCaseSensitive(root, name);
	edited = cJSON_Print(root);
	ck_assert_msg(plan_parse(edited, strlen(edited), p, &err) == 0, "%s=%s: %s", name, json, err.msg);
	again = serialize_ok(p);
	back = cJSON_Parse(again);
	ck_assert_ptr_nonnull(back);
	cJSON_Delete(root);
	free(text);
	free(edited);
	free(again);
	return back;
}

/* A "by": "cpu" plan (2.2) keeps each master's CPU before and after, and
 * its shares are of CPU; a 2.1 plan, without "cpu_usec", reads as unknown. */
START_TEST(cpu_plan_round_trip)
{
	struct topology map;
	struct plan p, q;
	struct sc_error err;
	cJSON *root;
	char *a, *b, *old;

	fake_map_init(&map, 3, 1);
	make_plan(&map, &p);
	p.by = MEASURE_CPU;
	for (size_t i = 0; i < p.node_count; i++) {
		p.nodes[i].cpu_usec_before = 1000 * (long long)(i + 1);
		p.nodes[i].cpu_usec_after = 2000;
	}
	a = serialize_ok(&p);
	ck_assert_msg(plan_parse(a, strlen(a), &q, &err) == 0, "parse failed: %s", err.msg);
	b = serialize_ok(&q);
	ck_assert_str_eq(a, b);
	ck_assert_str_eq(plan_measure_name(q.by), "cpu");
	for (size_t i = 0; i < q.node_count; i++) {
		ck_assert_int_eq(q.nodes[i].cpu_usec_before, 1000 * (long long)(i + 1));
		ck_assert_int_eq(q.nodes[i].cpu_usec_after, 2000);
	}
	root = cJSON_Parse(a);
	ck_assert_double_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
		cJSON_GetObjectItem(root, "nodes"), 0), "before"), "share")->valuedouble, 16.67);
	/* the same plan as 2.1 wrote it: no "cpu_usec", "by" memory */
	cJSON_ReplaceItemInObject(root, "format_version", cJSON_CreateString("2.1"));
	cJSON_ReplaceItemInObject(root, "by", cJSON_CreateString("memory"));
	for (int i = 0; i < cJSON_GetArraySize(cJSON_GetObjectItem(root, "nodes")); i++) {
		cJSON *n = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "nodes"), i);

		cJSON_DeleteItemFromObject(cJSON_GetObjectItem(n, "before"), "cpu_usec");
		cJSON_DeleteItemFromObject(cJSON_GetObjectItem(n, "after"), "cpu_usec");
	}
	old = cJSON_Print(root);
	plan_release(&q);
	ck_assert_msg(plan_parse(old, strlen(old), &q, &err) == 0, "2.1 plan refused: %s", err.msg);
	ck_assert_int_eq(q.nodes[0].cpu_usec_before, -1);
	ck_assert_int_eq(q.nodes[0].keys_before, 100);
	plan_release(&q);
	cJSON_free(old);
	cJSON_Delete(root);
	free(a);
	free(b);
	plan_release(&p);
	fake_map_free(&map);
}
END_TEST

START_TEST(kind_and_by_are_words_of_their_own)
{
	const char *kinds[] = { "reshard", "rebalance", "drain" }, *bys[] = { "slots", "keys", "memory", "cpu" };
	struct plan p;
	cJSON *back;
	char json[32];

	expect_bad("kind", "\"shuffle\"", "plan field 'kind' is 'shuffle', not reshard, rebalance or drain");
	expect_bad("kind", "\"\"", "plan field 'kind' is '', not reshard");
	expect_bad("by", "\"bytes\"", "plan field 'by' is 'bytes', not slots, keys, memory or cpu");
	for (size_t i = 0; i < 3; i++) {
		snprintf(json, sizeof(json), "\"%s\"", kinds[i]);
		back = top_field_round_trip("kind", json, &p);
		ck_assert_str_eq(plan_kind_name(p.kind), kinds[i]);
		ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(back, "kind")->valuestring, kinds[i]);
		cJSON_Delete(back);
		plan_release(&p);
	}
	for (size_t i = 0; i < 4; i++) {
		snprintf(json, sizeof(json), "\"%s\"", bys[i]);
		back = top_field_round_trip("by", json, &p);
		ck_assert_str_eq(plan_measure_name(p.by), bys[i]);
		ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(back, "by")->valuestring, bys[i]);
		cJSON_Delete(back);
		plan_release(&p);
	}
	/* "by" absent or empty: unknown (read as memory), written back as "" */
	for (int absent = 0; absent < 2; absent++) {
		back = top_field_round_trip("by", absent ? NULL : "\"\"", &p);
		ck_assert_int_eq(p.by, MEASURE_UNKNOWN);
		ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(back, "by")->valuestring, "");
		cJSON_Delete(back);
		plan_release(&p);
	}
}
END_TEST

/* The one measure dispatch: slots, keys or bytes as they are. */
START_TEST(measure_pick)
{
	ck_assert_int_eq(plan_measure_pick(MEASURE_SLOTS, 3, 40, 500, 7), 3);
	ck_assert_int_eq(plan_measure_pick(MEASURE_KEYS, 3, 40, 500, 7), 40);
	ck_assert_int_eq(plan_measure_pick(MEASURE_MEMORY, 3, 40, 500, 7), 500);
	ck_assert_int_eq(plan_measure_pick(MEASURE_CPU, 3, 40, 500, 7), 7);
	ck_assert_int_eq(plan_measure_pick(MEASURE_UNKNOWN, 3, 40, 500, 7), 500);
	ck_assert_int_eq(plan_measure_pick(MEASURE_KEYS, 3, -1, 500, 7), -1);
	ck_assert_str_eq(plan_measure_name(MEASURE_UNKNOWN), "");
}
END_TEST

START_TEST(malformed_json)
{
	struct plan p;
	struct sc_error err;
	const char *text = "{\n  \"format_version\": \"1.0\",\n  \"nodes\": [1,\n}";

	ck_assert_int_eq(plan_parse(text, strlen(text), &p, &err), -1);
	ck_assert_int_eq(err.code, 2);
	ck_assert_msg(strstr(err.msg, "not valid JSON (line 4") != NULL, "%s", err.msg);
	ck_assert_int_eq(plan_parse("[]", 2, &p, &err), -1);
	ck_assert(strstr(err.msg, "not a JSON object") != NULL);
	ck_assert_int_eq(plan_parse("", 0, &p, &err), -1);
	ck_assert(strstr(err.msg, "not valid JSON") != NULL);
}
END_TEST

/* Expects plan_parse to refuse text with a message containing expect. */
static void expect_refused_text(const char *text, const char *expect)
{
	struct plan p;
	struct sc_error err;

	ck_assert_int_eq(plan_parse(text, strlen(text), &p, &err), -1);
	ck_assert_int_eq(err.code, 2);
	ck_assert_msg(strstr(err.msg, expect) != NULL, "expected '%s' in '%s'", expect, err.msg);
}

/* What cJSON alone accepts: a plan followed by garbage or by a second plan,
 * and a key given twice (cJSON keeps the first, another reader the last). */
START_TEST(strict_json)
{
	char *text = sample_text();
	size_t len = strlen(text);
	char *buf = malloc(2 * len + 64);
	char *dup, *kind;
	struct plan p;
	struct sc_error err;

	if (!text || !buf)
		ck_abort_msg("out of memory");
	sprintf(buf, "%s\n \t\r\n", text); /* trailing white space is fine */
	ck_assert_msg(plan_parse(buf, strlen(buf), &p, &err) == 0, "%s", err.msg);
	plan_release(&p);

	sprintf(buf, "%s\ngarbage", text);
	expect_refused_text(buf, "plan has more after its JSON value (line");
	sprintf(buf, "%s\n%s", text, text);
	expect_refused_text(buf, "plan has more after its JSON value (line");
	sprintf(buf, "%s}", text);
	expect_refused_text(buf, "plan has more after its JSON value");
	/* a NUL byte does not end the text early */
	memcpy(buf, text, len);
	memcpy(buf + len, "\0{}", 3);
	ck_assert_int_eq(plan_parse(buf, len + 3, &p, &err), -1);
	ck_assert_msg(strstr(err.msg, "more after its JSON value") != NULL, "%s", err.msg);

	/* "kind" twice at the top, "slot" twice in a move */
	kind = strstr(text, "\"kind\"");
	ck_assert_ptr_nonnull(kind);
	sprintf(buf, "%.*s\"kind\": \"drain\", %s", (int)(kind - text), text, kind);
	expect_refused_text(buf, "plan has key 'kind' twice in 'the top-level object'");
	dup = strstr(text, "\"slot\"");
	ck_assert_ptr_nonnull(dup);
	sprintf(buf, "%.*s\"slot\": 7, %s", (int)(dup - text), text, dup);
	expect_refused_text(buf, "plan has key 'slot' twice in 'batches[0].moves[0]'");
	free(buf);
	free(text);
}
END_TEST

START_TEST(minor_version_accepted)
{
	char *text = sample_text();
	cJSON *root = cJSON_Parse(text);
	struct plan p;
	struct sc_error err;
	char *again;

	cJSON_ReplaceItemInObjectCaseSensitive(root, "format_version", cJSON_CreateString("2.7"));
	again = cJSON_Print(root);
	ck_assert_msg(plan_parse(again, strlen(again), &p, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(p.format_minor, 7);
	plan_release(&p);
	cJSON_Delete(root);
	free(text);
	free(again);
}
END_TEST

/* A plan of version 1.x names a node's address by "host" and "port": still
 * read, to the same nodes. */
START_TEST(version_1_plans_are_still_read)
{
	char *text = sample_text();
	cJSON *root = cJSON_Parse(text), *node;
	struct plan p, q;
	struct sc_error err;
	char *old;

	ck_assert_int_eq(plan_parse(text, strlen(text), &p, &err), 0);
	cJSON_ReplaceItemInObjectCaseSensitive(root, "format_version", cJSON_CreateString("1.0"));
	cJSON_ArrayForEach(node, cJSON_GetObjectItem(root, "nodes")) {
		const char *address = cJSON_GetStringValue(cJSON_GetObjectItem(node, "address"));
		const char *colon = strrchr(address, ':');
		char host[64];

		snprintf(host, sizeof(host), "%.*s", (int)(colon - address), address);
		cJSON_AddStringToObject(node, "host", host);
		cJSON_AddNumberToObject(node, "port", atoi(colon + 1));
		cJSON_DeleteItemFromObjectCaseSensitive(node, "address");
	}
	old = cJSON_Print(root);
	ck_assert_msg(plan_parse(old, strlen(old), &q, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(q.format_major, 1);
	ck_assert_uint_eq(q.node_count, p.node_count);
	for (size_t i = 0; i < p.node_count; i++) {
		ck_assert_str_eq(q.nodes[i].host, p.nodes[i].host);
		ck_assert_int_eq(q.nodes[i].port, p.nodes[i].port);
	}
	plan_release(&q);
	free(old);
	/* a 1.x host that no 2.x address could say (empty: a NUL byte cut it,
	 * as the fuzzer found) is refused: the plan it was written out as did
	 * not read back */
	node = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "nodes"), 0);
	cJSON_ReplaceItemInObjectCaseSensitive(node, "host", cJSON_CreateString(""));
	old = cJSON_Print(root);
	ck_assert_int_eq(plan_parse(old, strlen(old), &q, &err), -1);
	ck_assert_msg(strstr(err.msg, "'nodes[0].host' is ':") != NULL, "%s", err.msg);
	plan_release(&p);
	cJSON_Delete(root);
	free(text);
	free(old);
}
END_TEST

START_TEST(fingerprint_sensitivity)
{
	struct topology map;
	char base[17], fp[17];
	struct node swap;

	fake_map_init(&map, 3, 1);
	plan_fingerprint(&map, base);
	ck_assert_uint_eq(strlen(base), 16);

	map.nodes[1].config_epoch = 9;
	plan_fingerprint(&map, fp);
	ck_assert_str_ne(fp, base);
	map.nodes[1].config_epoch = 2;

	map.nodes[2].port = 7100;
	plan_fingerprint(&map, fp);
	ck_assert_str_ne(fp, base);
	map.nodes[2].port = 7002;

	fake_map_assign(&map, 0, 0, 2);
	plan_fingerprint(&map, fp);
	ck_assert_str_ne(fp, base);
	fake_map_assign(&map, 0, 0, 0);
	plan_fingerprint(&map, fp);
	ck_assert_str_eq(fp, base);

	/* replicas and node order do not count */
	map.nodes[4].port = 9999;
	swap = map.nodes[0];
	map.nodes[0] = map.nodes[2];
	map.nodes[2] = swap;
	plan_fingerprint(&map, fp);
	ck_assert_str_eq(fp, base);
	fake_map_free(&map);
}
END_TEST

/* Makes a plan of map, changes the live map with change, and checks the
 * staleness message contains expect. */
static void expect_stale(void (*change)(struct topology *), const char *expect)
{
	struct topology map;
	struct plan p;
	struct sc_error err;

	fake_map_init(&map, 3, 1);
	make_plan(&map, &p);
	ck_assert_int_eq(plan_check_fresh(&p, &map, &err), 0);
	change(&map);
	ck_assert_int_eq(plan_check_fresh(&p, &map, &err), -1);
	ck_assert_int_eq(err.code, 4);
	ck_assert_msg(strstr(err.msg, expect) != NULL, "expected '%s' in '%s'", expect, err.msg);
	ck_assert_msg(strstr(err.msg, "make a new plan") != NULL, "%s", err.msg);
	plan_release(&p);
	fake_map_free(&map);
}

static void move_range(struct topology *t) { fake_map_assign(t, 100, 199, 2); }
static void bump_epoch(struct topology *t) { t->nodes[1].config_epoch = 7; }
static void change_port(struct topology *t) { t->nodes[2].port = 7200; }
static void demote(struct topology *t) { t->nodes[2].flags = NODE_REPLICA; }
static void promote(struct topology *t)
{
	t->nodes[3].flags = NODE_MASTER;
	fake_map_assign(t, 16000, 16383, 3);
}
static void move_high_range(struct topology *t) { fake_map_assign(t, 10929, 10930, 0); }
static void many(struct topology *t)
{
	for (int s = 0; s < 40; s++)
		fake_map_assign(t, 2 * s, 2 * s, 2);
}

START_TEST(staleness_messages)
{
	expect_stale(move_range, "slots 100-199 owned by '00030003' (plan: '00010001')");
	expect_stale(bump_epoch, "configEpoch of '00020002' is 7 (plan: 2)");
	expect_stale(change_port, "master '00030003' moved from 127.0.0.1:7002 to 127.0.0.1:7200");
	expect_stale(demote, "master '00030003' (127.0.0.1:7002) is gone");
	expect_stale(promote, "new master '80048004' (127.0.0.1:7003)");
	expect_stale(many, "and 34 more changes");
	/* five-digit ranges are not cut ("slots 10929-109" with a 16-byte buffer) */
	expect_stale(move_high_range, "slots 10929-10930 owned by '00010001' (plan: '00030003')");
}
END_TEST

/* Masters without slots matter only as targets: roles settle late. */
START_TEST(empty_masters_only_matter_as_targets)
{
	struct topology map;
	struct plan p;
	struct sc_error err;

	fake_map_init(&map, 3, 1);
	make_plan(&map, &p);
	map.nodes[4].flags = NODE_MASTER; /* a replica still listed as a master */
	ck_assert_int_eq(plan_check_fresh(&p, &map, &err), 0);
	plan_release(&p);

	/* plan made while node 4 looked like an empty master, receiving a slot */
	make_plan(&map, &p);
	memcpy(p.batches[1].moves[0].to, map.nodes[4].id, sizeof(p.batches[1].moves[0].to));
	map.nodes[4].flags = NODE_REPLICA;
	ck_assert_int_eq(plan_check_fresh(&p, &map, &err), -1);
	ck_assert_msg(strstr(err.msg, "master '80058005' (127.0.0.1:7004) is gone") != NULL, "%s", err.msg);
	plan_release(&p);
	fake_map_free(&map);
}
END_TEST

START_TEST(edited_fingerprint_is_stale)
{
	struct topology map;
	struct plan p;
	struct sc_error err;

	fake_map_init(&map, 3, 0);
	make_plan(&map, &p);
	snprintf(p.fingerprint, sizeof(p.fingerprint), "0123456789abcdef");
	ck_assert_int_eq(plan_check_fresh(&p, &map, &err), -1);
	ck_assert_int_eq(err.code, 4);
	ck_assert(strstr(err.msg, "fingerprint '0123456789abcdef'") != NULL);
	plan_release(&p);
	fake_map_free(&map);
}
END_TEST

static Suite *plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, cpu_plan_round_trip);
	tcase_add_test(tc, deterministic_and_no_password);
	tcase_add_test(tc, moves_are_written_as_cjson_writes_them);
	tcase_add_test(tc, replicas_are_optional);
	tcase_add_test(tc, unknown_fields_kept);
	tcase_add_test(tc, validation_errors);
	tcase_add_test(tc, kind_and_by_are_words_of_their_own);
	tcase_add_test(tc, measure_pick);
	tcase_add_test(tc, malformed_json);
	tcase_add_test(tc, strict_json);
	tcase_add_test(tc, minor_version_accepted);
	tcase_add_test(tc, version_1_plans_are_still_read);
	tcase_add_test(tc, fingerprint_sensitivity);
	tcase_add_test(tc, staleness_messages);
	tcase_add_test(tc, empty_masters_only_matter_as_targets);
	tcase_add_test(tc, edited_fingerprint_is_stale);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(plan_suite());
}
