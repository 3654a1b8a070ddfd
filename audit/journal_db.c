/*
 * SQLite storage of the journal.
 *
 *   entries(idx, time, leaf, hash)   leaf bytes verbatim and leaf hash
 *   nodes(level, idx, hash)          every perfect subtree of height >= 1
 *                                    that the tree has completed: covers
 *                                    leaves [idx << level, (idx+1) << level)
 *   checkpoints(size, root, note)    every signed checkpoint ever issued
 *   meta(key, value)                 origin
 *
 * With every perfect subtree stored, a root or proof of any size costs
 * O(log^2 n) look-ups (merkle.h). Entries, nodes and the checkpoint of a
 * batch are written in one transaction, so none can exist without the
 * others.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "twokey/common.h"
#include "journal_int.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY,"
    " value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS entries(idx INTEGER PRIMARY KEY,"
    " time TEXT NOT NULL, leaf BLOB NOT NULL, hash BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS nodes(level INTEGER NOT NULL,"
    " idx INTEGER NOT NULL, hash BLOB NOT NULL,"
    " PRIMARY KEY(level, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS checkpoints(size INTEGER PRIMARY KEY,"
    " root BLOB NOT NULL, note BLOB NOT NULL);";

int
jdb_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		tk_error("sqlite: %s", msg != NULL ? msg : "?");
		sqlite3_free(msg);
		return TK_JOURNAL_ERR_DB;
	}
	return 0;
}

int
jdb_open(const char *path, sqlite3 **out)
{
	sqlite3 *db = NULL;
	int r = TK_JOURNAL_ERR_DB;

	*out = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		tk_error("cannot open journal database: %s",
		    db != NULL ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db, 10000);
	/* A small page cache: see TK_SQLITE_CACHE in common.h. */
	if (jdb_exec(db, "PRAGMA journal_mode=WAL;"
	    "PRAGMA synchronous=FULL;" TK_SQLITE_CACHE) != 0 ||
	    jdb_exec(db, schema) != 0)
		goto out;
	*out = db;
	db = NULL;
	r = 0;
out:
	sqlite3_close(db);
	return r;
}

static int
prep(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
		tk_error("sqlite: %s", sqlite3_errmsg(db));
		return TK_JOURNAL_ERR_DB;
	}
	return 0;
}

static int
step_done(sqlite3 *db, sqlite3_stmt *st)
{
	int r = 0;

	if (sqlite3_step(st) != SQLITE_DONE) {
		tk_error("sqlite: %s", sqlite3_errmsg(db));
		r = TK_JOURNAL_ERR_DB;
	}
	sqlite3_finalize(st);
	return r;
}

int
jdb_check_origin(sqlite3 *db, const char *origin)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *v;
	int r;

	if ((r = prep(db, "SELECT value FROM meta WHERE key = 'origin'",
	    &st)) != 0)
		return r;
	if (sqlite3_step(st) == SQLITE_ROW) {
		v = sqlite3_column_text(st, 0);
		r = (v != NULL && strcmp((const char *)v, origin) == 0) ? 0 :
		    TK_JOURNAL_ERR_ORIGIN;
		sqlite3_finalize(st);
		return r;
	}
	sqlite3_finalize(st);
	if ((r = prep(db, "INSERT INTO meta(key, value) VALUES('origin', ?)",
	    &st)) != 0)
		return r;
	sqlite3_bind_text(st, 1, origin, -1, SQLITE_STATIC);
	return step_done(db, st);
}

static int
copy_blob(sqlite3_stmt *st, int col, size_t want, uint8_t *out)
{
	if ((size_t)sqlite3_column_bytes(st, col) != want)
		return TK_JOURNAL_ERR_CORRUPT;
	memcpy(out, sqlite3_column_blob(st, col), want);
	return 0;
}

/* Duplicates a blob column as a NUL-terminated buffer. */
static int
dup_blob(sqlite3_stmt *st, int col, char **out, size_t *len)
{
	size_t n = (size_t)sqlite3_column_bytes(st, col);
	char *p;

	if ((p = malloc(n + 1)) == NULL)
		return TK_JOURNAL_ERR_NOMEM;
	if (n > 0)
		memcpy(p, sqlite3_column_blob(st, col), n);
	p[n] = '\0';
	*out = p;
	*len = n;
	return 0;
}

/* Latest checkpoint; size 0 and no note when there is none. */
int
jdb_latest(sqlite3 *db, uint64_t *size, tk_merkle_hash root, char **note,
    size_t *note_len)
{
	sqlite3_stmt *st = NULL;
	int r;

	*size = 0;
	*note = NULL;
	*note_len = 0;
	if ((r = prep(db, "SELECT size, root, note FROM checkpoints"
	    " ORDER BY size DESC LIMIT 1", &st)) != 0)
		return r;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*size = (uint64_t)sqlite3_column_int64(st, 0);
		if ((r = copy_blob(st, 1, TK_MERKLE_HASH_LEN, root)) == 0)
			r = dup_blob(st, 2, note, note_len);
	}
	sqlite3_finalize(st);
	return r;
}

