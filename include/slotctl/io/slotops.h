/* slotops.h: the steps of the slot-migration protocol, one function each,
 * shared by the executor (apply/resume/abort) and repair (fix). Each step
 * talks to one node; the order of steps is the caller's business:
 *   IMPORTING on the target, MIGRATING on the source, move the keys until the
 *   source has none left, then NODE on the target, the source, every other
 *   master. No function here prints. */
#ifdef SLOTCTL_LAYER_CORE
#error "slotctl/io/slotops.h is an io header: the core may not include it (ARCHITECTURE.md)"
#endif
#ifndef SLOTCTL_SLOTOPS_H
#define SLOTCTL_SLOTOPS_H

#include <stdbool.h>
#include "slotctl/io/conn.h"

/* The halves of a pipelined CLUSTER SETSLOT slot how [id] (id NULL for
 * STABLE), which every step below is made of: send appends it to c's
 * pipeline; read takes its reply, in order; judge decides on a reply
 * already read (inside an EXEC's, say), which it does not free. A reply
 * counts as done when it is +OK (anything else, a +QUEUED from a connection
 * left inside MULTI say, means the step did not happen), or, with
 * replica_ok, when it is a replica's refusal (slotops_refused_as_replica)
 * or, for NODE, a NOREPLICAS (slotops_replicas_missed);
 * otherwise -1 with an error naming the node, the slot and the server's
 * words. */
int slotops_setslot_send(struct conn *c, int slot, const char *how, const char *id, struct sc_error *err);
int slotops_setslot_read(struct conn *c, int slot, const char *how, bool replica_ok, struct sc_error *err);
int slotops_setslot_judge(struct conn *c, const redisReply *reply, int slot, const char *how, bool replica_ok,
	struct sc_error *err);

/* Whether the server at c holds each CLUSTER SETSLOT until its replicas
 * have it (Valkey 8 and later replicate SETSLOT before running it, blocking
 * the client): such a SETSLOT must never be queued in MULTI, where Valkey
 * 9.1.2 fails an assertion (multi.c:278 'c->flag.blocked == 0') and dies.
 * 0 and *out (from INFO server), or -1 with an error naming the node. */
int slotops_setslot_replicated(struct conn *c, bool *out, struct sc_error *err);

/* CLUSTER SETSLOT slot IMPORTING src_id, on c (the target). */
int slotops_set_importing(struct conn *c, int slot, const char *src_id, struct sc_error *err);
/* CLUSTER SETSLOT slot MIGRATING dst_id, on c (the source). */
int slotops_set_migrating(struct conn *c, int slot, const char *dst_id, struct sc_error *err);
/* CLUSTER SETSLOT slot NODE owner_id, on c. */
int slotops_set_node(struct conn *c, int slot, const char *owner_id, struct sc_error *err);
/* CLUSTER SETSLOT slot STABLE, on c. */
int slotops_set_stable(struct conn *c, int slot, struct sc_error *err);
/* The same NODE and STABLE, sent to a node that is not the slot's new
 * owner (fix tells every master): a replica's refusal counts as done, for a
 * replica takes owners from the bus and its marks only from its master
 * (see slotops_refused_as_replica). A master demoted within its shard keeps
 * its marks on Valkey 8+, and drops one only when its new master replicates
 * a SETSLOT of that slot while it is connected: verify.c has the master
 * close again a slot a replica alone still shows open. */
int slotops_tell_node(struct conn *c, int slot, const char *owner_id, struct sc_error *err);
int slotops_tell_stable(struct conn *c, int slot, struct sc_error *err);
/* ROLE on c: *replica is true when the node is a replica now. */
int slotops_is_replica(struct conn *c, bool *replica, struct sc_error *err);
/* True when reply is a node's refusal of CLUSTER SETSLOT because it is a
 * replica. A master that gives away its last slot becomes a replica of the
 * node that took it (cluster-allow-replica-migration, on by default) as soon
 * as that node's announcement reaches it, which may be before SETSLOT NODE
 * does; a replica takes slot owners from the bus, so for it NODE is moot. */
bool slotops_refused_as_replica(const redisReply *reply);

/* True when reply is NOREPLICAS: a master that replicates SETSLOT before
 * running it (slotops_setslot_replicated) gave up waiting for its replicas
 * (2 s), which happens when it has just given away its last slot and its
 * replicas follow it to the node that took it. It did not apply the step;
 * told the new owner with NODE, it takes it from the bus (the owner holds
 * the greatest epoch), so NODE sent to a node that is not the new owner
 * counts as done (as valkey-cli counts it); STABLE does not. */
bool slotops_replicas_missed(const redisReply *reply);

