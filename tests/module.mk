# Test support shared by every module's tests: real components only.
# One source per line so that additions merge cleanly.
#   tests/lib/token_fixture.h  a real SoftHSM2 token with the key ceremony
#                              done, and a signer on it
# Modules included before this file (approvals, audit, common,
# firmware-host, hsm) use the literal path $(BUILD)/libtwokey-testlib.a.
TESTLIB_SRCS := \
	tests/lib/proc_probe.c \
	tests/lib/softauthn.c \
	tests/lib/softctap.c \
	tests/lib/token_fixture.c
$(eval $(call library,twokey-testlib,$(TESTLIB_SRCS)))
TESTLIB_LIB := $(BUILD)/libtwokey-testlib.a
