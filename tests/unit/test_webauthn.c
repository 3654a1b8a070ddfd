/*
 * Specifications of the WebAuthn verifier, driven by softauthn: each fault
 * knob produces a real, otherwise valid response, and the verifier must
 * refuse it with the named check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "twokey/webauthn.h"
#include "../lib/softauthn.h"

#define RP	"approvals.example"
#define ORIGIN	"https://approvals.example"

static const uint8_t challenge[32] = "twokey-test-challenge-0123456789";
static const char *const origins[] = { ORIGIN,
    "https://approvals.example:8443" };

struct fx {
	struct softauthn		*sa;
	struct softauthn_opts		 o;
	struct softauthn_resp		 r;
	struct tk_webauthn_expect	 exp;
	struct tk_webauthn_cred		 cred;
	struct tk_webauthn_verdict	 v;
	struct tk_webauthn_assert_result res;
};

static int
fx_setup(void **state, int alg)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_non_null(f->sa = softauthn_new(alg));
	softauthn_opts_init(&f->o, RP, ORIGIN, challenge, sizeof(challenge));
	f->exp.rp_id = RP;
	f->exp.origins = origins;
	f->exp.n_origins = 2;
	f->exp.challenge = challenge;
	f->exp.challenge_len = sizeof(challenge);
	*state = f;
	return 0;
}

static int
setup_es256(void **state)
{
	return fx_setup(state, -7);
}

static int
setup_eddsa(void **state)
{
	return fx_setup(state, -8);
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	softauthn_resp_clear(&f->r);
	softauthn_free(&f->sa);
	free(f);
	return 0;
}

static int
do_register(struct fx *f)
{
	struct tk_webauthn_registration reg;

	softauthn_resp_clear(&f->r);
	assert_int_equal(softauthn_make_credential(f->sa, &f->o, &f->r), 0);
	reg.raw_id = f->r.id;
	reg.raw_id_len = f->r.id_len;
	reg.client_data = f->r.client_data;
	reg.client_data_len = f->r.client_data_len;
	reg.att_obj = f->r.att_obj;
	reg.att_obj_len = f->r.att_obj_len;
	return tk_webauthn_verify_registration(&f->exp, &reg, "alice",
	    &f->cred, &f->v);
}

/*
 * Registers with default options and counter reg_counter, then asserts
 * with f->o as the test set it.
 */
static int
do_assert(struct fx *f, uint32_t reg_counter)
{
	struct softauthn_opts saved = f->o;
	struct tk_webauthn_assertion as;

	softauthn_opts_init(&f->o, RP, ORIGIN, challenge, sizeof(challenge));
	f->o.counter = reg_counter;
	assert_int_equal(do_register(f), TK_WA_OK);
	f->o = saved;
	softauthn_resp_clear(&f->r);
	assert_int_equal(softauthn_get_assertion(f->sa, &f->o, &f->r), 0);
	as.raw_id = f->r.id;
	as.raw_id_len = f->r.id_len;
	as.client_data = f->r.client_data;
	as.client_data_len = f->r.client_data_len;
	as.auth_data = f->r.auth_data;
	as.auth_data_len = f->r.auth_data_len;
	as.sig = f->r.sig;
	as.sig_len = f->r.sig_len;
	return tk_webauthn_verify_assertion(&f->exp, &f->cred, &as, &f->res,
	    &f->v);
}

static void
assert_detail(const struct fx *f, const char *needle)
{
	if (strstr(f->v.detail, needle) == NULL)
		fail_msg("verdict \"%s\" does not mention \"%s\"", f->v.detail,
		    needle);
}

static void
packed_self_registration_is_accepted_and_recorded(void **state)
{
	struct fx *f = *state;

	assert_int_equal(do_register(f), TK_WA_OK);
	assert_string_equal(f->cred.person, "alice");
	assert_int_equal(f->cred.id_len, f->r.id_len);
	assert_memory_equal(f->cred.id, f->r.id, f->r.id_len);
	assert_int_equal(f->cred.sign_count, 1);
	assert_string_equal(f->cred.fmt, "packed");
	assert_memory_equal(f->cred.aaguid, SOFTAUTHN_AAGUID, 16);
	assert_true(f->cred.uv_at_registration);
	assert_false(f->cred.backup_eligible);
	assert_false(f->cred.attestation_trusted);
	assert_true(f->cred.cose_key_len > 0);
}

