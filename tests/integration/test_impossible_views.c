/* test_impossible_views.c: `slotctl check` and `slotctl plan` against a fake
 * node (tests/support/fake_server.c) whose CLUSTER NODES no real cluster
 * gives: a node listed twice, a second id at the seed's own address owning
 * half the slots, two myself lines, none. check names each with its code and
 * exits 1 (before: 0, or 1 with an epoch-collision quoting an epoch the
 * listed line does not say); plan refuses with exit 6 before sampling and
 * writes no file (before: a plan its own show and apply reject). apply,
 * resume, abort and fix refuse such a map with exit 6 before they send the
 * fake anything that changes a node, naming the finding and 'slotctl check'
 * (before: resume and abort went on to move slots of nodes that are not
 * there, and fix repaired them). */
#include "support.h"
#include "slotctl/core/exitcode.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "check_run.h"
#include "fake_server.h"

#define RUN_LIMIT_S 60
#define A "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca"
#define B "67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1"

/* The seed (A) listed a second time with other slots and another epoch. */
static const char listed_twice[] =
	A " 127.0.0.1:{PORT}@1 myself,master - 0 0 1 connected 0-8191\n"
	A " 127.0.0.1:{PORT}@1 master - 0 0 2 connected 8192-16383\n";
/* B at the seed's own address, owning half the slots. */
static const char second_id[] =
	A " 127.0.0.1:{PORT}@1 myself,master - 0 0 1 connected 0-8191\n"
	B " 127.0.0.1:{PORT}@1 master - 0 0 2 connected 8192-16383\n";
static const char two_myself[] =
	A " 127.0.0.1:{PORT}@1 myself,master - 0 0 1 connected 0-8191\n"
	B " 127.0.0.1:{PORT}@1 myself,master - 0 0 2 connected 8192-16383\n";
static const char no_myself[] =
	A " 127.0.0.1:{PORT}@1 master - 0 0 1 connected 0-16383\n";

static const struct {
	const char *nodes;
	const char *finding;      /* the line check prints, up to the message's end of subject */
} cases[] = {
	{ listed_twice, "[ERR]  node-listed-twice: node '" A "' is listed twice" },
	{ second_id, "[ERR]  address-listed-twice: two nodes are listed at '127.0.0.1:" },
	{ two_myself, "[ERR]  myself-not-one: two nodes are flagged myself: '" A "'" },
	{ no_myself, "[ERR]  myself-not-one: no node is flagged myself in the CLUSTER NODES of '127.0.0.1:" },
};

/* What a fake answers, and how many commands that change a node it was sent. */
struct view_ctx {
	const char *nodes;
	volatile int changes;
};

/* A command that changes a node: any write, CONFIG other than GET, or a
 * CLUSTER subcommand other than one that reads. */
static bool changes_a_node(int argc, char **argv)
{
	static const char *const readers[] = { "PING", "INFO", "DBSIZE", "ROLE", "MEMORY", "AUTH", "HELLO",
		"CLIENT", "SCAN", "TYPE", "EXISTS", "DUMP", "PTTL", NULL };
	static const char *const cluster_readers[] = { "NODES", "MYID", "INFO", "SLOTS", "SHARDS", "COUNTKEYSINSLOT",
		"GETKEYSINSLOT", "SLOT-STATS", "KEYSLOT", NULL };

	if (fake_arg_is(argc, argv, 0, "CLUSTER")) {
		for (int i = 0; cluster_readers[i]; i++)
			if (fake_arg_is(argc, argv, 1, cluster_readers[i]))
				return false;
		return true;
	}
	if (fake_arg_is(argc, argv, 0, "CONFIG"))
		return !fake_arg_is(argc, argv, 1, "GET");
	for (int i = 0; readers[i]; i++)
		if (fake_arg_is(argc, argv, 0, readers[i]))
			return false;
	return true;
}

/* CLUSTER NODES gets the case's text, with every {PORT} the fake's own;
 * everything else the fake's healthy one-master answers. */
static bool answer(struct fake_client *fc, int argc, char **argv, const size_t *len, void *ctx)
{
	struct view_ctx *v = ctx;
	const char *text = v->nodes, *at;
	char nodes[1024], *out = nodes;

	if (changes_a_node(argc, argv))
		__atomic_add_fetch(&v->changes, 1, __ATOMIC_SEQ_CST);
	if (!fake_arg_is(argc, argv, 0, "CLUSTER") || !fake_arg_is(argc, argv, 1, "NODES"))
		return fake_answer_default(fc, argc, argv, len);
	while ((at = strstr(text, "{PORT}"))) {
		out += snprintf(out, sizeof(nodes) - (size_t)(out - nodes), "%.*s%d", (int)(at - text), text,
			fake_port(fake_client_server(fc)));
		text = at + 6;
	}
	snprintf(out, sizeof(nodes) - (size_t)(out - nodes), "%s", text);
	return fake_sendf(fc, "$%zu\r\n%s\r\n", strlen(nodes), nodes);
}

static struct fake_server *fake_view(struct view_ctx *v, char *seed, size_t size)
{
	struct fake_server *fs = fake_start(answer, v);

	snprintf(seed, size, "127.0.0.1:%d", fake_port(fs));
	return fs;
}

START_TEST(check_names_the_impossible_view)
{
	struct run_result r;
	char seed[32];
	struct view_ctx v = { cases[_i].nodes, 0 };
	struct fake_server *fake = fake_view(&v, seed, sizeof(seed));

	run_slotctl(&r, RUN_LIMIT_S, "check", seed, "--timeout", "2000", NULL);
	ck_assert_exit(&r, SC_EXIT_PROBLEMS);
	ck_assert_msg(strstr(r.out, cases[_i].finding), "no '%s' in:\n%s", cases[_i].finding, r.out);
	/* a node listed twice has no one configEpoch: no collision of A with itself */
	ck_assert_msg(!strstr(r.out, "[ERR]  epoch-collision"), "stdout:\n%s", r.out);
	run_result_free(&r);
	fake_stop(fake);
}
END_TEST

