/* test_plan.c: `slotctl plan reshard|rebalance|drain` and `slotctl show`
 * against real clusters: uniform and skewed data, a valid plan file whose
 * predicted per-master keys and memory match what the servers hold,
 * --detailed-exitcode, the reviewer's summary, and bad inputs (exit 2 with a
 * message naming what is wrong; exit 3 for an unreachable seed). Nothing
 * moves: plans only. */
#include "support.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/info_text.h"
#include "slotctl/core/keyslot.h"
#include "slotctl/io/plan_file.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check_run.h"

static char tmpdir[] = "/tmp/slotctl-plan-XXXXXX";

static const char *tmp_path(const char *name)
{
	static char buf[4][128];
	static int next;
	char *p = buf[next++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", tmpdir, name);
	return p;
}

/* Removes the files the tests wrote, then the directory. */
static void remove_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			unlink(tmp_path(e->d_name));
	if (d)
		closedir(d);
	rmdir(tmpdir);
}

static void load_plan(const char *path, struct plan *p)
{
	struct sc_error err;

	ck_assert_msg(plan_load(path, p, &err) == 0, "%s", err.msg);
}

static long long reply_integer(redisReply *r)
{
	long long v;

	ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
	v = r->integer;
	freeReplyObject(r);
	return v;
}

/* The index of the master with this id in the cluster. */
static int master_index(const struct test_cluster *tc, const char *id)
{
	for (int i = 0; i < tc_count(tc); i++)
		if (strcmp(tc_id(tc, i), id) == 0)
			return i;
	ck_abort_msg("no node '%s'", id);
	return -1;
}

/* Sum of MEMORY USAGE over every key of node i (SCAN), as the planner
 * would measure it with enough samples. */
