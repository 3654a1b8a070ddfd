/*
 * Votes: one WebAuthn assertion carries one decision on one request.
 *
 * Order of checks: the challenge named in clientDataJSON must be one we
 * issued, for this request, unused, unexpired, to the owner of the stored
 * credential; the request must be pending; the credential must not be
 * flagged; then the webauthn layer verifies the assertion against the
 * stored key and counter; then the quorum rule admits or refuses the
 * ballot (never the requester's, nor that of the person a change is
 * about). A verified assertion consumes its challenge even when the
 * ballot is refused, and a counter regression flags the credential;
 * nothing else of a refused vote is kept, but every refusal is journaled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/webauthn.h"
#include "internal.h"

struct vote {
	int64_t request_id;
	const struct tk_assertion *as;
	int64_t now;
	uint8_t challenge[TK_CHALLENGE_LEN];
	struct tk_challenge_row ch;
	struct tk_credential cred;
	struct tk_person person;
	struct tk_request_info req;
	struct tk_ballot_set set;
	struct tk_quorum_result q;
	int64_t subject;	/* the person a change is about, or 0 */
	int consume;		/* keep the challenge used on refusal */
	int flag_cloned;	/* keep the credential flagged on refusal */
	int expire;		/* keep the request expired on refusal */
	int stale;		/* keep the change stale on refusal */
	char why[256];
};

static int
vote_load(struct tk_approvals *ap, struct vote *v)
{
	const struct tk_assertion *as = v->as;
	int rc;

	if (as == NULL)
		return TK_APR_ERR_INVALID;
	if ((rc = tk_challenge_from_client_data(as->client_data,
	    as->client_data_len, v->challenge)) != 0)
		return rc;
	if ((rc = tk_store_cred_get(ap, as->cred_id, as->cred_id_len,
	    &v->cred)) != 0 ||
	    (rc = tk_store_person_get(ap, v->cred.person_id,
	    &v->person)) != 0 ||
	    (rc = tk_store_challenge_get(ap, v->challenge, &v->ch)) != 0)
		return rc;
	if (v->ch.request_id != v->request_id)
		return TK_APR_ERR_OTHER_REQUEST;
	if (v->ch.used != 0)
		return TK_APR_ERR_CHALLENGE_USED;
	if (v->now >= v->ch.expires)
		return TK_APR_ERR_CHALLENGE_EXPIRED;
	if (v->ch.person_id != v->person.id)
		return TK_APR_ERR_WRONG_PERSON;
	if ((rc = tk_approvals_request_get(ap, v->request_id, &v->req)) != 0)
		return rc;
	if (v->req.state != TK_REQ_PENDING)
		return TK_APR_ERR_NOT_PENDING;
	if (v->now >= v->req.expires) {
		v->expire = 1;
		return TK_APR_ERR_REQUEST_EXPIRED;
	}
	if ((v->cred.flags & TK_CRED_CLONED) != 0)
		return TK_APR_ERR_CLONED;
	if ((v->cred.flags & TK_CRED_REVOKED) != 0)
		return TK_APR_ERR_CRED_REVOKED;
	return TK_APR_OK;
}

/* A change whose "before" moved on is dead: marked stale, never applied. */
static int
vote_fresh(struct tk_approvals *ap, struct vote *v)
{
	int rc;

	if (v->req.kind != TK_REQ_CHANGE)
		return TK_APR_OK;
	rc = tk_change_check(ap, &v->req, v->now, v->why, sizeof(v->why));
	if (rc == TK_APR_ERR_STALE)
		v->stale = 1;
	return rc;
}

static void
wa_cred(const struct tk_credential *c, const struct tk_person *p,
    struct tk_webauthn_cred *w)
{
	memset(w, 0, sizeof(*w));
	(void)snprintf(w->person, sizeof(w->person), "%s", p->name);
	memcpy(w->id, c->id, c->id_len);
	w->id_len = c->id_len;
	w->alg = c->alg;
	memcpy(w->cose_key, c->cose_key, c->cose_key_len);
	w->cose_key_len = c->cose_key_len;
	w->sign_count = c->sign_count;
	memcpy(w->aaguid, c->aaguid, sizeof(w->aaguid));
	memcpy(w->fmt, c->fmt, sizeof(w->fmt));
	w->backup_eligible = c->backup_eligible;
	w->backup_state = c->backup_state;
	w->uv_at_registration = c->uv_at_registration;
	w->attestation_trusted = c->attestation_trusted;
}

