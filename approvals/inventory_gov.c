/*
 * The inventory under the two-person rule. An import that binds an
 * account to a connector or a scenario, or moves where its credential
 * lives, is the governed change "inventory.import" (changes.h): its args
 * are the document in JSON form, its "after" the plan of that document
 * (the diff approvers sign), its "before" what the store holds now of
 * every account the diff touches, and the vote that reaches the quorum
 * applies the diff. Imports that touch no governed field go straight in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "twokey/approvals.h"
#include "twokey/changes.h"
#include "twokey/common.h"
#include "twokey/inventory.h"
#include "internal.h"
#include "inventory_int.h"

static int
inv_to_apr(int rc)
{
	switch (rc) {
	case TK_INV_OK:
		return TK_APR_OK;
	case TK_INV_ERR_NOMEM:
		return TK_APR_ERR_NOMEM;
	case TK_INV_ERR_INVALID:
	case TK_INV_ERR_TOOBIG:
		return TK_APR_ERR_INVALID;
	case TK_INV_ERR_STALE:
		return TK_APR_ERR_STALE;
	default:
		return TK_APR_ERR_DB;
	}
}

/*
 * The refusal in words for the journal: where the problems are (row and
 * field), not what they say, which may quote the document.
 */
static void
why_of(struct tk_change_ctx *c, const json_t *problems)
{
	size_t i, n = 0, cap = sizeof(c->why);
	const char *f;
	json_t *v;
	int k;

	k = snprintf(c->why, cap, "the document is refused (%zu problems):",
	    json_array_size(problems));
	json_array_foreach(problems, i, v) {
		if (k < 0 || (n += (size_t)k) >= cap)
			return;
		f = json_string_value(json_object_get(v, "field"));
		k = snprintf(c->why + n, cap - n, " row %lld %s;",
		    (long long)json_integer_value(json_object_get(v, "row")),
		    f != NULL && *f != '\0' ? f : "-");
	}
}

static size_t
touched(const json_t *diff)
{
	return json_array_size(json_object_get(diff, "added")) +
	    json_array_size(json_object_get(diff, "changed")) +
	    json_array_size(json_object_get(diff, "removed"));
}

static int
import_prepare(struct tk_change_ctx *c, json_t *args,
    char target[TK_CHANGE_TARGET_MAX], json_t **after)
{
	json_t *problems = json_array();
	char *doc = NULL;
	int rc = TK_APR_ERR_NOMEM;

	*after = NULL;
	if (problems == NULL || (doc = json_dumps(args, JSON_COMPACT)) ==
	    NULL)
		goto out;
	rc = tk_inventory_plan(c->ap, doc, strlen(doc), TK_INV_JSON, after,
	    problems);
	if (rc == TK_INV_ERR_INVALID || rc == TK_INV_ERR_TOOBIG)
		why_of(c, problems);
	if ((rc = inv_to_apr(rc)) != 0)
		goto out;
	(void)snprintf(target, TK_CHANGE_TARGET_MAX, "inventory");
	rc = touched(*after) == 0 ? TK_APR_ERR_NO_CHANGE : TK_APR_OK;
out:
	free(doc);
	json_decref(problems);
	return rc;
}

/* The stored configuration of account v["id"], if there is one. */
static int
add_stored(struct tk_approvals *ap, const json_t *v, json_t *accounts)
{
	struct tk_inv_account a;
	const char *id = json_string_value(json_object_get(v, "id"));
	int rc;

	if (id == NULL)
		return TK_APR_ERR_DB;
	if ((rc = tk_inv_store_get(ap, id, &a, NULL)) == TK_INV_ERR_NOT_FOUND)
		return TK_APR_OK;
	if (rc != 0)
		return inv_to_apr(rc);
	return json_array_append_new(accounts, tk_inv_config_json(&a)) == 0 ?
	    TK_APR_OK : TK_APR_ERR_NOMEM;
}