static long long node_bytes(const struct test_cluster *tc, int i)
{
	long long total = 0;
	char cursor[32] = "0";

	do {
		redisReply *r = tc_command(tc, i, "SCAN %s COUNT 1000", cursor);

		ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		for (size_t k = 0; k < r->element[1]->elements; k++) {
			const redisReply *key = r->element[1]->element[k];

			total += reply_integer(tc_command(tc, i, "MEMORY USAGE %b", key->str, key->len));
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0);
	return total;
}

START_TEST(uniform_reshard_show_and_codes)
{
	struct test_cluster *tc = tc_start(3, 0);
	struct run_result r;
	struct plan p;
	const char *file;
	cJSON *doc;

	file = tmp_path("reshard.json");
	tc_load_keys(tc, "k", 900);

	/* even slots: nothing to do, exit 0 even with --detailed-exitcode */
	run_slotctl(&r, 120, "plan", "rebalance", tc_seed(tc), "--by", "slots",
		"-o", tmp_path("none.json"), "--detailed-exitcode", NULL);
	ck_assert_exit(&r, 0);
	ck_assert_contains(r.err, "0 slots to move");
	run_result_free(&r);

	/* exactly 100 slots to master 2: exit 8 (moves planned) with --detailed-exitcode */
	ck_assert_int_eq(run_slotctl(&r, 120, "plan", "reshard", tc_seed(tc), "--from", "all",
		"--to", tc_id(tc, 2), "--slots", "100", "-o", file, "--detailed-exitcode", NULL), SC_EXIT_MOVES_PLANNED);
	ck_assert_contains(r.err, "100 slots to move");
	/* memory is sampled on the sources only: the target's is not needed */
	ck_assert_contains(r.err, "sampled 3 masters (memory of 2)");
	ck_assert_contains(r.err, "plan reshard by keys");
	ck_assert_str_eq(r.out, "");
	run_result_free(&r);

	load_plan(file, &p);
	ck_assert_str_eq(plan_kind_name(p.kind), "reshard");
	ck_assert_uint_eq(p.node_count, 3);
	ck_assert_uint_eq(plan_move_count(&p), 100);
	/* predicted keys per master are what the masters hold */
	for (size_t i = 0; i < p.node_count; i++) {
		int idx = master_index(tc, p.nodes[i].id);

		ck_assert_int_eq(p.nodes[i].keys_before, reply_integer(tc_command(tc, idx, "DBSIZE")));
		if (idx == 2)
			ck_assert_int_eq(p.nodes[i].bytes_before, -1);
		else
			ck_assert_int_gt(p.nodes[i].bytes_before, 0);
	}
	for (size_t b = 0; b < p.batch_count; b++)
		for (size_t i = 0; i < p.batches[b].count; i++) {
			const struct plan_move *m = &p.batches[b].moves[i];
			int from = master_index(tc, m->from);

			ck_assert_str_eq(m->to, tc_id(tc, 2));
			ck_assert_int_eq(m->keys,
				reply_integer(tc_command(tc, from, "CLUSTER COUNTKEYSINSLOT %d", m->slot)));
		}
	plan_release(&p);

	/* show: the table, and JSON */
	ck_assert_int_eq(run_slotctl(&r, 30, "show", file, NULL), 0);
	ck_assert_contains(r.out, "MASTER");
	ck_assert_contains(r.out, "imbalance");
	ck_assert_contains(r.out, "to move: 100 slots");
	run_result_free(&r);
	ck_assert_int_eq(run_slotctl(&r, 30, "show", file, "--json", NULL), 0);
	doc = cJSON_Parse(r.out);
	ck_assert_msg(doc != NULL, "show --json is not JSON:\n%s", r.out);
	ck_assert_str_eq(cJSON_GetObjectItem(doc, "format_version")->valuestring, "1.0");
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "total"), "slots")->valueint, 100);
	cJSON_Delete(doc);
	run_result_free(&r);

	/* -o - writes the plan itself to stdout, and --pick lowest takes slot 0 first */
	ck_assert_int_eq(run_slotctl(&r, 120, "plan", "reshard", tc_seed(tc), "--from", tc_id(tc, 0),
		"--to", tc_id(tc, 1), "--slots", "10", "--pick", "lowest", "-o", "-", NULL), 0);
	doc = cJSON_Parse(r.out);
	ck_assert_msg(doc != NULL, "plan -o - is not JSON:\n%s", r.out);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(
		cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "batches"), 0), "moves"), 0), "slot")->valueint, 0);
	ck_assert(strstr(r.out, "pass") == NULL);
	cJSON_Delete(doc);
	run_result_free(&r);

	/* drain master 1: every slot leaves it */
	ck_assert_int_eq(run_slotctl(&r, 120, "plan", "drain", tc_seed(tc), tc_id(tc, 1),
		"--by", "keys", "-o", tmp_path("drain.json"), NULL), 0);
	run_result_free(&r);
	load_plan(tmp_path("drain.json"), &p);
	for (size_t i = 0; i < p.node_count; i++)
		if (strcmp(p.nodes[i].id, tc_id(tc, 1)) == 0)
			ck_assert_int_eq(p.nodes[i].slots_after, 0);
	plan_release(&p);
	tc_stop(tc);
}
END_TEST

/* Fills three big hashes sharing one hash tag (one slot) on its owner. */
static int add_skew(const struct test_cluster *tc)
{
	int slot = keyslot_of("{hot}", 5);
	int owner = tc_owner_of(tc, 0, slot);

	for (int h = 0; h < 3; h++)
		for (int batch = 0; batch < 10; batch++) {
			char cmd[64];
			redisReply *r;

			snprintf(cmd, sizeof(cmd), "{hot}:h%d", h);
			r = tc_command(tc, owner, "EVAL %s 1 %s %d",
				"for i=1,300 do redis.call('HSET', KEYS[1], ARGV[1]..':'..i, string.rep('x', 200)) end return 1",
				cmd, batch);
			ck_assert_msg(r->type == REDIS_REPLY_INTEGER, "EVAL: %s", r->type == REDIS_REPLY_ERROR ? r->str : "?");
			freeReplyObject(r);
		}
	return owner;
}

