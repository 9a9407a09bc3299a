/* file_text.c: the one bounded, strict way to read a file and the one safe
 * way to write one (see slotctl/io/file_text.h), appending to a journal, and
 * removing a directory tree. Every file slotctl reads or writes for the user
 * goes through here, so the rules hold everywhere at once:
 *   - a read never takes more than its cap, never blocks on a FIFO, and
 *     refuses what is not a regular file;
 *   - a write never follows a symbolic link and never leaves half a file:
 *     exclusive temporary file, fsync, rename, fsync of the directory. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "slotctl/io/file_text.h"
#include "slotctl/core/exitcode.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TEMP_ATTEMPTS 100

/* max as "256 MiB" or "4096 bytes", for messages. */
static void size_text(size_t max, char *buf, size_t size)
{
	if (max >= (1u << 20) && max % (1u << 20) == 0)
		snprintf(buf, size, "%zu MiB", max >> 20);
	else
		snprintf(buf, size, "%zu bytes", max);
}

/* The reason an open of path failed with e: a symbolic link is named as
 * such (O_NOFOLLOW says only ELOOP). */
static const char *open_reason(const char *path, int e)
{
	struct stat st;

	if (e == ELOOP && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		return "it is a symbolic link, which slotctl does not follow to its own files";
	return strerror(e);
}

/* Clears O_NONBLOCK (set at open so that a FIFO cannot hang the open). */
static void blocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
}

/* Reads fd to its end, or to max bytes with head. Returns 0 and sets *text,
 * *len; or an errno value (EFBIG: more than max bytes). */
static int read_fd(int fd, size_t max, bool head, char **text, size_t *len)
{
	size_t limit = head ? max : max + 1; /* one byte past max tells it is too long */
	size_t cap = limit < ((size_t)1 << 16) ? limit + 1 : (size_t)1 << 16, n = 0;
	char *buf = malloc(cap), *grown;
	int e = buf ? 0 : ENOMEM;

	while (!e && n < limit) {
		ssize_t got;

		if (n + 1 == cap) { /* cap <= limit here: room to grow up to limit + 1 */
			size_t want = cap > limit / 2 ? limit + 1 : cap * 2;

			if (!(grown = realloc(buf, want))) {
				e = ENOMEM;
				break;
			}
			buf = grown;
			cap = want;
		}
		got = read(fd, buf + n, cap - 1 - n);
		if (got < 0 && errno != EINTR)
			e = errno;
		if (got == 0)
			break;
		if (got > 0)
			n += (size_t)got;
	}
	if (!e && n > max)
		e = EFBIG;
	if (e) {
		free(buf);
		return e;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

/* Opens path for reading: a regular file, no symbolic link with
 * FILE_READ_NO_SYMLINK, at most max bytes unless FILE_READ_HEAD. Returns the
 * descriptor, -2 for a missing file with FILE_READ_MISSING_OK, or -1. */
static int open_for_read(const char *path, const char *what, size_t max, unsigned flags,
	struct sc_error *err)
{
	int nofollow = flags & FILE_READ_NO_SYMLINK ? O_NOFOLLOW : 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | nofollow);
	char limit[32];
	struct stat st;

	if (fd < 0 && errno == ENOENT && (flags & FILE_READ_MISSING_OK))
		return -2;
	if (fd < 0)
		return sc_error_set(err, SC_EXIT_USAGE, "cannot read %s '%s': %s", what, path,
			open_reason(path, errno));
	if (fstat(fd, &st) < 0)
		st.st_mode = 0;
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return sc_error_set(err, SC_EXIT_USAGE, "cannot read %s '%s': not a regular file", what, path);
	}
	if (!(flags & FILE_READ_HEAD) && (uintmax_t)st.st_size > (uintmax_t)max) {
		close(fd);
		size_text(max, limit, sizeof(limit));
		return sc_error_set(err, SC_EXIT_USAGE, "cannot read %s '%s': larger than %s", what, path, limit);
	}
	blocking(fd);
	return fd;
}

int file_read(const char *path, const char *what, size_t max, unsigned flags, char **text, size_t *len,
	struct sc_error *err)
{
	bool is_stdin = (flags & FILE_READ_STDIN) && strcmp(path, "-") == 0;
	int fd = is_stdin ? STDIN_FILENO : open_for_read(path, what, max, flags, err);
	char limit[32];
	int e;

	if (fd == -2)
		return 1;
	if (fd < 0)
		return -1;
	e = read_fd(fd, max, flags & FILE_READ_HEAD, text, len);
	if (!is_stdin)
		close(fd);
	if (e == 0)
		return 0;
	if (e == ENOMEM)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "cannot read %s '%s': out of memory", what, path);
	size_text(max, limit, sizeof(limit));
	return sc_error_set(err, SC_EXIT_USAGE, "cannot read %s '%s': %s%s", what, path,
		e == EFBIG ? "larger than " : "", e == EFBIG ? limit : strerror(e));
}

/* ---- writing ---- */

/* The directory part of path ("." for a bare name). Returns 0, or -1 when
 * it does not fit. */
static int dir_of(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 0;

	if (n >= size)
		return -1;
	if (!slash)
		snprintf(buf, size, ".");
	else if (n == 0)
		snprintf(buf, size, "/");
	else
		snprintf(buf, size, "%.*s", (int)n, path);
	return 0;
}

/* How path is to be written: 0 replaced (st->st_mode is 0 when it does not
 * exist yet), 1 in place (an existing device or FIFO), or -1 with the error. */
