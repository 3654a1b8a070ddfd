/*
 * Specifications of the quorum rule: the named cases, then a property
 * test over 10,000 random sequences of votes checked against the rule
 * computed here independently.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "twokey/approvals.h"

#define REQUESTER 1
#define SUBJECT 9	/* the person a change is about */

static struct tk_policy *
policy(unsigned int quorum, int distinct_teams)
{
	struct tk_policy *p = tk_policy_new();

	assert_non_null(p);
	p->quorum = quorum;
	p->distinct_teams = distinct_teams;
	return p;
}

static struct tk_ballot
approve(int64_t person, const char *team)
{
	struct tk_ballot b;

	memset(&b, 0, sizeof(b));
	b.person_id = person;
	b.team = team;
	b.roles = TK_ROLE_APPROVER;
	b.state = TK_PERSON_ACTIVE;
	b.decision = TK_DECIDE_APPROVE;
	return b;
}

static enum tk_request_state
decide_about(const struct tk_policy *p, int64_t subject,
    const struct tk_ballot *b, size_t n)
{
	struct tk_quorum_result r;

	tk_quorum_decide(p, REQUESTER, subject, b, n, &r);
	return r.state;
}

static enum tk_request_state
decide(const struct tk_policy *p, const struct tk_ballot *b, size_t n)
{
	return decide_about(p, 0, b, n);
}

static void
two_distinct_approvers_grant(void **state)
{
	struct tk_policy *p = policy(2, 0);
	struct tk_ballot b[2] = { approve(2, "a"), approve(3, "a") };

	(void)state;
	assert_int_equal(decide(p, b, 1), TK_REQ_PENDING);
	assert_int_equal(decide(p, b, 2), TK_REQ_GRANTED);
	tk_policy_free(&p);
}

static void
requester_approval_never_counts(void **state)
{
	struct tk_policy *p = policy(2, 0);
	struct tk_ballot b[2] = { approve(REQUESTER, "a"), approve(3, "a") };

	(void)state;
	assert_int_equal(decide(p, b, 2), TK_REQ_PENDING);
	assert_int_equal(tk_quorum_admit(p, REQUESTER, 0, NULL, 0, &b[0]),
	    TK_APR_ERR_SELF_APPROVAL);
	tk_policy_free(&p);
}

/*
 * gina's own approval of a change that makes her admin would leave one
 * other approver to agree: she decides on it no more than its proposer.
 */
static void
person_a_change_is_about_never_counts(void **state)
{
	struct tk_policy *p = policy(2, 0);
	struct tk_ballot b[3] = { approve(SUBJECT, "a"), approve(3, "a"),
	    approve(4, "a") };

	(void)state;
	assert_int_equal(decide(p, b, 2), TK_REQ_GRANTED);
	assert_int_equal(decide_about(p, SUBJECT, b, 2), TK_REQ_PENDING);
	assert_int_equal(decide_about(p, SUBJECT, b, 3), TK_REQ_GRANTED);
	assert_int_equal(tk_quorum_admit(p, REQUESTER, SUBJECT, NULL, 0,
	    &b[0]), TK_APR_ERR_SUBJECT);
	assert_int_equal(tk_quorum_admit(p, REQUESTER, 0, NULL, 0, &b[0]),
	    0);
	/* Nor does their rejection, as the requester's does not. */
	b[0].decision = TK_DECIDE_REJECT;
	assert_int_equal(tk_quorum_admit(p, REQUESTER, SUBJECT, NULL, 0,
	    &b[0]), TK_APR_ERR_SUBJECT);
	assert_int_equal(decide_about(p, SUBJECT, b, 3), TK_REQ_GRANTED);
	assert_int_equal(decide(p, b, 3), TK_REQ_REJECTED);
	tk_policy_free(&p);
}

static void
two_keys_of_one_person_count_once(void **state)
{
	struct tk_policy *p = policy(2, 0);
	struct tk_ballot b[2] = { approve(2, "a"), approve(2, "a") };

	(void)state;
	assert_int_equal(decide(p, b, 2), TK_REQ_PENDING);
	assert_int_equal(tk_quorum_admit(p, REQUESTER, 0, b, 1, &b[1]),
	    TK_APR_ERR_SAME_PERSON);
	tk_policy_free(&p);
}

