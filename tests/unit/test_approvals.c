/*
 * Specifications of the approvals service: votes carried by real WebAuthn
 * assertions from the software authenticator, a real SQLite store, a real
 * token and journal; every refusal is named, grants nothing and is
 * journaled.
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
#include <sqlite3.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "approvals_env.h"

static void
self_approval_is_refused(void **state)
{
	struct env *e = *state;
	struct tk_vote_result res;
	int64_t rid = file(e, ELEVATION);

	assert_int_equal(vote(e, &e->ak, rid, TK_DECIDE_APPROVE, &res), 0);
	assert_refused(e, rid, vote(e, &e->rk, rid, TK_DECIDE_APPROVE, &res),
	    TK_APR_ERR_SELF_APPROVAL, &res, "requester cannot approve");
	assert_int_equal(state_of(e, rid), TK_REQ_PENDING);
}

static void
one_person_with_two_keys_counts_once(void **state)
{
	struct env *e = *state;
	struct tk_vote_result res;
	struct key second;
	int64_t rid = file(e, ELEVATION);

	enroll(e, &second, e->alice);
	assert_int_equal(vote(e, &e->ak, rid, TK_DECIDE_APPROVE, &res), 0);
	assert_refused(e, rid, vote(e, &second, rid, TK_DECIDE_APPROVE,
	    &res), TK_APR_ERR_SAME_PERSON, &res, "already voted");
	assert_int_equal(state_of(e, rid), TK_REQ_PENDING);
	softauthn_free(&second.sa);
}

static void
replayed_assertion_is_refused(void **state)
{
	struct env *e = *state;
	struct tk_vote_result res;
	uint8_t ch[TK_CHALLENGE_LEN];
	struct kept kp;
	int64_t rid = file(e, ELEVATION);

	assert_int_equal(tk_approvals_challenge(e->ap, rid, e->alice,
	    TK_DECIDE_APPROVE, ch, NULL), 0);
	keep(&e->ak, ch, 2, &kp);
	assert_int_equal(tk_approvals_vote(e->ap, rid, &kp.as, &res), 0);
	assert_refused(e, rid, tk_approvals_vote(e->ap, rid, &kp.as, &res),
	    TK_APR_ERR_CHALLENGE_USED, &res, "replay");
	softauthn_resp_clear(&kp.r);
}

static void
assertion_made_for_another_request_is_refused(void **state)
{
	struct env *e = *state;
	struct tk_vote_result res;
	uint8_t ch[TK_CHALLENGE_LEN];
	int64_t r1 = file(e, ELEVATION), r2 = file(e, ELEVATION);

	assert_int_equal(tk_approvals_challenge(e->ap, r1, e->alice,
	    TK_DECIDE_APPROVE, ch, NULL), 0);
	assert_refused(e, r2, sign_and_vote(e, &e->ak, r2, ch, 2, &res),
	    TK_APR_ERR_OTHER_REQUEST, &res, "another request");
	assert_no_grant(e, r1);
	assert_int_equal(state_of(e, r2), TK_REQ_PENDING);
}

static void
challenge_of_another_person_is_refused(void **state)
{
	struct env *e = *state;
	struct tk_vote_result res;
	uint8_t ch[TK_CHALLENGE_LEN];
	int64_t rid = file(e, ELEVATION);

	assert_int_equal(tk_approvals_challenge(e->ap, rid, e->alice,
	    TK_DECIDE_APPROVE, ch, NULL), 0);
	assert_refused(e, rid, sign_and_vote(e, &e->bk, rid, ch, 2, &res),
	    TK_APR_ERR_WRONG_PERSON, &res, "another person");
	assert_int_equal(res.person, e->bob);
}

static void
malformed_or_unknown_assertion_changes_nothing(void **state)
{
	struct env *e = *state;
	struct tk_vote_result res;
	struct tk_assertion as;
	uint8_t ch[TK_CHALLENGE_LEN];
	struct kept kp;
	static const uint8_t junk[] = "{\"challenge\":17}";
	static const uint8_t nobody[16] = "no such key here";
	int64_t rid = file(e, ELEVATION);

	assert_int_equal(tk_approvals_challenge(e->ap, rid, e->alice,
	    TK_DECIDE_APPROVE, ch, NULL), 0);
	keep(&e->ak, ch, 2, &kp);
	as = kp.as;
	as.client_data = junk;
	as.client_data_len = sizeof(junk) - 1;
	assert_refused(e, rid, tk_approvals_vote(e->ap, rid, &as, &res),
	    TK_APR_ERR_INVALID, &res, "malformed");
	as = kp.as;
	as.cred_id = nobody;
	as.cred_id_len = sizeof(nobody);
	assert_refused(e, rid, tk_approvals_vote(e->ap, rid, &as, &res),
	    TK_APR_ERR_CREDENTIAL, &res, "unknown credential");
	assert_refused(e, rid, tk_approvals_vote(e->ap, rid, NULL, &res),
	    TK_APR_ERR_INVALID, &res, "malformed");
	assert_int_equal(count_rows(e->path, "ballots"), 0);
	/* The challenge was not burnt: the real assertion still counts. */
	assert_int_equal(tk_approvals_vote(e->ap, rid, &kp.as, &res), 0);
	assert_int_equal(count_rows(e->path, "ballots"), 1);
	softauthn_resp_clear(&kp.r);
}

