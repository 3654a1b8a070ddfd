/*
 * The approved policy and its drift. The policy in force is the last one
 * the quorum approved (table policy_approved), never the configuration
 * file's: on the first start the file's policy becomes the approved one,
 * journaled; afterwards a file that differs is journaled as a change made
 * outside the quorum ("policy.drift", with the keys where they differ),
 * kept in policy_drift for the API, /metrics and the evidence pack, and
 * not applied. A file edit therefore can neither weaken nor silently
 * change the rule; tightening at once goes through the safe immediate
 * actions (tk_approvals_policy_block), anything else through the
 * governed change "policy.set".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "twokey/approvals.h"
#include "twokey/changes.h"
#include "twokey/common.h"
#include "internal.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS policy_approved("
	" id INTEGER PRIMARY KEY,"
	" policy TEXT NOT NULL,"
	" at INTEGER NOT NULL,"
	" source TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS policy_drift("
	" id INTEGER PRIMARY KEY,"
	" at INTEGER NOT NULL,"
	" source TEXT NOT NULL,"
	" file TEXT NOT NULL,"
	" approved TEXT NOT NULL,"
	" before TEXT NOT NULL,"
	" after TEXT NOT NULL);"
	/*
	 * The file's policy when a governed change or a block set an
	 * approved policy: while the file keeps that text it is behind, not
	 * drifted, since nobody edited it outside the quorum.
	 */
	"CREATE TABLE IF NOT EXISTS policy_file_behind("
	" approved_id INTEGER PRIMARY KEY,"
	" file TEXT NOT NULL);";

static char *
canon(json_t *o)
{
	return o == NULL ? NULL : json_dumps(o, JSON_COMPACT |
	    JSON_SORT_KEYS);
}

const struct tk_policy *
tk_approvals_policy(struct tk_approvals *ap)
{
	return ap->policy;
}

int
tk_policy_store_schema(struct tk_approvals *ap)
{
	char *msg = NULL;

	if (sqlite3_exec(ap->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		tk_error("sqlite: %s", msg != NULL ? msg : "?");
		sqlite3_free(msg);
		return TK_APR_ERR_DB;
	}
	return TK_APR_OK;
}

/* The latest approved policy's text (free()), or NULL with rc 0 if none. */
static int
approved_text(struct tk_approvals *ap, char **out)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	int r, rc;

	*out = NULL;
	if ((rc = tk_store_prepare(ap, "SELECT policy FROM policy_approved "
	    "ORDER BY id DESC LIMIT 1", &st)) != 0)
		return rc;
	r = sqlite3_step(st);
	rc = r == SQLITE_DONE ? TK_APR_OK : TK_APR_ERR_DB;
	if (r == SQLITE_ROW && (t = sqlite3_column_text(st, 0)) != NULL)
		rc = (*out = strdup((const char *)t)) == NULL ?
		    TK_APR_ERR_NOMEM : TK_APR_OK;
	sqlite3_finalize(st);
	return rc;
}

int
tk_policy_store_approved(struct tk_approvals *ap, json_t **out)
{
	char *t = NULL;
	int rc;

	*out = NULL;
	if ((rc = approved_text(ap, &t)) != 0)
		return rc;
	if (t == NULL || (*out = json_loads(t, 0, NULL)) == NULL)
		rc = TK_APR_ERR_DB;
	free(t);
	return rc;
}

int
tk_policy_store_put(struct tk_approvals *ap, json_t *policy,
    const char *source, int64_t now)
{
	struct tk_policy *p = NULL;
	sqlite3_stmt *st = NULL;
	char *t = NULL;
	int rc = TK_APR_ERR_NOMEM;

	if ((t = canon(policy)) == NULL)
		goto out;
	/* Only a policy that loads and validates is ever approved. */
	if ((rc = tk_policy_from_json(t, strlen(t), &p)) != 0 ||
	    (rc = tk_store_prepare(ap, "INSERT INTO policy_approved(policy, "
	    "at, source) VALUES (?, ?, ?)", &st)) != 0)
		goto out;
	sqlite3_bind_text(st, 1, t, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, source, -1, SQLITE_STATIC);
	if ((rc = tk_store_done(ap, st)) != 0 || ap->file_json == NULL ||
	    strcmp(ap->file_json, t) == 0)
		goto out;
	if ((rc = tk_store_prepare(ap, "INSERT INTO policy_file_behind("
	    "approved_id, file) VALUES (last_insert_rowid(), ?)", &st)) != 0)
		goto out;
	sqlite3_bind_text(st, 1, ap->file_json, -1, SQLITE_STATIC);
	rc = tk_store_done(ap, st);
out:
	tk_policy_free(&p);
	free(t);
	return rc;
}

