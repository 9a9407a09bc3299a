/* test_check.c: the rules of `slotctl check` on snapshots built from the
 * CLUSTER NODES fixtures in tests/fixtures/check/: each finding's code,
 * severity, nodes and slot ranges, the exit-code rule, --wait's "settled"
 * test and the JSON document; and the key rule's judgement of key counts. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "slotctl/core/check.h"
#include "slotctl/core/exitcode.h"
#include "read_file.h"
#include "check_run.h"
#include "fake_map.h"

#define ID_A "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca" /* 127.0.0.1:30001, master 0-5460 */
#define ID_B "67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1" /* 127.0.0.1:30002, master 5461-10922 */
#define ID_C "292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f" /* 127.0.0.1:30003, master 10923-16383 */
#define ID_E "6ec23923021cf3ffec47632106199cb7f496ce01" /* 127.0.0.1:30005, replica of B */
#define ID_F "824fe116063bc5fcf9f4ffd895bc17aee7731ac3" /* 127.0.0.1:30006, replica of C */

/* A snapshot in which every node with an address answered with the fixture's
 * view, its myself flag moved to itself; the fixture's myself is the seed
 * and the reference. Healthy state and settings unless a test changes them. */
static void snap_from_fixture(struct snapshot *s, const char *name)
{
	struct topology t;
	struct sc_error err;
	char path[256];
	size_t len;
	char *text;

	snprintf(path, sizeof(path), "check/%s", name);
	text = test_read_file("SLOTCTL_FIXTURES", path, &len);

	ck_assert_msg(topology_parse(text, len, &t, &err) == 0, "%s: %s", name, err.msg);
	free(text);
	memset(s, 0, sizeof(*s));
	s->nodes = calloc(t.count, sizeof(*s->nodes));
	ck_assert_ptr_nonnull(s->nodes);
	for (size_t k = 0; k < t.count; k++) {
		/* the seed first, then the others in input order */
		size_t i = k == 0 ? (size_t)t.myself : (k <= (size_t)t.myself ? k - 1 : k);
		const struct node *n = &t.nodes[i];
		struct node_view *v;

		if (n->flags & (NODE_NOADDR | NODE_HANDSHAKE))
			continue;
		v = &s->nodes[s->count++];
		snprintf(v->host, sizeof(v->host), "%s", n->ip);
		v->port = n->port;
		snprintf(v->addr, sizeof(v->addr), "%s:%d", n->ip, n->port);
		memcpy(v->id, n->id, sizeof(v->id));
		v->reachable = true;
		ck_assert_int_eq(topology_copy(&v->view, &t), 0);
		for (size_t j = 0; j < v->view.count; j++)
			v->view.nodes[j].flags &= ~(unsigned)NODE_MYSELF;
		v->view.nodes[i].flags |= NODE_MYSELF;
		v->view.myself = (int)i;
		snprintf(v->cluster_state, sizeof(v->cluster_state), "ok");
		v->node_timeout_ms = 15000;
		v->require_full_coverage = 1;
		v->migration_barrier = 1;
	}
	s->reference = 0;
	topology_release(&t);
}

static void snap_free(struct snapshot *s)
{
	for (size_t i = 0; i < s->count; i++)
		topology_release(&s->nodes[i].view);
	free(s->nodes);
}

static struct node_view *view_of(struct snapshot *s, const char *id)
{
	for (size_t i = 0; i < s->count; i++)
		if (strcmp(s->nodes[i].id, id) == 0)
			return &s->nodes[i];
	ck_abort_msg("no node %s in the snapshot", id);
	return NULL;
}

static struct node *entry_in(struct node_view *v, const char *id)
{
	for (size_t i = 0; i < v->view.count; i++)
		if (strcmp(v->view.nodes[i].id, id) == 0)
			return &v->view.nodes[i];
	ck_abort_msg("no node %s in the view of %s", id, v->addr);
	return NULL;
}

static void make_unreachable(struct snapshot *s, const char *id, const char *why)
{
	struct node_view *v = view_of(s, id);

	topology_release(&v->view);
	v->reachable = false;
	v->cluster_state[0] = '\0';
	v->node_timeout_ms = -1;
	v->require_full_coverage = -1;
	v->migration_barrier = -1;
	sc_error_set(&v->error, SC_EXIT_UNREACHABLE, "%s", why);
}

static void evaluate(const struct snapshot *s, struct check_report *r)
{
	struct sc_error err;

	ck_assert_msg(check_evaluate(s, r, &err) == 0, "%s", err.msg);
}

static size_t count_code(const struct check_report *r, const char *code, enum check_severity sev)
{
	size_t n = 0;

	for (size_t i = 0; i < r->count; i++)
		if (strcmp(r->findings[i].code, code) == 0 && r->findings[i].severity == sev)
			n++;
	return n;
}

/* The one finding of code and severity whose first node is id (any when NULL). */
static const struct check_finding *find(const struct check_report *r, const char *code,
	enum check_severity sev, const char *id)
{
	for (size_t i = 0; i < r->count; i++) {
		const struct check_finding *f = &r->findings[i];

		if (strcmp(f->code, code) == 0 && f->severity == sev &&
		    (!id || (f->node_count && strcmp(f->nodes[0].id, id) == 0)))
			return f;
	}
	ck_abort_msg("no %s finding '%s' for %s", check_severity_name(sev), code, id ? id : "any node");
	return NULL;
}

static void assert_slots(const struct check_finding *f, const char *expected)
{
	char buf[256];

	slotset_format(&f->slots, buf, sizeof(buf));
	ck_assert_str_eq(buf, expected);
}

static bool has_node(const struct check_finding *f, const char *id)
{
	for (size_t i = 0; i < f->node_count; i++)
		if (strcmp(f->nodes[i].id, id) == 0)
			return true;
	return false;
}

START_TEST(healthy_cluster_is_all_ok)
{
	struct snapshot s;
	struct check_report r;
	const char *ok_codes[] = { "node-unreachable", "uncovered-slots", "slot-claimed-twice",
		"open-slot", "views-disagree", "roles-disagree", "epoch-collision", "node-failed", "link-disconnected",
		"cluster-state-fail", "no-replica", "setting-node-timeout", "setting-full-coverage",
		"setting-migration-barrier", "node-listed-twice" };

	snap_from_fixture(&s, "healthy.txt");
	evaluate(&s, &r);
	ck_assert_uint_eq(check_report_count(&r, CHECK_ERR), 0);
	ck_assert_uint_eq(check_report_count(&r, CHECK_WARN), 0);
	for (size_t i = 0; i < sizeof(ok_codes) / sizeof(ok_codes[0]); i++)
		ck_assert_msg(check_report_has(&r, ok_codes[i], CHECK_OK), "no ok finding %s", ok_codes[i]);
	for (size_t i = 0; i < r.count; i++)
		ck_assert_msg(check_code_lookup(r.findings[i].code) != NULL, "unknown code %s", r.findings[i].code);
	ck_assert_int_eq(r.summary.nodes, 6);
	ck_assert_int_eq(r.summary.reachable, 6);
	ck_assert_int_eq(r.summary.masters, 3);
	ck_assert_int_eq(r.summary.replicas, 3);
	ck_assert_int_eq(r.summary.slots_covered, SC_SLOTS);
	ck_assert_int_eq(r.summary.keys, -1);
	ck_assert_str_eq(r.summary.reference, "127.0.0.1:30001");
	ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_OK);
	ck_assert_int_eq(check_exit_code(&r, true), SC_EXIT_OK);
	ck_assert(check_report_settled(&r));
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

START_TEST(open_slot_names_node_peer_and_slot)
{
	struct snapshot s;
	struct check_report r;
	const struct check_finding *f;

	snap_from_fixture(&s, "open-slot.txt");
	evaluate(&s, &r);
	ck_assert_uint_eq(count_code(&r, "open-slot", CHECK_ERR), 2);
	f = find(&r, "open-slot", CHECK_ERR, ID_A);
	assert_slots(f, "5460");
	ck_assert_uint_eq(f->node_count, 2);
	ck_assert_str_eq(f->nodes[0].addr, "127.0.0.1:30001");
	ck_assert_str_eq(f->nodes[1].id, ID_B);
	ck_assert_str_eq(f->nodes[1].addr, "127.0.0.1:30002");
	ck_assert_ptr_nonnull(strstr(f->message, "'127.0.0.1:30001' (e7d1eecc) has slot 5460 migrating to '127.0.0.1:30002'"));
	f = find(&r, "open-slot", CHECK_ERR, ID_B);
	assert_slots(f, "5460");
	ck_assert_ptr_nonnull(strstr(f->message, "importing from '127.0.0.1:30001'"));
	ck_assert(!check_report_has(&r, "open-slot", CHECK_OK));
	ck_assert(check_report_has(&r, "views-disagree", CHECK_OK));
	ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_PROBLEMS);
	ck_assert(!check_report_settled(&r));
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

