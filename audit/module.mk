# ---- verify: the offline verifier library and twokey-verify -------------
# libtwokey-verify.a depends only on OpenSSL, jansson and common/ (never on
# hsm/, SQLite or daemon code) so that twokey-verify builds and ships
# alone. The journal's own library (libtwokey-audit.a) lives in its own
# block below this one.
AUDIT_VERIFY_SRCS := audit/verify_err.c
$(eval $(call library,twokey-verify,$(AUDIT_VERIFY_SRCS)))
AUDIT_VERIFY_LIB := $(BUILD)/libtwokey-verify.a
# common/module.mk is read after this file: use the literal path.
AUDIT_VERIFY_DEPS := $(AUDIT_VERIFY_LIB) $(BUILD)/libtwokey-common.a
# ---- end verify ---------------------------------------------------------
