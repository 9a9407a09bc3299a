/* tls.c: TLS under the transport, on OpenSSL (Debian's hiredis 0.14 has
 * none). conn.c owns the socket and hiredis's RESP reader and command
 * formatter; this file owns the TLS session on that socket: the client
 * context (made once per set of options and kept for the process), the
 * handshake, and every read and write, each bounded by a deadline with
 * poll() on a non-blocking socket, so neither a server that stalls in the
 * handshake nor one that dribbles records can hold a call past it. The
 * sessions servers hand out are kept per context, name and port, so that
 * the next connection to the same server resumes (no certificates sent,
 * signed or checked again: the mover opens a few hundred). Failures
 * are put in plain words: unknown CA, expired, name mismatch, a server that
 * wants a client certificate, one that does not speak TLS at all. */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "slotctl/core/exitcode.h"
#include "slotctl/io/clock.h"
#include "slotctl/io/file_text.h"

/* The largest CA bundle, certificate chain or key file read (Debian's
 * whole CA bundle is about 200 KiB) */
#define TLS_FILE_MAX (4u << 20)

/* The length of a session cache key: the name dialled or sent as SNI, and the port */
#define TLS_PEER_KEY_MAX 300

struct tls_session {
	SSL *ssl;
	int fd;
	SSL_CTX *ctx;
	char peer[TLS_PEER_KEY_MAX]; /* its key in the session cache */
	bool has_cert; /* a client certificate was offered */
	bool asked;    /* the server asked for one and we had none */
	bool answered; /* a read has succeeded since the handshake */
	char expired[64]; /* when the server's expired certificate ran out */
};

/* ---- client contexts, one per distinct set of options, kept until exit
 * (reachable from this table, so never a leak) ---- */

#define TLS_MAX_CONTEXTS 8

struct tls_context {
	char *key; /* the options, joined */
	SSL_CTX *ctx;
};

static struct tls_context contexts[TLS_MAX_CONTEXTS];
static int context_count;
static pthread_mutex_t context_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- resumable sessions, one per context, server name and port, kept
 * until exit or replaced by a newer one from the same server; a session
 * is only ever offered to the server, under the name, and with the
 * verification settings it was made with and checked under. ---- */

#define TLS_MAX_SESSIONS 256

struct tls_cached {
	SSL_CTX *ctx;
	char peer[TLS_PEER_KEY_MAX];
	SSL_SESSION *sess;
};

static struct tls_cached sessions[TLS_MAX_SESSIONS];
static size_t session_count, session_next;
static pthread_mutex_t session_lock = PTHREAD_MUTEX_INITIALIZER;

static struct tls_cached *session_slot(SSL_CTX *ctx, const char *peer)
{
	for (size_t i = 0; i < session_count; i++)
		if (sessions[i].ctx == ctx && strcmp(sessions[i].peer, peer) == 0)
			return &sessions[i];
	return NULL;
}

/* OpenSSL's new-session callback: keeps a resumable session the server sent
 * (in TLS 1.3 after the handshake, met by the first read). Returns 1: the
 * reference is ours. */
static int session_keep(SSL *ssl, SSL_SESSION *sess)
{
	const struct tls_session *s = SSL_get_app_data(ssl);
	struct tls_cached *slot;

	if (!s || !SSL_SESSION_is_resumable(sess)) {
		SSL_SESSION_free(sess);
		return 1;
	}
	pthread_mutex_lock(&session_lock);
	if (!(slot = session_slot(s->ctx, s->peer))) {
		if (session_count < TLS_MAX_SESSIONS)
			slot = &sessions[session_count++];
		else /* full: the oldest made way */
			slot = &sessions[session_next++ % TLS_MAX_SESSIONS];
		slot->ctx = s->ctx;
		snprintf(slot->peer, sizeof(slot->peer), "%s", s->peer);
	}
	SSL_SESSION_free(slot->sess);
	slot->sess = sess;
	pthread_mutex_unlock(&session_lock);
	return 1;
}

