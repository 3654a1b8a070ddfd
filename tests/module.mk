# Test support shared by every module's tests: real components only.
# One source per line so that additions merge cleanly.
TESTLIB_SRCS := \
	tests/lib/softauthn.c
$(eval $(call library,twokey-testlib,$(TESTLIB_SRCS)))
TESTLIB_LIB := $(BUILD)/libtwokey-testlib.a
