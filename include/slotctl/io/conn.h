/* conn.h: the transport. One connection to one node, with a bound on every
 * connect, read and write, and authentication done on open. Callers never see
 * the underlying hiredis context, so TLS can be added here alone. */
#ifdef SLOTCTL_LAYER_CORE
#error "slotctl/io/conn.h is an io header: the core may not include it (ARCHITECTURE.md)"
#endif
#ifndef SLOTCTL_CONN_H
#define SLOTCTL_CONN_H

#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include "slotctl/core/error.h"
#include "slotctl/core/transport.h"

/* TLS, as redis-cli's options name it. The strings are borrowed (file
 * paths and a name, never a secret's content) and must outlive the
 * connections. */
struct conn_tls_opts {
	bool enabled;            /* --tls */
	const char *cacert;      /* --cacert FILE; NULL with cacertdir NULL: the system's CAs */
	const char *cacertdir;   /* --cacertdir DIR */
	const char *cert;        /* --cert FILE: the client certificate (mutual TLS) */
	const char *key;         /* --key FILE: its private key (PEM, unencrypted) */
	const char *sni;         /* --sni NAME: sent as SNI and checked in the certificate */
	bool insecure;           /* --insecure: no check of the server's certificate */
};

struct conn_opts {
	const char *user;        /* NULL: AUTH with password only */
	const char *pass;        /* NULL: no AUTH */
	int connect_timeout_ms;  /* > 0 */
	int command_timeout_ms;  /* > 0; bounds every read and write */
	struct conn_tls_opts tls; /* tls.enabled false: plaintext */
	bool prefer_hostnames;   /* dial nodes by the host names they announce (snapshot.c) */
};

/* What plans and journals record of o: whether it speaks TLS and which of
 * its options were given (recorded true). */
struct transport_note conn_tls_note(const struct conn_tls_opts *o);

/* Checks TLS options before any connection: --cert and --key together, and
 * every file readable and usable (a CA file or directory, a certificate, an
 * unencrypted key that matches it). Returns 0 (also when !o->enabled), or
 * -1 with an SC_EXIT_USAGE error naming the option and file. The client
 * context it makes is kept for the connections that follow. */
int conn_tls_check(const struct conn_tls_opts *o, struct sc_error *err);

/* Default timeouts when the user gives none. */
#define SC_DEFAULT_TIMEOUT_MS 5000

/* The budget of one reply unless conn_set_reply_limit says otherwise: the
 * bytes it takes (each of its objects, strings and arrays of elements, and
 * what is buffered unparsed), and the elements of all its arrays together.
 * Enough for every control reply with room to spare (CLUSTER NODES of
 * 10,000 nodes is a few MB, CLUSTER SLOT-STATS of every slot about 5 MB in
 * 65,536 elements), far below what would hurt. */
#define CONN_REPLY_MAX_BYTES (64u << 20)
#define CONN_REPLY_MAX_ELEMENTS (4u << 20)
/* The byte budget of replies that carry keys or values: the mover's and
 * repair's GETKEYSINSLOT (up to 1,000,000 keys) and DUMP payloads. */
#define CONN_REPLY_MAX_VALUE_BYTES (1u << 30)

struct conn;

/* Connects to host:port within the connect timeout and authenticates (AUTH
 * [user] pass when opts->pass is set). With opts->tls.enabled it speaks TLS
 * (handshake within the connect timeout, the server's certificate checked
 * as conn_tls_opts says, then one round trip so that a server refusing the
 * client's certificate is known here); the causes of a failed handshake are
 * named: unknown CA, expired, name mismatch, the server wants a client
 * certificate, the server does not speak TLS, timed out. A host name is resolved within the
 * connect timeout too, and each of its addresses tried in turn. Returns 0 and *out (the caller owns
 * it: conn_close) on success. On failure returns -1 with an
 * SC_EXIT_UNREACHABLE error naming 'host:port' and the cause (refused, timed
 * out, authentication failed; SC_EXIT_PROBLEMS on OOM); the password is
 * masked out of any server message. */
int conn_open(const char *host, int port, const struct conn_opts *opts,
	struct conn **out, struct sc_error *err);

/* Closes and frees c. NULL is fine. */
void conn_close(struct conn *c);

/* Whether c's TLS handshake resumed the session an earlier connection to
 * the same server (same name, port and TLS options) was handed, which
 * spares both sides the certificates; false in plaintext. */
bool conn_tls_resumed(const struct conn *c);

