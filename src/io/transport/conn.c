/* conn.c: the transport (see slotctl/io/conn.h). One blocking hiredis context per
 * connection, with a kernel-enforced bound on connect, every read and every
 * write, so a node that accepts TCP but never answers fails within the bound;
 * and the bound shrinks to what is left of the command timeout as a reply
 * comes in, so a node that dribbles its reply a byte at a time fails within
 * it too. A host name is resolved within the connect bound first
 * (resolve.c), and its addresses are tried in turn. Every reply is read by
 * one bounded reply reader (read_reply) with a budget of bytes and array
 * elements as well as of time. hiredis stays behind struct conn: TLS or
 * another client library would change this file alone.
 *
 * TLS (tls.c, on OpenSSL): hiredis dials the TCP connection; then the
 * socket and the TLS session are ours. hiredis's command formatter still
 * fills the output buffer and its reader still parses replies, but the
 * bytes go through tls_session_write and come from tls_session_read (fed to
 * the reader), each bounded by the same deadline as a plaintext read. */
#include "slotctl/io/conn.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "slotctl/core/addr.h"
#include "slotctl/io/clock.h"
#include "slotctl/io/resolve.h"
#include "slotctl/core/exitcode.h"
#include "slotctl/core/strbuf.h"
#include "tls.h"

struct conn {
	redisContext *ctx;
	struct tls_session *tls; /* NULL: plaintext through hiredis's own socket I/O */
	char host[256];
	int port;
	char addr[ADDR_TEXT_MAX];
	int command_timeout_ms;
	int socket_bound_ms;     /* the socket's read/write timeout now: command_timeout_ms or less */
	int broken;
	size_t max_bytes;        /* the budget of one reply: bytes it holds (objects, strings, element */
	size_t max_elements;     /* arrays) and has buffered unparsed; elements of all its arrays */
	size_t bytes, elements;  /* spent by the reply being read */
	char over[160];          /* why the budget refused it; "" when it did not */
};

static struct timeval ms_to_timeval(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	return tv;
}

/* A write to a peer that has gone away must fail with EPIPE, not kill us. */
static void ignore_sigpipe_once(void)
{
	struct sigaction old;

	if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
}

/* Plain words for what hiredis reports; errnum is errno right after the call. */
static void describe_io_error(const redisContext *ctx, int errnum, int timeout_ms,
	char *buf, size_t size)
{
	const char *s = ctx ? ctx->errstr : "out of memory";

	if (ctx && ctx->err == REDIS_ERR_EOF)
		snprintf(buf, size, "connection closed by the server");
	else if (errnum == EAGAIN || errnum == EWOULDBLOCK || errnum == ETIMEDOUT
		|| strstr(s, "timed out") || strstr(s, "temporarily unavailable"))
		snprintf(buf, size, "timed out after %d ms", timeout_ms);
	else if (errnum == ECONNREFUSED || strstr(s, "Connection refused"))
		snprintf(buf, size, "connection refused");
	else if (errnum == ECONNRESET || strstr(s, "Connection reset"))
		snprintf(buf, size, "connection reset by peer");
	else {
		snprintf(buf, size, "%s", s);
		if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
			buf[0] = (char)(buf[0] - 'A' + 'a');
	}
}

/* Marks c broken and fills err for the I/O failure just seen. */
static int conn_fail(struct conn *c, int errnum, struct sc_error *err)
{
	char cause[200];

	c->broken = 1;
	describe_io_error(c->ctx, errnum, c->command_timeout_ms, cause, sizeof(cause));
	return sc_error_set(err, SC_EXIT_UNREACHABLE, "no reply from '%s': %s", c->addr, cause);
}

/* A TLS failure's cause with the bound said, as describe_io_error says it:
 * "timed out ..." becomes "timed out after N ms ...". */
static void tls_cause_bound(char *cause, size_t size, int timeout_ms)
{
	char rest[200];

	if (strncmp(cause, "timed out", 9) != 0)
		return;
	snprintf(rest, sizeof(rest), "%s", cause + 9);
	snprintf(cause, size, "timed out after %d ms%s", timeout_ms, rest);
}

