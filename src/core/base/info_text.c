/* info_text.c: fields of INFO-style replies ("field:value" lines). Pure. */
#include "slotctl/core/info_text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool info_get(const char *text, const char *field, char *buf, size_t size)
{
	size_t flen = strlen(field);

	if (size)
		buf[0] = '\0';
	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, field, flen) == 0 && p[flen] == ':') {
			snprintf(buf, size, "%.*s", (int)strcspn(p + flen + 1, "\r\n"), p + flen + 1);
			return true;
		}
	return false;
}

long long info_get_ll(const char *text, const char *field, long long def)
{
	char buf[64], *end;
	long long v;

	if (!info_get(text, field, buf, sizeof(buf)) || !buf[0])
		return def;
	errno = 0;
	v = strtoll(buf, &end, 10);
	return errno || *end ? def : v;
}

long long info_get_bytes(const char *text, const char *field)
{
	long long v = info_get_ll(text, field, -1);

	return v >= 0 && v <= INFO_MAX_BYTES ? v : -1;
}
