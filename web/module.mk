# Web layer: the HTTPS JSON API on libmicrohttpd.
WEB_SRCS := \
	web/api_evidence.c \
	web/api_export.c \
	web/api_changes.c \
	web/api_credentials.c \
	web/api_health.c \
	web/api_inventory.c \
	web/api_keys.c \
	web/api_invite.c \
	web/authority.c \
	web/api_people.c \
	web/api_public.c \
	web/api_requests.c \
	web/api_session.c \
	web/bootstrap.c \
	web/api_signin.c \
	web/fields.c \
	web/pages.c \
	web/ratelimit.c \
	web/routes.c \
	web/session.c \
	web/store.c \
	web/server.c
$(eval $(call library,twokey-web,$(WEB_SRCS)))
WEB_LIB := $(BUILD)/libtwokey-web.a

$(eval $(call fuzzer,fuzz_web_body,tests/fuzz/fuzz_web_body.c \
	web/fields.c common/log.c common/codec.c))

# web/openapi.json against the route table, both ways.
$(eval $(call test,test_openapi,tests/unit/test_openapi.c,$(WEB_LIB) \
	$(BUILD)/libtwokey-evidence.a \
	$(BUILD)/libtwokey-requests.a $(BUILD)/libtwokey-approvals.a \
	$(BUILD)/libtwokey-audit.a $(BUILD)/libtwokey-verify.a \
	$(BUILD)/libtwokey-hsm.a $(BUILD)/libtwokey-common.a))

$(eval $(call test,test_web_fields,tests/unit/test_web_fields.c,$(WEB_LIB) \
	$(BUILD)/libtwokey-common.a))
