/*
 * WebAuthn relying-party verification for the approvals layer.
 *
 * Registration (navigator.credentials.create) and assertion
 * (navigator.credentials.get) responses are verified against an expected
 * ceremony that the server built, never against anything the client says
 * about itself. Signatures and attestation statements are checked with
 * libfido2; everything libfido2 leaves to the relying party (clientDataJSON,
 * flags, counters, trailing bytes, the x5c chain) is checked here.
 *
 * Errors: 0 or a named negative TK_WA_ERR_* code. tk_webauthn_strerror
 * names the check in words; a struct tk_webauthn_verdict, when the caller
 * passes one, carries the same code plus a line that says what was seen
 * (untrusted strings escaped), e.g. "origin https://evil.example is not
 * allowed".
 *
 * Storage contract: a credential record belongs to the person id the
 * caller supplies from its own session; credential ids must be unique
 * across all people, which the store enforces (it must refuse to save a
 * record whose id it already holds, for whoever).
 */
#ifndef TWOKEY_WEBAUTHN_H
#define TWOKEY_WEBAUTHN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum tk_wa_err {
	TK_WA_OK = 0,
	TK_WA_ERR_NOMEM = -1,
	TK_WA_ERR_ARG = -2,		/* caller error or unusable policy */
	TK_WA_ERR_CLIENTDATA = -3,	/* clientDataJSON malformed */
	TK_WA_ERR_TYPE = -4,		/* clientDataJSON.type wrong */
	TK_WA_ERR_CHALLENGE = -5,	/* challenge does not match */
	TK_WA_ERR_ORIGIN = -6,		/* origin not allowed */
	TK_WA_ERR_CROSS_ORIGIN = -7,	/* crossOrigin true */
	TK_WA_ERR_TOKEN_BINDING = -8,	/* tokenBinding malformed */
	TK_WA_ERR_ATTOBJ = -9,		/* attestationObject malformed */
	TK_WA_ERR_AUTHDATA = -10,	/* authenticator data malformed */
	TK_WA_ERR_RPID = -11,		/* rpIdHash does not match */
	TK_WA_ERR_UP = -12,		/* user presence flag missing */
	TK_WA_ERR_UV = -13,		/* user verification missing */
	TK_WA_ERR_FLAGS = -14,		/* inconsistent flags */
	TK_WA_ERR_ALG = -15,		/* key algorithm refused */
	TK_WA_ERR_CRED_ID = -16,	/* credential id bad or mismatched */
	TK_WA_ERR_FMT = -17,		/* attestation format refused */
	TK_WA_ERR_ATT_SIG = -18,	/* attestation signature bad */
	TK_WA_ERR_ATT_CERT = -19,	/* attestation certificate bad */
	TK_WA_ERR_ATT_TRUST = -20,	/* no chain to attestation roots */
	TK_WA_ERR_AAGUID = -21,		/* authenticator model refused */
	TK_WA_ERR_SIG = -22,		/* assertion signature bad */
	TK_WA_ERR_COUNTER = -23,	/* counter did not increase: clone? */
	TK_WA_ERR_BACKUP = -24,		/* BE/BS against stored credential */
	TK_WA_ERR_EXTENSIONS = -25,	/* extension outputs malformed */
	TK_WA_ERR_CREDENTIAL = -26,	/* stored credential unusable */
};

#define TK_WA_ERR_MIN TK_WA_ERR_CREDENTIAL

/* A sentence naming the check, e.g. "challenge does not match". */
const char *tk_webauthn_strerror(int err);
/* A short stable token for the check, e.g. "challenge"; for tests/logs. */
const char *tk_webauthn_errname(int err);

/* COSE algorithm identifiers the verifier knows. */
#define TK_WA_ALG_ES256		(-7)
#define TK_WA_ALG_EDDSA		(-8)
#define TK_WA_ALG_ES384		(-35)
#define TK_WA_ALG_RS256		(-257)

/* authenticatorData flag bits. */
#define TK_WA_FLAG_UP		0x01
#define TK_WA_FLAG_UV		0x04
#define TK_WA_FLAG_BE		0x08
#define TK_WA_FLAG_BS		0x10
#define TK_WA_FLAG_AT		0x40
#define TK_WA_FLAG_ED		0x80

#define TK_WA_CRED_ID_MAX	1023
#define TK_WA_COSE_KEY_MAX	1024
#define TK_WA_PERSON_MAX	64
#define TK_WA_FMT_MAX		16
#define TK_WA_AAGUID_LEN	16

/*
 * The stored credential. Plain data: copy it, save it, free nothing.
 * person is ours (set from the caller's session, never from the client).
 */
