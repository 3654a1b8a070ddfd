/*
 * Specifications of the signed-in API of the real twokeyd: sign-in with a
 * security key (softauthn), sessions and CSRF, requests, approvals and
 * grants, over verified TLS, on a real SoftHSM2 token.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <sqlite3.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "../lib/daemon_fixture.h"
#include "../lib/jwt_check.h"
#include "../lib/softauthn.h"

#define JSON "application/json"

static struct tkd d;
static struct tkd_key rita, alice, bob, carol, dora;

static int
setup(void **state)
{
	(void)state;
	if (tkd_init(&d, "api", ",\n\"rate_limit_per_minute\": 1000") != 0 ||
	    tkd_enroll(&d, "rita", "dev", TK_ROLE_REQUESTER |
	    TK_ROLE_COMMANDER | TK_ROLE_APPROVER, &rita) != 0 ||
	    tkd_enroll(&d, "alice", "ops", TK_ROLE_APPROVER, &alice) != 0 ||
	    tkd_enroll(&d, "bob", "sec", TK_ROLE_APPROVER, &bob) != 0 ||
	    tkd_enroll(&d, "carol", "ops", TK_ROLE_APPROVER |
	    TK_ROLE_AUDITOR, &carol) != 0 ||
	    tkd_enroll(&d, "dora", "dev", TK_ROLE_REQUESTER, &dora) != 0)
		return -1;
	return tkd_start(&d);
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
	softauthn_free(&carol.sa);
	softauthn_free(&dora.sa);
	return r == 0 ? 0 : -1;
}

/* Status of a request; the parsed answer in *ans when asked for. */
static long
call(const char *method, const char *path, const char *body, json_t **ans)
{
	return tkd_call(&d, method, path, body, NULL, ans);
}

static void
expect_code(json_t *ans, const char *code)
{
	json_t *e = json_object_get(ans, "error");

	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "code")),
	    code);
}

static void
signin_opens_a_session_with_a_strict_cookie(void **state)
{
	json_t *ans, *roles;

	(void)state;
	assert_int_equal(tkd_signin(&d, "alice", &alice), 200);
	assert_int_equal(strncmp(d.cookie, "tk_session=", 11), 0);
	assert_int_equal(strlen(d.csrf), 43);
	assert_int_equal(call("GET", "/api/v1/session", NULL, &ans), 200);
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(ans, "person"), "name")), "alice");
	roles = json_object_get(json_object_get(ans, "person"), "roles");
	assert_int_equal(json_array_size(roles), 1);
	assert_string_equal(json_string_value(json_array_get(roles, 0)),
	    "approver");
	json_decref(ans);
	assert_string_equal(d.cookie_attrs, "; Path=/; Max-Age=900; "
	    "HttpOnly; Secure; SameSite=Strict");
}

static void
signed_in_routes_refuse_without_a_session(void **state)
{
	json_t *ans;

	(void)state;
	d.cookie[0] = d.csrf[0] = '\0';
	assert_int_equal(call("GET", "/api/v1/session", NULL, &ans), 401);
	expect_code(ans, "unauthenticated");
	json_decref(ans);
	snprintf(d.cookie, sizeof(d.cookie), "tk_session=%043d", 7);
	assert_int_equal(call("GET", "/api/v1/session", NULL, &ans), 401);
	expect_code(ans, "unauthenticated");
	json_decref(ans);
}

static void
state_change_without_the_csrf_token_is_refused(void **state)
{
	char csrf[64];
	json_t *ans;

	(void)state;
	assert_int_equal(tkd_signin(&d, "bob", &bob), 200);
	snprintf(csrf, sizeof(csrf), "%s", d.csrf);
	d.csrf[0] = '\0';
	assert_int_equal(call("DELETE", "/api/v1/session", NULL, &ans), 403);
	expect_code(ans, "csrf_failed");
	json_decref(ans);
	snprintf(d.csrf, sizeof(d.csrf), "%.42sA", csrf);
	if (strcmp(d.csrf, csrf) == 0)
		d.csrf[41] = d.csrf[41] == 'B' ? 'C' : 'B';
	assert_int_equal(call("DELETE", "/api/v1/session", NULL, &ans), 403);
	expect_code(ans, "csrf_failed");
	json_decref(ans);
	/* Still signed in: nothing changed. */
	assert_int_equal(call("GET", "/api/v1/session", NULL, NULL), 200);
	snprintf(d.csrf, sizeof(d.csrf), "%s", csrf);
	assert_int_equal(call("DELETE", "/api/v1/session", NULL, NULL), 200);
	assert_int_equal(call("GET", "/api/v1/session", NULL, NULL), 401);
}

