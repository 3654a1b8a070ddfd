/*
 * Signatures per second, ECDSA P-256 over a SHA-256 digest, on one
 * SoftHSM2 token made by the test fixture, measured in one run:
 *   signer   tk_signer_sign_digest through the twokey-signer process
 *   libp11   EVP_PKEY_sign on the libp11 key, in this process (loaded
 *            after the signer child was spawned; fine for a benchmark)
 *   openssl  EVP_PKEY_sign with an in-memory key
 * The paths are interleaved in short slices so that noise from the shared
 * machine hits all three alike, and the figures are printed as ratios:
 * over all slices, and over each path's best slice, which filters out
 * the slices where other programs took the CPUs (the signer needs two
 * processes scheduled, so it suffers most from a busy machine).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libp11.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "twokey/common.h"
#include "twokey/hsm.h"
#include "../lib/token_fixture.h"

#define ROUNDS 12
#define SLICE_S 0.3

enum { P_SIGNER, P_LIBP11, P_OPENSSL, NPATHS };

struct bench {
	struct tk_signer *signer;
	EVP_PKEY *p11key;
	EVP_PKEY *memkey;
	long ops[NPATHS];
	double secs[NPATHS];
	double best[NPATHS];	/* best slice, signatures per second */
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
sign_evp(EVP_PKEY *k, const uint8_t d[32])
{
	uint8_t sig[80];
	size_t len = sizeof(sig);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);
	int ok = ctx != NULL && EVP_PKEY_sign_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
	    EVP_PKEY_sign(ctx, sig, &len, d, 32) == 1;

	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : -1;
}

static int
sign_one(struct bench *b, int path, const uint8_t d[32])
{
	uint8_t der[72];
	size_t len = sizeof(der);

	switch (path) {
	case P_SIGNER:
		return tk_signer_sign_digest(b->signer, TK_KEY_AUDIT, d, der,
		    &len);
	case P_LIBP11:
		return sign_evp(b->p11key, d);
	default:
		return sign_evp(b->memkey, d);
	}
}

static int
slice(struct bench *b, int path)
{
	uint8_t d[32];
	double t0 = now(), t;
	long n = 0;

	memset(d, 0x42, sizeof(d));
	do {
		d[0] = (uint8_t)n;
		if (sign_one(b, path, d) != 0)
			return -1;
		n++;
	} while ((t = now()) - t0 < SLICE_S);
	b->ops[path] += n;
	b->secs[path] += t - t0;
	if ((double)n / (t - t0) > b->best[path])
		b->best[path] = (double)n / (t - t0);
	return 0;
}

struct p11 {
	PKCS11_CTX *ctx;
	PKCS11_SLOT *slots;
	unsigned int nslots;
};

static EVP_PKEY *
p11_key(struct p11 *p, const struct tk_fixture_token *fx)
{
	PKCS11_KEY *keys = NULL;
	PKCS11_SLOT *slot = NULL;
	unsigned int i, n = 0;
	uint8_t *pin = NULL;
	size_t pinlen = 0;
	int r;

	if ((p->ctx = PKCS11_CTX_new()) == NULL ||
	    PKCS11_CTX_load(p->ctx, fx->module_path) != 0 ||
	    PKCS11_enumerate_slots(p->ctx, &p->slots, &p->nslots) != 0)
		return NULL;
	for (i = 0; i < p->nslots && slot == NULL; i++)
		if (p->slots[i].token != NULL &&
		    p->slots[i].token->initialized &&
		    strcmp(p->slots[i].token->label, fx->label) == 0)
			slot = &p->slots[i];
	if (slot == NULL || tk_read_file(fx->user_pin_file, 256, 1, &pin,
	    &pinlen) != 0)
		return NULL;
	r = PKCS11_login(slot, 0, (const char *)pin);
	tk_secret_free(pin, pinlen + 1);
	if (r != 0 || PKCS11_enumerate_keys(slot->token, &keys, &n) != 0)
		return NULL;
	for (i = 0; i < n; i++)
		if (keys[i].label != NULL &&
		    strcmp(keys[i].label, "twokey-audit") == 0)
			return PKCS11_get_private_key(&keys[i]);
	return NULL;
}

static void
p11_close(struct p11 *p)
{
	if (p->slots != NULL)
		PKCS11_release_all_slots(p->ctx, p->slots, p->nslots);
	if (p->ctx != NULL) {
		PKCS11_CTX_unload(p->ctx);
		PKCS11_CTX_free(p->ctx);
	}
}

static void
ratios(const char *what, const double rate[NPATHS])
{
	static const char *const name[] = { "signer process", "libp11 direct",
	    "OpenSSL in-memory" };
	double overhead = (rate[P_LIBP11] / rate[P_SIGNER] - 1.0) * 100.0;
	int i;

	printf("%s:\n", what);
	for (i = 0; i < NPATHS; i++)
		printf("  %-18s %8.0f signatures/s  %7.1f us/op\n", name[i],
		    rate[i], 1e6 / rate[i]);
	printf("  libp11/signer %.3f: the signer costs %+.1f%% per signature "
	    "(%s 20%%)\n", rate[P_LIBP11] / rate[P_SIGNER], overhead,
	    overhead < 20.0 ? "under" : "OVER");
	printf("  openssl/libp11 %.2f, openssl/signer %.2f\n",
	    rate[P_OPENSSL] / rate[P_LIBP11],
	    rate[P_OPENSSL] / rate[P_SIGNER]);
}

static void
report(const struct bench *b)
{
	double rate[NPATHS];
	int i;

	for (i = 0; i < NPATHS; i++)
		rate[i] = (double)b->ops[i] / b->secs[i];
	printf("ECDSA P-256 over SHA-256 digests, 1 thread, %d x %.1f s "
	    "interleaved slices per path\n", ROUNDS, SLICE_S);
	ratios("all slices", rate);
	ratios("best slice of each path", b->best);
}

int
main(void)
{
	struct tk_fixture_token *fx = NULL;
	struct bench b;
	struct p11 p;
	int round, path, r = 1;

	memset(&b, 0, sizeof(b));
	memset(&p, 0, sizeof(p));
	if (tk_fixture_token_new(getenv("TWOKEY_TEST_TMP"), &fx) != 0 ||
	    tk_fixture_signer_start(fx, 0, &b.signer) != 0)
		goto out;
	/* The module is loaded here only after the signer was spawned. */
	if ((b.p11key = p11_key(&p, fx)) == NULL) {
		fprintf(stderr, "bench: libp11 key not found\n");
		goto out;
	}
	if ((b.memkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) == NULL)
		goto out;
	for (round = 0; round < ROUNDS; round++)
		for (path = 0; path < NPATHS; path++)
			if (slice(&b, path) != 0) {
				fprintf(stderr, "bench: signing failed\n");
				goto out;
			}
	report(&b);
	r = 0;
out:
	EVP_PKEY_free(b.p11key);
	p11_close(&p);
	EVP_PKEY_free(b.memkey);
	tk_signer_free(&b.signer);
	tk_fixture_token_free(&fx);
	return r;
}
