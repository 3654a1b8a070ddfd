/*
 * Journal exports: layout, reader and checker. This half lives in the
 * offline verifier library (libtwokey-verify.a): OpenSSL, jansson and
 * common/ only; the writer is tk_journal_export (journal.h).
 *
 * Layout of an export folder of entries [first, end):
 *
 *   export.json    {"format":"twokey-journal-export/1","origin":O,
 *                   "first":A,"end":E,"proofs":true|false}
 *   entries.jsonl  the leaves A .. E-1, verbatim bytes, each followed by
 *                  one "\n" (a leaf never contains a newline)
 *   prefix         the frontier of the tree of size A: one base64 hash
 *                  per line, largest subtree first (empty when A == 0);
 *                  it is trusted only once a signed root recomputes
 *   checkpoints/N  every signed checkpoint of size N with A <= N <= E,
 *                  and the latest one of the journal (N >= E); the first
 *                  one above A covers entry A, the one of size E covers
 *                  the last entry
 *   consistency/M-N  base64 hashes, one per line: RFC 9162 consistency
 *                  proof between each pair of successive checkpoints
 *   proofs/I.tlog-proof  (only with "proofs": true) c2sp.org/tlog-proof@v1
 *                  of entry I against the first checkpoint covering it
 *   keys/journal.vkey  C2SP verifier key: origin+keyid+base64(0x02||SPKI)
 *   keys/journal.pem   the same AUDIT public key as PEM
 *   keys/audit.pem     the AUDIT key's certificate (issued by the root)
 *   keys/root.pem      the root certificate; auditors pin its fingerprint
 *
 * What the checker proves (tk_export_check): the audit certificate chains
 * to the pinned root and holds the key of journal.vkey/journal.pem; every
 * checkpoint is signed by that key with the export's origin; successive
 * checkpoints are consistent; recomputing the tree from prefix and entries
 * gives the root of every checkpoint of size A..E (size and root always
 * from the same signed checkpoint), with each leaf's index field equal to
 * its position; every per-entry proof verifies; with a saved checkpoint
 * (since), that the log only grew from it. The first failure is named:
 * an entry index or a checkpoint size, and what is wrong.
 *
 * Not proved: that the export is the whole journal. Truncating entries
 * AND dropping the later checkpoints and editing export.json gives a
 * valid export of a shorter range; pass the last checkpoint you saved as
 * since to catch it.
 */
#ifndef TWOKEY_EXPORT_H
#define TWOKEY_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "twokey/merkle.h"

#define TK_EXPORT_FORMAT "twokey-journal-export/1"

enum tk_export_err {
	TK_EXPORT_OK = 0,
	TK_EXPORT_ERR_NOMEM = -300,
	TK_EXPORT_ERR_IO = -301,	/* a file cannot be read */
	TK_EXPORT_ERR_MALFORMED = -302,	/* a file does not parse */
	TK_EXPORT_ERR_TOOBIG = -303,	/* over a documented limit */
	TK_EXPORT_ERR_CHAIN = -304,	/* certificate not from the root */
	TK_EXPORT_ERR_KEY = -305,	/* key differs from the cert's */
	TK_EXPORT_ERR_UNKNOWN_KEY = -306, /* note not signed by our key */
	TK_EXPORT_ERR_BAD_SIG = -307,	/* a signature does not verify */
	TK_EXPORT_ERR_INCONSISTENT = -308, /* checkpoints disagree */
	TK_EXPORT_ERR_EDITED = -309,	/* entry bytes changed */
	TK_EXPORT_ERR_DELETED = -310,	/* entry missing */
	TK_EXPORT_ERR_INSERTED = -311,	/* entry not in the log */
	TK_EXPORT_ERR_REORDERED = -312,	/* entries swapped */
	TK_EXPORT_ERR_TRUNCATED = -313,	/* entries cut off at the end */
	TK_EXPORT_ERR_PROOF = -314,	/* per-entry proof does not verify */
	TK_EXPORT_ERR_SHRUNK = -315,	/* log smaller than the saved one */
	TK_EXPORT_ERR_FORK = -316,	/* saved checkpoint not in the log */
	TK_EXPORT_ERR_INVALID = -317,	/* bad argument */
};