/* Offers the kept session of s's server, if any (a server that no longer
 * knows it makes a full handshake instead). */
static void session_offer(struct tls_session *s)
{
	struct tls_cached *slot;

	pthread_mutex_lock(&session_lock);
	if ((slot = session_slot(s->ctx, s->peer)) && slot->sess)
		SSL_set_session(s->ssl, slot->sess); /* takes its own reference */
	pthread_mutex_unlock(&session_lock);
}

/* A key file with a passphrase is refused rather than prompted for: no
 * call may wait for a person below the command layer. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return 0;
}

/* Called when the server asks for a client certificate and none was
 * given: noted, so that its closing the connection right after the
 * handshake (TLS 1.3 judges the client late) is named for what it is. */
static int client_cert_asked(SSL *ssl, X509 **x509, EVP_PKEY **pkey)
{
	struct tls_session *s = SSL_get_app_data(ssl);

	(void)x509, (void)pkey;
	if (s)
		s->asked = true;
	return 0;
}

/* Notes when an expired certificate of the server's chain ran out, for the
 * message (once the handshake has failed, the peer's certificate is gone).
 * Decides nothing: OpenSSL's verdict stands. */
static int note_expiry(int ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls_session *s = ssl ? SSL_get_app_data(ssl) : NULL;
	X509 *cert = X509_STORE_CTX_get_current_cert(store);
	BIO *bio;
	char *data;
	long n;

	if (ok || !s || !cert || X509_STORE_CTX_get_error(store) != X509_V_ERR_CERT_HAS_EXPIRED || s->expired[0])
		return ok;
	bio = BIO_new(BIO_s_mem());
	if (bio && ASN1_TIME_print(bio, X509_get0_notAfter(cert)) == 1) {
		n = BIO_get_mem_data(bio, &data);
		snprintf(s->expired, sizeof(s->expired), "%.*s", (int)(n > 0 && n < 60 ? n : 0), data);
	}
	BIO_free(bio);
	return ok;
}

/* The last OpenSSL error as lowercase words, and the queue emptied. */
static const char *openssl_words(char *buf, size_t size)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	snprintf(buf, size, "%s", r ? r : "unknown error");
	ERR_clear_error();
	return buf;
}

static int context_fail(SSL_CTX *ctx, struct sc_error *err, const char *what, const char *file)
{
	char why[160];

	openssl_words(why, sizeof(why));
	SSL_CTX_free(ctx);
	return sc_error_set(err, SC_EXIT_USAGE, "cannot use %s '%s': %s", what, file, why);
}

/* The CA certificates (and CRLs) of bio into ctx's store. */
static int use_ca(SSL_CTX *ctx, BIO *bio)
{
	STACK_OF(X509_INFO) *infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	int added = 0, ok = infos != NULL;

	for (int i = 0; ok && i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *info = sk_X509_INFO_value(infos, i);

		if (info->x509 && (ok = X509_STORE_add_cert(store, info->x509)) == 1)
			added++;
		if (ok && info->crl && (ok = X509_STORE_add_crl(store, info->crl)) == 1)
			added++;
	}
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	if (ok && !added)
		ERR_raise(ERR_LIB_X509, X509_R_NO_CERTIFICATE_OR_CRL_FOUND);
	return ok && added;
}

