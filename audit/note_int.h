/* Private to libtwokey-verify: helpers shared by the note files. */
#ifndef TWOKEY_AUDIT_NOTE_INT_H
#define TWOKEY_AUDIT_NOTE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "twokey/verify.h"

size_t note_utf8_next(const uint8_t *s, size_t n, uint32_t *cp);
int note_text_valid(const char *s, size_t n);
/*
 * As note_text_valid, but says where the first bad character is (line
 * and byte in why); returns 0 or TK_VERIFY_ERR_MALFORMED.
 */
int note_text_check(const char *s, size_t n, struct tk_verify_why *why);

/*
 * Fills why (when not NULL) with the formatted phrase and returns err,
 * so that a parser writes `return verify_why(why, ERR, "...")`.
 */
int verify_why(struct tk_verify_why *why, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The line (from 1) and the byte in that line (from 1) of s[off]. */
void verify_line_of(const char *s, size_t off, size_t *line, size_t *byte);
/*
 * Strict decimal uint64 of exactly len bytes (no sign, no leading zero
 * unless 0, no overflow); used by checkpoints and tlog-proof files.
 */
int verify_parse_u64(const char *s, size_t len, uint64_t *out);
/*
 * The next newline-terminated line of s[0..len) at *off, without its
 * newline, and *off moved past it; -1 when no complete line is left.
 */
int verify_next_line(const char *s, size_t len, size_t *off,
    const char **line, size_t *llen);

#endif
