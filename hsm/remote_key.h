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

/* Signs a digest, returning 0 and the raw r||s. */
struct tk_remote_signer {
	int (*sign)(void *arg, const uint8_t *digest, size_t len,
	    uint8_t rs[64]);
	void *arg;
};

/*
 * pub is an EC P-256 public key (not taken over). The caller owns rs and
 * keeps it alive until the key is freed (EVP_PKEY_free).
 */
int tk_remote_key_new(EVP_PKEY *pub, const struct tk_remote_signer *rs,
    EVP_PKEY **out);

#endif
