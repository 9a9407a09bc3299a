/* test_topology.c: the CLUSTER NODES parser and topology model, on real
 * replies captured from redis-server 7.0.15 (tests/fixtures/nodes/, made by
 * scripts/capture-nodes-fixtures.sh) and on hand-written ones for what 7.0
 * cannot produce (7.2 aux fields, IPv6, noaddr, doubly-claimed slots). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "slotctl/core/exitcode.h"
#include "slotctl/core/topology.h"
#include "read_file.h"
#include "check_run.h"

#define M0 "272764ef9976571cf2cba0a47c7d09159dbc4abb"
#define M1 "b43bb7bd399a87de77d860503f236b3c0b2f726b"
#define M2 "d82b2204ad4322eaec747b0df7a2b34b6e8b115a"
#define R0 "3a70e22b802a680feada4a0de81f915369eb26c7"
#define R1 "c89f69b956765825894ea0c52a76ef589bdb1846"
#define R2 "c2530ce668a2eeefdb1aeb7ac620cc25ef13aa0c"

static char *read_fixture(const char *name, size_t *len)
{
	char relative[512];

	snprintf(relative, sizeof(relative), "nodes/%s", name);
	return test_read_file("SLOTCTL_FIXTURES", relative, len);
}

/* Parses a fixture that must be valid. */
static void parse_fixture(const char *name, struct topology *t)
{
	struct sc_error err = { 0 };
	size_t len;
	char *text = read_fixture(name, &len);
	int rc = topology_parse(text, len, t, &err);

	free(text);
	ck_assert_msg(rc == 0, "%s: %s", name, err.msg);
}

static const struct node *must_find(const struct topology *t, const char *id)
{
	const struct node *n = topology_find(t, id);

	ck_assert_msg(n != NULL, "node %s not found", id);
	return n;
}

static void assert_flags(const struct node *n, const char *want)
{
	char buf[128];

	node_flags_format(n->flags, buf, sizeof(buf));
	ck_assert_str_eq(buf, want);
}

START_TEST(healthy_master_view)
{
	struct topology t;
	const struct node *n;
	char buf[64];

	parse_fixture("healthy-3m3r.txt", &t);
	ck_assert_uint_eq(t.count, 6);
	ck_assert_int_eq(t.myself, 3);
	n = &t.nodes[3];
	ck_assert_str_eq(n->id, M0);
	ck_assert_str_eq(n->ip, "127.0.0.1");
	ck_assert_int_eq(n->port, 51379);
	ck_assert_int_eq(n->cport, 39341);
	ck_assert_str_eq(n->hostname, "");
	ck_assert_ptr_null(n->aux);
	ck_assert_uint_eq(n->flags, NODE_MYSELF | NODE_MASTER);
	ck_assert_str_eq(n->master_id, "");
	ck_assert_int_eq(n->ping_sent, 0);
	ck_assert_int_eq(n->pong_recv, 1795458575000LL);
	ck_assert_uint_eq(n->config_epoch, 1);
	ck_assert(n->link_connected);
	ck_assert(node_is_master(n));
	slotset_format(node_slots(n), buf, sizeof(buf));
	ck_assert_str_eq(buf, "0-5460");
	ck_assert_uint_eq(n->open_count, 0);

	n = must_find(&t, R0);
	ck_assert_uint_eq(n->flags, NODE_REPLICA);
	ck_assert_str_eq(n->master_id, M0);
	ck_assert(!node_is_master(n));
	ck_assert_int_eq(slotset_count(node_slots(n)), 0);
	ck_assert_int_eq(n->pong_recv, 1795458575212LL);

	n = must_find(&t, R2);
	ck_assert_uint_eq(n->flags, NODE_REPLICA | NODE_NOFAILOVER);
	assert_flags(n, "slave,nofailover");
	ck_assert_str_eq(n->master_id, M2);
	ck_assert_uint_eq(n->config_epoch, 3);

	n = must_find(&t, M2);
	slotset_format(node_slots(n), buf, sizeof(buf));
	ck_assert_str_eq(buf, "10923-16383");
	topology_release(&t);
}
END_TEST

