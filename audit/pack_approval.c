/*
 * The approvals of a pack, re-verified from what it encloses alone: each
 * request's digest, each ballot's challenge re-derived from the digest
 * and nonce, the WebAuthn assertion checked against the approver's COSE
 * key (ES256), and the quorum of each granted request recounted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#include "twokey/common.h"
#include "twokey/packcheck.h"
#include "pack_int.h"

#define LABEL "twokey-approval-v1"
#define MAX_BALLOTS 64

struct policy {
	json_int_t quorum;
	int distinct_teams;
	int require_uv;
	const char *rp_id;
	const char *origin;
};

/* A base64url member as bytes (caller frees); NULL if absent or bad. */
static uint8_t *
b64m(const json_t *o, const char *key, size_t *len)
{
	const char *s = json_string_value(json_object_get(o, key));
	uint8_t *out = NULL;

	if (s == NULL || tk_b64url_decode(s, strlen(s), &out, len) != 0)
		return NULL;
	return out;
}

/* One CBOR head: major type and argument; -1 if not a short head. */
static int
cbor_head(const uint8_t **p, const uint8_t *end, int *major, uint64_t *v)
{
	unsigned int ai, n, i;

	if (*p >= end)
		return -1;
	*major = **p >> 5;
	ai = **p & 0x1f;
	(*p)++;
	if (ai < 24) {
		*v = ai;
		return 0;
	}
	if (ai > 27)
		return -1;	/* indefinite lengths are not COSE keys */
	n = 1u << (ai - 24);
	if ((size_t)(end - *p) < n)
		return -1;
	for (*v = 0, i = 0; i < n; i++)
		*v = (*v << 8) | *(*p)++;
	return 0;
}

/* An EC2 P-256 COSE key ({1:2, 3:-7, -1:1, -2:x, -3:y}) as EVP_PKEY. */
static EVP_PKEY *
cose_es256(const uint8_t *k, size_t len)
{
	const uint8_t *p = k, *end = k + len;
	uint8_t pt[65] = { 0x04 };
	uint64_t n, i, v;
	int major, have = 0, key;
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;

	if (cbor_head(&p, end, &major, &n) != 0 || major != 5 || n > 8)
		return NULL;
	for (i = 0; i < n; i++) {
		if (cbor_head(&p, end, &major, &v) != 0 || v > 8 ||
		    (major != 0 && major != 1))
			return NULL;
		key = major == 0 ? (int)v : -1 - (int)v;
		if (cbor_head(&p, end, &major, &v) != 0)
			return NULL;
		if ((key == -2 || key == -3) && major == 2 && v == 32 &&
		    (size_t)(end - p) >= 32) {
			memcpy(pt + (key == -2 ? 1 : 33), p, 32);
			p += 32;
			have |= key == -2 ? 1 : 2;
		} else if ((key == 1 && major == 0 && v == 2) ||
		    (key == 3 && major == 1 && v == 6) ||
		    (key == -1 && major == 0 && v == 1))
			have |= key == 1 ? 4 : key == 3 ? 8 : 16;
		else
			return NULL;
	}
	if (p != end || have != 31)
		return NULL;
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)(uintptr_t)"prime256v1", 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt));
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pk = NULL;
	EVP_PKEY_CTX_free(ctx);
	return pk;
}

/* ECDSA over authData || SHA-256(clientDataJSON). */
static int
sig_ok(const uint8_t *cose, size_t cl, const uint8_t *ad, size_t adl,
    const uint8_t *cd, size_t cdl, const uint8_t *sig, size_t sl)
{
	EVP_MD_CTX *md = NULL;
	EVP_PKEY *pk;
	uint8_t *msg;
	int ok = 0;

	if ((pk = cose_es256(cose, cl)) == NULL)
		return 0;
	if ((msg = malloc(adl + 32)) != NULL &&
	    (md = EVP_MD_CTX_new()) != NULL) {
		memcpy(msg, ad, adl);
		SHA256(cd, cdl, msg + adl);
		ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL,
		    pk) == 1 && EVP_DigestVerify(md, sig, sl, msg,
		    adl + 32) == 1;
	}
	EVP_MD_CTX_free(md);
	free(msg);
	EVP_PKEY_free(pk);
	return ok;
}

struct ballot_bytes {
	uint8_t *nonce, *ch, *cd, *ad, *sig, *key;
	size_t nl, chl, cdl, adl, sl, kl;
};

static void
ballot_bytes_clear(struct ballot_bytes *x)
{
	free(x->nonce);
	free(x->ch);
	free(x->cd);
	free(x->ad);
	free(x->sig);
	free(x->key);
}