/* The client certificate of bio, then the chain that follows it. */
static int use_cert(SSL_CTX *ctx, BIO *bio)
{
	X509 *cert = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
	int ok = cert && SSL_CTX_use_certificate(ctx, cert) == 1 && SSL_CTX_clear_chain_certs(ctx) == 1;

	X509_free(cert);
	while (ok && (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (!(ok = SSL_CTX_add0_chain_cert(ctx, cert) == 1))
			X509_free(cert);
	if (ok && ERR_GET_REASON(ERR_peek_last_error()) == PEM_R_NO_START_LINE)
		ERR_clear_error(); /* the end of the file */
	return ok;
}

/* The key of bio, unencrypted; a key that is not the certificate's is
 * left to SSL_CTX_check_private_key, which says so in words. */
static int use_key(SSL_CTX *ctx, BIO *bio)
{
	EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	int ok = key && (SSL_CTX_use_PrivateKey(ctx, key) == 1 ||
		ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH);

	EVP_PKEY_free(key);
	return ok;
}

/* Gives ctx the PEM file at path (option what) through use. The file is
 * read with file_read, bounded: a regular file of at most TLS_FILE_MAX
 * bytes (a FIFO would hang OpenSSL's own reading, a huge file take its
 * time); a key's bytes are wiped once used. 0, or -1 with err (ctx freed). */
static int use_file(SSL_CTX *ctx, const char *what, const char *path, int (*use)(SSL_CTX *, BIO *),
	struct sc_error *err)
{
	struct sc_error e = { 0 };
	char *text;
	size_t len;
	BIO *bio;
	int ok;

	if (file_read(path, what, TLS_FILE_MAX, 0, &text, &len, &e) != 0) {
		const char *why = strstr(e.msg, "': "); /* "cannot read WHAT 'PATH': WHY" */

		SSL_CTX_free(ctx);
		return sc_error_set(err, e.code, "cannot use %s '%s': %s", what, path, why ? why + 3 : e.msg);
	}
	bio = BIO_new_mem_buf(text, (int)len);
	ok = bio && use(ctx, bio);
	BIO_free(bio);
	OPENSSL_cleanse(text, len);
	free(text);
	return ok ? 0 : context_fail(ctx, err, what, path);
}

/* Makes the client context of o: CA (o's or the system's), client
 * certificate and key, verification. */
static int context_make(const struct conn_tls_opts *o, SSL_CTX **out, struct sc_error *err)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "cannot start TLS: out of memory");
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(ctx, o->insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, note_expiry);
	SSL_CTX_set_client_cert_cb(ctx, client_cert_asked);
	/* read what the socket holds, not a record header then its body: half
	 * the reads (nothing here looks at the socket past SSL_read, whose
	 * WANT_READ alone sends us to poll) */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, session_keep);
	if (o->cacert && use_file(ctx, "--cacert", o->cacert, use_ca, err) != 0)
		return -1;
	if (o->cacertdir && SSL_CTX_load_verify_locations(ctx, NULL, o->cacertdir) != 1)
		return context_fail(ctx, err, "--cacertdir", o->cacertdir);
	if (!o->cacert && !o->cacertdir && SSL_CTX_set_default_verify_paths(ctx) != 1)
		return context_fail(ctx, err, "the system's CA store", "default");
	if (o->cert && use_file(ctx, "--cert", o->cert, use_cert, err) != 0)
		return -1;
	if (o->key && use_file(ctx, "--key (an unencrypted PEM key)", o->key, use_key, err) != 0)
		return -1;
	if (o->cert && o->key && SSL_CTX_check_private_key(ctx) != 1) {
		SSL_CTX_free(ctx);
		ERR_clear_error();
		return sc_error_set(err, SC_EXIT_USAGE, "--key '%s' is not the key of --cert '%s'", o->key, o->cert);
	}
	*out = ctx;
	return 0;
}

static void context_key(const struct conn_tls_opts *o, char *buf, size_t size)
{
	snprintf(buf, size, "%s\n%s\n%s\n%s\n%d", o->cacert ? o->cacert : "", o->cacertdir ? o->cacertdir : "",
		o->cert ? o->cert : "", o->key ? o->key : "", o->insecure);
}

