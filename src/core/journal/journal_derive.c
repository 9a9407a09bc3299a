/* journal_derive.c: re-deriving a slot's migration phase from what the nodes
 * themselves say (their own CLUSTER NODES views), so that resume and abort act
 * on the truth rather than on the journal's last line (see
 * journal_derive_phase in slotctl/core/journal.h). Pure. */
#include "slotctl/core/journal.h"
#include "slotctl/core/exitcode.h"

#include <string.h>

/* The id of the node that view says owns slot, or "" when none does. */
static const char *view_owner(const struct topology *view, int slot)
{
	for (size_t i = 0; i < view->count; i++)
		if (node_is_master(&view->nodes[i]) && slotset_has(node_slots(&view->nodes[i]), slot))
			return view->nodes[i].id;
	return "";
}

/* True when the view's own node carries the marker for slot with peer. */
static bool view_marker(const struct topology *view, int slot, bool importing, const char *peer)
{
	const struct node *me;

	if (view->myself < 0)
		return false;
	me = &view->nodes[view->myself];
	for (size_t i = 0; i < me->open_count; i++)
		if (me->open[i].slot == slot && me->open[i].importing == importing &&
		    strcmp(me->open[i].peer, peer) == 0)
			return true;
	return false;
}

/* A set of node ids that count as one end of a move: [0] the node playing
 * it now, then the other members of its shard. */
struct ids {
	const char *const *id;
	size_t n;
};

static bool in_ids(const struct ids *set, const char *id)
{
	for (size_t i = 0; *id && i < set->n; i++)
		if (strcmp(set->id[i], id) == 0)
			return true;
	return false;
}

static bool others_agree(const struct topology *const *others, size_t n, int slot, const struct ids *to)
{
	for (size_t i = 0; i < n; i++)
		if (!in_ids(to, view_owner(others[i], slot)))
			return false;
	return true;
}

static const char *or_none(const char *id)
{
	return *id ? id : "no node";
}

static int derive(const struct topology *src_view, const struct topology *dst_view,
	const struct topology *const *others, size_t n_others, int slot, const struct ids *from,
	const struct ids *to, enum journal_phase *out, struct sc_error *err)
{
	const char *src_owner = view_owner(src_view, slot);
	const char *dst_owner = view_owner(dst_view, slot);
	bool imp = view_marker(dst_view, slot, true, from->id[0]);
	bool mig = view_marker(src_view, slot, false, to->id[0]);

	if (in_ids(to, dst_owner)) {
		if (!in_ids(to, src_owner) || mig)
			*out = JOURNAL_OWNER_TARGET;
		else
			*out = others_agree(others, n_others, slot, to) ? JOURNAL_OWNER_ALL : JOURNAL_OWNER_SOURCE;
	} else if (in_ids(to, src_owner)) {
		*out = JOURNAL_KEYS_MOVED;
	} else if (in_ids(from, src_owner)) {
		*out = imp && mig ? JOURNAL_MIGRATING : imp ? JOURNAL_IMPORTING : JOURNAL_PENDING;
	} else {
		return sc_error_set(err, SC_EXIT_PROBLEMS,
			"slot %d is not where a move from %.8s to %.8s leaves it: the source says %.8s owns it, "
			"the target says %.8s; run 'slotctl fix'", slot, from->id[0], to->id[0], or_none(src_owner),
			or_none(dst_owner));
	}
	return 0;
}

int journal_derive_phase(const struct topology *src_view, const struct topology *dst_view,
	const struct topology *const *others, size_t n_others, int slot,
	const char *from, const char *to, enum journal_phase *out, struct sc_error *err)
{
	struct ids f = { &from, 1 }, t = { &to, 1 };

	return derive(src_view, dst_view, others, n_others, slot, &f, &t, out, err);
}

int journal_derive_phase_shards(const struct topology *src_view, const struct topology *dst_view,
	const struct topology *const *others, size_t n_others, int slot,
	const char *const *from, size_t n_from, const char *const *to, size_t n_to,
	enum journal_phase *out, struct sc_error *err)
{
	struct ids f = { from, n_from }, t = { to, n_to };

	return derive(src_view, dst_view, others, n_others, slot, &f, &t, out, err);
}
