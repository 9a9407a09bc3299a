/* test_fix_open.c: `slotctl fix` on slots left open by a migration that
 * stopped half-way, each state made by hand with SETSLOT and MIGRATE on a
 * real 3-master cluster holding known keys; afterwards every key is on its
 * owner with its value, check passes, and a second fix changes nothing.
 * Slots in the same state print once, as ranges. */
#include <unistd.h>
#include "slotctl/core/journal.h"
#include "fix_support.h"

START_TEST(migrating_on_owner_only)
{
	struct fx f;

	fx_start(&f, 0);
	fx_setslot(&f, f.src, f.slot, "MIGRATING", f.dst);
	fx_fix_and_verify(&f, "migrating-owner-only");
	ck_assert_int_eq(tc_owner_of(f.tc, 0, f.slot), f.src);
	fx_stop(&f);
}
END_TEST

START_TEST(importing_on_non_owner_only)
{
	struct fx f;

	fx_start_open(&f, 0, 5);
	fx_stable(&f, f.src, f.slot); /* the owner forgot; the keys on dst go back */
	fx_fix_and_verify(&f, "importing-non-owner-only");
	ck_assert_int_eq(tc_owner_of(f.tc, 0, f.slot), f.src);
	fx_stop(&f);
}
END_TEST

START_TEST(open_no_keys_moved)
{
	struct fx f;

	fx_start_open(&f, 0, 0);
	fx_fix_and_verify(&f, "open-no-keys-moved");
	ck_assert_int_eq(tc_owner_of(f.tc, 0, f.slot), f.src);
	fx_stop(&f);
}
END_TEST

START_TEST(open_some_keys_moved)
{
	struct fx f;

	fx_start_open(&f, 0, 7);
	fx_fix_and_verify(&f, "open-some-keys-moved");
	ck_assert_int_eq(tc_owner_of(f.tc, 0, f.slot), f.dst);
	fx_stop(&f);
}
END_TEST

START_TEST(open_all_keys_moved)
{
	struct fx f;

	fx_start_open(&f, 0, -1);
	fx_fix_and_verify(&f, "open-all-keys-moved");
	ck_assert_int_eq(tc_owner_of(f.tc, 0, f.slot), f.dst);
	fx_stop(&f);
}
END_TEST

START_TEST(node_set_on_source_only)
{
	struct fx f;

	fx_start_open(&f, 0, -1);
	fx_setslot(&f, f.src, f.slot, "NODE", f.dst);
	fx_fix_and_verify(&f, "node-set-on-source-only");
	ck_assert_int_eq(tc_owner_of(f.tc, 0, f.slot), f.dst);
	fx_stop(&f);
}
END_TEST

START_TEST(node_set_on_target_only)
{
	struct fx f;

	fx_start_open(&f, 0, -1);
	fx_setslot(&f, f.dst, f.slot, "NODE", f.dst);
	/* gossip may already have told the source, which then shows MIGRATING on
	 * a slot it no longer owns: either way fix finishes the move */
	fx_fix_and_verify(&f, NULL);
	ck_assert_int_eq(tc_owner_of(f.tc, 0, f.slot), f.dst);
	fx_stop(&f);
}
END_TEST

/* True when node's own CLUSTER NODES line shows slot MIGRATING. */
static bool marked_migrating(const struct fx *f, int node, int slot)
{
	redisReply *r = tc_command(f->tc, node, "CLUSTER NODES");
	char mark[32];
	const char *myself = strstr(r->str, "myself");
	const char *end = myself ? strchr(myself, '\n') : NULL;
	const char *found;
	bool marked;

	ck_assert_ptr_nonnull(end);
	snprintf(mark, sizeof(mark), "[%d->-", slot);
	found = strstr(myself, mark);
	marked = found && found < end;
	freeReplyObject(r);
	return marked;
}

