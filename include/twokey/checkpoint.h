/*
 * c2sp.org/tlog-checkpoint note text:
 *
 *   <origin>\n
 *   <size, decimal, no leading zeros, "0" for empty>\n
 *   <base64 (standard, padded) of the 32-byte SHA-256 root>\n
 *   [<non-empty extension line>\n ...]
 *
 * The parser is strict where C2SP is (it follows the "expect_c2sp"
 * verdicts of the shared vectors): the text must end in a newline, the
 * root must decode to exactly 32 bytes, extension lines must be
 * non-empty, the origin non-empty. Errors are enum tk_verify_err.
 */
#ifndef TWOKEY_CHECKPOINT_H
#define TWOKEY_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "twokey/merkle.h"
#include "twokey/note.h"
#include "twokey/verify.h"

struct tk_checkpoint {
	char *origin;		/* NUL-terminated, no newline */
	uint64_t size;
	tk_merkle_hash root;
	char *extensions;	/* extension lines, each ending in \n; */
	size_t ext_len;		/* NULL and 0 when there are none */
};

/* Parses checkpoint text of len bytes; caller frees *out. */
int tk_checkpoint_parse(const char *text, size_t len,
    struct tk_checkpoint **out);
/* The same, and on failure why (may be NULL) says what is wrong. */
int tk_checkpoint_parse_why(const char *text, size_t len,
    struct tk_checkpoint **out, struct tk_verify_why *why);
void tk_checkpoint_free(struct tk_checkpoint **cpp);

/*
 * Formats cp as checkpoint text (what gets signed). Refuses an empty
 * origin or one with a newline, and extensions that are not non-empty
 * lines. Caller frees *out (NUL-terminated; *outlen without the NUL).
 */
int tk_checkpoint_format(const struct tk_checkpoint *cp, char **out,
    size_t *outlen);

/*
 * Opens a signed checkpoint: parses the note, verifies it against keys
 * (note.h rule), parses its text. When origin is not NULL the checkpoint
 * origin must equal it (TK_VERIFY_ERR_ORIGIN). *out receives the
 * checkpoint, caller frees; only then are its size and root to be used.
 */
int tk_checkpoint_open(const char *msg, size_t len,
    struct tk_note_verifier *const *keys, size_t nkeys, const char *origin,
    struct tk_checkpoint **out);

#endif
