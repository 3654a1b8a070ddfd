# Test support shared by every module's tests: real components only.
# TESTLIB_LIB holds the software authenticator (tests/lib/softauthn.h) and
# the SoftHSM2 token fixture (tests/lib/token_fixture.h). Link it before
# $(HSM_LIB) and $(COMMON_LIB); modules included before this file use the
# literal path $(BUILD)/libtwokey-testlib.a. One source per line so that
# additions merge cleanly.
TESTLIB_SRCS := \
	tests/lib/softauthn.c \
	tests/lib/token_fixture.c
$(eval $(call library,twokey-testlib,$(TESTLIB_SRCS)))
TESTLIB_LIB := $(BUILD)/libtwokey-testlib.a
