/*
 * Specifications of the first enrollment (twokeyd --bootstrap) on the
 * real twokeyd, the real token and the real API over verified TLS: who
 * may be bootstrapped, when the bootstrap is refused, when its
 * invitations die, and a break-glass grant approved by people who came in
 * through it alone.
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
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "twokey/common.h"
#include "../lib/daemon_fixture.h"
#include "../lib/softauthn.h"

#define JSON "application/json"
#define CONF_EXTRA ",\n\"rate_limit_per_minute\": 1000"
#define PEOPLE "alice:ops,bob:sec,carol:dev,dave:qa"

static struct tkd d;		/* the bootstrapped appliance */
static char code[4][80];	/* alice, bob, carol, dave */
static struct tkd_key alice, bob, carol, dave, rita;

static long
call_on(struct tkd *t, const char *method, const char *path,
    const char *body, const char *header, json_t **ans)
{
	return tkd_call(t, method, path, body, header, ans);
}

static long
call(const char *method, const char *path, const char *body, json_t **ans)
{
	return call_on(&d, method, path, body, NULL, ans);
}

static void
expect_code(json_t *ans, const char *want)
{
	json_t *e = json_object_get(ans, "error");

	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "code")),
	    want);
}

static void
signout(struct tkd *t)
{
	t->cookie[0] = t->csrf[0] = '\0';
}

/* The registration challenge for inv; its bytes, id in *id (free both). */
static long
enroll_challenge(struct tkd *t, const char *inv, uint8_t **ch,
    size_t *len, char **id, json_t **ans)
{
	char body[160];
	const char *s;
	long st;

	*ch = NULL;
	*id = NULL;
	snprintf(body, sizeof(body), "{\"invitation\":\"%s\"}", inv);
	if ((st = call_on(t, "POST", "/api/v1/enroll/challenge", body, NULL,
	    ans)) != 200)
		return st;
	s = json_string_value(json_object_get(*ans, "challenge"));
	assert_int_equal(tk_b64url_decode(s, strlen(s), ch, len), 0);
	*id = strdup(json_string_value(json_object_get(*ans,
	    "challenge_id")));
	json_decref(*ans);
	*ans = NULL;
	return st;
}

/* Registers key for inv against a challenge already taken. */
static long
enroll_with(struct tkd *t, const char *inv, const uint8_t *ch, size_t len,
    const char *id, struct tkd_key *key, json_t **ans)
{
	json_t *req;
	char *text;
	long st;

	req = json_pack("{s:s,s:s}", "invitation", inv, "challenge_id", id);
	assert_int_equal(tkd_register(t, key, ch, len, req), 0);
	text = json_dumps(req, JSON_COMPACT);
	st = call_on(t, "POST", "/api/v1/enroll", text, NULL, ans);
	free(text);
	json_decref(req);
	return st;
}

/* The whole ceremony for inv with a fresh key; the final status. */
static long
enroll(struct tkd *t, const char *inv, struct tkd_key *key, json_t **ans)
{
	uint8_t *ch;
	size_t len = 0;
	char *id;
	long st;

	if (key->sa == NULL)
		assert_non_null(key->sa = softauthn_new(-7));
	if ((st = enroll_challenge(t, inv, &ch, &len, &id, ans)) == 200)
		st = enroll_with(t, inv, ch, len, id, key, ans);
	free(ch);
	free(id);
	return st;
}

/* Splits bootstrap output "NAME\tTEAM\tROLES\tCODE\n" lines into codes. */
static size_t
parse_codes(char *out, char codes[][80], size_t max, const char *names[])
{
	char *line, *save = NULL, *f[4];
	size_t n = 0, i;

	for (line = strtok_r(out, "\n", &save); line != NULL && n < max;
	    line = strtok_r(NULL, "\n", &save)) {
		f[0] = line;
		for (i = 1; i < 4; i++) {
			assert_non_null(f[i] = strchr(f[i - 1], '\t'));
			*f[i]++ = '\0';
		}
		assert_string_equal(f[0], names[n]);
		assert_string_equal(f[2], n == 0 ? "admin,approver" :
		    "approver");
		assert_int_equal(strncmp(f[3], "tki_", 4), 0);
		snprintf(codes[n++], 80, "%s", f[3]);
	}
	return n;
}

