/* test_apply_skewed.c: `slotctl apply` on skewed data: a rebalance by memory
 * of a cluster whose first master holds two big keys (a 20,000-field hash and
 * a 20,000-element list under hash tags), and a one-shot reshard of the slot
 * holding them, both under a cluster-aware client that must see no error;
 * every known key and both big keys end exactly once on the owner of their
 * slot with their content. A big key written after the plan was made (so no
 * sample saw it) still moves: its MIGRATE times out once, then goes alone with
 * a timeout sized by MEMORY USAGE. Also the outputs of a run: the --metrics-file
 * Prometheus textfile (format, HELP/TYPE, counts equal to what the plan
 * moved) and the --json event lines (format_version, event, final summary). */
#include "exec_support.h"
#include "check_run.h"
#include "traffic.h"

#include <cjson/cJSON.h>
#include <errno.h>

#define NKEYS 2000
#define BIG_N 20000
#define BIG_CHUNK 1000
#define HUGE_BYTES (48 << 20) /* times out under a 20 ms MIGRATE timeout on loopback */
#define HUGE_SMALL_KEYS 20

struct big_keys {
	char hash[32];
	char list[32];
	int slot;
};

/* Picks a hash tag whose slot master 0 owns, and writes the two big keys
 * there in chunks: hash field "f<i>" = "v<i>", list element i = "e<i>". */
static void load_big_keys(const struct test_cluster *tc, struct big_keys *b)
{
	static char bufs[BIG_CHUNK * 2][24];
	const char *argv[BIG_CHUNK * 2 + 2];
	redisContext *c;
	char tag[16];

	for (int t = 0;; t++) {
		snprintf(tag, sizeof(tag), "big%d", t);
		b->slot = keyslot_of(tag, strlen(tag));
		if (tc_owner_of(tc, 0, b->slot) == 0)
			break;
	}
	snprintf(b->hash, sizeof(b->hash), "{%s}:hash", tag);
	snprintf(b->list, sizeof(b->list), "{%s}:list", tag);
	c = tc_connect(tc, 0);
	for (int base = 0; base < BIG_N; base += BIG_CHUNK) {
		redisReply *r;
		int n = 0;

		argv[n++] = "HSET";
		argv[n++] = b->hash;
		for (int i = base; i < base + BIG_CHUNK; i++) {
			snprintf(bufs[2 * (i - base)], sizeof(bufs[0]), "f%d", i);
			snprintf(bufs[2 * (i - base) + 1], sizeof(bufs[0]), "v%d", i);
			argv[n++] = bufs[2 * (i - base)];
			argv[n++] = bufs[2 * (i - base) + 1];
		}
		r = redisCommandArgv(c, n, argv, NULL);
		ck_assert_msg(r && r->type == REDIS_REPLY_INTEGER, "HSET of '%s' failed", b->hash);
		freeReplyObject(r);
		n = 0;
		argv[n++] = "RPUSH";
		argv[n++] = b->list;
		for (int i = base; i < base + BIG_CHUNK; i++) {
			snprintf(bufs[i - base], sizeof(bufs[0]), "e%d", i);
			argv[n++] = bufs[i - base];
		}
		r = redisCommandArgv(c, n, argv, NULL);
		ck_assert_msg(r && r->type == REDIS_REPLY_INTEGER, "RPUSH of '%s' failed", b->list);
		freeReplyObject(r);
	}
	redisFree(c);
}

/* Checks no master but owner holds a key of slot; returns owner. */
static int only_owner_holds(const struct test_cluster *tc, int slot)
{
	int owner = tc_owner_of(tc, 0, slot);

	ck_assert_msg(owner >= 0, "slot %d has no owner", slot);
	for (int i = 0; i < tc_count(tc); i++) {
		redisReply *r;

		if (!tc_is_master(tc, i) || i == owner)
			continue;
		r = tc_command(tc, i, "CLUSTER COUNTKEYSINSLOT %d", slot);
		ck_assert_msg(r->type == REDIS_REPLY_INTEGER && r->integer == 0,
			"keys of slot %d also on node %d (owner %d)", slot, i, owner);
		freeReplyObject(r);
	}
	return owner;
}