START_TEST(healthy_replica_view)
{
	struct topology t;

	parse_fixture("healthy-3m3r-replica-view.txt", &t);
	ck_assert_uint_eq(t.count, 6);
	ck_assert_int_ge(t.myself, 0);
	ck_assert_str_eq(t.nodes[t.myself].id, R0);
	assert_flags(&t.nodes[t.myself], "myself,slave");
	ck_assert_str_eq(t.nodes[t.myself].master_id, M0);
	topology_release(&t);
}
END_TEST

START_TEST(failed_replica)
{
	struct topology t;
	const struct node *n;

	parse_fixture("replica-pfail.txt", &t);
	n = must_find(&t, R2);
	ck_assert_uint_eq(n->flags, NODE_REPLICA | NODE_PFAIL | NODE_NOFAILOVER);
	assert_flags(n, "slave,fail?,nofailover");
	ck_assert(!n->link_connected);
	ck_assert_int_gt(n->ping_sent, 0);
	ck_assert_str_eq(n->hostname, "node-5.example.test");
	topology_release(&t);

	parse_fixture("replica-fail.txt", &t);
	n = must_find(&t, R2);
	ck_assert_uint_eq(n->flags, NODE_REPLICA | NODE_FAIL | NODE_NOFAILOVER);
	assert_flags(n, "slave,fail,nofailover");
	ck_assert(!n->link_connected);
	ck_assert(must_find(&t, M0)->link_connected);
	topology_release(&t);
}
END_TEST

START_TEST(open_slots)
{
	struct topology t;
	const struct node *n;

	parse_fixture("open-slots-migrating.txt", &t);
	n = &t.nodes[t.myself];
	ck_assert_str_eq(n->id, M0);
	ck_assert_int_eq(slotset_count(node_slots(n)), 5461); /* markers are not claims */
	ck_assert_uint_eq(n->open_count, 2);
	ck_assert_int_eq(n->open[0].slot, 100);
	ck_assert(!n->open[0].importing);
	ck_assert_str_eq(n->open[0].peer, M1);
	ck_assert_int_eq(n->open[1].slot, 101);
	topology_release(&t);

	parse_fixture("open-slots-importing.txt", &t);
	n = &t.nodes[t.myself];
	ck_assert_str_eq(n->id, M1);
	ck_assert_uint_eq(n->open_count, 2);
	ck_assert_int_eq(n->open[0].slot, 100);
	ck_assert(n->open[0].importing);
	ck_assert_str_eq(n->open[0].peer, M0);
	ck_assert(n->open[1].importing);
	ck_assert_int_eq(n->open[1].slot, 101);
	topology_release(&t);
}
END_TEST

START_TEST(hostnames)
{
	struct topology t;
	const char *ids[] = { M0, M1, M2, R0, R1, R2 };

	parse_fixture("hostnames.txt", &t);
	for (int i = 0; i < 6; i++) {
		const struct node *n = must_find(&t, ids[i]);
		char want[64];

		snprintf(want, sizeof(want), "node-%d.example.test", i);
		ck_assert_str_eq(n->hostname, want);
		ck_assert_ptr_null(n->aux);
		ck_assert_str_eq(n->ip, "127.0.0.1");
		ck_assert_int_gt(n->cport, 0);
	}
	ck_assert_int_eq(must_find(&t, M0)->port, 51379);
	ck_assert_int_eq(must_find(&t, M0)->cport, 39341);
	topology_release(&t);
}
END_TEST

START_TEST(handshake_and_fresh_node)
{
	struct topology t;
	const struct node *n;

	parse_fixture("handshake.txt", &t);
	ck_assert_uint_eq(t.count, 7);
	n = NULL;
	for (size_t i = 0; i < t.count; i++)
		if (t.nodes[i].flags & NODE_HANDSHAKE)
			n = &t.nodes[i];
	ck_assert_ptr_nonnull(n);
	ck_assert_uint_eq(n->flags, NODE_HANDSHAKE);
	assert_flags(n, "handshake");
	ck_assert(!n->link_connected);
	ck_assert_uint_eq(n->config_epoch, 0);
	ck_assert(!node_is_master(n));
	topology_release(&t);

	parse_fixture("fresh-node.txt", &t);
	ck_assert_uint_eq(t.count, 1);
	ck_assert_int_eq(t.myself, 0);
	n = &t.nodes[0];
	ck_assert_str_eq(n->ip, ""); /* a node that has not met others yet */
	ck_assert_int_gt(n->port, 0);
	ck_assert_int_gt(n->cport, 0);
	ck_assert_int_eq(slotset_count(node_slots(n)), 0);
	topology_release(&t);
}
END_TEST

