/* test_repair.c: the rules of `slotctl fix` on fixture snapshots of a
 * 3-master cluster (A 0-5460, B 5461-10922, C 10923-16383), each node with
 * its own CLUSTER NODES view: every named state, the owner chosen after the
 * repair and the exact protocol steps, unreachable masters, journal hints,
 * and the man page naming every state. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "slotctl/core/repair.h"
#include "check_run.h"
#include "read_file.h"

#define ID_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ID_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ID_C "cccccccccccccccccccccccccccccccccccccccc"
#define A 0
#define B 1
#define C 2
#define SLOT 100

static const char *const ids[3] = { ID_A, ID_B, ID_C };
static const int ports[3] = { 7000, 7001, 7002 };

/* What node `me` says: slots[i] is the slot list it believes node i claims
 * (NULL: A/B/C's usual ranges), extra is appended to its own line (markers). */
struct fx_view {
	const char *slots[3];
	const char *extra;
	unsigned long long epochs[3];
};

struct fixture {
	struct snapshot snap;
	long long keys[3 * SC_SLOTS];
	long long memory[3];
	struct repair_plan plan;
	const struct slotset *atomic_held; /* repair_input.atomic_held */
};

static const char *usual[3] = { "0-5460", "5461-10922", "10923-16383" };

static void fx_set_view(struct fixture *fx, int me, const struct fx_view *v)
{
	size_t cap = 4096 + (v && v->extra ? strlen(v->extra) : 0);
	char *text = malloc(cap);
	size_t len = 0;
	struct sc_error err;
	struct node_view *nv = &fx->snap.nodes[me];

	for (int i = 0; i < 3; i++) {
		const char *slots = v && v->slots[i] ? v->slots[i] : usual[i];
		unsigned long long epoch = v && v->epochs[i] ? v->epochs[i] : (unsigned long long)i + 1;

		len += (size_t)snprintf(text + len, cap - len,
			"%s 127.0.0.1:%d@%d %smaster - 0 0 %llu connected %s%s%s\n", ids[i], ports[i],
			ports[i] + 10000, i == me ? "myself," : "", epoch, slots,
			i == me && v && v->extra ? " " : "", i == me && v && v->extra ? v->extra : "");
	}
	topology_release(&nv->view);
	ck_assert_msg(topology_parse(text, len, &nv->view, &err) == 0, "%s\n%s", err.msg, text);
	free(text);
}

static struct fixture *fx_new(void)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	fx->snap.count = 3;
	fx->snap.nodes = calloc(3, sizeof(struct node_view));
	fx->snap.reference = 0;
	for (int i = 0; i < 3; i++) {
		struct node_view *nv = &fx->snap.nodes[i];

		snprintf(nv->host, sizeof(nv->host), "127.0.0.1");
		nv->port = ports[i];
		snprintf(nv->addr, sizeof(nv->addr), "127.0.0.1:%d", ports[i]);
		snprintf(nv->id, sizeof(nv->id), "%s", ids[i]);
		nv->reachable = true;
		fx_set_view(fx, i, NULL);
		fx->memory[i] = 1000;
	}
	return fx;
}

static void fx_free(struct fixture *fx)
{
	repair_plan_release(&fx->plan);
	for (int i = 0; i < 3; i++)
		topology_release(&fx->snap.nodes[i].view);
	free(fx->snap.nodes);
	free(fx);
}

static void fx_keys(struct fixture *fx, int node, int slot, long long n)
{
	fx->keys[node * SC_SLOTS + slot] = n;
}

static void fx_plan_with(struct fixture *fx, const struct repair_hint *hints, size_t nhints, bool allow,
	bool accept_data_loss)
{
	struct repair_input in = { &fx->snap, fx->keys, fx->memory, hints, nhints, allow, accept_data_loss,
		fx->atomic_held };
	struct sc_error err;

	repair_plan_release(&fx->plan);
	ck_assert_msg(repair_plan_build(&in, &fx->plan, &err) == 0, "%s", err.msg);
}

static void fx_plan(struct fixture *fx, const struct repair_hint *hints, size_t nhints, bool allow)
{
	fx_plan_with(fx, hints, nhints, allow, false);
}