START_TEST(uncovered_slots_are_named)
{
	struct snapshot s;
	struct check_report r;
	const struct check_finding *f;

	snap_from_fixture(&s, "uncovered.txt");
	evaluate(&s, &r);
	f = find(&r, "uncovered-slots", CHECK_ERR, NULL);
	assert_slots(f, "16000-16383");
	ck_assert_ptr_nonnull(strstr(f->message, "384 slots"));
	ck_assert_ptr_nonnull(strstr(f->message, "16000-16383"));
	ck_assert_int_eq(r.summary.slots_covered, SC_SLOTS - 384);
	ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_PROBLEMS);
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

START_TEST(disagreeing_view_names_node_and_ranges)
{
	struct snapshot s;
	struct check_report r;
	const struct check_finding *f;
	struct node_view *b, *c;

	snap_from_fixture(&s, "healthy.txt");
	/* :30002 forgot that :30001 owns 0-99 (as after DELSLOTS on it alone) */
	b = view_of(&s, ID_B);
	for (int slot = 0; slot < 100; slot++)
		slotset_remove(fake_slots(entry_in(b, ID_A)), slot);
	/* :30003 thinks slot 200 moved to :30002 (SETSLOT NODE on it alone) */
	c = view_of(&s, ID_C);
	slotset_remove(fake_slots(entry_in(c, ID_A)), 200);
	slotset_add(fake_slots(entry_in(c, ID_B)), 200);
	evaluate(&s, &r);
	ck_assert_uint_eq(count_code(&r, "views-disagree", CHECK_ERR), 2);
	f = find(&r, "views-disagree", CHECK_ERR, ID_B);
	assert_slots(f, "0-99");
	ck_assert_str_eq(f->nodes[0].addr, "127.0.0.1:30002");
	ck_assert_str_eq(f->nodes[1].id, ID_A); /* the reference */
	ck_assert_ptr_nonnull(strstr(f->message, "'127.0.0.1:30002' (67ed2db8) disagrees"));
	ck_assert_ptr_nonnull(strstr(f->message, "0-99: unassigned here, '127.0.0.1:30001' (e7d1eecc) in the reference"));
	f = find(&r, "views-disagree", CHECK_ERR, ID_C);
	assert_slots(f, "200");
	ck_assert_ptr_nonnull(strstr(f->message, "200: '127.0.0.1:30002' (67ed2db8) here"));
	/* nobody claims a slot twice: :30002's own line does not claim 200 */
	ck_assert(check_report_has(&r, "slot-claimed-twice", CHECK_OK));
	ck_assert(check_report_has(&r, "uncovered-slots", CHECK_OK));
	ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_PROBLEMS);
	ck_assert(!check_report_settled(&r));
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

START_TEST(slot_claimed_by_two_masters)
{
	struct snapshot s;
	struct check_report r;
	const struct check_finding *f;

	snap_from_fixture(&s, "healthy.txt");
	/* :30002 claims 0-9 itself while the reference gives them to :30001 */
	slotset_add_range(fake_slots(entry_in(view_of(&s, ID_B), ID_B)), 0, 9);
	evaluate(&s, &r);
	f = find(&r, "slot-claimed-twice", CHECK_ERR, ID_A);
	assert_slots(f, "0-9");
	ck_assert_uint_eq(f->node_count, 2);
	ck_assert_str_eq(f->nodes[1].id, ID_B);
	f = find(&r, "views-disagree", CHECK_ERR, ID_B);
	assert_slots(f, "0-9");
	ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_PROBLEMS);
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

START_TEST(roles_disagree_names_node_and_role)
{
	struct snapshot s;
	struct check_report r;
	const struct check_finding *f;
	struct node *e;

	snap_from_fixture(&s, "healthy.txt");
	/* :30003 still sees :30005 as a master (it has not heard of its REPLICATE
	 * yet): a slotless master with the epoch of its master-to-be */
	e = entry_in(view_of(&s, ID_C), ID_E);
	e->flags = (e->flags & ~(unsigned)NODE_REPLICA) | NODE_MASTER;
	e->master_id[0] = '\0';
	evaluate(&s, &r);
	ck_assert_uint_eq(count_code(&r, "roles-disagree", CHECK_WARN), 1);
	f = find(&r, "roles-disagree", CHECK_WARN, ID_C);
	ck_assert_uint_eq(f->node_count, 3);
	ck_assert_str_eq(f->nodes[1].id, ID_A);
	ck_assert_str_eq(f->nodes[2].id, ID_E);
	ck_assert_ptr_nonnull(strstr(f->message, "about the role of 1 node ('127.0.0.1:30005' (6ec23923) is master here, "
		"replica of '127.0.0.1:30002' (67ed2db8) in the reference)"));
	ck_assert(check_report_has(&r, "views-disagree", CHECK_OK));
	ck_assert(check_report_has(&r, "epoch-collision", CHECK_OK));
	ck_assert(!check_report_settled(&r)); /* a transient warning: --wait waits it out */
	ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_OK);
	check_report_release(&r);

	/* the reference itself sees it so: no epoch collision with a slotless master */
	e = entry_in(&s.nodes[0], ID_E);
	e->flags = (e->flags & ~(unsigned)NODE_REPLICA) | NODE_MASTER;
	e->master_id[0] = '\0';
	evaluate(&s, &r);
	ck_assert(check_report_has(&r, "epoch-collision", CHECK_OK));
	ck_assert_int_eq(r.summary.masters, 4);
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

START_TEST(epoch_collision_names_both_masters)
{
	struct snapshot s;
	struct check_report r;
	const struct check_finding *f;

	snap_from_fixture(&s, "epoch-collision.txt");
	evaluate(&s, &r);
	ck_assert_uint_eq(count_code(&r, "epoch-collision", CHECK_ERR), 1);
	f = find(&r, "epoch-collision", CHECK_ERR, ID_B);
	ck_assert_uint_eq(f->node_count, 2);
	ck_assert_str_eq(f->nodes[1].id, ID_C);
	ck_assert_ptr_nonnull(strstr(f->message, "share configEpoch 3"));
	ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_PROBLEMS);
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

/* A snapshot never reads an address or an id twice: the fixture's last
 * entry, a second line for a node already read, gets no view of its own. */
static void drop_last_view(struct snapshot *s)
{
	topology_release(&s->nodes[--s->count].view);
}

/* Evaluates a fixture whose last line lists a node or address again: one
 * error of code whose first node is id, with node_count nodes and slots,
 * and exit 1. */
static const struct check_finding *listed_again(struct snapshot *s, struct check_report *r, const char *fixture,
	const char *code, const char *id, size_t node_count, const char *slots)
{
	const struct check_finding *f;
	char buf[64];

	snap_from_fixture(s, fixture);
	drop_last_view(s);
	evaluate(s, r);
	ck_assert_uint_eq(count_code(r, code, CHECK_ERR), 1);
	f = find(r, code, CHECK_ERR, id);
	ck_assert_uint_eq(f->node_count, node_count);
	slotset_format(&f->slots, buf, sizeof(buf));
	ck_assert_str_eq(buf, slots);
	ck_assert(!check_report_has(r, "node-listed-twice", CHECK_OK));
	ck_assert_int_eq(check_exit_code(r, false), SC_EXIT_PROBLEMS);
	return f;
}

/* Node B listed twice, the copy with C's configEpoch: one error naming B,
 * seen in every view; no epoch-collision quoting an epoch one of B's lines
 * does not say (the old rule paired B with itself, "share configEpoch 2"). */
