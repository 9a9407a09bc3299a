/* test_slotset.c: slot sets and their "0-99,500" text form. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "slotctl/core/slotset.h"
#include "check_run.h"

START_TEST(parse_and_format_round_trip)
{
	struct slotset s;
	struct sc_error err;
	char buf[128];

	ck_assert_int_eq(slotset_parse("0-99,500,16383", &s, &err), 0);
	ck_assert_int_eq(slotset_count(&s), 102);
	ck_assert(slotset_has(&s, 500));
	ck_assert(!slotset_has(&s, 100));
	slotset_format(&s, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0-99,500,16383");
}
END_TEST

START_TEST(parse_rejects_bad_input)
{
	struct slotset s;
	struct sc_error err;
	const char *bad[] = { "", "16384", "5-3", "a", "1,", "-1", "1--2", "0-99,x" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(slotset_parse(bad[i], &s, &err) == -1, "accepted '%s'", bad[i]);
		ck_assert_int_eq(err.code, 2);
		ck_assert(strstr(err.msg, "slot") != NULL);
	}
}
END_TEST

START_TEST(format_truncates_safely)
{
	struct slotset s;
	char buf[8];
	size_t need;

	slotset_clear(&s);
	for (int i = 0; i < 100; i += 2)
		slotset_add(&s, i);
	need = slotset_format(&s, buf, sizeof(buf));
	ck_assert_uint_gt(need, sizeof(buf));
	ck_assert_uint_lt(strlen(buf), sizeof(buf));
	ck_assert(strstr(buf, "...") != NULL);
}
END_TEST

START_TEST(set_algebra)
{
	struct slotset a, b, out;

	slotset_clear(&a);
	slotset_clear(&b);
	slotset_add_range(&a, 0, 9);
	slotset_add_range(&b, 5, 14);
	slotset_minus(&out, &a, &b);
	ck_assert_int_eq(slotset_count(&out), 5);
	slotset_intersect(&out, &a, &b);
	ck_assert_int_eq(slotset_count(&out), 5);
	ck_assert(slotset_has(&out, 5) && slotset_has(&out, 9));
	slotset_remove(&out, 5);
	ck_assert(!slotset_has(&out, 5));
	ck_assert(!slotset_equal(&a, &b));
}
END_TEST

/* slotset_add_range fills words at once: it must add exactly the slots one
 * by one adds would, at every word edge and the ends of the slot space. */
START_TEST(add_range_matches_one_by_one)
{
	static const int edges[] = { 0, 1, 62, 63, 64, 65, 127, 128, 200, 8191, 16319, 16320, 16382, 16383 };
	const size_t n = sizeof(edges) / sizeof(edges[0]);

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			struct slotset range, one;

			slotset_clear(&range);
			slotset_clear(&one);
			slotset_add(&range, 300); /* what was there stays */
			slotset_add(&one, 300);
			slotset_add_range(&range, edges[i], edges[j]);
			for (int s = edges[i]; s <= edges[j]; s++)
				slotset_add(&one, s);
			ck_assert_msg(slotset_equal(&range, &one), "range %d-%d", edges[i], edges[j]);
		}
}
END_TEST

static Suite *slotset_suite(void)
{
	Suite *s = suite_create("slotset");
	TCase *tc = tcase_create("slotset");

	tcase_add_test(tc, parse_and_format_round_trip);
	tcase_add_test(tc, parse_rejects_bad_input);
	tcase_add_test(tc, format_truncates_safely);
	tcase_add_test(tc, set_algebra);
	tcase_add_test(tc, add_range_matches_one_by_one);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(slotset_suite());
}