static void
suspended_or_departed_approver_does_not_count(void **state)
{
	struct tk_policy *p = policy(2, 0);
	struct tk_ballot b[3] = { approve(2, "a"), approve(3, "a"),
	    approve(4, "a") };

	(void)state;
	b[1].state = TK_PERSON_SUSPENDED;
	b[2].state = TK_PERSON_LEFT;
	assert_int_equal(decide(p, b, 3), TK_REQ_PENDING);
	assert_int_equal(tk_quorum_admit(p, REQUESTER, 0, b, 1, &b[1]),
	    TK_APR_ERR_INACTIVE);
	assert_int_equal(tk_quorum_admit(p, REQUESTER, 0, b, 1, &b[2]),
	    TK_APR_ERR_INACTIVE);
	tk_policy_free(&p);
}

static void
person_without_approver_role_does_not_count(void **state)
{
	struct tk_policy *p = policy(2, 0);
	struct tk_ballot b[2] = { approve(2, "a"), approve(3, "a") };

	(void)state;
	b[1].roles = TK_ROLE_REQUESTER | TK_ROLE_ADMIN;
	assert_int_equal(decide(p, b, 2), TK_REQ_PENDING);
	assert_int_equal(tk_quorum_admit(p, REQUESTER, 0, b, 1, &b[1]),
	    TK_APR_ERR_ROLE);
	tk_policy_free(&p);
}

static void
flagged_credential_does_not_count(void **state)
{
	struct tk_policy *p = policy(2, 0);
	struct tk_ballot b[2] = { approve(2, "a"), approve(3, "a") };

	(void)state;
	b[1].cred_flags = TK_CRED_CLONED;
	assert_int_equal(decide(p, b, 2), TK_REQ_PENDING);
	assert_int_equal(tk_quorum_admit(p, REQUESTER, 0, b, 1, &b[1]),
	    TK_APR_ERR_CLONED);
	tk_policy_free(&p);
}

static void
one_rejection_ends_the_request(void **state)
{
	struct tk_policy *p = policy(2, 0);
	struct tk_ballot b[3] = { approve(2, "a"), approve(3, "a"),
	    approve(4, "a") };

	(void)state;
	b[1].decision = TK_DECIDE_REJECT;
	assert_int_equal(decide(p, b, 3), TK_REQ_REJECTED);
	tk_policy_free(&p);
}

static void
distinct_teams_needs_approvers_of_two_teams(void **state)
{
	struct tk_policy *p = policy(2, 1);
	struct tk_ballot b[3] = { approve(2, "ops"), approve(3, "ops"),
	    approve(4, "sec") };

	(void)state;
	assert_int_equal(decide(p, b, 2), TK_REQ_PENDING);
	assert_int_equal(tk_quorum_admit(p, REQUESTER, 0, b, 1, &b[1]),
	    TK_APR_ERR_TEAM);
	assert_int_equal(decide(p, b, 3), TK_REQ_GRANTED);
	tk_policy_free(&p);
}

static void
team_spelled_in_another_case_is_the_same_team(void **state)
{
	struct tk_policy *p = policy(2, 1);
	struct tk_ballot b[3] = { approve(2, "ops"), approve(3, "OPS"),
	    approve(4, "Sec") };

	(void)state;
	assert_int_equal(decide(p, b, 2), TK_REQ_PENDING);
	assert_int_equal(tk_quorum_admit(p, REQUESTER, 0, b, 1, &b[1]),
	    TK_APR_ERR_TEAM);
	assert_int_equal(decide(p, b, 3), TK_REQ_GRANTED);
	tk_policy_free(&p);
}

static void
quorum_of_three_needs_three(void **state)
{
	struct tk_policy *p = policy(3, 0);
	struct tk_ballot b[3] = { approve(2, "a"), approve(3, "a"),
	    approve(4, "a") };

	(void)state;
	assert_int_equal(decide(p, b, 2), TK_REQ_PENDING);
	assert_int_equal(decide(p, b, 3), TK_REQ_GRANTED);
	tk_policy_free(&p);
}

