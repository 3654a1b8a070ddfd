# Approvals layer: WebAuthn relying-party verification (more to come:
# quorum, requests, grants build on include/twokey/webauthn.h).
APPROVALS_SRCS := \
	approvals/webauthn.c \
	approvals/webauthn_assert.c \
	approvals/webauthn_cbor.c \
	approvals/webauthn_clientdata.c \
	approvals/webauthn_cose.c \
	approvals/webauthn_reg.c \
	approvals/webauthn_x5c.c
$(eval $(call library,twokey-approvals,$(APPROVALS_SRCS)))
APPROVALS_LIB := $(BUILD)/libtwokey-approvals.a

# Runs one shared/cases/webauthn case file through the verifier.
$(eval $(call program,twokey-webauthn-case,tests/tools/webauthn_case.c,\
	$(APPROVALS_LIB) $(BUILD)/libtwokey-common.a))

# The testlib is declared in tests/module.mk, read after this file.
$(eval $(call test,test_webauthn,tests/unit/test_webauthn.c,\
	$(BUILD)/libtwokey-testlib.a $(APPROVALS_LIB) \
	$(BUILD)/libtwokey-common.a))

# Every shared/cases/webauthn case through twokey-webauthn-case.
$(eval $(call test,test_webauthn_cases,tests/unit/test_webauthn_cases.c,))

# Requests, policy, quorum and grants (the approvals service), built on
# the verifier above.
REQUESTS_SRCS := approvals/policy.c approvals/request.c \
	approvals/challenge.c approvals/quorum.c approvals/store.c \
	approvals/approvals.c approvals/flow.c approvals/vote.c \
	approvals/grant.c
$(eval $(call library,twokey-requests,$(REQUESTS_SRCS)))
REQUESTS_LIB := $(BUILD)/libtwokey-requests.a

$(eval $(call test,test_quorum,tests/unit/test_quorum.c,$(REQUESTS_LIB) \
	$(BUILD)/libtwokey-common.a))
$(eval $(call test,test_requests,tests/unit/test_requests.c,$(REQUESTS_LIB) \
	$(BUILD)/libtwokey-common.a))

$(eval $(call fuzzer,fuzz_request,tests/fuzz/fuzz_request.c \
	approvals/request.c approvals/policy.c approvals/challenge.c \
	common/codec.c common/log.c))
