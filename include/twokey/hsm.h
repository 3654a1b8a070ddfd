/*
 * hsm: the PKCS#11 token, held by a separate signer process.
 *
 * The process that parses network input never loads the PKCS#11 module and
 * never sees the PIN. It starts a signer process (fork + exec of
 * twokey-signer, before any module is loaded, by a small supervisor
 * process that keeps the caller's rights so that a replacement signer can
 * still read a root-only PIN file after the caller drops root) and speaks
 * to it over a socketpair with a short, fixed set of requests: sign this
 * SHA-256 digest with the key of purpose X; give me the public key or
 * certificate of X. Every call has a timeout; a signer that hangs or dies
 * is restarted and the failure is returned to the caller, never hidden
 * (a signer found dead before a request is sent is replaced first).
 *
 * This header is the contract the other layers code against. The key
 * ceremony (generating keys, issuing certificates) is in hsm_ceremony.h.
 */
#ifndef TWOKEY_HSM_H
#define TWOKEY_HSM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* One key per purpose, found on the token by its label. */
enum tk_key_purpose {
	TK_KEY_ROOT = 0,	/* signs the purpose keys' certificates */
	TK_KEY_AUDIT = 1,	/* signs journal checkpoints, evidence packs */
	TK_KEY_TOKEN = 2,	/* signs grants (JWT ES256) */
};
#define TK_KEY_PURPOSES 3

/* Label of a purpose key on the token: "twokey-root" and so on. */
const char *tk_key_label(enum tk_key_purpose purpose);

enum tk_hsm_err {
	TK_HSM_OK = 0,
	TK_HSM_ERR_NOMEM = -100,
	TK_HSM_ERR_URI = -101,		/* malformed PKCS#11 URI */
	TK_HSM_ERR_MODULE = -102,	/* module failed to load */
	TK_HSM_ERR_NO_TOKEN = -103,	/* no token with that label */
	TK_HSM_ERR_PIN = -104,		/* wrong PIN */
	TK_HSM_ERR_LOCKED = -105,	/* PIN locked on the token */
	TK_HSM_ERR_PIN_SOURCE = -106,	/* PIN file missing or unsafe */
	TK_HSM_ERR_NO_KEY = -107,	/* no key with that label */
	TK_HSM_ERR_KEY_EXISTS = -108,	/* ceremony would overwrite */
	TK_HSM_ERR_SIGN = -109,		/* the token refused to sign */
	TK_HSM_ERR_TIMEOUT = -110,	/* the signer did not answer in time */
	TK_HSM_ERR_SIGNER_DIED = -111,	/* the signer exited mid-request */
	TK_HSM_ERR_PROTOCOL = -112,	/* malformed message from the signer */
	TK_HSM_ERR_SPAWN = -113,	/* the signer could not be started */
	TK_HSM_ERR_CERT = -114,		/* certificate missing or invalid */
	TK_HSM_ERR_IO = -115,
	TK_HSM_ERR_INVALID = -116,	/* bad argument */
	TK_HSM_ERR_LOCKED_KEY = -117,	/* root key locked after start-up */
	TK_HSM_ERR_LAST = TK_HSM_ERR_LOCKED_KEY	/* keep last */
};

const char *tk_hsm_strerror(int err);

/*
 * Checks a token URI as tk_signer_start would take it, without loading
 * a module or reading the PIN: parsed strictly (pin-value refused in any
 * spelling), a pin-source present, its file a regular file that group
 * and others cannot read. Returns TK_HSM_OK, or TK_HSM_ERR_URI /
 * TK_HSM_ERR_PIN_SOURCE with the reason in why.
 */
int tk_hsm_uri_check(const char *uri, char *why, size_t whylen);

/* Opaque client side of the signer process. Thread safe. */
struct tk_signer;

