/* tls_certs.c: a throwaway CA and the certificates it signs (see
 * slotctl/io/tls_certs.h), for `sandbox up --tls` and the TLS tests. EC
 * P-256 keys: made in microseconds, where RSA keys take a tenth of a second
 * each. Files are written with file_write (temporary file, rename). */
#include "slotctl/io/tls_certs.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "slotctl/core/exitcode.h"
#include "slotctl/io/file_text.h"

#define TLS_CERTS_CA_DAYS 3650L

/* Writes what PEM_write_bio_* put in bio to <dir>/<name><ext>. */
static int write_pem(BIO *bio, const char *dir, const char *name, const char *ext, struct sc_error *err)
{
	char path[4096], *data = NULL, *text;
	long n = BIO_get_mem_data(bio, &data);
	int rc;

	snprintf(path, sizeof(path), "%s/%s%s", dir, name, ext);
	text = n > 0 ? strndup(data, (size_t)n) : NULL;
	if (!text)
		return sc_error_set(err, SC_EXIT_PROBLEMS, "cannot write '%s': out of memory", path);
	rc = file_write(path, "certificate file", text, err);
	free(text);
	return rc;
}

/* Writes cert and key as <dir>/<name>.crt and .key. */
static int write_pair(X509 *cert, EVP_PKEY *key, const char *dir, const char *name, struct sc_error *err)
{
	BIO *c = BIO_new(BIO_s_mem()), *k = BIO_new(BIO_s_mem());
	int rc = -1;

	if (!c || !k || PEM_write_bio_X509(c, cert) != 1 || PEM_write_bio_PrivateKey(k, key, NULL, NULL, 0, NULL, NULL) != 1)
		sc_error_set(err, SC_EXIT_PROBLEMS, "cannot encode the certificate '%s': out of memory", name);
	else if (write_pem(c, dir, name, ".crt", err) == 0 && write_pem(k, dir, name, ".key", err) == 0)
		rc = 0;
	BIO_free(c);
	BIO_free(k);
	return rc;
}

/* Reads <dir>/<name>.crt and .key. */
static int read_pair(const char *dir, const char *name, X509 **cert, EVP_PKEY **key, struct sc_error *err)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.crt", dir, name);
	f = fopen(path, "r");
	*cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "%s/%s.key", dir, name);
	f = *cert ? fopen(path, "r") : NULL;
	*key = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	if (*cert && *key)
		return 0;
	X509_free(*cert);
	return sc_error_set(err, SC_EXIT_USAGE, "cannot read the CA '%s/%s.crt' and its key", dir, name);
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	ok = ext && X509_add_ext(cert, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* "IP:127.0.0.1,DNS:node-1" from sans. */
static int san_list(const char *const *sans, char *buf, size_t size)
{
	size_t n = 0;
	unsigned char ip[16];

	buf[0] = '\0';
	for (int i = 0; sans && sans[i]; i++) {
		bool is_ip = inet_pton(AF_INET, sans[i], ip) == 1 || inet_pton(AF_INET6, sans[i], ip) == 1;
		int w = snprintf(buf + n, size - n, "%s%s:%s", n ? "," : "", is_ip ? "IP" : "DNS", sans[i]);

		if (w < 0 || (size_t)w >= size - n)
			return -1;
		n += (size_t)w;
	}
	return 0;
}

/* A new certificate for key, subject CN=cn, valid from now + from_s to
 * now + to_s, with a random serial; NULL when out of memory. */
static X509 *cert_new(EVP_PKEY *key, const char *cn, long from_s, long to_s)
{
	X509 *cert = X509_new();
	unsigned char serial[16];
	BIGNUM *bn = NULL;
	X509_NAME *subject;

	if (!cert || RAND_bytes(serial, sizeof(serial)) != 1)
		goto fail;
	serial[0] &= 0x7f; /* positive */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	subject = X509_get_subject_name(cert);
	if (!bn || X509_set_version(cert, 2) != 1 || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert))
		|| !X509_gmtime_adj(X509_getm_notBefore(cert), from_s) || !X509_gmtime_adj(X509_getm_notAfter(cert), to_s)
		|| X509_set_pubkey(cert, key) != 1
		|| X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) != 1)
		goto fail;
	BN_free(bn);
	return cert;
fail:
	BN_free(bn);
	X509_free(cert);
	return NULL;
}

int tls_certs_make_ca(const char *dir, const char *name, struct sc_error *err)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = key ? cert_new(key, name, -3600, TLS_CERTS_CA_DAYS * 86400) : NULL;
	int rc = -1;

	if (!cert || X509_set_issuer_name(cert, X509_get_subject_name(cert)) != 1
		|| add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE") != 0
		|| add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign") != 0
		|| add_ext(cert, cert, NID_subject_key_identifier, "hash") != 0
		|| X509_sign(cert, key, EVP_sha256()) == 0)
		sc_error_set(err, SC_EXIT_PROBLEMS, "cannot make the CA '%s': out of memory", name);
	else
		rc = write_pair(cert, key, dir, name, err);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

int tls_certs_make(const char *dir, const char *ca, const char *name, const char *const *sans,
	long from_s, long to_s, struct sc_error *err)
{
	X509 *ca_cert = NULL, *cert = NULL;
	EVP_PKEY *ca_key = NULL, *key = NULL;
	char names[2048];
	int rc = -1;

	if (san_list(sans, names, sizeof(names)) != 0)
		return sc_error_set(err, SC_EXIT_USAGE, "too many names for the certificate '%s'", name);
	if (read_pair(dir, ca, &ca_cert, &ca_key, err) != 0)
		return -1;
	key = EVP_EC_gen("P-256");
	cert = key ? cert_new(key, name, from_s, to_s) : NULL;
	if (!cert || X509_set_issuer_name(cert, X509_get_subject_name(ca_cert)) != 1
		|| add_ext(cert, ca_cert, NID_basic_constraints, "critical,CA:FALSE") != 0
		|| add_ext(cert, ca_cert, NID_key_usage, "critical,digitalSignature,keyEncipherment") != 0
		|| add_ext(cert, ca_cert, NID_ext_key_usage, "serverAuth,clientAuth") != 0
		|| (names[0] && add_ext(cert, ca_cert, NID_subject_alt_name, names) != 0)
		|| X509_sign(cert, ca_key, EVP_sha256()) == 0)
		sc_error_set(err, SC_EXIT_PROBLEMS, "cannot make the certificate '%s'", name);
	else
		rc = write_pair(cert, key, dir, name, err);
	X509_free(cert);
	EVP_PKEY_free(key);
	X509_free(ca_cert);
	EVP_PKEY_free(ca_key);
	return rc;
}
