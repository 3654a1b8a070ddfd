/*
 * The inventory's journaled operations (import, rotation and use events)
 * and its read-outs (export, report).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/sha.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/inventory.h"
#include "twokey/journal.h"
#include "internal.h"
#include "inventory_int.h"

static int
apr_to_inv(int rc)
{
	switch (rc) {
	case TK_APR_OK:
		return TK_INV_OK;
	case TK_APR_ERR_NOMEM:
		return TK_INV_ERR_NOMEM;
	case TK_APR_ERR_JOURNAL:
		return TK_INV_ERR_JOURNAL;
	default:
		return TK_INV_ERR_DB;
	}
}

/*
 * Journals a refusal (outside any transaction) with the problems' rows
 * and fields but not their messages, which may quote the input.
 */
int
tk_inv_refuse(struct tk_approvals *ap, const char *actor,
    const char *action, const char *obj, int err, const json_t *problems)
{
	json_t *where = json_array(), *v;
	char name[64];
	size_t i;

	tk_store_rollback(ap);
	if (err == TK_INV_ERR_DB || err == TK_INV_ERR_NOMEM)
		goto out;
	json_array_foreach(problems, i, v)
		if (i < 100)
			(void)json_array_append_new(where, json_pack(
			    "{s:O,s:O}", "row", json_object_get(v, "row"),
			    "field", json_object_get(v, "field")));
	(void)snprintf(name, sizeof(name), "%s.refused", action);
	if (tk_apr_record(ap, tk_apr_check_text(actor, TK_NAME_MAX) == 0 ?
	    actor : "-", name, obj, json_pack("{s:i,s:s,s:I,s:O}", "code",
	    err, "error", tk_inv_strerror(err), "problems",
	    (json_int_t)json_array_size(problems), "where", where)) != 0)
		err = TK_INV_ERR_JOURNAL;
out:
	json_decref(where);
	return err;
}

static json_t *
change_details(const char *change, json_t *before, json_t *after,
    json_t *fields)
{
	json_t *d = json_pack("{s:s}", "change", change);

	if (d == NULL)
		return NULL;
	if (before != NULL)
		(void)json_object_set(d, "before", before);
	if (after != NULL)
		(void)json_object_set(d, "after", after);
	if (fields != NULL)
		(void)json_object_set(d, "fields", fields);
	return d;
}

/* One entry per account changed, then the summary, in one batch. */
static int
journal_import(struct tk_approvals *ap, const char *actor, json_t *diff,
    json_t *summary)
{
	static const char *kinds[] = { "removed", "changed", "added" };
	struct tk_journal_entry *e = NULL;
	char (*obj)[80] = NULL;
	json_t **det = NULL, *v;
	size_t n, k, i, m = 0;
	int rc = TK_INV_ERR_NOMEM;

	n = json_array_size(json_object_get(diff, "added")) +
	    json_array_size(json_object_get(diff, "changed")) +
	    json_array_size(json_object_get(diff, "removed")) + 1;
	if ((e = calloc(n, sizeof(*e))) == NULL ||
	    (obj = calloc(n, sizeof(*obj))) == NULL ||
	    (det = calloc(n, sizeof(*det))) == NULL)
		goto out;
	for (k = 0; k < 3; k++)
		json_array_foreach(json_object_get(diff, kinds[k]), i, v) {
			det[m] = change_details(kinds[k], k == 1 ?
			    json_object_get(v, "before") : k == 0 ? v : NULL,
			    k == 1 ? json_object_get(v, "after") : k == 2 ? v :
			    NULL, json_object_get(v, "fields"));
			(void)snprintf(obj[m], sizeof(obj[m]), "inventory/%s",
			    json_string_value(json_object_get(k == 1 ?
			    json_object_get(v, "before") : v, "id")));
			e[m].action = "inventory.account";
			m++;
		}
	det[m] = json_incref(summary);
	(void)snprintf(obj[m], sizeof(obj[m]), "inventory");
	e[m++].action = "inventory.import";
	for (i = 0; i < m; i++) {
		if (det[i] == NULL)
			goto out;
		e[i].actor = actor;
		e[i].object = obj[i];
		e[i].details = det[i];
	}
	rc = tk_journal_append_many(ap->journal, e, m, NULL, NULL) == 0 ?
	    TK_INV_OK : TK_INV_ERR_JOURNAL;
out:
	for (i = 0; det != NULL && i < n; i++)
		json_decref(det[i]);
	free(det);
	free(obj);
	free(e);
	return rc;
}

static json_t *
import_summary(const char *doc, size_t len, enum tk_inv_format fmt,
    json_t *diff)
{
	uint8_t md[SHA256_DIGEST_LENGTH];
	char hex[2 * SHA256_DIGEST_LENGTH + 1];

	(void)SHA256((const unsigned char *)doc, len, md);
	tk_hex_encode(md, sizeof(md), hex);
	return json_pack("{s:s,s:s,s:I,s:I,s:I}", "format",
	    fmt == TK_INV_CSV ? "csv" : "json", "sha256", hex,
	    "added", (json_int_t)json_array_size(json_object_get(diff,
	    "added")), "changed", (json_int_t)json_array_size(
	    json_object_get(diff, "changed")), "removed",
	    (json_int_t)json_array_size(json_object_get(diff, "removed")));
}

int
tk_inventory_import(struct tk_approvals *ap, const char *actor,
    const char *doc, size_t len, enum tk_inv_format fmt, json_t **diffp,
    json_t *problems)
{
	json_t *diff = NULL, *sum = NULL;
	int rc;

	if (diffp != NULL)
		*diffp = NULL;
	if (tk_apr_check_text(actor, TK_NAME_MAX) != 0 ||
	    (fmt != TK_INV_JSON && fmt != TK_INV_CSV))
		return tk_inv_refuse(ap, actor, "inventory.import", "inventory",
		    TK_INV_ERR_INVALID, problems);
	if (tk_store_begin(ap) != 0)
		return TK_INV_ERR_DB;
	if ((rc = tk_inventory_plan(ap, doc, len, fmt, &diff, problems)) !=
	    0)
		goto fail;
	/* One admin never binds an account or moves its credential. */
	if (json_array_size(json_object_get(diff, "governed")) > 0) {
		rc = TK_INV_ERR_GOVERNED;
		goto fail;
	}
	if ((rc = tk_inventory_apply(ap, diff)) != 0)
		goto fail;
	rc = TK_INV_ERR_NOMEM;
	if ((sum = import_summary(doc, len, fmt, diff)) == NULL)
		goto fail;
	if ((rc = journal_import(ap, actor, diff, sum)) != 0 ||
	    (rc = apr_to_inv(tk_store_commit(ap))) != 0)
		goto fail;
	json_decref(sum);
	if (diffp != NULL)
		*diffp = diff;
	else
		json_decref(diff);
	return TK_INV_OK;
fail:
	json_decref(sum);
	if (rc == TK_INV_ERR_GOVERNED && diffp != NULL)
		*diffp = diff;
	else
		json_decref(diff);
	return tk_inv_refuse(ap, actor, "inventory.import", "inventory", rc,
	    problems);
}

int
tk_inventory_export(struct tk_approvals *ap, enum tk_inv_format fmt,
    char **out, size_t *len)
{
	struct tk_inv_set s;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = tk_inventory_load(ap, &s)) != 0)
		return rc;
	rc = tk_inventory_format(&s, fmt, out, len);
	tk_inv_set_clear(&s);
	return rc;
}
