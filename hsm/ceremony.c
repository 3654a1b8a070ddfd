/*
 * The key ceremony (see hsm_ceremony.h), in raw PKCS#11 because libp11
 * 0.4.12 cannot generate EC keys. Certificates are signed by the root key
 * on the token through C_Sign(CKM_ECDSA), whose r||s output is turned into
 * DER by the remote-key EVP_PKEY (remote_key.c). libp11 is not loaded in
 * this mode, so nothing shares the module's state with us.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "twokey/common.h"
#include "twokey/hsm_ceremony.h"
#include "hsm_int.h"
#include "p11raw.h"
#include "remote_key.h"

#define ESC(s) tk_log_escape((char[96]){ 0 }, 96, (s), strlen(s))

/* DER of the prime256v1 OID, the CKA_EC_PARAMS of every key we make. */
static const uint8_t p256_oid[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
    0x3d, 0x03, 0x01, 0x07 };

struct ceremony {
	struct tk_p11raw p;
	CK_OBJECT_HANDLE created[3 * TK_KEY_PURPOSES];
	size_t ncreated;
	CK_OBJECT_HANDLE priv[TK_KEY_PURPOSES];
	EVP_PKEY *pub[TK_KEY_PURPOSES];
	X509 *cert[TK_KEY_PURPOSES];
	char why[TK_SIGNER_WHY_MAX];
};

struct signing {
	struct ceremony *c;
	CK_OBJECT_HANDLE key;
};

static void
key_id(int purpose, uint8_t id[2])
{
	id[0] = 0x74;
	id[1] = (uint8_t)(purpose + 1);
}

static const char *
label(int purpose)
{
	return tk_key_label((enum tk_key_purpose)purpose);
}

/* Refuses if any object already carries one of our labels or ids. */
static int
check_absent(struct ceremony *c)
{
	CK_OBJECT_HANDLE h[1];
	size_t n;
	uint8_t id[2];
	int p;

	for (p = 0; p < TK_KEY_PURPOSES; p++) {
		CK_ATTRIBUTE byl = { CKA_LABEL, (void *)(uintptr_t)label(p),
		    strlen(label(p)) };
		CK_ATTRIBUTE byid = { CKA_ID, id, sizeof(id) };

		key_id(p, id);
		if (tk_p11raw_find(&c->p, &byl, 1, h, 1, &n) != 0 || n > 0 ||
		    tk_p11raw_find(&c->p, &byid, 1, h, 1, &n) != 0 || n > 0) {
			snprintf(c->why, sizeof(c->why), "the token already "
			    "holds an object labelled '%s' or with its id; "
			    "refusing to overwrite", label(p));
			return TK_HSM_ERR_KEY_EXISTS;
		}
	}
	return 0;
}

/* An EVP_PKEY from the CKA_EC_POINT of the public key object. */
static EVP_PKEY *
pub_from_token(struct ceremony *c, CK_OBJECT_HANDLE h)
{
	OSSL_PARAM params[3];
	uint8_t *val = NULL;
	const unsigned char *q;
	ASN1_OCTET_STRING *os = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;
	size_t len;
	char group[] = "prime256v1";

	if (tk_p11raw_get(&c->p, h, CKA_EC_POINT, &val, &len) != 0)
		return NULL;
	q = val;
	/* PKCS#11 says DER OCTET STRING; some modules give the bare point. */
	if ((os = d2i_ASN1_OCTET_STRING(NULL, &q, (long)len)) != NULL &&
	    q == val + len) {
		params[1] = OSSL_PARAM_construct_octet_string(
		    OSSL_PKEY_PARAM_PUB_KEY, os->data, (size_t)os->length);
	} else
		params[1] = OSSL_PARAM_construct_octet_string(
		    OSSL_PKEY_PARAM_PUB_KEY, val, len);
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	ASN1_OCTET_STRING_free(os);
	free(val);
	return pk;
}

