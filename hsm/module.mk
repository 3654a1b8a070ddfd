# The PKCS#11 token behind a separate signer process (see hsm.h).
# HSM_LIB is what other layers link: the client, which never loads a
# module. HSM_P11_LIB is linked only into twokey-signer (and tests): libp11
# is used only in hsm/signer_server.c, raw PKCS#11 in p11raw.c and
# ceremony.c.
CPPFLAGS += $(shell pkg-config --cflags p11-kit-1 2>/dev/null)

HSM_SRCS := hsm/hsm.c hsm/uri.c hsm/proto.c hsm/signer_client.c \
	    hsm/ceremony_spawn.c hsm/remote_key.c hsm/supervisor.c
$(eval $(call library,twokey-hsm,$(HSM_SRCS)))
HSM_LIB := $(BUILD)/libtwokey-hsm.a
COMMON_LIB := $(BUILD)/libtwokey-common.a

HSM_P11_SRCS := hsm/signer_server.c hsm/p11raw.c hsm/ceremony.c \
	    hsm/signer_sandbox.c
$(eval $(call library,twokey-hsm-p11,$(HSM_P11_SRCS)))
HSM_P11_LIB := $(BUILD)/libtwokey-hsm-p11.a

$(eval $(call program,twokey-signer,hsm/signer_main.c,\
	$(HSM_P11_LIB) $(HSM_LIB) $(COMMON_LIB)))
INSTALL_LIBEXEC += twokey-signer

# Tests; the testlib is defined in tests/module.mk, included after this.
HSM_TESTLIB := $(BUILD)/libtwokey-testlib.a
$(eval $(call test,test_hsm_signer,tests/unit/test_hsm_signer.c,\
	$(HSM_TESTLIB) $(HSM_LIB) $(COMMON_LIB)))
$(eval $(call test,test_hsm_uri,tests/unit/test_hsm_uri.c,\
	$(HSM_LIB) $(COMMON_LIB)))
$(eval $(call test,test_hsm_errors,tests/unit/test_hsm_errors.c,\
	$(HSM_TESTLIB) $(HSM_P11_LIB) $(HSM_LIB) $(COMMON_LIB)))
$(eval $(call test,test_hsm_ceremony,tests/unit/test_hsm_ceremony.c,\
	$(HSM_TESTLIB) $(HSM_P11_LIB) $(HSM_LIB) $(COMMON_LIB)))

$(eval $(call fuzzer,fuzz_p11uri,tests/fuzz/fuzz_p11uri.c hsm/uri.c \
	hsm/hsm.c common/log.c common/codec.c common/file.c))

$(eval $(call bench,bench_sign,tests/bench/bench_sign.c,\
	$(HSM_TESTLIB) $(HSM_LIB) $(COMMON_LIB)))
