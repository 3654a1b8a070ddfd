/*
 * What an admin hands out, invitations and API keys, acts with that
 * admin's authority, and must not outlive it. Every use checks that the
 * maker is still an active admin; this sweep makes the loss final: once
 * a maker is suspended, has left or has lost the admin role, their live
 * invitations are spent and their API keys revoked, journaled, so that a
 * later reactivation or a restored role does not bring them back. It
 * runs at start (a change made while the daemon was down), after a
 * suspension and after every applied change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "web_int.h"

#define SWEEP_MAX 64	/* makers looked at per sweep; the rest next time */

/* The makers of live invitations and keys, into names; how many. */
static size_t
makers(struct tk_web *w, char names[][TK_NAME_MAX + 1], size_t cap)
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
		if ((t = sqlite3_column_text(st, 0)) != NULL)
			snprintf(names[n++], TK_NAME_MAX + 1, "%s",
			    (const char *)t);
	sqlite3_finalize(st);
	return n;
}

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

/* Runs sql (one ? for name); how many rows it changed, or -1. */
static int
void_all(struct tk_web *w, const char *sql, const char *name)
{
	sqlite3_stmt *st = NULL;
	int n = -1;

	if (sqlite3_prepare_v2(w->db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK &&
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
	    " WHERE "
	    "inviter = ? AND used = 0 AND bootstrap = 0", name);
	keys = void_all(w, "UPDATE api_keys SET revoked = 1 WHERE "
	    "creator = ? AND revoked = 0", name);
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

void
web_authority_sweep(struct tk_web *w)
{
	char names[SWEEP_MAX][TK_NAME_MAX + 1];
	size_t i, n;

	if (w->be == NULL || w->be->ap == NULL || w->be->journal == NULL)
		return;
	n = makers(w, names, SWEEP_MAX);
	for (i = 0; i < n; i++)
		if (!still_admin(w, names[i]))
			lapse(w, names[i]);
}
