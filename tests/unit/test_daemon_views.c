/*
 * Specifications of what the approver pages read from the real twokeyd:
 * a request names who asked, who voted already and the policy's template
 * for its connector; the grant list says what was granted until when,
 * without the token, to signed-in people only.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "../lib/daemon_fixture.h"
#include "../lib/softauthn.h"

static struct tkd d;
static struct tkd_key rita, alice, bob, fay;
static int64_t granted_id, pending_id;

static long
call(const char *method, const char *path, const char *body, json_t **ans)
{
	return tkd_call(&d, method, path, body, NULL, ans);
}

static int64_t
file_breakglass(const char *incident)
{
	char body[256];
	json_t *ans = NULL;
	int64_t id = 0;

	if (tkd_signin(&d, "rita", &rita) != 200)
		return 0;
	snprintf(body, sizeof(body), "{\"kind\":\"break-glass\","
	    "\"incident\":\"%s\",\"scopes\":[\"db:admin\"],"
	    "\"ttl\":3600,\"reason\":\"primary database down\"}", incident);
	if (call("POST", "/api/v1/requests", body, &ans) == 201)
		id = (int64_t)json_integer_value(json_object_get(ans, "id"));
	json_decref(ans);
	return id;
}

/*
 * name decides on request id with key, with reason (may be NULL) in the
 * vote's body; the vote's HTTP status.
 */
static long
decide(const char *name, struct tkd_key *key, int64_t id,
    const char *decision, const char *reason)
{
	char path[128], *body = NULL;
	json_t *ans = NULL, *req;
	const char *s;
	uint8_t *ch = NULL;
	size_t len = 0;
	long status = -1;

	if (tkd_signin(&d, name, key) != 200)
		return -1;
	snprintf(path, sizeof(path), "/api/v1/requests/%lld/challenge",
	    (long long)id);
	req = json_pack("{s:s}", "decision", decision);
	body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (call("POST", path, body, &ans) != 200 ||
	    (s = json_string_value(json_object_get(ans, "challenge"))) ==
	    NULL || tk_b64url_decode(s, strlen(s), &ch, &len) != 0) {
		free(body);
		json_decref(ans);
		return -1;
	}
	free(body);
	body = NULL;
	json_decref(ans);
	req = json_object();
	if (reason != NULL)
		json_object_set_new(req, "reason", json_string(reason));
	if (tkd_assert(&d, key, ch, len, req) == 0 &&
	    (body = json_dumps(req, JSON_COMPACT)) != NULL) {
		snprintf(path, sizeof(path), "/api/v1/requests/%lld/votes",
		    (long long)id);
		status = call("POST", path, body, NULL);
	}
	free(body);
	free(ch);
	json_decref(req);
	return status;
}

static long
approve(const char *name, struct tkd_key *key, int64_t id)
{
	return decide(name, key, id, "approve", NULL);
}

static int
setup(void **state)
{
	(void)state;
	if (tkd_init(&d, "views", ",\n\"rate_limit_per_minute\": 1000,\n"
	    "\"policy\": {\"templates\": {\"break-glass\": [\"db:admin\", "
	    "\"db:read\"]}}") != 0 ||
	    tkd_enroll(&d, "rita", "dev", TK_ROLE_COMMANDER, &rita) != 0 ||
	    tkd_enroll(&d, "alice", "ops", TK_ROLE_APPROVER, &alice) != 0 ||
	    tkd_enroll(&d, "bob", "sec", TK_ROLE_APPROVER, &bob) != 0 ||
	    tkd_enroll(&d, "fay", "audit", TK_ROLE_AUDITOR, &fay) != 0 ||
	    tkd_start(&d) != 0)
		return -1;
	if ((granted_id = file_breakglass("INC-1")) == 0 ||
	    approve("alice", &alice, granted_id) != 200 ||
	    approve("bob", &bob, granted_id) != 200 ||
	    (pending_id = file_breakglass("INC-2")) == 0 ||
	    approve("alice", &alice, pending_id) != 200)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	int r;

	(void)state;
	r = tkd_stop(&d, SIGTERM);
	softauthn_free(&rita.sa);
	softauthn_free(&alice.sa);
	softauthn_free(&bob.sa);
	softauthn_free(&fay.sa);
	tkd_cleanup();
	return r == 0 ? 0 : -1;
}

static void
request_names_requester_votes_so_far_and_template(void **state)
{
	char path[64];
	json_t *ans = NULL, *votes, *v, *tmpl;

	(void)state;
	assert_int_equal(tkd_signin(&d, "bob", &bob), 200);
	snprintf(path, sizeof(path), "/api/v1/requests/%lld",
	    (long long)pending_id);
	assert_int_equal(call("GET", path, NULL, &ans), 200);
	assert_string_equal(json_string_value(json_object_get(ans,
	    "requester_name")), "rita");
	assert_string_equal(json_string_value(json_object_get(ans,
	    "requester_team")), "dev");
	votes = json_object_get(ans, "votes");
	assert_int_equal(json_array_size(votes), 1);
	v = json_array_get(votes, 0);
	assert_string_equal(json_string_value(json_object_get(v, "person")),
	    "alice");
	assert_string_equal(json_string_value(json_object_get(v,
	    "decision")), "approve");
	assert_true(json_integer_value(json_object_get(v, "at")) > 0);
	tmpl = json_object_get(ans, "template");
	assert_int_equal(json_array_size(tmpl), 2);
	assert_string_equal(json_string_value(json_array_get(tmpl, 0)),
	    "db:admin");
	json_decref(ans);
}

