/* fix_human.h: the text `slotctl fix` prints for people: the repair plan
 * and the outcome of each repair, with the slots that need the same repair
 * (or got the same outcome) printed once, as slot ranges. */
#ifndef SLOTCTL_FIX_HUMAN_H
#define SLOTCTL_FIX_HUMAN_H

#include "slotctl/io/repair.h"

/* Prints every broken slot's state, its owner after fix and the steps, then
 * a count line, on stdout. */
void fix_print_plan(const struct repair_survey *sv);

/* Prints a [FIXED]/[LEFT]/[FAILED] line per group of slots with the same
 * outcome, then the counts, on stdout (sv->outcomes filled). */
void fix_print_outcomes(const struct repair_survey *sv);

#endif
