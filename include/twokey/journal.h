/*
 * journal: the signed audit journal (libtwokey-audit.a).
 *
 * Every change of state is appended as one entry of an RFC 9162 Merkle
 * tree kept in SQLite (WAL, synchronous=FULL). Checkpoints are C2SP
 * tlog-checkpoint notes signed through the signer process with the AUDIT
 * key (note signature type 0x02, ECDSA P-256); every checkpoint ever
 * issued is kept.
 *
 * Leaf format ("canonical entry v1"). The leaf is the exact byte string
 * hashed into the tree, stored verbatim and never re-serialised:
 *
 *   {"index":N,"time":"YYYY-MM-DDTHH:MM:SS.mmmZ","actor":"...",
 *    "action":"...","object":"...","correlation_id":"...","details":{...}}
 *
 * - the seven members, always all present, in exactly this order;
 * - index is the 0-based leaf index, decimal without leading zeros;
 * - time is UTC with milliseconds, taken when the entry was queued;
 * - details is a JSON object; inside it object members are sorted by key
 *   (bytewise on UTF-8), numbers must be integers (reals are refused);
 * - compact (no whitespace); non-ASCII and control characters escaped
 *   as \uXXXX with upper-case hex, except \b \f \n \r \t, '"' and '\\'
 *   (jansson 2.14 JSON_COMPACT | JSON_ENSURE_ASCII; '/' is not escaped),
 *   so a leaf is ASCII without newlines and fits on one export line.
 * The fixed prefix {"index":N,"time":"..." lets a verifier check position
 * and time without a JSON parser.
 *
 * Durability and failure. tk_journal_append returns 0 only once the entry
 * AND a signed checkpoint covering it are committed in one SQLite
 * transaction (synchronous=FULL). Appenders are batched: one writer
 * thread takes every queued entry, writes them, signs one checkpoint for
 * the batch and commits; while that signature is in flight the next
 * batch gathers. If writing, signing or committing fails, the whole
 * transaction is rolled back: every appender of the batch gets an error
 * and none of its entries exists afterwards (their indices are reused by
 * the next batch). So an entry in the journal always means "acknowledged
 * and covered by a checkpoint", and a failed append means the action
 * must fail: nothing happens unrecorded, and nothing is recorded that was
 * refused. A signature that the signer made but that never became
 * durable (timeout, crash, failed commit) is discarded unseen, so no two
 * published checkpoints are inconsistent.
 *
 * Errors are 0 or enum tk_journal_err; tk_journal_strerror names them.
 */
#ifndef TWOKEY_JOURNAL_H
#define TWOKEY_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "twokey/hsm.h"
#include "twokey/merkle.h"

enum tk_journal_err {
	TK_JOURNAL_OK = 0,
	TK_JOURNAL_ERR_NOMEM = -200,
	TK_JOURNAL_ERR_INVALID = -201,	/* bad entry or argument */
	TK_JOURNAL_ERR_TOOBIG = -202,	/* entry over the size limits */
	TK_JOURNAL_ERR_DB = -203,	/* SQLite failed */
	TK_JOURNAL_ERR_SIGN = -204,	/* the signer failed: not recorded */
	TK_JOURNAL_ERR_CORRUPT = -205,	/* stored state does not add up */
	TK_JOURNAL_ERR_RANGE = -206,	/* no such entry or checkpoint */
	TK_JOURNAL_ERR_CLOSED = -207,	/* journal is shutting down */
	TK_JOURNAL_ERR_IO = -208,	/* export could not be written */
	TK_JOURNAL_ERR_ORIGIN = -209,	/* database has another origin */
	TK_JOURNAL_ERR_KEY = -210,	/* audit key does not match */
};

const char *tk_journal_strerror(int err);

/* Limits on one entry. */
#define TK_JOURNAL_MAX_FIELD 1024	/* actor, action, ... (bytes) */
#define TK_JOURNAL_MAX_DETAILS 65536	/* serialised details (bytes) */
#define TK_JOURNAL_MAX_DEPTH 16		/* nesting inside details */

struct tk_journal;

struct tk_journal_config {
	const char *path;		/* SQLite database file */
	/*
	 * Checkpoint origin and key name, e.g. "twokey/<id>/journal":
	 * printable ASCII without spaces or '+'. Fixed for a database.
	 */
	const char *origin;
	struct tk_signer *signer;	/* not owned; must outlive j */
	unsigned int max_batch;		/* 0: 4096 entries per checkpoint */
};

/* What the caller supplies; index and time are added by the journal. */
struct tk_journal_entry {
	const char *actor;		/* required, non-empty */
	const char *action;		/* required, non-empty */
	const char *object;		/* NULL for "" */
	const char *correlation_id;	/* NULL for "" */
	const json_t *details;		/* a JSON object; NULL for {} */
};

/*
 * Opens (creating if needed) the journal at cfg->path, checks that the
 * stored tree matches its latest checkpoint and that the checkpoint
 * verifies with the signer's AUDIT key, and starts the writer thread.
 * Caller frees *out with tk_journal_free, which drains queued appends.
 */
int tk_journal_open(const struct tk_journal_config *cfg,
    struct tk_journal **out);
void tk_journal_free(struct tk_journal **jp);

/*
 * Appends one entry; blocks until it and a signed checkpoint covering it
 * are durable, then stores its index in *index_out (may be NULL). On error
 * nothing of the entry remains. Thread safe.
 */
