/* repair.h: the diagnosis behind `slotctl fix`. From a snapshot (what every
 * node says about itself) and the per-slot key counts of every master, the
 * rules name the state of every broken slot, choose the slot's owner after
 * the repair, and spell the repair as an ordered list of protocol steps that
 * src/io/repair/ executes (its survey and execute edge:
 * slotctl/io/repair.h). Pure: no sockets, no printing. */
#ifndef SLOTCTL_REPAIR_H
#define SLOTCTL_REPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include "slotctl/core/error.h"
#include "slotctl/core/journal.h"
#include "slotctl/core/keyslot.h"
#include "slotctl/core/snapshot.h"

/* The named states of a broken slot. "source" is the node a migration moves
 * the slot from (MIGRATING), "target" the node it moves it to (IMPORTING). */
enum repair_state {
	REPAIR_MIGRATING_OWNER_ONLY = 0, /* owner MIGRATING, no node IMPORTING */
	REPAIR_IMPORTING_ONLY,           /* a non-owner IMPORTING, owner not MIGRATING */
	REPAIR_OPEN_NO_KEYS_MOVED,       /* MIGRATING + IMPORTING, target holds no key */
	REPAIR_OPEN_SOME_KEYS_MOVED,     /* MIGRATING + IMPORTING, keys on both */
	REPAIR_OPEN_ALL_KEYS_MOVED,      /* MIGRATING + IMPORTING, source empty, NODE never sent */
	REPAIR_NODE_SOURCE_ONLY,         /* SETSLOT NODE sent to the source only */
	REPAIR_NODE_TARGET_ONLY,         /* SETSLOT NODE sent to the target only */
	REPAIR_IMPORTING_SEVERAL,        /* IMPORTING on two or more nodes at once */
	REPAIR_MIGRATING_NON_OWNER,      /* MIGRATING on a node that does not own the slot */
	REPAIR_OPEN_MIXED,               /* other combinations of markers */
	REPAIR_UNCOVERED_EMPTY,          /* no owner, no key anywhere */
	REPAIR_UNCOVERED_ONE_HOLDER,     /* no owner, keys on one node */
	REPAIR_UNCOVERED_SEVERAL,        /* no owner, keys on several nodes */
	REPAIR_STRAY_KEYS,               /* keys on a node that does not own the slot */
	REPAIR_SEVERAL_OWNERS,           /* two or more masters claim the slot */
	REPAIR_LOST_SHARD,               /* owned by a failed master whose replicas are all gone too */
	REPAIR_STATE_COUNT
};

struct repair_state_info {
	enum repair_state state;
	const char *name;        /* stable, for output and JSON: "open-some-keys-moved" */
	const char *meaning;     /* one line: what the state is */
	const char *action;      /* one line: what fix does with it */
};

/* The table entry of a state (every state has one). */
const struct repair_state_info *repair_state_info(enum repair_state s);

/* One protocol step on one node; nodes are snapshot indices. */
enum repair_op {
	REPAIR_OP_SET_NODE = 0,  /* CLUSTER SETSLOT slot NODE <peer> on node */
	REPAIR_OP_SET_STABLE,    /* CLUSTER SETSLOT slot STABLE on node */
	REPAIR_OP_SET_IMPORTING, /* CLUSTER SETSLOT slot IMPORTING <peer> on node (opens the slot so MIGRATE runs) */
	REPAIR_OP_SET_MIGRATING, /* CLUSTER SETSLOT slot MIGRATING <peer> on node */
	REPAIR_OP_MOVE_KEYS,     /* move every key of slot from node to peer (duplicates compared first) */
	REPAIR_OP_BUMP_EPOCH,    /* CLUSTER BUMPEPOCH on node, so its claim wins in every view */
};

struct repair_step {
	enum repair_op op;
	int node;                /* snapshot index the command is sent to */
	int peer;                /* snapshot index named by the step; -1 when none */
	long long keys;          /* MOVE_KEYS: keys counted on node before fix (-1 unknown) */
	bool early;              /* a coverage step: run for every slot before any key moves,
	                            since a node that sees an unowned slot refuses MIGRATE
	                            (CLUSTERDOWN) for every slot */
};

struct repair_item {
	int slot;
	enum repair_state state;
	int owner;               /* snapshot index owning the slot in the cluster's map before fix, -1 none */
	int target;              /* snapshot index owning the slot after fix, -1 when undecided */
	int source;              /* for migration states: the MIGRATING node, else -1 */
	int importer;            /* for migration states: the IMPORTING node, else -1 */
	bool by_journal;         /* target chosen from a slotctl journal, not from the rules */
	bool blocked;            /* left unrepaired: reason says why */
	bool needs_reach;        /* blocked because a master could not be reached (exit 3) */
	bool involves_unreachable; /* its state involves a master that could not be reached */
	char reason[512];
	struct repair_step *steps;
	size_t step_count;
};

/* A direction recorded by a slotctl journal for a slot that was moving:
 * fix finishes (forward: the owner becomes `to`) or rolls back (the owner
 * stays `from`) rather than deciding by the rules. */
struct repair_hint {
	int slot;
	char from[SC_NODE_ID_LEN + 1];
	char to[SC_NODE_ID_LEN + 1];
	bool forward;
};

/* The directions of every unfinished slot of a folded journal: forward for
 * apply and resume runs, and for slots whose new owner was already set on
 * the target; backward (roll back) for abort runs. Appends to *hints
 * (realloc'd; caller frees) and *count. Returns 0, or -1 with an error on OOM. */
