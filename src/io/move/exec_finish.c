/* exec_finish.c: the finisher of a group's slots (exec_group.c hands it
 * each slot whose keys have all left the source): SETSLOT NODE on the
 * target first, and as soon as it has taken a slot on the source and every
 * other master, a few slots at a time, on control connections of its own;
 * those last replies are read while later slots' keys move. Finishing a few
 * slots at a time instead of a whole group at once spreads the bus traffic
 * each NODE causes (the target announces its new slots to every node), which
 * is what clients feel; within a batch only the first slot's NODE makes the
 * target announce (see fin_take_quietly). Each slot is journaled at every
 * phase exactly as exec_slot.c does. */
#include "mover_keys.h"
#include "slotctl/core/exitcode.h"

#include <stdlib.h>

/* Emptied slots are finished this many at a time: a node then handles
 * their NODEs in one event-loop turn, saving its config once, instead of once
 * per slot; few enough that no turn keeps clients waiting long. Measured on
 * 4096 slots (bench/README.md): 4 and 8 keep client p99 alike, 8 is faster;
 * 16 stalls every node longer, and so did 32 and 128 with one announcement
 * per batch. */
#define FIN_BATCH 8

/* Lanes: a server that holds each SETSLOT until its replicas have it (Valkey
 * 8+: clusterCommandSetSlot blocks the client for the replicas' ack) answers
 * SETSLOTs pipelined on one connection one replica round trip apart; sent on
 * W connections at once, W of them wait together (one GETACK round answers
 * every client blocked meanwhile: 400 SETSLOTs on Valkey 9.1.2, 0.78 ms each
 * on one connection, 0.23 ms on 8). A batch's slot j goes on lane j mod W,
 * its own steps in order on it. W is at most a batch, and the lanes at most
 * FIN_LANE_CONNS connections per worker (none beyond lane 0 in a cluster of
 * more than FIN_LANE_CONNS / 2 masters: a worker keeps its lanes to each
 * across its groups, in its control pool). */
#define FIN_LANE_CONNS 32

struct conn *exec_finisher_lane(const struct exec_finisher *f, int node, size_t w)
{
	if (w == 0)
		return node < 0 ? f->target : f->rest[node];
	return f->lane[(w - 1) * (1 + f->n_rest) + (size_t)(node + 1)];
}

/* Opens lanes 1..W-1 to the target and each of rest[], from the worker's
 * control connections (ctl keeps them across its groups, and drops them with
 * the rest after a group that may have left replies unread); any failure
 * leaves lane 0 alone, as without lanes (they only save time). */
static void fin_open_lanes(struct exec_finisher *f, struct conn_pool *ctl)
{
	size_t nodes = 1 + f->n_rest, w = FIN_LANE_CONNS / nodes;

	if (w > FIN_BATCH)
		w = FIN_BATCH;
	if (w < 2 || !(f->lane = calloc((w - 1) * nodes, sizeof(*f->lane))))
		return;
	for (size_t j = 0; j < (w - 1) * nodes; j++) {
		struct conn *base = j % nodes == 0 ? f->target : f->rest[j % nodes - 1];
		struct sc_error ignored;

		if (!(f->lane[j] = conn_pool_get_lane(ctl, conn_host(base), conn_port(base), (unsigned)(1 + j / nodes),
		    &ignored))) {
			free(f->lane);
			f->lane = NULL;
			return;
		}
	}
	f->lanes = w;
}

/* Flushes lanes [0, n) of node (-1: the target): 0, or -1 with err naming
 * the node at the first that fails (its connection is then broken). */
static int fin_flush_lanes(const struct exec_finisher *f, int node, size_t n, struct sc_error *err)
{
	for (size_t w = 0; w < n && w < f->lanes; w++)
		if (conn_flush(exec_finisher_lane(f, node, w), err) != 0)
			return -1;
	return 0;
}

int exec_finisher_open(struct exec_finisher *f, struct mover_group *g, struct conn_pool *ctl, struct sc_error *err)
{
	bool replicated = false;

	f->g = g;
	f->dst_id = g->dst->id;
	f->lanes = 1;
	f->ready = calloc(g->n, sizeof(*f->ready));
	f->at_rest = calloc(g->n, sizeof(*f->at_rest));
	f->rest = calloc(g->run->node_count ? g->run->node_count : 1, sizeof(*f->rest));
	if (!f->ready || !f->at_rest || !f->rest)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	if (!(f->target = conn_pool_get(ctl, g->dst->host, g->dst->port, err)) ||
	    slotops_setslot_replicated(f->target, &replicated, err) < 0 ||
	    mover_masters(g, ctl, f->rest, &f->n_rest, err) != 0)
		return -1;
	f->plain = replicated;
	if (replicated)
		fin_open_lanes(f, ctl);
	return 0;
}

