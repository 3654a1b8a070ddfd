# Evidence packs (include/twokey/pack.h): above approvals and the journal,
# below web. Modules read after this one (hsm, tests, web) are named by
# their literal library paths.
EVIDENCE_SRCS := evidence/pack.c evidence/pack_build.c \
	evidence/pack_docs.c evidence/report.c
$(eval $(call library,twokey-evidence,$(EVIDENCE_SRCS)))
EVIDENCE_LIB := $(BUILD)/libtwokey-evidence.a

# A real token, store, journal and assertions; the stock tools and
# twokey-verify run on the packs (twokey-verify is built by "tests").
$(eval $(call test,test_pack,tests/unit/test_pack.c \
	tests/unit/approvals_env.c,$(BUILD)/libtwokey-testlib.a \
	$(EVIDENCE_LIB) $(REQUESTS_TEST_LIBS)))
