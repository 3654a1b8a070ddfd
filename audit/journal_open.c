/*
 * Opening and closing the journal, and the read side: entries,
 * checkpoints and proofs. Reads go through their own SQLite connection,
 * which in WAL mode sees only committed batches, so a reader never sees
 * an entry that no checkpoint covers.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "twokey/checkpoint.h"
#include "twokey/common.h"
#include "twokey/journal.h"
#include "twokey/tlogproof.h"
#include "journal_int.h"

#define DEFAULT_MAX_BATCH 4096

static int
writer_node_cb(void *arg, unsigned level, uint64_t index,
    const tk_merkle_hash hash)
{
	struct tk_journal *j = arg;

	if (level == 0)
		return 0;	/* leaf hashes live in entries */
	return jdb_insert_node(j->wdb, level, index, hash) == 0 ? 0 : -1;
}

/* Rebuilds the tree frontier and checks it against the latest checkpoint. */
static int
load_state(struct tk_journal *j)
{
	tk_merkle_hash root, got, frontier[64];
	struct tk_checkpoint *cp = NULL;
	uint64_t size, count = 0, ends = 0;
	char *note = NULL;
	size_t note_len, nf;
	int r;

	if ((r = jdb_latest(j->wdb, &size, root, &note, &note_len)) != 0 ||
	    (r = jdb_count(j->wdb, "SELECT count(*) FROM entries",
	    &count)) != 0 ||
	    (r = jdb_count(j->wdb, "SELECT coalesce(max(idx) + 1, 0)"
	    " FROM entries", &ends)) != 0 ||
	    (r = jdb_count(j->wdb, "SELECT count(*) FROM checkpoints",
	    &j->ncheckpoints)) != 0)
		goto out;
	if (count != size || ends != size) {
		tk_error("journal holds %llu entries, checkpoint says %llu",
		    (unsigned long long)count, (unsigned long long)size);
		r = TK_JOURNAL_ERR_CORRUPT;
		goto out;
	}
	if (size > 0) {
		if (tk_checkpoint_open(note, note_len, &j->ver, 1, j->origin,
		    &cp) != 0 || cp->size != size) {
			tk_error("latest checkpoint does not verify with the"
			    " audit key");
			r = TK_JOURNAL_ERR_KEY;
			goto out;
		}
		if ((r = jdb_frontier(j->wdb, size, frontier, &nf)) != 0)
			goto out;
		if (tk_merkle_builder_restore(j->tree, size, frontier,
		    nf) != 0 || tk_merkle_builder_root(j->tree, got) != 0 ||
		    CRYPTO_memcmp(got, root, sizeof(got)) != 0 ||
		    CRYPTO_memcmp(got, cp->root, sizeof(got)) != 0) {
			tk_error("stored tree does not match checkpoint %llu",
			    (unsigned long long)size);
			r = TK_JOURNAL_ERR_CORRUPT;
			goto out;
		}
	}
	j->size = size;
	/* Kept for GET /api/v1/journal/checkpoint; NULL while empty. */
	j->latest = note;
	j->latest_len = note_len;
	note = NULL;
	r = 0;
out:
	tk_checkpoint_free(&cp);
	free(note);
	return r;
}

static int
open_parts(struct tk_journal *j, const struct tk_journal_config *cfg)
{
	int r;

	if ((j->origin = strdup(cfg->origin)) == NULL ||
	    (j->tree = tk_merkle_builder_new()) == NULL)
		return TK_JOURNAL_ERR_NOMEM;
	if ((r = tk_signer_public_key(j->signer, TK_KEY_AUDIT,
	    &j->pub)) != 0) {
		tk_error("no audit public key: %s", tk_hsm_strerror(r));
		return TK_JOURNAL_ERR_SIGN;
	}
	if (tk_note_verifier_from_pkey(j->origin, j->pub, &j->ver) != 0)
		return TK_JOURNAL_ERR_KEY;
	if ((r = jdb_open(cfg->path, &j->wdb)) != 0 ||
	    (r = jdb_check_origin(j->wdb, j->origin)) != 0 ||
	    (r = jdb_open(cfg->path, &j->rdb)) != 0 ||
	    (r = load_state(j)) != 0)
		return r;
	tk_merkle_builder_set_node_cb(j->tree, writer_node_cb, j);
	return 0;
}

