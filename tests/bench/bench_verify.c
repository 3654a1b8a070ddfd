/*
 * Benchmark of the offline verifier: recomputing the root over N entries
 * of 200 bytes (leaf hashes + tree), beside plain SHA-256 over the same
 * bytes in one call (what sha256sum does), and inclusion proofs generated
 * from stored subtrees and verified. Best of three runs each; figures are
 * entries per second and the ratio root / SHA-256 (target >= 0.5).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "twokey/merkle.h"

#define N 1000000u
#define ENTRY 200u
#define PROOFS 200000u
#define LEVELS 21	/* 2^20 > N */

struct store {
	tk_merkle_hash *lv[LEVELS];
	uint64_t cnt[LEVELS];
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
put(void *arg, unsigned level, uint64_t index, const tk_merkle_hash h)
{
	struct store *s = arg;

	if (level >= LEVELS || index != s->cnt[level])
		return -1;
	memcpy(s->lv[level][index], h, TK_MERKLE_HASH_LEN);
	s->cnt[level]++;
	return 0;
}

static int
leaf(void *arg, uint64_t index, tk_merkle_hash out)
{
	struct store *s = arg;

	memcpy(out, s->lv[0][index], TK_MERKLE_HASH_LEN);
	return 0;
}

static int
node(void *arg, unsigned level, uint64_t index, tk_merkle_hash out)
{
	struct store *s = arg;

	if (level >= LEVELS || index >= s->cnt[level])
		return 1;
	memcpy(out, s->lv[level][index], TK_MERKLE_HASH_LEN);
	return 0;
}

static double
time_sha256(const uint8_t *buf)
{
	uint8_t md[32];
	double t = now();

	if (EVP_Digest(buf, (size_t)N * ENTRY, md, NULL, EVP_sha256(),
	    NULL) != 1)
		exit(1);
	return now() - t;
}

/* Root over all entries; with s, every subtree is also stored. */
static double
time_root(const uint8_t *buf, struct store *s, tk_merkle_hash root)
{
	struct tk_merkle_builder *b = tk_merkle_builder_new();
	double t;
	size_t i;

	if (b == NULL)
		exit(1);
	if (s != NULL) {
		memset(s->cnt, 0, sizeof(s->cnt));
		tk_merkle_builder_set_node_cb(b, put, s);
	}
	t = now();
	for (i = 0; i < N; i++)
		if (tk_merkle_builder_append_entry(b, buf + i * ENTRY,
		    ENTRY) != 0)
			exit(1);
	if (tk_merkle_builder_root(b, root) != 0)
		exit(1);
	t = now() - t;
	tk_merkle_builder_free(&b);
	return t;
}

static double
time_proofs(struct store *s, const tk_merkle_hash root)
{
	struct tk_merkle_source src = { leaf, node, s };
	tk_merkle_hash p[TK_MERKLE_MAX_PROOF];
	uint64_t i, idx;
	size_t len;
	double t = now();

	for (i = 0; i < PROOFS; i++) {
		idx = (i * 7919u) % N;
		if (tk_merkle_inclusion_proof(&src, idx, N, p, &len) != 0 ||
		    tk_merkle_verify_inclusion(idx, N, s->lv[0][idx], p, len,
		    root) != 0)
			exit(1);
	}
	return now() - t;
}

int
main(void)
{
	double sha = 1e9, root = 1e9, prf = 1e9, t;
	tk_merkle_hash r1, r2;
	struct store s;
	uint8_t *buf;
	size_t i;
	int run;

	if ((buf = malloc((size_t)N * ENTRY)) == NULL)
		return 1;
	for (i = 0; i < (size_t)N * ENTRY; i++)
		buf[i] = (uint8_t)(i * 2654435761u >> 13);
	for (i = 0; i < LEVELS; i++)
		if ((s.lv[i] = malloc(((N >> i) + 1) *
		    (size_t)TK_MERKLE_HASH_LEN)) == NULL)
			return 1;
	for (run = 0; run < 3; run++) {
		if ((t = time_sha256(buf)) < sha)
			sha = t;
		if ((t = time_root(buf, NULL, r1)) < root)
			root = t;
	}
	(void)time_root(buf, &s, r2);
	if (memcmp(r1, r2, sizeof(r1)) != 0)
		return 1;
	for (run = 0; run < 3; run++)
		if ((t = time_proofs(&s, r2)) < prf)
			prf = t;
	printf("entries: %u x %u bytes\n", N, ENTRY);
	printf("sha256 over the bytes:     %10.0f entries/s (%.0f MB/s)\n",
	    N / sha, N * (double)ENTRY / sha / 1e6);
	printf("root (leaf+tree hashing):  %10.0f entries/s\n", N / root);
	printf("ratio root / sha256:       %10.2f (target >= 0.50)\n",
	    sha / root);
	printf("inclusion proofs, stored subtrees, generated+verified: "
	    "%.0f proofs/s\n", PROOFS / prf);
	for (i = 0; i < LEVELS; i++)
		free(s.lv[i]);
	free(buf);
	return 0;
}
