/*
 * The approvals service: opening the store, people and credentials,
 * filing requests, issuing challenges and expiring what is out of time.
 * Votes are in vote.c, grants in grant.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/journal.h"
#include "internal.h"

const char *
tk_apr_strerror(int err)
{
	static const struct {
		int code;
		const char *text;
	} t[] = {
		{ TK_APR_OK, "success" },
		{ TK_APR_ERR_NOMEM, "out of memory" },
		{ TK_APR_ERR_INVALID, "malformed input" },
		{ TK_APR_ERR_DB, "approvals store failed" },
		{ TK_APR_ERR_NOT_FOUND, "no such record" },
		{ TK_APR_ERR_EXISTS, "name or credential id already taken" },
		{ TK_APR_ERR_POLICY, "policy refused" },
		{ TK_APR_ERR_BLOCKED_SCOPE, "scope blocked by policy" },
		{ TK_APR_ERR_SCOPE_TEMPLATE, "scope outside the template" },
		{ TK_APR_ERR_DURATION, "duration longer than policy allows" },
		{ TK_APR_ERR_ROLE, "person lacks the role" },
		{ TK_APR_ERR_NOT_PENDING, "request is no longer pending" },
		{ TK_APR_ERR_REQUEST_EXPIRED, "request expired" },
		{ TK_APR_ERR_CHALLENGE_UNKNOWN, "challenge was never issued" },
		{ TK_APR_ERR_CHALLENGE_USED,
		    "challenge already used (replay)" },
		{ TK_APR_ERR_CHALLENGE_EXPIRED, "challenge expired" },
		{ TK_APR_ERR_OTHER_REQUEST,
		    "assertion was made for another request" },
		{ TK_APR_ERR_SELF_APPROVAL, "requester cannot approve" },
		{ TK_APR_ERR_SUBJECT, "the person this change is about cannot "
		    "approve or reject it" },
		{ TK_APR_ERR_LAST_ADMIN, "the last active admin cannot be "
		    "suspended or lose the admin role: nobody could undo it" },
		{ TK_APR_ERR_SAME_PERSON, "this person has already voted" },
		{ TK_APR_ERR_INACTIVE, "person is suspended or has left" },
		{ TK_APR_ERR_CREDENTIAL, "unknown credential" },
		{ TK_APR_ERR_CLONED, "credential flagged as possibly cloned" },
		{ TK_APR_ERR_COUNTER,
		    "sign counter did not increase: credential flagged" },
		{ TK_APR_ERR_ASSERTION, "assertion did not verify" },
		{ TK_APR_ERR_REVIEW_OVERDUE, "post-incident review overdue" },
		{ TK_APR_ERR_SIGN, "the token could not sign the grant" },
		{ TK_APR_ERR_JOURNAL, "the journal refused the event" },
		{ TK_APR_ERR_WRONG_PERSON,
		    "challenge was issued to another person" },
		{ TK_APR_ERR_TEAM, "an approver of this team already counted" },
		{ TK_APR_ERR_REVOKED, "grant already revoked or expired" },
		{ TK_APR_ERR_STALE, "the change is stale: what it changes "
		    "moved on since it was proposed" },
		{ TK_APR_ERR_QUORUM, "this change needs the quorum: propose "
		    "it as a governed change" },
		{ TK_APR_ERR_NO_CHANGE, "the change would change nothing" },
		{ TK_APR_ERR_CRED_REVOKED, "credential revoked" },
		{ TK_APR_ERR_TOO_LARGE, "the change is too large for one "
		    "journal entry: split it into smaller changes" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].code == err)
			return t[i].text;
	return "unknown error";
}

int64_t
tk_apr_now(struct tk_approvals *ap)
{
	if (ap->clock != NULL)
		return ap->clock(ap->clock_arg);
	return (int64_t)time(NULL);
}

int
tk_approvals_open(const struct tk_approvals_config *cfg,
    struct tk_approvals **out)
{
	struct tk_approvals *ap = NULL;
	int rc = TK_APR_ERR_INVALID;

	*out = NULL;
	if (cfg == NULL || cfg->db_path == NULL || cfg->rp_id == NULL ||
	    cfg->origin == NULL || cfg->journal == NULL)
		goto out;
	if ((rc = tk_policy_validate(cfg->policy)) != 0)
		goto out;
	rc = TK_APR_ERR_NOMEM;
	if ((ap = calloc(1, sizeof(*ap))) == NULL ||
	    (ap->rp_id = strdup(cfg->rp_id)) == NULL ||
	    (ap->origin = strdup(cfg->origin)) == NULL)
		goto out;
	ap->policy = cfg->policy;	/* until the approved one loads */
	ap->signer = cfg->signer;
	ap->journal = cfg->journal;
	ap->require_uv = cfg->require_uv;
	ap->clock = cfg->clock;
	ap->clock_arg = cfg->clock_arg;
	if ((rc = tk_store_open(ap, cfg->db_path)) != 0 ||
	    (rc = tk_policy_store_open(ap, cfg->policy,
	    cfg->policy_source != NULL ? cfg->policy_source : "start")) != 0)
		goto out;
	*out = ap;
	ap = NULL;
	rc = TK_APR_OK;
