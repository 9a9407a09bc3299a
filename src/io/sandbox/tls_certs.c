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
#define TLS_CERTS_FILE_MAX (64u << 10) /* a CA file this makes is under 1 KiB */

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

/* <dir>/<name><ext> in a memory BIO, the file read bounded (file_read: a
 * regular file of at most TLS_CERTS_FILE_MAX bytes); NULL when it cannot
 * be read. */
static BIO *pem_bio(const char *dir, const char *name, const char *ext)
{
	struct sc_error err = { 0 };
	char path[4096], *text;
	size_t len;
	BIO *bio;

	snprintf(path, sizeof(path), "%s/%s%s", dir, name, ext);
	if (file_read(path, "CA file", TLS_CERTS_FILE_MAX, 0, &text, &len, &err) != 0)
		return NULL;
	bio = BIO_new(BIO_s_mem()); /* freed, a memory BIO wipes its bytes */
	if (bio && BIO_write(bio, text, (int)len) != (int)len) {
		BIO_free(bio);
		bio = NULL;
	}
	OPENSSL_cleanse(text, len);
	free(text);
	return bio;
}

/* Reads <dir>/<name>.crt and .key. */
static int read_pair(const char *dir, const char *name, X509 **cert, EVP_PKEY **key, struct sc_error *err)
{
	BIO *c = pem_bio(dir, name, ".crt"), *k = pem_bio(dir, name, ".key");

	*cert = c ? PEM_read_bio_X509(c, NULL, NULL, NULL) : NULL;
	*key = k ? PEM_read_bio_PrivateKey(k, NULL, NULL, NULL) : NULL;
	BIO_free(c);
	BIO_free(k);
	if (*cert && *key)
		return 0;
	X509_free(*cert);
	EVP_PKEY_free(*key);
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

struct ext {
	int nid;
	const char *value; /* NULL: left out */
};

/* Makes <dir>/<name>.crt and .key: a new key, its certificate (cert_new)
 * with exts, issued and signed by issuer_cert/issuer_key, or self-signed
 * when issuer_cert is NULL. */
static int make_signed(const char *dir, const char *name, long from_s, long to_s, X509 *issuer_cert,
	EVP_PKEY *issuer_key, const struct ext *exts, size_t n, struct sc_error *err)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *cert = key ? cert_new(key, name, from_s, to_s) : NULL;
	X509 *issuer = issuer_cert ? issuer_cert : cert;
	bool ok = cert && X509_set_issuer_name(cert, X509_get_subject_name(issuer)) == 1;
	int rc = -1;

	for (size_t i = 0; ok && i < n; i++)
		ok = !exts[i].value || add_ext(cert, issuer, exts[i].nid, exts[i].value) == 0;
	if (!ok || X509_sign(cert, issuer_cert ? issuer_key : key, EVP_sha256()) == 0)
		sc_error_set(err, SC_EXIT_PROBLEMS, "cannot make the certificate '%s': out of memory", name);
	else
		rc = write_pair(cert, key, dir, name, err);
	X509_free(cert);
	EVP_PKEY_free(key);
	return rc;
}

int tls_certs_make_ca(const char *dir, const char *name, struct sc_error *err)
{
	const struct ext exts[] = {
		{ NID_basic_constraints, "critical,CA:TRUE" },
		{ NID_key_usage, "critical,keyCertSign,cRLSign" },
		{ NID_subject_key_identifier, "hash" },
	};

	return make_signed(dir, name, -3600, TLS_CERTS_CA_DAYS * 86400, NULL, NULL, exts, 3, err);
}

int tls_certs_make(const char *dir, const char *ca, const char *name, const char *const *sans,
	long from_s, long to_s, struct sc_error *err)
{
	char names[2048];
	const struct ext exts[] = {
		{ NID_basic_constraints, "critical,CA:FALSE" },
		{ NID_key_usage, "critical,digitalSignature,keyEncipherment" },
		{ NID_ext_key_usage, "serverAuth,clientAuth" },
		{ NID_subject_alt_name, names },
	};
	X509 *ca_cert;
	EVP_PKEY *ca_key;
	int rc;

	if (san_list(sans, names, sizeof(names)) != 0)
		return sc_error_set(err, SC_EXIT_USAGE, "too many names for the certificate '%s'", name);
	if (read_pair(dir, ca, &ca_cert, &ca_key, err) != 0)
		return -1;
	rc = make_signed(dir, name, from_s, to_s, ca_cert, ca_key, exts, names[0] ? 4 : 3, err);
	X509_free(ca_cert);
	EVP_PKEY_free(ca_key);
	return rc;
}
