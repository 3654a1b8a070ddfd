/*
 * C2SP signed notes (c2sp.org/signed-note): parse, verify, format.
 *
 * A note is UTF-8 text without control characters other than newline,
 * ending in a newline, then a blank line, then one or more signature
 * lines "— <name> <base64(4-byte key ID || signature)>\n" (the dash is
 * U+2014). The text is split from the signatures at the LAST blank line.
 * Key names are non-empty UTF-8 without whitespace, control characters
 * or '+'. At most TK_NOTE_MAX_SIGS signature lines are accepted.
 *
 * Signature types understood (others are parsed and, being from no
 * trusted key, ignored):
 *   0x01 Ed25519 over the text; key ID = SHA-256(name || 0x0A || 0x01 ||
 *        32-byte key)[:4].
 *   0x02 ECDSA P-256, DER signature over SHA-256(text), as
 *        transparency-dev/formats; key ID = SHA-256(DER SPKI)[:4] (the
 *        name is not hashed). This is what twokey's token signs.
 *   0x05 RFC 6962 TreeHeadSignature (static-ct-api); key ID =
 *        SHA-256(name || 0x0A || 0x05 || SHA-256(SPKI))[:4]; the text must
 *        be a checkpoint without extension lines whose origin equals the
 *        key name, since the signature does not cover the origin.
 *
 * Verification rule: signatures whose (name, key ID) matches no trusted
 * key are ignored; a trusted key whose signature does not verify rejects
 * the whole note (TK_VERIFY_ERR_BAD_SIG); no verified trusted signature
 * rejects it (TK_VERIFY_ERR_NO_SIG). Errors are enum tk_verify_err.
 */
#ifndef TWOKEY_NOTE_H
#define TWOKEY_NOTE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

#include "twokey/verify.h"

#define TK_NOTE_MAX_SIGS 100
/* Whole notes over this size are refused before parsing. */
#define TK_NOTE_MAX_LEN ((size_t)1024 * 1024)

enum tk_note_type {
	TK_NOTE_ED25519 = 0x01,
	TK_NOTE_ECDSA = 0x02,
	TK_NOTE_RFC6962 = 0x05,
};

struct tk_note_sig {
	char *name;		/* NUL-terminated key name */
	uint32_t key_id;	/* first 4 bytes, big-endian */
	uint8_t *sig;		/* signature bytes after the key ID */
	size_t sig_len;
};

struct tk_note {
	char *text;		/* text incl. final newline, NUL-terminated */
	size_t text_len;
	struct tk_note_sig *sigs;
	size_t nsigs;
};

/*
 * Parses a signed note of len bytes (no NUL needed). On success *out is a
 * new note the caller frees with tk_note_free. Does not verify anything.
 */
int tk_note_parse(const char *msg, size_t len, struct tk_note **out);
/* The same, and on failure why (may be NULL) says what is wrong. */
int tk_note_parse_why(const char *msg, size_t len, struct tk_note **out,
    struct tk_verify_why *why);
void tk_note_free(struct tk_note **np);

/* A trusted verifier key: name, key ID, type and public key. Opaque. */
struct tk_note_verifier;

/*
 * Parses a vkey "name+hex8(keyID)+base64(type || key)" (types 0x01 raw
 * 32-byte Ed25519 key, 0x02 and 0x05 DER SPKI of a P-256 key). Refuses a
 * key ID that does not match the key (TK_VERIFY_ERR_KEY) and other types
 * or curves (TK_VERIFY_ERR_UNSUPPORTED). Caller frees *out.
 */
int tk_note_verifier_from_vkey(const char *vkey, size_t len,
    struct tk_note_verifier **out);
/* The same, and on failure why (may be NULL) says what is wrong. */
int tk_note_verifier_from_vkey_why(const char *vkey, size_t len,
    struct tk_note_verifier **out, struct tk_verify_why *why);

/*
 * A verifier for name and a public key: P-256 gives type 0x02, Ed25519
 * type 0x01. pkey is referenced (up-ref), not copied. Caller frees *out.
 */
int tk_note_verifier_from_pkey(const char *name, EVP_PKEY *pkey,
    struct tk_note_verifier **out);
void tk_note_verifier_free(struct tk_note_verifier **vp);

const char *tk_note_verifier_name(const struct tk_note_verifier *v);
uint32_t tk_note_verifier_key_id(const struct tk_note_verifier *v);
enum tk_note_type tk_note_verifier_type(const struct tk_note_verifier *v);

/*
 * Verifies note against nkeys trusted keys (see the rule above). When
 * verified is not NULL it must hold nkeys flags; verified[i] is set to 1
 * when keys[i] signed the note and the signature verified, else 0.
 */
int tk_note_verify(const struct tk_note *note,
    struct tk_note_verifier *const *keys, size_t nkeys,
    unsigned char *verified);

/*
 * Parse and verify in one step; on success *out (optional, may be NULL)
 * receives the parsed note, caller frees.
 */
int tk_note_open(const char *msg, size_t len,
    struct tk_note_verifier *const *keys, size_t nkeys,
    struct tk_note **out);

/*
 * Key ID of a public key under name: P-256 -> SHA-256(DER SPKI)[:4]
 * (type 0x02), Ed25519 -> SHA-256(name || 0x0A || 0x01 || key)[:4].
 */
int tk_note_key_id(const char *name, EVP_PKEY *pkey, uint32_t *id);

/*
 * The vkey string of an ECDSA P-256 (-> 0x02) or Ed25519 (-> 0x01) public
 * key under name, as published beside the journal. Caller frees *out.
 */
int tk_note_vkey(const char *name, EVP_PKEY *pkey, char **out);

/*
 * Formats a signed note: text (len bytes, must be valid note text that
 * ends in a newline) followed by a blank line and one line per sig. The
 * sig bytes are the type-specific signature WITHOUT the key ID (the ID is
 * taken from sigs[i].key_id). Caller frees *out (NUL-terminated, *outlen
 * bytes without the NUL).
 */
int tk_note_format(const char *text, size_t len,
    const struct tk_note_sig *sigs, size_t nsigs, char **out,
    size_t *outlen);

/*
 * Convenience for the journal: formats text with one 0x02 signature line
 * from name, the P-256 public key and a DER ECDSA signature over
 * SHA-256(text) (as tk_signer_sign_digest returns). The signature is not
 * checked here; callers should tk_note_open the result once.
 */
int tk_note_format_ecdsa(const char *text, size_t len, const char *name,
    EVP_PKEY *pub, const uint8_t *der, size_t der_len, char **out,
    size_t *outlen);

/* 1 if name is a valid key name (see above), else 0. */
int tk_note_name_valid(const char *name, size_t len);

#endif
