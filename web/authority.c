/*
 * What an admin hands out, invitations and API keys, acts with that
 * admin's authority, and must not outlive it. Every use checks that the
 * maker is still an active admin; this sweep makes the loss final: once
 * a maker is suspended, has left or has lost the admin role, their live
 * invitations are spent and their API keys revoked, journaled, so that a
 * later reactivation or a restored role does not bring them back. The
 * same holds for the new-key invitations of a person suspended or gone:
 * their reactivation brings no code back. It runs at start (a change
 * made while the daemon was down), after a suspension or a leaver and
 * after every applied change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "web_int.h"

#define SWEEP_MAX 64	/* lapsed makers voided per sweep; the rest next */

/* Whether name is an active admin; call without the backend lock. */
static int
still_admin(struct tk_web *w, const char *name)
{
	struct tk_person p;
	int rc;

	pthread_mutex_lock(w->be->lock);
	rc = tk_approvals_person_by_name(w->be->ap, name, &p);
	pthread_mutex_unlock(w->be->lock);
	return rc == 0 && p.state == TK_PERSON_ACTIVE &&
	    (p.roles & TK_ROLE_ADMIN) != 0;
}

/*
 * The makers of live invitations and keys who are no longer active
 * admins, into names; how many. Active makers take no slot, so that
 * many of them cannot hide a lapsed one.
 */
static size_t
lapsed_makers(struct tk_web *w, char names[][TK_NAME_MAX + 1], size_t cap)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	size_t n = 0;

	if (sqlite3_prepare_v2(w->db, "SELECT inviter FROM invitations "
	    "WHERE used = 0 AND bootstrap = 0 AND expires > ?1 UNION "
	    "SELECT creator FROM api_keys WHERE revoked = 0", -1, &st,
	    NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	while (n < cap && sqlite3_step(st) == SQLITE_ROW)
		if ((t = sqlite3_column_text(st, 0)) != NULL &&
		    !still_admin(w, (const char *)t))
			snprintf(names[n++], TK_NAME_MAX + 1, "%s",
			    (const char *)t);
	sqlite3_finalize(st);
	return n;
}

/*
 * Runs sql, whose ?1 is name (or, name NULL, id) and whose ?2, if it
 * has one, is now; the rows it changed, or -1.
 */
static int
void_all(struct tk_web *w, const char *sql, const char *name, int64_t id)
{
	sqlite3_stmt *st = NULL;
	int n = -1;

	if (sqlite3_prepare_v2(w->db, sql, -1, &st, NULL) == SQLITE_OK &&
	    (name != NULL ? sqlite3_bind_text(st, 1, name, -1,
	    SQLITE_STATIC) : sqlite3_bind_int64(st, 1, id)) == SQLITE_OK &&
	    (sqlite3_bind_parameter_count(st) < 2 || sqlite3_bind_int64(st,
	    2, (sqlite3_int64)time(NULL)) == SQLITE_OK) &&
	    sqlite3_step(st) == SQLITE_DONE)
		n = sqlite3_changes(w->db);
	sqlite3_finalize(st);
	return n;
}

/* Spends name's invitations and revokes their keys; journaled. */
static void
lapse(struct tk_web *w, const char *name)
{
	struct reply r = { 0 };
	char obj[80];
	int inv, keys;

	inv = void_all(w, "UPDATE invitations SET used = " INVITE_VOIDED_S
	    " WHERE inviter = ?1 AND used = 0 AND bootstrap = 0 AND "
	    "expires > ?2", name, 0);
	keys = void_all(w, "UPDATE api_keys SET revoked = 1 WHERE "
	    "creator = ?1 AND revoked = 0", name, 0);
	if (inv < 0 || keys < 0) {
		tk_error("what %s handed out could not be voided; each use "
		    "is still refused", name);
		return;
	}
	snprintf(obj, sizeof(obj), "person:%.64s", name);
	if (web_journal(w, &r, "twokeyd", "authority.lapsed", obj,
	    json_pack("{s:i,s:i,s:s}", "invitations", inv, "api_keys", keys,
	    "why", "no longer an active admin")) != 0)
		tk_error("the voiding of what %s handed out is not "
		    "journaled", name);
	else
		tk_info("%s is no longer an active admin: %d invitation(s) "
		    "spent, %d API key(s) revoked", name, inv, keys);
	json_decref(r.json);
	free(r.text);
}

/*
 * The people with a live new-key invitation who are suspended or have
 * left, into ids; how many. Their codes would otherwise come back to
 * life with a reactivation.
 */
static size_t
inactive_holders(struct tk_web *w, int64_t *ids, size_t cap)
{
	sqlite3_stmt *st = NULL;
	struct tk_person p;
	int64_t id;
	size_t n = 0;
	int rc;

	if (sqlite3_prepare_v2(w->db, "SELECT DISTINCT person FROM "
	    "invitations WHERE person != 0 AND used = 0 AND expires > ?",
	    -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	while (n < cap && sqlite3_step(st) == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		pthread_mutex_lock(w->be->lock);
		rc = tk_approvals_person_get(w->be->ap, id, &p);
		pthread_mutex_unlock(w->be->lock);
		if (rc != 0 || p.state != TK_PERSON_ACTIVE)
			ids[n++] = id;
	}
	sqlite3_finalize(st);
	return n;
}

/* Spends the live new-key invitations of person id; journaled. */
static void
close_new_keys(struct tk_web *w, int64_t id)
{
	struct reply r = { 0 };
	char obj[32];
	int inv;

	inv = void_all(w, "UPDATE invitations SET used = " INVITE_CLOSED_S
	    " WHERE person = ?1 AND used = 0 AND expires > ?2", NULL, id);
	if (inv <= 0)
		return;
	snprintf(obj, sizeof(obj), "person/%lld", (long long)id);
	if (web_journal(w, &r, "twokeyd", "invitation.void", obj,
	    json_pack("{s:i,s:s}", "invitations", inv, "why", "the person "
	    "is suspended or has left")) != 0)
		tk_error("the voiding of person %lld's new-key invitations "
		    "is not journaled", (long long)id);
	json_decref(r.json);
	free(r.text);
}

void
web_authority_sweep(struct tk_web *w)
{
	char names[SWEEP_MAX][TK_NAME_MAX + 1];
	int64_t ids[SWEEP_MAX];
	size_t i, n;

	if (w->be == NULL || w->be->ap == NULL || w->be->journal == NULL)
		return;
	n = lapsed_makers(w, names, SWEEP_MAX);
	for (i = 0; i < n; i++)
		lapse(w, names[i]);
	n = inactive_holders(w, ids, SWEEP_MAX);
	for (i = 0; i < n; i++)
		close_new_keys(w, ids[i]);
}
