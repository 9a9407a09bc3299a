/* test_journal.c: the executor's checkpoint format: records round-trip
 * through JSON lines, folding gives each slot's last phase, torn last lines
 * are ignored, bad lines and unknown major versions are refused. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "slotctl/io/clock.h"
#include "slotctl/io/journal_file.h"
#include "check_run.h"

#define SRC "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DST "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static struct journal_record start_rec(const char *op)
{
	struct journal_record r = { .kind = JOURNAL_REC_START, .time_ms = 1700000000000LL };

	snprintf(r.op, sizeof(r.op), "%s", op);
	snprintf(r.fingerprint, sizeof(r.fingerprint), "0123456789abcdef");
	snprintf(r.plan_path, sizeof(r.plan_path), "/tmp/p.json");
	r.seeds = "127.0.0.1:7000,127.0.0.1:7001";
	return r;
}

static struct journal_record slot_rec(int slot, enum journal_phase phase)
{
	struct journal_record r = { .kind = JOURNAL_REC_SLOT, .time_ms = 1700000000001LL,
		.slot = slot, .phase = phase, .batch = 2, .keys = 17 };

	memcpy(r.from, SRC, sizeof(r.from));
	memcpy(r.to, DST, sizeof(r.to));
	return r;
}

/* Appends the encoded record to buf. */
static void emit(char *buf, size_t size, const struct journal_record *r)
{
	struct sc_error err;
	char *line = journal_encode(r, &err);

	ck_assert_ptr_nonnull(line);
	ck_assert(strlen(buf) + strlen(line) < size);
	strcat(buf, line);
	free(line);
}

START_TEST(phase_names_round_trip)
{
	for (int i = 0; i < JOURNAL_PHASE_COUNT; i++) {
		enum journal_phase p;

		ck_assert_int_eq(journal_phase_parse(journal_phase_name(i), &p), 0);
		ck_assert_int_eq(p, i);
	}
	ck_assert_str_eq(journal_phase_name(JOURNAL_OWNER_TARGET), "owner-on-target");
	ck_assert_str_eq(journal_phase_name(JOURNAL_KEYS_MOVED), "keys-moved");
}
END_TEST

START_TEST(records_round_trip)
{
	struct journal_record in = slot_rec(1234, JOURNAL_MIGRATING), out;
	struct sc_error err;
	char *line;

	in.failed = true;
	snprintf(in.message, sizeof(in.message), "cannot reach '127.0.0.1:7001'");
	line = journal_encode(&in, &err);
	ck_assert_ptr_nonnull(line);
	ck_assert(line[strlen(line) - 1] == '\n');
	ck_assert(strchr(line, '\n') == line + strlen(line) - 1);
	ck_assert_int_eq(journal_decode(line, strlen(line) - 1, &out, &err), 0);
	ck_assert_int_eq(out.kind, JOURNAL_REC_SLOT);
	ck_assert_int_eq(out.slot, 1234);
	ck_assert_int_eq(out.phase, JOURNAL_MIGRATING);
	ck_assert(out.failed);
	ck_assert_str_eq(out.from, SRC);
	ck_assert_str_eq(out.to, DST);
	ck_assert_int_eq(out.batch, 2);
	ck_assert_int_eq(out.keys, 17);
	ck_assert_str_eq(out.message, "cannot reach '127.0.0.1:7001'");
	ck_assert_int_eq(out.time_ms, 1700000000001LL);
	journal_record_release(&out);
	free(line);

	in = start_rec("resume");
	line = journal_encode(&in, &err);
	ck_assert_int_eq(journal_decode(line, strlen(line) - 1, &out, &err), 0);
	ck_assert_str_eq(out.op, "resume");
	ck_assert_str_eq(out.fingerprint, "0123456789abcdef");
	ck_assert_str_eq(out.seeds, "127.0.0.1:7000,127.0.0.1:7001");
	ck_assert_str_eq(out.plan_path, "/tmp/p.json");
	journal_record_release(&out);
	free(line);
}
END_TEST

