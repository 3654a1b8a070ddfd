# The appliance process twokeyd. Included before web/module.mk, so the
# web library is named by its path.
FWHOST_CONFIG_SRCS := firmware-host/config.c firmware-host/config_policy.c
TWOKEYD_SRCS := firmware-host/twokeyd.c firmware-host/tlscert.c \
	firmware-host/system.c firmware-host/backend.c \
	firmware-host/bootstrap.c firmware-host/sandbox.c \
	firmware-host/notify.c $(FWHOST_CONFIG_SRCS)
$(eval $(call library,twokey-config,$(FWHOST_CONFIG_SRCS)))
CONFIG_LIB := $(BUILD)/libtwokey-config.a

$(eval $(call program,twokeyd,$(TWOKEYD_SRCS),\
	$(BUILD)/libtwokey-web.a $(BUILD)/libtwokey-evidence.a \
	$(BUILD)/libtwokey-requests.a \
	$(BUILD)/libtwokey-approvals.a $(BUILD)/libtwokey-audit.a \
	$(BUILD)/libtwokey-verify.a $(BUILD)/libtwokey-hsm.a \
	$(BUILD)/libtwokey-common.a))
INSTALL_SBIN += twokeyd

# The twokey client. Its code is a library so that tests can run it in
# their own process with a software security key (tk_cli_main).
CLI_SRCS := firmware-host/cli.c firmware-host/cli_settings.c \
	firmware-host/cli_http.c firmware-host/cli_session.c \
	firmware-host/cli_fido.c firmware-host/cli_cmds.c \
	firmware-host/cli_files.c firmware-host/cli_init.c \
	firmware-host/cli_keys.c firmware-host/cli_changes.c \
	firmware-host/cli_actions.c
$(eval $(call library,twokey-cli,$(CLI_SRCS)))
CLI_LIB := $(BUILD)/libtwokey-cli.a
# libtwokey-requests for the server's own name rule (tk_apr_check_name):
# only request.o is linked in.
CLI_LIBS := $(CLI_LIB) $(CONFIG_LIB) $(BUILD)/libtwokey-hsm.a \
	$(BUILD)/libtwokey-requests.a $(BUILD)/libtwokey-common.a
$(eval $(call program,twokey,firmware-host/cli_main.c,$(CLI_LIBS)))
INSTALL_BIN += twokey
INSTALL_MAN1 += docs/twokey.1
CLI_TEST_LIBS := $(BUILD)/libtwokey-testlib.a $(CLI_LIBS)
$(eval $(call test,test_cli_key,tests/unit/test_cli_key.c \
	tests/lib/daemon_fixture.c,$(CLI_TEST_LIBS)))
$(eval $(call test,test_cli,tests/unit/test_cli.c \
	tests/lib/daemon_fixture.c,$(CLI_TEST_LIBS)))
# The software security key itself (tests/lib/softctap.c).
$(eval $(call test,test_softctap,tests/unit/test_softctap.c,\
	$(BUILD)/libtwokey-testlib.a $(BUILD)/libtwokey-common.a))

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
$(eval $(call test,test_daemon_views,tests/unit/test_daemon_views.c \
	tests/lib/daemon_fixture.c tests/lib/daemon_people.c,\
	$(TWOKEYD_TEST_LIBS)))
$(eval $(call test,test_daemon_abuse,tests/unit/test_daemon_abuse.c \
	tests/lib/daemon_fixture.c tests/lib/daemon_people.c,\
	$(TWOKEYD_TEST_LIBS)))
# Governed changes: nobody alone weakens the two-person rule.
$(eval $(call test,test_daemon_gov,tests/unit/test_daemon_gov.c \
	tests/lib/daemon_fixture.c tests/lib/daemon_people.c,\
	$(TWOKEYD_TEST_LIBS)))
# GET /api/v1/evidence on the real daemon (evidence/pack.h).
$(eval $(call test,test_daemon_evidence,tests/unit/test_daemon_evidence.c \
	tests/lib/daemon_fixture.c tests/lib/daemon_people.c,\
	$(TWOKEYD_TEST_LIBS)))
$(eval $(call test,test_sandbox,tests/unit/test_sandbox.c \
	firmware-host/sandbox.c,$(BUILD)/libtwokey-testlib.a \
	$(BUILD)/libtwokey-hsm-p11.a $(BUILD)/libtwokey-hsm.a \
	$(BUILD)/libtwokey-common.a))
$(eval $(call test,test_daemon_sandbox,tests/unit/test_daemon_sandbox.c \
	tests/lib/daemon_fixture.c tests/lib/daemon_people.c,\
	$(TWOKEYD_TEST_LIBS)))
# Pending requests expire on their own (expiry_interval).
$(eval $(call test,test_daemon_expiry,tests/unit/test_daemon_expiry.c \
	tests/lib/daemon_fixture.c tests/lib/daemon_people.c,\
	$(TWOKEYD_TEST_LIBS)))
# Readiness, watchdog, reload and stop told to systemd (notify.c).
$(eval $(call test,test_daemon_notify,tests/unit/test_daemon_notify.c \
	tests/lib/daemon_fixture.c tests/lib/daemon_people.c,\
	$(TWOKEYD_TEST_LIBS)))
$(eval $(call test,test_daemon_tls,tests/unit/test_daemon_tls.c \
	tests/lib/daemon_fixture.c tests/lib/daemon_people.c,\
	$(TWOKEYD_TEST_LIBS)))
$(eval $(call test,test_deploy_unit,tests/unit/test_deploy_unit.c,))
