/*
 * Specifications of grants: ES256 JWTs signed in a real SoftHSM2 token,
 * checked with OpenSSL alone against the JWKS; expiry, revocation,
 * break-glass reviews; and the quorum rule end to end on random
 * sequences through the whole service.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "approvals_env.h"

static int64_t
granted_elevation(struct env *e, struct tk_grant_info *g)
{
	struct tk_vote_result res;
	int64_t rid = file(e, ELEVATION);

	assert_int_equal(vote(e, &e->ak, rid, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(res.state, TK_REQ_PENDING);
	assert_int_equal(res.approvals, 1);
	e->now += 10;
	assert_int_equal(vote(e, &e->bk, rid, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(res.state, TK_REQ_GRANTED);
	assert_int_equal(tk_approvals_grant_get(e->ap, rid, g), 0);
	return rid;
}

static void
two_approvers_grant_a_jwt_that_verifies_with_openssl_alone(void **state)
{
	struct env *e = *state;
	struct tk_grant_info g;
	struct tk_request_info info;
	char *jwks = NULL, *a, *b, *digest;
	json_t *c = NULL;
	int64_t rid = granted_elevation(e, &g);

	assert_int_equal(state_of(e, rid), TK_REQ_GRANTED);
	assert_int_equal(g.state, TK_GRANT_ACTIVE);
	assert_int_equal(tk_approvals_jwks(e->ap, &jwks), 0);
	assert_true(jwt_verifies(jwks, g.jwt, &c));
	assert_int_equal(tk_approvals_request_get(e->ap, rid, &info), 0);
	digest = tk_b64url_encode(info.digest, sizeof(info.digest));
	a = cred_b64url(&e->ak);
	b = cred_b64url(&e->bk);
	assert_string_equal(json_string_value(json_object_get(c, "iss")),
	    "twokey");
	assert_string_equal(json_string_value(json_object_get(c, "aud")),
	    "twokey-grants");
	assert_string_equal(json_string_value(json_object_get(c, "sub")),
	    "sa-billing");
	assert_string_equal(json_string_value(json_object_get(c, "scope")),
	    "read:accounts write:invoices");
	assert_string_equal(json_string_value(json_object_get(c, "jti")),
	    g.jti);
	assert_string_equal(json_string_value(json_object_get(c,
	    "req_digest")), digest);
	assert_int_equal(json_integer_value(json_object_get(c, "iat")),
	    T0 + 10);
	assert_int_equal(json_integer_value(json_object_get(c, "nbf")),
	    T0 + 10);
	assert_int_equal(json_integer_value(json_object_get(c, "exp")),
	    T0 + 10 + 3600);
	assert_int_equal(json_array_size(json_object_get(c, "approvers")), 2);
	assert_true(has_string(json_object_get(c, "approvers"), a));
	assert_true(has_string(json_object_get(c, "approvers"), b));
	assert_journaled(e, "request.granted", g.jti);
	free(a);
	free(b);
	free(digest);
	free(jwks);
	json_decref(c);
	tk_request_info_clear(&info);
	tk_grant_info_clear(&g);
}

static void
tampered_jwt_does_not_verify(void **state)
{
	struct env *e = *state;
	struct tk_grant_info g;
	char *jwks = NULL, *dot;
	json_t *c = NULL;

	(void)granted_elevation(e, &g);
	assert_int_equal(tk_approvals_jwks(e->ap, &jwks), 0);
	/* One character of the payload changed. */
	dot = strchr(g.jwt, '.') + 5;
	*dot = *dot == 'A' ? 'B' : 'A';
	assert_false(jwt_verifies(jwks, g.jwt, &c));
	json_decref(c);
	free(jwks);
	tk_grant_info_clear(&g);
}

static void
grant_expires_and_is_shown_expired(void **state)
{
	struct env *e = *state;
	struct tk_grant_info g, later;
	int64_t rid = granted_elevation(e, &g);

	e->now = g.expires;
	assert_int_equal(tk_approvals_grant_get(e->ap, rid, &later), 0);
	assert_int_equal(later.state, TK_GRANT_EXPIRED);
	assert_int_equal(tk_approvals_grant_revoke(e->ap, "alice", g.jti),
	    TK_APR_ERR_REVOKED);
	tk_grant_info_clear(&later);
	tk_grant_info_clear(&g);
}

