/*
 * Specifications of the strict CBOR parsers behind the WebAuthn verifier:
 * authenticator data, extension maps and COSE keys, byte by byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../approvals/webauthn_int.h"

/* rpIdHash (zeros here), flags, counter, then whatever the test adds. */
static size_t
authdata(uint8_t *out, uint8_t flags, const uint8_t *tail, size_t n)
{
	memset(out, 0, 37);
	out[32] = flags;
	out[36] = 9;
	if (n > 0)
		memcpy(out + 37, tail, n);
	return 37 + n;
}

static int
parse(uint8_t flags, const uint8_t *tail, size_t n, int attested,
    struct tk_wa_authdata *ad)
{
	uint8_t buf[2048];

	assert_true(n + 37 <= sizeof(buf));
	return tk_wa_authdata_parse(buf, authdata(buf, flags, tail, n),
	    attested, ad, NULL);
}

static void
assertion_authdata_with_counter_parses(void **state)
{
	struct tk_wa_authdata ad;

	(void)state;
	assert_int_equal(parse(0x05, NULL, 0, 0, &ad), 0);
	assert_int_equal(ad.flags, 0x05);
	assert_int_equal(ad.sign_count, 9);
}

static void
short_authdata_is_refused(void **state)
{
	struct tk_wa_authdata ad;
	uint8_t buf[36] = { 0 };

	(void)state;
	assert_int_equal(tk_wa_authdata_parse(buf, sizeof(buf), 0, &ad,
	    NULL), TK_WA_ERR_AUTHDATA);
}

static void
unknown_extension_is_accepted(void **state)
{
	/* {"devicePubKey": h'01'} */
	static const uint8_t ext[] = { 0xa1, 0x6c, 'd', 'e', 'v', 'i', 'c',
	    'e', 'P', 'u', 'b', 'K', 'e', 'y', 0x41, 0x01 };
	struct tk_wa_authdata ad;

	(void)state;
	assert_int_equal(parse(0x85, ext, sizeof(ext), 0, &ad), 0);
	assert_true(ad.ext_present);
}

static void
cred_protect_output_is_read(void **state)
{
	/* {"credProtect": 2} */
	static const uint8_t ext[] = { 0xa1, 0x6b, 'c', 'r', 'e', 'd', 'P',
	    'r', 'o', 't', 'e', 'c', 't', 0x02 };
	struct tk_wa_authdata ad;

	(void)state;
	assert_int_equal(parse(0x81, ext, sizeof(ext), 0, &ad), 0);
	assert_int_equal(ad.ext_cred_protect, 2);
}

static void
duplicate_extension_key_is_refused(void **state)
{
	/* {"a": 1, "a": 2} */
	static const uint8_t ext[] = { 0xa2, 0x61, 'a', 0x01, 0x61, 'a',
	    0x02 };
	struct tk_wa_authdata ad;

	(void)state;
	assert_int_equal(parse(0x81, ext, sizeof(ext), 0, &ad),
	    TK_WA_ERR_EXTENSIONS);
}

static void
huge_declared_map_is_refused_without_allocating(void **state)
{
	/* a map head declaring 2^32-1 pairs, then nothing */
	static const uint8_t ext[] = { 0xba, 0xff, 0xff, 0xff, 0xff };
	struct tk_wa_authdata ad;

	(void)state;
	assert_int_equal(parse(0x81, ext, sizeof(ext), 0, &ad),
	    TK_WA_ERR_EXTENSIONS);
}

static void
indefinite_extension_map_is_refused(void **state)
{
	static const uint8_t ext[] = { 0xbf, 0x61, 'a', 0x01, 0xff };
	struct tk_wa_authdata ad;

	(void)state;
	assert_int_equal(parse(0x81, ext, sizeof(ext), 0, &ad),
	    TK_WA_ERR_EXTENSIONS);
}

static void
tagged_extension_value_is_refused(void **state)
{
	/* {"a": 1(0)}: a tag */
	static const uint8_t ext[] = { 0xa1, 0x61, 'a', 0xc1, 0x00 };
	struct tk_wa_authdata ad;

	(void)state;
	assert_int_equal(parse(0x81, ext, sizeof(ext), 0, &ad),
	    TK_WA_ERR_EXTENSIONS);
}

static void
ed_flag_without_extensions_is_refused(void **state)
{
	struct tk_wa_authdata ad;

	(void)state;
	assert_int_equal(parse(0x81, NULL, 0, 0, &ad), TK_WA_ERR_EXTENSIONS);
}

static void
extensions_without_ed_flag_are_trailing_bytes(void **state)
{
	static const uint8_t ext[] = { 0xa1, 0x61, 'a', 0x01 };
	struct tk_wa_authdata ad;

	(void)state;
	assert_int_equal(parse(0x01, ext, sizeof(ext), 0, &ad),
	    TK_WA_ERR_AUTHDATA);
}

