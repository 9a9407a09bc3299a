/* info_text.c: fields of INFO-style replies ("field:value" lines). Pure. */
#include "slotctl/core/info_text.h"

#include <ctype.h>
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

/* Fills r's field named by key (length klen) from value (length vlen). */
static void replica_field(struct info_replica *r, const char *key, size_t klen, const char *value, size_t vlen)
{
	char num[32];
	char *end;
	long long v;

	if (klen == 2 && memcmp(key, "ip", 2) == 0) {
		snprintf(r->ip, sizeof(r->ip), "%.*s", (int)(vlen < sizeof(r->ip) ? vlen : sizeof(r->ip) - 1), value);
		return;
	}
	if (klen == 5 && memcmp(key, "state", 5) == 0) {
		snprintf(r->state, sizeof(r->state), "%.*s",
			(int)(vlen < sizeof(r->state) ? vlen : sizeof(r->state) - 1), value);
		return;
	}
	if (vlen == 0 || vlen >= sizeof(num))
		return;
	memcpy(num, value, vlen);
	num[vlen] = '\0';
	errno = 0;
	v = strtoll(num, &end, 10);
	if (errno || *end || v < 0)
		return;
	if (klen == 4 && memcmp(key, "port", 4) == 0 && v <= 65535)
		r->port = (int)v;
	else if (klen == 6 && memcmp(key, "offset", 6) == 0)
		r->offset = v;
	else if (klen == 3 && memcmp(key, "lag", 3) == 0)
		r->lag_s = v;
}

/* The line after the one at l, or NULL after the last. */
static const char *next_line(const char *l)
{
	const char *nl = strchr(l, '\n');

	return nl ? nl + 1 : NULL;
}

int info_replicas(const char *text, struct info_replica *out, int max)
{
	int n = 0;

	for (const char *line = text; line && *line && n < max; line = next_line(line)) {
		const char *p = line, *eol = line + strcspn(line, "\r\n");
		struct info_replica *r = &out[n];

		if (strncmp(p, "slave", 5) != 0)
			continue;
		p += 5;
		if (p >= eol || !isdigit((unsigned char)*p))
			continue;
		p += strspn(p, "0123456789");
		if (p >= eol || *p != ':')
			continue;
		memset(r, 0, sizeof(*r));
		r->offset = r->lag_s = -1;
		for (p++; p < eol;) {
			const char *comma = memchr(p, ',', (size_t)(eol - p)), *end = comma ? comma : eol;
			const char *eq = memchr(p, '=', (size_t)(end - p));

			if (eq)
				replica_field(r, p, (size_t)(eq - p), eq + 1, (size_t)(end - eq - 1));
			p = end + (comma ? 1 : 0);
		}
		n++;
	}
	return n;
}
