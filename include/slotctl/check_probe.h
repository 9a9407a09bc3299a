/* check_probe.h: the parts of `slotctl check` that need node I/O: one whole
 * round (snapshot, rules, probes), and the probes beyond the snapshot:
 * counting keys of suspicious slots on masters that do not own them, and the
 * key total. Read-only on the cluster. */
#ifndef SLOTCTL_CHECK_PROBE_H
#define SLOTCTL_CHECK_PROBE_H

#include "slotctl/check.h"
#include "slotctl/conn.h"

/* Asks every reachable master of s (concurrently, each bounded by opts'
 * timeouts) for DBSIZE and, pipelined, CLUSTER COUNTKEYSINSLOT of every
 * suspicious slot (one that r reports open, uncovered, claimed twice or
 * disagreed about), or with deep of all 16384 slots. Adds to r a stray-keys finding per master holding keys
 * of slots the reference view gives to another node (a warning when that
 * master has the slot open, an error otherwise), a node-unreachable error
 * for a master that no longer answers, and sets r->summary.keys when every
 * master answered. Changes nothing on the cluster. Returns 0, or -1 with an
 * error on OOM. */
int check_probe(const struct snapshot *s, const struct conn_opts *opts, bool deep, struct check_report *r,
	struct sc_error *err);

/* One round of the check from seed host:port: snapshot_gather, then
 * check_evaluate and check_probe (deep or not) into out (caller releases it with
 * check_report_release). Returns 0, or -1 with the error when the seed cannot
 * be reached (SC_EXIT_UNREACHABLE) or on OOM; out is then untouched.
 * Changes nothing on the cluster. */
int check_gather(const char *host, int port, const struct conn_opts *opts, bool deep,
	struct check_report *out, struct sc_error *err);

#endif
