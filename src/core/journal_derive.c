/* journal_derive.c: re-deriving a slot's migration phase from what the nodes
 * themselves say (their own CLUSTER NODES views), so that resume and abort act
 * on the truth rather than on the journal's last line (see
 * journal_derive_phase in slotctl/journal.h). Pure. */
#include "slotctl/journal.h"
#include "slotctl/exitcode.h"

#include <string.h>

/* The id of the node that view says owns slot, or "" when none does. */
static const char *view_owner(const struct topology *view, int slot)
{
	for (size_t i = 0; i < view->count; i++)
		if (node_is_master(&view->nodes[i]) && slotset_has(&view->nodes[i].slots, slot))
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

static bool others_agree(const struct topology *const *others, size_t n, int slot, const char *to)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(view_owner(others[i], slot), to) != 0)
			return false;
	return true;
}

static const char *or_none(const char *id)
{
	return *id ? id : "no node";
}

int journal_derive_phase(const struct topology *src_view, const struct topology *dst_view,
	const struct topology *const *others, size_t n_others, int slot,
	const char *from, const char *to, enum journal_phase *out, struct sc_error *err)
{
	const char *src_owner = view_owner(src_view, slot);
	const char *dst_owner = view_owner(dst_view, slot);
	bool imp = view_marker(dst_view, slot, true, from);
	bool mig = view_marker(src_view, slot, false, to);

	if (strcmp(dst_owner, to) == 0) {
		if (strcmp(src_owner, to) != 0 || mig)
			*out = JOURNAL_OWNER_TARGET;
		else
			*out = others_agree(others, n_others, slot, to) ? JOURNAL_OWNER_ALL : JOURNAL_OWNER_SOURCE;
	} else if (strcmp(src_owner, to) == 0) {
		*out = JOURNAL_KEYS_MOVED;
	} else if (strcmp(src_owner, from) == 0) {
		*out = imp && mig ? JOURNAL_MIGRATING : imp ? JOURNAL_IMPORTING : JOURNAL_PENDING;
	} else {
		return sc_error_set(err, SC_EXIT_PROBLEMS,
			"slot %d is not where a move from %.8s to %.8s leaves it: the source says %.8s owns it, "
			"the target says %.8s; run 'slotctl fix'", slot, from, to, or_none(src_owner),
			or_none(dst_owner));
	}
	return 0;
}