/* "host:port" of this connection, its host and its port (the strings stay
 * valid until conn_close). */
const char *conn_addr(const struct conn *c);
const char *conn_host(const struct conn *c);
int conn_port(const struct conn *c);

/* Sends one command (argv form, binary-safe; argvlen may be NULL for C
 * strings) and waits for its reply within the command timeout, and within
 * the reply budget (conn_set_reply_limit). Returns the
 * reply (caller frees with freeReplyObject), which may be a server error reply
 * (REDIS_REPLY_ERROR): callers decide what that means. Returns NULL with an
 * SC_EXIT_UNREACHABLE error on I/O failure or timeout; the connection is then
 * unusable (conn_broken is true). */
redisReply *conn_command_argv(struct conn *c, int argc, const char **argv,
	const size_t *argvlen, struct sc_error *err);

/* printf-style convenience over conn_command_argv (hiredis format rules). */
redisReply *conn_command(struct conn *c, struct sc_error *err, const char *fmt, ...);
redisReply *conn_vcommand(struct conn *c, struct sc_error *err, const char *fmt, va_list ap);

/* Pipelining: queue commands with conn_append* (0, or -1 with an error), then
 * read each reply in order with conn_get_reply, which sends the queue on its
 * first call. Same reply and error rules as conn_command_argv. */
int conn_append_argv(struct conn *c, int argc, const char **argv,
	const size_t *argvlen, struct sc_error *err);
int conn_append(struct conn *c, struct sc_error *err, const char *fmt, ...);
redisReply *conn_get_reply(struct conn *c, struct sc_error *err);

/* Sends what conn_append* queued without waiting for any reply (read them
 * later with conn_get_reply), within the command timeout. 0, or -1 with an
 * SC_EXIT_UNREACHABLE error (the connection is then broken). */
int conn_flush(struct conn *c, struct sc_error *err);

/* Changes the read/write bound for following commands (e.g. a MIGRATE of a
 * big key). Returns 0 or -1 with an error. */
int conn_set_timeout(struct conn *c, int timeout_ms, struct sc_error *err);

/* Sets the budget of each following reply: at most max_bytes of memory
 * (objects, strings, element arrays and unparsed buffer), at most
 * max_elements array elements in all (0: the
 * default, CONN_REPLY_MAX_BYTES or CONN_REPLY_MAX_ELEMENTS). A reply over
 * budget is refused before it is buffered or its arrays allocated: the read
 * fails like a timeout, SC_EXIT_UNREACHABLE "no usable reply from
 * 'host:port': a reply of more than N bytes ...; refused", and the
 * connection is broken. */
void conn_set_reply_limit(struct conn *c, size_t max_bytes, size_t max_elements);

/* True once an I/O error or timeout has made the connection unusable. */
int conn_broken(const struct conn *c);

/* Judges a reply (it does not free it). Returns 0 when reply is not an error
 * reply. Otherwise returns -1 with err filled, the server's message quoted
 * without its final period:
 * - NOAUTH / WRONGPASS: SC_EXIT_UNREACHABLE (exit 3, like a failed login),
 *   "'host:port' replied to WHAT: <message> (give --pass or set REDISCLI_AUTH)";
 * - any other error reply: SC_EXIT_PROBLEMS,
 *   "'host:port' replied to WHAT: <message>";
 * - reply NULL: err as conn_command left it, or when it is unset
 *   SC_EXIT_UNREACHABLE "no reply from 'host:port' to WHAT". */
int conn_check_reply(struct conn *c, const redisReply *reply, const char *what, struct sc_error *err);

/* Counts (keys, bytes) no truthful reply exceeds: 2^40. Sums of 16384 of
 * them cannot overflow. */
#define CONN_MAX_COUNT (1LL << 40)

/* Judges reply (not freed) as a count: 0 and *out when it is an integer
 * from 0 to CONN_MAX_COUNT; otherwise -1 with conn_check_reply's error or
 * SC_EXIT_PROBLEMS "'host:port' replied to WHAT with <what it was>, not a
 * count". */
int conn_reply_count(struct conn *c, const redisReply *reply, const char *what, long long *out,
	struct sc_error *err);

/* Takes reply (frees it; NULL is fine) as the answer to WHAT, which must be
 * a count (DBSIZE, COUNTKEYSINSLOT): conn_reply_count, then frees it. */
int conn_take_integer(struct conn *c, redisReply *reply, const char *what, long long *out,
	struct sc_error *err);

#endif
