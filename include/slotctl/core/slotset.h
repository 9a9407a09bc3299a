/* slotset.h: a set of hash slots as a 16384-bit bitmap, with parsing and
 * formatting of range lists such as "0-99,500". Pure. */
#ifndef SLOTCTL_SLOTSET_H
#define SLOTCTL_SLOTSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "slotctl/core/keyslot.h"
#include "slotctl/core/error.h"

struct slotset {
	uint64_t bits[SC_SLOTS / 64];
};

/* Set operations on one bitmap. Slots must be in [0, SC_SLOTS): callers
 * check (slotset_parse does); first > last adds nothing. A zeroed struct is an
 * empty set. */
void slotset_clear(struct slotset *s);
void slotset_add(struct slotset *s, int slot);
void slotset_add_range(struct slotset *s, int first, int last);
void slotset_remove(struct slotset *s, int slot);
bool slotset_has(const struct slotset *s, int slot);
int slotset_count(const struct slotset *s);   /* how many slots are in s */
bool slotset_equal(const struct slotset *a, const struct slotset *b);
/* out = a \ b (slots in a and not in b); out may alias a. */
void slotset_minus(struct slotset *out, const struct slotset *a, const struct slotset *b);
/* out = a & b; out may alias a or b. */
void slotset_intersect(struct slotset *out, const struct slotset *a, const struct slotset *b);
/* out = a | b; out may alias a or b. */
void slotset_union(struct slotset *out, const struct slotset *a, const struct slotset *b);

/* Parses "0-99,500,7000-7010" into out (cleared first). Returns -1 with an
 * SC_EXIT_USAGE error naming the bad element on malformed or out-of-range
 * input; out is written only on success. */
int slotset_parse(const char *text, struct slotset *out, struct sc_error *err);

/* Formats s as compact ranges ("0-99,500") into buf (always NUL-terminated;
 * truncated with "..." when buf is too small). Returns the length that the
 * full text needs, like snprintf. An empty set formats as "". */
size_t slotset_format(const struct slotset *s, char *buf, size_t size);

#endif