int repair_hints_from_journal(const struct journal_state *st, struct repair_hint **hints,
	size_t *count, struct sc_error *err);

struct repair_input {
	const struct snapshot *snap;
	/* keys[i * SC_SLOTS + slot]: CLUSTER COUNTKEYSINSLOT on snapshot node i;
	 * -1 when unknown (unreachable, or not a master). NULL: all unknown. */
	const long long *keys;
	/* used_memory of snapshot node i (INFO memory), -1 unknown; NULL: all unknown. */
	const long long *used_memory;
	const struct repair_hint *hints;
	size_t hint_count;
	bool allow_unreachable;  /* change ownership even when a master is unreachable */
	bool accept_data_loss;   /* give a lost shard's slots, empty, to the live masters */
	/* Slots that a server-side (atomic) slot migration holds (running jobs,
	 * source or target: core/slotmig.h), NULL: none. Their items are left
	 * alone (blocked): the servers are moving them, and the target's staged
	 * keys are no stray keys. */
	const struct slotset *atomic_held;
};

struct repair_plan {
	struct repair_item *items; /* broken slots, ascending */
	size_t count;
	int unreachable_masters;   /* masters that could not be reached (lost ones included
	                              unless accept_data_loss) */
	int lost_masters;          /* masters of lost shards (repair_shard_lost) */
	bool refused;              /* a master is unreachable and allow_unreachable is not set:
	                              every item is blocked (needs_reach); fix changes nothing */
};

/* Classifies every slot of in->snap and fills out with one item per broken
 * slot: its state, the owner after fix and the steps to get there. Slots
 * that cannot be repaired safely are items with blocked set and a reason:
 * while a master is unreachable every item (the plan is refused) unless
 * allow_unreachable; with it, those whose state involves an unreachable
 * master (it claims the slot, a marker names it, a master's view gives it
 * the slot, or it would own the slot). The owner of an
 * uncovered slot with no key is the reachable master with the least
 * used_memory, ties by fewest slots, then lowest node id. Returns 0, or -1
 * with an error on OOM or a snapshot without a reachable view; out is
 * written only on success; release it with repair_plan_release. */
int repair_plan_build(const struct repair_input *in, struct repair_plan *out, struct sc_error *err);

void repair_plan_release(struct repair_plan *p);

/* Whether snapshot node i heads a lost shard: a master that cannot be
 * reached, is flagged fail in the cluster's map and still owns slots there,
 * and every replica of which cannot be reached either. Its slots' keys are
 * gone with it. Without accept_data_loss its slots are items of state
 * REPAIR_LOST_SHARD, blocked (needs_reach), and the plan is refused; with it
 * the shard no longer counts as an unreachable master and its slots, in
 * ascending order, are split into contiguous ranges of as even a size as
 * can be among the live masters (reachable, not flagged fail or pfail) in
 * snapshot order: each live master takes its range (SETSLOT NODE itself,
 * BUMPEPOCH) and every other master is told, in fix's owner stage. */
bool repair_shard_lost(const struct snapshot *s, size_t i);

/* Writes "'addr' (id8) with slots 0-5460" for each lost shard of s ("; "
 * between them) into buf; returns how many there are. */
size_t repair_lost_names(const struct snapshot *s, char *buf, size_t size);

/* The slots of the plan's REPAIR_LOST_SHARD items into out (cleared first):
 * the slots whose keys are lost. Returns their number. */
int repair_lost_slots(const struct repair_plan *p, struct slotset *out);

/* Writes "'addr' (id8), ..." for the masters of s that count as unreachable
 * (the first REPAIR_NAMED_NODES, then "and N more") into buf; returns how
 * many there are. */
#define REPAIR_NAMED_NODES 4
size_t repair_unreachable_names(const struct snapshot *s, char *buf, size_t size);

/* Number of items with blocked set / with needs_reach set. */
size_t repair_plan_blocked(const struct repair_plan *p);
size_t repair_plan_needs_reach(const struct repair_plan *p);

/* Describes one step in words ("move 12 keys of slot 5 from '127.0.0.1:7000'
 * to '127.0.0.1:7001'") into buf; a slot below 0 is written "S" (a step
 * shared by a group of slots). */
void repair_step_describe(const struct snapshot *s, int slot, const struct repair_step *st,
	char *buf, size_t size);

/* True when items a and b differ in their slot alone: same state, owners,
 * blocked reason and steps (a key-moving step moving as many keys), so one
 * description with the slot left out fits both. */
bool repair_items_alike(const struct repair_item *a, const struct repair_item *b);

/* The op's short name: "set-node", "stable", "importing", "migrating",
 * "move-keys", "bump-epoch". */
const char *repair_op_name(enum repair_op op);

/* Whether the master at snapshot index i claims slot in its own view (or, when
 * unreachable, in the cluster's map). */
bool repair_claims(const struct snapshot *s, size_t i, int slot);

/* Whether a server may hand item's slot to its target by itself: the
 * target's own view imports the slot from a master whose own view no longer
 * claims it (told SETSLOT NODE <target>, the target not yet). Valkey 8+
 * then has the target take the slot and bump its configEpoch, without
 * consensus and without any tool asking, the next time it hears that
 * master's claimed slots change (cluster_legacy.c,
 * clusterUpdateSlotsConfigWith: "Clear my importing source"); Redis 7 does
 * not. fix hands such slots over before any other, so that no node bumps at
 * a moment the handover invariant (slotctl/io/handover.h) does not allow. */
bool repair_server_may_take(const struct snapshot *s, const struct repair_item *it);

#endif
