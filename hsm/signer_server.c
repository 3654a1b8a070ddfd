/*
 * The signer process's token side, the only place libp11 is used: load
 * the module, log in once, find the three purpose keys and certificates
 * by label, then answer SIGN / PUBKEY / CERT requests from the one client
 * on the socket until it closes. It never forks.
 *
 * libp11 0.4.12 keeps a copy of the PIN for re-login after fork (it is
 * wiped only when the slot is released), so this process must be treated
 * as holding the PIN for its whole life; our own copy is wiped right after
 * login. Only non-deprecated libp11 calls are used.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libp11.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "twokey/common.h"
#include "twokey/sandbox.h"
#include "hsm_int.h"

/* PKCS#11 return values we name; libp11 reports them as error reasons. */
#define P11_PIN_INCORRECT	0xa0UL
#define P11_PIN_LEN_RANGE	0xa2UL
#define P11_PIN_LOCKED		0xa4UL
#define P11_PIN_EXPIRED		0xa3UL

struct server {
	PKCS11_CTX *ctx;
	PKCS11_SLOT *slots;
	unsigned int nslots;
	PKCS11_SLOT *slot;
	EVP_PKEY *key[TK_KEY_PURPOSES];
	EVP_PKEY_CTX *sign[TK_KEY_PURPOSES];	/* initialised once */
	uint8_t *cert[TK_KEY_PURPOSES];
	size_t cert_len[TK_KEY_PURPOSES];
	uint8_t *spki[TK_KEY_PURPOSES];
	size_t spki_len[TK_KEY_PURPOSES];
	char why[TK_SIGNER_WHY_MAX];
	int root_locked;	/* SIGN with the root key refused */
};

#define ESC(s) tk_log_escape((char[96]){ 0 }, 96, (s), strlen(s))

static unsigned long
last_p11_reason(void)
{
	unsigned long e = ERR_peek_last_error();

	ERR_clear_error();
	return e == 0 ? 0 : (unsigned long)ERR_GET_REASON(e);
}

static int
open_module(struct server *s, const struct tk_p11_uri *u)
{
	if ((s->ctx = PKCS11_CTX_new()) == NULL)
		return TK_HSM_ERR_NOMEM;
	if (PKCS11_CTX_load(s->ctx, u->module_path) != 0) {
		snprintf(s->why, sizeof(s->why), "PKCS#11 module '%s' failed "
		    "to load", ESC(u->module_path));
		ERR_clear_error();
		PKCS11_CTX_free(s->ctx);
		s->ctx = NULL;
		return TK_HSM_ERR_MODULE;
	}
	if (PKCS11_enumerate_slots(s->ctx, &s->slots, &s->nslots) != 0) {
		snprintf(s->why, sizeof(s->why), "PKCS#11 module '%s' could "
		    "not list its slots", ESC(u->module_path));
		ERR_clear_error();
		s->slots = NULL;
		s->nslots = 0;
		return TK_HSM_ERR_MODULE;
	}
	return 0;
}

/*
 * Only initialised tokens are considered: libp11 0.4.12 hangs forever when
 * asked to log in on an uninitialised slot.
 */
static int
find_token(struct server *s, const struct tk_p11_uri *u)
{
	unsigned int i;

	for (i = 0; i < s->nslots; i++) {
		PKCS11_TOKEN *t = s->slots[i].token;

		if (t == NULL || !t->initialized || t->label == NULL)
			continue;
		if (strcmp(t->label, u->token) == 0) {
			s->slot = &s->slots[i];
			return 0;
		}
	}
	snprintf(s->why, sizeof(s->why), "no initialized token labelled "
	    "'%s' in module '%s'", ESC(u->token), ESC(u->module_path));
	return TK_HSM_ERR_NO_TOKEN;
}