/* v's owner, into gone once, when that person left or is unknown. */
static int
add_gone(struct tk_approvals *ap, const json_t *v, json_t *gone)
{
	const char *owner = json_string_value(json_object_get(v, "owner"));
	enum tk_person_state state = TK_PERSON_ACTIVE;
	json_t *g;
	int64_t id;
	size_t i;
	int rc;

	if (owner == NULL)
		return TK_APR_ERR_DB;
	rc = tk_inv_store_owner(ap, owner, &id, &state);
	if (rc != 0 && rc != TK_INV_ERR_NOT_FOUND)
		return inv_to_apr(rc);
	if (rc == 0 && state != TK_PERSON_LEFT)
		return TK_APR_OK;
	json_array_foreach(gone, i, g)
		if (strcmp(json_string_value(g), owner) == 0)
			return TK_APR_OK;
	return json_array_append_new(gone, json_string(owner)) == 0 ?
	    TK_APR_OK : TK_APR_ERR_NOMEM;
}

/*
 * Everything applying the diff depends on: the accounts it touches as
 * configured now (absent when there is none), and the owners it names
 * who have left since ("departed_owners", only when there are any).
 */
static int
import_before(struct tk_change_ctx *c, const char *target, json_t *after,
    json_t **before)
{
	json_t *acc = json_array(), *gone = json_array(), *v;
	size_t i;
	int rc = TK_APR_ERR_NOMEM;

	(void)target;
	*before = NULL;
	if (acc == NULL || gone == NULL)
		goto out;
	rc = TK_APR_OK;
	json_array_foreach(json_object_get(after, "removed"), i, v)
		if (rc == 0)
			rc = add_stored(c->ap, v, acc);
	json_array_foreach(json_object_get(after, "changed"), i, v)
		if (rc == 0 && (rc = add_stored(c->ap, v, acc)) == 0)
			rc = add_gone(c->ap, json_object_get(v, "after"), gone);
	json_array_foreach(json_object_get(after, "added"), i, v)
		if (rc == 0 && (rc = add_stored(c->ap, v, acc)) == 0)
			rc = add_gone(c->ap, v, gone);
	if (rc != 0)
		goto out;
	rc = TK_APR_ERR_NOMEM;
	if ((*before = json_pack("{s:O}", "accounts", acc)) == NULL ||
	    (json_array_size(gone) > 0 && json_object_set(*before,
	    "departed_owners", gone) != 0))
		goto out;
	rc = TK_APR_OK;
out:
	json_decref(acc);
	json_decref(gone);
	return rc;
}

static int
import_apply(struct tk_change_ctx *c, const char *target, json_t *after)
{
	(void)target;
	return inv_to_apr(tk_inventory_apply(c->ap, after));
}

const struct tk_change_type tk_change_inventory_import = {
	"inventory.import", TK_ROLE_ADMIN, import_prepare, import_before,
	import_apply,
};

/* ---- proposing and submitting an admin's document ------------------ */

/* The document in its JSON form (CSV converted), as args. */
static int
doc_args(const struct tk_inv_submission *s, json_t **args)
{
	struct tk_inv_set set;
	json_t *problems = json_array();
	char *text = NULL;
	size_t len = 0;
	int rc = TK_INV_ERR_NOMEM;

	*args = NULL;
	memset(&set, 0, sizeof(set));
	if (problems == NULL)
		goto out;
	if ((rc = tk_inventory_parse(s->doc, s->len, s->fmt, &set,
	    problems)) != 0 || (rc = tk_inventory_format(&set, TK_INV_JSON,
	    &text, &len)) != 0)
		goto out;
	rc = (*args = json_loadb(text, len, 0, NULL)) == NULL ?
	    TK_INV_ERR_NOMEM : TK_INV_OK;
out:
	tk_inv_set_clear(&set);
	json_decref(problems);
	free(text);
	return rc;
}

/* The "after" of change id, as stored for the approvers. */
static int
stored_after(struct tk_approvals *ap, int64_t id, json_t **diff)
{
	struct tk_request_info info;
	json_t *root = NULL;
	int rc;

	memset(&info, 0, sizeof(info));
	if ((rc = tk_approvals_request_get(ap, id, &info)) != 0)
		return rc;
	rc = TK_APR_ERR_DB;
	if ((root = json_loads(info.canonical, 0, NULL)) != NULL &&
	    (*diff = json_incref(json_object_get(root, "after"))) != NULL)
		rc = TK_APR_OK;
	json_decref(root);
	tk_request_info_clear(&info);
	return rc;
}