int
tk_credential_from_webauthn(const struct tk_webauthn_cred *w,
    int64_t person, struct tk_credential *c)
{
	memset(c, 0, sizeof(*c));
	if (w == NULL || w->id_len == 0 || w->id_len > sizeof(c->id) ||
	    w->cose_key_len == 0 || w->cose_key_len > sizeof(c->cose_key))
		return TK_APR_ERR_INVALID;
	memcpy(c->id, w->id, w->id_len);
	c->id_len = w->id_len;
	c->person_id = person;
	c->alg = w->alg;
	memcpy(c->cose_key, w->cose_key, w->cose_key_len);
	c->cose_key_len = w->cose_key_len;
	c->sign_count = w->sign_count;
	memcpy(c->aaguid, w->aaguid, sizeof(c->aaguid));
	memcpy(c->fmt, w->fmt, sizeof(c->fmt));
	c->fmt[sizeof(c->fmt) - 1] = '\0';
	c->backup_eligible = w->backup_eligible;
	c->backup_state = w->backup_state;
	c->uv_at_registration = w->uv_at_registration;
	c->attestation_trusted = w->attestation_trusted;
	return TK_APR_OK;
}

/* When the approved policy lists origins, ours must be one of them. */
static int
origin_allowed(const struct tk_policy *p, const char *origin)
{
	size_t i;

	for (i = 0; i < p->norigins; i++)
		if (strcmp(p->origins[i], origin) == 0)
			return 1;
	return p->norigins == 0;
}

/* The webauthn layer checks signature, client data, flags and counter. */
static int
vote_verify(struct tk_approvals *ap, struct vote *v)
{
	struct tk_webauthn_expect exp;
	struct tk_webauthn_assertion wa;
	struct tk_webauthn_assert_result res;
	struct tk_webauthn_verdict verdict;
	struct tk_webauthn_cred wc;
	const char *origins[1];
	int r;

	origins[0] = ap->origin;
	if (!origin_allowed(ap->policy, ap->origin)) {
		(void)snprintf(v->why, sizeof(v->why), "origin %s is not in "
		    "the approved policy's origins", ap->origin);
		return TK_APR_ERR_ASSERTION;
	}
	memset(&exp, 0, sizeof(exp));
	exp.rp_id = ap->rp_id;
	exp.origins = origins;
	exp.n_origins = 1;
	exp.challenge = v->challenge;
	exp.challenge_len = sizeof(v->challenge);
	exp.require_uv = ap->require_uv;
	exp.at_time = (time_t)v->now;
	wa.raw_id = v->as->cred_id;
	wa.raw_id_len = v->as->cred_id_len;
	wa.client_data = v->as->client_data;
	wa.client_data_len = v->as->client_data_len;
	wa.auth_data = v->as->auth_data;
	wa.auth_data_len = v->as->auth_data_len;
	wa.sig = v->as->sig;
	wa.sig_len = v->as->sig_len;
	wa_cred(&v->cred, &v->person, &wc);
	memset(&verdict, 0, sizeof(verdict));
	r = tk_webauthn_verify_assertion(&exp, &wc, &wa, &res, &verdict);
	if (r == TK_WA_ERR_COUNTER) {
		v->flag_cloned = 1;
		(void)snprintf(v->why, sizeof(v->why), "%s", verdict.detail);
		return TK_APR_ERR_COUNTER;
	}
	if (r == TK_WA_ERR_NOMEM)	/* not the assertion's fault */
		return TK_APR_ERR_NOMEM;
	if (r != 0) {
		(void)snprintf(v->why, sizeof(v->why), "%s",
		    verdict.detail[0] != '\0' ? verdict.detail :
		    tk_webauthn_strerror(r));
		return TK_APR_ERR_ASSERTION;
	}
	v->consume = 1;
	v->cred.sign_count = res.sign_count;
	v->cred.backup_state = res.backup_state;
	return TK_APR_OK;
}