START_TEST(migrating_on_non_owner)
{
	struct fx f;
	struct server_version v;
	bool drops_mark;
	int tries = 0;

	fx_start_open(&f, 0, -1);
	tc_server_version(f.tc, f.src, &v);
	drops_mark = v.valkey && server_version_at_least(&v, 8, 0);
	fx_setslot(&f, f.dst, f.slot, "NODE", f.dst);
	while (tc_owner_of(f.tc, f.src, f.slot) != f.dst && tries++ < 100)
		usleep(100 * 1000);
	ck_assert_int_eq(tc_owner_of(f.tc, f.src, f.slot), f.dst);
	/* Valkey (8+) drops the source's MIGRATING mark itself when it hears
	 * that another shard owns the slot (in the same update that shows it
	 * the new owner): there the state never arises and fix finds nothing
	 * to do; Redis keeps the mark */
	ck_assert_msg(marked_migrating(&f, f.src, f.slot) != drops_mark, "the source %s its MIGRATING mark on %s %d.%d",
		drops_mark ? "kept" : "dropped", v.valkey ? "valkey" : "redis", v.major, v.minor);
	fx_fix_and_verify(&f, drops_mark ? "0 broken slots" : "migrating-on-non-owner");
	ck_assert_int_eq(tc_owner_of(f.tc, 0, f.slot), f.dst);
	fx_stop(&f);
}
END_TEST

START_TEST(importing_on_two_nodes)
{
	struct fx f;

	fx_start(&f, 0);
	fx_setslot(&f, f.dst, f.slot, "IMPORTING", f.src);
	fx_setslot(&f, f.third, f.slot, "IMPORTING", f.src);
	fx_move(&f, f.slot, f.src, f.dst, 3);
	fx_move(&f, f.slot, f.src, f.third, 2);
	fx_fix_and_verify(&f, "importing-on-several");
	ck_assert_int_eq(tc_owner_of(f.tc, 0, f.slot), f.src);
	fx_stop(&f);
}
END_TEST

/* 300 slots of one master open at once in three states (none, some, all keys moved),
 * all repaired in one pass. */
START_TEST(hundreds_of_open_slots_in_one_pass)
{
	struct fx f;
	redisContext *to, *from;
	int first = -1, opened = 0;
	struct run_result r;

	fx_start(&f, 0);
	for (int s = 0; s < SC_SLOTS && first < 0; s += 64)
		if (tc_owner_of(f.tc, 0, s) == f.src && tc_owner_of(f.tc, 0, s + 400) == f.src)
			first = s;
	ck_assert_int_ge(first, 0);
	to = tc_connect(f.tc, f.dst);
	from = tc_connect(f.tc, f.src);
	for (int s = first; s < first + 300; s++) {
		redisAppendCommand(to, "CLUSTER SETSLOT %d IMPORTING %s", s, tc_id(f.tc, f.src));
		redisAppendCommand(from, "CLUSTER SETSLOT %d MIGRATING %s", s, tc_id(f.tc, f.dst));
		opened++;
	}
	for (int i = 0; i < 2 * opened; i++) {
		redisReply *rep;

		ck_assert_int_eq(redisGetReply(i % 2 ? from : to, (void **)&rep), REDIS_OK);
		fx_ok(rep);
	}
	redisFree(to);
	redisFree(from);
	for (int s = first; s < first + 300; s += 3)
		fx_move(&f, s, f.src, f.dst, -1); /* all moved (or none held) */
	for (int s = first + 1; s < first + 300; s += 3)
		fx_move(&f, s, f.src, f.dst, 1);  /* some moved, when the slot held two */
	fx_fix(&f, &r, "--yes", NULL, NULL);
	ck_assert_exit(&r, 0);
	ck_assert_contains(r.out, "open-no-keys-moved");
	ck_assert_contains(r.out, "open-all-keys-moved");
	ck_assert_contains(r.out, "fix: 300 repaired");
	run_result_free(&r);
	fx_verify(&f);
	fx_stop(&f);
}
END_TEST

/* 100 slots left MIGRATING on their owner: one entry in the plan and one
 * outcome line, as ranges, not 100 of each. */