static void
es256_credential_records_alg_es256(void **state)
{
	struct fx *f = *state;

	assert_int_equal(do_register(f), TK_WA_OK);
	assert_int_equal(f->cred.alg, TK_WA_ALG_ES256);
}

static void
eddsa_credential_records_alg_eddsa(void **state)
{
	struct fx *f = *state;

	assert_int_equal(do_register(f), TK_WA_OK);
	assert_int_equal(f->cred.alg, TK_WA_ALG_EDDSA);
}

static void
none_attestation_is_accepted(void **state)
{
	struct fx *f = *state;

	f->o.fmt = "none";
	assert_int_equal(do_register(f), TK_WA_OK);
	assert_string_equal(f->cred.fmt, "none");
}

static void
x5c_chain_to_configured_root_is_trusted(void **state)
{
	struct fx *f = *state;
	struct tk_webauthn_roots *roots = tk_webauthn_roots_new();
	const char *pem = softauthn_ca_pem(f->sa);

	assert_non_null(roots);
	assert_int_equal(tk_webauthn_roots_add_pem(roots, pem, strlen(pem)),
	    0);
	f->exp.roots = roots;
	f->o.x5c = 1;
	assert_int_equal(do_register(f), TK_WA_OK);
	assert_true(f->cred.attestation_trusted);
	tk_webauthn_roots_free(&roots);
	assert_null(roots);
}

static void
x5c_chain_to_unknown_root_is_refused(void **state)
{
	struct fx *f = *state;
	struct softauthn *other = softauthn_new(-7);
	struct tk_webauthn_roots *roots = tk_webauthn_roots_new();
	const char *pem = softauthn_ca_pem(other);

	assert_int_equal(tk_webauthn_roots_add_pem(roots, pem, strlen(pem)),
	    0);
	f->exp.roots = roots;
	f->o.x5c = 1;
	assert_int_equal(do_register(f), TK_WA_ERR_ATT_TRUST);
	tk_webauthn_roots_free(&roots);
	softauthn_free(&other);
}

static void
expired_attestation_certificate_is_refused(void **state)
{
	struct fx *f = *state;

	f->o.x5c = 1;
	f->exp.at_time = time(NULL) + 2 * 365 * 86400L;
	assert_int_equal(do_register(f), TK_WA_ERR_ATT_CERT);
	assert_detail(f, "expired");
}

static void
self_attestation_is_refused_when_roots_are_required(void **state)
{
	struct fx *f = *state;
	struct tk_webauthn_roots *roots = tk_webauthn_roots_new();
	const char *pem = softauthn_ca_pem(f->sa);

	assert_int_equal(tk_webauthn_roots_add_pem(roots, pem, strlen(pem)),
	    0);
	f->exp.roots = roots;
	assert_int_equal(do_register(f), TK_WA_ERR_ATT_TRUST);
	tk_webauthn_roots_free(&roots);
}

static void
registration_wrong_origin_is_refused_and_named(void **state)
{
	struct fx *f = *state;

	f->o.origin = "https://evil.example";
	assert_int_equal(do_register(f), TK_WA_ERR_ORIGIN);
	assert_string_equal(f->v.detail,
	    "origin https://evil.example is not allowed");
	assert_int_equal(f->cred.id_len, 0);
}

static void
origin_with_other_port_is_refused(void **state)
{
	struct fx *f = *state;

	f->o.origin = "https://approvals.example:444";
	assert_int_equal(do_register(f), TK_WA_ERR_ORIGIN);
}