static int
login(struct server *s, const struct tk_p11_uri *u)
{
	char *pin = NULL;
	size_t pinlen = 0;
	unsigned long reason;
	int r;

	if (s->slot->token->userPinLocked) {
		snprintf(s->why, sizeof(s->why), "the user PIN of token '%s' "
		    "is locked", ESC(u->token));
		return TK_HSM_ERR_LOCKED;
	}
	if ((r = tk_p11_uri_read_pin(u, &pin, &pinlen, s->why,
	    sizeof(s->why))) != 0)
		return r;
	r = PKCS11_login(s->slot, 0, pin);
	tk_secret_free(pin, pinlen + 1);
	if (r == 0)
		return 0;
	reason = last_p11_reason();
	if (reason == P11_PIN_LOCKED) {
		snprintf(s->why, sizeof(s->why), "the user PIN of token '%s' "
		    "is locked", ESC(u->token));
		return TK_HSM_ERR_LOCKED;
	}
	if (reason == P11_PIN_INCORRECT || reason == P11_PIN_LEN_RANGE ||
	    reason == P11_PIN_EXPIRED) {
		snprintf(s->why, sizeof(s->why), "wrong user PIN for token "
		    "'%s' (from the pin-source file)", ESC(u->token));
		return TK_HSM_ERR_PIN;
	}
	snprintf(s->why, sizeof(s->why), "login to token '%s' failed "
	    "(PKCS#11 error 0x%lx)", ESC(u->token), reason);
	return TK_HSM_ERR_PIN;
}

static int
find_keys(struct server *s, const struct tk_p11_uri *u)
{
	PKCS11_KEY *keys = NULL;
	unsigned int n = 0, i;
	int p;

	if (PKCS11_enumerate_keys(s->slot->token, &keys, &n) != 0) {
		ERR_clear_error();
		snprintf(s->why, sizeof(s->why), "could not list the keys "
		    "of token '%s'", ESC(u->token));
		return TK_HSM_ERR_NO_KEY;
	}
	for (p = 0; p < TK_KEY_PURPOSES; p++) {
		const char *label = tk_key_label((enum tk_key_purpose)p);

		for (i = 0; i < n && s->key[p] == NULL; i++)
			if (keys[i].isPrivate && keys[i].label != NULL &&
			    strcmp(keys[i].label, label) == 0)
				s->key[p] = PKCS11_get_private_key(&keys[i]);
		if (s->key[p] == NULL ||
		    EVP_PKEY_get_base_id(s->key[p]) != EVP_PKEY_EC ||
		    EVP_PKEY_get_bits(s->key[p]) != 256) {
			ERR_clear_error();
			snprintf(s->why, sizeof(s->why), "no ECDSA P-256 "
			    "private key labelled '%s' on token '%s'", label,
			    ESC(u->token));
			return TK_HSM_ERR_NO_KEY;
		}
		if ((s->sign[p] = EVP_PKEY_CTX_new(s->key[p], NULL)) == NULL ||
		    EVP_PKEY_sign_init(s->sign[p]) != 1 ||
		    EVP_PKEY_CTX_set_signature_md(s->sign[p],
		    EVP_sha256()) != 1) {
			ERR_clear_error();
			snprintf(s->why, sizeof(s->why), "key '%s' cannot "
			    "sign", label);
			return TK_HSM_ERR_NO_KEY;
		}
	}
	return 0;
}

static int
keep_cert(struct server *s, int p, X509 *x)
{
	unsigned char *der = NULL;
	int n;

	if (EVP_PKEY_eq(s->key[p], X509_get0_pubkey(x)) != 1) {
		ERR_clear_error();
		snprintf(s->why, sizeof(s->why), "certificate '%s' does not "
		    "match its key", tk_key_label((enum tk_key_purpose)p));
		return TK_HSM_ERR_CERT;
	}
	if ((n = i2d_X509(x, &der)) <= 0)
		return TK_HSM_ERR_CERT;
	s->cert[p] = der;
	s->cert_len[p] = (size_t)n;
	der = NULL;
	if ((n = i2d_PUBKEY(X509_get0_pubkey(x), &der)) <= 0)
		return TK_HSM_ERR_CERT;
	s->spki[p] = der;
	s->spki_len[p] = (size_t)n;
	return 0;
}