/* The session's CSRF token of GET /api/v1/session, in *token. */
static void
read_session_token(const char *name, char *token, size_t len)
{
	json_t *ans;
	const char *t;

	assert_int_equal(call("GET", "/api/v1/session", NULL, &ans), 200);
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(ans, "person"), "name")), name);
	t = json_string_value(json_object_get(ans, "csrf_token"));
	assert_non_null(t);
	assert_int_equal(strlen(t), 43);
	snprintf(token, len, "%s", t);
	json_decref(ans);
}

/*
 * A tab opened by typing the address has the cookie but not the token
 * (the pages keep it per tab): the session's own cookie gets it back,
 * never cached nor offered to another origin; another session's cookie
 * gets its own; no cookie, or a signed-out one, gets none.
 */
static void
a_new_tab_gets_the_csrf_token_of_its_own_session(void **state)
{
	char bob_cookie[256], bob_csrf[64], token[64];
	struct tkd_resp r;
	json_t *ans;

	(void)state;
	assert_int_equal(tkd_signin(&d, "bob", &bob), 200);
	snprintf(bob_cookie, sizeof(bob_cookie), "%s", d.cookie);
	snprintf(bob_csrf, sizeof(bob_csrf), "%s", d.csrf);
	d.csrf[0] = '\0';
	read_session_token("bob", token, sizeof(token));
	assert_string_equal(token, bob_csrf);
	assert_int_equal(tkd_request(&d, "GET", "/api/v1/session", NULL,
	    NULL, 0, "Origin: https://elsewhere.example", &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.headers, "Cache-Control: no-store\r\n"));
	assert_null(strcasestr(r.headers, "Access-Control-"));
	tkd_resp_clear(&r);

	assert_int_equal(tkd_signin(&d, "alice", &alice), 200);
	read_session_token("alice", token, sizeof(token));
	assert_string_equal(token, d.csrf);
	assert_string_not_equal(token, bob_csrf);
	snprintf(d.csrf, sizeof(d.csrf), "%s", bob_csrf);
	assert_int_equal(call("DELETE", "/api/v1/session", NULL, &ans), 403);
	expect_code(ans, "csrf_failed");
	json_decref(ans);

	/* bob's tab signs out with the token it got back. */
	snprintf(d.cookie, sizeof(d.cookie), "%s", bob_cookie);
	d.csrf[0] = '\0';
	read_session_token("bob", token, sizeof(token));
	snprintf(d.csrf, sizeof(d.csrf), "%s", token);
	assert_int_equal(call("DELETE", "/api/v1/session", NULL, NULL), 200);
	d.csrf[0] = '\0';
	assert_int_equal(tkd_request(&d, "GET", "/api/v1/session", NULL,
	    NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 401);
	assert_null(strstr(r.body, "csrf_token"));
	assert_null(strstr(r.body, bob_csrf));
	tkd_resp_clear(&r);
	d.cookie[0] = '\0';
	assert_int_equal(tkd_request(&d, "GET", "/api/v1/session", NULL,
	    NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 401);
	assert_null(strstr(r.body, "csrf_token"));
	tkd_resp_clear(&r);
}

static void
signin_challenge_is_single_use(void **state)
{
	struct tkd_resp r;
	json_t *req, *ans;
	uint8_t *ch;
	size_t chlen;
	char *body;
	const char *s;

	(void)state;
	d.cookie[0] = d.csrf[0] = '\0';
	assert_int_equal(call("POST", "/api/v1/session/challenge",
	    "{\"name\":\"carol\"}", &ans), 200);
	s = json_string_value(json_object_get(ans, "challenge"));
	assert_int_equal(tk_b64url_decode(s, strlen(s), &ch, &chlen), 0);
	req = json_pack("{s:O}", "challenge_id", json_object_get(ans,
	    "challenge_id"));
	assert_int_equal(tkd_assert(&d, &carol, ch, chlen, req), 0);
	assert_non_null(body = json_dumps(req, JSON_COMPACT));
	assert_int_equal(call("POST", "/api/v1/session", body, NULL), 200);
	/* The same answer again: the challenge is gone. */
	assert_int_equal(tkd_request(&d, "POST", "/api/v1/session", JSON,
	    body, strlen(body), NULL, &r), 0);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.body, "\"challenge_unknown\""));
	assert_string_equal(r.set_cookie, "");
	tkd_resp_clear(&r);
	free(body);
	free(ch);
	json_decref(req);
	json_decref(ans);
}

