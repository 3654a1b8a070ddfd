/*
 * The stored inventory: one row per service account in the approvals
 * store, its owner a person of that store, so that a leaver's accounts
 * and a change of owner are seen in the same transaction as the people.
 * Lists (systems, scopes) are kept as space-joined tokens, which never
 * hold a space.
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

/*
 * use_journaled: when a use was last journaled; uses_since: uses stored
 * since then without an entry of their own (coalesced, see
 * tk_inventory_event).
 */
static const char schema[] =
	"CREATE TABLE IF NOT EXISTS service_accounts("
	" id TEXT PRIMARY KEY,"
	" owner_id INTEGER NOT NULL REFERENCES people(id),"
	" purpose TEXT NOT NULL,"
	" systems TEXT NOT NULL,"
	" classification INTEGER NOT NULL,"
	" connector TEXT NOT NULL,"
	" scenario TEXT NOT NULL,"
	" scopes TEXT NOT NULL,"
	" credential_ref TEXT NOT NULL,"
	" credential_kind INTEGER NOT NULL,"
	" production INTEGER NOT NULL,"
	" rotation_days INTEGER NOT NULL,"
	" last_rotation INTEGER NOT NULL DEFAULT 0,"
	" last_use INTEGER NOT NULL DEFAULT 0,"
	" use_journaled INTEGER NOT NULL DEFAULT 0,"
	" uses_since INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS service_accounts_owner"
	" ON service_accounts(owner_id);";

int
tk_inv_store_schema(struct tk_approvals *ap)
{
	char *msg = NULL;

	if (sqlite3_exec(ap->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		tk_error("sqlite: %s", msg != NULL ? msg : "?");
		sqlite3_free(msg);
		return TK_APR_ERR_DB;
	}
	return TK_APR_OK;
}

#define ACCOUNT_COLS "s.id, p.name, s.purpose, s.systems, " \
	"s.classification, s.connector, s.scenario, s.scopes, " \
	"s.credential_ref, s.credential_kind, s.production, " \
	"s.rotation_days, s.last_rotation, s.last_use, p.id, p.team, " \
	"p.roles, p.state"
#define ACCOUNT_FROM " FROM service_accounts s JOIN people p" \
	" ON p.id = s.owner_id"

static void
col_text(sqlite3_stmt *st, int col, char *out, size_t cap)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	out[0] = '\0';
	if (s != NULL)
		(void)snprintf(out, cap, "%s", (const char *)s);
}

static void
col_list(sqlite3_stmt *st, int col, char (*l)[TK_INV_TOKEN_MAX + 1],
    size_t max, size_t *n)
{
	const char *s = (const char *)sqlite3_column_text(st, col), *sp;
	size_t len;

	*n = 0;
	if (s == NULL || *s == '\0')
		return;
	for (; *n < max; s = sp + 1) {
		sp = strchr(s, ' ');
		len = sp != NULL ? (size_t)(sp - s) : strlen(s);
		if (len > TK_INV_TOKEN_MAX)
			len = TK_INV_TOKEN_MAX;
		memcpy(l[*n], s, len);
		l[(*n)++][len] = '\0';
		if (sp == NULL)
			break;
	}
}

static void
account_from_row(sqlite3_stmt *st, struct tk_inv_account *a,
    struct tk_person *p)
{
	memset(a, 0, sizeof(*a));
	col_text(st, 0, a->id, sizeof(a->id));
	col_text(st, 1, a->owner, sizeof(a->owner));
	col_text(st, 2, a->purpose, sizeof(a->purpose));
	col_list(st, 3, a->systems, TK_INV_SYSTEMS_MAX, &a->nsystems);
	a->classification = (enum tk_inv_class)(sqlite3_column_int(st, 4) &
	    3);
	col_text(st, 5, a->connector, sizeof(a->connector));
	col_text(st, 6, a->scenario, sizeof(a->scenario));
	col_list(st, 7, a->scopes, TK_INV_SCOPES_MAX, &a->nscopes);
	col_text(st, 8, a->credential_ref, sizeof(a->credential_ref));
	a->credential_kind = (enum tk_inv_cred_kind)(sqlite3_column_int(st,
	    9) & 1);
	a->production = sqlite3_column_int(st, 10) != 0;
	a->rotation_days = sqlite3_column_int64(st, 11);
	a->last_rotation = sqlite3_column_int64(st, 12);
	a->last_use = sqlite3_column_int64(st, 13);
	if (p == NULL)
		return;
	memset(p, 0, sizeof(*p));
	p->id = sqlite3_column_int64(st, 14);
	col_text(st, 1, p->name, sizeof(p->name));
	col_text(st, 15, p->team, sizeof(p->team));
	p->roles = (unsigned int)sqlite3_column_int(st, 16);
	p->state = (enum tk_person_state)sqlite3_column_int(st, 17);
}