/* Marks c broken and fills err for a failed TLS read or write. */
static int conn_fail_tls(struct conn *c, char *cause, size_t size, struct sc_error *err)
{
	c->broken = 1;
	tls_cause_bound(cause, size, c->command_timeout_ms);
	return sc_error_set(err, SC_EXIT_UNREACHABLE, "no reply from '%s': %s", c->addr, cause);
}

/* Writes some of the output buffer over TLS before deadline; *done once it
 * is empty. 0, or -1 with err. */
static int tls_write_some(struct conn *c, long long deadline, int *done, struct sc_error *err)
{
	char cause[200];
	size_t len = sdslen(c->ctx->obuf);
	ssize_t n = len ? tls_session_write(c->tls, c->ctx->obuf, len, deadline, cause, sizeof(cause)) : 0;

	if (n < 0)
		return conn_fail_tls(c, cause, sizeof(cause), err);
	sdsrange(c->ctx->obuf, (int)n, -1); /* n is at most 1 MiB: see tls_session_write */
	*done = sdslen(c->ctx->obuf) == 0;
	return 0;
}

/* Reads what has come over TLS (waiting until deadline for some) into the
 * reply reader. 0, or -1 with err. */
static int tls_read_some(struct conn *c, long long deadline, struct sc_error *err)
{
	char buf[16 * 1024], cause[200];
	ssize_t n = tls_session_read(c->tls, buf, sizeof(buf), deadline, cause, sizeof(cause));

	if (n < 0)
		return conn_fail_tls(c, cause, sizeof(cause), err);
	if (redisReaderFeed(c->ctx->reader, buf, (size_t)n) != REDIS_OK)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory reading from '%s'", c->addr);
	return 0;
}

/* Lowers the socket's bound to what is left until deadline (sc_clock_ms
 * time). 0, or -1 with errno (ETIMEDOUT once the deadline has passed). */
static int bound_to_deadline(struct conn *c, long long deadline)
{
	long long left = deadline - sc_clock_ms();

	if (left <= 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (left + 1 >= c->socket_bound_ms)
		return 0; /* within a millisecond of it: not worth two system calls */
	if (redisSetTimeout(c->ctx, ms_to_timeval((int)left)) != REDIS_OK)
		return -1;
	c->socket_bound_ms = (int)left;
	return 0;
}

/* Gives the socket the whole command timeout back. */
static int unbound(struct conn *c)
{
	if (c->socket_bound_ms == c->command_timeout_ms)
		return 0;
	if (redisSetTimeout(c->ctx, ms_to_timeval(c->command_timeout_ms)) != REDIS_OK)
		return -1;
	c->socket_bound_ms = c->command_timeout_ms;
	return 0;
}

/* Sends everything queued, all of it before deadline. */
static int write_queued(struct conn *c, long long deadline, struct sc_error *err)
{
	int done = 0;

	while (!done) {
		errno = 0;
		if (c->tls) {
			if (tls_write_some(c, deadline, &done, err) != 0)
				return -1;
		} else if (bound_to_deadline(c, deadline) != 0 || redisBufferWrite(c->ctx, &done) != REDIS_OK) {
			return conn_fail(c, errno, err);
		}
	}
	return 0;
}

/* ---- the reply budget ----
 * hiredis 0.14's reader has no size limits (its maxbuf only decides when an
 * empty buffer is freed), so the budget is kept here: the reader builds
 * replies through budget_fn, which counts each array's elements before
 * hiredis allocates them, and the bytes of every object, string and array
 * of element pointers (so the bytes are about what the reply takes in
 * memory, whatever its shape), and refuses (returns NULL,
 * which the reader reports as out of memory) once the reply is over budget;
 * and a bulk string still being received is refused from its header, before
 * its bytes are buffered. The conn is the reader's privdata, which hiredis
 * hands to every task. */

static const redisReplyObjectFunctions *hiredis_fn; /* hiredis's own builders */
static redisReplyObjectFunctions budget_fn;

/* Spends n of what (bytes or elements) of c's reply; false (and c->over
 * says why) when that goes over its budget. */
static bool budget_spend(struct conn *c, size_t *spent, size_t n, size_t max, const char *unit)
{
	if (n <= max && *spent <= max - n) {
		*spent += n;
		return true;
	}
	if (!c->over[0])
		snprintf(c->over, sizeof(c->over), "a reply of more than %zu %s (%zu already, %zu more)",
			max, unit, *spent, n);
	return false;
}

/* Spends the bytes of one reply object holding `extra` bytes more. */
static bool budget_object(const redisReadTask *t, size_t extra)
{
	struct conn *c = t->privdata;

	return !c || (extra <= SIZE_MAX - sizeof(redisReply) &&
		budget_spend(c, &c->bytes, sizeof(redisReply) + extra, c->max_bytes, "bytes"));
}

static void *budget_string(const redisReadTask *t, char *str, size_t len)
{
	return budget_object(t, len) ? hiredis_fn->createString(t, str, len) : NULL;
}

static void *budget_array(const redisReadTask *t, int elements)
{
	struct conn *c = t->privdata;
	size_t n = elements > 0 ? (size_t)elements : 0;

	if (c && !budget_spend(c, &c->elements, n, c->max_elements, "elements"))
		return NULL;
	return budget_object(t, n * sizeof(redisReply *)) ? hiredis_fn->createArray(t, elements) : NULL;
}

static void *budget_integer(const redisReadTask *t, long long value)
{
	return budget_object(t, 0) ? hiredis_fn->createInteger(t, value) : NULL;
}

static void *budget_nil(const redisReadTask *t)
{
	return budget_object(t, 0) ? hiredis_fn->createNil(t) : NULL;
}

static void budget_free(void *obj)
{
	hiredis_fn->freeObject(obj);
}

static void budget_fn_init(void)
{
	redisReader *r = redisReaderCreate();

	hiredis_fn = r ? r->fn : NULL;
	redisReaderFree(r);
	budget_fn = (redisReplyObjectFunctions){ budget_string, budget_array, budget_integer, budget_nil,
		budget_free };
}

/* Makes c's reader build replies within c's budget. */
static void budget_attach(struct conn *c)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, budget_fn_init);
	if (!hiredis_fn || c->ctx->reader->fn != hiredis_fn)
		return; /* not hiredis's default builders: nothing to wrap (never so in 0.14) */
	c->ctx->reader->fn = &budget_fn;
	c->ctx->reader->privdata = c;
}