void exec_finisher_free(struct exec_finisher *f)
{
	free(f->lane);
	free(f->ready);
	free(f->at_rest);
	free(f->rest);
}

static void fin_break(struct exec_finisher *f, size_t i, const struct sc_error *e)
{
	if (!f->broken) {
		f->broken = true;
		f->broke = *e;
	}
	mover_fail(f->g, i, e);
}

/* Slot i's keys have all left the source: it is ready for NODE. */
void exec_finisher_push(struct exec_finisher *f, size_t i)
{
	f->ready[f->nready++] = i;
}

/* Reads the source's and the others' replies for the oldest slot of
 * at_rest (every one, so the next slot's are next): done when all took it,
 * else failed with the first refusal. */
static void fin_reap_rest(struct exec_finisher *f)
{
	struct mover_group *g = f->g;
	size_t i = f->at_rest[f->hr];
	struct exec_move *m = g->m[i];
	struct sc_error e, first;
	bool ok = true;

	for (size_t k = 0; k < f->n_rest; k++) {
		if ((slotops_setslot_read(exec_finisher_lane(f, (int)k, f->hr % f->lanes), m->slot, "NODE", true,
		     &e) != 0 ||
		     (k == 0 && mover_record(g, i, JOURNAL_OWNER_SOURCE, &e) != 0)) && ok) {
			first = e;
			ok = false;
		}
	}
	if (ok && (mover_record(g, i, JOURNAL_OWNER_ALL, &e) != 0 ||
	           mover_record(g, i, JOURNAL_DONE, &e) != 0)) {
		first = e;
		ok = false;
	}
	if (ok)
		mover_settled(g, i);
	else
		mover_fail(g, i, &first);
	f->hr++;
}

/* The target took slot i: journaled, then NODE goes to the source and the
 * others (flushed by the caller). */
static void fin_took(struct exec_finisher *f, size_t i)
{
	struct mover_group *g = f->g;
	struct sc_error e;

	if (mover_record(g, i, JOURNAL_OWNER_TARGET, &e) != 0) {
		mover_fail(g, i, &e);
		return;
	}
	if (f->broken) {
		mover_fail(g, i, &f->broke);
		return;
	}
	for (size_t k = 0; k < f->n_rest; k++) {
		if (slotops_setslot_send(exec_finisher_lane(f, (int)k, f->nr % f->lanes), g->m[i]->slot, "NODE",
		    f->dst_id, &e) != 0) {
			fin_break(f, i, &e);
			return;
		}
	}
	f->at_rest[f->nr++] = i;
}

static void fin_flush_rest(struct exec_finisher *f)
{
	struct sc_error e;
	int rc = 0;

	for (size_t k = 0; rc == 0 && !f->broken && k < f->n_rest; k++)
		rc = fin_flush_lanes(f, (int)k, f->lanes, &e);
	if (rc != 0) {
		/* the slots just sent there cannot be told apart any more */
		while (f->hr < f->nr)
			fin_break(f, f->at_rest[f->hr++], &e);
	}
}

/* The anchor's take: NODE for one slot on the target, alone. */
struct anchor {
	struct exec_finisher *f;
	int slot;
	bool unread;              /* failed reading the reply (the send went out) */
};

static int anchor_take(void *ctx, struct sc_error *err)
{
	struct anchor *a = ctx;
	struct conn *c = a->f->target;

	if (slotops_setslot_send(c, a->slot, "NODE", a->f->dst_id, err) != 0 || conn_flush(c, err) != 0)
		return -1;
	a->unread = true;
	return slotops_setslot_read(c, a->slot, "NODE", false, err);
}

/* The anchor of a batch: NODE for slot i alone, as the protocol has it. A
 * NODE for a slot the target imports makes it take the greatest configEpoch
 * (bumping its own unless it already has it) and announce its slots to
 * every node; once it has answered, the rest of the batch can follow
 * quietly. THE place where the executor changes a slot's owner: the target
 * takes it only through the one finaliser's taking step (mover_take,
 * handover_take: past handover_gate when another target took a slot since
 * this one last did), so that its bump lands above every other master,
 * alone; the source and the others are told right after (fin_took), and the
 * scheduler never lets the target give a slot in another move meanwhile
 * (exec_sched.c, roles_free). See handover.h for the invariant. Returns true
 * when the target took the slot. */
