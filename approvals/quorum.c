/*
 * The quorum rule as pure functions over recorded ballots and the voters'
 * current state, so that it can be tested exhaustively without a store.
 */
#include <string.h>
#include <strings.h>

#include "twokey/approvals.h"
#include "internal.h"

/*
 * A ballot that can count at all, whatever the others are. The person a
 * change is about stands where the requester does: a say in their own
 * promotion would leave one other approver to agree.
 */
static int
eligible(int64_t requester, int64_t subject, const struct tk_ballot *b)
{
	if (b->person_id == requester)
		return TK_APR_ERR_SELF_APPROVAL;
	if (subject != 0 && b->person_id == subject)
		return TK_APR_ERR_SUBJECT;
	if (b->state != TK_PERSON_ACTIVE)
		return TK_APR_ERR_INACTIVE;
	if ((b->roles & TK_ROLE_APPROVER) == 0)
		return TK_APR_ERR_ROLE;
	if ((b->cred_flags & TK_CRED_CLONED) != 0)
		return TK_APR_ERR_CLONED;
	if ((b->cred_flags & TK_CRED_REVOKED) != 0)
		return TK_APR_ERR_CRED_REVOKED;
	return TK_APR_OK;
}

/* "OPS" is ops: a team respelled must not pass for a second team. */
static int
same_team(const struct tk_ballot *a, const struct tk_ballot *b)
{
	return a->team != NULL && b->team != NULL &&
	    strcasecmp(a->team, b->team) == 0;
}

int
tk_quorum_admit(const struct tk_policy *p, int64_t requester,
    int64_t subject, const struct tk_ballot *recorded, size_t n,
    const struct tk_ballot *b)
{
	size_t i;
	int rc;

	if ((rc = eligible(requester, subject, b)) != 0)
		return rc;
	for (i = 0; i < n; i++)
		if (recorded[i].person_id == b->person_id)
			return TK_APR_ERR_SAME_PERSON;
	if (!p->distinct_teams || b->decision != TK_DECIDE_APPROVE)
		return TK_APR_OK;
	for (i = 0; i < n; i++)
		if (recorded[i].decision == TK_DECIDE_APPROVE &&
		    eligible(requester, subject, &recorded[i]) == 0 &&
		    same_team(&recorded[i], b))
			return TK_APR_ERR_TEAM;
	return TK_APR_OK;
}

/* Whether ballot i repeats a person (or team) already counted. */
static int
already_counted(const struct tk_policy *p, const struct tk_ballot *ballots,
    const struct tk_quorum_result *r, size_t i)
{
	size_t k;

	for (k = 0; k < r->approvals; k++) {
		if (ballots[r->counted[k]].person_id == ballots[i].person_id)
			return 1;
		if (p->distinct_teams &&
		    same_team(&ballots[r->counted[k]], &ballots[i]))
			return 1;
	}
	return 0;
}

void
tk_quorum_decide(const struct tk_policy *p, int64_t requester,
    int64_t subject, const struct tk_ballot *ballots, size_t n,
    struct tk_quorum_result *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	out->state = TK_REQ_PENDING;
	/* A policy that slipped past validation must not lower the bar. */
	if (p == NULL || p->quorum < 2 || p->quorum > TK_QUORUM_MAX)
		return;
	for (i = 0; i < n; i++) {
		if (eligible(requester, subject, &ballots[i]) != 0)
			continue;
		if (ballots[i].decision == TK_DECIDE_REJECT) {
			out->state = TK_REQ_REJECTED;
			return;
		}
		if (ballots[i].decision != TK_DECIDE_APPROVE ||
		    already_counted(p, ballots, out, i))
			continue;
		out->counted[out->approvals++] = i;
		if (out->approvals >= p->quorum) {
			out->state = TK_REQ_GRANTED;
			return;
		}
	}
}
