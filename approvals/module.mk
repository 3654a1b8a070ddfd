# ---- requests: policy, quorum, votes and grants (libtwokey-requests.a) ----
# Kept at the top of this file so that additions to the WebAuthn block
# below merge without conflict; it therefore names the other libraries by
# their literal paths.
REQUESTS_SRCS := approvals/policy.c approvals/request.c \
	approvals/challenge.c approvals/quorum.c approvals/store.c \
	approvals/approvals.c approvals/flow.c approvals/vote.c \
	approvals/grant.c approvals/evidence.c \
	approvals/listing.c approvals/access.c
# Governed changes and the approved policy (changes.h).
REQUESTS_SRCS += approvals/change.c approvals/change_people.c \
	approvals/policy_store.c approvals/policy_gov.c
# The inventory of service accounts shares the approvals store (its
# tables are created when the store opens), so it is built into the same
# library; see approvals/INVENTORY.md.
INVENTORY_SRCS := approvals/inventory.c approvals/inventory_doc.c \
	approvals/inventory_store.c approvals/inventory_plan.c \
	approvals/inventory_ops.c approvals/inventory_report.c \
	approvals/inventory_gov.c
$(eval $(call library,twokey-requests,$(REQUESTS_SRCS) $(INVENTORY_SRCS)))
REQUESTS_LIB := $(BUILD)/libtwokey-requests.a

$(eval $(call test,test_quorum,tests/unit/test_quorum.c,$(REQUESTS_LIB) \
	$(BUILD)/libtwokey-common.a))
$(eval $(call test,test_requests,tests/unit/test_requests.c,$(REQUESTS_LIB) \
	$(BUILD)/libtwokey-common.a))

# The service end to end: real token, journal, store and assertions.
REQUESTS_TEST_LIBS := $(BUILD)/libtwokey-testlib.a $(REQUESTS_LIB) \
	$(BUILD)/libtwokey-approvals.a $(BUILD)/libtwokey-audit.a \
	$(BUILD)/libtwokey-verify.a $(BUILD)/libtwokey-hsm.a \
	$(BUILD)/libtwokey-common.a
$(eval $(call test,test_approvals,tests/unit/test_approvals.c \
	tests/unit/approvals_env.c,$(REQUESTS_TEST_LIBS)))
$(eval $(call test,test_grants,tests/unit/test_grants.c \
	tests/unit/approvals_env.c,$(REQUESTS_TEST_LIBS)))
$(eval $(call test,test_changes,tests/unit/test_changes.c \
	tests/unit/approvals_env.c,$(REQUESTS_TEST_LIBS)))

$(eval $(call fuzzer,fuzz_request,tests/fuzz/fuzz_request.c \
	approvals/request.c approvals/policy.c approvals/challenge.c \
	common/codec.c common/log.c))
# ---- end requests ---------------------------------------------------------

# Approvals layer: WebAuthn relying-party verification (more to come:
# quorum, requests, grants build on include/twokey/webauthn.h).
APPROVALS_SRCS := \
	approvals/webauthn.c \
	approvals/webauthn_assert.c \
	approvals/webauthn_cbor.c \
	approvals/webauthn_clientdata.c \
	approvals/webauthn_cose.c \
	approvals/webauthn_reg.c \
	approvals/webauthn_x5c.c
$(eval $(call library,twokey-approvals,$(APPROVALS_SRCS)))
APPROVALS_LIB := $(BUILD)/libtwokey-approvals.a

# Runs one shared/cases/webauthn case file through the verifier.
$(eval $(call program,twokey-webauthn-case,tests/tools/webauthn_case.c,\
	$(APPROVALS_LIB) $(BUILD)/libtwokey-common.a))

# The testlib is declared in tests/module.mk, read after this file.
$(eval $(call test,test_webauthn,tests/unit/test_webauthn.c,\
	$(BUILD)/libtwokey-testlib.a $(APPROVALS_LIB) \
	$(BUILD)/libtwokey-common.a))

# Every shared/cases/webauthn case through twokey-webauthn-case.
$(eval $(call test,test_webauthn_cases,tests/unit/test_webauthn_cases.c,))

# Parsers of untrusted input (seeds from twokey-softauthn-seeds).
WEBAUTHN_FUZZ_SRCS := approvals/webauthn.c approvals/webauthn_cbor.c \
	approvals/webauthn_cose.c approvals/webauthn_clientdata.c \
	common/log.c common/codec.c
$(eval $(call fuzzer,fuzz_webauthn_clientdata,\
	tests/fuzz/fuzz_webauthn_clientdata.c $(WEBAUTHN_FUZZ_SRCS)))
$(eval $(call fuzzer,fuzz_webauthn_authdata,\
	tests/fuzz/fuzz_webauthn_authdata.c $(WEBAUTHN_FUZZ_SRCS)))

# Regenerates the WebAuthn fuzz seeds: twokey-softauthn-seeds tests/fuzz/corpus
$(eval $(call program,twokey-softauthn-seeds,tests/tools/softauthn_seeds.c,\
	$(BUILD)/libtwokey-testlib.a $(BUILD)/libtwokey-common.a))

$(eval $(call test,test_webauthn_cbor,tests/unit/test_webauthn_cbor.c,\
	$(APPROVALS_LIB) $(BUILD)/libtwokey-common.a))


# ---- inventory: service accounts (in libtwokey-requests.a) --------------
$(eval $(call test,test_inventory,tests/unit/test_inventory.c \
	tests/unit/approvals_env.c,$(REQUESTS_TEST_LIBS)))

$(eval $(call fuzzer,fuzz_inventory,tests/fuzz/fuzz_inventory.c \
	approvals/inventory.c approvals/inventory_doc.c approvals/policy.c \
	approvals/request.c common/codec.c common/log.c))
# Over HTTPS on the real twokeyd (built by firmware-host/module.mk).
$(eval $(call test,test_daemon_inventory,tests/unit/test_daemon_inventory.c \
	tests/lib/daemon_fixture.c tests/lib/daemon_people.c,\
	$(BUILD)/libtwokey-testlib.a $(REQUESTS_LIB) \
	$(BUILD)/libtwokey-approvals.a $(BUILD)/libtwokey-audit.a \
	$(BUILD)/libtwokey-verify.a $(BUILD)/libtwokey-hsm.a \
	$(BUILD)/libtwokey-common.a))
# ---- end inventory --------------------------------------------------------
