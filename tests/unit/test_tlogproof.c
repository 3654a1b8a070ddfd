/*
 * Specification of c2sp.org/tlog-proof@v1 files: the layout cases of
 * c2sp-formats.json, then proofs made here over a real tree and a
 * checkpoint signed with a fresh P-256 key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "twokey/common.h"
#include "twokey/tlogproof.h"
#include "tlog_cases.h"

static void
tlog_proof_layout_vectors_parse_as_expected(void **state)
{
	json_t *doc = tlog_cases_load("c2sp-formats.json");
	struct tk_tlog_proof *p;
	size_t i, good = 0, bad = 0, flen;
	const json_t *c;
	const char *text;
	char *again;
	int r;

	(void)state;
	json_array_foreach(json_object_get(doc, "cases"), i, c) {
		const char *name = tlog_str(c, "name");
		int want;

		if (strncmp(name, "tlog-proof-", 11) != 0)
			continue;
		want = strcmp(tlog_str(c, "expect"), "valid-format") == 0;
		text = tlog_str(c, "text");
		r = tk_tlog_proof_parse(text, strlen(text), &p);
		if ((r == 0) != want)
			fail_msg("%s: expected %s, got %s", name,
			    tlog_str(c, "expect"), tk_verify_strerror(r));
		if (r != 0) {
			bad++;
			continue;
		}
		/* What parses formats back to the same bytes. */
		assert_int_equal(tk_tlog_proof_format(p, &again, &flen), 0);
		assert_int_equal(flen, strlen(text));
		assert_memory_equal(again, text, flen);
		if (json_object_get(c, "fields") != NULL)
			assert_true(p->index == tlog_u64(json_object_get(c,
			    "fields"), "index"));
		free(again);
		tk_tlog_proof_free(&p);
		good++;
	}
	assert_int_equal(good + bad, 10);
	printf("c2sp-formats tlog-proof: %zu cases, %zu valid, %zu invalid\n",
	    good + bad, good, bad);
	json_decref(doc);
}

/*
 * The cosignature example is format only (no public key is published):
 * its signature bytes decode to key ID || u64 timestamp || signature, and
 * the timestamp is the one in the signed message. The library ignores
 * 0x04 cosignatures as unknown signers; this pins the layout for when it
 * checks them.
 */
static void
cosignature_example_decodes_to_its_key_id_and_timestamp(void **state)
{
	json_t *doc = tlog_cases_load("c2sp-formats.json");
	const json_t *c = NULL, *v;
	uint8_t *raw;
	char hex[9], line[64];
	uint64_t ts = 0;
	size_t i, len;

	(void)state;
	json_array_foreach(json_object_get(doc, "cases"), i, v)
		if (strcmp(tlog_str(v, "name"),
		    "cosignature-v1-example-timestamp") == 0)
			c = v;
	assert_non_null(c);
	assert_int_equal(tk_b64_decode(tlog_str(c, "signature_line_b64"),
	    strlen(tlog_str(c, "signature_line_b64")), &raw, &len), 0);
	assert_int_equal(len, 4 + 8 + 64);
	tk_hex_encode(raw, 4, hex);
	assert_string_equal(hex, tlog_str(c, "expect_key_id_hex"));
	for (i = 4; i < 12; i++)
		ts = ts << 8 | raw[i];
	assert_true(ts == tlog_u64(c, "expect_timestamp"));
	snprintf(line, sizeof(line), "cosignature/v1\ntime %llu\n",
	    (unsigned long long)ts);
	assert_int_equal(strncmp(tlog_str(c, "expect_signed_message"), line,
	    strlen(line)), 0);
	printf("c2sp-formats cosignature: 1 case, key ID and timestamp "
	    "decoded\n");
	free(raw);
	json_decref(doc);
}

/* ---- proofs made here ------------------------------------------------- */

#define NENTRIES 21
static const char origin[] = "twokey.example.com/A1/journal";

