/* test_files.c: the one way slotctl reads and writes files (file_text.h)
 * and the files that use it: bounded, strict reads (size cap, regular files
 * only, no symbolic link to slotctl's own files), writes that never follow a
 * symbolic link and never leave half a file, journals appended without
 * following a link, and the strict JSON every reader of slotctl's documents
 * uses. Runs in a private temp directory. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "slotctl/io/file_text.h"
#include "slotctl/io/journal_file.h"
#include "check_run.h"
#include "temp_files.h"

static char dir[256];

static void setup(void)
{
	const char *base = getenv("SLOTCTL_TEST_TMP");

	snprintf(dir, sizeof(dir), "%s/files-XXXXXX", base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	file_remove_tree(dir);
}

/* dir/name in a static buffer (one of four, so a call can use a few). */
static const char *at(const char *name)
{
	return temp_file(dir, name);
}

/* The whole of path (caller frees), asserting it reads. */
static char *get(const char *path)
{
	struct sc_error err;
	char *text;
	size_t len;

	ck_assert_msg(file_read(path, "test file", 1 << 20, 0, &text, &len, &err) == 0, "%s", err.msg);
	return text;
}

static void assert_contains(const char *text, const char *want)
{
	ck_assert_msg(strstr(text, want) != NULL, "expected '%s' in '%s'", want, text);
}

/* How many entries dir holds (temporary files left behind show here). */
static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/* ---- reading ---- */

START_TEST(read_is_bounded)
{
	struct sc_error err;
	char *text;
	size_t len;
	int fd;

	temp_file_put(at("small"), "0123456789");
	ck_assert_int_eq(file_read(at("small"), "plan", 10, 0, &text, &len, &err), 0);
	ck_assert_uint_eq(len, 10);
	ck_assert_str_eq(text, "0123456789");
	free(text);
	ck_assert_int_eq(file_read(at("small"), "plan", 9, 0, &text, &len, &err), -1);
	ck_assert_int_eq(err.code, 2);
	assert_contains(err.msg, "cannot read plan '");
	assert_contains(err.msg, "small': larger than 9 bytes");
	/* a file that claims 300 MiB is refused before a byte is read */
	fd = open(at("sparse"), O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)300 << 20), 0);
	close(fd);
	ck_assert_int_eq(file_read(at("sparse"), "plan", (size_t)256 << 20, 0, &text, &len, &err), -1);
	assert_contains(err.msg, "larger than 256 MiB");
	/* the head of a longer file */
	ck_assert_int_eq(file_read(at("small"), "plan", 4, FILE_READ_HEAD, &text, &len, &err), 0);
	ck_assert_str_eq(text, "0123");
	free(text);
}
END_TEST

START_TEST(read_refuses_what_is_not_a_regular_file)
{
	struct sc_error err;
	char *text;
	size_t len;

	/* /dev/zero never ends; before, `apply /dev/zero` grew to 2.1 GB */
	ck_assert_int_eq(file_read("/dev/zero", "plan", 1 << 20, 0, &text, &len, &err), -1);
	ck_assert_int_eq(err.code, 2);
	assert_contains(err.msg, "cannot read plan '/dev/zero': not a regular file");
	/* a FIFO without a writer would block forever */
	ck_assert_int_eq(mkfifo(at("fifo"), 0600), 0);
	ck_assert_int_eq(file_read(at("fifo"), "plan", 1 << 20, 0, &text, &len, &err), -1);
	assert_contains(err.msg, "not a regular file");
	ck_assert_int_eq(file_read(dir, "plan", 1 << 20, 0, &text, &len, &err), -1);
	assert_contains(err.msg, "not a regular file");
	ck_assert_int_eq(file_read(at("missing"), "plan", 1 << 20, 0, &text, &len, &err), -1);
	assert_contains(err.msg, "missing': No such file or directory");
	ck_assert_int_eq(file_read(at("missing"), "plan", 1 << 20, FILE_READ_MISSING_OK, &text, &len, &err), 1);
}
END_TEST

START_TEST(read_of_own_files_refuses_a_symlink)
{
	struct sc_error err;
	char *text;
	size_t len;

	temp_file_put(at("real"), "x");
	ck_assert_int_eq(symlink(at("real"), at("link")), 0);
	ck_assert_int_eq(file_read(at("link"), "journal", 100, 0, &text, &len, &err), 0); /* a plan may be a link */
	free(text);
	ck_assert_int_eq(file_read(at("link"), "journal", 100, FILE_READ_NO_SYMLINK, &text, &len, &err), -1);
	assert_contains(err.msg, "cannot read journal '");
	assert_contains(err.msg, "link': it is a symbolic link");
}
END_TEST

/* ---- writing ---- */

