/* mover_keys.c: the "keys" mover backend (mover.h), today's key-by-key
 * path: a group of pending slots moves as a stream (exec_group.c, finished
 * by exec_finish.c), a slot resumed from a later phase or rolled back by
 * abort goes through one slot's protocol (exec_slot.c). Here: its entry
 * points. */
#include "mover_keys.h"
#include "slotctl/core/exitcode.h"


static void keys_move(struct mover_group *g)
{
	if (g->m[0]->phase == JOURNAL_PENDING) {
		exec_slot_group(g);
		return;
	}
	for (size_t i = 0; i < g->n; i++) {
		struct sc_error e = { 0 };

		if (exec_slot_forward(g, i, &e) != 0)
			mover_fail(g, i, &e);
	}
}

static void keys_rollback(struct mover_group *g)
{
	for (size_t i = 0; i < g->n; i++) {
		struct sc_error e = { 0 };

		if (exec_slot_rollback(g, i, &e) != 0)
			mover_fail(g, i, &e);
	}
}

const struct mover_backend mover_keys = {
	.name = "keys",
	.max_group = EXEC_GROUP_SLOTS,
	.redirects_clients = true,
	.usable = NULL,
	.move = keys_move,
	.rollback = keys_rollback,
	.settle = NULL,
};