/* The steps of the only item, as "op node peer" words, e.g. "set-node B B". */
static void steps_text(const struct repair_item *it, char *buf, size_t size)
{
	static const char names[] = "ABC";
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < it->step_count; i++) {
		const struct repair_step *st = &it->steps[i];

		len += (size_t)snprintf(buf + len, size - len, "%s%s %c", i ? "; " : "",
			repair_op_name(st->op), names[st->node]);
		if (st->peer >= 0)
			len += (size_t)snprintf(buf + len, size - len, " %c", names[st->peer]);
	}
}

static const struct repair_item *only_item(const struct fixture *fx, enum repair_state state,
	int target)
{
	const struct repair_item *it;

	ck_assert_uint_eq(fx->plan.count, 1);
	it = &fx->plan.items[0];
	ck_assert_int_eq(it->slot, SLOT);
	ck_assert_msg(it->state == state, "state %s, expected %s",
		repair_state_info(it->state)->name, repair_state_info(state)->name);
	ck_assert_int_eq(it->target, target);
	ck_assert(!it->blocked);
	return it;
}

static void assert_steps(const struct repair_item *it, const char *expected)
{
	char buf[2048];

	steps_text(it, buf, sizeof(buf));
	ck_assert_str_eq(buf, expected);
}

START_TEST(healthy_cluster_needs_nothing)
{
	struct fixture *fx = fx_new();

	fx_keys(fx, A, SLOT, 10);
	fx_plan(fx, NULL, 0, false);
	ck_assert_uint_eq(fx->plan.count, 0);
	fx_free(fx);
}
END_TEST

START_TEST(migrating_on_owner_only)
{
	struct fixture *fx = fx_new();

	fx_set_view(fx, A, &(struct fx_view){ .extra = "[100->-" ID_B "]" });
	fx_keys(fx, A, SLOT, 4);
	fx_plan(fx, NULL, 0, false);
	assert_steps(only_item(fx, REPAIR_MIGRATING_OWNER_ONLY, A), "stable A");
	fx_free(fx);
}
END_TEST

START_TEST(importing_on_non_owner_only)
{
	struct fixture *fx = fx_new();

	fx_set_view(fx, B, &(struct fx_view){ .extra = "[100-<-" ID_A "]" });
	fx_keys(fx, A, SLOT, 4);
	fx_keys(fx, B, SLOT, 2);
	fx_plan(fx, NULL, 0, false);
	assert_steps(only_item(fx, REPAIR_IMPORTING_ONLY, A), "move-keys B A; stable B");
	ck_assert_int_eq(fx->plan.items[0].steps[0].keys, 2);
	fx_free(fx);
}
END_TEST

static struct fixture *open_slot(long long on_a, long long on_b)
{
	struct fixture *fx = fx_new();

	fx_set_view(fx, A, &(struct fx_view){ .extra = "[100->-" ID_B "]" });
	fx_set_view(fx, B, &(struct fx_view){ .extra = "[100-<-" ID_A "]" });
	fx_keys(fx, A, SLOT, on_a);
	fx_keys(fx, B, SLOT, on_b);
	fx_plan(fx, NULL, 0, false);
	return fx;
}

START_TEST(open_with_no_keys_moved_rolls_back)
{
	struct fixture *fx = open_slot(5, 0);
	const struct repair_item *it = only_item(fx, REPAIR_OPEN_NO_KEYS_MOVED, A);

	ck_assert_int_eq(it->source, A);
	ck_assert_int_eq(it->importer, B);
	assert_steps(it, "stable A; stable B");
	fx_free(fx);
}
END_TEST

START_TEST(open_with_some_keys_moved_finishes)
{
	struct fixture *fx = open_slot(3, 2);

	assert_steps(only_item(fx, REPAIR_OPEN_SOME_KEYS_MOVED, B),
		"move-keys A B; set-node B B; set-node A B; stable A; set-node C B");
	/* A still claims the slot: no server finishes it by itself */
	ck_assert(!repair_server_may_take(&fx->snap, &fx->plan.items[0]));
	fx_free(fx);
}
END_TEST

START_TEST(open_with_all_keys_moved_finishes)
{
	struct fixture *fx = open_slot(0, 5);

	assert_steps(only_item(fx, REPAIR_OPEN_ALL_KEYS_MOVED, B),
		"set-node B B; set-node A B; stable A; set-node C B");
	fx_free(fx);
}
END_TEST

