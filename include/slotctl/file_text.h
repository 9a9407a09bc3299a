/* file_text.h: files that slotctl reads and writes for the user (plans, the
 * sandbox state and directories): reading a whole text file into memory with
 * a bound on its size, replacing one so that a reader never sees half of it,
 * and removing a directory tree slotctl made. The callers word the errors:
 * these return errno values. */
#ifndef SLOTCTL_FILE_TEXT_H
#define SLOTCTL_FILE_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Reads f to its end into a new NUL-terminated buffer: *text (the caller
 * frees it) and *len (without the NUL). Returns 0, or an errno value: EFBIG
 * when f holds more than max bytes, ENOMEM, or the read error. *text and
 * *len are written only on success; f is not closed. */
int file_read_all(FILE *f, size_t max, char **text, size_t *len);

/* Replaces the file at path with text and a final newline: writes
 * "<path>.tmp.<pid>", flushes it to disk and renames it over path, so a
 * reader sees the old file or the new one. When path exists and is not a
 * regular file (/dev/stdout, a FIFO, a symlink) it is written in place
 * instead, since a rename would replace it. Returns 0, or an errno value
 * (the temporary file is removed on failure). */
int file_replace(const char *path, const char *text);

/* Removes path and everything below it, depth first, never following a
 * symbolic link out of the tree. Best effort: what cannot be removed stays. */
void file_remove_tree(const char *path);

#endif
