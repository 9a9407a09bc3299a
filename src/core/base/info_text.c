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

void info_server_version(const char *text, struct server_version *out)
{
	char name[32], version[64];
	bool valkey_version = info_get(text, "valkey_version", version, sizeof(version));
	int *part[3] = { &out->major, &out->minor, &out->patch };
	const char *p = version;

	memset(out, 0, sizeof(*out));
	info_get(text, "server_name", name, sizeof(name));
	out->valkey = valkey_version || strcmp(name, "valkey") == 0;
	if (!valkey_version && !info_get(text, "redis_version", version, sizeof(version)))
		return;
	/* "X.Y.Z": each part a number below 100000, or the version is unknown */
	for (int k = 0; k < 3; k++) {
		size_t digits = strspn(p, "0123456789");

		if (digits == 0 || digits > 5 || (p[digits] != (k < 2 ? '.' : '\0'))) {
			out->major = out->minor = out->patch = 0;
			return;
		}
		*part[k] = atoi(p);
		p += digits + 1;
	}
}

bool server_version_at_least(const struct server_version *v, int major, int minor)
{
	return v->major > major || (v->major == major && v->minor >= minor);
}
