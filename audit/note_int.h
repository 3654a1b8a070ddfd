/* Private to libtwokey-verify: helpers shared by the note files. */
#ifndef TWOKEY_AUDIT_NOTE_INT_H
#define TWOKEY_AUDIT_NOTE_INT_H

#include <stddef.h>
#include <stdint.h>

size_t note_utf8_next(const uint8_t *s, size_t n, uint32_t *cp);
int note_text_valid(const char *s, size_t n);
/*
 * Strict decimal uint64 of exactly len bytes (no sign, no leading zero
 * unless 0, no overflow); used by checkpoints and tlog-proof files.
 */
int verify_parse_u64(const char *s, size_t len, uint64_t *out);

#endif