static void
second_allowed_origin_is_accepted(void **state)
{
	struct fx *f = *state;

	f->o.origin = "https://approvals.example:8443";
	assert_int_equal(do_register(f), TK_WA_OK);
}

static void
registration_wrong_rp_id_is_refused(void **state)
{
	struct fx *f = *state;

	f->o.rp_id = "evil.example";
	assert_int_equal(do_register(f), TK_WA_ERR_RPID);
}

static void
registration_without_up_is_refused(void **state)
{
	struct fx *f = *state;

	f->o.flags = TK_WA_FLAG_UV;
	assert_int_equal(do_register(f), TK_WA_ERR_UP);
}

static void
registration_without_uv_is_refused_when_required(void **state)
{
	struct fx *f = *state;

	f->o.flags = TK_WA_FLAG_UP;
	f->exp.require_uv = 1;
	assert_int_equal(do_register(f), TK_WA_ERR_UV);
}

static void
registration_without_uv_is_accepted_when_not_required(void **state)
{
	struct fx *f = *state;

	f->o.flags = TK_WA_FLAG_UP;
	assert_int_equal(do_register(f), TK_WA_OK);
	assert_false(f->cred.uv_at_registration);
}

static void
registration_wrong_challenge_is_refused(void **state)
{
	struct fx *f = *state;
	static const uint8_t other[32] = "another-challenge-for-someone-el";

	f->o.challenge = other;
	assert_int_equal(do_register(f), TK_WA_ERR_CHALLENGE);
	assert_string_equal(tk_webauthn_strerror(f->v.code),
	    "challenge does not match");
}

static void
registration_with_get_type_is_refused(void **state)
{
	struct fx *f = *state;

	f->o.type = "webauthn.get";
	assert_int_equal(do_register(f), TK_WA_ERR_TYPE);
}

static void
cross_origin_registration_is_refused(void **state)
{
	struct fx *f = *state;

	f->o.cross_origin = 1;
	assert_int_equal(do_register(f), TK_WA_ERR_CROSS_ORIGIN);
}

static void
trailing_bytes_in_registration_authdata_are_refused(void **state)
{
	struct fx *f = *state;

	f->o.trailing = 3;
	assert_int_equal(do_register(f), TK_WA_ERR_AUTHDATA);
	assert_detail(f, "3 trailing bytes");
}

static void
trailing_bytes_after_attestation_object_are_refused(void **state)
{
	struct fx *f = *state;

	f->o.shape = SOFTAUTHN_SHAPE_TRAILING;
	assert_int_equal(do_register(f), TK_WA_ERR_ATTOBJ);
}

static void
duplicate_key_in_attstmt_is_refused(void **state)
{
	struct fx *f = *state;

	f->o.shape = SOFTAUTHN_SHAPE_DUP_KEY;
	assert_int_equal(do_register(f), TK_WA_ERR_ATTOBJ);
}

static void
indefinite_length_attestation_object_is_refused(void **state)
{
	struct fx *f = *state;

	f->o.shape = SOFTAUTHN_SHAPE_INDEFINITE;
	assert_int_equal(do_register(f), TK_WA_ERR_ATTOBJ);
}

static void
authdata_as_text_string_is_refused(void **state)
{
	struct fx *f = *state;

	f->o.shape = SOFTAUTHN_SHAPE_AUTHDATA_TEXT;
	assert_int_equal(do_register(f), TK_WA_ERR_ATTOBJ);
}

static void
self_attestation_by_another_key_is_refused(void **state)
{
	struct fx *f = *state;

	f->o.other_key = 1;
	assert_int_equal(do_register(f), TK_WA_ERR_ATT_SIG);
}

static void
x5c_attestation_by_another_key_is_refused(void **state)
{
	struct fx *f = *state;

	f->o.other_key = 1;
	f->o.x5c = 1;
	assert_int_equal(do_register(f), TK_WA_ERR_ATT_SIG);
}

static void
bs_without_be_is_refused(void **state)
{
	struct fx *f = *state;

	f->o.flags = TK_WA_FLAG_UP | TK_WA_FLAG_BS;
	assert_int_equal(do_register(f), TK_WA_ERR_FLAGS);
}