/* How many accounts are stored, at most TK_INV_ACCOUNTS_MAX. */
static int
stored_count(struct tk_approvals *ap, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int64_t v;
	int rc = TK_INV_ERR_DB;

	if (tk_store_prepare(ap, "SELECT COUNT(*) FROM service_accounts",
	    &st) != 0)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW) {
		v = sqlite3_column_int64(st, 0);
		*n = v < 0 ? 0 : v > TK_INV_ACCOUNTS_MAX ?
		    TK_INV_ACCOUNTS_MAX : (size_t)v;
		rc = TK_INV_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

int
tk_inventory_load(struct tk_approvals *ap, struct tk_inv_set *out)
{
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int r, rc;

	memset(out, 0, sizeof(*out));
	if ((rc = stored_count(ap, &cap)) != 0)
		return rc;
	cap++;		/* never zero; a row added since is left out */
	rc = TK_INV_ERR_NOMEM;
	if ((out->a = calloc(cap, sizeof(*out->a))) == NULL ||
	    (out->rows = calloc(cap, sizeof(*out->rows))) == NULL ||
	    (out->owners = calloc(cap, sizeof(*out->owners))) == NULL)
		goto out;
	rc = TK_INV_ERR_DB;
	if (tk_store_prepare(ap, "SELECT " ACCOUNT_COLS ACCOUNT_FROM
	    " ORDER BY s.id", &st) != 0)
		goto out;
	while ((r = sqlite3_step(st)) == SQLITE_ROW && out->n < cap) {
		account_from_row(st, &out->a[out->n], &out->owners[out->n]);
		out->n++;
	}
	if (r != SQLITE_DONE && r != SQLITE_ROW)
		goto out;
	rc = TK_INV_OK;
out:
	sqlite3_finalize(st);
	if (rc != 0)
		tk_inv_set_clear(out);
	return rc;
}

int
tk_inv_store_get(struct tk_approvals *ap, const char *id,
    struct tk_inv_account *out, struct tk_person *owner)
{
	sqlite3_stmt *st = NULL;
	int r, rc = TK_INV_ERR_DB;

	memset(out, 0, sizeof(*out));
	if (!tk_inv_id_ok(id))
		return TK_INV_ERR_NOT_FOUND;
	if (tk_store_prepare(ap, "SELECT " ACCOUNT_COLS ACCOUNT_FROM
	    " WHERE s.id = ?", &st) != 0)
		return rc;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((r = sqlite3_step(st)) == SQLITE_ROW) {
		account_from_row(st, out, owner);
		rc = TK_INV_OK;
	} else if (r == SQLITE_DONE)
		rc = TK_INV_ERR_NOT_FOUND;
	sqlite3_finalize(st);
	return rc;
}

int
tk_inventory_get(struct tk_approvals *ap, const char *id,
    struct tk_inv_account *out)
{
	return tk_inv_store_get(ap, id, out, NULL);
}

static char *
joined(const char (*l)[TK_INV_TOKEN_MAX + 1], size_t n)
{
	struct tk_inv_buf b;
	size_t i;

	memset(&b, 0, sizeof(b));
	tk_inv_buf_add(&b, "", 0);
	for (i = 0; i < n; i++) {
		if (i > 0)
			tk_inv_buf_add(&b, " ", 1);
		tk_inv_buf_add(&b, l[i], strlen(l[i]));
	}
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/*
 * Inserts a (replace: updates it) with its owner owner_id. An update
 * moves the observed times forward only.
 */
int
tk_inv_store_put(struct tk_approvals *ap, const struct tk_inv_account *a,
    int64_t owner_id, int replace)
{
	sqlite3_stmt *st = NULL;
	char *sys = NULL, *sc = NULL;
	int rc = TK_INV_ERR_NOMEM;

	if ((sys = joined(a->systems, a->nsystems)) == NULL ||
	    (sc = joined(a->scopes, a->nscopes)) == NULL)
		goto out;
	rc = TK_INV_ERR_DB;
	if (tk_store_prepare(ap, replace ? "UPDATE service_accounts SET "
	    "owner_id = ?2, purpose = ?3, systems = ?4, classification = ?5,"
	    " connector = ?6, scenario = ?7, scopes = ?8, credential_ref = ?9,"
	    " credential_kind = ?10, production = ?11, rotation_days = ?12,"
	    " last_rotation = MAX(last_rotation, ?13),"
	    " last_use = MAX(last_use, ?14) WHERE id = ?1" :
	    "INSERT INTO service_accounts(id, owner_id, purpose, systems, "
	    "classification, connector, scenario, scopes, credential_ref, "
	    "credential_kind, production, rotation_days, last_rotation, "
	    "last_use) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
	    " ?12, ?13, ?14)", &st) != 0)
		goto out;
	sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, owner_id);
	sqlite3_bind_text(st, 3, a->purpose, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, sys, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, (int)a->classification);
	sqlite3_bind_text(st, 6, a->connector, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, a->scenario, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, sc, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, a->credential_ref, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 10, (int)a->credential_kind);
	sqlite3_bind_int(st, 11, a->production != 0);
	sqlite3_bind_int64(st, 12, a->rotation_days);
	sqlite3_bind_int64(st, 13, a->last_rotation);
	sqlite3_bind_int64(st, 14, a->last_use);
	if ((rc = tk_store_done(ap, st)) == TK_APR_ERR_EXISTS)
		rc = TK_INV_ERR_STALE;
	else if (rc != 0)
		rc = TK_INV_ERR_DB;
	else
		rc = sqlite3_changes(ap->db) == 1 ? TK_INV_OK :
		    TK_INV_ERR_STALE;
out:
	free(sys);
	free(sc);
	return rc;
}

int
tk_inv_store_delete(struct tk_approvals *ap, const char *id)
{
	sqlite3_stmt *st = NULL;

	if (tk_store_prepare(ap, "DELETE FROM service_accounts WHERE id = ?",
	    &st) != 0)
		return TK_INV_ERR_DB;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (tk_store_done(ap, st) != 0)
		return TK_INV_ERR_DB;
	return sqlite3_changes(ap->db) == 1 ? TK_INV_OK : TK_INV_ERR_STALE;
}

/* The id and state of the person called name; NOT_FOUND if nobody. */
int
tk_inv_store_owner(struct tk_approvals *ap, const char *name, int64_t *id,
    enum tk_person_state *state)
{
	sqlite3_stmt *st = NULL;
	int r, rc = TK_INV_ERR_DB;

	if (tk_store_prepare(ap, "SELECT id, state FROM people WHERE name = ?",
	    &st) != 0)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if ((r = sqlite3_step(st)) == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*state = (enum tk_person_state)sqlite3_column_int(st, 1);
		rc = TK_INV_OK;
	} else if (r == SQLITE_DONE)
		rc = TK_INV_ERR_NOT_FOUND;
	sqlite3_finalize(st);
	return rc;
}

static const char *
state_name(enum tk_person_state s)
{
	return s == TK_PERSON_ACTIVE ? "active" : s == TK_PERSON_SUSPENDED ?
	    "suspended" : s == TK_PERSON_LEFT ? "left" : "unknown";
}

const char *
tk_inv_state_name(const struct tk_person *p)
{
	return p == NULL ? "unknown" : state_name(p->state);
}

int
tk_inventory_reassign(struct tk_approvals *ap, json_t **out)
{
	sqlite3_stmt *st = NULL;
	json_t *people = NULL, *cur = NULL;
	const char *name;
	int r, rc = TK_INV_ERR_DB;

	*out = NULL;
	if ((people = json_array()) == NULL)
		return TK_INV_ERR_NOMEM;
	if (tk_store_prepare(ap, "SELECT p.name, p.state, s.id"
	    ACCOUNT_FROM " WHERE p.state != 0 ORDER BY p.name, s.id",
	    &st) != 0)
		goto out;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(st, 0);
		if (cur == NULL || strcmp(name, json_string_value(
		    json_object_get(cur, "name"))) != 0) {
			cur = json_pack("{s:s,s:s,s:[]}", "name", name,
			    "state", state_name((enum tk_person_state)
			    sqlite3_column_int(st, 1)), "accounts");
			if (json_array_append_new(people, cur) != 0)
				goto out;
		}
		(void)json_array_append_new(json_object_get(cur, "accounts"),
		    json_string((const char *)sqlite3_column_text(st, 2)));
	}
	if (r != SQLITE_DONE)
		goto out;
	rc = (*out = json_pack("{s:O}", "people", people)) != NULL ?
	    TK_INV_OK : TK_INV_ERR_NOMEM;
out:
	sqlite3_finalize(st);
	json_decref(people);
	return rc;
}
