/*
 * Invitations, made by an administrator and shown once (only the hash
 * of the secret is kept, web/store.c): one enrolls a new person with a
 * name, a team and roles (api_people.c spends it); the other, a new-key
 * invitation, registers one more security key for a person already
 * enrolled, the way back for someone whose every key is lost, revoked
 * or flagged as possibly cloned. It carries nothing the person did not
 * have: their key is stored at once when they hold no governed role,
 * and otherwise proposed as the change "credential.add" in the inviter's
 * name, which the quorum of approvers other than the inviter and the
 * person approve. A newer invitation for the same name (in any case) or
 * the same person voids the older ones, so that a lost or mistyped code
 * is replaced rather than left live beside its successor; and every
 * invitation dies with its inviter's admin role (api_people.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
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

static int
ticket_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 128 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/@-") == n;
}

/*
 * Whether a person of that name, in any case, is enrolled (found at
 * enrollment too); their name as enrolled into holder.
 */
static int
name_taken(struct tk_web *w, const char *name, char holder[TK_NAME_MAX + 1])
{
	struct tk_person p;
	int rc;

	pthread_mutex_lock(w->be->lock);
	rc = tk_approvals_name_holder(w->be->ap, name, &p);
	pthread_mutex_unlock(w->be->lock);
	memcpy(holder, p.name, sizeof(p.name));
	return rc == 0;
}

/* Whether the change c (canonical JSON) would enroll name, in any case. */
static int
enrolls(const char *canonical, const char *name)
{
	json_t *c = json_loads(canonical, 0, NULL);
	const char *type, *who;
	int r;

	type = json_string_value(json_object_get(c, "type"));
	who = json_string_value(json_object_get(json_object_get(c, "after"),
	    "name"));
	r = type != NULL && who != NULL && strcmp(type, "person.enroll") ==
	    0 && strcasecmp(who, name) == 0;
	json_decref(c);
	return r;
}

/*
 * The id of a pending change that would enroll name, or 0: a plain
 * invitation for that name would race it, and whichever came second
 * would fail with a key registered for nothing.
 */
static int64_t
pending_enrollment(struct tk_web *w, const char *name)
{
	struct tk_request_info info;
	int64_t *ids = NULL, found = 0;
	size_t n = 0, i;

	pthread_mutex_lock(w->be->lock);
	if (tk_approvals_pending(w->be->ap, &ids, &n) != 0)
		n = 0;
	for (i = 0; found == 0 && i < n; i++) {
		memset(&info, 0, sizeof(info));
		if (tk_approvals_request_get(w->be->ap, ids[i], &info) == 0 &&
		    info.kind == TK_REQ_CHANGE && info.canonical != NULL &&
		    enrolls(info.canonical, name))
			found = info.id;
		tk_request_info_clear(&info);
	}
	pthread_mutex_unlock(w->be->lock);
	free(ids);
	return found;
}

/*
 * Makes inv (name, team, roles and person filled in) a live invitation
 * from the signed-in admin, journaled; the reason and ticket are kept
 * for a governed one. Answers 201 with the secret, shown this once.
 */
static void
issue(struct tk_web *w, struct req *rq, struct invitation *inv,
    const char *reason, const char *ticket, struct reply *r)
{
	uint8_t hash[32];
	char secret[80], obj[80];
	int governed = (inv->roles & TK_ROLE_GOVERNED) != 0;
	json_t *details;

	snprintf(inv->inviter, sizeof(inv->inviter), "%s", rq->who.name);
	inv->expires = time(NULL) + INVITE_TTL;
	if (web_new_secret(INVITE_PREFIX, secret, sizeof(secret)) != 0 ||
	    web_hash(secret, hash) != 0)
		return;
	snprintf(obj, sizeof(obj), "invitation:%s", inv->name);
	details = json_pack("{s:s,s:I,s:I,s:b}", "team", inv->team, "roles",
	    (json_int_t)inv->roles, "expires", (json_int_t)inv->expires,
	    "governed", governed);
	if (details != NULL && inv->person != 0)
		json_object_set_new(details, "new_key_for",
		    json_integer((json_int_t)inv->person));
	if (web_journal(w, r, rq->who.name, "invitation.create", obj,
	    details) != 0)
		goto out;
	if ((inv->person != 0 ? web_invite_void_person(w, inv->person) :
	    web_invite_void_name(w, inv->name)) != 0 ||
	    web_invite_add(w, hash, inv) != 0 || (governed &&
	    web_invite_reason_add(w, hash, reason, ticket) != 0)) {
		web_reply_error(r, 503, "unavailable", "the invitation could "
		    "not be stored");
		goto out;
	}
	web_reply_json(r, 201, json_pack("{s:s,s:s,s:I}", "invitation",
	    secret, "name", inv->name, "expires", (json_int_t)inv->expires));
out:
	OPENSSL_cleanse(secret, sizeof(secret));
}

