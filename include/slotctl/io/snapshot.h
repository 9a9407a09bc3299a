/* snapshot.h: gathering a snapshot (what every node of a cluster says, at
 * one moment, from one seed address) from the nodes. The data and its
 * accessors are core's: slotctl/core/snapshot.h. */
#ifdef SLOTCTL_LAYER_CORE
#error "slotctl/io/snapshot.h is an io header: the core may not include it (ARCHITECTURE.md)"
#endif
#ifndef SLOTCTL_SNAPSHOT_H
#define SLOTCTL_SNAPSHOT_H

#include "slotctl/core/snapshot.h"
#include "slotctl/io/conn.h"

/* Connects to seed host:port, then to every node named in any reachable
 * node's view (transitively, skipping noaddr and handshake entries),
 * concurrently, each bounded by opts' timeouts. Fills out and returns 0 even
 * when some nodes are unreachable (they are recorded with their error).
 * Returns -1 with an SC_EXIT_UNREACHABLE error only when the seed itself cannot
 * be reached or does not speak cluster. Caller releases out. */
int snapshot_gather(const char *host, int port, const struct conn_opts *opts,
	struct snapshot *out, struct sc_error *err);

#endif