static int
gen_key(struct ceremony *c, int p)
{
	CK_MECHANISM mech = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_OBJECT_CLASS pubc = CKO_PUBLIC_KEY, privc = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt = CKK_EC;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_HANDLE pubh, privh;
	void *lab = (void *)(uintptr_t)label(p);
	uint8_t id[2];
	CK_ATTRIBUTE pubt[] = {
		{ CKA_CLASS, &pubc, sizeof(pubc) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &no, sizeof(no) },
		/*
		 * No CKA_VERIFY: tpm2-pkcs11 refuses CKA_VERIFY true beside a
		 * private key with CKA_DECRYPT false (CKR_GENERAL_ERROR), and
		 * nobody verifies on the token anyway.
		 */
		{ CKA_EC_PARAMS, (void *)(uintptr_t)p256_oid,
		    sizeof(p256_oid) },
		{ CKA_LABEL, lab, strlen(label(p)) },
		{ CKA_ID, id, sizeof(id) },
	};
	CK_ATTRIBUTE privt[] = {
		{ CKA_CLASS, &privc, sizeof(privc) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_EXTRACTABLE, &no, sizeof(no) },
		{ CKA_SIGN, &yes, sizeof(yes) },
		{ CKA_DECRYPT, &no, sizeof(no) },
		{ CKA_DERIVE, &no, sizeof(no) },
		{ CKA_UNWRAP, &no, sizeof(no) },
		{ CKA_LABEL, lab, strlen(label(p)) },
		{ CKA_ID, id, sizeof(id) },
	};
	CK_RV rv;

	key_id(p, id);
	rv = c->p.f->C_GenerateKeyPair(c->p.session, &mech, pubt,
	    sizeof(pubt) / sizeof(pubt[0]), privt,
	    sizeof(privt) / sizeof(privt[0]), &pubh, &privh);
	if (rv != CKR_OK) {
		snprintf(c->why, sizeof(c->why), "generating key '%s' failed "
		    "(0x%lx)", label(p), rv);
		return TK_HSM_ERR_SIGN;
	}
	c->created[c->ncreated++] = pubh;
	c->created[c->ncreated++] = privh;
	c->priv[p] = privh;
	if ((c->pub[p] = pub_from_token(c, pubh)) == NULL) {
		snprintf(c->why, sizeof(c->why), "cannot read the public key "
		    "of '%s'", label(p));
		return TK_HSM_ERR_NO_KEY;
	}
	return 0;
}

/* tk_remote_signer over C_Sign(CKM_ECDSA): r||s of a SHA-256 digest. */
static int
token_sign(void *arg, const uint8_t *digest, size_t len, uint8_t rs[64])
{
	struct signing *sg = arg;
	CK_MECHANISM mech = { CKM_ECDSA, NULL, 0 };
	CK_FUNCTION_LIST *f = sg->c->p.f;
	CK_ULONG n = 64;

	if (len != 32 || f->C_SignInit(sg->c->p.session, &mech, sg->key) !=
	    CKR_OK)
		return -1;
	if (f->C_Sign(sg->c->p.session, (CK_BYTE *)(uintptr_t)digest, 32, rs,
	    &n) != CKR_OK || n != 64)
		return -1;
	return 0;
}

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

static X509_NAME *
name_of(int p)
{
	static const char *const cn[] = { "twokey root", "twokey audit",
	    "twokey token" };
	X509_NAME *n = X509_NAME_new();

	if (n == NULL || X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	    (const unsigned char *)"twokey", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn[p], -1, -1, 0) != 1) {
		X509_NAME_free(n);
		return NULL;
	}
	return n;
}

/* 16 random bytes, top bit clear: a positive serial number. */
static int
set_serial(X509 *x)
{
	uint8_t b[16];
	BIGNUM *bn = NULL;
	int ok;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	b[0] = (uint8_t)((b[0] & 0x7f) | 0x40);
	ok = (bn = BN_bin2bn(b, sizeof(b), NULL)) != NULL &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -1;
}

static int
cert_fields(struct ceremony *c, int p, X509 *x, X509 *issuer)
{
	static const long days[] = { TK_CEREMONY_ROOT_DAYS,
	    TK_CEREMONY_AUDIT_DAYS, TK_CEREMONY_TOKEN_DAYS };
	static const char *const usage[] = {
	    "critical,keyCertSign,cRLSign",
	    "critical,digitalSignature,nonRepudiation",
	    "critical,digitalSignature" };
	X509_NAME *subj = name_of(p);
	int ok;

	ok = subj != NULL && X509_set_version(x, X509_VERSION_3) == 1 &&
	    set_serial(x) == 0 && X509_set_subject_name(x, subj) == 1 &&
	    X509_set_issuer_name(x, X509_get_subject_name(issuer)) == 1 &&
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) != NULL &&
	    X509_time_adj_ex(X509_getm_notAfter(x), (int)days[p], 0,
	    NULL) != NULL && X509_set_pubkey(x, c->pub[p]) == 1 &&
	    add_ext(x, issuer, NID_basic_constraints, p == TK_KEY_ROOT ?
	    "critical,CA:TRUE,pathlen:0" : "critical,CA:FALSE") == 0 &&
	    add_ext(x, issuer, NID_key_usage, usage[p]) == 0 &&
	    add_ext(x, issuer, NID_subject_key_identifier, "hash") == 0 &&
	    add_ext(x, issuer, NID_authority_key_identifier,
	    "keyid:always") == 0;
	X509_NAME_free(subj);
	return ok ? 0 : -1;
}