int
jdb_count(sqlite3 *db, const char *sql, uint64_t *n)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = prep(db, sql, &st)) != 0)
		return r;
	if (sqlite3_step(st) == SQLITE_ROW)
		*n = (uint64_t)sqlite3_column_int64(st, 0);
	else
		r = TK_JOURNAL_ERR_DB;
	sqlite3_finalize(st);
	return r;
}

static int
src_leaf(void *arg, uint64_t index, tk_merkle_hash out)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (prep(arg, "SELECT hash FROM entries WHERE idx = ?", &st) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
	r = sqlite3_step(st) == SQLITE_ROW ?
	    copy_blob(st, 0, TK_MERKLE_HASH_LEN, out) : -1;
	sqlite3_finalize(st);
	return r == 0 ? 0 : -1;
}

static int
src_node(void *arg, unsigned level, uint64_t index, tk_merkle_hash out)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (prep(arg, "SELECT hash FROM nodes WHERE level = ? AND idx = ?",
	    &st) != 0)
		return -1;
	sqlite3_bind_int(st, 1, (int)level);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
	if (sqlite3_step(st) == SQLITE_ROW)
		r = copy_blob(st, 0, TK_MERKLE_HASH_LEN, out) == 0 ? 0 : -1;
	else
		r = 1;
	sqlite3_finalize(st);
	return r;
}

void
jdb_source(sqlite3 *db, struct tk_merkle_source *src)
{
	src->leaf = src_leaf;
	src->node = src_node;
	src->arg = db;
}

/* Roots of the perfect subtrees of the tree of size n, largest first. */
int
jdb_frontier(sqlite3 *db, uint64_t size, tk_merkle_hash *out, size_t *count)
{
	uint64_t off = 0;
	unsigned level;
	int r;

	*count = 0;
	for (level = 64; level-- > 0;) {
		if ((size & ((uint64_t)1 << level)) == 0)
			continue;
		if (level == 0)
			r = src_leaf(db, off, out[*count]);
		else
			r = src_node(db, level, off >> level, out[*count]);
		if (r != 0)
			return TK_JOURNAL_ERR_CORRUPT;
		(*count)++;
		off += (uint64_t)1 << level;
	}
	return 0;
}

int
jdb_insert_entry(sqlite3 *db, uint64_t idx, const char *time,
    const char *leaf, size_t len, const tk_merkle_hash hash)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = prep(db, "INSERT INTO entries(idx, time, leaf, hash)"
	    " VALUES(?, ?, ?, ?)", &st)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)idx);
	sqlite3_bind_text(st, 2, time, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, leaf, (int)len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, hash, TK_MERKLE_HASH_LEN, SQLITE_STATIC);
	return step_done(db, st);
}

int
jdb_insert_node(sqlite3 *db, unsigned level, uint64_t idx,
    const tk_merkle_hash hash)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = prep(db, "INSERT INTO nodes(level, idx, hash)"
	    " VALUES(?, ?, ?)", &st)) != 0)
		return r;
	sqlite3_bind_int(st, 1, (int)level);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)idx);
	sqlite3_bind_blob(st, 3, hash, TK_MERKLE_HASH_LEN, SQLITE_STATIC);
	return step_done(db, st);
}

int
jdb_insert_checkpoint(sqlite3 *db, uint64_t size, const tk_merkle_hash root,
    const char *note, size_t len)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = prep(db, "INSERT INTO checkpoints(size, root, note)"
	    " VALUES(?, ?, ?)", &st)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
	sqlite3_bind_blob(st, 2, root, TK_MERKLE_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, note, (int)len, SQLITE_STATIC);
	return step_done(db, st);
}

int
jdb_checkpoint(sqlite3 *db, uint64_t size, char **note, size_t *len)
{
	sqlite3_stmt *st = NULL;
	int r;

	*note = NULL;
	if ((r = prep(db, "SELECT note FROM checkpoints WHERE size = ?",
	    &st)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
	r = sqlite3_step(st) == SQLITE_ROW ? dup_blob(st, 0, note, len) :
	    TK_JOURNAL_ERR_RANGE;
	sqlite3_finalize(st);
	return r;
}

/* Size of the first checkpoint whose tree holds entry index. */
int
jdb_covering(sqlite3 *db, uint64_t index, uint64_t *size)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = prep(db, "SELECT min(size) FROM checkpoints WHERE size > ?",
	    &st)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) == SQLITE_INTEGER)
		*size = (uint64_t)sqlite3_column_int64(st, 0);
	else
		r = TK_JOURNAL_ERR_RANGE;
	sqlite3_finalize(st);
	return r;
}

int
jdb_entry(sqlite3 *db, uint64_t index, uint8_t **leaf, size_t *len)
{
	sqlite3_stmt *st = NULL;
	char *p = NULL;
	int r;

	*leaf = NULL;
	if ((r = prep(db, "SELECT leaf FROM entries WHERE idx = ?", &st)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
	r = sqlite3_step(st) == SQLITE_ROW ? dup_blob(st, 0, &p, len) :
	    TK_JOURNAL_ERR_RANGE;
	sqlite3_finalize(st);
	*leaf = (uint8_t *)p;
	return r;
}