out:
	tk_approvals_free(&ap);
	return rc;
}

void
tk_approvals_free(struct tk_approvals **app)
{
	struct tk_approvals *ap;

	if (app == NULL || (ap = *app) == NULL)
		return;
	sqlite3_close(ap->db);
	tk_policy_free(&ap->approved);
	free(ap->file_json);
	free(ap->rp_id);
	free(ap->origin);
	free(ap);
	*app = NULL;
}

int
tk_apr_record(struct tk_approvals *ap, const char *actor,
    const char *action, const char *object, json_t *details)
{
	struct tk_journal_entry e;
	int r, rc = TK_APR_OK;

	/*
	 * Callers pass json_pack's result: NULL means it ran out of memory,
	 * and the entry must not go in without its details. An event with
	 * nothing to add passes json_object().
	 */
	if (details == NULL) {
		tk_error("%s not journaled: out of memory", action);
		return TK_APR_ERR_NOMEM;
	}
	memset(&e, 0, sizeof(e));
	e.actor = actor != NULL && *actor != '\0' ? actor : "-";
	e.action = action;
	e.object = object;
	e.details = details;
	if ((r = tk_journal_append(ap->journal, &e, NULL)) != 0) {
		tk_error("journal refused %s: %s", action,
		    tk_journal_strerror(r));
		rc = TK_APR_ERR_JOURNAL;
	}
	json_decref(details);
	return rc;
}

int
tk_apr_commit_event(struct tk_approvals *ap, const char *actor,
    const char *action, const char *object, json_t *details)
{
	int rc;

	if ((rc = tk_apr_record(ap, actor, action, object, details)) != 0 ||
	    (rc = tk_store_commit(ap)) != 0)
		tk_store_rollback(ap);
	return rc;
}

/*
 * Rolls back, and journals a refusal (not a failure of ours) under actor,
 * or "-" when the actor itself is malformed.
 */
static int
refused(struct tk_approvals *ap, const char *actor, const char *action,
    const char *obj, int rc)
{
	tk_store_rollback(ap);
	if (rc == TK_APR_ERR_DB || rc == TK_APR_ERR_NOMEM)
		return rc;
	if (tk_apr_check_text(actor, TK_NAME_MAX) != 0)
		actor = "-";
	return tk_apr_refuse(ap, actor, action, obj, rc, NULL);
}

