/* tls.h: the TLS session under one connection, private to conn.c (which
 * owns the socket and feeds what this decrypts to hiredis's RESP reader).
 * OpenSSL stays behind these functions: no caller sees an OpenSSL type. */
#ifndef SLOTCTL_IO_TLS_H
#define SLOTCTL_IO_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "slotctl/io/conn.h"

struct tls_session;

/* Starts TLS as a client on the connected socket fd (made non-blocking
 * here) and finishes the handshake before deadline (sc_clock_ms time).
 * host is the name or address dialled: unless o->insecure, the server's
 * certificate must chain to the CA given (or the system's), be within its
 * validity, and name o->sni when given, else host (its IP address when
 * host is one); SNI carries o->sni, else host when it is a name. Returns 0
 * and *out (tls_session_close frees it; the caller still closes fd), or -1
 * with cause in plain words (unknown CA, expired, name mismatch, not TLS at
 * all, timed out). */
int tls_session_open(int fd, const char *host, const struct conn_tls_opts *o, long long deadline,
	struct tls_session **out, char *cause, size_t size);

/* Reads up to len decrypted bytes before deadline. Returns how many (> 0),
 * or -1 with cause (timed out, closed by the server, an alert from it: one
 * that asks for a client certificate is named so). */
ssize_t tls_session_read(struct tls_session *s, void *buf, size_t len, long long deadline,
	char *cause, size_t size);

/* Writes up to len bytes (at most 1 MiB at a time) before deadline.
 * Returns how many (> 0), or -1 with cause. */
ssize_t tls_session_write(struct tls_session *s, const void *buf, size_t len, long long deadline,
	char *cause, size_t size);

/* Whether s's handshake resumed a session an earlier connection to the
 * same server, under the same name and options, was handed (no
 * certificates sent or checked again). */
bool tls_session_resumed(const struct tls_session *s);

/* Sends close_notify without waiting and frees s. NULL is fine. */
void tls_session_close(struct tls_session *s);

#endif