static int
setup(void **state)
{
	(void)state;
	return tkd_init(&d, "bootstrap", CONF_EXTRA);
}

static int
teardown(void **state)
{
	(void)state;
	if (d.pid > 0)
		tkd_stop(&d, SIGTERM);
	softauthn_free(&alice.sa);
	softauthn_free(&bob.sa);
	softauthn_free(&carol.sa);
	softauthn_free(&dave.sa);
	softauthn_free(&rita.sa);
	tkd_cleanup();
	return 0;
}

static void
bad_bootstrap_arguments_are_refused_and_create_nothing(void **state)
{
	static const char *bad[] = {
		"alice:ops,bob:sec",		/* fewer than quorum + 1 */
		"alice:ops,bob:sec,bob:dev",	/* a name twice */
		"alice:ops,bob:sec,BOB:dev",	/* twice in another case */
		"alice:ops,bob.:sec,carol:dev",	/* a dot last */
		"alice:ops,bob:-sec,carol:dev",	/* a dash first */
		"alice:ops,b ob:sec,carol:dev",	/* a space */
		"alice:ops,bob:sec,carol:d$v",	/* a shell character */
		"alice:ops,bob,carol:dev",	/* no team */
		"alice:ops,,carol:dev",		/* an empty person */
		":ops,bob:sec,carol:dev",	/* an empty name */
		"",
	};
	struct tkd e;
	char out[4096], path[700];
	struct stat sb;
	size_t i;

	(void)state;
	assert_int_equal(tkd_init(&e, "bootstrap-bad", CONF_EXTRA), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tkd_bootstrap(&e, bad[i], out, sizeof(out)),
		    2);
		assert_string_equal(out, "");
	}
	assert_true(tkd_log_has(&e, "at least 2 approvers besides", 0));
	assert_true(tkd_log_has(&e, "bob is named twice", 0));
	assert_true(tkd_log_has(&e, "BOB is named twice", 0));
	assert_true(tkd_log_has(&e, "with a letter or digit first and last",
	    0));
	assert_true(tkd_log_has(&e, "want NAME:TEAM", 0));
	/* Nothing was made: no invitation store at all. */
	snprintf(path, sizeof(path), "%s/state/web.db", e.dir);
	assert_int_equal(stat(path, &sb), -1);
}

static void
a_new_bootstrap_voids_the_unused_codes_of_an_earlier_one(void **state)
{
	static const char *names[] = { "alice", "bob", "carol" };
	char out[4096], first[3][80], second[3][80];
	struct tkd e;
	uint8_t *ch;
	size_t len;
	char *id;
	json_t *ans;

	(void)state;
	assert_int_equal(tkd_init(&e, "bootstrap-again", CONF_EXTRA), 0);
	assert_int_equal(tkd_bootstrap(&e, "alice:ops,bob:sec,carol:dev",
	    out, sizeof(out)), 0);
	assert_int_equal(parse_codes(out, first, 3, names), 3);
	/* Nobody enrolled yet: the bootstrap may be run again. */
	assert_int_equal(tkd_bootstrap(&e, "alice:ops,bob:sec,carol:dev",
	    out, sizeof(out)), 0);
	assert_int_equal(parse_codes(out, second, 3, names), 3);
	assert_string_not_equal(first[0], second[0]);
	assert_int_equal(tkd_start(&e), 0);
	assert_int_equal(enroll_challenge(&e, first[1], &ch, &len, &id,
	    &ans), 400);
	expect_code(ans, "invitation_invalid");
	json_decref(ans);
	assert_int_equal(enroll_challenge(&e, second[1], &ch, &len, &id,
	    &ans), 200);
	free(ch);
	free(id);
	assert_int_equal(tkd_stop(&e, SIGTERM), 0);
}

