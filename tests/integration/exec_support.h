/* exec_support.h: what the executor's integration tests share: writing a
 * plan file for a running test cluster (moves of chosen slots between
 * masters, built with the plan library so the tests do not depend on the
 * planner), finding slots that hold test keys, small cluster probes, the
 * hot-slot fixture of the crash and recovery tests, and starting slotctl in
 * the background. Header-only test helper. */
#ifndef SLOTCTL_TEST_EXEC_SUPPORT_H
#define SLOTCTL_TEST_EXEC_SUPPORT_H

#include "support.h"
#include "slotctl/core/keyslot.h"
#include "slotctl/core/plan.h"
#include "slotctl/io/snapshot.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs slotctl (NULL-terminated arguments after timeout) and asserts its exit
 * status, showing its stdout and stderr when it differs. */
#define EXEC_RUN(r, want, timeout, ...) do { \
		run_slotctl((r), (timeout), __VA_ARGS__, NULL); \
		ck_assert_exit((r), (want)); \
	} while (0)

/* One planned transfer: `count` slots of master `from` go to master `to`
 * (indexes of the test cluster), slots holding keys of `prefix` first. */
struct exec_transfer {
	int from, to, count;
};

/* Number of keys "<prefix>:<i>" (i < n) hashing to slot. */
static inline int exec_keys_in_slot(const char *prefix, int n, int slot)
{
	char key[128];
	int count = 0;

	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%s:%d", prefix, i);
		if (keyslot_of(key, strlen(key)) == slot)
			count++;
	}
	return count;
}

/* Picks count slots owned by node `owner` in map, slots with keys first. */
static inline int exec_pick_slots(const struct topology *map, const char *owner_id, const char *prefix,
	int nkeys, int count, const bool *taken, int *out)
{
	const struct node *owner = topology_find(map, owner_id);
	static int keys[SC_SLOTS];
	char key[128];
	int got = 0;

	ck_assert_ptr_nonnull(owner);
	memset(keys, 0, sizeof(keys));
	for (int i = 0; i < nkeys; i++) {
		snprintf(key, sizeof(key), "%s:%d", prefix, i);
		keys[keyslot_of(key, strlen(key))]++;
	}
	for (int pass = 0; pass < 2 && got < count; pass++)
		for (int s = 0; s < SC_SLOTS && got < count; s++)
			if (slotset_has(node_slots(owner), s) && !taken[s] && (pass == 1 || keys[s] > 0) &&
			    (pass == 0 || keys[s] == 0))
				out[got++] = s;
	return got;
}

/* Writes a plan for the live cluster to path: one batch per transfer, or
 * every transfer in one batch when one_batch (its moves may then run at
 * once). */
static inline void exec_write_plan_batched(const struct test_cluster *tc, const struct exec_transfer *t,
	int nt, const char *prefix, int nkeys, const char *path, bool one_batch)
{
	struct snapshot s;
	struct sc_error err;
	struct plan p;
	static bool taken[SC_SLOTS];
	int host_port;
	char host[64];
	char *text;
	FILE *f;

	memset(taken, 0, sizeof(taken));
	ck_assert_int_eq(addr_parse(tc_seed(tc), host, sizeof(host), &host_port, &err), 0);
	ck_assert_msg(snapshot_gather(host, host_port, &(struct conn_opts){ .connect_timeout_ms = 2000, .command_timeout_ms = 2000 }, &s, &err) == 0,
		"%s", err.msg);
	memset(&p, 0, sizeof(p));
	p.format_major = PLAN_FORMAT_MAJOR;
	p.format_minor = PLAN_FORMAT_MINOR;
	snprintf(p.created, sizeof(p.created), "2026-11-23T18:00:00Z");
	snprintf(p.version, sizeof(p.version), "test");
	snprintf(p.seed, sizeof(p.seed), "%s", tc_seed(tc));
	p.kind = PLAN_RESHARD;
	ck_assert_int_eq(plan_nodes_from_map(snapshot_map(&s), &p.nodes, &p.node_count, &err), 0);
	plan_fingerprint(snapshot_map(&s), p.fingerprint);
	p.batch_count = one_batch ? 1 : (size_t)nt;
	p.batches = calloc(p.batch_count, sizeof(*p.batches));
	for (int b = 0; b < nt; b++) {
		int *slots = calloc((size_t)t[b].count, sizeof(int));
		int got = exec_pick_slots(snapshot_map(&s), tc_id(tc, t[b].from), prefix, nkeys, t[b].count, taken, slots);
		struct plan_batch *pb = &p.batches[one_batch ? 0 : b];

		ck_assert_int_eq(got, t[b].count);
		pb->moves = realloc(pb->moves, (pb->count + (size_t)got) * sizeof(struct plan_move));
		ck_assert_ptr_nonnull(pb->moves);
		for (int i = 0; i < got; i++) {
			struct plan_move *m = &pb->moves[pb->count++];

			memset(m, 0, sizeof(*m));
			m->slot = slots[i];
			taken[slots[i]] = true;
			snprintf(m->from, sizeof(m->from), "%s", tc_id(tc, t[b].from));
			snprintf(m->to, sizeof(m->to), "%s", tc_id(tc, t[b].to));
			m->keys = exec_keys_in_slot(prefix, nkeys, slots[i]);
			m->bytes = m->keys * 64;
		}
		free(slots);
	}
	text = plan_serialize(&p, &err);
	ck_assert_msg(text != NULL, "%s", err.msg);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	free(text);
	plan_release(&p);
	snapshot_release(&s);
}

