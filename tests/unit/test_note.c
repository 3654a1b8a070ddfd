/*
 * Specification of signed notes, verifier keys and checkpoints: every
 * case of signed-notes.json and checkpoint-text.json, then notes made
 * here with fresh P-256 and Ed25519 keys.
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

#include "twokey/checkpoint.h"
#include "twokey/common.h"
#include "twokey/note.h"
#include "tlog_cases.h"

#define MAX_KEYS 8

/* The case's note bytes ("note" or "note_hex"); caller frees. */
static char *
case_note(const json_t *c, size_t *len)
{
	const json_t *hex = json_object_get(c, "note_hex");
	const char *s;
	char *buf;

	if (json_is_string(hex)) {
		s = json_string_value(hex);
		*len = strlen(s) / 2;
		buf = malloc(*len + 1);
		assert_non_null(buf);
		assert_int_equal(tk_hex_decode(s, (uint8_t *)buf, *len), 0);
		return buf;
	}
	s = tlog_str(c, "note");
	*len = strlen(s);
	buf = strdup(s);
	assert_non_null(buf);
	return buf;
}

static size_t
case_keys(const json_t *c, struct tk_note_verifier **keys)
{
	const json_t *v;
	size_t i;

	json_array_foreach(json_object_get(c, "vkeys"), i, v) {
		assert_true(i < MAX_KEYS);
		assert_int_equal(tk_note_verifier_from_vkey(
		    json_string_value(v), strlen(json_string_value(v)),
		    &keys[i]), 0);
	}
	return json_array_size(json_object_get(c, "vkeys"));
}

/* Checks expect_verified_names, when the case has it. */
static void
check_verified_names(const json_t *c, struct tk_note_verifier **keys,
    size_t nkeys, const unsigned char *verified)
{
	const json_t *names = json_object_get(c, "expect_verified_names");
	size_t k, i, count = 0;
	const json_t *v;

	if (names == NULL)
		return;
	for (k = 0; k < nkeys; k++) {
		if (!verified[k])
			continue;
		count++;
		json_array_foreach(names, i, v)
			if (strcmp(json_string_value(v),
			    tk_note_verifier_name(keys[k])) == 0)
				break;
		assert_true(i < json_array_size(names));
	}
	assert_int_equal(count, json_array_size(names));
}

static void
signed_note_vectors_all_give_the_expected_verdict(void **state)
{
	json_t *doc = tlog_cases_load("signed-notes.json");
	struct tk_note_verifier *keys[MAX_KEYS];
	unsigned char verified[MAX_KEYS];
	struct tk_note *note;
	size_t i, k, nkeys, len, valid = 0, invalid = 0;
	const json_t *c;
	char *msg;
	int r;

	(void)state;
	json_array_foreach(json_object_get(doc, "cases"), i, c) {
		int want = strcmp(tlog_str(c, "expect"), "valid") == 0;

		nkeys = case_keys(c, keys);
		msg = case_note(c, &len);
		r = tk_note_parse(msg, len, &note);
		if (r == 0) {
			r = tk_note_verify(note, keys, nkeys, verified);
			if (r == 0)
				check_verified_names(c, keys, nkeys,
				    verified);
			tk_note_free(&note);
		}
		if ((r == 0) != want)
			fail_msg("signed-note %s: expected %s, got %s",
			    tlog_str(c, "name"), tlog_str(c, "expect"),
			    tk_verify_strerror(r));
		if (want)
			valid++;
		else
			invalid++;
		for (k = 0; k < nkeys; k++)
			tk_note_verifier_free(&keys[k]);
		free(msg);
	}
	assert_int_equal(valid + invalid, 20);
	printf("signed-notes: %zu notes, %zu valid, %zu invalid\n",
	    valid + invalid, valid, invalid);
	json_decref(doc);
}