static void
an_invitation_store_from_before_the_bootstrap_is_upgraded(void **state)
{
	static const char *names[] = { "alice", "bob", "carol" };
	char out[4096], codes[3][80], path[700];
	struct tkd e;
	sqlite3 *db = NULL;
	uint8_t *ch;
	size_t len;
	char *id;
	json_t *ans;

	(void)state;
	assert_int_equal(tkd_init(&e, "bootstrap-old", CONF_EXTRA), 0);
	snprintf(path, sizeof(path), "%s/state", e.dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/state/web.db", e.dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE invitations("
	    "hash BLOB PRIMARY KEY, name TEXT NOT NULL, team TEXT NOT NULL,"
	    "roles INTEGER NOT NULL, inviter TEXT NOT NULL,"
	    "expires INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0)",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(tkd_bootstrap(&e, "alice:ops,bob:sec,carol:dev",
	    out, sizeof(out)), 0);
	assert_int_equal(parse_codes(out, codes, 3, names), 3);
	assert_int_equal(tkd_start(&e), 0);
	assert_int_equal(enroll_challenge(&e, codes[0], &ch, &len, &id,
	    &ans), 200);
	free(ch);
	free(id);
	assert_int_equal(tkd_stop(&e, SIGTERM), 0);
}

static void
bootstrap_prints_codes_once_and_not_beside_a_daemon(
    void **state)
{
	static const char *names[] = { "alice", "bob", "carol", "dave" };
	char out[4096];

	(void)state;
	assert_int_equal(tkd_bootstrap(&d, PEOPLE, out, sizeof(out)), 0);
	assert_int_equal(parse_codes(out, code, 4, names), 4);
	/* Codes go to stdout only: never to the log. */
	assert_false(tkd_log_has(&d, code[0] + 4, 0));
	assert_true(tkd_log_has(&d, "bootstrap.invite", 0));
	assert_int_equal(tkd_start(&d), 0);
	/* One process per state folder: the running daemon holds it. */
	assert_int_equal(tkd_bootstrap(&d, PEOPLE, out, sizeof(out)), 75);
	assert_string_equal(out, "");
	assert_true(tkd_log_has(&d, "stop twokeyd before the bootstrap", 0));
}

static void
bootstrap_invitation_enrolls_the_admin_who_signs_in(void **state)
{
	json_t *ans, *roles;

	(void)state;
	assert_int_equal(enroll(&d, code[0], &alice, &ans), 201);
	roles = json_object_get(json_object_get(ans, "person"), "roles");
	assert_int_equal(json_array_size(roles), 2);
	assert_string_equal(json_string_value(json_array_get(roles, 0)),
	    "admin");
	assert_string_equal(json_string_value(json_array_get(roles, 1)),
	    "approver");
	json_decref(ans);
	assert_int_equal(tkd_signin(&d, "alice", &alice), 200);
	assert_int_equal(call("GET", "/api/v1/session", NULL, &ans), 200);
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    json_object_get(ans, "person"), "roles"), 0)), "admin");
	json_decref(ans);
	signout(&d);
	/* Spent. */
	assert_int_equal(enroll(&d, code[0], &alice, &ans), 400);
	expect_code(ans, "invitation_invalid");
	json_decref(ans);
}

static void
second_bootstrap_is_refused_once_an_approver_exists(void **state)
{
	char out[4096];

	(void)state;
	assert_int_equal(tkd_stop(&d, SIGTERM), 0);
	assert_int_equal(tkd_bootstrap(&d, "mallory:x,eve:y,oscar:z", out,
	    sizeof(out)), 3);
	assert_string_equal(out, "");
	assert_true(tkd_log_has(&d, "the quorum governs from now on", 0));
	assert_int_equal(tkd_start(&d), 0);
}

