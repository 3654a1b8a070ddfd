/*
 * The evidence of one request, for evidence packs and auditors: the
 * canonical request and its digest, each ballot with the nonce of its
 * challenge, the assertion as the browser sent it and the approver's
 * stored public key, and the grant. With these an auditor recomputes
 * every challenge and re-verifies every assertion offline.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "internal.h"

/* base64url of a blob column as a new JSON string, or NULL. */
static json_t *
b64_col(sqlite3_stmt *st, int col)
{
	const void *p = sqlite3_column_blob(st, col);
	int n = sqlite3_column_bytes(st, col);
	json_t *j;
	char *s;

	if (n < 0 || (s = tk_b64url_encode(p, (size_t)n)) == NULL)
		return NULL;
	j = json_string(s);
	free(s);
	return j;
}

static json_t *
ballot_row(sqlite3_stmt *st)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:o, s:i, s:o, s:o, s:o, "
	    "s:o, s:o, s:o}",
	    "person", (const char *)sqlite3_column_text(st, 0),
	    "team", (const char *)sqlite3_column_text(st, 1),
	    "decision", sqlite3_column_int(st, 2) == TK_DECIDE_APPROVE ?
	    "approve" : "reject",
	    "at", (json_int_t)sqlite3_column_int64(st, 3),
	    "credential", b64_col(st, 4),
	    "alg", sqlite3_column_int(st, 5),
	    "cose_key", b64_col(st, 6),
	    "nonce", b64_col(st, 7),
	    "challenge", b64_col(st, 8),
	    "client_data", b64_col(st, 9),
	    "auth_data", b64_col(st, 10),
	    "sig", b64_col(st, 11));
}

static int
ballots_json(struct tk_approvals *ap, int64_t id, json_t *arr)
{
	sqlite3_stmt *st = NULL;
	json_t *b;
	int r, rc;

	if ((rc = tk_store_prepare(ap, "SELECT p.name, p.team, b.decision, "
	    "b.at, b.credential_id, c.alg, c.cose_key, ch.nonce, "
	    "b.challenge, b.client_data, b.auth_data, b.sig "
	    "FROM ballots b JOIN people p ON p.id = b.person_id "
	    "JOIN credentials c ON c.id = b.credential_id "
	    "JOIN challenges ch ON ch.challenge = b.challenge "
	    "WHERE b.request_id = ? ORDER BY b.id", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if ((b = ballot_row(st)) == NULL ||
		    json_array_append_new(arr, b) != 0) {
			sqlite3_finalize(st);
			return TK_APR_ERR_NOMEM;
		}
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? TK_APR_OK : TK_APR_ERR_DB;
}

static int
grant_json(struct tk_approvals *ap, int64_t id, json_t *o)
{
	struct tk_grant_info g;
	static const char *states[] = { "active", "expired", "revoked" };
	int rc;

	if ((rc = tk_approvals_grant_get(ap, id, &g)) == TK_APR_ERR_NOT_FOUND)
		return TK_APR_OK;
	if (rc != 0)
		return rc;
	rc = json_object_set_new(o, "grant", json_pack("{s:s, s:s, s:s, "
	    "s:I, s:I, s:I}", "jti", g.jti, "jwt", g.jwt, "state",
	    states[g.state], "issued", (json_int_t)g.issued, "expires",
	    (json_int_t)g.expires, "revoked", (json_int_t)g.revoked)) == 0 ?
	    TK_APR_OK : TK_APR_ERR_NOMEM;
	tk_grant_info_clear(&g);
	return rc;
}

int
tk_approvals_evidence(struct tk_approvals *ap, int64_t request_id,
    char **out)
{
	static const char *states[] = { "pending", "granted", "rejected",
	    "expired", "stale" };
	struct tk_request_info info;
	json_t *o = NULL, *arr = NULL;
	char *digest = NULL;
	int rc;

	*out = NULL;
	if ((rc = tk_approvals_request_get(ap, request_id, &info)) != 0)
		return rc;
	rc = TK_APR_ERR_NOMEM;
	if ((digest = tk_b64url_encode(info.digest, TK_DIGEST_LEN)) == NULL ||
	    (arr = json_array()) == NULL ||
	    (o = json_pack("{s:I, s:s, s:s, s:s, s:O}", "id",
	    (json_int_t)info.id, "request", info.canonical, "digest", digest,
	    "state", states[info.state], "ballots", arr)) == NULL)
		goto out;
	if ((rc = ballots_json(ap, request_id, arr)) != 0 ||
	    (rc = grant_json(ap, request_id, o)) != 0)
		goto out;
	rc = TK_APR_ERR_NOMEM;
	if ((*out = tk_json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		goto out;
	rc = TK_APR_OK;
out:
	json_decref(arr);
	json_decref(o);
	free(digest);
	tk_request_info_clear(&info);
	return rc;
}