static void
backup_eligible_key_is_refused_when_policy_wants_device_bound(void **state)
{
	struct fx *f = *state;

	f->o.flags = TK_WA_FLAG_UP | TK_WA_FLAG_BE;
	f->exp.refuse_backup_eligible = 1;
	assert_int_equal(do_register(f), TK_WA_ERR_BACKUP);
}

static void
algorithm_outside_policy_is_refused(void **state)
{
	struct fx *f = *state;
	static const int only_rs256[] = { TK_WA_ALG_RS256 };

	f->exp.algs = only_rs256;
	f->exp.n_algs = 1;
	assert_int_equal(do_register(f), TK_WA_ERR_ALG);
}

static void
aaguid_outside_allow_list_is_refused(void **state)
{
	struct fx *f = *state;
	static const uint8_t list[1][16] = { "some-other-model" };

	f->exp.aaguids = list;
	f->exp.n_aaguids = 1;
	assert_int_equal(do_register(f), TK_WA_ERR_AAGUID);
}

static void
aaguid_on_allow_list_is_accepted(void **state)
{
	struct fx *f = *state;
	static const uint8_t list[2][16] = { "some-other-model",
	    "twokey-softauthn" };

	f->exp.aaguids = list;
	f->exp.n_aaguids = 2;
	assert_int_equal(do_register(f), TK_WA_OK);
}

static void
short_challenge_policy_is_refused_as_argument(void **state)
{
	struct fx *f = *state;

	f->exp.challenge_len = 8;
	assert_int_equal(do_register(f), TK_WA_ERR_ARG);
}

static void
assertion_is_accepted_and_returns_counter_and_flags(void **state)
{
	struct fx *f = *state;

	f->o.counter = 7;
	assert_int_equal(do_assert(f, 1), TK_WA_OK);
	assert_int_equal(f->res.sign_count, 7);
	assert_int_equal(f->res.flags, TK_WA_FLAG_UP | TK_WA_FLAG_UV);
	assert_true(f->res.user_verified);
	tk_webauthn_cred_update(&f->cred, &f->res);
	assert_int_equal(f->cred.sign_count, 7);
}

static void
assertion_wrong_origin_is_refused_and_named(void **state)
{
	struct fx *f = *state;

	f->o.counter = 2;
	f->o.origin = "https://evil.example";
	assert_int_equal(do_assert(f, 1), TK_WA_ERR_ORIGIN);
	assert_string_equal(f->v.detail,
	    "origin https://evil.example is not allowed");
}

static void
assertion_wrong_rp_id_is_refused(void **state)
{
	struct fx *f = *state;

	f->o.counter = 2;
	f->o.rp_id = "evil.example";
	assert_int_equal(do_assert(f, 1), TK_WA_ERR_RPID);
}

static void
assertion_without_up_is_refused_although_signed(void **state)
{
	struct fx *f = *state;

	f->o.counter = 2;
	f->o.flags = TK_WA_FLAG_UV;
	assert_int_equal(do_assert(f, 1), TK_WA_ERR_UP);
}

static void
assertion_without_uv_is_refused_when_required(void **state)
{
	struct fx *f = *state;

	f->o.counter = 2;
	f->o.flags = TK_WA_FLAG_UP;
	f->exp.require_uv = 1;
	assert_int_equal(do_assert(f, 1), TK_WA_ERR_UV);
}

static void
assertion_without_uv_is_accepted_when_not_required(void **state)
{
	struct fx *f = *state;

	f->o.counter = 2;
	f->o.flags = TK_WA_FLAG_UP;
	assert_int_equal(do_assert(f, 1), TK_WA_OK);
	assert_false(f->res.user_verified);
}

static void
counter_regression_is_refused_as_possible_clone(void **state)
{
	struct fx *f = *state;

	f->o.counter = 3;
	assert_int_equal(do_assert(f, 5), TK_WA_ERR_COUNTER);
	assert_detail(f, "possibly cloned");
}