START_TEST(open_empty_slot_rolls_back)
{
	struct fixture *fx = open_slot(0, 0);

	assert_steps(only_item(fx, REPAIR_OPEN_NO_KEYS_MOVED, A), "stable A; stable B");
	fx_free(fx);
}
END_TEST

START_TEST(node_sent_on_source_only)
{
	struct fixture *fx = fx_new();

	/* A gave the slot to B; B still imports it and believes A owns it */
	fx_set_view(fx, A, &(struct fx_view){ .slots = { "0-99 101-5460", "100 5461-10922", NULL } });
	fx_set_view(fx, B, &(struct fx_view){ .extra = "[100-<-" ID_A "]" });
	fx_keys(fx, B, SLOT, 5);
	fx_plan(fx, NULL, 0, false);
	assert_steps(only_item(fx, REPAIR_NODE_SOURCE_ONLY, B), "set-node B B; set-node C B");
	/* B imports from A, which no longer claims the slot: Valkey 8+ has B
	 * take it by itself at A's next ping, so fix hands it over first */
	ck_assert(repair_server_may_take(&fx->snap, &fx->plan.items[0]));
	fx_free(fx);
}
END_TEST

START_TEST(node_sent_on_target_only)
{
	struct fixture *fx = fx_new();

	fx_set_view(fx, A, &(struct fx_view){ .extra = "[100->-" ID_B "]" });
	fx_set_view(fx, B, &(struct fx_view){ .slots = { "0-99 101-5460", "100 5461-10922", NULL } });
	fx_keys(fx, A, SLOT, 1);
	fx_keys(fx, B, SLOT, 4);
	fx_plan(fx, NULL, 0, false);
	assert_steps(only_item(fx, REPAIR_NODE_TARGET_ONLY, B),
		"move-keys A B; set-node A B; stable A; set-node C B");
	ck_assert(!repair_server_may_take(&fx->snap, &fx->plan.items[0]));
	fx_free(fx);
}
END_TEST

START_TEST(importing_on_two_nodes)
{
	struct fixture *fx = fx_new();

	fx_set_view(fx, B, &(struct fx_view){ .extra = "[100-<-" ID_A "]" });
	fx_set_view(fx, C, &(struct fx_view){ .extra = "[100-<-" ID_A "]" });
	fx_keys(fx, A, SLOT, 3);
	fx_keys(fx, C, SLOT, 1);
	fx_plan(fx, NULL, 0, false);
	assert_steps(only_item(fx, REPAIR_IMPORTING_SEVERAL, A),
		"move-keys C A; stable B; stable C");
	fx_free(fx);
}
END_TEST

START_TEST(migrating_on_non_owner)
{
	struct fixture *fx = fx_new();

	fx_set_view(fx, B, &(struct fx_view){ .extra = "[100->-" ID_C "]" });
	fx_keys(fx, A, SLOT, 3);
	fx_plan(fx, NULL, 0, false);
	assert_steps(only_item(fx, REPAIR_MIGRATING_NON_OWNER, A), "stable B");
	fx_free(fx);
}
END_TEST

static struct fixture *uncovered(void)
{
	struct fixture *fx = fx_new();
	struct fx_view v = { .slots = { "0-99 101-5460", NULL, NULL } };

	for (int i = 0; i < 3; i++)
		fx_set_view(fx, i, &v);
	return fx;
}

START_TEST(uncovered_without_keys_goes_to_least_memory)
{
	struct fixture *fx = uncovered();

	fx->memory[A] = 10; /* least memory wins over fewer slots */
	fx_plan(fx, NULL, 0, false);
	assert_steps(only_item(fx, REPAIR_UNCOVERED_EMPTY, A),
		"set-node A A; set-node B A; set-node C A; bump-epoch A");
	/* coverage first: the owner is made known before any key moves */
	for (size_t i = 0; i < 4; i++)
		ck_assert(fx->plan.items[0].steps[i].early == (i < 3));
	fx_free(fx);
}
END_TEST

static void fx_set_all_views(struct fixture *fx, const char *a, const char *b, const char *c)
{
	struct fx_view v = { .slots = { a, b, c } };

	for (int i = 0; i < 3; i++)
		fx_set_view(fx, i, &v);
}

