/*
 * An OpenSSL EVP_PKEY for an ECDSA P-256 key held elsewhere (a token, the
 * signer process): its public half is real, and signing calls back into
 * sign(arg, digest, rs) for the raw r||s signature of a digest. Lets
 * OpenSSL build certificates and CMS structures with keys it never sees.
 */
#ifndef TWOKEY_HSM_REMOTE_KEY_H
#define TWOKEY_HSM_REMOTE_KEY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

typedef int (*tk_remote_sign_fn)(void *arg, const uint8_t *digest,
    size_t len, uint8_t rs[64]);

/*
 * pub is an EC P-256 public key (not taken over); arg must outlive the key.
 * sign returns 0 on success. *out is freed with EVP_PKEY_free.
 */
int tk_remote_key_new(EVP_PKEY *pub, tk_remote_sign_fn sign, void *arg,
    EVP_PKEY **out);

#endif