/* Checks both big keys exist only on the owner of their slot, whole. */
static void verify_big_keys(const struct test_cluster *tc, const struct big_keys *b)
{
	int owner = only_owner_holds(tc, b->slot);
	char want[24];
	redisReply *r;

	r = tc_command(tc, owner, "HGETALL %s", b->hash);
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	ck_assert_msg(r->elements == 2 * BIG_N, "'%s' has %zu fields on node %d, expected %d", b->hash,
		r->elements / 2, owner, BIG_N);
	for (size_t k = 0; k < r->elements; k += 2) {
		int idx = atoi(r->element[k]->str + 1);

		snprintf(want, sizeof(want), "v%d", idx);
		ck_assert_msg(strcmp(r->element[k + 1]->str, want) == 0, "'%s' field '%s' is '%s'", b->hash,
			r->element[k]->str, r->element[k + 1]->str);
	}
	freeReplyObject(r);
	r = tc_command(tc, owner, "LRANGE %s 0 -1", b->list);
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	ck_assert_msg(r->elements == BIG_N, "'%s' has %zu elements on node %d, expected %d", b->list,
		r->elements, owner, BIG_N);
	for (size_t k = 0; k < r->elements; k++) {
		snprintf(want, sizeof(want), "e%zu", k);
		ck_assert_msg(strcmp(r->element[k]->str, want) == 0, "'%s'[%zu] is '%s'", b->list, k,
			r->element[k]->str);
	}
	freeReplyObject(r);
}

/* Number of moves in the plan file at path. */
static int plan_moves(const char *path)
{
	static char text[1 << 20];
	struct sc_error err;
	struct plan p;
	FILE *f = fopen(path, "r");
	size_t len;
	int n = 0;

	ck_assert_ptr_nonnull(f);
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	ck_assert_msg(plan_parse(text, len, &p, &err) == 0, "%s", err.msg);
	for (size_t b = 0; b < p.batch_count; b++)
		n += (int)p.batches[b].count;
	plan_release(&p);
	return n;
}

static void check_converged(const struct test_cluster *tc)
{
	struct run_result r;

	EXEC_RUN(&r, 0, 60, "check", tc_seed(tc), "--wait", "30");
	run_result_free(&r);
}

START_TEST(rebalance_by_memory_and_reshard_big_slot)
{
	struct test_cluster *tc = tc_start(3, 0);
	struct traffic_stats st;
	struct traffic *t;
	struct big_keys b;
	struct run_result r;
	char dir[64], plan[128], to[8];
	int owner, dest;

	tc_load_keys(tc, "k", NKEYS);
	load_big_keys(tc, &b);
	exec_temp_path(dir, sizeof(dir), plan, sizeof(plan), "plan.json");
	EXEC_RUN(&r, 0, 60, "plan", "rebalance", tc_seed(tc), "--by", "memory", "-o", plan);
	run_result_free(&r);
	ck_assert_msg(plan_moves(plan) > 0, "a rebalance by memory of a skewed cluster planned no move");

	t = traffic_start(tc, "k", NKEYS);
	ck_assert(traffic_wait_ops(t, 50, 10000));
	EXEC_RUN(&r, 0, 120, "apply", plan, "--yes");
	run_result_free(&r);
	ck_assert(traffic_wait_ops(t, 50, 10000));
	traffic_stop(t, &st);
	ck_assert_msg(st.errors == 0, "traffic saw %ld errors: %s", st.errors, st.first_error);
	ck_assert(st.ops > 0);
	tc_verify_keys(tc, "k", NKEYS);
	verify_big_keys(tc, &b);
	check_converged(tc);

	/* one-shot reshard of the big keys' slot to another master */
	owner = tc_owner_of(tc, 0, b.slot);
	dest = (owner + 1) % 3;
	snprintf(to, sizeof(to), "%d", b.slot);
	t = traffic_start(tc, "k", NKEYS);
	ck_assert(traffic_wait_ops(t, 50, 10000));
	EXEC_RUN(&r, 0, 120, "reshard", tc_seed(tc), "--from", tc_id(tc, owner), "--to", tc_id(tc, dest),
		"--slot-ranges", to, "--yes");
	run_result_free(&r);
	ck_assert(traffic_wait_ops(t, 50, 10000));
	traffic_stop(t, &st);
	ck_assert_msg(st.errors == 0, "traffic saw %ld errors: %s", st.errors, st.first_error);
	ck_assert(st.ops > 0);
	ck_assert_int_eq(tc_owner_of(tc, 0, b.slot), dest);
	tc_verify_keys(tc, "k", NKEYS);
	verify_big_keys(tc, &b);
	check_converged(tc);
	tc_stop(tc);
}
END_TEST

/* The value of the unsampled big key: byte i is 'a' + (i * 7 + i / 4096) % 26. */
static char *huge_value(void)
{
	char *v = malloc(HUGE_BYTES);

	ck_assert_ptr_nonnull(v);
	for (size_t i = 0; i < HUGE_BYTES; i++)
		v[i] = (char)('a' + (i * 7 + i / 4096) % 26);
	return v;
}

