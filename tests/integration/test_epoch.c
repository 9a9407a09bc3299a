/* test_epoch.c: ownership changes that keep the epoch invariant of
 * slotctl/io/handover.h, on real 3-master clusters with known keys.
 * Case "fix": `slotctl fix` on a cluster where slots are left open in
 * every direction at once (A->B, B->C, C->A), so every master both gives
 * and takes slots in one run, and in every kind (no key moved, keys on both
 * sides, every key moved, NODE on the source only, MIGRATING or IMPORTING on
 * one side only). The hazard it guards: a master that still claims a slot
 * taking a configEpoch above the slot's new owner (by importing another
 * slot, or by winning an epoch collision) takes the slot back, and the new
 * owner deletes its keys (issue 13, item 1). Afterwards every key exists
 * once, on its slot's owner, with its value, every slot is owned where the
 * repair said, and check passes. SLOTCTL_SOAK_ROUNDS=N repeats the scenario
 * N times in one test (tests/soak-fix.sh); each round prints the keys it
 * lost to stderr before asserting.
 * Case "apply": a hand-written plan whose one batch moves slots A->B, B->C
 * and C->A at once, so every master is both a source and a target while
 * the moves run in parallel. */
#include <unistd.h>
#include "exec_support.h"
#include "fix_support.h"

#define EP_PREFIX "mx"
#define EP_KEYS 40000
#define EP_PER_DIRECTION 40      /* open slots per direction: 120 in all */
#define EP_KINDS 6

enum ep_kind {
	EP_NO_KEYS_MOVED,            /* IMPORTING + MIGRATING, every key on the source: rolled back */
	EP_SOME_KEYS_MOVED,          /* keys on both: finished */
	EP_ALL_KEYS_MOVED,           /* every key on the target: finished */
	EP_NODE_ON_SOURCE,           /* every key moved, NODE told to the source only: finished */
	EP_MIGRATING_ONLY,           /* keys on both, the target forgot (STABLE): rolled back */
	EP_IMPORTING_ONLY,           /* keys on both, the source forgot (STABLE): rolled back */
};

struct ep_slot {
	int slot, src, dst;
	enum ep_kind kind;
};

struct ep_state {
	struct ep_slot slots[3 * EP_PER_DIRECTION];
	int count;
};

static bool ep_finished(enum ep_kind k)
{
	return k == EP_SOME_KEYS_MOVED || k == EP_ALL_KEYS_MOVED || k == EP_NODE_ON_SOURCE;
}

/* Keys of EP_PREFIX per slot, as loaded. */
static void ep_key_counts(int *counts)
{
	char key[64];

	memset(counts, 0, SC_SLOTS * sizeof(*counts));
	for (int i = 0; i < EP_KEYS; i++) {
		snprintf(key, sizeof(key), "%s:%d", EP_PREFIX, i);
		counts[keyslot_of(key, strlen(key))]++;
	}
}

/* Sends one SETSLOT per slot of the state that `pick` selects on node
 * `node`, pipelined, checking every reply. */
static void ep_setslots(const struct fx *f, const struct ep_state *st, int node, const char *how,
	bool (*pick)(const struct ep_slot *, int node, int *peer))
{
	redisContext *c = tc_connect(f->tc, node);
	int sent = 0;

	for (int i = 0; i < st->count; i++) {
		int peer = -1;

		if (!pick(&st->slots[i], node, &peer))
			continue;
		if (peer >= 0)
			redisAppendCommand(c, "CLUSTER SETSLOT %d %s %s", st->slots[i].slot, how, tc_id(f->tc, peer));
		else
			redisAppendCommand(c, "CLUSTER SETSLOT %d %s", st->slots[i].slot, how);
		sent++;
	}
	for (int i = 0; i < sent; i++) {
		redisReply *r;

		ck_assert_int_eq(redisGetReply(c, (void **)&r), REDIS_OK);
		fx_ok(r);
	}
	redisFree(c);
}

static bool pick_importing(const struct ep_slot *s, int node, int *peer)
{
	*peer = s->src;
	return s->dst == node;
}

static bool pick_migrating(const struct ep_slot *s, int node, int *peer)
{
	*peer = s->dst;
	return s->src == node;
}

static bool pick_target_forgets(const struct ep_slot *s, int node, int *peer)
{
	*peer = -1;
	return s->kind == EP_MIGRATING_ONLY && s->dst == node;
}

static bool pick_source_forgets(const struct ep_slot *s, int node, int *peer)
{
	*peer = -1;
	return s->kind == EP_IMPORTING_ONLY && s->src == node;
}

static bool pick_node_on_source(const struct ep_slot *s, int node, int *peer)
{
	*peer = s->dst;
	return s->kind == EP_NODE_ON_SOURCE && s->src == node;
}

/* Picks EP_PER_DIRECTION slots of each master holding at least 3 keys and
 * leaves them open towards the next master, the kinds taking turns. */
