/*
 * Signed-note verification. A signature whose (name, key ID) matches no
 * trusted key is ignored; a trusted key whose signature fails rejects the
 * whole note; at least one trusted signature must verify.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "twokey/checkpoint.h"
#include "twokey/note.h"
#include "note_keys.h"

/* Ed25519 over the text, or ECDSA with SHA-256 over the text (md set). */
static int
evp_verify(EVP_PKEY *pkey, const EVP_MD *md, const uint8_t *sig,
    size_t siglen, const void *msg, size_t msglen)
{
	EVP_MD_CTX *ctx;
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return TK_VERIFY_ERR_NOMEM;
	ok = EVP_DigestVerifyInit_ex(ctx, NULL,
	    md != NULL ? EVP_MD_get0_name(md) : NULL, NULL, NULL, pkey,
	    NULL) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, msg, msglen) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? TK_VERIFY_OK : TK_VERIFY_ERR_BAD_SIG;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/*
 * 0x05: sig = u64 timestamp || TLS DigitallySigned (hash 4 = SHA-256,
 * signature 3 = ECDSA, u16 length, DER). The signed TreeHeadSignature is
 * version 0, type 1 (tree_hash), timestamp, size, root: it does not cover
 * the origin, hence the origin must equal the key name.
 */
static int
verify_rfc6962(const struct tk_note_verifier *v, const struct tk_note *n,
    const struct tk_note_sig *s)
{
	struct tk_checkpoint *cp = NULL;
	uint8_t tbs[2 + 8 + 8 + 32];
	size_t dlen;
	int r = TK_VERIFY_ERR_BAD_SIG;

	if (s->sig_len < 12 || s->sig[8] != 4 || s->sig[9] != 3)
		goto out;
	dlen = (size_t)s->sig[10] << 8 | s->sig[11];
	if (dlen != s->sig_len - 12)
		goto out;
	if (tk_checkpoint_parse(n->text, n->text_len, &cp) != 0 ||
	    cp->ext_len != 0 || strcmp(cp->origin, v->name) != 0)
		goto out;
	tbs[0] = 0;	/* v1 */
	tbs[1] = 1;	/* tree_hash */
	memcpy(tbs + 2, s->sig, 8);
	put_be64(tbs + 10, cp->size);
	memcpy(tbs + 18, cp->root, 32);
	r = evp_verify(v->pkey, EVP_sha256(), s->sig + 12, dlen, tbs,
	    sizeof(tbs));
out:
	tk_checkpoint_free(&cp);
	return r;
}

static int
verify_one(const struct tk_note_verifier *v, const struct tk_note *n,
    const struct tk_note_sig *s)
{
	switch (v->type) {
	case TK_NOTE_ED25519:
		if (s->sig_len != 64)
			return TK_VERIFY_ERR_BAD_SIG;
		return evp_verify(v->pkey, NULL, s->sig, s->sig_len, n->text,
		    n->text_len);
	case TK_NOTE_ECDSA:
		return evp_verify(v->pkey, EVP_sha256(), s->sig, s->sig_len,
		    n->text, n->text_len);
	case TK_NOTE_RFC6962:
		return verify_rfc6962(v, n, s);
	default:
		return TK_VERIFY_ERR_UNSUPPORTED;
	}
}

int
tk_note_verify(const struct tk_note *note,
    struct tk_note_verifier *const *keys, size_t nkeys,
    unsigned char *verified)
{
	const struct tk_note_sig *s;
	size_t i, k, good = 0;
	int r;

	if (verified != NULL && nkeys > 0)
		memset(verified, 0, nkeys);
	for (i = 0; i < note->nsigs; i++) {
		s = &note->sigs[i];
		for (k = 0; k < nkeys; k++)
			if (keys[k]->key_id == s->key_id &&
			    strcmp(keys[k]->name, s->name) == 0)
				break;
		if (k == nkeys)
			continue;	/* unknown signer: ignored */
		if ((r = verify_one(keys[k], note, s)) != TK_VERIFY_OK) {
			if (verified != NULL)
				memset(verified, 0, nkeys);
			return r;
		}
		if (verified != NULL)
			verified[k] = 1;
		good++;
	}
	return good > 0 ? TK_VERIFY_OK : TK_VERIFY_ERR_NO_SIG;
}

int
tk_note_open(const char *msg, size_t len,
    struct tk_note_verifier *const *keys, size_t nkeys,
    struct tk_note **out)
{
	struct tk_note *n = NULL;
	int r;

	if (out != NULL)
		*out = NULL;
	if ((r = tk_note_parse(msg, len, &n)) != 0)
		return r;
	if ((r = tk_note_verify(n, keys, nkeys, NULL)) == 0 && out != NULL) {
		*out = n;
		n = NULL;
	}
	tk_note_free(&n);
	return r;
}

int
tk_note_format_ecdsa(const char *text, size_t len, const char *name,
    EVP_PKEY *pub, const uint8_t *der, size_t der_len, char **out,
    size_t *outlen)
{
	struct tk_note_sig sig;
	int r;

	*out = NULL;
	*outlen = 0;
	memset(&sig, 0, sizeof(sig));
	if (!EVP_PKEY_is_a(pub, "EC"))
		return TK_VERIFY_ERR_UNSUPPORTED;
	if (der_len == 0)
		return TK_VERIFY_ERR_MALFORMED;
	if ((r = tk_note_key_id(name, pub, &sig.key_id)) != 0)
		return r;
	r = TK_VERIFY_ERR_NOMEM;
	if ((sig.name = strdup(name)) == NULL ||
	    (sig.sig = malloc(der_len)) == NULL)
		goto out;
	memcpy(sig.sig, der, der_len);
	sig.sig_len = der_len;
	r = tk_note_format(text, len, &sig, 1, out, outlen);
out:
	free(sig.name);
	free(sig.sig);
	return r;
}
