# Shared test helpers: TESTLIB_LIB holds the SoftHSM2 token fixture
# (tests/lib/token_fixture.h). Link it before $(HSM_LIB) and $(COMMON_LIB);
# modules included before this file use the literal path
# $(BUILD)/libtwokey-testlib.a.
TESTLIB_SRCS := tests/lib/token_fixture.c
$(eval $(call library,twokey-testlib,$(TESTLIB_SRCS)))
TESTLIB_LIB := $(BUILD)/libtwokey-testlib.a