/* Whether what the reader holds unparsed still fits the budget. A bulk
 * string being received (its type byte read, the reader's cursor on its
 * length) is judged by the length its header announces, before its bytes
 * arrive; anything else by the bytes buffered. */
static bool budget_pending(struct conn *c)
{
	const redisReader *r = c->ctx->reader;
	size_t pending = r->len - r->pos, left = c->max_bytes - c->bytes;
	unsigned long long announced = 0;

	if (r->ridx >= 0 && r->rstack[r->ridx].type == REDIS_REPLY_STRING) {
		for (size_t i = r->pos; i < r->len && r->buf[i] >= '0' && r->buf[i] <= '9'; i++)
			if (announced < (1ULL << 60))
				announced = announced * 10 + (unsigned)(r->buf[i] - '0');
		if (announced > pending)
			pending = announced > SIZE_MAX ? SIZE_MAX : (size_t)announced;
	}
	if (pending <= left)
		return true;
	snprintf(c->over, sizeof(c->over), "a reply of more than %zu bytes (%zu already, %zu more %s)",
		c->max_bytes, c->bytes, pending, announced == pending ? "announced" : "sent");
	return false;
}

/* One bounded reply reader: every reply of every connection is read here,
 * and none may take more than the command timeout (however slowly its
 * bytes come), more than max_bytes of memory (its objects, strings and
 * element arrays, and its unparsed buffer), or more than max_elements array
 * elements (checked before hiredis allocates them). Sends the queue first if it is needed. A reply over any of these
 * fails with an error naming the node, and the connection is broken. */