struct fixture {
	char entries[NENTRIES][32];
	tk_merkle_hash leaves[NENTRIES];
	EVP_PKEY *key;
	struct tk_note_verifier *v;
	char *checkpoint;
	size_t checkpoint_len;
};

static char *
sign_checkpoint(EVP_PKEY *k, const struct tk_checkpoint *cp, size_t *len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t der[80];
	size_t dlen = sizeof(der), tlen;
	char *text, *note;

	assert_int_equal(tk_checkpoint_format(cp, &text, &tlen), 0);
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL,
	    k), 1);
	assert_int_equal(EVP_DigestSign(ctx, der, &dlen, (uint8_t *)text,
	    tlen), 1);
	assert_int_equal(tk_note_format_ecdsa(text, tlen, origin, k, der,
	    dlen, &note, len), 0);
	EVP_MD_CTX_free(ctx);
	free(text);
	return note;
}

static int
fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct tk_merkle_array arr;
	struct tk_merkle_source src;
	struct tk_checkpoint cp;
	size_t i;

	assert_non_null(f);
	for (i = 0; i < NENTRIES; i++) {
		snprintf(f->entries[i], sizeof(f->entries[i]),
		    "{\"n\":%zu,\"action\":\"x\"}", i);
		assert_int_equal(tk_merkle_leaf_hash(f->entries[i],
		    strlen(f->entries[i]), f->leaves[i]), 0);
	}
	f->key = EVP_EC_gen("P-256");
	assert_non_null(f->key);
	assert_int_equal(tk_note_verifier_from_pkey(origin, f->key, &f->v),
	    0);
	memset(&cp, 0, sizeof(cp));
	cp.origin = strdup(origin);
	cp.size = NENTRIES;
	tk_merkle_source_array(&src, &arr, f->leaves, NENTRIES);
	assert_int_equal(tk_merkle_root(&src, NENTRIES, cp.root), 0);
	f->checkpoint = sign_checkpoint(f->key, &cp, &f->checkpoint_len);
	free(cp.origin);
	*state = f;
	return 0;
}

static int
fixture_teardown(void **state)
{
	struct fixture *f = *state;

	tk_note_verifier_free(&f->v);
	EVP_PKEY_free(f->key);
	free(f->checkpoint);
	free(f);
	return 0;
}

/* The proof file for entry i, formatted and parsed back. */
static struct tk_tlog_proof *
make_proof(const struct fixture *f, uint64_t i)
{
	struct tk_tlog_proof p, *q;
	tk_merkle_hash hashes[TK_MERKLE_MAX_PROOF];
	struct tk_merkle_array arr;
	struct tk_merkle_source src;
	size_t len;
	char *text;

	memset(&p, 0, sizeof(p));
	tk_merkle_source_array(&src, &arr, f->leaves, NENTRIES);
	assert_int_equal(tk_merkle_inclusion_proof(&src, i, NENTRIES, hashes,
	    &p.nhashes), 0);
	p.index = i;
	p.hashes = hashes;
	p.checkpoint = f->checkpoint;
	p.checkpoint_len = f->checkpoint_len;
	assert_int_equal(tk_tlog_proof_format(&p, &text, &len), 0);
	assert_int_equal(tk_tlog_proof_parse(text, len, &q), 0);
	free(text);
	return q;
}

static void
every_entry_proof_verifies_against_the_signed_checkpoint(void **state)
{
	struct fixture *f = *state;
	struct tk_tlog_proof *p;
	struct tk_checkpoint *cp;
	uint64_t i;

	for (i = 0; i < NENTRIES; i++) {
		p = make_proof(f, i);
		assert_int_equal(tk_tlog_proof_verify(p, f->entries[i],
		    strlen(f->entries[i]), &f->v, 1, origin, &cp), 0);
		assert_true(cp->size == NENTRIES);
		tk_checkpoint_free(&cp);
		tk_tlog_proof_free(&p);
	}
}

