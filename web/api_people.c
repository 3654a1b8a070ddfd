/*
 * Enrollment by one-time invitation. An administrator invites a person
 * (name, team, roles); the invitation secret is shown once and only its
 * hash kept. The invited person registers a security key with it: the
 * registration challenge is bound to the invitation, the registration is
 * verified, then the person and the credential are stored by the
 * approvals layer (which journals both) and the invitation is spent.
 *
 * Roles that approve or administer are not given this way: the design
 * wants such a change to pass the quorum like any request, and the
 * approvals layer has no request kind for it yet, so those invitations
 * are refused ("quorum_required"). Such people are enrolled only by the
 * first ceremony's bootstrap invitations (bootstrap.c), and those die
 * ("bootstrap_closed") once an admin and the quorum of other approvers
 * are active, so that none can be kept for later.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/webauthn.h"
#include "web_int.h"

#define INVITE_TTL (72 * 3600)
#define INVITE_PREFIX "tki_"

static int
roles_from_json(json_t *arr, unsigned int *roles)
{
	static const char *names[] = { "admin", "approver", "requester",
	    "commander", "auditor" };
	json_t *v;
	size_t i, k;

	*roles = 0;
	json_array_foreach(arr, i, v) {
		for (k = 0; k < 5; k++)
			if (strcmp(json_string_value(v), names[k]) == 0)
				break;
		if (k == 5)
			return -1;
		*roles |= 1u << k;
	}
	return 0;
}

void
web_h_invite(struct tk_web *w, struct req *rq, struct reply *r)
{
	struct invitation inv;
	uint8_t hash[32];
	char secret[80], obj[80];

	if (!web_backend_ready(w, r))
		return;
	if ((rq->who.roles & TK_ROLE_ADMIN) == 0) {
		web_reply_error(r, 403, "role_missing", "inviting people "
		    "needs the admin role");
		return;
	}
	memset(&inv, 0, sizeof(inv));
	if (roles_from_json(json_object_get(rq->json, "roles"),
	    &inv.roles) != 0) {
		web_reply_error(r, 400, "invalid_field", "field \"roles\" "
		    "takes admin, approver, requester, commander, auditor");
		return;
	}
	if (inv.roles & (TK_ROLE_ADMIN | TK_ROLE_APPROVER)) {
		web_reply_error(r, 403, "quorum_required", "approver and "
		    "admin roles need the quorum; enroll such people at the "
		    "key ceremony");
		return;
	}
	snprintf(inv.name, sizeof(inv.name), "%s", json_string_value(
	    json_object_get(rq->json, "name")));
	snprintf(inv.team, sizeof(inv.team), "%s", json_string_value(
	    json_object_get(rq->json, "team")));
	snprintf(inv.inviter, sizeof(inv.inviter), "%s", rq->who.name);
	inv.expires = time(NULL) + INVITE_TTL;
	if (web_new_secret(INVITE_PREFIX, secret, sizeof(secret)) != 0 ||
	    web_hash(secret, hash) != 0)
		return;
	snprintf(obj, sizeof(obj), "invitation:%s", inv.name);
	if (web_journal(w, r, rq->who.name, "invitation.create", obj,
	    json_pack("{s:s,s:I,s:I}", "team", inv.team, "roles",
	    (json_int_t)inv.roles, "expires", (json_int_t)inv.expires)) != 0)
		goto out;
	if (web_invite_add(w, hash, &inv) != 0) {
		web_reply_error(r, 503, "unavailable", "the invitation could "
		    "not be stored");
		goto out;
	}
	web_reply_json(r, 201, json_pack("{s:s,s:s,s:I}", "invitation",
	    secret, "name", inv.name, "expires", (json_int_t)inv.expires));
out:
	OPENSSL_cleanse(secret, sizeof(secret));
}

/*
 * Whether inv may still give its roles; call with the backend lock held.
 * 0, or -1 with the refusal in r.
 */
