/*
 * The approvals store: SQLite in WAL mode, schema versioned through
 * PRAGMA user_version, every write inside a transaction that the caller
 * opens, so that a refusal rolls everything back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "internal.h"
#include "inventory_int.h"

#define SCHEMA_VERSION 1

static const char schema[] =
	"CREATE TABLE people("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" team TEXT NOT NULL,"
	" roles INTEGER NOT NULL,"
	" state INTEGER NOT NULL);"
	"CREATE TABLE credentials("
	" id BLOB PRIMARY KEY,"
	" person_id INTEGER NOT NULL REFERENCES people(id),"
	" alg INTEGER NOT NULL,"
	" cose_key BLOB NOT NULL,"
	" sign_count INTEGER NOT NULL,"
	" aaguid BLOB NOT NULL,"
	" fmt TEXT NOT NULL,"
	" backup_eligible INTEGER NOT NULL,"
	" backup_state INTEGER NOT NULL,"
	" uv_at_registration INTEGER NOT NULL,"
	" attestation_trusted INTEGER NOT NULL,"
	" flags INTEGER NOT NULL);"
	"CREATE TABLE requests("
	" id INTEGER PRIMARY KEY,"
	" kind INTEGER NOT NULL,"
	" requester_id INTEGER NOT NULL REFERENCES people(id),"
	" canonical TEXT NOT NULL,"
	" digest BLOB NOT NULL UNIQUE,"
	" state INTEGER NOT NULL,"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL);"
	"CREATE TABLE challenges("
	" challenge BLOB PRIMARY KEY,"
	" request_id INTEGER NOT NULL REFERENCES requests(id),"
	" person_id INTEGER NOT NULL REFERENCES people(id),"
	" decision INTEGER NOT NULL,"
	" nonce BLOB NOT NULL,"
	" issued INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" used INTEGER NOT NULL DEFAULT 0);"
	/* The assertion is kept so that evidence packs can re-verify it. */
	"CREATE TABLE ballots("
	" id INTEGER PRIMARY KEY,"
	" request_id INTEGER NOT NULL REFERENCES requests(id),"
	" person_id INTEGER NOT NULL REFERENCES people(id),"
	" credential_id BLOB NOT NULL REFERENCES credentials(id),"
	" decision INTEGER NOT NULL,"
	" at INTEGER NOT NULL,"
	" challenge BLOB NOT NULL UNIQUE REFERENCES challenges(challenge),"
	" client_data BLOB NOT NULL,"
	" auth_data BLOB NOT NULL,"
	" sig BLOB NOT NULL,"
	" UNIQUE(request_id, person_id));"
	"CREATE TABLE grants("
	" jti TEXT PRIMARY KEY,"
	" request_id INTEGER NOT NULL UNIQUE REFERENCES requests(id),"
	" kind INTEGER NOT NULL,"
	" issued INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" revoked INTEGER NOT NULL DEFAULT 0,"
	" jwt TEXT NOT NULL);"
	"CREATE TABLE reviews("
	" request_id INTEGER PRIMARY KEY REFERENCES requests(id),"
	" commander_id INTEGER NOT NULL REFERENCES people(id),"
	" due INTEGER NOT NULL,"
	" filed INTEGER NOT NULL DEFAULT 0,"
	" text TEXT);"
	"PRAGMA user_version = 1;";

static int
exec(struct tk_approvals *ap, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(ap->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		tk_error("sqlite: %s", msg != NULL ? msg : "?");
		sqlite3_free(msg);
		return TK_APR_ERR_DB;
	}
	return TK_APR_OK;
}