static void
counter_repeated_is_refused(void **state)
{
	struct fx *f = *state;

	f->o.counter = 5;
	assert_int_equal(do_assert(f, 5), TK_WA_ERR_COUNTER);
}

static void
counter_reset_to_zero_is_refused(void **state)
{
	struct fx *f = *state;

	f->o.counter = 0;
	assert_int_equal(do_assert(f, 5), TK_WA_ERR_COUNTER);
}

static void
counters_both_zero_are_accepted(void **state)
{
	struct fx *f = *state;

	f->o.counter = 0;
	assert_int_equal(do_assert(f, 0), TK_WA_OK);
	assert_int_equal(f->res.sign_count, 0);
}

static void
assertion_wrong_challenge_is_refused(void **state)
{
	struct fx *f = *state;
	static const uint8_t other[32] = "another-challenge-for-someone-el";

	f->o.counter = 2;
	f->o.challenge = other;
	assert_int_equal(do_assert(f, 1), TK_WA_ERR_CHALLENGE);
}

static void
assertion_with_create_type_is_refused(void **state)
{
	struct fx *f = *state;

	f->o.counter = 2;
	f->o.type = "webauthn.create";
	assert_int_equal(do_assert(f, 1), TK_WA_ERR_TYPE);
}

static void
trailing_bytes_in_assertion_authdata_are_refused(void **state)
{
	struct fx *f = *state;

	f->o.counter = 2;
	f->o.trailing = 1;
	assert_int_equal(do_assert(f, 1), TK_WA_ERR_AUTHDATA);
}

static void
assertion_signed_by_another_key_is_refused(void **state)
{
	struct fx *f = *state;

	f->o.counter = 2;
	f->o.other_key = 1;
	assert_int_equal(do_assert(f, 1), TK_WA_ERR_SIG);
}

static void
backup_eligibility_change_is_refused(void **state)
{
	struct fx *f = *state;

	f->o.counter = 2;
	f->o.flags = TK_WA_FLAG_UP | TK_WA_FLAG_BE;
	assert_int_equal(do_assert(f, 1), TK_WA_ERR_BACKUP);
}

/* Verifies the last assertion in f->r again against f->cred. */
static int
verify_again(struct fx *f)
{
	struct tk_webauthn_assertion as;

	as.raw_id = f->r.id;
	as.raw_id_len = f->r.id_len;
	as.client_data = f->r.client_data;
	as.client_data_len = f->r.client_data_len;
	as.auth_data = f->r.auth_data;
	as.auth_data_len = f->r.auth_data_len;
	as.sig = f->r.sig;
	as.sig_len = f->r.sig_len;
	return tk_webauthn_verify_assertion(&f->exp, &f->cred, &as, &f->res,
	    &f->v);
}

static void
assertion_for_another_credential_id_is_refused(void **state)
{
	struct fx *f = *state;

	f->o.counter = 2;
	assert_int_equal(do_assert(f, 1), TK_WA_OK);
	f->cred.id[0] ^= 1;
	assert_int_equal(verify_again(f), TK_WA_ERR_CRED_ID);
}

static void
replayed_assertion_is_refused_after_counter_update(void **state)
{
	struct fx *f = *state;

	f->o.counter = 2;
	assert_int_equal(do_assert(f, 1), TK_WA_OK);
	tk_webauthn_cred_update(&f->cred, &f->res);
	assert_int_equal(verify_again(f), TK_WA_ERR_COUNTER);
}

static void
every_error_code_has_a_distinct_name_and_sentence(void **state)
{
	int i, j;

	(void)state;
	for (i = TK_WA_ERR_MIN; i <= 0; i++) {
		assert_string_not_equal(tk_webauthn_errname(i), "unknown");
		assert_string_not_equal(tk_webauthn_strerror(i),
		    "unknown webauthn error");
		for (j = TK_WA_ERR_MIN; j < i; j++)
			assert_string_not_equal(tk_webauthn_errname(i),
			    tk_webauthn_errname(j));
	}
	assert_string_equal(tk_webauthn_errname(TK_WA_ERR_MIN - 1),
	    "unknown");
}

