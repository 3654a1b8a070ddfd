/*
 * Requests, approvals and grants over HTTPS. The approvals layer decides
 * everything (policy, quorum, who may vote, what a grant says); this file
 * maps HTTP to it: the person is always the session's, never the body's,
 * and each refusal gets a stable code. The store is single-threaded, so
 * each call holds the backend lock.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "web_int.h"

static const struct {
	int rc;
	unsigned int status;
	const char *code;
} apr_errors[] = {
	{ TK_APR_ERR_INVALID, 400, "invalid_request" },
	{ TK_APR_ERR_NOT_FOUND, 404, "not_found" },
	{ TK_APR_ERR_BLOCKED_SCOPE, 403, "blocked_scope" },
	{ TK_APR_ERR_SCOPE_TEMPLATE, 403, "scope_not_allowed" },
	{ TK_APR_ERR_DURATION, 400, "duration_too_long" },
	{ TK_APR_ERR_ROLE, 403, "role_missing" },
	{ TK_APR_ERR_NOT_PENDING, 409, "not_pending" },
	{ TK_APR_ERR_REQUEST_EXPIRED, 409, "request_expired" },
	{ TK_APR_ERR_CHALLENGE_UNKNOWN, 400, "challenge_unknown" },
	{ TK_APR_ERR_CHALLENGE_USED, 409, "challenge_used" },
	{ TK_APR_ERR_CHALLENGE_EXPIRED, 409, "challenge_expired" },
	{ TK_APR_ERR_OTHER_REQUEST, 400, "challenge_other_request" },
	{ TK_APR_ERR_SELF_APPROVAL, 403, "self_approval" },
	{ TK_APR_ERR_SUBJECT, 403, "subject_approval" },
	{ TK_APR_ERR_LAST_ADMIN, 409, "last_admin" },
	{ TK_APR_ERR_SAME_PERSON, 409, "already_voted" },
	{ TK_APR_ERR_INACTIVE, 403, "person_inactive" },
	{ TK_APR_ERR_CREDENTIAL, 403, "credential_unknown" },
	{ TK_APR_ERR_CLONED, 403, "credential_flagged" },
	{ TK_APR_ERR_COUNTER, 403, "credential_flagged" },
	{ TK_APR_ERR_ASSERTION, 403, "assertion_refused" },
	{ TK_APR_ERR_REVIEW_OVERDUE, 403, "review_overdue" },
	{ TK_APR_ERR_WRONG_PERSON, 403, "wrong_person" },
	{ TK_APR_ERR_TEAM, 409, "team_already_counted" },
	{ TK_APR_ERR_REVOKED, 409, "grant_not_active" },
	{ TK_APR_ERR_EXISTS, 409, "exists" },
	{ TK_APR_ERR_STALE, 409, "change_stale" },
	{ TK_APR_ERR_QUORUM, 403, "quorum_required" },
	{ TK_APR_ERR_NO_CHANGE, 409, "no_change" },
	{ TK_APR_ERR_CRED_REVOKED, 403, "credential_revoked" },
	{ TK_APR_ERR_POLICY, 400, "policy_invalid" },
	{ TK_APR_ERR_TOO_LARGE, 413, "change_too_large" },
};

void
web_apr_reply(struct reply *r, int rc, const char *detail)
{
	size_t i;

	for (i = 0; i < sizeof(apr_errors) / sizeof(apr_errors[0]); i++)
		if (apr_errors[i].rc == rc) {
			/* The detail often says the same in the same words. */
			if (strcmp(detail, tk_apr_strerror(rc)) == 0)
				detail = "";
			web_reply_error(r, apr_errors[i].status,
			    apr_errors[i].code, "%s%s%s", tk_apr_strerror(rc),
			    detail[0] != '\0' ? ": " : "", detail);
			return;
		}
	tk_error("approvals: %s", tk_apr_strerror(rc));
	web_reply_error(r, 503, "unavailable", "the request could not be "
	    "processed; see the server log");
}

int64_t
web_path_id(const struct req *rq)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(rq->param, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0 || rq->param[0] == '0')
		return 0;
	return (int64_t)v;
}

/* A change that reached its quorum is "applied", a grant "granted". */
static const char *
state_name(enum tk_request_kind k, enum tk_request_state s)
{
	static const char *names[] = { "pending", "granted", "rejected",
	    "expired", "stale" };

	if (k == TK_REQ_CHANGE && s == TK_REQ_GRANTED)
		return "applied";
	return (unsigned int)s < 5 ? names[s] : "unknown";
}

