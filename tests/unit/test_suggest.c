/* test_suggest.c: the "did you mean" of a mistyped word: edit distance with
 * swaps, abbreviations first, only close matches, ties all named. */
#include <check.h>
#include <string.h>
#include "slotctl/core/suggest.h"
#include "check_run.h"

static const char *const options[] = { "json", "wait", "strict", "deep", "max-keys-per-sec",
	"max-bytes-per-sec", "max-block-ms", "threshold", "help" };
#define NOPTIONS ((int)(sizeof(options) / sizeof(options[0])))

START_TEST(distance_counts_edits_and_swaps)
{
	ck_assert_int_eq(suggest_distance("check", "check"), 0);
	ck_assert_int_eq(suggest_distance("chek", "check"), 1);     /* deletion */
	ck_assert_int_eq(suggest_distance("checkk", "check"), 1);   /* insertion */
	ck_assert_int_eq(suggest_distance("chack", "check"), 1);    /* substitution */
	ck_assert_int_eq(suggest_distance("jsno", "json"), 1);      /* swap */
	ck_assert_int_eq(suggest_distance("", "fix"), 3);
	ck_assert_int_eq(suggest_distance("abc", "xyz"), 3);
}
END_TEST

START_TEST(long_words_are_never_close)
{
	char longer[SUGGEST_WORD_MAX + 2];
	const char *out[4];

	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	ck_assert_int_eq(suggest_distance(longer, "a"), SUGGEST_WORD_MAX + 1);
	ck_assert_int_eq(suggest_words(longer, options, NOPTIONS, out, 4, NULL), 0);
}
END_TEST

START_TEST(near_words_within_a_third)
{
	const char *out[4];
	bool prefix = true;

	ck_assert_int_eq(suggest_words("jsno", options, NOPTIONS, out, 4, &prefix), 1);
	ck_assert_str_eq(out[0], "json");
	ck_assert(!prefix);
	ck_assert_int_eq(suggest_words("treshold", options, NOPTIONS, out, 4, &prefix), 1);
	ck_assert_str_eq(out[0], "threshold");
	/* "frobnicate" is far from everything; "x" is 4 from "wait" */
	ck_assert_int_eq(suggest_words("frobnicate", options, NOPTIONS, out, 4, NULL), 0);
	ck_assert_int_eq(suggest_words("x", options, NOPTIONS, out, 4, NULL), 0);
	ck_assert_int_eq(suggest_words("", options, NOPTIONS, out, 4, NULL), 0);
}
END_TEST

START_TEST(abbreviations_name_every_word_they_begin)
{
	const char *out[4];
	char list[256];
	bool prefix = false;

	ck_assert_int_eq(suggest_words("max", options, NOPTIONS, out, 4, &prefix), 3);
	ck_assert(prefix);
	suggest_format(out, 3, "--", list, sizeof(list));
	ck_assert_str_eq(list, "'--max-keys-per-sec', '--max-bytes-per-sec' or '--max-block-ms'");
	ck_assert_int_eq(suggest_words("st", options, NOPTIONS, out, 4, &prefix), 1);
	ck_assert_str_eq(out[0], "strict");
	ck_assert(prefix);
	/* at most max are stored */
	ck_assert_int_eq(suggest_words("max", options, NOPTIONS, out, 2, NULL), 2);
	suggest_format(out, 1, "", list, sizeof(list));
	ck_assert_str_eq(list, "'max-keys-per-sec'");
	suggest_format(out, 2, "", list, 12);
	ck_assert_uint_eq(strlen(list), 11);
}
END_TEST

static Suite *suggest_suite(void)
{
	Suite *s = suite_create("suggest");
	TCase *tc = tcase_create("suggest");

	tcase_add_test(tc, distance_counts_edits_and_swaps);
	tcase_add_test(tc, long_words_are_never_close);
	tcase_add_test(tc, near_words_within_a_third);
	tcase_add_test(tc, abbreviations_name_every_word_they_begin);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suggest_suite());
}
