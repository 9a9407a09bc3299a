/* temp_files.h: names in a test's own directory and small files written
 * there, for tests of how slotctl reads and writes files. Header-only, so
 * unit tests (which do not link the support library) use it too. */
#ifndef SLOTCTL_TEST_TEMP_FILES_H
#define SLOTCTL_TEST_TEMP_FILES_H

#include <check.h>
#include <stdio.h>

/* "dir/name" in a static buffer, one of four so a call can take a few. */
static inline const char *temp_file(const char *dir, const char *name)
{
	static char bufs[4][512];
	static int next;
	char *b = bufs[next++ % 4];

	ck_assert_msg((size_t)snprintf(b, sizeof(bufs[0]), "%s/%s", dir, name) < sizeof(bufs[0]),
		"path too long: %s/%s", dir, name);
	return b;
}

/* Writes text (exactly) to path, creating or truncating it. */
static inline void temp_file_put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "cannot create '%s'", path);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

#endif
