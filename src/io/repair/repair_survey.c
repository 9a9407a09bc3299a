/* repair_survey.c: `slotctl fix`'s survey (repair_survey,
 * slotctl/io/repair.h): the snapshot, every master's key count per slot, its
 * used memory and the slots its running atomic migrations hold, gathered on
 * every node at once; the rules' plan (core/repair/repair_rules.c) built
 * from them; then, before anything changes, the items whose key moves would
 * meet keys with different values that --prefer does not settle are left
 * (repair_dups.c). */
#include "repair_priv.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/info_text.h"
#include "slotctl/io/parallel.h"
#include "slotctl/io/slotops.h"
#include "slotctl/io/atomic_ops.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- the snapshot's nodes ---------------------------------------------- */

bool repair_is_master(const struct snapshot *s, size_t i)
{
	const struct node_view *v = &s->nodes[i];

	return v->reachable && v->view.myself >= 0 && node_is_master(&v->view.nodes[v->view.myself]);
}

struct conn *repair_conn_of(struct conn_pool *pool, const struct snapshot *s, int i,
	struct sc_error *err)
{
	return conn_pool_get(pool, s->nodes[i].host, s->nodes[i].port, err);
}

/* ---- gathering key counts and memory ---------------------------------- */

/* COUNTKEYSINSLOT of every slot on c into out[0..SC_SLOTS), pipelined; an
 * empty node (DBSIZE 0) is answered at once. */
static int count_all_slots(struct conn *c, long long *out, struct sc_error *err)
{
	long long total = 0;

	if (conn_take_integer(c, conn_command(c, err, "DBSIZE"), "DBSIZE", &total, err) != 0)
		return -1;
	for (int s = 0; s < SC_SLOTS; s++)
		out[s] = 0;
	return total > 0 ? slotops_count_keys_many(c, NULL, SC_SLOTS, out, err) : 0;
}

/* used_memory from INFO memory, or -1 when it cannot be read. */
static long long used_memory(struct conn *c)
{
	struct sc_error err;
	redisReply *r = conn_command(c, &err, "INFO memory");
	long long m = -1;

	if (r && r->type == REDIS_REPLY_STRING)
		m = info_get_bytes(r->str, "used_memory");
	if (r)
		freeReplyObject(r);
	return m;
}

struct gather_ctx {
	struct repair_survey *sv;
	const struct conn_opts *opts;
	pthread_mutex_t lock;    /* sv->atomic_held, sv->atomic_jobs */
};

/* The slots the running atomic migrations that c lists hold, into sv. 0,
 * or -1 with err when the list cannot be read (which slots a job holds is
 * then unknown). */
static int gather_atomic(struct gather_ctx *g, struct conn *c, const char *id, struct sc_error *err)
{
	struct slotmig_list l;
	struct slotset held;
	bool supported;
	int exports = 0;

	if (atomic_list_if_any(c, id, &l, &supported, err) != 0)
		return -1;
	slotmig_list_held(&l, &held);
	for (size_t j = 0; j < l.count; j++)
		exports += l.jobs[j].op == SLOTMIG_EXPORT && l.jobs[j].outcome == SLOTMIG_RUNNING;
	pthread_mutex_lock(&g->lock);
	slotset_union(&g->sv->atomic_held, &g->sv->atomic_held, &held);
	g->sv->atomic_jobs += exports;
	pthread_mutex_unlock(&g->lock);
	slotmig_list_release(&l);
	return 0;
}

static void gather_one(void *arg, size_t i)
{
	struct gather_ctx *g = arg;
	struct node_view *v = &g->sv->snap.nodes[i];
	long long *keys = g->sv->keys + i * SC_SLOTS;
	struct conn *c = NULL;

	if (!repair_is_master(&g->sv->snap, i))
		return;
	if (conn_open(v->host, v->port, g->opts, &c, &v->error) != 0 ||
	    count_all_slots(c, keys, &v->error) != 0 || gather_atomic(g, c, v->id, &v->error) != 0) {
		/* it stopped answering since the snapshot (or its atomic
		 * migrations cannot be told): treat it as unreachable */
		v->reachable = false;
		for (int s = 0; s < SC_SLOTS; s++)
			keys[s] = -1;
	} else {
		g->sv->memory[i] = used_memory(c);
	}
	conn_close(c);
}

