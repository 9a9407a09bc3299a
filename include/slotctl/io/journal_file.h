/* journal_file.h: the executor's checkpoint on disk (the records and their
 * folding are core's: slotctl/core/journal.h): the file edge (append +
 * fsync, load; src/io/files/journal_file.c) and the lock that keeps one run
 * per journal at a time ("<journal>.lock"; src/io/files/journal_lock.c). */
#ifdef SLOTCTL_LAYER_CORE
#error "slotctl/io/journal_file.h is an io header: the core may not include it (ARCHITECTURE.md)"
#endif
#ifndef SLOTCTL_IO_JOURNAL_FILE_H
#define SLOTCTL_IO_JOURNAL_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include "slotctl/core/error.h"
#include "slotctl/core/journal.h"

/* ---- the file edge (src/io/files/journal_file.c) ---- */

struct journal_file;

/* "<plan_path>.journal" into buf. */
void journal_path_for_plan(const char *plan_path, char *buf, size_t size);

/* The largest journal slotctl reads (a full run of 16384 slots writes a few
 * tens of MB). */
#define JOURNAL_MAX_BYTES ((size_t)1 << 30)

/* Reads and replays the journal at path into st (initialised here; caller
 * releases). Returns 1 when the file does not exist (st left empty), 0 when
 * read, -1 with an error (SC_EXIT_USAGE for a malformed journal, one larger
 * than JOURNAL_MAX_BYTES, a symbolic link or not a regular file, naming the
 * file) otherwise. */
int journal_load(const char *path, struct journal_state *st, struct sc_error *err);

/* Opens path for appending (created with mode 0644 when missing), never
 * through a symbolic link (file_open_append). Returns 0 and *out, or -1 with
 * an SC_EXIT_PROBLEMS error naming the file. */
int journal_file_open(const char *path, struct journal_file **out, struct sc_error *err);

/* How soon a record appended without sync reaches the disk. */
#define JOURNAL_FLUSH_INTERVAL_MS 50

/* Appends r as one line in a single write(2) (a killed process loses
 * nothing). With sync, fdatasyncs before returning; without, a background
 * thread flushes it within JOURNAL_FLUSH_INTERVAL_MS, sharing one fdatasync
 * among all records written meanwhile. Thread-safe. Returns 0, or -1 with an
 * error naming the file. */
int journal_file_append(struct journal_file *f, const struct journal_record *r, bool sync,
	struct sc_error *err);

/* Appends the n records of rs, in order, as journal_file_append without
 * sync would one by one, JOURNAL_BATCH_RECORDS lines a write(2) (a crash
 * leaves every record before a torn last line whole). Thread-safe. Returns
 * 0, or -1 with an error naming the file (the records before the failing
 * write are written). */
int journal_file_append_many(struct journal_file *f, const struct journal_record *rs, size_t n,
	struct sc_error *err);

/* Records one write of journal_file_append_many carries at most. */
#define JOURNAL_BATCH_RECORDS 512

/* Flushes to disk what was appended without sync. Thread-safe. */
int journal_file_sync(struct journal_file *f, struct sc_error *err);

/* Closes f (after a final fsync). NULL is fine. */
void journal_file_close(struct journal_file *f);

/* ---- one run per journal (src/io/files/journal_lock.c) ---- */

struct journal_lock;

/* "<journal_path>.lock" into buf. */
void journal_lock_path(const char *journal_path, char *buf, size_t size);

/* Takes the journal's lock for this process: an flock(2) on the file
 * "<journal_path>.lock" (created mode 0644, never through a symbolic link),
 * which then records the holder: pid, host, start time and command (a
 * description of the run, e.g. "slotctl apply 'plan.json'"; never a
 * password). The kernel releases it when the process exits in any way, so a
 * lock of a dead process blocks nothing. Does not wait. Returns 0 and *out,
 * or -1: SC_EXIT_REFUSED naming the holder when another process (or another
 * open in this one) holds it, SC_EXIT_PROBLEMS when the file cannot be
 * opened or locked. */
int journal_lock_acquire(const char *journal_path, const char *command, struct journal_lock **out,
	struct sc_error *err);

/* Removes the lock file and releases the lock. NULL is fine. */
void journal_lock_release(struct journal_lock *l);

#endif
