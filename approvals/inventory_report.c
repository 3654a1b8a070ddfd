/*
 * What automation reports about credentials (rotations, uses), and what
 * the inventory says to an auditor at a given time.
 *
 * Journaling of events: every rotation gets its own entry, because
 * rotation compliance is what auditors check. Uses can come in at the
 * rate the automation runs, and each journal entry waits for a signed
 * checkpoint, so uses are coalesced: the stored last_use always moves,
 * and an "inventory.used" entry is written when the account's previous
 * one is TK_INV_USE_JOURNAL_EVERY seconds old or more, carrying the
 * count of uses since (the ones stored without an entry, and this one).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/inventory.h"
#include "internal.h"
#include "inventory_int.h"

#define EVENT_SKEW 300		/* seconds an event may be ahead of us */

struct use_row {
	int64_t last_rotation, last_use, use_journaled, uses_since;
};

static int
event_row(struct tk_approvals *ap, const char *id, struct use_row *r)
{
	sqlite3_stmt *st = NULL;
	int s, rc = TK_INV_ERR_DB;

	if (tk_store_prepare(ap, "SELECT last_rotation, last_use, "
	    "use_journaled, uses_since FROM service_accounts WHERE id = ?",
	    &st) != 0)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((s = sqlite3_step(st)) == SQLITE_ROW) {
		r->last_rotation = sqlite3_column_int64(st, 0);
		r->last_use = sqlite3_column_int64(st, 1);
		r->use_journaled = sqlite3_column_int64(st, 2);
		r->uses_since = sqlite3_column_int64(st, 3);
		rc = TK_INV_OK;
	} else if (s == SQLITE_DONE)
		rc = TK_INV_ERR_NOT_FOUND;
	sqlite3_finalize(st);
	return rc;
}

static int
event_store(struct tk_approvals *ap, const char *id, const struct use_row *r)
{
	sqlite3_stmt *st = NULL;

	if (tk_store_prepare(ap, "UPDATE service_accounts SET "
	    "last_rotation = ?, last_use = ?, use_journaled = ?, "
	    "uses_since = ? WHERE id = ?", &st) != 0)
		return TK_INV_ERR_DB;
	sqlite3_bind_int64(st, 1, r->last_rotation);
	sqlite3_bind_int64(st, 2, r->last_use);
	sqlite3_bind_int64(st, 3, r->use_journaled);
	sqlite3_bind_int64(st, 4, r->uses_since);
	sqlite3_bind_text(st, 5, id, -1, SQLITE_STATIC);
	return tk_store_done(ap, st) == 0 ? TK_INV_OK : TK_INV_ERR_DB;
}

static int
event_refused(struct tk_approvals *ap, const char *actor, const char *obj,
    int err)
{
	tk_store_rollback(ap);
	if (err == TK_INV_ERR_DB || err == TK_INV_ERR_NOMEM)
		return err;
	if (tk_apr_record(ap, tk_apr_check_text(actor, TK_NAME_MAX) == 0 ?
	    actor : "-", "inventory.event.refused", obj, json_pack("{s:i,s:s}",
	    "code", err, "error", tk_inv_strerror(err))) != 0)
		return TK_INV_ERR_JOURNAL;
	return err;
}

/* The new state and, when an entry is due, its action and details. */
static const char *
event_apply(struct use_row *r, enum tk_inv_event ev, int64_t at,
    int64_t now, json_t **det)
{
	char t[21], prev[21] = "";

	*det = NULL;
	tk_inv_time_format(at, t);
	if (ev == TK_INV_EVENT_ROTATED) {
		if (r->last_rotation > 0)
			tk_inv_time_format(r->last_rotation, prev);
		if (at > r->last_rotation)
			r->last_rotation = at;
		*det = json_pack("{s:s,s:s}", "at", t, "previous", prev);
		return "inventory.rotated";
	}
	if (at > r->last_use)
		r->last_use = at;
	r->uses_since++;
	if (r->use_journaled > 0 &&
	    now - r->use_journaled < TK_INV_USE_JOURNAL_EVERY)
		return NULL;
	*det = json_pack("{s:s,s:I}", "at", t, "uses",
	    (json_int_t)r->uses_since);
	r->use_journaled = now;
	r->uses_since = 0;
	return "inventory.used";
}

