# twokey: top-level build.
#
# Each module folder has a module.mk that declares its libraries, programs,
# tests, fuzzers and benchmarks with the macros below, so that modules can
# grow without touching this file.
#
#   make            build everything into $(BUILD)
#   make check      build and run the tests (real SoftHSM2 token, SQLite)
#   make check-asan the same under AddressSanitizer + UBSan
#   make check-valgrind the same under valgrind memcheck (TEST_JOBS=N)
#   make lint       80 columns, banned functions, cppcheck
#   make fuzz       libFuzzer harnesses (clang), short runs
#   make bench      benchmarks, figures as ratios against a baseline
#   make check-browser  the main job in Debian's chromium (tests/browser/)
#   make soak       twokeyd under wrk, SOAK_SECONDS (default 60)
#   make run        the appliance on its embedded defaults under ./state
#   make install    PREFIX=/usr/local DESTDIR=

PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
SBINDIR   ?= $(PREFIX)/sbin
LIBEXECDIR ?= $(PREFIX)/libexec/twokey
MANDIR    ?= $(PREFIX)/share/man
DATADIR   ?= $(PREFIX)/share/twokey
SYSCONFDIR ?= /etc
DESTDIR   ?=

BUILD     ?= build
SANITIZE  ?=
CC        ?= cc
FUZZ_CC   ?= clang
FUZZ_SECONDS ?= 20

PKG_LIBS  := libcrypto jansson sqlite3 libp11 libfido2 libcbor \
	     libmicrohttpd libcurl libarchive libseccomp
PKG_CFLAGS := $(shell pkg-config --cflags $(PKG_LIBS) 2>/dev/null)
PKG_LDLIBS := $(shell pkg-config --libs $(PKG_LIBS) 2>/dev/null)

WARNINGS  := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wconversion \
	     -Wimplicit-fallthrough -Wmissing-prototypes \
	     -Wstrict-prototypes -Wvla -Wpointer-arith -Wcast-qual \
	     -Wundef -Wnull-dereference
HARDEN    := -fstack-protector-strong -fPIE -fstack-clash-protection
HARDEN_LD := -Wl,--as-needed -pie -Wl,-z,relro,-z,now,-z,noexecstack

ifeq ($(SANITIZE),1)
OPT       := -O1 -g -fno-omit-frame-pointer \
	     -fsanitize=address,undefined -fno-sanitize-recover=all
OPT_LD    := -fsanitize=address,undefined
else
OPT       := -O2 -g -D_FORTIFY_SOURCE=2
OPT_LD    :=
endif

CPPFLAGS  += -Iinclude -D_GNU_SOURCE -DOPENSSL_API_COMPAT=30000 \
	     -DTWOKEY_LIBEXECDIR='"$(LIBEXECDIR)"' \
	     -DTWOKEY_DATADIR='"$(DATADIR)"'
CFLAGS    += -std=c11 $(OPT) $(WARNINGS) $(HARDEN) $(PKG_CFLAGS) -pthread
LDFLAGS   += $(OPT_LD) $(HARDEN_LD) -pthread
LDLIBS    += $(PKG_LDLIBS) -lcmocka -ldl -lm

OBJDIR    := $(BUILD)/obj
LIBRARIES :=
PROGRAMS  :=
TESTS     :=
BENCHES   :=
FUZZERS   :=
INSTALL_BIN :=
INSTALL_SBIN :=
INSTALL_LIBEXEC :=
INSTALL_MAN1 :=

obj = $(patsubst %.c,$(OBJDIR)/%.o,$(1))

# $(call library,NAME,SOURCES): $(BUILD)/libNAME.a
define library
LIBRARIES += $(BUILD)/lib$(1).a
$(BUILD)/lib$(1).a: $(call obj,$(2))
	@mkdir -p $$(@D)
	$$(AR) rcs $$@ $$^
endef

# $(call program,NAME,SOURCES,LIBS): $(BUILD)/NAME linked with LIBS
# (paths of static libraries, most dependent first).
define program
PROGRAMS += $(BUILD)/$(1)
$(BUILD)/$(1): $(call obj,$(2)) $(3)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef

# $(call test,NAME,SOURCES,LIBS): a cmocka binary run by make check.
define test
TESTS += $(BUILD)/tests/$(1)
$(BUILD)/tests/$(1): $(call obj,$(2)) $(3)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef

# $(call bench,NAME,SOURCES,LIBS): a benchmark run by make bench.
define bench
BENCHES += $(BUILD)/bench/$(1)
$(BUILD)/bench/$(1): $(call obj,$(2)) $(3)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef

# $(call fuzzer,NAME,SOURCES): a libFuzzer harness, built with clang from
# sources (not from the gcc objects) into build-fuzz/.
define fuzzer
FUZZERS += build-fuzz/$(1)
build-fuzz/$(1): $(2)
	@mkdir -p $$(@D)
	$$(FUZZ_CC) $$(FUZZ_FLAGS) -o $$@ $$^ $$(FUZZ_LDLIBS)
endef

FUZZ_FLAGS  := -std=c11 -g -O1 -Iinclude -D_GNU_SOURCE \
	       -DOPENSSL_API_COMPAT=30000 -DTWOKEY_FUZZING \
	       -DTWOKEY_DATADIR='"$(DATADIR)"' \
	       -fsanitize=fuzzer,address,undefined $(PKG_CFLAGS)