static int
schema_version(struct tk_approvals *ap, int *v)
{
	sqlite3_stmt *st = NULL;
	int rc = TK_APR_ERR_DB;

	if (sqlite3_prepare_v2(ap->db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		goto out;
	*v = sqlite3_column_int(st, 0);
	rc = TK_APR_OK;
out:
	sqlite3_finalize(st);
	return rc;
}

int
tk_store_open(struct tk_approvals *ap, const char *path)
{
	int v = 0, rc = TK_APR_ERR_DB;

	if (sqlite3_open_v2(path, &ap->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		tk_error("cannot open the approvals store");
		goto out;
	}
	sqlite3_busy_timeout(ap->db, 5000);
	/* A small page cache: see TK_SQLITE_CACHE in common.h. */
	if ((rc = exec(ap, "PRAGMA journal_mode=WAL;"
	    "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
	    TK_SQLITE_CACHE)) != 0 ||
	    (rc = schema_version(ap, &v)) != 0)
		goto out;
	if (v == 0) {
		if ((rc = exec(ap, "BEGIN IMMEDIATE")) != 0)
			goto out;
		if ((rc = exec(ap, schema)) != 0 ||
		    (rc = exec(ap, "COMMIT")) != 0) {
			tk_store_rollback(ap);
			goto out;
		}
	} else if (v != SCHEMA_VERSION) {
		tk_error("approvals store has schema %d, expected %d", v,
		    SCHEMA_VERSION);
		rc = TK_APR_ERR_DB;
		goto out;
	}
	/* Tables of other files, created if missing (no version bump). */
	if ((rc = tk_inv_store_schema(ap)) != 0)
		goto out;
	rc = tk_policy_store_schema(ap);
out:
	return rc;
}

int
tk_store_begin(struct tk_approvals *ap)
{
	return exec(ap, "BEGIN IMMEDIATE");
}

int
tk_store_commit(struct tk_approvals *ap)
{
	return exec(ap, "COMMIT");
}

void
tk_store_rollback(struct tk_approvals *ap)
{
	if (!sqlite3_get_autocommit(ap->db))
		(void)sqlite3_exec(ap->db, "ROLLBACK", NULL, NULL, NULL);
}

int
tk_store_prepare(struct tk_approvals *ap, const char *sql,
    sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(ap->db, sql, -1, st, NULL) != SQLITE_OK) {
		tk_error("sqlite prepare: %s", sqlite3_errmsg(ap->db));
		return TK_APR_ERR_DB;
	}
	return TK_APR_OK;
}

int
tk_store_done(struct tk_approvals *ap, sqlite3_stmt *st)
{
	int r;

	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r == SQLITE_DONE)
		return TK_APR_OK;
	if (r == SQLITE_CONSTRAINT)
		return TK_APR_ERR_EXISTS;
	tk_error("sqlite: %s", sqlite3_errmsg(ap->db));
	return TK_APR_ERR_DB;
}

static void
copy_col(sqlite3_stmt *st, int col, char *out, size_t cap)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	out[0] = '\0';
	if (s != NULL)
		(void)snprintf(out, cap, "%s", (const char *)s);
}

