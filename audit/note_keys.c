/*
 * Signed-note verifier keys: parsing vkeys, building them from public
 * keys, and key IDs. Only P-256 is accepted for ECDSA (0x02, 0x05): it is
 * what twokey's tokens sign with, and what witnesses SHOULD use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "twokey/common.h"
#include "twokey/note.h"
#include "note_keys.h"
#include "note_int.h"

void
tk_note_verifier_free(struct tk_note_verifier **vp)
{
	if (vp == NULL || *vp == NULL)
		return;
	EVP_PKEY_free((*vp)->pkey);
	free((*vp)->name);
	free(*vp);
	*vp = NULL;
}

const char *
tk_note_verifier_name(const struct tk_note_verifier *v)
{
	return v->name;
}

uint32_t
tk_note_verifier_key_id(const struct tk_note_verifier *v)
{
	return v->key_id;
}

enum tk_note_type
tk_note_verifier_type(const struct tk_note_verifier *v)
{
	return v->type;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* SHA-256 over a || b || c (any may be empty). */
int
note_sha256(const void *a, size_t alen, const void *b, size_t blen,
    const void *c, size_t clen, uint8_t out[32])
{
	EVP_MD_CTX *ctx;
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return TK_VERIFY_ERR_NOMEM;
	ok = EVP_DigestInit_ex2(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, a, alen) == 1 &&
	    EVP_DigestUpdate(ctx, b, blen) == 1 &&
	    EVP_DigestUpdate(ctx, c, clen) == 1 &&
	    EVP_DigestFinal_ex(ctx, out, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? TK_VERIFY_OK : TK_VERIFY_ERR_CRYPTO;
}

/* SHA-256(name || 0x0A || type || key)[:4], the C2SP recommended ID. */
static int
named_key_id(const char *name, uint8_t type, const uint8_t *key,
    size_t len, uint32_t *id)
{
	uint8_t sep[2] = { '\n', type }, d[32];
	int r;

	if ((r = note_sha256(name, strlen(name), sep, 2, key, len, d)) != 0)
		return r;
	*id = be32(d);
	return TK_VERIFY_OK;
}

/* 1 if pkey is an EC key on P-256. */
static int
is_p256(EVP_PKEY *pkey)
{
	char group[64];
	size_t glen = 0;

	if (!EVP_PKEY_is_a(pkey, "EC"))
		return 0;
	if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), &glen) != 1)
		return 0;
	return strcmp(group, "prime256v1") == 0;
}

/*
 * The key bytes that follow the type byte in a vkey: DER SPKI for P-256,
 * the raw 32 bytes for Ed25519. Caller frees *out.
 */
static int
key_bytes(EVP_PKEY *pkey, uint8_t *type, uint8_t **out, size_t *len)
{
	unsigned char *der = NULL;
	size_t rawlen = 32;
	int n;

	*out = NULL;
	if (is_p256(pkey)) {
		if ((n = i2d_PUBKEY(pkey, &der)) <= 0)
			return TK_VERIFY_ERR_CRYPTO;
		*type = TK_NOTE_ECDSA;
		*out = der;
		*len = (size_t)n;
		return TK_VERIFY_OK;
	}
	if (!EVP_PKEY_is_a(pkey, "ED25519"))
		return TK_VERIFY_ERR_UNSUPPORTED;
	if ((*out = OPENSSL_malloc(32)) == NULL)
		return TK_VERIFY_ERR_NOMEM;
	if (EVP_PKEY_get_raw_public_key(pkey, *out, &rawlen) != 1 ||
	    rawlen != 32) {
		OPENSSL_free(*out);
		*out = NULL;
		return TK_VERIFY_ERR_CRYPTO;
	}
	*type = TK_NOTE_ED25519;
	*len = 32;
	return TK_VERIFY_OK;
}

/* The key ID for (name, type, key bytes) under each type's rule. */
static int
key_id_for(const char *name, uint8_t type, const uint8_t *key, size_t len,
    uint32_t *id, uint8_t log_id[32])
{
	uint8_t d[32];
	int r;

	switch (type) {
	case TK_NOTE_ED25519:
		return named_key_id(name, type, key, len, id);
	case TK_NOTE_ECDSA:
		if ((r = note_sha256(key, len, NULL, 0, NULL, 0, d)) != 0)
			return r;
		*id = be32(d);
		return TK_VERIFY_OK;
	case TK_NOTE_RFC6962:
		if ((r = note_sha256(key, len, NULL, 0, NULL, 0, log_id)) != 0)
			return r;
		return named_key_id(name, type, log_id, 32, id);
	default:
		return TK_VERIFY_ERR_UNSUPPORTED;
	}
}