/* Signs in with a broken assertion; expects 401 and no session. */
static void
signin_refused(struct tkd_key *key, const char *field)
{
	struct tkd_resp r;
	json_t *req, *ans;
	uint8_t *ch;
	size_t chlen;
	char *body, *v;
	const char *s;

	d.cookie[0] = d.csrf[0] = '\0';
	assert_int_equal(call("POST", "/api/v1/session/challenge",
	    "{\"name\":\"carol\"}", &ans), 200);
	s = json_string_value(json_object_get(ans, "challenge"));
	assert_int_equal(tk_b64url_decode(s, strlen(s), &ch, &chlen), 0);
	req = json_pack("{s:O}", "challenge_id", json_object_get(ans,
	    "challenge_id"));
	assert_int_equal(tkd_assert(&d, key, ch, chlen, req), 0);
	if (field != NULL) {
		/* Flip one character in the middle of the field. */
		v = strdup(json_string_value(json_object_get(req, field)));
		v[strlen(v) / 2] = v[strlen(v) / 2] == 'A' ? 'B' : 'A';
		json_object_set_new(req, field, json_string(v));
		free(v);
	}
	assert_non_null(body = json_dumps(req, JSON_COMPACT));
	assert_int_equal(tkd_request(&d, "POST", "/api/v1/session", JSON,
	    body, strlen(body), NULL, &r), 0);
	assert_int_equal(r.status, 401);
	assert_non_null(strstr(r.body, "\"signin_failed\""));
	assert_string_equal(r.set_cookie, "");
	tkd_resp_clear(&r);
	free(body);
	free(ch);
	json_decref(req);
	json_decref(ans);
}

static void
signin_with_a_bad_signature_or_unknown_key_is_refused(void **state)
{
	struct tkd_key stranger;

	(void)state;
	signin_refused(&carol, "signature");
	signin_refused(&carol, "client_data");
	memset(&stranger, 0, sizeof(stranger));
	stranger.counter = 1;
	assert_non_null(stranger.sa = softauthn_new(-7));
	signin_refused(&stranger, NULL);
	softauthn_free(&stranger.sa);
}