static void ep_break(const struct fx *f, struct ep_state *st)
{
	static int counts[SC_SLOTS];
	int picked[3] = { 0, 0, 0 };

	ep_key_counts(counts);
	st->count = 0;
	for (int s = 0; s < SC_SLOTS; s++) {
		int src = tc_owner_of(f->tc, 0, s);

		if (src < 0 || counts[s] < 3 || picked[src] == EP_PER_DIRECTION)
			continue;
		st->slots[st->count++] = (struct ep_slot){ s, src, (src + 1) % 3,
			(enum ep_kind)(picked[src] % EP_KINDS) };
		picked[src]++;
	}
	ck_assert_int_eq(st->count, 3 * EP_PER_DIRECTION);
	for (int n = 0; n < 3; n++)
		ep_setslots(f, st, n, "IMPORTING", pick_importing);
	for (int n = 0; n < 3; n++)
		ep_setslots(f, st, n, "MIGRATING", pick_migrating);
	for (int i = 0; i < st->count; i++) {
		const struct ep_slot *s = &st->slots[i];

		if (s->kind == EP_ALL_KEYS_MOVED || s->kind == EP_NODE_ON_SOURCE)
			fx_move(f, s->slot, s->src, s->dst, -1);
		else if (s->kind != EP_NO_KEYS_MOVED)
			fx_move(f, s->slot, s->src, s->dst, 1 + i % 2);
	}
	for (int n = 0; n < 3; n++) {
		ep_setslots(f, st, n, "STABLE", pick_target_forgets);
		ep_setslots(f, st, n, "STABLE", pick_source_forgets);
		ep_setslots(f, st, n, "NODE", pick_node_on_source);
	}
}

/* Keys "mx:<i>" not found exactly once on their slot's owner (node 0's
 * view), counted rather than asserted (values: tc_verify_keys); *gone gets
 * how many of them no node holds at all (the others are misplaced: on a
 * node that does not own their slot, or on several). */
static int ep_keys_lost(const struct fx *f, int *gone)
{
	static int owner[SC_SLOTS];
	static unsigned char copies[EP_KEYS], on_owner[EP_KEYS];
	int lost = 0;

	tc_wait_converged(f->tc, 30000);
	for (int s = 0; s < SC_SLOTS; s++)
		owner[s] = tc_owner_of(f->tc, 0, s);
	memset(copies, 0, sizeof(copies));
	memset(on_owner, 0, sizeof(on_owner));
	for (int n = 0; n < 3; n++) {
		char cursor[32] = "0";

		do {
			redisReply *r = tc_command(f->tc, n, "SCAN %s MATCH %s:* COUNT 1000", cursor, EP_PREFIX);

			ck_assert_msg(r->type == REDIS_REPLY_ARRAY && r->elements == 2, "bad SCAN reply");
			snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
			for (size_t k = 0; k < r->element[1]->elements; k++) {
				const redisReply *key = r->element[1]->element[k];
				int i = atoi(key->str + strlen(EP_PREFIX) + 1);

				if (i < 0 || i >= EP_KEYS)
					continue;
				copies[i]++;
				on_owner[i] |= owner[keyslot_of(key->str, key->len)] == n;
			}
			freeReplyObject(r);
		} while (strcmp(cursor, "0") != 0);
	}
	*gone = 0;
	for (int i = 0; i < EP_KEYS; i++) {
		lost += !(copies[i] == 1 && on_owner[i]);
		*gone += copies[i] == 0;
	}
	return lost;
}

/* fix repaired every open slot on Redis. On Valkey (8+) the slots left
 * with NODE told to the source only may be closed by the servers themselves
 * before fix surveys (a race with fix: seen once in three rounds, fix then
 * found 99 of 120, the 21 missing all of that kind), so there every other
 * slot at least. The owners, keys and check afterwards say the rest. */
static void ep_assert_repaired(const struct fx *f, const struct ep_state *st, const char *out)
{
	const char *line = strstr(out, "fix: ");
	struct server_version v;
	int repaired = -1, settle_alone = 0;

	tc_server_version(f->tc, 0, &v);
	for (int i = 0; i < st->count; i++)
		settle_alone += v.valkey && st->slots[i].kind == EP_NODE_ON_SOURCE;
	ck_assert_msg(line && sscanf(line, "fix: %d repaired", &repaired) == 1, "no 'fix: N repaired' in:\n%s",
		tc_tail(out, 2 * TC_QUOTE_BYTES));
	ck_assert_msg(repaired >= st->count - settle_alone && repaired <= st->count,
		"fix repaired %d of %d open slots (%d of them may close by themselves on this server)", repaired,
		st->count, settle_alone);
}

/* How many lines of node i's server log contain text (the sandbox keeps
 * it as node-<i>/redis.log): a round that lost keys says whether a server
 * deleted a slot's keys ("Deleting keys in dirty slot") or fix left them. */