START_TEST(node_listed_twice)
{
	struct snapshot s;
	struct check_report r;
	const struct check_finding *f = listed_again(&s, &r, "listed-twice.txt", "node-listed-twice", ID_B, 1 + 6,
		"5461-10922");

	ck_assert_str_eq(f->nodes[1].id, ID_A);
	ck_assert_msg(strstr(f->message, "node '" ID_B "' is listed twice (at '127.0.0.1:30002' and at "
		"'127.0.0.1:30007') in the CLUSTER NODES of '127.0.0.1:30001' (e7d1eecc), '127.0.0.1:30002' (67ed2db8)"),
		"message: %s", f->message);
	ck_assert_uint_eq(count_code(&r, "epoch-collision", CHECK_ERR), 0);
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

/* A second id at the seed's address owning half its slots: nobody answers
 * as that node there, and the snapshot reads the address once. */
START_TEST(second_node_at_seed_address)
{
	struct snapshot s;
	struct check_report r;
	const struct check_finding *f = listed_again(&s, &r, "phantom-at-seed.txt", "address-listed-twice", ID_A,
		2 + 6, "0-5460");

	ck_assert_str_eq(f->nodes[1].id, "0000000000000000000000000000000000000bad");
	ck_assert_str_eq(f->nodes[1].addr, "127.0.0.1:30001");
	ck_assert_msg(strstr(f->message, "two nodes are listed at '127.0.0.1:30001': '" ID_A "' and "
		"'0000000000000000000000000000000000000bad' in the CLUSTER NODES of '127.0.0.1:30001'"),
		"message: %s", f->message);
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

/* A view without a myself line, and one with two: each names its own node. */
START_TEST(myself_missing_or_twice)
{
	struct snapshot s;
	struct check_report r;
	const struct check_finding *f;
	struct node_view *seed, *c;

	snap_from_fixture(&s, "healthy.txt");
	seed = view_of(&s, ID_A);
	entry_in(seed, ID_A)->flags &= ~(unsigned)NODE_MYSELF;
	seed->view.myself = -1;
	c = view_of(&s, ID_C);
	entry_in(c, ID_B)->flags |= NODE_MYSELF;
	evaluate(&s, &r);
	ck_assert_uint_eq(count_code(&r, "myself-not-one", CHECK_ERR), 2);
	f = find(&r, "myself-not-one", CHECK_ERR, ID_A);
	ck_assert_uint_eq(f->node_count, 1);
	ck_assert_msg(strstr(f->message, "no node is flagged myself in the CLUSTER NODES of '127.0.0.1:30001'"),
		"message: %s", f->message);
	f = find(&r, "myself-not-one", CHECK_ERR, ID_C);
	ck_assert_uint_eq(f->node_count, 1);
	ck_assert_msg(strstr(f->message, "two nodes are flagged myself: '" ID_B "' (at '127.0.0.1:30002') and '"
		ID_C "' (at '127.0.0.1:30003') in the CLUSTER NODES of '127.0.0.1:30003'"), "message: %s", f->message);
	ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_PROBLEMS);
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

START_TEST(flagged_and_unreachable_nodes)
{
	struct snapshot s;
	struct check_report r;
	const struct check_finding *f;

	snap_from_fixture(&s, "failed.txt");
	make_unreachable(&s, ID_F, "cannot reach '127.0.0.1:30006': connection refused");
	make_unreachable(&s, ID_C, "cannot reach '127.0.0.1:30003': timed out after 500 ms");
	evaluate(&s, &r);
	ck_assert_int_eq(r.summary.nodes, 6);
	ck_assert_int_eq(r.summary.reachable, 4);

	f = find(&r, "node-unreachable", CHECK_ERR, ID_C);
	ck_assert_str_eq(f->nodes[0].addr, "127.0.0.1:30003");
	assert_slots(f, "10923-16383");
	ck_assert_ptr_nonnull(strstr(f->message, "timed out after 500 ms"));
	ck_assert_ptr_nonnull(strstr(f->message, "serves slots 10923-16383"));
	find(&r, "node-unreachable", CHECK_ERR, ID_F);

	f = find(&r, "node-failed", CHECK_ERR, ID_F);
	ck_assert_uint_eq(f->node_count, 1 + 4); /* the subject, then its 4 reachable observers */
	ck_assert(has_node(f, ID_A) && has_node(f, ID_B));
	ck_assert_ptr_nonnull(strstr(f->message, "'127.0.0.1:30006' (824fe116) is flagged fail in the view of"));
	f = find(&r, "node-suspected", CHECK_WARN, ID_C);
	assert_slots(f, "10923-16383");
	f = find(&r, "node-handshake", CHECK_WARN, NULL);
	ck_assert_str_eq(f->nodes[0].addr, "127.0.0.1:30007");
	f = find(&r, "node-noaddr", CHECK_ERR, NULL);
	ck_assert_str_eq(f->nodes[0].id, "9b1f0e6d2a4c8e7f3b5a1d0c9e8f7a6b5c4d3e2f");
	/* the failed replica's disconnected link is not reported twice */
	ck_assert_uint_eq(count_code(&r, "link-disconnected", CHECK_ERR), 0);
	/* :30003's only replica failed */
	f = find(&r, "no-replica", CHECK_WARN, ID_C);
	assert_slots(f, "10923-16383");
	/* unreachable wins over every other problem */
	ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_UNREACHABLE);
	ck_assert_int_eq(check_exit_code(&r, true), SC_EXIT_UNREACHABLE);
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

/* A node that answered LOADING: a warning for a replica (it is resyncing),
 * an error for a master serving slots; neither counts as unreachable, both
 * are transient (check --wait waits for them). */
START_TEST(loading_nodes)
{
	struct snapshot s;
	struct check_report r;
	const struct check_finding *f;

	snap_from_fixture(&s, "healthy.txt");
	make_unreachable(&s, ID_F, "'127.0.0.1:30006' replied to CLUSTER NODES: LOADING Redis is loading the dataset in memory");
	view_of(&s, ID_F)->loading = true;
	evaluate(&s, &r);
	f = find(&r, "node-loading", CHECK_WARN, ID_F);
	ck_assert_ptr_nonnull(strstr(f->message, "is loading its dataset"));
	ck_assert_uint_eq(count_code(&r, "node-unreachable", CHECK_ERR), 0);
	ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_OK);
	ck_assert_int_eq(check_exit_code(&r, true), SC_EXIT_PROBLEMS);
	ck_assert(!check_report_settled(&r));
	check_report_release(&r);
	snap_free(&s);

	snap_from_fixture(&s, "healthy.txt");
	make_unreachable(&s, ID_C, "'127.0.0.1:30003' replied to CLUSTER NODES: LOADING Redis is loading the dataset in memory");
	view_of(&s, ID_C)->loading = true;
	evaluate(&s, &r);
	f = find(&r, "node-loading", CHECK_ERR, ID_C);
	assert_slots(f, "10923-16383");
	ck_assert_ptr_nonnull(strstr(f->message, "LOADING errors for slots 10923-16383"));
	ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_PROBLEMS);
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

START_TEST(disconnected_link_names_peer_and_observer)
{
	struct snapshot s;
	struct check_report r;
	const struct check_finding *f;

	snap_from_fixture(&s, "healthy.txt");
	entry_in(view_of(&s, ID_B), ID_C)->link_connected = false;
	evaluate(&s, &r);
	ck_assert_uint_eq(count_code(&r, "link-disconnected", CHECK_ERR), 1);
	f = find(&r, "link-disconnected", CHECK_ERR, ID_C);
	ck_assert_uint_eq(f->node_count, 2);
	ck_assert_str_eq(f->nodes[1].id, ID_B);
	ck_assert_ptr_nonnull(strstr(f->message, "disconnected from the cluster bus in the view of '127.0.0.1:30002'"));
	ck_assert(check_report_has(&r, "node-failed", CHECK_OK));
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

START_TEST(cluster_state_of_every_node)
{
	struct snapshot s;
	struct check_report r;
	const struct check_finding *f;

	snap_from_fixture(&s, "healthy.txt");
	snprintf(view_of(&s, ID_B)->cluster_state, 16, "fail");
	evaluate(&s, &r);
	ck_assert_uint_eq(count_code(&r, "cluster-state-fail", CHECK_ERR), 1);
	f = find(&r, "cluster-state-fail", CHECK_ERR, ID_B);
	ck_assert_uint_eq(f->node_count, 1);
	ck_assert_ptr_nonnull(strstr(f->message, "cluster_state is fail on '127.0.0.1:30002' (67ed2db8)"));
	check_report_release(&r);

	snprintf(view_of(&s, ID_C)->cluster_state, 16, "fail");
	evaluate(&s, &r);
	ck_assert_uint_eq(count_code(&r, "cluster-state-fail", CHECK_ERR), 1);
	f = find(&r, "cluster-state-fail", CHECK_ERR, ID_B);
	ck_assert_uint_eq(f->node_count, 2);
	ck_assert_str_eq(f->nodes[1].id, ID_C);
	ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_PROBLEMS);
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

START_TEST(masters_without_replicas_warn)
{
	struct snapshot s;
	struct check_report r;
	const struct check_finding *f;

	snap_from_fixture(&s, "no-replica.txt");
	evaluate(&s, &r);
	ck_assert_uint_eq(count_code(&r, "no-replica", CHECK_WARN), 3);
	f = find(&r, "no-replica", CHECK_WARN, ID_B);
	assert_slots(f, "5461-10922");
	/* full coverage required while a master has no replica */
	f = find(&r, "setting-full-coverage", CHECK_WARN, NULL);
	ck_assert_uint_eq(f->node_count, 3);
	ck_assert_ptr_nonnull(strstr(f->message, "cluster-require-full-coverage is yes"));
	ck_assert_uint_eq(check_report_count(&r, CHECK_ERR), 0);
	ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_OK);
	ck_assert_int_eq(check_exit_code(&r, true), SC_EXIT_PROBLEMS);
	ck_assert(check_report_settled(&r));
	check_report_release(&r);

	for (size_t i = 0; i < s.count; i++)
		s.nodes[i].require_full_coverage = 0;
	evaluate(&s, &r);
	ck_assert(check_report_has(&r, "setting-full-coverage", CHECK_OK));
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

START_TEST(settings_out_of_range_or_disagreeing)
{
	struct snapshot s;
	struct check_report r;
	const struct check_finding *f;

	snap_from_fixture(&s, "healthy.txt");
	for (size_t i = 0; i < s.count; i++)
		s.nodes[i].node_timeout_ms = 2000;
	view_of(&s, ID_C)->migration_barrier = 0;
	evaluate(&s, &r);
	f = find(&r, "setting-node-timeout", CHECK_WARN, NULL);
	ck_assert_uint_eq(f->node_count, 6);
	ck_assert_ptr_nonnull(strstr(f->message, "cluster-node-timeout is 2000 ms"));
	ck_assert_uint_eq(count_code(&r, "setting-migration-barrier", CHECK_WARN), 2);
	f = find(&r, "setting-migration-barrier", CHECK_WARN, ID_C);
	ck_assert_uint_eq(f->node_count, 1);
	ck_assert_ptr_nonnull(strstr(f->message, "cluster-migration-barrier is 0 on '127.0.0.1:30003'"));
	for (size_t i = 0; i < r.count; i++)
		if (strcmp(r.findings[i].code, "setting-migration-barrier") == 0 &&
		    strstr(r.findings[i].message, "disagree"))
			ck_assert_str_eq(r.findings[i].nodes[0].id, ID_C);
	ck_assert(check_report_has(&r, "setting-full-coverage", CHECK_OK));
	ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_OK);
	ck_assert_int_eq(check_exit_code(&r, true), SC_EXIT_PROBLEMS);
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

START_TEST(exit_rule_and_settled)
{
	struct check_report r = { 0 };

	ck_assert_int_eq(check_exit_code(&r, true), SC_EXIT_OK);
	ck_assert_ptr_nonnull(check_report_add(&r, CHECK_WARN, "no-replica", "w"));
	ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_OK);
	ck_assert_int_eq(check_exit_code(&r, true), SC_EXIT_PROBLEMS);
	ck_assert(check_report_settled(&r));
	ck_assert_ptr_nonnull(check_report_add(&r, CHECK_ERR, "stray-keys", "e"));
	ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_PROBLEMS);
	ck_assert(check_report_settled(&r)); /* stray keys do not go away by waiting */
	ck_assert_ptr_nonnull(check_report_add(&r, CHECK_ERR, "views-disagree", "e"));
	ck_assert(!check_report_settled(&r));
	ck_assert_ptr_nonnull(check_report_add(&r, CHECK_OK, "node-unreachable", "ok"));
	ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_PROBLEMS);
	check_report_drop_ok(&r, "node-unreachable");
	ck_assert_uint_eq(r.count, 3);
	ck_assert_ptr_nonnull(check_report_add(&r, CHECK_ERR, "node-unreachable", "e"));
	ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_UNREACHABLE);
	check_report_release(&r);
}
END_TEST

