/*
 * Changing the inventory: a document becomes a plan (the diff against
 * the store, validated as a whole), a plan is applied inside a
 * transaction, and an import does both and journals the diff. Split so
 * that a governed-change mechanism can show the plan to approvers and
 * apply it only once they agree.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/inventory.h"
#include "twokey/journal.h"
#include "internal.h"
#include "inventory_int.h"

/* Fields whose change binds an account or moves its credential. */
static const char *governed_fields[] = { "connector", "scenario",
    "credential_ref" };
#define NGOVERNED (sizeof(governed_fields) / sizeof(governed_fields[0]))

static void
owners_check(struct tk_approvals *ap, const struct tk_inv_set *s,
    json_t *problems, int *rc)
{
	enum tk_person_state state;
	int64_t id;
	size_t i;
	int r;

	for (i = 0; i < s->n; i++) {
		if (s->a[i].owner[0] == '\0')
			continue;
		r = tk_inv_store_owner(ap, s->a[i].owner, &id, &state);
		if (r == TK_INV_ERR_NOT_FOUND)
			tk_inv_problem(problems, s->rows[i], "owner", "no such "
			    "person");
		else if (r != 0)
			*rc = r;
		else if (state == TK_PERSON_LEFT)
			tk_inv_problem(problems, s->rows[i], "owner", "this "
			    "person has left; name an active owner");
	}
}

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(((const struct tk_inv_account *)a)->id,
	    ((const struct tk_inv_account *)b)->id);
}

static void
governed_add(json_t *gov, const char *field)
{
	json_t *v;
	size_t i;

	json_array_foreach(gov, i, v)
		if (strcmp(json_string_value(v), field) == 0)
			return;
	(void)json_array_append_new(gov, json_string(field));
}

/* The names of members that differ between two account objects. */
static json_t *
changed_fields(json_t *before, json_t *after)
{
	json_t *out = json_array();
	size_t i;
	const char *k;

	for (i = 0; out != NULL && i < tk_inv_ncolumns; i++) {
		k = tk_inv_columns[i].name;
		if (!json_equal(json_object_get(before, k),
		    json_object_get(after, k)) &&
		    (json_object_get(before, k) != NULL ||
		    json_object_get(after, k) != NULL))
			(void)json_array_append_new(out, json_string(k));
	}
	return out;
}

static int
diff_changed(json_t *diff, const struct tk_inv_account *cur,
    struct tk_inv_account *next)
{
	json_t *before, *after, *fields, *v;
	size_t i, k;

	if (next->last_rotation < cur->last_rotation)
		next->last_rotation = cur->last_rotation;
	if (next->last_use < cur->last_use)
		next->last_use = cur->last_use;
	before = tk_inventory_account_json(cur);
	after = tk_inventory_account_json(next);
	fields = changed_fields(before, after);
	if (before == NULL || after == NULL || fields == NULL) {
		json_decref(before);
		json_decref(after);
		json_decref(fields);
		return TK_INV_ERR_NOMEM;
	}
	json_array_foreach(fields, i, v)
		for (k = 0; k < NGOVERNED; k++)
			if (strcmp(json_string_value(v), governed_fields[k]) ==
			    0)
				governed_add(json_object_get(diff, "governed"),
				    governed_fields[k]);
	if (json_array_size(fields) == 0) {
		json_decref(before);
		json_decref(after);
		json_decref(fields);
		return TK_INV_OK;
	}
	return json_array_append_new(json_object_get(diff, "changed"),
	    json_pack("{s:s,s:o,s:o,s:o}", "id", cur->id, "fields", fields,
	    "before", before, "after", after)) == 0 ? TK_INV_OK :
	    TK_INV_ERR_NOMEM;
}

static void
diff_added(json_t *diff, const struct tk_inv_account *a)
{
	(void)json_array_append_new(json_object_get(diff, "added"),
	    tk_inventory_account_json(a));
	governed_add(json_object_get(diff, "governed"), "connector");
	if (a->scenario[0] != '\0')
		governed_add(json_object_get(diff, "governed"), "scenario");
	governed_add(json_object_get(diff, "governed"), "credential_ref");
}

/* cur and next sorted by id. */
static int
make_diff(const struct tk_inv_set *cur, struct tk_inv_set *next,
    json_t **out)
{
	json_t *diff;
	size_t i = 0, k = 0;
	int c, rc = TK_INV_OK;

	*out = NULL;
	if ((diff = json_pack("{s:[],s:[],s:[],s:[]}", "added", "changed",
	    "removed", "governed")) == NULL)
		return TK_INV_ERR_NOMEM;
	while (rc == 0 && (i < cur->n || k < next->n)) {
		c = i == cur->n ? 1 : k == next->n ? -1 :
		    strcmp(cur->a[i].id, next->a[k].id);
		if (c < 0)
			(void)json_array_append_new(json_object_get(diff,
			    "removed"), tk_inventory_account_json(
			    &cur->a[i++]));
		else if (c > 0)
			diff_added(diff, &next->a[k++]);
		else
			rc = diff_changed(diff, &cur->a[i++], &next->a[k++]);
	}
	if (rc != 0)
		json_decref(diff);
	else
		*out = diff;
	return rc;
}

