/* resolve.h: host names to numeric addresses within a time bound.
 * getaddrinfo has no timeout of its own (the resolver's apply, up to half a
 * minute with an unanswering name server), so a name is looked up on a
 * helper thread and the caller waits at most the connect timeout; numeric
 * addresses are taken as they are, without a lookup. Used by conn_open. */
#ifdef SLOTCTL_LAYER_CORE
#error "slotctl/io/resolve.h is an io header: the core may not include it (ARCHITECTURE.md)"
#endif
#ifndef SLOTCTL_RESOLVE_H
#define SLOTCTL_RESOLVE_H

#include "slotctl/core/error.h"

#define RESOLVE_MAX_ADDRS 8
#define RESOLVE_ADDR_LEN 80 /* an IPv6 address with a zone, and its NUL */

struct resolved {
	int count;                                    /* addresses, in the resolver's order */
	char addr[RESOLVE_MAX_ADDRS][RESOLVE_ADDR_LEN]; /* numeric */
};

/* A lookup of host's TCP addresses into *out (at least one): 0, or -1 with
 * the reason in why. May block; called on a helper thread. */
typedef int (*resolve_lookup_fn)(const char *host, struct resolved *out, char *why, size_t why_size);

/* Resolves host into *out: itself when it is a numeric address, else the
 * addresses of the name, waiting at most timeout_ms for them. Returns 0, or
 * -1 with an SC_EXIT_UNREACHABLE error "cannot resolve 'host': ..." (*out
 * then unspecified). A lookup still running when the bound passes finishes
 * on its own and frees what it found. */
int resolve_host(const char *host, int timeout_ms, struct resolved *out, struct sc_error *err);

/* The same with another lookup than getaddrinfo (tests: a slow one). */
int resolve_host_with(resolve_lookup_fn lookup, const char *host, int timeout_ms, struct resolved *out,
	struct sc_error *err);

#endif
