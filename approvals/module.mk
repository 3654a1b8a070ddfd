# Requests, policy, quorum and grants (the approvals service). The
# WebAuthn verifier in this folder has its own block and library.
REQUESTS_SRCS := approvals/policy.c approvals/request.c \
	approvals/challenge.c approvals/quorum.c approvals/store.c \
	approvals/approvals.c approvals/flow.c approvals/grant.c
$(eval $(call library,twokey-requests,$(REQUESTS_SRCS)))
REQUESTS_LIB := $(BUILD)/libtwokey-requests.a

$(eval $(call test,test_quorum,tests/unit/test_quorum.c,$(REQUESTS_LIB) \
	$(BUILD)/libtwokey-common.a))
$(eval $(call test,test_requests,tests/unit/test_requests.c,$(REQUESTS_LIB) \
	$(BUILD)/libtwokey-common.a))
