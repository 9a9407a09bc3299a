/* atomic_ops.h: the server-side (atomic) slot migration protocol of Valkey 9,
 * one function per step, each talking to one node: does a node have it,
 * start a job for some slots (CLUSTER MIGRATESLOTS on the source), list the
 * jobs a node knows (CLUSTER GETSLOTMIGRATIONS, judged by core/slotmig.h),
 * wait for one to end, cancel (CLUSTER CANCELSLOTMIGRATIONS on the source).
 * Every reply goes through conn's bounded reader; every wait has a
 * deadline. Nothing here prints or decides what a run does next: the atomic
 * mover backend and check/fix do. */
#ifdef SLOTCTL_LAYER_CORE
#error "slotctl/io/atomic_ops.h is an io header: the core may not include it (ARCHITECTURE.md)"
#endif
#ifndef SLOTCTL_ATOMIC_OPS_H
#define SLOTCTL_ATOMIC_OPS_H

#include <stdbool.h>
#include "slotctl/io/conn.h"
#include "slotctl/core/slotmig.h"

/* *yes is true when the node behind c knows CLUSTER MIGRATESLOTS, asked with
 * COMMAND INFO cluster|migrateslots (a Redis 7 or Valkey 8 answers nil). 0,
 * or -1 with an error (I/O; a reply that is not an array). */
int atomic_supported(struct conn *c, bool *yes, struct sc_error *err);

/* One node for atomic_probe_all: host NULL means "not asked" (rc 1). */
struct atomic_probe {
	const char *host;     /* in: borrowed, or NULL */
	int port;             /* in */
	int rc;               /* out: 0 asked (yes says), -1 failed (err), 1 not asked */
	bool yes;             /* out: it knows CLUSTER MIGRATESLOTS (rc 0 only) */
	struct sc_error err;  /* out: why it could not be asked (rc -1 only) */
};

/* Asks every node of probes[0..n) that has a host whether it has atomic
 * migration: a connection of its own with copts, atomic_supported, closed.
 * Up to ATOMIC_PROBE_THREADS nodes at once, so a run waits one round trip,
 * not one per master. Fills each probe's rc, yes and err; changes nothing
 * on the cluster and keeps nothing. */
void atomic_probe_all(struct atomic_probe *probes, size_t n, const struct conn_opts *copts);

/* The jobs the node behind c lists (CLUSTER GETSLOTMIGRATIONS), self_id its
 * CLUSTER MYID (see slotmig_job_parse). Fills *out (the caller releases it:
 * slotmig_list_release) and returns 0; -1 with an error naming the node on
 * I/O failure, an error reply, or a reply that is not a list of jobs (each
 * an array of field/value pairs that slotmig_job_parse takes). */
int atomic_list(struct conn *c, const char *self_id, struct slotmig_list *out, struct sc_error *err);

/* atomic_list for a node that may not have atomic migration: a server that
 * does not know GETSLOTMIGRATIONS (Redis, Valkey before 9) gives an empty
 * list with *supported false; otherwise as atomic_list, *supported true. */
int atomic_list_if_any(struct conn *c, const char *self_id, struct slotmig_list *out, bool *supported,
	struct sc_error *err);

/* Slot ranges (runs of slots) one job may name at most. Valkey 9.1.2's
 * target relays a job to its replicas as one CLUSTER SYNCSLOTS naming every
 * range; once that command outgrows a replica's 16 KB read buffer (measured:
 * 800 ranges of 4-digit slots fine, 830 broken, 10 tries of 10) the replica
 * reads the rest as inline protocol and drops its stream: it misses imported
 * keys (1202 of 7844 in atomic/many_ranges_keep_the_targets_replica_in_step:
 * a failover would lose them) and may stop acknowledging, so that each later
 * SETSLOT on the target waits 2 s for it. 256 ranges of 5-digit slots stay
 * under 6 KB. valkey-cli never meets it: one contiguous range per job. */
#define ATOMIC_MAX_RANGES 256

/* Sends CLUSTER MIGRATESLOTS SLOTSRANGE <each run of slots> NODE target_id
 * to the source behind c, which must own every slot of `slots` (not empty,
 * at most ATOMIC_MAX_RANGES runs: more is refused before anything is sent).
 * 0 when it answered OK (the job then runs in the servers); -1 with
 * SC_EXIT_PROBLEMS "'host:port' replied to CLUSTER MIGRATESLOTS: <its
 * words>" when it refused (nothing started), or an I/O error (whether a job
 * started is then unknown: list the jobs). */
int atomic_start(struct conn *c, const struct slotset *slots, const char *target_id, struct sc_error *err);

/* atomic_start, and the job it started: the jobs listed before and after
 * (slotmig_list_find_started) give its name. *job is filled and *named set
 * when it is found; *named false when the start was answered OK but no new
 * job of those slots is listed (it ended and was dropped from the log at
 * once: slot ownership then tells). self_id is the source's id. Same
 * returns as atomic_start. */
int atomic_start_job(struct conn *c, const char *self_id, const struct slotset *slots, const char *target_id,
	struct slotmig_job *job, bool *named, struct sc_error *err);

/* Sends CLUSTER CANCELSLOTMIGRATIONS to the node behind c, which cancels
 * every export job running on it. *cancelled is false when it had none
 * ("No migrations ongoing"), true otherwise. 0, or -1 with an error. */
int atomic_cancel(struct conn *c, bool *cancelled, struct sc_error *err);

/* Polls the jobs of the node behind c (id self_id) until none runs (import
 * or export; an import cleaning up counts as running), or deadline_ms
 * passes (-1 with an SC_EXIT_PROBLEMS error naming a job still running).
 * 0, or -1 with an error. */
int atomic_wait_idle(struct conn *c, const char *self_id, long long deadline_ms, struct sc_error *err);

/* Cancels every export job running on the node behind c (atomic_cancel
 * when it lists one); waits for none: the jobs end on both sides soon after
 * (atomic_wait_idle on each). *n: how many exports were running. 0, or -1
 * with an error. */
int atomic_cancel_all(struct conn *c, const char *self_id, int *n, struct sc_error *err);

/* Called on each poll of atomic_wait with the job as listed now (NULL:
 * not listed). Returning non-zero stops the wait (atomic_wait then returns
 * 1). */
typedef int (*atomic_poll_fn)(void *ctx, const struct slotmig_job *now);

/* Polls the jobs of the node behind c (its id self_id) until the job named
 * name ends (success, failed, cancelled), is no longer listed, or
 * deadline_ms (sc_clock_ms) passes, sleeping between polls from 5 ms
 * doubling up to 40 ms. 0 with *out the last listing of the job and *listed
 * whether it was listed at all (a job dropped from the log, or from a node
 * that restarted, is not: ownership then tells); 1 when on_poll stopped it
 * (*out, *listed as of that poll); -1 with an SC_EXIT_UNREACHABLE error "slot
 * migration job <name8> on 'host:port' did not end in time (still <state>)"
 * at the deadline, or the listing's error. */
int atomic_wait(struct conn *c, const char *self_id, const char *name, long long deadline_ms,
	atomic_poll_fn on_poll, void *ctx, struct slotmig_job *out, bool *listed, struct sc_error *err);

#endif