/* Checks key has value on node `owner`. */
static void verify_value(const struct test_cluster *tc, int owner, const char *key, const char *value, size_t len)
{
	redisReply *r = tc_command(tc, owner, "GET %s", key);

	ck_assert_msg(r->type == REDIS_REPLY_STRING, "GET '%s' on node %d: no string", key, owner);
	ck_assert_msg(r->len == len && memcmp(r->str, value, len) == 0,
		"'%s' on node %d has another value (%zu bytes, expected %zu)", key, owner, r->len, len);
	freeReplyObject(r);
}

START_TEST(unsampled_big_key_retried_with_a_sized_timeout)
{
	struct test_cluster *tc = tc_start(3, 0);
	struct run_result r;
	char dir[64], plan[128], tag[16], key[48], value[32], range[8];
	char *huge = huge_value();
	redisContext *c;
	redisReply *rep;
	int slot;

	tc_load_keys(tc, "k", NKEYS);
	for (int t = 0;; t++) {
		snprintf(tag, sizeof(tag), "huge%d", t);
		slot = keyslot_of(tag, strlen(tag));
		if (tc_owner_of(tc, 0, slot) == 0)
			break;
	}
	for (int i = 0; i < HUGE_SMALL_KEYS; i++) {
		snprintf(key, sizeof(key), "{%s}:s%d", tag, i);
		snprintf(value, sizeof(value), "v%d", i);
		rep = tc_command(tc, 0, "SET %s %s", key, value);
		freeReplyObject(rep);
	}
	exec_temp_path(dir, sizeof(dir), plan, sizeof(plan), "plan.json");
	snprintf(range, sizeof(range), "%d", slot);
	EXEC_RUN(&r, 0, 60, "plan", "reshard", tc_seed(tc), "--from", tc_id(tc, 0), "--to", tc_id(tc, 1),
		"--slot-ranges", range, "-o", plan);
	run_result_free(&r);

	/* written after planning: the plan knows the slot only as a few small keys */
	snprintf(key, sizeof(key), "{%s}:huge", tag);
	c = tc_connect(tc, 0);
	rep = redisCommand(c, "SET %s %b", key, huge, (size_t)HUGE_BYTES);
	ck_assert_msg(rep && rep->type == REDIS_REPLY_STATUS, "SET of the %d MB key failed", HUGE_BYTES >> 20);
	freeReplyObject(rep);
	redisFree(c);

	EXEC_RUN(&r, 0, 120, "apply", plan, "--yes", "--migrate-timeout", "20");
	run_result_free(&r);
	ck_assert_int_eq(only_owner_holds(tc, slot), 1);
	verify_value(tc, 1, key, huge, HUGE_BYTES);
	for (int i = 0; i < HUGE_SMALL_KEYS; i++) {
		snprintf(key, sizeof(key), "{%s}:s%d", tag, i);
		snprintf(value, sizeof(value), "v%d", i);
		verify_value(tc, 1, key, value, strlen(value));
	}
	tc_verify_keys(tc, "k", NKEYS);
	check_converged(tc);
	free(huge);
	tc_stop(tc);
}
END_TEST

/* Parses a Prometheus text exposition; returns the value of metric name
 * (any labels), asserting every line is well formed and that name has HELP
 * and TYPE lines. */
static double metric_value(const char *text, const char *name)
{
	char help[96], type[96];
	bool found = false;
	double value = 0;
	const char *line = text;

	snprintf(help, sizeof(help), "# HELP %s ", name);
	snprintf(type, sizeof(type), "# TYPE %s ", name);
	ck_assert_contains(text, help);
	ck_assert_contains(text, type);
	while (*line) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		char buf[512], *end;
		const char *v;
		size_t nlen;

		ck_assert_msg(len < sizeof(buf), "metrics line too long");
		memcpy(buf, line, len);
		buf[len] = '\0';
		line += len + (eol ? 1 : 0);
		if (len == 0 || buf[0] == '#') {
			ck_assert_msg(len == 0 || strncmp(buf, "# HELP ", 7) == 0 || strncmp(buf, "# TYPE ", 7) == 0,
				"bad comment line '%s'", buf);
			continue;
		}
		nlen = strspn(buf, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:");
		ck_assert_msg(nlen > 0, "metric line '%s' has no name", buf);
		v = buf + nlen;
		if (*v == '{') {
			v = strchr(v, '}');
			ck_assert_msg(v != NULL, "metric line '%s' has unclosed labels", buf);
			v++;
		}
		ck_assert_msg(*v == ' ', "metric line '%s' has no value", buf);
		errno = 0;
		double d = strtod(v + 1, &end);
		ck_assert_msg(errno == 0 && end != v + 1 && *end == '\0', "metric line '%s' has a bad value", buf);
		if (nlen == strlen(name) && strncmp(buf, name, nlen) == 0) {
			found = true;
			value = d;
		}
	}
	ck_assert_msg(found, "no sample of '%s' in:\n%s", name, text);
	return value;
}