static bool fin_anchor(struct exec_finisher *f, size_t i)
{
	struct mover_group *g = f->g;
	struct anchor a = { f, g->m[i]->slot, false };
	struct sc_error e;

	if (f->broken) {
		mover_fail(g, i, &f->broke);
		return false;
	}
	if (mover_take(g, f->target, f->rest, f->n_rest, &f->seen_takes, anchor_take, &a, &e) != 0) {
		if (a.unread)
			mover_fail(g, i, &e);
		else
			fin_break(f, i, &e);
		return false;
	}
	fin_took(f, i);
	return mover_alive(g, i);
}

/* Judges slot i's replies in a quiet step: STABLE's (NULL when it had
 * none), then NODE's. */
static void fin_judge_quiet(struct exec_finisher *f, size_t i, const redisReply *stable,
	const redisReply *node)
{
	struct mover_group *g = f->g;
	struct sc_error e;

	if ((stable && slotops_setslot_judge(f->target, stable, g->m[i]->slot, "STABLE", false, &e) != 0) ||
	    slotops_setslot_judge(f->target, node, g->m[i]->slot, "NODE", false, &e) != 0)
		mover_fail(g, i, &e);
}

/* The quiet step's commands for the k-th of n slots: STABLE and NODE, or
 * NODE alone for the last when it is to announce. */
static size_t quiet_cmds(size_t k, size_t n, bool announce)
{
	return announce && k == n - 1 ? 1 : 2;
}

/* Reads the replies of fin_send_quiet's commands and judges each slot's.
 * In a transaction (tx) MULTI's reply comes first: refused (an ACL, say),
 * the commands ran one by one and their replies are the answers, EXEC's an
 * error to skip; else they were queued and EXEC's array holds the answers.
 * Returns true when EXEC itself was refused: nothing ran, the transaction is
 * discarded, and the caller sends the steps again one by one. An unreadable
 * reply fails every slot not judged as taken. */
static bool fin_read_quiet(struct exec_finisher *f, const size_t *idx, size_t n, bool announce, bool tx)
{
	struct mover_group *g = f->g;
	struct conn *c = f->target;
	redisReply *opened, *r[2] = { NULL, NULL }, *done = NULL;
	struct sc_error e;
	bool queued = false, refused = false;
	size_t k, total = 0;

	if (tx) {
		if (!(opened = conn_get_reply(c, &e)))
			goto unreadable;
		queued = opened->type != REDIS_REPLY_ERROR;
		f->plain = !queued;
		freeReplyObject(opened);
	}
	for (k = 0; k < n; k++) {
		size_t cmds = quiet_cmds(k, n, announce);
		struct conn *lane = tx ? c : exec_finisher_lane(f, -1, k % f->lanes);

		for (size_t j = 0; j < cmds; j++)
			if (!(r[j] = conn_get_reply(lane, &e)))
				goto unreadable;
		if (!queued)
			fin_judge_quiet(f, idx[k], cmds == 2 ? r[0] : NULL, r[cmds - 1]);
		freeReplyObject(r[0]);
		freeReplyObject(r[1]);
		r[0] = r[1] = NULL;
		total += cmds;
	}
	if (tx && !(done = conn_get_reply(c, &e)))
		goto unreadable;
	if (queued && (done->type != REDIS_REPLY_ARRAY || done->elements != total)) {
		/* EXECABORT discards the transaction; DISCARD makes sure of it
		 * (its own refusal, "without MULTI", is fine) */
		refused = true;
		freeReplyObject(done);
		if (conn_append(c, &e, "DISCARD") != 0 || !(done = conn_get_reply(c, &e)))
			goto unreadable;
	} else if (queued) {
		total = 0;
		for (k = 0; k < n; k++) {
			size_t cmds = quiet_cmds(k, n, announce);

			fin_judge_quiet(f, idx[k], cmds == 2 ? done->element[total] : NULL,
				done->element[total + cmds - 1]);
			total += cmds;
		}
	}
	freeReplyObject(done);
	return refused;
unreadable:
	/* whatever ran or not, resume finds out from the nodes */
	freeReplyObject(r[0]);
	for (k = 0; k < n; k++)
		if (mover_alive(g, idx[k]))
			fin_break(f, idx[k], &e);
	return false;
}

/* Sends the quiet steps of the n slots: [MULTI,] for each STABLE and NODE
 * (NODE alone for the last when it announces) [, EXEC]. 0, or -1 with every
 * slot failed. */
