/*
 * Specification of softctap, the software CTAP2 key the client tests
 * use: libfido2 opens it and gets its info, credentials and assertions
 * through its own CTAPHID and CTAP2 code, the signatures verify with
 * libfido2's verifier, and malformed CTAPHID traffic gets the error
 * frames of CTAP 2.0 section 8.1.9.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <fido.h>
#include <fido/es256.h>

#include "../lib/softctap.h"

#define BROADCAST 0xffffffffU

static fido_dev_t *
open_key(struct softctap *k)
{
	fido_dev_t *dev = fido_dev_new();

	assert_non_null(dev);
	assert_int_equal(fido_dev_set_io_functions(dev, softctap_io()),
	    FIDO_OK);
	assert_int_equal(fido_dev_open(dev, softctap_path(k)), FIDO_OK);
	return dev;
}

static void
close_key(fido_dev_t **dev)
{
	fido_dev_close(*dev);
	fido_dev_free(dev);
}

static void
libfido2_opens_it_as_a_fido2_key_with_built_in_uv(void **state)
{
	struct softctap *k = softctap_new();
	fido_cbor_info_t *ci = fido_cbor_info_new();
	fido_dev_t *dev;

	(void)state;
	assert_non_null(k);
	dev = open_key(k);
	assert_true(fido_dev_is_fido2(dev));
	assert_true(fido_dev_has_uv(dev));
	assert_false(fido_dev_has_pin(dev));
	assert_int_equal(fido_dev_get_cbor_info(dev, ci), FIDO_OK);
	assert_string_equal(fido_cbor_info_versions_ptr(ci)[0], "FIDO_2_0");
	assert_memory_equal(fido_cbor_info_aaguid_ptr(ci), "twokey-softauthn",
	    16);
	fido_cbor_info_free(&ci);
	close_key(&dev);
	softctap_free(&k);
}

static void
its_assertions_verify_and_its_counter_climbs(void **state)
{
	static const unsigned char cdh[32] = { 1, 2, 3 };
	struct softctap *k = softctap_new();
	fido_cred_t *c = fido_cred_new();
	fido_assert_t *a = fido_assert_new();
	es256_pk_t *pk = es256_pk_new();
	fido_dev_t *dev;
	int i;

	(void)state;
	assert_non_null(k);
	dev = open_key(k);
	assert_int_equal(fido_cred_set_type(c, COSE_ES256), FIDO_OK);
	assert_int_equal(fido_cred_set_clientdata_hash(c, cdh, sizeof(cdh)),
	    FIDO_OK);
	assert_int_equal(fido_cred_set_rp(c, "localhost", NULL), FIDO_OK);
	assert_int_equal(fido_cred_set_user(c, (const unsigned char *)"u", 1,
	    "u", NULL, NULL), FIDO_OK);
	assert_int_equal(fido_dev_make_cred(dev, c, NULL), FIDO_OK);
	assert_int_equal(fido_cred_verify_self(c), FIDO_OK);
	assert_int_equal(es256_pk_from_ptr(pk, fido_cred_pubkey_ptr(c),
	    fido_cred_pubkey_len(c)), FIDO_OK);
	for (i = 2; i <= 3; i++) {
		fido_assert_free(&a);
		assert_non_null(a = fido_assert_new());
		assert_int_equal(fido_assert_set_rp(a, "localhost"), FIDO_OK);
		assert_int_equal(fido_assert_set_clientdata_hash(a, cdh,
		    sizeof(cdh)), FIDO_OK);
		assert_int_equal(fido_assert_allow_cred(a, fido_cred_id_ptr(c),
		    fido_cred_id_len(c)), FIDO_OK);
		assert_int_equal(fido_assert_set_uv(a, FIDO_OPT_TRUE),
		    FIDO_OK);
		assert_int_equal(fido_dev_get_assert(dev, a, NULL), FIDO_OK);
		assert_int_equal(fido_assert_set_up(a, FIDO_OPT_TRUE),
		    FIDO_OK);
		assert_int_equal(fido_assert_verify(a, 0, COSE_ES256, pk),
		    FIDO_OK);
		assert_int_equal(fido_assert_sigcount(a, 0), (uint32_t)i);
	}
	/* Without a list, a non-resident credential is not found. */
	fido_assert_free(&a);
	assert_non_null(a = fido_assert_new());
	assert_int_equal(fido_assert_set_rp(a, "localhost"), FIDO_OK);
	assert_int_equal(fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh)),
	    FIDO_OK);
	assert_int_equal(fido_dev_get_assert(dev, a, NULL),
	    FIDO_ERR_NO_CREDENTIALS);
	es256_pk_free(&pk);
	fido_assert_free(&a);
	fido_cred_free(&c);
	close_key(&dev);
	softctap_free(&k);
}

