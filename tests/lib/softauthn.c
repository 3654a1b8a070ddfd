/*
 * softauthn: see softauthn.h. Builds responses the way a browser and a
 * CTAP2 authenticator do, so the verifier is tested on real signatures.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "twokey/common.h"
#include "softauthn.h"

#define SA_UP	0x01
#define SA_UV	0x04
#define SA_AT	0x40

struct softauthn {
	int		 alg;
	EVP_PKEY	*key;
	EVP_PKEY	*other;
	EVP_PKEY	*att_key;
	EVP_PKEY	*ca_key;
	X509		*ca;
	X509		*leaf;
	char		*ca_pem;
	uint8_t		 id[32];
};

struct buf {
	uint8_t	*p;
	size_t	 n;
};

static EVP_PKEY *
keygen(int alg)
{
	if (alg == -8)
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

static X509 *
cert_new(EVP_PKEY *pub, EVP_PKEY *signer, X509 *issuer, int ca,
    const char *ou, const char *cn)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ext = NULL;
	int ok;

	ok = x != NULL && n != NULL && X509_set_version(x, X509_VERSION_3) &&
	    ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 1 : 2) &&
	    X509_gmtime_adj(X509_getm_notBefore(x), -86400) != NULL &&
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365) != NULL &&
	    X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC,
	    (const unsigned char *)"SE", -1, -1, 0) &&
	    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	    (const unsigned char *)"twokey tests", -1, -1, 0) &&
	    X509_NAME_add_entry_by_txt(n, "OU", MBSTRING_ASC,
	    (const unsigned char *)ou, -1, -1, 0) &&
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) &&
	    X509_set_subject_name(x, n) &&
	    X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : n) && X509_set_pubkey(x, pub);
	if (ok) {
		X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL,
		    NULL, 0);
		ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
		    ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
		ok = ext != NULL && X509_add_ext(x, ext, -1) &&
		    X509_sign(x, signer, EVP_sha256()) > 0;
	}
	X509_EXTENSION_free(ext);
	X509_NAME_free(n);
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static char *
pem_of(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (b != NULL && PEM_write_bio_X509(b, x) == 1 &&
	    (n = BIO_get_mem_data(b, &data)) > 0 &&
	    (out = calloc(1, (size_t)n + 1)) != NULL)
		memcpy(out, data, (size_t)n);
	BIO_free(b);
	return out;
}

struct softauthn *
softauthn_new(int alg)
{
	struct softauthn *sa;

	if ((alg != -7 && alg != -8) || (sa = calloc(1, sizeof(*sa))) == NULL)
		return NULL;
	sa->alg = alg;
	if ((sa->key = keygen(alg)) == NULL ||
	    (sa->other = keygen(alg)) == NULL ||
	    (sa->att_key = keygen(-7)) == NULL ||
	    (sa->ca_key = keygen(-7)) == NULL ||
	    (sa->ca = cert_new(sa->ca_key, sa->ca_key, NULL, 1, "CA",
	    "softauthn root")) == NULL ||
	    (sa->leaf = cert_new(sa->att_key, sa->ca_key, sa->ca, 0,
	    "Authenticator Attestation", "softauthn batch")) == NULL ||
	    (sa->ca_pem = pem_of(sa->ca)) == NULL ||
	    RAND_bytes(sa->id, sizeof(sa->id)) != 1)
		softauthn_free(&sa);
	return sa;
}

void
softauthn_free(struct softauthn **sap)
{
	struct softauthn *sa;

	if (sap == NULL || (sa = *sap) == NULL)
		return;
	EVP_PKEY_free(sa->key);
	EVP_PKEY_free(sa->other);
	EVP_PKEY_free(sa->att_key);
	EVP_PKEY_free(sa->ca_key);
	X509_free(sa->ca);
	X509_free(sa->leaf);
	free(sa->ca_pem);
	free(sa);
	*sap = NULL;
}

const char *
softauthn_ca_pem(const struct softauthn *sa)
{
	return sa->ca_pem;
}

void
softauthn_opts_init(struct softauthn_opts *o, const char *rp_id,
    const char *origin, const uint8_t *challenge, size_t challenge_len)
{
	memset(o, 0, sizeof(*o));
	o->rp_id = rp_id;
	o->origin = origin;
	o->challenge = challenge;
	o->challenge_len = challenge_len;
	o->flags = SA_UP | SA_UV;
	o->counter = 1;
	o->fmt = "packed";
}

void
softauthn_resp_clear(struct softauthn_resp *r)
{
	free(r->id);
	free(r->client_data);
	free(r->att_obj);
	free(r->auth_data);
	free(r->sig);
	memset(r, 0, sizeof(*r));
}

static int
client_data(const struct softauthn_opts *o, const char *type,
    struct softauthn_resp *r)
{
	char *ch = tk_b64url_encode(o->challenge, o->challenge_len), *s;
	json_t *j;

	if (ch == NULL)
		return -1;
	j = json_pack("{s:s, s:s, s:s, s:b}", "type", o->type != NULL ?
	    o->type : type, "challenge", ch, "origin", o->origin,
	    "crossOrigin", o->cross_origin);
	free(ch);
	s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (s == NULL)
		return -1;
	r->client_data = (uint8_t *)s;
	r->client_data_len = strlen(s);
	return 0;
}

/* Signs authData || clientDataHash, as an authenticator does. */
static int
sign_cdh(EVP_PKEY *k, const struct buf *ad, const uint8_t *cdh,
    uint8_t **sig, size_t *siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t *msg = malloc(ad->n + SHA256_DIGEST_LENGTH);
	int ok = 0;

	*sig = NULL;
	if (ctx == NULL || msg == NULL)
		goto out;
	memcpy(msg, ad->p, ad->n);
	memcpy(msg + ad->n, cdh, SHA256_DIGEST_LENGTH);
	if (EVP_DigestSignInit(ctx, NULL, EVP_PKEY_get_id(k) ==
	    EVP_PKEY_ED25519 ? NULL : EVP_sha256(), NULL, k) != 1 ||
	    EVP_DigestSign(ctx, NULL, siglen, msg, ad->n +
	    SHA256_DIGEST_LENGTH) != 1 || (*sig = malloc(*siglen)) == NULL ||
	    EVP_DigestSign(ctx, *sig, siglen, msg, ad->n +
	    SHA256_DIGEST_LENGTH) != 1)
		goto out;
	ok = 1;
out:
	if (!ok) {
		free(*sig);
		*sig = NULL;
	}
	free(msg);
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int
sign(EVP_PKEY *k, const struct buf *ad, const struct softauthn_resp *r,
    uint8_t **sig, size_t *siglen)
{
	uint8_t cdh[SHA256_DIGEST_LENGTH];

	SHA256(r->client_data, r->client_data_len, cdh);
	return sign_cdh(k, ad, cdh, sig, siglen);
}

static cbor_item_t *
int_item(int64_t v)
{
	if (v >= 0)
		return v < 256 ? cbor_build_uint8((uint8_t)v) :
		    cbor_build_uint16((uint16_t)v);
	return -1 - v < 256 ? cbor_build_negint8((uint8_t)(-1 - v)) :
	    cbor_build_negint16((uint16_t)(-1 - v));
}

static int
put(cbor_item_t *m, cbor_item_t *k, cbor_item_t *v)
{
	struct cbor_pair p;
	int ok;

	if (m == NULL || k == NULL || v == NULL) {
		if (k != NULL)
			cbor_decref(&k);
		if (v != NULL)
			cbor_decref(&v);
		return -1;
	}
	p.key = cbor_move(k);
	p.value = cbor_move(v);
	ok = cbor_map_add(m, p);
	return ok ? 0 : -1;
}

static int
serialize(cbor_item_t *item, struct buf *out)
{
	unsigned char *p = NULL;
	size_t cap = 0;

	out->p = NULL;
	out->n = 0;
	if (item == NULL || (out->n = cbor_serialize_alloc(item, &p,
	    &cap)) == 0) {
		free(p);
		return -1;
	}
	out->p = p;
	return 0;
}

static int
cose_key(const struct softauthn *sa, struct buf *out)
{
	uint8_t pub[65];
	size_t n = 0;
	cbor_item_t *m;
	int r = -1;

	if (sa->alg == -8) {
		n = sizeof(pub);
		m = cbor_new_definite_map(4);
		if (EVP_PKEY_get_raw_public_key(sa->key, pub, &n) != 1 ||
		    n != 32 || put(m, int_item(1), int_item(1)) != 0 ||
		    put(m, int_item(3), int_item(-8)) != 0 ||
		    put(m, int_item(-1), int_item(6)) != 0 ||
		    put(m, int_item(-2), cbor_build_bytestring(pub, 32)) != 0)
			goto out;
	} else {
		m = cbor_new_definite_map(5);
		if (EVP_PKEY_get_octet_string_param(sa->key,
		    OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &n) != 1 ||
		    n != 65 || put(m, int_item(1), int_item(2)) != 0 ||
		    put(m, int_item(3), int_item(-7)) != 0 ||
		    put(m, int_item(-1), int_item(1)) != 0 ||
		    put(m, int_item(-2), cbor_build_bytestring(pub + 1,
		    32)) != 0 || put(m, int_item(-3),
		    cbor_build_bytestring(pub + 33, 32)) != 0)
			goto out;
	}
	r = serialize(m, out);
out:
	if (m != NULL)
		cbor_decref(&m);
	return r;
}

static int
auth_data(const struct softauthn *sa, const struct softauthn_opts *o,
    int reg, struct buf *out)
{
	struct buf cose = { NULL, 0 };
	size_t off = 37;

	out->p = NULL;
	if (reg && cose_key(sa, &cose) != 0)
		return -1;
	out->n = 37 + (reg ? 16 + 2 + sizeof(sa->id) + cose.n : 0) +
	    o->trailing;
	if ((out->p = calloc(1, out->n)) == NULL) {
		free(cose.p);
		return -1;
	}
	SHA256((const unsigned char *)o->rp_id, strlen(o->rp_id), out->p);
	out->p[32] = (uint8_t)(o->flags | (reg ? SA_AT : 0));
	out->p[33] = (uint8_t)(o->counter >> 24);
	out->p[34] = (uint8_t)(o->counter >> 16);
	out->p[35] = (uint8_t)(o->counter >> 8);
	out->p[36] = (uint8_t)o->counter;
	if (reg) {
		memcpy(out->p + off, SOFTAUTHN_AAGUID, 16);
		off += 16;
		out->p[off++] = 0;
		out->p[off++] = (uint8_t)sizeof(sa->id);
		memcpy(out->p + off, sa->id, sizeof(sa->id));
		off += sizeof(sa->id);
		memcpy(out->p + off, cose.p, cose.n);
	}
	free(cose.p);
	return 0;
}

static cbor_item_t *
att_stmt(const struct softauthn *sa, const struct softauthn_opts *o,
    const struct buf *ad, const struct softauthn_resp *r)
{
	int dup = o->shape == SOFTAUTHN_SHAPE_DUP_KEY;
	EVP_PKEY *k = o->other_key ? sa->other : o->x5c ? sa->att_key :
	    sa->key;
	cbor_item_t *st, *x5c = NULL;
	unsigned char *der = NULL;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	int derlen, ok;

	if (strcmp(o->fmt, "none") == 0)
		return cbor_new_definite_map(0);
	if (sign(k, ad, r, &sig, &siglen) != 0)
		return NULL;
	st = cbor_new_definite_map((size_t)(2 + dup + (o->x5c != 0)));
	ok = put(st, cbor_build_string("alg"), int_item(o->x5c ? -7 :
	    sa->alg)) == 0 && put(st, cbor_build_string("sig"),
	    cbor_build_bytestring(sig, siglen)) == 0 &&
	    (!dup || put(st, cbor_build_string("alg"), int_item(-7)) == 0);
	if (ok && o->x5c) {
		ok = (derlen = i2d_X509(sa->leaf, &der)) > 0 &&
		    (x5c = cbor_new_definite_array(1)) != NULL &&
		    cbor_array_push(x5c, cbor_move(cbor_build_bytestring(der,
		    (size_t)derlen))) && put(st, cbor_build_string("x5c"),
		    x5c) == 0;
		x5c = NULL;
	}
	OPENSSL_free(der);
	free(sig);
	if (!ok && st != NULL)
		cbor_decref(&st);
	return st;
}

static int
att_obj(const struct softauthn *sa, const struct softauthn_opts *o,
    const struct buf *ad, struct softauthn_resp *r)
{
	cbor_item_t *m, *st = att_stmt(sa, o, ad, r);
	struct buf out;
	int rc = -1;

	m = o->shape == SOFTAUTHN_SHAPE_INDEFINITE ?
	    cbor_new_indefinite_map() : cbor_new_definite_map(3);
	if (st == NULL || put(m, cbor_build_string("fmt"),
	    cbor_build_string(o->fmt)) != 0 ||
	    put(m, cbor_build_string("attStmt"), cbor_incref(st)) != 0 ||
	    put(m, cbor_build_string("authData"),
	    o->shape == SOFTAUTHN_SHAPE_AUTHDATA_TEXT ?
	    cbor_build_stringn((const char *)ad->p, ad->n) :
	    cbor_build_bytestring(ad->p, ad->n)) != 0 ||
	    serialize(m, &out) != 0)
		goto out;
	if (o->shape == SOFTAUTHN_SHAPE_TRAILING) {
		uint8_t *p = realloc(out.p, out.n + 1);

		if (p == NULL) {
			free(out.p);
			goto out;
		}
		p[out.n++] = 0;
		out.p = p;
	}
	r->att_obj = out.p;
	r->att_obj_len = out.n;
	rc = 0;
out:
	if (st != NULL)
		cbor_decref(&st);
	if (m != NULL)
		cbor_decref(&m);
	return rc;
}

static int
set_id(const struct softauthn *sa, struct softauthn_resp *r)
{
	if ((r->id = malloc(sizeof(sa->id))) == NULL)
		return -1;
	memcpy(r->id, sa->id, sizeof(sa->id));
	r->id_len = sizeof(sa->id);
	return 0;
}

int
softauthn_make_credential(struct softauthn *sa,
    const struct softauthn_opts *o, struct softauthn_resp *r)
{
	struct buf ad = { NULL, 0 };
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (set_id(sa, r) != 0 || client_data(o, "webauthn.create", r) != 0 ||
	    auth_data(sa, o, 1, &ad) != 0 || att_obj(sa, o, &ad, r) != 0)
		goto out;
	rc = 0;
out:
	free(ad.p);
	if (rc != 0)
		softauthn_resp_clear(r);
	return rc;
}

int
softauthn_get_assertion(struct softauthn *sa, const struct softauthn_opts *o,
    struct softauthn_resp *r)
{
	struct buf ad = { NULL, 0 };
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (set_id(sa, r) != 0 || client_data(o, "webauthn.get", r) != 0 ||
	    auth_data(sa, o, 0, &ad) != 0 ||
	    sign(o->other_key ? sa->other : sa->key, &ad, r, &r->sig,
	    &r->sig_len) != 0)
		goto out;
	r->auth_data = ad.p;
	r->auth_data_len = ad.n;
	ad.p = NULL;
	rc = 0;
out:
	free(ad.p);
	if (rc != 0)
		softauthn_resp_clear(r);
	return rc;
}

const uint8_t *
softauthn_cred_id(const struct softauthn *sa, size_t *len)
{
	*len = sizeof(sa->id);
	return sa->id;
}

int
softauthn_ctap_auth_data(const struct softauthn *sa, const char *rp_id,
    uint32_t counter, int attested, uint8_t **out, size_t *len)
{
	struct softauthn_opts o;
	struct buf ad = { NULL, 0 };

	softauthn_opts_init(&o, rp_id, "", NULL, 0);
	o.counter = counter;
	if (auth_data(sa, &o, attested, &ad) != 0)
		return -1;
	*out = ad.p;
	*len = ad.n;
	return 0;
}

int
softauthn_ctap_sign(const struct softauthn *sa, const uint8_t *ad,
    size_t adlen, const uint8_t cdh[32], uint8_t **sig, size_t *siglen)
{
	struct buf b;

	b.p = (uint8_t *)(uintptr_t)ad;
	b.n = adlen;
	return sign_cdh(sa->key, &b, cdh, sig, siglen);
}
