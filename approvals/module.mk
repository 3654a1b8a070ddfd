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
