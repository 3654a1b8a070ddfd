/* Checks an ES256 JWT against a JWKS, with OpenSSL only (test code). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "twokey/common.h"
#include "jwt_check.h"

static EVP_PKEY *
jwk_key(json_t *jwk)
{
	const char *x = json_string_value(json_object_get(jwk, "x"));
	const char *y = json_string_value(json_object_get(jwk, "y"));
	uint8_t *xb = NULL, *yb = NULL, pt[65];
	size_t xl = 0, yl = 0;
	OSSL_PARAM_BLD *b = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;

	if (x == NULL || y == NULL ||
	    tk_b64url_decode(x, strlen(x), &xb, &xl) != 0 ||
	    tk_b64url_decode(y, strlen(y), &yb, &yl) != 0 || xl != 32 ||
	    yl != 32)
		goto out;
	pt[0] = 0x04;
	memcpy(pt + 1, xb, 32);
	memcpy(pt + 33, yb, 32);
	if ((b = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME,
	    "prime256v1", 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pt,
	    sizeof(pt)) != 1 || (params = OSSL_PARAM_BLD_to_param(b)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pk = NULL;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	free(xb);
	free(yb);
	return pk;
}

static int
es256_verify(EVP_PKEY *pk, const char *msg, size_t len, const uint8_t *rs)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(rs, 32, NULL), *s = BN_bin2bn(rs + 32, 32, NULL);
	unsigned char *der = NULL;
	EVP_MD_CTX *md = NULL;
	int derlen, ok = 0;

	if (sig == NULL || r == NULL || s == NULL ||
	    ECDSA_SIG_set0(sig, r, s) != 1)
		goto out;
	r = s = NULL;
	if ((derlen = i2d_ECDSA_SIG(sig, &der)) <= 0 ||
	    (md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pk) != 1)
		goto out;
	ok = EVP_DigestVerify(md, der, (size_t)derlen,
	    (const unsigned char *)msg, len) == 1;
out:
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(sig);
	return ok;
}

json_t *
jwt_check(const char *jwt, const char *jwks_text)
{
	json_t *jwks = json_loads(jwks_text, 0, NULL), *hdr = NULL, *claims;
	const char *dot1, *dot2, *kid, *alg;
	uint8_t *h = NULL, *p = NULL, *sig = NULL;
	size_t hl, pl, sl, i;
	EVP_PKEY *pk = NULL;
	json_t *k, *out = NULL;

	if (jwks == NULL || (dot1 = strchr(jwt, '.')) == NULL ||
	    (dot2 = strchr(dot1 + 1, '.')) == NULL ||
	    tk_b64url_decode(jwt, (size_t)(dot1 - jwt), &h, &hl) != 0 ||
	    tk_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &p,
	    &pl) != 0 ||
	    tk_b64url_decode(dot2 + 1, strlen(dot2 + 1), &sig, &sl) != 0 ||
	    sl != 64 || (hdr = json_loadb((char *)h, hl, 0, NULL)) == NULL)
		goto out;
	kid = json_string_value(json_object_get(hdr, "kid"));
	alg = json_string_value(json_object_get(hdr, "alg"));
	if (alg == NULL || strcmp(alg, "ES256") != 0)
		goto out;
	json_array_foreach(json_object_get(jwks, "keys"), i, k)
		if (kid != NULL && strcmp(kid, json_string_value(
		    json_object_get(k, "kid"))) == 0)
			pk = jwk_key(k);
	if (pk != NULL && es256_verify(pk, jwt, (size_t)(dot2 - jwt), sig) &&
	    (claims = json_loadb((char *)p, pl, 0, NULL)) != NULL)
		out = claims;
out:
	EVP_PKEY_free(pk);
	json_decref(hdr);
	json_decref(jwks);
	free(h);
	free(p);
	free(sig);
	return out;
}
