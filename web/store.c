/*
 * The web layer's own small store (state_dir/web.db): enrollment
 * invitations and API keys. Secrets are never stored: each row keeps the
 * SHA-256 of its secret, looked up by that hash. One connection, used
 * under its own lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "twokey/common.h"
#include "web_int.h"

/* A small page cache: see TK_SQLITE_CACHE in common.h. */
static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=FULL;"
    TK_SQLITE_CACHE
    "CREATE TABLE IF NOT EXISTS invitations("
    " hash BLOB PRIMARY KEY, name TEXT NOT NULL, team TEXT NOT NULL,"
    " roles INTEGER NOT NULL, inviter TEXT NOT NULL,"
    " expires INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0,"
    " bootstrap INTEGER NOT NULL DEFAULT 0,"
    " person INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS vote_reasons("
    " request INTEGER NOT NULL, person TEXT NOT NULL, reason TEXT NOT NULL,"
    " PRIMARY KEY(request, person));"
    "CREATE TABLE IF NOT EXISTS api_keys("
    " id TEXT PRIMARY KEY, hash BLOB NOT NULL UNIQUE, name TEXT NOT NULL,"
    " scopes INTEGER NOT NULL, creator TEXT NOT NULL,"
    " created INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);";

/* The columns a web.db made by an older twokeyd lacks, added in place. */
static const struct {
	const char *select, *alter;
} added_columns[] = {
	{ "SELECT bootstrap FROM invitations", "ALTER TABLE invitations "
	    "ADD COLUMN bootstrap INTEGER NOT NULL DEFAULT 0" },
	{ "SELECT person FROM invitations", "ALTER TABLE invitations "
	    "ADD COLUMN person INTEGER NOT NULL DEFAULT 0" },
};

static int
migrate(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc = SQLITE_OK;

	for (i = 0; rc == SQLITE_OK && i < sizeof(added_columns) /
	    sizeof(added_columns[0]); i++) {
		if (sqlite3_prepare_v2(db, added_columns[i].select, -1, &st,
		    NULL) == SQLITE_OK) {
			sqlite3_finalize(st);
			continue;
		}
		rc = sqlite3_exec(db, added_columns[i].alter, NULL, NULL,
		    NULL);
	}
	return rc;
}

