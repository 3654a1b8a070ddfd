/*
 * clientDataJSON checks (WebAuthn L3 sections 7.1 and 7.2, steps on C):
 * parsed as JSON with jansson, never compared to a template, since
 * browsers add members (e.g. other_keys_can_be_added_here).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "twokey/common.h"
#include "webauthn_int.h"

#define CLIENTDATA_MAX	(64 * 1024)

static int
check_type(const json_t *root, const char *want, struct tk_webauthn_verdict *v)
{
	const json_t *t = json_object_get(root, "type");
	char esc[64];

	if (!json_is_string(t))
		return tk_wa_fail(v, TK_WA_ERR_CLIENTDATA,
		    "clientDataJSON has no string type");
	if (json_string_length(t) != strlen(want) ||
	    memcmp(json_string_value(t), want, strlen(want)) != 0)
		return tk_wa_fail(v, TK_WA_ERR_TYPE, "clientDataJSON type is "
		    "\"%s\", expected \"%s\"", tk_wa_esc(esc, sizeof(esc),
		    json_string_value(t), json_string_length(t)), want);
	return 0;
}

static int
check_challenge(const json_t *root, const struct tk_webauthn_expect *exp,
    struct tk_webauthn_verdict *v)
{
	const json_t *c = json_object_get(root, "challenge");
	uint8_t *got = NULL;
	size_t got_len = 0;
	int r;

	if (!json_is_string(c))
		return tk_wa_fail(v, TK_WA_ERR_CLIENTDATA,
		    "clientDataJSON has no string challenge");
	if ((r = tk_b64url_decode(json_string_value(c), json_string_length(c),
	    &got, &got_len)) == TK_ERR_NOMEM)
		return tk_wa_fail(v, TK_WA_ERR_NOMEM, "out of memory");
	if (r != 0)
		return tk_wa_fail(v, TK_WA_ERR_CHALLENGE, "challenge is not "
		    "unpadded base64url");
	if (got_len != exp->challenge_len ||
	    CRYPTO_memcmp(got, exp->challenge, got_len) != 0)
		r = tk_wa_fail(v, TK_WA_ERR_CHALLENGE, "challenge does not "
		    "match the one issued for this ceremony");
	else
		r = 0;
	free(got);
	return r;
}

static int
check_origin(const json_t *root, const struct tk_webauthn_expect *exp,
    struct tk_webauthn_verdict *v)
{
	const json_t *o = json_object_get(root, "origin");
	const char *s;
	size_t i, n;
	char esc[128];

	if (!json_is_string(o))
		return tk_wa_fail(v, TK_WA_ERR_CLIENTDATA,
		    "clientDataJSON has no string origin");
	s = json_string_value(o);
	n = json_string_length(o);
	for (i = 0; i < exp->n_origins; i++)
		if (strlen(exp->origins[i]) == n &&
		    memcmp(exp->origins[i], s, n) == 0)
			return 0;
	return tk_wa_fail(v, TK_WA_ERR_ORIGIN, "origin %s is not allowed",
	    tk_wa_esc(esc, sizeof(esc), s, n));
}

static int
check_cross_origin(const json_t *root, struct tk_webauthn_verdict *v)
{
	const json_t *c = json_object_get(root, "crossOrigin");

	if (c != NULL && !json_is_boolean(c))
		return tk_wa_fail(v, TK_WA_ERR_CLIENTDATA,
		    "clientDataJSON crossOrigin is not a boolean");
	if (json_is_true(c))
		return tk_wa_fail(v, TK_WA_ERR_CROSS_ORIGIN, "ceremony ran "
		    "in a cross-origin frame (crossOrigin is true)");
	if (json_object_get(root, "topOrigin") != NULL)
		return tk_wa_fail(v, TK_WA_ERR_CROSS_ORIGIN, "clientDataJSON "
		    "names a topOrigin, so it ran in a cross-origin frame");
	return 0;
}

/*
 * Token binding (L2): absent, or status "supported" (client could, did
 * not). "present" would require comparing the id with the TLS token
 * binding, which this server does not negotiate, so it is refused too.
 */
static int
check_token_binding(const json_t *root, struct tk_webauthn_verdict *v)
{
	const json_t *tb = json_object_get(root, "tokenBinding"), *st;
	char esc[64];

	if (tb == NULL)
		return 0;
	if (!json_is_object(tb) || !json_is_string(st = json_object_get(tb,
	    "status")))
		return tk_wa_fail(v, TK_WA_ERR_TOKEN_BINDING, "clientDataJSON "
		    "tokenBinding is not an object with a string status");
	if (strcmp(json_string_value(st), "supported") == 0)
		return 0;
	if (strcmp(json_string_value(st), "present") == 0)
		return tk_wa_fail(v, TK_WA_ERR_TOKEN_BINDING, "tokenBinding "
		    "status is \"present\" but this server does not use "
		    "token binding");
	return tk_wa_fail(v, TK_WA_ERR_TOKEN_BINDING, "tokenBinding status "
	    "\"%s\" is not a defined value", tk_wa_esc(esc, sizeof(esc),
	    json_string_value(st), json_string_length(st)));
}

int
tk_wa_clientdata_check(const uint8_t *json, size_t len, const char *type,
    const struct tk_webauthn_expect *exp, struct tk_webauthn_verdict *v)
{
	json_error_t jerr;
	json_t *root = NULL;
	int r, nomem = 0;

	if (json == NULL || len == 0 || len > CLIENTDATA_MAX)
		return tk_wa_fail(v, TK_WA_ERR_CLIENTDATA, "clientDataJSON "
		    "is empty or longer than %d bytes", CLIENTDATA_MAX);
	root = tk_json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES,
	    &jerr, &nomem);
	if (nomem) {
		r = tk_wa_fail(v, TK_WA_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!json_is_object(root)) {
		r = tk_wa_fail(v, TK_WA_ERR_CLIENTDATA, "clientDataJSON is "
		    "not a JSON object");
		goto out;
	}
	if ((r = check_type(root, type, v)) != 0 ||
	    (r = check_challenge(root, exp, v)) != 0 ||
	    (r = check_origin(root, exp, v)) != 0 ||
	    (r = check_cross_origin(root, v)) != 0 ||
	    (r = check_token_binding(root, v)) != 0)
		goto out;
	r = 0;
out:
	json_decref(root);
	return r;
}
