/* suggest.c: the "did you mean" of a mistyped command or option: edit
 * distance (with swaps) to each known word, and the nearest within a bound
 * that grows with the word's length, so that only close matches are named. */
#include "slotctl/core/suggest.h"
#include "slotctl/core/strbuf.h"

#include <stdio.h>
#include <string.h>

int suggest_distance(const char *a, const char *b)
{
	/* three rows of the dynamic programme: i-2, i-1 and i */
	int rows[3][SUGGEST_WORD_MAX + 1];
	size_t la = strlen(a), lb = strlen(b);

	if (la > SUGGEST_WORD_MAX || lb > SUGGEST_WORD_MAX)
		return SUGGEST_WORD_MAX + 1;
	for (size_t j = 0; j <= lb; j++)
		rows[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int *prev2 = rows[(i + 1) % 3], *prev = rows[(i - 1) % 3], *cur = rows[i % 3];

		cur[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int cost = a[i - 1] != b[j - 1];
			int best = prev[j - 1] + cost;

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
	}
	return rows[la % 3][lb];
}

int suggest_words(const char *typed, const char *const *words, int n, const char **out, int max,
	bool *prefix)
{
	size_t len = strlen(typed);
	int bound = len / 3 > 1 ? (int)(len / 3) : 1;
	int best = bound + 1, count = 0;

	if (prefix)
		*prefix = false;
	if (len == 0 || len > SUGGEST_WORD_MAX)
		return 0;
	for (int i = 0; i < n; i++)
		if (strncmp(words[i], typed, len) == 0 && words[i][len] != '\0' && count < max)
			out[count++] = words[i];
	if (count > 0) {
		if (prefix)
			*prefix = true;
		return count;
	}
	for (int i = 0; i < n; i++) {
		int d = suggest_distance(typed, words[i]);

		if (d > best)
			continue;
		if (d < best)
			count = 0;
		best = d;
		if (count < max)
			out[count++] = words[i];
	}
	return count;
}

void suggest_format(const char *const *words, int n, const char *lead, char *buf, size_t size)
{
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
	for (int i = 0; i < n && !sb.truncated; i++)
		strbuf_addf(&sb, "%s'%s%s'", i == 0 ? "" : i == n - 1 ? " or " : ", ", lead, words[i]);
}
