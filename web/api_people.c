/*
 * Enrollment by one-time invitation (made in api_invite.c). The invited
 * person registers a security key with it: the
 * registration challenge is bound to the invitation, the registration is
 * verified, then the person and the credential are stored by the
 * approvals layer (which journals both) and the invitation is spent.
 *
 * Roles that approve, obtain break-glass or administer (TK_ROLE_GOVERNED)
 * are not given this way: such an invitation needs a reason and a ticket
 * ("quorum_required" without them), and its registration does not enroll
 * anyone. It proposes the governed change "person.enroll" in the
 * inviter's name, carrying the name, team, roles and the verified
 * credential, which takes effect only when the quorum of approvers other
 * than the inviter approve it. The first admin and approvers come from
 * the first ceremony's bootstrap invitations (bootstrap.c), which die
 * ("bootstrap_closed") once an admin and the quorum of other approvers
 * are active, so that none can be kept for later.
 *
 * A new-key invitation names a person already enrolled: its
 * registration adds the key to them (web_key_add_or_propose), stored at
 * once or, for a governed person, proposed in the inviter's name. Any
 * invitation but a bootstrap one is void once its inviter is no longer
 * an active admin: its authority was theirs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "twokey/approvals.h"
#include "twokey/changes.h"
#include "twokey/common.h"
#include "twokey/webauthn.h"
#include "web_int.h"

/*
 * Whether inv may still be used: its inviter is still an active admin,
 * the person of a new-key invitation is still active, and a bootstrap
 * invitation may still give its roles. Call with the backend lock held.
 * 0, or -1 with the refusal in r.
 */
static int
invitation_allowed(struct tk_web *w, const struct invitation *inv,
    struct reply *r)
{
	struct tk_roster ro;
	struct tk_person by, p;

