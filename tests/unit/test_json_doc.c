/* test_json_doc.c: versioned JSON documents: one starts with its
 * format_version, a "MAJOR.MINOR" string, and only such a string is read as
 * a version; its numbers are written as cJSON writes them. */
#include <check.h>
#include <cJSON.h>
#include <stdlib.h>
#include "slotctl/core/json_doc.h"
#include "check_run.h"

START_TEST(a_document_starts_with_its_version)
{
	cJSON *doc = json_doc_new("2.1");
	char *text;

	ck_assert_ptr_nonnull(doc);
	ck_assert(cJSON_IsString(doc->child));
	ck_assert_str_eq(doc->child->string, "format_version");
	ck_assert_str_eq(doc->child->valuestring, "2.1");
	ck_assert_ptr_null(doc->child->next);
	cJSON_AddNumberToObject(doc, "n", 1);
	text = cJSON_PrintUnformatted(doc);
	ck_assert_str_eq(text, "{\"format_version\":\"2.1\",\"n\":1}");
	cJSON_free(text);
	cJSON_Delete(doc);
}
END_TEST

START_TEST(versions_are_major_dot_minor)
{
	const char *bad[] = { "", "2", "2.", ".1", "a.b", "2.0x", "2.0.1", "-1.0", "2.-1", "v2.0" };
	int major = -7, minor = -7;

	ck_assert_int_eq(json_doc_version("2.0", &major, &minor), 0);
	ck_assert_int_eq(major, 2);
	ck_assert_int_eq(minor, 0);
	ck_assert_int_eq(json_doc_version("10.25", &major, &minor), 0);
	ck_assert_int_eq(major, 10);
	ck_assert_int_eq(minor, 25);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		major = minor = -7;
		ck_assert_msg(json_doc_version(bad[i], &major, &minor) == -1, "accepted '%s'", bad[i]);
		ck_assert_int_eq(major, -7);
		ck_assert_int_eq(minor, -7);
	}
}
END_TEST

/* Whole numbers as digits, the same text cJSON gives for them; others (and
 * whole numbers beyond 1e15) as cJSON gives them. */
START_TEST(numbers_are_written_as_cjson_writes_them)
{
	const double values[] = { 0, 1, -1, 4095, 2147483648.0, 1796475159933.0, 999999999999999.0, -5e14,
		0.5, 33.3, 1e16, -2.5e20 };

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		cJSON *mine = cJSON_CreateObject(), *theirs = cJSON_CreateObject();
		char *a, *b;

		ck_assert_ptr_nonnull(json_add_number(mine, "n", values[i]));
		cJSON_AddNumberToObject(theirs, "n", values[i]);
		a = cJSON_PrintUnformatted(mine);
		b = cJSON_PrintUnformatted(theirs);
		ck_assert_str_eq(a, b);
		cJSON_free(a);
		cJSON_free(b);
		/* and it reads back as the number */
		a = cJSON_PrintUnformatted(mine);
		cJSON_Delete(mine);
		mine = cJSON_Parse(a);
		ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(mine, "n")));
		ck_assert(cJSON_GetObjectItem(mine, "n")->valuedouble == values[i]);
		cJSON_free(a);
		cJSON_Delete(mine);
		cJSON_Delete(theirs);
	}
}
END_TEST

/* Plain: printable ASCII without the quote and the backslash, nothing else. */
START_TEST(plain_strings_are_printable_ascii_without_quote_or_backslash)
{
	char one[2] = "";

	ck_assert(json_is_plain(""));
	ck_assert(json_is_plain("07c1f3e8a9b2d4c6e0f1a3b5c7d9e1f3a5b7c9d1"));
	ck_assert(json_is_plain(" !#$%&'()*+,-./:;<=>?@[]^_`{|}~"));
	for (int c = 1; c < 256; c++) {
		one[0] = (char)c;
		ck_assert_msg(json_is_plain(one) == (c >= 0x20 && c < 0x7f && c != '"' && c != '\\'), "byte %d", c);
	}
	ck_assert(!json_is_plain("ab\"c"));
	ck_assert(!json_is_plain("tab\there"));
	ck_assert(!json_is_plain("caf\xc3\xa9"));
}
END_TEST

static Suite *json_doc_suite(void)
{
	Suite *s = suite_create("json_doc");
	TCase *tc = tcase_create("json_doc");

	tcase_add_test(tc, a_document_starts_with_its_version);
	tcase_add_test(tc, versions_are_major_dot_minor);
	tcase_add_test(tc, numbers_are_written_as_cjson_writes_them);
	tcase_add_test(tc, plain_strings_are_printable_ascii_without_quote_or_backslash);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(json_doc_suite());
}