START_TEST(aux_fields)
{
	struct topology t;
	const struct node *n;

	parse_fixture("aux-fields-7.2-handwritten.txt", &t);
	n = must_find(&t, M1);
	ck_assert_str_eq(n->ip, "10.0.0.2");
	ck_assert_int_eq(n->port, 6379);
	ck_assert_int_eq(n->cport, 16379);
	ck_assert_str_eq(n->hostname, "node-1.example.test");
	ck_assert_str_eq(n->aux, "tls-port=0,shard-id=1d2c3b4a59687766554433221100ffeeddccbbaa");
	n = must_find(&t, M2); /* empty hostname before the aux fields */
	ck_assert_str_eq(n->hostname, "");
	ck_assert_str_eq(n->aux, "tls-port=0,shard-id=aa00bb11cc22dd33ee44ff5566778899aabbccdd");
	n = must_find(&t, R0);
	ck_assert_str_eq(n->hostname, "node-4.example.test");
	ck_assert_str_eq(n->aux, "tls-port=0,nodename=replica-a,shard-id=9f3e6b1a2c4d5e6f708192a3b4c5d6e7f8091a2b");
	ck_assert_str_eq(n->master_id, M0);
	topology_release(&t);

	/* no hostname slot at all: the first element after the address is aux */
	{
		const char *line = M0 " 10.0.0.1:6379@16379,shard-id=" M1 " master - 0 0 1 connected 0";
		struct sc_error err = { 0 };

		ck_assert_int_eq(topology_parse(line, strlen(line), &t, &err), 0);
		ck_assert_str_eq(t.nodes[0].hostname, "");
		ck_assert_str_eq(t.nodes[0].aux, "shard-id=" M1);
		topology_release(&t);
	}
}
END_TEST

START_TEST(odd_addresses_and_flags)
{
	struct topology t;
	const struct node *n;

	parse_fixture("odd-addresses-handwritten.txt", &t);
	ck_assert_uint_eq(t.count, 5);
	n = must_find(&t, M0);
	ck_assert_str_eq(n->ip, "::1");
	ck_assert_int_eq(n->port, 7000);
	ck_assert_int_eq(n->cport, 17000);
	n = must_find(&t, M1);
	ck_assert_str_eq(n->ip, "2001:db8::7");
	ck_assert_int_eq(n->port, 7001);
	ck_assert_str_eq(n->hostname, "node-1.example.test");
	n = must_find(&t, R0);
	ck_assert_str_eq(n->ip, "");
	ck_assert_int_eq(n->port, 0);
	ck_assert_int_eq(n->cport, 0);
	ck_assert_uint_eq(n->flags, NODE_REPLICA | NODE_NOADDR);
	assert_flags(n, "slave,noaddr");
	n = must_find(&t, R1); /* old format without @cport; "replica" spelling; unknown flag */
	ck_assert_str_eq(n->ip, "10.0.0.9");
	ck_assert_int_eq(n->port, 7003);
	ck_assert_int_eq(n->cport, 17003);
	ck_assert_uint_eq(n->flags, NODE_REPLICA | NODE_NOFAILOVER);
	n = must_find(&t, R2);
	ck_assert_uint_eq(n->flags, NODE_NOFLAGS);
	assert_flags(n, "noflags");
	ck_assert(!node_is_master(n));
	ck_assert_ptr_eq(topology_find_addr(&t, "::1", 7000), must_find(&t, M0));
	ck_assert_ptr_eq(topology_find_addr(&t, "2001:db8::7", 7001), must_find(&t, M1));
	ck_assert_ptr_null(topology_find_addr(&t, "::1", 7001));
	topology_release(&t);
}
END_TEST