static void
vkey_vectors_parse_or_are_refused_as_expected(void **state)
{
	json_t *doc = tlog_cases_load("signed-notes.json");
	struct tk_note_verifier *v;
	size_t i, valid = 0, invalid = 0;
	const json_t *c;
	const char *s;
	int r;

	(void)state;
	json_array_foreach(json_object_get(doc, "vkey_cases"), i, c) {
		int want = strcmp(tlog_str(c, "expect"), "valid") == 0;

		s = tlog_str(c, "vkey");
		r = tk_note_verifier_from_vkey(s, strlen(s), &v);
		if ((r == 0) != want)
			fail_msg("vkey %s: expected %s, got %s", s,
			    tlog_str(c, "expect"), tk_verify_strerror(r));
		if (r == 0) {
			const json_t *t = json_object_get(c, "sig_type");

			assert_int_equal(tk_note_verifier_type(v),
			    strtol(json_string_value(t), NULL, 16));
			valid++;
		} else
			invalid++;
		tk_note_verifier_free(&v);
		assert_null(v);
	}
	assert_int_equal(valid + invalid, 6);
	printf("vkeys: %zu cases, %zu valid, %zu invalid\n", valid + invalid,
	    valid, invalid);
	json_decref(doc);
}

/*
 * checkpoint-text.json gives two verdicts where sources disagree; twokey
 * follows expect_c2sp (the spec text, 32-byte roots), because a checkpoint
 * is only ever used to verify SHA-256 proofs, and a lenient parse would
 * let two different byte strings stand for the same signed statement.
 */
static void
checkpoint_text_vectors_follow_the_c2sp_verdict(void **state)
{
	json_t *doc = tlog_cases_load("checkpoint-text.json");
	struct tk_checkpoint *cp;
	size_t i, valid = 0, invalid = 0, conflicts = 0, flen;
	const json_t *c;
	const char *text;
	char *again;
	int r;

	(void)state;
	json_array_foreach(json_object_get(doc, "cases"), i, c) {
		int want = strcmp(tlog_str(c, "expect_c2sp"), "valid") == 0;

		if (strcmp(tlog_str(c, "expect_c2sp"),
		    tlog_str(c, "expect_source")) != 0)
			conflicts++;
		text = tlog_str(c, "text");
		r = tk_checkpoint_parse(text, strlen(text), &cp);
		if ((r == 0) != want)
			fail_msg("checkpoint case %zu: expected %s", i,
			    tlog_str(c, "expect_c2sp"));
		if (r != 0) {
			invalid++;
			continue;
		}
		if (json_object_get(c, "size") != NULL)
			assert_true(cp->size == tlog_u64(c, "size"));
		assert_int_equal(tk_checkpoint_format(cp, &again, &flen), 0);
		assert_int_equal(flen, strlen(text));
		assert_memory_equal(again, text, flen);
		free(again);
		tk_checkpoint_free(&cp);
		valid++;
	}
	assert_int_equal(valid + invalid, 14);
	printf("checkpoint-text: %zu cases (expect_c2sp), %zu valid, "
	    "%zu invalid, %zu where source and C2SP differ\n",
	    valid + invalid, valid, invalid, conflicts);
	json_decref(doc);
}

/* ---- notes made here ------------------------------------------------- */

static const char cp_text[] =
    "twokey.example.com/A1/journal\n5\n"
    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
static const char origin[] = "twokey.example.com/A1/journal";

static EVP_PKEY *
p256_new(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_non_null(k);
	return k;
}

/* DER ECDSA over SHA-256(msg), as the token returns it; caller frees. */
static uint8_t *
ecdsa_sign(EVP_PKEY *k, const char *msg, size_t len, size_t *siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t *sig;

	assert_non_null(ctx);
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL,
	    k), 1);
	assert_int_equal(EVP_DigestSign(ctx, NULL, siglen,
	    (const uint8_t *)msg, len), 1);
	sig = malloc(*siglen);
	assert_non_null(sig);
	assert_int_equal(EVP_DigestSign(ctx, sig, siglen,
	    (const uint8_t *)msg, len), 1);
	EVP_MD_CTX_free(ctx);
	return sig;
}

/* A note over text signed by k under name; caller frees. */
static char *
ecdsa_note(EVP_PKEY *k, const char *name, const char *text, size_t *len)
{
	uint8_t *der;
	size_t dlen;
	char *note;

	der = ecdsa_sign(k, text, strlen(text), &dlen);
	assert_int_equal(tk_note_format_ecdsa(text, strlen(text), name, k,
	    der, dlen, &note, len), 0);
	free(der);
	return note;
}

