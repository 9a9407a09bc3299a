/* test_hostile.c: nodes that answer what no redis-server would (a fake RESP
 * server, tests/support/fake_server.h) must not corrupt memory, outlast the
 * timeout, grow slotctl's memory or be believed: more keys than
 * GETKEYSINSLOT asked for, keys of another slot, counts that are not counts,
 * a MIGRATE answered with something else than OK, a slot SLOT-STATS lists
 * twice or a SLOT-STATS reply far longer than one entry per slot; and array or bulk headers
 * announcing gigabytes, replies over the size budget, replies dripped slower
 * than the timeout, each failing at once or within --timeout with the node
 * named. Also a seed naming more nodes than the snapshot first holds. */
#include "check_run.h"
#include "fake_server.h"
#include "support.h"
#include "slotctl/io/clock.h"
#include "slotctl/io/conn.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/keyslot.h"
#include "slotctl/io/sampler.h"
#include "slotctl/io/slotops.h"
#include "slotctl/io/snapshot.h"
#include "slotctl/core/topology.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define SLOT 100          /* the slot whose keys the fake lists */
#define TIMEOUT_MS 1000

enum mode {
	HONEST,               /* as a redis-server would (50 keys in SLOT) */
	MORE_KEYS,            /* GETKEYSINSLOT: COUNT + 10 keys of SLOT */
	OTHER_SLOT_KEY,       /* GETKEYSINSLOT: a key of another slot */
	NEGATIVE_COUNT,       /* COUNTKEYSINSLOT SLOT: -5 */
	HUGE_USAGE,           /* MEMORY USAGE: 2^62 */
	MIGRATE_INTEGER,      /* MIGRATE: :1, and SLOT's keys only the first time */
	ARRAY_HEADER_DRIP,    /* any command: *2147483647, then one element every 50 ms */
	BULK_HEADER_STREAM,   /* any command: $2147483647, then bytes as fast as they go */
	BIG_ARRAY_DRIP,       /* any command: *1000 (within budget), one element every 200 ms */
	OVER_BUDGET_STRINGS,  /* any command: 100 strings of 1 MiB: 100 MiB in all */
	MANY_INTEGERS,        /* any command: 4,000,000 integers (within the element budget) */
	NODES_BULK_STREAM,    /* CLUSTER NODES only: as BULK_HEADER_STREAM */
	SLOT_STATS_HONEST,    /* CLUSTER SLOT-STATS: every slot, key-count 0 (50 in SLOT), cpu-usec = slot */
	SLOT_STATS_TWICE,     /* CLUSTER SLOT-STATS: SLOT listed twice */
	SLOT_STATS_MILLION,   /* CLUSTER SLOT-STATS: 1,000,000 integers (within the default budget) */
	SETSLOT_PRIMARIES,    /* CLUSTER SETSLOT: a later Valkey replica's refusal */
	SETSLOT_UNBLOCKED,    /* CLUSTER SETSLOT: the master waiting for its replicas turned replica */
	SETSLOT_NOREPLICAS,   /* CLUSTER SETSLOT: Valkey's replicas did not ack within 2 s */
};

struct script {
	enum mode mode;
	volatile int migrates;   /* MIGRATE commands received */
	volatile int listed;     /* GETKEYSINSLOT SLOT answered with keys */
	volatile int counted;    /* COUNTKEYSINSLOT commands received */
};

/* Name of the i-th key of slot: "<prefix>{<tag>}:<i>" with a tag of that slot. */
static void key_of_slot(int slot, int i, char *buf, size_t size)
{
	char tag[16];

	for (int t = 0;; t++) {
		snprintf(tag, sizeof(tag), "t%d", t);
		if (keyslot_of(tag, strlen(tag)) == slot)
			break;
	}
	snprintf(buf, size, "{%s}:%d", tag, i);
}

static bool send_keys(struct fake_client *fc, int slot, int n)
{
	char key[64];
	bool ok = fake_sendf(fc, "*%d\r\n", n);

	for (int i = 0; ok && i < n; i++) {
		key_of_slot(slot, i, key, sizeof(key));
		ok = fake_sendf(fc, "$%zu\r\n%s\r\n", strlen(key), key);
	}
	return ok;
}