START_TEST(line_endings_and_empty)
{
	struct sc_error err = { 0 };
	struct topology lf, crlf, t;
	size_t len, n = 0;
	char *text = read_fixture("healthy-3m3r.txt", &len);
	char *dos = malloc(2 * len + 8);

	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n')
			dos[n++] = '\r';
		dos[n++] = text[i];
	}
	memcpy(dos + n, "\r\n\n", 3);
	n += 3;
	ck_assert_int_eq(topology_parse(text, len, &lf, &err), 0);
	ck_assert_int_eq(topology_parse(dos, n, &crlf, &err), 0);
	ck_assert_uint_eq(crlf.count, lf.count);
	ck_assert_int_eq(crlf.myself, lf.myself);
	for (size_t i = 0; i < lf.count; i++) {
		ck_assert_str_eq(crlf.nodes[i].id, lf.nodes[i].id);
		ck_assert(crlf.nodes[i].link_connected);
		ck_assert(slotset_equal(node_slots(&crlf.nodes[i]), node_slots(&lf.nodes[i])));
	}
	topology_release(&lf);
	topology_release(&crlf);

	/* the length bounds the parse: only the first line, without its newline */
	ck_assert_int_eq(topology_parse(text, strcspn(text, "\n"), &t, &err), 0);
	ck_assert_uint_eq(t.count, 1);
	ck_assert_int_eq(t.myself, -1);
	topology_release(&t);

	ck_assert_int_eq(topology_parse("", 0, &t, &err), 0);
	ck_assert_uint_eq(t.count, 0);
	ck_assert_int_eq(t.myself, -1);
	topology_release(&t);
	ck_assert_int_eq(topology_parse("\r\n\n", 3, &t, &err), 0);
	ck_assert_uint_eq(t.count, 0);
	topology_release(&t);
	free(text);
	free(dos);
}
END_TEST

START_TEST(owner_map)
{
	static int owner[SC_SLOTS];
	struct topology t;

	parse_fixture("healthy-3m3r.txt", &t);
	topology_owner_map(&t, owner);
	for (int slot = 0; slot < SC_SLOTS; slot++)
		ck_assert_int_ge(owner[slot], 0);
	ck_assert_str_eq(t.nodes[owner[0]].id, M0);
	ck_assert_str_eq(t.nodes[owner[5460]].id, M0);
	ck_assert_str_eq(t.nodes[owner[5461]].id, M1);
	ck_assert_str_eq(t.nodes[owner[16383]].id, M2);
	topology_release(&t);

	parse_fixture("double-claim-handwritten.txt", &t);
	topology_owner_map(&t, owner);
	ck_assert_int_eq(owner[0], 0);
	ck_assert_int_eq(owner[99], 0);
	for (int slot = 100; slot <= 150; slot++)
		ck_assert_int_eq(owner[slot], -2);
	ck_assert_int_eq(owner[151], 0);
	ck_assert_int_eq(owner[200], 0);
	ck_assert_int_eq(owner[201], -1);
	ck_assert_int_eq(owner[5000], -2);
	ck_assert_int_eq(owner[5001], -1);
	ck_assert_int_eq(owner[16383], 1);
	/* each line keeps what it claims */
	ck_assert(slotset_has(node_slots(&t.nodes[0]), 120));
	ck_assert(slotset_has(node_slots(&t.nodes[1]), 120));
	topology_release(&t);
}
END_TEST

START_TEST(lookups)
{
	struct sc_error err = { 0 };
	struct topology t;

	parse_fixture("healthy-3m3r.txt", &t);
	ck_assert_ptr_eq(topology_find_prefix(&t, "2727", &err), must_find(&t, M0));
	ck_assert_ptr_eq(topology_find_prefix(&t, M1, &err), must_find(&t, M1));
	ck_assert_ptr_null(topology_find(&t, "2727"));
	ck_assert_ptr_eq(topology_find_addr(&t, "127.0.0.1", 41739), must_find(&t, M1));
	ck_assert_ptr_null(topology_find_addr(&t, "127.0.0.2", 41739));

	ck_assert_ptr_null(topology_find_prefix(&t, "c", &err));
	ck_assert_int_eq(err.code, SC_EXIT_USAGE);
	ck_assert_msg(strstr(err.msg, "'c' is ambiguous") && strstr(err.msg, R1) && strstr(err.msg, R2),
		"message: %s", err.msg);
	ck_assert_ptr_null(topology_find_prefix(&t, "ffff", &err));
	ck_assert_int_eq(err.code, SC_EXIT_USAGE);
	ck_assert_str_eq(err.msg, "no node id starts with 'ffff'");
	ck_assert_ptr_null(topology_find_prefix(&t, "", &err));
	ck_assert_int_eq(err.code, SC_EXIT_USAGE);
	topology_release(&t);
}
END_TEST

