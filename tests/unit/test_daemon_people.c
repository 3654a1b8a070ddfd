/*
 * Specifications of enrollment by one-time invitation and of API keys,
 * on the real twokeyd over verified TLS.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "../lib/daemon_fixture.h"
#include "../lib/softauthn.h"

#define JSON "application/json"

static struct tkd d;
static struct tkd_key adam, alice;

static int
setup(void **state)
{
	(void)state;
	if (tkd_init(&d, "people", ",\n\"rate_limit_per_minute\": 1000") !=
	    0 || tkd_enroll(&d, "adam", "it", TK_ROLE_ADMIN, &adam) != 0 ||
	    tkd_enroll(&d, "alice", "ops", TK_ROLE_APPROVER, &alice) != 0)
		return -1;
	return tkd_start(&d);
}

static int
teardown(void **state)
{
	int r;

	(void)state;
	r = tkd_stop(&d, SIGTERM);
	softauthn_free(&adam.sa);
	softauthn_free(&alice.sa);
	return r == 0 ? 0 : -1;
}

/* One request; header is an extra raw header line or NULL. */
static long
call_h(const char *method, const char *path, const char *body,
    const char *header, json_t **ans)
{
	return tkd_call(&d, method, path, body, header, ans);
}

static long
call(const char *method, const char *path, const char *body, json_t **ans)
{
	return call_h(method, path, body, NULL, ans);
}

static void
expect_code(json_t *ans, const char *code)
{
	json_t *e = json_object_get(ans, "error");

	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "code")),
	    code);
}

/* A fresh invitation made by adam; caller frees. */
static char *
invite(const char *name, const char *roles)
{
	char body[256];
	json_t *ans;
	char *inv;

	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"team\":\"dev\","
	    "\"roles\":%s}", name, roles);
	assert_int_equal(call("POST", "/api/v1/invitations", body, &ans),
	    201);
	inv = strdup(json_string_value(json_object_get(ans, "invitation")));
	assert_int_equal(strncmp(inv, "tki_", 4), 0);
	json_decref(ans);
	d.cookie[0] = d.csrf[0] = '\0';
	return inv;
}

/* Runs the enrollment ceremony with key; returns the final status. */
static long
enroll(const char *inv, const char *challenge_inv, struct tkd_key *key,
    json_t **ans)
{
	char body[128], *text;
	json_t *a, *req;
	const char *s;
	uint8_t *ch;
	size_t len;
	long st;

	snprintf(body, sizeof(body), "{\"invitation\":\"%s\"}",
	    challenge_inv);
	if ((st = call("POST", "/api/v1/enroll/challenge", body, &a)) !=
	    200) {
		*ans = a;
		return st;
	}
	s = json_string_value(json_object_get(a, "challenge"));
	assert_int_equal(tk_b64url_decode(s, strlen(s), &ch, &len), 0);
	req = json_pack("{s:s,s:O}", "invitation", inv, "challenge_id",
	    json_object_get(a, "challenge_id"));
	assert_int_equal(tkd_register(&d, key, ch, len, req), 0);
	text = json_dumps(req, JSON_COMPACT);
	st = call("POST", "/api/v1/enroll", text, ans);
	free(text);
	free(ch);
	json_decref(req);
	json_decref(a);
	return st;
}

static void
invited_person_enrolls_a_key_once_and_signs_in(void **state)
{
	struct tkd_key ivan;
	json_t *ans;
	char *inv;

	(void)state;
	memset(&ivan, 0, sizeof(ivan));
	assert_non_null(ivan.sa = softauthn_new(-7));
	inv = invite("ivan", "[\"requester\"]");
	assert_int_equal(enroll(inv, inv, &ivan, &ans), 201);
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(ans, "person"), "name")), "ivan");
	json_decref(ans);
	assert_int_equal(tkd_signin(&d, "ivan", &ivan), 200);
	assert_int_equal(call("GET", "/api/v1/session", NULL, &ans), 200);
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    json_object_get(ans, "person"), "roles"), 0)), "requester");
	json_decref(ans);
	/* Spent: the same invitation again is refused. */
	d.cookie[0] = d.csrf[0] = '\0';
	assert_int_equal(enroll(inv, inv, &ivan, &ans), 400);
	expect_code(ans, "invitation_invalid");
	json_decref(ans);
	free(inv);
	softauthn_free(&ivan.sa);
}