START_TEST(uncovered_ties_go_to_fewest_slots_then_lowest_id)
{
	struct fixture *fx = fx_new();

	/* equal memory: B has the fewest slots */
	fx_set_all_views(fx, "0-99 101-5470", "5471-10922", "10923-16383");
	fx_plan(fx, NULL, 0, false);
	only_item(fx, REPAIR_UNCOVERED_EMPTY, B);
	/* B and C have 5456 slots each: the lower id wins */
	fx_set_all_views(fx, "0-99 101-5471", "5472-10927", "10928-16383");
	fx_plan(fx, NULL, 0, false);
	only_item(fx, REPAIR_UNCOVERED_EMPTY, B);
	fx->memory[C] = 999;
	fx_plan(fx, NULL, 0, false);
	only_item(fx, REPAIR_UNCOVERED_EMPTY, C);
	fx_free(fx);
}
END_TEST

START_TEST(uncovered_with_keys_on_one_node)
{
	struct fixture *fx = uncovered();

	fx->memory[A] = 10;
	fx_keys(fx, B, SLOT, 3);
	fx_plan(fx, NULL, 0, false);
	assert_steps(only_item(fx, REPAIR_UNCOVERED_ONE_HOLDER, B),
		"set-node B B; set-node A B; set-node C B; bump-epoch B");
	fx_free(fx);
}
END_TEST

START_TEST(uncovered_with_keys_on_several_nodes)
{
	struct fixture *fx = uncovered();

	fx_keys(fx, A, SLOT, 2);
	fx_keys(fx, C, SLOT, 5);
	fx_plan(fx, NULL, 0, false);
	assert_steps(only_item(fx, REPAIR_UNCOVERED_SEVERAL, C),
		"set-node C C; set-node A C; set-node B C; importing A C; move-keys A C; bump-epoch C; "
		"stable A");
	/* equal counts: the lowest id keeps the slot */
	fx_keys(fx, A, SLOT, 5);
	fx_plan(fx, NULL, 0, false);
	only_item(fx, REPAIR_UNCOVERED_SEVERAL, A);
	fx_free(fx);
}
END_TEST

START_TEST(stray_keys_move_to_the_owner)
{
	struct fixture *fx = fx_new();

	fx_keys(fx, A, SLOT, 7);
	fx_keys(fx, C, SLOT, 2);
	fx_plan(fx, NULL, 0, false);
	assert_steps(only_item(fx, REPAIR_STRAY_KEYS, A), "importing C A; move-keys C A; stable C");
	fx_free(fx);
}
END_TEST

/* Keys a running atomic migration stages on its target look stray: fix
 * leaves that slot alone, saying why, and repairs the others. */
START_TEST(slots_an_atomic_migration_holds_are_left_alone)
{
	struct fixture *fx = fx_new();
	struct slotset held;

	fx_keys(fx, A, SLOT, 7);
	fx_keys(fx, C, SLOT, 7);
	fx_keys(fx, C, SLOT + 1, 1);
	slotset_clear(&held);
	slotset_add(&held, SLOT);
	fx->atomic_held = &held;
	fx_plan(fx, NULL, 0, false);
	ck_assert_uint_eq(fx->plan.count, 2);
	ck_assert_int_eq(fx->plan.items[0].slot, SLOT);
	ck_assert(fx->plan.items[0].blocked);
	ck_assert(!fx->plan.items[0].needs_reach);
	ck_assert_ptr_nonnull(strstr(fx->plan.items[0].reason, "atomic slot migration"));
	ck_assert_ptr_nonnull(strstr(fx->plan.items[0].reason, "--cancel-atomic"));
	ck_assert(!fx->plan.items[1].blocked);
	ck_assert_uint_eq(repair_plan_blocked(&fx->plan), 1);
	fx->atomic_held = NULL;
	fx_free(fx);
}
END_TEST

START_TEST(slot_claimed_by_two_masters)
{
	struct fixture *fx = fx_new();

	fx_set_view(fx, B, &(struct fx_view){ .slots = { NULL, "100 5461-10922", NULL } });
	fx_keys(fx, A, SLOT, 1);
	fx_keys(fx, B, SLOT, 3);
	fx_plan(fx, NULL, 0, false);
	assert_steps(only_item(fx, REPAIR_SEVERAL_OWNERS, B),
		"migrating A B; move-keys A B; bump-epoch B; set-node A B; stable A; set-node C B");
	/* equal keys: the higher configEpoch wins */
	fx_keys(fx, A, SLOT, 3);
	fx_plan(fx, NULL, 0, false);
	only_item(fx, REPAIR_SEVERAL_OWNERS, B);
	fx_free(fx);
}
END_TEST

