/*
 * The journal: open, group-committed appends, look-ups and proofs.
 *
 * Appenders queue their entry and sleep; one writer thread takes the whole
 * queue as a batch, writes it and signs one checkpoint in one SQLite
 * transaction, then wakes the batch. While it signs, new appenders queue
 * up for the next batch. See journal.h for the failure rule.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "twokey/checkpoint.h"
#include "twokey/common.h"
#include "twokey/journal.h"
#include "twokey/note.h"
#include "journal_int.h"

/* Signs checkpoint text for (size, root); caller frees *note. */
static int
sign_checkpoint(struct tk_journal *j, uint64_t size, const tk_merkle_hash root,
    char **note, size_t *note_len)
{
	struct tk_checkpoint cp, *back = NULL;
	uint8_t digest[SHA256_DIGEST_LENGTH], der[80];
	size_t der_len = sizeof(der), text_len;
	char *text = NULL;
	int r, hr;

	*note = NULL;
	memset(&cp, 0, sizeof(cp));
	cp.origin = j->origin;
	cp.size = size;
	memcpy(cp.root, root, TK_MERKLE_HASH_LEN);
	if (tk_checkpoint_format(&cp, &text, &text_len) != 0) {
		r = TK_JOURNAL_ERR_NOMEM;
		goto out;
	}
	/*
	 * The one-shot SHA256 fetches the digest and fails without memory,
	 * leaving digest unset: the signer would sign whatever it held.
	 */
	if (SHA256((const uint8_t *)text, text_len, digest) == NULL) {
		r = TK_JOURNAL_ERR_NOMEM;
		goto out;
	}
	if ((hr = tk_signer_sign_digest(j->signer, TK_KEY_AUDIT, digest, der,
	    &der_len)) != 0) {
		tk_error("checkpoint %llu not signed: %s",
		    (unsigned long long)size, tk_hsm_strerror(hr));
		r = TK_JOURNAL_ERR_SIGN;
		goto out;
	}
	if (tk_note_format_ecdsa(text, text_len, j->origin, j->pub, der,
	    der_len, note, note_len) != 0) {
		r = TK_JOURNAL_ERR_NOMEM;
		goto out;
	}
	/* A signature from the wrong key must never be committed. */
	if (tk_checkpoint_open(*note, *note_len, &j->ver, 1, j->origin,
	    &back) != 0 || back->size != size) {
		tk_error("checkpoint %llu: signer returned a bad signature",
		    (unsigned long long)size);
		r = TK_JOURNAL_ERR_SIGN;
		goto out;
	}
	r = 0;
out:
	if (r != 0) {
		free(*note);
		*note = NULL;
	}
	tk_checkpoint_free(&back);
	free(text);
	return r;
}

/* Writes the batch and its signed checkpoint, whose note into *note. */
static int
write_batch(struct tk_journal *j, struct jitem *batch, uint64_t size,
    char **note, size_t *note_len)
{
	struct jitem *it;
	tk_merkle_hash h, root;
	char *leaf = NULL;
	size_t leaf_len;
	int r = 0;

	for (it = batch; it != NULL && r == 0; it = it->next) {
		it->index = size++;
		if ((r = tk_journal_join(it->index, it->time, it->body,
		    it->body_len, &leaf, &leaf_len)) != 0)
			break;
		if (tk_merkle_leaf_hash(leaf, leaf_len, h) != 0 ||
		    (r = jdb_insert_entry(j->wdb, it->index, it->time, leaf,
		    leaf_len, h)) != 0 ||
		    tk_merkle_builder_append_leaf(j->tree, h) != 0)
			r = r != 0 ? r : TK_JOURNAL_ERR_DB;
		free(leaf);
		leaf = NULL;
	}
	if (r != 0)
		return r;
	if (tk_merkle_builder_root(j->tree, root) != 0)
		return TK_JOURNAL_ERR_DB;
	if ((r = sign_checkpoint(j, size, root, note, note_len)) == 0 &&
	    (r = jdb_insert_checkpoint(j->wdb, size, root, *note,
	    *note_len)) != 0) {
		free(*note);
		*note = NULL;
	}
	return r;
}

/*
 * Writes, signs and commits one batch; all or nothing. The committed
 * checkpoint's note into *note (the caller's), NULL on failure.
 */