int
tk_approvals_person_add(struct tk_approvals *ap, const char *actor,
    const char *name, const char *team, unsigned int roles, int64_t *id)
{
	struct tk_person holder;
	sqlite3_stmt *st = NULL;
	char obj[32] = "person";
	int rc = TK_APR_ERR_INVALID;

	if (tk_apr_check_text(actor, TK_NAME_MAX) != 0 ||
	    tk_apr_check_name(name) != 0 || tk_apr_check_name(team) != 0 ||
	    (roles & ~TK_ROLE_ALL) != 0)
		return refused(ap, actor, "person.enroll", obj, rc);
	if ((rc = tk_store_begin(ap)) != 0)
		return rc;
	/* The UNIQUE column compares bytes; "ALICE" must not pose as alice. */
	if ((rc = tk_approvals_name_holder(ap, name, &holder)) == 0)
		rc = TK_APR_ERR_EXISTS;
	if (rc != TK_APR_ERR_NOT_FOUND)
		goto fail;
	if ((rc = tk_store_prepare(ap, "INSERT INTO people(name, team, "
	    "roles, state) VALUES (?, ?, ?, 0)", &st)) != 0)
		goto fail;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, team, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, (int)roles);
	if ((rc = tk_store_done(ap, st)) != 0)
		goto fail;
	*id = sqlite3_last_insert_rowid(ap->db);
	(void)snprintf(obj, sizeof(obj), "person/%lld", (long long)*id);
	return tk_apr_commit_event(ap, actor, "person.enroll", obj,
	    json_pack("{s:s, s:s, s:i}", "name", name, "team", team,
	    "roles", (int)roles));
fail:
	return refused(ap, actor, "person.enroll", obj, rc);
}

int
tk_approvals_person_get(struct tk_approvals *ap, int64_t id,
    struct tk_person *out)
{
	return tk_store_person_get(ap, id, out);
}

