/* handover.c: the waits that keep the invariant of handover.h (read it
 * first): handover_gate before a node takes a slot, handover_wait_views
 * after a new owner has been told to every master. Both only read. */
#include "slotctl/io/handover.h"
#include "slotctl/io/clock.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/info_text.h"
#include "slotctl/core/slotset.h"
#include "slotctl/core/topology.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define HANDOVER_POLL_MS 50

/* Reads the reply to a CLUSTER INFO sent on c and takes field from it. */
static int info_field(struct conn *c, const char *field, long long *out, struct sc_error *err)
{
	redisReply *r = conn_get_reply(c, err);
	int rc = conn_check_reply(c, r, "CLUSTER INFO", err);

	if (rc == 0 && r->type != REDIS_REPLY_STRING)
		rc = sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' replied to CLUSTER INFO with a non-string", conn_addr(c));
	if (rc == 0 && (*out = info_get_ll(r->str, field, -1)) < 0)
		rc = sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' gave no %s in CLUSTER INFO", conn_addr(c), field);
	if (r)
		freeReplyObject(r);
	return rc;
}

/* Reads the reply to a ROLE sent on c: *replica when it is one. */
static int role_replica(struct conn *c, bool *replica, struct sc_error *err)
{
	redisReply *r = conn_get_reply(c, err);
	int rc = conn_check_reply(c, r, "ROLE", err);

	if (rc == 0 && (r->type != REDIS_REPLY_ARRAY || r->elements < 1 || r->element[0]->type != REDIS_REPLY_STRING))
		rc = sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' replied to ROLE with no role", conn_addr(c));
	if (rc == 0)
		*replica = strcmp(r->element[0]->str, "slave") == 0;
	if (r)
		freeReplyObject(r);
	return rc;
}

/* Each node's configEpoch into epochs[] (-1 for a node that is a replica
 * now: it reports its master's), the taker's last: CLUSTER INFO and ROLE,
 * pipelined to all at once. *current gets the taker's currentEpoch. */
static int read_epochs(struct conn *taker, struct conn *const *masters, size_t n, long long *epochs,
	long long *current, struct sc_error *err)
{
	for (size_t i = 0; i <= n; i++) {
		struct conn *c = i < n ? masters[i] : taker;

		if (conn_append(c, err, "CLUSTER INFO") != 0 || conn_append(c, err, "ROLE") != 0 ||
		    conn_flush(c, err) != 0)
			return -1;
	}
	for (size_t i = 0; i <= n; i++) {
		struct conn *c = i < n ? masters[i] : taker;
		bool replica = false;
		redisReply *r;

		if (i == n) {
			/* the taker's reply holds both epochs */
			if (!(r = conn_get_reply(c, err)) || conn_check_reply(c, r, "CLUSTER INFO", err) != 0 ||
			    r->type != REDIS_REPLY_STRING) {
				if (r)
					freeReplyObject(r);
				return r ? sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' gave no CLUSTER INFO", conn_addr(c)) : -1;
			}
			epochs[i] = info_get_ll(r->str, "cluster_my_epoch", -1);
			*current = info_get_ll(r->str, "cluster_current_epoch", -1);
			freeReplyObject(r);
		} else if (info_field(c, "cluster_my_epoch", &epochs[i], err) != 0) {
			return -1;
		}
		if (role_replica(c, &replica, err) != 0)
			return -1;
		if (replica)
			epochs[i] = -1;
	}
	return 0;
}

/* One look: 1 when the gate is open, 0 when not yet (why in *why), -1 on
 * an I/O error. */
static int gate_once(struct conn *taker, struct conn *const *masters, size_t n, long long *epochs,
	struct sc_error *why, struct sc_error *err)
{
	long long current = -1;

	if (read_epochs(taker, masters, n, epochs, &current, err) != 0)
		return -1;
	for (size_t i = 0; i <= n; i++) {
		struct conn *ci = i < n ? masters[i] : taker;

		for (size_t k = i + 1; epochs[i] >= 0 && k <= n; k++) {
			struct conn *ck = k < n ? masters[k] : taker;

			if (epochs[i] == epochs[k] && strcmp(conn_addr(ci), conn_addr(ck)) != 0) {
				sc_error_set(why, SC_EXIT_PROBLEMS, "masters '%s' and '%s' both have configEpoch %lld "
					"(an epoch collision the cluster has not resolved)", conn_addr(ci),
					conn_addr(ck), epochs[i]);
				return 0;
			}
		}
		if (epochs[i] > current) {
			sc_error_set(why, SC_EXIT_PROBLEMS, "'%s' has not heard of configEpoch %lld of '%s' (its "
				"current epoch is %lld)", conn_addr(taker), epochs[i], conn_addr(ci), current);
			return 0;
		}
	}
	return 1;
}

