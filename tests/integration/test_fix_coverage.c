/* test_fix_coverage.c: `slotctl fix` on slots without an owner (made with
 * CLUSTER DELSLOTS on every master) holding no key, keys on one master or
 * keys on several, and on stray keys held by a master that does not own
 * their slot; real servers, known keys verified afterwards. */
#include "fix_support.h"

/* Every master forgets slot: nobody claims it any more. */
static void fx_uncover(const struct fx *f, int slot)
{
	for (int i = 0; i < 3; i++)
		fx_ok(tc_command(f->tc, i, "CLUSTER DELSLOTS %d", slot));
}

START_TEST(uncovered_without_keys)
{
	struct fx f;
	int slot;

	fx_start(&f, 0);
	slot = fx_empty_slot_of(&f, f.third);
	fx_uncover(&f, slot);
	fx_fix_and_verify(&f, "uncovered-no-keys");
	ck_assert_int_ge(tc_owner_of(f.tc, 0, slot), 0);
	fx_stop(&f);
}
END_TEST

START_TEST(uncovered_with_keys_on_one_node)
{
	struct fx f;

	fx_start(&f, 0);
	fx_uncover(&f, f.slot);
	fx_fix_and_verify(&f, "uncovered-keys-on-one");
	ck_assert_int_eq(tc_owner_of(f.tc, 0, f.slot), f.src);
	fx_stop(&f);
}
END_TEST

START_TEST(uncovered_with_keys_on_several_nodes)
{
	struct fx f;

	fx_start_open(&f, 0, 5);
	fx_stable(&f, f.src, f.slot);
	fx_stable(&f, f.dst, f.slot);
	fx_uncover(&f, f.slot);
	fx_fix_and_verify(&f, "uncovered-keys-on-several");
	/* 15 keys against 5: the node with the most keeps the slot */
	ck_assert_int_eq(tc_owner_of(f.tc, 0, f.slot), f.src);
	fx_stop(&f);
}
END_TEST

START_TEST(stray_keys_on_a_non_owner)
{
	struct fx f;

	fx_start(&f, 0);
	fx_setslot(&f, f.third, f.slot, "IMPORTING", f.src);
	fx_move(&f, f.slot, f.src, f.third, 3);
	fx_stable(&f, f.third, f.slot);
	ck_assert_int_eq(fx_count(&f, f.third, f.slot), 3);
	fx_fix_and_verify(&f, "stray-keys");
	ck_assert_int_eq(tc_owner_of(f.tc, 0, f.slot), f.src);
	ck_assert_int_eq(fx_count(&f, f.third, f.slot), 0);
	fx_stop(&f);
}
END_TEST

/* An uncovered slot and an open one, repaired in the same pass. */
START_TEST(uncovered_and_open_in_one_pass)
{
	struct fx f;
	int empty;

	fx_start(&f, 0);
	empty = fx_empty_slot_of(&f, f.third);
	fx_open(&f, f.slot, f.src, f.dst);
	fx_move(&f, f.slot, f.src, f.dst, 4);
	fx_uncover(&f, empty); /* the cluster is down now: MIGRATE is refused until it is covered */
	fx_fix_and_verify(&f, "uncovered-no-keys");
	ck_assert_int_eq(tc_owner_of(f.tc, 0, f.slot), f.dst);
	fx_stop(&f);
}
END_TEST

/* A second master claims the slot too (SETSLOT NODE itself). Gossip settles
 * such a claim by configEpoch within moments, so fix finds either the
 * double claim or its aftermath; the claimant has the lower epoch, so no key
 * is at risk from Redis itself, and fix must end with every key in place. */
START_TEST(slot_claimed_by_two_masters)
{
	struct fx f;
	struct run_result r;

	fx_start(&f, 0);
	fx_ok(tc_command(f.tc, f.dst, "CLUSTER SETSLOT %d NODE %s", f.slot, tc_id(f.tc, f.dst)));
	fx_fix(&f, &r, "--yes", NULL, NULL);
	ck_assert_exit(&r, 0);
	run_result_free(&r);
	fx_verify(&f);
	ck_assert_int_eq(tc_owner_of(f.tc, 0, f.slot), f.src);
	fx_stop(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fix_coverage");
	TCase *tc = tcase_create("fix_coverage");

	tcase_add_test(tc, uncovered_without_keys);
	tcase_add_test(tc, uncovered_with_keys_on_one_node);
	tcase_add_test(tc, uncovered_with_keys_on_several_nodes);
	tcase_add_test(tc, stray_keys_on_a_non_owner);
	tcase_add_test(tc, uncovered_and_open_in_one_pass);
	tcase_add_test(tc, slot_claimed_by_two_masters);
	suite_add_tcase(s, tc);
	return check_run(s);
}