START_TEST(skewed_memory_rebalance)
{
	struct test_cluster *tc = tc_start(3, 0);
	struct run_result r;
	struct plan p;
	const char *file;
	int owner;

	file = tmp_path("skew.json");
	tc_load_keys(tc, "s", 600);
	owner = add_skew(tc);

	ck_assert_int_eq(run_slotctl(&r, 120, "plan", "rebalance", tc_seed(tc), "--bigkey-bytes", "100000",
		"--sample-keys", "1000", "-o", file, "--detailed-exitcode", NULL), SC_EXIT_MOVES_PLANNED);
	ck_assert_contains(r.err, "plan rebalance by memory");
	ck_assert_contains(r.err, "big keys:");
	ck_assert_contains(r.err, "{hot}:h0");
	run_result_free(&r);

	load_plan(file, &p);
	ck_assert_str_eq(plan_measure_name(p.by), "memory");
	ck_assert_uint_eq(p.big_key_count, 3);
	ck_assert_int_eq(p.big_keys[0].slot, keyslot_of("{hot}", 5));
	/* predicted memory per master is what the keys use (every key sampled) */
	for (size_t i = 0; i < p.node_count; i++) {
		int idx = master_index(tc, p.nodes[i].id);
		long long measured = node_bytes(tc, idx);

		ck_assert_msg(llabs(p.nodes[i].bytes_before - measured) <= measured / 100,
			"master %d: plan says %lld bytes, keys use %lld", idx, p.nodes[i].bytes_before, measured);
		ck_assert_int_gt(p.nodes[i].used_memory, 0);
		if (idx == owner)
			ck_assert_int_gt(p.nodes[i].bytes_before, 500000);
	}
	/* the skewed master gives, and the balance after is better than before */
	ck_assert_int_gt(plan_move_count(&p), 0);
	for (size_t b = 0; b < p.batch_count; b++)
		for (size_t i = 0; i < p.batches[b].count; i++)
			if (p.batches[b].moves[i].big)
				ck_assert_uint_eq(p.batches[b].count, 1);
	plan_release(&p);

	ck_assert_int_eq(run_slotctl(&r, 30, "show", file, NULL), 0);
	ck_assert_contains(r.out, "imbalance (max/min memory per weight)");
	run_result_free(&r);

	/* by slots, the same cluster is balanced */
	ck_assert_int_eq(run_slotctl(&r, 120, "plan", "rebalance", tc_seed(tc), "--by", "slots",
		"-o", tmp_path("slots.json"), "--detailed-exitcode", NULL), 0);
	run_result_free(&r);
	tc_stop(tc);
}
END_TEST

/* The longest prefix two node ids share (at least 1 char), or "" if none. */
static void shared_prefix(const struct test_cluster *tc, char *out, size_t size)
{
	size_t best = 0;

	out[0] = '\0';
	for (int a = 0; a < tc_count(tc); a++)
		for (int b = a + 1; b < tc_count(tc); b++) {
			size_t n = 0;

			while (tc_id(tc, a)[n] && tc_id(tc, a)[n] == tc_id(tc, b)[n])
				n++;
			if (n > best && n < size) {
				best = n;
				snprintf(out, size, "%.*s", (int)n, tc_id(tc, a));
			}
		}
}

static void expect_usage(struct test_cluster *tc, const char *expect, const char *const *args)
{
	const char *argv[24];
	struct run_result r;
	int n = 0;

	for (; args[n]; n++)
		argv[n] = strcmp(args[n], "SEED") == 0 ? tc_seed(tc) : args[n];
	argv[n] = NULL;
	run_slotctl_argv(&r, 120, argv);
	ck_assert_msg(r.status == 2, "expected exit 2 and '%s', got %d:\n%s", expect, r.status, r.err);
	ck_assert_contains(r.err, expect);
	ck_assert_str_eq(r.out, "");
	run_result_free(&r);
}

