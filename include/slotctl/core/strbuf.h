/* strbuf.h: appending formatted text to a fixed buffer the caller owns,
 * bounded: what does not fit is cut off and remembered, never written past
 * the end. The one way slotctl builds a message or a list piece by piece
 * (in place of hand-written `len += snprintf(...)`). Pure. */
#ifndef SLOTCTL_STRBUF_H
#define SLOTCTL_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf;          /* the caller's buffer; a C string whenever size > 0 */
	size_t size;        /* its size in bytes */
	size_t len;         /* bytes of text in it: always < size (0 when size is 0) */
	bool truncated;     /* an append did not fit whole (what fitted was kept) */
};

/* Starts sb on buf of size bytes, empty (buf[0] = '\0' when size > 0). */
void strbuf_init(struct strbuf *sb, char *buf, size_t size);

/* Appends printf-formatted text. Returns true when it fitted whole; false
 * when it was cut off at the end of the buffer (or sb was already full):
 * then truncated is set and the buffer holds as much as fits, terminated. */
bool strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* strbuf_addf with a va_list. */
bool strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Appends the string s as it is, or the decimal digits of v: the same as
 * strbuf_addf with "%s" or "%lld" (same text, same truncation), without
 * parsing a format: for text built in hot loops (journal records). */
bool strbuf_adds(struct strbuf *sb, const char *s);
bool strbuf_addll(struct strbuf *sb, long long v);

/* Appends the first `named` of n keys (byte strings of lens bytes), each
 * quoted and cut at STRBUF_KEY_SHOWN bytes, ", " between them, then
 * " and N more" when n > named: how a message names the keys it is about. */
#define STRBUF_KEY_SHOWN 64
void strbuf_add_keys(struct strbuf *sb, const char *const *keys, const size_t *lens, size_t n, size_t named);

#endif