static void
ecdsa_note_made_for_the_journal_verifies_with_its_vkey(void **state)
{
	struct tk_note_verifier *v = NULL, *w = NULL;
	EVP_PKEY *k = p256_new();
	char *vkey, *note;
	size_t len;
	uint32_t id;

	(void)state;
	assert_int_equal(tk_note_vkey(origin, k, &vkey), 0);
	assert_int_equal(tk_note_verifier_from_vkey(vkey, strlen(vkey), &v),
	    0);
	assert_int_equal(tk_note_verifier_from_pkey(origin, k, &w), 0);
	assert_int_equal(tk_note_key_id(origin, k, &id), 0);
	assert_int_equal(tk_note_verifier_key_id(v), id);
	assert_int_equal(tk_note_verifier_key_id(w), id);
	assert_int_equal(tk_note_verifier_type(v), TK_NOTE_ECDSA);
	note = ecdsa_note(k, origin, cp_text, &len);
	assert_int_equal(tk_note_open(note, len, &v, 1, NULL), 0);
	assert_int_equal(tk_note_open(note, len, &w, 1, NULL), 0);
	/* The name is part of the match even though 0x02 IDs ignore it. */
	free(vkey);
	assert_int_equal(tk_note_vkey("other.example", k, &vkey), 0);
	tk_note_verifier_free(&v);
	assert_int_equal(tk_note_verifier_from_vkey(vkey, strlen(vkey), &v),
	    0);
	assert_int_equal(tk_note_open(note, len, &v, 1, NULL),
	    TK_VERIFY_ERR_NO_SIG);
	tk_note_verifier_free(&v);
	tk_note_verifier_free(&w);
	free(vkey);
	free(note);
	EVP_PKEY_free(k);
}

static void
ed25519_note_verifies_and_its_key_id_binds_the_name(void **state)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct tk_note_verifier *v = NULL;
	struct tk_note_sig sig;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t raw[64];
	size_t rawlen = sizeof(raw), len;
	uint32_t id1, id2;
	char *vkey, *note;

	(void)state;
	assert_non_null(k);
	assert_non_null(ctx);
	assert_int_equal(tk_note_key_id("a.example", k, &id1), 0);
	assert_int_equal(tk_note_key_id("b.example", k, &id2), 0);
	assert_int_not_equal(id1, id2);
	assert_int_equal(EVP_DigestSignInit(ctx, NULL, NULL, NULL, k), 1);
	assert_int_equal(EVP_DigestSign(ctx, raw, &rawlen,
	    (const uint8_t *)cp_text, strlen(cp_text)), 1);
	memset(&sig, 0, sizeof(sig));
	sig.name = strdup("a.example");
	sig.key_id = id1;
	sig.sig = raw;
	sig.sig_len = rawlen;
	assert_int_equal(tk_note_format(cp_text, strlen(cp_text), &sig, 1,
	    &note, &len), 0);
	assert_int_equal(tk_note_vkey("a.example", k, &vkey), 0);
	assert_int_equal(tk_note_verifier_from_vkey(vkey, strlen(vkey), &v),
	    0);
	assert_int_equal(tk_note_verifier_type(v), TK_NOTE_ED25519);
	assert_int_equal(tk_note_open(note, len, &v, 1, NULL), 0);
	note[0] ^= 0x01;	/* 't' -> 'u': still valid text */
	assert_int_equal(tk_note_open(note, len, &v, 1, NULL),
	    TK_VERIFY_ERR_BAD_SIG);
	tk_note_verifier_free(&v);
	free(sig.name);
	free(vkey);
	free(note);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(k);
}

static void
tampered_text_is_rejected_by_a_known_key(void **state)
{
	struct tk_note_verifier *v = NULL;
	EVP_PKEY *k = p256_new();
	size_t len;
	char *note;

	(void)state;
	assert_int_equal(tk_note_verifier_from_pkey(origin, k, &v), 0);
	note = ecdsa_note(k, origin, cp_text, &len);
	note[strlen(origin) + 1] = '6';		/* size 5 -> 6 */
	assert_int_equal(tk_note_open(note, len, &v, 1, NULL),
	    TK_VERIFY_ERR_BAD_SIG);
	tk_note_verifier_free(&v);
	free(note);
	EVP_PKEY_free(k);
}

