/*
 * Changing the approved policy: the governed change "policy.set" (any key
 * at all, through the quorum), the one immediate change that only
 * tightens (blocking a scope), and what the API, /metrics and the
 * evidence pack read about drift.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "twokey/approvals.h"
#include "twokey/changes.h"
#include "twokey/common.h"
#include "internal.h"

/* args {"policy": {key: value, ...}} over the approved policy, normalised. */
static int
merged_policy(struct tk_change_ctx *c, json_t *args, json_t **out)
{
	struct tk_policy *p = NULL;
	json_t *appr = NULL, *keys;
	char *t = NULL;
	int rc;

	*out = NULL;
	keys = json_object_get(args, "policy");
	if (!json_is_object(keys) || json_object_size(args) != 1 ||
	    json_object_size(keys) == 0) {
		(void)snprintf(c->why, sizeof(c->why), "policy.set takes "
		    "one argument, \"policy\": an object of the keys that "
		    "change");
		return TK_APR_ERR_INVALID;
	}
	if ((rc = tk_policy_store_approved(c->ap, &appr)) != 0)
		return rc;
	rc = TK_APR_ERR_NOMEM;
	if (json_object_update(appr, keys) != 0 ||
	    (t = json_dumps(appr, JSON_COMPACT)) == NULL)
		goto out;
	/* Loading validates it: a quorum below 2 is refused here too. */
	if ((rc = tk_policy_parse(t, strlen(t), &p, c->why,
	    sizeof(c->why))) != 0)
		goto out;
	rc = (*out = tk_policy_to_json(p)) == NULL ? TK_APR_ERR_NOMEM : 0;
out:
	tk_policy_free(&p);
	free(t);
	json_decref(appr);
	return rc;
}

static int
policy_before(struct tk_change_ctx *c, const char *target, json_t *after,
    json_t **before)
{
	json_t *appr = NULL, *v;
	const char *k;
	int rc;

	(void)target;
	if ((rc = tk_policy_store_approved(c->ap, &appr)) != 0)
		return rc;
	rc = TK_APR_ERR_NOMEM;
	if ((*before = json_object()) == NULL)
		goto out;
	json_object_foreach(after, k, v) {
		if ((v = json_object_get(appr, k)) == NULL ||
		    json_object_set(*before, k, v) != 0)
			goto out;
	}
	rc = TK_APR_OK;
out:
	json_decref(appr);
	return rc;
}

static int
policy_prepare(struct tk_change_ctx *c, json_t *args,
    char target[TK_CHANGE_TARGET_MAX], json_t **after)
{
	json_t *norm = NULL, *appr = NULL, *v;
	const char *k;
	int rc;

	*after = NULL;
	if ((rc = merged_policy(c, args, &norm)) != 0 ||
	    (rc = tk_policy_store_approved(c->ap, &appr)) != 0)
		goto out;
	rc = TK_APR_ERR_NOMEM;
	if ((*after = json_object()) == NULL)
		goto out;
	/* Exactly the keys that change. */
	json_object_foreach(norm, k, v)
		if (!json_equal(v, json_object_get(appr, k)) &&
		    json_object_set(*after, k, v) != 0)
			goto out;
	(void)snprintf(target, TK_CHANGE_TARGET_MAX, "policy");
	rc = json_object_size(*after) == 0 ? TK_APR_ERR_NO_CHANGE : 0;
out:
	json_decref(norm);
	json_decref(appr);
	return rc;
}

static int
policy_apply(struct tk_change_ctx *c, const char *target, json_t *after)
{
	json_t *appr = NULL;
	int rc;

	(void)target;
	if ((rc = tk_policy_store_approved(c->ap, &appr)) != 0)
		return rc;
	if (json_object_update(appr, after) != 0)
		rc = TK_APR_ERR_NOMEM;
	else if ((rc = tk_policy_store_put(c->ap, appr, "governed change",
	    c->now)) == 0)
		rc = tk_policy_store_drift_check(c->ap, "approved change",
		    c->now);
	json_decref(appr);
	return rc;
}