static void
admin_made_approver_invitation_is_still_refused(void **state)
{
	json_t *ans;

	(void)state;
	assert_int_equal(tkd_signin(&d, "alice", &alice), 200);
	assert_int_equal(call("POST", "/api/v1/invitations", "{\"name\":"
	    "\"mallory\",\"team\":\"x\",\"roles\":[\"approver\"]}", &ans),
	    403);
	expect_code(ans, "quorum_required");
	json_decref(ans);
	assert_int_equal(call("POST", "/api/v1/invitations", "{\"name\":"
	    "\"mallory\",\"team\":\"x\",\"roles\":[\"admin\"]}", &ans), 403);
	expect_code(ans, "quorum_required");
	json_decref(ans);
	signout(&d);
}

static void
leftover_bootstrap_code_dies_once_the_quorum_is_in(
    void **state)
{
	uint8_t *ch = NULL;
	size_t len = 0;
	char *id = NULL;
	json_t *ans;

	(void)state;
	assert_int_equal(enroll(&d, code[1], &bob, &ans), 201);
	json_decref(ans);
	/* Dave takes a challenge while his invitation still lives... */
	assert_non_null(dave.sa = softauthn_new(-7));
	assert_int_equal(enroll_challenge(&d, code[3], &ch, &len, &id, &ans),
	    200);
	/* ...then carol completes the quorum (admin + two approvers). */
	assert_int_equal(enroll(&d, code[2], &carol, &ans), 201);
	json_decref(ans);
	assert_int_equal(enroll_with(&d, code[3], ch, len, id, &dave, &ans),
	    403);
	expect_code(ans, "bootstrap_closed");
	json_decref(ans);
	free(ch);
	free(id);
	assert_int_equal(enroll_challenge(&d, code[3], &ch, &len, &id, &ans),
	    403);
	expect_code(ans, "bootstrap_closed");
	json_decref(ans);
	assert_int_not_equal(tkd_signin(&d, "dave", &dave), 200);
	signout(&d);
}

