/* file_text.c: reading a whole text file with a size bound, and replacing one
 * through a temporary file and a rename (see slotctl/file_text.h). */
#include "slotctl/file_text.h"

#include <errno.h>
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
