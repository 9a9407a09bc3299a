/* test_node_rules.c: the decisions of `slotctl node add|remove|forget-failed`
 * (core/node/node_rules.c) on captured CLUSTER NODES replies (tests/fixtures/nodes/)
 * and small hand-written variants: who may join, which master a new replica
 * follows, who may leave and why not, who is forgotten. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "slotctl/core/exitcode.h"
#include "slotctl/core/node_rules.h"
#include "read_file.h"
#include "check_run.h"

#define M0 "272764ef9976571cf2cba0a47c7d09159dbc4abb"
#define M1 "b43bb7bd399a87de77d860503f236b3c0b2f726b"
#define M2 "d82b2204ad4322eaec747b0df7a2b34b6e8b115a"
#define R0 "3a70e22b802a680feada4a0de81f915369eb26c7"
#define R2 "c2530ce668a2eeefdb1aeb7ac620cc25ef13aa0c"
#define E1 "e000000000000000000000000000000000000001"

static void parse_text(const char *text, struct topology *t)
{
	struct sc_error err = { 0 };

	ck_assert_msg(topology_parse(text, strlen(text), t, &err) == 0, "%s", err.msg);
}

static void parse_fixture(const char *name, struct topology *t)
{
	char relative[512];
	size_t len;
	char *text;
	struct sc_error err = { 0 };
	int rc;

	snprintf(relative, sizeof(relative), "nodes/%s", name);
	text = test_read_file("SLOTCTL_FIXTURES", relative, &len);
	rc = topology_parse(text, len, t, &err);
	free(text);
	ck_assert_msg(rc == 0, "%s: %s", name, err.msg);
}

/* The healthy 3-master 3-replica capture with extra lines appended. */
static void parse_healthy_plus(const char *extra, struct topology *t)
{
	size_t len;
	char *text = test_read_file("SLOTCTL_FIXTURES", "nodes/healthy-3m3r.txt", &len);
	char *all = malloc(len + strlen(extra) + 1);

	ck_assert_ptr_nonnull(all);
	memcpy(all, text, len);
	strcpy(all + len, extra);
	parse_text(all, t);
	free(all);
	free(text);
}

START_TEST(fresh_empty_node_may_join)
{
	struct topology t;
	struct sc_error err = { 0 };

	parse_fixture("fresh-node.txt", &t);
	ck_assert_int_eq(node_rules_joinable(&t, 0, "127.0.0.1:51379", &err), 0);
	topology_release(&t);
}
END_TEST

START_TEST(node_with_keys_is_refused)
{
	struct topology t;
	struct sc_error err = { 0 };

	parse_fixture("fresh-node.txt", &t);
	ck_assert_int_eq(node_rules_joinable(&t, 12, "127.0.0.1:51379", &err), -1);
	ck_assert_int_eq(err.code, SC_EXIT_REFUSED);
	ck_assert_str_eq(err.msg, "'127.0.0.1:51379' holds 12 keys: a new node must be empty "
		"(FLUSHALL it if its data is not needed)");
	topology_release(&t);
}
END_TEST

START_TEST(node_of_another_cluster_is_refused)
{
	struct topology t;
	struct sc_error err = { 0 };

	/* the view of a master of a cluster: it serves slots */
	parse_fixture("healthy-3m3r.txt", &t);
	ck_assert_int_eq(node_rules_joinable(&t, 0, "127.0.0.1:51379", &err), -1);
	ck_assert_int_eq(err.code, SC_EXIT_REFUSED);
	ck_assert_msg(strstr(err.msg, "serves 5461 slots") != NULL, "%s", err.msg);
	topology_release(&t);
	/* an empty node that knows others */
	parse_text(E1 " 127.0.0.1:7001@17001 myself,master - 0 0 0 connected\n"
		M1 " 127.0.0.1:7002@17002 master - 0 0 1 connected\n", &t);
	ck_assert_int_eq(node_rules_joinable(&t, 0, "127.0.0.1:7001", &err), -1);
	ck_assert_str_eq(err.msg, "'127.0.0.1:7001' knows 1 other node: it is, or was, in a cluster "
		"(CLUSTER RESET it if it must leave that cluster)");
	topology_release(&t);
}
END_TEST

START_TEST(replica_follows_master_with_fewest_replicas)
{
	struct topology t;

	/* every master has one replica: ties go to the lowest id (M1 < M2) */
	parse_fixture("healthy-3m3r.txt", &t);
	ck_assert_str_eq(node_rules_fewest_replicas(&t)->id, M0);
	topology_release(&t);
	/* M2's replica has failed: M2 has none left that works */
	parse_fixture("replica-fail.txt", &t);
	ck_assert_str_eq(node_rules_fewest_replicas(&t)->id, M2);
	ck_assert_uint_eq(node_rules_replica_count(&t, M2), 1);
	topology_release(&t);
	/* an empty master never takes replicas; a second replica of M0 */
	parse_healthy_plus(E1 " 127.0.0.1:7009@17009 master - 0 0 9 connected\n"
		"e000000000000000000000000000000000000002 127.0.0.1:7010@17010 slave " M0 " 0 0 1 connected\n", &t);
	ck_assert_str_eq(node_rules_fewest_replicas(&t)->id, M1);
	ck_assert_str_eq(node_rules_new_master(&t, M1)->id, M2);
	topology_release(&t);
}
END_TEST