/* A SLOT record that is not a failure is written straight into its line
 * (no cJSON tree per record), the text cJSON gave: every field in the same
 * order and form; names that JSON must escape take the general path and
 * round-trip. */
START_TEST(slot_lines_keep_their_text_and_escape_what_needs_it)
{
	struct journal_record in = slot_rec(4095, JOURNAL_DONE), out;
	struct sc_error err;
	char expected[512], *line;

	snprintf(in.job, sizeof(in.job), "%s", "6ef1f91e2f977995c0eff2305365b9a5a94e0644");
	snprintf(expected, sizeof(expected), "{\"format_version\":\"%d.%d\",\"record\":\"slot\",\"time_ms\":1700000000001,"
		"\"slot\":4095,\"phase\":\"done\",\"from\":\"%s\",\"to\":\"%s\",\"batch\":2,\"keys\":17,"
		"\"job\":\"6ef1f91e2f977995c0eff2305365b9a5a94e0644\"}\n", JOURNAL_FORMAT_MAJOR, JOURNAL_FORMAT_MINOR, SRC, DST);
	line = journal_encode(&in, &err);
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line, expected);
	ck_assert_int_eq(journal_decode(line, strlen(line) - 1, &out, &err), 0);
	ck_assert_int_eq(out.slot, 4095);
	ck_assert_int_eq(out.phase, JOURNAL_DONE);
	ck_assert_str_eq(out.job, in.job);
	journal_record_release(&out);
	free(line);

	in.job[0] = '\0';
	line = journal_encode(&in, &err);
	ck_assert_ptr_null(strstr(line, "\"job\""));
	free(line);

	snprintf(in.to, sizeof(in.to), "%s", "a\"b\\c");
	line = journal_encode(&in, &err);
	ck_assert_ptr_nonnull(strstr(line, "\"to\":\"a\\\"b\\\\c\""));
	ck_assert_int_eq(journal_decode(line, strlen(line) - 1, &out, &err), 0);
	ck_assert_str_eq(out.to, "a\"b\\c");
	journal_record_release(&out);
	free(line);
}
END_TEST

/* A START records the run's shards (format 1.1) as arrays of ids; the
 * fold keeps the latest recorded, and a START without them (a journal of
 * 1.0) keeps what an earlier one said. */
START_TEST(shards_round_trip)
{
	struct journal_record a = start_rec("apply"), b = start_rec("resume"), out;
	struct journal_state st;
	struct sc_error err;
	char buf[4096] = "";
	char *line;

	a.shards = SRC " cccccccccccccccccccccccccccccccccccccccc;" DST;
	line = journal_encode(&a, &err);
	ck_assert_ptr_nonnull(line);
	ck_assert(strstr(line, "\"shards\":[[\"" SRC "\",\"cccccccccccccccccccccccccccccccccccccccc\"],[\"" DST
		"\"]]") != NULL);
	ck_assert_int_eq(journal_decode(line, strlen(line) - 1, &out, &err), 0);
	ck_assert_str_eq(out.shards, a.shards);
	journal_record_release(&out);
	free(line);
	emit(buf, sizeof(buf), &a);
	emit(buf, sizeof(buf), &b);
	journal_state_init(&st);
	ck_assert_int_eq(journal_replay(&st, buf, strlen(buf), &err), 0);
	ck_assert_str_eq(st.shards, a.shards);
	journal_state_release(&st);
	line = "{\"format_version\":\"1.1\",\"record\":\"start\",\"time_ms\":1,\"op\":\"apply\","
		"\"fingerprint\":\"0123456789abcdef\",\"plan\":\"p\",\"shards\":[[\"a b\"]]}";
	ck_assert_int_eq(journal_decode(line, strlen(line), &out, &err), -1);
	ck_assert(strstr(err.msg, "shards") != NULL);
}
END_TEST

/* A START record says whether the cluster speaks TLS and which TLS options
 * were given (format 1.3), never their values; the fold keeps the latest
 * run's; a run without them is refused naming the missing ones; a 1.1
 * journal (no "transport") asks for nothing. */