/* Every real view, and every handwritten one a real cluster could give, has
 * no defect. */
START_TEST(real_views_are_sound)
{
	static const char *const sound[] = {
		"healthy-3m3r.txt", "healthy-3m3r-replica-view.txt", "open-slots-migrating.txt",
		"open-slots-importing.txt", "hostnames.txt", "handshake.txt", "replica-pfail.txt",
		"replica-fail.txt", "fresh-node.txt", "aux-fields-7.2-handwritten.txt",
		"odd-addresses-handwritten.txt", "double-claim-handwritten.txt",
	};
	struct sc_error err = { 0 };

	for (size_t i = 0; i < sizeof(sound) / sizeof(sound[0]); i++) {
		struct topology t;

		parse_fixture(sound[i], &t);
		ck_assert_msg(topology_defects(&t, NULL, 0) == 0, "%s has a defect", sound[i]);
		ck_assert_int_eq(topology_require_sound(&t, &err), 0);
		topology_release(&t);
	}
}
END_TEST

/* One impossible view: its only defect, as described, and the planner's refusal. */
static void assert_one_defect(const char *name, enum topology_defect_kind kind, size_t a, size_t b,
	const char *described)
{
	struct topology_defect d[4];
	struct sc_error err = { 0 };
	struct topology t;
	char text[512];

	parse_fixture(name, &t);
	ck_assert_uint_eq(topology_defects(&t, d, 4), 1);
	ck_assert_int_eq(d[0].kind, kind);
	if (kind != TOPOLOGY_NO_MYSELF) {
		ck_assert_uint_eq(d[0].a, a);
		ck_assert_uint_eq(d[0].b, b);
	}
	topology_defect_format(&t, &d[0], text, sizeof(text));
	ck_assert_str_eq(text, described);
	ck_assert_int_eq(topology_require_sound(&t, &err), -1);
	ck_assert_int_eq(err.code, SC_EXIT_REFUSED);
	ck_assert_msg(strstr(err.msg, described) && strstr(err.msg, "run 'slotctl check'"), "message: %s", err.msg);
	topology_release(&t);
}

START_TEST(impossible_views)
{
	assert_one_defect("duplicate-id-handwritten.txt", TOPOLOGY_ID_TWICE, 0, 6,
		"node '" M1 "' is listed twice (at '127.0.0.1:41739' and at '127.0.0.1:41740')");
	assert_one_defect("phantom-at-myself-handwritten.txt", TOPOLOGY_ADDR_TWICE, 0, 2,
		"two nodes are listed at '127.0.0.1:51379': '" M0 "' and '0000000000000000000000000000000000000bad'");
	assert_one_defect("myself-twice-handwritten.txt", TOPOLOGY_MYSELF_TWICE, 0, 3,
		"two nodes are flagged myself: '" M1 "' (at '127.0.0.1:41739') and '" M0 "' (at '127.0.0.1:51379')");
	assert_one_defect("no-myself-handwritten.txt", TOPOLOGY_NO_MYSELF, 0, 0, "no node is flagged myself");
}
END_TEST

/* k copies are k - 1 defects, each with the first; out holds at most max;
 * entries that no longer answer at an address (fail, noaddr, handshake) may
 * share it; an empty view has no myself. */
