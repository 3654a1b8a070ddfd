/*
 * The first enrollment. Giving approving or administering power needs the
 * quorum, so nobody could ever hold it unless one ceremony, before any
 * quorum exists, enrolls the first admin and approvers directly. That
 * ceremony is this: run on the appliance with the daemon stopped, it
 * stores one bootstrap invitation per person in web.db and journals the
 * whole of it as one entry. It is refused as soon as any active approver
 * or admin exists, and its invitations die (api_people.c) once an admin
 * and the quorum of other approvers are enrolled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/journal.h"
#include "web_int.h"

#define BOOTSTRAP_ROLES ((unsigned int)(TK_ROLE_ADMIN | TK_ROLE_APPROVER))

static int
check_people(const struct tk_web_invitee *p, size_t n, unsigned int quorum,
    char *msg, size_t msglen)
{
	size_t i, k, admins = 0, plain = 0;

	for (i = 0; i < n; i++) {
		if (tk_apr_check_name(p[i].name) != 0 ||
		    tk_apr_check_name(p[i].team) != 0) {
			snprintf(msg, msglen, "person %zu: name and team "
			    "must be " TK_NAME_RULE, i + 1);
			return -1;
		}
		if ((p[i].roles & BOOTSTRAP_ROLES) == 0 ||
		    (p[i].roles & ~BOOTSTRAP_ROLES) != 0) {
			snprintf(msg, msglen, "%s: the bootstrap gives only "
			    "the admin and approver roles", p[i].name);
			return -1;
		}
		/* Names are unique regardless of case, as in the store. */
		for (k = 0; k < i; k++)
			if (strcasecmp(p[k].name, p[i].name) == 0) {
				snprintf(msg, msglen, "%s is named twice",
				    p[i].name);
				return -1;
			}
		admins += (p[i].roles & TK_ROLE_ADMIN) != 0;
		plain += p[i].roles == (unsigned int)TK_ROLE_APPROVER;
	}
	if (admins == 0 || plain < quorum) {
		snprintf(msg, msglen, "name an admin and at least %u "
		    "approvers besides (quorum %u): %u people or more", quorum,
		    quorum, quorum + 1);
		return -1;
	}
	return 0;
}

/* The journal entry: who was invited with which roles, never a code. */
static int
journal_it(const struct tk_web_backend *be, const struct tk_web_invitee *p,
    size_t n, time_t expires, unsigned int quorum)
{
	struct tk_journal_entry e;
	json_t *people = json_array(), *d;
	size_t i;
	int r;

	for (i = 0; people != NULL && i < n; i++)
		json_array_append_new(people, json_pack("{s:s,s:s,s:o}",
		    "name", p[i].name, "team", p[i].team, "roles",
		    web_roles_json(p[i].roles)));
	d = json_pack("{s:o,s:I,s:i}", "people", people, "expires",
	    (json_int_t)expires, "quorum", (int)quorum);
	if (d == NULL)
		return -1;
	memset(&e, 0, sizeof(e));
	e.actor = "bootstrap";
	e.action = "bootstrap.invite";
	e.object = "invitations";
	e.details = d;
	r = tk_journal_append(be->journal, &e, NULL);
	json_decref(d);
	return r;
}

/* Every invitation, or none; the codes are made before anything is kept. */
static int
store_them(struct tk_web *w, struct tk_web_invitee *p, size_t n,
    time_t expires)
{
	struct invitation inv;
	uint8_t hash[32];
	size_t i;
	int r = -1;

	if (sqlite3_exec(w->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return -1;
	if (web_invite_void_bootstrap(w) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		memset(&inv, 0, sizeof(inv));
		snprintf(inv.name, sizeof(inv.name), "%s", p[i].name);
		snprintf(inv.team, sizeof(inv.team), "%s", p[i].team);
		snprintf(inv.inviter, sizeof(inv.inviter), "bootstrap");
		inv.roles = p[i].roles;
		inv.expires = expires;
		inv.bootstrap = 1;
		if (web_hash(p[i].code, hash) != 0 ||
		    web_invite_add(w, hash, &inv) != 0)
			goto out;
	}
	r = sqlite3_exec(w->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ?
	    0 : -1;
out:
	if (r != 0)
		sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

static void
wipe_codes(struct tk_web_invitee *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		OPENSSL_cleanse(p[i].code, sizeof(p[i].code));
}

/* Refused while anyone already holds governing power. */
static int
check_roster(const struct tk_web_backend *be, struct tk_roster *ro,
    char *msg, size_t msglen)
{
	if (tk_approvals_roster(be->ap, ro) != 0) {
		snprintf(msg, msglen, "the approvals store cannot be read");
		return TK_WEB_ERR_STATE;
	}
	if (ro->admins > 0 || ro->approvers > 0) {
		snprintf(msg, msglen, "refused: %u admin(s) and %u "
		    "approver(s) are already enrolled; the quorum governs "
		    "from now on, there is no bootstrap", ro->admins,
		    ro->approvers);
		return TK_WEB_ERR_GOVERNED;
	}
	return 0;
}

int
tk_web_bootstrap(const struct tk_web_backend *be, const char *state_dir,
    struct tk_web_invitee *people, size_t n, time_t *expires, char *msg,
    size_t msglen)
{
	struct tk_web *w = NULL;
	struct tk_roster ro;
	size_t i;
	int r = TK_WEB_ERR_INVALID;

	snprintf(msg, msglen, "ok");
	if (n == 0 || n > TK_WEB_BOOTSTRAP_MAX) {
		snprintf(msg, msglen, "name 1 to %d people",
		    TK_WEB_BOOTSTRAP_MAX);
		return r;
	}
	if ((r = check_roster(be, &ro, msg, msglen)) != 0)
		return r;
	if (check_people(people, n, ro.quorum, msg, msglen) != 0)
		return TK_WEB_ERR_INVALID;
	r = TK_WEB_ERR_STATE;
	*expires = time(NULL) + TK_WEB_BOOTSTRAP_TTL;
	for (i = 0; i < n; i++)
		if (web_new_secret("tki_", people[i].code,
		    sizeof(people[i].code)) != 0) {
			snprintf(msg, msglen, "no randomness for the codes");
			goto out;
		}
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    web_store_open(w, state_dir) != 0) {
		snprintf(msg, msglen, "%s/web.db cannot be opened",
		    state_dir);
		goto out;
	}
	/* An action that cannot be recorded does not happen. */
	if (journal_it(be, people, n, *expires, ro.quorum) != 0) {
		snprintf(msg, msglen, "the journal refused the entry");
		goto out;
	}
	if (store_them(w, people, n, *expires) != 0) {
		snprintf(msg, msglen, "the invitations could not be stored "
		    "(journaled; no new one is valid)");
		goto out;
	}
	r = TK_WEB_OK;
out:
	if (r != TK_WEB_OK)
		wipe_codes(people, n);
	if (w != NULL)
		web_store_close(w);
	free(w);
	return r;
}