/* One raw 64-byte report out (with its report id), the answer back. */
static void
exchange(void *h, uint32_t cid, uint8_t b4, uint16_t bcnt,
    const uint8_t *data, size_t n, uint8_t answer[64])
{
	const fido_dev_io_t *io = softctap_io();
	uint8_t pkt[65];

	memset(pkt, 0, sizeof(pkt));
	memcpy(pkt + 1, &cid, 4);
	pkt[5] = b4;
	if (b4 & 0x80) {
		pkt[6] = (uint8_t)(bcnt >> 8);
		pkt[7] = (uint8_t)bcnt;
	}
	if (n > 0)
		memcpy(pkt + (b4 & 0x80 ? 8 : 6), data, n);
	assert_int_equal(io->write(h, pkt, sizeof(pkt)), 65);
	if (answer != NULL)
		assert_int_equal(io->read(h, answer, 64, 0), 64);
}

static uint32_t
init_channel(void *h)
{
	static const uint8_t nonce[8] = "12345678";
	uint8_t a[64];
	uint32_t cid, bc = BROADCAST;

	exchange(h, BROADCAST, 0x86, 8, nonce, 8, a);
	assert_memory_equal(a, &bc, 4);
	assert_int_equal(a[4], 0x86);
	assert_memory_equal(a + 7, nonce, 8);
	memcpy(&cid, a + 15, 4);
	assert_true(cid != BROADCAST && cid != 0);
	return cid;
}

static void
bad_ctaphid_traffic_gets_error_frames(void **state)
{
	struct softctap *k = softctap_new();
	const fido_dev_io_t *io = softctap_io();
	uint8_t a[64], big[57], last = 0;
	void *h;
	uint32_t cid;

	(void)state;
	assert_non_null(k);
	assert_non_null(h = io->open(softctap_path(k)));
	assert_null(io->open("softctap:none"));
	cid = init_channel(h);
	/* A channel never handed out. */
	exchange(h, cid + 1000, 0x90, 1, (const uint8_t *)"\x04", 1, a);
	assert_int_equal(a[4], 0xbf);
	assert_int_equal(a[7], 0x0b);
	/* A command CTAPHID does not have. */
	exchange(h, cid, 0xd5, 0, NULL, 0, a);
	assert_int_equal(a[7], 0x01);
	/* A continuation out of sequence. */
	memset(big, 0, sizeof(big));
	exchange(h, cid, 0x90, 100, big, sizeof(big), NULL);
	exchange(h, cid, 0x01, 0, big, 10, a);
	assert_int_equal(a[7], 0x04);
	/* A length beyond the largest message. */
	exchange(h, cid, 0x90, 8000, big, sizeof(big), a);
	assert_int_equal(a[7], 0x03);
	assert_int_equal(softctap_hid_errors(k, &last), 4);
	assert_int_equal(last, 0x03);
	/* MSG (U2F) is answered: instruction not supported. */
	exchange(h, cid, 0x83, 1, big, 1, a);
	assert_int_equal(a[4], 0x83);
	assert_int_equal(a[6], 2);
	assert_int_equal(a[7], 0x6d);
	/* Nothing left to read is a timeout, never a wait. */
	assert_int_equal(io->read(h, a, 64, 1000), -1);
	io->close(h);
	softctap_free(&k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    libfido2_opens_it_as_a_fido2_key_with_built_in_uv),
		cmocka_unit_test(
		    its_assertions_verify_and_its_counter_climbs),
		cmocka_unit_test(bad_ctaphid_traffic_gets_error_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
