/* The shared set-up of the approvals service tests (approvals_env.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <sqlite3.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/journal.h"
#include "twokey/webauthn.h"
#include "../lib/softauthn.h"
#include "../lib/token_fixture.h"
#include "approvals_env.h"

static struct tk_fixture_token *fx;
static struct tk_signer *signer;
static unsigned int serial;


int64_t
clock_of(void *arg)
{
	return ((struct env *)arg)->now;
}

int
apr_group_setup(void **state)
{
	(void)state;
	tk_log_set_level(TK_LOG_ERROR);
	if (tk_fixture_token_new(getenv("TWOKEY_TEST_TMP"), &fx) != 0 ||
	    tk_fixture_signer_start(fx, 0, &signer) != 0)
		return -1;
	return 0;
}

int
apr_group_teardown(void **state)
{
	(void)state;
	tk_signer_free(&signer);
	tk_fixture_token_free(&fx);
	return 0;
}

const char *
apr_root_pem(void)
{
	return fx != NULL ? fx->root_pem : NULL;
}

int64_t
person(struct env *e, const char *name, const char *team,
    unsigned int roles)
{
	int64_t id = 0;

	assert_int_equal(tk_approvals_person_add(e->ap, "root", name, team,
	    roles, &id), 0);
	return id;
}

/* A security key registered for person through the real verifier. */
void
enroll(struct env *e, struct key *k, int64_t person_id)
{
	struct tk_credential c;

	registered(k, person_id, &c);
	assert_int_equal(tk_approvals_credential_add(e->ap, "root", &c), 0);
}

void
registered(struct key *k, int64_t person_id, struct tk_credential *c)
{
	static const uint8_t ch[32] = "registration-challenge-01234567";
	struct softauthn_opts o;
	struct softauthn_resp r;
	struct tk_webauthn_registration reg;
	struct tk_webauthn_expect exp;
	struct tk_webauthn_cred w;
	const char *origins[] = { ORIGIN };

	memset(&r, 0, sizeof(r));
	memset(&exp, 0, sizeof(exp));
	assert_non_null(k->sa = softauthn_new(-7));
	k->person = person_id;
	k->counter = 1;
	softauthn_opts_init(&o, RP, ORIGIN, ch, sizeof(ch));
	assert_int_equal(softauthn_make_credential(k->sa, &o, &r), 0);
	reg.raw_id = r.id;
	reg.raw_id_len = r.id_len;
	reg.client_data = r.client_data;
	reg.client_data_len = r.client_data_len;
	reg.att_obj = r.att_obj;
	reg.att_obj_len = r.att_obj_len;
	exp.rp_id = RP;
	exp.origins = origins;
	exp.n_origins = 1;
	exp.challenge = ch;
	exp.challenge_len = sizeof(ch);
	assert_int_equal(tk_webauthn_verify_registration(&exp, &reg, "p", &w,
	    NULL), 0);
	assert_int_equal(tk_credential_from_webauthn(&w, person_id, c), 0);
	softauthn_resp_clear(&r);
}

static void
apr_open(struct env *e)
{
	struct tk_approvals_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.db_path = e->path;
	cfg.policy = e->policy;
	cfg.signer = signer;
	cfg.journal = e->journal;
	cfg.rp_id = RP;
	cfg.origin = ORIGIN;
	cfg.clock = clock_of;
	cfg.clock_arg = e;
	assert_int_equal(tk_approvals_open(&cfg, &e->ap), 0);
}

void
apr_policy_in_force(struct env *e)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	json_t *o;
	char *t;

	tk_approvals_free(&e->ap);
	assert_non_null(o = tk_policy_to_json(e->policy));
	assert_non_null(t = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS));
	assert_int_equal(sqlite3_open(e->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO "
	    "policy_approved(policy, at, source) VALUES (?, 0, 'test')", -1,
	    &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(t);
	json_decref(o);
	apr_open(e);
}

int
apr_setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct tk_journal_config jc;
	char jpath[512];

	assert_non_null(e);
	e->now = T0;
	(void)snprintf(e->path, sizeof(e->path), "%s/approvals-%u.db",
	    getenv("TWOKEY_TEST_TMP"), ++serial);
	(void)snprintf(jpath, sizeof(jpath), "%s/journal-%u.db",
	    getenv("TWOKEY_TEST_TMP"), serial);
	memset(&jc, 0, sizeof(jc));
	jc.path = jpath;
	jc.origin = "twokey/test/journal";
	jc.signer = signer;
	assert_int_equal(tk_journal_open(&jc, &e->journal), 0);
	assert_non_null(e->policy = tk_policy_new());
	apr_open(e);
	e->requester = person(e, "rita", "dev", TK_ROLE_REQUESTER |
	    TK_ROLE_APPROVER | TK_ROLE_COMMANDER);
	e->alice = person(e, "alice", "ops", TK_ROLE_APPROVER);
	e->bob = person(e, "bob", "sec", TK_ROLE_APPROVER);
	e->carol = person(e, "carol", "ops", TK_ROLE_APPROVER);
	enroll(e, &e->rk, e->requester);
	enroll(e, &e->ak, e->alice);
	enroll(e, &e->bk, e->bob);
	enroll(e, &e->ck, e->carol);
	*state = e;
	return 0;
}

