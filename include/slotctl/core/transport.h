/* transport.h: what plans and journals record about how the cluster was
 * spoken to: that it speaks TLS, and which TLS options were given (never a
 * file's content, a key or a password), so that a resume, abort or fix
 * --journal run without them can say which are missing. Pure: no I/O. */
#ifndef SLOTCTL_CORE_TRANSPORT_H
#define SLOTCTL_CORE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include "slotctl/core/error.h"

/* The TLS options by name, in the order they are listed. */
enum transport_option {
	TRANSPORT_CACERT, TRANSPORT_CACERTDIR, TRANSPORT_CERT, TRANSPORT_KEY, TRANSPORT_SNI,
	TRANSPORT_INSECURE, TRANSPORT_OPTION_COUNT
};

struct transport_note {
	bool recorded;            /* the document said (older ones do not) */
	bool tls;                 /* --tls */
	bool given[TRANSPORT_OPTION_COUNT]; /* which TLS options were given */
};

struct cJSON;

/* Adds "transport": {"tls": bool, "options": ["cacert", ...]} to o. 0, or
 * -1 when out of memory. */
int transport_note_encode(struct cJSON *o, const struct transport_note *t);

/* Reads o's optional "transport" object into *out (recorded false when
 * absent). 0, or -1 with an SC_EXIT_USAGE error naming the field. Unknown
 * option names are ignored (a later minor version may add some). */
int transport_note_decode(const struct cJSON *o, struct transport_note *out, struct sc_error *err);

/* Whether a run given `now` can speak to the cluster `then` recorded:
 * returns 0 when then is not recorded, or when now has --tls and every TLS
 * option then had; else -1 with an SC_EXIT_USAGE error, "<what> says the
 * cluster speaks TLS: give --tls --cert --key"
 * naming the ones missing (what: "the journal 'x'"). A plaintext record
 * with --tls now is not refused (the cluster may have moved to TLS). */
int transport_note_check(const struct transport_note *then, const struct transport_note *now,
	const char *what, struct sc_error *err);

#endif
