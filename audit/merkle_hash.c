/*
 * SHA-256 for the Merkle tree.
 *
 * A tree over n entries costs about 2n SHA-256 calls on short inputs (a
 * 65-byte node hash is two compression blocks). Measured here with
 * OpenSSL 3.0 and SHA-NI, the EVP layer adds 70-110 ns per call (provider
 * context set-up on every EVP_DigestInit_ex2), which alone drops root
 * computation well under half of sha256sum's throughput. The SHA256_*
 * functions are deprecated in 3.0 but present and have no per-call
 * set-up, so on 3.x this file uses them, and only this file. Where they
 * are gone (OPENSSL_NO_DEPRECATED_3_0, or a 4.x without them) the EVP
 * path below is compiled instead: same results, slower.
 */
/* Must precede every OpenSSL header; affects this file only. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/opensslv.h>

#if OPENSSL_VERSION_MAJOR == 3 && !defined(OPENSSL_NO_DEPRECATED_3_0)
#define MERKLE_LOWLEVEL 1
#include <openssl/sha.h>
#else
#define MERKLE_LOWLEVEL 0
#include <openssl/evp.h>
#endif

#include <stdlib.h>
#include <string.h>

#include "merkle_hash.h"

static const uint8_t prefix_leaf = 0x00;
static const uint8_t prefix_node = 0x01;

#if MERKLE_LOWLEVEL

struct merkle_hasher {
	SHA256_CTX c;
};

struct merkle_hasher *
merkle_hasher_new(void)
{
	return calloc(1, sizeof(struct merkle_hasher));
}

void
merkle_hasher_free(struct merkle_hasher **hp)
{
	if (hp == NULL || *hp == NULL)
		return;
	free(*hp);
	*hp = NULL;
}

int
merkle_hash_leaf(struct merkle_hasher *h, const void *data, size_t len,
    tk_merkle_hash out)
{
	SHA256_Init(&h->c);
	SHA256_Update(&h->c, &prefix_leaf, 1);
	SHA256_Update(&h->c, data, len);
	SHA256_Final(out, &h->c);
	return TK_VERIFY_OK;
}

int
merkle_hash_node(struct merkle_hasher *h, const tk_merkle_hash l,
    const tk_merkle_hash r, tk_merkle_hash out)
{
	uint8_t buf[1 + 2 * TK_MERKLE_HASH_LEN];

	buf[0] = prefix_node;
	memcpy(buf + 1, l, TK_MERKLE_HASH_LEN);
	memcpy(buf + 1 + TK_MERKLE_HASH_LEN, r, TK_MERKLE_HASH_LEN);
	SHA256_Init(&h->c);
	SHA256_Update(&h->c, buf, sizeof(buf));
	SHA256_Final(out, &h->c);
	return TK_VERIFY_OK;
}

#else

struct merkle_hasher {
	EVP_MD *md;
	EVP_MD_CTX *ctx;
};

struct merkle_hasher *
merkle_hasher_new(void)
{
	struct merkle_hasher *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	if ((h->md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (h->ctx = EVP_MD_CTX_new()) == NULL)
		merkle_hasher_free(&h);
	return h;
}

void
merkle_hasher_free(struct merkle_hasher **hp)
{
	if (hp == NULL || *hp == NULL)
		return;
	EVP_MD_CTX_free((*hp)->ctx);
	EVP_MD_free((*hp)->md);
	free(*hp);
	*hp = NULL;
}

static int
evp_hash2(struct merkle_hasher *h, uint8_t prefix, const void *a,
    size_t alen, const void *b, size_t blen, tk_merkle_hash out)
{
	if (EVP_DigestInit_ex2(h->ctx, h->md, NULL) != 1 ||
	    EVP_DigestUpdate(h->ctx, &prefix, 1) != 1 ||
	    EVP_DigestUpdate(h->ctx, a, alen) != 1 ||
	    (blen > 0 && EVP_DigestUpdate(h->ctx, b, blen) != 1) ||
	    EVP_DigestFinal_ex(h->ctx, out, NULL) != 1)
		return TK_VERIFY_ERR_CRYPTO;
	return TK_VERIFY_OK;
}

int
merkle_hash_leaf(struct merkle_hasher *h, const void *data, size_t len,
    tk_merkle_hash out)
{
	return evp_hash2(h, prefix_leaf, data, len, NULL, 0, out);
}

int
merkle_hash_node(struct merkle_hasher *h, const tk_merkle_hash l,
    const tk_merkle_hash r, tk_merkle_hash out)
{
	uint8_t buf[2 * TK_MERKLE_HASH_LEN];

	memcpy(buf, l, TK_MERKLE_HASH_LEN);
	memcpy(buf + TK_MERKLE_HASH_LEN, r, TK_MERKLE_HASH_LEN);
	return evp_hash2(h, prefix_node, buf, sizeof(buf), NULL, 0, out);
}

#endif