struct tk_signer_config {
	/*
	 * RFC 7512 URI with token= in the path and module-path= and
	 * pin-source= in the query, e.g.
	 *   pkcs11:token=twokey?module-path=/usr/lib/softhsm/libsofthsm2.so
	 *     &pin-source=file:/var/lib/twokey/user.pin
	 * pin-source is file:/ABSOLUTE/PATH (also file:///PATH) or
	 * credential:NAME, meaning $CREDENTIALS_DIRECTORY/NAME (systemd
	 * LoadCredential=NAME:...). The PIN file must not be readable by group
	 * or others. pin-value is refused: a PIN never goes in a URI. The PIN
	 * is read by the signer process only. The signer inherits the
	 * environment, so SOFTHSM2_CONF (a path) reaches SoftHSM.
	 */
	const char *uri;
	/*
	 * Absolute path of the twokey-signer program; NULL means
	 * $TWOKEY_SIGNER_PATH if set, else the installed
	 * TWOKEY_LIBEXECDIR/twokey-signer.
	 */
	const char *signer_path;
	/* Per-request timeout in milliseconds; 0 for the default (5000). */
	unsigned int timeout_ms;
	/*
	 * Nonzero: the signer skips its seccomp filter. A debugging aid
	 * only (twokeyd's "seccomp": false), logged by the signer.
	 */
	int no_seccomp;
};

/*
 * Starts the signer process and waits (within the timeout) until it has
 * opened the token and found the purpose keys and their certificates. On
 * success *out is owned by the caller and freed with tk_signer_free. On
 * failure the reason is logged with tk_error (naming the token, key or
 * file, never the PIN) and the code says which: TK_HSM_ERR_URI, _MODULE,
 * _NO_TOKEN, _PIN, _LOCKED, _PIN_SOURCE, _NO_KEY, _CERT, _SPAWN, _TIMEOUT.
 *
 * Every later call has the same timeout. When the signer times out, dies
 * or answers garbage, or the token refuses to sign, that call fails with
 * the code (TK_HSM_ERR_TIMEOUT, _SIGNER_DIED, _PROTOCOL, _SIGN), logged
 * with tk_error; the signer is killed, reaped and restarted, and the next
 * call goes to the fresh one. Calls are never retried silently.
 */
int tk_signer_start(const struct tk_signer_config *cfg,
    struct tk_signer **out);
void tk_signer_free(struct tk_signer **signer);

/*
 * Signs a SHA-256 digest with the purpose key. The signature is DER
 * (ECDSA-Sig-Value); *der_len holds the buffer size on entry and the
 * signature length on return. 72 bytes always suffice for P-256.
 */
int tk_signer_sign_digest(struct tk_signer *signer,
    enum tk_key_purpose purpose, const uint8_t digest[32], uint8_t *der,
    size_t *der_len);

/* The same signature as raw r||s (64 bytes), as JWS ES256 wants it. */
int tk_signer_sign_digest_raw(struct tk_signer *signer,
    enum tk_key_purpose purpose, const uint8_t digest[32],
    uint8_t rs[64]);

/* Public key of the purpose key; caller frees with EVP_PKEY_free. */
int tk_signer_public_key(struct tk_signer *signer,
    enum tk_key_purpose purpose, EVP_PKEY **out);

/* Certificate of the purpose key (the root's is self-signed); X509_free. */
int tk_signer_certificate(struct tk_signer *signer,
    enum tk_key_purpose purpose, X509 **out);

/*
 * An OpenSSL key for the purpose key whose signatures are made by the
 * signer: use it with EVP_DigestSign (SHA-256), X509_sign, CMS_sign and
 * the like, which then never see the private key. Only SHA-256 digests
 * are signed. The key must be freed (EVP_PKEY_free) before the signer.
 */
int tk_signer_evp_pkey(struct tk_signer *signer,
    enum tk_key_purpose purpose, EVP_PKEY **out);

/*
 * Locks the root key for the life of this client: the signer refuses any
 * further signature with it (TK_HSM_ERR_LOCKED_KEY), and every replacement
 * signer starts locked. The root key certifies the other keys, so a
 * process that faces the network calls this as soon as start-up has
 * issued what it needs (its TLS certificate), and a compromise after that
 * cannot mint certificates under the pinned root.
 */
int tk_signer_lock_root(struct tk_signer *signer);

/* How many times the signer process was restarted since start. */
unsigned int tk_signer_restarts(const struct tk_signer *signer);

/* Process id of the running signer, -1 if none (for health checks). */
pid_t tk_signer_pid(struct tk_signer *signer);

#endif
