/*
 * Assertion (WebAuthn L3 section 7.2) against a stored credential.
 * libfido2 checks the signature with UP demanded (it checks no flag unless
 * told to); clientDataJSON, flags, BE/BS, trailing bytes and the counter
 * are checked here.
 */
#include <stdint.h>
#include <string.h>

#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <fido/es384.h>
#include <fido/rs256.h>
#include <openssl/crypto.h>

#include "webauthn_int.h"

static int
assert_sig(const struct tk_webauthn_expect *exp,
    const struct tk_webauthn_assertion *as, const struct tk_wa_authdata *ad,
    const void *pk, int alg, struct tk_webauthn_verdict *v)
{
	fido_assert_t *a;
	int e, r = TK_WA_ERR_NOMEM;

	if ((a = fido_assert_new()) == NULL)
		return tk_wa_fail(v, r, "out of memory");
	if ((e = fido_assert_set_rp(a, exp->rp_id)) != FIDO_OK ||
	    (e = fido_assert_set_clientdata(a, as->client_data,
	    as->client_data_len)) != FIDO_OK ||
	    (e = fido_assert_set_count(a, 1)) != FIDO_OK ||
	    (e = fido_assert_set_authdata_raw(a, 0, as->auth_data,
	    as->auth_data_len)) != FIDO_OK ||
	    (e = fido_assert_set_sig(a, 0, as->sig, as->sig_len)) != FIDO_OK ||
	    (e = fido_assert_set_up(a, FIDO_OPT_TRUE)) != FIDO_OK ||
	    (exp->require_uv && (e = fido_assert_set_uv(a,
	    FIDO_OPT_TRUE)) != FIDO_OK) ||
	    (e = fido_assert_set_extensions(a, ad->ext_hmac_secret ?
	    FIDO_EXT_HMAC_SECRET : 0)) != FIDO_OK) {
		r = tk_wa_fail(v, TK_WA_ERR_AUTHDATA, "libfido2 refused the "
		    "assertion data (%s)", fido_strerr(e));
		goto out;
	}
	if ((e = fido_assert_verify(a, 0, alg, pk)) != FIDO_OK) {
		r = tk_wa_fido_fail(v, TK_WA_ERR_SIG, e, "signature with the "
		    "stored credential public key");
		goto out;
	}
	r = 0;
out:
	fido_assert_free(&a);
	return r;
}

/* Builds the libfido2 key for k and checks the signature with it. */
static int
verify_with_key(const struct tk_webauthn_expect *exp,
    const struct tk_webauthn_assertion *as, const struct tk_wa_authdata *ad,
    const struct tk_wa_cose *k, struct tk_webauthn_verdict *v)
{
	es256_pk_t *es256 = NULL;
	es384_pk_t *es384 = NULL;
	rs256_pk_t *rs256 = NULL;
	eddsa_pk_t *eddsa = NULL;
	const void *pk = NULL;
	int r;

	if (k->alg == TK_WA_ALG_ES256 && (es256 = es256_pk_new()) != NULL &&
	    es256_pk_from_ptr(es256, k->raw, k->raw_len) == FIDO_OK)
		pk = es256;
	else if (k->alg == TK_WA_ALG_ES384 && (es384 = es384_pk_new()) !=
	    NULL && es384_pk_from_ptr(es384, k->raw, k->raw_len) == FIDO_OK)
		pk = es384;
	else if (k->alg == TK_WA_ALG_RS256 && (rs256 = rs256_pk_new()) !=
	    NULL && rs256_pk_from_ptr(rs256, k->raw, k->raw_len) == FIDO_OK)
		pk = rs256;
	else if (k->alg == TK_WA_ALG_EDDSA && (eddsa = eddsa_pk_new()) !=
	    NULL && eddsa_pk_from_ptr(eddsa, k->raw, k->raw_len) == FIDO_OK)
		pk = eddsa;
	if (pk == NULL)
		r = tk_wa_fail(v, TK_WA_ERR_CREDENTIAL, "stored public key "
		    "(alg %d) is not a valid key", k->alg);
	else
		r = assert_sig(exp, as, ad, pk, k->alg, v);
	es256_pk_free(&es256);
	es384_pk_free(&es384);
	rs256_pk_free(&rs256);
	eddsa_pk_free(&eddsa);
	return r;
}

