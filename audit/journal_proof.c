/*
 * Inclusion and consistency proofs between stored checkpoints, and
 * c2sp.org/tlog-proof files. Hashes come from the stored leaves and
 * perfect subtrees (merkle.h does the RFC 9162 recursion).
 */
#include <stdlib.h>
#include <string.h>

#include "twokey/common.h"
#include "twokey/journal.h"
#include "twokey/tlogproof.h"
#include "journal_int.h"

/* Proof generation against the read connection; rlock held. */
static int
is_checkpoint(sqlite3 *db, uint64_t size)
{
	char *note = NULL;
	size_t len;
	int r;

	r = jdb_checkpoint(db, size, &note, &len);
	free(note);
	return r;
}

static int
inclusion_locked(struct tk_journal *j, uint64_t index, uint64_t size,
    tk_merkle_hash *proof, size_t *len)
{
	struct tk_merkle_source src;
	int r;

	if (index >= size)
		return TK_JOURNAL_ERR_RANGE;
	if ((r = is_checkpoint(j->rdb, size)) != 0)
		return r;
	jdb_source(j->rdb, &src);
	if (tk_merkle_inclusion_proof(&src, index, size, proof, len) != 0)
		return TK_JOURNAL_ERR_CORRUPT;
	return 0;
}

int
tk_journal_inclusion_proof(struct tk_journal *j, uint64_t index,
    uint64_t size, tk_merkle_hash *proof, size_t *len)
{
	int r;

	if (j == NULL || proof == NULL || len == NULL)
		return TK_JOURNAL_ERR_INVALID;
	pthread_mutex_lock(&j->rlock);
	r = inclusion_locked(j, index, size, proof, len);
	pthread_mutex_unlock(&j->rlock);
	return r;
}

int
tk_journal_consistency_proof(struct tk_journal *j, uint64_t m, uint64_t n,
    tk_merkle_hash *proof, size_t *len)
{
	struct tk_merkle_source src;
	int r;

	if (j == NULL || proof == NULL || len == NULL)
		return TK_JOURNAL_ERR_INVALID;
	if (m == 0 || m > n)
		return TK_JOURNAL_ERR_RANGE;
	pthread_mutex_lock(&j->rlock);
	if ((r = is_checkpoint(j->rdb, m)) == 0 &&
	    (r = is_checkpoint(j->rdb, n)) == 0) {
		jdb_source(j->rdb, &src);
		if (tk_merkle_consistency_proof(&src, m, n, proof, len) != 0)
			r = TK_JOURNAL_ERR_CORRUPT;
	}
	pthread_mutex_unlock(&j->rlock);
	return r;
}

/* Formats a tlog-proof; rlock held. Used by the export too. */
int
tk_journal_tlog_proof_locked(struct tk_journal *j, uint64_t index,
    uint64_t size, char **out, size_t *outlen)
{
	tk_merkle_hash hashes[TK_MERKLE_MAX_PROOF];
	struct tk_tlog_proof p;
	int r;

	*out = NULL;
	memset(&p, 0, sizeof(p));
	if (size == 0 && (r = jdb_covering(j->rdb, index, &size)) != 0)
		return r;
	if ((r = inclusion_locked(j, index, size, hashes, &p.nhashes)) != 0)
		return r;
	if ((r = jdb_checkpoint(j->rdb, size, &p.checkpoint,
	    &p.checkpoint_len)) != 0)
		return r;
	p.index = index;
	p.hashes = hashes;
	if (tk_tlog_proof_format(&p, out, outlen) != 0)
		r = TK_JOURNAL_ERR_NOMEM;
	free(p.checkpoint);
	return r;
}

int
tk_journal_tlog_proof(struct tk_journal *j, uint64_t index, uint64_t size,
    char **out, size_t *outlen)
{
	int r;

	if (j == NULL || out == NULL || outlen == NULL)
		return TK_JOURNAL_ERR_INVALID;
	pthread_mutex_lock(&j->rlock);
	r = tk_journal_tlog_proof_locked(j, index, size, out, outlen);
	pthread_mutex_unlock(&j->rlock);
	return r;
}