static int ep_log_lines(const struct fx *f, int i, const char *text)
{
	char path[512], line[1024];
	FILE *log;
	int n = 0;

	snprintf(path, sizeof(path), "%s/node-%d/redis.log", tc_dir(f->tc), i);
	if (!(log = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), log))
		n += strstr(line, text) != NULL;
	fclose(log);
	return n;
}

static void ep_round(int round)
{
	struct fx f;
	struct ep_state st;
	struct run_result r;
	const char *survey;
	int lost, gone, unowned = 0;

	f.tc = tc_start(3, 0);
	tc_load_keys(f.tc, EP_PREFIX, EP_KEYS);
	ep_break(&f, &st);
	fx_fix(&f, &r, "--yes", NULL, NULL);
	lost = ep_keys_lost(&f, &gone);
	for (int i = 0; i < st.count; i++)
		unowned += tc_owner_of(f.tc, 0, st.slots[i].slot) < 0;
	survey = strstr(r.out, " broken slot");
	while (survey && survey > r.out && survey[-1] != '\n')
		survey--;
	fprintf(stderr, "fix_epoch round %d: fix exit %d in %.1f s, %d slots left open, fix said '%.*s', %d keys lost "
		"(%d of them on no node), %d slots unowned\n", round, r.status, r.seconds, st.count,
		survey ? (int)strcspn(survey, "\n") : 0, survey ? survey : "", lost, gone, unowned);
	for (int n = 0; lost > 0 && n < 3; n++)
		fprintf(stderr, "fix_epoch round %d: node %d's log: %d 'Deleting keys in dirty slot', %d 'Clear my "
			"importing source'\n", round, n, ep_log_lines(&f, n, "Deleting keys in dirty slot"),
			ep_log_lines(&f, n, "Clear my importing source"));
	ck_assert_exit(&r, 0);
	ep_assert_repaired(&f, &st, r.out);
	run_result_free(&r);
	ck_assert_int_eq(lost, 0);
	tc_verify_keys(f.tc, EP_PREFIX, EP_KEYS);
	for (int i = 0; i < st.count; i++) {
		const struct ep_slot *s = &st.slots[i];

		ck_assert_msg(tc_owner_of(f.tc, 0, s->slot) == (ep_finished(s->kind) ? s->dst : s->src),
			"slot %d (kind %d, %d -> %d) ended on node %d", s->slot, s->kind, s->src, s->dst,
			tc_owner_of(f.tc, 0, s->slot));
	}
	run_slotctl(&r, 120, "check", tc_seed(f.tc), "--wait", "30", NULL);
	ck_assert_exit(&r, 0);
	run_result_free(&r);
	fx_stop(&f);
}

/* 120 slots open in every kind and direction across 3 masters at once. */
START_TEST(every_direction_at_once)
{
	const char *soak = getenv("SLOTCTL_SOAK_ROUNDS");
	int rounds = soak ? atoi(soak) : 1;

	for (int i = 1; i <= (rounds > 0 ? rounds : 1); i++)
		ep_round(i);
}
END_TEST

#define AP_PREFIX "k"
#define AP_KEYS 30000
#define AP_SLOTS 60              /* per transfer */

/* Every master gives AP_SLOTS slots to the next and takes as many from the
 * one before, all in one batch, on three workers. */
START_TEST(every_master_gives_and_takes)
{
	const char *soak = getenv("SLOTCTL_SOAK_ROUNDS");
	int rounds = soak && atoi(soak) > 0 ? atoi(soak) : 1;

	for (int round = 1; round <= rounds; round++) {
		struct test_cluster *tc = tc_start(3, 0);
		struct exec_transfer t[3] = { { 0, 1, AP_SLOTS }, { 1, 2, AP_SLOTS }, { 2, 0, AP_SLOTS } };
		struct run_result r;
		char dir[64], plan[128];

		tc_load_keys(tc, AP_PREFIX, AP_KEYS);
		exec_temp_path(dir, sizeof(dir), plan, sizeof(plan), "plan.json");
		exec_write_plan_batched(tc, t, 3, AP_PREFIX, AP_KEYS, plan, true);
		run_slotctl(&r, 300, "apply", plan, "--yes", "--parallel", "3", "--batch-keys", "7", NULL);
		fprintf(stderr, "epoch apply round %d: exit %d in %.1f s\n", round, r.status, r.seconds);
		ck_assert_exit(&r, 0);
		run_result_free(&r);
		tc_verify_keys(tc, AP_PREFIX, AP_KEYS);
		run_slotctl(&r, 120, "check", tc_seed(tc), "--wait", "30", NULL);
		ck_assert_exit(&r, 0);
		run_result_free(&r);
		tc_stop(tc);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("epoch");
	TCase *fix = tcase_create("fix"), *apply = tcase_create("apply");

	tcase_set_timeout(fix, 0);
	tcase_add_test(fix, every_direction_at_once);
	suite_add_tcase(s, fix);
	tcase_set_timeout(apply, 0);
	tcase_add_test(apply, every_master_gives_and_takes);
	suite_add_tcase(s, apply);
	return check_run(s);
}