static void
approver_and_admin_roles_need_the_quorum(void **state)
{
	json_t *ans;

	(void)state;
	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	assert_int_equal(call("POST", "/api/v1/invitations", "{\"name\":"
	    "\"mallory\",\"team\":\"x\",\"roles\":[\"approver\"]}", &ans),
	    403);
	expect_code(ans, "quorum_required");
	json_decref(ans);
	assert_int_equal(call("POST", "/api/v1/invitations", "{\"name\":"
	    "\"mallory\",\"team\":\"x\",\"roles\":[\"wizard\"]}", &ans), 400);
	expect_code(ans, "invalid_field");
	json_decref(ans);
	/* Names are plain words, usable in a shell line as --user NAME. */
	assert_int_equal(call("POST", "/api/v1/invitations", "{\"name\":"
	    "\"bad name\",\"team\":\"x\",\"roles\":[\"requester\"]}", &ans),
	    400);
	expect_code(ans, "invalid_field");
	json_decref(ans);
	/* A name already enrolled is refused now, not at enrollment. */
	assert_int_equal(call("POST", "/api/v1/invitations", "{\"name\":"
	    "\"alice\",\"team\":\"x\",\"roles\":[\"requester\"]}", &ans),
	    409);
	expect_code(ans, "exists");
	json_decref(ans);
	/* Only admins invite. */
	assert_int_equal(tkd_signin(&d, "alice", &alice), 200);
	assert_int_equal(call("POST", "/api/v1/invitations", "{\"name\":"
	    "\"mallory\",\"team\":\"x\",\"roles\":[\"requester\"]}", &ans),
	    403);
	expect_code(ans, "role_missing");
	json_decref(ans);
}

/* adam's invitation body is refused with status, code and words. */
static void
invitation_refused(const char *body, long status, const char *code,
    const char *words)
{
	json_t *ans = NULL;
	const char *msg;

	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	if (call("POST", "/api/v1/invitations", body, &ans) != status)
		fail_msg("%s: want %ld, got %s", body, status,
		    ans != NULL ? json_dumps(ans, 0) : "-");
	expect_code(ans, code);
	msg = json_string_value(json_object_get(json_object_get(ans,
	    "error"), "message"));
	if (msg == NULL || strstr(msg, words) == NULL)
		fail_msg("want \"%s\" in the message, got \"%s\"", words,
		    msg != NULL ? msg : "-");
	json_decref(ans);
}

static void
names_are_plain_words_unique_regardless_of_case(void **state)
{
	static const char *bad[] = { "bob.", "..", "-x", ".x", "x_" };
	struct tkd_key k1, k2;
	char body[256], *a, *b;
	json_t *ans;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(body, sizeof(body), "{\"name\":\"%s\",\"team\":"
		    "\"x\",\"roles\":[\"requester\"]}", bad[i]);
		invitation_refused(body, 400, "invalid_field",
		    "with a letter or digit first and last");
	}
	invitation_refused("{\"name\":\"zoe\",\"team\":\"<img src=x "
	    "onerror=alert(7)> team\",\"roles\":[\"requester\"]}", 400,
	    "invalid_field", "\"team\"");
	invitation_refused("{\"name\":\"ALICE\",\"team\":\"x\",\"roles\":"
	    "[\"requester\"]}", 409, "exists", "enrolled as \"alice\"");
	/* A second invitation for the name, in any spelling, voids the
	 * first: one name, one live code. */
	memset(&k1, 0, sizeof(k1));
	memset(&k2, 0, sizeof(k2));
	assert_non_null(k1.sa = softauthn_new(-7));
	assert_non_null(k2.sa = softauthn_new(-7));
	a = invite("Ivy", "[\"requester\"]");
	b = invite("ivy", "[\"requester\"]");
	assert_int_equal(enroll(a, a, &k1, &ans), 400);
	expect_code(ans, "invitation_invalid");
	json_decref(ans);
	assert_int_equal(enroll(b, b, &k2, &ans), 201);
	json_decref(ans);
	assert_true(tkd_signin(&d, "Ivy", &k1) != 200);
	assert_int_equal(tkd_signin(&d, "ivy", &k2), 200);
	/* Once ivy is in, no spelling of the name is invited again. */
	invitation_refused("{\"name\":\"IVY\",\"team\":\"x\",\"roles\":"
	    "[\"requester\"]}", 409, "exists", "enrolled as \"ivy\"");
	free(a);
	free(b);
	softauthn_free(&k1.sa);
	softauthn_free(&k2.sa);
}