#define T(fn, setup) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(packed_self_registration_is_accepted_and_recorded,
		    setup_es256),
		T(es256_credential_records_alg_es256, setup_es256),
		T(eddsa_credential_records_alg_eddsa, setup_eddsa),
		T(none_attestation_is_accepted, setup_es256),
		T(x5c_chain_to_configured_root_is_trusted, setup_es256),
		T(x5c_chain_to_unknown_root_is_refused, setup_es256),
		T(expired_attestation_certificate_is_refused, setup_es256),
		T(self_attestation_is_refused_when_roots_are_required,
		    setup_es256),
		T(registration_wrong_origin_is_refused_and_named,
		    setup_es256),
		T(origin_with_other_port_is_refused, setup_es256),
		T(second_allowed_origin_is_accepted, setup_es256),
		T(registration_wrong_rp_id_is_refused, setup_es256),
		T(registration_without_up_is_refused, setup_es256),
		T(registration_without_uv_is_refused_when_required,
		    setup_es256),
		T(registration_without_uv_is_accepted_when_not_required,
		    setup_es256),
		T(registration_wrong_challenge_is_refused, setup_es256),
		T(registration_with_get_type_is_refused, setup_es256),
		T(cross_origin_registration_is_refused, setup_es256),
		T(trailing_bytes_in_registration_authdata_are_refused,
		    setup_es256),
		T(trailing_bytes_after_attestation_object_are_refused,
		    setup_es256),
		T(duplicate_key_in_attstmt_is_refused, setup_es256),
		T(indefinite_length_attestation_object_is_refused,
		    setup_es256),
		T(authdata_as_text_string_is_refused, setup_es256),
		T(self_attestation_by_another_key_is_refused, setup_es256),
		T(self_attestation_by_another_key_is_refused, setup_eddsa),
		T(x5c_attestation_by_another_key_is_refused, setup_es256),
		T(bs_without_be_is_refused, setup_es256),
		T(backup_eligible_key_is_refused_when_policy_wants_device_bound,
		    setup_es256),
		T(algorithm_outside_policy_is_refused, setup_es256),
		T(aaguid_outside_allow_list_is_refused, setup_es256),
		T(aaguid_on_allow_list_is_accepted, setup_es256),
		T(short_challenge_policy_is_refused_as_argument, setup_es256),
		T(assertion_is_accepted_and_returns_counter_and_flags,
		    setup_es256),
		T(assertion_is_accepted_and_returns_counter_and_flags,
		    setup_eddsa),
		T(assertion_wrong_origin_is_refused_and_named, setup_es256),
		T(assertion_wrong_rp_id_is_refused, setup_es256),
		T(assertion_without_up_is_refused_although_signed,
		    setup_es256),
		T(assertion_without_uv_is_refused_when_required, setup_es256),
		T(assertion_without_uv_is_accepted_when_not_required,
		    setup_es256),
		T(counter_regression_is_refused_as_possible_clone,
		    setup_es256),
		T(counter_repeated_is_refused, setup_es256),
		T(counter_reset_to_zero_is_refused, setup_es256),
		T(counters_both_zero_are_accepted, setup_es256),
		T(assertion_wrong_challenge_is_refused, setup_es256),
		T(assertion_with_create_type_is_refused, setup_es256),
		T(trailing_bytes_in_assertion_authdata_are_refused,
		    setup_es256),
		T(assertion_signed_by_another_key_is_refused, setup_es256),
		T(assertion_signed_by_another_key_is_refused, setup_eddsa),
		T(backup_eligibility_change_is_refused, setup_es256),
		T(assertion_for_another_credential_id_is_refused,
		    setup_es256),
		T(replayed_assertion_is_refused_after_counter_update,
		    setup_es256),
		cmocka_unit_test(
		    every_error_code_has_a_distinct_name_and_sentence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
