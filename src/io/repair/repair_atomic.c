/* repair_atomic.c: fix --cancel-atomic: every running server-side (atomic)
 * slot migration of the cluster cancelled on its source and waited for on
 * both ends, before fix surveys the cluster (a cancelled job moved no slot,
 * and its target drops what it staged). The steps are atomic_ops.c's. */
#include "repair_priv.h"
#include "slotctl/io/snapshot.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/io/atomic_ops.h"
#include "slotctl/io/clock.h"
#include "slotctl/io/handover.h"

/* How long one node's jobs may take to end after the cancel. */
#define REPAIR_ATOMIC_WAIT_MS HANDOVER_WAIT_MS

/* Cancels the exports (cancel set) or waits for every job (import or
 * export) of every reachable master of s. Every source is cancelled before
 * any node is waited for: a target's import ends only once its source's
 * export is cancelled, and the target may come first in s. */
static int each_master(const struct snapshot *s, const struct conn_opts *opts, bool cancel, int *cancelled,
	struct sc_error *err)
{
	for (size_t i = 0; i < s->count; i++) {
		const struct node_view *v = &s->nodes[i];
		struct conn *c;
		int n = 0, rc;

		if (!repair_is_master(s, i))
			continue;
		if (conn_open(v->host, v->port, opts, &c, err) != 0)
			return -1;
		if (cancel)
			rc = atomic_cancel_all(c, v->id, &n, err);
		else
			rc = atomic_wait_idle(c, v->id, sc_clock_ms() + REPAIR_ATOMIC_WAIT_MS, err);
		conn_close(c);
		if (rc != 0)
			return -1;
		*cancelled += n;
	}
	return 0;
}

int repair_cancel_atomic(const char *host, int port, const struct conn_opts *opts, int *cancelled,
	struct sc_error *err)
{
	struct snapshot snap;
	int rc;

	*cancelled = 0;
	if (snapshot_gather(host, port, opts, &snap, err) != 0)
		return -1;
	rc = each_master(&snap, opts, true, cancelled, err) == 0 && each_master(&snap, opts, false, cancelled, err) == 0
		? 0 : -1;
	snapshot_release(&snap);
	return rc;
}