struct tk_webauthn_cred {
	char		person[TK_WA_PERSON_MAX + 1];
	uint8_t		id[TK_WA_CRED_ID_MAX];
	size_t		id_len;
	int		alg;			/* COSE alg of the key */
	uint8_t		cose_key[TK_WA_COSE_KEY_MAX];	/* as registered */
	size_t		cose_key_len;
	uint32_t	sign_count;
	uint8_t		aaguid[TK_WA_AAGUID_LEN];
	char		fmt[TK_WA_FMT_MAX];	/* attestation format */
	int		backup_eligible;	/* BE at registration */
	int		backup_state;		/* BS, last seen */
	int		uv_at_registration;
	int		attestation_trusted;	/* chained to expect roots */
};

/* Attestation trust anchors (PEM certificates). */
struct tk_webauthn_roots;
struct tk_webauthn_roots *tk_webauthn_roots_new(void);
void tk_webauthn_roots_free(struct tk_webauthn_roots **rootsp);
int tk_webauthn_roots_add_pem(struct tk_webauthn_roots *roots,
    const char *pem, size_t len);

/*
 * What the server expects from one ceremony. Pointers are borrowed for the
 * duration of the call.
 *
 * origins: exact "scheme://host[:port]" strings, compared byte for byte
 * after JSON decoding. algs: allowed credential algorithms; NULL means
 * ES256, EdDSA and RS256. aaguids: when non-NULL, registration refuses any
 * other authenticator model. roots: when non-NULL, registration requires an
 * x5c chain to one of them (so "none" and self attestation are refused).
 * at_time: time for certificate validity; 0 means now. TK_WA_AT_ISSUE
 * checks validity as of the latest notBefore in the chain (the moment it
 * was first valid as a whole): only for replaying recorded responses,
 * whose certificates may have expired since, never for live ceremonies.
 */
#define TK_WA_AT_ISSUE	((time_t)-1)

struct tk_webauthn_expect {
	const char			 *rp_id;
	const char *const		 *origins;
	size_t				  n_origins;
	const uint8_t			 *challenge;
	size_t				  challenge_len;
	int				  require_uv;
	const int			 *algs;
	size_t				  n_algs;
	const uint8_t			(*aaguids)[TK_WA_AAGUID_LEN];
	size_t				  n_aaguids;
	const struct tk_webauthn_roots	 *roots;
	int				  refuse_backup_eligible;
	time_t				  at_time;
};

/* What the browser sent for create(), decoded from base64url. */
struct tk_webauthn_registration {
	const uint8_t	*raw_id;	/* may be NULL: then not compared */
	size_t		 raw_id_len;
	const uint8_t	*client_data;
	size_t		 client_data_len;
	const uint8_t	*att_obj;
	size_t		 att_obj_len;
};

/* What the browser sent for get(), decoded from base64url. */
struct tk_webauthn_assertion {
	const uint8_t	*raw_id;
	size_t		 raw_id_len;
	const uint8_t	*client_data;
	size_t		 client_data_len;
	const uint8_t	*auth_data;
	size_t		 auth_data_len;
	const uint8_t	*sig;
	size_t		 sig_len;
};

/* The outcome of an assertion, for the store to update. */
struct tk_webauthn_assert_result {
	uint32_t	sign_count;	/* the new stored counter; set for */
					/* TK_WA_ERR_COUNTER too */
	uint8_t		flags;		/* authenticatorData flags */
	int		user_verified;
	int		backup_state;	/* save as the new BS */
};

/* Code plus a human line naming what was seen. */
struct tk_webauthn_verdict {
	int	code;
	char	detail[256];
};

/*
 * Verifies a registration. On success fills *cred (person copied from
 * person, which must be 1..TK_WA_PERSON_MAX bytes) and returns 0; the
 * caller then asks the store to save it, which must refuse a duplicate id.
 * On failure *cred is zeroed. v may be NULL.
 */
int tk_webauthn_verify_registration(const struct tk_webauthn_expect *exp,
    const struct tk_webauthn_registration *reg, const char *person,
    struct tk_webauthn_cred *cred, struct tk_webauthn_verdict *v);

/*
 * Verifies an assertion against the stored credential. On success fills
 * *res with the counter and flags to store and returns 0. A counter that
 * did not increase returns TK_WA_ERR_COUNTER: the credential may have been
 * cloned, and the caller should flag it for review rather than retry.
 */
int tk_webauthn_verify_assertion(const struct tk_webauthn_expect *exp,
    const struct tk_webauthn_cred *cred,
    const struct tk_webauthn_assertion *as,
    struct tk_webauthn_assert_result *res, struct tk_webauthn_verdict *v);

/*
 * Loads a COSE public key into a record (id, counters and flags are left
 * as they are): checks that it is a key this verifier can use and sets
 * cred->alg from it. For importing credentials registered elsewhere.
 */
int tk_webauthn_cred_set_key(struct tk_webauthn_cred *cred,
    const uint8_t *cose, size_t len, struct tk_webauthn_verdict *v);

/* Applies a successful assertion result to a stored credential copy. */
void tk_webauthn_cred_update(struct tk_webauthn_cred *cred,
    const struct tk_webauthn_assert_result *res);

#endif
