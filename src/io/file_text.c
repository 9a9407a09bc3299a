/* file_text.c: reading a whole text file with a size bound, replacing one
 * through a temporary file and a rename, and removing a directory tree (see
 * slotctl/file_text.h). */
#define _XOPEN_SOURCE 700 /* nftw */
#include "slotctl/file_text.h"

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int file_read_all(FILE *f, size_t max, char **text, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);

	while (buf) {
		size_t got = fread(buf + n, 1, cap - n - 1, f);

		n += got;
		if (got == 0)
			break;
		if (n > max) {
			free(buf);
			return EFBIG;
		}
		if (n + 1 == cap) {
			char *grown = realloc(buf, cap * 2);

			if (!grown)
				free(buf);
			buf = grown;
			cap *= 2;
		}
	}
	if (!buf)
		return ENOMEM;
	if (ferror(f)) {
		int e = errno ? errno : EIO;

		free(buf);
		return e;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

void file_remove_tree(const char *path)
{
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes text and a newline to f, flushed to disk (where the file can be);
 * closes f. Returns 0 or an errno value. */
static int write_whole(FILE *f, const char *text)
{
	bool ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF && fflush(f) == 0 &&
		  (fsync(fileno(f)) == 0 || errno == EINVAL || errno == EROFS);
	int e = ok ? 0 : (errno ? errno : EIO);

	if (fclose(f) != 0 && !e)
		e = errno ? errno : EIO;
	return e;
}

int file_replace(const char *path, const char *text)
{
	struct stat st;
	char *tmp;
	FILE *f;
	int e;

	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		f = fopen(path, "w");
		return f ? write_whole(f, text) : errno;
	}
	tmp = malloc(strlen(path) + 32);
	if (!tmp)
		return ENOMEM;
	sprintf(tmp, "%s.tmp.%ld", path, (long)getpid());
	f = fopen(tmp, "wx");
	if (!f) {
		e = errno;
		free(tmp);
		return e;
	}
	e = write_whole(f, text);
	if (!e && rename(tmp, path) != 0)
		e = errno;
	if (e)
		unlink(tmp);
	free(tmp);
	return e;
}
