/* Helpers shared by twokey-verify's commands (see verify_cmd.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "twokey/common.h"
#include "twokey/note.h"
#include "verify_cmd.h"

#define KEY_FILE_MAX ((size_t)64 * 1024)

int
verify_exit_for(int err)
{
	switch (err) {
	case TK_VERIFY_OK:
		return VX_OK;
	case TK_VERIFY_ERR_MALFORMED:
		return VX_MALFORMED;
	case TK_VERIFY_ERR_TOOBIG:
		return VX_IO;
	case TK_VERIFY_ERR_RANGE:
	case TK_VERIFY_ERR_PROOF_SIZE:
	case TK_VERIFY_ERR_MISMATCH:
	case TK_VERIFY_ERR_EMPTY_OLD:
		return VX_PROOF;
	case TK_VERIFY_ERR_KEY:
	case TK_VERIFY_ERR_UNSUPPORTED:
		return VX_KEY;
	case TK_VERIFY_ERR_BAD_SIG:
	case TK_VERIFY_ERR_NO_SIG:
	case TK_VERIFY_ERR_ORIGIN:
		return VX_SIGNATURE;
	default:
		return VX_INTERNAL;
	}
}

int
verify_read(const char *cmd, const char *what, const char *path,
    size_t max, uint8_t **out, size_t *len)
{
	char esc[128];
	int r;

	if ((r = tk_read_file(path, max, 0, out, len)) == TK_OK)
		return VX_OK;
	tk_log_escape(esc, sizeof(esc), path, strlen(path));
	if (r == TK_ERR_TOOBIG)
		return verify_fail(VX_IO, cmd, "%s file %s is larger than "
		    "%zu bytes", what, esc, max);
	if (r == TK_ERR_NOMEM)
		return verify_fail(VX_INTERNAL, cmd, "out of memory");
	return verify_fail(VX_IO, cmd, "cannot read %s file %s", what, esc);
}

/* The name a nameless PEM key takes from the note, or NULL. */
static const char *
name_from_note(const struct tk_note *note, EVP_PKEY *pkey)
{
	uint32_t id;
	size_t i;

	if (note == NULL)
		return NULL;
	for (i = 0; i < note->nsigs; i++)
		if (tk_note_key_id(note->sigs[i].name, pkey, &id) == 0 &&
		    id == note->sigs[i].key_id)
			return note->sigs[i].name;
	return NULL;
}

/*
 * The public key of a PEM certificate (an auditor naturally passes the
 * audit certificate). Its chain is not checked here: that is what
 * `openssl verify` or the log command's --root does.
 */
static EVP_PKEY *
pem_cert_key(const uint8_t *buf, size_t len)
{
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	BIO *bio;

	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL)
		return NULL;
	if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		pkey = X509_get_pubkey(x);
	X509_free(x);
	BIO_free(bio);
	return pkey;
}

/* Fills why with a phrase and returns err. */
static int
key_why(struct tk_verify_why *why, int err, const char *phrase)
{
	snprintf(why->text, sizeof(why->text), "%s", phrase);
	return err;
}

static int
load_pem(struct verify_keys *k, const uint8_t *buf, size_t len,
    const struct tk_note *note, const char *name, struct tk_verify_why *why)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio;
	int r;

	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL)
		return TK_VERIFY_ERR_NOMEM;
	if ((pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL &&
	    (pkey = pem_cert_key(buf, len)) == NULL) {
		r = key_why(why, TK_VERIFY_ERR_KEY, "PEM, but neither a "
		    "public key nor a certificate");
		goto out;
	}
	if (name == NULL && (name = name_from_note(note, pkey)) == NULL)
		name = "unnamed";	/* matches no line: no trusted sig */
	r = tk_note_verifier_from_pkey(name, pkey, &k->v[k->n]);
	if (r == TK_VERIFY_OK)
		k->n++;
	else if (r == TK_VERIFY_ERR_MALFORMED)
		(void)key_why(why, r, "--name is not a key name (it is empty "
		    "or has whitespace or '+')");
	else if (r == TK_VERIFY_ERR_UNSUPPORTED)
		(void)key_why(why, r, "the key is neither P-256 nor Ed25519");
out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	return r;
}

