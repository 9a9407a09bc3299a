/* test_sampler.c: the sampler (io/cluster/sampler.c) against real servers.
 * Its key counts agree with CLUSTER COUNTKEYSINSLOT on each slot's owner;
 * where the server has CLUSTER SLOT-STATS (Valkey 8+) they come from it, one
 * round trip per master instead of one per 64 slots, and the CPU time the
 * server spent on each slot is there once it counts it
 * (cluster-slot-stats-enabled), so a hot slot stands out. On a server
 * without SLOT-STATS (Redis 7.0) the counts come from COUNTKEYSINSLOT and
 * CPU stays unknown. */
#include "check_run.h"
#include "support.h"
#include "slotctl/core/keyslot.h"
#include "slotctl/core/topology.h"
#include "slotctl/io/sampler.h"

#include <stdio.h>
#include <string.h>

#define MASTERS 3
#define KEYS 3000
#define HOT_KEYS 200       /* keys of one slot, "{hot}:<i>" */
#define LIST_ITEMS 4000    /* items of the hot slot's list */

static const struct conn_opts copts = { .connect_timeout_ms = 5000, .command_timeout_ms = 5000 };

/* Whether node 0 is a server with CLUSTER SLOT-STATS: Valkey 8 or later. */
static bool has_slot_stats(const struct test_cluster *tc)
{
	struct server_version v;

	tc_server_version(tc, 0, &v);
	return v.valkey && server_version_at_least(&v, 8, 0);
}

/* Samples key counts only (no memory) of every master, as node 0 sees them. */
static void sample(const struct test_cluster *tc, struct slot_stats *stats, struct sampler_cost *cost)
{
	redisReply *r = tc_command(tc, 0, "CLUSTER NODES");
	struct sampler_opts so = { .sample_keys = 0 };
	struct topology map;
	struct sc_error err;

	ck_assert_msg(topology_parse(r->str, r->len, &map, &err) == 0, "%s", err.msg);
	freeReplyObject(r);
	ck_assert_msg(sampler_run(&map, &copts, &so, stats, cost, &err) == 0, "%s", err.msg);
	topology_release(&map);
}

/* Every slot's count is COUNTKEYSINSLOT's on its owner (pipelined). */
static void assert_counts_agree(const struct test_cluster *tc, const struct slot_stats *stats)
{
	redisContext *c[MASTERS];
	int owner[SC_SLOTS];

	tc_owners(tc, 0, owner);
	for (int i = 0; i < MASTERS; i++)
		c[i] = tc_connect(tc, i);
	for (int slot = 0; slot < SC_SLOTS; slot++) {
		ck_assert(owner[slot] >= 0 && owner[slot] < MASTERS);
		redisAppendCommand(c[owner[slot]], "CLUSTER COUNTKEYSINSLOT %d", slot);
	}
	for (int slot = 0; slot < SC_SLOTS; slot++) {
		redisReply *r;

		ck_assert_int_eq(redisGetReply(c[owner[slot]], (void **)&r), REDIS_OK);
		ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
		ck_assert_msg(stats->keys[slot] == r->integer, "slot %d: sampled %lld keys, COUNTKEYSINSLOT %lld",
			slot, stats->keys[slot], r->integer);
		freeReplyObject(r);
	}
	for (int i = 0; i < MASTERS; i++)
		redisFree(c[i]);
}

START_TEST(counts_agree_with_countkeysinslot)
{
	struct test_cluster *tc = tc_start(MASTERS, 0);
	int hot = keyslot_of("hot", 3), owner = tc_owner_of(tc, 0, hot);
	struct slot_stats stats;
	struct sampler_cost cost;
	bool slot_stats = has_slot_stats(tc);

	tc_load_keys(tc, "k", KEYS);
	for (int i = 0; i < HOT_KEYS; i++)
		freeReplyObject(tc_command(tc, owner, "SET {hot}:%d v", i));
	sample(tc, &stats, &cost);
	assert_counts_agree(tc, &stats);
	ck_assert_int_ge(stats.keys[hot], HOT_KEYS);
	ck_assert_int_eq(cost.nodes, MASTERS);
	if (slot_stats) {
		/* INFO memory and SLOT-STATS: two round trips per master */
		ck_assert_int_eq(cost.slot_stats_nodes, MASTERS);
		ck_assert_int_eq(cost.commands, 2 * MASTERS);
		ck_assert_int_eq(cost.round_trips, 2 * MASTERS);
	} else {
		ck_assert_int_eq(cost.slot_stats_nodes, 0);
		ck_assert_int_eq(cost.commands, 2 * MASTERS + SC_SLOTS);
	}
	slot_stats_release(&stats);
	tc_stop(tc);
}
END_TEST

START_TEST(cpu_per_slot_where_the_server_counts_it)
{
	struct test_cluster *tc = tc_start(MASTERS, 0);
	int hot = keyslot_of("hot", 3), owner = tc_owner_of(tc, 0, hot);
	bool slot_stats = has_slot_stats(tc);
	struct slot_stats stats;
	struct sampler_cost cost;
	redisContext *c = tc_connect(tc, owner);
	int busiest = -1;

	if (slot_stats)
		for (int i = 0; i < MASTERS; i++)
			freeReplyObject(tc_command(tc, i, "CONFIG SET cluster-slot-stats-enabled yes"));
	tc_load_keys(tc, "k", KEYS);
	for (int i = 0; i < LIST_ITEMS; i++)
		redisAppendCommand(c, "RPUSH {hot}:list item-%d", i);
	for (int i = 0; i < LIST_ITEMS; i++) {
		redisReply *r;

		ck_assert_int_eq(redisGetReply(c, (void **)&r), REDIS_OK);
		ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
		freeReplyObject(r);
	}
	redisFree(c);
	for (int i = 0; i < 50; i++)
		freeReplyObject(tc_command(tc, owner, "LRANGE {hot}:list 0 -1"));
	sample(tc, &stats, &cost);
	for (int slot = 0; slot < SC_SLOTS; slot++) {
		if (!slot_stats) {
			ck_assert_int_eq(stats.cpu_usec[slot], -1);
			continue;
		}
		ck_assert_msg(stats.cpu_usec[slot] >= 0, "slot %d: no CPU time from SLOT-STATS", slot);
		if (busiest < 0 || stats.cpu_usec[slot] > stats.cpu_usec[busiest])
			busiest = slot;
	}
	if (slot_stats)
		ck_assert_msg(busiest == hot, "the busiest slot is %d (%lld us), not the hot %d (%lld us)", busiest,
			stats.cpu_usec[busiest], hot, stats.cpu_usec[hot]);
	slot_stats_release(&stats);
	tc_stop(tc);
}
END_TEST

static Suite *sampler_suite(void)
{
	Suite *s = suite_create("sampler");
	TCase *tc = tcase_create("sampler");

	tcase_add_test(tc, counts_agree_with_countkeysinslot);
	tcase_add_test(tc, cpu_per_slot_where_the_server_counts_it);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(sampler_suite());
}
