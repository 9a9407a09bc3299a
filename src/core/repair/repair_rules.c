/* repair_rules.c: the decisions of `slotctl fix`. For every slot it reads
 * what each master says about itself (claims, MIGRATING/IMPORTING markers)
 * and how many keys each master holds in the slot, names the slot's state,
 * chooses the owner after the repair, and writes the repair as protocol
 * steps. The steps always move keys into the chosen owner before any
 * SETSLOT NODE, so no key is left behind on a node that loses the slot. */
#include "slotctl/core/repair.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/strbuf.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- what the snapshot says -------------------------------------------- */

/* The line node i writes about itself, or the cluster's map's line about it
 * when it could not be reached. NULL when neither is known. */
static const struct node *self_line(const struct snapshot *s, size_t i)
{
	const struct node_view *v = &s->nodes[i];
	const struct topology *ref;

	if (v->reachable && v->view.myself >= 0)
		return &v->view.nodes[v->view.myself];
	ref = snapshot_map(s);
	if (!ref || !v->id[0])
		return NULL;
	return topology_find(ref, v->id);
}

static bool is_master(const struct snapshot *s, size_t i)
{
	const struct node *n = self_line(s, i);

	return n && node_is_master(n) && !(n->flags & NODE_NOADDR);
}

bool repair_claims(const struct snapshot *s, size_t i, int slot)
{
	const struct node *n = self_line(s, i);

	return n && node_is_master(n) && slotset_has(node_slots(n), slot);
}

/* The peer of node i's MIGRATING (importing false) or IMPORTING marker for
 * slot: its snapshot index, -1 when the peer is unknown, -2 when no marker. */
static int marker(const struct snapshot *s, size_t i, int slot, bool importing)
{
	const struct node *n;

	if (!s->nodes[i].reachable)
		return -2; /* markers are only ever shown by the node itself */
	n = self_line(s, i);
	for (size_t k = 0; n && k < n->open_count; k++)
		if (n->open[k].slot == slot && n->open[k].importing == importing)
			return snapshot_index(s, n->open[k].peer);
	return -2;
}

bool repair_server_may_take(const struct snapshot *s, const struct repair_item *it)
{
	int from;

	if (it->target < 0)
		return false;
	from = marker(s, (size_t)it->target, it->slot, true);
	return from >= 0 && is_master(s, (size_t)from) && s->nodes[from].reachable &&
	       !repair_claims(s, (size_t)from, it->slot);
}

/* The master that node i's own view says owns slot, as a snapshot index;
 * -1 none or not known. */
static int view_owner(const struct snapshot *s, size_t i, int slot)
{
	const struct topology *t = &s->nodes[i].view;

	for (size_t k = 0; k < t->count; k++)
		if (node_is_master(&t->nodes[k]) && slotset_has(node_slots(&t->nodes[k]), slot))
			return snapshot_index(s, t->nodes[k].id);
	return -1;
}

static long long keys_of(const struct repair_input *in, size_t i, int slot)
{
	if (!in->keys)
		return -1;
	return in->keys[i * SC_SLOTS + (size_t)slot];
}

/* ---- per-slot facts --------------------------------------------------- */

struct slot_facts {
	int claimants, claimant;     /* masters claiming the slot; the last one found */
	int migrating, migrator, mig_peer;
	int importing, importer, imp_peer;
	int holders, holder;         /* masters with keys (> 0) */
	int stray;                   /* holders that do not claim */
};

static void gather_facts(const struct repair_input *in, int slot, struct slot_facts *f)
{
	const struct snapshot *s = in->snap;

	memset(f, 0, sizeof(*f));
	f->claimant = f->migrator = f->importer = f->holder = -1;
	f->mig_peer = f->imp_peer = -2;
	for (size_t i = 0; i < s->count; i++) {
		bool claims;
		int m, im;

		if (!is_master(s, i))
			continue;
		claims = repair_claims(s, i, slot);
		if (claims) {
			f->claimants++;
			f->claimant = (int)i;
		}
		m = marker(s, i, slot, false);
		im = marker(s, i, slot, true);
		if (m != -2) {
			f->migrating++;
			f->migrator = (int)i;
			f->mig_peer = m;
		}
		if (im != -2) {
			f->importing++;
			f->importer = (int)i;
			f->imp_peer = im;
		}
		if (keys_of(in, i, slot) > 0) {
			f->holders++;
			f->holder = (int)i;
			if (!claims)
				f->stray++;
		}
	}
}

