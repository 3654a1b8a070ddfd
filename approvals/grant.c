/*
 * Grants: ES256 JWTs (RFC 7519, RFC 7515) signed in the token with the
 * token key, their JWKS (RFC 7517) with an RFC 7638 thumbprint as kid,
 * revocation, and the post-incident reviews that break-glass grants leave.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/hsm.h"
#include "internal.h"

/* The public JWK members of the token key and its thumbprint. */
struct jwk {
	char x[64];
	char y[64];
	char kid[64];
};

static int
b64url_into(const uint8_t *in, size_t len, char *out, size_t cap)
{
	char *s;
	int ok;

	if ((s = tk_b64url_encode(in, len)) == NULL)
		return -1;
	ok = strlen(s) < cap;
	if (ok)
		memcpy(out, s, strlen(s) + 1);
	free(s);
	return ok ? 0 : -1;
}

static int
coord(const EVP_PKEY *pk, const char *name, char *out, size_t cap)
{
	BIGNUM *bn = NULL;
	uint8_t raw[32];
	int rc = -1;

	if (EVP_PKEY_get_bn_param(pk, name, &bn) != 1 ||
	    BN_bn2binpad(bn, raw, sizeof(raw)) != (int)sizeof(raw))
		goto out;
	rc = b64url_into(raw, sizeof(raw), out, cap);
out:
	BN_free(bn);
	return rc;
}

static int
token_jwk(struct tk_approvals *ap, struct jwk *k)
{
	EVP_PKEY *pk = NULL;
	char tp[256];
	uint8_t d[SHA256_DIGEST_LENGTH];
	int n, rc = TK_APR_ERR_SIGN;

	memset(k, 0, sizeof(*k));
	if (ap->signer == NULL ||
	    tk_signer_public_key(ap->signer, TK_KEY_TOKEN, &pk) != 0) {
		tk_error("no token key to sign grants with");
		goto out;
	}
	if (!EVP_PKEY_is_a(pk, "EC") ||
	    coord(pk, OSSL_PKEY_PARAM_EC_PUB_X, k->x, sizeof(k->x)) != 0 ||
	    coord(pk, OSSL_PKEY_PARAM_EC_PUB_Y, k->y, sizeof(k->y)) != 0)
		goto out;
	/* RFC 7638: required members only, sorted, no whitespace. */
	n = snprintf(tp, sizeof(tp),
	    "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
	    k->x, k->y);
	if (n < 0 || (size_t)n >= sizeof(tp) ||
	    SHA256((const uint8_t *)tp, (size_t)n, d) == NULL ||
	    b64url_into(d, sizeof(d), k->kid, sizeof(k->kid)) != 0)
		goto out;
	rc = TK_APR_OK;
out:
	EVP_PKEY_free(pk);
	return rc;
}