static int write_mode(const char *path, const char *what, struct stat *st, struct sc_error *err)
{
	char dir[PATH_MAX];
	struct stat d;

	if (lstat(path, st) == 0) {
		if (S_ISLNK(st->st_mode))
			return sc_error_set(err, SC_EXIT_USAGE, "cannot write %s '%s': it is a symbolic link; "
				"give the path of the file itself (slotctl replaces files and never writes through a link)",
				what, path);
		if (S_ISDIR(st->st_mode))
			return sc_error_set(err, SC_EXIT_USAGE, "cannot write %s '%s': it is a directory", what, path);
		if (!S_ISREG(st->st_mode))
			return 1;
	} else if (errno != ENOENT) {
		return sc_error_set(err, SC_EXIT_USAGE, "cannot write %s '%s': %s", what, path, strerror(errno));
	} else {
		st->st_mode = 0;
	}
	if (dir_of(path, dir, sizeof(dir)) < 0)
		return sc_error_set(err, SC_EXIT_USAGE, "cannot write %s '%s': %s", what, path, strerror(ENAMETOOLONG));
	if (stat(dir, &d) < 0)
		return sc_error_set(err, SC_EXIT_USAGE, "cannot write %s '%s': directory '%s': %s", what, path, dir,
			strerror(errno));
	if (!S_ISDIR(d.st_mode))
		return sc_error_set(err, SC_EXIT_USAGE, "cannot write %s '%s': '%s' is not a directory", what, path, dir);
	if (access(dir, W_OK | X_OK) < 0)
		return sc_error_set(err, SC_EXIT_USAGE, "cannot write %s '%s': directory '%s' is not writable: %s",
			what, path, dir, strerror(errno));
	return 0;
}

int file_check_writable(const char *path, const char *what, struct sc_error *err)
{
	struct stat st;

	return write_mode(path, what, &st, err) < 0 ? -1 : 0;
}

/* Writes text and, unless it ends with one, a newline. Returns 0 or errno. */
static int write_text(int fd, const char *text)
{
	size_t len = strlen(text);
	bool newline = len == 0 || text[len - 1] != '\n';

	while (len > 0 || newline) {
		const char *p = len > 0 ? text : "\n";
		ssize_t n = write(fd, p, len > 0 ? len : 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (len > 0) {
			text += n;
			len -= (size_t)n;
		} else {
			newline = false;
		}
	}
	return 0;
}

/* fsync that accepts a file system without it (EINVAL, EROFS). */
static int sync_fd(int fd)
{
	return fsync(fd) == 0 || errno == EINVAL || errno == EROFS ? 0 : errno;
}

/* Creates "<dir>/.<name>.tmp-XXXXXX" exclusively (O_EXCL|O_NOFOLLOW: never
 * an existing file or link). Returns the descriptor with its name in tmp, or
 * -1 with errno set. */
static int open_temp(const char *path, char *tmp, size_t size)
{
	static unsigned counter;
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	struct timespec ts;

	if (dir_of(path, dir, sizeof(dir)) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	for (int attempt = 0; attempt < TEMP_ATTEMPTS; attempt++) {
		uint64_t x = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)++counter * 0x9e3779b97f4a7c15ULL);
		int fd;

		x ^= x >> 31;
		x *= 0xbf58476d1ce4e5b9ULL;
		x ^= x >> 29;
		if ((size_t)snprintf(tmp, size, "%s/.%s.tmp-%06llx", dir, name, (unsigned long long)(x & 0xffffff)) >= size) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	errno = EEXIST;
	return -1;
}

/* Fsyncs the directory holding path, so that a rename into it survives a
 * crash. Returns 0 or errno. */
static int sync_dir(const char *path)
{
	char dir[PATH_MAX];
	int fd, e;

	if (dir_of(path, dir, sizeof(dir)) < 0)
		return ENAMETOOLONG;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	e = sync_fd(fd);
	close(fd);
	return e;
}

/* The replacement: temp file, write, fsync, rename, fsync the directory.
 * mode: the old file's mode, or 0. Returns 0 or errno (temp removed). */
static int replace(const char *path, const char *text, mode_t mode)
{
	char tmp[PATH_MAX + 64];
	int fd = open_temp(path, tmp, sizeof(tmp));
	int e;

	if (fd < 0)
		return errno;
	e = mode && fchmod(fd, mode & 07777) != 0 ? errno : 0;
	if (!e)
		e = write_text(fd, text);
	if (!e)
		e = sync_fd(fd);
	if (close(fd) != 0 && !e)
		e = errno;
	if (!e && rename(tmp, path) != 0)
		e = errno;
	if (e) {
		unlink(tmp);
		return e;
	}
	return sync_dir(path);
}

/* Writes an existing device or FIFO in place (no O_TRUNC, no rename; a FIFO
 * without a reader fails at once instead of waiting). Returns 0 or errno. */
static int write_in_place(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	int e;

	if (fd < 0)
		return errno;
	if (fstat(fd, &st) < 0 || S_ISREG(st.st_mode)) {
		close(fd);
		return EAGAIN; /* it changed into a regular file under us */
	}
	blocking(fd);
	e = write_text(fd, text);
	if (close(fd) != 0 && !e)
		e = errno;
	return e;
}

int file_write(const char *path, const char *what, const char *text, struct sc_error *err)
{
	struct stat st;
	int mode = write_mode(path, what, &st, err);
	int e;

	if (mode < 0)
		return -1;
	e = mode == 1 ? write_in_place(path, text) : replace(path, text, st.st_mode);
	if (e)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "cannot write %s '%s': %s", what, path, strerror(e));
	return 0;
}

int file_open_append(const char *path, const char *what, struct sc_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644);
	struct stat st;

	if (fd < 0)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "cannot open %s '%s': %s", what, path,
			open_reason(path, errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return sc_error_set(err, SC_EXIT_PROBLEMS, "cannot open %s '%s': not a regular file", what, path);
	}
	blocking(fd);
	return fd;
}

/* ---- removing ---- */

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