static redisReply *read_reply(struct conn *c, struct sc_error *err)
{
	long long deadline = sc_clock_ms() + c->command_timeout_ms;
	void *reply = NULL;

	c->bytes = c->elements = 0;
	c->over[0] = '\0';
	if (redisReaderGetReply(c->ctx->reader, &reply) != REDIS_OK)
		goto bad_protocol;
	if (!reply && write_queued(c, deadline, err) != 0)
		return NULL;
	while (!reply) {
		errno = 0;
		if (c->tls) {
			if (tls_read_some(c, deadline, err) != 0)
				return NULL;
		} else if (bound_to_deadline(c, deadline) != 0 || redisBufferRead(c->ctx) != REDIS_OK) {
			conn_fail(c, errno, err);
			return NULL;
		}
		if (redisReaderGetReply(c->ctx->reader, &reply) != REDIS_OK)
			goto bad_protocol;
		if (!reply && !budget_pending(c))
			goto too_big;
	}
	if (unbound(c) != 0) {
		freeReplyObject(reply);
		conn_fail(c, errno, err);
		return NULL;
	}
	return reply;
bad_protocol:
	if (c->over[0])
		goto too_big;
	c->broken = 1;
	sc_error_set(err, SC_EXIT_UNREACHABLE, "no reply from '%s': not the Redis protocol (%s)", c->addr,
		c->ctx->reader->errstr);
	return NULL;
too_big:
	c->broken = 1;
	sc_error_set(err, SC_EXIT_UNREACHABLE, "no usable reply from '%s': %s; refused", c->addr, c->over);
	return NULL;
}

static int conn_refuse_broken(const struct conn *c, struct sc_error *err)
{
	return sc_error_set(err, SC_EXIT_UNREACHABLE,
		"connection to '%s' is unusable after an earlier error", c->addr);
}

/* Copies a server error message into buf without its final period, with every
 * occurrence of secret (may be NULL) masked. */
static void server_message(const char *msg, const char *secret, char *buf, size_t size)
{
	size_t slen = secret ? strlen(secret) : 0;
	struct strbuf sb;

	strbuf_init(&sb, buf, size);
	while (*msg && !sb.truncated) {
		if (slen && strncmp(msg, secret, slen) == 0) {
			strbuf_addf(&sb, "***");
			msg += slen;
		} else {
			strbuf_addf(&sb, "%c", *msg++);
		}
	}
	while (sb.len > 0 && (buf[sb.len - 1] == '.' || buf[sb.len - 1] == ' '))
		buf[--sb.len] = '\0'; /* our messages end without a period */
}

static int conn_auth(struct conn *c, const struct conn_opts *opts, struct sc_error *err)
{
	const char *argv[3];
	int argc = 0;
	redisReply *reply;
	char msg[512];

	argv[argc++] = "AUTH";
	if (opts->user)
		argv[argc++] = opts->user;
	argv[argc++] = opts->pass;
	reply = conn_command_argv(c, argc, argv, NULL, err);
	if (!reply)
		return -1;
	if (reply->type == REDIS_REPLY_ERROR) {
		server_message(reply->str, opts->pass, msg, sizeof(msg));
		freeReplyObject(reply);
		return sc_error_set(err, SC_EXIT_UNREACHABLE,
			"cannot log in to '%s': authentication failed: %s", c->addr, msg);
	}
	freeReplyObject(reply);
	return 0;
}

/* Speaks TLS on c's fresh connection: the handshake within connect_ms, then
 * one round trip (PING; before AUTH, so NOAUTH is a fine answer), because a
 * TLS 1.3 server judges the client's certificate after the client thinks
 * the handshake done, and says so only in its next record. */
static int conn_start_tls(struct conn *c, const struct conn_opts *opts, int connect_ms,
	struct sc_error *err)
{
	struct sc_error ping = { 0 };
	char cause[200];
	redisReply *reply;

	if (tls_session_open(c->ctx->fd, c->host, &opts->tls, sc_clock_ms() + connect_ms, &c->tls,
		cause, sizeof(cause)) != 0) {
		tls_cause_bound(cause, sizeof(cause), connect_ms);
		return sc_error_set(err, SC_EXIT_UNREACHABLE, "cannot reach '%s': %s", c->addr, cause);
	}
	reply = conn_command(c, &ping, "PING");
	if (!reply) {
		/* "no reply from 'addr': CAUSE" becomes "cannot reach 'addr': CAUSE" */
		const char *why = strstr(ping.msg, "': ");

		return sc_error_set(err, ping.code, "cannot reach '%s': %s", c->addr, why ? why + 3 : ping.msg);
	}
	freeReplyObject(reply); /* any reply, NOAUTH too, says the session stands */
	return 0;
}