static int
roles_allowed(struct tk_web *w, const struct invitation *inv,
    struct reply *r)
{
	struct tk_roster ro;

	if ((inv->roles & (TK_ROLE_ADMIN | TK_ROLE_APPROVER)) == 0)
		return 0;
	if (!inv->bootstrap) {
		web_reply_error(r, 403, "quorum_required", "approver and "
		    "admin roles need the quorum");
		return -1;
	}
	if (tk_approvals_roster(w->be->ap, &ro) != 0) {
		web_reply_error(r, 503, "unavailable", "the approvals store "
		    "cannot be read");
		return -1;
	}
	if (ro.admins > 0 && ro.plain_approvers >= ro.quorum) {
		web_reply_error(r, 403, "bootstrap_closed", "this bootstrap "
		    "invitation is void: an admin and the quorum of approvers "
		    "are enrolled, and from now on the quorum governs");
		return -1;
	}
	return 0;
}

/* The invitation named in the body, if it is live; its hash in hash. */
static int
invitation_of(struct tk_web *w, struct req *rq, uint8_t hash[32],
    struct invitation *inv, struct reply *r)
{
	const char *secret;

	secret = json_string_value(json_object_get(rq->json, "invitation"));
	if (web_rate_check(w, "addr", rq->addr) != 0) {
		web_reply_error(r, 429, "rate_limited", "too many attempts; "
		    "wait a minute and try again");
		return -1;
	}
	if (web_hash(secret, hash) != 0 ||
	    web_invite_get(w, hash, inv) != 0) {
		web_reply_error(r, 400, "invitation_invalid", "this "
		    "invitation is unknown, used or expired");
		return -1;
	}
	return 0;
}

void
web_h_enroll_challenge(struct tk_web *w, struct req *rq, struct reply *r)
{
	struct invitation inv;
	uint8_t hash[32], value[32];
	char id[33], *chal = NULL;
	int rc;

	if (!web_backend_ready(w, r) ||
	    invitation_of(w, rq, hash, &inv, r) != 0)
		return;
	pthread_mutex_lock(w->be->lock);
	rc = roles_allowed(w, &inv, r);
	pthread_mutex_unlock(w->be->lock);
	if (rc != 0)
		return;
	if ((rc = web_challenge_issue(w, rq->addr, hash, id, value)) != 0) {
		if (rc == -2)
			web_reply_error(r, 429, "rate_limited", "too many "
			    "enrollments in progress from this address; "
			    "finish one or wait for it to expire");
		else
			web_reply_error(r, 503, "busy", "too many ceremonies "
			    "in progress; try again shortly");
		return;
	}
	if ((chal = tk_b64url_encode(value, sizeof(value))) != NULL)
		web_reply_json(r, 200, json_pack("{s:s,s:s,s:s,s:s,s:I,s:s}",
		    "challenge_id", id, "challenge", chal, "rp_id", w->rp_id,
		    "name", inv.name, "timeout_ms",
		    (json_int_t)w->challenge_ttl * 1000, "user_verification",
		    "required"));
	free(chal);
	OPENSSL_cleanse(value, sizeof(value));
}

/* Verifies the registration in the body for the invited person. */
static int
verify_registration(struct tk_web *w, struct req *rq,
    const uint8_t challenge[32], const char *name,
    struct tk_webauthn_cred *cred)
{
	struct tk_webauthn_registration reg;
	struct tk_webauthn_expect exp;
	struct tk_webauthn_verdict v;
	uint8_t *id = NULL, *cdj = NULL, *ao = NULL;
	size_t idl = 0, cdjl = 0, aol = 0;
	char esc[160];
	const char *s;
	int rc = -1;