int
tk_journal_open(const struct tk_journal_config *cfg, struct tk_journal **out)
{
	struct tk_journal *j = NULL;
	int r = TK_JOURNAL_ERR_INVALID;

	if (out == NULL)
		return r;
	*out = NULL;
	if (cfg == NULL || cfg->path == NULL || cfg->origin == NULL ||
	    cfg->signer == NULL ||
	    !tk_note_name_valid(cfg->origin, strlen(cfg->origin)))
		goto out;
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		r = TK_JOURNAL_ERR_NOMEM;
		goto out;
	}
	pthread_mutex_init(&j->lock, NULL);
	pthread_mutex_init(&j->rlock, NULL);
	pthread_cond_init(&j->work, NULL);
	pthread_cond_init(&j->done, NULL);
	j->signer = cfg->signer;
	j->max_batch = cfg->max_batch ? cfg->max_batch : DEFAULT_MAX_BATCH;
	if ((r = open_parts(j, cfg)) != 0)
		goto out;
	if (pthread_create(&j->thread, NULL, tk_journal_writer_main,
	    j) != 0) {
		r = TK_JOURNAL_ERR_NOMEM;
		goto out;
	}
	j->started = 1;
	*out = j;
	j = NULL;
	r = 0;
out:
	tk_journal_free(&j);
	return r;
}

void
tk_journal_free(struct tk_journal **jp)
{
	struct tk_journal *j;

	if (jp == NULL || (j = *jp) == NULL)
		return;
	if (j->started) {
		pthread_mutex_lock(&j->lock);
		j->stop = 1;
		pthread_cond_broadcast(&j->work);
		pthread_mutex_unlock(&j->lock);
		pthread_join(j->thread, NULL);
	}
	sqlite3_close(j->wdb);
	sqlite3_close(j->rdb);
	tk_merkle_builder_free(&j->tree);
	tk_note_verifier_free(&j->ver);
	EVP_PKEY_free(j->pub);
	free(j->origin);
	free(j->latest);
	pthread_mutex_destroy(&j->lock);
	pthread_mutex_destroy(&j->rlock);
	pthread_cond_destroy(&j->work);
	pthread_cond_destroy(&j->done);
	free(j);
	*jp = NULL;
}

int
tk_journal_size(struct tk_journal *j, uint64_t *size)
{
	if (j == NULL || size == NULL)
		return TK_JOURNAL_ERR_INVALID;
	pthread_mutex_lock(&j->lock);
	*size = j->size;
	pthread_mutex_unlock(&j->lock);
	return 0;
}

int
tk_journal_checkpoint_count(struct tk_journal *j, uint64_t *count)
{
	if (j == NULL || count == NULL)
		return TK_JOURNAL_ERR_INVALID;
	pthread_mutex_lock(&j->lock);
	*count = j->ncheckpoints;
	pthread_mutex_unlock(&j->lock);
	return 0;
}

int
tk_journal_entry_get(struct tk_journal *j, uint64_t index, uint8_t **leaf,
    size_t *len)
{
	int r;

	if (j == NULL || leaf == NULL || len == NULL)
		return TK_JOURNAL_ERR_INVALID;
	pthread_mutex_lock(&j->rlock);
	r = jdb_entry(j->rdb, index, leaf, len);
	pthread_mutex_unlock(&j->rlock);
	return r;
}

/*
 * The latest checkpoint from memory: it is read on every public request
 * for it, and a database query under the reader lock made eight workers
 * wait on one another.
 */
static int
latest_copy(struct tk_journal *j, char **note, size_t *len)
{
	int r = TK_JOURNAL_ERR_RANGE;

	*note = NULL;
	pthread_mutex_lock(&j->lock);
	if (j->latest != NULL) {
		r = TK_JOURNAL_ERR_NOMEM;
		if ((*note = malloc(j->latest_len + 1)) != NULL) {
			memcpy(*note, j->latest, j->latest_len);
			(*note)[j->latest_len] = '\0';
			*len = j->latest_len;
			r = 0;
		}
	}
	pthread_mutex_unlock(&j->lock);
	return r;
}

int
tk_journal_checkpoint(struct tk_journal *j, uint64_t size, char **note,
    size_t *len)
{
	int r;

	if (j == NULL || note == NULL || len == NULL)
		return TK_JOURNAL_ERR_INVALID;
	if (size == 0)
		return latest_copy(j, note, len);
	pthread_mutex_lock(&j->rlock);
	r = jdb_checkpoint(j->rdb, size, note, len);
	pthread_mutex_unlock(&j->rlock);
	return r;
}

int
tk_journal_covering_size(struct tk_journal *j, uint64_t index,
    uint64_t *size)
{
	int r;

	if (j == NULL || size == NULL)
		return TK_JOURNAL_ERR_INVALID;
	pthread_mutex_lock(&j->rlock);
	r = jdb_covering(j->rdb, index, size);
	pthread_mutex_unlock(&j->rlock);
	return r;
}