START_TEST(no_reachable_node)
{
	struct snapshot s;
	struct check_report r;

	snap_from_fixture(&s, "healthy.txt");
	for (size_t i = 0; i < s.count; i++)
		make_unreachable(&s, s.nodes[i].id, "cannot reach: connection refused");
	s.reference = -1;
	evaluate(&s, &r);
	ck_assert_uint_eq(count_code(&r, "node-unreachable", CHECK_ERR), 6);
	ck_assert_uint_eq(r.count, 6);
	ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_UNREACHABLE);
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

START_TEST(json_document)
{
	struct snapshot s;
	struct check_report r;
	struct sc_error err;
	cJSON *doc, *findings, *first;
	char *text;
	int open_seen = 0;

	snap_from_fixture(&s, "open-slot.txt");
	evaluate(&s, &r);
	text = check_report_json(&r, "127.0.0.1:30001", check_exit_code(&r, false), false, &err);
	ck_assert_ptr_nonnull(text);
	doc = cJSON_Parse(text);
	ck_assert_ptr_nonnull(doc);
	ck_assert_str_eq(cJSON_GetObjectItem(doc, "format_version")->valuestring, CHECK_FORMAT_VERSION);
	ck_assert_str_eq(cJSON_GetObjectItem(doc, "seed")->valuestring, "127.0.0.1:30001");
	ck_assert_int_eq(cJSON_GetObjectItem(doc, "exit_code")->valueint, 1);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(doc, "settled")));
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "cluster"), "masters")->valueint, 3);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "cluster"), "keys")));
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "counts"), "err")->valueint, 2);
	findings = cJSON_GetObjectItem(doc, "findings");
	ck_assert_int_eq(cJSON_GetArraySize(findings), (int)r.count);
	cJSON_ArrayForEach(first, findings) {
		if (strcmp(cJSON_GetObjectItem(first, "code")->valuestring, "open-slot") != 0)
			continue;
		open_seen++;
		ck_assert_str_eq(cJSON_GetObjectItem(first, "severity")->valuestring, "err");
		ck_assert_str_eq(cJSON_GetObjectItem(first, "slots")->valuestring, "5460");
		ck_assert_int_eq(cJSON_GetObjectItem(first, "slot_count")->valueint, 1);
		ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(first, "nodes")), 2);
		ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(first, "nodes"), 0), "address"));
		ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(first, "message")->valuestring, "5460"));
	}
	ck_assert_int_eq(open_seen, 2);
	cJSON_Delete(doc);
	free(text);
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

START_TEST(code_table_is_complete)
{
	size_t n;
	const struct check_code_info *codes = check_codes(&n);

	ck_assert_uint_ge(n, 14);
	for (size_t i = 0; i < n; i++) {
		ck_assert_ptr_eq(check_code_lookup(codes[i].code), &codes[i]);
		ck_assert(codes[i].meaning && *codes[i].meaning);
	}
	ck_assert_ptr_null(check_code_lookup("no-such-code"));
}
END_TEST

/* Every finding code is documented under .SS check, as man(7) spells it. */
/* A replica its master lists online but silent for 10 s or more is warned
 * about, naming the master, the replica and the offsets (the state Valkey
 * 9.1.2 left a target's replica in after one atomic job of ~800+ ranges);
 * one that acknowledged within the bound, or is still syncing, is not. */
