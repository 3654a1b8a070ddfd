/*
 * The HTTPS certificate. With no certificate configured, twokeyd makes a
 * self-signed P-256 certificate for its rpId on first start and keeps it
 * in state_dir/tls/ (key mode 0600). It is not yet issued by the token's
 * root key: that needs the X.509 to be signed through the signer process
 * (see notes/pkcs11.md), which this file does not do. Browsers and
 * clients pin it by the fingerprints logged at every start.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "twokey/common.h"
#include "daemon.h"

#define PEM_MAX (64 * 1024)
#define CERT_DAYS 825

static int
write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd, r = -1;
	ssize_t n;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	n = write(fd, data, len);
	if (n == (ssize_t)len && fsync(fd) == 0)
		r = 0;
	if (close(fd) != 0)
		r = -1;
	return r;
}

static char *
bio_text(BIO *b, size_t *len)
{
	char *data, *out;
	long n = BIO_get_mem_data(b, &data);

	if (n <= 0 || (out = malloc((size_t)n + 1)) == NULL)
		return NULL;
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	*len = (size_t)n;
	return out;
}

static X509 *
make_cert(EVP_PKEY *pkey, const char *rp_id)
{
	X509 *x = NULL;
	X509_EXTENSION *ext = NULL;
	X509V3_CTX ctx;
	X509_NAME *name;
	char san[300];
	int ok = 0;

	snprintf(san, sizeof(san), "DNS:%s", rp_id);
	if ((x = X509_new()) == NULL || X509_set_version(x, 2) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL)) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x),
	    (long)CERT_DAYS * 86400) == NULL ||
	    X509_set_pubkey(x, pkey) != 1)
		goto out;
	name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)rp_id, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, name) != 1)
		goto out;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
	    san)) == NULL || X509_add_ext(x, ext, -1) != 1)
		goto out;
	if (X509_sign(x, pkey, EVP_sha256()) <= 0)
		goto out;
	ok = 1;
out:
	X509_EXTENSION_free(ext);
	if (!ok) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/* Makes the key and certificate and writes them; returns 0 or -1. */
static int
generate(const char *rp_id, const char *cert_path, const char *key_path)
{
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	BIO *kb = NULL, *cb = NULL;
	char *key = NULL, *cert = NULL;
	size_t klen = 0, clen = 0;
	int r = -1;

	if ((pkey = EVP_EC_gen("P-256")) == NULL ||
	    (x = make_cert(pkey, rp_id)) == NULL ||
	    (kb = BIO_new(BIO_s_secmem())) == NULL ||
	    (cb = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PrivateKey(kb, pkey, NULL, NULL, 0, NULL,
	    NULL) != 1 || PEM_write_bio_X509(cb, x) != 1 ||
	    (key = bio_text(kb, &klen)) == NULL ||
	    (cert = bio_text(cb, &clen)) == NULL) {
		tk_error("could not make the TLS key and certificate");
		goto out;
	}
	if (write_file(key_path, key, klen, 0600) != 0 ||
	    write_file(cert_path, cert, clen, 0644) != 0) {
		tk_error("could not write the TLS key and certificate under "
		    "the state folder: %s", strerror(errno));
		goto out;
	}
	tk_info("made a self-signed TLS certificate for %s", rp_id);
	r = 0;
out:
	tk_secret_free(key, klen);
	free(cert);
	BIO_free(kb);
	BIO_free(cb);
	X509_free(x);
	EVP_PKEY_free(pkey);
	return r;
}

/* SHA-256 of the certificate (hex) and of its SPKI (base64), logged. */
static void
log_fingerprints(const char *cert_pem)
{
	uint8_t md[32], *spki = NULL;
	unsigned int mdlen = 0;
	char hex[65], *b64 = NULL;
	BIO *b;
	X509 *x = NULL;
	int n;

	if ((b = BIO_new_mem_buf(cert_pem, -1)) == NULL ||
	    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)
		goto out;
	if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32)
		goto out;
	tk_hex_encode(md, 32, hex);
	n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
	if (n <= 0 || EVP_Digest(spki, (size_t)n, md, &mdlen, EVP_sha256(),
	    NULL) != 1 || (b64 = tk_b64_encode(md, 32)) == NULL)
		goto out;
	tk_info("TLS certificate sha256 %s, spki sha256 %s", hex, b64);
out:
	OPENSSL_free(spki);
	free(b64);
	X509_free(x);
	BIO_free(b);
}

static int
read_pem(const char *path, int secret, char **out, size_t *len)
{
	uint8_t *buf = NULL;
	char esc[128];
	int r;

	r = tk_read_file(path, PEM_MAX, secret, &buf, len);
	if (r != TK_OK) {
		tk_error("%s %s: %s", secret ? "tls_key" : "tls_certificate",
		    tk_log_escape(esc, sizeof(esc), path, strlen(path)),
		    r == TK_ERR_PERM ? "others may read it; chmod 0600" :
		    tk_strerror(r));
		return -1;
	}
	*out = (char *)buf;
	return 0;
}

static int
default_paths(const struct tk_config *cfg, char *cert, char *key,
    size_t cap)
{
	char dir[4200];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/tls", cfg->state_dir);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		tk_error("state_dir: cannot make %s/tls: %s", cfg->state_dir,
		    strerror(errno));
		return -1;
	}
	snprintf(cert, cap, "%s/cert.pem", dir);
	snprintf(key, cap, "%s/key.pem", dir);
	if (stat(cert, &st) == 0 && stat(key, &st) == 0)
		return 0;
	/* A half-written pair from an interrupted start is made again. */
	unlink(cert);
	unlink(key);
	return generate(cfg->rp_id, cert, key);
}

int
tk_tls_load(const struct tk_config *cfg, char **cert, char **key,
    size_t *key_len)
{
	char cpath[4300], kpath[4300];
	size_t clen = 0;

	*cert = NULL;
	*key = NULL;
	*key_len = 0;
	if (cfg->tls_certificate != NULL) {
		snprintf(cpath, sizeof(cpath), "%s", cfg->tls_certificate);
		snprintf(kpath, sizeof(kpath), "%s", cfg->tls_key);
	} else if (default_paths(cfg, cpath, kpath, sizeof(cpath)) != 0)
		return -1;
	if (read_pem(cpath, 0, cert, &clen) != 0)
		return -1;
	if (read_pem(kpath, 1, key, key_len) != 0) {
		free(*cert);
		*cert = NULL;
		return -1;
	}
	*key_len += 1;	/* the NUL that tk_read_file added */
	log_fingerprints(*cert);
	return 0;
}