int
tk_store_person_get(struct tk_approvals *ap, int64_t id,
    struct tk_person *out)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	memset(out, 0, sizeof(*out));
	if ((rc = tk_store_prepare(ap, "SELECT name, team, roles, state "
	    "FROM people WHERE id = ?", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	if ((r = sqlite3_step(st)) == SQLITE_ROW) {
		out->id = id;
		copy_col(st, 0, out->name, sizeof(out->name));
		copy_col(st, 1, out->team, sizeof(out->team));
		out->roles = (unsigned int)sqlite3_column_int(st, 2);
		out->state = (enum tk_person_state)sqlite3_column_int(st, 3);
		rc = TK_APR_OK;
	} else
		rc = r == SQLITE_DONE ? TK_APR_ERR_NOT_FOUND : TK_APR_ERR_DB;
	sqlite3_finalize(st);
	return rc;
}

static int
copy_blob(sqlite3_stmt *st, int col, uint8_t *out, size_t cap,
    size_t *len)
{
	int n = sqlite3_column_bytes(st, col);
	const void *p = sqlite3_column_blob(st, col);

	if (n < 0 || (size_t)n > cap)
		return TK_APR_ERR_DB;
	if (n > 0)
		memcpy(out, p, (size_t)n);
	if (len != NULL)
		*len = (size_t)n;
	return TK_APR_OK;
}

static int
cred_from_row(sqlite3_stmt *st, struct tk_credential *c)
{
	size_t n = 0;

	c->person_id = sqlite3_column_int64(st, 0);
	c->alg = sqlite3_column_int(st, 1);
	c->sign_count = (uint32_t)sqlite3_column_int64(st, 3);
	copy_col(st, 5, c->fmt, sizeof(c->fmt));
	c->backup_eligible = sqlite3_column_int(st, 6);
	c->backup_state = sqlite3_column_int(st, 7);
	c->uv_at_registration = sqlite3_column_int(st, 8);
	c->attestation_trusted = sqlite3_column_int(st, 9);
	c->flags = (uint32_t)sqlite3_column_int64(st, 10);
	if (copy_blob(st, 2, c->cose_key, sizeof(c->cose_key),
	    &c->cose_key_len) != 0 ||
	    copy_blob(st, 4, c->aaguid, sizeof(c->aaguid), &n) != 0 ||
	    n != sizeof(c->aaguid))
		return TK_APR_ERR_DB;
	return TK_APR_OK;
}

int
tk_store_cred_get(struct tk_approvals *ap, const uint8_t *id, size_t len,
    struct tk_credential *out)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	memset(out, 0, sizeof(*out));
	if (id == NULL || len == 0 || len > TK_CRED_ID_MAX)
		return TK_APR_ERR_INVALID;
	if ((rc = tk_store_prepare(ap, "SELECT person_id, alg, cose_key, "
	    "sign_count, aaguid, fmt, backup_eligible, backup_state, "
	    "uv_at_registration, attestation_trusted, flags "
	    "FROM credentials WHERE id = ?", &st)) != 0)
		return rc;
	sqlite3_bind_blob(st, 1, id, (int)len, SQLITE_STATIC);
	if ((r = sqlite3_step(st)) == SQLITE_ROW) {
		memcpy(out->id, id, len);
		out->id_len = len;
		rc = cred_from_row(st, out);
	} else
		rc = r == SQLITE_DONE ? TK_APR_ERR_CREDENTIAL : TK_APR_ERR_DB;
	sqlite3_finalize(st);
	return rc;
}

int
tk_store_cred_update(struct tk_approvals *ap, const struct tk_credential *c)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = tk_store_prepare(ap, "UPDATE credentials SET "
	    "sign_count = ?, backup_state = ?, flags = ? WHERE id = ?",
	    &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)c->sign_count);
	sqlite3_bind_int(st, 2, c->backup_state);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)c->flags);
	sqlite3_bind_blob(st, 4, c->id, (int)c->id_len, SQLITE_STATIC);
	return tk_store_done(ap, st);
}

int
tk_store_challenge_get(struct tk_approvals *ap,
    const uint8_t challenge[TK_CHALLENGE_LEN], struct tk_challenge_row *out)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	memset(out, 0, sizeof(*out));
	if ((rc = tk_store_prepare(ap, "SELECT request_id, person_id, "
	    "decision, expires, used FROM challenges WHERE challenge = ?",
	    &st)) != 0)
		return rc;
	sqlite3_bind_blob(st, 1, challenge, TK_CHALLENGE_LEN, SQLITE_STATIC);
	if ((r = sqlite3_step(st)) == SQLITE_ROW) {
		out->request_id = sqlite3_column_int64(st, 0);
		out->person_id = sqlite3_column_int64(st, 1);
		out->decision = (enum tk_decision)sqlite3_column_int(st, 2);
		out->expires = sqlite3_column_int64(st, 3);
		out->used = sqlite3_column_int64(st, 4);
		rc = TK_APR_OK;
	} else
		rc = r == SQLITE_DONE ? TK_APR_ERR_CHALLENGE_UNKNOWN :
		    TK_APR_ERR_DB;
	sqlite3_finalize(st);
	return rc;
}

int
tk_store_challenge_use(struct tk_approvals *ap,
    const uint8_t challenge[TK_CHALLENGE_LEN], int64_t now)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = tk_store_prepare(ap, "UPDATE challenges SET used = ? "
	    "WHERE challenge = ? AND used = 0", &st)) != 0)
		return rc;
	/* 0 means unused, so a use at the epoch is stored as 1. */
	sqlite3_bind_int64(st, 1, now > 0 ? now : 1);
	sqlite3_bind_blob(st, 2, challenge, TK_CHALLENGE_LEN, SQLITE_STATIC);
	if ((rc = tk_store_done(ap, st)) != 0)
		return rc;
	return sqlite3_changes(ap->db) == 1 ? TK_APR_OK :
	    TK_APR_ERR_CHALLENGE_USED;
}

int
tk_store_request_state(struct tk_approvals *ap, int64_t id,
    enum tk_request_state state)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = tk_store_prepare(ap, "UPDATE requests SET state = ? "
	    "WHERE id = ?", &st)) != 0)
		return rc;
	sqlite3_bind_int(st, 1, (int)state);
	sqlite3_bind_int64(st, 2, id);
	return tk_store_done(ap, st);
}