START_TEST(defect_counts)
{
	static const char text[] =
		M0 " 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-100\n"
		M0 " 127.0.0.1:7001@17001 master - 0 0 1 connected\n"
		M0 " 127.0.0.1:7002@17002 master - 0 0 1 connected\n"
		M1 " 127.0.0.1:7003@17003 master - 0 0 2 connected\n"
		M2 " 127.0.0.1:7003@17003 master,fail - 0 0 3 connected\n"
		R0 " 127.0.0.1:7003@17003 handshake - 0 0 0 connected\n"
		R1 " :0@0 slave,noaddr " M1 " 0 0 2 disconnected\n"
		R2 " :0@0 slave,noaddr " M1 " 0 0 2 disconnected\n";
	struct topology_defect d[1];
	struct sc_error err = { 0 };
	struct topology t;

	ck_assert_int_eq(topology_parse(text, strlen(text), &t, &err), 0);
	ck_assert_uint_eq(topology_defects(&t, d, 1), 2);
	ck_assert_int_eq(d[0].kind, TOPOLOGY_ID_TWICE);
	ck_assert_uint_eq(d[0].a, 0);
	ck_assert_uint_eq(d[0].b, 1);
	ck_assert_int_eq(topology_require_sound(&t, &err), -1);
	ck_assert_msg(strstr(err.msg, "(and more)"), "message: %s", err.msg);
	topology_release(&t);

	ck_assert_int_eq(topology_parse("", 0, &t, &err), 0);
	ck_assert_uint_eq(topology_defects(&t, d, 1), 1);
	ck_assert_int_eq(d[0].kind, TOPOLOGY_NO_MYSELF);
	/* found by fuzz_nodes: describing it must not index the empty node array */
	ck_assert_int_eq(topology_require_sound(&t, &err), -1);
	ck_assert_msg(strstr(err.msg, "no node is flagged myself"), "message: %s", err.msg);
	topology_release(&t);
}
END_TEST

START_TEST(copy_and_release)
{
	struct topology src, dst, zero;
	const struct node *n;

	parse_fixture("aux-fields-7.2-handwritten.txt", &src);
	ck_assert_int_eq(topology_copy(&dst, &src), 0);
	topology_release(&src);
	ck_assert_uint_eq(src.count, 0);
	ck_assert_ptr_null(src.nodes);
	ck_assert_uint_eq(dst.count, 4);
	ck_assert_int_eq(dst.myself, 3);
	ck_assert_str_eq(must_find(&dst, M1)->aux, "tls-port=0,shard-id=1d2c3b4a59687766554433221100ffeeddccbbaa");
	topology_release(&dst);

	parse_fixture("open-slots-migrating.txt", &src);
	ck_assert_int_eq(topology_copy(&dst, &src), 0);
	n = &dst.nodes[dst.myself];
	ck_assert_ptr_ne(n->open, src.nodes[src.myself].open);
	ck_assert_uint_eq(n->open_count, 2);
	ck_assert_str_eq(n->open[1].peer, M1);
	ck_assert(slotset_equal(node_slots(n), node_slots(&src.nodes[src.myself])));
	topology_release(&src);
	topology_release(&dst);

	memset(&zero, 0, sizeof(zero));
	ck_assert_int_eq(topology_copy(&dst, &zero), 0);
	ck_assert_uint_eq(dst.count, 0);
	topology_release(&dst);
	topology_release(&zero);
}
END_TEST

START_TEST(flags_format)
{
	char buf[128], tiny[8];

	node_flags_format(NODE_MYSELF | NODE_MASTER, buf, sizeof(buf));
	ck_assert_str_eq(buf, "myself,master");
	node_flags_format(0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "noflags");
	node_flags_format(0x1ff, buf, sizeof(buf));
	ck_assert_str_eq(buf, "myself,master,slave,fail?,fail,handshake,noaddr,nofailover");
	node_flags_format(NODE_MYSELF | NODE_MASTER, tiny, sizeof(tiny));
	ck_assert_uint_lt(strlen(tiny), sizeof(tiny));
}
END_TEST