static int fin_send_quiet(struct exec_finisher *f, const size_t *idx, size_t n, bool announce, bool tx)
{
	static const char *multi[1] = { "MULTI" }, *exec[1] = { "EXEC" };
	struct mover_group *g = f->g;
	struct sc_error e;
	int rc = f->broken ? -1 : 0;

	if (f->broken)
		e = f->broke;
	if (rc == 0 && tx)
		rc = conn_append_argv(f->target, 1, multi, NULL, &e);
	for (size_t k = 0; rc == 0 && k < n; k++) {
		struct conn *lane = tx ? f->target : exec_finisher_lane(f, -1, k % f->lanes);

		if (quiet_cmds(k, n, announce) == 2)
			rc = slotops_setslot_send(lane, g->m[idx[k]]->slot, "STABLE", NULL, &e);
		if (rc == 0)
			rc = slotops_setslot_send(lane, g->m[idx[k]]->slot, "NODE", f->dst_id, &e);
	}
	if (rc == 0 && tx)
		rc = conn_append_argv(f->target, 1, exec, NULL, &e);
	if (rc == 0)
		rc = fin_flush_lanes(f, -1, tx ? 1 : n, &e);
	if (rc != 0)
		for (size_t k = 0; k < n; k++)
			fin_break(f, idx[k], &e);
	return rc;
}

/* The rest of a batch, after its anchor: for each slot SETSLOT STABLE (which
 * drops the target's IMPORTING mark) and then NODE, all in one MULTI/EXEC.
 * Without the mark the NODE neither bumps the epoch (the anchor left the
 * target with the greatest) nor announces: one announcement per batch
 * instead of one per slot, each of which every node handled and often
 * followed with an fsync of its config, while clients waited (measured on
 * 4095 slots: client p99 ≈1.1 -> ≈0.75 ms, apply 8% faster). With announce
 * the last slot keeps its mark, so its NODE announces all of them: the
 * group's last slots must not wait for gossip to reach the nodes slotctl
 * does not tell itself (replicas). The transaction keeps a client that was
 * sent here with ASK from meeting a slot between its STABLE and its NODE (it
 * would be sent back to the source). Once the server refuses MULTI or EXEC
 * (an ACL), and from the start on a server that replicates SETSLOT before
 * running it (Valkey 8+, which blocks the client meanwhile and dies on an
 * assertion when that happens inside a transaction), the steps go one by
 * one (f->plain), still safe: a slot whose
 * NODE fails after its STABLE is found by resume as pending with its keys
 * on the target, and by abort, which counts them, as keys to bring back.
 * Slots the target took go on as after the anchor. */
static void fin_take_quietly(struct exec_finisher *f, const size_t *idx, size_t n, bool announce)
{
	bool tx = !f->plain;

	while (fin_send_quiet(f, idx, n, announce, tx) == 0 && fin_read_quiet(f, idx, n, announce, tx) && tx) {
		f->plain = true;
		tx = false;
	}
	for (size_t k = 0; k < n; k++)
		if (mover_alive(f->g, idx[k]))
			fin_took(f, idx[k]);
}

/* Finishes the ready slots: the first the target takes is the batch's
 * anchor, the rest follow quietly (announced at the end when last); each
 * slot the target took goes on to the source and the others, flushed at
 * once: they then hear of the new owner from us before they would from the
 * target's next announcement, which they would follow with an fsync of
 * their config (measured on 4095 slots: a third of the fsyncs, client p99
 * 1.22 -> 1.12 ms). */
static void fin_finish_ready(struct exec_finisher *f, bool last)
{
	size_t n = f->nready, k = 0, nr_before = f->nr;

	f->nready = 0;
	while (k < n && !fin_anchor(f, f->ready[k++]))
		;
	if (k < n)
		fin_take_quietly(f, f->ready + k, n - k, last);
	if (f->nr > nr_before)
		fin_flush_rest(f);
}

/* One step of the finisher between two slots' keys: the slots sent on to the
 * source and the others last time are read, then the ready slots are
 * finished once FIN_BATCH of them wait (or any, when no slot of the group is
 * left to empty). */
void exec_finisher_step(struct exec_finisher *f, bool last)
{
	while (f->hr < f->nr)
		fin_reap_rest(f);
	if (f->nready >= FIN_BATCH || (last && f->nready > 0))
		fin_finish_ready(f, last);
}

/* Finishes every slot pushed so far, waiting for each reply. */
void exec_finisher_drain(struct exec_finisher *f)
{
	exec_finisher_step(f, true);
	while (f->hr < f->nr)
		fin_reap_rest(f);
}

