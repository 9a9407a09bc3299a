/* tls_certs.h: throwaway certificates for the sandbox's TLS clusters and
 * the tests: a CA, and certificates it signs for servers and clients, made
 * with OpenSSL and written as PEM files (keys unencrypted, mode 0600).
 * Never for production: no revocation, no passphrase, short-lived keys. */
#ifndef SLOTCTL_TLS_CERTS_H
#define SLOTCTL_TLS_CERTS_H

#include "slotctl/core/error.h"

/* Makes a self-signed CA (an EC P-256 key, valid for 10 years from an hour
 * ago) as <dir>/<name>.crt and <dir>/<name>.key. Returns 0, or -1 with an
 * error naming the file. */
int tls_certs_make_ca(const char *dir, const char *name, struct sc_error *err);

/* Makes <dir>/<name>.crt and .key: an EC P-256 certificate whose subject
 * is CN=<name>, signed by the CA <dir>/<ca>.crt/.key, for server and client
 * use, naming each of sans (NULL-terminated; an IP address or a DNS name),
 * valid from now + from_s to now + to_s seconds (negative: in the past, for
 * an expired certificate). Returns 0, or -1 with an error naming the file. */
int tls_certs_make(const char *dir, const char *ca, const char *name, const char *const *sans,
	long from_s, long to_s, struct sc_error *err);

#endif