/* What the browser's clientDataJSON says, against what it must say. */
static const char *
client_data_wrong(const struct ballot_bytes *x, const uint8_t ch[32],
    const struct policy *pol)
{
	json_t *o;
	const char *why = NULL, *c;
	uint8_t *got = NULL;
	size_t gl = 0;

	if ((o = json_loadb((const char *)x->cd, x->cdl, 0, NULL)) == NULL)
		return "clientDataJSON does not parse";
	c = json_string_value(json_object_get(o, "challenge"));
	if (json_string_value(json_object_get(o, "type")) == NULL ||
	    strcmp(json_string_value(json_object_get(o, "type")),
	    "webauthn.get") != 0)
		why = "clientDataJSON type is not webauthn.get";
	else if (c == NULL || tk_b64url_decode(c, strlen(c), &got,
	    &gl) != 0 || gl != 32 || CRYPTO_memcmp(got, ch, 32) != 0)
		why = "the signed challenge is not the one derived from the "
		    "request";
	else if (json_string_value(json_object_get(o, "origin")) == NULL ||
	    strcmp(json_string_value(json_object_get(o, "origin")),
	    pol->origin) != 0)
		why = "clientDataJSON origin is not the policy's";
	free(got);
	json_decref(o);
	return why;
}

/* Every check of one ballot; NULL when it holds, else why not. */
static const char *
ballot_wrong(const json_t *b, const uint8_t digest[32],
    const struct policy *pol)
{
	struct ballot_bytes x;
	uint8_t buf[18 + 1 + 32 + 32], ch[32], rp[32];
	const char *d = json_string_value(json_object_get(b, "decision"));
	const char *why = NULL;

	memset(&x, 0, sizeof(x));
	x.nonce = b64m(b, "nonce", &x.nl);
	x.ch = b64m(b, "challenge", &x.chl);
	x.cd = b64m(b, "client_data", &x.cdl);
	x.ad = b64m(b, "auth_data", &x.adl);
	x.sig = b64m(b, "sig", &x.sl);
	x.key = b64m(b, "cose_key", &x.kl);
	if (d == NULL || (strcmp(d, "approve") != 0 &&
	    strcmp(d, "reject") != 0) || x.nonce == NULL || x.nl != 32 ||
	    x.ch == NULL || x.chl != 32 || x.cd == NULL || x.ad == NULL ||
	    x.adl < 37 || x.sig == NULL || x.key == NULL) {
		why = "ballot fields missing or malformed";
		goto out;
	}
	memcpy(buf, LABEL, 18);
	buf[18] = strcmp(d, "approve") == 0 ? 0x01 : 0x02;
	memcpy(buf + 19, digest, 32);
	memcpy(buf + 51, x.nonce, 32);
	SHA256(buf, sizeof(buf), ch);
	SHA256((const uint8_t *)pol->rp_id, strlen(pol->rp_id), rp);
	if (CRYPTO_memcmp(ch, x.ch, 32) != 0)
		why = "the challenge is not SHA-256(label, decision, digest, "
		    "nonce)";
	else if (json_integer_value(json_object_get(b, "alg")) != -7)
		why = "the approver's key is not ES256, which this verifier "
		    "does not check";
	else if ((why = client_data_wrong(&x, ch, pol)) != NULL)
		;
	else if (CRYPTO_memcmp(x.ad, rp, 32) != 0)
		why = "authenticator data is for another rpId";
	else if ((x.ad[32] & 0x01) == 0 ||
	    (pol->require_uv && (x.ad[32] & 0x04) == 0))
		why = "user presence or verification flag missing";
	else if (!sig_ok(x.key, x.kl, x.ad, x.adl, x.cd, x.cdl, x.sig, x.sl))
		why = "the assertion signature does not verify with the "
		    "enclosed key";
out:
	ballot_bytes_clear(&x);
	return why;
}

/* The grant's JWT names this request's digest (payload "req_digest"). */
static int
jwt_names_digest(const json_t *grant, const char *digest)
{
	const char *jwt = json_string_value(json_object_get(grant, "jwt"));
	const char *a, *b;
	uint8_t *pl = NULL;
	size_t pll = 0;
	json_t *o = NULL;
	int ok = 0;

	if (jwt == NULL || (a = strchr(jwt, '.')) == NULL ||
	    (b = strchr(a + 1, '.')) == NULL ||
	    tk_b64url_decode(a + 1, (size_t)(b - a - 1), &pl, &pll) != 0)
		return 0;
	if ((o = json_loadb((const char *)pl, pll, 0, NULL)) != NULL &&
	    json_string_value(json_object_get(o, "req_digest")) != NULL)
		ok = strcmp(json_string_value(json_object_get(o,
		    "req_digest")), digest) == 0;
	json_decref(o);
	free(pl);
	return ok;
}

