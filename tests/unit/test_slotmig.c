/* test_slotmig.c: the GETSLOTMIGRATIONS model (core/cluster/slotmig.c) on
 * fixtures written as Valkey 9.0 and 9.1 list their jobs: fields, both
 * ends, outcomes, held and importing slots, which job a start began, and
 * refusal of replies that do not say what a job is. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include "slotctl/core/slotmig.h"
#include "check_run.h"
#include "read_file.h"

#define SRC "13f411b0b19e5c7a1a3d84563f624774b8a872c7"
#define DST "8d1b2c3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c"

/* Parses a fixture (see tests/fixtures/slotmig/README.md) into l, as the
 * node self_id lists it. */
static void load_fixture(const char *name, const char *self_id, struct slotmig_list *l)
{
	char rel[256];
	size_t len;
	char *text;
	struct slotmig_field fields[32];
	size_t n = 0;
	struct sc_error err;

	snprintf(rel, sizeof(rel), "slotmig/%s", name);
	text = test_read_file("SLOTCTL_FIXTURES", rel, &len);
	memset(l, 0, sizeof(*l));
	l->jobs = calloc(16, sizeof(*l->jobs));
	ck_assert_ptr_nonnull(l->jobs);
	for (char *line = text;; ) {
		char *end = strchr(line, '\n');
		bool last = end == NULL || end[1] == '\0';
		if (end != NULL)
			*end = '\0';
		if (line[0] != '\0') {
			char *tab = strchr(line, '\t');
			ck_assert_ptr_nonnull(tab);
			ck_assert_uint_lt(n, 32);
			fields[n++] = (struct slotmig_field){ line, (size_t)(tab - line), tab + 1, strlen(tab + 1) };
		}
		if ((line[0] == '\0' || last) && n > 0) {
			ck_assert_uint_lt(l->count, 16);
			ck_assert_msg(slotmig_job_parse(fields, n, self_id, &l->jobs[l->count], &err) == 0, "%s", err.msg);
			l->count++;
			n = 0;
		}
		if (last)
			break;
		line = end + 1;
	}
	free(text);
}

START_TEST(source_91_jobs)
{
	struct slotmig_list l;
	const struct slotmig_job *j;
	char buf[64];

	load_fixture("source-9.1.tsv", SRC, &l);
	ck_assert_uint_eq(l.count, 4);
	j = &l.jobs[0];
	ck_assert_str_eq(j->name, "e008a323bbca436ae07d61f674d7c3090ad512b3");
	ck_assert_int_eq(j->op, SLOTMIG_EXPORT);
	slotset_format(&j->slots, buf, sizeof(buf));
	ck_assert_str_eq(buf, "16379-16380,16382-16383");
	ck_assert_str_eq(j->source_id, SRC);
	ck_assert_str_eq(j->target_id, DST);
	ck_assert_str_eq(j->state, "snapshotting");
	ck_assert_int_eq(j->outcome, SLOTMIG_RUNNING);
	ck_assert_int_eq(j->create_time, 1764892800);
	ck_assert_int_eq(j->last_update_time, 1764892801);
	ck_assert_str_eq(j->message, "");
	ck_assert_int_eq(l.jobs[1].outcome, SLOTMIG_CANCELLED);
	ck_assert_int_eq(l.jobs[2].outcome, SLOTMIG_FAILED);
	ck_assert_ptr_nonnull(strstr(l.jobs[2].message, "Connection lost to target"));
	ck_assert_int_eq(l.jobs[3].outcome, SLOTMIG_SUCCESS);
	ck_assert_str_eq(slotmig_outcome_name(l.jobs[3].outcome), "success");
	ck_assert_str_eq(slotmig_outcome_name(l.jobs[0].outcome), "running");

	/* only the running job holds slots; a source imports nothing */
	struct slotset held, importing;
	slotmig_list_held(&l, &held);
	slotset_format(&held, buf, sizeof(buf));
	ck_assert_str_eq(buf, "16379-16380,16382-16383");
	slotmig_list_importing(&l, &importing);
	ck_assert_int_eq(slotset_count(&importing), 0);

	j = slotmig_list_find(&l, "2cc1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3");
	ck_assert_ptr_eq(j, &l.jobs[3]);
	ck_assert_ptr_null(slotmig_list_find(&l, "ffff"));
	slotmig_list_release(&l);
	ck_assert_ptr_null(l.jobs);
}
END_TEST

START_TEST(target_90_fills_this_end)
{
	struct slotmig_list l;
	struct slotset importing;
	char buf[64];

	load_fixture("target-9.0.tsv", DST, &l);
	ck_assert_uint_eq(l.count, 2);
	ck_assert_int_eq(l.jobs[0].op, SLOTMIG_IMPORT);
	ck_assert_str_eq(l.jobs[0].source_id, SRC);  /* from "node" */
	ck_assert_str_eq(l.jobs[0].target_id, DST);  /* the listing node */
	ck_assert_int_eq(l.jobs[0].outcome, SLOTMIG_RUNNING);
	/* cleaning-up is not final: its staged keys are still there */
	ck_assert_str_eq(l.jobs[1].state, "cleaning-up");
	ck_assert_int_eq(l.jobs[1].outcome, SLOTMIG_RUNNING);
	slotmig_list_importing(&l, &importing);
	slotset_format(&importing, buf, sizeof(buf));
	ck_assert_str_eq(buf, "5000-5001,16379-16380,16382-16383");
	slotmig_list_release(&l);
}
END_TEST

