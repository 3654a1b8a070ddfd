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
	tk_grant_info_clear(&later);
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
		T(overdue_review_blocks_the_commanders_next_break_glass),
		T(policy_may_let_an_overdue_commander_through),
		T(break_glass_grant_names_the_commander_and_incident),
		T(grant_exists_exactly_when_the_rule_holds_end_to_end),
#undef T
	};

	return cmocka_run_group_tests(tests, apr_group_setup,
	    apr_group_teardown);
}