/* The hostile answers that end the reply with a flood or a drip. */
static bool flood(struct fake_client *fc, enum mode mode)
{
	static char chunk[65536];

	if (mode == ARRAY_HEADER_DRIP || mode == BIG_ARRAY_DRIP) {
		bool ok = fake_sendf(fc, "*%s\r\n", mode == ARRAY_HEADER_DRIP ? "2147483647" : "1000");

		while (ok) {
			usleep(mode == ARRAY_HEADER_DRIP ? 50000 : 200000);
			ok = fake_sendf(fc, ":1\r\n");
		}
		return false;
	}
	if (mode == OVER_BUDGET_STRINGS) {
		bool ok = fake_sendf(fc, "*100\r\n");

		memset(chunk, 'x', sizeof(chunk));
		for (int s = 0; ok && s < 100; s++) {
			ok = fake_sendf(fc, "$%d\r\n", 1 << 20);
			for (int k = 0; ok && k < (1 << 20) / (int)sizeof(chunk); k++)
				ok = fake_send(fc, chunk, sizeof(chunk));
			ok = ok && fake_sendf(fc, "\r\n");
		}
		return false;
	}
	if (mode == MANY_INTEGERS) {
		bool ok = fake_sendf(fc, "*4000000\r\n");

		for (size_t i = 0; i + 4 <= sizeof(chunk); i += 4)
			memcpy(chunk + i, ":1\r\n", 4);
		for (int sent = 0; ok && sent < 4000000; sent += (int)sizeof(chunk) / 4)
			ok = fake_send(fc, chunk, sizeof(chunk));
		return false;
	}
	memset(chunk, 'x', sizeof(chunk));
	if (fake_sendf(fc, "$2147483647\r\n"))
		while (fake_send(fc, chunk, sizeof(chunk)))
			;
	return false;
}

/* CLUSTER SLOT-STATS SLOTSRANGE 0 16383 as the script's mode answers it. */
static bool slot_stats(struct fake_client *fc, enum mode mode)
{
	bool ok;

	if (mode == SLOT_STATS_MILLION) {
		ok = fake_sendf(fc, "*1000000\r\n");
		for (int i = 0; ok && i < 1000000; i++)
			ok = fake_sendf(fc, ":1\r\n");
		return false;
	}
	if (mode == SLOT_STATS_TWICE)
		return fake_sendf(fc, "*2\r\n*2\r\n:%d\r\n*2\r\n$9\r\nkey-count\r\n:50\r\n"
			"*2\r\n:%d\r\n*2\r\n$9\r\nkey-count\r\n:50\r\n", SLOT, SLOT);
	ok = fake_sendf(fc, "*%d\r\n", SC_SLOTS);
	for (int slot = 0; ok && slot < SC_SLOTS; slot++)
		ok = fake_sendf(fc, "*2\r\n:%d\r\n*4\r\n$9\r\nkey-count\r\n:%d\r\n$8\r\ncpu-usec\r\n:%d\r\n",
			slot, slot == SLOT ? 50 : 0, slot);
	return ok;
}