int
apr_teardown(void **state)
{
	struct env *e = *state;

	tk_approvals_free(&e->ap);
	tk_journal_free(&e->journal);
	tk_policy_free(&e->policy);
	softauthn_free(&e->rk.sa);
	softauthn_free(&e->ak.sa);
	softauthn_free(&e->bk.sa);
	softauthn_free(&e->ck.sa);
	free(e);
	return 0;
}

int64_t
file(struct env *e, const char *json)
{
	int64_t id = 0;

	assert_int_equal(tk_approvals_file(e->ap, e->requester, json,
	    strlen(json), &id), 0);
	return id;
}

/* The security key signs ch; the assertion goes to request rid. */
int
sign_and_vote(struct env *e, struct key *k, int64_t rid,
    const uint8_t ch[TK_CHALLENGE_LEN], uint32_t counter,
    struct tk_vote_result *res)
{
	struct softauthn_opts o;
	struct softauthn_resp r;
	struct tk_assertion as;
	int rc;

	memset(&r, 0, sizeof(r));
	softauthn_opts_init(&o, RP, ORIGIN, ch, TK_CHALLENGE_LEN);
	o.counter = counter;
	assert_int_equal(softauthn_get_assertion(k->sa, &o, &r), 0);
	as.cred_id = r.id;
	as.cred_id_len = r.id_len;
	as.client_data = r.client_data;
	as.client_data_len = r.client_data_len;
	as.auth_data = r.auth_data;
	as.auth_data_len = r.auth_data_len;
	as.sig = r.sig;
	as.sig_len = r.sig_len;
	rc = tk_approvals_vote(e->ap, rid, &as, res);
	softauthn_resp_clear(&r);
	return rc;
}

int
vote(struct env *e, struct key *k, int64_t rid, enum tk_decision d,
    struct tk_vote_result *res)
{
	uint8_t ch[TK_CHALLENGE_LEN];

	assert_int_equal(tk_approvals_challenge(e->ap, rid, k->person, d, ch,
	    NULL), 0);
	return sign_and_vote(e, k, rid, ch, ++k->counter, res);
}

enum tk_request_state
state_of(struct env *e, int64_t rid)
{
	struct tk_request_info info;
	enum tk_request_state st;

	assert_int_equal(tk_approvals_request_get(e->ap, rid, &info), 0);
	st = info.state;
	tk_request_info_clear(&info);
	return st;
}

void
assert_no_grant(struct env *e, int64_t rid)
{
	struct tk_grant_info g;

	assert_int_equal(tk_approvals_grant_get(e->ap, rid, &g),
	    TK_APR_ERR_NOT_FOUND);
	assert_null(g.jwt);
}

/* The last journal entry is action with text in it. */
void
assert_journaled(struct env *e, const char *action, const char *text)
{
	uint64_t size = 0;
	uint8_t *leaf = NULL;
	size_t len = 0;
	char *s, needle[128];

	assert_int_equal(tk_journal_size(e->journal, &size), 0);
	assert_true(size > 0);
	assert_int_equal(tk_journal_entry_get(e->journal, size - 1, &leaf,
	    &len), 0);
	assert_non_null(s = calloc(1, len + 1));
	memcpy(s, leaf, len);
	(void)snprintf(needle, sizeof(needle), "\"action\":\"%s\"", action);
	if (strstr(s, needle) == NULL || strstr(s, text) == NULL)
		fail_msg("last entry %s lacks %s / %s", s, action, text);
	free(s);
	free(leaf);
}

/* ---- JWS ES256 checked with OpenSSL alone ---- */

/* base64url to bytes with OpenSSL's decoder; caller frees. */
static uint8_t *
unb64url(const char *in, size_t len, size_t *outlen)
{
	char *b = calloc(1, len + 4);
	uint8_t *out = calloc(1, len + 4);
	size_t i, pad = (4 - len % 4) % 4;
	int n;

	assert_non_null(b);
	assert_non_null(out);
	for (i = 0; i < len; i++)
		b[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	for (i = 0; i < pad; i++)
		b[len + i] = '=';
	n = EVP_DecodeBlock(out, (const uint8_t *)b, (int)(len + pad));
	assert_true(n >= 0);
	*outlen = (size_t)n - pad;
	free(b);
	return out;
}

static EVP_PKEY *
key_from_jwks(const char *jwks, char *kid, size_t kidcap)
{
	json_t *root = json_loads(jwks, 0, NULL), *k;
	uint8_t pub[65], *x, *y;
	size_t xl, yl;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *pk = NULL;
	const char *xs, *ys;

	assert_non_null(root);
	k = json_array_get(json_object_get(root, "keys"), 0);
	assert_string_equal(json_string_value(json_object_get(k, "kty")),
	    "EC");
	assert_string_equal(json_string_value(json_object_get(k, "crv")),
	    "P-256");
	assert_string_equal(json_string_value(json_object_get(k, "alg")),
	    "ES256");
	xs = json_string_value(json_object_get(k, "x"));
	ys = json_string_value(json_object_get(k, "y"));
	(void)snprintf(kid, kidcap, "%s",
	    json_string_value(json_object_get(k, "kid")));
	x = unb64url(xs, strlen(xs), &xl);
	y = unb64url(ys, strlen(ys), &yl);
	assert_int_equal(xl, 32);
	assert_int_equal(yl, 32);
	pub[0] = 0x04;
	memcpy(pub + 1, x, 32);
	memcpy(pub + 33, y, 32);
	assert_int_equal(OSSL_PARAM_BLD_push_utf8_string(bld,
	    OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_octet_string(bld,
	    OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub)), 1);
	assert_non_null(params = OSSL_PARAM_BLD_to_param(bld));
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY,
	    params), 1);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	free(x);
	free(y);
	json_decref(root);
	return pk;
}