START_TEST(hundreds_of_open_slots_in_one_pass)
{
	struct fixture *fx = fx_new();
	char *extra_a = calloc(1, 200000), *extra_b = calloc(1, 200000);
	size_t la = 0, lb = 0;

	/* slots 1000-1299 open A->B: no keys moved, some moved, all moved in turn */
	for (int s = 1000; s < 1300; s++) {
		la += (size_t)sprintf(extra_a + la, "%s[%d->-" ID_B "]", la ? " " : "", s);
		lb += (size_t)sprintf(extra_b + lb, "%s[%d-<-" ID_A "]", lb ? " " : "", s);
		fx_keys(fx, A, s, s % 3 == 2 ? 0 : 4);
		fx_keys(fx, B, s, s % 3 == 0 ? 0 : 1);
	}
	fx_set_view(fx, A, &(struct fx_view){ .extra = extra_a });
	fx_set_view(fx, B, &(struct fx_view){ .extra = extra_b });
	fx_plan(fx, NULL, 0, false);
	ck_assert_uint_eq(fx->plan.count, 300);
	/* items differing in their slot alone are alike (printed as one group) */
	ck_assert(repair_items_alike(&fx->plan.items[0], &fx->plan.items[3]));
	ck_assert(!repair_items_alike(&fx->plan.items[0], &fx->plan.items[1]));
	ck_assert(!repair_items_alike(&fx->plan.items[0], &fx->plan.items[2]));
	for (size_t i = 0; i < fx->plan.count; i++) {
		const struct repair_item *it = &fx->plan.items[i];
		enum repair_state want = it->slot % 3 == 0 ? REPAIR_OPEN_NO_KEYS_MOVED :
			it->slot % 3 == 1 ? REPAIR_OPEN_SOME_KEYS_MOVED : REPAIR_OPEN_ALL_KEYS_MOVED;

		ck_assert_int_eq(it->slot, 1000 + (int)i);
		ck_assert_int_eq(it->state, want);
		ck_assert_int_eq(it->target, want == REPAIR_OPEN_NO_KEYS_MOVED ? A : B);
	}
	free(extra_a);
	free(extra_b);
	fx_free(fx);
}
END_TEST

static void make_unreachable(struct fixture *fx, int i)
{
	fx->snap.nodes[i].reachable = false;
	topology_release(&fx->snap.nodes[i].view);
	for (int k = 0; k < SC_SLOTS; k++)
		fx->keys[i * SC_SLOTS + k] = -1;
}

START_TEST(unreachable_master_blocks_ownership_changes)
{
	struct fixture *fx = uncovered();

	fx_set_view(fx, A, &(struct fx_view){ .slots = { "0-99 101-5460", NULL, NULL },
		.extra = "[200->-" ID_B "]" });
	fx_set_view(fx, B, &(struct fx_view){ .slots = { "0-99 101-5460", NULL, NULL },
		.extra = "[200-<-" ID_A "]" });
	fx_keys(fx, A, 200, 3);
	make_unreachable(fx, C);
	fx_plan(fx, NULL, 0, false);
	ck_assert_int_eq(fx->plan.unreachable_masters, 1);
	ck_assert(fx->plan.refused);
	ck_assert_uint_eq(fx->plan.count, 2);
	/* it may be a partition: nothing is repaired, though C is in neither state */
	for (size_t i = 0; i < 2; i++) {
		ck_assert(fx->plan.items[i].blocked && fx->plan.items[i].needs_reach);
		ck_assert(!fx->plan.items[i].involves_unreachable);
		ck_assert(strstr(fx->plan.items[i].reason, "--allow-unreachable") != NULL);
	}
	ck_assert_uint_eq(repair_plan_needs_reach(&fx->plan), 2);

	fx_plan(fx, NULL, 0, true);
	ck_assert(!fx->plan.refused);
	ck_assert(!fx->plan.items[0].blocked);
	ck_assert_int_eq(fx->plan.items[0].target, A);
	ck_assert(!fx->plan.items[1].blocked);
	ck_assert_int_eq(fx->plan.items[1].target, A);
	ck_assert_uint_eq(repair_plan_blocked(&fx->plan), 0);
	fx_free(fx);
}
END_TEST

