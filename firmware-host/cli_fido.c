/*
 * The USB security key through libfido2: the same WebAuthn answers a
 * browser sends (clientDataJSON with the server's challenge and origin,
 * authenticatorData, signature; attestationObject at enrollment), so the
 * server keeps one verification path. User verification is required by
 * the server: a key with built-in verification does it itself, a key
 * with a PIN gets the PIN typed on the terminal (never an option).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <cbor.h>
#include <openssl/crypto.h>

#include "twokey/common.h"
#include "cli_int.h"

#define KEY_TIMEOUT_MS	60000
#define MAX_PIN		64

struct key {
	fido_dev_t	*dev;
	char		 pin[MAX_PIN];
	int		 use_pin;
};

static int
key_error(struct cli *c, const char *what, int r)
{
	switch (r) {
	case FIDO_ERR_NO_CREDENTIALS:
		cli_errf(c, "%s: this security key holds no credential for "
		    "this server (enrolled with another key? --credential "
		    "names a non-resident one)", what);
		break;
	case FIDO_ERR_OPERATION_DENIED:
	case FIDO_ERR_ACTION_TIMEOUT:
	case FIDO_ERR_USER_ACTION_TIMEOUT:
	case FIDO_ERR_RX:
		cli_errf(c, "%s: not confirmed on the security key (%s)",
		    what, fido_strerr(r));
		break;
	case FIDO_ERR_PIN_INVALID:
	case FIDO_ERR_PIN_BLOCKED:
	case FIDO_ERR_PIN_AUTH_BLOCKED:
		cli_errf(c, "%s: the security key refused the PIN (%s)", what,
		    fido_strerr(r));
		break;
	default:
		cli_errf(c, "%s: the security key failed: %s", what,
		    fido_strerr(r));
		break;
	}
	return TK_CLI_EKEY;
}

static int
find_path(struct cli *c, char *path, size_t cap)
{
	fido_dev_info_t *list;
	size_t n = 0;
	int rc = TK_CLI_EKEY;

	if ((list = fido_dev_info_new(16)) == NULL)
		return TK_CLI_EINTERNAL;
	if (fido_dev_info_manifest(list, 16, &n) != FIDO_OK || n == 0)
		cli_errf(c, "no security key found: plug one in, or name it "
		    "with --device PATH");
	else if (snprintf(path, cap, "%s", fido_dev_info_path(
	    fido_dev_info_ptr(list, 0))) < (int)cap)
		rc = TK_CLI_OK;
	fido_dev_info_free(&list, 16);
	return rc;
}

int
cli_fido_present(struct cli *c)
{
	char path[512];

	if (c->fido_io != NULL)
		return TK_CLI_OK;
	if (c->device != NULL) {
		if (access(c->device, F_OK) == 0)
			return TK_CLI_OK;
		cli_errf(c, "no security key at %s", c->device);
		return TK_CLI_EKEY;
	}
	fido_init(0);
	return find_path(c, path, sizeof(path));
}

/* Reads the PIN from the terminal with echo off. */
static int
read_pin(struct cli *c, char *pin, size_t cap)
{
	struct termios old, quiet;
	ssize_t n;
	int fd, rc = TK_CLI_EKEY;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0) {
		cli_errf(c, "this security key needs its PIN and there is "
		    "no terminal to ask for it");
		return TK_CLI_EKEY;
	}
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		if (write(fd, "Security key PIN: ", 18) == 18 &&
		    tcsetattr(fd, TCSAFLUSH, &quiet) == 0) {
			n = read(fd, pin, cap - 1);
			tcsetattr(fd, TCSAFLUSH, &old);
			if (write(fd, "\n", 1) == 1 && n > 0) {
				pin[n] = '\0';
				pin[strcspn(pin, "\r\n")] = '\0';
				rc = pin[0] != '\0' ? TK_CLI_OK : TK_CLI_EKEY;
			}
		}
	}
	close(fd);
	if (rc != TK_CLI_OK) {
		OPENSSL_cleanse(pin, cap);
		cli_errf(c, "no PIN read from the terminal");
	}
	return rc;
}

static void
key_close(struct key *k)
{
	if (k->dev != NULL) {
		fido_dev_close(k->dev);
		fido_dev_free(&k->dev);
	}
	OPENSSL_cleanse(k->pin, sizeof(k->pin));
}

