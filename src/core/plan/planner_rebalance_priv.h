/* planner_rebalance_priv.h: what the files of `plan rebalance` and `plan
 * drain` share (on top of planner_work.h): the state of a balance, then each
 * file's functions under its name, in the order the calls go (each file
 * calls only files listed below it): planner_rebalance.c the rebalance
 * (planner_rebalance), planner_repack.c the second way for big slots,
 * planner_balance.c the balancing passes, planner_drain.c the drain and its
 * pass, planner_targets.c who takes part, targets and moves. Not a public
 * interface. */
#ifndef SLOTCTL_PLANNER_REBALANCE_PRIV_H
#define SLOTCTL_PLANNER_REBALANCE_PRIV_H

#include "planner_work.h"

/* The state of a rebalance or a drain over the masters of its planner_work. */
struct balance {
	double *weight;   /* per node */
	double *target;   /* per node: its share of the measure */
	bool *part;       /* takes part (owns slots, or empty with --use-empty-masters) */
	bool *receives;   /* may receive: takes part, weight > 0, healthy */
	int *held;        /* slots held with the moves so far (ties when values are 0) */
	double small_max; /* donors of the balancing loop give no slot above this */
};

/* A slot with its value (the balanced measure) and its cost (bytes). */
struct valued {
	double value, cost;
	int slot;
};

/* ---- planner_repack.c: the second way, for big slots ---- */

/* The moves so far and what they change (planner_repack.c). */
struct attempt;

/* A copy of the state of w and b, or NULL on OOM. */
struct attempt *attempt_save(const struct planner_work *w, const struct balance *b);

/* Frees a (NULL: nothing). */
void attempt_free(struct attempt *a);

/* Whether balance_refine_targets raised a master's target to a slot above its
 * share: with unequal weights another master may hold that slot better. */
bool balance_giant_kept(const struct planner_work *w, const struct balance *b, const struct attempt *start);

/* When the first way leaves a master outside the threshold (or keeps a
 * slot above its share where it was): improves it
 * (pw_improve), tries the second way from start (repack, then pw_improve),
 * and keeps the more even result, or on a tie the one moving fewer bytes.
 * 0, or -1 with err on OOM. */
int balance_improve(struct planner_work *w, struct balance *b, double pct, const struct attempt *start,
	struct sc_error *err);

/* ---- planner_balance.c: the balancing passes ---- */

/* Whether nodes[i]'s load is within pct percent of its target. */
bool balance_within(const struct planner_work *w, const struct balance *b, size_t i, double pct);

/* Whether every master taking part with a weight above 0 is balance_within. */
bool balance_all_within(const struct planner_work *w, const struct balance *b, double pct);

/* Balances the slots not yet moved and no bigger than b->small_max: while
 * a master is outside pct (by slots: once one is, until every master is
 * within one slot of its target), the most overloaded gives the most
 * underloaded a slot (planner_balance.c says which), recorded in w and b.
 * 0, or -1 with err on OOM. */
int balance_run(struct planner_work *w, struct balance *b, double pct, struct sc_error *err);

/* ---- planner_drain.c: the drain pass ---- */

/* Moves every slot of each taking-part master with weight 0 to receivers.
 * 0, or -1 with err (OOM, or SC_EXIT_USAGE when no master can receive). */
int balance_empty_zero_weights(struct planner_work *w, struct balance *b, struct sc_error *err);

/* ---- planner_targets.c: who takes part, targets, moves ---- */

/* Frees what b holds. */
void balance_free(struct balance *b);

/* The work of a rebalance or a drain: w from the map and stats (every
 * owned slot measured), b allocated for its masters. On failure neither
 * needs releasing. */
int balance_start(struct planner_work *w, struct balance *b, const struct topology *map,
	const struct slot_stats *stats, const struct planner_opts *opts, struct sc_error *err);

/* Decides who takes part and who receives, checks health, sets targets
 * (from b->weight). 0, or -1 with err. */
int balance_setup(struct planner_work *w, struct balance *b, struct sc_error *err);

/* Whole slots cannot be split: a master holding a slot larger than its share
 * can at best hold just that slot. Such a master's target becomes its
 * largest slot, and the rest is shared among the others by weight, again
 * until no master's largest slot exceeds its share (water-filling). With
 * floor, floor[i] stands for nodes[i]'s largest slot. 0, or -1 with err on
 * OOM. */
int balance_refine_targets(struct planner_work *w, struct balance *b, const double *floor,
	struct sc_error *err);

/* Largest value first; then fewest bytes; then lowest slot (qsort). */
int balance_largest_first(const void *a, const void *b);

/* Fills out (room for SC_SLOTS) with the slots nodes[node] owns that do
 * not move yet, in slot order; returns how many. */
size_t balance_movable_slots(const struct planner_work *w, int node, struct valued *out);

/* Moves slot to nodes[to] (pw_move), counting it in b->held. */
void balance_record_move(struct planner_work *w, struct balance *b, int slot, int to);

#endif