static void
revoked_grant_is_shown_revoked(void **state)
{
	struct env *e = *state;
	struct tk_grant_info g, later;
	int64_t rid = granted_elevation(e, &g);

	e->now += 60;
	assert_int_equal(tk_approvals_grant_revoke(e->ap, "alice", g.jti), 0);
	assert_journaled(e, "grant.revoke", g.jti);
	assert_int_equal(tk_approvals_grant_get(e->ap, rid, &later), 0);
	assert_int_equal(later.state, TK_GRANT_REVOKED);
	assert_int_equal(later.revoked, e->now);
	assert_int_equal(tk_approvals_grant_revoke(e->ap, "alice", g.jti),
	    TK_APR_ERR_REVOKED);
	assert_int_equal(tk_approvals_grant_revoke(e->ap, "alice",
	    "no such grant"), TK_APR_ERR_INVALID);
	assert_journaled(e, "grant.revoke.refused", "malformed");
	tk_grant_info_clear(&later);
	tk_grant_info_clear(&g);
}

static void
grant_that_cannot_be_signed_leaves_the_request_pending(void **state)
{
	struct env *e = *state;
	struct tk_approvals_config cfg;
	struct tk_vote_result res;
	int64_t rid = file(e, ELEVATION);

	assert_int_equal(vote(e, &e->ak, rid, TK_DECIDE_APPROVE, &res), 0);
	/* The same store, but no token to sign with. */
	tk_approvals_free(&e->ap);
	memset(&cfg, 0, sizeof(cfg));
	cfg.db_path = e->path;
	cfg.policy = e->policy;
	cfg.journal = e->journal;
	cfg.rp_id = RP;
	cfg.origin = ORIGIN;
	cfg.clock = clock_of;
	cfg.clock_arg = e;
	assert_int_equal(tk_approvals_open(&cfg, &e->ap), 0);
	assert_refused(e, rid, vote(e, &e->bk, rid, TK_DECIDE_APPROVE, &res),
	    TK_APR_ERR_SIGN, &res, "could not sign");
	assert_int_equal(state_of(e, rid), TK_REQ_PENDING);
	assert_int_equal(count_rows(e->path, "ballots"), 1);
	assert_int_equal(count_rows(e->path, "grants"), 0);
}

static uint8_t *
b64(const json_t *o, const char *key, size_t *len)
{
	const char *s = json_string_value(json_object_get(o, key));
	uint8_t *out = NULL;

	assert_non_null(s);
	assert_int_equal(tk_b64url_decode(s, strlen(s), &out, len), 0);
	return out;
}

/* x and y of an ES256 COSE key: map keys -2 and -3, 32-byte strings. */
static EVP_PKEY *
cose_es256(const uint8_t *k, size_t len)
{
	uint8_t pub[65] = { 0x04 };
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	OSSL_PARAM *params;
	EVP_PKEY *pk = NULL;
	size_t i;
	int got = 0;

	for (i = 0; i + 35 <= len; i++) {
		if (k[i + 1] != 0x58 || k[i + 2] != 0x20)
			continue;
		if (k[i] == 0x21 && !(got & 1)) {
			memcpy(pub + 1, k + i + 3, 32);
			got |= 1;
		} else if (k[i] == 0x22 && !(got & 2)) {
			memcpy(pub + 33, k + i + 3, 32);
			got |= 2;
		}
	}
	assert_int_equal(got, 3);
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
	return pk;
}