/* Two signature lines: a good one by a, and b's over other text. */
static char *
two_sig_note(EVP_PKEY *a, EVP_PKEY *b, size_t *len)
{
	struct tk_note_sig sigs[2];
	uint8_t *der_a, *der_b;
	size_t la, lb;
	char *note;

	der_a = ecdsa_sign(a, cp_text, strlen(cp_text), &la);
	der_b = ecdsa_sign(b, "other\n", 6, &lb);
	memset(sigs, 0, sizeof(sigs));
	sigs[0].name = strdup("a.example");
	sigs[1].name = strdup("b.example");
	assert_int_equal(tk_note_key_id("a.example", a, &sigs[0].key_id), 0);
	assert_int_equal(tk_note_key_id("b.example", b, &sigs[1].key_id), 0);
	sigs[0].sig = der_a;
	sigs[0].sig_len = la;
	sigs[1].sig = der_b;
	sigs[1].sig_len = lb;
	assert_int_equal(tk_note_format(cp_text, strlen(cp_text), sigs, 2,
	    &note, len), 0);
	free(sigs[0].name);
	free(sigs[1].name);
	free(der_a);
	free(der_b);
	return note;
}

static void
failing_known_signer_rejects_unknown_signer_is_ignored(void **state)
{
	struct tk_note_verifier *keys[2] = { NULL, NULL };
	EVP_PKEY *a = p256_new(), *b = p256_new();
	unsigned char verified[2];
	struct tk_note *n;
	size_t len;
	char *note;

	(void)state;
	note = two_sig_note(a, b, &len);
	assert_int_equal(tk_note_verifier_from_pkey("a.example", a, &keys[0]),
	    0);
	assert_int_equal(tk_note_verifier_from_pkey("b.example", b, &keys[1]),
	    0);
	assert_int_equal(tk_note_parse(note, len, &n), 0);
	assert_int_equal(n->nsigs, 2);
	assert_int_equal(tk_note_verify(n, keys, 1, verified), 0);
	assert_int_equal(verified[0], 1);
	assert_int_equal(tk_note_verify(n, keys, 2, verified),
	    TK_VERIFY_ERR_BAD_SIG);
	assert_int_equal(verified[0], 0);
	assert_int_equal(tk_note_verify(n, &keys[1], 1, NULL),
	    TK_VERIFY_ERR_BAD_SIG);
	assert_int_equal(tk_note_verify(n, NULL, 0, NULL),
	    TK_VERIFY_ERR_NO_SIG);
	tk_note_free(&n);
	tk_note_verifier_free(&keys[0]);
	tk_note_verifier_free(&keys[1]);
	free(note);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
}

static void
hundred_signatures_are_accepted_and_one_more_is_refused(void **state)
{
	static const char extra_line[] = "\xe2\x80\x94 w.example AAAAAEI=\n";
	struct tk_note_sig sigs[TK_NOTE_MAX_SIGS + 1];
	uint8_t byte = 0x42;
	struct tk_note *n;
	char *note, *longer;
	size_t i, len;

	(void)state;
	memset(sigs, 0, sizeof(sigs));
	for (i = 0; i <= TK_NOTE_MAX_SIGS; i++) {
		sigs[i].name = strdup("w.example");
		sigs[i].key_id = (uint32_t)i;
		sigs[i].sig = &byte;
		sigs[i].sig_len = 1;
	}
	assert_int_equal(tk_note_format(cp_text, strlen(cp_text), sigs,
	    TK_NOTE_MAX_SIGS + 1, &note, &len), TK_VERIFY_ERR_TOOBIG);
	assert_int_equal(tk_note_format(cp_text, strlen(cp_text), sigs,
	    TK_NOTE_MAX_SIGS, &note, &len), 0);
	assert_int_equal(tk_note_parse(note, len, &n), 0);
	assert_int_equal(n->nsigs, TK_NOTE_MAX_SIGS);
	tk_note_free(&n);
	longer = malloc(len + 64);
	assert_non_null(longer);
	memcpy(longer, note, len);
	memcpy(longer + len, extra_line, strlen(extra_line));
	assert_int_equal(tk_note_parse(longer, len + strlen(extra_line), &n),
	    TK_VERIFY_ERR_TOOBIG);
	assert_null(n);
	for (i = 0; i <= TK_NOTE_MAX_SIGS; i++)
		free(sigs[i].name);
	free(longer);
	free(note);
}

