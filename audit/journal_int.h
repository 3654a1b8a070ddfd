/* Internal to libtwokey-audit.a: shared by audit/journal*.c. */
#ifndef TWOKEY_JOURNAL_INT_H
#define TWOKEY_JOURNAL_INT_H

#include <pthread.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "twokey/hsm.h"
#include "twokey/journal.h"
#include "twokey/merkle.h"
#include "twokey/note.h"

#define TK_JOURNAL_TIME_LEN 25	/* "YYYY-MM-DDTHH:MM:SS.mmmZ" + NUL */

/* One queued append, on the appender's stack. */
struct jitem {
	char *body;
	size_t body_len;
	char time[TK_JOURNAL_TIME_LEN];
	uint64_t index;
	int rc;
	int done;
	struct jitem *next;
};

struct tk_journal {
	char *origin;
	struct tk_signer *signer;
	EVP_PKEY *pub;			/* AUDIT public key */
	struct tk_note_verifier *ver;
	unsigned int max_batch;

	/* writer side: only the writer thread touches these */
	sqlite3 *wdb;
	struct tk_merkle_builder *tree;

	/* reader side: proofs, export, look-ups */
	sqlite3 *rdb;
	pthread_mutex_t rlock;

	/* queue */
	pthread_mutex_t lock;
	pthread_cond_t work;
	pthread_cond_t done;
	struct jitem *head, *tail;
	uint64_t size;			/* committed, under lock */
	uint64_t ncheckpoints;		/* committed, under lock */
	char *latest;			/* the latest checkpoint's note, */
	size_t latest_len;		/* under lock: read at every GET */
	int stop;
	int started;
	pthread_t thread;
};

int tk_journal_body(const struct tk_journal_entry *e, char **out,
    size_t *outlen);
int tk_journal_join(uint64_t index, const char *time, const char *body,
    size_t body_len, char **out, size_t *outlen);
void tk_journal_now(char out[TK_JOURNAL_TIME_LEN]);
void *tk_journal_writer_main(void *arg);
int tk_journal_tlog_proof_locked(struct tk_journal *j, uint64_t index,
    uint64_t size, char **out, size_t *outlen);

/* journal_db.c */
int jdb_open(const char *path, sqlite3 **out);
int jdb_exec(sqlite3 *db, const char *sql);
int jdb_check_origin(sqlite3 *db, const char *origin);
int jdb_latest(sqlite3 *db, uint64_t *size, tk_merkle_hash root,
    char **note, size_t *note_len);
int jdb_count(sqlite3 *db, const char *sql, uint64_t *n);
int jdb_frontier(sqlite3 *db, uint64_t size, tk_merkle_hash *out,
    size_t *count);
void jdb_source(sqlite3 *db, struct tk_merkle_source *src);
int jdb_insert_entry(sqlite3 *db, uint64_t idx, const char *time,
    const char *leaf, size_t len, const tk_merkle_hash hash);
int jdb_insert_node(sqlite3 *db, unsigned level, uint64_t idx,
    const tk_merkle_hash hash);
int jdb_insert_checkpoint(sqlite3 *db, uint64_t size,
    const tk_merkle_hash root, const char *note, size_t len);
int jdb_checkpoint(sqlite3 *db, uint64_t size, char **note, size_t *len);
int jdb_covering(sqlite3 *db, uint64_t index, uint64_t *size);
int jdb_entry(sqlite3 *db, uint64_t index, uint8_t **leaf, size_t *len);

#endif