const struct tk_change_type tk_change_policy_set = {
	"policy.set", TK_ROLE_ADMIN, policy_prepare, policy_before,
	policy_apply,
};

/* Adds scope to blocked[connector]; TK_APR_ERR_NO_CHANGE if there. */
static int
block_into(json_t *appr, const char *connector, const char *scope)
{
	json_t *blocked = json_object_get(appr, "blocked"), *list, *s;
	size_t i;

	if (!json_is_object(blocked))
		return TK_APR_ERR_DB;
	if ((list = json_object_get(blocked, connector)) == NULL) {
		if (json_object_set_new(blocked, connector,
		    json_array()) != 0)
			return TK_APR_ERR_NOMEM;
		list = json_object_get(blocked, connector);
	}
	json_array_foreach(list, i, s)
		if (strcmp(json_string_value(s), scope) == 0)
			return TK_APR_ERR_NO_CHANGE;
	return json_array_append_new(list, json_string(scope)) == 0 ?
	    TK_APR_OK : TK_APR_ERR_NOMEM;
}

static int
block_checked(struct tk_approvals *ap, const char *connector,
    const char *scope, int64_t now)
{
	struct tk_policy *p = NULL;
	json_t *appr = NULL, *norm = NULL;
	char *t = NULL;
	int rc;

	if ((rc = tk_policy_store_approved(ap, &appr)) != 0 ||
	    (rc = block_into(appr, connector, scope)) != 0)
		goto out;
	rc = TK_APR_ERR_NOMEM;
	if ((t = json_dumps(appr, JSON_COMPACT)) == NULL)
		goto out;
	if ((rc = tk_policy_from_json(t, strlen(t), &p)) != 0)
		goto out;
	rc = TK_APR_ERR_NOMEM;
	if ((norm = tk_policy_to_json(p)) == NULL)
		goto out;
	if ((rc = tk_policy_store_put(ap, norm, "immediate block",
	    now)) == 0)
		rc = tk_policy_store_drift_check(ap, "approved change", now);
out:
	tk_policy_free(&p);
	json_decref(norm);
	json_decref(appr);
	free(t);
	return rc;
}

int
tk_approvals_policy_block(struct tk_approvals *ap, int64_t actor_id,
    const char *connector, const char *scope)
{
	struct tk_person p;
	int64_t now = tk_apr_now(ap);
	int rc;

	memset(&p, 0, sizeof(p));
	if (connector == NULL || scope == NULL ||
	    (strcmp(connector, "*") != 0 && tk_apr_check_token(connector)) ||
	    tk_apr_check_token(scope) != 0)
		return tk_apr_refuse(ap, "-", "policy.block", "policy",
		    TK_APR_ERR_INVALID, NULL);
	if ((rc = tk_store_begin(ap)) != 0)
		return rc;
	if ((rc = tk_apr_actor_check(ap, actor_id, TK_ROLE_ADMIN, &p)) != 0 ||
	    (rc = block_checked(ap, connector, scope, now)) != 0) {
		tk_store_rollback(ap);
		if (rc == TK_APR_ERR_DB || rc == TK_APR_ERR_NOMEM)
			return rc;
		return tk_apr_refuse(ap, p.id != 0 ? p.name : "-",
		    "policy.block", "policy", rc, NULL);
	}
	if ((rc = tk_apr_commit_event(ap, p.name, "policy.block", "policy",
	    json_pack("{s:s,s:s}", "connector", connector, "scope",
	    scope))) != 0)
		return rc;
	return tk_policy_store_reload(ap);
}

