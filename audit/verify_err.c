/*
 * Names of the offline verifier library's error codes, and the helper
 * its parsers use to say why they refused an input (verify.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "twokey/verify.h"
#include "note_int.h"

int
verify_why(struct tk_verify_why *why, int err, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL)
		return err;
	va_start(ap, fmt);
	(void)vsnprintf(why->text, sizeof(why->text), fmt, ap);
	va_end(ap);
	return err;
}

/* The line (from 1) and byte in it (from 1) of offset off in s. */
void
verify_line_of(const char *s, size_t off, size_t *line, size_t *byte)
{
	size_t i, start = 0;

	*line = 1;
	for (i = 0; i < off; i++)
		if (s[i] == '\n') {
			(*line)++;
			start = i + 1;
		}
	*byte = off - start + 1;
}

const char *
tk_verify_strerror(int err)
{
	switch (err) {
	case TK_VERIFY_OK:
		return "success";
	case TK_VERIFY_ERR_NOMEM:
		return "out of memory";
	case TK_VERIFY_ERR_MALFORMED:
		return "malformed input";
	case TK_VERIFY_ERR_TOOBIG:
		return "input too large";
	case TK_VERIFY_ERR_RANGE:
		return "index or size out of range";
	case TK_VERIFY_ERR_PROOF_SIZE:
		return "proof has the wrong number of hashes";
	case TK_VERIFY_ERR_MISMATCH:
		return "proof does not lead to the root";
	case TK_VERIFY_ERR_EMPTY_OLD:
		return "consistency from the empty tree is refused";
	case TK_VERIFY_ERR_KEY:
		return "verifier key malformed or key ID mismatch";
	case TK_VERIFY_ERR_UNSUPPORTED:
		return "unsupported key or signature type";
	case TK_VERIFY_ERR_BAD_SIG:
		return "a trusted signature does not verify";
	case TK_VERIFY_ERR_NO_SIG:
		return "no trusted signature";
	case TK_VERIFY_ERR_ORIGIN:
		return "checkpoint origin is not the expected one";
	case TK_VERIFY_ERR_SOURCE:
		return "hash source failed";
	case TK_VERIFY_ERR_CRYPTO:
		return "cryptographic library failure";
	default:
		return "unknown error";
	}
}