static int
find_certs(struct server *s, const struct tk_p11_uri *u)
{
	PKCS11_CERT *certs = NULL;
	unsigned int n = 0, i;
	int p, r;

	if (PKCS11_enumerate_certs(s->slot->token, &certs, &n) != 0) {
		ERR_clear_error();
		n = 0;
	}
	for (p = 0; p < TK_KEY_PURPOSES; p++) {
		const char *label = tk_key_label((enum tk_key_purpose)p);
		X509 *x = NULL;

		for (i = 0; i < n && x == NULL; i++)
			if (certs[i].label != NULL && certs[i].x509 != NULL &&
			    strcmp(certs[i].label, label) == 0)
				x = certs[i].x509;
		if (x == NULL) {
			snprintf(s->why, sizeof(s->why), "no certificate "
			    "labelled '%s' on token '%s'", label,
			    ESC(u->token));
			return TK_HSM_ERR_CERT;
		}
		if ((r = keep_cert(s, p, x)) != 0)
			return r;
	}
	return 0;
}

static void
server_close(struct server *s)
{
	int p;

	for (p = 0; p < TK_KEY_PURPOSES; p++) {
		EVP_PKEY_CTX_free(s->sign[p]);
		EVP_PKEY_free(s->key[p]);
		OPENSSL_free(s->cert[p]);
		OPENSSL_free(s->spki[p]);
	}
	if (s->slot != NULL)
		PKCS11_logout(s->slot);
	if (s->slots != NULL)
		PKCS11_release_all_slots(s->ctx, s->slots, s->nslots);
	if (s->ctx != NULL) {
		PKCS11_CTX_unload(s->ctx);
		PKCS11_CTX_free(s->ctx);
	}
	memset(s, 0, sizeof(*s));
}

static int
server_open(struct server *s, const char *uri)
{
	struct tk_p11_uri *u = NULL;
	int r;

	if ((r = tk_p11_uri_parse(uri, &u, s->why, sizeof(s->why))) != 0)
		goto out;
	if (u->token == NULL || u->module_path == NULL) {
		snprintf(s->why, sizeof(s->why), "the URI needs token= and "
		    "module-path=");
		r = TK_HSM_ERR_URI;
		goto out;
	}
	if ((r = open_module(s, u)) != 0 || (r = find_token(s, u)) != 0 ||
	    (r = login(s, u)) != 0 || (r = find_keys(s, u)) != 0 ||
	    (r = find_certs(s, u)) != 0)
		goto out;
	r = 0;
out:
	tk_p11_uri_free(&u);
	return r;
}

static size_t
put_status(uint8_t *resp, int status)
{
	uint32_t v = (uint32_t)status;

	resp[0] = (uint8_t)(v >> 24);
	resp[1] = (uint8_t)(v >> 16);
	resp[2] = (uint8_t)(v >> 8);
	resp[3] = (uint8_t)v;
	return 4;
}

static int
send_error(int fd, int status, const char *why)
{
	uint8_t resp[4 + TK_SIGNER_WHY_MAX];
	size_t n = put_status(resp, status), wl = strlen(why);

	if (wl > TK_SIGNER_WHY_MAX)
		wl = TK_SIGNER_WHY_MAX;
	memcpy(resp + n, why, wl);
	return tk_signer_send(fd, resp, n + wl);
}

static int
do_sign(struct server *s, int fd, int p, const uint8_t *digest)
{
	uint8_t resp[4 + 80];
	size_t siglen = sizeof(resp) - 4;

	if (EVP_PKEY_sign(s->sign[p], resp + 4, &siglen, digest, 32) != 1) {
		char why[96];

		snprintf(why, sizeof(why), "the token refused to sign with "
		    "'%s' (PKCS#11 error 0x%lx)",
		    tk_key_label((enum tk_key_purpose)p), last_p11_reason());
		tk_error("%s", why);
		return send_error(fd, TK_HSM_ERR_SIGN, why);
	}
	put_status(resp, 0);
	return tk_signer_send(fd, resp, 4 + siglen);
}

