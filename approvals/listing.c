/*
 * What people deciding on a request need to see before they sign it, and
 * the list of grants, read from the store as JSON for the web layer. The
 * assertions themselves stay in the evidence (evidence.c); here only who
 * voted, how and when.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "internal.h"
#include "inventory_int.h"

static int
votes_json(struct tk_approvals *ap, int64_t id, json_t *arr)
{
	sqlite3_stmt *st = NULL;
	json_t *v;
	int r, rc;

	if ((rc = tk_store_prepare(ap, "SELECT p.name, p.team, b.decision, "
	    "b.at FROM ballots b JOIN people p ON p.id = b.person_id "
	    "WHERE b.request_id = ? ORDER BY b.id", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		v = json_pack("{s:s, s:s, s:s, s:I}",
		    "person", (const char *)sqlite3_column_text(st, 0),
		    "team", (const char *)sqlite3_column_text(st, 1),
		    "decision", sqlite3_column_int(st, 2) ==
		    TK_DECIDE_APPROVE ? "approve" : "reject",
		    "at", (json_int_t)sqlite3_column_int64(st, 3));
		if (v == NULL || json_array_append_new(arr, v) != 0) {
			sqlite3_finalize(st);
			return TK_APR_ERR_NOMEM;
		}
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? TK_APR_OK : TK_APR_ERR_DB;
}

/* The policy's template for the request's connector, or JSON null. */
static json_t *
template_json(const struct tk_policy *p, const char *canonical)
{
	json_t *req, *arr;
	const char *conn;
	size_t i, k;

	req = json_loads(canonical, 0, NULL);
	conn = json_string_value(json_object_get(req, "connector"));
	if (conn == NULL && json_object_get(req, "incident") != NULL)
		conn = "break-glass";
	for (i = 0; conn != NULL && i < p->ntemplates; i++) {
		if (strcmp(p->templates[i].connector, conn) != 0)
			continue;
		if ((arr = json_array()) == NULL)
			break;
		for (k = 0; k < p->templates[i].nscopes; k++)
			json_array_append_new(arr, json_string(
			    p->templates[i].scopes[k]));
		json_decref(req);
		return arr;
	}
	json_decref(req);
	return json_null();
}

int
tk_approvals_request_view(struct tk_approvals *ap, int64_t request_id,
    char **out)
{
	struct tk_request_info info;
	struct tk_person who;
	json_t *o = NULL, *votes = NULL;
	int rc;

	*out = NULL;
	memset(&info, 0, sizeof(info));
	if ((rc = tk_approvals_request_get(ap, request_id, &info)) != 0 ||
	    (rc = tk_store_person_get(ap, info.requester, &who)) != 0)
		goto out;
	rc = TK_APR_ERR_NOMEM;
	/* Approvers weigh a proposal by someone suspended since. */
	if ((votes = json_array()) == NULL ||
	    (o = json_pack("{s:s, s:s, s:s, s:O, s:o}", "requester_name",
	    who.name, "requester_team", who.team, "requester_state",
	    tk_inv_state_name(&who), "votes", votes, "template",
	    template_json(ap->policy, info.canonical))) == NULL)
		goto out;
	if ((rc = votes_json(ap, request_id, votes)) != 0)
		goto out;
	rc = TK_APR_ERR_NOMEM;
	if ((*out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) != NULL)
		rc = TK_APR_OK;
out:
	json_decref(votes);
	json_decref(o);
	tk_request_info_clear(&info);
	return rc;
}

static json_t *
grant_row(sqlite3_stmt *st, int64_t now)
{
	int64_t expires = sqlite3_column_int64(st, 4);
	int64_t revoked = sqlite3_column_int64(st, 5);

	return json_pack("{s:s, s:I, s:s, s:s, s:I, s:I, s:I, s:s, s:I, "
	    "s:I}",
	    "jti", (const char *)sqlite3_column_text(st, 0),
	    "request_id", (json_int_t)sqlite3_column_int64(st, 1),
	    "kind", sqlite3_column_int(st, 2) == TK_REQ_BREAKGLASS ?
	    "break-glass" : "elevation",
	    "requester", (const char *)sqlite3_column_text(st, 6),
	    "issued", (json_int_t)sqlite3_column_int64(st, 3),
	    "expires", (json_int_t)expires,
	    "revoked", (json_int_t)revoked,
	    "state", revoked != 0 ? "revoked" : now >= expires ? "expired" :
	    "active",
	    "review_due", (json_int_t)sqlite3_column_int64(st, 7),
	    "review_filed", (json_int_t)sqlite3_column_int64(st, 8));
}

int
tk_approvals_grants_list(struct tk_approvals *ap, size_t max, char **out)
{
	sqlite3_stmt *st = NULL;
	int64_t now = tk_apr_now(ap);
	json_t *arr, *g;
	int r = SQLITE_DONE, rc;

	*out = NULL;
	if ((arr = json_array()) == NULL)
		return TK_APR_ERR_NOMEM;
	if ((rc = tk_store_prepare(ap, "SELECT g.jti, g.request_id, g.kind, "
	    "g.issued, g.expires, g.revoked, p.name, "
	    "COALESCE(rv.due, 0), COALESCE(rv.filed, 0) FROM grants g "
	    "JOIN requests q ON q.id = g.request_id "
	    "JOIN people p ON p.id = q.requester_id "
	    "LEFT JOIN reviews rv ON rv.request_id = g.request_id "
	    "ORDER BY g.issued DESC, g.request_id DESC LIMIT ?", &st)) != 0)
		goto out;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
	rc = TK_APR_ERR_NOMEM;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		if ((g = grant_row(st, now)) == NULL ||
		    json_array_append_new(arr, g) != 0)
			goto out;
	rc = r == SQLITE_DONE ? TK_APR_ERR_NOMEM : TK_APR_ERR_DB;
	if (r == SQLITE_DONE && (*out = json_dumps(arr, JSON_COMPACT)) !=
	    NULL)
		rc = TK_APR_OK;
out:
	sqlite3_finalize(st);
	json_decref(arr);
	return rc;
}