static const char *
kind_name(enum tk_request_kind k)
{
	return k == TK_REQ_BREAKGLASS ? "break-glass" : k == TK_REQ_CHANGE ?
	    "change" : "elevation";
}

void
web_h_request_file(struct tk_web *w, struct req *rq, struct reply *r)
{
	char why[TK_WHY_MAX] = "";
	int64_t id = 0;
	int rc;

	if (!web_backend_ready(w, r))
		return;
	pthread_mutex_lock(w->be->lock);
	rc = tk_approvals_file_why(w->be->ap, rq->who.person, rq->body,
	    rq->body_len, &id, why, sizeof(why));
	pthread_mutex_unlock(w->be->lock);
	if (rc != 0) {
		web_apr_reply(r, rc, why);
		return;
	}
	web_reply_json(r, 201, json_pack("{s:I,s:s}", "id", (json_int_t)id,
	    "state", "pending"));
}

json_t *
web_request_json(struct tk_web *w, const struct tk_request_info *info)
{
	char digest[TK_DIGEST_LEN * 2 + 1], *view = NULL;
	json_t *canon, *o, *v = NULL;

	tk_hex_encode(info->digest, TK_DIGEST_LEN, digest);
	canon = json_loads(info->canonical, 0, NULL);
	o = json_pack("{s:I,s:s,s:s,s:I,s:I,s:I,s:s,s:o*}", "id",
	    (json_int_t)info->id, "kind", kind_name(info->kind), "state",
	    state_name(info->kind, info->state),
	    "requester", (json_int_t)info->requester, "created",
	    (json_int_t)info->created, "expires", (json_int_t)info->expires,
	    "digest", digest, "request", canon);
	if (o != NULL && tk_approvals_request_view(w->be->ap, info->id,
	    &view) == 0 && (v = json_loads(view, 0, NULL)) != NULL) {
		web_vote_reasons_fill(w, info->id, json_object_get(v,
		    "votes"));
		json_object_update(o, v);
	}
	json_decref(v);
	free(view);
	return o;
}

void
web_h_request_show(struct tk_web *w, struct req *rq, struct reply *r)
{
	struct tk_request_info info;
	int64_t id = web_path_id(rq);
	int rc;

	if (!web_backend_ready(w, r))
		return;
	memset(&info, 0, sizeof(info));
	pthread_mutex_lock(w->be->lock);
	rc = id == 0 ? TK_APR_ERR_NOT_FOUND :
	    tk_approvals_request_get(w->be->ap, id, &info);
	if (rc == 0)
		web_reply_json(r, 200, web_request_json(w, &info));
	pthread_mutex_unlock(w->be->lock);
	if (rc != 0)
		web_apr_reply(r, rc, "");
	tk_request_info_clear(&info);
}

void
web_h_request_list(struct tk_web *w, struct req *rq, struct reply *r)
{
	struct tk_request_info info;
	int64_t *ids = NULL;
	size_t n = 0, i;
	json_t *list;
	int rc;

	(void)rq;
	if (!web_backend_ready(w, r))
		return;
	if ((list = json_array()) == NULL)
		return;
	pthread_mutex_lock(w->be->lock);
	rc = tk_approvals_pending(w->be->ap, &ids, &n);
	for (i = 0; rc == 0 && i < n; i++) {
		memset(&info, 0, sizeof(info));
		if ((rc = tk_approvals_request_get(w->be->ap, ids[i],
		    &info)) == 0)
			json_array_append_new(list,
			    web_request_json(w, &info));
		tk_request_info_clear(&info);
	}
	pthread_mutex_unlock(w->be->lock);
	free(ids);
	if (rc != 0) {
		json_decref(list);
		web_apr_reply(r, rc, "");
		return;
	}
	web_reply_json(r, 200, json_pack("{s:o}", "pending", list));
}