int handover_gate(struct conn *taker, struct conn *const *masters, size_t n, int wait_ms,
	struct sc_error *err)
{
	long long deadline = sc_clock_ms() + wait_ms;
	long long *epochs = calloc(n + 1, sizeof(*epochs));
	struct sc_error why = { 0 };
	int rc;

	if (!epochs)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	while ((rc = gate_once(taker, masters, n, epochs, &why, err)) == 0 && sc_clock_ms() < deadline)
		sc_sleep_ms(HANDOVER_POLL_MS);
	free(epochs);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "%s after %d ms; no slot was handed over to '%s' "
			"(a higher epoch there could take back a slot another node just took)", why.msg, wait_ms,
			conn_addr(taker));
	return 0;
}

void handover_ledger_init(struct handover_ledger *l)
{
	pthread_mutex_init(&l->lock, NULL);
	l->takes = 0;
}

void handover_ledger_release(struct handover_ledger *l)
{
	pthread_mutex_destroy(&l->lock);
}

/* The one finaliser's taking step. The invariant it keeps (handover.h): a
 * node that takes a slot bumps to the greatest configEpoch, and until every
 * node shows it as the owner no other node may reach that epoch; so the
 * taker takes only once no two masters share an epoch and it has heard of
 * the greatest (handover_gate), unless it was the last to take in this
 * process run (its own bump is then already above every other master's,
 * and nobody took since). */
int handover_take(struct handover_ledger *l, unsigned long *seen, struct conn *taker,
	struct conn *const *masters, size_t n, handover_take_fn *take, void *ctx, struct sc_error *err)
{
	bool others_took;

	pthread_mutex_lock(&l->lock);
	others_took = *seen == 0 || *seen != l->takes;
	pthread_mutex_unlock(&l->lock);
	if ((others_took && handover_gate(taker, masters, n, HANDOVER_WAIT_MS, err) != 0) || take(ctx, err) != 0)
		return -1;
	pthread_mutex_lock(&l->lock);
	*seen = ++l->takes;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

/* The first of the slots that the view in reply does not give to owner_id,
 * or -1 when it gives all; -2 when the view cannot be read. */
static int view_lags(const redisReply *r, const char *owner_id, const int *slots, size_t nslots)
{
	struct topology t;
	struct sc_error ignored;
	const struct node *owner;
	int lag = -1;

	if (!r || r->type != REDIS_REPLY_STRING || topology_parse(r->str, r->len, &t, &ignored) != 0)
		return -2;
	owner = topology_find(&t, owner_id);
	for (size_t k = 0; lag == -1 && k < nslots; k++)
		if (!owner || !slotset_has(node_slots(owner), slots[k]))
			lag = slots[k];
	topology_release(&t);
	return lag;
}

int handover_wait_views(struct conn *const *nodes, size_t n, const char *owner_id, const int *slots,
	size_t nslots, int wait_ms, struct sc_error *err)
{
	long long deadline = sc_clock_ms() + wait_ms;

	for (size_t i = 0; i < n;) {
		redisReply *r = conn_command(nodes[i], err, "CLUSTER NODES");
		int lag;

		if (conn_check_reply(nodes[i], r, "CLUSTER NODES", err) != 0) {
			if (r)
				freeReplyObject(r);
			return -1;
		}
		lag = view_lags(r, owner_id, slots, nslots);
		freeReplyObject(r);
		if (lag == -2)
			return sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' gave an unreadable CLUSTER NODES",
				conn_addr(nodes[i]));
		if (lag == -1) {
			i++;
			continue;
		}
		if (sc_clock_ms() >= deadline)
			return sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' still shows slot %d owned by another node "
				"than %.8s after %d ms", conn_addr(nodes[i]), lag, owner_id, wait_ms);
		sc_sleep_ms(HANDOVER_POLL_MS);
	}
	return 0;
}