/* The entry of name in a people list, or NULL. */
static json_t *
person_in(json_t *ans, const char *name)
{
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(ans, "people"), i, p)
		if (strcmp(json_string_value(json_object_get(p, "name")),
		    name) == 0)
			return p;
	return NULL;
}

static void
people_are_listed_by_id_but_not_to_approvers(void **state)
{
	json_t *ans, *p;

	(void)state;
	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	assert_int_equal(call("GET", "/api/v1/people", NULL, &ans), 200);
	assert_non_null(p = person_in(ans, "alice"));
	assert_int_equal(json_integer_value(json_object_get(p, "id")),
	    alice.person);
	assert_string_equal(json_string_value(json_object_get(p, "state")),
	    "active");
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    p, "roles"), 0)), "approver");
	assert_int_equal(json_array_size(json_object_get(p, "credentials")),
	    1);
	assert_non_null(person_in(ans, "adam"));
	json_decref(ans);
	/* An approver is not shown who holds which key. */
	assert_int_equal(tkd_signin(&d, "alice", &alice), 200);
	assert_int_equal(call("GET", "/api/v1/people", NULL, &ans), 403);
	expect_code(ans, "role_missing");
	json_decref(ans);
}

static void
a_challenge_of_another_invitation_is_refused(void **state)
{
	struct tkd_key k;
	json_t *ans;
	char *a, *b;

	(void)state;
	memset(&k, 0, sizeof(k));
	assert_non_null(k.sa = softauthn_new(-7));
	a = invite("jane", "[\"auditor\"]");
	b = invite("john", "[\"auditor\"]");
	assert_int_equal(enroll(a, b, &k, &ans), 400);
	expect_code(ans, "challenge_unknown");
	json_decref(ans);
	/* Unknown invitations get nothing. */
	assert_int_equal(call("POST", "/api/v1/enroll/challenge",
	    "{\"invitation\":\"tki_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "\"}", &ans), 400);
	expect_code(ans, "invitation_invalid");
	json_decref(ans);
	/* Both invitations still work. */
	assert_int_equal(enroll(a, a, &k, &ans), 201);
	json_decref(ans);
	free(a);
	free(b);
	softauthn_free(&k.sa);
}