static bool slot_is_broken(const struct slot_facts *f)
{
	return f->claimants != 1 || f->migrating || f->importing || f->stray;
}

/* ---- choosing the owner after fix ------------------------------------- */

struct plan_ctx {
	const struct repair_input *in;
	int *assigned;               /* slots given to each node in this pass */
	int unreachable;
	int *lost_target;            /* SC_SLOTS: a lost slot's live master, -1 none (accept_data_loss) */
};

static unsigned long long epoch_of(const struct snapshot *s, size_t i)
{
	const struct node *n = self_line(s, i);

	return n ? n->config_epoch : 0;
}

/* Among reachable masters (claimants only when only_claimants): the most
 * keys in slot, ties (among claimants) by highest configEpoch, then by lowest
 * id. -1 when none is reachable. */
static int most_keys(const struct plan_ctx *c, int slot, bool only_claimants)
{
	const struct snapshot *s = c->in->snap;
	int best = -1;

	for (size_t i = 0; i < s->count; i++) {
		long long k, bk;

		if (!is_master(s, i) || !s->nodes[i].reachable)
			continue;
		if (only_claimants && !repair_claims(s, i, slot))
			continue;
		if (best < 0) {
			best = (int)i;
			continue;
		}
		k = keys_of(c->in, i, slot);
		bk = keys_of(c->in, (size_t)best, slot);
		if (k != bk) {
			if (k > bk)
				best = (int)i;
			continue;
		}
		if (only_claimants && epoch_of(s, i) != epoch_of(s, (size_t)best)) {
			if (epoch_of(s, i) > epoch_of(s, (size_t)best))
				best = (int)i;
			continue;
		}
		if (strcmp(s->nodes[i].id, s->nodes[best].id) < 0)
			best = (int)i;
	}
	return best;
}

static long long memory_of(const struct plan_ctx *c, size_t i)
{
	long long m = c->in->used_memory ? c->in->used_memory[i] : -1;

	return m < 0 ? LLONG_MAX : m;
}

static int slots_of(const struct plan_ctx *c, size_t i)
{
	const struct node *n = self_line(c->in->snap, i);

	return (n ? slotset_count(node_slots(n)) : 0) + c->assigned[i];
}

/* The documented policy for an empty uncovered slot: least used_memory, ties
 * by fewest slots (counting those given in this pass), then lowest id. */
static int least_loaded(const struct plan_ctx *c)
{
	const struct snapshot *s = c->in->snap;
	int best = -1;

	for (size_t i = 0; i < s->count; i++) {
		const struct node *n = self_line(s, i);

		if (!is_master(s, i) || !s->nodes[i].reachable || (n->flags & (NODE_FAIL | NODE_PFAIL)))
			continue;
		if (best < 0 || memory_of(c, i) < memory_of(c, (size_t)best) ||
		    (memory_of(c, i) == memory_of(c, (size_t)best) &&
		     (slots_of(c, i) < slots_of(c, (size_t)best) ||
		      (slots_of(c, i) == slots_of(c, (size_t)best) &&
		       strcmp(s->nodes[i].id, s->nodes[best].id) < 0))))
			best = (int)i;
	}
	return best;
}

/* The owner in the cluster's map (the reference view), or -1. */
static int map_owner(const struct snapshot *s, int slot)
{
	return s->reference < 0 ? -1 : view_owner(s, (size_t)s->reference, slot);
}

/* A slot open both ways between its owner a and b: finish the move when b
 * got keys, else roll it back. */
static bool classify_open_pair(const struct plan_ctx *c, int slot, const struct slot_facts *f,
	struct repair_item *it)
{
	int a = f->migrator, b = f->importer;
	long long ka, kb;

	if (!(f->migrating == 1 && f->importing == 1 && f->mig_peer == b && f->imp_peer == a &&
	      f->claimants == 1 && f->claimant == a))
		return false;
	ka = keys_of(c->in, (size_t)a, slot);
	kb = keys_of(c->in, (size_t)b, slot);
	it->source = a;
	it->importer = b;
	if (kb <= 0) {
		it->state = REPAIR_OPEN_NO_KEYS_MOVED;
		it->target = a;
	} else {
		it->state = ka <= 0 ? REPAIR_OPEN_ALL_KEYS_MOVED : REPAIR_OPEN_SOME_KEYS_MOVED;
		it->target = b;
	}
	return true;
}

/* Only one node shows MIGRATING (nobody IMPORTING). */
static bool classify_migrating_only(const struct plan_ctx *c, int slot, const struct slot_facts *f,
	struct repair_item *it)
{
	const struct snapshot *s = c->in->snap;
	int a = f->migrator;
	bool a_claims;