int
tk_note_key_id(const char *name, EVP_PKEY *pkey, uint32_t *id)
{
	uint8_t *key = NULL, type = 0, log_id[32];
	size_t len = 0;
	int r;

	if (!tk_note_name_valid(name, strlen(name)))
		return TK_VERIFY_ERR_MALFORMED;
	if ((r = key_bytes(pkey, &type, &key, &len)) == 0)
		r = key_id_for(name, type, key, len, id, log_id);
	OPENSSL_free(key);
	return r;
}

int
tk_note_vkey(const char *name, EVP_PKEY *pkey, char **out)
{
	uint8_t *key = NULL, *raw = NULL, type = 0, log_id[32], idb[4];
	char *b64 = NULL, hex[9], *s = NULL;
	size_t len = 0, total;
	uint32_t id;
	int r;

	*out = NULL;
	if (!tk_note_name_valid(name, strlen(name)))
		return TK_VERIFY_ERR_MALFORMED;
	if ((r = key_bytes(pkey, &type, &key, &len)) != 0 ||
	    (r = key_id_for(name, type, key, len, &id, log_id)) != 0)
		goto out;
	r = TK_VERIFY_ERR_NOMEM;
	if ((raw = malloc(len + 1)) == NULL)
		goto out;
	raw[0] = type;
	memcpy(raw + 1, key, len);
	if ((b64 = tk_b64_encode(raw, len + 1)) == NULL)
		goto out;
	idb[0] = (uint8_t)(id >> 24);
	idb[1] = (uint8_t)(id >> 16);
	idb[2] = (uint8_t)(id >> 8);
	idb[3] = (uint8_t)id;
	tk_hex_encode(idb, 4, hex);
	total = strlen(name) + 1 + 8 + 1 + strlen(b64) + 1;
	if ((s = malloc(total)) == NULL)
		goto out;
	snprintf(s, total, "%s+%s+%s", name, hex, b64);
	*out = s;
	r = TK_VERIFY_OK;
out:
	OPENSSL_free(key);
	free(raw);
	free(b64);
	return r;
}

static int
verifier_new(const char *name, size_t namelen, uint8_t type,
    EVP_PKEY *pkey, struct tk_note_verifier **out)
{
	struct tk_note_verifier *v;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return TK_VERIFY_ERR_NOMEM;
	if ((v->name = strndup(name, namelen)) == NULL) {
		free(v);
		return TK_VERIFY_ERR_NOMEM;
	}
	v->type = (enum tk_note_type)type;
	v->pkey = pkey;
	*out = v;
	return TK_VERIFY_OK;
}

int
tk_note_verifier_from_pkey(const char *name, EVP_PKEY *pkey,
    struct tk_note_verifier **out)
{
	struct tk_note_verifier *v = NULL;
	uint8_t *key = NULL, type = 0;
	size_t len = 0;
	int r;

	*out = NULL;
	if (!tk_note_name_valid(name, strlen(name)))
		return TK_VERIFY_ERR_MALFORMED;
	if ((r = key_bytes(pkey, &type, &key, &len)) != 0)
		goto out;
	if (EVP_PKEY_up_ref(pkey) != 1) {
		r = TK_VERIFY_ERR_CRYPTO;
		goto out;
	}
	if ((r = verifier_new(name, strlen(name), type, pkey, &v)) != 0) {
		EVP_PKEY_free(pkey);
		goto out;
	}
	if ((r = key_id_for(name, type, key, len, &v->key_id,
	    v->log_id)) != 0)
		goto out;
	*out = v;
	v = NULL;
out:
	tk_note_verifier_free(&v);
	OPENSSL_free(key);
	return r;
}

/* Decodes the key bytes of a vkey of the given type into a P-256 key. */
static int
decode_spki(const uint8_t *key, size_t len, EVP_PKEY **out)
{
	const unsigned char *p = key;
	unsigned char *der = NULL;
	EVP_PKEY *pkey;
	int n, r = TK_VERIFY_ERR_KEY;

	if ((pkey = d2i_PUBKEY(NULL, &p, (long)len)) == NULL)
		return TK_VERIFY_ERR_KEY;
	if (p != key + len)
		goto out;
	r = TK_VERIFY_ERR_UNSUPPORTED;
	if (!is_p256(pkey))
		goto out;
	/* Only the canonical encoding, so that the key ID is unique. */
	r = TK_VERIFY_ERR_KEY;
	if ((n = i2d_PUBKEY(pkey, &der)) <= 0 || (size_t)n != len ||
	    memcmp(der, key, len) != 0)
		goto out;
	*out = pkey;
	pkey = NULL;
	r = TK_VERIFY_OK;
out:
	OPENSSL_free(der);
	EVP_PKEY_free(pkey);
	return r;
}