/* A credential's stored counter and flags, read from the store. */
static void
stored_credential(int64_t person, long long *count, long long *flags)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char path[700];

	snprintf(path, sizeof(path), "%s/state/approvals.db", d.dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT sign_count, flags "
	    "FROM credentials WHERE person_id = ?", -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_int64(st, 1, person);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	*count = sqlite3_column_int64(st, 0);
	*flags = sqlite3_column_int64(st, 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void
signin_keeps_the_counter_and_a_clone_is_flagged(void **state)
{
	long long count, flags;
	uint32_t seen;

	(void)state;
	assert_int_equal(tkd_signin(&d, "dora", &dora), 200);
	assert_int_equal(tkd_signin(&d, "dora", &dora), 200);
	seen = dora.counter - 1;
	stored_credential(dora.person, &count, &flags);
	assert_int_equal(count, seen);
	assert_int_equal(flags, 0);
	/* A copy of the key, behind the original: refused and flagged. */
	dora.counter = 1;
	assert_int_equal(tkd_signin(&d, "dora", &dora), 403);
	stored_credential(dora.person, &count, &flags);
	assert_int_equal(count, seen);
	assert_true((flags & TK_CRED_CLONED) != 0);
	assert_true(tkd_log_has(&d, "possibly cloned", 2000));
	/* The original, ahead again, is refused too until an admin acts. */
	dora.counter = seen + 10;
	assert_int_equal(tkd_signin(&d, "dora", &dora), 403);
}

static void
signin_body_is_checked_before_anything(void **state)
{
	json_t *ans;

	(void)state;
	d.cookie[0] = d.csrf[0] = '\0';
	assert_int_equal(call("POST", "/api/v1/session", "{\"challenge_id\":"
	    "\"00000000000000000000000000000000\"}", &ans), 400);
	expect_code(ans, "invalid_field");
	json_decref(ans);
	assert_int_equal(call("POST", "/api/v1/session", "{\"challenge_id\":"
	    "\"00000000000000000000000000000000\",\"credential_id\":\"A+\","
	    "\"client_data\":\"AAAA\",\"authenticator_data\":\"" 
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
	    "\"signature\":\"AAAA\"}", &ans), 400);
	expect_code(ans, "invalid_field");
	json_decref(ans);
}

/* POSTs body; the answer's status, and its JSON in *ans (caller frees). */
static long
post(const char *path, const char *body, json_t **ans)
{
	return call("POST", path, body, ans);
}

/* The challenge's bytes, or NULL with the refusal in *refusal if asked. */
static uint8_t *
challenge_for(int64_t id, const char *decision, size_t *len, long *status,
    json_t **refusal)
{
	char path[128], body[64];
	json_t *ans;
	const char *s;
	uint8_t *ch = NULL;

	snprintf(path, sizeof(path), "/api/v1/requests/%lld/challenge",
	    (long long)id);
	snprintf(body, sizeof(body), "{\"decision\":\"%s\"}", decision);
	*status = post(path, body, &ans);
	s = json_string_value(json_object_get(ans, "challenge"));
	if (*status == 200 && s != NULL &&
	    tk_b64url_decode(s, strlen(s), &ch, len) != 0)
		ch = NULL;
	if (ch == NULL && refusal != NULL)
		*refusal = json_incref(ans);
	json_decref(ans);
	return ch;
}

/*
 * key votes decision on request id (after signing in as name); returns
 * the vote's status, the answer in *ans, and the body sent in *sent.
 */
static long
vote(const char *name, struct tkd_key *key, int64_t id, const char *decision,
    json_t **ans, char **sent)
{
	char path[128];
	json_t *req;
	uint8_t *ch;
	size_t len = 0;
	long status;

	*ans = NULL;
	if (tkd_signin(&d, name, key) != 200)
		return -1;
	if ((ch = challenge_for(id, decision, &len, &status, ans)) == NULL)
		return status;
	req = json_object();
	assert_int_equal(tkd_assert(&d, key, ch, len, req), 0);
	free(ch);
	assert_non_null(*sent = json_dumps(req, JSON_COMPACT));
	json_decref(req);
	snprintf(path, sizeof(path), "/api/v1/requests/%lld/votes",
	    (long long)id);
	return post(path, *sent, ans);
}

static int64_t
file_breakglass(const char *incident)
{
	char body[256];
	json_t *ans;
	int64_t id;

	assert_int_equal(tkd_signin(&d, "rita", &rita), 200);
	snprintf(body, sizeof(body), "{\"kind\":\"break-glass\","
	    "\"incident\":\"%s\",\"scopes\":[\"db:admin\"],"
	    "\"ttl\":3600,\"reason\":\"primary database down\"}",
	    incident);
	assert_int_equal(post("/api/v1/requests", body, &ans), 201);
	id = (int64_t)json_integer_value(json_object_get(ans, "id"));
	assert_true(id > 0);
	json_decref(ans);
	return id;
}

static int
untar(const char *tar, size_t len, const char *dir)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char path[1024];
	int r = 0;

	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, tar, len) != ARCHIVE_OK)
		r = -1;
	while (r == 0 && archive_read_next_header(a, &e) == ARCHIVE_OK) {
		snprintf(path, sizeof(path), "%s/%s", dir,
		    archive_entry_pathname(e));
		archive_entry_set_pathname(e, path);
		if (archive_read_extract(a, e, 0) != ARCHIVE_OK)
			r = -1;
	}
	archive_read_free(a);
	return r;
}

