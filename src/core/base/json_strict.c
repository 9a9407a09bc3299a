/* json_strict.c: one JSON value per document, no key twice in an object (see
 * slotctl/core/json_strict.h). cJSON parses; this refuses what it lets through. */
#include "slotctl/core/json_strict.h"
#include "slotctl/core/exitcode.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_TEXT 160

/* Line and column (from 1) of byte offset in text. */
static void locate(const char *text, size_t offset, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < offset; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static int at_error(const char *text, size_t len, const char *end, const char *what, const char *how,
	struct sc_error *err)
{
	size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
	int line, col;

	locate(text, at, &line, &col);
	return sc_error_set(err, SC_EXIT_USAGE, "%s %s (line %d, column %d)", what, how, line, col);
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/* The first key of obj that appears twice, or NULL; -1 on OOM. Sorting keeps
 * an object of many keys at n log n. */
static int twice_in(const cJSON *obj, const char **dup)
{
	size_t n = 0, k = 0;
	const cJSON *c;
	const cJSON **keys;

	*dup = NULL;
	for (c = obj->child; c; c = c->next)
		n++;
	if (n < 2)
		return 0;
	if (!(keys = malloc(n * sizeof(*keys))))
		return -1;
	for (c = obj->child; c; c = c->next)
		keys[k++] = c;
	qsort(keys, n, sizeof(*keys), by_name);
	for (k = 1; k < n && !*dup; k++)
		if (strcmp(keys[k - 1]->string, keys[k]->string) == 0)
			*dup = keys[k]->string;
	free(keys);
	return 0;
}

/* Refuses a key named twice in v or below; path names v for the message
 * (cJSON's nesting limit bounds the recursion). */
static int no_key_twice(const cJSON *v, const char *path, const char *what, struct sc_error *err)
{
	char sub[PATH_MAX_TEXT];
	const char *dup;
	size_t i = 0;

	if (cJSON_IsObject(v)) {
		if (twice_in(v, &dup) < 0)
			return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory reading the %s", what);
		if (dup)
			return sc_error_set(err, SC_EXIT_USAGE, "%s has key '%s' twice in '%s'", what, dup,
				*path ? path : "the top-level object");
	}
	for (const cJSON *c = v->child; c; c = c->next, i++) {
		if (cJSON_IsObject(v))
			snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", c->string);
		else
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
		if (no_key_twice(c, sub, what, err) < 0)
			return -1;
	}
	return 0;
}

int json_parse_strict(const char *text, size_t len, const char *what, struct cJSON **out,
	struct sc_error *err)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);

	if (!root)
		return at_error(text, len, end, what, "is not valid JSON", err);
	while (end < text + len && strchr(" \t\r\n", *end) && *end)
		end++;
	if (end < text + len) {
		cJSON_Delete(root);
		return at_error(text, len, end, what, "has more after its JSON value", err);
	}
	if (no_key_twice(root, "", what, err) < 0) {
		cJSON_Delete(root);
		return -1;
	}
	*out = root;
	return 0;
}