static bool hostile(struct fake_client *fc, int argc, char **argv, const size_t *len, void *ctx)
{
	struct script *s = ctx;
	bool cluster = fake_arg_is(argc, argv, 0, "CLUSTER");

	if (s->mode >= ARRAY_HEADER_DRIP && s->mode <= MANY_INTEGERS)
		return flood(fc, s->mode);
	if (s->mode >= SLOT_STATS_HONEST && s->mode <= SLOT_STATS_MILLION && cluster &&
	    fake_arg_is(argc, argv, 1, "SLOT-STATS"))
		return slot_stats(fc, s->mode);
	if (s->mode >= SETSLOT_PRIMARIES && cluster && fake_arg_is(argc, argv, 1, "SETSLOT"))
		return fake_sendf(fc, "-%s\r\n", s->mode == SETSLOT_PRIMARIES ? "ERR Please use SETSLOT only with primaries." :
			s->mode == SETSLOT_UNBLOCKED ? "UNBLOCKED force unblock from blocking operation, instance state "
			"changed (master -> replica?)" : "NOREPLICAS Not enough good replicas to write.");
	if (cluster && fake_arg_is(argc, argv, 1, "COUNTKEYSINSLOT"))
		s->counted++;
	if (s->mode == NODES_BULK_STREAM && cluster && fake_arg_is(argc, argv, 1, "NODES"))
		return flood(fc, BULK_HEADER_STREAM);
	if (cluster && fake_arg_is(argc, argv, 1, "COUNTKEYSINSLOT") && argc == 3 && atoi(argv[2]) == SLOT)
		return fake_sendf(fc, ":%d\r\n", s->mode == NEGATIVE_COUNT ? -5 : 50);
	if (cluster && fake_arg_is(argc, argv, 1, "GETKEYSINSLOT") && argc == 4 && atoi(argv[2]) == SLOT) {
		if (s->mode == MIGRATE_INTEGER && s->listed++)
			return fake_sendf(fc, "*0\r\n");
		if (s->mode == OTHER_SLOT_KEY)
			return send_keys(fc, SLOT + 1, 1);
		return send_keys(fc, SLOT, atoi(argv[3]) + (s->mode == MORE_KEYS ? 10 : 0));
	}
	if (fake_arg_is(argc, argv, 0, "MEMORY") && s->mode == HUGE_USAGE)
		return fake_sendf(fc, ":%lld\r\n", 1LL << 62);
	if (fake_arg_is(argc, argv, 0, "MIGRATE")) {
		s->migrates++;
		return s->mode == MIGRATE_INTEGER ? fake_sendf(fc, ":1\r\n") : fake_sendf(fc, "+OK\r\n");
	}
	return fake_answer_default(fc, argc, argv, len);
}

static const struct conn_opts copts = { .connect_timeout_ms = TIMEOUT_MS, .command_timeout_ms = TIMEOUT_MS };

/* Samples the fake's one master (4 keys per slot) into stats and cost (the
 * caller releases stats when 0 is returned); returns sampler_run's. */
static int sample_fake_into(struct fake_server *fs, struct slot_stats *stats, struct sampler_cost *cost,
	struct sc_error *err)
{
	char nodes[256];
	struct topology map;
	struct sampler_opts so = { .sample_keys = 4, .threads = 1 };
	int rc;

	snprintf(nodes, sizeof(nodes), "%s 127.0.0.1:%d@%d myself,master - 0 0 1 connected 0-16383\n",
		FAKE_NODE_ID, fake_port(fs), fake_port(fs));
	ck_assert_int_eq(topology_parse(nodes, strlen(nodes), &map, err), 0);
	rc = sampler_run(&map, &copts, &so, stats, cost, err);
	topology_release(&map);
	return rc;
}

static int sample_fake(struct fake_server *fs, struct sc_error *err)
{
	struct slot_stats stats;
	struct sampler_cost cost;
	int rc = sample_fake_into(fs, &stats, &cost, err);

	if (rc == 0)
		slot_stats_release(&stats);
	return rc;
}

static void assert_sampling_refused(enum mode mode, const char *why)
{
	struct script s = { mode, 0, 0, 0 };
	struct fake_server *fs = fake_start(hostile, &s);
	struct sc_error err;
	char addr[64];

	snprintf(addr, sizeof(addr), "'127.0.0.1:%d'", fake_port(fs));
	ck_assert_int_eq(sample_fake(fs, &err), -1);
	ck_assert_contains(err.msg, addr);
	ck_assert_contains(err.msg, why);
	fake_stop(fs);
}

/* The fake's 'more keys than asked' once overflowed the array sized from
 * COUNT (AddressSanitizer: heap-buffer-overflow in take_getkeys). */
START_TEST(sampler_refuses_more_keys_than_asked)
{
	assert_sampling_refused(MORE_KEYS, "replied to CLUSTER GETKEYSINSLOT 100 4 with more keys than asked for");
}
END_TEST

START_TEST(sampler_refuses_a_key_of_another_slot)
{
	assert_sampling_refused(OTHER_SLOT_KEY, "replied to CLUSTER GETKEYSINSLOT 100 with a key of another slot");
}
END_TEST