START_TEST(transport_recorded_and_checked)
{
	struct journal_record a = start_rec("apply"), out;
	struct transport_note now = { .recorded = true };
	struct journal_state st;
	struct sc_error err;
	char buf[4096] = "";
	const char *old;
	char *line;

	a.transport = (struct transport_note){ .recorded = true, .tls = true };
	a.transport.given[TRANSPORT_CACERT] = a.transport.given[TRANSPORT_CERT] = a.transport.given[TRANSPORT_KEY] = true;
	line = journal_encode(&a, &err);
	ck_assert_ptr_nonnull(line);
	ck_assert(strstr(line, "\"transport\":{\"options\":[\"cacert\",\"cert\",\"key\"],\"tls\":true}") != NULL);
	ck_assert(strstr(line, "\"format_version\":\"1.3\"") != NULL);
	ck_assert_int_eq(journal_decode(line, strlen(line) - 1, &out, &err), 0);
	ck_assert(out.transport.recorded && out.transport.tls && out.transport.given[TRANSPORT_CERT]);
	ck_assert(!out.transport.given[TRANSPORT_SNI]);
	journal_record_release(&out);
	free(line);
	emit(buf, sizeof(buf), &a);
	journal_state_init(&st);
	ck_assert_int_eq(journal_replay(&st, buf, strlen(buf), &err), 0);
	ck_assert_int_eq(transport_note_check(&st.transport, &now, "the journal 'j'", &err), -1);
	ck_assert_int_eq(err.code, 2);
	ck_assert_str_eq(err.msg, "the journal 'j' says the cluster speaks TLS: give --tls --cacert --cert --key");
	now.tls = now.given[TRANSPORT_CACERT] = true;
	ck_assert_int_eq(transport_note_check(&st.transport, &now, "the journal 'j'", &err), -1);
	ck_assert_str_eq(err.msg, "the journal 'j' says the cluster speaks TLS: give --cert --key");
	now.given[TRANSPORT_CERT] = now.given[TRANSPORT_KEY] = true;
	ck_assert_int_eq(transport_note_check(&st.transport, &now, "the journal 'j'", &err), 0);
	journal_state_release(&st);
	old = "{\"format_version\":\"1.1\",\"record\":\"start\",\"time_ms\":1,\"op\":\"apply\","
		"\"fingerprint\":\"0123456789abcdef\",\"plan\":\"p\"}";
	ck_assert_int_eq(journal_decode(old, strlen(old), &out, &err), 0);
	ck_assert(!out.transport.recorded);
	ck_assert_int_eq(transport_note_check(&out.transport, &(struct transport_note){ 0 }, "j", &err), 0);
	journal_record_release(&out);
	old = "{\"format_version\":\"1.3\",\"record\":\"start\",\"time_ms\":1,\"op\":\"apply\","
		"\"fingerprint\":\"0123456789abcdef\",\"plan\":\"p\",\"transport\":{\"tls\":\"yes\"}}";
	ck_assert_int_eq(journal_decode(old, strlen(old), &out, &err), -1);
	ck_assert(strstr(err.msg, "transport") != NULL);
}
END_TEST