	if (!(f->migrating == 1 && f->importing == 0))
		return false;
	a_claims = repair_claims(s, (size_t)a, slot);
	if (a_claims && f->mig_peer >= 0 && f->claimants == 2 &&
	    repair_claims(s, (size_t)f->mig_peer, slot)) {
		it->state = REPAIR_NODE_TARGET_ONLY;
		it->source = a;
		it->importer = f->mig_peer;
		it->target = f->mig_peer;
		return true;
	}
	if (a_claims && f->claimants == 1) {
		it->state = REPAIR_MIGRATING_OWNER_ONLY;
		it->source = a;
		it->target = a;
		return true;
	}
	if (!a_claims && f->claimants == 1) {
		it->state = REPAIR_MIGRATING_NON_OWNER;
		it->target = f->claimant;
		return true;
	}
	return false;
}

/* Only one node shows IMPORTING (nobody MIGRATING). */
static bool classify_importing_only(const struct plan_ctx *c, int slot, const struct slot_facts *f,
	struct repair_item *it)
{
	const struct snapshot *s = c->in->snap;
	int b = f->importer, src = f->imp_peer;

	if (!(f->importing == 1 && f->migrating == 0))
		return false;
	if (f->claimants == 0 && src >= 0 && s->nodes[src].reachable &&
	    view_owner(s, (size_t)src, slot) == b) {
		it->state = REPAIR_NODE_SOURCE_ONLY;
		it->source = src;
		it->importer = b;
		it->target = b;
		return true;
	}
	if (f->claimants == 1 && f->claimant != b) {
		it->state = REPAIR_IMPORTING_ONLY;
		it->target = f->claimant;
		return true;
	}
	return false;
}

/* Open in a way none of the shapes above describes. */
static void classify_open_mixed(const struct plan_ctx *c, int slot, const struct slot_facts *f,
	struct repair_item *it)
{
	it->state = REPAIR_OPEN_MIXED;
	if (f->claimants == 1)
		it->target = f->claimant;
	else if (f->claimants > 1)
		it->target = most_keys(c, slot, true);
	else
		it->target = f->holders ? most_keys(c, slot, false) : least_loaded(c);
}

/* Not open: no owner, several owners, or keys on a node that does not own it. */
static void classify_ownership(const struct plan_ctx *c, int slot, const struct slot_facts *f,
	struct repair_item *it)
{
	if (f->claimants == 0) {
		if (f->holders == 0) {
			it->state = REPAIR_UNCOVERED_EMPTY;
			it->target = least_loaded(c);
		} else if (f->holders == 1) {
			it->state = REPAIR_UNCOVERED_ONE_HOLDER;
			it->target = f->holder;
		} else {
			it->state = REPAIR_UNCOVERED_SEVERAL;
			it->target = most_keys(c, slot, false);
		}
		return;
	}
	if (f->claimants > 1) {
		it->state = REPAIR_SEVERAL_OWNERS;
		it->target = most_keys(c, slot, true);
		return;
	}
	it->state = REPAIR_STRAY_KEYS;
	it->target = f->claimant;
}

/* Names the state and picks the owner after fix by the rules. */
static void classify(const struct plan_ctx *c, int slot, const struct slot_facts *f,
	struct repair_item *it)
{
	it->source = it->importer = -1;
	if (f->importing >= 2) {
		it->state = REPAIR_IMPORTING_SEVERAL;
		it->target = f->claimants == 1 ? f->claimant : most_keys(c, slot, f->claimants > 1);
		return;
	}
	if (classify_open_pair(c, slot, f, it) || classify_migrating_only(c, slot, f, it) ||
	    classify_importing_only(c, slot, f, it))
		return;
	if (f->migrating || f->importing)
		classify_open_mixed(c, slot, f, it);
	else
		classify_ownership(c, slot, f, it);
}

/* Applies a journal's direction for slot, when one names reachable masters. */
static void apply_hint(const struct plan_ctx *c, int slot, struct repair_item *it)
{
	const struct snapshot *s = c->in->snap;

	for (size_t h = 0; h < c->in->hint_count; h++) {
		const struct repair_hint *hint = &c->in->hints[h];
		int to;

		if (hint->slot != slot)
			continue;
		to = snapshot_index(s, hint->forward ? hint->to : hint->from);
		if (to < 0 || !is_master(s, (size_t)to) || !s->nodes[to].reachable)
			return;
		it->target = to;
		it->by_journal = true;
		return;
	}
}

