/* plan_file.h: plan files on disk: load (read + plan_parse) and save
 * (plan_serialize, written atomically). The format is in plan.h and
 * man/slotctl-plan.5. */
#ifdef SLOTCTL_LAYER_CORE
#error "slotctl/io/plan_file.h is an io header: the core may not include it (ARCHITECTURE.md)"
#endif
#ifndef SLOTCTL_PLAN_FILE_H
#define SLOTCTL_PLAN_FILE_H

#include "slotctl/core/plan.h"

/* Reads the plan at path ("-": standard input) and validates it. Returns 0
 * and fills out (caller releases with plan_release), or -1 with an error
 * naming the file: SC_EXIT_USAGE when it cannot be read (missing, not a
 * regular file, larger than 256 MiB: file_read) or is not a valid plan (the
 * message names the field). */
int plan_load(const char *path, struct plan *out, struct sc_error *err);

/* Writes p to path atomically (file_write): an exclusive temporary file in
 * the same directory, flushed to disk, then renamed over path; a path that
 * is a device or FIFO is written in place, a symbolic link is refused.
 * Returns 0, or -1 with an error naming the file (SC_EXIT_USAGE when path
 * cannot be written at all, SC_EXIT_PROBLEMS when writing fails); path is
 * then untouched. */
int plan_save(const char *path, const struct plan *p, struct sc_error *err);

#endif
