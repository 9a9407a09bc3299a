/* addr.c: reading and writing node addresses (see slotctl/core/addr.h). */
#include "slotctl/core/addr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "slotctl/core/exitcode.h"

static int addr_port(const char *text, const char *p, int *port, struct sc_error *err)
{
	char *end;
	long v;

	if (!*p)
		return sc_error_set(err, SC_EXIT_USAGE, "'%s' has no port: expected HOST:PORT", text);
	errno = 0;
	v = strtol(p, &end, 10);
	if (*p < '0' || *p > '9' || errno || *end || v < 1 || v > 65535)
		return sc_error_set(err, SC_EXIT_USAGE,
			"'%s' has a bad port: expected a number from 1 to 65535", text);
	*port = (int)v;
	return 0;
}

int addr_parse(const char *text, char *host, size_t host_size, int *port, struct sc_error *err)
{
	const char *start = text, *end, *colon;
	size_t len;
	int p = 0;

	if (!text || !*text)
		return sc_error_set(err, SC_EXIT_USAGE, "no address given: expected HOST:PORT");
	if (*text == '[') {
		start = text + 1;
		end = strchr(start, ']');
		if (!end || end[1] != ':')
			return sc_error_set(err, SC_EXIT_USAGE,
				"'%s' is not an address: expected [IPV6]:PORT", text);
		colon = end + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return sc_error_set(err, SC_EXIT_USAGE, "'%s' has no port: expected HOST:PORT", text);
		if (memchr(text, ':', (size_t)(colon - text)))
			return sc_error_set(err, SC_EXIT_USAGE,
				"'%s' is ambiguous: write IPv6 addresses as [ADDR]:PORT", text);
		end = colon;
	}
	len = (size_t)(end - start);
	if (len == 0)
		return sc_error_set(err, SC_EXIT_USAGE, "'%s' has no host: expected HOST:PORT", text);
	if (len >= host_size)
		return sc_error_set(err, SC_EXIT_USAGE, "'%s' has a host name that is too long", text);
	if (addr_port(text, colon + 1, &p, err) < 0)
		return -1;
	memcpy(host, start, len);
	host[len] = '\0';
	*port = p;
	return 0;
}

void addr_format(char *buf, size_t size, const char *host, int port)
{
	if (strchr(host, ':'))
		snprintf(buf, size, "[%s]:%d", host, port);
	else
		snprintf(buf, size, "%s:%d", host, port);
}