int repair_hints_from_journal(const struct journal_state *st, struct repair_hint **hints,
	size_t *count, struct sc_error *err)
{
	bool aborting = strcmp(st->last_op, "abort") == 0;

	for (size_t i = 0; i < st->count; i++) {
		const struct journal_slot *js = &st->slots[i];
		struct repair_hint *grown;

		if (journal_slot_settled(js))
			continue;
		grown = realloc(*hints, (*count + 1) * sizeof(*grown));
		if (!grown)
			return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
		*hints = grown;
		grown[*count].slot = js->slot;
		memcpy(grown[*count].from, js->from, sizeof(js->from));
		memcpy(grown[*count].to, js->to, sizeof(js->to));
		grown[*count].forward = !aborting || js->phase >= JOURNAL_OWNER_TARGET;
		(*count)++;
	}
	return 0;
}

/* ---- steps ------------------------------------------------------------ */

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
	return marker(s, i, slot, false) != -2 || marker(s, i, slot, true) != -2;
}

/* Writes the repair into target t as steps: take the slot on t when it
 * neither owns nor imports it, and tell every master that sees no owner
 * (both early: coverage first); close the slot on t when it is MIGRATING;
 * drain every other master's keys into t (opening the slot on the drained
 * node so MIGRATE runs there); finish t's IMPORTING with SETSLOT NODE t;
 * then SETSLOT NODE t on every other master whose view differs, and close
 * the slot where it was open. */
static int write_steps(const struct plan_ctx *c, int slot, struct repair_item *it)
{
	const struct snapshot *s = c->in->snap;
	size_t t = (size_t)it->target;
	bool t_claims = repair_claims(s, t, slot);
	bool t_imports = marker(s, t, slot, true) != -2;
	bool t_migrates = marker(s, t, slot, false) != -2;
	bool took = false;
	int rc = 0;

	/* a lost shard's slot has an owner in every view: taken in the owner
	 * stage, through the gate, not as coverage */
	if (!t_claims && !t_imports) {
		rc |= add_step_when(it, REPAIR_OP_SET_NODE, (int)t, (int)t, -1, it->state != REPAIR_LOST_SHARD);
		took = true;
	}
	for (size_t i = 0; took && it->state != REPAIR_LOST_SHARD && i < s->count; i++)
		if (i != t && is_master(s, i) && s->nodes[i].reachable && view_owner(s, i, slot) < 0)
			rc |= add_step_when(it, REPAIR_OP_SET_NODE, (int)i, (int)t, -1, true);
	/* an owner that is MIGRATING answers ASK for keys it lacks, so it would
	 * refuse the keys coming back: close the slot on it first */
	if (t_migrates || (t_imports && t_claims))
		rc |= add_step(it, REPAIR_OP_SET_STABLE, (int)t, -1, -1);
	for (size_t i = 0; i < s->count; i++) {
		long long k = keys_of(c->in, i, slot);

		if (i == t || !is_master(s, i) || k <= 0)
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

			if (i == t || !is_master(s, i) || !s->nodes[i].reachable)
				continue;
			opened = is_open(s, i, slot) || keys_of(c->in, i, slot) > 0;
			if (opened != (pass == 0))
				continue;
			if (view_owner(s, i, slot) != (int)t && !(took && view_owner(s, i, slot) < 0))
				rc |= add_step(it, REPAIR_OP_SET_NODE, (int)i, (int)t, -1);
			if (opened)
				rc |= add_step(it, REPAIR_OP_SET_STABLE, (int)i, -1, -1);
		}
	}
	return rc ? -1 : 0;
}

/* ---- reachability ------------------------------------------------------ */

static bool counts_as_unreachable_master(const struct snapshot *s, size_t i)
{
	const struct node *n = self_line(s, i);

	if (s->nodes[i].reachable || !n || !node_is_master(n) || (n->flags & NODE_NOADDR))
		return false;
	/* a failed master that was replaced (no slots left) changes nothing */
	return !((n->flags & NODE_FAIL) && slotset_count(node_slots(n)) == 0);
}

/* Whether a reachable master has slot open towards or from node u, or sees
 * u as the slot's owner in its own view. */
static bool named_by_others(const struct snapshot *s, size_t u, int slot)
{
	for (size_t i = 0; i < s->count; i++) {
		if (i == u || !is_master(s, i) || !s->nodes[i].reachable)
			continue;
		if (marker(s, i, slot, false) == (int)u || marker(s, i, slot, true) == (int)u ||
		    view_owner(s, i, slot) == (int)u)
			return true;
	}
	return false;
}