static int
key_open(struct cli *c, struct key *k)
{
	char path[512];
	int r, rc;

	memset(k, 0, sizeof(*k));
	fido_init(0);
	if ((k->dev = fido_dev_new()) == NULL)
		return TK_CLI_EINTERNAL;
	if (c->fido_io != NULL) {
		if (fido_dev_set_io_functions(k->dev, c->fido_io) != FIDO_OK)
			return TK_CLI_EINTERNAL;
		snprintf(path, sizeof(path), "%s", c->fido_path);
	} else if (c->device != NULL)
		snprintf(path, sizeof(path), "%s", c->device);
	else if ((rc = find_path(c, path, sizeof(path))) != TK_CLI_OK)
		return rc;
	if ((r = fido_dev_open(k->dev, path)) != FIDO_OK) {
		fido_dev_free(&k->dev);
		cli_errf(c, "cannot open the security key %s: %s", path,
		    fido_strerr(r));
		return TK_CLI_EKEY;
	}
	fido_dev_set_timeout(k->dev, KEY_TIMEOUT_MS);
	if (fido_dev_has_uv(k->dev))
		return TK_CLI_OK;
	if (!fido_dev_has_pin(k->dev)) {
		cli_errf(c, "this security key can verify no one: set a PIN "
		    "on it first (fido2-token -S)");
		return TK_CLI_EKEY;
	}
	k->use_pin = 1;
	return read_pin(c, k->pin, sizeof(k->pin));
}

static char *
client_data(struct cli *c, const char *type, const char *b64ch)
{
	json_t *j = json_pack("{s:s,s:s,s:s,s:b}", "type", type, "challenge",
	    b64ch, "origin", c->origin, "crossOrigin", 0);
	char *s = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;

	json_decref(j);
	return s;
}

static int
put_b64(json_t *obj, const char *name, const unsigned char *p, size_t len)
{
	char *b = p != NULL ? tk_b64url_encode(p, len) : NULL;
	int r;

	if (b == NULL)
		return -1;
	r = json_object_set_new(obj, name, json_string(b));
	free(b);
	return r;
}

/* libfido2 1.12 gives assertion authData CBOR-wrapped only. */
static int
put_unwrapped(json_t *obj, const char *name, const unsigned char *p,
    size_t len)
{
	struct cbor_load_result res;
	cbor_item_t *item;
	int r = -1;

	if (p == NULL || (item = cbor_load(p, len, &res)) == NULL)
		return -1;
	if (res.read == len && cbor_isa_bytestring(item) &&
	    cbor_bytestring_is_definite(item))
		r = put_b64(obj, name, cbor_bytestring_handle(item),
		    cbor_bytestring_length(item));
	cbor_decref(&item);
	return r;
}

/* With several resident credentials, the one whose user is c->user. */
static size_t
pick_statement(struct cli *c, fido_assert_t *a)
{
	size_t i, n = fido_assert_count(a);
	const char *name;

	for (i = 0; n > 1 && c->user != NULL && i < n; i++) {
		name = fido_assert_user_name(a, i);
		if ((name != NULL && strcmp(name, c->user) == 0) ||
		    (fido_assert_user_id_len(a, i) == strlen(c->user) &&
		    memcmp(fido_assert_user_id_ptr(a, i), c->user,
		    strlen(c->user)) == 0))
			return i;
	}
	return 0;
}

static int
allow_credential(struct cli *c, fido_assert_t *a)
{
	uint8_t *id = NULL;
	size_t len = 0;
	int r;

	if (c->credential == NULL)
		return TK_CLI_OK;
	if (tk_b64url_decode(c->credential, strlen(c->credential), &id,
	    &len) != 0) {
		cli_errf(c, "--credential must be base64url");
		return TK_CLI_EUSAGE;
	}
	r = fido_assert_allow_cred(a, id, len);
	free(id);
	return r == FIDO_OK ? TK_CLI_OK : TK_CLI_EINTERNAL;
}

int
cli_fido_assert(struct cli *c, const char *rp_id, const char *b64ch,
    json_t *obj)
{
	struct key k;
	fido_assert_t *a = NULL;
	char *cdj = client_data(c, "webauthn.get", b64ch);
	size_t i;
	int r, rc;

	memset(&k, 0, sizeof(k));
	if (cdj == NULL || (a = fido_assert_new()) == NULL) {
		rc = TK_CLI_EINTERNAL;
		goto out0;
	}
	if ((rc = allow_credential(c, a)) != TK_CLI_OK ||
	    (rc = key_open(c, &k)) != TK_CLI_OK)
		goto out;
	rc = TK_CLI_EINTERNAL;
	if (fido_assert_set_rp(a, rp_id) != FIDO_OK ||
	    fido_assert_set_clientdata(a, (const unsigned char *)cdj,
	    strlen(cdj)) != FIDO_OK || fido_assert_set_up(a,
	    FIDO_OPT_TRUE) != FIDO_OK || fido_assert_set_uv(a, k.use_pin ?
	    FIDO_OPT_OMIT : FIDO_OPT_TRUE) != FIDO_OK)
		goto out;
	if ((r = fido_dev_get_assert(k.dev, a, k.use_pin ? k.pin :
	    NULL)) != FIDO_OK) {
		rc = key_error(c, "signing", r);
		goto out;
	}
	i = pick_statement(c, a);
	if (put_b64(obj, "credential_id", fido_assert_id_ptr(a, i),
	    fido_assert_id_len(a, i)) == 0 && put_b64(obj, "client_data",
	    (const unsigned char *)cdj, strlen(cdj)) == 0 &&
	    put_unwrapped(obj, "authenticator_data",
	    fido_assert_authdata_ptr(a, i), fido_assert_authdata_len(a,
	    i)) == 0 && put_b64(obj, "signature", fido_assert_sig_ptr(a, i),
	    fido_assert_sig_len(a, i)) == 0)
		rc = TK_CLI_OK;
out:
	key_close(&k);
out0:
	fido_assert_free(&a);
	free(cdj);
	return rc;
}