START_TEST(fold_keeps_last_phase_per_slot)
{
	static char text[8192];
	struct journal_record r;
	struct journal_state st;
	struct sc_error err;
	const struct journal_slot *s;

	text[0] = '\0';
	r = start_rec("apply");
	emit(text, sizeof(text), &r);
	for (int slot = 10; slot < 13; slot++) {
		r = slot_rec(slot, JOURNAL_PENDING);
		emit(text, sizeof(text), &r);
	}
	r = slot_rec(10, JOURNAL_IMPORTING);
	emit(text, sizeof(text), &r);
	r = slot_rec(10, JOURNAL_MIGRATING);
	emit(text, sizeof(text), &r);
	r = slot_rec(11, JOURNAL_DONE);
	emit(text, sizeof(text), &r);
	r = slot_rec(10, JOURNAL_MIGRATING);
	r.failed = true;
	snprintf(r.message, sizeof(r.message), "busy");
	emit(text, sizeof(text), &r);

	journal_state_init(&st);
	ck_assert_int_eq(journal_replay(&st, text, strlen(text), &err), 0);
	ck_assert_int_eq(st.runs, 1);
	ck_assert_str_eq(st.last_op, "apply");
	ck_assert(!st.ended);
	ck_assert_int_eq(st.count, 3);
	ck_assert_int_eq(st.slots[0].slot, 10); /* plan order kept */
	s = journal_state_slot(&st, 10);
	ck_assert_int_eq(s->phase, JOURNAL_MIGRATING);
	ck_assert(s->failed);
	ck_assert_str_eq(s->message, "busy");
	ck_assert_int_eq(journal_state_slot(&st, 11)->phase, JOURNAL_DONE);
	ck_assert_int_eq(journal_state_slot(&st, 12)->phase, JOURNAL_PENDING);
	ck_assert_ptr_null(journal_state_slot(&st, 13));
	ck_assert_int_eq(journal_state_unfinished(&st), 2);
	ck_assert(!journal_state_finished(&st));
	journal_state_release(&st);
}
END_TEST

START_TEST(torn_last_line_is_ignored)
{
	static char text[4096];
	struct journal_record r;
	struct journal_state st;
	struct sc_error err;
	size_t len;

	text[0] = '\0';
	r = start_rec("apply");
	emit(text, sizeof(text), &r);
	r = slot_rec(5, JOURNAL_PENDING);
	emit(text, sizeof(text), &r);
	r = slot_rec(5, JOURNAL_DONE);
	emit(text, sizeof(text), &r);
	len = strlen(text) - 10; /* the crash cut the last write short */
	journal_state_init(&st);
	ck_assert_int_eq(journal_replay(&st, text, len, &err), 0);
	ck_assert_int_eq(journal_state_slot(&st, 5)->phase, JOURNAL_PENDING);
	journal_state_release(&st);
}
END_TEST

START_TEST(finished_journal_starts_over_on_apply)
{
	static char text[4096];
	struct journal_record r;
	struct journal_state st;
	struct sc_error err;

	text[0] = '\0';
	r = start_rec("apply");
	emit(text, sizeof(text), &r);
	r = slot_rec(5, JOURNAL_DONE);
	emit(text, sizeof(text), &r);
	r = (struct journal_record){ .kind = JOURNAL_REC_END, .time_ms = 1 };
	snprintf(r.status, sizeof(r.status), "done");
	emit(text, sizeof(text), &r);
	journal_state_init(&st);
	ck_assert_int_eq(journal_replay(&st, text, strlen(text), &err), 0);
	ck_assert(st.ended);
	ck_assert_str_eq(st.end_status, "done");
	ck_assert(journal_state_finished(&st));

	r = start_rec("apply");
	emit(text, sizeof(text), &r);
	r = slot_rec(6, JOURNAL_PENDING);
	emit(text, sizeof(text), &r);
	journal_state_release(&st);
	journal_state_init(&st);
	ck_assert_int_eq(journal_replay(&st, text, strlen(text), &err), 0);
	ck_assert_int_eq(st.runs, 2);
	ck_assert(!st.ended);
	ck_assert_ptr_null(journal_state_slot(&st, 5));
	ck_assert_int_eq(journal_state_slot(&st, 6)->phase, JOURNAL_PENDING);
	journal_state_release(&st);
}
END_TEST

START_TEST(bad_lines_are_refused)
{
	const char *bad[] = {
		"not json\n",
		"{\"format_version\":\"2.0\",\"record\":\"end\",\"time_ms\":1,\"status\":\"done\"}\n",
		"{\"format_version\":\"1.0\",\"record\":\"slot\",\"time_ms\":1,\"slot\":16384,\"phase\":\"done\","
		"\"from\":\"a\",\"to\":\"b\",\"batch\":0,\"keys\":0}\n",
		"{\"format_version\":\"1.0\",\"record\":\"slot\",\"time_ms\":1,\"slot\":1,\"phase\":\"flying\","
		"\"from\":\"a\",\"to\":\"b\",\"batch\":0,\"keys\":0}\n",
		"{\"format_version\":\"1.0\",\"record\":\"start\",\"time_ms\":1}\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct journal_state st;
		struct sc_error err;

		journal_state_init(&st);
		ck_assert_msg(journal_replay(&st, bad[i], strlen(bad[i]), &err) == -1, "accepted %s", bad[i]);
		ck_assert_int_eq(err.code, 2);
		ck_assert(strstr(err.msg, "journal line 1") != NULL);
		journal_state_release(&st);
	}
}
END_TEST