/* The first unreachable master the state of slot involves (a claimant, the
 * peer of a MIGRATING or IMPORTING marker, the owner in some master's view,
 * or the chosen owner), or -1. */
static int unreachable_involved(const struct plan_ctx *c, int slot, const struct repair_item *it)
{
	const struct snapshot *s = c->in->snap;

	for (size_t i = 0; i < s->count; i++) {
		if (!counts_as_unreachable_master(s, i))
			continue;
		if ((int)i == it->target || repair_claims(s, i, slot) || named_by_others(s, i, slot))
			return (int)i;
	}
	return -1;
}

static void block(struct repair_item *it, bool reach)
{
	it->blocked = true;
	it->needs_reach = reach;
}

bool repair_shard_lost(const struct snapshot *s, size_t i)
{
	const struct node *n = self_line(s, i);

	if (!counts_as_unreachable_master(s, i) || !(n->flags & NODE_FAIL) || slotset_count(node_slots(n)) == 0)
		return false;
	for (size_t j = 0; j < s->count; j++) {
		const struct node *r = self_line(s, j);

		if (j != i && s->nodes[j].reachable && r && strcmp(r->master_id, n->id) == 0)
			return false;
	}
	return true;
}

/* A slot of a lost shard (the owner in the cluster's map heads one):
 * blocked without accept_data_loss, else given to its live master. Returns
 * 1 when slot is no such slot, 0 when it is (it filled), -1 on OOM. */
static int plan_lost(struct plan_ctx *c, int slot, struct repair_item *it)
{
	const struct snapshot *s = c->in->snap;
	int owner = map_owner(s, slot);

	if (owner < 0 || !repair_shard_lost(s, (size_t)owner))
		return 1;
	memset(it, 0, sizeof(*it));
	it->slot = slot;
	it->state = REPAIR_LOST_SHARD;
	it->owner = owner;
	it->source = it->importer = -1;
	it->target = c->lost_target ? c->lost_target[slot] : -1;
	it->involves_unreachable = true;
	if (!c->in->accept_data_loss) {
		block(it, true);
		snprintf(it->reason, sizeof(it->reason), "lost shard: '%s' and every replica of it are down "
			"and flagged fail, so every key of the slot is gone; --accept-data-loss gives the slot, "
			"empty, to a live master", s->nodes[owner].addr);
		return 0;
	}
	if (it->target < 0 || c->unreachable > 0) {
		block(it, true);
		snprintf(it->reason, sizeof(it->reason), c->unreachable > 0 ?
			"not repaired while another master cannot be reached (it may be a partition)" :
			"no live master can own the slot");
		return 0;
	}
	return write_steps(c, slot, it) ? -1 : 0;
}

/* accept_data_loss: the lost shards' slots, ascending, split into
 * contiguous ranges of as even a size as can be among the live masters in
 * snapshot order (see repair_shard_lost). */
static void split_lost(const struct snapshot *s, int *lost_target)
{
	int lost = 0, live = 0, k = 0, m = 0;

	for (int slot = 0; slot < SC_SLOTS; slot++) {
		int o = map_owner(s, slot);

		lost_target[slot] = -1;
		lost += o >= 0 && repair_shard_lost(s, (size_t)o);
	}
	for (size_t i = 0; i < s->count; i++)
		live += is_master(s, i) && s->nodes[i].reachable &&
			!(self_line(s, i)->flags & (NODE_FAIL | NODE_PFAIL));
	for (size_t i = 0; live > 0 && i < s->count; i++) {
		int first = (int)((long long)m * lost / live), last = (int)((long long)(m + 1) * lost / live);

		if (!is_master(s, i) || !s->nodes[i].reachable || (self_line(s, i)->flags & (NODE_FAIL | NODE_PFAIL)))
			continue;
		for (; k < SC_SLOTS; k++) {
			int o = map_owner(s, k);

			if (o < 0 || !repair_shard_lost(s, (size_t)o))
				continue;
			if (first >= last)
				break;
			lost_target[k] = (int)i;
			first++;
		}
		m++;
	}
}