int
tk_approvals_jwks(struct tk_approvals *ap, char **out)
{
	struct jwk k = { "", "", "" };
	json_t *o;
	int rc;

	*out = NULL;
	if ((rc = token_jwk(ap, &k)) != 0)
		return rc;
	o = json_pack("{s:[{s:s, s:s, s:s, s:s, s:s, s:s, s:s}]}", "keys",
	    "kty", "EC", "crv", "P-256", "x", k.x, "y", k.y, "use", "sig",
	    "alg", "ES256", "kid", k.kid);
	if (o == NULL ||
	    (*out = tk_json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		rc = TK_APR_ERR_NOMEM;
	json_decref(o);
	return rc;
}

/* base64url of the compact JSON of o. */
static char *
b64url_json(const json_t *o)
{
	char *s, *b;

	if ((s = tk_json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return NULL;
	b = tk_b64url_encode((const uint8_t *)s, strlen(s));
	free(s);
	return b;
}

/* header.payload.signature, the signature made in the token. */
static int
jws_sign(struct tk_approvals *ap, const json_t *header,
    const json_t *payload, char **out)
{
	uint8_t d[SHA256_DIGEST_LENGTH], rs[64];
	char *h = NULL, *p = NULL, *sig = NULL, *jwt = NULL;
	size_t n;
	int rc = TK_APR_ERR_NOMEM;

	if ((h = b64url_json(header)) == NULL ||
	    (p = b64url_json(payload)) == NULL)
		goto out;
	n = strlen(h) + strlen(p) + 2 + 88;
	if ((jwt = malloc(n)) == NULL)
		goto out;
	(void)snprintf(jwt, n, "%s.%s", h, p);
	rc = TK_APR_ERR_SIGN;
	if (SHA256((const uint8_t *)jwt, strlen(jwt), d) == NULL ||
	    tk_signer_sign_digest_raw(ap->signer, TK_KEY_TOKEN, d, rs) != 0) {
		tk_error("the token refused to sign a grant");
		goto out;
	}
	rc = TK_APR_ERR_NOMEM;
	if ((sig = tk_b64url_encode(rs, sizeof(rs))) == NULL)
		goto out;
	(void)snprintf(jwt + strlen(jwt), n - strlen(jwt), ".%s", sig);
	*out = jwt;
	jwt = NULL;
	rc = TK_APR_OK;
out:
	free(h);
	free(p);
	free(sig);
	free(jwt);
	return rc;
}

static json_t *
approvers_claim(const struct tk_ballot_set *set,
    const struct tk_quorum_result *q)
{
	json_t *arr;
	char *id;
	unsigned int i;

	if ((arr = json_array()) == NULL)
		return NULL;
	for (i = 0; i < q->approvals; i++) {
		id = tk_b64url_encode(set->cred_id[q->counted[i]],
		    set->cred_id_len[q->counted[i]]);
		if (id == NULL || json_array_append_new(arr,
		    json_string(id)) != 0) {
			free(id);
			json_decref(arr);
			return NULL;
		}
		free(id);
	}
	return arr;
}

/* "a b c" from the canonical request's scopes (already sorted). */
static char *
scope_claim(const json_t *scopes)
{
	const json_t *s;
	size_t i, n = 1;
	char *out;

	json_array_foreach(scopes, i, s)
		n += strlen(json_string_value(s)) + 1;
	if ((out = calloc(1, n)) == NULL)
		return NULL;
	json_array_foreach(scopes, i, s) {
		if (i > 0)
			(void)strncat(out, " ", n - strlen(out) - 1);
		(void)strncat(out, json_string_value(s), n - strlen(out) - 1);
	}
	return out;
}

/*
 * The claims: iss, sub (the service account, or the commander for a
 * break-glass), aud, scope, iat, nbf, exp, jti, kind, req (request id),
 * req_digest (base64url SHA-256 of the canonical request), approvers
 * (base64url credential ids of the counted approvals), and the connector
 * or incident.
 */
static json_t *
claims(struct tk_approvals *ap, const struct tk_request_info *req,
    const json_t *c, json_t *approvers, const char *jti, int64_t now,
    int64_t exp)
{
	const char *sub, *extra_k, *extra_v;
	char *scope, *digest;
	json_t *o = NULL;

	if (req->kind == TK_REQ_ELEVATION) {
		sub = json_string_value(json_object_get(c, "service_account"));
		extra_k = "connector";
	} else {
		sub = json_string_value(json_object_get(c, "requester"));
		extra_k = "incident";
	}
	extra_v = json_string_value(json_object_get(c, extra_k));
	scope = scope_claim(json_object_get(c, "scopes"));
	digest = tk_b64url_encode(req->digest, sizeof(req->digest));
	if (sub != NULL && extra_v != NULL && scope != NULL && digest != NULL)
		o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, "
		    "s:I, s:s, s:O, s:s}", "iss", ap->policy->issuer, "sub",
		    sub, "aud", ap->policy->audience, "scope", scope,
		    "iat", (json_int_t)now, "nbf", (json_int_t)now,
		    "exp", (json_int_t)exp, "jti", jti, "kind",
		    req->kind == TK_REQ_ELEVATION ? "elevation" : "break-glass",
		    "req", (json_int_t)req->id, "req_digest", digest,
		    "approvers", approvers, extra_k, extra_v);
	free(scope);
	free(digest);
	return o;
}

static int
store_grant(struct tk_approvals *ap, const struct tk_request_info *req,
    const char *jti, int64_t now, int64_t exp, const char *jwt)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = tk_store_prepare(ap, "INSERT INTO grants(jti, request_id, "
	    "kind, issued, expires, jwt) VALUES (?, ?, ?, ?, ?, ?)",
	    &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, jti, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, req->id);
	sqlite3_bind_int(st, 3, (int)req->kind);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, exp);
	sqlite3_bind_text(st, 6, jwt, -1, SQLITE_STATIC);
	if ((rc = tk_store_done(ap, st)) != 0 ||
	    req->kind != TK_REQ_BREAKGLASS)
		return rc;
	if ((rc = tk_store_prepare(ap, "INSERT INTO reviews(request_id, "
	    "commander_id, due) VALUES (?, ?, ?)", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, req->id);
	sqlite3_bind_int64(st, 2, req->requester);
	sqlite3_bind_int64(st, 3, now + ap->policy->review_due);
	return tk_store_done(ap, st);
}

static int
new_jti(char *jti, size_t cap)
{
	uint8_t rnd[16];

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return TK_APR_ERR_NOMEM;
	return b64url_into(rnd, sizeof(rnd), jti, cap) == 0 ? TK_APR_OK :
	    TK_APR_ERR_NOMEM;
}

int
tk_grant_issue(struct tk_approvals *ap, const struct tk_request_info *req,
    const struct tk_ballot_set *set, const struct tk_quorum_result *q,
    int64_t now, char *jti, size_t jti_len)
{
	json_t *c = NULL, *hdr = NULL, *pl = NULL, *appr = NULL, *d;
	struct jwk k;
	char *jwt = NULL;
	int64_t exp;
	int rc;

	if ((rc = token_jwk(ap, &k)) != 0 || (rc = new_jti(jti, jti_len)) != 0)
		goto out;
	rc = TK_APR_ERR_DB;
	if ((c = json_loads(req->canonical, 0, NULL)) == NULL)
		goto out;
	d = json_object_get(c, req->kind == TK_REQ_ELEVATION ? "duration" :
	    "ttl");
	if (!json_is_integer(d))
		goto out;
	exp = now + (int64_t)json_integer_value(d);
	rc = TK_APR_ERR_NOMEM;
	if ((appr = approvers_claim(set, q)) == NULL ||
	    (pl = claims(ap, req, c, appr, jti, now, exp)) == NULL ||
	    (hdr = json_pack("{s:s, s:s, s:s}", "alg", "ES256", "typ", "JWT",
	    "kid", k.kid)) == NULL)
		goto out;
	if ((rc = jws_sign(ap, hdr, pl, &jwt)) != 0 ||
	    (rc = store_grant(ap, req, jti, now, exp, jwt)) != 0)
		goto out;
	rc = TK_APR_OK;
out:
	json_decref(c);
	json_decref(hdr);
	json_decref(pl);
	json_decref(appr);
	free(jwt);
	return rc;
}

void
tk_grant_info_clear(struct tk_grant_info *g)
{
	if (g == NULL)
		return;
	free(g->jwt);
	memset(g, 0, sizeof(*g));
}

int
tk_approvals_grant_get(struct tk_approvals *ap, int64_t request_id,
    struct tk_grant_info *g)
{
	sqlite3_stmt *st = NULL;
	int64_t now = tk_apr_now(ap);
	int r, rc;

	memset(g, 0, sizeof(*g));
	if ((rc = tk_store_prepare(ap, "SELECT jti, kind, issued, expires, "
	    "revoked, jwt FROM grants WHERE request_id = ?", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, request_id);
	if ((r = sqlite3_step(st)) != SQLITE_ROW) {
		rc = r == SQLITE_DONE ? TK_APR_ERR_NOT_FOUND : TK_APR_ERR_DB;
		goto out;
	}
	g->request_id = request_id;
	(void)snprintf(g->jti, sizeof(g->jti), "%s",
	    (const char *)sqlite3_column_text(st, 0));
	g->kind = (enum tk_request_kind)sqlite3_column_int(st, 1);
	g->issued = sqlite3_column_int64(st, 2);
	g->expires = sqlite3_column_int64(st, 3);
	g->revoked = sqlite3_column_int64(st, 4);
	g->state = g->revoked != 0 ? TK_GRANT_REVOKED : now >= g->expires ?
	    TK_GRANT_EXPIRED : TK_GRANT_ACTIVE;
	rc = TK_APR_ERR_NOMEM;
	if ((g->jwt = strdup((const char *)sqlite3_column_text(st, 5))) ==
	    NULL)
		goto out;
	rc = TK_APR_OK;
out:
	sqlite3_finalize(st);
	if (rc != 0)
		tk_grant_info_clear(g);
	return rc;
}

int
tk_approvals_grant_revoke(struct tk_approvals *ap, const char *actor,
    const char *jti)
{
	sqlite3_stmt *st = NULL;
	int64_t now = tk_apr_now(ap);
	int rc;

	if (tk_apr_check_text(actor, TK_NAME_MAX) != 0 ||
	    tk_apr_check_token(jti) != 0)
		return tk_apr_refuse(ap, "-", "grant.revoke", "grant",
		    TK_APR_ERR_INVALID, NULL);
	if ((rc = tk_store_begin(ap)) != 0)
		return rc;
	if ((rc = tk_store_prepare(ap, "UPDATE grants SET revoked = ? "
	    "WHERE jti = ? AND revoked = 0 AND expires > ?", &st)) != 0)
		goto fail;
	sqlite3_bind_int64(st, 1, now > 0 ? now : 1);
	sqlite3_bind_text(st, 2, jti, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	if ((rc = tk_store_done(ap, st)) != 0)
		goto fail;
	if (sqlite3_changes(ap->db) != 1) {
		tk_store_rollback(ap);
		return tk_apr_refuse(ap, actor, "grant.revoke", jti,
		    TK_APR_ERR_REVOKED, NULL);
	}
	return tk_apr_commit_event(ap, actor, "grant.revoke", jti,
	    json_object());
fail:
	tk_store_rollback(ap);
	return rc;
}

int
tk_approvals_review_file(struct tk_approvals *ap, int64_t request_id,
    int64_t person, const char *text)
{
	struct tk_person p;
	sqlite3_stmt *st = NULL;
	char obj[32];
	int rc;

	(void)snprintf(obj, sizeof(obj), "request/%lld",
	    (long long)request_id);
	if (tk_apr_check_text(text, TK_JSON_MAX) != 0)
		return tk_apr_refuse(ap, "-", "review.file", obj,
		    TK_APR_ERR_INVALID, NULL);
	if ((rc = tk_store_begin(ap)) != 0)
		return rc;
	if ((rc = tk_store_person_get(ap, person, &p)) != 0 ||
	    (rc = tk_store_prepare(ap, "UPDATE reviews SET filed = ?, "
	    "text = ? WHERE request_id = ? AND commander_id = ? AND "
	    "filed = 0", &st)) != 0)
		goto fail;
	sqlite3_bind_int64(st, 1, tk_apr_now(ap) > 0 ? tk_apr_now(ap) : 1);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, request_id);
	sqlite3_bind_int64(st, 4, person);
	if ((rc = tk_store_done(ap, st)) != 0)
		goto fail;
	if (sqlite3_changes(ap->db) != 1) {
		tk_store_rollback(ap);
		return tk_apr_refuse(ap, p.name, "review.file", obj,
		    TK_APR_ERR_NOT_FOUND, "no open review of this commander");
	}
	return tk_apr_commit_event(ap, p.name, "review.file", obj,
	    json_object());
fail:
	tk_store_rollback(ap);
	return rc;
}

int
tk_approvals_reviews_overdue(struct tk_approvals *ap, int64_t **ids,
    size_t *n)
{
	return tk_store_ids(ap, "SELECT request_id FROM reviews WHERE "
	    "filed = 0 AND due <= ? ORDER BY request_id", tk_apr_now(ap), ids,
	    n);
}