int conn_open(const char *host, int port, const struct conn_opts *opts,
	struct conn **out, struct sc_error *err)
{
	static pthread_once_t sigpipe_once = PTHREAD_ONCE_INIT;
	int connect_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : SC_DEFAULT_TIMEOUT_MS;
	int command_ms = opts->command_timeout_ms > 0 ? opts->command_timeout_ms : SC_DEFAULT_TIMEOUT_MS;
	struct conn *c;
	struct resolved where;
	char cause[200];
	int errnum = 0;

	pthread_once(&sigpipe_once, ignore_sigpipe_once);
	c = calloc(1, sizeof(*c));
	if (!c)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
	snprintf(c->host, sizeof(c->host), "%s", host);
	c->port = port;
	addr_format(c->addr, sizeof(c->addr), host, port);
	c->command_timeout_ms = command_ms;
	c->socket_bound_ms = command_ms;
	conn_set_reply_limit(c, 0, 0);

	if (resolve_host(host, connect_ms, &where, err) != 0) {
		sc_error_prefix(err, "cannot reach '%s'", c->addr);
		conn_close(c);
		return -1;
	}
	/* each address in turn, as hiredis does with a name */
	for (int i = 0; i < where.count && (!c->ctx || c->ctx->err); i++) {
		if (c->ctx)
			redisFree(c->ctx);
		errno = 0;
		c->ctx = redisConnectWithTimeout(where.addr[i], port, ms_to_timeval(connect_ms));
		errnum = errno;
	}
	if (!c->ctx || c->ctx->err) {
		describe_io_error(c->ctx, errnum, connect_ms, cause, sizeof(cause));
		sc_error_set(err, SC_EXIT_UNREACHABLE, "cannot reach '%s': %s", c->addr, cause);
		conn_close(c);
		return -1;
	}
	if (redisSetTimeout(c->ctx, ms_to_timeval(command_ms)) != REDIS_OK) {
		sc_error_set(err, SC_EXIT_UNREACHABLE, "cannot reach '%s': cannot set a timeout: %s",
			c->addr, c->ctx->errstr);
		conn_close(c);
		return -1;
	}
	budget_attach(c);
	if (opts->tls.enabled && conn_start_tls(c, opts, connect_ms, err) != 0) {
		conn_close(c);
		return -1;
	}
	if (opts->pass && conn_auth(c, opts, err) < 0) {
		conn_close(c);
		return -1;
	}
	*out = c;
	return 0;
}

bool conn_tls_resumed(const struct conn *c)
{
	return c->tls && tls_session_resumed(c->tls);
}

void conn_close(struct conn *c)
{
	if (!c)
		return;
	tls_session_close(c->tls);
	if (c->ctx)
		redisFree(c->ctx);
	free(c);
}

const char *conn_addr(const struct conn *c)
{
	return c->addr;
}

const char *conn_host(const struct conn *c)
{
	return c->host;
}

int conn_port(const struct conn *c)
{
	return c->port;
}

int conn_append_argv(struct conn *c, int argc, const char **argv,
	const size_t *argvlen, struct sc_error *err)
{
	if (c->broken)
		return conn_refuse_broken(c, err);
	errno = 0;
	if (redisAppendCommandArgv(c->ctx, argc, argv, argvlen) != REDIS_OK)
		return conn_fail(c, errno, err);
	return 0;
}

static int conn_vappend(struct conn *c, struct sc_error *err, const char *fmt, va_list ap)
{
	if (c->broken)
		return conn_refuse_broken(c, err);
	errno = 0;
	if (redisvAppendCommand(c->ctx, fmt, ap) != REDIS_OK)
		return conn_fail(c, errno, err);
	return 0;
}

int conn_append(struct conn *c, struct sc_error *err, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = conn_vappend(c, err, fmt, ap);
	va_end(ap);
	return rc;
}

redisReply *conn_get_reply(struct conn *c, struct sc_error *err)
{
	if (c->broken) {
		conn_refuse_broken(c, err);
		return NULL;
	}
	return read_reply(c, err);
}

int conn_flush(struct conn *c, struct sc_error *err)
{
	if (c->broken)
		return conn_refuse_broken(c, err);
	if (write_queued(c, sc_clock_ms() + c->command_timeout_ms, err) != 0)
		return -1;
	if (unbound(c) != 0)
		return conn_fail(c, errno, err);
	return 0;
}