void
tk_ballot_set_clear(struct tk_ballot_set *s)
{
	size_t i;

	for (i = 0; s->cred_id != NULL && i < s->n; i++)
		free(s->cred_id[i]);
	free(s->cred_id);
	free(s->cred_id_len);
	free(s->team);
	free(s->b);
	memset(s, 0, sizeof(*s));
}

static int
ballot_from_row(sqlite3_stmt *st, struct tk_ballot_set *s, size_t i)
{
	int n = sqlite3_column_bytes(st, 6);

	s->b[i].person_id = sqlite3_column_int64(st, 0);
	s->b[i].decision = (enum tk_decision)sqlite3_column_int(st, 1);
	s->b[i].roles = (unsigned int)sqlite3_column_int(st, 2);
	s->b[i].state = (enum tk_person_state)sqlite3_column_int(st, 3);
	s->b[i].cred_flags = (uint32_t)sqlite3_column_int64(st, 4);
	copy_col(st, 5, s->team[i], sizeof(s->team[i]));
	s->b[i].team = s->team[i];
	if (n <= 0 || n > TK_CRED_ID_MAX ||
	    (s->cred_id[i] = malloc((size_t)n)) == NULL)
		return TK_APR_ERR_DB;
	memcpy(s->cred_id[i], sqlite3_column_blob(st, 6), (size_t)n);
	s->cred_id_len[i] = (size_t)n;
	return TK_APR_OK;
}

static int
ballot_set_alloc(struct tk_ballot_set *s, size_t cap)
{
	s->b = calloc(cap, sizeof(*s->b));
	s->team = calloc(cap, sizeof(*s->team));
	s->cred_id = calloc(cap, sizeof(*s->cred_id));
	s->cred_id_len = calloc(cap, sizeof(*s->cred_id_len));
	if (s->b == NULL || s->team == NULL || s->cred_id == NULL ||
	    s->cred_id_len == NULL)
		return TK_APR_ERR_NOMEM;
	return TK_APR_OK;
}

int
tk_store_ballots(struct tk_approvals *ap, int64_t request_id,
    struct tk_ballot_set *out)
{
	sqlite3_stmt *st = NULL;
	size_t cap;
	int r, rc;

	memset(out, 0, sizeof(*out));
	/* One ballot per person, and people are few. */
	cap = 256;
	if ((rc = ballot_set_alloc(out, cap)) != 0 ||
	    (rc = tk_store_prepare(ap, "SELECT b.person_id, b.decision, "
	    "p.roles, p.state, c.flags, p.team, b.credential_id "
	    "FROM ballots b JOIN people p ON p.id = b.person_id "
	    "JOIN credentials c ON c.id = b.credential_id "
	    "WHERE b.request_id = ? ORDER BY b.id LIMIT 256", &st)) != 0)
		goto out;
	sqlite3_bind_int64(st, 1, request_id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		out->n++;	/* counted first so that clear frees it */
		if ((rc = ballot_from_row(st, out, out->n - 1)) != 0)
			goto out;
	}
	rc = r == SQLITE_DONE ? TK_APR_OK : TK_APR_ERR_DB;
out:
	sqlite3_finalize(st);
	if (rc != 0)
		tk_ballot_set_clear(out);
	return rc;
}

int
tk_store_ids(struct tk_approvals *ap, const char *sql, int64_t arg,
    int64_t **ids, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int64_t *v = NULL, *nv;
	size_t cap = 0;
	int r, rc;

	*ids = NULL;
	*n = 0;
	if ((rc = tk_store_prepare(ap, sql, &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, arg);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap == 0 ? 16 : 2 * cap;
			if ((nv = reallocarray(v, cap, sizeof(*v))) == NULL) {
				rc = TK_APR_ERR_NOMEM;
				goto out;
			}
			v = nv;
		}
		v[(*n)++] = sqlite3_column_int64(st, 0);
	}
	rc = r == SQLITE_DONE ? TK_APR_OK : TK_APR_ERR_DB;
out:
	sqlite3_finalize(st);
	if (rc != 0) {
		free(v);
		*n = 0;
	} else
		*ids = v;
	return rc;
}
