/*
 * WebAuthn verdicts: the error vocabulary, verdict lines, and the checks
 * registration and assertion share (rpIdHash, UP, UV, algorithm policy).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <fido.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "twokey/common.h"
#include "webauthn_int.h"

static const struct {
	int		 code;
	const char	*name;
	const char	*text;
} errors[] = {
	{ TK_WA_OK, "ok", "verified" },
	{ TK_WA_ERR_NOMEM, "nomem", "out of memory" },
	{ TK_WA_ERR_ARG, "arg", "invalid arguments or ceremony policy" },
	{ TK_WA_ERR_CLIENTDATA, "clientdata", "clientDataJSON is malformed" },
	{ TK_WA_ERR_TYPE, "type", "clientDataJSON type is wrong for this "
	    "ceremony" },
	{ TK_WA_ERR_CHALLENGE, "challenge", "challenge does not match" },
	{ TK_WA_ERR_ORIGIN, "origin", "origin is not allowed" },
	{ TK_WA_ERR_CROSS_ORIGIN, "cross-origin", "ceremony ran in a "
	    "cross-origin frame" },
	{ TK_WA_ERR_TOKEN_BINDING, "token-binding", "tokenBinding is "
	    "malformed or unsupported" },
	{ TK_WA_ERR_ATTOBJ, "attobj", "attestationObject is malformed" },
	{ TK_WA_ERR_AUTHDATA, "authdata", "authenticator data is malformed" },
	{ TK_WA_ERR_RPID, "rpid", "authenticator data is for another "
	    "relying party (rpIdHash)" },
	{ TK_WA_ERR_UP, "up", "user presence flag is not set" },
	{ TK_WA_ERR_UV, "uv", "user verification required but not done" },
	{ TK_WA_ERR_FLAGS, "flags", "authenticator data flags are "
	    "inconsistent" },
	{ TK_WA_ERR_ALG, "alg", "key algorithm is not allowed or not "
	    "supported" },
	{ TK_WA_ERR_CRED_ID, "cred-id", "credential id is invalid or does "
	    "not match" },
	{ TK_WA_ERR_FMT, "fmt", "attestation format is not supported" },
	{ TK_WA_ERR_ATT_SIG, "att-sig", "attestation signature does not "
	    "verify" },
	{ TK_WA_ERR_ATT_CERT, "att-cert", "attestation certificate is "
	    "invalid" },
	{ TK_WA_ERR_ATT_TRUST, "att-trust", "attestation does not chain to "
	    "a trusted authenticator maker" },
	{ TK_WA_ERR_AAGUID, "aaguid", "authenticator model is not allowed" },
	{ TK_WA_ERR_SIG, "sig", "signature does not verify with the stored "
	    "credential key" },
	{ TK_WA_ERR_COUNTER, "counter", "sign counter did not increase: the "
	    "credential may be cloned" },
	{ TK_WA_ERR_BACKUP, "backup", "backup flags contradict the stored "
	    "credential" },
	{ TK_WA_ERR_EXTENSIONS, "extensions", "extension outputs are "
	    "malformed or unexpected" },
	{ TK_WA_ERR_CREDENTIAL, "credential", "stored credential is "
	    "unusable" },
};

const char *
tk_webauthn_strerror(int err)
{
	size_t i;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].code == err)
			return errors[i].text;
	return "unknown webauthn error";
}

const char *
tk_webauthn_errname(int err)
{
	size_t i;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].code == err)
			return errors[i].name;
	return "unknown";
}

int
tk_wa_fail(struct tk_webauthn_verdict *v, int code, const char *fmt, ...)
{
	va_list ap;

	if (v == NULL)
		return code;
	v->code = code;
	va_start(ap, fmt);
	(void)vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
	va_end(ap);
	return code;
}

const char *
tk_wa_esc(char *out, size_t cap, const char *s, size_t len)
{
	return tk_log_escape(out, cap, s, len);
}

int
tk_wa_expect_ok(const struct tk_webauthn_expect *exp,
    struct tk_webauthn_verdict *v)
{
	if (exp == NULL || exp->rp_id == NULL || exp->rp_id[0] == '\0' ||
	    exp->origins == NULL || exp->n_origins == 0 ||
	    exp->challenge == NULL || exp->challenge_len < 16 ||
	    (exp->algs == NULL && exp->n_algs != 0) ||
	    (exp->aaguids == NULL && exp->n_aaguids != 0))
		return tk_wa_fail(v, TK_WA_ERR_ARG, "ceremony needs an rp id, "
		    "allowed origins and a challenge of at least 16 bytes");
	return 0;
}

int
tk_wa_alg_allowed(const struct tk_webauthn_expect *exp, int alg)
{
	static const int dflt[] = { TK_WA_ALG_ES256, TK_WA_ALG_EDDSA,
	    TK_WA_ALG_RS256 };
	const int *a = exp->algs != NULL ? exp->algs : dflt;
	size_t i, n = exp->algs != NULL ? exp->n_algs : 3;

	for (i = 0; i < n; i++)
		if (a[i] == alg)
			return 1;
	return 0;
}

/* Checks common to both ceremonies once authenticator data is parsed. */
int
tk_wa_authdata_policy(const struct tk_webauthn_expect *exp,
    const struct tk_wa_authdata *ad, struct tk_webauthn_verdict *v)
{
	uint8_t want[SHA256_DIGEST_LENGTH];
	char esc[96];

	/* One-shot SHA256 fetches the digest and fails without memory. */
	if (SHA256((const unsigned char *)exp->rp_id, strlen(exp->rp_id),
	    want) == NULL)
		return tk_wa_fail(v, TK_WA_ERR_NOMEM, "out of memory");
	if (CRYPTO_memcmp(want, ad->rp_id_hash, sizeof(want)) != 0)
		return tk_wa_fail(v, TK_WA_ERR_RPID, "rpIdHash is not "
		    "SHA-256(\"%s\"): the authenticator signed for another "
		    "relying party", tk_wa_esc(esc, sizeof(esc), exp->rp_id,
		    strlen(exp->rp_id)));
	if (!(ad->flags & TK_WA_FLAG_UP))
		return tk_wa_fail(v, TK_WA_ERR_UP, "user presence (UP) flag "
		    "is 0 in authenticator data flags 0x%02x", ad->flags);
	if (exp->require_uv && !(ad->flags & TK_WA_FLAG_UV))
		return tk_wa_fail(v, TK_WA_ERR_UV, "user verification "
		    "required but UV flag is 0 (flags 0x%02x)", ad->flags);
	return 0;
}

/* Maps what is left after our own checks to a libfido2 verdict. */
int
tk_wa_fido_fail(struct tk_webauthn_verdict *v, int sigcode, int fido_rc,
    const char *what)
{
	if (fido_rc == FIDO_ERR_INVALID_SIG)
		return tk_wa_fail(v, sigcode, "%s does not verify", what);
	if (fido_rc == FIDO_ERR_INVALID_PARAM)
		return tk_wa_fail(v, TK_WA_ERR_EXTENSIONS, "%s: libfido2 "
		    "found extension outputs it cannot match", what);
	return tk_wa_fail(v, sigcode, "%s could not be checked by libfido2 "
	    "(%s)", what, fido_strerr(fido_rc));
}

void
tk_webauthn_cred_update(struct tk_webauthn_cred *cred,
    const struct tk_webauthn_assert_result *res)
{
	if (cred == NULL || res == NULL)
		return;
	cred->sign_count = res->sign_count;
	cred->backup_state = res->backup_state;
}
