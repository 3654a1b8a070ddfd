/*
 * Private to libtwokey-verify: the two RFC 9162 hash shapes over one
 * reusable SHA-256 state. See merkle_hash.c for why this does not go
 * through EVP on OpenSSL 3.0.
 */
#ifndef TWOKEY_AUDIT_MERKLE_HASH_H
#define TWOKEY_AUDIT_MERKLE_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "twokey/merkle.h"

struct merkle_hasher;

/* NULL without memory; free with merkle_hasher_free. */
struct merkle_hasher *merkle_hasher_new(void);
void merkle_hasher_free(struct merkle_hasher **hp);

/* SHA-256(0x00 || data); 0 or TK_VERIFY_ERR_CRYPTO. */
int merkle_hash_leaf(struct merkle_hasher *h, const void *data, size_t len,
    tk_merkle_hash out);
/* SHA-256(0x01 || l || r); out may alias l or r. */
int merkle_hash_node(struct merkle_hasher *h, const tk_merkle_hash l,
    const tk_merkle_hash r, tk_merkle_hash out);

#endif
