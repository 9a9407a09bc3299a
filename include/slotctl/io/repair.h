/* repair.h: the I/O edge of `slotctl fix` (src/io/repair/): the survey
 * (snapshot, each master's key counts and memory, duplicate keys compared;
 * repair_survey.c) that feeds the pure rules of slotctl/core/repair.h, and
 * the execution of their plan on the cluster (repair_stages.c). */
#ifdef SLOTCTL_LAYER_CORE
#error "slotctl/io/repair.h is an io header: the core may not include it (ARCHITECTURE.md)"
#endif
#ifndef SLOTCTL_IO_REPAIR_H
#define SLOTCTL_IO_REPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include "slotctl/core/error.h"
#include "slotctl/core/repair.h"
#include "slotctl/io/conn.h"
#include "slotctl/io/snapshot.h"

enum repair_prefer {
	REPAIR_PREFER_NONE = 0,  /* different values: leave the slot unrepaired */
	REPAIR_PREFER_OWNER,     /* keep the copy on the slot's owner before fix */
	REPAIR_PREFER_SOURCE,    /* keep the copy on the node the keys move from */
	REPAIR_PREFER_TARGET,    /* keep the copy on the node the keys move to */
};

/* Parses "owner", "source", "target". Returns -1 with an SC_EXIT_USAGE error
 * otherwise. */
int repair_prefer_parse(const char *text, enum repair_prefer *out, struct sc_error *err);

struct repair_opts {
	struct conn_opts conn;
	enum repair_prefer prefer;
	bool allow_unreachable;
	bool accept_data_loss;   /* see repair_input */
	int threads;             /* concurrent repairs; <= 0: 8 */
	const struct repair_hint *hints; /* from journals; may be NULL */
	size_t hint_count;
};

enum repair_status {
	REPAIR_PLANNED = 0,      /* not run yet (or --dry-run) */
	REPAIR_DONE,             /* every step succeeded */
	REPAIR_LEFT,             /* left unrepaired on purpose: item reason says why */
	REPAIR_FAILED,           /* a step failed: outcome error says which */
};

struct repair_outcome {
	enum repair_status status;
	struct sc_error error;   /* REPAIR_FAILED: the failing step */
	long long keys_moved;
	long long keys_dropped;  /* redundant or overruled copies deleted */
};

/* What fix found: the snapshot, each master's key counts, and the plan. */
struct repair_survey {
	struct snapshot snap;
	long long *keys;         /* see repair_input */
	long long *memory;
	struct repair_plan plan;
	struct repair_outcome *outcomes; /* one per plan item */
	struct slotset atomic_held; /* slots running atomic migrations hold (repair_input) */
	int atomic_jobs;         /* running atomic migration jobs seen (exports) */
};

/* Gathers the cluster from host:port (snapshot, COUNTKEYSINSLOT of every slot
 * and INFO memory on every reachable master, concurrently), builds the plan
 * and looks for keys that a move would find on both nodes with different
 * values (DUMP payloads): such slots are left (item blocked, keys named)
 * unless o->prefer resolves them. Changes nothing on the cluster. Returns -1
 * with an SC_EXIT_UNREACHABLE error when the seed cannot be reached. Caller
 * releases out with repair_survey_release. */
int repair_survey(const char *host, int port, const struct repair_opts *o,
	struct repair_survey *out, struct sc_error *err);

void repair_survey_release(struct repair_survey *sv);

/* fix --cancel-atomic: cancels every running atomic slot migration job
 * (Valkey 9) on the reachable masters of the cluster at host:port (CLUSTER
 * CANCELSLOTMIGRATIONS on each source that runs one) and waits, bounded,
 * until each has ended on its source and its target (a cancelled job moved
 * no slot; the target drops what it staged). *cancelled: how many jobs it
 * cancelled. 0, or -1 with an error naming the node. */
int repair_cancel_atomic(const char *host, int port, const struct conn_opts *opts, int *cancelled,
	struct sc_error *err);

/* Runs every item that is not blocked, each item's steps in order, in three
 * stages each finished for every item before the next: coverage (the early
 * steps); keys (the steps before the first SETSLOT NODE or BUMPEPOCH: items
 * on disjoint node pairs concurrently, o->threads, never two key moves on the
 * same node at once); owner (the rest, one new owner at a time, keeping the
 * invariant of slotctl/io/handover.h: the gate, the owner's own steps, the
 * others', then a bounded wait until every node's view shows the owner; when
 * the gate or the wait fails, the items not yet handed over fail with their
 * keys in place). Duplicate keys are compared again right before each move
 * and resolved by o->prefer, or the item is left. Fills sv->outcomes. Returns
 * the number of items that did not end REPAIR_DONE (blocked included). */
size_t repair_execute(struct repair_survey *sv, const struct repair_opts *o);

#endif
