/*
 * softauthn: a software WebAuthn authenticator plus client for tests. It
 * makes real registration and assertion responses (OpenSSL keys, libcbor
 * attestationObject, jansson clientDataJSON) and has one knob per fault a
 * verifier must refuse. Test code only: keys live in memory, in clear.
 */
#ifndef TWOKEY_SOFTAUTHN_H
#define TWOKEY_SOFTAUTHN_H

#include <stddef.h>
#include <stdint.h>

/* Shapes of a broken attestationObject. */
enum softauthn_shape {
	SOFTAUTHN_SHAPE_OK = 0,
	SOFTAUTHN_SHAPE_DUP_KEY,	/* attStmt repeats "alg" */
	SOFTAUTHN_SHAPE_INDEFINITE,	/* outer map of indefinite length */
	SOFTAUTHN_SHAPE_AUTHDATA_TEXT,	/* authData as a text string */
	SOFTAUTHN_SHAPE_TRAILING,	/* a byte after the outer map */
};

struct softauthn_opts {
	const char	*rp_id;		/* hashed into rpIdHash */
	const char	*origin;	/* clientDataJSON origin */
	const uint8_t	*challenge;
	size_t		 challenge_len;
	const char	*type;		/* NULL: right type for the call */
	uint8_t		 flags;		/* UP|UV by default; AT added */
	uint32_t	 counter;
	const char	*fmt;		/* "packed" (default) or "none" */
	int		 x5c;		/* packed with a CA-issued leaf */
	int		 cross_origin;	/* crossOrigin: true */
	size_t		 trailing;	/* bytes appended to authData */
	int		 other_key;	/* sign with an unrelated key */
	enum softauthn_shape shape;
};

struct softauthn_resp {
	uint8_t	*id;
	size_t	 id_len;
	uint8_t	*client_data;
	size_t	 client_data_len;
	uint8_t	*att_obj;		/* registration only */
	size_t	 att_obj_len;
	uint8_t	*auth_data;		/* assertion only */
	size_t	 auth_data_len;
	uint8_t	*sig;			/* assertion only */
	size_t	 sig_len;
};

struct softauthn;

/* The AAGUID softauthn puts in attested credential data (16 bytes). */
#define SOFTAUTHN_AAGUID	"twokey-softauthn"

/* alg: -7 (ES256) or -8 (EdDSA). Returns NULL on failure. */
struct softauthn *softauthn_new(int alg);
void softauthn_free(struct softauthn **sap);

/* Defaults: flags UP|UV, counter 1, fmt "packed", no faults. */
void softauthn_opts_init(struct softauthn_opts *o, const char *rp_id,
    const char *origin, const uint8_t *challenge, size_t challenge_len);

int softauthn_make_credential(struct softauthn *sa,
    const struct softauthn_opts *o, struct softauthn_resp *r);
int softauthn_get_assertion(struct softauthn *sa,
    const struct softauthn_opts *o, struct softauthn_resp *r);
void softauthn_resp_clear(struct softauthn_resp *r);

/*
 * The same key for a CTAP2 device (softctap.c), which gets a
 * clientDataHash instead of the client data: the credential id (32
 * bytes, owned by sa); authData for rp_id with flags UP|UV, counter and,
 * when attested, the AT flag and the attested credential data (free());
 * and a DER ES256/EdDSA signature over authData || cdh (free()).
 */
const uint8_t *softauthn_cred_id(const struct softauthn *sa, size_t *len);
int softauthn_ctap_auth_data(const struct softauthn *sa, const char *rp_id,
    uint32_t counter, int attested, uint8_t **out, size_t *len);
int softauthn_ctap_sign(const struct softauthn *sa, const uint8_t *ad,
    size_t adlen, const uint8_t cdh[32], uint8_t **sig, size_t *siglen);

/* PEM of the attestation CA used with x5c (NUL-terminated, owned). */
const char *softauthn_ca_pem(const struct softauthn *sa);

#endif
