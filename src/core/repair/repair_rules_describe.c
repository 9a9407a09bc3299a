/* repair_rules_describe.c: the words `slotctl fix` shows for what the rules
 * decide: the table of states (name, meaning, action), the steps' names and
 * descriptions, the unreachable masters and lost shards named, and whether
 * two items differ in their slot alone (one description for both). */
#include "repair_rules_priv.h"
#include "slotctl/core/strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const struct repair_state_info state_table[REPAIR_STATE_COUNT] = {
	{ REPAIR_MIGRATING_OWNER_ONLY, "migrating-owner-only",
		"the owner is MIGRATING the slot but no node is IMPORTING it",
		"keys found on other masters are moved back to the owner; the slot is set STABLE" },
	{ REPAIR_IMPORTING_ONLY, "importing-non-owner-only",
		"a node that does not own the slot is IMPORTING it and the owner is not MIGRATING it",
		"keys on the importing node are moved back to the owner; the slot is set STABLE" },
	{ REPAIR_OPEN_NO_KEYS_MOVED, "open-no-keys-moved",
		"MIGRATING on the owner and IMPORTING on the target, and the target holds no key of the slot",
		"the migration is rolled back: the slot is set STABLE on both; no key moves" },
	{ REPAIR_OPEN_SOME_KEYS_MOVED, "open-some-keys-moved",
		"MIGRATING on the owner and IMPORTING on the target, with keys on both",
		"the migration is finished: the remaining keys move to the target, then SETSLOT NODE target everywhere" },
	{ REPAIR_OPEN_ALL_KEYS_MOVED, "open-all-keys-moved",
		"MIGRATING and IMPORTING, every key already on the target, SETSLOT NODE never sent",
		"the migration is finished: SETSLOT NODE target on the target, then on every other master" },
	{ REPAIR_NODE_SOURCE_ONLY, "node-set-on-source-only",
		"SETSLOT NODE reached the source only: no master claims the slot and the target is still IMPORTING",
		"the migration is finished: SETSLOT NODE target on the target, then on every other master" },
	{ REPAIR_NODE_TARGET_ONLY, "node-set-on-target-only",
		"SETSLOT NODE reached the target only: it owns the slot while the source still claims it, MIGRATING",
		"keys left on the source move to the target, then SETSLOT NODE target on the source and every other master" },
	{ REPAIR_IMPORTING_SEVERAL, "importing-on-several",
		"two or more nodes are IMPORTING the slot at once",
		"keys on every importing node move back to the owner; the slot is set STABLE everywhere" },
	{ REPAIR_MIGRATING_NON_OWNER, "migrating-on-non-owner",
		"a node that does not own the slot has it MIGRATING",
		"keys on that node move to the owner; the slot is set STABLE on it" },
	{ REPAIR_OPEN_MIXED, "open-mixed",
		"MIGRATING/IMPORTING markers that match no single migration",
		"keys on every other master move to the owner (or the chosen owner when none); the slot is closed everywhere" },
	{ REPAIR_UNCOVERED_EMPTY, "uncovered-no-keys",
		"no master owns the slot and no master holds a key of it",
		"assigned to the reachable master with the least used memory (ties: fewest slots, then lowest node id)" },
	{ REPAIR_UNCOVERED_ONE_HOLDER, "uncovered-keys-on-one",
		"no master owns the slot and one master holds keys of it",
		"assigned to the master holding the keys" },
	{ REPAIR_UNCOVERED_SEVERAL, "uncovered-keys-on-several",
		"no master owns the slot and several masters hold keys of it",
		"assigned to the master holding the most keys (ties: lowest node id); the others' keys move to it" },
	{ REPAIR_STRAY_KEYS, "stray-keys",
		"a master that does not own the slot holds keys of it",
		"the stray keys move to the owner" },
	{ REPAIR_SEVERAL_OWNERS, "claimed-by-several",
		"two or more masters claim the slot",
		"the claimant with the most keys keeps it (ties: highest configEpoch, then lowest node id); the others' keys move to it" },
	{ REPAIR_LOST_SHARD, "lost-shard",
		"the owner and every replica of it are down and flagged fail: every key of the slot is lost",
		"only with --accept-data-loss: given, empty, to a live master (the lost slots split evenly in contiguous ranges)" },
};