/* With --allow-unreachable, a slot is still left when a marker or a
 * master's view names the unreachable master, though it claims nothing. */
START_TEST(unreachable_peer_or_view_owner_blocks_its_slot)
{
	struct fixture *fx = fx_new();
	char names[128];

	/* B imports slot 100 (A's) from C, and sees C as the owner of 200 (A's
	 * in the map), of which it holds keys */
	fx_set_view(fx, B, &(struct fx_view){ .slots = { "0-199 201-5460", NULL, "200 10923-16383" },
		.extra = "[100-<-" ID_C "]" });
	/* and slot 300 is open between A and B only */
	fx_set_view(fx, A, &(struct fx_view){ .extra = "[300->-" ID_B "]" });
	fx_keys(fx, A, 300, 2);
	fx_keys(fx, B, 200, 2);
	make_unreachable(fx, C);
	fx_plan(fx, NULL, 0, true);
	ck_assert_uint_eq(fx->plan.count, 3);
	ck_assert_int_eq(fx->plan.items[0].slot, 100);
	ck_assert(fx->plan.items[0].blocked && fx->plan.items[0].involves_unreachable);
	ck_assert(strstr(fx->plan.items[0].reason, "'127.0.0.1:7002' could not be reached") != NULL);
	ck_assert_int_eq(fx->plan.items[1].slot, 200);
	ck_assert(fx->plan.items[1].blocked && fx->plan.items[1].involves_unreachable);
	ck_assert_int_eq(fx->plan.items[2].slot, 300);
	ck_assert(!fx->plan.items[2].blocked);
	ck_assert_uint_eq(repair_unreachable_names(&fx->snap, names, sizeof(names)), 1);
	ck_assert_str_eq(names, "'127.0.0.1:7002' (cccccccc)");
	fx_free(fx);
}
END_TEST

START_TEST(unreachable_claimant_blocks_its_slot)
{
	struct fixture *fx = fx_new();

	/* C claims 100 too, and cannot be reached */
	fx_set_view(fx, A, &(struct fx_view){ .slots = { NULL, NULL, "100 10923-16383" } });
	make_unreachable(fx, C);
	fx_plan(fx, NULL, 0, true);
	ck_assert_uint_eq(fx->plan.count, 1);
	ck_assert(fx->plan.items[0].blocked && fx->plan.items[0].needs_reach);
	ck_assert(strstr(fx->plan.items[0].reason, "127.0.0.1:7002") != NULL);
	fx_free(fx);
}
END_TEST

START_TEST(journal_direction_wins)
{
	struct fixture *fx = open_slot(3, 2);
	struct repair_hint back = { .slot = SLOT, .from = ID_A, .to = ID_B, .forward = false };

	fx_plan(fx, &back, 1, false);
	ck_assert(fx->plan.items[0].by_journal);
	assert_steps(only_item(fx, REPAIR_OPEN_SOME_KEYS_MOVED, A),
		"stable A; move-keys B A; stable B");
	back.forward = true;
	fx_plan(fx, &back, 1, false);
	only_item(fx, REPAIR_OPEN_SOME_KEYS_MOVED, B);
	fx_free(fx);
}
END_TEST

START_TEST(describe_names_nodes)
{
	struct fixture *fx = open_slot(3, 2);
	char buf[256];

	repair_step_describe(&fx->snap, SLOT, &fx->plan.items[0].steps[0], buf, sizeof(buf));
	ck_assert_str_eq(buf, "move 3 keys of slot 100 from '127.0.0.1:7000' to '127.0.0.1:7001'");
	repair_step_describe(&fx->snap, -1, &fx->plan.items[0].steps[0], buf, sizeof(buf));
	ck_assert_str_eq(buf, "move 3 keys of slot S from '127.0.0.1:7000' to '127.0.0.1:7001'");
	{
		/* the same repair of another slot is alike; one moving another
		 * number of keys is not */
		struct repair_item other = fx->plan.items[0];
		size_t n = other.step_count;
		struct repair_step *steps = malloc(n * sizeof(*steps));

		ck_assert_ptr_nonnull(steps);
		memcpy(steps, other.steps, n * sizeof(*steps));
		other.steps = steps;
		other.slot = SLOT + 1;
		ck_assert(repair_items_alike(&fx->plan.items[0], &other));
		ck_assert_int_eq(steps[0].op, REPAIR_OP_MOVE_KEYS);
		steps[0].keys++;
		ck_assert(!repair_items_alike(&fx->plan.items[0], &other));
		free(steps);
	}
	fx_free(fx);
}
END_TEST

