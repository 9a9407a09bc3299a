/* json_doc.c: starting a versioned JSON document, reading its version, and
 * writing its numbers (see slotctl/core/json_doc.h). */
#include "slotctl/core/json_doc.h"
#include "slotctl/core/strbuf.h"

#include <cJSON.h>
#include <stdio.h>

struct cJSON *json_doc_new(const char *version)
{
	cJSON *doc = cJSON_CreateObject();

	if (doc && !cJSON_AddStringToObject(doc, "format_version", version)) {
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

int json_doc_version(const char *text, int *major, int *minor)
{
	int a, b, used = 0;

	if (sscanf(text, "%d.%d%n", &a, &b, &used) != 2 ||
	    text[used] != '\0' || a < 0 || b < 0)
		return -1;
	*major = a;
	*minor = b;
	return 0;
}

struct cJSON *json_add_number(struct cJSON *o, const char *name, double value)
{
	char digits[32];
	struct strbuf sb;

	if (value >= -1e15 && value <= 1e15 && value == (double)(long long)value) {
		strbuf_init(&sb, digits, sizeof(digits));
		strbuf_addll(&sb, (long long)value);
		return cJSON_AddRawToObject(o, name, digits);
	}
	return cJSON_AddNumberToObject(o, name, value);
}

/* The bytes a JSON string holds as they are: printable ASCII but the quote
 * and the backslash (a table: a journal checks three names a record, 12,000
 * records for a 4096-slot move). */
#define PLAIN_ROW(base) [base] = true, [base + 1] = true, [base + 2] = true, [base + 3] = true, \
	[base + 4] = true, [base + 5] = true, [base + 6] = true, [base + 7] = true
static const bool plain_byte[256] = {
	PLAIN_ROW(0x20), PLAIN_ROW(0x28), PLAIN_ROW(0x30), PLAIN_ROW(0x38), PLAIN_ROW(0x40), PLAIN_ROW(0x48),
	PLAIN_ROW(0x50), PLAIN_ROW(0x58), PLAIN_ROW(0x60), PLAIN_ROW(0x68), PLAIN_ROW(0x70),
	[0x78] = true, [0x79] = true, [0x7a] = true, [0x7b] = true, [0x7c] = true, [0x7d] = true, [0x7e] = true,
};

bool json_is_plain(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (plain_byte[*p] && *p != '"' && *p != '\\')
		p++;
	return *p == '\0';
}
