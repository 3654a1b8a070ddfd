# ---- verify: the offline verifier library and twokey-verify -------------
# libtwokey-verify.a depends only on OpenSSL, jansson and common/ (never on
# hsm/, SQLite or daemon code) so that twokey-verify builds and ships
# alone. The journal's own library (libtwokey-audit.a) lives in its own
# block below this one.
AUDIT_VERIFY_SRCS := audit/verify_err.c audit/merkle_hash.c audit/merkle.c \
	audit/note.c audit/note_keys.c audit/note_verify.c audit/checkpoint.c \
	audit/tlogproof.c
$(eval $(call library,twokey-verify,$(AUDIT_VERIFY_SRCS)))
AUDIT_VERIFY_LIB := $(BUILD)/libtwokey-verify.a
# common/module.mk is read after this file: use the literal path.
AUDIT_VERIFY_DEPS := $(AUDIT_VERIFY_LIB) $(BUILD)/libtwokey-common.a

VERIFY_TEST_HELPERS := tests/unit/tlog_cases.c
$(eval $(call test,test_merkle,tests/unit/test_merkle.c \
	$(VERIFY_TEST_HELPERS),$(AUDIT_VERIFY_DEPS)))
$(eval $(call test,test_note,tests/unit/test_note.c \
	$(VERIFY_TEST_HELPERS),$(AUDIT_VERIFY_DEPS)))
$(eval $(call test,test_tlogproof,tests/unit/test_tlogproof.c \
	$(VERIFY_TEST_HELPERS),$(AUDIT_VERIFY_DEPS)))
# ---- end verify ---------------------------------------------------------

# ---- journal: the signed journal (libtwokey-audit.a) ----------------------
# Writer side: SQLite, the signer, export writer. The export READER and
# checker (audit/export_*.c) are added to libtwokey-verify.a here, so that
# twokey-verify stays free of SQLite and the token ($^ of an archive rule
# collects prerequisites from every rule of the target).
AUDIT_SRCS := audit/journal.c audit/journal_open.c audit/journal_db.c \
	audit/journal_leaf.c audit/journal_proof.c audit/journal_export.c
$(eval $(call library,twokey-audit,$(AUDIT_SRCS)))
AUDIT_LIB := $(BUILD)/libtwokey-audit.a

AUDIT_EXPORT_SRCS := audit/export_load.c audit/export_verify.c \
	audit/export_entries.c
$(AUDIT_VERIFY_LIB): $(call obj,$(AUDIT_EXPORT_SRCS))
# ---- end journal ----------------------------------------------------------
