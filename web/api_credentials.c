/*
 * A signed-in person registers one more security key. For a person who
 * holds a governed role (admin, approver, commander) that key would be
 * another way to approve, so it is not stored: the registration proposes
 * the governed change "credential.add" in the person's own name, with a
 * reason and a ticket, and the key is trusted only once the quorum of
 * other approvers approve exactly it. Anyone else's key is stored at
 * once, journaled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "twokey/approvals.h"
#include "twokey/changes.h"
#include "twokey/common.h"
#include "twokey/webauthn.h"
#include "web_int.h"

/* The challenge binding: SHA-256("twokey-credential-add:" || person). */
static int
bind_of(int64_t person, uint8_t md[32])
{
	char s[64];

	snprintf(s, sizeof(s), "twokey-credential-add:%lld",
	    (long long)person);
	return web_hash(s, md);
}

void
web_h_credential_challenge(struct tk_web *w, struct req *rq,
    struct reply *r)
{
	uint8_t bind[32], value[32];
	char id[33], *chal = NULL;
	int rc;

	if (!web_backend_ready(w, r))
		return;
	if (web_rate_check(w, "person", rq->who.name) != 0) {
		web_reply_error(r, 429, "rate_limited", "too many attempts; "
		    "wait a minute and try again");
		return;
	}
	if (bind_of(rq->who.person, bind) != 0)
		return;
	if ((rc = web_challenge_issue(w, rq->addr, bind, id, value)) != 0) {
		if (rc == -2)
			web_reply_challenges_held(w, rq, r, 0);
		else
			web_reply_error(r, 503, "busy", "too many ceremonies "
			    "in progress; try again shortly");
		return;
	}
	if ((chal = tk_b64url_encode(value, sizeof(value))) != NULL)
		web_reply_json(r, 200, json_pack("{s:s,s:s,s:s,s:s,s:I,s:s}",
		    "challenge_id", id, "challenge", chal, "rp_id", w->rp_id,
		    "name", rq->who.name, "timeout_ms",
		    (json_int_t)w->challenge_ttl * 1000, "user_verification",
		    "required"));
	free(chal);
	OPENSSL_cleanse(value, sizeof(value));
}

/* The proposal "credential.add" as text; NULL on no memory. */
static char *
proposal(const struct tk_person *p, const char *reason, const char *ticket,
    const struct tk_credential *c)
{
	json_t *o;
	char *s;

	o = json_pack("{s:s,s:s,s:s,s:{s:I,s:o}}", "type", "credential.add",
	    "reason", reason, "ticket", ticket, "args", "person",
	    (json_int_t)p->id, "credential", tk_credential_to_json(c));
	s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

int
web_key_add_or_propose(struct tk_web *w, const struct tk_person *p,
    int64_t proposer, const char *actor, const char *reason,
    const char *ticket, const struct tk_credential *c, struct reply *r)
{
	int64_t id = 0;
	char *json;
	int rc;

	if ((p->roles & TK_ROLE_GOVERNED) == 0) {
		if ((rc = tk_approvals_credential_add(w->be->ap, actor,
		    c)) == 0)
			web_reply_json(r, 201, json_pack("{s:s,s:s}", "state",
			    "registered", "name", p->name));
		return rc;
	}
	if (reason == NULL || ticket == NULL)
		return TK_APR_ERR_QUORUM;
	if ((json = proposal(p, reason, ticket, c)) == NULL)
		return TK_APR_ERR_NOMEM;
	rc = tk_approvals_propose(w->be->ap, proposer, json, strlen(json),
	    &id, NULL, 0);
	free(json);
	if (rc == 0)
		web_reply_json(r, 202, json_pack("{s:{s:I,s:s,s:s},s:s}",
		    "change", "id", (json_int_t)id, "type", "credential.add",
		    "state", "pending", "name", p->name));
	return rc;
}

/* The signed-in person's own new key, stored or proposed in their name. */
static int
add_or_propose(struct tk_web *w, struct req *rq, struct tk_credential *c,
    struct reply *r)
{
	struct tk_person p;
	int rc;

	pthread_mutex_lock(w->be->lock);
	if ((rc = tk_approvals_person_get(w->be->ap, rq->who.person,
	    &p)) == 0)
		rc = web_key_add_or_propose(w, &p, p.id, p.name,
		    json_string_value(json_object_get(rq->json, "reason")),
		    json_string_value(json_object_get(rq->json, "ticket")),
		    c, r);
	pthread_mutex_unlock(w->be->lock);
	return rc;
}

void
web_h_credential_add(struct tk_web *w, struct req *rq, struct reply *r)
{
	struct tk_webauthn_cred wc;
	struct tk_credential c;
	uint8_t bind[32], challenge[32];
	const char *cid;
	int rc;

	if (!web_backend_ready(w, r))
		return;
	cid = json_string_value(json_object_get(rq->json, "challenge_id"));
	if (bind_of(rq->who.person, bind) != 0 ||
	    web_challenge_take(w, cid, bind, challenge) != 0) {
		web_reply_error(r, 400, "challenge_unknown", "this "
		    "registration challenge is unknown, used or expired");
		return;
	}
	if (web_verify_registration(w, rq, challenge, rq->who.name,
	    &wc) != 0) {
		web_reply_error(r, 400, "registration_refused", "the "
		    "security key's registration was not accepted");
		goto out;
	}
	if ((rc = tk_credential_from_webauthn(&wc, rq->who.person, &c)) != 0 ||
	    (rc = add_or_propose(w, rq, &c, r)) != 0) {
		if (rc == TK_APR_ERR_QUORUM)
			web_reply_error(r, 403, "quorum_required", "a key of "
			    "an admin, approver or commander needs the "
			    "quorum: give a reason and a ticket");
		else if (rc == TK_APR_ERR_INVALID)
			web_reply_error(r, 400, "invalid_change", "the "
			    "reason or the ticket is malformed");
		else
			web_apr_reply(r, rc, "");
	}
out:
	OPENSSL_cleanse(challenge, sizeof(challenge));
}