static int
commit_batch(struct tk_journal *j, struct jitem *batch, uint64_t size,
    char **note, size_t *note_len)
{
	tk_merkle_hash frontier[64];
	size_t nf;
	int r;

	*note = NULL;
	tk_merkle_builder_frontier(j->tree, frontier, &nf);
	if ((r = jdb_exec(j->wdb, "BEGIN IMMEDIATE")) != 0)
		return r;
	if ((r = write_batch(j, batch, size, note, note_len)) == 0)
		r = jdb_exec(j->wdb, "COMMIT");
	if (r != 0) {
		(void)jdb_exec(j->wdb, "ROLLBACK");
		(void)tk_merkle_builder_restore(j->tree, size, frontier, nf);
		free(*note);
		*note = NULL;
	}
	return r;
}

void *
tk_journal_writer_main(void *arg)
{
	struct tk_journal *j = arg;
	struct jitem *batch, *it, **pp;
	uint64_t size, n;
	char *note;
	size_t note_len = 0;
	int r;

	pthread_mutex_lock(&j->lock);
	for (;;) {
		while (j->head == NULL && !j->stop)
			pthread_cond_wait(&j->work, &j->lock);
		if (j->head == NULL)
			break;
		/* Take up to max_batch queued entries. */
		batch = j->head;
		pp = &j->head;
		for (n = 0; *pp != NULL && n < j->max_batch; n++)
			pp = &(*pp)->next;
		j->head = *pp;
		*pp = NULL;
		if (j->head == NULL)
			j->tail = NULL;
		size = j->size;
		pthread_mutex_unlock(&j->lock);

		r = commit_batch(j, batch, size, &note, &note_len);

		pthread_mutex_lock(&j->lock);
		if (r == 0) {
			j->size = size + n;
			j->ncheckpoints++;
			free(j->latest);
			j->latest = note;
			j->latest_len = note_len;
		}
		for (it = batch; it != NULL; it = it->next) {
			it->rc = r;
			it->done = 1;
		}
		pthread_cond_broadcast(&j->done);
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

/* Frees the items of an append; bodies may be NULL. */
static void
items_free(struct jitem *items, size_t n)
{
	size_t i;

	if (items == NULL)
		return;
	for (i = 0; i < n; i++)
		free(items[i].body);
	free(items);
}

/* Queues n prepared items in order, under the lock; 0 or CLOSED. */
static int
enqueue_locked(struct tk_journal *j, struct jitem *items, size_t n)
{
	size_t i;

	if (j->stop)
		return TK_JOURNAL_ERR_CLOSED;
	for (i = 0; i < n; i++) {
		/* Stamped under the lock: queue order is time order. */
		tk_journal_now(items[i].time);
		items[i].next = NULL;
		if (j->tail != NULL)
			j->tail->next = &items[i];
		else
			j->head = &items[i];
		j->tail = &items[i];
	}
	pthread_cond_signal(&j->work);
	return 0;
}

/*
 * Waits for every item; returns how many leading items were acknowledged
 * and the first error. Items of one call are consecutive in the queue,
 * so they get consecutive indices, though they may span batches.
 */
static size_t
wait_locked(struct tk_journal *j, struct jitem *items, size_t n, int *rc)
{
	size_t i, acked = 0;

	*rc = 0;
	for (i = 0; i < n; i++) {
		/* The writer unlinks the batch before it sets done. */
		while (!items[i].done)
			pthread_cond_wait(&j->done, &j->lock);
		if (items[i].rc != 0 && *rc == 0)
			*rc = items[i].rc;
		if (*rc == 0)
			acked++;
	}
	return acked;
}

int
tk_journal_append_many(struct tk_journal *j,
    const struct tk_journal_entry *entries, size_t n, uint64_t *first_index,
    size_t *acked)
{
	struct jitem *items = NULL;
	size_t i, done = 0;
	int r = TK_JOURNAL_ERR_INVALID;

	if (acked != NULL)
		*acked = 0;
	if (j == NULL || entries == NULL || n == 0 ||
	    n > (size_t)j->max_batch * 16)
		return TK_JOURNAL_ERR_INVALID;
	if ((items = calloc(n, sizeof(*items))) == NULL)
		return TK_JOURNAL_ERR_NOMEM;
	for (i = 0; i < n; i++)
		if ((r = tk_journal_body(&entries[i], &items[i].body,
		    &items[i].body_len)) != 0)
			goto out;
	pthread_mutex_lock(&j->lock);
	if ((r = enqueue_locked(j, items, n)) == 0)
		done = wait_locked(j, items, n, &r);
	pthread_mutex_unlock(&j->lock);
	if (done > 0 && first_index != NULL)
		*first_index = items[0].index;
	if (acked != NULL)
		*acked = done;
out:
	items_free(items, n);
	return r;
}

int
tk_journal_append(struct tk_journal *j, const struct tk_journal_entry *entry,
    uint64_t *index_out)
{
	return tk_journal_append_many(j, entry, 1, index_out, NULL);
}