START_TEST(bad_inputs)
{
	struct test_cluster *tc = tc_start(3, 1);
	struct run_result r;
	char prefix[41];
	FILE *f;

	expect_usage(tc, "-o FILE is required", (const char *const[]){ "plan", "rebalance", "SEED", NULL });
	expect_usage(tc, "give --from, --to and one of --slots or --slot-ranges",
		(const char *const[]){ "plan", "reshard", "SEED", "--from", "all", "-o", "-", NULL });
	expect_usage(tc, "--to: no node id starts with 'zz'",
		(const char *const[]){ "plan", "reshard", "SEED", "--from", "all", "--to", "zz", "--slots", "5", "-o", "-", NULL });
	expect_usage(tc, "the source masters own only",
		(const char *const[]){ "plan", "reshard", "SEED", "--from", tc_id(tc, 0), "--to", tc_id(tc, 1),
			"--slots", "9000", "-o", "-", NULL });
	expect_usage(tc, "is not a master",
		(const char *const[]){ "plan", "drain", "SEED", tc_id(tc, 3), "-o", "-", NULL });
	expect_usage(tc, "--by: 'bytes' is not slots, keys, memory or cpu",
		(const char *const[]){ "plan", "rebalance", "SEED", "--by", "bytes", "-o", "-", NULL });
	expect_usage(tc, "--weight: 'x' is not ID=WEIGHT",
		(const char *const[]){ "plan", "rebalance", "SEED", "--weight", "x", "-o", "-", NULL });
	shared_prefix(tc, prefix, sizeof(prefix));
	if (prefix[0]) /* ids are random: a shared first digit is likely, not certain */
		expect_usage(tc, "is ambiguous",
			(const char *const[]){ "plan", "drain", "SEED", prefix, "-o", "-", NULL });

	/* show refuses what is not a plan, naming the problem */
	f = fopen(tmp_path("bad.json"), "w");
	fputs("{\"format_version\": \"9.0\"}", f);
	fclose(f);
	expect_usage(tc, "'format_version' is '9.0'", (const char *const[]){ "show", tmp_path("bad.json"), NULL });
	f = fopen(tmp_path("broken.json"), "w");
	fputs("{\n\"nodes\": [\n", f);
	fclose(f);
	expect_usage(tc, "not valid JSON (line 2", (const char *const[]){ "show", tmp_path("broken.json"), NULL });
	expect_usage(tc, "cannot read plan", (const char *const[]){ "show", tmp_path("missing.json"), NULL });

	/* an unreachable seed is exit 3 */
	ck_assert_int_eq(run_slotctl(&r, 60, "plan", "rebalance", "127.0.0.1:1", "-o", "-", NULL), 3);
	ck_assert_contains(r.err, "127.0.0.1:1");
	run_result_free(&r);
	tc_stop(tc);
}
END_TEST

#define HOT_ITEMS 2000    /* items of each hot slot's list */
#define HOT_READS 100     /* LRANGEs of each hot list: the slot's CPU */

/* Fills the list "{tag}:list" of tag's slot on its owner and reads it
 * whole HOT_READS times (pipelined), so that the slot counts far more CPU
 * than the others. */
static void heat_slot(const struct test_cluster *tc, const char *tag)
{
	int owner = tc_owner_of(tc, 0, keyslot_of(tag, strlen(tag)));
	redisContext *c = tc_connect(tc, owner);
	redisReply *r;

	for (int i = 0; i < HOT_ITEMS; i++)
		redisAppendCommand(c, "RPUSH {%s}:list item-%d", tag, i);
	for (int i = 0; i < HOT_READS; i++)
		redisAppendCommand(c, "LRANGE {%s}:list 0 -1", tag);
	for (int i = 0; i < HOT_ITEMS + HOT_READS; i++) {
		ck_assert_int_eq(redisGetReply(c, (void **)&r), REDIS_OK);
		ck_assert_msg(r->type != REDIS_REPLY_ERROR, "heating {%s}: %s", tag, r->str);
		freeReplyObject(r);
	}
	redisFree(c);
}