START_TEST(silent_replica_is_warned_about)
{
	struct snapshot s;
	struct check_report r;
	const struct check_finding *f;
	struct node_view *b = NULL;

	snap_from_fixture(&s, "healthy.txt");
	for (size_t i = 0; i < s.count; i++)
		if (strcmp(s.nodes[i].id, ID_B) == 0)
			b = &s.nodes[i];
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(info_replicas("# Replication\r\nrole:master\r\nconnected_slaves:2\r\n"
		"slave0:ip=127.0.0.1,port=30005,state=online,offset=0,lag=14\r\n"
		"slave1:ip=127.0.0.9,port=30009,state=wait_bgsave,offset=0,lag=99\r\n", b->replicas,
		INFO_REPLICAS_MAX), 2);
	b->replica_count = 2;
	b->repl_offset = 381175;
	evaluate(&s, &r);
	ck_assert_uint_eq(count_code(&r, "replica-not-acknowledging", CHECK_WARN), 1);
	f = find(&r, "replica-not-acknowledging", CHECK_WARN, ID_B);
	ck_assert_uint_eq(f->node_count, 2);
	ck_assert_str_eq(f->nodes[1].id, ID_E);
	ck_assert_msg(strstr(f->message, "nothing for 14 s (offset 0 of 381175)"), "%s", f->message);
	ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_OK);
	check_report_release(&r);

	b->replicas[0].lag_s = CHECK_REPLICA_SILENT_S - 1;
	evaluate(&s, &r);
	ck_assert(check_report_has(&r, "replica-not-acknowledging", CHECK_OK));
	ck_assert_uint_eq(check_report_count(&r, CHECK_WARN), 0);
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

START_TEST(codes_are_in_the_man_page)
{
	size_t n, len;
	const struct check_code_info *codes = check_codes(&n);
	char *man = test_read_file("SLOTCTL_SOURCE_ROOT", "man/slotctl.1", &len);
	char *section = strstr(man, "\n.SS check\n");
	char *end;

	ck_assert_ptr_nonnull(section);
	end = strstr(section + 1, "\n.SS ");
	ck_assert_ptr_nonnull(end);
	*end = '\0';
	for (size_t i = 0; i < n; i++) {
		char escaped[128], *out = escaped;

		for (const char *c = codes[i].code; *c; c++) {
			if (*c == '-')
				*out++ = '\\';
			*out++ = *c;
		}
		*out = '\0';
		ck_assert_msg(strstr(section, escaped) != NULL, "code %s is not under .SS check", codes[i].code);
	}
	free(man);
}
END_TEST

/* ---- the key rule (check_rules_keys.c) ------------------------------- */

/* Probe results for the masters of s (snapshot order): every count unknown,
 * DBSIZE 0, answered. Free with free_counts. */
static struct check_keys_count *masters_counts(const struct snapshot *s, size_t *n)
{
	struct check_keys_count *p = calloc(s->count, sizeof(*p));

	ck_assert_ptr_nonnull(p);
	*n = 0;
	for (size_t i = 0; i < s->count; i++) {
		const struct node_view *v = &s->nodes[i];

		if (!node_is_master(&v->view.nodes[v->view.myself]))
			continue;
		p[*n].node = i;
		p[*n].answered = true;
		(*n)++;
	}
	return p;
}

static void free_counts(struct check_keys_count *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		check_keys_count_release(&p[i]);
	free(p);
}

/* Records keys as pc's count of slot. */
static void set_count(struct check_keys_count *pc, int slot, long long keys)
{
	ck_assert_int_eq(check_keys_count_set(pc, slot, keys), 0);
}

/* The probe result of master id. */
static struct check_keys_count *counts_of(const struct snapshot *s, struct check_keys_count *p, size_t n,
	const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s->nodes[p[i].node].id, id) == 0)
			return &p[i];
	ck_abort_msg("no probe result for %s", id);
	return NULL;
}

/* What io does: count the slots check_keys_slots names, with keys[slot]
 * keys on the node (DBSIZE their total), then the rest when DBSIZE has more. */
static void fake_probe(const struct snapshot *s, const struct check_report *r, struct check_keys_count *pc,
	enum check_keys mode, const long long *keys)
{
	struct slotset set;

	check_keys_slots(s, r, pc->node, mode, &set);
	pc->dbsize = 0;
	for (int slot = 0; slot < SC_SLOTS; slot++) {
		pc->dbsize += keys[slot];
		if (slotset_has(&set, slot))
			set_count(pc, slot, keys[slot]);
	}
	if (check_keys_unlocated(s, pc, mode) > 0)
		for (int slot = 0; slot < SC_SLOTS; slot++)
			if (check_keys_count_of(pc, slot) < 0)
				set_count(pc, slot, keys[slot]);
}

/* A whole round: the rules, then the probe of A, B and C holding keys[0..2]
 * judged into r (caller releases it). */
static void judge_keys(const struct snapshot *s, struct check_report *r, long long keys[3][SC_SLOTS],
	enum check_keys mode)
{
	const char *ids[3] = { ID_A, ID_B, ID_C };
	struct check_keys_count *p;
	struct sc_error err;
	size_t n;

	evaluate(s, r);
	p = masters_counts(s, &n);
	ck_assert_uint_eq(n, 3);
	for (int m = 0; m < 3; m++)
		fake_probe(s, r, counts_of(s, p, n, ids[m]), mode, keys[m]);
	ck_assert_int_eq(check_keys_judge(s, p, n, mode, r, &err), 0);
	free_counts(p, n);
}

START_TEST(key_probe_counts_own_open_and_suspicious_slots)
{
	struct snapshot s;
	struct check_report r;
	struct slotset set;
	char buf[128];

	snap_from_fixture(&s, "open-slot.txt");
	evaluate(&s, &r);
	/* B owns 5461-10922 and imports 5460, which is suspicious too */
	check_keys_slots(&s, &r, (size_t)(view_of(&s, ID_B) - s.nodes), CHECK_KEYS_STRAY, &set);
	slotset_format(&set, buf, sizeof(buf));
	ck_assert_str_eq(buf, "5460-10922");
	check_keys_slots(&s, &r, (size_t)(view_of(&s, ID_C) - s.nodes), CHECK_KEYS_STRAY, &set);
	slotset_format(&set, buf, sizeof(buf));
	ck_assert_str_eq(buf, "5460,10923-16383");
	check_keys_slots(&s, &r, (size_t)(view_of(&s, ID_C) - s.nodes), CHECK_KEYS_SUSPICIOUS, &set);
	slotset_format(&set, buf, sizeof(buf));
	ck_assert_str_eq(buf, "5460");
	check_keys_slots(&s, &r, 0, CHECK_KEYS_DEEP, &set);
	ck_assert_int_eq(slotset_count(&set), SC_SLOTS);
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

/* 8 keys of B's slot 6000 on A, in a cluster where nothing else looks wrong:
 * the default probe finds them through A's DBSIZE, names A, the slot and
 * the count; the suspicious-slots probe does not look there. */
START_TEST(key_probe_finds_stray_keys_by_dbsize)
{
	static long long keys[3][SC_SLOTS];
	struct snapshot s;
	struct check_report r;
	const struct check_finding *f;

	snap_from_fixture(&s, "healthy.txt");
	memset(keys, 0, sizeof(keys));
	keys[0][100] = 40;
	keys[1][6000] = 30;
	keys[2][12000] = 20;
	keys[0][6000] = 8;          /* stray: slot 6000 is B's */
	for (enum check_keys mode = CHECK_KEYS_STRAY; mode <= CHECK_KEYS_SUSPICIOUS; mode++) {
		judge_keys(&s, &r, keys, mode);
		ck_assert_int_eq(r.summary.keys, 98);
		if (mode == CHECK_KEYS_SUSPICIOUS) {
			ck_assert(check_report_has(&r, "stray-keys", CHECK_OK));
			ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_OK);
		} else {
			f = find(&r, "stray-keys", CHECK_ERR, ID_A);
			assert_slots(f, "6000");
			ck_assert_msg(strstr(f->message, "'127.0.0.1:30001' (e7d1eecc) holds 8 keys in slot 6000 "
				"that it does not own") != NULL, "%s", f->message);
			ck_assert_ptr_nonnull(strstr(f->message, "slotctl fix"));
			ck_assert_uint_eq(count_code(&r, "stray-keys", CHECK_ERR), 1);
			ck_assert(!check_report_has(&r, "stray-keys", CHECK_OK));
			ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_PROBLEMS);
		}
		check_report_release(&r);
	}
	snap_free(&s);
}
END_TEST