/* Issues the certificate of purpose p, signed by the root key. */
static int
issue(struct ceremony *c, int p)
{
	struct signing sg = { c, c->priv[TK_KEY_ROOT] };
	struct tk_remote_signer rs = { token_sign, &sg };
	EVP_PKEY *rk = NULL;
	X509 *x = NULL, *issuer;
	int r = TK_HSM_ERR_CERT;

	if ((x = X509_new()) == NULL)
		goto out;
	issuer = p == TK_KEY_ROOT ? x : c->cert[TK_KEY_ROOT];
	if (cert_fields(c, p, x, issuer) != 0 ||
	    tk_remote_key_new(c->pub[TK_KEY_ROOT], &rs, &rk) != 0)
		goto out;
	if (X509_sign(x, rk, EVP_sha256()) <= 0 ||
	    X509_verify(x, c->pub[TK_KEY_ROOT]) != 1) {
		snprintf(c->why, sizeof(c->why), "signing the certificate of "
		    "'%s' with the root key failed", label(p));
		r = TK_HSM_ERR_SIGN;
		goto out;
	}
	c->cert[p] = x;
	x = NULL;
	r = 0;
out:
	if (r == TK_HSM_ERR_CERT)
		snprintf(c->why, sizeof(c->why), "cannot build the certificate"
		    " of '%s'", label(p));
	EVP_PKEY_free(rk);
	X509_free(x);
	return r;
}

static int
store_cert(struct ceremony *c, int p)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_OBJECT_HANDLE h;
	unsigned char *der = NULL, *subj = NULL, *iss = NULL, *ser = NULL;
	int dl, sl, il, nl, r = TK_HSM_ERR_CERT;
	uint8_t id[2];

	key_id(p, id);
	dl = i2d_X509(c->cert[p], &der);
	sl = i2d_X509_NAME(X509_get_subject_name(c->cert[p]), &subj);
	il = i2d_X509_NAME(X509_get_issuer_name(c->cert[p]), &iss);
	nl = i2d_ASN1_INTEGER(X509_get_serialNumber(c->cert[p]), &ser);
	if (dl > 0 && sl > 0 && il > 0 && nl > 0) {
		CK_ATTRIBUTE t[] = {
			{ CKA_CLASS, &cls, sizeof(cls) },
			{ CKA_CERTIFICATE_TYPE, &ct, sizeof(ct) },
			{ CKA_TOKEN, &yes, sizeof(yes) },
			{ CKA_PRIVATE, &no, sizeof(no) },
			{ CKA_LABEL, (void *)(uintptr_t)label(p),
			    strlen(label(p)) },
			{ CKA_ID, id, sizeof(id) },
			{ CKA_SUBJECT, subj, (CK_ULONG)sl },
			{ CKA_ISSUER, iss, (CK_ULONG)il },
			{ CKA_SERIAL_NUMBER, ser, (CK_ULONG)nl },
			{ CKA_VALUE, der, (CK_ULONG)dl },
		};
		CK_RV rv = c->p.f->C_CreateObject(c->p.session, t,
		    sizeof(t) / sizeof(t[0]), &h);

		if (rv == CKR_OK) {
			c->created[c->ncreated++] = h;
			r = 0;
		} else
			snprintf(c->why, sizeof(c->why), "storing the "
			    "certificate of '%s' failed (0x%lx)", label(p), rv);
	}
	OPENSSL_free(der);
	OPENSSL_free(subj);
	OPENSSL_free(iss);
	OPENSSL_free(ser);
	return r;
}

/* Writes dir/name through a temporary file and rename. */
static int
write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char path[4096], tmp[4096];
	size_t done = 0;
	int fd, r = TK_HSM_ERR_IO;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path) || (size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.tmp",
	    dir, name) >= sizeof(tmp))
		return TK_HSM_ERR_IO;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return TK_HSM_ERR_IO;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (done == len && fsync(fd) == 0)
		r = 0;
	if (close(fd) != 0)
		r = TK_HSM_ERR_IO;
	if (r == 0 && rename(tmp, path) != 0)
		r = TK_HSM_ERR_IO;
	if (r != 0)
		unlink(tmp);
	return r;
}

static int
write_pem(const char *dir, const char *name, X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long len;
	int r = TK_HSM_ERR_IO;

	if (b != NULL && PEM_write_bio_X509(b, x) == 1 &&
	    (len = BIO_get_mem_data(b, &data)) > 0)
		r = write_file(dir, name, data, (size_t)len);
	BIO_free(b);
	return r;
}