redisReply *conn_command_argv(struct conn *c, int argc, const char **argv,
	const size_t *argvlen, struct sc_error *err)
{
	if (conn_append_argv(c, argc, argv, argvlen, err) < 0)
		return NULL;
	return conn_get_reply(c, err);
}

redisReply *conn_vcommand(struct conn *c, struct sc_error *err, const char *fmt, va_list ap)
{
	if (conn_vappend(c, err, fmt, ap) < 0)
		return NULL;
	return conn_get_reply(c, err);
}

redisReply *conn_command(struct conn *c, struct sc_error *err, const char *fmt, ...)
{
	redisReply *reply;
	va_list ap;

	va_start(ap, fmt);
	reply = conn_vcommand(c, err, fmt, ap);
	va_end(ap);
	return reply;
}

int conn_set_timeout(struct conn *c, int timeout_ms, struct sc_error *err)
{
	if (c->broken)
		return conn_refuse_broken(c, err);
	if (timeout_ms <= 0)
		return sc_error_set(err, SC_EXIT_USAGE, "timeout for '%s' must be positive, not %d ms",
			c->addr, timeout_ms);
	if (redisSetTimeout(c->ctx, ms_to_timeval(timeout_ms)) != REDIS_OK)
		return conn_fail(c, errno, err);
	c->command_timeout_ms = timeout_ms;
	c->socket_bound_ms = timeout_ms;
	return 0;
}

struct transport_note conn_tls_note(const struct conn_tls_opts *o)
{
	struct transport_note t = { .recorded = true, .tls = o->enabled };

	t.given[TRANSPORT_CACERT] = o->cacert != NULL;
	t.given[TRANSPORT_CACERTDIR] = o->cacertdir != NULL;
	t.given[TRANSPORT_CERT] = o->cert != NULL;
	t.given[TRANSPORT_KEY] = o->key != NULL;
	t.given[TRANSPORT_SNI] = o->sni != NULL;
	t.given[TRANSPORT_INSECURE] = o->insecure;
	return t;
}

void conn_set_reply_limit(struct conn *c, size_t max_bytes, size_t max_elements)
{
	c->max_bytes = max_bytes ? max_bytes : CONN_REPLY_MAX_BYTES;
	c->max_elements = max_elements ? max_elements : CONN_REPLY_MAX_ELEMENTS;
}

int conn_broken(const struct conn *c)
{
	return c->broken;
}

int conn_take_integer(struct conn *c, redisReply *reply, const char *what, long long *out,
	struct sc_error *err)
{
	int rc = conn_reply_count(c, reply, what, out, err);

	if (reply)
		freeReplyObject(reply);
	return rc;
}

int conn_reply_count(struct conn *c, const redisReply *reply, const char *what, long long *out,
	struct sc_error *err)
{
	if (conn_check_reply(c, reply, what, err) != 0)
		return -1;
	if (reply->type != REDIS_REPLY_INTEGER)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' replied to %s with a non-integer, not a count",
			c->addr, what);
	if (reply->integer < 0 || reply->integer > CONN_MAX_COUNT)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' replied to %s with %lld, not a count",
			c->addr, what, reply->integer);
	*out = reply->integer;
	return 0;
}

int conn_check_reply(struct conn *c, const redisReply *reply, const char *what, struct sc_error *err)
{
	char msg[512];

	if (!reply) {
		if (err && err->code)
			return -1;
		return sc_error_set(err, SC_EXIT_UNREACHABLE, "no reply from '%s' to %s", c->addr, what);
	}
	if (reply->type != REDIS_REPLY_ERROR)
		return 0;
	server_message(reply->str, NULL, msg, sizeof(msg));
	/* a missing or wrong password is an authentication problem, not a failed command */
	if (strncmp(reply->str, "NOAUTH", 6) == 0 || strncmp(reply->str, "WRONGPASS", 9) == 0)
		return sc_error_set(err, SC_EXIT_UNREACHABLE,
			"'%s' replied to %s: %s (give --pass, --pass-file or --askpass, or set REDISCLI_AUTH)", c->addr,
			what, msg);
	return sc_error_set(err, SC_EXIT_PROBLEMS, "'%s' replied to %s: %s", c->addr, what, msg);
}