/* CLUSTER COUNTKEYSINSLOT slot on c into *count. */
int slotops_count_keys(struct conn *c, int slot, long long *count, struct sc_error *err);
/* Queues CLUSTER COUNTKEYSINSLOT slot on c (conn_append_argv: no format
 * to parse, for pipelines of thousands). 0, or -1 with an error. */
int slotops_append_count(struct conn *c, int slot, struct sc_error *err);
/* The same as slotops_count_keys for n slots, pipelined (a round trip per 1024): out[k] gets the
 * count of slots[k], or of slot k when slots is NULL. 0, or -1 with the
 * first failure (out then partly written). */
int slotops_count_keys_many(struct conn *c, const int *slots, size_t n, long long *out,
	struct sc_error *err);

struct migrate_opts {
	int batch_keys;            /* keys per MIGRATE (> 0) */
	long long batch_bytes;     /* soft bound on bytes per MIGRATE, once sizes are known; 0: none */
	bool probe_sizes;          /* MEMORY USAGE of every key before it is sent, for the byte bound and
	                              a big key's timeout; without it the mover starts probing a slot
	                              after its first MIGRATE I/O error or timeout */
	int migrate_timeout_ms;    /* MIGRATE's own timeout argument */
	bool replace;              /* MIGRATE ... REPLACE: overwrite keys on the target */
	bool asking;               /* send ASKING before reads (source is not the slot's owner) */
	const char *user;          /* credentials forwarded with AUTH / AUTH2 */
	const char *pass;
	struct conn_tls_opts tls;  /* how the mover's own connections speak (MIGRATE follows tls-cluster) */
	volatile int *stop;        /* when non-NULL and set, stop after the batch in flight */
	/* Added by the executor (all optional; zero means the default): */
	long long max_block_us;    /* adapt the batch so one MIGRATE (as timed here: the round trip with
	                              it) blocks the source at most this long; 0: no bound */
	/* The batch size adapted so far in a stream of slots (optional): the
	 * first MIGRATE of the slot takes at most *batch_hint keys when it is
	 * above 0, and the size adapted by the end of the slot is written back,
	 * so a bound shorter than a whole slot's MIGRATE holds from a slot's
	 * first keys on. NULL: every slot starts at batch_keys. */
	int *batch_hint;
	int io_timeout_ms;         /* the connection's usual command timeout, restored after a long MIGRATE;
	                              also bounds the helper connection to the target; 0: SC_DEFAULT_TIMEOUT_MS */
	int retries;               /* attempts after I/O errors before failing; 0: 4 */
	/* Called after every MIGRATE with the keys and bytes it moved; may sleep
	 * (pacing) or record progress. Runs on the caller's thread. NULL: none. */
	void (*on_batch)(void *ctx, int slot, long long keys, long long bytes);
	void *ctx;
	/* Chaining slots (optional; both set to use it): keys of `slot` already
	 * fetched (a GETKEYSINSLOT reply, taken over) come in through *carry, and
	 * when the last keys of `slot` go out, the keys of next_slot are fetched
	 * in the same round trip and handed back through *carry (NULL when not
	 * fetched). next_slot must already be MIGRATING on the source: only then
	 * does an empty answer stay true. */
	redisReply **carry;
	int next_slot;             /* -1: none */
};

struct migrate_stats {
	long long keys;            /* keys moved */
	long long bytes;           /* estimated bytes moved (0 when unknown) */
	long long batches;         /* MIGRATE commands sent */
};

/* The guard before SETSLOT NODE: 0 when c (the source) holds no key of slot
 * (COUNTKEYSINSLOT), -1 with an SC_EXIT_PROBLEMS error "'host:port' still
 * holds N keys of slot S" otherwise, or an I/O error. */
int slotops_require_empty(struct conn *c, int slot, struct sc_error *err);

/* Moves every key of slot from the node behind `from` to dst_host:dst_port
 * with GETKEYSINSLOT + MIGRATE ... KEYS until `from` holds none, adding to
 * *stats. On BUSYKEY (a key exists on the target) without opts->replace,
 * fails with an SC_EXIT_PROBLEMS error naming the keys; nothing is
 * overwritten. On I/O errors, retries with backoff and smaller batches, then
 * fails leaving the slot as it is (keys partly moved; resumable). A key that
 * exists on both nodes with byte-identical DUMP payloads (left by an
 * interrupted MIGRATE) is moved with REPLACE: nothing is lost. When opts->stop
 * is set, returns -1 with an SC_EXIT_INTERRUPTED error after the batch in
 * flight. A source connection that breaks (node frozen or gone) fails at once
 * with SC_EXIT_UNREACHABLE. Returns 0 when `from` holds no key of slot. */
int slotops_migrate_keys(struct conn *from, const char *dst_host, int dst_port, int slot,
	const struct migrate_opts *opts, struct migrate_stats *stats, struct sc_error *err);

#endif
