/* plan_file.c: plan files on disk (see slotctl/plan_file.h): reading one
 * whole and validating it, and writing one so that a reader never sees half
 * a plan (temporary file, fsync, rename). */
#include "slotctl/plan_file.h"
#include "slotctl/exitcode.h"
#include "slotctl/file_text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAN_MAX_BYTES (256L << 20) /* far above any real plan */

/* The error for errno value e while reading or writing plan path. */
static int file_error(struct sc_error *err, const char *verb, const char *path, int e)
{
	if (e == EFBIG)
		return sc_error_set(err, SC_EXIT_USAGE, "cannot %s plan '%s': larger than %ld MiB",
			verb, path, PLAN_MAX_BYTES >> 20);
	if (e == ENOMEM)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "cannot %s plan '%s': out of memory", verb, path);
	return sc_error_set(err, strcmp(verb, "read") == 0 ? SC_EXIT_USAGE : SC_EXIT_PROBLEMS,
		"cannot %s plan '%s': %s", verb, path, strerror(e));
}

int plan_load(const char *path, struct plan *out, struct sc_error *err)
{
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	char *text;
	size_t len;
	int rc;

	if (!f)
		return file_error(err, "read", path, errno);
	rc = file_read_all(f, PLAN_MAX_BYTES, &text, &len);
	if (!is_stdin)
		fclose(f);
	if (rc != 0)
		return file_error(err, "read", path, rc);
	rc = plan_parse(text, len, out, err);
	free(text);
	if (rc < 0)
		return sc_error_prefix(err, "invalid plan '%s'", path);
	return 0;
}

int plan_save(const char *path, const struct plan *p, struct sc_error *err)
{
	char *text = plan_serialize(p, err);
	int e;

	if (!text)
		return -1;
	e = file_replace(path, text);
	free(text);
	return e ? file_error(err, "write", path, e) : 0;
}