START_TEST(find_started_skips_earlier_jobs)
{
	struct slotmig_list before, after;
	struct slotset want;
	struct sc_error err;

	load_fixture("source-9.1.tsv", SRC, &after);
	/* the cancelled 0-99 was listed before: a new start of 0-99 is not it */
	ck_assert_int_eq(slotmig_ranges_parse("0-99", 4, &want, &err), 0);
	before.jobs = &after.jobs[1];
	before.count = 1;
	ck_assert_ptr_null(slotmig_list_find_started(&after, &want, DST, &before));
	ck_assert_ptr_eq(slotmig_list_find_started(&after, &want, DST, NULL), &after.jobs[1]);
	/* same slots, other target: not it */
	ck_assert_ptr_null(slotmig_list_find_started(&after, &want, SRC, NULL));
	/* a subset of a job's slots is not that job */
	ck_assert_int_eq(slotmig_ranges_parse("16379-16380", 11, &want, &err), 0);
	ck_assert_ptr_null(slotmig_list_find_started(&after, &want, DST, NULL));
	slotmig_list_release(&after);
}
END_TEST

START_TEST(ranges_reject_bad_text)
{
	const char *bad[] = { "", "5", "5-", "-5", "3-2", "0-16384", "0-1  2-3", "0-1 ", "a-b", "0-1,2-3",
		"00000000000000000000001-2" };
	struct slotset s;
	struct sc_error err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(slotmig_ranges_parse(bad[i], strlen(bad[i]), &s, &err) == -1, "accepted '%s'", bad[i]);
		ck_assert_int_eq(err.code, 1);
	}
	ck_assert_int_eq(slotmig_ranges_parse("0-0 16383-16383", 15, &s, &err), 0);
	ck_assert_int_eq(slotset_count(&s), 2);
}
END_TEST

#define F(k, v) { k, sizeof(k) - 1, v, sizeof(v) - 1 }

START_TEST(job_parse_refuses_incomplete_or_wrong)
{
	struct slotmig_field ok[] = {
		F("name", "e008a323bbca436ae07d61f674d7c3090ad512b3"), F("operation", "EXPORT"),
		F("slot_ranges", "1-2"), F("state", "replicating"),
	};
	struct slotmig_job j, untouched;
	struct sc_error err;

	ck_assert_int_eq(slotmig_job_parse(ok, 4, NULL, &j, &err), 0);
	ck_assert_int_eq(j.create_time, -1);
	ck_assert_str_eq(j.source_id, "");   /* no self id given, none listed */
	/* each required field left out */
	for (size_t skip = 0; skip < 4; skip++) {
		struct slotmig_field f[3];
		for (size_t i = 0, k = 0; i < 4; i++)
			if (i != skip)
				f[k++] = ok[i];
		memset(&untouched, 0x5a, sizeof(untouched));
		j = untouched;
		ck_assert_int_eq(slotmig_job_parse(f, 3, NULL, &j, &err), -1);
		ck_assert_ptr_nonnull(strstr(err.msg, "no "));
		ck_assert(memcmp(&j, &untouched, sizeof(j)) == 0);
	}
	struct slotmig_field wrong[][1] = {
		{ F("name", "e008") }, { F("operation", "MOVE") }, { F("slot_ranges", "9-1") },
		{ F("state", "") }, { F("target_node", "not-an-id") }, { F("create_time", "soon") },
		{ F("state", "a-state-word-much-longer-than-thirty-one-bytes") },
	};
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		ck_assert_int_eq(slotmig_job_parse(wrong[i], 1, NULL, &j, &err), -1);
		ck_assert_int_eq(err.code, 1);
		ck_assert_ptr_nonnull(strstr(err.msg, "slot migration job"));
	}
	/* a message longer than the buffer is cut, not refused */
	char longmsg[600];
	memset(longmsg, 'x', sizeof(longmsg));
	struct slotmig_field with_msg[5] = { ok[0], ok[1], ok[2], ok[3], { "message", 7, longmsg, sizeof(longmsg) } };
	ck_assert_int_eq(slotmig_job_parse(with_msg, 5, NULL, &j, &err), 0);
	ck_assert_uint_eq(strlen(j.message), SLOTMIG_MESSAGE_MAX - 1);
	/* an unknown state word may still hold slots */
	ck_assert_int_eq(slotmig_outcome_of("some-future-state"), SLOTMIG_RUNNING);
}
END_TEST

static Suite *slotmig_suite(void)
{
	Suite *s = suite_create("slotmig");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, source_91_jobs);
	tcase_add_test(tc, target_90_fills_this_end);
	tcase_add_test(tc, find_started_skips_earlier_jobs);
	tcase_add_test(tc, ranges_reject_bad_text);
	tcase_add_test(tc, job_parse_refuses_incomplete_or_wrong);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(slotmig_suite());
}
