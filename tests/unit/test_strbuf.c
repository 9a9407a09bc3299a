/* test_strbuf.c: the bounded string builder: appends that fit, an exact fit,
 * truncation (kept text, flag, terminator, nothing past the end) and a
 * buffer of size 0 or 1; plain strings and numbers as printf gives them. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include "slotctl/core/strbuf.h"
#include "check_run.h"

START_TEST(appends_that_fit_are_kept_whole)
{
	char buf[32];
	struct strbuf sb;

	strbuf_init(&sb, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	ck_assert(strbuf_addf(&sb, "slot %d", 7));
	ck_assert(strbuf_addf(&sb, "%s'%s'", sb.len ? ", " : "", "a"));
	ck_assert(strbuf_addf(&sb, "%s", ""));
	ck_assert_str_eq(buf, "slot 7, 'a'");
	ck_assert_uint_eq(sb.len, strlen(buf));
	ck_assert(!sb.truncated);
}
END_TEST

START_TEST(an_exact_fit_is_not_truncated)
{
	char buf[8];
	struct strbuf sb;

	strbuf_init(&sb, buf, sizeof(buf));
	ck_assert(strbuf_addf(&sb, "abc"));
	ck_assert(strbuf_addf(&sb, "%s", "defg")); /* 7 characters and the NUL: full */
	ck_assert_str_eq(buf, "abcdefg");
	ck_assert_uint_eq(sb.len, 7);
	ck_assert(!sb.truncated);
	ck_assert(strbuf_addf(&sb, "%s", "")); /* nothing more still fits */
	ck_assert(!sb.truncated);
	ck_assert(!strbuf_addf(&sb, "h")); /* one more byte does not */
	ck_assert(sb.truncated);
	ck_assert_str_eq(buf, "abcdefg");
}
END_TEST

START_TEST(what_does_not_fit_is_cut_and_flagged)
{
	char buf[16];
	struct strbuf sb;

	strbuf_init(&sb, buf, 10);
	ck_assert(strbuf_addf(&sb, "1234"));
	ck_assert(!strbuf_addf(&sb, "%s-%d", "56789", 42));
	ck_assert(sb.truncated);
	ck_assert_str_eq(buf, "123456789");
	ck_assert_uint_eq(sb.len, 9);
	/* later appends change nothing and keep the flag */
	ck_assert(!strbuf_addf(&sb, "x"));
	ck_assert(strbuf_addf(&sb, "%s", "")); /* an empty append still fits */
	ck_assert(sb.truncated);
	ck_assert_str_eq(buf, "123456789");
}
END_TEST

START_TEST(nothing_is_written_past_size)
{
	char buf[12];
	struct strbuf sb;

	memset(buf, 'Z', sizeof(buf));
	strbuf_init(&sb, buf, 6);
	ck_assert(!strbuf_addf(&sb, "%s", "a long line of text"));
	ck_assert_str_eq(buf, "a lon");
	for (size_t i = 6; i < sizeof(buf); i++)
		ck_assert_int_eq(buf[i], 'Z');
}
END_TEST

START_TEST(tiny_buffers)
{
	char one[1] = { 'Z' }, none[1] = { 'Z' };
	struct strbuf sb;

	strbuf_init(&sb, one, sizeof(one));
	ck_assert_int_eq(one[0], '\0');
	ck_assert(strbuf_addf(&sb, "%s", ""));
	ck_assert(!sb.truncated);
	ck_assert(!strbuf_addf(&sb, "a"));
	ck_assert(sb.truncated);
	ck_assert_int_eq(one[0], '\0');
	ck_assert_uint_eq(sb.len, 0);

	strbuf_init(&sb, none, 0);
	ck_assert_int_eq(none[0], 'Z'); /* size 0: the buffer is never touched */
	ck_assert(!strbuf_addf(&sb, "a"));
	ck_assert(sb.truncated);
	ck_assert_int_eq(none[0], 'Z');
}
END_TEST

START_TEST(plain_strings_and_numbers_append_as_printf_would)
{
	const long long values[] = { 0, 7, -7, 4095, 1796475159933LL, 9223372036854775807LL,
		-9223372036854775807LL - 1 };
	char buf[64], want[64], small[8];
	struct strbuf sb;

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		strbuf_init(&sb, buf, sizeof(buf));
		ck_assert(strbuf_adds(&sb, "n="));
		ck_assert(strbuf_addll(&sb, values[i]));
		snprintf(want, sizeof(want), "n=%lld", values[i]);
		ck_assert_str_eq(buf, want);
		ck_assert_uint_eq(sb.len, strlen(want));
	}
	/* cut off as strbuf_addf would be */
	strbuf_init(&sb, small, sizeof(small));
	ck_assert(strbuf_adds(&sb, "abc"));
	ck_assert(!strbuf_addll(&sb, 123456));
	ck_assert(sb.truncated);
	ck_assert_str_eq(small, "abc1234");
	ck_assert(!strbuf_adds(&sb, "x"));
	ck_assert_str_eq(small, "abc1234");
	ck_assert(strbuf_adds(&sb, ""));
}
END_TEST

static Suite *strbuf_suite(void)
{
	Suite *s = suite_create("strbuf");
	TCase *tc = tcase_create("strbuf");

	tcase_add_test(tc, appends_that_fit_are_kept_whole);
	tcase_add_test(tc, an_exact_fit_is_not_truncated);
	tcase_add_test(tc, what_does_not_fit_is_cut_and_flagged);
	tcase_add_test(tc, nothing_is_written_past_size);
	tcase_add_test(tc, tiny_buffers);
	tcase_add_test(tc, plain_strings_and_numbers_append_as_printf_would);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(strbuf_suite());
}
