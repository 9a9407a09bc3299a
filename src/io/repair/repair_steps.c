/* repair_steps.c: one item of fix's plan, one stage of it at a time: each
 * step the stage and a filter let through, in order, with the shared
 * slot-migration steps (slotops): SETSLOT (never NODE away from a node still
 * holding keys of the slot), BUMPEPOCH, and key moves, which compare the
 * keys on both nodes again first (repair_dups.c). The stages are
 * repair_stages.c's and repair_owner.c's. */
#include "repair_priv.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/slotops.h"

#include <stdio.h>
#include <string.h>

#define REPAIR_BATCH_KEYS 256
#define REPAIR_BATCH_BYTES (4LL << 20)
#define REPAIR_MIGRATE_TIMEOUT_MS 5000

/* Moves the keys of one MOVE step, after comparing duplicates again (now
 * that the target serves the slot). Returns 0 moved, 1 left (conflicts),
 * -1 failed. */
static int run_move(struct conn_pool *pool, struct repair_survey *sv, const struct repair_opts *o,
	struct repair_item *it, const struct repair_step *st, struct repair_outcome *out)
{
	const struct snapshot *s = &sv->snap;
	struct conn *src, *dst;
	struct dup_scan d;
	struct migrate_opts mo = { 0 };
	struct migrate_stats stats = { 0 };
	struct sc_error *err = &out->error;
	bool replace = false;
	int rc;

	if (!(src = repair_conn_of(pool, s, st->node, err)) || !(dst = repair_conn_of(pool, s, st->peer, err)))
		return -1;
	if (repair_dup_scan_run(src, dst, it->slot, &d, err) != 0)
		return -1;
	if (d.ndiff) {
		enum keep k = repair_keep_for(it, st->node, st->peer, o->prefer);

		if (k == KEEP_UNDECIDED) {
			repair_leave_for_conflicts(s, it, st, &d, o->prefer);
			repair_dup_scan_release(&d);
			return 1;
		}
		if (k == KEEP_TARGET && repair_delete_keys(src, &d, &out->keys_dropped, err) != 0) {
			repair_dup_scan_release(&d);
			return -1;
		}
		replace = k == KEEP_SOURCE;
	}
	repair_dup_scan_release(&d);
	mo.batch_keys = REPAIR_BATCH_KEYS;
	mo.batch_bytes = REPAIR_BATCH_BYTES;
	mo.probe_sizes = true;
	mo.migrate_timeout_ms = REPAIR_MIGRATE_TIMEOUT_MS;
	mo.replace = replace;
	mo.asking = true;
	mo.user = o->conn.user;
	mo.pass = o->conn.pass;
	mo.tls = o->conn.tls;
	mo.io_timeout_ms = o->conn.command_timeout_ms;
	/* a node that just restarted says CLUSTERDOWN until it has rejoined: the
	 * mover waits for it (bounded) */
	rc = slotops_migrate_keys(src, s->nodes[st->peer].host, s->nodes[st->peer].port,
		it->slot, &mo, &stats, err);
	out->keys_moved += stats.keys;
	return rc;
}

/* Whether the node behind c is a replica now (false when it cannot say). */
static bool turned_replica(struct conn *c)
{
	struct sc_error ignored;
	bool replica = false;

	return slotops_is_replica(c, &replica, &ignored) == 0 && replica;
}

/* One step other than a key move. */
static int run_setslot(struct conn_pool *pool, const struct snapshot *s, const struct repair_item *it,
	const struct repair_step *st, struct sc_error *err)
{
	struct conn *c = repair_conn_of(pool, s, st->node, err);
	const char *peer = st->peer >= 0 ? s->nodes[st->peer].id : NULL;
	redisReply *r;
	int rc;

	if (!c)
		return -1;
	switch (st->op) {
	case REPAIR_OP_SET_NODE:
		if (st->node == st->peer)
			return slotops_set_node(c, it->slot, peer, err);
		/* never hand a slot away while this node still holds keys of it,
		 * unless they are its master's: a master that gave its last slot
		 * away may have turned replica since the snapshot */
		if (repair_claims(s, (size_t)st->node, it->slot) &&
		    slotops_require_empty(c, it->slot, err) != 0 && !turned_replica(c))
			return -1;
		return slotops_tell_node(c, it->slot, peer, err);
	case REPAIR_OP_SET_STABLE:
		return slotops_tell_stable(c, it->slot, err);
	case REPAIR_OP_SET_IMPORTING:
		return slotops_set_importing(c, it->slot, peer, err);
	case REPAIR_OP_SET_MIGRATING:
		return slotops_set_migrating(c, it->slot, peer, err);
	case REPAIR_OP_BUMP_EPOCH:
		r = conn_command(c, err, "CLUSTER BUMPEPOCH");
		rc = conn_check_reply(c, r, "CLUSTER BUMPEPOCH", err);
		if (r)
			freeReplyObject(r);
		return rc;
	case REPAIR_OP_MOVE_KEYS:
		break;
	}
	return 0;
}

size_t repair_owner_stage_start(const struct repair_item *it)
{
	for (size_t k = 0; k < it->step_count; k++)
		if (!it->steps[k].early &&
		    (it->steps[k].op == REPAIR_OP_SET_NODE || it->steps[k].op == REPAIR_OP_BUMP_EPOCH))
			return k;
	return it->step_count;
}

static enum stage stage_of(const struct repair_item *it, size_t k)
{
	if (it->steps[k].early)
		return STAGE_COVER;
	return k < repair_owner_stage_start(it) ? STAGE_KEYS : STAGE_OWNER;
}

static bool filter_takes(const struct step_filter *f, const struct snapshot *s, const struct repair_item *it,
	const struct repair_step *st)
{
	if (f->claimants)
		return st->op == REPAIR_OP_SET_NODE && st->node != f->node &&
		       repair_claims(s, (size_t)st->node, it->slot);
	return f->node < 0 || (st->node == f->node) != f->except;
}

void repair_run_item(struct conn_pool *pool, struct repair_survey *sv, const struct repair_opts *o,
	size_t idx, enum stage stage, const struct step_filter *f)
{
	struct repair_item *it = &sv->plan.items[idx];
	struct repair_outcome *out = &sv->outcomes[idx];

	for (size_t k = 0; out->status == REPAIR_PLANNED && k < it->step_count; k++) {
		const struct repair_step *st = &it->steps[k];
		int rc;

		if (stage_of(it, k) != stage || !filter_takes(f, &sv->snap, it, st))
			continue;
		if (st->op == REPAIR_OP_MOVE_KEYS)
			rc = run_move(pool, sv, o, it, st, out);
		else
			rc = run_setslot(pool, &sv->snap, it, st, &out->error);
		if (rc > 0) {
			out->status = REPAIR_LEFT;
		} else if (rc < 0) {
			char step[256];

			repair_step_describe(&sv->snap, it->slot, st, step, sizeof(step));
			if (!out->error.code)
				out->error.code = SC_EXIT_PROBLEMS;
			sc_error_prefix(&out->error, "slot %d: %s failed", it->slot, step);
			out->status = REPAIR_FAILED;
		}
	}
}
