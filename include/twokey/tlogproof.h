/*
 * c2sp.org/tlog-proof@v1: a self-contained, offline inclusion proof, like
 * a detached signature for one log entry:
 *
 *   c2sp.org/tlog-proof@v1\n
 *   [extra <base64>\n]
 *   index <decimal>\n
 *   <base64 32-byte hash>\n ...      (the audit path, leaf side first)
 *   \n
 *   <signed checkpoint note, verbatim>
 *
 * Parsing checks the layout only; tk_tlog_proof_verify checks the
 * checkpoint signature and then the inclusion of SHA-256(0x00 || entry)
 * at index, with size and root taken from the signed checkpoint only.
 * Errors are enum tk_verify_err.
 */
#ifndef TWOKEY_TLOGPROOF_H
#define TWOKEY_TLOGPROOF_H

#include <stddef.h>
#include <stdint.h>

#include "twokey/checkpoint.h"
#include "twokey/merkle.h"
#include "twokey/note.h"

#define TK_TLOG_PROOF_HEADER "c2sp.org/tlog-proof@v1"
/* Whole proof files over this size are refused before parsing. */
#define TK_TLOG_PROOF_MAX_LEN ((size_t)2 * 1024 * 1024)

struct tk_tlog_proof {
	int has_extra;
	uint8_t *extra;		/* decoded "extra" bytes (may be empty) */
	size_t extra_len;
	uint64_t index;
	tk_merkle_hash *hashes;	/* at most TK_MERKLE_MAX_PROOF */
	size_t nhashes;
	char *checkpoint;	/* the signed note, verbatim, NUL-terminated */
	size_t checkpoint_len;
};

/* Parses a proof file of len bytes; caller frees *out. */
int tk_tlog_proof_parse(const char *text, size_t len,
    struct tk_tlog_proof **out);
/* The same, and on failure why (may be NULL) says what is wrong. */
int tk_tlog_proof_parse_why(const char *text, size_t len,
    struct tk_tlog_proof **out, struct tk_verify_why *why);
void tk_tlog_proof_free(struct tk_tlog_proof **pp);

/* Formats p; caller frees *out (NUL-terminated, *outlen without NUL). */
int tk_tlog_proof_format(const struct tk_tlog_proof *p, char **out,
    size_t *outlen);

/*
 * Verifies that entry (len bytes, the leaf bytes verbatim) is in the log
 * at p->index: opens p->checkpoint with keys and origin (see
 * tk_checkpoint_open), then checks the audit path against its size and
 * root. On success *cp (optional) receives the checkpoint; caller frees.
 */
int tk_tlog_proof_verify(const struct tk_tlog_proof *p, const void *entry,
    size_t len, struct tk_note_verifier *const *keys, size_t nkeys,
    const char *origin, struct tk_checkpoint **cp);

#endif