static int
propose_args(struct tk_approvals *ap, const struct tk_inv_submission *s,
    json_t *args, int64_t *change_id)
{
	json_t *prop;
	char *text = NULL;
	int rc = TK_APR_ERR_NOMEM;

	/* A missing reason or ticket is the approvals layer's to refuse. */
	prop = json_pack("{s:s,s:s,s:s,s:O}", "type", "inventory.import",
	    "reason", s->reason != NULL ? s->reason : "", "ticket",
	    s->ticket != NULL ? s->ticket : "", "args", args);
	if (prop != NULL && (text = json_dumps(prop, JSON_COMPACT)) != NULL)
		rc = tk_approvals_propose(ap, s->person, text, strlen(text),
		    change_id, NULL, 0);
	free(text);
	json_decref(prop);
	return rc;
}

int
tk_inventory_propose(struct tk_approvals *ap,
    const struct tk_inv_submission *s, json_t **diffp, int64_t *change_id,
    json_t *problems)
{
	struct tk_person p;
	json_t *diff = NULL, *args = NULL;
	int rc;

	*change_id = 0;
	if (diffp != NULL)
		*diffp = NULL;
	memset(&p, 0, sizeof(p));
	if (tk_approvals_person_get(ap, s->person, &p) != 0)
		(void)snprintf(p.name, sizeof(p.name), "-");
	rc = TK_INV_ERR_INVALID;
	if ((s->fmt != TK_INV_JSON && s->fmt != TK_INV_CSV) ||
	    (rc = tk_inventory_plan(ap, s->doc, s->len, s->fmt, &diff,
	    problems)) != 0) {
		rc = tk_inv_refuse(ap, p.name, "inventory.propose",
		    "inventory", rc, problems);
		goto out;
	}
	if ((rc = doc_args(s, &args)) != 0 ||
	    (rc = propose_args(ap, s, args, change_id)) != 0)
		goto out;
	if (diffp != NULL && (rc = stored_after(ap, *change_id, diffp)) != 0)
		*change_id = 0;
out:
	json_decref(diff);
	json_decref(args);
	return rc;
}

/* Both reason and ticket or neither, each well formed. */
static int
why_given(const struct tk_inv_submission *s, json_t *problems)
{
	size_t before = json_array_size(problems);

	if ((s->reason == NULL) != (s->ticket == NULL))
		tk_inv_problem(problems, 0, s->reason == NULL ? "reason" :
		    "ticket", "give both a reason and a ticket, or neither");
	if (s->reason != NULL && tk_apr_check_text(s->reason,
	    TK_TEXT_MAX) != 0)
		tk_inv_problem(problems, 0, "reason", "must be 1 to %d bytes "
		    "of text without control characters", TK_TEXT_MAX);
	if (s->ticket != NULL && tk_apr_check_token(s->ticket) != 0)
		tk_inv_problem(problems, 0, "ticket", "must be 1 to %d of "
		    "A-Z a-z 0-9 . _ : / @ -", TK_TOKEN_MAX);
	return json_array_size(problems) == before;
}

int
tk_inventory_submit(struct tk_approvals *ap,
    const struct tk_inv_submission *s, json_t **diffp, int64_t *change_id,
    json_t *problems)
{
	struct tk_person p;
	json_t *diff = NULL;
	size_t governed;
	int rc;

	*change_id = 0;
	if (diffp != NULL)
		*diffp = NULL;
	if ((rc = tk_apr_actor_check(ap, s->person, TK_ROLE_ADMIN, &p)) != 0)
		return rc;
	if (!why_given(s, problems))
		return tk_inv_refuse(ap, p.name, "inventory.import",
		    "inventory", TK_INV_ERR_INVALID, problems);
	if (s->reason == NULL)
		return tk_inventory_import(ap, p.name, s->doc, s->len, s->fmt,
		    diffp, problems);
	if ((rc = tk_inventory_plan(ap, s->doc, s->len, s->fmt, &diff,
	    problems)) != 0)
		return tk_inv_refuse(ap, p.name, "inventory.import",
		    "inventory", rc, problems);
	governed = json_array_size(json_object_get(diff, "governed"));
	json_decref(diff);
	if (governed == 0)
		return tk_inventory_import(ap, p.name, s->doc, s->len, s->fmt,
		    diffp, problems);
	return tk_inventory_propose(ap, s, diffp, change_id, problems);
}
