/* slotops.c: the single-node steps of the slot-migration protocol
 * (CLUSTER SETSLOT ... IMPORTING/MIGRATING/NODE/STABLE, COUNTKEYSINSLOT).
 * The key mover lives in slotops_migrate.c. Shared by the executor and fix;
 * nothing here decides the order of steps or prints. */
#include "slotctl/io/slotops.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/info_text.h"

#include <stdio.h>
#include <string.h>

int slotops_setslot_send(struct conn *c, int slot, const char *how, const char *id, struct sc_error *err)
{
	char slotbuf[16];
	const char *argv[5] = { "CLUSTER", "SETSLOT", slotbuf, how, id };

	snprintf(slotbuf, sizeof(slotbuf), "%d", slot);
	return conn_append_argv(c, id ? 5 : 4, argv, NULL, err);
}

int slotops_setslot_replicated(struct conn *c, bool *out, struct sc_error *err)
{
	redisReply *r = conn_command(c, err, "INFO server");
	struct server_version v;

	if (conn_check_reply(c, r, "INFO server", err) != 0) {
		freeReplyObject(r);
		return -1;
	}
	info_server_version(r->type == REDIS_REPLY_STRING ? r->str : "", &v);
	freeReplyObject(r);
	*out = v.valkey && server_version_at_least(&v, 8, 0);
	return 0;
}

int slotops_setslot_judge(struct conn *c, const redisReply *reply, int slot, const char *how, bool replica_ok,
	struct sc_error *err)
{
	char what[64];

	if (replica_ok && (slotops_refused_as_replica(reply) ||
	                   (strcmp(how, "NODE") == 0 && slotops_replicas_missed(reply))))
		return 0;
	snprintf(what, sizeof(what), "CLUSTER SETSLOT %d %s", slot, how);
	if (conn_check_reply(c, reply, what, err) != 0)
		return -1;
	/* anything but +OK (a +QUEUED from a connection left inside MULTI, say)
	 * means the step did not happen */
	if (reply->type != REDIS_REPLY_STATUS || !reply->str || strcmp(reply->str, "OK") != 0)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' replied to %s with %s instead of OK", conn_addr(c),
			what, reply->type == REDIS_REPLY_STATUS && reply->str ? reply->str : "something else");
	return 0;
}

/* The next reply on c, judged; *unreadable when there was none (err then
 * holds the I/O error). */
static int read_and_judge(struct conn *c, int slot, const char *how, bool replica_ok, bool *unreadable,
	struct sc_error *err)
{
	redisReply *r = conn_get_reply(c, err);
	int rc;

	*unreadable = !r;
	if (!r)
		return -1;
	rc = slotops_setslot_judge(c, r, slot, how, replica_ok, err);
	freeReplyObject(r);
	return rc;
}

int slotops_setslot_read(struct conn *c, int slot, const char *how, bool replica_ok, struct sc_error *err)
{
	bool unreadable;

	return read_and_judge(c, slot, how, replica_ok, &unreadable, err);
}

/* One CLUSTER SETSLOT, waiting for its reply; an I/O failure names the step. */
static int setslot(struct conn *c, int slot, const char *how, const char *id, bool replica_ok,
	struct sc_error *err)
{
	bool unreadable = true;
	int rc = slotops_setslot_send(c, slot, how, id, err);

	if (rc == 0)
		rc = read_and_judge(c, slot, how, replica_ok, &unreadable, err);
	if (rc != 0 && unreadable)
		return sc_error_prefix(err, "cannot set slot %d %s on '%s'", slot, how, conn_addr(c));
	return rc;
}

bool slotops_refused_as_replica(const redisReply *reply)
{
	if (!reply || reply->type != REDIS_REPLY_ERROR || !reply->str)
		return false;
	/* Redis, Valkey 9: "masters"; later Valkey: "primaries"; a client
	 * waiting in SETSLOT when its master turned replica: "UNBLOCKED force
	 * unblock from blocking operation, instance state changed (master ->
	 * replica?)" */
	return strstr(reply->str, "Please use SETSLOT only with masters") ||
	       strstr(reply->str, "Please use SETSLOT only with primaries") ||
	       strncmp(reply->str, "UNBLOCKED", 9) == 0;
}

