/*
 * Internal interface of the WebAuthn verifier: the strict parsers, shared
 * by webauthn*.c and the fuzz harnesses. Not for other modules.
 */
#ifndef TWOKEY_WEBAUTHN_INT_H
#define TWOKEY_WEBAUTHN_INT_H

#include <stddef.h>
#include <stdint.h>

#include <cbor.h>

#include "twokey/webauthn.h"

#define TK_WA_RPID_HASH_LEN	32
#define TK_WA_AUTHDATA_MIN	37
#define TK_WA_CBOR_DEPTH	16

/* Sets v (if any) to code and a formatted detail line; returns code. */
int tk_wa_fail(struct tk_webauthn_verdict *v, int code, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/* Escapes an untrusted string for a verdict line into out[cap]. */
const char *tk_wa_esc(char *out, size_t cap, const char *s, size_t len);

/*
 * 0 if item uses only definite lengths, no tags, map keys that are
 * integers or text strings without duplicates, nesting <= depth.
 */
int tk_wa_cbor_strict(const cbor_item_t *item, int depth);

/*
 * Decodes exactly one strict CBOR item at buf; *used gets its length.
 * Trailing bytes are the caller's business. Caller frees with cbor_decref.
 */
cbor_item_t *tk_wa_cbor_load(const uint8_t *buf, size_t len, size_t *used);

/* Slices of an attestationObject; all point into the caller's buffer. */
struct tk_wa_attobj {
	char		 fmt[TK_WA_FMT_MAX];
	const uint8_t	*att_stmt;	/* encoded attStmt map */
	size_t		 att_stmt_len;
	const uint8_t	*auth_data;	/* content of the authData bstr */
	size_t		 auth_data_len;
};

int tk_wa_attobj_split(const uint8_t *buf, size_t len,
    struct tk_wa_attobj *ao, struct tk_webauthn_verdict *v);

/* Parsed authenticator data; pointers into the caller's buffer. */
struct tk_wa_authdata {
	const uint8_t	*rp_id_hash;
	uint8_t		 flags;
	uint32_t	 sign_count;
	int		 attested;
	const uint8_t	*aaguid;
	const uint8_t	*cred_id;
	size_t		 cred_id_len;
	const uint8_t	*cose_key;
	size_t		 cose_key_len;
	int		 ext_present;
	int		 ext_cred_protect;	/* 0 when absent */
	int		 ext_hmac_secret;	/* 1 when true */
};

/*
 * Parses authenticator data strictly: flags consistent with the data that
 * follows, extensions a strict map, no trailing bytes. attested says
 * whether attested credential data must (1) or must not (0) be present.
 */
int tk_wa_authdata_parse(const uint8_t *buf, size_t len, int attested,
    struct tk_wa_authdata *ad, struct tk_webauthn_verdict *v);

/* A COSE public key reduced to what libfido2's *_pk_from_ptr take. */
struct tk_wa_cose {
	int		alg;
	uint8_t		raw[259];	/* x||y, n||e (e left-padded), or x */
	size_t		raw_len;
};

int tk_wa_cose_parse(const uint8_t *buf, size_t len, struct tk_wa_cose *k,
    struct tk_webauthn_verdict *v);

/*
 * Checks clientDataJSON: valid UTF-8 JSON object, type, challenge (decoded
 * bytes), origin in exp->origins, crossOrigin absent or false, tokenBinding
 * well-formed.
 */
int tk_wa_clientdata_check(const uint8_t *json, size_t len,
    const char *type, const struct tk_webauthn_expect *exp,
    struct tk_webauthn_verdict *v);

/*
 * Checks the x5c chain of an attStmt map: validity at exp->at_time, each
 * certificate signed by the next, anchored in exp->roots when set, and the
 * format's certificate requirements. *trusted is set when the chain ends
 * in exp->roots.
 */
int tk_wa_x5c_check(const cbor_item_t *att_stmt, const char *fmt,
    const uint8_t *aaguid, const struct tk_webauthn_expect *exp,
    int *trusted, struct tk_webauthn_verdict *v);

/* 0 if the ceremony policy is usable. */
int tk_wa_expect_ok(const struct tk_webauthn_expect *exp,
    struct tk_webauthn_verdict *v);

/* 1 if alg is in exp->algs (or the default set). */
int tk_wa_alg_allowed(const struct tk_webauthn_expect *exp, int alg);

/* rpIdHash, UP and UV against the ceremony. */
int tk_wa_authdata_policy(const struct tk_webauthn_expect *exp,
    const struct tk_wa_authdata *ad, struct tk_webauthn_verdict *v);

/* Verdict for a libfido2 failure after our own checks passed. */
int tk_wa_fido_fail(struct tk_webauthn_verdict *v, int sigcode, int fido_rc,
    const char *what);

/* Map lookup by text key in a strict map; NULL when absent. */
cbor_item_t *tk_wa_map_get(const cbor_item_t *map, const char *key);

#endif