START_TEST(sampler_refuses_a_negative_count)
{
	assert_sampling_refused(NEGATIVE_COUNT, "replied to CLUSTER COUNTKEYSINSLOT 100 with -5, not a count");
}
END_TEST

START_TEST(sampler_refuses_an_impossible_size)
{
	assert_sampling_refused(HUGE_USAGE, "replied to MEMORY USAGE with 4611686018427387904, not a count");
}
END_TEST

/* The well-behaved fake samples fine: the refusals above are not the fake's
 * doing. */
START_TEST(sampler_takes_honest_replies)
{
	struct script s = { HONEST, 0, 0, 0 };
	struct fake_server *fs = fake_start(hostile, &s);
	struct sc_error err;

	ck_assert_msg(sample_fake(fs, &err) == 0, "%s", err.msg);
	fake_stop(fs);
}
END_TEST

/* CLUSTER SLOT-STATS answered (Valkey 8+): every key count and CPU time
 * from its one round trip, no COUNTKEYSINSLOT. */
START_TEST(sampler_takes_slot_stats)
{
	struct script s = { SLOT_STATS_HONEST, 0, 0, 0 };
	struct fake_server *fs = fake_start(hostile, &s);
	struct slot_stats stats;
	struct sampler_cost cost;
	struct sc_error err;

	ck_assert_msg(sample_fake_into(fs, &stats, &cost, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(cost.slot_stats_nodes, 1);
	ck_assert_int_eq(s.counted, 0);
	for (int slot = 0; slot < SC_SLOTS; slot++) {
		ck_assert_int_eq(stats.keys[slot], slot == SLOT ? 50 : 0);
		ck_assert_int_eq(stats.cpu_usec[slot], slot);
	}
	slot_stats_release(&stats);
	fake_stop(fs);
}
END_TEST

/* A slot listed twice was taken twice, the second count winning. */
START_TEST(sampler_refuses_a_slot_listed_twice)
{
	assert_sampling_refused(SLOT_STATS_TWICE, "replied to CLUSTER SLOT-STATS with twice the slot 100");
}
END_TEST

/* A reply within the general budget but far beyond what SLOT-STATS can
 * truthfully hold (an entry per slot) was read on, to its end (~50 MB) or
 * to the timeout; now refused at its header. */
START_TEST(sampler_bounds_slot_stats)
{
	assert_sampling_refused(SLOT_STATS_MILLION, "a reply of more than 557056 elements");
}
END_TEST

/* SETSLOT NODE (stable) sent to a node that is not the new owner, as fix
 * and the finisher tell the others, by a fake answering as mode. */
static int tell(enum mode mode, const char *how, struct sc_error *err)
{
	struct script s = { mode, 0, 0, 0 };
	struct fake_server *fs = fake_start(hostile, &s);
	struct conn *c;
	int rc;

	ck_assert_msg(conn_open("127.0.0.1", fake_port(fs), &copts, &c, err) == 0, "%s", err->msg);
	if (strcmp(how, "NODE") == 0)
		rc = slotops_tell_node(c, SLOT, FAKE_NODE_ID, err);
	else if (strcmp(how, "STABLE") == 0)
		rc = slotops_tell_stable(c, SLOT, err);
	else
		rc = slotops_set_node(c, SLOT, FAKE_NODE_ID, err);
	conn_close(c);
	fake_stop(fs);
	return rc;
}

/* Valkey's refusals of a node that takes the owner from the bus count as
 * done when telling it: a replica's in later Valkey words ("primaries"),
 * and a master's turned replica while it waited for its own replicas
 * (UNBLOCKED); NOREPLICAS (its replicas went with it when it gave away its
 * last slot: seen in node drain_and_remove_under_traffic on Valkey) for
 * NODE only, never for STABLE, nor from the new owner itself. Before, each
 * failed the move. */
START_TEST(setslot_refusals_of_a_node_that_learns_from_the_bus)
{
	struct sc_error err;

	ck_assert_msg(tell(SETSLOT_PRIMARIES, "NODE", &err) == 0, "%s", err.msg);
	ck_assert_msg(tell(SETSLOT_PRIMARIES, "STABLE", &err) == 0, "%s", err.msg);
	ck_assert_msg(tell(SETSLOT_UNBLOCKED, "NODE", &err) == 0, "%s", err.msg);
	ck_assert_msg(tell(SETSLOT_NOREPLICAS, "NODE", &err) == 0, "%s", err.msg);
	ck_assert_int_eq(tell(SETSLOT_NOREPLICAS, "STABLE", &err), -1);
	ck_assert_contains(err.msg, "replied to CLUSTER SETSLOT 100 STABLE: NOREPLICAS");
	ck_assert_int_eq(tell(SETSLOT_NOREPLICAS, "owner", &err), -1);
	ck_assert_contains(err.msg, "replied to CLUSTER SETSLOT 100 NODE: NOREPLICAS");
}
END_TEST

/* Moves SLOT's keys from the fake to a port nothing listens on. */
static int move_from_fake(struct fake_server *fs, struct sc_error *err)
{
	struct migrate_opts mo = { .batch_keys = 10, .migrate_timeout_ms = TIMEOUT_MS,
		.io_timeout_ms = TIMEOUT_MS, .next_slot = -1 };
	struct migrate_stats stats = { 0, 0, 0 };
	struct conn *c;
	int rc;

	ck_assert_msg(conn_open("127.0.0.1", fake_port(fs), &copts, &c, err) == 0, "%s", err->msg);
	rc = slotops_migrate_keys(c, "127.0.0.1", tc_free_port(), SLOT, &mo, &stats, err);
	conn_close(c);
	return rc;
}

/* Moving SLOT from a fake in mode must fail with why, the slot left open,
 * after `migrates` MIGRATEs. */
static void assert_move_refused(enum mode mode, const char *why, int migrates)
{
	struct script s = { mode, 0, 0, 0 };
	struct fake_server *fs = fake_start(hostile, &s);
	struct sc_error err;

	ck_assert_int_eq(move_from_fake(fs, &err), -1);
	ck_assert_contains(err.msg, why);
	ck_assert_contains(err.msg, "the slot is left open");
	ck_assert_int_eq(s.migrates, migrates);
	fake_stop(fs);
}

/* A key of another slot was MIGRATEd as if it were of this one. */
START_TEST(mover_refuses_a_key_of_another_slot)
{
	assert_move_refused(OTHER_SLOT_KEY, "replied to CLUSTER GETKEYSINSLOT 100 with a key of another slot", 0);
}
END_TEST

/* MIGRATE answered ':1' was counted as moved, and the slot as empty. */
START_TEST(mover_refuses_a_migrate_reply_that_is_not_ok)
{
	assert_move_refused(MIGRATE_INTEGER, "replied to MIGRATE with neither OK nor NOKEY", 1);
}
END_TEST

static long maxrss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* One PING to a fake in mode: must fail naming the node, with why, within
 * max_ms, the process growing by less than grow_mb. */
static void assert_reply_refused(enum mode mode, const char *why, long long max_ms, long grow_mb)
{
	struct script s = { mode, 0, 0, 0 };
	struct fake_server *fs = fake_start(hostile, &s);
	struct sc_error err;
	struct conn *c;
	char addr[64];
	long rss = maxrss_kb();
	long long t0;
	redisReply *r;

	snprintf(addr, sizeof(addr), "no %sreply from '127.0.0.1:%d'", mode == BIG_ARRAY_DRIP ? "" : "usable ",
		fake_port(fs));
	ck_assert_msg(conn_open("127.0.0.1", fake_port(fs), &copts, &c, &err) == 0, "%s", err.msg);
	t0 = sc_clock_ms();
	r = conn_command(c, &err, "PING");
	t0 = sc_clock_ms() - t0;
	ck_assert_ptr_null(r);
	ck_assert_int_eq(err.code, SC_EXIT_UNREACHABLE);
	ck_assert_contains(err.msg, addr);
	ck_assert_contains(err.msg, why);
	ck_assert_msg(t0 <= max_ms, "failed after %lld ms", t0);
	ck_assert_msg(maxrss_kb() - rss < grow_mb * 1024, "grew by %ld MB", (maxrss_kb() - rss) / 1024);
	ck_assert(conn_broken(c));
	conn_close(c);
	fake_stop(fs);
}

/* Before, the array's 16 GiB of pointers were allocated, the drip read to
 * the timeout, and freeing the array took seconds: 7-11 s and 2.4 GB. */
START_TEST(huge_array_header_refused_at_once)
{
	assert_reply_refused(ARRAY_HEADER_DRIP, "a reply of more than 4194304 elements", 200, 16);
}
END_TEST

/* Before, the stream was buffered to the timeout: 0.4-1.15 GB. */
START_TEST(huge_bulk_header_refused_at_once)
{
	assert_reply_refused(BULK_HEADER_STREAM, "a reply of more than 67108864 bytes", 200, 16);
}
END_TEST

/* Strings each within reason, over the budget together: refused at the
 * header of the first that does not fit. */
START_TEST(strings_over_budget_refused)
{
	assert_reply_refused(OVER_BUDGET_STRINGS, "a reply of more than 67108864 bytes", TIMEOUT_MS + 500, 160);
}
END_TEST

/* Small objects, many: the objects themselves count (4,000,000 of 48 bytes
 * and an array of 32 MB of pointers would be 224 MB). */
START_TEST(many_small_objects_over_budget_refused)
{
	assert_reply_refused(MANY_INTEGERS, "a reply of more than 67108864 bytes", TIMEOUT_MS + 500, 200);
}
END_TEST

/* An array within budget, dripped: the whole reply is bounded by the
 * timeout, not each read. */
START_TEST(dripped_array_fails_within_timeout)
{
	assert_reply_refused(BIG_ARRAY_DRIP, "timed out after 1000 ms", TIMEOUT_MS + 500, 16);
}
END_TEST

/* The same end to end: `check` against a node whose CLUSTER NODES announces
 * 2 GiB fails at once, exit 3, naming the node. */
START_TEST(check_refuses_a_huge_cluster_nodes)
{
	struct script s = { NODES_BULK_STREAM, 0, 0, 0 };
	struct fake_server *fs = fake_start(hostile, &s);
	struct run_result r;
	char seed[64];

	snprintf(seed, sizeof(seed), "127.0.0.1:%d", fake_port(fs));
	run_slotctl(&r, 30, "check", seed, "--timeout", "1000", NULL);
	ck_assert_exit(&r, 3);
	ck_assert_contains(r.err, seed);
	ck_assert_contains(r.err, "a reply of more than 67108864 bytes");
	ck_assert_msg(r.seconds < 10, "took %.1f s", r.seconds);
	run_result_free(&r);
	fake_stop(fs);
}
END_TEST

/* A seed naming more nodes than the snapshot first makes room for (16): the
 * 40 others at 127.0.0.2-41, port 1, where nothing listens. */
#define MANY_OTHERS 40

static bool many_nodes(struct fake_client *fc, int argc, char **argv, const size_t *len, void *ctx)
{
	char text[(MANY_OTHERS + 1) * 128];
	size_t k;

	(void)ctx;
	if (!fake_arg_is(argc, argv, 0, "CLUSTER") || !fake_arg_is(argc, argv, 1, "NODES"))
		return fake_answer_default(fc, argc, argv, len);
	k = (size_t)snprintf(text, sizeof(text), "%040x 127.0.0.1:%d@1 myself,master - 0 0 1 connected 0-16383\n",
		1, fake_port(fake_client_server(fc)));
	for (int i = 0; i < MANY_OTHERS; i++)
		k += (size_t)snprintf(text + k, sizeof(text) - k, "%040x 127.0.0.%d:1@2 master - 0 0 %d connected\n",
			i + 2, i + 2, i + 2);
	return fake_sendf(fc, "$%zu\r\n%s\r\n", k, text);
}

/* Discovery adds the nodes a view names while walking that view, which lives
 * in the array it grows: every node is found, none of them read from freed
 * memory (before: the seed's view was read after the array moved, which
 * ASan reports as a heap-use-after-free). */
START_TEST(snapshot_discovers_more_nodes_than_it_first_holds)
{
	struct fake_server *fs = fake_start(many_nodes, NULL);
	struct snapshot snap;
	struct sc_error err;

	ck_assert_msg(snapshot_gather("127.0.0.1", fake_port(fs), &copts, &snap, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(snap.count, MANY_OTHERS + 1);
	ck_assert(snap.nodes[0].reachable);
	ck_assert_uint_eq(snap.nodes[0].view.count, MANY_OTHERS + 1);
	for (size_t i = 1; i < snap.count; i++) {
		char id[SC_NODE_ID_LEN + 1];

		snprintf(id, sizeof(id), "%040zx", i + 1);
		ck_assert_str_eq(snap.nodes[i].id, id);
		ck_assert(!snap.nodes[i].reachable);
	}
	snapshot_release(&snap);
	fake_stop(fs);
}
END_TEST

/* A server that says the password back in its AUTH error: slotctl's message
 * masks every occurrence and drops the final period. */
static bool echo_password(struct fake_client *fc, int argc, char **argv, const size_t *len, void *ctx)
{
	(void)ctx;
	if (fake_arg_is(argc, argv, 0, "AUTH"))
		return fake_sendf(fc, "-WRONGPASS '%s' is not '%s'.\r\n", argv[argc - 1], argv[argc - 1]);
	return fake_answer_default(fc, argc, argv, len);
}

START_TEST(auth_error_masks_the_password)
{
	struct fake_server *fs = fake_start(echo_password, NULL);
	struct conn_opts o = copts;
	struct sc_error err;
	struct conn *c = NULL;

	o.pass = "s3cret-pw";
	ck_assert_int_eq(conn_open("127.0.0.1", fake_port(fs), &o, &c, &err), -1);
	ck_assert_int_eq(err.code, SC_EXIT_UNREACHABLE);
	ck_assert_contains(err.msg, "authentication failed: WRONGPASS '***' is not '***'");
	ck_assert_msg(strstr(err.msg, "s3cret") == NULL, "password in: %s", err.msg);
	ck_assert_msg(err.msg[strlen(err.msg) - 1] == '\'', "not cut after the last quote: %s", err.msg);
	fake_stop(fs);
}
END_TEST

static Suite *hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *sampler = tcase_create("sampler"), *mover = tcase_create("mover"),
		*reader = tcase_create("reader");

	tcase_add_test(sampler, sampler_refuses_more_keys_than_asked);
	tcase_add_test(sampler, sampler_refuses_a_key_of_another_slot);
	tcase_add_test(sampler, sampler_refuses_a_negative_count);
	tcase_add_test(sampler, sampler_refuses_an_impossible_size);
	tcase_add_test(sampler, sampler_takes_honest_replies);
	tcase_add_test(sampler, sampler_takes_slot_stats);
	tcase_add_test(sampler, sampler_refuses_a_slot_listed_twice);
	tcase_add_test(sampler, sampler_bounds_slot_stats);
	tcase_add_test(mover, mover_refuses_a_key_of_another_slot);
	tcase_add_test(mover, mover_refuses_a_migrate_reply_that_is_not_ok);
	tcase_add_test(mover, setslot_refusals_of_a_node_that_learns_from_the_bus);
	tcase_add_test(reader, huge_array_header_refused_at_once);
	tcase_add_test(reader, huge_bulk_header_refused_at_once);
	tcase_add_test(reader, strings_over_budget_refused);
	tcase_add_test(reader, many_small_objects_over_budget_refused);
	tcase_add_test(reader, dripped_array_fails_within_timeout);
	tcase_add_test(reader, check_refuses_a_huge_cluster_nodes);
	tcase_add_test(reader, snapshot_discovers_more_nodes_than_it_first_holds);
	tcase_add_test(reader, auth_error_masks_the_password);
	suite_add_tcase(s, sampler);
	suite_add_tcase(s, mover);
	suite_add_tcase(s, reader);
	return s;
}

int main(void)
{
	return check_run(hostile_suite());
}