static int
vote_admit(struct tk_approvals *ap, struct vote *v)
{
	struct tk_ballot b;
	int rc;

	if (v->req.kind == TK_REQ_CHANGE &&
	    (rc = tk_change_subject(ap, v->req.canonical, &v->subject)) != 0)
		return rc;
	if ((rc = tk_store_ballots(ap, v->request_id, &v->set)) != 0)
		return rc;
	if (v->set.n >= 255)
		return TK_APR_ERR_INVALID;
	b.person_id = v->person.id;
	b.team = v->person.team;
	b.roles = v->person.roles;
	b.state = v->person.state;
	b.cred_flags = v->cred.flags;
	b.decision = v->ch.decision;
	return tk_quorum_admit(ap->policy, v->req.requester, v->subject,
	    v->set.b, v->set.n, &b);
}

static int
insert_ballot(struct tk_approvals *ap, const struct vote *v)
{
	const struct tk_assertion *as = v->as;
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = tk_store_prepare(ap, "INSERT INTO ballots(request_id, "
	    "person_id, credential_id, decision, at, challenge, "
	    "client_data, auth_data, sig) VALUES (?,?,?,?,?,?,?,?,?)",
	    &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, v->request_id);
	sqlite3_bind_int64(st, 2, v->person.id);
	sqlite3_bind_blob(st, 3, v->cred.id, (int)v->cred.id_len,
	    SQLITE_STATIC);
	sqlite3_bind_int(st, 4, (int)v->ch.decision);
	sqlite3_bind_int64(st, 5, v->now);
	sqlite3_bind_blob(st, 6, v->challenge, TK_CHALLENGE_LEN,
	    SQLITE_STATIC);
	sqlite3_bind_blob(st, 7, as->client_data, (int)as->client_data_len,
	    SQLITE_STATIC);
	sqlite3_bind_blob(st, 8, as->auth_data, (int)as->auth_data_len,
	    SQLITE_STATIC);
	sqlite3_bind_blob(st, 9, as->sig, (int)as->sig_len, SQLITE_STATIC);
	return tk_store_done(ap, st);
}

/*
 * Records the ballot, decides, and on quorum issues the grant; the events
 * are journaled after every write succeeded, just before the commit.
 */
static int
vote_record(struct tk_approvals *ap, struct vote *v, const char *obj)
{
	char jti[64] = "", *cred;
	int rc;

	if ((rc = tk_store_challenge_use(ap, v->challenge, v->now)) != 0 ||
	    (rc = tk_store_cred_update(ap, &v->cred)) != 0 ||
	    (rc = insert_ballot(ap, v)) != 0)
		return rc;
	tk_ballot_set_clear(&v->set);
	if ((rc = tk_store_ballots(ap, v->request_id, &v->set)) != 0)
		return rc;
	tk_quorum_decide(ap->policy, v->req.requester, v->subject, v->set.b,
	    v->set.n, &v->q);
	if (v->q.state != TK_REQ_PENDING &&
	    (rc = tk_store_request_state(ap, v->request_id, v->q.state)) != 0)
		return rc;
	if (v->q.state == TK_REQ_GRANTED && v->req.kind == TK_REQ_CHANGE) {
		if ((rc = tk_change_apply(ap, &v->req, v->now)) != 0)
			return rc;
	} else if (v->q.state == TK_REQ_GRANTED &&
	    (rc = tk_grant_issue(ap, &v->req, &v->set, &v->q, v->now, jti,
	    sizeof(jti))) != 0)
		return rc;
	if ((cred = tk_b64url_encode(v->cred.id, v->cred.id_len)) == NULL)
		return TK_APR_ERR_NOMEM;
	rc = tk_apr_record(ap, v->person.name, v->ch.decision ==
	    TK_DECIDE_APPROVE ? "request.approve" : "request.reject", obj,
	    json_pack("{s:s, s:i, s:I}", "credential", cred, "counted",
	    (int)v->q.approvals, "sign_count",
	    (json_int_t)v->cred.sign_count));
	free(cred);
	if (rc != 0)
		return rc;
	if (v->q.state == TK_REQ_REJECTED)
		return tk_apr_record(ap, v->person.name, "request.rejected",
		    obj, json_object());
	if (v->q.state == TK_REQ_GRANTED && v->req.kind != TK_REQ_CHANGE)
		return tk_apr_record(ap, "twokey", "request.granted", obj,
		    json_pack("{s:s}", "jti", jti));
	return TK_APR_OK;
}

