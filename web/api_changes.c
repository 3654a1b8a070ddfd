/*
 * Governed changes over HTTPS, and the actions that only make things
 * safer. A change is proposed here (or, for an enrollment, by the
 * registration of a governed invitation, api_people.c), shown with its
 * before/after diff, and decided through the ordinary request routes
 * (/api/v1/requests/{id}/challenge and /votes): the approvals layer
 * applies it in the vote that reaches the quorum. Suspending a person,
 * revoking a credential and blocking a scope take effect at once from any
 * admin. The person is always the session's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/inventory.h"
#include "web_int.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS invitation_changes("
    " hash BLOB PRIMARY KEY, reason TEXT NOT NULL, ticket TEXT NOT NULL);";

int
web_changes_schema(struct tk_web *w)
{
	return sqlite3_exec(w->db, schema, NULL, NULL, NULL) == SQLITE_OK ?
	    0 : -1;
}

int
web_invite_reason_add(struct tk_web *w, const uint8_t hash[32],
    const char *reason, const char *ticket)
{
	sqlite3_stmt *st = NULL;
	int r = -1;

	if (sqlite3_prepare_v2(w->db, "INSERT INTO invitation_changes(hash, "
	    "reason, ticket) VALUES(?,?,?)", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_bind_text(st, 2, reason, -1, SQLITE_STATIC) ==
	    SQLITE_OK &&
	    sqlite3_bind_text(st, 3, ticket, -1, SQLITE_STATIC) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_DONE)
		r = 0;
	sqlite3_finalize(st);
	return r;
}

int
web_invite_reason_get(struct tk_web *w, const uint8_t hash[32],
    char *reason, size_t rlen, char *ticket, size_t tlen)
{
	sqlite3_stmt *st = NULL;
	int r = -1;

	if (sqlite3_prepare_v2(w->db, "SELECT reason, ticket FROM "
	    "invitation_changes WHERE hash = ?", -1, &st, NULL) ==
	    SQLITE_OK &&
	    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		snprintf(reason, rlen, "%s", (const char *)
		    sqlite3_column_text(st, 0));
		snprintf(ticket, tlen, "%s", (const char *)
		    sqlite3_column_text(st, 1));
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

size_t
web_allowed_origins(struct tk_web *w, const char **out, size_t cap)
{
	const struct tk_policy *p;
	size_t i, k, n = 0;

	pthread_mutex_lock(w->be->lock);
	p = tk_approvals_policy(w->be->ap);
	for (i = 0; i < w->norigins && n < cap; i++) {
		for (k = 0; k < p->norigins; k++)
			if (strcmp(p->origins[k], w->origins[i]) == 0)
				break;
		if (p->norigins == 0 || k < p->norigins)
			out[n++] = w->origins[i];
	}
	pthread_mutex_unlock(w->be->lock);
	return n;
}

/* One request by id, under the lock. */
static int
change_get(struct tk_web *w, int64_t id, struct tk_request_info *info)
{
	int rc;

	memset(info, 0, sizeof(*info));
	if (id == 0)
		return TK_APR_ERR_NOT_FOUND;
	pthread_mutex_lock(w->be->lock);
	rc = tk_approvals_request_get(w->be->ap, id, info);
	pthread_mutex_unlock(w->be->lock);
	if (rc == 0 && info->kind != TK_REQ_CHANGE) {
		tk_request_info_clear(info);
		rc = TK_APR_ERR_NOT_FOUND;
	}
	return rc;
}

void
web_h_change_propose(struct tk_web *w, struct req *rq, struct reply *r)
{
	struct tk_request_info info;
	char why[TK_WHY_MAX] = "";
	const char *type;
	int64_t id = 0;
	int rc;

	if (!web_backend_ready(w, r))
		return;
	type = json_string_value(json_object_get(rq->json, "type"));
	/* These carry a security key's registration, verified here. */
	if (strcmp(type, "person.enroll") == 0 ||
	    strcmp(type, "credential.add") == 0) {
		web_reply_error(r, 400, "registration_required", "%s comes "
		    "from a security key's registration: invite the person "
		    "with the roles, a reason and a ticket", type);
		return;
	}
	if (strcmp(type, "inventory.import") == 0) {
		web_inventory_propose(w, rq, r);
		return;
	}
	pthread_mutex_lock(w->be->lock);
	rc = tk_approvals_propose(w->be->ap, rq->who.person, rq->body,
	    rq->body_len, &id, why, sizeof(why));
	pthread_mutex_unlock(w->be->lock);
	if (rc == TK_APR_ERR_INVALID) {
		web_reply_error(r, 400, "invalid_change", "%s", why[0] != '\0' ?
		    why : "the change type does not take these arguments");
		return;
	}
	if (rc == 0)
		rc = change_get(w, id, &info);
	if (rc != 0) {
		web_apr_reply(r, rc, why);
		return;
	}
	pthread_mutex_lock(w->be->lock);
	web_reply_json(r, 201, web_request_json(w, &info));
	pthread_mutex_unlock(w->be->lock);
	tk_request_info_clear(&info);
}

