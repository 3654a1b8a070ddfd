# The appliance process twokeyd. Included before web/module.mk, so the
# web library is named by its path.
FWHOST_CONFIG_SRCS := firmware-host/config.c firmware-host/config_policy.c
TWOKEYD_SRCS := firmware-host/twokeyd.c firmware-host/tlscert.c \
	firmware-host/system.c firmware-host/backend.c \
	firmware-host/bootstrap.c $(FWHOST_CONFIG_SRCS)
$(eval $(call library,twokey-config,$(FWHOST_CONFIG_SRCS)))
CONFIG_LIB := $(BUILD)/libtwokey-config.a

$(eval $(call program,twokeyd,$(TWOKEYD_SRCS),\
	$(BUILD)/libtwokey-web.a $(BUILD)/libtwokey-requests.a \
	$(BUILD)/libtwokey-approvals.a $(BUILD)/libtwokey-audit.a \
	$(BUILD)/libtwokey-verify.a $(BUILD)/libtwokey-hsm.a \
	$(BUILD)/libtwokey-common.a))
INSTALL_SBIN += twokeyd

$(eval $(call test,test_config,tests/unit/test_config.c,\
	$(CONFIG_LIB) $(BUILD)/libtwokey-common.a))
TWOKEYD_TEST_LIBS := $(BUILD)/libtwokey-testlib.a \
	$(BUILD)/libtwokey-requests.a $(BUILD)/libtwokey-approvals.a \
	$(BUILD)/libtwokey-audit.a $(BUILD)/libtwokey-verify.a \
	$(BUILD)/libtwokey-hsm.a $(BUILD)/libtwokey-common.a
$(eval $(call test,test_daemon,tests/unit/test_daemon.c \
	tests/lib/daemon_fixture.c tests/lib/daemon_people.c,\
	$(TWOKEYD_TEST_LIBS)))

$(eval $(call fuzzer,fuzz_config,tests/fuzz/fuzz_config.c \
	$(FWHOST_CONFIG_SRCS) common/log.c common/codec.c common/file.c))
$(eval $(call test,test_daemon_api,tests/unit/test_daemon_api.c \
	tests/lib/daemon_fixture.c tests/lib/daemon_people.c \
	tests/lib/jwt_check.c,\
	$(TWOKEYD_TEST_LIBS)))
$(eval $(call test,test_daemon_people,tests/unit/test_daemon_people.c \
	tests/lib/daemon_fixture.c tests/lib/daemon_people.c,\
	$(TWOKEYD_TEST_LIBS)))
$(eval $(call test,test_daemon_bootstrap,tests/unit/test_daemon_bootstrap.c \
	tests/lib/daemon_fixture.c tests/lib/daemon_people.c,\
	$(TWOKEYD_TEST_LIBS)))
$(eval $(call test,test_daemon_pages,tests/unit/test_daemon_pages.c \
	tests/lib/daemon_fixture.c tests/lib/daemon_people.c,\
	$(TWOKEYD_TEST_LIBS)))
$(eval $(call test,test_daemon_abuse,tests/unit/test_daemon_abuse.c \
	tests/lib/daemon_fixture.c tests/lib/daemon_people.c,\
	$(TWOKEYD_TEST_LIBS)))
