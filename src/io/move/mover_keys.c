/* mover_keys.c: the "keys" mover backend (mover.h), today's key-by-key
 * path: a group of pending slots moves as a stream (exec_group.c, finished
 * by exec_finish.c), a slot resumed from a later phase or rolled back by
 * abort goes through one slot's protocol (exec_slot.c). Here: its entry
 * points, and the MIGRATE options a move gets from the run's batching and
 * pacing. */
#include "mover_keys.h"
#include "slotctl/core/exitcode.h"

#include <string.h>

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
	.usable = NULL,
	.move = keys_move,
	.rollback = keys_rollback,
	.settle = NULL,
};

/* The key mover's per-batch callback. */
static void on_batch(void *ctx, int slot, long long keys, long long bytes)
{
	struct keys_batch_ctx *b = ctx;

	(void)slot;
	mover_progress(b->g, b->i, keys, bytes);
}

/* Under pacing, batches small enough for EXEC_PACED_MIGRATES_PER_SEC
 * MIGRATEs a second at the pace (see its definition). */
static void paced_batches(const struct exec_opts *o, struct migrate_opts *out)
{
	long long keys = o->max_keys_per_sec / EXEC_PACED_MIGRATES_PER_SEC;
	long long bytes = o->max_bytes_per_sec / EXEC_PACED_MIGRATES_PER_SEC;

	if (keys < EXEC_PACED_MIN_BATCH)
		keys = EXEC_PACED_MIN_BATCH;
	if (keys > o->max_keys_per_sec)
		keys = o->max_keys_per_sec;
	if (o->max_keys_per_sec > 0 && out->batch_keys > keys)
		out->batch_keys = (int)keys;
	if (bytes < 1)
		bytes = 1;
	if (o->max_bytes_per_sec > 0 && out->batch_bytes > bytes)
		out->batch_bytes = bytes;
}

void keys_migrate_opts(struct mover_group *g, size_t i, bool asking, struct keys_batch_ctx *ctx,
	struct migrate_opts *out)
{
	const struct exec_opts *o = g->o;
	struct exec_move *m = g->m[i];

	memset(out, 0, sizeof(*out));
	out->batch_keys = o->batch_keys > 0 ? o->batch_keys : EXEC_DEFAULT_BATCH_KEYS;
	out->batch_bytes = o->batch_bytes > 0 ? o->batch_bytes : EXEC_DEFAULT_BATCH_BYTES;
	paced_batches(o, out);
	if (o->max_bytes_per_sec > 0)
		m->probe = true; /* pacing by bytes needs the sizes */
	out->probe_sizes = m->probe;
	out->max_block_us = o->max_block_us > 0 ? o->max_block_us : EXEC_DEFAULT_MAX_BLOCK_US;
	out->io_timeout_ms = o->conn.command_timeout_ms;
	out->migrate_timeout_ms = o->migrate_timeout_ms > 0 ? o->migrate_timeout_ms : o->conn.command_timeout_ms;
	out->replace = o->replace;
	out->asking = asking;
	out->user = o->conn.user;
	out->pass = o->conn.pass;
	out->stop = o->stop;
	out->on_batch = on_batch;
	out->ctx = ctx;
	ctx->g = g;
	ctx->i = i;
}
