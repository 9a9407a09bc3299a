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

bool json_is_plain(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
		p++;
	return *p == '\0';
}
