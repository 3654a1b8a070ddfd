# Evidence packs (include/twokey/pack.h): above approvals and the journal,
# below web. Modules read after this one (hsm, tests, web) are named by
# their literal library paths.
EVIDENCE_SRCS := evidence/pack.c evidence/pack_build.c \
	evidence/pack_docs.c evidence/report.c
$(eval $(call library,twokey-evidence,$(EVIDENCE_SRCS)))
EVIDENCE_LIB := $(BUILD)/libtwokey-evidence.a