/* Whether the key keeps resident (discoverable) credentials. */
static int
has_rk(fido_dev_t *dev)
{
	fido_cbor_info_t *ci = fido_cbor_info_new();
	char **names;
	const bool *vals;
	size_t i;
	int rk = 0;

	if (ci != NULL && fido_dev_get_cbor_info(dev, ci) == FIDO_OK) {
		names = fido_cbor_info_options_name_ptr(ci);
		vals = fido_cbor_info_options_value_ptr(ci);
		for (i = 0; i < fido_cbor_info_options_len(ci); i++)
			if (strcmp(names[i], "rk") == 0)
				rk = vals[i];
	}
	fido_cbor_info_free(&ci);
	return rk;
}

/* {"fmt", "attStmt", "authData"}, as a browser's attestationObject. */
static int
put_att_obj(json_t *obj, const fido_cred_t *cred)
{
	struct cbor_load_result res;
	cbor_item_t *m = cbor_new_definite_map(3), *st = NULL;
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0;
	struct cbor_pair p[3];
	int r = -1;

	if (m == NULL || fido_cred_fmt(cred) == NULL ||
	    fido_cred_attstmt_ptr(cred) == NULL ||
	    (st = cbor_load(fido_cred_attstmt_ptr(cred),
	    fido_cred_attstmt_len(cred), &res)) == NULL)
		goto out;
	p[0].key = cbor_move(cbor_build_string("fmt"));
	p[0].value = cbor_move(cbor_build_string(fido_cred_fmt(cred)));
	p[1].key = cbor_move(cbor_build_string("attStmt"));
	p[1].value = st;
	p[2].key = cbor_move(cbor_build_string("authData"));
	p[2].value = cbor_move(cbor_build_bytestring(
	    fido_cred_authdata_raw_ptr(cred),
	    fido_cred_authdata_raw_len(cred)));
	if (p[0].key == NULL || p[0].value == NULL || p[2].key == NULL ||
	    p[2].value == NULL || !cbor_map_add(m, p[0]) ||
	    !cbor_map_add(m, p[1]) || !cbor_map_add(m, p[2]) ||
	    (len = cbor_serialize_alloc(m, &buf, &cap)) == 0)
		goto out;
	r = put_b64(obj, "attestation_object", buf, len);
out:
	if (st != NULL)
		cbor_decref(&st);
	if (m != NULL)
		cbor_decref(&m);
	free(buf);
	return r;
}

int
cli_fido_register(struct cli *c, const char *rp_id, const char *name,
    const char *b64ch, json_t *obj)
{
	struct key k;
	fido_cred_t *cred = NULL;
	char *cdj = client_data(c, "webauthn.create", b64ch);
	int r, rc;

	memset(&k, 0, sizeof(k));
	if (cdj == NULL || (cred = fido_cred_new()) == NULL) {
		rc = TK_CLI_EINTERNAL;
		goto out0;
	}
	if ((rc = key_open(c, &k)) != TK_CLI_OK)
		goto out;
	rc = TK_CLI_EINTERNAL;
	/* Resident where the key can: sign-in then needs no id list. */
	if (fido_cred_set_type(cred, COSE_ES256) != FIDO_OK ||
	    fido_cred_set_clientdata(cred, (const unsigned char *)cdj,
	    strlen(cdj)) != FIDO_OK || fido_cred_set_rp(cred, rp_id,
	    "twokey") != FIDO_OK || fido_cred_set_user(cred,
	    (const unsigned char *)name, strlen(name), name, NULL, NULL) !=
	    FIDO_OK || fido_cred_set_rk(cred, has_rk(k.dev) ? FIDO_OPT_TRUE :
	    FIDO_OPT_OMIT) != FIDO_OK || fido_cred_set_uv(cred, k.use_pin ?
	    FIDO_OPT_OMIT : FIDO_OPT_TRUE) != FIDO_OK)
		goto out;
	if ((r = fido_dev_make_cred(k.dev, cred, k.use_pin ? k.pin :
	    NULL)) != FIDO_OK) {
		rc = key_error(c, "registering", r);
		goto out;
	}
	if (put_b64(obj, "credential_id", fido_cred_id_ptr(cred),
	    fido_cred_id_len(cred)) == 0 && put_b64(obj, "client_data",
	    (const unsigned char *)cdj, strlen(cdj)) == 0 &&
	    put_att_obj(obj, cred) == 0)
		rc = TK_CLI_OK;
out:
	key_close(&k);
out0:
	fido_cred_free(&cred);
	free(cdj);
	return rc;
}
