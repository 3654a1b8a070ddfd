/*
 * Error vocabulary of the offline verifier library (libtwokey-verify.a):
 * Merkle proofs (merkle.h), signed notes (note.h), checkpoints
 * (checkpoint.h) and c2sp.org/tlog-proof files (tlogproof.h).
 *
 * Every function of the library returns 0 (TK_VERIFY_OK) or one of the
 * negative codes below; tk_verify_strerror names them. The library depends
 * on OpenSSL, jansson and common/ only, never on the token, SQLite or the
 * daemon, so that twokey-verify can be built and shipped alone.
 */
#ifndef TWOKEY_VERIFY_H
#define TWOKEY_VERIFY_H

enum tk_verify_err {
	TK_VERIFY_OK = 0,
	TK_VERIFY_ERR_NOMEM = -1,
	TK_VERIFY_ERR_MALFORMED = -2,	/* input does not parse */
	TK_VERIFY_ERR_TOOBIG = -3,	/* input over a documented limit */
	TK_VERIFY_ERR_RANGE = -4,	/* index >= size, old size > new */
	TK_VERIFY_ERR_PROOF_SIZE = -5,	/* wrong number of proof hashes */
	TK_VERIFY_ERR_MISMATCH = -6,	/* proof does not lead to the root */
	TK_VERIFY_ERR_EMPTY_OLD = -7,	/* consistency from size 0 refused */
	TK_VERIFY_ERR_KEY = -8,		/* verifier key malformed or bad ID */
	TK_VERIFY_ERR_UNSUPPORTED = -9,	/* signature type or curve unknown */
	TK_VERIFY_ERR_BAD_SIG = -10,	/* a trusted signer's sig fails */
	TK_VERIFY_ERR_NO_SIG = -11,	/* no trusted signature on the note */
	TK_VERIFY_ERR_ORIGIN = -12,	/* checkpoint origin not expected */
	TK_VERIFY_ERR_SOURCE = -13,	/* hash source callback failed */
	TK_VERIFY_ERR_CRYPTO = -14,	/* OpenSSL failed internally */
};

/* A static English phrase for an error code; never NULL. */
const char *tk_verify_strerror(int err);

/*
 * Why an input was refused, for the person who has to fix or judge it:
 * the first problem the parser found, e.g. "line 2 is not a tree size".
 * The *_why variants of the parsers fill it (text is "" on success and
 * when there is nothing to add to tk_verify_strerror). The text quotes
 * no byte of the input, so it is safe to print as it is.
 */
struct tk_verify_why {
	char text[192];
};

#endif
