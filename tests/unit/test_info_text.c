/* test_info_text.c: which server an INFO server text comes from, and its
 * version (the lines below are the real servers' own). */
#include <check.h>
#include "slotctl/core/info_text.h"
#include "check_run.h"

/* Debian's redis-server 7.0 */
static const char redis70[] = "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\n"
	"redis_mode:cluster\r\nos:Linux 6.1.0 x86_64\r\n";
/* Valkey 9.1 keeps redis_version at 7.2.4 for clients that read it */
static const char valkey91[] = "# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\n"
	"valkey_version:9.1.2\r\nvalkey_release_stage:ga\r\nredis_git_sha1:00000000\r\n"
	"server_mode:cluster\r\n";

START_TEST(tells_redis_from_valkey)
{
	struct server_version v;

	info_server_version(redis70, &v);
	ck_assert(!v.valkey);
	ck_assert_int_eq(v.major, 7);
	ck_assert_int_eq(v.minor, 0);
	ck_assert_int_eq(v.patch, 15);
	ck_assert(server_version_at_least(&v, 7, 0));
	ck_assert(!server_version_at_least(&v, 7, 2));

	info_server_version(valkey91, &v);
	ck_assert(v.valkey);
	ck_assert_int_eq(v.major, 9);
	ck_assert_int_eq(v.minor, 1);
	ck_assert_int_eq(v.patch, 2);
	ck_assert(server_version_at_least(&v, 8, 0));
	ck_assert(!server_version_at_least(&v, 9, 2));
}
END_TEST

/* A version that is not X.Y.Z of sane numbers is unknown (0.0.0), never
 * read past or overflowed. */
START_TEST(odd_versions_are_unknown)
{
	static const char *const odd[] = {
		"redis_version:\r\n", "redis_version:7\r\n", "redis_version:7.0\r\n", "redis_version:7.0.x\r\n",
		"redis_version:99999999999.0.0\r\n", "redis_version:-1.0.0\r\n", "redis_version:7.0.15.1\r\n",
		"", "server_name:valkey\r\n",
	};
	struct server_version v;

	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		info_server_version(odd[i], &v);
		ck_assert_msg(v.major == 0 && v.minor == 0 && v.patch == 0, "'%s' read as %d.%d.%d", odd[i],
			v.major, v.minor, v.patch);
	}
	ck_assert(v.valkey);
	ck_assert(!server_version_at_least(&v, 8, 0));
}
END_TEST

static Suite *info_text_suite(void)
{
	Suite *s = suite_create("info_text");
	TCase *tc = tcase_create("info_text");

	tcase_add_test(tc, tells_redis_from_valkey);
	tcase_add_test(tc, odd_versions_are_unknown);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(info_text_suite());
}