const char *tk_export_strerror(int err);

/* Limits checked before anything is parsed. */
#define TK_EXPORT_MAX_LEAF ((size_t)1 << 20)
#define TK_EXPORT_MAX_ENTRIES ((size_t)1 << 30)
#define TK_EXPORT_MAX_SMALL ((size_t)64 * 1024)  /* keys, notes, proofs */
#define TK_EXPORT_MAX_FILES ((size_t)1 << 24)

/* One named file of an export, as read from disk or built in memory. */
struct tk_export_file {
	const char *name;		/* e.g. "checkpoints/7" */
	const uint8_t *data;
	size_t len;
};

struct tk_export_leaf {
	const uint8_t *data;		/* points into the entries file */
	size_t len;
};

struct tk_export_note {
	uint64_t size;			/* from the file name */
	char *text;			/* the file, NUL-terminated */
	size_t len;
};

struct tk_export_cons {
	uint64_t m, n;			/* from the file name */
	char *text;
	size_t len;
};

struct tk_export_proof {
	uint64_t index;
	char *text;
	size_t len;
};

/*
 * A loaded export. Fields are public so that tests can alter it in memory
 * (reorder leaves, drop one) and re-run the entry checks cheaply.
 */
struct tk_export {
	char *origin;
	uint64_t first, end;
	int has_proofs;
	uint8_t *entries_buf;		/* the entries file */
	size_t entries_len;
	struct tk_export_leaf *leaves;	/* lines of entries_buf */
	size_t nleaves;
	tk_merkle_hash *prefix;		/* frontier of size first */
	size_t nprefix;
	struct tk_export_note *notes;	/* sorted by size */
	size_t nnotes;
	struct tk_export_cons *cons;	/* sorted by m */
	size_t ncons;
	struct tk_export_proof *proofs;	/* sorted by index */
	size_t nproofs;
	char *vkey, *journal_pem, *audit_pem, *root_pem;
	size_t vkey_len, journal_pem_len, audit_pem_len, root_pem_len;
};

/*
 * What went wrong (first failure) and, on success, the summary. bad_entry
 * and bad_checkpoint are -1 (UINT64_MAX) when they do not apply.
 */
struct tk_export_report {
	int err;
	uint64_t bad_entry;
	uint64_t bad_checkpoint;	/* a checkpoint size */
	char what[256];
	/* summary */
	uint64_t first, end, latest_size;
	size_t checkpoints;
	char first_time[32], last_time[32];
	char signer[256];		/* audit certificate subject */
	char key_id[9];			/* hex note key ID */
};

/* Builds an export from files (copied); caller frees with tk_export_free. */
int tk_export_from_files(const struct tk_export_file *files, size_t n,
    struct tk_export **out, struct tk_export_report *rep);
/* Reads the folder dir (regular files only) and calls the above. */
int tk_export_load(const char *dir, struct tk_export **out,
    struct tk_export_report *rep);
void tk_export_free(struct tk_export **ep);

/*
 * The trust anchor: exactly one of root (the pinned root certificate) or
 * fingerprint (SHA-256 of the root's DER, 32 bytes). since (optional) is a
 * signed checkpoint the auditor saved earlier.
 */
struct tk_export_trust {
	X509 *root;
	const uint8_t *fingerprint;
	const char *since;
	size_t since_len;
};

/*
 * Two phases so that callers can re-check altered entries cheaply:
 * tk_export_checker_new checks keys, chain, checkpoint signatures and
 * consistency; tk_export_checker_entries checks the entries (and proofs
 * and since) against them, and may be called again after exp->leaves
 * changed. Both return 0 or an error, also stored in rep->err.
 */
struct tk_export_checker;
int tk_export_checker_new(const struct tk_export *exp,
    const struct tk_export_trust *trust, struct tk_export_checker **out,
    struct tk_export_report *rep);
int tk_export_checker_entries(struct tk_export_checker *c,
    const struct tk_export *exp, struct tk_export_report *rep);
void tk_export_checker_free(struct tk_export_checker **cp);

/* Both phases. */
int tk_export_check(const struct tk_export *exp,
    const struct tk_export_trust *trust, struct tk_export_report *rep);

#endif
