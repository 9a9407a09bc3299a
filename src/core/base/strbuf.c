/* strbuf.c: bounded appends to a fixed buffer (see slotctl/core/strbuf.h). */
#include "slotctl/core/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void strbuf_init(struct strbuf *sb, char *buf, size_t size)
{
	sb->buf = buf;
	sb->size = size;
	sb->len = 0;
	sb->truncated = false;
	if (size > 0)
		buf[0] = '\0';
}

bool strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	bool fit;

	va_start(ap, fmt);
	fit = strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
	return fit;
}

bool strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	size_t room = sb->size > sb->len ? sb->size - sb->len : 0;
	int n;

	if (room == 0) {
		sb->truncated = true;
		return false;
	}
	n = vsnprintf(sb->buf + sb->len, room, fmt, ap);
	if (n < 0) { /* an encoding error: keep what was there */
		sb->buf[sb->len] = '\0';
		sb->truncated = true;
		return false;
	}
	if ((size_t)n >= room) {
		sb->len = sb->size - 1;
		sb->truncated = true;
		return false;
	}
	sb->len += (size_t)n;
	return true;
}

bool strbuf_adds(struct strbuf *sb, const char *s)
{
	size_t room = sb->size > sb->len ? sb->size - sb->len : 0;
	size_t n = strlen(s);

	if (room == 0) {
		sb->truncated = true;
		return false;
	}
	if (n >= room) {
		memcpy(sb->buf + sb->len, s, room - 1);
		sb->len = sb->size - 1;
		sb->buf[sb->len] = '\0';
		sb->truncated = true;
		return false;
	}
	memcpy(sb->buf + sb->len, s, n + 1);
	sb->len += n;
	return true;
}

bool strbuf_addll(struct strbuf *sb, long long v)
{
	char digits[24], *p = digits + sizeof(digits);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	*--p = '\0';
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	return strbuf_adds(sb, p);
}

void strbuf_add_keys(struct strbuf *sb, const char *const *keys, const size_t *lens, size_t n, size_t named)
{
	for (size_t i = 0; i < n && i < named && !sb->truncated; i++)
		strbuf_addf(sb, "%s'%.*s'", i ? ", " : "",
			(int)(lens[i] > STRBUF_KEY_SHOWN ? STRBUF_KEY_SHOWN : lens[i]), keys[i]);
	if (n > named)
		strbuf_addf(sb, " and %zu more", n - named);
}
