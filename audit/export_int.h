/* Internal to the export reader and checker (libtwokey-verify.a). */
#ifndef TWOKEY_EXPORT_INT_H
#define TWOKEY_EXPORT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "twokey/export.h"
#include "twokey/merkle.h"

#define TK_EXPORT_NONE UINT64_MAX

/* Records the first failure in rep (if not NULL); returns err. */
int tk_export_fail(struct tk_export_report *rep, int err, uint64_t entry,
    uint64_t checkpoint, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void tk_export_report_init(struct tk_export_report *rep);

/*
 * Decodes base64 hashes, one per line, each line ending in "\n"; at most
 * max hashes. 0 or TK_EXPORT_ERR_MALFORMED.
 */
int tk_export_hash_lines(const char *text, size_t len, tk_merkle_hash *out,
    size_t max, size_t *n);

/* Strict decimal without leading zeros, whole string. */
int tk_export_parse_u64(const char *s, size_t len, uint64_t *out);

#endif