int
web_store_open(struct tk_web *w, const char *dir)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/web.db", dir);
	if (sqlite3_open_v2(path, &w->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_exec(w->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    migrate(w->db) != SQLITE_OK || web_changes_schema(w) != 0) {
		tk_error("web store %s: %s", path, w->db != NULL ?
		    sqlite3_errmsg(w->db) : "cannot open");
		sqlite3_close(w->db);
		w->db = NULL;
		return -1;
	}
	return 0;
}

void
web_store_close(struct tk_web *w)
{
	sqlite3_close(w->db);
	w->db = NULL;
}

int
web_hash(const char *secret, uint8_t md[32])
{
	unsigned int len = 0;

	return EVP_Digest(secret, strlen(secret), md, &len, EVP_sha256(),
	    NULL) == 1 && len == 32 ? 0 : -1;
}

/* A fresh secret: prefix followed by base64url of 32 random bytes. */
int
web_new_secret(const char *prefix, char *out, size_t outlen)
{
	uint8_t raw[32];
	char *b;
	int n;

	if (RAND_bytes(raw, sizeof(raw)) != 1 ||
	    (b = tk_b64url_encode(raw, sizeof(raw))) == NULL)
		return -1;
	n = snprintf(out, outlen, "%s%s", prefix, b);
	OPENSSL_clear_free(b, strlen(b));
	OPENSSL_cleanse(raw, sizeof(raw));
	return n > 0 && (size_t)n < outlen ? 0 : -1;
}

int
web_invite_add(struct tk_web *w, const uint8_t hash[32],
    const struct invitation *inv)
{
	sqlite3_stmt *st = NULL;
	int r = -1;

	if (sqlite3_prepare_v2(w->db, "INSERT INTO invitations(hash, name, "
	    "team, roles, inviter, expires, bootstrap, person) "
	    "VALUES(?,?,?,?,?,?,?,?)", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_bind_text(st, 2, inv->name, -1, SQLITE_STATIC) ==
	    SQLITE_OK &&
	    sqlite3_bind_text(st, 3, inv->team, -1, SQLITE_STATIC) ==
	    SQLITE_OK &&
	    sqlite3_bind_int64(st, 4, inv->roles) == SQLITE_OK &&
	    sqlite3_bind_text(st, 5, inv->inviter, -1, SQLITE_STATIC) ==
	    SQLITE_OK &&
	    sqlite3_bind_int64(st, 6, (sqlite3_int64)inv->expires) ==
	    SQLITE_OK && sqlite3_bind_int(st, 7, inv->bootstrap != 0) ==
	    SQLITE_OK && sqlite3_bind_int64(st, 8, inv->person) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_DONE)
		r = 0;
	sqlite3_finalize(st);
	return r;
}

static void
copy_col(sqlite3_stmt *st, int col, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(out, len, "%s", t != NULL ? (const char *)t : "");
}

int
web_invite_get(struct tk_web *w, const uint8_t hash[32],
    struct invitation *inv)
{
	sqlite3_stmt *st = NULL;
	int r = -1;

	memset(inv, 0, sizeof(*inv));
	if (sqlite3_prepare_v2(w->db, "SELECT name, team, roles, inviter, "
	    "expires, bootstrap, person FROM invitations WHERE hash = ? AND "
	    "used = 0 AND expires > ?", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL)) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		copy_col(st, 0, inv->name, sizeof(inv->name));
		copy_col(st, 1, inv->team, sizeof(inv->team));
		inv->roles = (unsigned int)sqlite3_column_int64(st, 2);
		copy_col(st, 3, inv->inviter, sizeof(inv->inviter));
		inv->expires = (time_t)sqlite3_column_int64(st, 4);
		inv->bootstrap = sqlite3_column_int(st, 5) != 0;
		inv->person = sqlite3_column_int64(st, 6);
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

/* Why an invitation is not live: INVITE_USED and so on, or -1 unknown. */
int
web_invite_state(struct tk_web *w, const uint8_t hash[32])
{
	sqlite3_stmt *st = NULL;
	int r = -1;

	if (sqlite3_prepare_v2(w->db, "SELECT used, expires <= ? FROM "
	    "invitations WHERE hash = ?", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL)) ==
	    SQLITE_OK &&
	    sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		r = sqlite3_column_int(st, 0) == 0 && sqlite3_column_int(st,
		    1) != 0 ? INVITE_EXPIRED : sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return r;
}

/* Marks an invitation used; 0 only for the one caller that did so. */
int
web_invite_use(struct tk_web *w, const uint8_t hash[32])
{
	sqlite3_stmt *st = NULL;
	int r = -1;

	if (sqlite3_prepare_v2(w->db, "UPDATE invitations SET used = 1 "
	    "WHERE hash = ? AND used = 0 AND expires > ?", -1, &st, NULL) ==
	    SQLITE_OK &&
	    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)time(NULL)) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_DONE &&
	    sqlite3_changes(w->db) == 1)
		r = 0;
	sqlite3_finalize(st);
	return r;
}

/* Voids every unused bootstrap invitation (a newer bootstrap replaces). */
int
web_invite_void_bootstrap(struct tk_web *w)
{
	return sqlite3_exec(w->db, "UPDATE invitations SET used = 1 WHERE "
	    "bootstrap = 1 AND used = 0", NULL, NULL, NULL) == SQLITE_OK ?
	    0 : -1;
}

/*
 * A voter's reason for their vote on request, kept beside the journal's
 * vote.reason entry so that the request shows it. One vote per person
 * per request, so one reason.
 */
int
web_vote_reason_add(struct tk_web *w, int64_t request, const char *person,
    const char *reason)
{
	sqlite3_stmt *st = NULL;
	int r = -1;

	if (sqlite3_prepare_v2(w->db, "INSERT OR REPLACE INTO "
	    "vote_reasons(request, person, reason) VALUES(?,?,?)", -1, &st,
	    NULL) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 1, request) == SQLITE_OK &&
	    sqlite3_bind_text(st, 2, person, -1, SQLITE_STATIC) ==
	    SQLITE_OK &&
	    sqlite3_bind_text(st, 3, reason, -1, SQLITE_STATIC) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_DONE)
		r = 0;
	sqlite3_finalize(st);
	return r;
}

/* Adds "reason" to each vote in votes (a request's) that has one. */
void
web_vote_reasons_fill(struct tk_web *w, int64_t request, json_t *votes)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	json_t *v;
	size_t i;

	if (json_array_size(votes) == 0 || sqlite3_prepare_v2(w->db,
	    "SELECT reason FROM vote_reasons WHERE request = ? AND "
	    "person = ?", -1, &st, NULL) != SQLITE_OK)
		return;
	json_array_foreach(votes, i, v) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, request);
		sqlite3_bind_text(st, 2, json_string_value(json_object_get(v,
		    "person")), -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW &&
		    (t = sqlite3_column_text(st, 0)) != NULL)
			json_object_set_new(v, "reason",
			    json_string((const char *)t));
	}
	sqlite3_finalize(st);
}