/* Distinct approvers (or teams) of the approve ballots, not requester. */
static size_t
count_approvers(const json_t *ballots, const char *requester,
    int by_team)
{
	const char *seen[MAX_BALLOTS], *who;
	const json_t *b;
	size_t i, k, n = 0;

	json_array_foreach(ballots, i, b) {
		if (strcmp(json_string_value(json_object_get(b, "decision")),
		    "approve") != 0)
			continue;
		if ((who = json_string_value(json_object_get(b, "person"))) ==
		    NULL || strcmp(who, requester) == 0)
			continue;
		if (by_team && (who = json_string_value(json_object_get(b,
		    "team"))) == NULL)
			continue;
		for (k = 0; k < n && strcmp(seen[k], who) != 0; k++)
			;
		if (k == n && n < MAX_BALLOTS)
			seen[n++] = who;
	}
	return n;
}

/* A governed change (canonical kind "change"), not an access request. */
static int
is_change(const json_t *req)
{
	const char *k = json_string_value(json_object_get(req, "kind"));

	return k != NULL && strcmp(k, "change") == 0;
}

static int
one_request(const struct tk_pack_file *f, const struct policy *pol,
    struct tk_packcheck_report *rep)
{
	const char *req, *dg, *st, *requester, *why;
	const json_t *ballots, *b, *grant;
	json_t *o = NULL, *ro = NULL;
	uint8_t digest[32], *claimed = NULL;
	size_t i, cl = 0, n;
	int r = 0;

	if ((o = json_loadb((const char *)f->data, f->len, 0, NULL)) ==
	    NULL || (req = json_string_value(json_object_get(o,
	    "request"))) == NULL || (dg = json_string_value(json_object_get(o,
	    "digest"))) == NULL || (st = json_string_value(json_object_get(o,
	    "state"))) == NULL || !json_is_array(ballots = json_object_get(o,
	    "ballots")) || json_array_size(ballots) > MAX_BALLOTS ||
	    (ro = json_loads(req, 0, NULL)) == NULL || (requester =
	    json_string_value(json_object_get(ro, "requester"))) == NULL) {
		r = pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED, "%s is "
		    "malformed", f->name);
		goto out;
	}
	SHA256((const uint8_t *)req, strlen(req), digest);
	if ((claimed = b64m(o, "digest", &cl)) == NULL || cl != 32 ||
	    CRYPTO_memcmp(claimed, digest, 32) != 0) {
		r = pack_fail(rep, TK_PACKCHECK_ERR_APPROVAL, "%s: the digest "
		    "is not SHA-256 of the request", f->name);
		goto out;
	}
	json_array_foreach(ballots, i, b) {
		if ((why = ballot_wrong(b, digest, pol)) != NULL) {
			r = pack_fail(rep, TK_PACKCHECK_ERR_APPROVAL, "%s: "
			    "ballot %zu: %s", f->name, i + 1, why);
			goto out;
		}
		rep->ballots++;
	}
	grant = json_object_get(o, "grant");
	if (strcmp(st, "granted") != 0 && grant == NULL)
		goto out;
	rep->granted++;
	n = count_approvers(ballots, requester, pol->distinct_teams);
	if (n < 2 || (json_int_t)n < pol->quorum)
		r = pack_fail(rep, TK_PACKCHECK_ERR_QUORUM, "%s: granted with "
		    "%zu distinct approver(s), the policy wants %lld",
		    f->name, n, (long long)pol->quorum);
	else if (!is_change(ro) &&	/* a change applies, grants nothing */
	    (grant == NULL || !jwt_names_digest(grant, dg)))
		r = pack_fail(rep, TK_PACKCHECK_ERR_APPROVAL, "%s: the grant "
		    "does not name this request's digest", f->name);
out:
	free(claimed);
	json_decref(ro);
	json_decref(o);
	return r;
}

int
pack_check_approvals(const struct tk_pack *p,
    struct tk_packcheck_report *rep)
{
	const struct tk_pack_file *f = tk_pack_get(p, "policy.json");
	struct policy pol;
	json_t *po = NULL;
	size_t i;
	int r = 0;

	if (f == NULL || (po = json_loadb((const char *)f->data, f->len, 0,
	    NULL)) == NULL || (pol.rp_id = json_string_value(
	    json_object_get(po, "rp_id"))) == NULL || (pol.origin =
	    json_string_value(json_object_get(po, "origin"))) == NULL ||
	    !json_is_integer(json_object_get(po, "quorum"))) {
		json_decref(po);
		return pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
		    "policy.json is missing or malformed");
	}
	pol.quorum = json_integer_value(json_object_get(po, "quorum"));
	pol.distinct_teams = json_is_true(json_object_get(po,
	    "distinct_teams"));
	pol.require_uv = json_is_true(json_object_get(po, "require_uv"));
	for (i = 0; r == 0 && i < p->nfiles; i++)
		if (strncmp(p->files[i].name, "requests/", 9) == 0) {
			rep->requests++;
			r = one_request(&p->files[i], &pol, rep);
		}
	json_decref(po);
	return r;
}