/* A vkey of len bytes into k. */
static int
load_vkey(struct verify_keys *k, const char *s, size_t len,
    struct tk_verify_why *why)
{
	int r;

	r = tk_note_verifier_from_vkey_why(s, len, &k->v[k->n], why);
	if (r == TK_VERIFY_OK)
		k->n++;
	return r;
}

/*
 * Reports a key that did not load: what (key or key file) and spec
 * name it, why says what is wrong. Exit 5 unless the cause is ours.
 */
static int
key_fail(const char *cmd, const char *what, const char *spec, int r,
    const struct tk_verify_why *why, const char *not_a_vkey)
{
	char esc[128];

	tk_log_escape(esc, sizeof(esc), spec, strlen(spec));
	if (verify_exit_for(r) == VX_INTERNAL)
		return verify_fail(VX_INTERNAL, cmd, "%s %s: %s", what, esc,
		    tk_verify_strerror(r));
	if (why->text[0] == '\0')
		return verify_fail(VX_KEY, cmd, "%s %s: %s", what, esc,
		    tk_verify_strerror(r));
	if (r == TK_VERIFY_ERR_MALFORMED && not_a_vkey != NULL)
		return verify_fail(VX_KEY, cmd, "%s %s: %s (%s)", what, esc,
		    not_a_vkey, why->text);
	return verify_fail(VX_KEY, cmd, "%s %s: %s", what, esc, why->text);
}

/* One --key: a vkey string, or a file with a vkey or a PEM key. */
static int
load_one(const char *cmd, struct verify_keys *k, const char *spec,
    const struct tk_note *note, const char *name)
{
	struct tk_verify_why why;
	uint8_t *buf = NULL;
	size_t len = 0;
	char esc[128];
	int r, x = VX_OK;

	why.text[0] = '\0';
	if (tk_read_file(spec, KEY_FILE_MAX, 0, &buf, &len) != TK_OK) {
		/* Every vkey has '+': without one, this was a file. */
		if (strchr(spec, '+') == NULL) {
			tk_log_escape(esc, sizeof(esc), spec, strlen(spec));
			return verify_fail(VX_IO, cmd, "cannot read key file "
			    "%s", esc);
		}
		if ((r = load_vkey(k, spec, strlen(spec), &why)) != 0)
			x = key_fail(cmd, "key", spec, r, &why, "not a "
			    "verifier key");
	} else if (len >= 10 && memcmp(buf, "-----BEGIN", 10) == 0) {
		if ((r = load_pem(k, buf, len, note, name, &why)) != 0)
			x = key_fail(cmd, "key file", spec, r, &why, NULL);
	} else {
		/* A vkey file: one line, its newline not part of the key. */
		while (len > 0 && (buf[len - 1] == '\n' ||
		    buf[len - 1] == '\r'))
			len--;
		if ((r = load_vkey(k, (const char *)buf, len, &why)) != 0)
			x = key_fail(cmd, "key file", spec, r, &why, "neither "
			    "a PEM public key or certificate nor a verifier "
			    "key");
	}
	free(buf);
	return x;
}

int
verify_keys_load(const char *cmd, struct verify_keys *k,
    const struct tk_note *note, const char *name)
{
	size_t i;
	int r;

	if (k->nspec == 0)
		return verify_fail(VX_USAGE, cmd, "at least one --key needed");
	for (i = 0; i < k->nspec; i++)
		if ((r = load_one(cmd, k, k->spec[i], note, name)) != VX_OK)
			return r;
	return VX_OK;
}

void
verify_keys_clear(struct verify_keys *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		tk_note_verifier_free(&k->v[i]);
	k->n = 0;
}