int
tk_inventory_plan(struct tk_approvals *ap, const char *doc, size_t len,
    enum tk_inv_format fmt, json_t **diff, json_t *problems)
{
	struct tk_inv_set next, cur;
	size_t before = json_array_size(problems);
	int rc;

	*diff = NULL;
	memset(&cur, 0, sizeof(cur));
	rc = tk_inventory_parse(doc, len, fmt, &next, problems);
	if (rc == TK_INV_ERR_NOMEM || rc == TK_INV_ERR_TOOBIG)
		goto out;
	rc = TK_INV_OK;
	owners_check(ap, &next, problems, &rc);
	if (rc != 0)
		goto out;
	if (json_array_size(problems) > before) {
		rc = TK_INV_ERR_INVALID;
		goto out;
	}
	if ((rc = tk_inventory_load(ap, &cur)) != 0)
		goto out;
	qsort(next.a, next.n, sizeof(*next.a), cmp_id);
	rc = make_diff(&cur, &next, diff);
out:
	tk_inv_set_clear(&next);
	tk_inv_set_clear(&cur);
	return rc;
}

json_t *
tk_inv_config_json(const struct tk_inv_account *a)
{
	json_t *o = tk_inventory_account_json(a);

	if (o != NULL) {
		(void)json_object_del(o, "last_rotation");
		(void)json_object_del(o, "last_use");
	}
	return o;
}

/*
 * The stored account must still be configured as the plan saw it. Its
 * observations may have moved on: automation reports rotations and uses
 * at any time, and a plan waiting for its quorum must not go stale at
 * every use.
 */
static int
check_before(struct tk_approvals *ap, json_t *before)
{
	struct tk_inv_account cur;
	json_t *now, *then;
	const char *id = json_string_value(json_object_get(before, "id"));
	int rc;

	if (id == NULL)
		return TK_INV_ERR_INVALID;
	if ((rc = tk_inv_store_get(ap, id, &cur, NULL)) != 0)
		return rc == TK_INV_ERR_NOT_FOUND ? TK_INV_ERR_STALE : rc;
	now = tk_inv_config_json(&cur);
	then = json_deep_copy(before);
	rc = TK_INV_ERR_NOMEM;
	if (now != NULL && then != NULL) {
		(void)json_object_del(then, "last_rotation");
		(void)json_object_del(then, "last_use");
		rc = json_equal(now, then) ? TK_INV_OK : TK_INV_ERR_STALE;
	}
	json_decref(now);
	json_decref(then);
	return rc;
}

static int
put_after(struct tk_approvals *ap, json_t *after, int replace)
{
	struct tk_inv_account a;
	enum tk_person_state state;
	json_t *problems = json_array();
	int64_t owner;
	int rc = TK_INV_ERR_INVALID;

	if (problems == NULL)
		return TK_INV_ERR_NOMEM;
	if (tk_inv_account_from_json(after, 0, &a, problems) != 0)
		goto out;
	if ((rc = tk_inv_store_owner(ap, a.owner, &owner, &state)) != 0 ||
	    state == TK_PERSON_LEFT) {
		/* The owner left (or vanished) since the plan. */
		rc = rc == TK_INV_ERR_DB ? rc : TK_INV_ERR_STALE;
		goto out;
	}
	rc = tk_inv_store_put(ap, &a, owner, replace);
out:
	json_decref(problems);
	return rc;
}

int
tk_inventory_apply(struct tk_approvals *ap, const json_t *diff)
{
	json_t *v;
	size_t i;
	int rc = TK_INV_ERR_INVALID;

	if (!json_is_array(json_object_get(diff, "added")) ||
	    !json_is_array(json_object_get(diff, "changed")) ||
	    !json_is_array(json_object_get(diff, "removed")))
		return rc;
	json_array_foreach(json_object_get(diff, "removed"), i, v)
		if ((rc = check_before(ap, v)) != 0 ||
		    (rc = tk_inv_store_delete(ap, json_string_value(
		    json_object_get(v, "id")))) != 0)
			return rc;
	json_array_foreach(json_object_get(diff, "changed"), i, v) {
		if (!json_equal(json_object_get(json_object_get(v, "before"),
		    "id"), json_object_get(json_object_get(v, "after"), "id")))
			return TK_INV_ERR_INVALID;
		if ((rc = check_before(ap, json_object_get(v, "before"))) !=
		    0 || (rc = put_after(ap, json_object_get(v, "after"), 1))
		    != 0)
			return rc;
	}
	json_array_foreach(json_object_get(diff, "added"), i, v)
		if ((rc = put_after(ap, v, 0)) != 0)
			return rc;
	return TK_INV_OK;
}
