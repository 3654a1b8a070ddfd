/*
 * The HTTPS certificate. With no certificate configured, twokeyd makes a
 * P-256 key and a certificate for its rpId on first start and keeps them
 * in state_dir/tls/ (key mode 0600). The certificate is issued by the
 * token's root key: OpenSSL builds it and the digest of its
 * to-be-signed part is signed by the signer process
 * (tk_signer_evp_pkey), so clients that pin the root certificate from the key
 * ceremony trust it. The TLS key itself is a software key: the network
 * process needs it for every handshake. Its fingerprints are logged at
 * every start as well.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "twokey/common.h"
#include "twokey/hsm.h"
#include "daemon.h"
/* The hsm layer's EVP_PKEY that signs through the signer process. */

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

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509_EXTENSION *ext;
	X509V3_CTX ctx;
	int r;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	r = X509_add_ext(x, ext, -1) == 1 ? 0 : -1;
	X509_EXTENSION_free(ext);
	return r;
}

/* A server certificate for rp_id with pkey, issued by root (unsigned). */
static X509 *
make_cert(EVP_PKEY *pkey, const char *rp_id, X509 *root)
{
	X509 *x = NULL;
	X509_NAME *name;
	uint8_t serial[16];
	BIGNUM *bn = NULL;
	char san[300];
	int ok = 0;

	snprintf(san, sizeof(san), "DNS:%s", rp_id);
	if (RAND_bytes(serial, sizeof(serial)) != 1)
		return NULL;
	serial[0] &= 0x7f;
	if ((x = X509_new()) == NULL || X509_set_version(x, 2) != 1 ||
	    (bn = BN_bin2bn(serial, sizeof(serial), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -3600) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x),
	    (long)CERT_DAYS * 86400) == NULL ||
	    X509_set_pubkey(x, pkey) != 1)
		goto out;
	name = X509_get_subject_name(x);
	if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"twokey", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)rp_id, -1, -1, 0) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(root)) != 1)
		goto out;
	if (add_ext(x, root, NID_subject_alt_name, san) != 0 ||
	    add_ext(x, root, NID_basic_constraints, "critical,CA:FALSE") !=
	    0 || add_ext(x, root, NID_key_usage,
	    "critical,digitalSignature") != 0 ||
	    add_ext(x, root, NID_ext_key_usage, "serverAuth") != 0 ||
	    add_ext(x, root, NID_subject_key_identifier, "hash") != 0 ||
	    add_ext(x, root, NID_authority_key_identifier, "keyid") != 0)
		goto out;
	ok = 1;
out:
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

/* Signs x with the token's root key through the signer; 0 or -1. */
static int
root_issue(struct tk_signer *signer, X509 *x)
{
	EVP_PKEY *pub = NULL, *rk = NULL;
	int r = -1;

	if (tk_signer_public_key(signer, TK_KEY_ROOT, &pub) != TK_HSM_OK ||
	    tk_signer_evp_pkey(signer, TK_KEY_ROOT, &rk) != TK_HSM_OK)
		goto out;
	if (X509_sign(x, rk, EVP_sha256()) > 0 && X509_verify(x, pub) == 1)
		r = 0;
out:
	EVP_PKEY_free(rk);
	EVP_PKEY_free(pub);
	return r;
}

/* Makes the key and certificate and writes them; returns 0 or -1. */
static int
generate(struct tk_signer *signer, const char *rp_id, const char *cert_path,
    const char *key_path)
{
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL, *root = NULL;
	BIO *kb = NULL, *cb = NULL;
	char *key = NULL, *cert = NULL;
	size_t klen = 0, clen = 0;
	int r = -1;

	if (tk_signer_certificate(signer, TK_KEY_ROOT, &root) != TK_HSM_OK ||
	    (pkey = EVP_EC_gen("P-256")) == NULL ||
	    (x = make_cert(pkey, rp_id, root)) == NULL ||
	    root_issue(signer, x) != 0 ||
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
	tk_info("made a TLS certificate for %s, issued by the token's root "
	    "key", rp_id);
	r = 0;
out:
	tk_secret_free(key, klen);
	free(cert);
	BIO_free(kb);
	BIO_free(cb);
	X509_free(x);
	X509_free(root);
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
default_paths(const struct tk_config *cfg, struct tk_signer *signer,
    char *cert, char *key, size_t cap)
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
	return generate(signer, cfg->rp_id, cert, key);
}

int
tk_tls_load(const struct tk_config *cfg, struct tk_signer *signer,
    char **cert, char **key, size_t *key_len)
{
	char cpath[4300], kpath[4300];
	size_t clen = 0;

	*cert = NULL;
	*key = NULL;
	*key_len = 0;
	if (cfg->tls_certificate != NULL) {
		snprintf(cpath, sizeof(cpath), "%s", cfg->tls_certificate);
		snprintf(kpath, sizeof(kpath), "%s", cfg->tls_key);
	} else if (default_paths(cfg, signer, cpath, kpath,
	    sizeof(cpath)) != 0)
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
