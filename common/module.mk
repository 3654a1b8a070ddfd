# Helpers shared by every layer; depends on nothing of ours.
COMMON_SRCS := common/log.c common/codec.c common/file.c common/sandbox.c
$(eval $(call library,twokey-common,$(COMMON_SRCS)))
COMMON_LIB := $(BUILD)/libtwokey-common.a

$(eval $(call test,test_common,tests/unit/test_common.c,$(COMMON_LIB)))

$(eval $(call fuzzer,fuzz_b64url,tests/fuzz/fuzz_b64url.c common/codec.c))