static void
journal_holds_the_bootstrap_entry_without_any_code(void **state)
{
	struct tkd_resp r;
	char bearer[256];
	const char *hit;
	json_t *ans;
	size_t i;

	(void)state;
	assert_int_equal(tkd_signin(&d, "alice", &alice), 200);
	assert_int_equal(call("POST", "/api/v1/api-keys", "{\"name\":\"audit\","
	    "\"scopes\":[\"journal:read\"]}", &ans), 201);
	snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s",
	    json_string_value(json_object_get(ans, "key")));
	json_decref(ans);
	signout(&d);
	assert_int_equal(tkd_request(&d, "GET", "/api/v1/journal/export",
	    NULL, NULL, 0, bearer, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(hit = memmem(r.body, r.len, "bootstrap.invite", 16));
	/* One entry only, naming everyone. */
	assert_null(memmem(hit + 1, r.len - (size_t)(hit + 1 - r.body),
	    "bootstrap.invite", 16));
	assert_non_null(memmem(r.body, r.len, "\"dave\"", 6));
	for (i = 0; i < 4; i++)
		assert_null(memmem(r.body, r.len, code[i] + 4,
		    strlen(code[i] + 4)));
	tkd_resp_clear(&r);
	for (i = 0; i < 4; i++)
		assert_false(tkd_log_has(&d, code[i] + 4, 0));
}

/* name votes approve on request id with key; the vote's status. */
static long
approve(const char *name, struct tkd_key *key, int64_t id, json_t **ans)
{
	char path[128], *text;
	json_t *req;
	const char *s;
	uint8_t *ch = NULL;
	size_t len = 0;
	long st;

	assert_int_equal(tkd_signin(&d, name, key), 200);
	snprintf(path, sizeof(path), "/api/v1/requests/%lld/challenge",
	    (long long)id);
	if ((st = call("POST", path, "{\"decision\":\"approve\"}", ans)) !=
	    200)
		return st;
	s = json_string_value(json_object_get(*ans, "challenge"));
	assert_int_equal(tk_b64url_decode(s, strlen(s), &ch, &len), 0);
	json_decref(*ans);
	req = json_object();
	assert_int_equal(tkd_assert(&d, key, ch, len, req), 0);
	text = json_dumps(req, JSON_COMPACT);
	snprintf(path, sizeof(path), "/api/v1/requests/%lld/votes",
	    (long long)id);
	st = call("POST", path, text, ans);
	free(text);
	free(ch);
	json_decref(req);
	return st;
}

static void
breakglass_is_granted_by_bootstrapped_approvers_only(void **state)
{
	char path[128];
	json_t *ans, *inv;
	int64_t id;

	(void)state;
	/*
	 * Alice invites a commander; the role is governed, so the
	 * registration proposes her enrollment, which the bootstrapped
	 * approvers carry.
	 */
	assert_int_equal(tkd_signin(&d, "alice", &alice), 200);
	assert_int_equal(call("POST", "/api/v1/invitations", "{\"name\":"
	    "\"rita\",\"team\":\"dev\",\"roles\":[\"commander\"],"
	    "\"reason\":\"on call\",\"ticket\":\"HR-1\"}", &ans), 201);
	signout(&d);
	inv = ans;
	assert_int_equal(enroll(&d, json_string_value(json_object_get(inv,
	    "invitation")), &rita, &ans), 202);
	id = (int64_t)json_integer_value(json_object_get(json_object_get(ans,
	    "change"), "id"));
	json_decref(ans);
	json_decref(inv);
	assert_int_equal(approve("bob", &bob, id, &ans), 200);
	json_decref(ans);
	assert_int_equal(approve("carol", &carol, id, &ans), 200);
	assert_string_equal(json_string_value(json_object_get(ans, "state")),
	    "applied");
	json_decref(ans);
	assert_int_equal(tkd_signin(&d, "rita", &rita), 200);
	assert_int_equal(call("POST", "/api/v1/requests", "{\"kind\":"
	    "\"break-glass\",\"incident\":\"INC-7\",\"scopes\":[\"db:admin\"],"
	    "\"ttl\":3600,\"reason\":\"primary database down\"}", &ans), 201);
	id = (int64_t)json_integer_value(json_object_get(ans, "id"));
	json_decref(ans);
	/* Her own approval is refused. */
	assert_int_equal(approve("rita", &rita, id, &ans), 403);
	expect_code(ans, "self_approval");
	json_decref(ans);
	assert_int_equal(approve("bob", &bob, id, &ans), 200);
	assert_string_equal(json_string_value(json_object_get(ans, "state")),
	    "pending");
	json_decref(ans);
	assert_int_equal(approve("carol", &carol, id, &ans), 200);
	assert_string_equal(json_string_value(json_object_get(ans, "state")),
	    "granted");
	json_decref(ans);
	assert_int_equal(tkd_signin(&d, "rita", &rita), 200);
	snprintf(path, sizeof(path), "/api/v1/requests/%lld/grant",
	    (long long)id);
	assert_int_equal(call("GET", path, NULL, &ans), 200);
	assert_string_equal(json_string_value(json_object_get(ans, "state")),
	    "active");
	assert_non_null(json_string_value(json_object_get(ans, "token")));
	json_decref(ans);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    bad_bootstrap_arguments_are_refused_and_create_nothing),
		cmocka_unit_test(
		    a_new_bootstrap_voids_the_unused_codes_of_an_earlier_one),
		cmocka_unit_test(
		    an_invitation_store_from_before_the_bootstrap_is_upgraded),
		cmocka_unit_test(
		    bootstrap_prints_codes_once_and_not_beside_a_daemon),
		cmocka_unit_test(
		    bootstrap_invitation_enrolls_the_admin_who_signs_in),
		cmocka_unit_test(
		    second_bootstrap_is_refused_once_an_approver_exists),
		cmocka_unit_test(
		    admin_made_approver_invitation_is_still_refused),
		cmocka_unit_test(
		    leftover_bootstrap_code_dies_once_the_quorum_is_in),
		cmocka_unit_test(
		    journal_holds_the_bootstrap_entry_without_any_code),
		cmocka_unit_test(
		    breakglass_is_granted_by_bootstrapped_approvers_only),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