/* The context of o, made on first use. 0 and *out, or -1 with err. */
static int context_get(const struct conn_tls_opts *o, SSL_CTX **out, struct sc_error *err)
{
	char key[4 * 4096 + 8];
	int rc = 0, i;

	context_key(o, key, sizeof(key));
	pthread_mutex_lock(&context_lock);
	for (i = 0; i < context_count && strcmp(contexts[i].key, key) != 0; i++)
		;
	if (i < context_count) {
		*out = contexts[i].ctx;
	} else if (context_count == TLS_MAX_CONTEXTS) {
		rc = sc_error_set(err, SC_EXIT_PROBLEMS, "more than %d sets of TLS options", TLS_MAX_CONTEXTS);
	} else if ((rc = context_make(o, out, err)) == 0) {
		contexts[context_count].key = strdup(key);
		if (!contexts[context_count].key) {
			SSL_CTX_free(*out);
			rc = sc_error_set(err, SC_EXIT_PROBLEMS, "out of memory");
		} else {
			contexts[context_count++].ctx = *out;
		}
	}
	pthread_mutex_unlock(&context_lock);
	return rc;
}

int conn_tls_check(const struct conn_tls_opts *o, struct sc_error *err)
{
	SSL_CTX *ctx;

	if (!o->enabled)
		return 0;
	if ((o->cert != NULL) != (o->key != NULL))
		return sc_error_set(err, SC_EXIT_USAGE, "--cert and --key go together: give both or neither");
	return context_get(o, &ctx, err);
}

/* ---- bounded I/O ---- */

/* Waits until p is ready before deadline. 0; -1 with errno ETIMEDOUT once
 * the deadline has passed, or poll's errno. */
