/* file_text.h: the one way slotctl reads a file and the one way it writes
 * one (plans, journals, the metrics textfile, the sandbox state), and
 * removing a directory tree slotctl made.
 *
 * Reading is bounded and strict: a size cap checked before and during the
 * read, a regular file only (a FIFO or /dev/zero would hang or never end),
 * and for slotctl's own files no symbolic link at the path. Writing never
 * shows a reader half a file and never writes through a symbolic link: an
 * exclusive temporary file in the same directory, fsync, rename over the
 * target, fsync of the directory. Journals are the exception that appends:
 * file_open_append. Every error names the file and what it is. */
#ifdef SLOTCTL_LAYER_CORE
#error "slotctl/io/file_text.h is an io header: the core may not include it (ARCHITECTURE.md)"
#endif
#ifndef SLOTCTL_FILE_TEXT_H
#define SLOTCTL_FILE_TEXT_H

#include <stddef.h>
#include "slotctl/core/error.h"

enum file_read_flag {
	FILE_READ_STDIN = 1 << 0,      /* "-" is standard input (any kind of file) */
	FILE_READ_NO_SYMLINK = 1 << 1, /* refuse a symbolic link at path (slotctl's own files) */
	FILE_READ_MISSING_OK = 1 << 2, /* no file at path: return 1, err untouched */
	FILE_READ_HEAD = 1 << 3,       /* read at most max bytes of a longer file, no error */
};

/* Reads the regular file at path whole (flags: enum file_read_flag) into a
 * new NUL-terminated buffer: *text (the caller frees it) and *len (without
 * the NUL). what names the file in errors ("plan": "cannot read plan 'x':
 * ..."). Returns 0; 1 with FILE_READ_MISSING_OK and no file at path; or -1
 * with an SC_EXIT_USAGE error (SC_EXIT_PROBLEMS when out of memory): the
 * file is missing, not a regular file, a symbolic link (FILE_READ_NO_SYMLINK),
 * larger than max bytes, or unreadable. *text and *len are written only on
 * success. Never blocks on a FIFO. */
int file_read(const char *path, const char *what, size_t max, unsigned flags, char **text, size_t *len,
	struct sc_error *err);

/* Checks, before any work whose result goes there, that file_write(path)
 * can succeed: path is not a symbolic link or a directory, and its directory
 * exists and is writable (or path is an existing device or FIFO, written in
 * place). Returns 0, or -1 with an SC_EXIT_USAGE error naming the file. */
int file_check_writable(const char *path, const char *what, struct sc_error *err);

/* Replaces the file at path with text (plus a final newline when text does
 * not end with one), so that a reader sees the old file or the new one,
 * never half of either: writes an exclusive temporary file
 * (O_CREAT|O_EXCL|O_NOFOLLOW) named ".<name>.tmp-XXXXXX" next to it, fsyncs
 * it, renames it over path and fsyncs the directory. An existing file keeps
 * its permission bits. A symbolic link at path is refused, never followed;
 * an existing device or FIFO (/dev/null) is written in place, since a rename
 * would replace it. Returns 0, or -1 with an error naming the file:
 * SC_EXIT_USAGE when path cannot be written (file_check_writable),
 * SC_EXIT_PROBLEMS when writing fails (the temporary file is then removed
 * and path is untouched). */
int file_write(const char *path, const char *what, const char *text, struct sc_error *err);

/* Opens the regular file at path for appending (created 0644 when absent):
 * O_WRONLY|O_APPEND|O_CREAT|O_NOFOLLOW, so each write(2) lands at the end
 * and a symbolic link at path (dangling or not) is refused instead of
 * creating or filling its target. Returns the descriptor (close-on-exec), or
 * -1 with an SC_EXIT_PROBLEMS error naming the file. */
int file_open_append(const char *path, const char *what, struct sc_error *err);

/* Removes path and everything below it, depth first, never following a
 * symbolic link out of the tree. Best effort: what cannot be removed stays. */
void file_remove_tree(const char *path);

#endif
