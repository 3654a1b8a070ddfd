/*
 * Look-ups over the stored entries for evidence packs: the index where a
 * period starts, and the entries of one action. Read side only, under
 * the reader lock, like proofs and exports.
 */
#include <string.h>

#include "twokey/journal.h"
#include "journal_int.h"

struct tk_signer *
tk_journal_signer(struct tk_journal *j)
{
	return j != NULL ? j->signer : NULL;
}

int
tk_journal_index_at(struct tk_journal *j, const char *time, uint64_t *index)
{
	sqlite3_stmt *st = NULL;
	uint64_t size;
	int r = TK_JOURNAL_ERR_DB;

	if (j == NULL || time == NULL || index == NULL ||
	    strlen(time) != TK_JOURNAL_TIME_LEN - 1)
		return TK_JOURNAL_ERR_INVALID;
	if ((r = tk_journal_size(j, &size)) != 0)
		return r;
	r = TK_JOURNAL_ERR_DB;
	pthread_mutex_lock(&j->rlock);
	/* Bounded by the committed size: a batch being written is not in. */
	if (sqlite3_prepare_v2(j->rdb, "SELECT MIN(idx) FROM entries"
	    " WHERE time >= ? AND idx < ?", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(st, 1, time, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)size);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	*index = sqlite3_column_type(st, 0) == SQLITE_NULL ? size :
	    (uint64_t)sqlite3_column_int64(st, 0);
	r = 0;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&j->rlock);
	return r;
}

int
tk_journal_scan_action(struct tk_journal *j, const char *action,
    uint64_t first, uint64_t end, tk_journal_visit_fn fn, void *arg)
{
	sqlite3_stmt *st = NULL;
	int r = TK_JOURNAL_ERR_DB, s = SQLITE_DONE;

	if (j == NULL || action == NULL || fn == NULL)
		return TK_JOURNAL_ERR_INVALID;
	pthread_mutex_lock(&j->rlock);
	if (sqlite3_prepare_v2(j->rdb, "SELECT idx, leaf FROM entries"
	    " WHERE idx >= ? AND idx < ? AND json_extract(leaf, '$.action')"
	    " = ? ORDER BY idx", -1, &st, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)first);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)end);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	r = 0;
	while (r == 0 && (s = sqlite3_step(st)) == SQLITE_ROW)
		r = fn(arg, (uint64_t)sqlite3_column_int64(st, 0),
		    sqlite3_column_blob(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1));
	if (r == 0 && s != SQLITE_DONE)
		r = TK_JOURNAL_ERR_DB;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&j->rlock);
	return r;
}