static int wait_fd(struct pollfd *p, long long deadline)
{
	for (;;) {
		long long left = deadline - sc_clock_ms();
		int n;

		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = poll(p, 1, left > 3600000 ? 3600000 : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* Waits until the session's socket is ready for what SSL asked (error is
 * SSL_get_error's), before deadline. 0, or -1 with cause. */
static int wait_ready(const struct tls_session *s, int error, long long deadline, const char *during,
	char *cause, size_t size)
{
	struct pollfd p = { s->fd, error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, 0 };

	if (wait_fd(&p, deadline) == 0)
		return 0;
	if (errno == ETIMEDOUT)
		snprintf(cause, size, "timed out%s", during);
	else
		snprintf(cause, size, "%s", strerror(errno));
	return -1;
}

/* Whether the server on fd's other end answers a plaintext PING on a
 * second connection before deadline: a plaintext Redis that got a TLS hello
 * waits for a line end that never comes (the hello holds NUL bytes before
 * any), so a handshake that goes unanswered is asked this once, to tell a
 * server that does not speak TLS from one that stalls. */
static bool answers_plaintext(int fd, long long deadline)
{
	static const char ping[] = "PING\r\n";
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	struct pollfd p = { -1, POLLOUT, 0 };
	char buf[16];
	bool plain = false;
	ssize_t n = 0;
	int soerr = 0;

	if (getpeername(fd, (struct sockaddr *)&sa, &len) != 0)
		return false;
	p.fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p.fd < 0)
		return false;
	if (connect(p.fd, (struct sockaddr *)&sa, len) != 0 && errno != EINPROGRESS)
		goto out;
	len = sizeof(soerr);
	if (wait_fd(&p, deadline) != 0 || getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr)
		goto out;
	if (send(p.fd, ping, sizeof(ping) - 1, MSG_NOSIGNAL) != (ssize_t)sizeof(ping) - 1)
		goto out;
	p.events = POLLIN;
	if (wait_fd(&p, deadline) == 0)
		n = recv(p.fd, buf, sizeof(buf), 0);
	plain = n > 0 && (buf[0] == '+' || buf[0] == '-');
out:
	close(p.fd);
	return plain;
}

static bool is_ip(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* Why the certificate check failed, in words. */
static void verify_words(const struct tls_session *s, long v, const char *name, char *cause, size_t size)
{
	switch (v) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		snprintf(cause, size, "the server's certificate is signed by an unknown CA "
			"(give --cacert or --cacertdir with the CA that signed it)");
		break;
	case X509_V_ERR_CERT_HAS_EXPIRED:
		snprintf(cause, size, "the server's certificate expired%s%s", s->expired[0] ? " on " : "", s->expired);
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		snprintf(cause, size, "the server's certificate is not valid yet (check the clocks)");
		break;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		snprintf(cause, size, "name mismatch: the server's certificate is not for '%s' "
			"(connect by a name it carries, or give --sni with one)", name);
		break;
	default:
		snprintf(cause, size, "the server's certificate was refused: %s", X509_verify_cert_error_string(v));
	}
}

/* Words for an OpenSSL failure during the handshake or a later read: the
 * server's alert, or the sign that it does not speak TLS. */
static void failure_words(const struct tls_session *s, int ssl_error, const char *during, char *cause,
	size_t size)
{
	unsigned long e = ERR_peek_last_error();
	int reason = ERR_GET_REASON(e);
	char why[160];

	bool gone = ssl_error == SSL_ERROR_ZERO_RETURN || reason == SSL_R_UNEXPECTED_EOF_WHILE_READING
		|| (ssl_error == SSL_ERROR_SYSCALL && !e && (errno == 0 || errno == ECONNRESET || errno == EPIPE));

	if (gone && !s->answered && s->asked) {
		snprintf(cause, size, "the server wants a client certificate (give --cert and --key)");
	} else if (gone && !s->answered && s->has_cert && SSL_is_init_finished(s->ssl)) {
		snprintf(cause, size, "the server closed the connection right after the TLS handshake "
			"(did it refuse the client certificate?)");
	} else if (ssl_error == SSL_ERROR_ZERO_RETURN || (ssl_error == SSL_ERROR_SYSCALL && !e && errno == 0)
		|| reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		snprintf(cause, size, "connection closed by the server%s", during);
	} else if (ssl_error == SSL_ERROR_SYSCALL && !e) {
		snprintf(cause, size, "%s%s", errno == ECONNRESET ? "connection reset by peer" : strerror(errno),
			during);
	} else if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_UNKNOWN_PROTOCOL
		|| reason == SSL_R_PACKET_LENGTH_TOO_LONG || reason == SSL_R_RECORD_LENGTH_MISMATCH
		|| reason == SSL_R_HTTP_REQUEST || reason == SSL_R_UNSUPPORTED_PROTOCOL) {
		snprintf(cause, size, "the server does not speak TLS (a plaintext port? leave out --tls)");
	} else if (reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED
		|| (!s->has_cert && reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE)) {
		snprintf(cause, size, "the server wants a client certificate (give --cert and --key)");
	} else if (s->has_cert && (reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA
		|| reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE || reason == SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED
		|| reason == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN || reason == SSL_R_TLSV1_ALERT_DECRYPT_ERROR)) {
		snprintf(cause, size, "the server refused the client certificate (%s)", openssl_words(why, sizeof(why)));
	} else {
		snprintf(cause, size, "TLS failed%s: %s", during, openssl_words(why, sizeof(why)));
	}
	ERR_clear_error();
}

/* Names the server is checked against and sends as SNI. */
static int session_names(SSL *ssl, const char *host, const struct conn_tls_opts *o, char *cause, size_t size)
{
	const char *name = o->sni ? o->sni : host;
	X509_VERIFY_PARAM *param = SSL_get0_param(ssl);

	if ((o->sni || !is_ip(host)) && SSL_set_tlsext_host_name(ssl, name) != 1) {
		snprintf(cause, size, "cannot send '%s' as the TLS server name", name);
		return -1;
	}
	if (o->insecure)
		return 0;
	X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (is_ip(name) ? X509_VERIFY_PARAM_set1_ip_asc(param, name) != 1 : SSL_set1_host(ssl, name) != 1) {
		snprintf(cause, size, "cannot check the server's certificate against '%s'", name);
		return -1;
	}
	return 0;
}

/* The session cache key of a connection on fd: the name checked (SNI or
 * the host dialled) and the server's port. */
static void peer_key(int fd, const char *host, const struct conn_tls_opts *o, char *buf, size_t size)
{
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	int port = 0;

	if (getpeername(fd, (struct sockaddr *)&sa, &len) == 0)
		port = sa.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&sa)->sin6_port)
						: ntohs(((struct sockaddr_in *)&sa)->sin_port);
	snprintf(buf, size, "%s\n%s\n%d", host, o->sni ? o->sni : "", port);
}

