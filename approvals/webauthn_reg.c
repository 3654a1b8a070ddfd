/*
 * Registration (WebAuthn L3 section 7.1). Order: clientDataJSON, the
 * attestationObject split, authenticator data and its policy (rpIdHash,
 * UP, UV, BE), credential id and algorithm, authenticator model, then the
 * attestation statement: certificate chain here, signature by libfido2.
 */
#include <stdint.h>
#include <string.h>

#include <cbor.h>
#include <fido.h>
#include <openssl/crypto.h>

#include "webauthn_int.h"

#define FMT_RS1		(-65535)	/* TPM attStmt alg libfido2 knows */

static int
stmt_alg(const cbor_item_t *st, int *alg)
{
	const cbor_item_t *a = tk_wa_map_get(st, "alg");

	if (a == NULL || !cbor_isa_negint(a) || cbor_get_int(a) > INT32_MAX)
		return -1;
	*alg = -1 - (int)cbor_get_int(a);
	return 0;
}

/* Per-format shape of attStmt before any signature is checked. */
static int
stmt_precheck(const char *fmt, const cbor_item_t *st, int cred_alg,
    struct tk_webauthn_verdict *v)
{
	int alg = 0, has_x5c = tk_wa_map_get(st, "x5c") != NULL;
	const cbor_item_t *x5c;
	char esc[32];

	if (strcmp(fmt, "none") == 0) {
		if (cbor_map_size(st) != 0)
			return tk_wa_fail(v, TK_WA_ERR_ATTOBJ, "\"none\" "
			    "attestation with a non-empty attStmt");
		return 0;
	}
	if (strcmp(fmt, "fido-u2f") == 0) {
		x5c = tk_wa_map_get(st, "x5c");
		if (cred_alg != TK_WA_ALG_ES256 || x5c == NULL ||
		    !cbor_isa_array(x5c) || cbor_array_size(x5c) != 1)
			return tk_wa_fail(v, TK_WA_ERR_ATTOBJ, "fido-u2f "
			    "attestation needs an ES256 key and exactly one "
			    "x5c certificate");
		return 0;
	}
	if (strcmp(fmt, "packed") != 0 && strcmp(fmt, "tpm") != 0)
		return tk_wa_fail(v, TK_WA_ERR_FMT, "attestation format "
		    "\"%s\" is not supported", tk_wa_esc(esc, sizeof(esc),
		    fmt, strlen(fmt)));
	if (stmt_alg(st, &alg) != 0)
		return tk_wa_fail(v, TK_WA_ERR_ATTOBJ, "%s attStmt has no "
		    "negative integer alg", fmt);
	if (strcmp(fmt, "packed") == 0 && !has_x5c && alg != cred_alg)
		return tk_wa_fail(v, TK_WA_ERR_ATT_SIG, "packed self "
		    "attestation alg %d differs from the credential alg %d",
		    alg, cred_alg);
	/* libfido2 1.12 builds the TPM certInfo digest only for RS1. */
	if (strcmp(fmt, "tpm") == 0 && (alg != FMT_RS1 || !has_x5c))
		return tk_wa_fail(v, TK_WA_ERR_FMT, "tpm attestation with "
		    "alg %d is not supported (only RS1 with an x5c)", alg);
	return 0;
}

static int
fido_verify(const struct tk_webauthn_expect *exp,
    const struct tk_webauthn_registration *reg, const struct tk_wa_attobj *ao,
    const struct tk_wa_authdata *ad, int alg, int self,
    struct tk_webauthn_verdict *v)
{
	fido_cred_t *c;
	int e, r = TK_WA_ERR_NOMEM;

	if ((c = fido_cred_new()) == NULL)
		return tk_wa_fail(v, r, "out of memory");
	if ((e = fido_cred_set_type(c, alg)) != FIDO_OK ||
	    (e = fido_cred_set_clientdata(c, reg->client_data,
	    reg->client_data_len)) != FIDO_OK ||
	    (e = fido_cred_set_rp(c, exp->rp_id, NULL)) != FIDO_OK ||
	    (e = fido_cred_set_authdata_raw(c, ao->auth_data,
	    ao->auth_data_len)) != FIDO_OK) {
		r = tk_wa_fail(v, TK_WA_ERR_AUTHDATA, "libfido2 refused the "
		    "authenticator data (%s)", fido_strerr(e));
		goto out;
	}
	/* Mirror extension outputs we did not ask for but accept. */
	if ((e = fido_cred_set_extensions(c, ad->ext_hmac_secret ?
	    FIDO_EXT_HMAC_SECRET : 0)) != FIDO_OK ||
	    (ad->ext_cred_protect != 0 && (e = fido_cred_set_prot(c,
	    ad->ext_cred_protect)) != FIDO_OK) ||
	    (exp->require_uv && (e = fido_cred_set_uv(c,
	    FIDO_OPT_TRUE)) != FIDO_OK) ||
	    (e = fido_cred_set_fmt(c, ao->fmt)) != FIDO_OK ||
	    (e = fido_cred_set_attstmt(c, ao->att_stmt,
	    ao->att_stmt_len)) != FIDO_OK) {
		r = tk_wa_fail(v, TK_WA_ERR_ATTOBJ, "libfido2 refused the "
		    "attestation statement (%s)", fido_strerr(e));
		goto out;
	}
	if (strcmp(ao->fmt, "none") == 0)
		e = FIDO_OK;	/* nothing is signed */
	else if (self)
		e = fido_cred_verify_self(c);
	else
		e = fido_cred_verify(c);
	if (e != FIDO_OK) {
		r = tk_wa_fido_fail(v, TK_WA_ERR_ATT_SIG, e,
		    "attestation signature");
		goto out;
	}
	r = 0;
out:
	fido_cred_free(&c);
	return r;
}

