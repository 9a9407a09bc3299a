/* plan_file.c: plan files on disk (see slotctl/plan_file.h): reading one
 * whole and validating it, and writing one so that a reader never sees half
 * a plan (temporary file, fsync, rename). */
#include "slotctl/plan_file.h"
#include "slotctl/exitcode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PLAN_MAX_BYTES (256L << 20) /* far above any real plan */

static int read_stream(FILE *f, const char *path, char **text, size_t *len, struct sc_error *err)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);

	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (got == 0)
			break;
		if (n == cap) {
			char *grown = cap < (size_t)PLAN_MAX_BYTES ? realloc(buf, cap * 2) : NULL;

			if (!grown) {
				free(buf);
				return sc_error_set(err, SC_EXIT_USAGE, "cannot read plan '%s': larger than %ld MiB",
					path, PLAN_MAX_BYTES >> 20);
			}
			buf = grown;
			cap *= 2;
		}
	}
	if (!buf)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "cannot read plan '%s': out of memory", path);
	if (ferror(f)) {
		free(buf);
		return sc_error_set(err, SC_EXIT_USAGE, "cannot read plan '%s': %s", path, strerror(errno));
	}
	*text = buf;
	*len = n;
	return 0;
}

int plan_load(const char *path, struct plan *out, struct sc_error *err)
{
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	char *text;
	size_t len;
	int rc;

	if (!f)
		return sc_error_set(err, SC_EXIT_USAGE, "cannot read plan '%s': %s", path, strerror(errno));
	rc = read_stream(f, path, &text, &len, err);
	if (!is_stdin)
		fclose(f);
	if (rc < 0)
		return -1;
	rc = plan_parse(text, len, out, err);
	free(text);
	if (rc < 0)
		return sc_error_prefix(err, "invalid plan '%s'", path);
	return 0;
}

/* Writes text to f whole and flushed to disk; false on any failure. */
static bool write_all(FILE *f, const char *text)
{
	return f && fputs(text, f) >= 0 && fputc('\n', f) != EOF && fflush(f) == 0 &&
	       (fsync(fileno(f)) == 0 || errno == EINVAL || errno == EROFS);
}

/* Writes into what is already there when path is not a regular file
 * (/dev/stdout, a FIFO, a symlink): renaming over it would replace it. */
static int save_in_place(const char *path, const char *text, struct sc_error *err)
{
	FILE *f = fopen(path, "w");
	bool ok = write_all(f, text);

	if (f && fclose(f) != 0)
		ok = false;
	if (!ok)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "cannot write plan '%s': %s", path, strerror(errno));
	return 0;
}

int plan_save(const char *path, const struct plan *p, struct sc_error *err)
{
	char *text = plan_serialize(p, err);
	char *tmp = text ? malloc(strlen(path) + 32) : NULL;
	struct stat st;
	FILE *f;
	bool ok;

	if (!tmp) {
		free(text);
		return sc_error_set(err, SC_EXIT_PROBLEMS, "cannot write plan '%s': out of memory", path);
	}
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		int rc = save_in_place(path, text, err);

		free(tmp);
		free(text);
		return rc;
	}
	sprintf(tmp, "%s.tmp.%ld", path, (long)getpid());
	f = fopen(tmp, "wx");
	ok = write_all(f, text);
	if (f && fclose(f) != 0)
		ok = false;
	if (ok && rename(tmp, path) != 0)
		ok = false;
	if (!ok) {
		sc_error_set(err, SC_EXIT_PROBLEMS, "cannot write plan '%s': %s", path, strerror(errno));
		if (f)
			unlink(tmp);
	}
	free(tmp);
	free(text);
	return ok ? 0 : -1;
}