/* What an auditor does with a ballot, with OpenSSL and the evidence. */
static void
audit_ballot(const json_t *b, const uint8_t digest[32])
{
	uint8_t buf[18 + 1 + 32 + 32], want[32], cdh[32], *nonce, *ch, *cd;
	uint8_t *ad, *sig, *key, *signed_data, *in_cd;
	size_t nl, cl, cdl, adl, sl, kl, icl;
	json_t *cdj;
	const char *s;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY *pk;

	nonce = b64(b, "nonce", &nl);
	ch = b64(b, "challenge", &cl);
	assert_int_equal(nl, 32);
	memcpy(buf, "twokey-approval-v1", 18);
	buf[18] = 0x01;
	memcpy(buf + 19, digest, 32);
	memcpy(buf + 51, nonce, 32);
	SHA256(buf, sizeof(buf), want);
	assert_memory_equal(ch, want, 32);
	cd = b64(b, "client_data", &cdl);
	assert_non_null(cdj = json_loadb((char *)cd, cdl, 0, NULL));
	s = json_string_value(json_object_get(cdj, "challenge"));
	assert_int_equal(tk_b64url_decode(s, strlen(s), &in_cd, &icl), 0);
	assert_memory_equal(in_cd, want, 32);
	ad = b64(b, "auth_data", &adl);
	sig = b64(b, "sig", &sl);
	key = b64(b, "cose_key", &kl);
	SHA256(cd, cdl, cdh);
	assert_non_null(signed_data = malloc(adl + 32));
	memcpy(signed_data, ad, adl);
	memcpy(signed_data + adl, cdh, 32);
	pk = cose_es256(key, kl);
	assert_int_equal(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL,
	    pk), 1);
	assert_int_equal(EVP_DigestVerify(md, sig, sl, signed_data,
	    adl + 32), 1);
	EVP_PKEY_free(pk);
	EVP_MD_CTX_free(md);
	json_decref(cdj);
	free(signed_data);
	free(nonce);
	free(ch);
	free(cd);
	free(in_cd);
	free(ad);
	free(sig);
	free(key);
}

static void
evidence_lets_an_auditor_recheck_every_approval(void **state)
{
	struct env *e = *state;
	struct tk_grant_info g;
	uint8_t digest[32], *claimed;
	size_t i, dl;
	char *ev = NULL;
	json_t *o, *ballots;
	const char *req;
	int64_t rid = granted_elevation(e, &g);

	assert_int_equal(tk_approvals_evidence(e->ap, rid, &ev), 0);
	assert_non_null(o = json_loads(ev, 0, NULL));
	req = json_string_value(json_object_get(o, "request"));
	SHA256((const uint8_t *)req, strlen(req), digest);
	claimed = b64(o, "digest", &dl);
	assert_memory_equal(claimed, digest, 32);
	assert_string_equal(json_string_value(json_object_get(o, "state")),
	    "granted");
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(o, "grant"), "jwt")), g.jwt);
	ballots = json_object_get(o, "ballots");
	assert_int_equal(json_array_size(ballots), 2);
	for (i = 0; i < 2; i++)
		audit_ballot(json_array_get(ballots, i), digest);
	free(claimed);
	free(ev);
	json_decref(o);
	tk_grant_info_clear(&g);
}