/* Three hash tags whose slots master 0 owns: "t<n>" for the first n that fit. */
static void hot_tags_of_master0(const struct test_cluster *tc, char tags[3][16])
{
	int found = 0;

	for (int n = 0; found < 3 && n < 10000; n++) {
		snprintf(tags[found], sizeof(tags[found]), "t%d", n);
		if (tc_owner_of(tc, 0, keyslot_of(tags[found], strlen(tags[found]))) == 0)
			found++;
	}
	ck_assert_int_eq(found, 3);
}

/* --by cpu: refused (exit 2, naming the setting) while the servers count no
 * CPU per slot (Redis 7.0 has no SLOT-STATS: only that is checked there);
 * on Valkey with cluster-slot-stats-enabled, three slots of one master made
 * hot end on three masters once the plan is applied, every key kept. */
START_TEST(cpu_rebalance_spreads_hot_slots)
{
	struct test_cluster *tc = tc_start(3, 0);
	const char *file = tmp_path("cpu.json");
	struct server_version v;
	struct run_result r;
	struct plan p;
	char tags[3][16];
	bool used[3] = { false };

	tc_load_keys(tc, "c", 600);
	ck_assert_int_eq(run_slotctl(&r, 60, "plan", "rebalance", tc_seed(tc), "--by", "cpu", "-o", file, NULL),
		SC_EXIT_USAGE);
	ck_assert_contains(r.err, "cannot plan --by cpu");
	ck_assert_contains(r.err, "CONFIG SET cluster-slot-stats-enabled yes");
	run_result_free(&r);
	ck_assert_int_eq(run_slotctl(&r, 60, "rebalance", tc_seed(tc), "--by", "cpu", "--yes", NULL), SC_EXIT_USAGE);
	ck_assert_contains(r.err, "cluster-slot-stats-enabled yes");
	run_result_free(&r);
	tc_server_version(tc, 0, &v);
	if (!v.valkey || !server_version_at_least(&v, 8, 0)) {
		tc_verify_keys(tc, "c", 600);
		tc_stop(tc);
		return; /* no CLUSTER SLOT-STATS: nothing to balance by */
	}

	for (int i = 0; i < 3; i++)
		freeReplyObject(tc_command(tc, i, "CONFIG SET cluster-slot-stats-enabled yes"));
	tc_load_keys(tc, "c", 600); /* counted now: every master spends some CPU */
	hot_tags_of_master0(tc, tags);
	for (int t = 0; t < 3; t++)
		heat_slot(tc, tags[t]);

	ck_assert_int_eq(run_slotctl(&r, 120, "plan", "rebalance", tc_seed(tc), "--by", "cpu", "-o", file,
		"--detailed-exitcode", NULL), SC_EXIT_MOVES_PLANNED);
	ck_assert_contains(r.err, "plan rebalance by cpu");
	run_result_free(&r);
	load_plan(file, &p);
	ck_assert_str_eq(plan_measure_name(p.by), "cpu");
	for (size_t i = 0; i < p.node_count; i++)
		ck_assert_int_gt(p.nodes[i].cpu_usec_before, 0);
	plan_release(&p);

	ck_assert_int_eq(run_slotctl(&r, 300, "apply", file, "--yes", NULL), 0);
	run_result_free(&r);
	for (int t = 0; t < 3; t++) {
		int owner = tc_owner_of(tc, 0, keyslot_of(tags[t], strlen(tags[t])));
		redisReply *len = tc_command(tc, owner, "LLEN {%s}:list", tags[t]);

		ck_assert_msg(owner >= 0 && owner < 3 && !used[owner], "hot slot of {%s} ends on master %d with another",
			tags[t], owner);
		used[owner] = true;
		ck_assert_int_eq(reply_integer(len), HOT_ITEMS);
	}
	tc_verify_keys(tc, "c", 600);
	tc_stop(tc);
}
END_TEST

static Suite *plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("plan");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, uniform_reshard_show_and_codes);
	tcase_add_test(tc, skewed_memory_rebalance);
	tcase_add_test(tc, cpu_rebalance_spreads_hot_slots);
	tcase_add_test(tc, bad_inputs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int rc;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	rc = check_run(plan_suite());
	remove_tmpdir();
	return rc;
}