START_TEST(metrics_file_and_json_match_the_plan)
{
	struct test_cluster *tc = tc_start(3, 0);
	struct exec_transfer tr[] = { { 0, 1, 12 }, { 2, 1, 8 } };
	static char text[1 << 16];
	char dir[64], plan[128], metrics[160];
	struct run_result r;
	cJSON *last = NULL;
	int slot_done = 0, lines = 0;
	long long want_keys = 0;
	struct sc_error err;
	struct plan p;
	size_t len;
	FILE *f;

	tc_load_keys(tc, "k", NKEYS);
	exec_temp_path(dir, sizeof(dir), plan, sizeof(plan), "plan.json");
	snprintf(metrics, sizeof(metrics), "%s/slotctl.prom", dir);
	exec_write_plan(tc, tr, 2, "k", NKEYS, plan);
	f = fopen(plan, "r");
	ck_assert_ptr_nonnull(f);
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	ck_assert_int_eq(plan_parse(text, len, &p, &err), 0);
	for (size_t b = 0; b < p.batch_count; b++)
		for (size_t k = 0; k < p.batches[b].count; k++)
			want_keys += p.batches[b].moves[k].keys;
	plan_release(&p);
	ck_assert(want_keys > 0);

	EXEC_RUN(&r, 0, 120, "apply", plan, "--yes", "--json", "--metrics-file", metrics);
	tc_verify_keys(tc, "k", NKEYS);

	for (char *line = r.out, *eol; *line; line = eol + 1) {
		cJSON *o, *fv, *ev;

		eol = strchr(line, '\n');
		ck_assert_msg(eol != NULL, "json output does not end with a newline:\n%s", r.out);
		*eol = '\0';
		o = cJSON_Parse(line);
		ck_assert_msg(o != NULL, "stdout line is not JSON: '%s'", line);
		fv = cJSON_GetObjectItemCaseSensitive(o, "format_version");
		ev = cJSON_GetObjectItemCaseSensitive(o, "event");
		ck_assert_msg(cJSON_IsString(fv) && cJSON_IsString(ev), "line lacks format_version/event: '%s'", line);
		if (strcmp(ev->valuestring, "slot_done") == 0)
			slot_done++;
		cJSON_Delete(last);
		last = o;
		lines++;
	}
	ck_assert_int_gt(lines, 1);
	ck_assert_ptr_nonnull(last);
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(last, "event")->valuestring, "summary");
	ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(last, "status")->valuestring, "done");
	ck_assert_int_eq((int)cJSON_GetObjectItemCaseSensitive(last, "slots_done")->valuedouble, 20);
	ck_assert_int_eq((int)cJSON_GetObjectItemCaseSensitive(last, "slots_failed")->valuedouble, 0);
	ck_assert_int_eq((long long)cJSON_GetObjectItemCaseSensitive(last, "keys_moved")->valuedouble, want_keys);
	ck_assert_int_eq(slot_done, 20);
	cJSON_Delete(last);
	run_result_free(&r);

	f = fopen(metrics, "r");
	ck_assert_msg(f != NULL, "no metrics file '%s'", metrics);
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = '\0';
	ck_assert_int_eq((int)metric_value(text, "slotctl_running"), 0);
	ck_assert_int_eq((int)metric_value(text, "slotctl_slots_planned"), 20);
	ck_assert_int_eq((int)metric_value(text, "slotctl_slots_done"), 20);
	ck_assert_int_eq((int)metric_value(text, "slotctl_slots_failed"), 0);
	ck_assert_int_eq((long long)metric_value(text, "slotctl_keys_moved_total"), want_keys);
	ck_assert_int_eq((int)metric_value(text, "slotctl_errors_total"), 0);
	tc_stop(tc);
}
END_TEST

static Suite *apply_skewed_suite(void)
{
	Suite *s = suite_create("apply_skewed");
	TCase *tc = tcase_create("apply_skewed");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, rebalance_by_memory_and_reshard_big_slot);
	tcase_add_test(tc, metrics_file_and_json_match_the_plan);
	tcase_add_test(tc, unsampled_big_key_retried_with_a_sized_timeout);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(apply_skewed_suite());
}
