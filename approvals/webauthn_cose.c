/*
 * COSE public keys (RFC 9052/9053) reduced to the raw forms libfido2's
 * es256/es384/rs256/eddsa _pk_from_ptr take. Used for stored credentials
 * at assertion time; at registration libfido2 decodes the key itself and
 * this parser only has to agree with it.
 */
#include <stdint.h>
#include <string.h>

#include <cbor.h>

#include "webauthn_int.h"

#define COSE_KTY	1
#define COSE_ALG	3
#define COSE_CRV	(-1)	/* EC2/OKP; RSA: n */
#define COSE_X		(-2)	/* EC2/OKP; RSA: e */
#define COSE_Y		(-3)

#define KTY_OKP		1
#define KTY_EC2		2
#define KTY_RSA		3

static const cbor_item_t *
label(const cbor_item_t *map, int64_t want)
{
	struct cbor_pair *p = cbor_map_handle(map);
	size_t i;
	int64_t k;

	for (i = 0; i < cbor_map_size(map); i++) {
		if (cbor_isa_uint(p[i].key) && cbor_get_int(p[i].key) <
		    INT32_MAX)
			k = (int64_t)cbor_get_int(p[i].key);
		else if (cbor_isa_negint(p[i].key) &&
		    cbor_get_int(p[i].key) < INT32_MAX)
			k = -1 - (int64_t)cbor_get_int(p[i].key);
		else
			continue;
		if (k == want)
			return p[i].value;
	}
	return NULL;
}

static int
get_int(const cbor_item_t *map, int64_t l, int64_t *out)
{
	const cbor_item_t *it = label(map, l);

	if (it == NULL || !cbor_is_int(it) || cbor_get_int(it) > INT32_MAX)
		return -1;
	if (cbor_isa_uint(it))
		*out = (int64_t)cbor_get_int(it);
	else if (cbor_isa_negint(it))
		*out = -1 - (int64_t)cbor_get_int(it);
	else
		return -1;
	return 0;
}

/* Copies a bstr of exactly n bytes (or up to n, right-aligned if pad). */
static int
get_bytes(const cbor_item_t *map, int64_t l, uint8_t *out, size_t n, int pad)
{
	const cbor_item_t *it = label(map, l);
	size_t len;

	if (it == NULL || !cbor_isa_bytestring(it))
		return -1;
	len = cbor_bytestring_length(it);
	if (len == 0 || len > n || (!pad && len != n))
		return -1;
	memset(out, 0, n);
	memcpy(out + (n - len), cbor_bytestring_handle(it), len);
	return 0;
}

static int
ec2_parse(const cbor_item_t *m, int64_t alg, struct tk_wa_cose *k,
    struct tk_webauthn_verdict *v)
{
	int64_t crv;
	size_t c;

	if (get_int(m, COSE_CRV, &crv) != 0)
		return tk_wa_fail(v, TK_WA_ERR_ALG, "EC2 key has no curve");
	if (alg == TK_WA_ALG_ES256 && crv == 1)
		c = 32;
	else if (alg == TK_WA_ALG_ES384 && crv == 2)
		c = 48;
	else
		return tk_wa_fail(v, TK_WA_ERR_ALG, "EC2 key with alg %lld "
		    "and curve %lld is not supported", (long long)alg,
		    (long long)crv);
	if (get_bytes(m, COSE_X, k->raw, c, 0) != 0 ||
	    get_bytes(m, COSE_Y, k->raw + c, c, 0) != 0)
		return tk_wa_fail(v, TK_WA_ERR_CREDENTIAL, "EC2 key "
		    "coordinates are not %zu-byte strings", c);
	k->raw_len = 2 * c;
	return 0;
}

static int
key_parse(const cbor_item_t *m, struct tk_wa_cose *k,
    struct tk_webauthn_verdict *v)
{
	int64_t kty, alg, crv;

	if (get_int(m, COSE_KTY, &kty) != 0 || get_int(m, COSE_ALG, &alg) != 0)
		return tk_wa_fail(v, TK_WA_ERR_CREDENTIAL, "COSE key lacks "
		    "an integer kty or alg");
	k->alg = (int)alg;
	if (kty == KTY_EC2 && (alg == TK_WA_ALG_ES256 ||
	    alg == TK_WA_ALG_ES384))
		return ec2_parse(m, alg, k, v);
	if (kty == KTY_OKP && alg == TK_WA_ALG_EDDSA) {
		if (get_int(m, COSE_CRV, &crv) != 0 || crv != 6)
			return tk_wa_fail(v, TK_WA_ERR_ALG, "OKP key is not "
			    "Ed25519");
		if (get_bytes(m, COSE_X, k->raw, 32, 0) != 0)
			return tk_wa_fail(v, TK_WA_ERR_CREDENTIAL, "Ed25519 "
			    "key is not 32 bytes");
		k->raw_len = 32;
		return 0;
	}
	if (kty == KTY_RSA && alg == TK_WA_ALG_RS256) {
		/* libfido2 1.12 rs256_pk_t holds a 2048-bit modulus only. */
		if (get_bytes(m, COSE_CRV, k->raw, 256, 0) != 0)
			return tk_wa_fail(v, TK_WA_ERR_ALG, "RS256 key is not "
			    "RSA-2048; other sizes are not supported");
		if (get_bytes(m, COSE_X, k->raw + 256, 3, 1) != 0)
			return tk_wa_fail(v, TK_WA_ERR_ALG, "RS256 exponent "
			    "longer than 3 bytes is not supported");
		k->raw_len = 259;
		return 0;
	}
	return tk_wa_fail(v, TK_WA_ERR_ALG, "COSE key type %lld with alg "
	    "%lld is not supported", (long long)kty, (long long)alg);
}

int
tk_wa_cose_parse(const uint8_t *buf, size_t len, struct tk_wa_cose *k,
    struct tk_webauthn_verdict *v)
{
	cbor_item_t *m;
	size_t used;
	int r;

	memset(k, 0, sizeof(*k));
	if ((m = tk_wa_cbor_load(buf, len, &used)) == NULL || used != len ||
	    !cbor_isa_map(m)) {
		r = tk_wa_fail(v, TK_WA_ERR_CREDENTIAL, "public key is not a "
		    "strict CBOR map without trailing bytes");
		goto out;
	}
	r = key_parse(m, k, v);
out:
	if (m != NULL)
		cbor_decref(&m);
	return r;
}

int
tk_webauthn_cred_set_key(struct tk_webauthn_cred *cred, const uint8_t *cose,
    size_t len, struct tk_webauthn_verdict *v)
{
	struct tk_wa_cose k;
	int r;

	if (cred == NULL || cose == NULL || len == 0 ||
	    len > sizeof(cred->cose_key))
		return tk_wa_fail(v, TK_WA_ERR_ARG, "COSE key missing or "
		    "longer than %zu bytes", sizeof(cred->cose_key));
	if ((r = tk_wa_cose_parse(cose, len, &k, v)) != 0)
		return r;
	memcpy(cred->cose_key, cose, len);
	cred->cose_key_len = len;
	cred->alg = k.alg;
	return 0;
}