/*
 * The reason and ticket of the body, required with a governed role
 * (what: "roles" or "a new key for ..."). 0, or -1 with the refusal.
 */
static int
reason_and_ticket(struct req *rq, unsigned int roles, const char **reason,
    const char **ticket, struct reply *r)
{
	*reason = json_string_value(json_object_get(rq->json, "reason"));
	*ticket = json_string_value(json_object_get(rq->json, "ticket"));
	if ((roles & TK_ROLE_GOVERNED) != 0 &&
	    (*reason == NULL || *ticket == NULL)) {
		web_reply_error(r, 403, "quorum_required", "admin, approver "
		    "and commander roles need the quorum: give a reason and a "
		    "ticket, and the registration becomes a change for the "
		    "approvers");
		return -1;
	}
	if (*ticket != NULL && !ticket_ok(*ticket)) {
		web_reply_error(r, 400, "invalid_field", "field \"ticket\" "
		    "takes A-Z a-z 0-9 and . _ : / @ -");
		return -1;
	}
	return 0;
}

static int
admin_only(struct req *rq, const char *what, struct reply *r)
{
	if ((rq->who.roles & TK_ROLE_ADMIN) != 0)
		return 0;
	web_reply_error(r, 403, "role_missing", "%s needs the admin role",
	    what);
	return -1;
}

void
web_h_invite(struct tk_web *w, struct req *rq, struct reply *r)
{
	struct invitation inv;
	char holder[TK_NAME_MAX + 1];
	const char *reason, *ticket;
	int64_t change;

	if (!web_backend_ready(w, r) ||
	    admin_only(rq, "inviting people", r) != 0)
		return;
	memset(&inv, 0, sizeof(inv));
	if (roles_from_json(json_object_get(rq->json, "roles"),
	    &inv.roles) != 0) {
		web_reply_error(r, 400, "invalid_field", "field \"roles\" "
		    "takes admin, approver, requester, commander, auditor");
		return;
	}
	if (reason_and_ticket(rq, inv.roles, &reason, &ticket, r) != 0)
		return;
	snprintf(inv.name, sizeof(inv.name), "%s", json_string_value(
	    json_object_get(rq->json, "name")));
	snprintf(inv.team, sizeof(inv.team), "%s", json_string_value(
	    json_object_get(rq->json, "team")));
	if (tk_apr_check_name(inv.name) != 0 ||
	    tk_apr_check_name(inv.team) != 0) {
		web_reply_error(r, 400, "invalid_field", "field \"%s\" takes "
		    TK_NAME_RULE, tk_apr_check_name(inv.name) == 0 ? "team" :
		    "name");
		return;
	}
	if (name_taken(w, inv.name, holder)) {
		web_reply_error(r, 409, "exists", "someone is already "
		    "enrolled as \"%s\" (names are unique regardless of "
		    "case); a new key for them takes a new-key invitation",
		    holder);
		return;
	}
	if ((change = pending_enrollment(w, inv.name)) != 0) {
		web_reply_error(r, 409, "enrollment_pending", "the enrollment "
		    "of %s waits for the approvers (change %lld): let them "
		    "decide it first", inv.name, (long long)change);
		return;
	}
	issue(w, rq, &inv, reason, ticket, r);
}

void
web_h_person_invitation(struct tk_web *w, struct req *rq, struct reply *r)
{
	struct invitation inv;
	struct tk_person p;
	const char *reason, *ticket;
	int64_t id = web_path_id(rq);
	int rc;

	if (!web_backend_ready(w, r) ||
	    admin_only(rq, "a new-key invitation", r) != 0)
		return;
	pthread_mutex_lock(w->be->lock);
	rc = id == 0 ? TK_APR_ERR_NOT_FOUND : tk_approvals_person_get(
	    w->be->ap, id, &p);
	pthread_mutex_unlock(w->be->lock);
	if (rc != 0) {
		web_apr_reply(r, rc, "");
		return;
	}
	if (p.id == rq->who.person) {
		web_reply_error(r, 403, "self_invitation", "you are signed in "
		    "with a key: register another one of yours with POST "
		    "/api/v1/credentials");
		return;
	}
	if (p.state != TK_PERSON_ACTIVE) {
		web_reply_error(r, 409, "person_inactive", "%s is suspended "
		    "or has left: a new key would not sign in; reactivate "
		    "them first (person.reactivate)", p.name);
		return;
	}
	if (reason_and_ticket(rq, p.roles, &reason, &ticket, r) != 0)
		return;
	memset(&inv, 0, sizeof(inv));
	inv.person = p.id;
	inv.roles = p.roles;
	memcpy(inv.name, p.name, sizeof(inv.name));
	memcpy(inv.team, p.team, sizeof(inv.team));
	issue(w, rq, &inv, reason, ticket, r);
}
