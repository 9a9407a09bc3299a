/* test_info_text.c: which server an INFO server text comes from, and its
 * version, and a master's replicas from INFO replication (the lines below
 * are the real servers' own). */
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

/* A master's replicas from INFO replication (Valkey 9.1's own lines): each
 * field read, a field that is not a number left unknown, no more than max
 * kept, lines that only look alike skipped. */
START_TEST(replicas_from_info_replication)
{
	static const char text[] = "# Replication\r\nrole:master\r\nconnected_slaves:3\r\n"
		"slave0:ip=127.0.0.1,port=36089,state=online,offset=350736,lag=0,type=replica\r\n"
		"slaves:ip=10.0.0.1,port=1\r\n"
		"slave1:ip=127.0.0.1,port=45065,state=online,offset=x,lag=14\r\n"
		"slave2:ip=10.0.0.3,port=99999,state=send_bulk\r\nmaster_repl_offset:381175\r\n";
	struct info_replica r[2];

	ck_assert_int_eq(info_replicas(text, r, 2), 2);
	ck_assert_str_eq(r[0].ip, "127.0.0.1");
	ck_assert_int_eq(r[0].port, 36089);
	ck_assert_str_eq(r[0].state, "online");
	ck_assert_int_eq(r[0].offset, 350736);
	ck_assert_int_eq(r[0].lag_s, 0);
	ck_assert_int_eq(r[1].port, 45065);
	ck_assert_int_eq(r[1].offset, -1);
	ck_assert_int_eq(r[1].lag_s, 14);
	struct info_replica all[INFO_REPLICAS_MAX];
	ck_assert_int_eq(info_replicas(text, all, INFO_REPLICAS_MAX), 3);
	ck_assert_int_eq(all[2].port, 0); /* 99999 is no port */
	ck_assert_str_eq(all[2].state, "send_bulk");
	ck_assert_int_eq(all[2].lag_s, -1);
	ck_assert_int_eq(info_replicas("role:slave\r\nmaster_link_status:up\r\n", all, INFO_REPLICAS_MAX), 0);
	ck_assert_int_eq(info_get_ll(text, "master_repl_offset", -1), 381175);
}
END_TEST

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
	tcase_add_test(tc, replicas_from_info_replication);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(info_text_suite());
}