static int
send_blob(int fd, const uint8_t *der, size_t len)
{
	uint8_t resp[TK_SIGNER_RESP_MAX];

	if (len > sizeof(resp) - 4)
		return send_error(fd, TK_HSM_ERR_CERT, "certificate too large");
	put_status(resp, 0);
	memcpy(resp + 4, der, len);
	return tk_signer_send(fd, resp, 4 + len);
}

/* The fixed list of requests; anything else is refused and logged. */
static int
handle(struct server *s, int fd, const uint8_t *req, size_t len)
{
	int op = len >= 2 ? req[0] : -1, p = len >= 2 ? req[1] : -1;

	if (op == TK_SIGNER_OP_LOCK_ROOT && len == 2 && p == TK_KEY_ROOT) {
		s->root_locked = 1;
		tk_info("root key locked: it signs nothing more");
		return send_error(fd, 0, "locked");
	}
	if (op == TK_SIGNER_OP_SIGN && p == TK_KEY_ROOT && s->root_locked) {
		tk_warn("refused: signature with the locked root key");
		return send_error(fd, TK_HSM_ERR_LOCKED_KEY,
		    "the root key is locked; it signs only at start-up");
	}
	if (p >= 0 && p < TK_KEY_PURPOSES) {
		if (op == TK_SIGNER_OP_SIGN && len == 2 + 32)
			return do_sign(s, fd, p, req + 2);
		if (op == TK_SIGNER_OP_PUBKEY && len == 2)
			return send_blob(fd, s->spki[p], s->spki_len[p]);
		if (op == TK_SIGNER_OP_CERT && len == 2)
			return send_blob(fd, s->cert[p], s->cert_len[p]);
	}
	tk_warn("refused request: op %d, purpose %d, %zu bytes", op, p, len);
	return send_error(fd, TK_HSM_ERR_INVALID, "request refused");
}

/* After the token is open: only what signing needs (signer_sandbox.c). */
static int
sandbox(int no_seccomp)
{
	int r;

	if (no_seccomp) {
		tk_warn("seccomp is OFF (--no-seccomp): a debugging aid, "
		    "never for production");
		/* Only the filter is off: the capabilities still go. */
		return tk_signer_drop_capabilities() == 0 ? 0 :
		    TK_HSM_ERR_SPAWN;
	}
	if ((r = tk_signer_sandbox()) != TK_SANDBOX_OK) {
		tk_error("sandbox: %s", tk_sandbox_strerror(r));
		return TK_HSM_ERR_SPAWN;
	}
	return 0;
}

int
tk_signer_serve(int fd, const char *uri, int root_locked, int no_seccomp)
{
	struct server s;
	uint8_t req[TK_SIGNER_REQ_MAX];
	size_t len;
	int r;

	memset(&s, 0, sizeof(s));
	s.root_locked = root_locked;
	if ((r = server_open(&s, uri)) != 0) {
		tk_error("%s: %s", tk_hsm_strerror(r), s.why);
		send_error(fd, r, s.why);
		goto out;
	}
	if ((r = sandbox(no_seccomp)) != 0) {
		send_error(fd, r, "the system call filter could not be "
		    "installed");
		goto out;
	}
	if ((r = send_error(fd, 0, "ready")) != 0)
		goto out;
	tk_debug("token open, %d purpose keys ready", TK_KEY_PURPOSES);
	for (;;) {
		r = tk_signer_recv(fd, req, sizeof(req), &len, -1);
		if (r == TK_HSM_ERR_SIGNER_DIED) {
			r = 0;	/* the client closed: a normal exit */
			break;
		}
		if (r != 0) {
			tk_error("bad frame from the client: %s",
			    tk_hsm_strerror(r));
			break;
		}
		if ((r = handle(&s, fd, req, len)) != 0)
			break;
	}
out:
	server_close(&s);
	return r;
}