/*
 * Counters: both 0 means the authenticator keeps none. Otherwise the new
 * value must be greater than the stored one (a wrapped or reset counter
 * looks the same as a clone, and is treated as one).
 */
static int
counter_check(const struct tk_webauthn_cred *cred,
    const struct tk_wa_authdata *ad, struct tk_webauthn_verdict *v)
{
	if (cred->sign_count == 0 && ad->sign_count == 0)
		return 0;
	if (ad->sign_count > cred->sign_count)
		return 0;
	return tk_wa_fail(v, TK_WA_ERR_COUNTER, "sign counter %u is not "
	    "greater than the stored %u: possibly cloned authenticator",
	    ad->sign_count, cred->sign_count);
}

static int
cred_checks(const struct tk_webauthn_expect *exp,
    const struct tk_webauthn_cred *cred, const struct tk_wa_authdata *ad,
    struct tk_webauthn_verdict *v)
{
	if (((ad->flags & TK_WA_FLAG_BE) != 0) != (cred->backup_eligible != 0))
		return tk_wa_fail(v, TK_WA_ERR_BACKUP, "BE flag is %d but was "
		    "%d at registration; backup eligibility never changes",
		    (ad->flags & TK_WA_FLAG_BE) != 0,
		    cred->backup_eligible != 0);
	if (!tk_wa_alg_allowed(exp, cred->alg))
		return tk_wa_fail(v, TK_WA_ERR_ALG, "credential algorithm %d "
		    "is no longer allowed", cred->alg);
	return 0;
}

int
tk_webauthn_verify_assertion(const struct tk_webauthn_expect *exp,
    const struct tk_webauthn_cred *cred,
    const struct tk_webauthn_assertion *as,
    struct tk_webauthn_assert_result *res, struct tk_webauthn_verdict *v)
{
	struct tk_wa_authdata ad;
	struct tk_wa_cose key;
	int r;

	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if (v != NULL)
		memset(v, 0, sizeof(*v));
	if ((r = tk_wa_expect_ok(exp, v)) != 0)
		return r;
	if (cred == NULL || as == NULL || res == NULL || as->sig == NULL ||
	    as->raw_id == NULL)
		return tk_wa_fail(v, TK_WA_ERR_ARG, "assertion needs a stored "
		    "credential, a response with rawId and signature, and a "
		    "result");
	if (as->raw_id_len != cred->id_len || cred->id_len == 0 ||
	    CRYPTO_memcmp(as->raw_id, cred->id, cred->id_len) != 0)
		return tk_wa_fail(v, TK_WA_ERR_CRED_ID, "rawId is not the id "
		    "of the stored credential");
	if ((r = tk_wa_clientdata_check(as->client_data, as->client_data_len,
	    "webauthn.get", exp, v)) != 0 ||
	    (r = tk_wa_authdata_parse(as->auth_data, as->auth_data_len, 0,
	    &ad, v)) != 0 ||
	    (r = tk_wa_authdata_policy(exp, &ad, v)) != 0 ||
	    (r = cred_checks(exp, cred, &ad, v)) != 0 ||
	    (r = tk_wa_cose_parse(cred->cose_key, cred->cose_key_len, &key,
	    v)) != 0)
		return r;
	if (key.alg != cred->alg)
		return tk_wa_fail(v, TK_WA_ERR_CREDENTIAL, "stored alg %d "
		    "differs from the key's alg %d", cred->alg, key.alg);
	if ((r = verify_with_key(exp, as, &ad, &key, v)) != 0)
		return r;
	/* Set for a counter refusal too: the caller records what it saw. */
	res->sign_count = ad.sign_count;
	if ((r = counter_check(cred, &ad, v)) != 0)
		return r;
	res->flags = ad.flags;
	res->user_verified = (ad.flags & TK_WA_FLAG_UV) != 0;
	res->backup_state = (ad.flags & TK_WA_FLAG_BS) != 0;
	return tk_wa_fail(v, 0, "assertion verified");
}
