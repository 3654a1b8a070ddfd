/* Private to libtwokey-verify: the verifier key structure. */
#ifndef TWOKEY_AUDIT_NOTE_KEYS_H
#define TWOKEY_AUDIT_NOTE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "twokey/note.h"

struct tk_note_verifier {
	char *name;
	uint32_t key_id;
	enum tk_note_type type;
	EVP_PKEY *pkey;
	uint8_t log_id[32];	/* 0x05 only: SHA-256(SPKI) */
};

/* SHA-256 over a || b || c (any may be empty, NULL with length 0). */
int note_sha256(const void *a, size_t alen, const void *b, size_t blen,
    const void *c, size_t clen, uint8_t out[32]);

#endif
