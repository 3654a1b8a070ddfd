/*
 * signer-probe URI SIGNER N: starts twokey-signer on the token through
 * tk_signer_start (so under its seccomp filter, after login), has it sign
 * N digests with the audit key, verifies each with the public key, and
 * checks that the running signer is filtered (Seccomp: 2). Prints one
 * line; exit 0 when all holds. Built by tests/tpm/test-tpm2.sh against
 * the build's libraries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "twokey/hsm.h"

static int
seccomp_mode(pid_t pid)
{
	char path[64], line[128];
	int mode = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "Seccomp:", 8) == 0)
			mode = (int)strtol(line + 8, NULL, 10);
	fclose(f);
	return mode;
}

static int
verify(EVP_PKEY *pk, const uint8_t *d, const uint8_t *sig, size_t len)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(pk, NULL);
	int ok = c != NULL && EVP_PKEY_verify_init(c) == 1 &&
	    EVP_PKEY_verify(c, sig, len, d, 32) == 1;

	EVP_PKEY_CTX_free(c);
	return ok;
}

int
main(int argc, char **argv)
{
	struct tk_signer_config cfg = { NULL, NULL, 30000, 0 };
	struct tk_signer *s = NULL;
	EVP_PKEY *pk = NULL;
	uint8_t d[32], sig[80];
	size_t len;
	int i, n, ok = 0, mode;

	if (argc != 4)
		return 2;
	cfg.uri = argv[1];
	cfg.signer_path = argv[2];
	n = (int)strtol(argv[3], NULL, 10);
	if (tk_signer_start(&cfg, &s) != 0 ||
	    tk_signer_public_key(s, TK_KEY_AUDIT, &pk) != 0)
		return 1;
	for (i = 0; i < n; i++) {
		memset(d, i + 1, sizeof(d));
		len = sizeof(sig);
		if (tk_signer_sign_digest(s, TK_KEY_AUDIT, d, sig, &len) == 0 &&
		    verify(pk, d, sig, len))
			ok++;
	}
	mode = seccomp_mode(tk_signer_pid(s));
	printf("signer: %d of %d signatures verify; seccomp mode %d\n", ok, n,
	    mode);
	EVP_PKEY_free(pk);
	tk_signer_free(&s);
	return ok == n && mode == 2 ? 0 : 1;
}