/* 1 if jwt verifies with the JWKS; *claims gets the payload. */
int
jwt_verifies(const char *jwks, const char *jwt, json_t **claims)
{
	const char *d1 = strchr(jwt, '.'), *d2;
	uint8_t *hdr, *pl, *rs, *der = NULL;
	size_t hl, pll, rsl;
	char kid[128];
	ECDSA_SIG *sig = ECDSA_SIG_new();
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY *pk = key_from_jwks(jwks, kid, sizeof(kid));
	json_t *h;
	int derlen, ok;

	assert_non_null(d1);
	assert_non_null(d2 = strchr(d1 + 1, '.'));
	assert_null(strchr(d2 + 1, '.'));
	hdr = unb64url(jwt, (size_t)(d1 - jwt), &hl);
	pl = unb64url(d1 + 1, (size_t)(d2 - d1 - 1), &pll);
	rs = unb64url(d2 + 1, strlen(d2 + 1), &rsl);
	assert_int_equal(rsl, 64);
	assert_non_null(h = json_loadb((char *)hdr, hl, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(h, "alg")),
	    "ES256");
	assert_string_equal(json_string_value(json_object_get(h, "kid")),
	    kid);
	assert_int_equal(ECDSA_SIG_set0(sig, BN_bin2bn(rs, 32, NULL),
	    BN_bin2bn(rs + 32, 32, NULL)), 1);
	assert_true((derlen = i2d_ECDSA_SIG(sig, &der)) > 0);
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL,
	    pk), 1);
	ok = EVP_DigestVerify(md, der, (size_t)derlen, (const uint8_t *)jwt,
	    (size_t)(d2 - jwt)) == 1;
	*claims = json_loadb((char *)pl, pll, 0, NULL);
	json_decref(h);
	OPENSSL_free(der);
	ECDSA_SIG_free(sig);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pk);
	free(hdr);
	free(pl);
	free(rs);
	return ok;
}

char *
cred_b64url(const struct key *k)
{
	struct softauthn_opts o;
	struct softauthn_resp r;
	static const uint8_t ch[32];
	char *s;

	memset(&r, 0, sizeof(r));
	softauthn_opts_init(&o, RP, ORIGIN, ch, sizeof(ch));
	assert_int_equal(softauthn_get_assertion(k->sa, &o, &r), 0);
	s = tk_b64url_encode(r.id, r.id_len);
	softauthn_resp_clear(&r);
	return s;
}

int
has_string(const json_t *arr, const char *s)
{
	const json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

/* ---- specifications ---- */
/* Refused, named, nothing granted, and the refusal journaled. */
void
assert_refused(struct env *e, int64_t rid, int rc, int want,
    const struct tk_vote_result *res, const char *why)
{
	if (rc != want)
		fail_msg("got %d (%s), want %d (%s)", rc, tk_apr_strerror(rc),
		    want, tk_apr_strerror(want));
	if (strstr(res->reason, why) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", res->reason, why);
	assert_no_grant(e, rid);
	assert_journaled(e, "request.vote.refused", why);
}


void
keep(struct key *k, const uint8_t ch[TK_CHALLENGE_LEN], uint32_t counter,
    struct kept *kp)
{
	struct softauthn_opts o;

	memset(kp, 0, sizeof(*kp));
	softauthn_opts_init(&o, RP, ORIGIN, ch, TK_CHALLENGE_LEN);
	o.counter = counter;
	assert_int_equal(softauthn_get_assertion(k->sa, &o, &kp->r), 0);
	kp->as.cred_id = kp->r.id;
	kp->as.cred_id_len = kp->r.id_len;
	kp->as.client_data = kp->r.client_data;
	kp->as.client_data_len = kp->r.client_data_len;
	kp->as.auth_data = kp->r.auth_data;
	kp->as.auth_data_len = kp->r.auth_data_len;
	kp->as.sig = kp->r.sig;
	kp->as.sig_len = kp->r.sig_len;
}

int
count_rows(const char *path, const char *table)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char sql[128];
	int n;

	(void)snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}
