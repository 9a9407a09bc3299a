/* read_file.h: reading a whole file of the source tree or of the fixtures
 * into memory for unit tests. Header-only test helper; failures abort the
 * current Check test. */
#ifndef SLOTCTL_TEST_READ_FILE_H
#define SLOTCTL_TEST_READ_FILE_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "slotctl/io/file_text.h"

/* Reads $root_env/relative (root_env is e.g. "SLOTCTL_SOURCE_ROOT" or
 * "SLOTCTL_FIXTURES"; "." when unset) into a NUL-terminated buffer the caller
 * frees; stores its length in *len when len is not NULL. */
static inline char *test_read_file(const char *root_env, const char *relative, size_t *len)
{
	const char *root = getenv(root_env);
	char path[4096];
	struct sc_error err;
	char *text;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", root ? root : ".", relative);
	ck_assert_msg(file_read(path, "test file", (size_t)64 << 20, 0, &text, &n, &err) == 0, "%s", err.msg);
	if (len)
		*len = n;
	return text;
}

#endif