	if (inv->person != 0 && (tk_approvals_person_get(w->be->ap,
	    inv->person, &p) != 0 || p.state != TK_PERSON_ACTIVE)) {
		web_reply_error(r, 409, "person_inactive", "%s is suspended "
		    "or has left since this invitation was made: a new key "
		    "would not sign in; an admin reactivates them first",
		    inv->name);
		return -1;
	}
	if (!inv->bootstrap) {
		if (tk_approvals_person_by_name(w->be->ap, inv->inviter,
		    &by) != 0 || by.state != TK_PERSON_ACTIVE ||
		    (by.roles & TK_ROLE_ADMIN) == 0) {
			web_reply_error(r, 403, "invitation_void", "this "
			    "invitation is void: %s, who made it, is no "
			    "longer an active admin; ask an admin for a new "
			    "one", inv->inviter);
			return -1;
		}
		return 0;
	}
	if ((inv->roles & (TK_ROLE_ADMIN | TK_ROLE_APPROVER)) == 0)
		return 0;
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

/* Why the invitation of hash cannot be used, in r. */
static void
refuse_invitation(struct tk_web *w, const uint8_t hash[32],
    struct reply *r)
{
	switch (web_invite_state(w, hash)) {
	case INVITE_VOIDED:
		web_reply_error(r, 403, "invitation_void", "this invitation "
		    "is void: the admin who made it is no longer an active "
		    "admin; ask an admin for a new one");
		break;
	case INVITE_CLOSED:
		web_reply_error(r, 409, "person_inactive", "this invitation "
		    "is void: its person was suspended or left after it was "
		    "made; once they are reactivated an admin makes a new "
		    "one");
		break;
	case INVITE_REPLACED:
		web_reply_error(r, 400, "invitation_invalid", "this "
		    "invitation was replaced by a newer one; use the newest "
		    "code you were given");
		break;
	case INVITE_USED:
		web_reply_error(r, 400, "invitation_invalid", "this "
		    "invitation was used already; each code works once");
		break;
	case INVITE_EXPIRED:
		web_reply_error(r, 400, "invitation_invalid", "this "
		    "invitation has expired; ask an admin for a new one");
		break;
	default:
		web_reply_error(r, 400, "invitation_invalid", "this "
		    "invitation is unknown, used or expired");
	}
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
	if (web_hash(secret, hash) != 0) {
		web_reply_error(r, 503, "unavailable", "the invitation cannot "
		    "be checked now; try again");
		return -1;
	}
	if (web_invite_get(w, hash, inv) != 0) {
		refuse_invitation(w, hash, r);
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
	rc = invitation_allowed(w, &inv, r);
	pthread_mutex_unlock(w->be->lock);
	if (rc != 0)
		return;
	if ((rc = web_challenge_issue(w, rq->addr, hash, id, value)) != 0) {
		if (rc == -2)
			web_reply_challenges_held(w, rq, r, 0);
		else
			web_reply_error(r, 503, "busy", "too many ceremonies "
			    "in progress; try again shortly");
		return;
	}
	if ((chal = tk_b64url_encode(value, sizeof(value))) != NULL)
		web_reply_json(r, 200, json_pack(
		    "{s:s,s:s,s:s,s:s,s:I,s:s,s:b}", "challenge_id", id,
		    "challenge", chal, "rp_id", w->rp_id, "name", inv.name,
		    "timeout_ms", (json_int_t)w->challenge_ttl * 1000,
		    "user_verification", "required", "new_key",
		    inv.person != 0));
	free(chal);
	OPENSSL_cleanse(value, sizeof(value));
}

/*
 * The approved policy's allowed authenticator models (AAGUIDs), into
 * out; 0 when the policy allows any model.
 */
static size_t
allowed_models(struct tk_web *w, uint8_t out[64][TK_WA_AAGUID_LEN])
{
	const struct tk_policy *p;
	size_t i, n = 0;

	pthread_mutex_lock(w->be->lock);
	p = tk_approvals_policy(w->be->ap);
	for (i = 0; i < p->naaguids && n < 64; i++)
		if (tk_hex_decode(p->aaguids[i], out[n],
		    TK_WA_AAGUID_LEN) == 0)
			n++;
	pthread_mutex_unlock(w->be->lock);
	return n;
}

/* Verifies the registration in the body for the invited person. */
int
web_verify_registration(struct tk_web *w, struct req *rq,
    const uint8_t challenge[32], const char *name,
    struct tk_webauthn_cred *cred)
{
	struct tk_webauthn_registration reg;
	struct tk_webauthn_expect exp;
	struct tk_webauthn_verdict v;
	uint8_t models[64][TK_WA_AAGUID_LEN];
	const char *origins[TK_CFG_ORIGINS];
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
	exp.n_origins = web_allowed_origins(w, origins, TK_CFG_ORIGINS);
	exp.origins = origins;
	exp.challenge = challenge;
	exp.challenge_len = 32;
	exp.require_uv = 1;
	if ((exp.n_aaguids = allowed_models(w, models)) > 0)
		exp.aaguids = (const uint8_t (*)[TK_WA_AAGUID_LEN])models;
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

/* {"type":"person.enroll","reason","ticket","args":{...}} as text. */
static char *
enrollment_json(const struct invitation *inv, const char *reason,
    const char *ticket, const struct tk_credential *c)
{
	json_t *o;
	char *s;

	o = json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:o,s:o}}", "type",
	    "person.enroll", "reason", reason, "ticket", ticket, "args",
	    "name", inv->name, "team", inv->team, "roles",
	    tk_change_roles_json(inv->roles), "credential",
	    tk_credential_to_json(c));
	s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

/*
 * A governed invitation's registration: the change "person.enroll" in
 * the inviter's name, the invitation spent; *change its id. Called with
 * the backend lock held. Returns 2 when proposed, 1 with the refusal in
 * r, or an approvals error.
 */
static int
propose_enrollment(struct tk_web *w, const struct invitation *inv,
    const uint8_t hash[32], const struct tk_webauthn_cred *wc,
    int64_t *change, struct reply *r)
{
	struct tk_credential c;
	struct tk_person by;
	char reason[1100], ticket[200], *json = NULL;
	int rc;

	if (web_invite_reason_get(w, hash, reason, sizeof(reason), ticket,
	    sizeof(ticket)) != 0) {
		web_reply_error(r, 403, "quorum_required", "this invitation "
		    "gives governed roles without a reason and a ticket");
		return 1;
	}
	if ((rc = tk_approvals_person_by_name(w->be->ap, inv->inviter,
	    &by)) != 0 || (rc = tk_credential_from_webauthn(wc, 0, &c)) != 0)
		return rc;
	if ((json = enrollment_json(inv, reason, ticket, &c)) == NULL)
		return TK_APR_ERR_NOMEM;
	rc = tk_approvals_propose(w->be->ap, by.id, json, strlen(json),
	    change, NULL, 0);
	free(json);
	if (rc != 0)
		return rc;
	if (web_invite_use(w, hash) != 0)
		tk_warn("invitation for %s proposed but not marked used",
		    inv->name);
	return 2;
}

/*
 * A new-key invitation's registration: the key of its person, stored or
 * proposed by the inviter (web_key_add_or_propose answers in r), and the
 * invitation spent. Returns 1 when answered in r, or an approvals error.
 * The invitation is read again under the lock, so that two registrations
 * racing on one code add one key.
 */
static int
store_new_key(struct tk_web *w, const uint8_t hash[32],
    const struct tk_webauthn_cred *wc, struct reply *r)
{
	struct invitation inv;
	struct tk_credential c;
	struct tk_person p, by;
	char reason[1100], ticket[200];
	int rc, told;

	pthread_mutex_lock(w->be->lock);
	rc = 1;
	if (web_invite_get(w, hash, &inv) != 0) {
		refuse_invitation(w, hash, r);
		goto out;
	}
	if (invitation_allowed(w, &inv, r) != 0)
		goto out;
	if ((rc = tk_approvals_person_get(w->be->ap, inv.person, &p)) != 0 ||
	    (rc = tk_approvals_person_by_name(w->be->ap, inv.inviter,
	    &by)) != 0 ||
	    (rc = tk_credential_from_webauthn(wc, p.id, &c)) != 0)
		goto out;

	told = web_invite_reason_get(w, hash, reason, sizeof(reason), ticket,
	    sizeof(ticket)) == 0;
	if ((rc = web_key_add_or_propose(w, &p, by.id, inv.inviter,
	    told ? reason : NULL, told ? ticket : NULL, &c, r)) != 0)
		goto out;
	if (web_invite_use(w, hash) != 0)
		tk_warn("new-key invitation for %s used but not marked used",
		    p.name);
	rc = 1;
out:
	pthread_mutex_unlock(w->be->lock);
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
	if (invitation_allowed(w, inv, r) != 0) {
		pthread_mutex_unlock(w->be->lock);
		return 1;
	}
	if ((inv->roles & TK_ROLE_GOVERNED) != 0 && !inv->bootstrap) {
		rc = propose_enrollment(w, inv, hash, wc, id, r);
		pthread_mutex_unlock(w->be->lock);
		return rc;
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
	if (web_verify_registration(w, rq, challenge, inv.name, &wc) != 0) {
		web_reply_error(r, 400, "registration_refused", "the "
		    "security key's registration was not accepted");
		goto out;
	}
	if (inv.person != 0)
		rc = store_new_key(w, hash, &wc, r);
	else
		rc = store_person(w, &inv, hash, &wc, &id, r);
	if (rc == 1)
		goto out;
	if (rc == 2) {
		web_reply_json(r, 202, json_pack("{s:{s:I,s:s,s:s},s:s}",
		    "change", "id", (json_int_t)id, "type", "person.enroll",
		    "state", "pending", "name", inv.name));
		goto out;
	}
	if (rc == TK_APR_ERR_QUORUM)
		web_reply_error(r, 403, "quorum_required", "%s holds a "
		    "governed role now, and this invitation has no reason "
		    "and ticket for the quorum; ask an admin for a new one",
		    inv.name);
	else if (rc != 0)
		web_apr_reply(r, rc, "");
	if (rc != 0)
		goto out;
	web_reply_json(r, 201, json_pack("{s:{s:I,s:s,s:s,s:o}}", "person",
	    "id", (json_int_t)id, "name", inv.name, "team", inv.team,
	    "roles", web_roles_json(inv.roles)));
out:
	OPENSSL_cleanse(challenge, sizeof(challenge));
}

/*
 * Everyone enrolled, with roles, state and keys: what an admin needs to
 * name a person by id (suspend, person.update), and what an auditor
 * reads in every evidence pack anyway.
 */
void
web_h_people_list(struct tk_web *w, struct req *rq, struct reply *r)
{
	json_t *list = NULL;
	int rc;

	if (!web_backend_ready(w, r))
		return;
	if ((rq->who.roles & (TK_ROLE_ADMIN | TK_ROLE_AUDITOR)) == 0) {
		web_reply_error(r, 403, "role_missing", "the list of people "
		    "needs the admin or auditor role");
		return;
	}
	pthread_mutex_lock(w->be->lock);
	rc = tk_approvals_access_list(w->be->ap, (int64_t)time(NULL) + 1,
	    &list);
	pthread_mutex_unlock(w->be->lock);
	if (rc != 0)
		web_apr_reply(r, rc, "");
	else
		web_reply_json(r, 200, list);
}
