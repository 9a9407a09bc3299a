/* planner_work.h: the planner's private working state, shared by the files
 * of the planner (planner.c, planner_reshard.c, planner_rebalance.c and the
 * files of planner_rebalance_priv.h, planner_improve.c, plan_batches.c).
 * Not a public interface. */
#ifndef SLOTCTL_PLANNER_WORK_H
#define SLOTCTL_PLANNER_WORK_H

#include "slotctl/core/planner.h"

struct planner_work {
	const struct topology *map;
	const struct slot_stats *stats;
	const struct planner_opts *opts;
	struct plan_node *nodes;    /* eligible masters, sorted by id (the plan's nodes) */
	size_t count;
	const struct node **src;    /* src[i]: the map's node behind nodes[i] */
	int owner[SC_SLOTS];        /* index into nodes at plan time, -1 none */
	int dest[SC_SLOTS];         /* index into nodes the slot moves to, -1 stays */
	double value[SC_SLOTS];     /* the balanced measure of each slot */
	double *load;               /* per node: measure it holds with the moves so far */
	char **warnings;            /* collected while planning */
	size_t warning_count;
};

/* Builds the working state; -1 with an error on OOM, or with the
 * SC_EXIT_REFUSED error of topology_require_sound when map is impossible
 * (a node, an address or myself listed twice, or no myself). */
int pw_init(struct planner_work *w, const struct topology *map, const struct slot_stats *stats,
	const struct planner_opts *opts, struct sc_error *err);

/* For the planners that balance (rebalance, drain): -1 with an
 * SC_EXIT_PROBLEMS error naming the first owned slot whose --by measure is
 * unknown. A reshard balances nothing and needs no measure. */
int pw_require_measured(const struct planner_work *w, struct sc_error *err);
void pw_release(struct planner_work *w);

/* The error for a failed allocation while planning; returns -1. */
int pw_no_memory(struct sc_error *err);

/* The index of the eligible master named by id or unique prefix; -1 with an
 * SC_EXIT_USAGE error (listing candidates when ambiguous) otherwise. what
 * names the option for the message ("--to"). */
int pw_find_master(const struct planner_work *w, const char *prefix, const char *what,
	struct sc_error *err);

/* -1 with SC_EXIT_REFUSED when nodes[i] is flagged fail or fail?. */
int pw_require_healthy(const struct planner_work *w, int i, struct sc_error *err);

/* What moving slot costs (bytes when known, else keys, else 0). */
double pw_cost(const struct planner_work *w, int slot);

/* Sorts values[0..n) ascending in place and returns the k-th (the last
 * when k >= n; 0 when n is 0): a median or percentile of slot costs. */
double pw_sorted_at(double *values, size_t n, size_t k);

/* The node that holds slot with the moves so far (-1: nobody). */
int pw_holder(const struct planner_work *w, int slot);

/* Schedules slot to move from its holder to nodes[to], updating loads; a
 * slot sent back to its owner no longer moves. */
void pw_move(struct planner_work *w, int slot, int to);

/* The improvement phase of a rebalance (planner_improve.c), over the slots
 * whose value is above min_value. takes[i]: nodes[i] takes part with weight
 * weight[i] > 0. While some pair of such masters can come closer in load per
 * weight by one slot moved (however big) or two swapped, without leaving the
 * band [lowest, highest], the most loaded gives or the least loaded takes;
 * then slots go back to their owners wherever that keeps every master inside
 * the band reached. Each step lowers the sum of squared loads per weight, and
 * the steps are bounded. 0, or -1 with an error on OOM. */
int pw_improve(struct planner_work *w, const bool *takes, const double *weight, double min_value,
	struct sc_error *err);

/* The spread of load per weight over the masters of takes: 1 - lowest /
 * highest (0: even; 1: one holds nothing). */
double pw_spread(const struct planner_work *w, const bool *takes, const double *weight);

/* Adds a printf-formatted warning to the plan being built (OOM: dropped). */
void pw_warn(struct planner_work *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Fills every node's keys/bytes before and after the scheduled moves (both
 * -1 when a slot it holds before or after has an unknown count: a reshard
 * measures only its sources' memory) and its slots_after. pw_finish does it
 * again, so a planner may look at them first. */
void pw_summarise(struct planner_work *w);

/* Turns the scheduled moves into a plan of kind: summaries, hot flags,
 * batches, big keys, capacity warnings (an SC_EXIT_REFUSED error with
 * opts->strict), fingerprint and options. out written only on success. */
int pw_finish(struct planner_work *w, enum plan_kind kind, struct plan *out, struct sc_error *err);

#endif
