/* planning.h: the planning service, from a typed request to a plan. One
 * request says which cluster (a seed and the connection options) and what
 * to plan (a reshard, a rebalance or a drain, with the planner's and the
 * sampler's options); planning_make snapshots the cluster from the seed,
 * marks the slotless "masters" that say they are replicas as replicas,
 * samples the slots and runs the pure planner (core/plan/planner*.c).
 * Every command that plans fills one request: `plan reshard|rebalance|drain`,
 * `reshard`, `rebalance`, `node add` (its rebalance) and `node remove
 * --drain`. Read-only on the cluster; prints nothing. */
#ifdef SLOTCTL_LAYER_CORE
#error "slotctl/io/planning.h is an io header: the core may not include it (ARCHITECTURE.md)"
#endif
#ifndef SLOTCTL_IO_PLANNING_H
#define SLOTCTL_IO_PLANNING_H

#include "slotctl/core/error.h"
#include "slotctl/core/plan.h"
#include "slotctl/core/planner.h"
#include "slotctl/io/conn.h"
#include "slotctl/io/sampler.h"

/* What the service tells its caller while it works (for the operator). */
enum planning_event_type {
	PLANNING_SAMPLING,       /* the slots are about to be sampled */
	PLANNING_SAMPLED,        /* they were: ev->cost says at what cost */
};

struct planning_event {
	enum planning_event_type type;
	const char *seed;                 /* the request's seed */
	const struct sampler_cost *cost;  /* PLANNING_SAMPLED only */
};

struct planning_request {
	const char *name;            /* prefixes the errors that judge the request (the
	                                command, "plan reshard"); NULL: none */
	const char *seed;            /* "host:port" of a node of the cluster; recorded in the plan */
	struct conn_opts conn;
	enum plan_kind kind;         /* a reshard, a rebalance or a drain (core/plan.h) */
	struct planner_opts planner; /* what to plan (its seed is set from .seed) */
	struct sampler_opts sampling; /* sample_keys, bigkey_bytes (measure and estimate_bytes are
	                                 the service's) */
	bool sample_keys_given;      /* the operator chose sampling.sample_keys (--sample-keys) */
	bool atomic_apply;           /* the plan is applied at once by a backend that takes atomic
	                                migration where every master has it (auto, atomic): see
	                                planning_make */
	void (*on_event)(void *ctx, const struct planning_event *ev); /* may be NULL */
	void *ctx;
};

/* Clears req and sets the defaults of a request of kind: every master's
 * memory sampled with SAMPLER_DEFAULT_KEYS keys a slot, SAMPLER_DEFAULT_BIGKEY,
 * PLANNER_DEFAULT_BATCH slots a batch, balanced by memory within
 * PLANNER_DEFAULT_THRESHOLD percent. The caller sets the seed, the
 * connection options and what its command was asked. */
void planning_request_init(struct planning_request *req, enum plan_kind kind);

/* Checks what of req needs no cluster (planner_opts_check: ranges and
 * weights), so a typo costs no connection. Returns 0, or -1 with an
 * SC_EXIT_USAGE error naming the option (not prefixed with req->name). */
int planning_request_check(const struct planning_request *req, struct sc_error *err);

/* Snapshots the cluster from req->seed, marks the replicas peers still list
 * as empty masters (no plan may send slots to a replica), refuses a map no
 * real cluster gives, samples the slots (for a reshard, memory on its
 * sources only: the others' would go unused; with req->atomic_apply, a
 * measure other than memory and every master answering that it has atomic
 * migration, key counts only (unless req->sample_keys_given), each slot's bytes estimated from its node's
 * used_memory per key: the servers move whole slots, per-key sizes serve
 * only the key-by-key path) and plans req->kind into *out,
 * stamped (created, version; caller releases with plan_release). Calls
 * req->on_event before and after sampling. Returns 0, or -1 with the error:
 * SC_EXIT_USAGE for a bad seed or options the map refutes, SC_EXIT_REFUSED
 * for what the planner refuses, SC_EXIT_UNREACHABLE when no node answers,
 * the sampler's error ("cannot sample the cluster: ..."); errors that judge
 * the request are prefixed with req->name. out is written only on success.
 * Read-only on the cluster. */
int planning_make(const struct planning_request *req, struct plan *out, struct sc_error *err);

#endif