START_TEST(master_serving_slots_is_not_removed)
{
	struct topology t;
	struct sc_error err = { 0 };

	parse_fixture("healthy-3m3r.txt", &t);
	ck_assert_int_eq(node_rules_removable(&t, M1, false, false, &err), -1);
	ck_assert_int_eq(node_rules_removable(&t, M1, true, false, &err), 0);
	ck_assert_int_eq(node_rules_removable(&t, M1, false, false, &err), -1);
	ck_assert_int_eq(err.code, SC_EXIT_REFUSED);
	ck_assert_str_eq(err.msg, "'127.0.0.1:41739' (b43bb7bd) serves 5462 slots: move them away first "
		"(--drain, or 'slotctl plan drain SEED " M1 " -o drain.json', then 'slotctl apply drain.json')");
	/* a replica may always go; an unknown id is a usage error */
	ck_assert_int_eq(node_rules_removable(&t, R0, false, false, &err), 0);
	ck_assert_int_eq(node_rules_removable(&t, E1, false, false, &err), -1);
	ck_assert_int_eq(err.code, SC_EXIT_USAGE);
	topology_release(&t);
}
END_TEST

START_TEST(empty_master_is_removed_its_replicas_follow_another)
{
	struct topology t;
	struct sc_error err = { 0 };

	parse_healthy_plus(E1 " 127.0.0.1:7009@17009 master - 0 0 9 connected\n"
		"e000000000000000000000000000000000000002 127.0.0.1:7010@17010 slave " E1 " 0 0 9 connected\n", &t);
	ck_assert_int_eq(node_rules_removable(&t, E1, false, false, &err), 0);
	ck_assert_int_eq(node_rules_removable(&t, E1, false, true, &err), 0);
	ck_assert_ptr_nonnull(node_rules_new_master(&t, E1));
	ck_assert_str_ne(node_rules_new_master(&t, E1)->id, E1);
	topology_release(&t);
	/* an empty master with a slot open is refused */
	parse_healthy_plus(E1 " 127.0.0.1:7009@17009 master - 0 0 9 connected [5-<-" M0 "]\n", &t);
	ck_assert_int_eq(node_rules_removable(&t, E1, false, true, &err), -1);
	ck_assert_msg(strstr(err.msg, "has slot 5 open") != NULL, "%s", err.msg);
	topology_release(&t);
}
END_TEST

START_TEST(forgettable_are_failed_nodes_without_slots)
{
	struct topology t;
	size_t idx[8];

	parse_fixture("healthy-3m3r.txt", &t);
	ck_assert_uint_eq(node_rules_forgettable(&t, idx, 8), 0);
	topology_release(&t);
	parse_fixture("replica-fail.txt", &t);
	ck_assert_uint_eq(node_rules_forgettable(&t, idx, 8), 1);
	ck_assert_str_eq(t.nodes[idx[0]].id, R2);
	topology_release(&t);
	/* a failed master still serving slots is fix's business, not forgotten;
	 * a noaddr one without slots is */
	parse_text(M0 " 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-100\n"
		M1 " 127.0.0.1:7001@17001 master,fail - 0 0 2 disconnected 101-16383\n"
		E1 " :0@0 master,fail,noaddr - 0 0 3 disconnected\n", &t);
	ck_assert_uint_eq(node_rules_forgettable(&t, idx, 8), 1);
	ck_assert_str_eq(t.nodes[idx[0]].id, E1);
	/* more than fit: counted, only max written */
	ck_assert_uint_eq(node_rules_forgettable(&t, idx, 0), 1);
	topology_release(&t);
}
END_TEST

static Suite *node_rules_suite(void)
{
	Suite *s = suite_create("node_rules");
	TCase *tc = tcase_create("node_rules");

	tcase_add_test(tc, fresh_empty_node_may_join);
	tcase_add_test(tc, node_with_keys_is_refused);
	tcase_add_test(tc, node_of_another_cluster_is_refused);
	tcase_add_test(tc, replica_follows_master_with_fewest_replicas);
	tcase_add_test(tc, master_serving_slots_is_not_removed);
	tcase_add_test(tc, empty_master_is_removed_its_replicas_follow_another);
	tcase_add_test(tc, forgettable_are_failed_nodes_without_slots);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(node_rules_suite());
}