static void
key_names_refuse_spaces_plus_controls_and_bad_utf8(void **state)
{
	static const char *bad[] = { "", "a b", "a+b", "a\tb",
	    "a\xc2\xa0" "b", "a\xe3\x80\x80" "b", "a\xc0\xaf", "a\x7f",
	    "a\xed\xa0\x80" };
	size_t i;

	(void)state;
	assert_true(tk_note_name_valid("example.com/foo", 15));
	assert_true(tk_note_name_valid("\xc3\xa9t\xc3\xa9", 5));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(tk_note_name_valid(bad[i], strlen(bad[i])));
}

static void
checkpoint_open_checks_signature_then_origin(void **state)
{
	struct tk_note_verifier *v = NULL;
	struct tk_checkpoint *cp;
	EVP_PKEY *k = p256_new();
	size_t len;
	char *note;

	(void)state;
	assert_int_equal(tk_note_verifier_from_pkey(origin, k, &v), 0);
	note = ecdsa_note(k, origin, cp_text, &len);
	assert_int_equal(tk_checkpoint_open(note, len, &v, 1, origin, &cp),
	    0);
	assert_true(cp->size == 5);
	assert_string_equal(cp->origin, origin);
	tk_checkpoint_free(&cp);
	assert_null(cp);
	assert_int_equal(tk_checkpoint_open(note, len, &v, 1, "elsewhere",
	    &cp), TK_VERIFY_ERR_ORIGIN);
	assert_null(cp);
	assert_int_equal(tk_checkpoint_open(note, len, NULL, 0, NULL, &cp),
	    TK_VERIFY_ERR_NO_SIG);
	tk_note_verifier_free(&v);
	free(note);
	EVP_PKEY_free(k);
}

static void
formatting_refuses_what_parsing_would_refuse(void **state)
{
	struct tk_checkpoint cp;
	struct tk_note_sig sig;
	uint8_t byte = 1;
	size_t len;
	char *out;

	(void)state;
	memset(&sig, 0, sizeof(sig));
	sig.name = strdup("n");
	sig.sig = &byte;
	sig.sig_len = 1;
	assert_int_equal(tk_note_format("no newline", 10, &sig, 1, &out,
	    &len), TK_VERIFY_ERR_MALFORMED);
	assert_int_equal(tk_note_format("bell\a\n", 6, &sig, 1, &out, &len),
	    TK_VERIFY_ERR_MALFORMED);
	assert_int_equal(tk_note_format("ok\n", 3, &sig, 0, &out, &len),
	    TK_VERIFY_ERR_NO_SIG);
	free(sig.name);
	memset(&cp, 0, sizeof(cp));
	cp.origin = strdup("two\nlines");
	assert_int_equal(tk_checkpoint_format(&cp, &out, &len),
	    TK_VERIFY_ERR_MALFORMED);
	free(cp.origin);
	cp.origin = strdup("o");
	cp.extensions = strdup("ext\n\n");
	cp.ext_len = 5;
	assert_int_equal(tk_checkpoint_format(&cp, &out, &len),
	    TK_VERIFY_ERR_MALFORMED);
	free(cp.origin);
	free(cp.extensions);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    signed_note_vectors_all_give_the_expected_verdict),
		cmocka_unit_test(
		    vkey_vectors_parse_or_are_refused_as_expected),
		cmocka_unit_test(
		    checkpoint_text_vectors_follow_the_c2sp_verdict),
		cmocka_unit_test(
		    ecdsa_note_made_for_the_journal_verifies_with_its_vkey),
		cmocka_unit_test(
		    ed25519_note_verifies_and_its_key_id_binds_the_name),
		cmocka_unit_test(tampered_text_is_rejected_by_a_known_key),
		cmocka_unit_test(
		    failing_known_signer_rejects_unknown_signer_is_ignored),
		cmocka_unit_test(
		    hundred_signatures_are_accepted_and_one_more_is_refused),
		cmocka_unit_test(
		    key_names_refuse_spaces_plus_controls_and_bad_utf8),
		cmocka_unit_test(checkpoint_open_checks_signature_then_origin),
		cmocka_unit_test(formatting_refuses_what_parsing_would_refuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