static int
run_verify_log(const char *dir)
{
	char prog[1024];
	pid_t pid;
	int st;

	snprintf(prog, sizeof(prog), "%s/twokey-verify",
	    getenv("TWOKEY_BUILD"));
	if ((pid = fork()) == 0) {
		execl(prog, "twokey-verify", "log", dir, "--root", d.root_pem,
		    (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void
export_verifies_with_twokey_verify(void)
{
	struct tkd_resp r;
	char dir[700];

	assert_int_equal(tkd_signin(&d, "carol", &carol), 200);
	assert_int_equal(tkd_request(&d, "GET", "/api/v1/journal/export",
	    NULL, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.ctype, "application/x-tar");
	snprintf(dir, sizeof(dir), "%s/export", d.dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(untar(r.body, r.len, dir), 0);
	tkd_resp_clear(&r);
	snprintf(dir, sizeof(dir), "%s/export/journal", d.dir);
	assert_int_equal(run_verify_log(dir), 0);
	/* Only auditors may export. */
	assert_int_equal(tkd_signin(&d, "alice", &alice), 200);
	assert_int_equal(call("GET", "/api/v1/journal/export", NULL, NULL),
	    403);
}

static void
grant_is_a_jwt_that_verifies_against_jwks(int64_t id)
{
	char path[128], revoke[256];
	json_t *ans, *claims;
	struct tkd_resp jwks;

	assert_int_equal(tkd_signin(&d, "rita", &rita), 200);
	snprintf(path, sizeof(path), "/api/v1/requests/%lld/grant",
	    (long long)id);
	assert_int_equal(call("GET", path, NULL, &ans), 200);
	assert_string_equal(json_string_value(json_object_get(ans, "state")),
	    "active");
	assert_int_equal(tkd_request(&d, "GET", "/jwks", NULL, NULL, 0, NULL,
	    &jwks), 0);
	claims = jwt_check(json_string_value(json_object_get(ans, "token")),
	    jwks.body);
	assert_non_null(claims);
	assert_int_equal(json_integer_value(json_object_get(claims, "req")),
	    id);
	json_decref(claims);
	tkd_resp_clear(&jwks);
	snprintf(revoke, sizeof(revoke), "/api/v1/grants/%s/revoke",
	    json_string_value(json_object_get(ans, "jti")));
	json_decref(ans);
	/* Only the requester gets the token. */
	assert_int_equal(tkd_signin(&d, "bob", &bob), 200);
	assert_int_equal(call("GET", path, NULL, NULL), 403);
	/* An approver revokes it early; it is revoked once only. */
	assert_int_equal(post(revoke, NULL, NULL), 200);
	assert_int_equal(post(revoke, NULL, &ans), 409);
	expect_code(ans, "grant_not_active");
	json_decref(ans);
	assert_int_equal(tkd_signin(&d, "rita", &rita), 200);
	assert_int_equal(call("GET", path, NULL, &ans), 200);
	assert_string_equal(json_string_value(json_object_get(ans, "state")),
	    "revoked");
	json_decref(ans);
}

static void
breakglass_needs_two_others_then_grant_and_export_verify(void **state)
{
	int64_t id;
	json_t *ans;
	char *sent = NULL, path[128];
	long st;

	(void)state;
	id = file_breakglass("INC-42");
	/* The requester's own approval is refused. */
	st = vote("rita", &rita, id, "approve", &ans, &sent);
	assert_int_equal(st, 403);
	expect_code(ans, "self_approval");
	json_decref(ans);
	free(sent);
	sent = NULL;
	/* Alice approves: one of two. */
	assert_int_equal(vote("alice", &alice, id, "approve", &ans, &sent),
	    200);
	assert_string_equal(json_string_value(json_object_get(ans, "state")),
	    "pending");
	json_decref(ans);
	/* Her assertion sent again is refused and counts nothing. */
	snprintf(path, sizeof(path), "/api/v1/requests/%lld/votes",
	    (long long)id);
	st = post(path, sent, &ans);
	assert_true(st == 409 || st == 400);
	json_decref(ans);
	free(sent);
	sent = NULL;
	/* Bob approves: two distinct approvers, none the requester. */
	assert_int_equal(vote("bob", &bob, id, "approve", &ans, &sent), 200);
	assert_string_equal(json_string_value(json_object_get(ans, "state")),
	    "granted");
	assert_int_equal(json_integer_value(json_object_get(ans,
	    "approvals")), 2);
	json_decref(ans);
	free(sent);
	grant_is_a_jwt_that_verifies_against_jwks(id);
	export_verifies_with_twokey_verify();
}

/* How many requests are pending, as the API lists them. */
static size_t
pending_count(void)
{
	json_t *ans;
	size_t n;

	assert_int_equal(call("GET", "/api/v1/requests", NULL, &ans), 200);
	n = json_array_size(json_object_get(ans, "pending"));
	json_decref(ans);
	return n;
}

static void
bad_requests_are_refused_and_file_nothing(void **state)
{
	static const struct {
		const char *body;
		long status;
		const char *code;
		const char *says;
	} bad[] = {
		{ "{\"kind\":\"break-glass\",\"incident\":\"I\","
		    "\"scopes\":[\"a\"],\"ttl\":60,\"reason\":\"r\","
		    "\"requester\":\"alice\"}", 400, "invalid_field", NULL },
		{ "{\"kind\":\"break-glass\",\"incident\":\"I\","
		    "\"scopes\":\"a\",\"ttl\":60,\"reason\":\"r\"}", 400,
		    "invalid_field", NULL },
		{ "{\"kind\":\"break-glass\",\"incident\":\"I\","
		    "\"scopes\":[\"a\"],\"ttl\":\"60\",\"reason\":\"r\"}",
		    400, "invalid_field", NULL },
		{ "{\"kind\":\"coffee\",\"scopes\":[\"a\"],"
		    "\"reason\":\"r\"}", 400, "invalid_request",
		    "\"kind\" is elevation or break-glass" },
		{ "{\"kind\":\"break-glass\",\"incident\":\"I\","
		    "\"scopes\":[\"a\",\"a\"],\"ttl\":60,"
		    "\"reason\":\"r\"}", 400, "invalid_request",
		    "scope \"a\" is listed twice" },
		{ "{\"kind\":\"break-glass\",\"incident\":\"INC 1\","
		    "\"scopes\":[\"a\"],\"ttl\":60,\"reason\":\"r\"}", 400,
		    "invalid_request", "field \"incident\" takes 1 to 128 of" },
		{ "{\"kind\":\"break-glass\",\"incident\":\"I\","
		    "\"scopes\":[\"a<b\"],\"ttl\":60,\"reason\":\"r\"}", 400,
		    "invalid_request", "each of \"scopes\" takes" },
		{ "{\"kind\":\"break-glass\",\"incident\":\"I\","
		    "\"scopes\":[\"a\"],\"ttl\":99999999,\"reason\":\"r\"}",
		    400, "duration_too_long", NULL },
		{ "{\"kind\":\"break-glass\"", 400, "malformed_json", NULL },
	};
	json_t *ans;
	const char *msg;
	size_t i, before;

	(void)state;
	assert_int_equal(tkd_signin(&d, "rita", &rita), 200);
	before = pending_count();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (post("/api/v1/requests", bad[i].body, &ans) !=
		    bad[i].status)
			fail_msg("case %zu: %s", i, json_dumps(ans, 0));
		expect_code(ans, bad[i].code);
		msg = json_string_value(json_object_get(json_object_get(ans,
		    "error"), "message"));
		if (bad[i].says != NULL && strstr(msg, bad[i].says) == NULL)
			fail_msg("case %zu says \"%s\"", i, msg);
		json_decref(ans);
	}
	/* A person without the commander role asks for break-glass. */
	assert_int_equal(tkd_signin(&d, "alice", &alice), 200);
	assert_int_equal(post("/api/v1/requests", "{\"kind\":\"break-glass\","
	    "\"incident\":\"I\",\"scopes\":[\"a\"],\"ttl\":60,"
	    "\"reason\":\"r\"}", &ans), 403);
	expect_code(ans, "role_missing");
	json_decref(ans);
	/* Without the CSRF token. */
	assert_int_equal(tkd_signin(&d, "rita", &rita), 200);
	d.csrf[0] = '\0';
	assert_int_equal(post("/api/v1/requests", "{\"kind\":\"break-glass\","
	    "\"incident\":\"I\",\"scopes\":[\"a\"],\"ttl\":60,"
	    "\"reason\":\"r\"}", &ans), 403);
	expect_code(ans, "csrf_failed");
	json_decref(ans);
	assert_int_equal(tkd_signin(&d, "rita", &rita), 200);
	assert_int_equal(pending_count(), before);
}

static void
unknown_and_malformed_request_ids_are_404(void **state)
{
	json_t *ans;

	(void)state;
	assert_int_equal(tkd_signin(&d, "alice", &alice), 200);
	assert_int_equal(call("GET", "/api/v1/requests/999999", NULL, &ans),
	    404);
	expect_code(ans, "not_found");
	json_decref(ans);
	assert_int_equal(call("GET", "/api/v1/requests/0012", NULL, &ans),
	    404);
	json_decref(ans);
	assert_int_equal(call("GET", "/api/v1/requests/abc", NULL, &ans),
	    404);
	json_decref(ans);
}

static void
a_challenge_of_another_request_is_refused(void **state)
{
	int64_t a, b;
	json_t *req, *ans;
	uint8_t *ch;
	size_t len;
	long st;
	char path[128], *body;

	(void)state;
	a = file_breakglass("INC-A");
	b = file_breakglass("INC-B");
	assert_int_equal(tkd_signin(&d, "alice", &alice), 200);
	assert_non_null(ch = challenge_for(a, "approve", &len, &st, NULL));
	req = json_object();
	assert_int_equal(tkd_assert(&d, &alice, ch, len, req), 0);
	free(ch);
	body = json_dumps(req, JSON_COMPACT);
	snprintf(path, sizeof(path), "/api/v1/requests/%lld/votes",
	    (long long)b);
	st = post(path, body, &ans);
	assert_true(st == 400 || st == 403);
	json_decref(ans);
	/* Nothing was counted on either request. */
	snprintf(path, sizeof(path), "/api/v1/requests/%lld", (long long)b);
	assert_int_equal(call("GET", path, NULL, &ans), 200);
	assert_string_equal(json_string_value(json_object_get(ans, "state")),
	    "pending");
	json_decref(ans);
	free(body);
	json_decref(req);
}

static void
one_rejection_rejects_and_closes_the_request(void **state)
{
	int64_t id;
	json_t *ans;
	char *sent = NULL;

	(void)state;
	id = file_breakglass("INC-R");
	assert_int_equal(vote("carol", &carol, id, "reject", &ans, &sent),
	    200);
	assert_string_equal(json_string_value(json_object_get(ans, "state")),
	    "rejected");
	json_decref(ans);
	free(sent);
	/* A decided request takes no more votes. */
	sent = NULL;
	assert_int_equal(vote("bob", &bob, id, "approve", &ans, &sent), 409);
	expect_code(ans, "not_pending");
	json_decref(ans);
	free(sent);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(signin_opens_a_session_with_a_strict_cookie),
		cmocka_unit_test(signed_in_routes_refuse_without_a_session),
		cmocka_unit_test(
		    state_change_without_the_csrf_token_is_refused),
		cmocka_unit_test(
		    a_new_tab_gets_the_csrf_token_of_its_own_session),
		cmocka_unit_test(signin_challenge_is_single_use),
		cmocka_unit_test(
		    signin_with_a_bad_signature_or_unknown_key_is_refused),
		cmocka_unit_test(signin_body_is_checked_before_anything),
		cmocka_unit_test(
		    signin_keeps_the_counter_and_a_clone_is_flagged),
		cmocka_unit_test(
		    breakglass_needs_two_others_then_grant_and_export_verify),
		cmocka_unit_test(bad_requests_are_refused_and_file_nothing),
		cmocka_unit_test(unknown_and_malformed_request_ids_are_404),
		cmocka_unit_test(a_challenge_of_another_request_is_refused),
		cmocka_unit_test(
		    one_rejection_rejects_and_closes_the_request),
	};
	int r;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, setup, teardown);
	tkd_cleanup();
	curl_global_cleanup();
	return r;
}