static int plan_slot(struct plan_ctx *c, int slot, struct repair_item *it)
{
	const struct snapshot *s = c->in->snap;
	struct slot_facts f;
	int gone = plan_lost(c, slot, it);

	if (gone <= 0)
		return gone;
	gather_facts(c->in, slot, &f);
	if (!slot_is_broken(&f))
		return 1;
	memset(it, 0, sizeof(*it));
	it->slot = slot;
	it->owner = map_owner(s, slot);
	classify(c, slot, &f, it);
	apply_hint(c, slot, it);
	gone = unreachable_involved(c, slot, it);
	if (gone >= 0) {
		block(it, true);
		it->involves_unreachable = true;
		snprintf(it->reason, sizeof(it->reason),
			"'%s' could not be reached; run fix again once it is back", s->nodes[gone].addr);
		return 0;
	}
	if (it->target < 0) {
		block(it, c->unreachable > 0);
		snprintf(it->reason, sizeof(it->reason), "no reachable master can own the slot");
		return 0;
	}
	if (c->unreachable > 0 && !c->in->allow_unreachable) {
		/* it may be a partition: nothing changes unless the operator says so */
		block(it, true);
		snprintf(it->reason, sizeof(it->reason), "not repaired while a master cannot be reached; "
			"--allow-unreachable repairs it without that master");
		return 0;
	}
	if (f.claimants == 0)
		c->assigned[it->target]++;
	return write_steps(c, slot, it) ? -1 : 0;
}

int repair_plan_build(const struct repair_input *in, struct repair_plan *out, struct sc_error *err)
{
	const struct snapshot *s = in->snap;
	struct repair_plan p = { 0 };
	struct plan_ctx c = { in, NULL, 0, NULL };
	size_t cap = 0;

	if (!snapshot_map(s))
		return sc_error_set(err, SC_EXIT_UNREACHABLE, "no node of the cluster could be reached");
	c.assigned = calloc(s->count ? s->count : 1, sizeof(int));
	c.lost_target = calloc(SC_SLOTS, sizeof(int));
	if (!c.assigned || !c.lost_target) {
		free(c.assigned);
		free(c.lost_target);
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	}
	split_lost(s, c.lost_target);
	for (size_t i = 0; i < s->count; i++) {
		bool lost = repair_shard_lost(s, i);

		p.lost_masters += lost;
		c.unreachable += counts_as_unreachable_master(s, i) && !(lost && in->accept_data_loss);
	}
	p.unreachable_masters = c.unreachable;
	p.refused = c.unreachable > 0 && !in->allow_unreachable;
	for (int slot = 0; slot < SC_SLOTS; slot++) {
		struct repair_item it;
		int rc;

		if (p.count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct repair_item *grown = realloc(p.items, ncap * sizeof(*grown));

			if (!grown)
				goto oom;
			p.items = grown;
			cap = ncap;
		}
		rc = plan_slot(&c, slot, &it);
		if (rc < 0) {
			free(it.steps);
			goto oom;
		}
		if (rc == 0 && in->atomic_held && slotset_has(in->atomic_held, slot)) {
			block(&it, false);
			snprintf(it.reason, sizeof(it.reason), "an atomic slot migration (Valkey 9) holds the slot: "
				"left to the servers (see 'slotctl check'; 'slotctl fix --cancel-atomic' cancels it)");
		}
		if (rc == 0)
			p.items[p.count++] = it;
	}
	free(c.assigned);
	free(c.lost_target);
	*out = p;
	return 0;
oom:
	free(c.assigned);
	free(c.lost_target);
	repair_plan_release(&p);
	return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory while planning repairs");
}

void repair_plan_release(struct repair_plan *p)
{
	for (size_t i = 0; p && i < p->count; i++)
		free(p->items[i].steps);
	if (p) {
		free(p->items);
		memset(p, 0, sizeof(*p));
	}
}

size_t repair_plan_blocked(const struct repair_plan *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->count; i++)
		n += p->items[i].blocked;
	return n;
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
		self = self_line(s, i);
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
	return name_masters(s, counts_as_unreachable_master, false, ", ", REPAIR_NAMED_NODES, buf, size);
}

size_t repair_lost_names(const struct snapshot *s, char *buf, size_t size)
{
	return name_masters(s, repair_shard_lost, true, "; ", SIZE_MAX, buf, size);
}

int repair_lost_slots(const struct repair_plan *p, struct slotset *out)
{
	slotset_clear(out);
	for (size_t i = 0; i < p->count; i++)
		if (p->items[i].state == REPAIR_LOST_SHARD)
			slotset_add(out, p->items[i].slot);
	return slotset_count(out);
}

size_t repair_plan_needs_reach(const struct repair_plan *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->count; i++)
		n += p->items[i].needs_reach;
	return n;
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