START_TEST(write_replaces_whole_and_leaves_no_temp)
{
	struct sc_error err;
	char *text;

	ck_assert_int_eq(file_write(at("out"), "plan", "first", &err), 0);
	text = get(at("out"));
	ck_assert_str_eq(text, "first\n");
	free(text);
	ck_assert_int_eq(chmod(at("out"), 0600), 0);
	ck_assert_int_eq(file_write(at("out"), "plan", "second\n", &err), 0);
	text = get(at("out"));
	ck_assert_str_eq(text, "second\n");
	free(text);
	ck_assert_int_eq(entries(), 1);
	{
		struct stat st;

		ck_assert_int_eq(stat(at("out"), &st), 0);
		ck_assert_int_eq(st.st_mode & 0777, 0600); /* the replaced file's mode is kept */
	}
	/* a device is written in place (a rename would replace /dev/null) */
	ck_assert_int_eq(file_write("/dev/null", "metrics file", "x", &err), 0);
}
END_TEST

START_TEST(write_never_follows_a_symlink)
{
	struct sc_error err;
	struct stat st;
	char *text;

	/* before, `plan -o LINK` rewrote the link's target in place */
	temp_file_put(at("target"), "precious\n");
	ck_assert_int_eq(symlink(at("target"), at("link")), 0);
	ck_assert_int_eq(file_write(at("link"), "plan", "new", &err), -1);
	ck_assert_int_eq(err.code, 2);
	assert_contains(err.msg, "cannot write plan '");
	assert_contains(err.msg, "link': it is a symbolic link");
	text = get(at("target"));
	ck_assert_str_eq(text, "precious\n");
	free(text);
	ck_assert_int_eq(lstat(at("link"), &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	/* a dangling link is not followed to create its target */
	ck_assert_int_eq(symlink(at("nowhere"), at("dangling")), 0);
	ck_assert_int_eq(file_write(at("dangling"), "metrics file", "new", &err), -1);
	assert_contains(err.msg, "cannot write metrics file '");
	ck_assert_int_eq(access(at("nowhere"), F_OK), -1);
	ck_assert_int_eq(file_check_writable(at("dangling"), "plan", &err), -1);
	ck_assert_int_eq(entries(), 3);
}
END_TEST

START_TEST(write_checks_the_directory_first)
{
	struct sc_error err;

	ck_assert_int_eq(file_check_writable(at("new"), "plan", &err), 0);
	ck_assert_int_eq(file_check_writable("/nonexistent/dir/plan.json", "plan", &err), -1);
	ck_assert_int_eq(err.code, 2);
	assert_contains(err.msg, "cannot write plan '/nonexistent/dir/plan.json': directory '/nonexistent/dir'");
	ck_assert_int_eq(file_write("/nonexistent/dir/plan.json", "plan", "x", &err), -1);
	ck_assert_int_eq(file_check_writable(dir, "plan", &err), -1);
	assert_contains(err.msg, "it is a directory");
	temp_file_put(at("file"), "x");
	ck_assert_int_eq(file_check_writable(at("file/plan.json"), "plan", &err), -1);
	assert_contains(err.msg, "file/plan.json': Not a directory");
	if (geteuid() != 0) { /* root writes anywhere */
		ck_assert_int_eq(mkdir(at("ro"), 0500), 0);
		ck_assert_int_eq(file_check_writable(at("ro/plan.json"), "plan", &err), -1);
		assert_contains(err.msg, "is not writable");
		chmod(at("ro"), 0700);
	}
}
END_TEST

/* A link planted where a predictable temporary name would be ("PATH.tmp.PID",
 * the metrics writer's old one) is neither followed nor in the way: the
 * temporary file gets a fresh name, created with O_EXCL|O_NOFOLLOW. */
START_TEST(write_temp_is_exclusive)
{
	struct sc_error err;
	char planted[600], *text;

	temp_file_put(at("victim"), "keep\n");
	snprintf(planted, sizeof(planted), "%s.tmp.%ld", at("out"), (long)getpid());
	ck_assert_int_eq(symlink(at("victim"), planted), 0);
	for (int i = 0; i < 20; i++)
		ck_assert_int_eq(file_write(at("out"), "metrics file", "x", &err), 0);
	text = get(at("victim"));
	ck_assert_str_eq(text, "keep\n");
	free(text);
	ck_assert_int_eq(entries(), 3);
}
END_TEST

/* ---- journals ---- */

START_TEST(journal_refuses_a_symlink)
{
	struct journal_file *f;
	struct journal_state st;
	struct sc_error err;
	char *text;
	int fd;

	/* before, a dangling PLAN.journal link created and filled its target */
	ck_assert_int_eq(symlink(at("elsewhere"), at("p.json.journal")), 0);
	ck_assert_int_eq(journal_file_open(at("p.json.journal"), &f, &err), -1);
	ck_assert_int_eq(err.code, 1);
	assert_contains(err.msg, "cannot open journal '");
	assert_contains(err.msg, "it is a symbolic link");
	ck_assert_int_eq(access(at("elsewhere"), F_OK), -1);
	ck_assert_int_eq(journal_load(at("p.json.journal"), &st, &err), -1);
	assert_contains(err.msg, "it is a symbolic link");
	/* a link to an existing file is not appended to either */
	temp_file_put(at("elsewhere"), "keep\n");
	ck_assert_int_eq(journal_file_open(at("p.json.journal"), &f, &err), -1);
	text = get(at("elsewhere"));
	ck_assert_str_eq(text, "keep\n");
	free(text);
	/* nor a FIFO (the open does not wait for a reader) */
	ck_assert_int_eq(mkfifo(at("fifo.journal"), 0600), 0);
	ck_assert_int_eq(journal_file_open(at("fifo.journal"), &f, &err), -1);
	fd = file_open_append(at("plain.journal"), "journal", &err);
	ck_assert_msg(fd >= 0, "%s", err.msg);
	close(fd);
}
END_TEST

START_TEST(journal_records_are_strict_json)
{
	struct journal_record r;
	struct sc_error err;
	const char *good = "{\"format_version\":\"1.0\",\"record\":\"end\",\"status\":\"done\",\"time_ms\":1,\"message\":\"m\"}";
	const char *twice = "{\"format_version\":\"1.0\",\"record\":\"end\",\"status\":\"done\",\"time_ms\":1,\"time_ms\":2,\"message\":\"m\"}";
	char buf[256];

	ck_assert_msg(journal_decode(good, strlen(good), &r, &err) == 0, "%s", err.msg);
	journal_record_release(&r);
	ck_assert_int_eq(journal_decode(twice, strlen(twice), &r, &err), -1);
	assert_contains(err.msg, "record has key 'time_ms' twice");
	snprintf(buf, sizeof(buf), "%s{}", good);
	ck_assert_int_eq(journal_decode(buf, strlen(buf), &r, &err), -1);
	assert_contains(err.msg, "record has more after its JSON value");
}
END_TEST

/* Records appended many at once read back whole and in order, across
 * more than one write (JOURNAL_BATCH_RECORDS a write). */
START_TEST(journal_appends_many_records_in_order)
{
	size_t n = 2 * JOURNAL_BATCH_RECORDS + 3;
	struct journal_record *rs = calloc(n, sizeof(*rs));
	struct journal_record start = { .kind = JOURNAL_REC_START, .time_ms = 1 };
	struct journal_file *f;
	struct journal_state st;
	struct sc_error err;

	ck_assert_ptr_nonnull(rs);
	snprintf(start.op, sizeof(start.op), "apply");
	for (size_t i = 0; i < n; i++) {
		rs[i].kind = JOURNAL_REC_SLOT;
		rs[i].time_ms = 2;
		rs[i].slot = (int)(n - i);
		rs[i].phase = i % 2 ? JOURNAL_DONE : JOURNAL_MIGRATING;
		memset(rs[i].from, 'a', SC_NODE_ID_LEN);
		memset(rs[i].to, 'b', SC_NODE_ID_LEN);
	}
	ck_assert_int_eq(journal_file_open(at("many.journal"), &f, &err), 0);
	ck_assert_int_eq(journal_file_append(f, &start, true, &err), 0);
	ck_assert_msg(journal_file_append_many(f, rs, n, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(journal_file_sync(f, &err), 0);
	journal_file_close(f);
	ck_assert_msg(journal_load(at("many.journal"), &st, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(st.count, n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(st.slots[i].slot, (int)(n - i));
		ck_assert_int_eq(st.slots[i].phase, rs[i].phase);
	}
	journal_state_release(&st);
	free(rs);
}
END_TEST

static Suite *files_suite(void)
{
	Suite *s = suite_create("files");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, read_is_bounded);
	tcase_add_test(tc, read_refuses_what_is_not_a_regular_file);
	tcase_add_test(tc, read_of_own_files_refuses_a_symlink);
	tcase_add_test(tc, write_replaces_whole_and_leaves_no_temp);
	tcase_add_test(tc, write_never_follows_a_symlink);
	tcase_add_test(tc, write_checks_the_directory_first);
	tcase_add_test(tc, write_temp_is_exclusive);
	tcase_add_test(tc, journal_refuses_a_symlink);
	tcase_add_test(tc, journal_records_are_strict_json);
	tcase_add_test(tc, journal_appends_many_records_in_order);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(files_suite());
}