/* Writes a plan for the live cluster to path: one batch per transfer. */
static inline void exec_write_plan(const struct test_cluster *tc, const struct exec_transfer *t, int nt,
	const char *prefix, int nkeys, const char *path)
{
	exec_write_plan_batched(tc, t, nt, prefix, nkeys, path, false);
}

/* A temp dir for plan files (removed when the test ends), and path of a
 * file in it. */
static inline void exec_temp_path(char *dir, size_t dir_size, char *path, size_t size, const char *name)
{
	tc_temp_dir(dir, dir_size);
	snprintf(path, size, "%s/%s", dir, name);
}

/* Waits (up to 60 s, polling every 10 ms on a connection of its own, so it
 * may run in a forked child) until node `to` holds some but not all of the
 * `total` keys of slot: the slot is mid-move. Returns false when the move was
 * never seen in progress (not started in time, or already over). */
static inline bool exec_wait_mid_slot(const struct test_cluster *tc, int to, int slot, int total)
{
	struct timeval tv = { 2, 0 };
	redisContext *c = redisConnectWithTimeout("127.0.0.1", tc_port(tc, to), tv);
	bool seen = false;

	if (!c || c->err) {
		redisFree(c);
		return false;
	}
	redisSetTimeout(c, tv);
	for (int tries = 0; tries < 6000 && !seen; tries++) {
		redisReply *r = redisCommand(c, "CLUSTER COUNTKEYSINSLOT %d", slot);
		long long moved = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;

		if (r)
			freeReplyObject(r);
		if (moved >= total)
			break;
		seen = moved > 0;
		if (!seen)
			usleep(10 * 1000);
	}
	redisFree(c);
	return seen;
}

/* Number of slots open (importing or migrating) on node i, from its own view. */
static inline int exec_open_slots(const struct test_cluster *tc, int i)
{
	redisReply *r = tc_command(tc, i, "CLUSTER NODES");
	int open = 0;

	ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
	for (const char *p = r->str; (p = strstr(p, "myself")) != NULL; p++) {
		const char *eol = strchr(p, '\n');

		for (const char *q = p; q && q < eol && (q = strstr(q, "->-")) != NULL && q < eol; q++)
			open++;
		for (const char *q = p; q && q < eol && (q = strstr(q, "-<-")) != NULL && q < eol; q++)
			open++;
		break;
	}
	freeReplyObject(r);
	return open;
}

/* ---- the hot-slot fixture of the crash and recovery tests ---- */

#define EXEC_HOT_NKEYS 1000 /* keys "k:<i>", spread */
#define EXEC_HOT_NHOT 300   /* keys "{h}:<i>", all in one slot, moved first */
#define EXEC_HOT_SLOTS 20   /* slots the plan moves */

struct exec_hot {
	struct test_cluster *tc;
	char dir[64], plan[128], journal[160];
	int from, to, hot_slot;
};

/* A 3-master cluster (with `replicas` replicas each) with EXEC_HOT_NKEYS
 * spread keys and EXEC_HOT_NHOT keys in one slot; a plan moving
 * EXEC_HOT_SLOTS slots (the hot one first) from its owner to the next
 * master; the plan's journal path. */
static inline void exec_hot_start_with(struct exec_hot *f, int replicas)
{
	struct exec_transfer t;

	f->tc = tc_start(3, replicas);
	tc_load_keys(f->tc, "k", EXEC_HOT_NKEYS);
	tc_load_keys(f->tc, "{h}", EXEC_HOT_NHOT);
	f->hot_slot = keyslot_of("h", 1);
	f->from = tc_owner_of(f->tc, 0, f->hot_slot);
	ck_assert_int_ge(f->from, 0);
	f->to = (f->from + 1) % 3;
	t = (struct exec_transfer){ f->from, f->to, EXEC_HOT_SLOTS };
	exec_temp_path(f->dir, sizeof(f->dir), f->plan, sizeof(f->plan), "plan.json");
	exec_write_plan(f->tc, &t, 1, "{h}", EXEC_HOT_NHOT, f->plan);
	snprintf(f->journal, sizeof(f->journal), "%s.journal", f->plan);
}

/* The same without replicas. */
static inline void exec_hot_start(struct exec_hot *f)
{
	exec_hot_start_with(f, 0);
}

/* Every key once, on its slot's owner; no slot open anywhere. */
static inline void exec_hot_verify(const struct exec_hot *f)
{
	tc_verify_keys(f->tc, "k", EXEC_HOT_NKEYS);
	tc_verify_keys(f->tc, "{h}", EXEC_HOT_NHOT);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(exec_open_slots(f->tc, i), 0);
}

/* Runs apply with the crash hook set at crash_at; slotctl must die by
 * SIGKILL. Key by key (--backend keys), whatever the server: the hooks name
 * the key path's phases (importing, migrating, keys, owner_on_target). */
static inline void exec_hot_apply_and_crash(const struct exec_hot *f, const char *crash_at)
{
	struct run_result r;

	setenv("SLOTCTL_TEST_CRASH_AT", crash_at, 1);
	EXEC_RUN(&r, 128 + SIGKILL, 120, "apply", f->plan, "--yes", "--parallel", "1",
		"--batch-keys", "50", "--backend", "keys");
	unsetenv("SLOTCTL_TEST_CRASH_AT");
	run_result_free(&r);
}

/* Starts $SLOTCTL_BIN with argv (argv[0] included, NULL-terminated) in the
 * background, stdin /dev/null, output discarded. Returns its pid. */
static inline pid_t exec_spawn(const char *const *argv)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execv(getenv("SLOTCTL_BIN"), (char *const *)argv);
		_exit(127);
	}
	return pid;
}

#endif