static void
at_flag_in_assertion_is_refused(void **state)
{
	struct tk_wa_authdata ad;

	(void)state;
	assert_int_equal(parse(0x41, NULL, 0, 0, &ad), TK_WA_ERR_FLAGS);
}

static void
credential_id_longer_than_1023_bytes_is_refused(void **state)
{
	uint8_t tail[16 + 2 + 1024 + 1] = { 0 };
	struct tk_wa_authdata ad;

	(void)state;
	tail[16] = 0x04;	/* 1024 */
	tail[17] = 0x00;
	assert_int_equal(parse(0x41, tail, sizeof(tail), 1, &ad),
	    TK_WA_ERR_CRED_ID);
}

/* COSE EC2 P-256 key with x = y = 32 bytes of v (not on the curve). */
static size_t
ec2_key(uint8_t *out, uint8_t v)
{
	static const uint8_t head[] = { 0xa5, 0x01, 0x02, 0x03, 0x26, 0x20,
	    0x01, 0x21, 0x58, 0x20 };
	size_t n = 0;

	memcpy(out, head, sizeof(head));
	n += sizeof(head);
	memset(out + n, v, 32);
	n += 32;
	out[n++] = 0x22;
	out[n++] = 0x58;
	out[n++] = 0x20;
	memset(out + n, v, 32);
	return n + 32;
}

static void
cose_ec2_key_is_reduced_to_x_and_y(void **state)
{
	uint8_t key[128];
	struct tk_wa_cose k;

	(void)state;
	assert_int_equal(tk_wa_cose_parse(key, ec2_key(key, 7), &k, NULL),
	    0);
	assert_int_equal(k.alg, TK_WA_ALG_ES256);
	assert_int_equal(k.raw_len, 64);
}

static void
cose_key_with_trailing_byte_is_refused(void **state)
{
	uint8_t key[128];
	struct tk_wa_cose k;
	size_t n;

	(void)state;
	n = ec2_key(key, 7);
	key[n++] = 0;
	assert_int_equal(tk_wa_cose_parse(key, n, &k, NULL),
	    TK_WA_ERR_CREDENTIAL);
}

static void
rsa_key_larger_than_2048_bits_is_refused_as_unsupported(void **state)
{
	/* {1: 3, 3: -257, -1: 384-byte n, -2: h'010001'} */
	uint8_t key[512];
	struct tk_webauthn_verdict v;
	struct tk_wa_cose k;
	size_t n = 0;

	(void)state;
	key[n++] = 0xa4;
	key[n++] = 0x01;
	key[n++] = 0x03;
	key[n++] = 0x03;
	key[n++] = 0x39;	/* -257 */
	key[n++] = 0x01;
	key[n++] = 0x00;
	key[n++] = 0x20;
	key[n++] = 0x59;	/* bstr, 2-byte length 384 */
	key[n++] = 0x01;
	key[n++] = 0x80;
	memset(key + n, 0xc5, 384);
	n += 384;
	key[n++] = 0x21;
	key[n++] = 0x43;
	key[n++] = 0x01;
	key[n++] = 0x00;
	key[n++] = 0x01;
	memset(&v, 0, sizeof(v));
	assert_int_equal(tk_wa_cose_parse(key, n, &k, &v), TK_WA_ERR_ALG);
	assert_non_null(strstr(v.detail, "RSA-2048"));
}

static void
cred_set_key_refuses_a_non_key(void **state)
{
	static const uint8_t notkey[] = { 0xa1, 0x01, 0x01 };
	struct tk_webauthn_cred cred;

	(void)state;
	memset(&cred, 0, sizeof(cred));
	assert_int_not_equal(tk_webauthn_cred_set_key(&cred, notkey,
	    sizeof(notkey), NULL), 0);
	assert_int_equal(cred.cose_key_len, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(assertion_authdata_with_counter_parses),
		cmocka_unit_test(short_authdata_is_refused),
		cmocka_unit_test(unknown_extension_is_accepted),
		cmocka_unit_test(cred_protect_output_is_read),
		cmocka_unit_test(duplicate_extension_key_is_refused),
		cmocka_unit_test(
		    huge_declared_map_is_refused_without_allocating),
		cmocka_unit_test(indefinite_extension_map_is_refused),
		cmocka_unit_test(tagged_extension_value_is_refused),
		cmocka_unit_test(ed_flag_without_extensions_is_refused),
		cmocka_unit_test(
		    extensions_without_ed_flag_are_trailing_bytes),
		cmocka_unit_test(at_flag_in_assertion_is_refused),
		cmocka_unit_test(
		    credential_id_longer_than_1023_bytes_is_refused),
		cmocka_unit_test(cose_ec2_key_is_reduced_to_x_and_y),
		cmocka_unit_test(cose_key_with_trailing_byte_is_refused),
		cmocka_unit_test(
		    rsa_key_larger_than_2048_bits_is_refused_as_unsupported),
		cmocka_unit_test(cred_set_key_refuses_a_non_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
