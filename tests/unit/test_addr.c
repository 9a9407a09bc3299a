/* test_addr.c: node addresses, "host:port" and "[v6]:port", read and written. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "slotctl/core/addr.h"
#include "slotctl/core/exitcode.h"
#include "check_run.h"

START_TEST(parses_host_and_port)
{
	struct {
		const char *text, *host;
		int port;
	} ok[] = {
		{ "127.0.0.1:7000", "127.0.0.1", 7000 },
		{ "localhost:1", "localhost", 1 },
		{ "redis-0.example.com:65535", "redis-0.example.com", 65535 },
		{ "[::1]:6379", "::1", 6379 },
		{ "[fe80::1%eth0]:7001", "fe80::1%eth0", 7001 },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char host[64];
		int port = 0;
		struct sc_error err = { 0 };

		ck_assert_msg(addr_parse(ok[i].text, host, sizeof(host), &port, &err) == 0,
			"'%s': %s", ok[i].text, err.msg);
		ck_assert_str_eq(host, ok[i].host);
		ck_assert_int_eq(port, ok[i].port);
	}
}
END_TEST

START_TEST(rejects_malformed_addresses)
{
	const char *bad[] = { "", "7000", "host", ":7000", "host:", "host:0", "host:65536",
		"host:70x", "host:-1", "host: 7000", "::1:7000", "[::1]7000", "[::1]", "[::1:7000",
		"[]:7000", "host:99999999999999999999" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char host[64] = "untouched";
		int port = -7;
		struct sc_error err = { 0 };

		ck_assert_msg(addr_parse(bad[i], host, sizeof(host), &port, &err) == -1,
			"accepted '%s'", bad[i]);
		ck_assert_int_eq(err.code, SC_EXIT_USAGE);
		if (bad[i][0])
			ck_assert_msg(strstr(err.msg, bad[i]) != NULL, "'%s' not named in: %s", bad[i], err.msg);
		ck_assert_str_eq(host, "untouched");
		ck_assert_int_eq(port, -7);
	}
}
END_TEST

START_TEST(rejects_a_host_too_long_for_the_buffer)
{
	char host[8];
	int port;
	struct sc_error err = { 0 };

	ck_assert_int_eq(addr_parse("abcdefg:1", host, sizeof(host), &port, &err), 0);
	ck_assert_int_eq(addr_parse("abcdefgh:1", host, sizeof(host), &port, &err), -1);
	ck_assert_int_eq(err.code, SC_EXIT_USAGE);
}
END_TEST

START_TEST(format_round_trips)
{
	const char *hosts[] = { "127.0.0.1", "::1", "node-a" };

	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		char buf[64], host[64];
		int port;
		struct sc_error err = { 0 };

		addr_format(buf, sizeof(buf), hosts[i], 7000 + (int)i);
		ck_assert_int_eq(addr_parse(buf, host, sizeof(host), &port, &err), 0);
		ck_assert_str_eq(host, hosts[i]);
		ck_assert_int_eq(port, 7000 + (int)i);
	}
}
END_TEST

static Suite *addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("addr");

	tcase_add_test(tc, parses_host_and_port);
	tcase_add_test(tc, rejects_malformed_addresses);
	tcase_add_test(tc, rejects_a_host_too_long_for_the_buffer);
	tcase_add_test(tc, format_round_trips);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(addr_suite());
}