static void
policy_below_two_never_grants_even_if_forced(void **state)
{
	struct tk_policy *p = policy(1, 0);
	struct tk_ballot b[1] = { approve(2, "a") };

	(void)state;
	assert_int_equal(tk_policy_validate(p), TK_APR_ERR_POLICY);
	assert_int_equal(decide(p, b, 1), TK_REQ_PENDING);
	p->quorum = 0;
	assert_int_equal(decide(p, b, 1), TK_REQ_PENDING);
	tk_policy_free(&p);
}

/* ---- property test ---- */

static uint64_t prng_state;

/* splitmix64: deterministic, seeded, good enough to pick test cases. */
static uint64_t
next(void)
{
	uint64_t z = (prng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int
pick(unsigned int n)
{
	return (unsigned int)(next() % n);
}

#define MAXP 8
#define MAXC 24
#define MAXV 12

struct world {
	unsigned int quorum;
	int teams_rule;
	int64_t requester;
	int64_t subject;		/* 0: a request about no person */
	unsigned int np, nc;
	const char *team[MAXP + 1];
	unsigned int roles[MAXP + 1];
	enum tk_person_state state[MAXP + 1];
	int64_t cred_owner[MAXC];	/* duplicates: one person, many keys */
	uint32_t cred_flags[MAXC];
};

static void
make_world(struct world *w)
{
	static const char *teams[] = { "ops", "sec", "dev" };
	static const enum tk_person_state states[] = { TK_PERSON_ACTIVE,
	    TK_PERSON_ACTIVE, TK_PERSON_ACTIVE, TK_PERSON_ACTIVE,
	    TK_PERSON_SUSPENDED, TK_PERSON_LEFT };
	unsigned int i;

	memset(w, 0, sizeof(*w));
	w->quorum = 2 + pick(2);
	w->teams_rule = pick(3) == 0;
	w->np = 2 + pick(MAXP - 1);
	for (i = 1; i <= w->np; i++) {
		w->team[i] = teams[pick(3)];
		w->roles[i] = (unsigned int)next() & TK_ROLE_ALL;
		if (pick(4) != 0)
			w->roles[i] |= TK_ROLE_APPROVER;
		w->state[i] = states[pick(6)];
	}
	w->requester = 1 + pick(w->np);
	/* Sometimes the change is about the requester themselves. */
	w->subject = pick(2) == 0 ? 0 : 1 + pick(w->np);
	w->nc = w->np + pick(w->np + 1);
	for (i = 0; i < w->nc; i++) {
		w->cred_owner[i] = i < w->np ? (int64_t)i + 1 :
		    1 + pick(w->np);
		w->cred_flags[i] = pick(12) == 0 ? TK_CRED_CLONED : 0;
	}
}

static struct tk_ballot
ballot_of(const struct world *w, unsigned int cred, int reject)
{
	struct tk_ballot b;
	int64_t p = w->cred_owner[cred];

	memset(&b, 0, sizeof(b));
	b.person_id = p;
	b.team = w->team[p];
	b.roles = w->roles[p];
	b.state = w->state[p];
	b.cred_flags = w->cred_flags[cred];
	b.decision = reject ? TK_DECIDE_REJECT : TK_DECIDE_APPROVE;
	return b;
}

/*
 * The rule, written plainly from the issue text: walk the votes in
 * order; a vote is void if cast by the requester or by the person the
 * request is about, a person not active or without the approver role,
 * or with a flagged key; a person's later votes are void; a rejection
 * ends it; with the team rule an approval from an already counted team
 * is void; N counted approvals grant.
 */
static int
rule_grants(const struct world *w, const unsigned int *cred,
    const int *reject, size_t n)
{
	int voted[MAXP + 1] = { 0 }, team_used[3] = { 0 };
	unsigned int counted = 0;
	size_t i;
	int64_t p;
	int t;

	for (i = 0; i < n; i++) {
		p = w->cred_owner[cred[i]];
		if (p == w->requester || p == w->subject ||
		    w->state[p] != TK_PERSON_ACTIVE ||
		    !(w->roles[p] & TK_ROLE_APPROVER) ||
		    w->cred_flags[cred[i]] != 0 || voted[p])
			continue;
		if (reject[i])
			return 0;
		t = w->team[p][0] == 'o' ? 0 : w->team[p][0] == 's' ? 1 : 2;
		if (w->teams_rule && team_used[t])
			continue;
		voted[p] = 1;
		team_used[t] = 1;
		if (++counted >= w->quorum)
			return 1;
	}
	return 0;
}

/* What the service does: admit each vote, then decide over the admitted. */
static int
service_grants(const struct world *w, const unsigned int *cred,
    const int *reject, size_t n, struct tk_quorum_result *r)
{
	struct tk_policy *p = policy(w->quorum, w->teams_rule);
	struct tk_ballot rec[MAXV], b;
	size_t i, k = 0;

	memset(r, 0, sizeof(*r));
	r->state = TK_REQ_PENDING;
	for (i = 0; i < n && r->state == TK_REQ_PENDING; i++) {
		b = ballot_of(w, cred[i], reject[i]);
		if (tk_quorum_admit(p, w->requester, w->subject, rec, k,
		    &b) != 0)
			continue;
		rec[k++] = b;
		tk_quorum_decide(p, w->requester, w->subject, rec, k, r);
	}
	/* What was counted must satisfy the invariants on its own. */
	for (i = 0; r->state == TK_REQ_GRANTED && i < r->approvals; i++) {
		assert_true(rec[r->counted[i]].person_id != w->requester);
		assert_true(rec[r->counted[i]].person_id != w->subject);
		assert_int_equal(rec[r->counted[i]].state, TK_PERSON_ACTIVE);
		if (i > 0)
			assert_true(rec[r->counted[i]].person_id !=
			    rec[r->counted[i - 1]].person_id);
	}
	tk_policy_free(&p);
	return r->state == TK_REQ_GRANTED;
}

static void
grant_exists_exactly_when_the_rule_holds(void **state)
{
	struct world w;
	struct tk_quorum_result r;
	unsigned int cred[MAXV];
	int reject[MAXV];
	size_t n, i, iter, granted = 0, rejected = 0;
	const char *seed = getenv("TWOKEY_PROPERTY_SEED");

	(void)state;
	prng_state = seed != NULL ? strtoull(seed, NULL, 0) : 20261203;
	for (iter = 0; iter < 10000; iter++) {
		make_world(&w);
		n = pick(MAXV + 1);
		for (i = 0; i < n; i++) {
			cred[i] = pick(w.nc);
			reject[i] = pick(10) == 0;
		}
		if (service_grants(&w, cred, reject, n, &r) !=
		    rule_grants(&w, cred, reject, n)) {
			fprintf(stderr, "sequence %zu disagrees\n", iter);
			fail();
		}
		granted += r.state == TK_REQ_GRANTED;
		rejected += r.state == TK_REQ_REJECTED;
	}
	/* The generator must exercise every outcome, or the test is idle. */
	printf("property: %zu granted, %zu rejected of 10000\n", granted,
	    rejected);
	assert_true(granted > 1000 && rejected > 500 &&
	    granted + rejected < 9000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_distinct_approvers_grant),
		cmocka_unit_test(requester_approval_never_counts),
		cmocka_unit_test(person_a_change_is_about_never_counts),
		cmocka_unit_test(two_keys_of_one_person_count_once),
		cmocka_unit_test(suspended_or_departed_approver_does_not_count),
		cmocka_unit_test(person_without_approver_role_does_not_count),
		cmocka_unit_test(flagged_credential_does_not_count),
		cmocka_unit_test(one_rejection_ends_the_request),
		cmocka_unit_test(distinct_teams_needs_approvers_of_two_teams),
		cmocka_unit_test(
		    team_spelled_in_another_case_is_the_same_team),
		cmocka_unit_test(quorum_of_three_needs_three),
		cmocka_unit_test(policy_below_two_never_grants_even_if_forced),
		cmocka_unit_test(grant_exists_exactly_when_the_rule_holds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