START_TEST(unknown_fields_and_minor_versions_are_accepted)
{
	const char *line = "{\"format_version\":\"1.7\",\"record\":\"end\",\"time_ms\":1,"
		"\"status\":\"interrupted\",\"future\":[1,2]}\n";
	struct journal_state st;
	struct sc_error err;

	journal_state_init(&st);
	ck_assert_int_eq(journal_replay(&st, line, strlen(line), &err), 0);
	ck_assert_str_eq(st.end_status, "interrupted");
	journal_state_release(&st);
}
END_TEST

START_TEST(file_edge_appends_and_loads)
{
	char dir[] = "/tmp/slotctl-journal-XXXXXX", path[256];
	struct journal_file *f;
	struct journal_state st;
	struct sc_error err;
	struct journal_record r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	journal_path_for_plan(dir, path, sizeof(path));
	ck_assert_str_eq(path + strlen(dir), ".journal");
	snprintf(path, sizeof(path), "%s/p.json.journal", dir);
	ck_assert_int_eq(journal_load(path, &st, &err), 1);
	journal_state_release(&st);
	ck_assert_int_eq(journal_file_open(path, &f, &err), 0);
	r = start_rec("apply");
	ck_assert_int_eq(journal_file_append(f, &r, true, &err), 0);
	r = slot_rec(99, JOURNAL_OWNER_SOURCE);
	ck_assert_int_eq(journal_file_append(f, &r, false, &err), 0);
	ck_assert_int_eq(journal_file_sync(f, &err), 0);
	journal_file_close(f);
	ck_assert_int_eq(journal_load(path, &st, &err), 0);
	ck_assert_int_eq(journal_state_slot(&st, 99)->phase, JOURNAL_OWNER_SOURCE);
	journal_state_release(&st);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* Closing the journal does not wait out the flusher's rest after its last
 * fdatasync (it used to sleep JOURNAL_FLUSH_INTERVAL_MS unconditionally, so
 * every run's end waited up to 50 ms for it): a close right after the
 * flusher synced returns at once. The least of three tries, each given the
 * flusher time to sync and start resting, stays well under the interval
 * (before: never under it). */
START_TEST(file_close_does_not_wait_for_the_flushers_rest)
{
	char dir[] = "/tmp/slotctl-journal-XXXXXX", path[256];
	struct sc_error err;
	long long least = -1;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.json.journal", dir);
	for (int i = 0; i < 3; i++) {
		struct journal_file *f;
		struct journal_record r = slot_rec(7, JOURNAL_PENDING);
		long long t0;

		ck_assert_int_eq(journal_file_open(path, &f, &err), 0);
		ck_assert_int_eq(journal_file_append(f, &r, false, &err), 0);
		sc_sleep_ms(10); /* the flusher wakes, syncs, rests */
		t0 = sc_clock_ms();
		journal_file_close(f);
		if (least < 0 || sc_clock_ms() - t0 < least)
			least = sc_clock_ms() - t0;
	}
	ck_assert_int_lt(least, JOURNAL_FLUSH_INTERVAL_MS / 2);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* A START record keeps the run's pacing (format 1.1); a 1.0 START has none,
 * and the fold takes the latest run's. */
START_TEST(pacing_round_trips_and_older_starts_have_none)
{
	struct journal_record in = start_rec("apply"), out;
	const char *old = "{\"format_version\":\"1.0\",\"record\":\"start\",\"time_ms\":2,\"op\":\"resume\","
		"\"fingerprint\":\"0123456789abcdef\",\"plan\":\"p\",\"seeds\":\"\"}\n";
	struct journal_state st;
	struct sc_error err;
	char *line;

	in.pacing = (struct journal_pacing){ .recorded = true, .max_keys_per_sec = 50,
		.max_bytes_per_sec = 1000000, .max_block_us = 300, .batch_keys = 20, .batch_bytes = 4096,
		.parallel = 3 };
	line = journal_encode(&in, &err);
	ck_assert_ptr_nonnull(line);
	ck_assert_ptr_nonnull(strstr(line, "\"format_version\":\"1.3\""));
	ck_assert_int_eq(journal_decode(line, strlen(line) - 1, &out, &err), 0);
	ck_assert(out.pacing.recorded);
	ck_assert_int_eq(out.pacing.max_keys_per_sec, 50);
	ck_assert_int_eq(out.pacing.max_bytes_per_sec, 1000000);
	ck_assert_int_eq(out.pacing.max_block_us, 300);
	ck_assert_int_eq(out.pacing.batch_keys, 20);
	ck_assert_int_eq(out.pacing.batch_bytes, 4096);
	ck_assert_int_eq(out.pacing.parallel, 3);
	journal_record_release(&out);

	journal_state_init(&st);
	ck_assert_int_eq(journal_replay(&st, line, strlen(line), &err), 0);
	ck_assert_int_eq(st.pacing.max_keys_per_sec, 50);
	ck_assert_int_eq(journal_replay(&st, old, strlen(old), &err), 0);
	ck_assert(!st.pacing.recorded);
	journal_state_release(&st);
	free(line);

	line = "{\"format_version\":\"1.1\",\"record\":\"start\",\"time_ms\":2,\"op\":\"apply\","
		"\"fingerprint\":\"0123456789abcdef\",\"pacing\":{\"max_keys_per_sec\":-1}}";
	ck_assert_int_eq(journal_decode(line, strlen(line), &out, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "pacing"));
}
END_TEST

/* One holder at a time (a second open in the same process conflicts like
 * another process would), named in the refusal; released, the lock is free
 * again and its file gone; a symbolic link in its place is not followed. */
START_TEST(lock_refuses_a_second_holder_naming_the_first)
{
	char dir[] = "/tmp/slotctl-journal-XXXXXX", path[256], lock_path[300], pid[32];
	struct journal_lock *a = NULL, *b = NULL;
	struct sc_error err;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.json.journal", dir);
	journal_lock_path(path, lock_path, sizeof(lock_path));
	ck_assert_str_eq(lock_path + strlen(path), ".lock");
	ck_assert_int_eq(journal_lock_acquire(path, "slotctl apply 'p.json'", &a, &err), 0);
	ck_assert_int_eq(access(lock_path, F_OK), 0);
	ck_assert_int_eq(journal_lock_acquire(path, "slotctl resume 'p.json'", &b, &err), -1);
	ck_assert_int_eq(err.code, 6);
	snprintf(pid, sizeof(pid), "pid %d on", (int)getpid());
	ck_assert_ptr_nonnull(strstr(err.msg, pid));
	ck_assert_ptr_nonnull(strstr(err.msg, "slotctl apply 'p.json'"));
	ck_assert_ptr_nonnull(strstr(err.msg, "Z (slotctl apply"));   /* the start time, UTC */
	ck_assert_ptr_nonnull(strstr(err.msg, "' since 20"));         /* on '<host>' since <year>... */
	journal_lock_release(a);
	ck_assert_int_eq(access(lock_path, F_OK), -1);
	ck_assert_int_eq(journal_lock_acquire(path, "slotctl resume 'p.json'", &b, &err), 0);
	journal_lock_release(b);

	ck_assert_int_eq(symlink("/nonexistent-target", lock_path), 0);
	ck_assert_int_eq(journal_lock_acquire(path, "x", &a, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "symbolic link"));
	unlink(lock_path);
	rmdir(dir);
}
END_TEST

/* A 1.2 START names the backend and a SLOT record the atomic job moving
 * it; both fold into the state. A 1.1 journal (neither) reads as before:
 * no backend (keys), no job. */
START_TEST(backend_and_job_round_trip_and_older_journals_have_none)
{
	struct journal_record start = start_rec("apply"), slot = slot_rec(42, JOURNAL_MIGRATING), out;
	const char *old = "{\"format_version\":\"1.1\",\"record\":\"start\",\"time_ms\":2,\"op\":\"apply\","
		"\"fingerprint\":\"0123456789abcdef\",\"plan\":\"p\",\"seeds\":\"\"}\n"
		"{\"format_version\":\"1.1\",\"record\":\"slot\",\"time_ms\":3,\"slot\":42,\"phase\":\"migrating\","
		"\"from\":\"" SRC "\",\"to\":\"" DST "\",\"batch\":0,\"keys\":0}\n";
	char buf[4096] = "";
	struct journal_state st;
	struct sc_error err;
	char *line;

	snprintf(start.backend, sizeof(start.backend), "atomic");
	snprintf(slot.job, sizeof(slot.job), "e008a323bbca436ae07d61f674d7c3090ad512b3");
	line = journal_encode(&slot, &err);
	ck_assert_ptr_nonnull(strstr(line, "\"job\":\"e008a323bbca436ae07d61f674d7c3090ad512b3\""));
	ck_assert_int_eq(journal_decode(line, strlen(line) - 1, &out, &err), 0);
	ck_assert_str_eq(out.job, slot.job);
	journal_record_release(&out);
	free(line);
	emit(buf, sizeof(buf), &start);
	emit(buf, sizeof(buf), &slot);
	ck_assert_ptr_nonnull(strstr(buf, "\"backend\":\"atomic\""));
	journal_state_init(&st);
	ck_assert_int_eq(journal_replay(&st, buf, strlen(buf), &err), 0);
	ck_assert_str_eq(st.backend, "atomic");
	ck_assert_str_eq(journal_state_slot(&st, 42)->job, slot.job);
	journal_state_release(&st);

	journal_state_init(&st);
	ck_assert_msg(journal_replay(&st, old, strlen(old), &err) == 0, "%s", err.msg);
	ck_assert_str_eq(st.backend, "");
	ck_assert_str_eq(journal_state_slot(&st, 42)->job, "");
	ck_assert_int_eq(journal_state_slot(&st, 42)->phase, JOURNAL_MIGRATING);
	journal_state_release(&st);
	/* a job that is not a string is refused */
	const char *bad = "{\"format_version\":\"1.2\",\"record\":\"slot\",\"time_ms\":3,\"slot\":42,"
		"\"phase\":\"migrating\",\"from\":\"" SRC "\",\"to\":\"" DST "\",\"batch\":0,\"keys\":0,\"job\":7}";
	ck_assert_int_eq(journal_decode(bad, strlen(bad), &out, &err), -1);
	ck_assert_ptr_nonnull(strstr(err.msg, "job"));
}
END_TEST

static Suite *journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, phase_names_round_trip);
	tcase_add_test(tc, records_round_trip);
	tcase_add_test(tc, slot_lines_keep_their_text_and_escape_what_needs_it);
	tcase_add_test(tc, shards_round_trip);
	tcase_add_test(tc, transport_recorded_and_checked);
	tcase_add_test(tc, fold_keeps_last_phase_per_slot);
	tcase_add_test(tc, torn_last_line_is_ignored);
	tcase_add_test(tc, finished_journal_starts_over_on_apply);
	tcase_add_test(tc, bad_lines_are_refused);
	tcase_add_test(tc, unknown_fields_and_minor_versions_are_accepted);
	tcase_add_test(tc, file_edge_appends_and_loads);
	tcase_add_test(tc, file_close_does_not_wait_for_the_flushers_rest);
	tcase_add_test(tc, pacing_round_trips_and_older_starts_have_none);
	tcase_add_test(tc, backend_and_job_round_trip_and_older_journals_have_none);
	tcase_add_test(tc, lock_refuses_a_second_holder_naming_the_first);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(journal_suite());
}