bool slotops_replicas_missed(const redisReply *reply)
{
	return reply && reply->type == REDIS_REPLY_ERROR && reply->str && strncmp(reply->str, "NOREPLICAS", 10) == 0;
}

int slotops_set_importing(struct conn *c, int slot, const char *src_id, struct sc_error *err)
{
	return setslot(c, slot, "IMPORTING", src_id, false, err);
}

int slotops_set_migrating(struct conn *c, int slot, const char *dst_id, struct sc_error *err)
{
	return setslot(c, slot, "MIGRATING", dst_id, false, err);
}

int slotops_set_node(struct conn *c, int slot, const char *owner_id, struct sc_error *err)
{
	return setslot(c, slot, "NODE", owner_id, false, err);
}

int slotops_tell_node(struct conn *c, int slot, const char *owner_id, struct sc_error *err)
{
	return setslot(c, slot, "NODE", owner_id, true, err);
}

int slotops_set_stable(struct conn *c, int slot, struct sc_error *err)
{
	return setslot(c, slot, "STABLE", NULL, false, err);
}

int slotops_tell_stable(struct conn *c, int slot, struct sc_error *err)
{
	return setslot(c, slot, "STABLE", NULL, true, err);
}

int slotops_is_replica(struct conn *c, bool *replica, struct sc_error *err)
{
	redisReply *r = conn_command(c, err, "ROLE");
	int rc = conn_check_reply(c, r, "ROLE", err);

	if (rc == 0 && (r->type != REDIS_REPLY_ARRAY || r->elements < 1 ||
	                r->element[0]->type != REDIS_REPLY_STRING))
		rc = sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' replied to ROLE with no role", conn_addr(c));
	if (rc == 0)
		*replica = strcmp(r->element[0]->str, "slave") == 0;
	if (r)
		freeReplyObject(r);
	return rc;
}

int slotops_count_keys(struct conn *c, int slot, long long *count, struct sc_error *err)
{
	char what[64];
	redisReply *r = conn_command(c, err, "CLUSTER COUNTKEYSINSLOT %d", slot);

	snprintf(what, sizeof(what), "CLUSTER COUNTKEYSINSLOT %d", slot);
	if (!r)
		return sc_error_prefix(err, "cannot count keys of slot %d on '%s'", slot, conn_addr(c));
	return conn_take_integer(c, r, what, count, err);
}

int slotops_append_count(struct conn *c, int slot, struct sc_error *err)
{
	char num[16];
	const char *argv[3] = { "CLUSTER", "COUNTKEYSINSLOT", num };

	snprintf(num, sizeof(num), "%d", slot);
	return conn_append_argv(c, 3, argv, NULL, err);
}

/* COUNTKEYSINSLOT commands per pipelined round trip. */
#define COUNT_CHUNK 1024

int slotops_count_keys_many(struct conn *c, const int *slots, size_t n, long long *out,
	struct sc_error *err)
{
	for (size_t first = 0; first < n; first += COUNT_CHUNK) {
		size_t end = n - first < COUNT_CHUNK ? n : first + COUNT_CHUNK;

		for (size_t k = first; k < end; k++)
			if (slotops_append_count(c, slots ? slots[k] : (int)k, err) != 0)
				return -1;
		for (size_t k = first; k < end; k++)
			if (conn_take_integer(c, conn_get_reply(c, err), "CLUSTER COUNTKEYSINSLOT", &out[k], err) != 0)
				return -1;
	}
	return 0;
}

int slotops_require_empty(struct conn *c, int slot, struct sc_error *err)
{
	long long n = 0;

	if (slotops_count_keys(c, slot, &n, err) != 0)
		return -1;
	if (n > 0)
		return sc_error_set(err, SC_EXIT_PROBLEMS,
			"'%s' still holds %lld keys of slot %d; its owner was not changed",
			conn_addr(c), n, slot);
	return 0;
}