int tk_journal_append(struct tk_journal *j,
    const struct tk_journal_entry *entry, uint64_t *index_out);

/*
 * Appends n entries (at most 16 batches' worth) with consecutive indices,
 * the first in *first_index, and blocks until every one is durable under
 * a signed checkpoint. For callers that have several events at once (an
 * import, a burst of usage reports): one caller then fills a batch that
 * would otherwise need many concurrent callers, so a slow token signs
 * once for many entries. The entries may span batches: on error,
 * *acked (may be NULL) tells how many leading entries were nevertheless
 * recorded; the rest were not. Thread safe.
 */
int tk_journal_append_many(struct tk_journal *j,
    const struct tk_journal_entry *entries, size_t n, uint64_t *first_index,
    size_t *acked);

/*
 * The canonical leaf bytes for entry at index and time (the format above).
 * Exposed so that tests and tools can rebuild a leaf; caller frees *out.
 */
int tk_journal_leaf(const struct tk_journal_entry *entry, uint64_t index,
    const char *time, char **out, size_t *outlen);

/* Size of the latest checkpoint (= number of entries). */
int tk_journal_size(struct tk_journal *j, uint64_t *size);
/* Number of checkpoints issued so far. */
int tk_journal_checkpoint_count(struct tk_journal *j, uint64_t *count);

/* The leaf bytes of entry index; caller frees *leaf. */
int tk_journal_entry_get(struct tk_journal *j, uint64_t index,
    uint8_t **leaf, size_t *len);

/*
 * The signed checkpoint note of tree size `size` (0: the latest); caller
 * frees *note. TK_JOURNAL_ERR_RANGE if no checkpoint has that size.
 */
int tk_journal_checkpoint(struct tk_journal *j, uint64_t size, char **note,
    size_t *len);
/*
 * The size of the first checkpoint that covers entry index (the checkpoint
 * of its batch).
 */
int tk_journal_covering_size(struct tk_journal *j, uint64_t index,
    uint64_t *size);

/*
 * Inclusion proof of entry index against the checkpoint of size `size`,
 * and consistency proof between the checkpoints of sizes m < n. Both sizes
 * must be checkpoints. proof holds TK_MERKLE_MAX_PROOF hashes.
 */
int tk_journal_inclusion_proof(struct tk_journal *j, uint64_t index,
    uint64_t size, tk_merkle_hash *proof, size_t *len);
int tk_journal_consistency_proof(struct tk_journal *j, uint64_t m,
    uint64_t n, tk_merkle_hash *proof, size_t *len);
/*
 * A c2sp.org/tlog-proof@v1 file for entry index against the checkpoint of
 * size `size` (0: the first checkpoint covering it); caller frees *out.
 */
int tk_journal_tlog_proof(struct tk_journal *j, uint64_t index,
    uint64_t size, char **out, size_t *outlen);

/* Export flags. */
#define TK_JOURNAL_EXPORT_PROOFS 0x1	/* proofs/<index>.tlog-proof */
/*
 * Leave out the journal's latest checkpoint when it lies beyond end, so
 * that one range gives the same files however the journal grew since
 * (evidence packs).
 */
#define TK_JOURNAL_EXPORT_NO_LATEST 0x2

/*
 * Writes a self-contained export of entries [first, end) to the folder dir
 * (created, mode 0755; must not exist or be empty). end is rounded up to
 * the size of the first checkpoint covering entry end - 1, so that every
 * exported entry is in an exported checkpoint; end == 0 means "up to the
 * latest checkpoint". The layout is described in export.h.
 */
int tk_journal_export(struct tk_journal *j, uint64_t first, uint64_t end,
    const char *dir, unsigned int flags);

/* One file of an export built in memory (data NUL-terminated). */
struct tk_journal_file {
	char *name;			/* e.g. "checkpoints/7" */
	uint8_t *data;
	size_t len;
};

/*
 * The export of tk_journal_export as files in memory, in the order they
 * were made; free with tk_journal_files_free(files, n).
 */
int tk_journal_export_files(struct tk_journal *j, uint64_t first,
    uint64_t end, unsigned int flags, struct tk_journal_file **files,
    size_t *n);
void tk_journal_files_free(struct tk_journal_file **files, size_t n);

/*
 * The first index whose entry time is at or after time (the leaf's
 * "YYYY-MM-DDTHH:MM:SS.mmmZ" form); the journal's size when there is
 * none. Entry times follow index order up to the milliseconds between
 * queueing and writing, so this is the boundary of a period.
 */
int tk_journal_index_at(struct tk_journal *j, const char *time,
    uint64_t *index);

/* Called for each entry found; a nonzero return stops the scan. */
typedef int (*tk_journal_visit_fn)(void *arg, uint64_t index,
    const uint8_t *leaf, size_t len);

/*
 * Calls fn, in index order, for every entry with first <= index < end
 * whose action is action. Returns 0, fn's nonzero value, or an error.
 */
int tk_journal_scan_action(struct tk_journal *j, const char *action,
    uint64_t first, uint64_t end, tk_journal_visit_fn fn, void *arg);

/*
 * The signer that signs this journal's checkpoints (with the AUDIT key),
 * for the other things that key signs (evidence packs). Not owned.
 */
struct tk_signer *tk_journal_signer(struct tk_journal *j);

#endif