/* The key bytes of a vkey of type into *out; why says what is wrong. */
static int
decode_key(uint8_t type, const uint8_t *key, size_t len, EVP_PKEY **out,
    struct tk_verify_why *why)
{
	int r;

	*out = NULL;
	switch (type) {
	case TK_NOTE_ED25519:
		if (len == 32)
			*out = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519,
			    NULL, key, len);
		if (*out == NULL)
			return verify_why(why, TK_VERIFY_ERR_KEY, "the key is "
			    "not a 32-byte Ed25519 public key");
		return TK_VERIFY_OK;
	case TK_NOTE_ECDSA:
	case TK_NOTE_RFC6962:
		if ((r = decode_spki(key, len, out)) == TK_VERIFY_ERR_KEY)
			return verify_why(why, r, "the key is not a P-256 "
			    "public key in canonical DER");
		if (r == TK_VERIFY_ERR_UNSUPPORTED)
			return verify_why(why, r, "the ECDSA key is not on the "
			    "P-256 curve");
		return r;
	default:
		return verify_why(why, TK_VERIFY_ERR_UNSUPPORTED, "key type "
		    "0x%02x is not supported (0x01 Ed25519, 0x02 or 0x05 "
		    "P-256)", type);
	}
}

/* Name, key ID and key of a vkey; *raw (caller frees) is type || key. */
static int
split_vkey(const char *vkey, size_t len, size_t *namelen, uint8_t idb[4],
    uint8_t **raw, size_t *rawlen, struct tk_verify_why *why)
{
	const char *plus;
	char hex[9];

	if (len > 8192)
		return verify_why(why, TK_VERIFY_ERR_MALFORMED, "longer than "
		    "8192 bytes");
	if ((plus = memchr(vkey, '+', len)) == NULL)
		return verify_why(why, TK_VERIFY_ERR_MALFORMED, "no '+': a "
		    "verifier key is NAME+KEYID+BASE64");
	*namelen = (size_t)(plus - vkey);
	if (len - *namelen < 11 || plus[9] != '+')
		return verify_why(why, TK_VERIFY_ERR_MALFORMED, "the key ID "
		    "after the name is not 8 hex digits and a '+'");
	if (!tk_note_name_valid(vkey, *namelen))
		return verify_why(why, TK_VERIFY_ERR_MALFORMED, "the key name "
		    "is empty or has whitespace or control characters");
	memcpy(hex, plus + 1, 8);
	hex[8] = '\0';
	if (tk_hex_decode(hex, idb, 4) != 0)
		return verify_why(why, TK_VERIFY_ERR_MALFORMED, "the key ID "
		    "is not 8 hex digits");
	if (tk_b64_decode(plus + 10, len - *namelen - 10, raw, rawlen) != 0)
		return verify_why(why, TK_VERIFY_ERR_MALFORMED, "the key after "
		    "the key ID is not base64");
	if (*rawlen < 2)
		return verify_why(why, TK_VERIFY_ERR_MALFORMED, "the key after "
		    "the key ID is shorter than a type byte and a key");
	return TK_VERIFY_OK;
}

int
tk_note_verifier_from_vkey_why(const char *vkey, size_t len,
    struct tk_note_verifier **out, struct tk_verify_why *why)
{
	struct tk_note_verifier *v = NULL;
	uint8_t idb[4], *raw = NULL;
	size_t namelen = 0, rawlen = 0;
	EVP_PKEY *pkey = NULL;
	uint32_t id;
	int r;

	*out = NULL;
	if (why != NULL)
		why->text[0] = '\0';
	if ((r = split_vkey(vkey, len, &namelen, idb, &raw, &rawlen,
	    why)) != 0)
		goto out;
	if ((r = decode_key(raw[0], raw + 1, rawlen - 1, &pkey, why)) != 0)
		goto out;
	if ((r = verifier_new(vkey, namelen, raw[0], pkey, &v)) != 0)
		goto out;
	pkey = NULL;
	if ((r = key_id_for(v->name, raw[0], raw + 1, rawlen - 1, &id,
	    v->log_id)) != 0)
		goto out;
	if (id != be32(idb)) {
		r = verify_why(why, TK_VERIFY_ERR_KEY, "the key ID does not "
		    "match the name and key");
		goto out;
	}
	v->key_id = id;
	*out = v;
	v = NULL;
	r = TK_VERIFY_OK;
out:
	EVP_PKEY_free(pkey);
	tk_note_verifier_free(&v);
	free(raw);
	return r;
}

int
tk_note_verifier_from_vkey(const char *vkey, size_t len,
    struct tk_note_verifier **out)
{
	return tk_note_verifier_from_vkey_why(vkey, len, out, NULL);
}