START_TEST(plan_refuses_before_sampling)
{
	struct run_result r;
	char seed[32], path[600], dir[512];
	struct view_ctx v = { cases[_i].nodes, 0 };
	struct fake_server *fake = fake_view(&v, seed, sizeof(seed));

	tc_temp_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/plan.json", dir);
	run_slotctl(&r, RUN_LIMIT_S, "plan", "rebalance", seed, "--by", "slots", "--timeout", "2000", "-o", path,
		NULL);
	ck_assert_exit(&r, SC_EXIT_REFUSED);
	ck_assert_msg(strstr(r.err, "refusing to plan on an impossible cluster map: ") &&
		strstr(r.err, "run 'slotctl check'"), "stderr:\n%s", r.err);
	ck_assert_msg(!strstr(r.err, "sampled"), "it sampled first:\n%s", r.err);
	ck_assert_str_eq(r.out, "");
	ck_assert_int_ne(access(path, F_OK), 0);
	run_result_free(&r);
	fake_stop(fake);
}
END_TEST

/* A plan made on the seed's cluster moving slot 0 from A to B, and (journal
 * not NULL) a journal of its apply stopped with slot 0 importing. */
static void write_plan_and_journal(const char *seed, const char *plan, const char *journal)
{
	FILE *f = fopen(plan, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "{\"format_version\":\"2.0\",\"seed\":\"%s\",\"kind\":\"reshard\",\"by\":\"slots\","
		"\"fingerprint\":\"0123456789abcdef\",\"nodes\":["
		"{\"id\":\"" A "\",\"address\":\"%s\",\"config_epoch\":1,\"slots\":\"0-8191\"},"
		"{\"id\":\"" B "\",\"address\":\"%s\",\"config_epoch\":2,\"slots\":\"8192-16383\"}],"
		"\"batches\":[{\"moves\":[{\"slot\":0,\"from\":\"" A "\",\"to\":\"" B "\"}]}]}\n",
		seed, seed, seed);
	ck_assert_int_eq(fclose(f), 0);
	if (!journal)
		return;
	ck_assert_ptr_nonnull(f = fopen(journal, "w"));
	fprintf(f, "{\"format_version\":\"1.0\",\"record\":\"start\",\"time_ms\":1,\"op\":\"apply\","
		"\"fingerprint\":\"0123456789abcdef\",\"plan\":\"%s\",\"seeds\":\"%s\"}\n"
		"{\"format_version\":\"1.0\",\"record\":\"slot\",\"time_ms\":2,\"slot\":0,\"phase\":\"importing\","
		"\"from\":\"" A "\",\"to\":\"" B "\",\"batch\":0,\"keys\":0}\n", plan, seed);
	ck_assert_int_eq(fclose(f), 0);
}

/* apply, resume, abort and fix on an impossible map: each refuses (exit 6)
 * naming the finding check gives it and 'slotctl check', and sends the
 * fake nothing that changes a node. */
START_TEST(moves_refused_before_changing_anything)
{
	struct run_result r;
	char seed[32], plan[600], journal[640], dir[512], code[64];
	struct view_ctx v = { cases[_i].nodes, 0 };
	struct fake_server *fake = fake_view(&v, seed, sizeof(seed));
	const char *const runs[][8] = {
		{ "apply", plan, "--yes", "--timeout", "2000", NULL },
		{ "resume", plan, "--timeout", "2000", NULL },
		{ "abort", plan, "--timeout", "2000", NULL },
		{ "fix", seed, "--yes", "--wait", "0", "--timeout", "2000", NULL },
	};

	tc_temp_dir(dir, sizeof(dir));
	snprintf(plan, sizeof(plan), "%s/plan.json", dir);
	snprintf(journal, sizeof(journal), "%s.journal", plan);
	/* the finding's code: what check prints after "[ERR]  " */
	snprintf(code, sizeof(code), "%.*s", (int)strcspn(cases[_i].finding + 7, ":"), cases[_i].finding + 7);
	for (size_t k = 0; k < sizeof(runs) / sizeof(runs[0]); k++) {
		const char *const *argv = runs[k];

		unlink(journal);
		/* apply starts the plan; resume and abort continue its journal */
		write_plan_and_journal(seed, plan, strcmp(argv[0], "apply") == 0 ? NULL : journal);
		run_slotctl_argv(&r, RUN_LIMIT_S, argv);
		ck_assert_msg(r.status == SC_EXIT_REFUSED, "%s exited %d, not 6:\n%s%s", argv[0], r.status, r.out, r.err);
		ck_assert_msg(strstr(r.err, "impossible cluster map") && strstr(r.err, code) &&
			strstr(r.err, "run 'slotctl check'"), "%s: stderr:\n%s", argv[0], r.err);
		ck_assert_msg(__atomic_load_n(&v.changes, __ATOMIC_SEQ_CST) == 0, "%s sent %d command(s) that change a node",
			argv[0], v.changes);
		run_result_free(&r);
	}
	fake_stop(fake);
}
END_TEST

static Suite *impossible_views_suite(void)
{
	Suite *s = suite_create("impossible_views");
	TCase *tc = tcase_create("fake node");
	int n = (int)(sizeof(cases) / sizeof(cases[0]));

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, check_names_the_impossible_view, 0, n);
	tcase_add_loop_test(tc, plan_refuses_before_sampling, 0, n);
	tcase_add_loop_test(tc, moves_refused_before_changing_anything, 0, n);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(impossible_views_suite());
}
