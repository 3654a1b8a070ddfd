/*
 * twokey-softauthn-seeds CORPUS_DIR: writes the seed corpora of the
 * WebAuthn fuzz harnesses from softauthn output (CORPUS_DIR/NAME/seedN),
 * so seeds are ours and can be regenerated: each seed is the harness's
 * mode byte followed by a real clientDataJSON, attestationObject,
 * authenticator data or COSE key.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../lib/softauthn.h"

static const uint8_t challenge[32] = "twokey-fuzz-challenge-0123456789";

static int
put(const char *dir, const char *name, int n, uint8_t mode,
    const uint8_t *p, size_t len)
{
	char path[4096];
	FILE *f;
	int ok;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return -1;
	(void)mkdir(path, 0755);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s/seed%d", dir, name,
	    n) >= sizeof(path) || (f = fopen(path, "wb")) == NULL)
		return -1;
	ok = fwrite(&mode, 1, 1, f) == 1 && fwrite(p, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int
one(const char *dir, int alg, const char *fmt, int x5c, uint8_t flags,
    int *n)
{
	struct softauthn *sa = softauthn_new(alg);
	struct softauthn_opts o;
	struct softauthn_resp r;
	int rc = -1;

	if (sa == NULL)
		return -1;
	softauthn_opts_init(&o, "approvals.example",
	    "https://approvals.example", challenge, sizeof(challenge));
	o.fmt = fmt;
	o.x5c = x5c;
	o.flags = flags;
	if (softauthn_make_credential(sa, &o, &r) != 0)
		goto out;
	rc = put(dir, "fuzz_webauthn_clientdata", *n, 0, r.client_data,
	    r.client_data_len) | put(dir, "fuzz_webauthn_authdata", *n, 0,
	    r.att_obj, r.att_obj_len);
	softauthn_resp_clear(&r);
	o.counter = 2;
	if (rc != 0 || softauthn_get_assertion(sa, &o, &r) != 0)
		goto out;
	rc = put(dir, "fuzz_webauthn_clientdata", *n + 100, 1, r.client_data,
	    r.client_data_len) | put(dir, "fuzz_webauthn_authdata", *n + 100,
	    1, r.auth_data, r.auth_data_len);
	softauthn_resp_clear(&r);
	(*n)++;
out:
	softauthn_free(&sa);
	return rc;
}

int
main(int argc, char **argv)
{
	int n = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: twokey-softauthn-seeds CORPUS_DIR\n");
		return 2;
	}
	if (one(argv[1], -7, "packed", 0, 0x05, &n) != 0 ||
	    one(argv[1], -8, "packed", 0, 0x01, &n) != 0 ||
	    one(argv[1], -7, "packed", 1, 0x1d, &n) != 0 ||
	    one(argv[1], -7, "none", 0, 0x05, &n) != 0) {
		fprintf(stderr, "twokey-softauthn-seeds: failed\n");
		return 1;
	}
	return 0;
}