int
tk_policy_store_file_behind(struct tk_approvals *ap, int *behind)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*behind = 0;
	if (ap->file_json == NULL)
		return TK_APR_OK;
	if ((rc = tk_store_prepare(ap, "SELECT file = ?1 FROM "
	    "policy_file_behind WHERE approved_id = (SELECT MAX(id) FROM "
	    "policy_approved)", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, ap->file_json, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*behind = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return TK_APR_OK;
}

/* Keys where a and b differ: their values in a (*before), b (*after). */
static int
policy_diff(json_t *a, json_t *b, json_t **before, json_t **after)
{
	const char *k;
	json_t *v, *w;

	*before = json_object();
	*after = json_object();
	if (*before == NULL || *after == NULL)
		return TK_APR_ERR_NOMEM;
	json_object_foreach(b, k, v) {
		w = json_object_get(a, k);
		if (w != NULL && json_equal(v, w))
			continue;
		if ((w != NULL && json_object_set(*before, k, w) != 0) ||
		    json_object_set(*after, k, v) != 0)
			return TK_APR_ERR_NOMEM;
	}
	return TK_APR_OK;
}

/* The latest drift row's file and approved texts match these. */
static int
drift_known(struct tk_approvals *ap, const char *file, const char *appr,
    int *known)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*known = 0;
	if ((rc = tk_store_prepare(ap, "SELECT file = ?1 AND approved = ?2 "
	    "FROM policy_drift ORDER BY id DESC LIMIT 1", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, file, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, appr, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*known = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return TK_APR_OK;
}

static int
drift_insert(struct tk_approvals *ap, const char *source, int64_t now,
    const char *appr, json_t *before, json_t *after)
{
	sqlite3_stmt *st = NULL;
	char *b = canon(before), *a = canon(after);
	int rc = TK_APR_ERR_NOMEM;

	if (b == NULL || a == NULL || (rc = tk_store_prepare(ap, "INSERT "
	    "INTO policy_drift(at, source, file, approved, before, after) "
	    "VALUES (?, ?, ?, ?, ?, ?)", &st)) != 0)
		goto out;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ap->file_json, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, appr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, b, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, a, -1, SQLITE_STATIC);
	rc = tk_store_done(ap, st);
out:
	free(b);
	free(a);
	return rc;
}

int
tk_policy_store_drift_check(struct tk_approvals *ap, const char *source,
    int64_t now)
{
	json_t *appr = NULL, *file = NULL, *before = NULL, *after = NULL;
	char *at = NULL;
	int rc, known = 0, behind = 0;

	if ((rc = approved_text(ap, &at)) != 0 || at == NULL ||
	    strcmp(at, ap->file_json) == 0 ||
	    (rc = tk_policy_store_file_behind(ap, &behind)) != 0 || behind ||
	    (rc = drift_known(ap, ap->file_json, at, &known)) != 0 || known)
		goto out;
	rc = TK_APR_ERR_DB;
	if ((appr = json_loads(at, 0, NULL)) == NULL ||
	    (file = json_loads(ap->file_json, 0, NULL)) == NULL)
		goto out;
	if ((rc = policy_diff(appr, file, &before, &after)) != 0 ||
	    (rc = drift_insert(ap, source, now, at, before, after)) != 0)
		goto out;
	rc = tk_apr_record(ap, "twokeyd", "policy.drift", "policy",
	    json_pack("{s:s,s:O,s:O,s:s}", "source", source, "before",
	    before, "after", after, "note", "changed outside the quorum; "
	    "not applied"));
	/* Said once it is true: the entry is in the journal. */
	if (rc == TK_APR_OK)
		tk_warn("policy in the configuration file differs from the "
		    "approved policy (%s); the approved policy stays in force "
		    "(journaled as policy.drift)", source);
out:
	json_decref(appr);
	json_decref(file);
	json_decref(before);
	json_decref(after);
	free(at);
	return rc;
}

int
tk_policy_store_reload(struct tk_approvals *ap)
{
	struct tk_policy *p = NULL;
	char *t = NULL;
	int rc;

	if ((rc = approved_text(ap, &t)) != 0)
		return rc;
	if (t == NULL)
		return TK_APR_ERR_DB;
	rc = tk_policy_from_json(t, strlen(t), &p);
	free(t);
	if (rc != 0) {
		tk_error("the approved policy in the store does not load");
		return TK_APR_ERR_DB;
	}
	tk_policy_free(&ap->approved);
	ap->approved = p;
	ap->policy = p;
	return TK_APR_OK;
}

/* The first start: the file's policy becomes the approved one. */
static int
first_start(struct tk_approvals *ap, json_t *file, int64_t now)
{
	int rc;

	if ((rc = tk_policy_store_put(ap, file, "first start", now)) != 0)
		return rc;
	return tk_apr_record(ap, "twokeyd", "policy.approve", "policy",
	    json_pack("{s:s,s:O}", "source", "first start (configuration "
	    "file)", "policy", file));
}

int
tk_policy_store_open(struct tk_approvals *ap, const struct tk_policy *file,
    const char *source)
{
	json_t *f = NULL;
	char *at = NULL;
	int rc = TK_APR_ERR_NOMEM;

	if ((f = tk_policy_to_json(file)) == NULL ||
	    (ap->file_json = canon(f)) == NULL)
		goto out;
	if ((rc = tk_store_begin(ap)) != 0)
		goto out;
	if ((rc = approved_text(ap, &at)) != 0 ||
	    (at == NULL && (rc = first_start(ap, f, tk_apr_now(ap))) != 0) ||
	    (rc = tk_policy_store_drift_check(ap, source,
	    tk_apr_now(ap))) != 0 || (rc = tk_store_commit(ap)) != 0) {
		tk_store_rollback(ap);
		goto out;
	}
	rc = tk_policy_store_reload(ap);
out:
	free(at);
	json_decref(f);
	return rc;
}