const struct repair_state_info *repair_state_info(enum repair_state s)
{
	if ((int)s < 0 || s >= REPAIR_STATE_COUNT)
		return NULL;
	return &state_table[s];
}

const char *repair_op_name(enum repair_op op)
{
	static const char *const names[] = { "set-node", "stable", "importing", "migrating",
		"move-keys", "bump-epoch" };

	if ((int)op < 0 || (size_t)op >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[op];
}

/* Names the masters i of s that keep(s, i) accepts, "'addr' (id8)" each
 * (and " with slots S" with_slots), sep between them, the first `named`
 * of them and then " and N more"; returns how many keep accepts. */
static size_t name_masters(const struct snapshot *s, bool (*keep)(const struct snapshot *, size_t),
	bool with_slots, const char *sep, size_t named, char *buf, size_t size)
{
	struct strbuf sb;
	size_t n = 0;

	strbuf_init(&sb, buf, size);
	for (size_t i = 0; i < s->count; i++) {
		const struct node *self;
		char slots[256] = "";

		if (!keep(s, i) || n++ >= named)
			continue;
		self = repair_self_line(s, i);
		if (with_slots && self)
			slotset_format(node_slots(self), slots, sizeof(slots));
		strbuf_addf(&sb, "%s'%s' (%.8s)%s%s", n > 1 ? sep : "", s->nodes[i].addr,
			self ? self->id : s->nodes[i].id, with_slots ? " with slots " : "", slots);
	}
	if (n > named)
		strbuf_addf(&sb, " and %zu more", n - named);
	return n;
}

size_t repair_unreachable_names(const struct snapshot *s, char *buf, size_t size)
{
	return name_masters(s, repair_counts_unreachable, false, ", ", REPAIR_NAMED_NODES, buf, size);
}

size_t repair_lost_names(const struct snapshot *s, char *buf, size_t size)
{
	return name_masters(s, repair_shard_lost, true, "; ", SIZE_MAX, buf, size);
}

static const char *addr_of(const struct snapshot *s, int i)
{
	return i >= 0 && (size_t)i < s->count ? s->nodes[i].addr : "?";
}

void repair_step_describe(const struct snapshot *s, int slot, const struct repair_step *st,
	char *buf, size_t size)
{
	const char *node = addr_of(s, st->node), *peer = addr_of(s, st->peer);
	char sl[16] = "S";

	if (slot >= 0)
		snprintf(sl, sizeof(sl), "%d", slot);
	switch (st->op) {
	case REPAIR_OP_SET_NODE:
		snprintf(buf, size, "CLUSTER SETSLOT %s NODE '%s' on '%s'", sl, peer, node);
		break;
	case REPAIR_OP_SET_STABLE:
		snprintf(buf, size, "CLUSTER SETSLOT %s STABLE on '%s'", sl, node);
		break;
	case REPAIR_OP_SET_IMPORTING:
		snprintf(buf, size, "CLUSTER SETSLOT %s IMPORTING '%s' on '%s' (opens the slot to move its keys)",
			sl, peer, node);
		break;
	case REPAIR_OP_SET_MIGRATING:
		snprintf(buf, size, "CLUSTER SETSLOT %s MIGRATING '%s' on '%s'", sl, peer, node);
		break;
	case REPAIR_OP_MOVE_KEYS:
		snprintf(buf, size, "move %lld keys of slot %s from '%s' to '%s'", st->keys, sl, node, peer);
		break;
	case REPAIR_OP_BUMP_EPOCH:
		snprintf(buf, size, "CLUSTER BUMPEPOCH on '%s'", node);
		break;
	}
}

static bool steps_alike(const struct repair_step *a, const struct repair_step *b)
{
	return a->op == b->op && a->node == b->node && a->peer == b->peer && a->early == b->early &&
		(a->op != REPAIR_OP_MOVE_KEYS || a->keys == b->keys);
}

bool repair_items_alike(const struct repair_item *a, const struct repair_item *b)
{
	if (a->state != b->state || a->owner != b->owner || a->target != b->target ||
	    a->source != b->source || a->importer != b->importer || a->by_journal != b->by_journal ||
	    a->blocked != b->blocked || a->needs_reach != b->needs_reach ||
	    strcmp(a->reason, b->reason) != 0 || a->step_count != b->step_count)
		return false;
	for (size_t k = 0; k < a->step_count; k++)
		if (!steps_alike(&a->steps[k], &b->steps[k]))
			return false;
	return true;
}
