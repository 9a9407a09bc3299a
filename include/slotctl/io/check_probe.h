/* check_probe.h: the parts of `slotctl check` that need node I/O: one whole
 * round (snapshot, rules, probes), and the key probe beyond the snapshot:
 * counting keys on every master, so that keys in slots it does not own are
 * found, and the key total. Read-only on the cluster. */
#ifdef SLOTCTL_LAYER_CORE
#error "slotctl/io/check_probe.h is an io header: the core may not include it (ARCHITECTURE.md)"
#endif
#ifndef SLOTCTL_CHECK_PROBE_H
#define SLOTCTL_CHECK_PROBE_H

#include "slotctl/core/check.h"
#include "slotctl/io/conn.h"
#include "slotctl/io/snapshot.h"

/* Asks every reachable master of s (concurrently, each bounded by opts'
 * timeouts) for DBSIZE and, in one MULTI/EXEC, CLUSTER COUNTKEYSINSLOT of
 * the slots check_keys_slots names for mode (with CHECK_KEYS_DEEP all 16384,
 * pipelined, and a few names of stray keys); when DBSIZE has keys those slots
 * do not, counts the other slots to locate them. check_keys_judge turns the
 * counts into findings in r and sets r->summary.keys. Changes nothing on the
 * cluster. Returns 0, or -1 with an error on OOM. */
int check_probe(const struct snapshot *s, const struct conn_opts *opts, enum check_keys mode,
	struct check_report *r, struct sc_error *err);

/* One round of the check from seed host:port: snapshot_gather, then
 * check_evaluate and check_probe (with mode) into out (caller releases it with
 * check_report_release). Returns 0, or -1 with the error when the seed cannot
 * be reached (SC_EXIT_UNREACHABLE) or on OOM; out is then untouched.
 * Changes nothing on the cluster. */
int check_gather(const char *host, int port, const struct conn_opts *opts, enum check_keys mode,
	struct check_report *out, struct sc_error *err);

#endif