FUZZ_LDLIBS := $(PKG_LDLIBS) -ldl -lm -pthread

include $(sort $(wildcard */module.mk))

.PHONY: all deps check check-run check-asan check-browser check-valgrind \
	soak lint fuzz bench run install clean tests
.DEFAULT_GOAL := all

all: $(PROGRAMS)

# The README's commands start from a fresh machine, so they install the
# packages first and then re-read this file, whose flags come from
# pkg-config and so exist only once the packages do.
deps:
	@bash deploy/install-deps.sh

tests: $(PROGRAMS) $(TESTS)

check: deps
	@$(MAKE) --no-print-directory check-run

check-run: tests
	@sh tests/run-tests.sh $(BUILD) $(TESTS)

check-asan: deps
	@$(MAKE) --no-print-directory BUILD=build-asan SANITIZE=1 check-run

# The main job in a real browser against make run's daemon, on a fresh
# state folder and a free port (tests/browser/e2e.js). Needs
# deploy/install-deps.sh --browser; a missing chromium fails, never skips.
# playwright-core comes from npm at the version package-lock.json pins.
check-browser: all
	@cd tests/browser && npm ci --no-audit --no-fund --loglevel=error
	@node tests/browser/e2e.js $(BUILD)

# Memcheck over the whole suite and every program the tests start
# (twokeyd, twokey-signer, twokey-verify; system tools are skipped). Leaks
# of our code count as errors; tests/valgrind.supp names the third-party
# ones. Time limits in the tests are scaled: valgrind is ~20x slower.
VALGRIND := valgrind --trace-children=yes \
	--trace-children-skip=/usr/*,/bin/*,/sbin/* \
	--child-silent-after-fork=yes --leak-check=full \
	--show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
	--soname-synonyms=somalloc=nouserintercepts \
	--num-callers=30 --suppressions=$(CURDIR)/tests/valgrind.supp
VALGRIND_SCALE ?= 20

# VALGRIND_TESTS="test_a test_b" runs only those (CI runs a subset).
VALGRIND_TESTS ?=
VALGRIND_RUN = $(if $(VALGRIND_TESTS),$(addprefix $(BUILD)/tests/,\
	$(VALGRIND_TESTS)),$(TESTS))

check-valgrind: deps
	@$(MAKE) --no-print-directory tests
	@TWOKEY_VALGRIND="$(VALGRIND)" \
	    TWOKEY_TEST_TIMEOUT_SCALE=$(VALGRIND_SCALE) \
	    sh tests/run-tests.sh $(BUILD) $(VALGRIND_RUN)

lint:
	@sh tools/lint.sh

fuzz: $(FUZZERS)
	@sh tests/fuzz/run-fuzzers.sh $(FUZZ_SECONDS) $(FUZZERS)

bench: $(PROGRAMS) $(BENCHES)
	@sh tests/bench/run-benches.sh $(BUILD) $(BENCHES)

soak: $(PROGRAMS)
	@sh tests/load/run-load.sh $(BUILD) soak

run: deps
	@$(MAKE) --no-print-directory all
	@sh deploy/run-embedded.sh $(BUILD)

install: all
	install -d -m 0755 $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
		$(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(MANDIR)/man1
	for p in $(INSTALL_BIN); do \
		install -m 0755 $(BUILD)/$$p $(DESTDIR)$(BINDIR)/$$p; done
	for p in $(INSTALL_SBIN); do \
		install -m 0750 $(BUILD)/$$p $(DESTDIR)$(SBINDIR)/$$p; done
	for p in $(INSTALL_LIBEXEC); do \
		install -m 0750 $(BUILD)/$$p $(DESTDIR)$(LIBEXECDIR)/$$p; done
	for m in $(INSTALL_MAN1); do \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man1/; done
	install -d -m 0755 $(DESTDIR)$(DATADIR)
	install -m 0755 deploy/softhsm-setup.sh deploy/tpm2-setup.sh \
		$(DESTDIR)$(DATADIR)/
	install -m 0644 deploy/twokeyd.conf.example deploy/twokeyd.service \
		$(DESTDIR)$(DATADIR)/
	install -d -m 0755 $(DESTDIR)$(DATADIR)/www
	install -m 0644 web/www/*.html web/www/*.css web/www/*.js \
		$(DESTDIR)$(DATADIR)/www/

clean:
	rm -rf build build-asan build-fuzz

# The installed signer's path and the pages' folder are compiled in;
# rebuild what uses them when PREFIX, LIBEXECDIR or DATADIR change
# between make and make install.
$(BUILD)/libexecdir.stamp: FORCE
	@mkdir -p $(@D)
	@echo '$(LIBEXECDIR) $(DATADIR)' | cmp -s - $@ || \
		echo '$(LIBEXECDIR) $(DATADIR)' > $@
$(OBJDIR)/hsm/signer_client.o $(OBJDIR)/hsm/ceremony_spawn.o \
	$(OBJDIR)/firmware-host/config.o: $(BUILD)/libexecdir.stamp
.PHONY: FORCE
FORCE:

$(OBJDIR)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

-include $(shell find $(OBJDIR) -name '*.d' 2>/dev/null)
