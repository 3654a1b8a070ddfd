# Test support shared by every module's tests: real components only.
# One source per line so that additions merge cleanly.
#   tests/lib/token_fixture.h  a real SoftHSM2 token with the key ceremony
#                              done, and a signer on it
# Modules included before this file (approvals, audit, common,
# firmware-host, hsm) use the literal path $(BUILD)/libtwokey-testlib.a.
TESTLIB_SRCS := \
	tests/lib/proc_probe.c \
	tests/lib/softauthn.c \
	tests/lib/softctap.c \
	tests/lib/token_fixture.c
$(eval $(call library,twokey-testlib,$(TESTLIB_SRCS)))
TESTLIB_LIB := $(BUILD)/libtwokey-testlib.a

# Allocation failure (tests/lib/failalloc.h): these programs replace the
# allocator, which AddressSanitizer owns, so they are built and run by
# make check and make check-valgrind but never by make check-asan. They
# see every journal append through --wrap.
ifneq ($(SANITIZE),1)
$(eval $(call test,test_failalloc_journal,\
	tests/unit/test_failalloc_journal.c tests/lib/failalloc.c \
	tests/unit/failalloc_env.c tests/unit/journal_testutil.c,\
	$(JOURNAL_TEST_LIBS)))
$(BUILD)/tests/test_failalloc_journal: LDFLAGS += \
	-Wl,--wrap=tk_journal_append
endif
ifneq ($(SANITIZE),1)
$(eval $(call test,test_failalloc_approvals,\
	tests/unit/test_failalloc_approvals.c tests/lib/failalloc.c \
	tests/unit/failalloc_env.c tests/unit/approvals_env.c \
	tests/unit/journal_testutil.c,$(REQUESTS_TEST_LIBS)))
$(BUILD)/tests/test_failalloc_approvals: LDFLAGS += \
	-Wl,--wrap=tk_journal_append
endif

# twokey-load: the real daemon under wrk (tests/load/): make soak, and
# the HTTP figures of make bench.
$(eval $(call program,twokey-load,tests/load/load.c \
	tests/lib/daemon_fixture.c tests/lib/daemon_people.c,\
	$(TWOKEYD_TEST_LIBS)))