void
web_h_change_list(struct tk_web *w, struct req *rq, struct reply *r)
{
	struct tk_request_info info;
	int64_t *ids = NULL;
	size_t n = 0, i;
	json_t *list;
	int rc;

	(void)rq;
	if (!web_backend_ready(w, r) || (list = json_array()) == NULL)
		return;
	pthread_mutex_lock(w->be->lock);
	rc = tk_approvals_changes(w->be->ap, &ids, &n);
	for (i = 0; rc == 0 && i < n; i++) {
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
	web_reply_json(r, 200, json_pack("{s:o}", "changes", list));
}

void
web_h_change_show(struct tk_web *w, struct req *rq, struct reply *r)
{
	struct tk_request_info info;
	int rc;

	if (!web_backend_ready(w, r))
		return;
	if ((rc = change_get(w, web_path_id(rq), &info)) != 0) {
		web_apr_reply(r, rc, "");
		return;
	}
	pthread_mutex_lock(w->be->lock);
	web_reply_json(r, 200, web_request_json(w, &info));
	pthread_mutex_unlock(w->be->lock);
	tk_request_info_clear(&info);
}

void
web_h_policy_show(struct tk_web *w, struct req *rq, struct reply *r)
{
	char *text = NULL;
	int rc;

	(void)rq;
	if (!web_backend_ready(w, r))
		return;
	pthread_mutex_lock(w->be->lock);
	rc = tk_approvals_policy_json(w->be->ap, &text);
	pthread_mutex_unlock(w->be->lock);
	if (rc != 0) {
		web_apr_reply(r, rc, "");
		return;
	}
	web_reply_json(r, 200, json_loads(text, 0, NULL));
	free(text);
}

void
web_h_policy_block(struct tk_web *w, struct req *rq, struct reply *r)
{
	const char *conn, *scope;
	int rc;

	if (!web_backend_ready(w, r))
		return;
	conn = json_string_value(json_object_get(rq->json, "connector"));
	scope = json_string_value(json_object_get(rq->json, "scope"));
	pthread_mutex_lock(w->be->lock);
	rc = tk_approvals_policy_block(w->be->ap, rq->who.person, conn,
	    scope);
	pthread_mutex_unlock(w->be->lock);
	if (rc != 0)
		web_apr_reply(r, rc, "");
	else
		web_reply_json(r, 200, json_pack("{s:s,s:s,s:s}", "connector",
		    conn, "scope", scope, "state", "blocked"));
}

/*
 * The service accounts person p owns, which now wait for another owner
 * (an empty array when none); NULL on no memory.
 */
static json_t *
owned_accounts(struct tk_web *w, const struct tk_person *p)
{
	json_t *all = NULL, *e, *found = NULL;
	size_t i;

	if (tk_inventory_reassign(w->be->ap, &all) == 0) {
		json_array_foreach(json_object_get(all, "people"), i, e) {
			if (found == NULL && strcmp(json_string_value(
			    json_object_get(e, "name")), p->name) == 0)
				found = json_incref(json_object_get(e,
				    "accounts"));
		}
	}
	json_decref(all);
	return found != NULL ? found : json_array();
}

/*
 * Suspending a person, or recording that they left: both at once, from
 * any admin, since either only takes access away. Their sessions end at
 * their next request, and what they handed out as an admin lapses. The
 * answer names the accounts they own, now to be reassigned.
 */
static void
person_inactive(struct tk_web *w, struct req *rq, struct reply *r,
    enum tk_person_state state)
{
	int64_t id = web_path_id(rq);
	const char *name = state == TK_PERSON_LEFT ? "left" : "suspended";
	struct tk_person p;
	json_t *owned = NULL;
	int rc;

	if (!web_backend_ready(w, r))
		return;
	if ((rq->who.roles & TK_ROLE_ADMIN) == 0) {
		web_reply_error(r, 403, "role_missing", "%s needs the admin "
		    "role", state == TK_PERSON_LEFT ? "recording a leaver" :
		    "suspending a person");
		return;
	}
	pthread_mutex_lock(w->be->lock);
	rc = id == 0 ? TK_APR_ERR_NOT_FOUND : tk_approvals_person_set_state(
	    w->be->ap, rq->who.name, id, state);
	if (rc == 0 && tk_approvals_person_get(w->be->ap, id, &p) == 0)
		owned = owned_accounts(w, &p);
	pthread_mutex_unlock(w->be->lock);
	if (rc != 0) {
		web_apr_reply(r, rc, "");
		return;
	}
	web_authority_sweep(w);
	web_reply_json(r, 200, json_pack("{s:I,s:s,s:o*}", "id",
	    (json_int_t)id, "state", name, "accounts_to_reassign", owned));
}

void
web_h_person_suspend(struct tk_web *w, struct req *rq, struct reply *r)
{
	person_inactive(w, rq, r, TK_PERSON_SUSPENDED);
}

void
web_h_person_leave(struct tk_web *w, struct req *rq, struct reply *r)
{
	person_inactive(w, rq, r, TK_PERSON_LEFT);
}

void
web_h_credential_revoke(struct tk_web *w, struct req *rq, struct reply *r)
{
	const char *s;
	uint8_t *id = NULL;
	size_t len = 0;
	int rc;

	if (!web_backend_ready(w, r))
		return;
	s = json_string_value(json_object_get(rq->json, "credential_id"));
	if (tk_b64url_decode(s, strlen(s), &id, &len) != 0) {
		web_reply_error(r, 400, "invalid_field", "field "
		    "\"credential_id\" must be base64url");
		return;
	}
	pthread_mutex_lock(w->be->lock);
	rc = tk_approvals_credential_revoke(w->be->ap, rq->who.person, id,
	    len);
	pthread_mutex_unlock(w->be->lock);
	free(id);
	/* Here the unknown credential is the resource asked for. */
	if (rc == TK_APR_ERR_CREDENTIAL)
		web_reply_error(r, 404, "not_found", "no credential has this "
		    "id");
	else if (rc != 0)
		web_apr_reply(r, rc, "");
	else
		web_reply_json(r, 200, json_pack("{s:s,s:s}", "credential_id",
		    s, "state", "revoked"));
}