/* Keys of an open slot on both sides of the migration are not stray; keys
 * of it on a third master are. */
START_TEST(key_probe_leaves_open_slots_to_the_open_slot_rule)
{
	static long long keys[3][SC_SLOTS];
	struct snapshot s;
	struct check_report r;
	const struct check_finding *f;

	snap_from_fixture(&s, "open-slot.txt");
	memset(keys, 0, sizeof(keys));
	keys[0][5460] = 5;
	keys[1][5460] = 7;          /* B imports 5460: moved keys */
	judge_keys(&s, &r, keys, CHECK_KEYS_STRAY);
	ck_assert(check_report_has(&r, "stray-keys", CHECK_OK));
	ck_assert_uint_eq(count_code(&r, "stray-keys", CHECK_ERR) + count_code(&r, "stray-keys", CHECK_WARN), 0);
	check_report_release(&r);

	keys[2][5460] = 2;
	judge_keys(&s, &r, keys, CHECK_KEYS_STRAY);
	f = find(&r, "stray-keys", CHECK_ERR, ID_C);
	assert_slots(f, "5460");
	ck_assert_ptr_nonnull(strstr(f->message, "holds 2 keys in slot 5460"));
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

/* DBSIZE is compared only when it can be: every slot counted, or the counted
 * slots holding every key, say nothing is left to locate. */
START_TEST(key_probe_locates_only_what_dbsize_says_is_missing)
{
	struct snapshot s;
	struct check_report r;
	struct check_keys_count *p, *a;
	size_t n;

	snap_from_fixture(&s, "healthy.txt");
	evaluate(&s, &r);
	p = masters_counts(&s, &n);
	a = counts_of(&s, p, n, ID_A);
	a->dbsize = 10;
	set_count(a, 0, 4);
	set_count(a, 1, 6);
	ck_assert_int_eq(check_keys_unlocated(&s, a, CHECK_KEYS_STRAY), 0);
	a->dbsize = 18;
	ck_assert_int_eq(check_keys_unlocated(&s, a, CHECK_KEYS_STRAY), 8);
	/* A owns slots: without them counted, its DBSIZE says nothing */
	ck_assert_int_eq(check_keys_unlocated(&s, a, CHECK_KEYS_SUSPICIOUS), 0);
	for (int slot = 0; slot < SC_SLOTS; slot++)
		if (check_keys_count_of(a, slot) < 0)
			set_count(a, slot, 0);
	ck_assert_int_eq(check_keys_unlocated(&s, a, CHECK_KEYS_STRAY), 0);
	a->answered = false;
	ck_assert_int_eq(check_keys_unlocated(&s, a, CHECK_KEYS_STRAY), 0);
	free_counts(p, n);
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

/* With deep, the message names the keys it was given, unprintable bytes
 * written '?'; a master that stopped answering is unreachable; another
 * failure to count is a warning; the key total needs every owner. */
START_TEST(key_probe_names_keys_and_failures)
{
	struct snapshot s;
	struct check_report r;
	struct check_keys_count *p, *b;
	const struct check_finding *f;
	struct sc_error err;
	size_t n;

	snap_from_fixture(&s, "healthy.txt");
	evaluate(&s, &r);
	p = masters_counts(&s, &n);
	for (size_t i = 0; i < n; i++)
		for (int slot = 0; slot < SC_SLOTS; slot++)
			set_count(&p[i], slot, 0);
	b = counts_of(&s, p, n, ID_B);
	set_count(b, 42, 3);
	b->dbsize = 3;
	memcpy(b->names[0], "user:1", 6);
	b->name_lens[0] = 6;
	memcpy(b->names[1], "bad\nname", 8);
	b->name_lens[1] = 8;
	b->named = 2;
	counts_of(&s, p, n, ID_C)->answered = false;
	sc_error_set(&counts_of(&s, p, n, ID_C)->error, SC_EXIT_UNREACHABLE, "no reply from '127.0.0.1:30003'");
	counts_of(&s, p, n, ID_A)->answered = false;
	sc_error_set(&counts_of(&s, p, n, ID_A)->error, SC_EXIT_PROBLEMS, "'127.0.0.1:30001' replied to EXEC: ERR x");
	ck_assert_int_eq(check_keys_judge(&s, p, n, CHECK_KEYS_DEEP, &r, &err), 0);
	f = find(&r, "stray-keys", CHECK_ERR, ID_B);
	ck_assert_msg(strstr(f->message, "holds 3 keys in slot 42 that it does not own: 'user:1', 'bad?name' "
		"and 1 more") != NULL, "%s", f->message);
	f = find(&r, "node-unreachable", CHECK_ERR, ID_C);
	ck_assert_str_eq(f->message, "no reply from '127.0.0.1:30003'");
	ck_assert(!check_report_has(&r, "node-unreachable", CHECK_OK));
	f = find(&r, "stray-keys", CHECK_WARN, ID_A);
	ck_assert_ptr_nonnull(strstr(f->message, "could not count keys on '127.0.0.1:30001' (e7d1eecc): "));
	ck_assert_int_eq(r.summary.keys, -1);
	ck_assert_int_eq(check_exit_code(&r, false), SC_EXIT_UNREACHABLE);
	free_counts(p, n);
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

/* ---- atomic slot migrations (check_rules_atomic.c) ------------------- */

/* A job as both ends would list it: source A exports slots to B. */
static struct slotmig_job atomic_job(const char *name, enum slotmig_op op, const char *slots, const char *state,
	long long created, const char *message)
{
	struct slotmig_job j;
	struct sc_error err;

	memset(&j, 0, sizeof(j));
	snprintf(j.name, sizeof(j.name), "%s", name);
	j.op = op;
	ck_assert_int_eq(slotmig_ranges_parse(slots, strlen(slots), &j.slots, &err), 0);
	snprintf(j.source_id, sizeof(j.source_id), "%s", ID_A);
	snprintf(j.target_id, sizeof(j.target_id), "%s", ID_B);
	snprintf(j.state, sizeof(j.state), "%s", state);
	j.outcome = slotmig_outcome_of(state);
	j.create_time = created;
	snprintf(j.message, sizeof(j.message), "%s", message);
	return j;
}

static void give_jobs(struct check_keys_count *pc, const struct slotmig_job *jobs, size_t n)
{
	pc->migrations_listed = true;
	pc->migrations.jobs = calloc(n ? n : 1, sizeof(*jobs));
	ck_assert_ptr_nonnull(pc->migrations.jobs);
	memcpy(pc->migrations.jobs, jobs, n * sizeof(*jobs));
	pc->migrations.count = n;
}

#define JOB1 "1111111111111111111111111111111111111111"
#define JOB2 "2222222222222222222222222222222222222222"
#define JOB3 "3333333333333333333333333333333333333333"

/* A stages 1000 keys of slots 0-99 on B for a running job: B's counts of
 * them are not stray, the job is one transient warning (listed by both
 * ends, reported once) naming its slots, ends and state; a cancelled job
 * that a later one superseded says nothing, one nothing followed warns
 * with the server's words; a failed one after the handover was granted is
 * an error. */
START_TEST(atomic_migrations_are_reported_and_staged_keys_not_stray)
{
	static long long keys[3][SC_SLOTS];
	const char *ids[3] = { ID_A, ID_B, ID_C };
	struct snapshot s;
	struct check_report r;
	struct check_keys_count *p;
	struct sc_error err;
	const struct check_finding *f;
	size_t n;

	snap_from_fixture(&s, "healthy.txt");
	memset(keys, 0, sizeof(keys));
	keys[0][50] = 1000;
	keys[1][50] = 1000;          /* staged on B by the import */
	keys[1][9000] = 10;
	evaluate(&s, &r);
	p = masters_counts(&s, &n);
	for (int m = 0; m < 3; m++)
		fake_probe(&s, &r, counts_of(&s, p, n, ids[m]), CHECK_KEYS_DEEP, keys[m]);
	struct slotmig_job exports[] = {
		atomic_job(JOB1, SLOTMIG_EXPORT, "0-99", "snapshotting", 300, ""),
		atomic_job(JOB2, SLOTMIG_EXPORT, "0-99", "cancelled", 100, ""),
		atomic_job(JOB3, SLOTMIG_EXPORT, "200-210", "failed", 200, "Connection lost to target"),
	};
	struct slotmig_job imports[] = {
		atomic_job(JOB1, SLOTMIG_IMPORT, "0-99", "receiving-snapshot", 300, ""),
		atomic_job(JOB3, SLOTMIG_IMPORT, "200-210", "failed", 200, "OOM"),
	};
	give_jobs(counts_of(&s, p, n, ID_A), exports, 3);
	give_jobs(counts_of(&s, p, n, ID_B), imports, 2);
	ck_assert_int_eq(check_keys_judge(&s, p, n, CHECK_KEYS_DEEP, &r, &err), 0);
	ck_assert_int_eq(check_atomic_judge(&s, p, n, &r, &err), 0);
	ck_assert(check_report_has(&r, "stray-keys", CHECK_OK));
	ck_assert_uint_eq(count_code(&r, "atomic-migration", CHECK_WARN), 1);
	f = find(&r, "atomic-migration", CHECK_WARN, ID_A);
	assert_slots(f, "0-99");
	ck_assert(has_node(f, ID_B));
	ck_assert_msg(strstr(f->message, "atomic slot migration 11111111 moves slots 0-99 from '127.0.0.1:30001' "
		"(e7d1eecc) to '127.0.0.1:30002' (67ed2db8): snapshotting") != NULL, "%s", f->message);
	ck_assert(!check_report_settled(&r));
	/* the cancelled 0-99 was followed by JOB1: only JOB3 is reported, by its source's words */
	ck_assert_uint_eq(count_code(&r, "atomic-migration-failed", CHECK_WARN), 1);
	f = find(&r, "atomic-migration-failed", CHECK_WARN, ID_A);
	assert_slots(f, "200-210");
	ck_assert_msg(strstr(f->message, "33333333 of slots 200-210 from '127.0.0.1:30001' (e7d1eecc) to "
		"'127.0.0.1:30002' (67ed2db8) failed: 'Connection lost to target'") != NULL, "%s", f->message);
	check_report_release(&r);

	/* without the job B's staged keys are stray */
	slotmig_list_release(&counts_of(&s, p, n, ID_B)->migrations);
	counts_of(&s, p, n, ID_B)->migrations_listed = false;
	evaluate(&s, &r);
	ck_assert_int_eq(check_keys_judge(&s, p, n, CHECK_KEYS_DEEP, &r, &err), 0);
	assert_slots(find(&r, "stray-keys", CHECK_ERR, ID_B), "50");
	check_report_release(&r);

	/* a job failed after the handover was granted: writes may be lost */
	struct slotmig_job granted = atomic_job(JOB1, SLOTMIG_EXPORT, "0-99", "failed", 300,
		"Unpaused before migration completed (migration may have succeeded with lost writes)");
	slotmig_list_release(&counts_of(&s, p, n, ID_A)->migrations);
	give_jobs(counts_of(&s, p, n, ID_A), &granted, 1);
	evaluate(&s, &r);
	ck_assert_int_eq(check_atomic_judge(&s, p, n, &r, &err), 0);
	f = find(&r, "atomic-migration-failed", CHECK_ERR, ID_A);
	ck_assert_ptr_nonnull(strstr(f->message, "lost writes"));
	ck_assert(check_report_has(&r, "atomic-migration", CHECK_OK));
	check_report_release(&r);

	/* no master has atomic migration (Redis): nothing said at all */
	for (size_t i = 0; i < n; i++) {
		slotmig_list_release(&p[i].migrations);
		p[i].migrations_listed = false;
	}
	evaluate(&s, &r);
	ck_assert_int_eq(check_atomic_judge(&s, p, n, &r, &err), 0);
	ck_assert_uint_eq(count_code(&r, "atomic-migration", CHECK_OK), 0);
	check_report_release(&r);
	free_counts(p, n);
	snap_free(&s);
}
END_TEST

/* ---- many views (issue 18): `check` keeps every node's view; each line's
 * 2 KB slot bitmap made that N² bitmaps (692 MB at 500 masters). Views
 * parsed against the reference's slot sets share them. */

#define WIDE_MASTERS 300
#define WIDE_NODES 400 /* masters 0-299, then a replica of each of masters 0-99 */

#if defined(__SANITIZE_ADDRESS__)
size_t __sanitizer_get_current_allocated_bytes(void);
static size_t heap_in_use(void)
{
	return __sanitizer_get_current_allocated_bytes();
}
#else
#include <malloc.h>
static size_t heap_in_use(void)
{
	struct mallinfo2 m = mallinfo2();

	return m.uordblks + m.hblkhd;
}
#endif

static void wide_id(int i, char *buf)
{
	snprintf(buf, SC_NODE_ID_LEN + 1, "%040x", 0xabc000 + i);
}

static int wide_first(int m)
{
	return (int)((long long)SC_SLOTS * m / WIDE_MASTERS);
}

/* Line i of node self's CLUSTER NODES, with self's disagreement: 5 gives one
 * slot of master 0 to master 1, 7 has master 3 at another epoch, 9 lacks
 * master 4, 11 suspects master 2 failed, 13 has a slot open towards master
 * 14, 17 lost its link to master 20, 310 (a replica) follows master 11. */
static int wide_line(char *buf, size_t size, int self, int i)
{
	char id[SC_NODE_ID_LEN + 1], master[SC_NODE_ID_LEN + 1] = "-", peer[SC_NODE_ID_LEN + 1];
	char slots[96] = "";
	bool replica = i >= WIDE_MASTERS;
	int m = replica ? i - WIDE_MASTERS : i, first = wide_first(m), last = wide_first(m + 1) - 1;

	if (self == 9 && i == 4)
		return 0;
	wide_id(i, id);
	if (replica)
		wide_id(self == 310 && i == 310 ? 11 : m, master);
	else if (self == 5 && i == 0)
		snprintf(slots, sizeof(slots), " %d %d-%d", first, first + 2, last);
	else if (self == 5 && i == 1)
		snprintf(slots, sizeof(slots), " %d-%d %d", first, last, wide_first(0) + 1);
	else
		snprintf(slots, sizeof(slots), " %d-%d", first, last);
	if (self == 13 && i == 13) {
		wide_id(14, peer);
		snprintf(slots + strlen(slots), sizeof(slots) - strlen(slots), " [%d->-%s]", first, peer);
	}
	return snprintf(buf, size, "%s 127.0.0.1:%d@%d,,shard-id=%040x %s%s%s %s 0 0 %d %s%s\n",
		id, 40000 + i, 50000 + i, 0xdef000 + m, i == self ? "myself," : "",
		replica ? "slave" : "master", self == 11 && i == 2 ? ",fail?" : "", master,
		self == 7 && i == 3 ? 999 : m + 1, self == 17 && i == 20 ? "disconnected" : "connected", slots);
}

/* Node self's whole CLUSTER NODES, its lines starting at its own (as each
 * server orders its own); the caller frees it. */
static char *wide_view(int self, size_t *len)
{
	size_t cap = (size_t)WIDE_NODES * 256;
	char *text = malloc(cap);

	ck_assert_ptr_nonnull(text);
	*len = 0;
	for (int k = 0; k < WIDE_NODES; k++)
		*len += (size_t)wide_line(text + *len, cap - *len, self, (self + k) % WIDE_NODES);
	return text;
}

/* A snapshot of the WIDE_NODES views, node 0 the seed, each parsed like
 * snapshot_gather parses it: against the seed's slot sets when shared, else
 * on its own. Adds the heap the non-seed views hold to *others_heap. */
static void wide_snapshot(struct snapshot *s, char *const *texts, const size_t *lens, bool shared,
	size_t *others_heap)
{
	struct slots_index idx = { 0 };
	struct sc_error err;

	memset(s, 0, sizeof(*s));
	s->nodes = calloc(WIDE_NODES, sizeof(*s->nodes));
	ck_assert_ptr_nonnull(s->nodes);
	for (int i = 0; i < WIDE_NODES; i++) {
		struct node_view *v = &s->nodes[s->count++];
		size_t before = heap_in_use();

		snprintf(v->host, sizeof(v->host), "127.0.0.1");
		v->port = 40000 + i;
		snprintf(v->addr, sizeof(v->addr), "127.0.0.1:%d", v->port);
		wide_id(i, v->id);
		ck_assert_msg(topology_parse_shared(texts[i], lens[i], shared ? &idx : NULL, &v->view, &err) == 0,
			"%s", err.msg);
		if (i > 0)
			*others_heap += heap_in_use() - before;
		else if (shared)
			ck_assert_int_eq(slots_index_build(&idx, &v->view), 0);
		v->reachable = true;
		snprintf(v->cluster_state, sizeof(v->cluster_state), "ok");
		v->current_epoch = WIDE_MASTERS;
		v->node_timeout_ms = 15000;
		v->require_full_coverage = 1;
		v->migration_barrier = 1;
	}
	s->reference = 0;
	/* how much each view holds beyond the seed's sets */
	for (int i = 1; shared && i < WIDE_NODES; i++) {
		size_t bytes = topology_retained_bytes(&s->nodes[i].view, &idx);

		ck_assert_msg(bytes <= (size_t)WIDE_NODES * 320, "view %d holds %zu bytes (%zu a line)",
			i, bytes, bytes / WIDE_NODES);
	}
	slots_index_release(&idx);
}

/* The line for node i in the view of node v. */
static struct node *wide_entry(struct snapshot *s, int v, int i)
{
	char id[SC_NODE_ID_LEN + 1];

	wide_id(i, id);
	return entry_in(&s->nodes[v], id);
}

/* What the disagreements of wide_line come out as. */
static const char *const wide_codes[] = {
	"\"views-disagree\"", "\"roles-disagree\"", "\"open-slot\"", "\"node-suspected\"",
	"\"link-disconnected\"",
};

static char *wide_json(const struct snapshot *s)
{
	struct check_report r;
	struct sc_error err;
	char *json;

	evaluate(s, &r);
	json = check_report_json(&r, "127.0.0.1:40000", check_exit_code(&r, false), check_report_settled(&r), &err);
	ck_assert_ptr_nonnull(json);
	check_report_release(&r);
	return json;
}

START_TEST(many_views_share_slot_sets_and_find_the_same)
{
	char *texts[WIDE_NODES], *own_json, *shared_json;
	size_t lens[WIDE_NODES], own_heap = 0, shared_heap = 0;
	struct snapshot own, shared;
	struct node *line;

	for (int i = 0; i < WIDE_NODES; i++)
		texts[i] = wide_view(i, &lens[i]);
	wide_snapshot(&own, texts, lens, false, &own_heap);
	wide_snapshot(&shared, texts, lens, true, &shared_heap);
	for (int i = 0; i < WIDE_NODES; i++)
		free(texts[i]);

	/* each non-seed view: a line costs its record (248 bytes) and its aux text,
	   no 2 KB bitmap (it cost 2,074 bytes a line unshared) */
	ck_assert_msg(shared_heap / (WIDE_NODES - 1) <= (size_t)WIDE_NODES * 320,
		"a view holds %zu bytes on the heap (%zu a line)", shared_heap / (WIDE_NODES - 1),
		shared_heap / (WIDE_NODES - 1) / WIDE_NODES);
	ck_assert_msg(own_heap > 5 * shared_heap, "unshared %zu, shared %zu", own_heap, shared_heap);

	/* the same findings, word for word, on views that disagree */
	own_json = wide_json(&own);
	shared_json = wide_json(&shared);
	ck_assert_str_eq(shared_json, own_json);
	for (size_t k = 0; k < sizeof(wide_codes) / sizeof(wide_codes[0]); k++)
		ck_assert_msg(strstr(shared_json, wide_codes[k]), "no %s finding", wide_codes[k]);
	free(own_json);
	free(shared_json);

	/* a line changed in one view leaves the others' shared set alone */
	line = wide_entry(&shared, 1, 0);
	ck_assert_ptr_eq(node_slots(line), node_slots(wide_entry(&shared, 0, 0)));
	slotset_add(fake_slots(line), 16000);
	ck_assert(slotset_has(node_slots(line), 16000));
	ck_assert(!slotset_has(node_slots(wide_entry(&shared, 0, 0)), 16000));
	ck_assert(!slotset_has(node_slots(wide_entry(&shared, 2, 0)), 16000));
	snap_free(&own);
	snap_free(&shared);
}
END_TEST

/* The key probe's counts of WIDE_MASTERS masters, each counted on what
 * check_keys_slots names by default (its own slots, about 55 here, and the
 * few suspicious ones the views' disagreements name): a few 2 KB pages each
 * (about 8 KB measured), not a count per slot (128 KB a master, 38 MB for
 * these). */
START_TEST(key_counts_of_many_masters_are_small)
{
	char *texts[WIDE_NODES];
	size_t lens[WIDE_NODES], heap = 0, before, n;
	struct snapshot s;
	struct check_report r;
	struct check_keys_count *p;
	static long long keys[SC_SLOTS]; /* none */

	for (int i = 0; i < WIDE_NODES; i++)
		texts[i] = wide_view(i, &lens[i]);
	wide_snapshot(&s, texts, lens, true, &heap);
	for (int i = 0; i < WIDE_NODES; i++)
		free(texts[i]);
	evaluate(&s, &r);
	p = masters_counts(&s, &n);
	ck_assert_uint_eq(n, WIDE_MASTERS);
	before = heap_in_use();
	for (size_t i = 0; i < n; i++)
		fake_probe(&s, &r, &p[i], CHECK_KEYS_STRAY, keys);
	heap = heap_in_use() - before;
	ck_assert_msg(heap <= n * 12 * 1024, "%zu bytes a master", heap / n);
	ck_assert_int_eq(check_keys_judge(&s, p, n, CHECK_KEYS_STRAY, &r, &(struct sc_error){ 0 }), 0);
	ck_assert(check_report_has(&r, "stray-keys", CHECK_OK));
	free_counts(p, n);
	check_report_release(&r);
	snap_free(&s);
}
END_TEST

static Suite *check_suite(void)
{
	Suite *s = suite_create("check");
	TCase *tc = tcase_create("rules");

	tcase_add_test(tc, healthy_cluster_is_all_ok);
	tcase_add_test(tc, open_slot_names_node_peer_and_slot);
	tcase_add_test(tc, uncovered_slots_are_named);
	tcase_add_test(tc, disagreeing_view_names_node_and_ranges);
	tcase_add_test(tc, slot_claimed_by_two_masters);
	tcase_add_test(tc, roles_disagree_names_node_and_role);
	tcase_add_test(tc, epoch_collision_names_both_masters);
	tcase_add_test(tc, node_listed_twice);
	tcase_add_test(tc, second_node_at_seed_address);
	tcase_add_test(tc, myself_missing_or_twice);
	tcase_add_test(tc, flagged_and_unreachable_nodes);
	tcase_add_test(tc, loading_nodes);
	tcase_add_test(tc, disconnected_link_names_peer_and_observer);
	tcase_add_test(tc, cluster_state_of_every_node);
	tcase_add_test(tc, masters_without_replicas_warn);
	tcase_add_test(tc, settings_out_of_range_or_disagreeing);
	tcase_add_test(tc, exit_rule_and_settled);
	tcase_add_test(tc, no_reachable_node);
	tcase_add_test(tc, json_document);
	tcase_add_test(tc, code_table_is_complete);
	tcase_add_test(tc, codes_are_in_the_man_page);
	tcase_add_test(tc, silent_replica_is_warned_about);
	tcase_add_test(tc, key_probe_counts_own_open_and_suspicious_slots);
	tcase_add_test(tc, key_probe_finds_stray_keys_by_dbsize);
	tcase_add_test(tc, key_probe_leaves_open_slots_to_the_open_slot_rule);
	tcase_add_test(tc, key_probe_locates_only_what_dbsize_says_is_missing);
	tcase_add_test(tc, key_probe_names_keys_and_failures);
	tcase_add_test(tc, atomic_migrations_are_reported_and_staged_keys_not_stray);
	tcase_add_test(tc, many_views_share_slot_sets_and_find_the_same);
	tcase_add_test(tc, key_counts_of_many_masters_are_small);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(check_suite());
}