START_TEST(alike_slots_print_once)
{
	struct fx f;
	struct run_result r;
	char want[128];
	int first = -1;

	fx_start(&f, 0);
	for (int s = 0; s < SC_SLOTS && first < 0; s += 64)
		if (tc_owner_of(f.tc, 0, s) == f.src && tc_owner_of(f.tc, 0, s + 99) == f.src)
			first = s;
	ck_assert_int_ge(first, 0);
	for (int s = first; s < first + 100; s++)
		fx_setslot(&f, f.src, s, "MIGRATING", f.dst);
	fx_fix(&f, &r, "--yes", NULL, NULL);
	ck_assert_exit(&r, 0);
	snprintf(want, sizeof(want), "slots %d-%d (100 slots): migrating-owner-only:", first, first + 99);
	ck_assert_contains(r.out, want);
	ck_assert_contains(r.out, "  for each slot S:\n  1. CLUSTER SETSLOT S STABLE on ");
	snprintf(want, sizeof(want), "[FIXED] slots %d-%d (100 slots) migrating-owner-only: owned by", first,
		first + 99);
	ck_assert_contains(r.out, want);
	ck_assert_contains(r.out, "fix: 100 repaired");
	ck_assert_msg(strncmp(r.out, "slot ", 5) != 0 && !strstr(r.out, "\nslot ") && !strstr(r.out, "[FIXED] slot "),
		"a slot printed on its own:\n%s", r.out);
	run_result_free(&r);
	fx_verify(&f);
	fx_stop(&f);
}
END_TEST

/* Writes a journal in which an abort of the move src -> dst of slot had
 * begun (the slot at phase "migrating"), and returns its path. */
static void write_abort_journal(const struct fx *f, char *path, size_t size)
{
	struct journal_record recs[3] = {
		{ .kind = JOURNAL_REC_START, .op = "apply", .fingerprint = "0123456789abcdef" },
		{ .kind = JOURNAL_REC_SLOT, .slot = f->slot, .phase = JOURNAL_MIGRATING },
		{ .kind = JOURNAL_REC_START, .op = "abort", .fingerprint = "0123456789abcdef" },
	};
	struct sc_error err;
	FILE *out;
	int fd;

	snprintf(path, size, "/tmp/slotctl-fix-journal-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	out = fdopen(fd, "w");
	snprintf(recs[1].from, sizeof(recs[1].from), "%s", tc_id(f->tc, f->src));
	snprintf(recs[1].to, sizeof(recs[1].to), "%s", tc_id(f->tc, f->dst));
	for (int i = 0; i < 3; i++) {
		char *line = journal_encode(&recs[i], &err);

		ck_assert_msg(line != NULL, "%s", err.msg);
		fputs(line, out);
		free(line);
	}
	fclose(out);
}

START_TEST(journal_direction_is_followed)
{
	struct fx f;
	struct run_result r;
	char path[64];

	fx_start_open(&f, 0, 7);
	write_abort_journal(&f, path, sizeof(path));
	/* by the rules the move would be finished; the journal says roll back */
	fx_fix(&f, &r, "--yes", "--journal", path);
	unlink(path);
	ck_assert_exit(&r, 0);
	ck_assert_contains(r.out, "direction from the journal");
	run_result_free(&r);
	ck_assert_int_eq(tc_owner_of(f.tc, 0, f.slot), f.src);
	ck_assert_int_eq(fx_count(&f, f.dst, f.slot), 0);
	fx_verify(&f);
	fx_stop(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fix_open");
	TCase *tc = tcase_create("fix_open");

	tcase_add_test(tc, migrating_on_owner_only);
	tcase_add_test(tc, importing_on_non_owner_only);
	tcase_add_test(tc, open_no_keys_moved);
	tcase_add_test(tc, open_some_keys_moved);
	tcase_add_test(tc, open_all_keys_moved);
	tcase_add_test(tc, node_set_on_source_only);
	tcase_add_test(tc, node_set_on_target_only);
	tcase_add_test(tc, migrating_on_non_owner);
	tcase_add_test(tc, importing_on_two_nodes);
	tcase_add_test(tc, hundreds_of_open_slots_in_one_pass);
	tcase_add_test(tc, alike_slots_print_once);
	tcase_add_test(tc, journal_direction_is_followed);
	suite_add_tcase(s, tc);
	return check_run(s);
}
