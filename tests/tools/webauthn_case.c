/*
 * twokey-webauthn-case CASE.json: runs one case of the shared WebAuthn
 * test set (shared/cases/webauthn, format in its README) through the
 * verifier and prints "ok" or "fail: <check>: <what was seen>".
 * Exit status: 0 verified, 1 refused, 2 the case itself is unreadable.
 *
 * Case files carry base64url, some with "=" padding or the standard
 * alphabet (noted in the cases), and one expected challenge whose last
 * character has stray low bits; this tool decodes all of them leniently
 * (OpenSSL's block decoder). The verifier takes decoded bytes; the strict
 * base64url rules apply to the challenge inside clientDataJSON.
 *
 * Recorded responses carry attestation certificates that have expired
 * since; chains are checked as of their latest notBefore (TK_WA_AT_ISSUE).
 */
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "twokey/common.h"
#include "twokey/webauthn.h"

#define CASE_MAX	(1024 * 1024)

struct blob {
	uint8_t	*p;
	size_t	 n;
};

static int
b64_any(const json_t *s, struct blob *out)
{
	const char *in = json_string_value(s);
	char *norm = NULL;
	size_t i, n, pad;
	int r = -1, got;

	out->p = NULL;
	out->n = 0;
	if (in == NULL)
		return -1;
	n = strlen(in);
	while (n > 0 && in[n - 1] == '=')
		n--;
	pad = (4 - n % 4) % 4;
	if (n == 0 || pad == 3 || n > INT32_MAX / 2 ||
	    (norm = malloc(n + pad + 1)) == NULL ||
	    (out->p = malloc((n + pad) / 4 * 3)) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		norm[i] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
	memset(norm + n, '=', pad);
	norm[n + pad] = '\0';
	got = EVP_DecodeBlock(out->p, (const unsigned char *)norm,
	    (int)(n + pad));
	if (got < 0 || (size_t)got < pad)
		goto out;
	out->n = (size_t)got - pad;
	r = 0;
out:
	free(norm);
	if (r != 0) {
		free(out->p);
		out->p = NULL;
	}
	return r;
}

static json_t *
case_load(const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	json_error_t e;
	json_t *root;

	if (tk_read_file(path, CASE_MAX, 0, &buf, &len) != 0)
		return NULL;
	root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &e);
	free(buf);
	if (root != NULL && !json_is_object(root)) {
		json_decref(root);
		return NULL;
	}
	return root;
}

struct ceremony {
	struct tk_webauthn_expect	 exp;
	const char			*origin;
	struct blob			 challenge;
};

static int
ceremony_load(const json_t *c, struct ceremony *cer)
{
	memset(cer, 0, sizeof(*cer));
	cer->origin = json_string_value(json_object_get(c, "origin"));
	cer->exp.rp_id = json_string_value(json_object_get(c, "rp_id"));
	if (cer->origin == NULL || cer->exp.rp_id == NULL ||
	    b64_any(json_object_get(c, "challenge"), &cer->challenge) != 0)
		return -1;
	cer->exp.origins = &cer->origin;
	cer->exp.n_origins = 1;
	cer->exp.challenge = cer->challenge.p;
	cer->exp.challenge_len = cer->challenge.n;
	cer->exp.at_time = TK_WA_AT_ISSUE;
	cer->exp.require_uv = json_is_true(json_object_get(c,
	    "require_user_verification"));
	return 0;
}

/* Returns a verifier code, or 1 when the case cannot be read. */
static int
run_registration(const json_t *c, struct tk_webauthn_cred *cred,
    struct tk_webauthn_verdict *v)
{
	const json_t *resp = json_object_get(c, "response");
	struct tk_webauthn_registration reg;
	struct ceremony cer;
	struct blob id, cd, ao;
	int r = 1;

	memset(&reg, 0, sizeof(reg));
	id.p = cd.p = ao.p = NULL;
	if (ceremony_load(c, &cer) != 0 ||
	    b64_any(json_object_get(resp, "rawId"), &id) != 0 ||
	    b64_any(json_object_get(resp, "clientDataJSON"), &cd) != 0 ||
	    b64_any(json_object_get(resp, "attestationObject"), &ao) != 0)
		goto out;
	reg.raw_id = id.p;
	reg.raw_id_len = id.n;
	reg.client_data = cd.p;
	reg.client_data_len = cd.n;
	reg.att_obj = ao.p;
	reg.att_obj_len = ao.n;
	r = tk_webauthn_verify_registration(&cer.exp, &reg, "case", cred, v);
out:
	free(cer.challenge.p);
	free(id.p);
	free(cd.p);
	free(ao.p);
	return r;
}

