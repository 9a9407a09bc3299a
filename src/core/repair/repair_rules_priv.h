/* repair_rules_priv.h: what the files of fix's rules share
 * (slotctl/core/repair.h is the public side): the facts of one slot and the
 * state of one planning pass, then each file's functions under its name, in
 * the order the calls go (each file calls only files listed below it):
 * repair_rules.c the plan (repair_plan_build) and what is left blocked,
 * repair_rules_describe.c the words for states, steps and masters,
 * repair_rules_classify.c a slot's state and owner after fix,
 * repair_rules_steps.c the repair as protocol steps, repair_rules_facts.c
 * what the snapshot says of a node and of a slot. Not a public interface. */
#ifndef SLOTCTL_REPAIR_RULES_PRIV_H
#define SLOTCTL_REPAIR_RULES_PRIV_H

#include "slotctl/core/repair.h"

/* What the masters of the snapshot say of one slot (repair_gather_facts). */
struct slot_facts {
	int claimants, claimant;     /* masters claiming the slot; the last one found */
	int migrating, migrator, mig_peer;
	int importing, importer, imp_peer;
	int holders, holder;         /* masters with keys (> 0) */
	int stray;                   /* holders that do not claim */
};

/* One planning pass over every slot (repair_plan_build). */
struct plan_ctx {
	const struct repair_input *in;
	int *assigned;               /* slots given to each node in this pass */
	int unreachable;
	int *lost_target;            /* SC_SLOTS: a lost slot's live master, -1 none (accept_data_loss) */
};

/* ---- repair_rules_classify.c: a slot's state and owner after fix ---- */

/* Names the state and picks the owner after fix by the rules. */
void repair_classify(const struct plan_ctx *c, int slot, const struct slot_facts *f,
	struct repair_item *it);

/* Applies a journal's direction for slot, when one names reachable masters. */
void repair_apply_hint(const struct plan_ctx *c, int slot, struct repair_item *it);

/* ---- repair_rules_steps.c: the repair as protocol steps ---- */

/* Writes the repair into target t as steps: take the slot on t when it
 * neither owns nor imports it, and tell every master that sees no owner
 * (both early: coverage first); close the slot on t when it is MIGRATING;
 * drain every other master's keys into t (opening the slot on the drained
 * node so MIGRATE runs there); finish t's IMPORTING with SETSLOT NODE t;
 * then SETSLOT NODE t on every other master whose view differs, and close
 * the slot where it was open. Returns 0, or -1 on OOM. */
int repair_write_steps(const struct plan_ctx *c, int slot, struct repair_item *it);

/* ---- repair_rules_facts.c: what the snapshot says ---- */

/* The line node i writes about itself, or the cluster's map's line about it
 * when it could not be reached. NULL when neither is known. */
const struct node *repair_self_line(const struct snapshot *s, size_t i);

/* Whether node i is a master with an address by that line (not the same as
 * io's repair_is_master, which asks the node's own answer). */
bool repair_is_addressed_master(const struct snapshot *s, size_t i);

/* The peer of node i's MIGRATING (importing false) or IMPORTING marker for
 * slot: its snapshot index, -1 when the peer is unknown, -2 when no marker. */
int repair_marker(const struct snapshot *s, size_t i, int slot, bool importing);

/* The master that node i's own view says owns slot, as a snapshot index;
 * -1 none or not known. */
int repair_view_owner(const struct snapshot *s, size_t i, int slot);

/* The keys node i holds in slot (in->keys), -1 unknown. */
long long repair_keys_of(const struct repair_input *in, size_t i, int slot);

/* Fills f with what every master of in->snap says of slot. */
void repair_gather_facts(const struct repair_input *in, int slot, struct slot_facts *f);

/* Whether f is a broken slot: not exactly one claimant, open, or keys on a
 * master that does not claim it. */
bool repair_slot_is_broken(const struct slot_facts *f);

/* Whether node i counts as an unreachable master: not reached, a master
 * with an address in the map's line, and not a failed master that was
 * replaced (no slots left), which changes nothing. */
bool repair_counts_unreachable(const struct snapshot *s, size_t i);

#endif