/* ---- survey ----------------------------------------------------------- */

/* Before anything changes: leaves the items whose moves would meet keys with
 * different values that --prefer does not settle. A node that cannot be
 * asked leaves the check to the move itself. */
static void survey_conflicts(struct repair_survey *sv, const struct repair_opts *o)
{
	struct conn_pool *pool = conn_pool_new(&o->conn);

	for (size_t i = 0; pool && i < sv->plan.count; i++) {
		struct repair_item *it = &sv->plan.items[i];

		for (size_t k = 0; !it->blocked && k < it->step_count; k++) {
			const struct repair_step *st = &it->steps[k];
			struct conn *src, *dst;
			struct dup_scan d;
			struct sc_error err;

			if (st->op != REPAIR_OP_MOVE_KEYS)
				continue;
			if (!(src = repair_conn_of(pool, &sv->snap, st->node, &err)) ||
			    !(dst = repair_conn_of(pool, &sv->snap, st->peer, &err)) ||
			    repair_dup_scan_run(src, dst, it->slot, &d, &err) != 0)
				continue;
			if (d.ndiff && repair_keep_for(it, st->node, st->peer, o->prefer) == KEEP_UNDECIDED)
				repair_leave_for_conflicts(&sv->snap, it, st, &d, o->prefer);
			repair_dup_scan_release(&d);
		}
	}
	conn_pool_free(pool);
}

int repair_survey(const char *host, int port, const struct repair_opts *o,
	struct repair_survey *out, struct sc_error *err)
{
	struct repair_survey sv = { 0 };
	struct gather_ctx g = { &sv, &o->conn, PTHREAD_MUTEX_INITIALIZER };
	struct repair_input in = { 0 };
	size_t n;

	if (snapshot_gather(host, port, &o->conn, &sv.snap, err) != 0)
		return -1;
	if (snapshot_require_sound(&sv.snap, "repair", err) != 0) {
		snapshot_release(&sv.snap);
		return -1;
	}
	n = sv.snap.count;
	sv.keys = malloc(n * SC_SLOTS * sizeof(*sv.keys));
	sv.memory = malloc(n * sizeof(*sv.memory));
	if (!sv.keys || !sv.memory) {
		repair_survey_release(&sv);
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	}
	for (size_t i = 0; i < n * SC_SLOTS; i++)
		sv.keys[i] = -1;
	for (size_t i = 0; i < n; i++)
		sv.memory[i] = -1;
	parallel_for(n, repair_threads(o), gather_one, &g);
	in.snap = &sv.snap;
	in.keys = sv.keys;
	in.used_memory = sv.memory;
	in.allow_unreachable = o->allow_unreachable;
	in.accept_data_loss = o->accept_data_loss;
	in.hints = o->hints;
	in.hint_count = o->hint_count;
	in.atomic_held = &sv.atomic_held;
	if (repair_plan_build(&in, &sv.plan, err) != 0) {
		repair_survey_release(&sv);
		return -1;
	}
	sv.outcomes = calloc(sv.plan.count ? sv.plan.count : 1, sizeof(*sv.outcomes));
	if (!sv.outcomes) {
		repair_survey_release(&sv);
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	}
	survey_conflicts(&sv, o);
	*out = sv;
	return 0;
}

void repair_survey_release(struct repair_survey *sv)
{
	if (!sv)
		return;
	repair_plan_release(&sv->plan);
	snapshot_release(&sv->snap);
	free(sv->keys);
	free(sv->memory);
	free(sv->outcomes);
	memset(sv, 0, sizeof(*sv));
}
