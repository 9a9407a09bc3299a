/* test_exitcode.c: the exit-code table is ordered and unique, and README.md
 * and man/slotctl.1 list every code with its name. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "slotctl/core/error.h"
#include "slotctl/core/exitcode.h"
#include "read_file.h"
#include "check_run.h"

static char *read_source_file(const char *relative)
{
	return test_read_file("SLOTCTL_SOURCE_ROOT", relative, NULL);
}

START_TEST(table_is_ordered_and_unique)
{
	const struct sc_exit_info *t = sc_exit_table();

	for (int i = 0; i < SC_EXIT_COUNT; i++) {
		ck_assert_int_eq(t[i].code, i);
		ck_assert_ptr_eq(sc_exit_lookup(i), &t[i]);
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(t[i].name, t[j].name);
	}
	ck_assert_ptr_null(sc_exit_lookup(SC_EXIT_COUNT));
	ck_assert_ptr_null(sc_exit_lookup(-1));
}
END_TEST

START_TEST(readme_lists_every_code)
{
	char *readme = read_source_file("README.md");

	for (int i = 0; i < SC_EXIT_COUNT; i++) {
		char row[128];

		snprintf(row, sizeof(row), "| %d | `%s` |", i, sc_exit_table()[i].name);
		ck_assert_msg(strstr(readme, row) != NULL, "README.md lacks the row '%s'", row);
	}
	free(readme);
}
END_TEST

START_TEST(man_page_lists_every_code)
{
	char *man = read_source_file("man/slotctl.1");

	for (int i = 0; i < SC_EXIT_COUNT; i++) {
		char entry[128];

		snprintf(entry, sizeof(entry), ".B %d\n%s", i, sc_exit_table()[i].name);
		ck_assert_msg(strstr(man, entry) != NULL, "man/slotctl.1 lacks '.B %d' followed by '%s'",
			i, sc_exit_table()[i].name);
	}
	free(man);
}
END_TEST

START_TEST(an_error_never_exits_0)
{
	struct sc_error err;

	/* a code that was never set, or set to 0, or to no code of the table */
	sc_error_clear(&err);
	ck_assert_int_eq(sc_exit_code(&err), SC_EXIT_PROBLEMS);
	sc_error_set(&err, SC_EXIT_OK, "it worked, or did it");
	ck_assert_int_eq(sc_exit_code(&err), SC_EXIT_PROBLEMS);
	sc_error_set(&err, -1, "a return value, not a code");
	ck_assert_int_eq(sc_exit_code(&err), SC_EXIT_PROBLEMS);
	sc_error_set(&err, SC_EXIT_COUNT, "past the table");
	ck_assert_int_eq(sc_exit_code(&err), SC_EXIT_PROBLEMS);
	sc_error_set(&err, 256, "would wrap to 0 as an exit status");
	ck_assert_int_eq(sc_exit_code(&err), SC_EXIT_PROBLEMS);
	ck_assert_int_eq(sc_exit_code(NULL), SC_EXIT_PROBLEMS);
	/* every other code of the table is kept */
	for (int code = 1; code < SC_EXIT_COUNT; code++) {
		sc_error_set(&err, code, "code %d", code);
		ck_assert_int_eq(sc_exit_code(&err), code);
	}
}
END_TEST

static Suite *exitcode_suite(void)
{
	Suite *s = suite_create("exitcode");
	TCase *tc = tcase_create("exitcode");

	tcase_add_test(tc, table_is_ordered_and_unique);
	tcase_add_test(tc, readme_lists_every_code);
	tcase_add_test(tc, man_page_lists_every_code);
	tcase_add_test(tc, an_error_never_exits_0);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(exitcode_suite());
}
