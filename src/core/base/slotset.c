/* slotset.c: 16384-bit slot sets and their "0-99,500" text form. */
#include "slotctl/core/slotset.h"
#include "slotctl/core/exitcode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void slotset_clear(struct slotset *s)
{
	memset(s->bits, 0, sizeof(s->bits));
}

void slotset_add(struct slotset *s, int slot)
{
	s->bits[slot / 64] |= 1ULL << (slot % 64);
}

/* A word at a time: a GETSLOTMIGRATIONS poll lists every recent job's
 * ranges, thousands of slots each. */
void slotset_add_range(struct slotset *s, int first, int last)
{
	for (int slot = first; slot <= last;) {
		int bit = slot % 64, span = 64 - bit;

		if (span > last - slot + 1)
			span = last - slot + 1;
		s->bits[slot / 64] |= (span == 64 ? ~0ULL : ((1ULL << span) - 1)) << bit;
		slot += span;
	}
}

void slotset_remove(struct slotset *s, int slot)
{
	s->bits[slot / 64] &= ~(1ULL << (slot % 64));
}

bool slotset_has(const struct slotset *s, int slot)
{
	return (s->bits[slot / 64] >> (slot % 64)) & 1;
}

int slotset_count(const struct slotset *s)
{
	int n = 0;

	for (size_t i = 0; i < SC_SLOTS / 64; i++)
		n += __builtin_popcountll(s->bits[i]);
	return n;
}

bool slotset_equal(const struct slotset *a, const struct slotset *b)
{
	return memcmp(a->bits, b->bits, sizeof(a->bits)) == 0;
}

void slotset_minus(struct slotset *out, const struct slotset *a, const struct slotset *b)
{
	for (size_t i = 0; i < SC_SLOTS / 64; i++)
		out->bits[i] = a->bits[i] & ~b->bits[i];
}

void slotset_intersect(struct slotset *out, const struct slotset *a, const struct slotset *b)
{
	for (size_t i = 0; i < SC_SLOTS / 64; i++)
		out->bits[i] = a->bits[i] & b->bits[i];
}

void slotset_union(struct slotset *out, const struct slotset *a, const struct slotset *b)
{
	for (size_t i = 0; i < SC_SLOTS / 64; i++)
		out->bits[i] = a->bits[i] | b->bits[i];
}

static int parse_slot(const char *text, const char *start, const char *end, int *slot, struct sc_error *err)
{
	char buf[16];
	char *stop;
	long v;
	size_t len = (size_t)(end - start);

	if (len == 0 || len >= sizeof(buf))
		return sc_error_set(err, SC_EXIT_USAGE, "bad slot range '%s': empty or overlong slot number", text);
	memcpy(buf, start, len);
	buf[len] = '\0';
	errno = 0;
	v = strtol(buf, &stop, 10);
	if (errno || *stop || buf[0] == '-' || buf[0] == '+' || v < 0 || v >= SC_SLOTS)
		return sc_error_set(err, SC_EXIT_USAGE, "bad slot range '%s': '%s' is not a slot from 0 to %d",
			text, buf, SC_SLOTS - 1);
	*slot = (int)v;
	return 0;
}

int slotset_parse(const char *text, struct slotset *out, struct sc_error *err)
{
	struct slotset result;
	const char *p = text;

	slotset_clear(&result);
	if (!*text)
		return sc_error_set(err, SC_EXIT_USAGE, "empty slot range list");
	while (*p) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		const char *dash = memchr(p, '-', (size_t)(end - p));
		int first, last;

		if (parse_slot(text, p, dash ? dash : end, &first, err) < 0)
			return -1;
		last = first;
		if (dash && parse_slot(text, dash + 1, end, &last, err) < 0)
			return -1;
		if (last < first)
			return sc_error_set(err, SC_EXIT_USAGE, "bad slot range '%s': %d-%d runs backwards", text, first, last);
		slotset_add_range(&result, first, last);
		p = comma ? comma + 1 : end;
		if (comma && !*p)
			return sc_error_set(err, SC_EXIT_USAGE, "bad slot range '%s': trailing comma", text);
	}
	*out = result;
	return 0;
}

size_t slotset_format(const struct slotset *s, char *buf, size_t size)
{
	size_t need = 0;
	bool truncated = false;

	if (size)
		buf[0] = '\0';
	for (int slot = 0; slot < SC_SLOTS; slot++) {
		char part[32];
		int last = slot;
		int n;

		if (!slotset_has(s, slot))
			continue;
		while (last + 1 < SC_SLOTS && slotset_has(s, last + 1))
			last++;
		if (last == slot)
			n = snprintf(part, sizeof(part), "%s%d", need ? "," : "", slot);
		else
			n = snprintf(part, sizeof(part), "%s%d-%d", need ? "," : "", slot, last);
		if (!truncated && need + (size_t)n < size)
			memcpy(buf + need, part, (size_t)n + 1);
		else if (!truncated && size) {
			truncated = true;
			if (size >= 4)
				memcpy(buf + (need < size - 4 ? need : size - 4), "...", 4);
		}
		need += (size_t)n;
		slot = last;
	}
	return need;
}
