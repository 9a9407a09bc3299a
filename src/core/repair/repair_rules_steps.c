/* repair_rules_steps.c: writing the repair of one slot as protocol steps
 * into its chosen owner (repair_write_steps). The steps always move keys
 * into the chosen owner before any SETSLOT NODE, so no key is left behind
 * on a node that loses the slot. */
#include "repair_rules_priv.h"

#include <stdlib.h>

static int add_step_when(struct repair_item *it, enum repair_op op, int node, int peer,
	long long keys, bool early)
{
	struct repair_step *grown;

	grown = realloc(it->steps, (it->step_count + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	it->steps = grown;
	it->steps[it->step_count++] = (struct repair_step){ op, node, peer, keys, early };
	return 0;
}

static int add_step(struct repair_item *it, enum repair_op op, int node, int peer, long long keys)
{
	return add_step_when(it, op, node, peer, keys, false);
}

static bool is_open(const struct snapshot *s, size_t i, int slot)
{
	return repair_marker(s, i, slot, false) != -2 || repair_marker(s, i, slot, true) != -2;
}

int repair_write_steps(const struct plan_ctx *c, int slot, struct repair_item *it)
{
	const struct snapshot *s = c->in->snap;
	size_t t = (size_t)it->target;
	bool t_claims = repair_claims(s, t, slot);
	bool t_imports = repair_marker(s, t, slot, true) != -2;
	bool t_migrates = repair_marker(s, t, slot, false) != -2;
	bool took = false;
	int rc = 0;

	/* a lost shard's slot has an owner in every view: taken in the owner
	 * stage, through the gate, not as coverage */
	if (!t_claims && !t_imports) {
		rc |= add_step_when(it, REPAIR_OP_SET_NODE, (int)t, (int)t, -1, it->state != REPAIR_LOST_SHARD);
		took = true;
	}
	for (size_t i = 0; took && it->state != REPAIR_LOST_SHARD && i < s->count; i++)
		if (i != t && repair_is_addressed_master(s, i) && s->nodes[i].reachable && repair_view_owner(s, i, slot) < 0)
			rc |= add_step_when(it, REPAIR_OP_SET_NODE, (int)i, (int)t, -1, true);
	/* an owner that is MIGRATING answers ASK for keys it lacks, so it would
	 * refuse the keys coming back: close the slot on it first */
	if (t_migrates || (t_imports && t_claims))
		rc |= add_step(it, REPAIR_OP_SET_STABLE, (int)t, -1, -1);
	for (size_t i = 0; i < s->count; i++) {
		long long k = repair_keys_of(c->in, i, slot);

		if (i == t || !repair_is_addressed_master(s, i) || k <= 0)
			continue;
		if (!is_open(s, i, slot))
			rc |= add_step(it, repair_claims(s, i, slot) ? REPAIR_OP_SET_MIGRATING :
				REPAIR_OP_SET_IMPORTING, (int)i, (int)t, -1);
		rc |= add_step(it, REPAIR_OP_MOVE_KEYS, (int)i, (int)t, k);
	}
	if (t_imports && !t_claims)
		rc |= add_step(it, REPAIR_OP_SET_NODE, (int)t, (int)t, -1);
	if (took || it->state == REPAIR_SEVERAL_OWNERS)
		rc |= add_step(it, REPAIR_OP_BUMP_EPOCH, (int)t, -1, -1);
	/* the nodes the slot was open on (or drained) first, then the rest */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < s->count; i++) {
			bool opened;

			if (i == t || !repair_is_addressed_master(s, i) || !s->nodes[i].reachable)
				continue;
			opened = is_open(s, i, slot) || repair_keys_of(c->in, i, slot) > 0;
			if (opened != (pass == 0))
				continue;
			if (repair_view_owner(s, i, slot) != (int)t && !(took && repair_view_owner(s, i, slot) < 0))
				rc |= add_step(it, REPAIR_OP_SET_NODE, (int)i, (int)t, -1);
			if (opened)
				rc |= add_step(it, REPAIR_OP_SET_STABLE, (int)i, -1, -1);
		}
	}
	return rc ? -1 : 0;
}