void
web_h_request_challenge(struct tk_web *w, struct req *rq, struct reply *r)
{
	uint8_t ch[TK_CHALLENGE_LEN];
	int64_t id = web_path_id(rq), expires = 0;
	enum tk_decision dec;
	const char *d;
	char *b64 = NULL;
	int rc;

	if (!web_backend_ready(w, r))
		return;
	d = json_string_value(json_object_get(rq->json, "decision"));
	if (strcmp(d, "approve") == 0)
		dec = TK_DECIDE_APPROVE;
	else if (strcmp(d, "reject") == 0)
		dec = TK_DECIDE_REJECT;
	else {
		web_reply_error(r, 400, "invalid_field", "field \"decision\" "
		    "must be \"approve\" or \"reject\"");
		return;
	}
	if (web_rate_check(w, "addr", rq->addr) != 0 ||
	    web_rate_check(w, "person", rq->who.name) != 0) {
		web_reply_error(r, 429, "rate_limited", "too many approval "
		    "attempts; wait a minute and try again");
		return;
	}
	pthread_mutex_lock(w->be->lock);
	rc = id == 0 ? TK_APR_ERR_NOT_FOUND : tk_approvals_challenge(
	    w->be->ap, id, rq->who.person, dec, ch, &expires);
	pthread_mutex_unlock(w->be->lock);
	if (rc != 0) {
		web_apr_reply(r, rc, "");
		return;
	}
	if ((b64 = tk_b64url_encode(ch, sizeof(ch))) != NULL)
		web_reply_json(r, 200, json_pack("{s:s,s:s,s:s,s:I,s:s}",
		    "challenge", b64, "decision", d, "rp_id", w->rp_id,
		    "expires", (json_int_t)expires, "user_verification",
		    "required"));
	free(b64);
	OPENSSL_cleanse(ch, sizeof(ch));
}

/*
 * The voter's reason (the pages ask for one on a rejection), journaled
 * right after the vote it explains, in the voter's name, and kept so
 * that the request shows it to its requester. The assertion does not
 * sign it: it is a note, not part of the decision. 0, or -1 with a 503
 * in r.
 */
static int
vote_reason(struct tk_web *w, struct req *rq, int64_t id, struct reply *r)
{
	const char *reason;
	char obj[32];

	reason = json_string_value(json_object_get(rq->json, "reason"));
	if (reason == NULL)
		return 0;
	snprintf(obj, sizeof(obj), "request/%lld", (long long)id);
	if (web_journal(w, r, rq->who.name, "vote.reason", obj,
	    json_pack("{s:s}", "reason", reason)) != 0) {
		web_reply_error(r, 503, "unavailable", "the vote is recorded "
		    "but its reason could not be journaled");
		return -1;
	}
	if (web_vote_reason_add(w, id, rq->who.name, reason) != 0)
		tk_warn("the reason of %s's vote on request %lld is "
		    "journaled but not kept for display", rq->who.name,
		    (long long)id);
	return 0;
}

void
web_h_request_vote(struct tk_web *w, struct req *rq, struct reply *r)
{
	struct b64_assertion a;
	struct tk_assertion as;
	struct tk_vote_result res;
	struct tk_request_info info;
	enum tk_request_kind kind = TK_REQ_ELEVATION;
	int64_t id = web_path_id(rq);
	int rc;

	if (!web_backend_ready(w, r))
		return;
	if (web_rate_check(w, "addr", rq->addr) != 0 ||
	    web_rate_check(w, "person", rq->who.name) != 0) {
		web_reply_error(r, 429, "rate_limited", "too many approval "
		    "attempts; wait a minute and try again");
		return;
	}
	if (web_assertion_decode(rq->json, &a) != 0) {
		web_reply_error(r, 400, "invalid_field", "the assertion "
		    "fields must be base64url");
		return;
	}
	memset(&as, 0, sizeof(as));
	memset(&res, 0, sizeof(res));
	as.cred_id = a.id;
	as.cred_id_len = a.id_len;
	as.client_data = a.cdj;
	as.client_data_len = a.cdj_len;
	as.auth_data = a.ad;
	as.auth_data_len = a.ad_len;
	as.sig = a.sig;
	as.sig_len = a.sig_len;
	pthread_mutex_lock(w->be->lock);
	rc = id == 0 ? TK_APR_ERR_NOT_FOUND :
	    tk_approvals_vote(w->be->ap, id, &as, &res);
	memset(&info, 0, sizeof(info));
	if (rc == 0 && tk_approvals_request_get(w->be->ap, id, &info) == 0)
		kind = info.kind;
	tk_request_info_clear(&info);
	pthread_mutex_unlock(w->be->lock);
	web_assertion_clear(&a);
	if (rc == 0 && res.person != rq->who.person)
		tk_warn("vote on request %lld by person %lld made in the "
		    "session of person %lld", (long long)id,
		    (long long)res.person, (long long)rq->who.person);
	if (rc != 0) {
		web_apr_reply(r, rc, res.reason);
		return;
	}
	if (vote_reason(w, rq, id, r) == 0)
		web_reply_json(r, 200, json_pack("{s:s,s:i}", "state",
		    state_name(kind, res.state), "approvals",
		    (int)res.approvals));
	/* An applied change may have taken someone's authority away. */
	if (kind == TK_REQ_CHANGE && res.state == TK_REQ_GRANTED)
		web_authority_sweep(w);
}

