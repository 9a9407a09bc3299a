/* test_keyslot.c: key hashing against the Redis Cluster specification's
 * vectors, hash tags included, binary-safe. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "slotctl/core/keyslot.h"
#include "check_run.h"

static int slot_of(const char *key)
{
	return keyslot_of(key, strlen(key));
}

START_TEST(crc16_reference_vector)
{
	ck_assert_uint_eq(keyslot_crc16("123456789", 9), 0x31C3);
}
END_TEST

START_TEST(known_slots)
{
	ck_assert_int_eq(slot_of("hello"), 866);
	ck_assert_int_eq(slot_of("foo"), 12182);
	ck_assert_int_eq(slot_of(""), 0);
}
END_TEST

START_TEST(hash_tags)
{
	ck_assert_int_eq(slot_of("{user1000}.following"), slot_of("{user1000}.followers"));
	ck_assert_int_eq(slot_of("{user1000}.following"), slot_of("user1000"));
	/* an empty first tag hashes the whole key */
	ck_assert_int_eq(slot_of("foo{}{bar}"), keyslot_crc16("foo{}{bar}", 10) & 16383);
	/* the tag runs to the first closing brace */
	ck_assert_int_eq(slot_of("foo{{bar}}zap"), slot_of("{bar"));
	/* no closing brace: whole key */
	ck_assert_int_eq(slot_of("foo{bar"), keyslot_crc16("foo{bar", 7) & 16383);
	ck_assert_int_eq(slot_of("foo{bar}"), slot_of("bar"));
}
END_TEST

START_TEST(binary_safe)
{
	const char key[] = { 'a', '\0', 'b' };
	const char tagged[] = { '{', 'x', '\0', '}', 'z' };
	const char tag[] = { 'x', '\0' };

	ck_assert_int_ne(keyslot_of(key, 3), keyslot_of(key, 1));
	ck_assert_int_eq(keyslot_of(tagged, 5), keyslot_crc16(tag, 2) & 16383);
}
END_TEST

static Suite *keyslot_suite(void)
{
	Suite *s = suite_create("keyslot");
	TCase *tc = tcase_create("keyslot");

	tcase_add_test(tc, crc16_reference_vector);
	tcase_add_test(tc, known_slots);
	tcase_add_test(tc, hash_tags);
	tcase_add_test(tc, binary_safe);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(keyslot_suite());
}
