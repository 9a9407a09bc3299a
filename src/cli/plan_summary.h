/* plan_summary.h: what a reviewer reads about a plan, rendered in one place
 * for `slotctl plan` (to stderr after writing the file) and `slotctl show`
 * (to stdout, or as JSON): per-master before -> after, imbalance, moves per
 * source -> target pair, hot and big slots, the total to move. */
#ifndef SLOTCTL_CLI_PLAN_SUMMARY_H
#define SLOTCTL_CLI_PLAN_SUMMARY_H

#include <cJSON.h>
#include <stdio.h>
#include "slotctl/core/plan.h"

#define SHOW_FORMAT_VERSION "1.0"

/* Prints the human summary of p to f. */
void plan_summary_print(const struct plan *p, FILE *f);

/* Tells where a kept plan was written and what to run next, on f. */
void plan_summary_written(const char *path, FILE *f);

/* The summary as a JSON object (caller deletes), or NULL on OOM. */
cJSON *plan_summary_json(const struct plan *p);

#endif