int
tk_approvals_roster(struct tk_approvals *ap, struct tk_roster *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->quorum = ap->policy->quorum;
	if ((rc = tk_store_prepare(ap, "SELECT "
	    "COALESCE(SUM((roles & 1) != 0), 0), "
	    "COALESCE(SUM((roles & 2) != 0), 0), "
	    "COALESCE(SUM((roles & 3) = 2), 0) "
	    "FROM people WHERE state = 0", &st)) != 0)
		return rc;
	rc = TK_APR_ERR_DB;
	if (sqlite3_step(st) == SQLITE_ROW) {
		out->admins = (unsigned int)sqlite3_column_int(st, 0);
		out->approvers = (unsigned int)sqlite3_column_int(st, 1);
		out->plain_approvers = (unsigned int)sqlite3_column_int(st, 2);
		rc = TK_APR_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

int
tk_apr_other_admins(struct tk_approvals *ap, int64_t person)
{
	sqlite3_stmt *st = NULL;
	int rc, n = 0;

	if ((rc = tk_store_prepare(ap, "SELECT COUNT(*) FROM people WHERE "
	    "id != ? AND state = ? AND (roles & ?) != 0", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, person);
	sqlite3_bind_int(st, 2, (int)TK_PERSON_ACTIVE);
	sqlite3_bind_int(st, 3, (int)TK_ROLE_ADMIN);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n > 0 ? TK_APR_OK : TK_APR_ERR_LAST_ADMIN;
}

int
tk_approvals_person_set_state(struct tk_approvals *ap, const char *actor,
    int64_t id, enum tk_person_state state)
{
	sqlite3_stmt *st = NULL;
	struct tk_person p;
	char obj[32];
	int rc;

	(void)snprintf(obj, sizeof(obj), "person/%lld", (long long)id);
	if (tk_apr_check_text(actor, TK_NAME_MAX) != 0 ||
	    (state != TK_PERSON_ACTIVE && state != TK_PERSON_SUSPENDED &&
	    state != TK_PERSON_LEFT))
		return refused(ap, actor, "person.state", obj,
		    TK_APR_ERR_INVALID);
	/* Only the safe direction is immediate: "person.reactivate". */
	if (state == TK_PERSON_ACTIVE)
		return refused(ap, actor, "person.state", obj,
		    TK_APR_ERR_QUORUM);
	if ((rc = tk_store_begin(ap)) != 0)
		return rc;
	/* Suspending the last admin would leave no one to undo it. */
	if ((rc = tk_store_person_get(ap, id, &p)) != 0 ||
	    ((p.roles & TK_ROLE_ADMIN) != 0 && p.state == TK_PERSON_ACTIVE &&
	    (rc = tk_apr_other_admins(ap, id)) != 0))
		goto fail;
	/* Once gone, a person stays recorded as gone: only a governed
	 * reactivation moves them on. */
	rc = TK_APR_ERR_NO_CHANGE;
	if (p.state == state || p.state == TK_PERSON_LEFT)
		goto fail;
	if ((rc = tk_store_prepare(ap, "UPDATE people SET state = ? "
	    "WHERE id = ?", &st)) != 0)
		goto fail;
	sqlite3_bind_int(st, 1, (int)state);
	sqlite3_bind_int64(st, 2, id);
	if ((rc = tk_store_done(ap, st)) != 0)
		goto fail;
	if (sqlite3_changes(ap->db) != 1) {
		rc = TK_APR_ERR_NOT_FOUND;
		goto fail;
	}
	return tk_apr_commit_event(ap, actor, "person.state", obj,
	    json_pack("{s:i}", "state", (int)state));
fail:
	return refused(ap, actor, "person.state", obj, rc);
}

static void
bind_cred(sqlite3_stmt *st, const struct tk_credential *c)
{
	sqlite3_bind_blob(st, 1, c->id, (int)c->id_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, c->person_id);
	sqlite3_bind_int(st, 3, c->alg);
	sqlite3_bind_blob(st, 4, c->cose_key, (int)c->cose_key_len,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)c->sign_count);
	sqlite3_bind_blob(st, 6, c->aaguid, TK_AAGUID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, c->fmt, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, c->backup_eligible != 0);
	sqlite3_bind_int(st, 9, c->backup_state != 0);
	sqlite3_bind_int(st, 10, c->uv_at_registration != 0);
	sqlite3_bind_int(st, 11, c->attestation_trusted != 0);
	sqlite3_bind_int64(st, 12, (sqlite3_int64)c->flags);
}

int
tk_approvals_credential_add(struct tk_approvals *ap, const char *actor,
    const struct tk_credential *c)
{
	struct tk_person p;
	sqlite3_stmt *st = NULL;
	char *b64 = NULL, obj[32] = "credential";
	int rc = TK_APR_ERR_INVALID;

	if (tk_apr_check_text(actor, TK_NAME_MAX) != 0 || c == NULL ||
	    c->id_len == 0 || c->id_len > TK_CRED_ID_MAX ||
	    c->cose_key_len == 0 || c->cose_key_len > TK_COSE_KEY_MAX ||
	    memchr(c->fmt, '\0', sizeof(c->fmt)) == NULL)
		return refused(ap, actor, "credential.register", obj, rc);
	(void)snprintf(obj, sizeof(obj), "person/%lld",
	    (long long)c->person_id);
	if ((rc = tk_store_begin(ap)) != 0)
		return rc;
	if ((rc = tk_store_person_get(ap, c->person_id, &p)) != 0 ||
	    (rc = tk_store_prepare(ap, "INSERT INTO credentials VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st)) != 0)
		goto fail;
	bind_cred(st, c);
	if ((rc = tk_store_done(ap, st)) != 0)
		goto fail;
	rc = TK_APR_ERR_NOMEM;
	if ((b64 = tk_b64url_encode(c->id, c->id_len)) == NULL)
		goto fail;
	rc = tk_apr_commit_event(ap, actor, "credential.register", obj,
	    json_pack("{s:s, s:s, s:i}", "person", p.name, "credential", b64,
	    "alg", c->alg));
	free(b64);
	return rc;
fail:
	return refused(ap, actor, "credential.register", obj, rc);
}

int
tk_approvals_credential_get(struct tk_approvals *ap, const uint8_t *id,
    size_t id_len, struct tk_credential *out)
{
	return tk_store_cred_get(ap, id, id_len, out);
}

int
tk_apr_refuse(struct tk_approvals *ap, const char *actor,
    const char *action, const char *object, int err, const char *why)
{
	char name[128];

	(void)snprintf(name, sizeof(name), "%s.refused", action);
	if (tk_apr_record(ap, actor != NULL ? actor : "-", name,
	    object, json_pack("{s:i, s:s, s:s}", "code", err, "error",
	    tk_apr_strerror(err), "reason", why != NULL ? why : "")) != 0)
		return TK_APR_ERR_JOURNAL;
	return err;
}
