/* test_keyslot.c: key hashing against the Redis Cluster specification's
 * vectors, hash tags included, binary-safe. */
#include <check.h>
#include <stdint.h>
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

/* The specification's bit-by-bit CRC16 (XMODEM), to hold the table-driven
 * one to. */
static uint16_t crc16_bitwise(const unsigned char *p, size_t len)
{
	uint16_t crc = 0;

	for (size_t i = 0; i < len; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int bit = 0; bit < 8; bit++)
			crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
	}
	return crc;
}

/* Every string of one and two bytes, and longer ones, hash as bit by bit. */
START_TEST(crc16_table_matches_the_bitwise_definition)
{
	unsigned char buf[64];

	for (unsigned v = 0; v < 65536; v++) {
		buf[0] = (unsigned char)(v >> 8);
		buf[1] = (unsigned char)v;
		ck_assert_uint_eq(keyslot_crc16(buf, 2), crc16_bitwise(buf, 2));
		ck_assert_uint_eq(keyslot_crc16(buf + 1, 1), crc16_bitwise(buf + 1, 1));
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 37 + 11);
	for (size_t len = 0; len <= sizeof(buf); len++)
		ck_assert_uint_eq(keyslot_crc16(buf, len), crc16_bitwise(buf, len));
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
	tcase_add_test(tc, crc16_table_matches_the_bitwise_definition);
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
