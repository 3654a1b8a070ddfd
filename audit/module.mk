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

# twokey-verify: the auditor's offline checker, built from this library
# alone. Commands needing more add their sources to VERIFY_MAIN_SRCS and
# their libraries in front of AUDIT_VERIFY_DEPS.
VERIFY_MAIN_SRCS := audit/verify_main.c audit/verify_cli.c
$(eval $(call program,twokey-verify,$(VERIFY_MAIN_SRCS),$(AUDIT_VERIFY_DEPS)))
INSTALL_BIN += twokey-verify

VERIFY_TEST_HELPERS := tests/unit/tlog_cases.c
$(eval $(call test,test_merkle,tests/unit/test_merkle.c \
	$(VERIFY_TEST_HELPERS),$(AUDIT_VERIFY_DEPS)))
$(eval $(call test,test_note,tests/unit/test_note.c \
	$(VERIFY_TEST_HELPERS),$(AUDIT_VERIFY_DEPS)))
$(eval $(call test,test_tlogproof,tests/unit/test_tlogproof.c \
	$(VERIFY_TEST_HELPERS),$(AUDIT_VERIFY_DEPS)))
$(eval $(call test,test_verify_cli,tests/unit/test_verify_cli.c, \
	$(AUDIT_VERIFY_DEPS)))

# Fuzzers are built by clang from sources: the whole library plus codecs.
VERIFY_FUZZ_SRCS := $(AUDIT_VERIFY_SRCS) common/codec.c
$(eval $(call fuzzer,fuzz_note,tests/fuzz/fuzz_note.c $(VERIFY_FUZZ_SRCS)))
$(eval $(call fuzzer,fuzz_checkpoint,tests/fuzz/fuzz_checkpoint.c \
	$(VERIFY_FUZZ_SRCS)))
$(eval $(call fuzzer,fuzz_tlogproof,tests/fuzz/fuzz_tlogproof.c \
	$(VERIFY_FUZZ_SRCS)))

$(eval $(call bench,bench_verify,tests/bench/bench_verify.c, \
	$(AUDIT_VERIFY_DEPS)))
# ---- end verify ---------------------------------------------------------

# ---- journal: the signed journal (libtwokey-audit.a) ----------------------
# Writer side: SQLite, the signer, export writer. The export READER and
# checker (audit/export_*.c) are added to libtwokey-verify.a here, so that
# twokey-verify stays free of SQLite and the token ($^ of an archive rule
# collects prerequisites from every rule of the target).
AUDIT_SRCS := audit/journal.c audit/journal_open.c audit/journal_db.c \
	audit/journal_leaf.c audit/journal_proof.c audit/journal_export.c \
	audit/journal_find.c
$(eval $(call library,twokey-audit,$(AUDIT_SRCS)))
AUDIT_LIB := $(BUILD)/libtwokey-audit.a

AUDIT_EXPORT_SRCS := audit/export_load.c audit/export_verify.c \
	audit/export_entries.c
# verify_log.c is the "twokey-verify log" command (row in verify_main.c).
$(AUDIT_VERIFY_LIB): $(call obj,$(AUDIT_EXPORT_SRCS) audit/verify_log.c)
# Evidence packs: the reader (libarchive) and checker, and "twokey-verify
# pack" (verify_pack.c).
AUDIT_PACK_SRCS := audit/pack_read.c audit/pack_check.c \
	audit/pack_approval.c
$(AUDIT_VERIFY_LIB): $(call obj,$(AUDIT_PACK_SRCS) audit/verify_pack.c)
# What the log and pack commands share with the others (verify_report.c).
$(AUDIT_VERIFY_LIB): $(call obj,audit/verify_report.c)

# Journal tests use the real token fixture (tests/ and hsm/ are read
# after this file: literal paths).
JOURNAL_TEST_LIBS := $(AUDIT_LIB) $(BUILD)/libtwokey-testlib.a \
	$(BUILD)/libtwokey-hsm.a $(AUDIT_VERIFY_LIB) $(BUILD)/libtwokey-common.a
JOURNAL_TEST_UTIL := tests/unit/journal_testutil.c
$(eval $(call test,test_journal,tests/unit/test_journal.c \
	$(JOURNAL_TEST_UTIL),$(JOURNAL_TEST_LIBS)))
$(eval $(call test,test_export_verify,tests/unit/test_export_verify.c \
	$(JOURNAL_TEST_UTIL),$(JOURNAL_TEST_LIBS)))
$(eval $(call test,test_journal_crash,tests/unit/test_journal_crash.c \
	$(JOURNAL_TEST_UTIL),$(JOURNAL_TEST_LIBS)))$(eval $(call bench,bench_journal,tests/bench/bench_journal.c,\
	$(JOURNAL_TEST_LIBS)))

# The export reader under libFuzzer (clang builds it from sources).
$(eval $(call fuzzer,fuzz_export,tests/fuzz/fuzz_export.c \
	$(AUDIT_EXPORT_SRCS) $(AUDIT_VERIFY_SRCS) common/log.c \
	common/codec.c common/file.c))
# ---- end journal ----------------------------------------------------------

# The evidence pack reader and checker under libFuzzer (seeds: a real
# pack from test_pack, gzip'd and plain).
$(eval $(call fuzzer,fuzz_pack,tests/fuzz/fuzz_pack.c $(AUDIT_PACK_SRCS) \
	$(AUDIT_EXPORT_SRCS) $(AUDIT_VERIFY_SRCS) common/log.c \
	common/codec.c common/file.c))