static void
expired_challenge_is_refused(void **state)
{
	struct env *e = *state;
	struct tk_vote_result res;
	uint8_t ch[TK_CHALLENGE_LEN];
	int64_t rid = file(e, ELEVATION), expires = 0;

	assert_int_equal(tk_approvals_challenge(e->ap, rid, e->alice,
	    TK_DECIDE_APPROVE, ch, &expires), 0);
	assert_int_equal(expires, T0 + 300);
	e->now = expires;
	assert_refused(e, rid, sign_and_vote(e, &e->ak, rid, ch, 2, &res),
	    TK_APR_ERR_CHALLENGE_EXPIRED, &res, "challenge expired");
}

static void
counter_regression_flags_the_credential_for_good(void **state)
{
	struct env *e = *state;
	struct tk_vote_result res;
	struct tk_credential c;
	struct kept kp;
	uint8_t ch[TK_CHALLENGE_LEN];
	int64_t r1 = file(e, ELEVATION), r2 = file(e, ELEVATION);

	assert_int_equal(tk_approvals_challenge(e->ap, r1, e->alice,
	    TK_DECIDE_APPROVE, ch, NULL), 0);
	assert_int_equal(sign_and_vote(e, &e->ak, r1, ch, 7, &res), 0);
	assert_int_equal(tk_approvals_challenge(e->ap, r2, e->alice,
	    TK_DECIDE_APPROVE, ch, NULL), 0);
	assert_refused(e, r2, sign_and_vote(e, &e->ak, r2, ch, 7, &res),
	    TK_APR_ERR_COUNTER, &res, "counter");
	/* Flagged: a later, increasing counter is refused all the same. */
	assert_int_equal(tk_approvals_challenge(e->ap, r2, e->alice,
	    TK_DECIDE_APPROVE, ch, NULL), 0);
	assert_refused(e, r2, sign_and_vote(e, &e->ak, r2, ch, 50, &res),
	    TK_APR_ERR_CLONED, &res, "possibly cloned");
	keep(&e->ak, ch, 1, &kp);
	assert_int_equal(tk_approvals_credential_get(e->ap, kp.r.id,
	    kp.r.id_len, &c), 0);
	assert_true(c.flags & TK_CRED_CLONED);
	assert_int_equal(c.sign_count, 7);
	softauthn_resp_clear(&kp.r);
}