int tls_session_open(int fd, const char *host, const struct conn_tls_opts *o, long long deadline,
	struct tls_session **out, char *cause, size_t size)
{
	static const char during[] = " during the TLS handshake (is it a TLS port?)";
	struct sc_error err = { 0 };
	struct tls_session *s;
	SSL_CTX *ctx;
	int flags = fcntl(fd, F_GETFL);
	long long probe_at = sc_clock_ms() + (deadline - sc_clock_ms()) / 2;

	if (context_get(o, &ctx, &err) != 0) {
		snprintf(cause, size, "%s", err.msg);
		return -1;
	}
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
		snprintf(cause, size, "cannot make the socket non-blocking: %s", strerror(errno));
		return -1;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->ssl = SSL_new(ctx))) {
		free(s);
		snprintf(cause, size, "out of memory");
		return -1;
	}
	s->fd = fd;
	s->ctx = ctx;
	s->has_cert = o->cert != NULL;
	peer_key(fd, host, o, s->peer, sizeof(s->peer));
	SSL_set_app_data(s->ssl, s);
	ERR_clear_error();
	if (SSL_set_fd(s->ssl, fd) != 1 || session_names(s->ssl, host, o, cause, size) != 0) {
		tls_session_close(s);
		return -1;
	}
	session_offer(s);
	for (;;) {
		int rc, e;

		errno = 0;
		rc = SSL_connect(s->ssl);
		if (rc == 1)
			break;
		e = SSL_get_error(s->ssl, rc);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			if (wait_ready(s, e, probe_at ? probe_at : deadline, during, cause, size) == 0)
				continue;
			if (probe_at && sc_clock_ms() < deadline) {
				probe_at = 0; /* half the time gone unanswered: ask once whether it speaks plaintext */
				if (!answers_plaintext(fd, deadline))
					continue;
				snprintf(cause, size, "the server does not speak TLS (it answers in plaintext: leave out --tls)");
			}
		} else if (SSL_get_verify_result(s->ssl) != X509_V_OK) {
			verify_words(s, SSL_get_verify_result(s->ssl), o->sni ? o->sni : host, cause, size);
		} else {
			failure_words(s, e, during, cause, size);
		}
		tls_session_close(s);
		return -1;
	}
	*out = s;
	return 0;
}

/* One read (writing false) or write of up to len bytes before deadline:
 * how many (> 0), or -1 with cause. */
static ssize_t session_io(struct tls_session *s, bool writing, void *buf, size_t len, long long deadline,
	char *cause, size_t size)
{
	int want = len > (1u << 20) ? 1 << 20 : (int)len;

	for (;;) {
		int n, e;

		errno = 0;
		n = writing ? SSL_write(s->ssl, buf, want) : SSL_read(s->ssl, buf, want);
		if (n > 0) {
			s->answered |= !writing;
			return n;
		}
		e = SSL_get_error(s->ssl, n);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			failure_words(s, e, "", cause, size);
			return -1;
		}
		if (wait_ready(s, e, deadline, "", cause, size) != 0)
			return -1;
	}
}

ssize_t tls_session_read(struct tls_session *s, void *buf, size_t len, long long deadline,
	char *cause, size_t size)
{
	return session_io(s, false, buf, len, deadline, cause, size);
}

ssize_t tls_session_write(struct tls_session *s, const void *buf, size_t len, long long deadline,
	char *cause, size_t size)
{
	return session_io(s, true, (void *)buf, len, deadline, cause, size);
}

bool tls_session_resumed(const struct tls_session *s)
{
	return s && SSL_session_reused(s->ssl) == 1;
}

void tls_session_close(struct tls_session *s)
{
	if (!s)
		return;
	if (SSL_is_init_finished(s->ssl))
		SSL_shutdown(s->ssl); /* non-blocking: sends close_notify if it can, waits for nothing */
	SSL_free(s->ssl);
	ERR_clear_error();
	free(s);
}