static int
authdata_checks(const struct tk_webauthn_expect *exp,
    const struct tk_webauthn_registration *reg, const struct tk_wa_authdata *ad,
    struct tk_wa_cose *key, struct tk_webauthn_verdict *v)
{
	size_t i;
	int r;

	if ((r = tk_wa_authdata_policy(exp, ad, v)) != 0)
		return r;
	if (exp->refuse_backup_eligible && (ad->flags & TK_WA_FLAG_BE))
		return tk_wa_fail(v, TK_WA_ERR_BACKUP, "policy requires a "
		    "device-bound key but BE (backup eligible) is set");
	if (reg->raw_id != NULL && (reg->raw_id_len != ad->cred_id_len ||
	    CRYPTO_memcmp(reg->raw_id, ad->cred_id, ad->cred_id_len) != 0))
		return tk_wa_fail(v, TK_WA_ERR_CRED_ID, "rawId differs from "
		    "the credential id in authenticator data");
	if ((r = tk_wa_cose_parse(ad->cose_key, ad->cose_key_len, key,
	    v)) != 0)
		return r == TK_WA_ERR_CREDENTIAL ? tk_wa_fail(v,
		    TK_WA_ERR_AUTHDATA, "credential public key is not a "
		    "well-formed COSE key") : r;
	if (!tk_wa_alg_allowed(exp, key->alg))
		return tk_wa_fail(v, TK_WA_ERR_ALG, "credential algorithm %d "
		    "is not allowed for this ceremony", key->alg);
	for (i = 0; i < exp->n_aaguids; i++)
		if (memcmp(exp->aaguids[i], ad->aaguid, TK_WA_AAGUID_LEN) == 0)
			break;
	if (exp->aaguids != NULL && i == exp->n_aaguids)
		return tk_wa_fail(v, TK_WA_ERR_AAGUID, "authenticator AAGUID "
		    "is not on the allow-list");
	return 0;
}

static void
cred_fill(struct tk_webauthn_cred *cred, const char *person,
    const struct tk_wa_attobj *ao, const struct tk_wa_authdata *ad, int alg,
    int trusted)
{
	memcpy(cred->person, person, strlen(person) + 1);
	memcpy(cred->id, ad->cred_id, ad->cred_id_len);
	cred->id_len = ad->cred_id_len;
	cred->alg = alg;
	memcpy(cred->cose_key, ad->cose_key, ad->cose_key_len);
	cred->cose_key_len = ad->cose_key_len;
	cred->sign_count = ad->sign_count;
	memcpy(cred->aaguid, ad->aaguid, TK_WA_AAGUID_LEN);
	memcpy(cred->fmt, ao->fmt, sizeof(cred->fmt));
	cred->backup_eligible = (ad->flags & TK_WA_FLAG_BE) != 0;
	cred->backup_state = (ad->flags & TK_WA_FLAG_BS) != 0;
	cred->uv_at_registration = (ad->flags & TK_WA_FLAG_UV) != 0;
	cred->attestation_trusted = trusted;
}

int
tk_webauthn_verify_registration(const struct tk_webauthn_expect *exp,
    const struct tk_webauthn_registration *reg, const char *person,
    struct tk_webauthn_cred *cred, struct tk_webauthn_verdict *v)
{
	struct tk_wa_attobj ao;
	struct tk_wa_authdata ad;
	struct tk_wa_cose key;
	cbor_item_t *st = NULL;
	size_t used, plen;
	int r, trusted = 0;

	if (cred != NULL)
		memset(cred, 0, sizeof(*cred));
	if (v != NULL)
		memset(v, 0, sizeof(*v));
	if ((r = tk_wa_expect_ok(exp, v)) != 0)
		return r;
	plen = person != NULL ? strnlen(person, TK_WA_PERSON_MAX + 1) : 0;
	if (reg == NULL || cred == NULL || plen == 0 ||
	    plen > TK_WA_PERSON_MAX)
		return tk_wa_fail(v, TK_WA_ERR_ARG, "registration needs a "
		    "response, a record and a person id of 1..%d bytes",
		    TK_WA_PERSON_MAX);
	if ((r = tk_wa_clientdata_check(reg->client_data,
	    reg->client_data_len, "webauthn.create", exp, v)) != 0 ||
	    (r = tk_wa_attobj_split(reg->att_obj, reg->att_obj_len, &ao,
	    v)) != 0 ||
	    (r = tk_wa_authdata_parse(ao.auth_data, ao.auth_data_len, 1, &ad,
	    v)) != 0 ||
	    (r = authdata_checks(exp, reg, &ad, &key, v)) != 0)
		goto out;
	if ((st = tk_wa_cbor_load(ao.att_stmt, ao.att_stmt_len,
	    &used)) == NULL) {
		r = tk_wa_fail(v, TK_WA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if ((r = stmt_precheck(ao.fmt, st, key.alg, v)) != 0 ||
	    (r = tk_wa_x5c_check(st, ao.fmt, ad.aaguid, exp, &trusted,
	    v)) != 0 ||
	    (r = fido_verify(exp, reg, &ao, &ad, key.alg,
	    tk_wa_map_get(st, "x5c") == NULL, v)) != 0)
		goto out;
	cred_fill(cred, person, &ao, &ad, key.alg, trusted);
	r = tk_wa_fail(v, 0, "registration verified");
out:
	if (st != NULL)
		cbor_decref(&st);
	if (r != 0)
		OPENSSL_cleanse(cred, sizeof(*cred));
	return r;
}