/*
 * Voids the unused invitations that enroll name, in any case: a newer
 * one replaces them, so that one name has one live code.
 */
int
web_invite_void_name(struct tk_web *w, const char *name)
{
	sqlite3_stmt *st = NULL;
	int r = -1;

	if (sqlite3_prepare_v2(w->db, "UPDATE invitations SET used = "
	    INVITE_REPLACED_S " WHERE lower(name) = lower(?) AND person = 0 "
	    "AND used = 0", -1,
	    &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_DONE)
		r = 0;
	sqlite3_finalize(st);
	return r;
}

/* Voids the unused new-key invitations of person (a newer replaces). */
int
web_invite_void_person(struct tk_web *w, int64_t person)
{
	sqlite3_stmt *st = NULL;
	int r = -1;

	if (sqlite3_prepare_v2(w->db, "UPDATE invitations SET used = "
	    INVITE_REPLACED_S " WHERE person = ? AND used = 0", -1, &st,
	    NULL) == SQLITE_OK &&
	    sqlite3_bind_int64(st, 1, person) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_DONE)
		r = 0;
	sqlite3_finalize(st);
	return r;
}

int
web_apikey_add(struct tk_web *w, const struct apikey *k,
    const uint8_t hash[32])
{
	sqlite3_stmt *st = NULL;
	int r = -1;

	if (sqlite3_prepare_v2(w->db, "INSERT INTO api_keys(id, hash, name, "
	    "scopes, creator, created) VALUES(?,?,?,?,?,?)", -1, &st,
	    NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, k->id, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_bind_text(st, 3, k->name, -1, SQLITE_STATIC) ==
	    SQLITE_OK &&
	    sqlite3_bind_int64(st, 4, k->scopes) == SQLITE_OK &&
	    sqlite3_bind_text(st, 5, k->creator, -1, SQLITE_STATIC) ==
	    SQLITE_OK &&
	    sqlite3_bind_int64(st, 6, (sqlite3_int64)time(NULL)) ==
	    SQLITE_OK && sqlite3_step(st) == SQLITE_DONE)
		r = 0;
	sqlite3_finalize(st);
	return r;
}

int
web_apikey_find(struct tk_web *w, const uint8_t hash[32], struct apikey *k)
{
	sqlite3_stmt *st = NULL;
	int r = -1;

	memset(k, 0, sizeof(*k));
	if (sqlite3_prepare_v2(w->db, "SELECT id, name, scopes, creator FROM "
	    "api_keys WHERE hash = ? AND revoked = 0", -1, &st, NULL) ==
	    SQLITE_OK &&
	    sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		copy_col(st, 0, k->id, sizeof(k->id));
		copy_col(st, 1, k->name, sizeof(k->name));
		k->scopes = (unsigned int)sqlite3_column_int64(st, 2);
		copy_col(st, 3, k->creator, sizeof(k->creator));
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

json_t *
web_apikey_list(struct tk_web *w)
{
	sqlite3_stmt *st = NULL;
	json_t *list = json_array(), *o;

	if (list == NULL || sqlite3_prepare_v2(w->db, "SELECT id, name, "
	    "scopes, creator, created, revoked FROM api_keys ORDER BY "
	    "created, id", -1, &st, NULL) != SQLITE_OK) {
		json_decref(list);
		return NULL;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		o = json_pack("{s:s,s:s,s:o,s:s,s:I,s:b}", "id",
		    (const char *)sqlite3_column_text(st, 0), "name",
		    (const char *)sqlite3_column_text(st, 1), "scopes",
		    web_scopes_json((unsigned int)sqlite3_column_int64(st,
		    2)), "creator", (const char *)sqlite3_column_text(st, 3),
		    "created", (json_int_t)sqlite3_column_int64(st, 4),
		    "revoked", sqlite3_column_int(st, 5) != 0);
		json_array_append_new(list, o);
	}
	sqlite3_finalize(st);
	return list;
}

int
web_apikey_revoke(struct tk_web *w, const char *id)
{
	sqlite3_stmt *st = NULL;
	int r = -1;

	if (sqlite3_prepare_v2(w->db, "UPDATE api_keys SET revoked = 1 "
	    "WHERE id = ? AND revoked = 0", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_DONE && sqlite3_changes(w->db) == 1)
		r = 0;
	sqlite3_finalize(st);
	return r;
}