	memset(&reg, 0, sizeof(reg));
	memset(&exp, 0, sizeof(exp));
	if ((s = json_string_value(json_object_get(rq->json,
	    "credential_id"))) == NULL ||
	    tk_b64url_decode(s, strlen(s), &id, &idl) != 0 ||
	    (s = json_string_value(json_object_get(rq->json,
	    "client_data"))) == NULL ||
	    tk_b64url_decode(s, strlen(s), &cdj, &cdjl) != 0 ||
	    (s = json_string_value(json_object_get(rq->json,
	    "attestation_object"))) == NULL ||
	    tk_b64url_decode(s, strlen(s), &ao, &aol) != 0)
		goto out;
	reg.raw_id = id;
	reg.raw_id_len = idl;
	reg.client_data = cdj;
	reg.client_data_len = cdjl;
	reg.att_obj = ao;
	reg.att_obj_len = aol;
	exp.rp_id = w->rp_id;
	exp.origins = w->origins;
	exp.n_origins = w->norigins;
	exp.challenge = challenge;
	exp.challenge_len = 32;
	exp.require_uv = 1;
	if ((rc = tk_webauthn_verify_registration(&exp, &reg, name, cred,
	    &v)) != 0)
		tk_info("enrollment of %s refused: %s", name, tk_log_escape(
		    esc, sizeof(esc), v.detail, strlen(v.detail)));
out:
	free(id);
	free(cdj);
	free(ao);
	return rc;
}

/*
 * The person and the credential, stored; the invitation spent. The roles
 * are checked again under the lock: a bootstrap invitation may have died
 * since its challenge. Returns 1 with the refusal in r.
 */
static int
store_person(struct tk_web *w, const struct invitation *inv,
    const uint8_t hash[32], const struct tk_webauthn_cred *wc,
    int64_t *id, struct reply *r)
{
	struct tk_credential c;
	int rc;

	pthread_mutex_lock(w->be->lock);
	if (roles_allowed(w, inv, r) != 0) {
		pthread_mutex_unlock(w->be->lock);
		return 1;
	}
	rc = tk_approvals_person_add(w->be->ap, inv->inviter, inv->name,
	    inv->team, inv->roles, id);
	if (rc == 0)
		rc = tk_credential_from_webauthn(wc, *id, &c);
	if (rc == 0)
		rc = tk_approvals_credential_add(w->be->ap, inv->inviter, &c);
	/* The name is unique, so a second use of the invitation stops at
	 * person_add above; spending it here cannot race. */
	if (rc == 0 && web_invite_use(w, hash) != 0)
		tk_warn("invitation for %s enrolled but not marked used",
		    inv->name);
	pthread_mutex_unlock(w->be->lock);
	return rc;
}

void
web_h_enroll(struct tk_web *w, struct req *rq, struct reply *r)
{
	struct invitation inv;
	struct tk_webauthn_cred wc;
	uint8_t hash[32], challenge[32];
	const char *cid;
	int64_t id = 0;
	int rc;

	if (!web_backend_ready(w, r) ||
	    invitation_of(w, rq, hash, &inv, r) != 0)
		return;
	cid = json_string_value(json_object_get(rq->json, "challenge_id"));
	if (web_challenge_take(w, cid, hash, challenge) != 0) {
		web_reply_error(r, 400, "challenge_unknown", "this "
		    "registration challenge is unknown, used or expired");
		return;
	}
	if (verify_registration(w, rq, challenge, inv.name, &wc) != 0) {
		web_reply_error(r, 400, "registration_refused", "the "
		    "security key's registration was not accepted");
		goto out;
	}
	if ((rc = store_person(w, &inv, hash, &wc, &id, r)) == 1)
		goto out;
	if (rc != 0) {
		web_reply_error(r, rc == TK_APR_ERR_EXISTS ? 409 : 503,
		    rc == TK_APR_ERR_EXISTS ? "exists" : "unavailable",
		    "%s", tk_apr_strerror(rc));
		goto out;
	}
	web_reply_json(r, 201, json_pack("{s:{s:I,s:s,s:s,s:o}}", "person",
	    "id", (json_int_t)id, "name", inv.name, "team", inv.team,
	    "roles", web_roles_json(inv.roles)));
out:
	OPENSSL_cleanse(challenge, sizeof(challenge));
}
