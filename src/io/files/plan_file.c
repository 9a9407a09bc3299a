/* plan_file.c: plan files on disk (see slotctl/io/plan_file.h): reading one
 * whole and validating it, and writing one so that a reader never sees half
 * a plan. Both through file_text.h, the one way slotctl reads and writes a
 * file: a plan is read only up to PLAN_MAX_BYTES and only from a regular
 * file (or standard input), and written through an exclusive temporary file
 * and a rename, never through a symbolic link. */
#include "slotctl/io/plan_file.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/file_text.h"

#include <stdlib.h>

#define PLAN_MAX_BYTES ((size_t)256 << 20) /* far above any real plan */

int plan_load(const char *path, struct plan *out, struct sc_error *err)
{
	char *text;
	size_t len;
	int rc;

	if (file_read(path, "plan", PLAN_MAX_BYTES, FILE_READ_STDIN, &text, &len, err) != 0)
		return -1;
	rc = plan_parse(text, len, out, err);
	free(text);
	if (rc < 0)
		return sc_error_prefix(err, "invalid plan '%s'", path);
	return 0;
}

int plan_save(const char *path, const struct plan *p, struct sc_error *err)
{
	char *text = plan_serialize(p, err);
	int rc;

	if (!text)
		return -1;
	rc = file_write(path, "plan", text, err);
	free(text);
	return rc;
}