/*
 * The stored credential is the case's credential block. Backup
 * eligibility is not in that block: when the credential comes from a
 * registration case in the same folder, that case is verified and its BE
 * and BS are used; otherwise the credential is taken as device-bound.
 */
static int
cred_load(const char *path, const json_t *cj, struct tk_webauthn_cred *cred)
{
	const char *reg = json_string_value(json_object_get(cj,
	    "registration_case"));
	struct tk_webauthn_cred regcred;
	struct tk_webauthn_verdict v;
	struct blob id, key;
	char *dir = NULL, rpath[4096];
	json_t *rc = NULL;
	int r = -1;

	memset(cred, 0, sizeof(*cred));
	id.p = key.p = NULL;
	if (b64_any(json_object_get(cj, "id"), &id) != 0 ||
	    b64_any(json_object_get(cj, "publicKey_cose"), &key) != 0 ||
	    id.n == 0 || id.n > sizeof(cred->id) ||
	    !json_is_integer(json_object_get(cj, "stored_sign_count")) ||
	    tk_webauthn_cred_set_key(cred, key.p, key.n, NULL) != 0)
		goto out;
	memcpy(cred->id, id.p, id.n);
	cred->id_len = id.n;
	cred->sign_count = (uint32_t)json_integer_value(json_object_get(cj,
	    "stored_sign_count"));
	if (reg != NULL) {
		if ((dir = strdup(path)) == NULL ||
		    (size_t)snprintf(rpath, sizeof(rpath), "%s/%s.json",
		    dirname(dir), reg) >= sizeof(rpath) ||
		    (rc = case_load(rpath)) == NULL ||
		    run_registration(rc, &regcred, &v) != 0)
			goto out;
		cred->backup_eligible = regcred.backup_eligible;
		cred->backup_state = regcred.backup_state;
	}
	r = 0;
out:
	json_decref(rc);
	free(dir);
	free(id.p);
	free(key.p);
	return r;
}

static int
run_assertion(const char *path, const json_t *c,
    struct tk_webauthn_verdict *v)
{
	const json_t *resp = json_object_get(c, "response");
	struct tk_webauthn_assertion as;
	struct tk_webauthn_assert_result res;
	struct tk_webauthn_cred cred;
	struct ceremony cer;
	struct blob id, cd, ad, sig;
	int r = 1;

	memset(&as, 0, sizeof(as));
	id.p = cd.p = ad.p = sig.p = NULL;
	if (ceremony_load(c, &cer) != 0 ||
	    cred_load(path, json_object_get(c, "credential"), &cred) != 0 ||
	    b64_any(json_object_get(resp, "rawId"), &id) != 0 ||
	    b64_any(json_object_get(resp, "clientDataJSON"), &cd) != 0 ||
	    b64_any(json_object_get(resp, "authenticatorData"), &ad) != 0 ||
	    b64_any(json_object_get(resp, "signature"), &sig) != 0)
		goto out;
	as.raw_id = id.p;
	as.raw_id_len = id.n;
	as.client_data = cd.p;
	as.client_data_len = cd.n;
	as.auth_data = ad.p;
	as.auth_data_len = ad.n;
	as.sig = sig.p;
	as.sig_len = sig.n;
	r = tk_webauthn_verify_assertion(&cer.exp, &cred, &as, &res, v);
out:
	free(cer.challenge.p);
	free(id.p);
	free(cd.p);
	free(ad.p);
	free(sig.p);
	return r;
}

int
main(int argc, char **argv)
{
	struct tk_webauthn_cred cred;
	struct tk_webauthn_verdict v;
	const char *kind;
	json_t *c;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: twokey-webauthn-case CASE.json\n");
		return 2;
	}
	if ((c = case_load(argv[1])) == NULL ||
	    (kind = json_string_value(json_object_get(c, "kind"))) == NULL) {
		fprintf(stderr, "twokey-webauthn-case: %s: unreadable case\n",
		    argv[1]);
		json_decref(c);
		return 2;
	}
	memset(&v, 0, sizeof(v));
	if (strcmp(kind, "registration") == 0)
		r = run_registration(c, &cred, &v);
	else if (strcmp(kind, "assertion") == 0)
		r = run_assertion(argv[1], c, &v);
	else
		r = 1;
	json_decref(c);
	if (r > 0) {
		fprintf(stderr, "twokey-webauthn-case: %s: unreadable case\n",
		    argv[1]);
		return 2;
	}
	if (r == 0) {
		printf("ok\n");
		return 0;
	}
	printf("fail: %s: %s\n", tk_webauthn_errname(r), v.detail[0] ?
	    v.detail : tk_webauthn_strerror(r));
	return 1;
}