static const struct {
	const char *file;
	const char *message;
} malformed[] = {
	{ "bad-config-epoch.txt", "line 3: field 'config-epoch': 'x' is not a number" },
	{ "bad-id.txt", "line 2: field 'id': 'd82b2204ad4322eaec747b0df7a2b34b6e8b11' is not a 40-character hex node id" },
	{ "non-hex-id.txt", "line 2: field 'id': " },
	{ "bad-port.txt", "line 1: field 'address': '127.0.0.1:70000@42145' has a bad port" },
	{ "bad-cport.txt", "line 2: field 'address': '127.0.0.1:36939@4x335' has a bad cluster bus port" },
	{ "no-port.txt", "line 2: field 'address': '127.0.0.1' has no ':port'" },
	{ "bad-link-state.txt", "line 3: field 'link-state': 'linked' is not 'connected' or 'disconnected'" },
	{ "slot-out-of-range.txt", "line 2: field 'slots': '10923-16384' is not a slot or range within 0-16383" },
	{ "reversed-range.txt", "line 3: field 'slots': '5460-0' is a reversed range" },
	{ "bad-slot.txt", "line 2: field 'slots': '1x'" },
	{ "truncated.txt", "line 2: field 'config-epoch': missing (the line is truncated)" },
	{ "bad-marker.txt", "line 3: field 'open-slot': '[100->-b43bb7bd]' is not [slot->-id] or [slot-<-id]" },
	{ "bad-marker-arrow.txt", "line 3: field 'open-slot': '[100=>-" },
	{ "marker-slot-out-of-range.txt", "line 3: field 'open-slot': '[16384->-" },
	{ "unclosed-marker.txt", "line 3: field 'open-slot': " },
	{ "bad-master.txt", "line 1: field 'master': 'nobody' is not '-' or a 40-character hex node id" },
	{ "bad-ping-sent.txt", "line 2: field 'ping-sent': '-5' is not a number" },
	{ "bad-pong-recv.txt", "line 2: field 'pong-recv': '17954585750x0' is not a number" },
};

START_TEST(malformed_inputs)
{
	struct sc_error err = { 0 };
	struct topology out, before;
	char path[256];
	size_t len;
	char *text;

	snprintf(path, sizeof(path), "malformed/%s", malformed[_i].file);
	text = read_fixture(path, &len);
	memset(&out, 0x5a, sizeof(out));
	before = out;
	ck_assert_int_eq(topology_parse(text, len, &out, &err), -1);
	ck_assert_int_eq(err.code, SC_EXIT_USAGE);
	ck_assert_msg(strncmp(err.msg, malformed[_i].message, strlen(malformed[_i].message)) == 0,
		"%s: got '%s', want '%s...'", malformed[_i].file, err.msg, malformed[_i].message);
	ck_assert_msg(memcmp(&out, &before, sizeof(out)) == 0, "out was written on error");
	free(text);
}
END_TEST

/* Every prefix of a real reply, and every one-byte corruption of it, parses
 * or fails cleanly (the sanitizers watch for the rest). */
START_TEST(never_crashes)
{
	static const char subst[] = { ' ', '-', ':', '@', ',', '[', ']', '\n', '\0', 'x', '9' };
	struct sc_error err;
	struct topology t;
	size_t len;
	char *text = read_fixture("open-slots-migrating.txt", &len);
	char *copy = malloc(len);

	for (size_t cut = 0; cut <= len; cut++) {
		memcpy(copy, text, cut);
		if (topology_parse(copy, cut, &t, &err) == 0)
			topology_release(&t);
	}
	for (size_t i = 0; i < len; i++) {
		for (size_t k = 0; k < sizeof(subst); k++) {
			memcpy(copy, text, len);
			copy[i] = subst[k];
			if (topology_parse(copy, len, &t, &err) == 0)
				topology_release(&t);
			else
				ck_assert_msg(strncmp(err.msg, "line ", 5) == 0, "message: %s", err.msg);
		}
	}
	free(copy);
	free(text);
}
END_TEST

static Suite *topology_suite(void)
{
	Suite *s = suite_create("topology");
	TCase *tc = tcase_create("topology");

	tcase_add_test(tc, healthy_master_view);
	tcase_add_test(tc, healthy_replica_view);
	tcase_add_test(tc, failed_replica);
	tcase_add_test(tc, open_slots);
	tcase_add_test(tc, hostnames);
	tcase_add_test(tc, handshake_and_fresh_node);
	tcase_add_test(tc, aux_fields);
	tcase_add_test(tc, odd_addresses_and_flags);
	tcase_add_test(tc, line_endings_and_empty);
	tcase_add_test(tc, owner_map);
	tcase_add_test(tc, lookups);
	tcase_add_test(tc, real_views_are_sound);
	tcase_add_test(tc, impossible_views);
	tcase_add_test(tc, defect_counts);
	tcase_add_test(tc, copy_and_release);
	tcase_add_test(tc, flags_format);
	tcase_add_loop_test(tc, malformed_inputs, 0, (int)(sizeof(malformed) / sizeof(malformed[0])));
	tcase_add_test(tc, never_crashes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(topology_suite());
}
