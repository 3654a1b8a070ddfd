/*
 * What evidence packs read from the store: the access list (people,
 * roles, credentials, last use), the requests filed in a period and the
 * grants issued in it with their state, TTL, revocation and review. Read
 * only; every figure is taken as of a time the caller gives, so that one
 * period read twice from the same store gives the same documents.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "internal.h"

static json_t *
roles_json(unsigned int roles)
{
	static const char *names[] = { "admin", "approver", "requester",
	    "commander", "auditor" };
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < sizeof(names) / sizeof(names[0]); i++)
		if ((roles & (1u << i)) != 0 &&
		    json_array_append_new(a, json_string(names[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
b64url_col(sqlite3_stmt *st, int col)
{
	char *s;
	json_t *j;

	s = tk_b64url_encode(sqlite3_column_blob(st, col),
	    (size_t)sqlite3_column_bytes(st, col));
	if (s == NULL)
		return NULL;
	j = json_string(s);
	free(s);
	return j;
}

static json_t *
hex_col(sqlite3_stmt *st, int col)
{
	char hex[2 * TK_AAGUID_LEN + 1];

	if (sqlite3_column_bytes(st, col) != TK_AAGUID_LEN)
		return json_string("");
	tk_hex_encode(sqlite3_column_blob(st, col), TK_AAGUID_LEN, hex);
	return json_string(hex);
}

/* The credentials of one person, oldest id first. */
static int
credentials_json(struct tk_approvals *ap, int64_t person, int64_t before,
    json_t *arr)
{
	sqlite3_stmt *st = NULL;
	json_t *c;
	int r, rc;

	if ((rc = tk_store_prepare(ap, "SELECT c.id, c.alg, c.aaguid, c.fmt,"
	    " c.sign_count, c.flags, (SELECT MAX(b.at) FROM ballots b"
	    " WHERE b.credential_id = c.id AND b.at < ?2)"
	    " FROM credentials c WHERE c.person_id = ?1 ORDER BY c.id",
	    &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, person);
	sqlite3_bind_int64(st, 2, before);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		c = json_pack("{s:o, s:i, s:o, s:s, s:I, s:b, s:b, s:I}",
		    "id", b64url_col(st, 0), "alg", sqlite3_column_int(st, 1),
		    "aaguid", hex_col(st, 2),
		    "fmt", (const char *)sqlite3_column_text(st, 3),
		    "sign_count", (json_int_t)sqlite3_column_int64(st, 4),
		    "cloned", (sqlite3_column_int64(st, 5) &
		    TK_CRED_CLONED) != 0,
		    "revoked", (sqlite3_column_int64(st, 5) &
		    TK_CRED_REVOKED) != 0,
		    "last_used", (json_int_t)sqlite3_column_int64(st, 6));
		if (c == NULL || json_array_append_new(arr, c) != 0) {
			sqlite3_finalize(st);
			return TK_APR_ERR_NOMEM;
		}
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? TK_APR_OK : TK_APR_ERR_DB;
}

int
tk_approvals_access_list(struct tk_approvals *ap, int64_t before,
    json_t **out)
{
	static const char *states[] = { "active", "suspended", "left" };
	sqlite3_stmt *st = NULL;
	json_t *people = NULL, *p, *creds;
	int r, rc, s;

	if (ap == NULL || out == NULL)
		return TK_APR_ERR_INVALID;
	*out = NULL;
	if ((people = json_array()) == NULL)
		return TK_APR_ERR_NOMEM;
	if ((rc = tk_store_prepare(ap, "SELECT id, name, team, roles, state"
	    " FROM people ORDER BY name", &st)) != 0)
		goto out;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		s = sqlite3_column_int(st, 4);
		rc = TK_APR_ERR_NOMEM;
		if ((creds = json_array()) == NULL ||
		    (p = json_pack("{s:I, s:s, s:s, s:o, s:s, s:o}",
		    "id", (json_int_t)sqlite3_column_int64(st, 0),
		    "name", (const char *)sqlite3_column_text(st, 1),
		    "team", (const char *)sqlite3_column_text(st, 2),
		    "roles", roles_json((unsigned int)sqlite3_column_int(st,
		    3)), "state", states[s >= 0 && s <= 2 ? s : 2],
		    "credentials", creds)) == NULL ||
		    json_array_append_new(people, p) != 0)
			goto out;
		if ((rc = credentials_json(ap, sqlite3_column_int64(st, 0),
		    before, creds)) != 0)
			goto out;
	}
	rc = r == SQLITE_DONE ? TK_APR_OK : TK_APR_ERR_DB;
	if (rc == 0 && (*out = json_pack("{s:O}", "people", people)) == NULL)
		rc = TK_APR_ERR_NOMEM;
out:
	sqlite3_finalize(st);
	json_decref(people);
	return rc;
}

int
tk_approvals_period_requests(struct tk_approvals *ap, int64_t from,
    int64_t to, int64_t **ids, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int64_t *v = NULL, *nv;
	size_t cap = 0;
	int r, rc;

	if (ap == NULL || ids == NULL || n == NULL || from > to)
		return TK_APR_ERR_INVALID;
	*ids = NULL;
	*n = 0;
	if ((rc = tk_store_prepare(ap, "SELECT id FROM requests WHERE"
	    " created >= ? AND created < ? ORDER BY id", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL) {
				free(v);
				sqlite3_finalize(st);
				*n = 0;
				return TK_APR_ERR_NOMEM;
			}
			v = nv;
		}
		v[(*n)++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		free(v);
		*n = 0;
		return TK_APR_ERR_DB;
	}
	*ids = v;
	return TK_APR_OK;
}

const char *
tk_grant_state_at(int64_t expires, int64_t revoked, int64_t at)
{
	if (revoked != 0 && revoked <= at)
		return "revoked";
	return expires <= at ? "expired" : "active";
}

/* The review of a break-glass grant as of at, or JSON null. */
static json_t *
review_json(sqlite3_stmt *st, int64_t at)
{
	int64_t due, filed;
	const char *status;

	if (sqlite3_column_type(st, 6) == SQLITE_NULL)
		return json_null();
	due = sqlite3_column_int64(st, 6);
	filed = sqlite3_column_int64(st, 7);
	if (filed != 0 && filed <= at)
		status = "filed";
	else
		status = due <= at ? "overdue" : "due";
	return json_pack("{s:I, s:I, s:s}", "due", (json_int_t)due, "filed",
	    (json_int_t)(filed <= at ? filed : 0), "status", status);
}

static json_t *
grant_row(sqlite3_stmt *st, int64_t at)
{
	int64_t issued = sqlite3_column_int64(st, 3);
	int64_t expires = sqlite3_column_int64(st, 4);
	int64_t revoked = sqlite3_column_int64(st, 5);

	return json_pack("{s:s, s:I, s:s, s:I, s:I, s:I, s:s, s:I, s:o}",
	    "jti", (const char *)sqlite3_column_text(st, 0),
	    "request", (json_int_t)sqlite3_column_int64(st, 1),
	    "kind", sqlite3_column_int(st, 2) == TK_REQ_BREAKGLASS ?
	    "break-glass" : "elevation",
	    "issued", (json_int_t)issued, "expires", (json_int_t)expires,
	    "ttl", (json_int_t)(expires - issued),
	    "state", tk_grant_state_at(expires, revoked, at),
	    "revoked", (json_int_t)(revoked != 0 && revoked <= at ? revoked :
	    0), "review", review_json(st, at));
}

int
tk_approvals_period_grants(struct tk_approvals *ap, int64_t from,
    int64_t to, int64_t at, json_t **out)
{
	sqlite3_stmt *st = NULL;
	json_t *arr, *g;
	int r, rc;

	if (ap == NULL || out == NULL || from > to)
		return TK_APR_ERR_INVALID;
	*out = NULL;
	if ((arr = json_array()) == NULL)
		return TK_APR_ERR_NOMEM;
	if ((rc = tk_store_prepare(ap, "SELECT g.jti, g.request_id, g.kind,"
	    " g.issued, g.expires, g.revoked, v.due, v.filed FROM grants g"
	    " LEFT JOIN reviews v ON v.request_id = g.request_id"
	    " WHERE g.issued >= ? AND g.issued < ? ORDER BY g.issued, g.jti",
	    &st)) != 0)
		goto out;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	rc = TK_APR_ERR_NOMEM;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		if ((g = grant_row(st, at)) == NULL ||
		    json_array_append_new(arr, g) != 0)
			goto out;
	rc = r == SQLITE_DONE ? TK_APR_OK : TK_APR_ERR_DB;
	if (rc == 0 && (*out = json_pack("{s:O}", "grants", arr)) == NULL)
		rc = TK_APR_ERR_NOMEM;
out:
	sqlite3_finalize(st);
	json_decref(arr);
	return rc;
}

void
tk_approvals_settings(struct tk_approvals *ap,
    struct tk_approvals_settings *out)
{
	out->policy = ap->policy;
	out->rp_id = ap->rp_id;
	out->origin = ap->origin;
	out->require_uv = ap->require_uv;
}