START_TEST(mismatched_markers_go_back_to_the_owner)
{
	struct fixture *fx = fx_new();

	/* A migrates to B, but C (not B) imports from A */
	fx_set_view(fx, A, &(struct fx_view){ .extra = "[100->-" ID_B "]" });
	fx_set_view(fx, C, &(struct fx_view){ .extra = "[100-<-" ID_A "]" });
	fx_keys(fx, A, SLOT, 3);
	fx_keys(fx, C, SLOT, 2);
	fx_plan(fx, NULL, 0, false);
	assert_steps(only_item(fx, REPAIR_OPEN_MIXED, A), "stable A; move-keys C A; stable C");
	fx_free(fx);
}
END_TEST

START_TEST(journal_gives_directions_for_unfinished_slots)
{
	struct journal_state st;
	struct journal_slot slots[3] = {
		{ .slot = 1, .from = ID_A, .to = ID_B, .phase = JOURNAL_MIGRATING },
		{ .slot = 2, .from = ID_A, .to = ID_B, .phase = JOURNAL_OWNER_TARGET },
		{ .slot = 3, .from = ID_A, .to = ID_B, .phase = JOURNAL_DONE },
	};
	struct repair_hint *hints = NULL;
	size_t n = 0;
	struct sc_error err;

	journal_state_init(&st);
	st.slots = slots;
	st.count = 3;
	snprintf(st.last_op, sizeof(st.last_op), "apply");
	ck_assert_int_eq(repair_hints_from_journal(&st, &hints, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert(hints[0].slot == 1 && hints[0].forward);
	ck_assert(hints[1].slot == 2 && hints[1].forward);
	ck_assert_str_eq(hints[0].to, ID_B);
	/* an abort rolls back, except where the new owner is already set */
	snprintf(st.last_op, sizeof(st.last_op), "abort");
	n = 0;
	ck_assert_int_eq(repair_hints_from_journal(&st, &hints, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert(!hints[0].forward);
	ck_assert(hints[1].forward);
	free(hints);
}
END_TEST

START_TEST(every_state_is_named_and_documented)
{
	char *man = test_read_file("SLOTCTL_SOURCE_ROOT", "man/slotctl.1", NULL);

	for (int s = 0; s < REPAIR_STATE_COUNT; s++) {
		const struct repair_state_info *info = repair_state_info((enum repair_state)s);

		ck_assert_int_eq(info->state, s);
		for (int t = 0; t < s; t++)
			ck_assert_str_ne(info->name, repair_state_info((enum repair_state)t)->name);
		ck_assert_msg(strstr(man, info->name) != NULL, "man page lacks state '%s'", info->name);
	}
	ck_assert_ptr_null(repair_state_info(REPAIR_STATE_COUNT));
	free(man);
}
END_TEST

/* C is down and flagged fail in the map, with no replica: a lost shard.
 * Without accept_data_loss its slots are named and the plan refused; with
 * it they are split in two contiguous halves between A and B, each taken in
 * the owner stage (not as coverage) with a bump, the other master told. */
START_TEST(lost_shard_named_then_split_with_accept_data_loss)
{
	struct fixture *fx = fx_new();
	struct slotset lost;
	char names[512], steps[256];

	make_unreachable(fx, C);
	((struct node *)topology_find(&fx->snap.nodes[A].view, ID_C))->flags |= NODE_FAIL;
	ck_assert(repair_shard_lost(&fx->snap, C));
	ck_assert(!repair_shard_lost(&fx->snap, A));
	fx_plan(fx, NULL, 0, false);
	ck_assert(fx->plan.refused);
	ck_assert_int_eq(fx->plan.lost_masters, 1);
	ck_assert_uint_eq(fx->plan.count, 5461);
	ck_assert_uint_eq(repair_plan_needs_reach(&fx->plan), 5461);
	ck_assert(fx->plan.items[0].state == REPAIR_LOST_SHARD && fx->plan.items[0].slot == 10923);
	ck_assert(strstr(fx->plan.items[0].reason, "--accept-data-loss") != NULL);
	ck_assert_uint_eq(repair_lost_names(&fx->snap, names, sizeof(names)), 1);
	ck_assert_msg(strstr(names, "127.0.0.1:7002") && strstr(names, "10923-16383"), "%s", names);
	/* --allow-unreachable alone does not give a lost shard's slots away */
	fx_plan(fx, NULL, 0, true);
	ck_assert_uint_eq(repair_plan_blocked(&fx->plan), 5461);

	fx_plan_with(fx, NULL, 0, false, true);
	ck_assert(!fx->plan.refused);
	ck_assert_int_eq(fx->plan.unreachable_masters, 0);
	ck_assert_uint_eq(fx->plan.count, 5461);
	ck_assert_uint_eq(repair_plan_blocked(&fx->plan), 0);
	ck_assert_int_eq(repair_lost_slots(&fx->plan, &lost), 5461);
	ck_assert(slotset_has(&lost, 10923) && slotset_has(&lost, 16383) && !slotset_has(&lost, 10922));
	for (size_t i = 0; i < fx->plan.count; i++)
		ck_assert_int_eq(fx->plan.items[i].target, i < 2730 ? A : B);
	steps_text(&fx->plan.items[0], steps, sizeof(steps));
	ck_assert_str_eq(steps, "set-node A A; bump-epoch A; set-node B A");
	steps_text(&fx->plan.items[5460], steps, sizeof(steps));
	ck_assert_str_eq(steps, "set-node B B; bump-epoch B; set-node A B");
	for (size_t k = 0; k < fx->plan.items[0].step_count; k++)
		ck_assert(!fx->plan.items[0].steps[k].early);

	/* a replica of C that still answers: the shard is not lost */
	fx->snap.nodes[B].reachable = true;
	snprintf(((struct node *)topology_find(&fx->snap.nodes[B].view, ID_B))->master_id, SC_NODE_ID_LEN + 1, "%s", ID_C);
	ck_assert(!repair_shard_lost(&fx->snap, C));
	fx_free(fx);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("repair");
	TCase *tc = tcase_create("repair");

	tcase_add_test(tc, healthy_cluster_needs_nothing);
	tcase_add_test(tc, migrating_on_owner_only);
	tcase_add_test(tc, importing_on_non_owner_only);
	tcase_add_test(tc, open_with_no_keys_moved_rolls_back);
	tcase_add_test(tc, open_with_some_keys_moved_finishes);
	tcase_add_test(tc, open_with_all_keys_moved_finishes);
	tcase_add_test(tc, open_empty_slot_rolls_back);
	tcase_add_test(tc, node_sent_on_source_only);
	tcase_add_test(tc, node_sent_on_target_only);
	tcase_add_test(tc, importing_on_two_nodes);
	tcase_add_test(tc, migrating_on_non_owner);
	tcase_add_test(tc, uncovered_without_keys_goes_to_least_memory);
	tcase_add_test(tc, uncovered_ties_go_to_fewest_slots_then_lowest_id);
	tcase_add_test(tc, uncovered_with_keys_on_one_node);
	tcase_add_test(tc, uncovered_with_keys_on_several_nodes);
	tcase_add_test(tc, stray_keys_move_to_the_owner);
	tcase_add_test(tc, slots_an_atomic_migration_holds_are_left_alone);
	tcase_add_test(tc, slot_claimed_by_two_masters);
	tcase_add_test(tc, hundreds_of_open_slots_in_one_pass);
	tcase_add_test(tc, unreachable_master_blocks_ownership_changes);
	tcase_add_test(tc, unreachable_claimant_blocks_its_slot);
	tcase_add_test(tc, unreachable_peer_or_view_owner_blocks_its_slot);
	tcase_add_test(tc, lost_shard_named_then_split_with_accept_data_loss);
	tcase_add_test(tc, journal_direction_wins);
	tcase_add_test(tc, describe_names_nodes);
	tcase_add_test(tc, mismatched_markers_go_back_to_the_owner);
	tcase_add_test(tc, journal_gives_directions_for_unfinished_slots);
	tcase_add_test(tc, every_state_is_named_and_documented);
	suite_add_tcase(s, tc);
	return check_run(s);
}