static void
another_entry_wrong_index_or_key_is_refused(void **state)
{
	struct fixture *f = *state;
	struct tk_note_verifier *other = NULL;
	struct tk_tlog_proof *p = make_proof(f, 7);
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_int_equal(tk_tlog_proof_verify(p, f->entries[8],
	    strlen(f->entries[8]), &f->v, 1, NULL, NULL),
	    TK_VERIFY_ERR_MISMATCH);
	p->index = 6;
	assert_int_equal(tk_tlog_proof_verify(p, f->entries[7],
	    strlen(f->entries[7]), &f->v, 1, NULL, NULL),
	    TK_VERIFY_ERR_MISMATCH);
	p->index = NENTRIES;
	assert_int_equal(tk_tlog_proof_verify(p, f->entries[7],
	    strlen(f->entries[7]), &f->v, 1, NULL, NULL),
	    TK_VERIFY_ERR_RANGE);
	p->index = 7;
	assert_int_equal(tk_note_verifier_from_pkey(origin, k, &other), 0);
	assert_int_equal(tk_tlog_proof_verify(p, f->entries[7],
	    strlen(f->entries[7]), &other, 1, NULL, NULL),
	    TK_VERIFY_ERR_NO_SIG);
	assert_int_equal(tk_tlog_proof_verify(p, f->entries[7],
	    strlen(f->entries[7]), &f->v, 1, "other.origin", NULL),
	    TK_VERIFY_ERR_ORIGIN);
	tk_note_verifier_free(&other);
	EVP_PKEY_free(k);
	tk_tlog_proof_free(&p);
}

static void
size_is_taken_from_the_signed_checkpoint_only(void **state)
{
	struct fixture *f = *state;
	struct tk_tlog_proof *p = make_proof(f, 3);
	char *at = strchr(p->checkpoint, '\n');

	/* Claiming size 22 in the checkpoint breaks its signature. */
	assert_non_null(at);
	at[2] = '2';
	assert_int_equal(tk_tlog_proof_verify(p, f->entries[3],
	    strlen(f->entries[3]), &f->v, 1, NULL, NULL),
	    TK_VERIFY_ERR_BAD_SIG);
	tk_tlog_proof_free(&p);
}

static void
parser_refuses_too_many_hashes_and_missing_checkpoint(void **state)
{
	static const char h[] =
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
	struct tk_tlog_proof *p;
	char *text = malloc(64 + 65 * sizeof(h));
	size_t off, i;

	(void)state;
	assert_non_null(text);
	off = (size_t)snprintf(text, 64, "%s\nindex 0\n",
	    TK_TLOG_PROOF_HEADER);
	for (i = 0; i < 65; i++) {
		memcpy(text + off, h, sizeof(h) - 1);
		off += sizeof(h) - 1;
	}
	memcpy(text + off, "\ncp\n", 4);
	assert_int_equal(tk_tlog_proof_parse(text, off + 4, &p),
	    TK_VERIFY_ERR_TOOBIG);
	assert_int_equal(tk_tlog_proof_parse("c2sp.org/tlog-proof@v1\n"
	    "index 0\n\n", 32, &p), TK_VERIFY_ERR_MALFORMED);
	assert_int_equal(tk_tlog_proof_parse("c2sp.org/tlog-proof@v1\n"
	    "index 01\n\ncp\n", 36, &p), TK_VERIFY_ERR_MALFORMED);
	assert_null(p);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tlog_proof_layout_vectors_parse_as_expected),
		cmocka_unit_test(
		    cosignature_example_decodes_to_its_key_id_and_timestamp),
		cmocka_unit_test(
		    every_entry_proof_verifies_against_the_signed_checkpoint),
		cmocka_unit_test(another_entry_wrong_index_or_key_is_refused),
		cmocka_unit_test(size_is_taken_from_the_signed_checkpoint_only),
		cmocka_unit_test(
		    parser_refuses_too_many_hashes_and_missing_checkpoint),
	};

	return cmocka_run_group_tests(tests, fixture_setup,
	    fixture_teardown);
}
