/* repair_priv.h: what the files of fix's I/O edge share (slotctl/io/repair.h
 * is the public side): the types of a duplicate-key scan and of the stages,
 * then each file's functions under its name, in the order the calls go
 * (each file calls only files listed below it): repair_stages.c the steps
 * of every item stage by stage (repair_execute), repair_owner.c the owner
 * stage, repair_steps.c one item's steps, repair_survey.c the survey
 * (repair_survey) and the snapshot's nodes, repair_dups.c keys held on both
 * ends of a key move and --prefer; repair_atomic.c (fix --cancel-atomic)
 * calls only repair_survey.c's repair_is_master. Not a public interface. */
#ifndef SLOTCTL_REPAIR_PRIV_H
#define SLOTCTL_REPAIR_PRIV_H

#include "slotctl/io/repair.h"
#include "slotctl/io/pool.h"

#define REPAIR_DEFAULT_THREADS 8

/* How many threads fix runs nodes' work on: --threads, else the default. */
static inline int repair_threads(const struct repair_opts *o)
{
	return o->threads > 0 ? o->threads : REPAIR_DEFAULT_THREADS;
}

/* The keys of one slot on one node, as GETKEYSINSLOT named them. */
struct keylist {
	redisReply *reply;       /* GETKEYSINSLOT reply owning the names */
	const char **names;
	size_t *lens;
	size_t count;
};

/* Keys of a slot present on both nodes of a move. */
struct dup_scan {
	struct keylist src, dst;
	const char **diff;       /* different values (names borrowed from src) */
	size_t *diff_lens;
	size_t ndiff;
	size_t same;             /* byte-identical DUMP payloads */
	size_t unknown;          /* on both, but a value could not be read */
};

/* Which copy of a key on both nodes of a move stays (repair_keep_for). */
enum keep { KEEP_UNDECIDED, KEEP_SOURCE, KEEP_TARGET };

/* The stages of a repair, run for every item before the next begins (see
 * repair_execute): coverage (the early steps), keys (opening the slot and
 * moving its keys: every step before the first NODE or BUMPEPOCH), owner
 * (the rest: the new owner takes the slot, the others are told). */
enum stage { STAGE_COVER, STAGE_KEYS, STAGE_OWNER };

/* Which steps of a stage repair_run_item runs: all, only those on one node,
 * or all but those; with claimants, only the NODE steps sent to a node that
 * claims the slot (in the snapshot) and is not `node`. */
struct step_filter {
	int node;                /* -1: every node */
	bool except;             /* the steps on every node but `node` */
	bool claimants;
};

/* ---- repair_owner.c: the owner stage, one new owner at a time ---- */

/* Runs the owner stage of every item of sv still planned: the slots'
 * new owners take them one owner after another, each through
 * handover_take (the invariant of slotctl/io/handover.h), every other
 * master told, and each owner's slots shown by every view before the next
 * owner takes (repair_owner.c says why in this order). Records each item's
 * outcome in sv->outcomes (failed: its keys in place, left open); once the
 * views do not follow an owner, the items of the owners after it fail. */
void repair_hand_over_all(struct repair_survey *sv, const struct repair_opts *o);

/* ---- repair_steps.c: one item's steps ---- */

/* The index of item's first step of the owner stage: its first NODE or
 * BUMPEPOCH that is not a coverage step (step_count when none). */
size_t repair_owner_stage_start(const struct repair_item *it);

/* Runs item idx's steps of one stage that f lets through, in order, on
 * connections from pool (SETSLOT, BUMPEPOCH, key moves, which compare
 * duplicates again first); a step that fails or leaves the item ends it:
 * sv->outcomes[idx] gets status failed (with the error, naming the slot and
 * the step) or left, and the keys moved or dropped. */
void repair_run_item(struct conn_pool *pool, struct repair_survey *sv, const struct repair_opts *o,
	size_t idx, enum stage stage, const struct step_filter *f);

/* ---- repair_survey.c: the survey, the snapshot's nodes ---- */

/* Whether node i of s answered and is a master by its own view. */
bool repair_is_master(const struct snapshot *s, size_t i);

/* A connection from pool to node i of s, or NULL with err. */
struct conn *repair_conn_of(struct conn_pool *pool, const struct snapshot *s, int i,
	struct sc_error *err);

/* ---- repair_dups.c: keys on both nodes of a key move, --prefer ---- */

/* Finds the keys of slot that both src and dst hold and compares their DUMP
 * payloads into d (the caller releases it with repair_dup_scan_release).
 * Changes nothing. Returns 0, or -1 with err; on failure d is left
 * released. */
int repair_dup_scan_run(struct conn *src, struct conn *dst, int slot, struct dup_scan *d,
	struct sc_error *err);

/* Frees what d holds and zeroes it. */
void repair_dup_scan_release(struct dup_scan *d);

/* Which copy --prefer keeps for a move of item from node src to node dst
 * (KEEP_UNDECIDED: --prefer owner, and neither node owned the slot). */
enum keep repair_keep_for(const struct repair_item *it, int src, int dst, enum repair_prefer p);

/* Marks item left (blocked, with a reason naming the conflicting keys of d,
 * both nodes and how to resolve them). */
void repair_leave_for_conflicts(const struct snapshot *s, struct repair_item *it,
	const struct repair_step *st, const struct dup_scan *d, enum repair_prefer p);

/* Deletes d's keys with different values on c (ASKING first): the copies
 * --prefer target overrules; adds to *dropped how many went. Returns 0, or
 * -1 with err. */
int repair_delete_keys(struct conn *c, const struct dup_scan *d, long long *dropped,
	struct sc_error *err);

#endif