/* Keeps what a refusal must not undo, and journals the refusal. */
static int
vote_refused(struct tk_approvals *ap, struct vote *v, const char *obj,
    int err)
{
	int rc = TK_APR_OK;

	tk_store_rollback(ap);
	if (v->why[0] == '\0')
		(void)snprintf(v->why, sizeof(v->why), "%s",
		    tk_apr_strerror(err));
	if ((rc = tk_store_begin(ap)) != 0)
		return rc;
	if (v->flag_cloned) {
		v->cred.flags |= TK_CRED_CLONED;
		rc = tk_store_cred_update(ap, &v->cred);
	}
	if (rc == 0 && v->consume)
		rc = tk_store_challenge_use(ap, v->challenge, v->now);
	if (rc == 0 && v->expire)
		rc = tk_store_request_state(ap, v->request_id,
		    TK_REQ_EXPIRED);
	if (rc == 0 && v->stale)
		rc = tk_store_request_state(ap, v->request_id, TK_REQ_STALE);
	if (rc == 0 && (rc = tk_apr_refuse(ap, v->person.id != 0 ?
	    v->person.name : "-", "request.vote", obj, err, v->why)) == err)
		rc = tk_store_commit(ap);
	if (rc != 0) {
		tk_store_rollback(ap);
		return rc;
	}
	return err;
}

int
tk_approvals_vote(struct tk_approvals *ap, int64_t request_id,
    const struct tk_assertion *as, struct tk_vote_result *res)
{
	struct vote *v;
	char obj[32];
	int rc = TK_APR_ERR_NOMEM;

	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if ((v = calloc(1, sizeof(*v))) == NULL)
		goto out;
	v->request_id = request_id;
	v->as = as;
	v->now = tk_apr_now(ap);
	(void)snprintf(obj, sizeof(obj), "request/%lld",
	    (long long)request_id);
	if ((rc = tk_store_begin(ap)) != 0)
		goto out;
	if ((rc = vote_load(ap, v)) != 0 || (rc = vote_verify(ap, v)) != 0 ||
	    (rc = vote_fresh(ap, v)) != 0 || (rc = vote_admit(ap, v)) != 0) {
		rc = vote_refused(ap, v, obj, rc);
		goto out;
	}
	if ((rc = vote_record(ap, v, obj)) != 0 ||
	    (rc = tk_store_commit(ap)) != 0) {
		/* Nothing of the vote stays; the failure is journaled. */
		tk_store_rollback(ap);
		v->consume = v->flag_cloned = v->expire = v->stale = 0;
		rc = vote_refused(ap, v, obj, rc);
		goto out;
	}
	/* A change that applied may have changed the policy in force. */
	if (v->q.state == TK_REQ_GRANTED && v->req.kind == TK_REQ_CHANGE &&
	    (rc = tk_policy_store_reload(ap)) != 0)
		goto out;
	rc = TK_APR_OK;
out:
	if (res != NULL && v != NULL) {
		res->state = rc == 0 ? v->q.state : v->stale ? TK_REQ_STALE :
		    v->req.state;
		res->approvals = v->q.approvals;
		res->person = v->person.id;
		(void)snprintf(res->reason, sizeof(res->reason), "%s",
		    rc == 0 ? "" : v->why[0] != '\0' ? v->why :
		    tk_apr_strerror(rc));
	}
	if (v != NULL) {
		tk_ballot_set_clear(&v->set);
		tk_request_info_clear(&v->req);
		free(v);
	}
	return rc;
}