int
tk_inventory_event(struct tk_approvals *ap, const char *actor,
    const char *id, enum tk_inv_event ev, int64_t at)
{
	struct use_row r;
	const char *action;
	char obj[96] = "inventory";
	int64_t now = tk_apr_now(ap);
	json_t *det = NULL;
	int rc;

	if (id != NULL && tk_inv_id_ok(id))
		(void)snprintf(obj, sizeof(obj), "inventory/%s", id);
	if (at == 0)
		at = now;
	if (tk_apr_check_text(actor, TK_NAME_MAX) != 0 || id == NULL ||
	    !tk_inv_id_ok(id) || (ev != TK_INV_EVENT_ROTATED &&
	    ev != TK_INV_EVENT_USED) || at < 0 || at > now + EVENT_SKEW)
		return event_refused(ap, actor, obj, TK_INV_ERR_INVALID);
	if (tk_store_begin(ap) != 0)
		return TK_INV_ERR_DB;
	if ((rc = event_row(ap, id, &r)) != 0)
		return event_refused(ap, actor, obj, rc);
	action = event_apply(&r, ev, at, now, &det);
	if ((rc = event_store(ap, id, &r)) != 0) {
		json_decref(det);
		return event_refused(ap, actor, obj, rc);
	}
	if (action == NULL)
		rc = tk_store_commit(ap);
	else
		rc = tk_apr_commit_event(ap, actor, action, obj, det);
	if (rc != 0) {
		tk_store_rollback(ap);
		return rc == TK_APR_ERR_JOURNAL ? TK_INV_ERR_JOURNAL :
		    TK_INV_ERR_DB;
	}
	return TK_INV_OK;
}

/* One account as the report and the API show it. */
json_t *
tk_inv_account_report(const struct tk_inv_account *a,
    const struct tk_person *owner, const struct tk_policy *p, int64_t now,
    unsigned int *flagsp)
{
	unsigned int flags = tk_inventory_flags(a, owner, p, now);
	int64_t due = a->last_rotation > 0 ? a->last_rotation +
	    a->rotation_days * 86400 : 0;
	json_t *o = tk_inventory_account_json(a);
	char t[21];

	if (flagsp != NULL)
		*flagsp = flags;
	if (o == NULL)
		return NULL;
	(void)json_object_set_new(o, "flags", tk_inventory_flags_json(flags));
	(void)json_object_set_new(o, "owner_state", json_string(
	    tk_inv_state_name(owner)));
	if (due > 0) {
		tk_inv_time_format(due, t);
		(void)json_object_set_new(o, "rotation_due", json_string(t));
	}
	(void)json_object_set_new(o, "rotation_overdue_days", json_integer(
	    due > 0 && now > due ? (now - due) / 86400 : 0));
	return o;
}

static void
count(json_t *sum, const char *key)
{
	json_t *v = json_object_get(sum, key);

	(void)json_integer_set(v, json_integer_value(v) + 1);
}

static void
summarise(json_t *sum, const struct tk_inv_account *a, unsigned int flags)
{
	size_t i;

	count(sum, "accounts");
	if (flags != 0)
		count(sum, "flagged");
	if (a->last_rotation <= 0)
		count(sum, "never_rotated");
	if (flags & TK_INV_FLAG_ROTATION_OVERDUE)
		count(sum, "rotation_overdue");
	else
		count(sum, "rotation_compliant");
	for (i = 0; i < TK_INV_NFLAGS; i++)
		if ((flags & (1u << i)) && i != 1)
			count(sum, tk_inv_flag_names[i]);
}

int
tk_inventory_report(struct tk_approvals *ap, time_t now, json_t **out)
{
	struct tk_inv_set s;
	json_t *r = NULL, *accts, *sum, *o;
	unsigned int flags;
	char t[21];
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = tk_inventory_load(ap, &s)) != 0)
		return rc;
	rc = TK_INV_ERR_NOMEM;
	tk_inv_time_format((int64_t)now, t);
	if ((r = json_pack("{s:i,s:s,s:{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,"
	    "s:i},s:[]}", "v", 1, "at", t, "summary", "accounts", 0,
	    "flagged", 0, "rotation_compliant", 0, "rotation_overdue", 0,
	    "never_rotated", 0, "no_active_owner", 0,
	    "personal_in_production", 0, "scope_beyond_template", 0,
	    "blocked_scope", 0, "accounts")) == NULL)
		goto out;
	accts = json_object_get(r, "accounts");
	sum = json_object_get(r, "summary");
	for (i = 0; i < s.n; i++) {
		o = tk_inv_account_report(&s.a[i], &s.owners[i], ap->policy,
		    (int64_t)now, &flags);
		if (o == NULL || json_array_append_new(accts, o) != 0)
			goto out;
		summarise(sum, &s.a[i], flags);
	}
	*out = r;
	r = NULL;
	rc = TK_INV_OK;
out:
	json_decref(r);
	tk_inv_set_clear(&s);
	return rc;
}

int
tk_inventory_show(struct tk_approvals *ap, const char *id, time_t now,
    json_t **out)
{
	struct tk_inv_account a;
	struct tk_person owner;
	int rc;

	*out = NULL;
	if ((rc = tk_inv_store_get(ap, id, &a, &owner)) != 0)
		return rc;
	*out = tk_inv_account_report(&a, &owner, ap->policy, (int64_t)now,
	    NULL);
	return *out != NULL ? TK_INV_OK : TK_INV_ERR_NOMEM;
}