static void
suspended_approver_is_refused(void **state)
{
	struct env *e = *state;
	struct tk_vote_result res;
	int64_t rid = file(e, ELEVATION);

	assert_int_equal(vote(e, &e->ak, rid, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(tk_approvals_person_set_state(e->ap, "root", e->bob,
	    TK_PERSON_SUSPENDED), 0);
	assert_refused(e, rid, vote(e, &e->bk, rid, TK_DECIDE_APPROVE, &res),
	    TK_APR_ERR_INACTIVE, &res, "suspended or has left");
	assert_int_equal(state_of(e, rid), TK_REQ_PENDING);
}

static void
departed_approver_is_refused(void **state)
{
	struct env *e = *state;
	struct tk_vote_result res;
	int64_t rid = file(e, ELEVATION);

	assert_int_equal(tk_approvals_person_set_state(e->ap, "root", e->bob,
	    TK_PERSON_LEFT), 0);
	assert_refused(e, rid, vote(e, &e->bk, rid, TK_DECIDE_APPROVE, &res),
	    TK_APR_ERR_INACTIVE, &res, "suspended or has left");
}

static void
assertion_from_another_origin_is_refused_by_the_verifier(void **state)
{
	struct env *e = *state;
	struct tk_vote_result res;
	struct softauthn_opts o;
	struct softauthn_resp r;
	struct tk_assertion as;
	uint8_t ch[TK_CHALLENGE_LEN];
	int64_t rid = file(e, ELEVATION);

	memset(&r, 0, sizeof(r));
	assert_int_equal(tk_approvals_challenge(e->ap, rid, e->alice,
	    TK_DECIDE_APPROVE, ch, NULL), 0);
	softauthn_opts_init(&o, RP, "https://evil.example", ch, sizeof(ch));
	o.counter = 2;
	assert_int_equal(softauthn_get_assertion(e->ak.sa, &o, &r), 0);
	as.cred_id = r.id;
	as.cred_id_len = r.id_len;
	as.client_data = r.client_data;
	as.client_data_len = r.client_data_len;
	as.auth_data = r.auth_data;
	as.auth_data_len = r.auth_data_len;
	as.sig = r.sig;
	as.sig_len = r.sig_len;
	assert_refused(e, rid, tk_approvals_vote(e->ap, rid, &as, &res),
	    TK_APR_ERR_ASSERTION, &res, "evil.example");
	softauthn_resp_clear(&r);
}

static void
one_rejection_ends_the_request_and_leaves_the_others(void **state)
{
	struct env *e = *state;
	struct tk_vote_result res;
	uint8_t ch[TK_CHALLENGE_LEN];
	int64_t rid = file(e, ELEVATION), other = file(e, ELEVATION);
	int64_t *ids = NULL;
	size_t n = 0;

	assert_int_equal(vote(e, &e->ak, rid, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(vote(e, &e->ck, rid, TK_DECIDE_REJECT, &res), 0);
	assert_int_equal(res.state, TK_REQ_REJECTED);
	assert_journaled(e, "request.rejected", "request/");
	assert_int_equal(tk_approvals_challenge(e->ap, rid, e->bob,
	    TK_DECIDE_APPROVE, ch, NULL), TK_APR_ERR_NOT_PENDING);
	assert_no_grant(e, rid);
	assert_int_equal(tk_approvals_pending(e->ap, &ids, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], other);
	free(ids);
}

static void
pending_request_expires_after_a_day(void **state)
{
	struct env *e = *state;
	struct tk_vote_result res;
	uint8_t ch[TK_CHALLENGE_LEN];
	unsigned int n = 0;
	int64_t rid = file(e, ELEVATION);

	assert_int_equal(vote(e, &e->ak, rid, TK_DECIDE_APPROVE, &res), 0);
	e->now = T0 + 86400 - 1;
	assert_int_equal(tk_approvals_challenge(e->ap, rid, e->bob,
	    TK_DECIDE_APPROVE, ch, NULL), 0);
	e->now = T0 + 86400;
	assert_refused(e, rid, sign_and_vote(e, &e->bk, rid, ch, 2, &res),
	    TK_APR_ERR_REQUEST_EXPIRED, &res, "request expired");
	assert_int_equal(state_of(e, rid), TK_REQ_EXPIRED);
	rid = file(e, ELEVATION);
	e->now += 86400;
	assert_int_equal(tk_approvals_expire(e->ap, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(state_of(e, rid), TK_REQ_EXPIRED);
	assert_journaled(e, "request.expire", "request/");
}

static void
distinct_teams_policy_wants_two_teams(void **state)
{
	struct env *e = *state;
	struct tk_vote_result res;
	int64_t rid;

	e->policy->distinct_teams = 1;
	apr_policy_in_force(e);
	rid = file(e, ELEVATION);
	assert_int_equal(vote(e, &e->ak, rid, TK_DECIDE_APPROVE, &res), 0);
	assert_refused(e, rid, vote(e, &e->ck, rid, TK_DECIDE_APPROVE, &res),
	    TK_APR_ERR_TEAM, &res, "team");
	assert_int_equal(vote(e, &e->bk, rid, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(res.state, TK_REQ_GRANTED);
}

static void
refused_request_changes_no_state(void **state)
{
	static const char *bad[] = {
	    "{\"kind\":\"break-glass\",\"incident\":\"INC-7\",\"scopes\":"
	    "[\"admin:db\"],\"ttl\":14401,\"reason\":\"too long\"}",
	    "{\"kind\":\"elevation\"",
	};
	struct env *e = *state;
	int64_t id = 0;
	size_t i;

	for (i = 0; i < 2; i++) {
		assert_true(tk_approvals_file(e->ap, e->requester, bad[i],
		    strlen(bad[i]), &id) < 0);
		assert_int_equal(id, 0);
		assert_journaled(e, "request.file.refused", "\"code\"");
	}
	assert_int_equal(tk_approvals_file(e->ap, e->alice, ELEVATION,
	    strlen(ELEVATION), &id), TK_APR_ERR_ROLE);
	assert_int_equal(count_rows(e->path, "requests"), 0);
}

static void
credential_id_is_unique_across_people(void **state)
{
	struct env *e = *state;
	struct tk_credential c;
	struct kept kp;
	static const uint8_t ch[32];

	keep(&e->ak, ch, 1, &kp);
	assert_int_equal(tk_approvals_credential_get(e->ap, kp.r.id,
	    kp.r.id_len, &c), 0);
	assert_int_equal(c.person_id, e->alice);
	c.person_id = e->bob;
	assert_int_equal(tk_approvals_credential_add(e->ap, "root", &c),
	    TK_APR_ERR_EXISTS);
	assert_journaled(e, "credential.register.refused", "already taken");
	assert_int_equal(tk_approvals_credential_get(e->ap, kp.r.id,
	    kp.r.id_len, &c), 0);
	assert_int_equal(c.person_id, e->alice);
	assert_int_equal(count_rows(e->path, "credentials"), 4);
	softauthn_resp_clear(&kp.r);
}

static void
store_of_another_schema_version_is_refused(void **state)
{
	struct env *e = *state;
	struct tk_approvals_config cfg;
	struct tk_approvals *other = NULL;
	sqlite3 *db = NULL;

	tk_approvals_free(&e->ap);
	assert_int_equal(sqlite3_open(e->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	memset(&cfg, 0, sizeof(cfg));
	cfg.db_path = e->path;
	cfg.policy = e->policy;
	cfg.journal = e->journal;
	cfg.rp_id = RP;
	cfg.origin = ORIGIN;
	assert_int_equal(tk_approvals_open(&cfg, &other), TK_APR_ERR_DB);
	assert_null(other);
	e->policy->quorum = 1;
	cfg.db_path = ":memory:";
	assert_int_equal(tk_approvals_open(&cfg, &other), TK_APR_ERR_POLICY);
	assert_null(other);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, apr_setup, apr_teardown)
		T(self_approval_is_refused),
		T(one_person_with_two_keys_counts_once),
		T(replayed_assertion_is_refused),
		T(assertion_made_for_another_request_is_refused),
		T(challenge_of_another_person_is_refused),
		T(malformed_or_unknown_assertion_changes_nothing),
		T(expired_challenge_is_refused),
		T(counter_regression_flags_the_credential_for_good),
		T(suspended_approver_is_refused),
		T(departed_approver_is_refused),
		T(assertion_from_another_origin_is_refused_by_the_verifier),
		T(one_rejection_ends_the_request_and_leaves_the_others),
		T(pending_request_expires_after_a_day),
		T(distinct_teams_policy_wants_two_teams),
		T(refused_request_changes_no_state),
		T(credential_id_is_unique_across_people),
		T(store_of_another_schema_version_is_refused),
#undef T
	};

	return cmocka_run_group_tests(tests, apr_group_setup,
	    apr_group_teardown);
}