static const char *
grant_state_name(enum tk_grant_state s)
{
	return s == TK_GRANT_ACTIVE ? "active" : s == TK_GRANT_EXPIRED ?
	    "expired" : "revoked";
}

void
web_h_request_grant(struct tk_web *w, struct req *rq, struct reply *r)
{
	struct tk_request_info info;
	struct tk_grant_info g;
	int64_t id = web_path_id(rq);
	int rc;

	if (!web_backend_ready(w, r))
		return;
	memset(&info, 0, sizeof(info));
	memset(&g, 0, sizeof(g));
	pthread_mutex_lock(w->be->lock);
	rc = id == 0 ? TK_APR_ERR_NOT_FOUND :
	    tk_approvals_request_get(w->be->ap, id, &info);
	/* The token itself goes to its requester only. */
	if (rc == 0 && info.requester != rq->who.person)
		rc = TK_APR_ERR_ROLE;
	if (rc == 0)
		rc = tk_approvals_grant_get(w->be->ap, id, &g);
	pthread_mutex_unlock(w->be->lock);
	if (rc != 0)
		web_apr_reply(r, rc, "");
	else
		web_reply_json(r, 200, json_pack("{s:s,s:I,s:s,s:I,s:I,s:s}",
		    "jti", g.jti, "request_id", (json_int_t)g.request_id,
		    "state", grant_state_name(g.state), "issued",
		    (json_int_t)g.issued, "expires", (json_int_t)g.expires,
		    "token", g.jwt != NULL ? g.jwt : ""));
	tk_grant_info_clear(&g);
	tk_request_info_clear(&info);
}

void
web_h_grant_revoke(struct tk_web *w, struct req *rq, struct reply *r)
{
	int rc;

	if (!web_backend_ready(w, r))
		return;
	if ((rq->who.roles & (TK_ROLE_ADMIN | TK_ROLE_APPROVER |
	    TK_ROLE_COMMANDER)) == 0) {
		web_reply_error(r, 403, "role_missing", "revoking a grant "
		    "needs the admin, approver or commander role");
		return;
	}
	pthread_mutex_lock(w->be->lock);
	rc = tk_approvals_grant_revoke(w->be->ap, rq->who.name, rq->param);
	pthread_mutex_unlock(w->be->lock);
	if (rc != 0)
		web_apr_reply(r, rc, "");
	else
		web_reply_json(r, 200, json_pack("{s:s,s:s}", "jti",
		    rq->param, "state", "revoked"));
}

void
web_h_request_review(struct tk_web *w, struct req *rq, struct reply *r)
{
	int64_t id = web_path_id(rq);
	int rc;

	if (!web_backend_ready(w, r))
		return;
	pthread_mutex_lock(w->be->lock);
	rc = id == 0 ? TK_APR_ERR_NOT_FOUND : tk_approvals_review_file(
	    w->be->ap, id, rq->who.person, json_string_value(
	    json_object_get(rq->json, "text")));
	pthread_mutex_unlock(w->be->lock);
	if (rc != 0)
		web_apr_reply(r, rc, "");
	else
		web_reply_json(r, 201, json_pack("{s:I,s:s}", "request_id",
		    (json_int_t)id, "status", "filed"));
}

/* Every signed-in person may see that grants exist; the token itself
 * goes to its requester only (web_h_request_grant). */
void
web_h_grant_list(struct tk_web *w, struct req *rq, struct reply *r)
{
	char *text = NULL;
	json_t *list;
	int rc;

	(void)rq;
	if (!web_backend_ready(w, r))
		return;
	pthread_mutex_lock(w->be->lock);
	rc = tk_approvals_grants_list(w->be->ap, 200, &text);
	pthread_mutex_unlock(w->be->lock);
	if (rc != 0) {
		web_apr_reply(r, rc, "");
		return;
	}
	if ((list = json_loads(text, 0, NULL)) != NULL)
		web_reply_json(r, 200, json_pack("{s:o}", "grants", list));
	free(text);
}
