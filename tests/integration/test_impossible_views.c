/* test_impossible_views.c: `slotctl check` and `slotctl plan` against a fake
 * node (tests/support/fake_server.c) whose CLUSTER NODES no real cluster
 * gives: a node listed twice, a second id at the seed's own address owning
 * half the slots, two myself lines, none. check names each with its code and
 * exits 1 (before: 0, or 1 with an epoch-collision quoting an epoch the
 * listed line does not say); plan refuses with exit 6 before sampling and
 * writes no file (before: a plan its own show and apply reject). */
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

/* CLUSTER NODES gets the case's text, with every {PORT} the fake's own;
 * everything else the fake's healthy one-master answers. */
static bool answer(struct fake_client *fc, int argc, char **argv, const size_t *len, void *ctx)
{
	const char *text = ctx, *at;
	char nodes[1024], *out = nodes;

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

static struct fake_server *fake_view(const char *nodes, char *seed, size_t size)
{
	struct fake_server *fs = fake_start(answer, (void *)nodes);

	snprintf(seed, size, "127.0.0.1:%d", fake_port(fs));
	return fs;
}

START_TEST(check_names_the_impossible_view)
{
	struct run_result r;
	char seed[32];
	struct fake_server *fake = fake_view(cases[_i].nodes, seed, sizeof(seed));

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
	struct fake_server *fake = fake_view(cases[_i].nodes, seed, sizeof(seed));

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

static Suite *impossible_views_suite(void)
{
	Suite *s = suite_create("impossible_views");
	TCase *tc = tcase_create("fake node");
	int n = (int)(sizeof(cases) / sizeof(cases[0]));

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, check_names_the_impossible_view, 0, n);
	tcase_add_loop_test(tc, plan_refuses_before_sampling, 0, n);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(impossible_views_suite());
}
