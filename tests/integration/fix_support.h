/* fix_support.h: what the `slotctl fix` integration tests share: a 3-master
 * cluster with known keys (200 spread keys "bg:<i>" and 20 keys "{t}:<i>"
 * in one slot), breaking a slot by hand with the protocol's own commands,
 * running fix and checking the result: every key exactly once on its slot's
 * owner with its value, and `check` exiting 0. Header-only test helper. */
#ifndef SLOTCTL_TEST_FIX_SUPPORT_H
#define SLOTCTL_TEST_FIX_SUPPORT_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "slotctl/core/keyslot.h"
#include "check_run.h"
#include "support.h"

#define FX_BG "bg"
#define FX_BG_KEYS 200
#define FX_T "{t}"
#define FX_T_KEYS 20

struct fx {
	struct test_cluster *tc;
	int slot;                /* the slot of every "{t}:<i>" key */
	int src;                 /* its owner (node index) */
	int dst;                 /* another master */
	int third;               /* the remaining master */
};

static inline void fx_ok(redisReply *r)
{
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(r->type != REDIS_REPLY_ERROR, "server error: %s", r->str);
	freeReplyObject(r);
}

static inline long long fx_int(redisReply *r)
{
	long long v;

	ck_assert_ptr_nonnull(r);
	ck_assert_msg(r->type == REDIS_REPLY_INTEGER, "expected an integer, got type %d (%s)", r->type,
		r->type == REDIS_REPLY_ERROR ? r->str : "");
	v = r->integer;
	freeReplyObject(r);
	return v;
}

/* Starts masters (+ replicas each) and loads the known keys. */
static inline void fx_start(struct fx *f, int replicas)
{
	f->tc = tc_start(3, replicas);
	tc_load_keys(f->tc, FX_BG, FX_BG_KEYS);
	tc_load_keys(f->tc, FX_T, FX_T_KEYS);
	f->slot = keyslot_of("t", 1);
	f->src = tc_owner_of(f->tc, 0, f->slot);
	ck_assert_int_ge(f->src, 0);
	f->dst = (f->src + 1) % 3;
	f->third = (f->src + 2) % 3;
}

static inline void fx_stop(struct fx *f)
{
	tc_stop(f->tc);
}

static inline long long fx_count(const struct fx *f, int node, int slot)
{
	return fx_int(tc_command(f->tc, node, "CLUSTER COUNTKEYSINSLOT %d", slot));
}

/* CLUSTER SETSLOT slot IMPORTING/MIGRATING/NODE <id of peer> on node. */
static inline void fx_setslot(const struct fx *f, int node, int slot, const char *how, int peer)
{
	fx_ok(tc_command(f->tc, node, "CLUSTER SETSLOT %d %s %s", slot, how, tc_id(f->tc, peer)));
}

static inline void fx_stable(const struct fx *f, int node, int slot)
{
	fx_ok(tc_command(f->tc, node, "CLUSTER SETSLOT %d STABLE", slot));
}

/* Opens slot from -> to (IMPORTING on to, MIGRATING on from). */
static inline void fx_open(const struct fx *f, int slot, int from, int to)
{
	fx_setslot(f, to, slot, "IMPORTING", from);
	fx_setslot(f, from, slot, "MIGRATING", to);
}

/* MIGRATEs up to n keys of slot from node `from` to node `to` (all when n < 0). */
static inline void fx_move(const struct fx *f, int slot, int from, int to, int n)
{
	tc_migrate_keys(f->tc, slot, from, to, n);
}

/* fx_start, then opens the "{t}" slot from src to dst and MIGRATEs moved of
 * its keys there (none when 0, all when < 0): a move interrupted midway. */
static inline void fx_start_open(struct fx *f, int replicas, int moved)
{
	fx_start(f, replicas);
	fx_open(f, f->slot, f->src, f->dst);
	if (moved)
		fx_move(f, f->slot, f->src, f->dst, moved);
}

/* Runs `slotctl fix SEED args...` (NULL-terminated) and returns its status;
 * r is filled (caller frees). */
static inline int fx_fix(const struct fx *f, struct run_result *r, const char *a1, const char *a2,
	const char *a3)
{
	const char *argv[8] = { "fix", tc_seed(f->tc), a1, a2, a3, NULL };

	return run_slotctl_argv(r, 300, argv);
}

/* Every known key once, on its owner, with its value; and check exits 0. */
static inline void fx_verify(const struct fx *f)
{
	struct run_result r;

	tc_verify_keys(f->tc, FX_BG, FX_BG_KEYS);
	tc_verify_keys(f->tc, FX_T, FX_T_KEYS);
	run_slotctl(&r, 120, "check", tc_seed(f->tc), "--wait", "30", NULL);
	ck_assert_exit(&r, 0);
	run_result_free(&r);
}

/* fix --yes must exit 0, name the state, and leave every key in place. */
static inline void fx_fix_and_verify(const struct fx *f, const char *state)
{
	struct run_result r;

	fx_fix(f, &r, "--yes", NULL, NULL);
	ck_assert_exit(&r, 0);
	if (state)
		ck_assert_contains(r.out, state);
	run_result_free(&r);
	fx_verify(f);
	/* a second run finds nothing to do */
	fx_fix(f, &r, "--yes", NULL, NULL);
	ck_assert_exit(&r, 0);
	ck_assert_contains(r.out, "0 broken slots");
	run_result_free(&r);
}

/* A slot owned by node whose every master holds no key. */
static inline int fx_empty_slot_of(const struct fx *f, int node)
{
	for (int s = 7; s < SC_SLOTS; s += 61) {
		if (tc_owner_of(f->tc, 0, s) != node)
			continue;
		if (fx_count(f, 0, s) == 0 && fx_count(f, 1, s) == 0 && fx_count(f, 2, s) == 0)
			return s;
	}
	ck_abort_msg("no empty slot on node %d", node);
	return -1;
}

#endif