/* Since when the current file/approved pair has differed (0: unknown). */
static int64_t
drift_since(struct tk_approvals *ap, const char *appr)
{
	sqlite3_stmt *st = NULL;
	int64_t at = 0;

	if (tk_store_prepare(ap, "SELECT at FROM policy_drift WHERE file = ? "
	    "AND approved = ? ORDER BY id DESC LIMIT 1", &st) != 0)
		return 0;
	sqlite3_bind_text(st, 1, ap->file_json, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, appr, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		at = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return at;
}

int
tk_approvals_policy_drift(struct tk_approvals *ap, int *active,
    int64_t *since)
{
	json_t *appr = NULL;
	char *t = NULL;
	int rc, behind = 0;

	*active = 0;
	*since = 0;
	if ((rc = tk_policy_store_approved(ap, &appr)) != 0 ||
	    (rc = tk_policy_store_file_behind(ap, &behind)) != 0) {
		json_decref(appr);
		return rc;
	}
	if ((t = json_dumps(appr, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		rc = TK_APR_ERR_NOMEM;
	else if (strcmp(t, ap->file_json) != 0 && !behind) {
		*active = 1;
		*since = drift_since(ap, t);
	}
	free(t);
	json_decref(appr);
	return rc;
}

static json_t *
drift_json(struct tk_approvals *ap, json_t *appr, json_t *file)
{
	json_t *d, *b = json_object(), *a = json_object(), *v, *w;
	const char *k;
	int active = 0;
	int64_t since = 0;

	if (tk_approvals_policy_drift(ap, &active, &since) != 0 ||
	    b == NULL || a == NULL) {
		json_decref(b);
		json_decref(a);
		return NULL;
	}
	json_object_foreach(file, k, v) {
		w = json_object_get(appr, k);
		if (w != NULL && json_equal(v, w))
			continue;
		if (w != NULL)
			(void)json_object_set(b, k, w);
		(void)json_object_set(a, k, v);
	}
	/* Differing, but only as an approved change left it: behind. */
	d = json_pack("{s:b,s:b,s:I,s:o,s:o}", "active", active, "behind",
	    !active && json_object_size(a) > 0, "since", (json_int_t)since,
	    "before", b, "after", a);
	return d;
}

int
tk_approvals_policy_json(struct tk_approvals *ap, char **out)
{
	json_t *appr = NULL, *file = NULL, *o = NULL;
	int rc;

	*out = NULL;
	if ((rc = tk_policy_store_approved(ap, &appr)) != 0)
		return rc;
	rc = TK_APR_ERR_NOMEM;
	if ((file = json_loads(ap->file_json, 0, NULL)) == NULL ||
	    (o = json_pack("{s:O,s:O,s:o}", "approved", appr, "file", file,
	    "drift", drift_json(ap, appr, file))) == NULL ||
	    (*out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		goto out;
	rc = TK_APR_OK;
out:
	json_decref(o);
	json_decref(file);
	json_decref(appr);
	return rc;
}

static json_t *
drift_row(sqlite3_stmt *st)
{
	json_t *b, *a;

	b = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL);
	a = json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL);
	return json_pack("{s:I,s:I,s:s,s:o*,s:o*}", "id",
	    (json_int_t)sqlite3_column_int64(st, 0), "at",
	    (json_int_t)sqlite3_column_int64(st, 1), "source",
	    (const char *)sqlite3_column_text(st, 2), "before", b, "after",
	    a);
}

int
tk_approvals_drift_events(struct tk_approvals *ap, int64_t from,
    int64_t to, char **out)
{
	sqlite3_stmt *st = NULL;
	json_t *arr = NULL;
	int r, rc;

	*out = NULL;
	if ((rc = tk_store_prepare(ap, "SELECT id, at, source, before, after "
	    "FROM policy_drift WHERE at >= ? AND at < ? ORDER BY id",
	    &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	rc = TK_APR_ERR_NOMEM;
	if ((arr = json_array()) == NULL)
		goto out;
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		if (json_array_append_new(arr, drift_row(st)) != 0)
			goto out;
	rc = TK_APR_ERR_DB;
	if (r != SQLITE_DONE)
		goto out;
	rc = (*out = json_dumps(arr, JSON_COMPACT | JSON_SORT_KEYS)) ==
	    NULL ? TK_APR_ERR_NOMEM : TK_APR_OK;
out:
	sqlite3_finalize(st);
	json_decref(arr);
	return rc;
}