static void
api_key_is_shown_once_and_works_for_its_scope_only(void **state)
{
	struct tkd_resp r;
	char bearer[256], lower[256], path[128], twice[256];
	json_t *ans, *ans2;
	const char *key, *id;

	(void)state;
	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	assert_int_equal(call("POST", "/api/v1/api-keys", "{\"name\":\"ci\","
	    "\"scopes\":[\"requests:read\"]}", &ans), 201);
	key = json_string_value(json_object_get(ans, "key"));
	id = json_string_value(json_object_get(ans, "id"));
	assert_int_equal(strncmp(key, "tk_", 3), 0);
	snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s", key);
	snprintf(path, sizeof(path), "/api/v1/api-keys/%s", id);
	/* The list never shows the secret again. */
	assert_int_equal(tkd_request(&d, "GET", "/api/v1/api-keys", NULL,
	    NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body, key + 40));
	assert_non_null(strstr(r.body, id));
	tkd_resp_clear(&r);
	/* A second session cookie beside adam's: neither is taken. */
	assert_true(strlen(d.cookie) + 20 < sizeof(d.cookie));
	memcpy(twice, d.cookie, sizeof(twice));
	snprintf(d.cookie, sizeof(d.cookie), "%.200s; tk_session=tossed",
	    twice);
	assert_int_equal(call("GET", "/api/v1/session", NULL, NULL), 401);
	/* Two CSRF headers, even both right, are one too many. */
	memcpy(d.cookie, twice, sizeof(d.cookie));
	snprintf(lower, sizeof(lower), "X-CSRF-Token: %s", d.csrf);
	assert_int_equal(call_h("POST", "/api/v1/api-keys", "{\"name\":"
	    "\"twice\",\"scopes\":[\"requests:read\"]}", lower, &ans2),
	    403);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    ans2, "error"), "code")), "csrf_failed");
	json_decref(ans2);
	assert_int_equal(call("POST", "/api/v1/api-keys", "{\"name\":"
	    "\"once\",\"scopes\":[\"requests:read\"]}", &ans2), 201);
	json_decref(ans2);
	/* The key, without any cookie or CSRF token. */
	d.cookie[0] = d.csrf[0] = '\0';
	assert_int_equal(call_h("GET", "/api/v1/requests", NULL, bearer,
	    NULL), 200);
	/* The scheme name in any case, as HTTP has it. */
	snprintf(lower, sizeof(lower), "Authorization: bearer %s", key);
	assert_int_equal(call_h("GET", "/api/v1/requests", NULL, lower,
	    NULL), 200);
	assert_int_equal(call_h("GET", "/api/v1/journal/export", NULL,
	    bearer, NULL), 403);
	assert_int_equal(call_h("POST", "/api/v1/requests", "{}", bearer,
	    &ans2), 403);
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_object_get(ans2, "error"), "message")), "API keys do not "
	    "reach this resource"));
	json_decref(ans2);
	/* Another scheme than Bearer is named as such. */
	assert_int_equal(call_h("GET", "/api/v1/requests", NULL,
	    "Authorization: Basic YTpi", &ans2), 401);
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_object_get(ans2, "error"), "message")), "\"Bearer\""));
	json_decref(ans2);
	/* Revoked, it opens nothing. */
	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	assert_int_equal(call("DELETE", path, NULL, NULL), 200);
	assert_int_equal(call("DELETE", path, NULL, NULL), 404);
	d.cookie[0] = d.csrf[0] = '\0';
	assert_int_equal(call_h("GET", "/api/v1/requests", NULL, bearer,
	    NULL), 401);
	json_decref(ans);
}

static void
only_admins_make_keys_and_unknown_keys_are_refused(void **state)
{
	json_t *ans;

	(void)state;
	assert_int_equal(tkd_signin(&d, "alice", &alice), 200);
	assert_int_equal(call("POST", "/api/v1/api-keys", "{\"name\":\"x\","
	    "\"scopes\":[\"journal:read\"]}", &ans), 403);
	expect_code(ans, "role_missing");
	json_decref(ans);
	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	assert_int_equal(call("POST", "/api/v1/api-keys", "{\"name\":\"x\","
	    "\"scopes\":[\"everything\"]}", &ans), 400);
	expect_code(ans, "invalid_field");
	json_decref(ans);
	d.cookie[0] = d.csrf[0] = '\0';
	assert_int_equal(call_h("GET", "/api/v1/requests", NULL,
	    "Authorization: Bearer tk_nope", &ans), 401);
	expect_code(ans, "unauthenticated");
	json_decref(ans);
}

static void
journal_key_exports_the_journal(void **state)
{
	char bearer[256];
	json_t *ans;
	struct tkd_resp r;

	(void)state;
	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	assert_int_equal(call("POST", "/api/v1/api-keys", "{\"name\":"
	    "\"auditor-bot\",\"scopes\":[\"journal:read\"]}", &ans), 201);
	snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s",
	    json_string_value(json_object_get(ans, "key")));
	json_decref(ans);
	d.cookie[0] = d.csrf[0] = '\0';
	assert_int_equal(tkd_request(&d, "GET", "/api/v1/journal/export",
	    NULL, NULL, 0, bearer, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.ctype, "application/x-tar");
	tkd_resp_clear(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    invited_person_enrolls_a_key_once_and_signs_in),
		cmocka_unit_test(approver_and_admin_roles_need_the_quorum),
		cmocka_unit_test(
		    names_are_plain_words_unique_regardless_of_case),
		cmocka_unit_test(people_are_listed_by_id_but_not_to_approvers),
		cmocka_unit_test(a_challenge_of_another_invitation_is_refused),
		cmocka_unit_test(
		    api_key_is_shown_once_and_works_for_its_scope_only),
		cmocka_unit_test(
		    only_admins_make_keys_and_unknown_keys_are_refused),
		cmocka_unit_test(journal_key_exports_the_journal),
	};
	int r;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, setup, teardown);
	tkd_cleanup();
	curl_global_cleanup();
	return r;
}