/* root-fingerprint.txt: plain hex, then the openssl -fingerprint form. */
static int
write_fingerprint(const char *dir, X509 *root, char hex[65])
{
	static const char digits[] = "0123456789ABCDEF";
	unsigned char md[32];
	unsigned int mdlen = 0, i;
	char text[65 + 1 + 19 + 96 + 2], *o;

	if (X509_digest(root, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32)
		return TK_HSM_ERR_CERT;
	tk_hex_encode(md, 32, hex);
	memcpy(text, hex, 64);
	o = text + 64;
	memcpy(o, "\nsha256 Fingerprint=", 20);
	o += 20;
	for (i = 0; i < 32; i++) {
		*o++ = digits[md[i] >> 4];
		*o++ = digits[md[i] & 0xf];
		*o++ = i == 31 ? '\n' : ':';
	}
	return write_file(dir, "root-fingerprint.txt", text,
	    (size_t)(o - text));
}

static int
write_outputs(struct ceremony *c, const char *dir, char hex[65])
{
	static const char *const names[] = { "root.pem", "audit.pem",
	    "token.pem" };
	int p, r;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(c->why, sizeof(c->why), "cannot create '%s'",
		    ESC(dir));
		return TK_HSM_ERR_IO;
	}
	for (p = 0; p < TK_KEY_PURPOSES; p++)
		if ((r = write_pem(dir, names[p], c->cert[p])) != 0)
			goto fail;
	if ((r = write_fingerprint(dir, c->cert[TK_KEY_ROOT], hex)) == 0)
		return 0;
fail:
	snprintf(c->why, sizeof(c->why), "cannot write the certificates to "
	    "'%s'", ESC(dir));
	return r;
}

/* On failure: destroy what this run created, newest first. */
static void
rollback(struct ceremony *c)
{
	while (c->ncreated > 0) {
		CK_OBJECT_HANDLE h = c->created[--c->ncreated];

		if (c->p.f->C_DestroyObject(c->p.session, h) != CKR_OK)
			tk_error("could not destroy object %lu created by "
			    "this ceremony; remove it by hand", h);
	}
}

static int
ceremony_steps(struct ceremony *c, const char *out_dir, char hex[65])
{
	int p, r;

	if ((r = check_absent(c)) != 0)
		return r;
	for (p = 0; p < TK_KEY_PURPOSES; p++)
		if ((r = gen_key(c, p)) != 0)
			return r;
	for (p = 0; p < TK_KEY_PURPOSES; p++)
		if ((r = issue(c, p)) != 0 || (r = store_cert(c, p)) != 0)
			return r;
	return write_outputs(c, out_dir, hex);
}

static int
open_token(struct ceremony *c, const char *uri)
{
	struct tk_p11_uri *u = NULL;
	char *pin = NULL;
	size_t pinlen = 0;
	int r;

	if ((r = tk_p11_uri_parse(uri, &u, c->why, sizeof(c->why))) != 0)
		goto out;
	if (u->token == NULL || u->module_path == NULL) {
		snprintf(c->why, sizeof(c->why), "the URI needs token= and "
		    "module-path=");
		r = TK_HSM_ERR_URI;
		goto out;
	}
	if ((r = tk_p11_uri_read_pin(u, &pin, &pinlen, c->why,
	    sizeof(c->why))) != 0)
		goto out;
	r = tk_p11raw_open(&c->p, u->module_path, u->token, pin, pinlen);
	if (r != 0)
		snprintf(c->why, sizeof(c->why), "%s", c->p.why);
out:
	if (pin != NULL)
		tk_secret_free(pin, pinlen + 1);
	tk_p11_uri_free(&u);
	return r;
}

int
tk_ceremony_run(const char *uri, const char *out_dir, char fp_hex[65])
{
	struct ceremony c;
	char hex[65] = "";
	int p, r;

	memset(&c, 0, sizeof(c));
	if (uri == NULL || out_dir == NULL) {
		snprintf(c.why, sizeof(c.why), "no URI or output folder");
		r = TK_HSM_ERR_INVALID;
		goto out;
	}
	if ((r = open_token(&c, uri)) != 0)
		goto out;
	if ((r = ceremony_steps(&c, out_dir, hex)) != 0)
		rollback(&c);
out:
	if (r != 0)
		tk_error("key ceremony failed: %s: %s", tk_hsm_strerror(r),
		    c.why);
	else
		tk_info("key ceremony done; root certificate SHA-256 %s", hex);
	if (fp_hex != NULL)
		memcpy(fp_hex, hex, sizeof(hex));
	for (p = 0; p < TK_KEY_PURPOSES; p++) {
		EVP_PKEY_free(c.pub[p]);
		X509_free(c.cert[p]);
	}
	tk_p11raw_close(&c.p);
	return r;
}