static void
pending_list_carries_the_same_view(void **state)
{
	json_t *ans = NULL, *list, *r;

	(void)state;
	assert_int_equal(tkd_signin(&d, "bob", &bob), 200);
	assert_int_equal(call("GET", "/api/v1/requests", NULL, &ans), 200);
	list = json_object_get(ans, "pending");
	assert_int_equal(json_array_size(list), 1);
	r = json_array_get(list, 0);
	assert_int_equal(json_integer_value(json_object_get(r, "id")),
	    pending_id);
	assert_string_equal(json_string_value(json_object_get(r,
	    "requester_name")), "rita");
	assert_int_equal(json_array_size(json_object_get(r, "votes")), 1);
	json_decref(ans);
}

static void
grant_list_shows_expiry_and_review_but_never_the_token(void **state)
{
	json_t *ans = NULL, *g;
	char *text;

	(void)state;
	assert_int_equal(tkd_signin(&d, "alice", &alice), 200);
	assert_int_equal(call("GET", "/api/v1/grants", NULL, &ans), 200);
	assert_int_equal(json_array_size(json_object_get(ans, "grants")), 1);
	g = json_array_get(json_object_get(ans, "grants"), 0);
	assert_int_equal(json_integer_value(json_object_get(g,
	    "request_id")), granted_id);
	assert_string_equal(json_string_value(json_object_get(g, "kind")),
	    "break-glass");
	assert_string_equal(json_string_value(json_object_get(g, "state")),
	    "active");
	assert_string_equal(json_string_value(json_object_get(g,
	    "requester")), "rita");
	assert_int_equal(json_integer_value(json_object_get(g, "expires")) -
	    json_integer_value(json_object_get(g, "issued")), 3600);
	assert_true(json_integer_value(json_object_get(g, "review_due")) >
	    0);
	assert_int_equal(json_integer_value(json_object_get(g,
	    "review_filed")), 0);
	assert_non_null(text = json_dumps(ans, 0));
	assert_null(strstr(text, "eyJ"));	/* no JWT anywhere */
	free(text);
	json_decref(ans);
}

static void
grant_list_needs_a_session(void **state)
{
	json_t *ans = NULL;

	(void)state;
	d.cookie[0] = '\0';
	d.csrf[0] = '\0';
	assert_int_equal(call("GET", "/api/v1/grants", NULL, &ans), 401);
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(ans, "error"), "code")), "unauthenticated");
	json_decref(ans);
}

static void
filed_review_shows_in_the_grant_list(void **state)
{
	char path[64];
	json_t *ans = NULL, *g;

	(void)state;
	assert_int_equal(tkd_signin(&d, "rita", &rita), 200);
	snprintf(path, sizeof(path), "/api/v1/requests/%lld/review",
	    (long long)granted_id);
	assert_int_equal(call("POST", path, "{\"text\":\"root cause: disk "
	    "full\"}", NULL), 201);
	assert_int_equal(call("GET", "/api/v1/grants", NULL, &ans), 200);
	g = json_array_get(json_object_get(ans, "grants"), 0);
	assert_true(json_integer_value(json_object_get(g, "review_filed")) >
	    0);
	json_decref(ans);
}

/* The number of votes on request id, as bob sees it. */
static size_t
votes_on(int64_t id)
{
	char path[64];
	json_t *ans = NULL;
	size_t n;

	if (tkd_signin(&d, "bob", &bob) != 200)
		return 999;
	snprintf(path, sizeof(path), "/api/v1/requests/%lld", (long long)id);
	if (call("GET", path, NULL, &ans) != 200)
		return 999;
	n = json_array_size(json_object_get(ans, "votes"));
	json_decref(ans);
	return n;
}

static void
overlong_vote_reason_is_refused_and_records_nothing(void **state)
{
	char reason[1026];

	(void)state;
	memset(reason, 'x', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	assert_int_equal(decide("bob", &bob, pending_id, "reject", reason),
	    400);
	assert_int_equal(votes_on(pending_id), 1);
}

static void
rejection_reason_is_journaled_with_the_vote(void **state)
{
	const char *why = "INC-2 is closed; no database access needed";
	struct tkd_resp r;

	(void)state;
	assert_int_equal(decide("bob", &bob, pending_id, "reject", why),
	    200);
	assert_int_equal(votes_on(pending_id), 2);
	assert_int_equal(tkd_signin(&d, "fay", &fay), 200);
	assert_int_equal(tkd_request(&d, "GET", "/api/v1/journal/export",
	    NULL, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	/* An uncompressed tar: the entry's JSON is there as written. */
	assert_non_null(memmem(r.body, r.len, why, strlen(why)));
	assert_non_null(memmem(r.body, r.len, "vote.reason", 11));
	tkd_resp_clear(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    request_names_requester_votes_so_far_and_template),
		cmocka_unit_test(pending_list_carries_the_same_view),
		cmocka_unit_test(
		    grant_list_shows_expiry_and_review_but_never_the_token),
		cmocka_unit_test(grant_list_needs_a_session),
		cmocka_unit_test(filed_review_shows_in_the_grant_list),
		cmocka_unit_test(
		    overlong_vote_reason_is_refused_and_records_nothing),
		cmocka_unit_test(rejection_reason_is_journaled_with_the_vote),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
