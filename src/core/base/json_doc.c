/* json_doc.c: starting a versioned JSON document and reading its version
 * (see slotctl/core/json_doc.h). */
#include "slotctl/core/json_doc.h"

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
