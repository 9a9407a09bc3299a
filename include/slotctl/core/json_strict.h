/* json_strict.h: parsing the JSON documents slotctl reads back (plans, the
 * journal's records, the sandbox state) strictly: one value and nothing after
 * it but white space, and no object naming a key twice. cJSON alone accepts a
 * plan followed by garbage or by a second plan, and keeps the first of two
 * equal keys, so a file could say one thing to slotctl and another to a
 * person or another JSON reader. Pure. */
#ifndef SLOTCTL_JSON_STRICT_H
#define SLOTCTL_JSON_STRICT_H

#include <stddef.h>
#include "slotctl/core/error.h"

struct cJSON;

/* Parses text[0..len) as one JSON value. Returns 0 and sets *out (the caller
 * frees it with cJSON_Delete), or -1 with an SC_EXIT_USAGE error whose
 * subject is what ("plan"): "<what> is not valid JSON (line L, column C)",
 * "<what> has more after its JSON value (line L, column C)" or "<what> has
 * key 'K' twice in 'PATH'". *out is written only on success. */
int json_parse_strict(const char *text, size_t len, const char *what, struct cJSON **out,
	struct sc_error *err);

#endif