static int64_t
granted_break_glass(struct env *e)
{
	struct tk_vote_result res;
	int64_t rid = file(e, BREAKGLASS);

	assert_int_equal(vote(e, &e->ak, rid, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(vote(e, &e->bk, rid, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(res.state, TK_REQ_GRANTED);
	return rid;
}

static void
overdue_review_blocks_the_commanders_next_break_glass(void **state)
{
	struct env *e = *state;
	int64_t rid = granted_break_glass(e), *ids = NULL, next = 0;
	size_t n = 0;

	assert_int_equal(tk_approvals_reviews_overdue(e->ap, &ids, &n), 0);
	assert_int_equal(n, 0);
	e->now += e->policy->review_due;
	assert_int_equal(tk_approvals_reviews_overdue(e->ap, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], rid);
	free(ids);
	assert_int_equal(tk_approvals_file(e->ap, e->requester, BREAKGLASS,
	    strlen(BREAKGLASS), &next), TK_APR_ERR_REVIEW_OVERDUE);
	assert_int_equal(next, 0);
	assert_journaled(e, "request.file.refused", "review overdue");
	/* Only the commander files it. */
	assert_int_equal(tk_approvals_review_file(e->ap, rid, e->alice,
	    "not mine"), TK_APR_ERR_NOT_FOUND);
	assert_int_equal(tk_approvals_review_file(e->ap, rid, e->requester,
	    "root cause: full disk"), 0);
	assert_int_equal(tk_approvals_reviews_overdue(e->ap, &ids, &n), 0);
	assert_int_equal(n, 0);
	(void)file(e, BREAKGLASS);
}

static void
policy_may_let_an_overdue_commander_through(void **state)
{
	struct env *e = *state;

	(void)granted_break_glass(e);
	e->now += e->policy->review_due;
	e->policy->overdue_review_blocks = 0;
	apr_policy_in_force(e);
	(void)file(e, BREAKGLASS);
}

static void
break_glass_grant_names_the_commander_and_incident(void **state)
{
	struct env *e = *state;
	struct tk_grant_info g;
	char *jwks = NULL;
	json_t *c = NULL;
	int64_t rid = granted_break_glass(e);

	assert_int_equal(tk_approvals_grant_get(e->ap, rid, &g), 0);
	assert_int_equal(tk_approvals_jwks(e->ap, &jwks), 0);
	assert_true(jwt_verifies(jwks, g.jwt, &c));
	assert_string_equal(json_string_value(json_object_get(c, "sub")),
	    "rita");
	assert_string_equal(json_string_value(json_object_get(c,
	    "incident")), "INC-7");
	assert_int_equal(json_integer_value(json_object_get(c, "exp")) -
	    json_integer_value(json_object_get(c, "iat")), 1800);
	json_decref(c);
	free(jwks);
	tk_grant_info_clear(&g);
}

/* ---- the rule through the whole service, on random sequences ---- */

static uint64_t prng = 20261203;

/* splitmix64, seeded: reproducible sequences. */
static unsigned int
pick(unsigned int n)
{
	uint64_t z = (prng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (unsigned int)((z ^ (z >> 31)) % n);
}

#define SP 6	/* people per sequence, at most */
#define SK 9	/* keys per sequence, at most */
#define SV 10	/* votes per sequence, at most */

struct seq {
	unsigned int np, nk, nv;
	int64_t id[SP];
	int team[SP];
	unsigned int roles[SP];
	enum tk_person_state state[SP];
	unsigned int requester;
	struct key key[SK];
	unsigned int owner[SK];
	unsigned int vote_key[SV];
	int reject[SV];
};

/* The rule as the issue states it, computed here on its own. */
static int
seq_rule(const struct seq *s, unsigned int quorum, int teams_rule)
{
	int voted[SP] = { 0 }, team_used[2] = { 0 };
	unsigned int i, p, counted = 0;

	for (i = 0; i < s->nv; i++) {
		p = s->owner[s->vote_key[i]];
		if (p == s->requester || s->state[p] != TK_PERSON_ACTIVE ||
		    !(s->roles[p] & TK_ROLE_APPROVER) || voted[p])
			continue;
		if (s->reject[i])
			return 0;
		if (teams_rule && team_used[s->team[p]])
			continue;
		voted[p] = team_used[s->team[p]] = 1;
		if (++counted >= quorum)
			return 1;
	}
	return 0;
}

static void
seq_make(struct env *e, struct seq *s, unsigned int n)
{
	static const char *teams[] = { "ops", "sec" };
	static const enum tk_person_state st[] = { TK_PERSON_ACTIVE,
	    TK_PERSON_ACTIVE, TK_PERSON_ACTIVE, TK_PERSON_ACTIVE,
	    TK_PERSON_SUSPENDED, TK_PERSON_LEFT };
	char name[32];
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->np = 3 + pick(SP - 2);
	s->requester = pick(s->np);
	for (i = 0; i < s->np; i++) {
		s->team[i] = (int)pick(2);
		s->roles[i] = pick(6) != 0 ? TK_ROLE_APPROVER : 0;
		if (i == s->requester)
			s->roles[i] |= TK_ROLE_REQUESTER;
		(void)snprintf(name, sizeof(name), "p%u-%u", n, i);
		s->id[i] = person(e, name, teams[s->team[i]], s->roles[i]);
	}
	s->nk = s->np + pick(SK - s->np + 1);
	for (i = 0; i < s->nk; i++) {
		s->owner[i] = i < s->np ? i : pick(s->np);
		enroll(e, &s->key[i], s->id[s->owner[i]]);
	}
	/* States change after enrollment, as they would in life. */
	for (i = 0; i < s->np; i++) {
		s->state[i] = i == s->requester ? TK_PERSON_ACTIVE :
		    st[pick(6)];
		if (s->state[i] != TK_PERSON_ACTIVE)
			assert_int_equal(tk_approvals_person_set_state(e->ap,
			    "root", s->id[i], s->state[i]), 0);
	}
	s->nv = 2 + pick(SV - 1);
	for (i = 0; i < s->nv; i++) {
		s->vote_key[i] = pick(s->nk);
		s->reject[i] = pick(12) == 0;
	}
}

/* Plays the votes through the service; 1 if a grant exists after. */
static int
seq_play(struct env *e, struct seq *s)
{
	struct tk_vote_result res;
	struct tk_grant_info g;
	struct key *k;
	uint8_t ch[TK_CHALLENGE_LEN];
	int64_t rid = 0;
	unsigned int i;
	int rc;

	assert_int_equal(tk_approvals_file(e->ap, s->id[s->requester],
	    ELEVATION, strlen(ELEVATION), &rid), 0);
	for (i = 0; i < s->nv; i++) {
		k = &s->key[s->vote_key[i]];
		if (tk_approvals_challenge(e->ap, rid, k->person,
		    s->reject[i] ? TK_DECIDE_REJECT : TK_DECIDE_APPROVE, ch,
		    NULL) != 0)
			continue;	/* no longer pending */
		(void)sign_and_vote(e, k, rid, ch, ++k->counter, &res);
	}
	rc = tk_approvals_grant_get(e->ap, rid, &g);
	assert_true(rc == 0 || rc == TK_APR_ERR_NOT_FOUND);
	tk_grant_info_clear(&g);
	for (i = 0; i < s->nk; i++)
		softauthn_free(&s->key[i].sa);
	return rc == 0;
}

static void
grant_exists_exactly_when_the_rule_holds_end_to_end(void **state)
{
	struct env *e = *state;
	struct seq s;
	const char *env = getenv("TWOKEY_E2E_SEQUENCES");
	unsigned int n, runs = env != NULL ? (unsigned int)strtoul(env,
	    NULL, 10) : 200, granted = 0;
	int want;

	for (n = 0; n < runs; n++) {
		e->policy->quorum = pick(4) == 0 ? 3 : 2;
		e->policy->distinct_teams = pick(3) == 0;
		apr_policy_in_force(e);
		seq_make(e, &s, n);
		want = seq_rule(&s, e->policy->quorum,
		    e->policy->distinct_teams);
		if (seq_play(e, &s) != want)
			fail_msg("sequence %u: service and rule disagree", n);
		granted += (unsigned int)want;
	}
	printf("end to end: %u of %u sequences granted\n", granted, runs);
	assert_true(runs < 20 || (granted > runs / 10 &&
	    granted < runs - runs / 10));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, apr_setup, apr_teardown)
		T(two_approvers_grant_a_jwt_that_verifies_with_openssl_alone),
		T(tampered_jwt_does_not_verify),
		T(grant_expires_and_is_shown_expired),
		T(revoked_grant_is_shown_revoked),
		T(grant_that_cannot_be_signed_leaves_the_request_pending),
		T(evidence_lets_an_auditor_recheck_every_approval),
		T(overdue_review_blocks_the_commanders_next_break_glass),
		T(policy_may_let_an_overdue_commander_through),
		T(break_glass_grant_names_the_commander_and_incident),
		T(grant_exists_exactly_when_the_rule_holds_end_to_end),
#undef T
	};

	return cmocka_run_group_tests(tests, apr_group_setup,
	    apr_group_teardown);
}
