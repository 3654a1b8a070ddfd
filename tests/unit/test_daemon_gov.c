/*
 * Specifications of governed changes on the real twokeyd, the real token
 * and the real API over verified TLS: no single person can weaken the
 * two-person rule. Every change that could (enrolling or promoting
 * people, reactivating them, the policy) waits for the quorum of
 * approvers other than its proposer; what only makes things safer takes
 * effect at once; a change whose "before" moved on never applies; a
 * policy edited in the configuration file is reported, never applied.
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
#include <jansson.h>
#include <sqlite3.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "../lib/daemon_fixture.h"
#include "../lib/softauthn.h"

#define EXTRA ",\n\"rate_limit_per_minute\": 1000"

static struct tkd d;
/* adam: admin, approver, commander; bob, carol, dave: approvers. */
static struct tkd_key adam, bob, carol, dave, rita;

static int
setup(void **state)
{
	(void)state;
	if (tkd_init(&d, "gov", EXTRA) != 0 ||
	    tkd_enroll(&d, "adam", "it", TK_ROLE_ADMIN | TK_ROLE_APPROVER |
	    TK_ROLE_COMMANDER, &adam) != 0 ||
	    tkd_enroll(&d, "bob", "sec", TK_ROLE_APPROVER, &bob) != 0 ||
	    tkd_enroll(&d, "carol", "ops", TK_ROLE_APPROVER, &carol) != 0 ||
	    tkd_enroll(&d, "dave", "qa", TK_ROLE_APPROVER, &dave) != 0 ||
	    tkd_enroll(&d, "rita", "dev", TK_ROLE_REQUESTER, &rita) != 0)
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
	softauthn_free(&bob.sa);
	softauthn_free(&carol.sa);
	softauthn_free(&dave.sa);
	softauthn_free(&rita.sa);
	return r == 0 ? 0 : -1;
}

static long
call(const char *method, const char *path, const char *body, json_t **ans)
{
	return tkd_call(&d, method, path, body, NULL, ans);
}

static void
expect_code(json_t *ans, const char *want)
{
	json_t *e = json_object_get(ans, "error");

	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "code")),
	    want);
}

/* Signed in as name, the call must be refused with status and code. */
static void
refused_as(const char *name, struct tkd_key *key, const char *method,
    const char *path, const char *body, long status, const char *code)
{
	json_t *ans = NULL;

	assert_int_equal(tkd_signin(&d, name, key), 200);
	if (call(method, path, body, &ans) != status)
		fail_msg("%s %s %s: want %ld %s, got %s", name, method, path,
		    status, code, ans != NULL ? json_dumps(ans, 0) : "-");
	expect_code(ans, code);
	json_decref(ans);
}

/* Signed in as adam, a proposal refused with status, code and words. */
static void
proposal_refused_saying(const char *body, long status, const char *code,
    const char *words)
{
	json_t *ans = NULL;
	const char *msg;

	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	assert_int_equal(call("POST", "/api/v1/changes", body, &ans), status);
	expect_code(ans, code);
	msg = json_string_value(json_object_get(json_object_get(ans,
	    "error"), "message"));
	if (msg == NULL || strstr(msg, words) == NULL)
		fail_msg("want \"%s\" in the message, got \"%s\"", words,
		    msg != NULL ? msg : "-");
	json_decref(ans);
}

/* A person as the store holds them: 0, or -1 if there is none. */
static int
person_row(const char *name, unsigned int *roles, char team[65],
    int *state)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char path[700];
	int r = -1;

	snprintf(path, sizeof(path), "%s/state/approvals.db", d.dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT roles, team, state "
	    "FROM people WHERE name = ?", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*roles = (unsigned int)sqlite3_column_int(st, 0);
		snprintf(team, 65, "%s", sqlite3_column_text(st, 1));
		*state = sqlite3_column_int(st, 2);
		r = 0;
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return r;
}

/* How many journal entries mention needle. */
static int
journal_count(const char *needle)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char path[700];
	int n = -1;

	snprintf(path, sizeof(path), "%s/state/journal.db", d.dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM "
	    "entries WHERE instr(CAST(leaf AS TEXT), ?) > 0", -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, needle, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* The base64url id of person's first credential, into out. */
static const char *
first_credential(int64_t person, char *out, size_t len)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char path[700], *b;

	snprintf(path, sizeof(path), "%s/state/approvals.db", d.dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT id FROM credentials "
	    "WHERE person_id = ? ORDER BY rowid LIMIT 1", -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_int64(st, 1, person);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_non_null(b = tk_b64url_encode(sqlite3_column_blob(st, 0),
	    (size_t)sqlite3_column_bytes(st, 0)));
	snprintf(out, len, "%s", b);
	free(b);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

/* The approved policy's key, as the API shows it (a new reference). */
static json_t *
approved(const char *key)
{
	json_t *ans = NULL, *v;

	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	assert_int_equal(call("GET", "/api/v1/policy", NULL, &ans), 200);
	v = json_incref(json_object_get(json_object_get(ans, "approved"),
	    key));
	json_decref(ans);
	assert_non_null(v);
	return v;
}

static json_int_t
approved_int(const char *key)
{
	json_t *v = approved(key);
	json_int_t n = json_integer_value(v);

	json_decref(v);
	return n;
}

/* adam proposes body; the change's id, its answer in *ans if wanted. */
static int64_t
propose(const char *body, json_t **out)
{
	json_t *ans = NULL;
	int64_t id;

	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	if (call("POST", "/api/v1/changes", body, &ans) != 201)
		fail_msg("proposal refused: %s", json_dumps(ans, 0));
	assert_string_equal(json_string_value(json_object_get(ans, "kind")),
	    "change");
	assert_string_equal(json_string_value(json_object_get(ans, "state")),
	    "pending");
	id = (int64_t)json_integer_value(json_object_get(ans, "id"));
	if (out != NULL)
		*out = ans;
	else
		json_decref(ans);
	return id;
}

/*
 * name signs in with key and approves request id (challenge, assertion,
 * vote); with as non-NULL the assertion is made by that key instead, in
 * name's session. The vote's status; its answer in *ans.
 */
static long
approve_with(const char *name, struct tkd_key *key, struct tkd_key *as,
    int64_t id, json_t **ans)
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
	assert_int_equal(tkd_assert(&d, as != NULL ? as : key, ch, len, req),
	    0);
	text = json_dumps(req, JSON_COMPACT);
	snprintf(path, sizeof(path), "/api/v1/requests/%lld/votes",
	    (long long)id);
	st = call("POST", path, text, ans);
	free(text);
	free(ch);
	json_decref(req);
	return st;
}

static long
approve(const char *name, struct tkd_key *key, int64_t id, json_t **ans)
{
	return approve_with(name, key, NULL, id, ans);
}

/* The approval is accepted and leaves the request in state want. */
static void
approved_to(const char *name, struct tkd_key *key, int64_t id,
    const char *want)
{
	json_t *ans = NULL;

	if (approve(name, key, id, &ans) != 200)
		fail_msg("%s approving %lld: %s", name, (long long)id,
		    json_dumps(ans, 0));
	assert_string_equal(json_string_value(json_object_get(ans, "state")),
	    want);
	json_decref(ans);
}

/* The proposer's own approval is refused and counts for nothing. */
static void
own_approval_refused(int64_t id)
{
	json_t *ans = NULL;

	assert_int_equal(approve("adam", &adam, id, &ans), 403);
	expect_code(ans, "self_approval");
	json_decref(ans);
}

static const char *
change_state(int64_t id)
{
	static char state[32];
	char path[64];
	json_t *ans = NULL;

	snprintf(path, sizeof(path), "/api/v1/changes/%lld", (long long)id);
	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	assert_int_equal(call("GET", path, NULL, &ans), 200);
	snprintf(state, sizeof(state), "%s", json_string_value(
	    json_object_get(ans, "state")));
	json_decref(ans);
	return state;
}

static size_t
change_count(void)
{
	json_t *ans = NULL;
	size_t n;

	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	assert_int_equal(call("GET", "/api/v1/changes", NULL, &ans), 200);
	n = json_array_size(json_object_get(ans, "changes"));
	json_decref(ans);
	return n;
}

static void
bad_proposals_are_refused_and_change_nothing(void **state)
{
	size_t before = change_count();
	json_int_t ttl = approved_int("challenge_ttl");
	char body[256];

	(void)state;
	refused_as("adam", &adam, "POST", "/api/v1/changes", "{\"type\":"
	    "\"wizardry\",\"reason\":\"r\",\"ticket\":\"T-1\",\"args\":{}}",
	    400, "invalid_change");
	refused_as("adam", &adam, "POST", "/api/v1/changes", "{\"type\":"
	    "\"policy.set\",\"reason\":\"r\",\"args\":{\"policy\":"
	    "{\"challenge_ttl\":60}}}", 400, "invalid_field");
	refused_as("adam", &adam, "POST", "/api/v1/changes", "{\"type\":"
	    "\"policy.set\",\"reason\":\"r\",\"ticket\":\"T 1\",\"args\":"
	    "{\"policy\":{\"challenge_ttl\":60}}}", 400, "invalid_change");
	refused_as("adam", &adam, "POST", "/api/v1/changes", "{\"type\":"
	    "\"person.update\",\"reason\":\"r\",\"ticket\":\"T-1\",\"args\":"
	    "{\"person\":2,\"wings\":true}}", 400, "invalid_change");
	refused_as("adam", &adam, "POST", "/api/v1/changes", "{\"type\":"
	    "\"person.enroll\",\"reason\":\"r\",\"ticket\":\"T-1\",\"args\":"
	    "{}}", 400, "registration_required");
	/* The refusal says what is wrong, not just that something is. */
	proposal_refused_saying("{\"type\":\"policy.set\",\"reason\":\"r\","
	    "\"ticket\":\"T-1\",\"args\":{\"policy\":{\"quorum\":1}}}", 400,
	    "policy_invalid", "quorum 1 refused");
	proposal_refused_saying("{\"type\":\"policy.set\",\"reason\":\"r\","
	    "\"ticket\":\"T-1\",\"args\":{\"policy\":{\"pending_ttl\":0}}}",
	    400, "policy_invalid", "\"pending_ttl\" must be 1 to");
	proposal_refused_saying("{\"type\":\"policy.set\",\"reason\":\"r\","
	    "\"ticket\":\"T-1\",\"args\":{\"policy\":{\"quorom\":3}}}", 400,
	    "policy_invalid", "unknown policy key \"quorom\"");
	proposal_refused_saying("{\"type\":\"policy.set\",\"reason\":\"r\","
	    "\"ticket\":\"T-1\",\"args\":{\"policy\":{\"distinct_teams\":"
	    "\"yes\"}}}", 400, "policy_invalid", "\"distinct_teams\" must be "
	    "true or false");
	proposal_refused_saying("{\"type\":\"policy.set\",\"reason\":\"r\","
	    "\"ticket\":\"T-1\",\"args\":{\"quorum\":3}}", 400,
	    "invalid_change", "policy.set takes one argument");
	proposal_refused_saying("{\"type\":\"policy.set\",\"reason\":\"r\","
	    "\"ticket\":\"T-1\",\"args\":{\"policy\":{\"quorum\":-1}}}",
	    400, "policy_invalid", "\"quorum\" must be an integer from 2");
	snprintf(body, sizeof(body), "{\"type\":\"person.update\","
	    "\"reason\":\"r\",\"ticket\":\"T-1\",\"args\":{\"person\":%lld,"
	    "\"roles\":[\"approver\"]}}", (long long)adam.person);
	proposal_refused_saying(body, 400, "policy_invalid",
	    "adam is the last active admin");
	proposal_refused_saying("{\"type\":\"wizardry\",\"reason\":\"r\","
	    "\"ticket\":\"T-1\",\"args\":{}}", 400, "invalid_change",
	    "unknown change type \"wizardry\"");
	/* A team takes what an invitation's does, on this route too. */
	proposal_refused_saying("{\"type\":\"person.update\",\"reason\":"
	    "\"r\",\"ticket\":\"T-1\",\"args\":{\"person\":2,\"team\":"
	    "\"<img src=x onerror=alert(7)> team\"}}", 400, "invalid_change",
	    "field \"team\" takes 1 to 64 of A-Z a-z 0-9 . _ -");
	proposal_refused_saying("{\"type\":\"person.update\",\"reason\":"
	    "\"r\",\"ticket\":\"T-1\",\"args\":{\"person\":2,\"team\":"
	    "\"sec.\"}}", 400, "invalid_change", "letter or digit first");
	refused_as("adam", &adam, "POST", "/api/v1/changes", "{\"type\":"
	    "\"policy.set\",\"reason\":\"r\",\"ticket\":\"T-1\",\"args\":"
	    "{\"policy\":{\"quorum\":2}}}", 409, "no_change");
	refused_as("adam", &adam, "POST", "/api/v1/changes", "{\"type\":"
	    "\"person.update\",\"reason\":\"r\",\"ticket\":\"T-1\",\"args\":"
	    "{\"person\":999,\"team\":\"x\"}}", 404, "not_found");
	refused_as("bob", &bob, "POST", "/api/v1/changes", "{\"type\":"
	    "\"policy.set\",\"reason\":\"r\",\"ticket\":\"T-1\",\"args\":"
	    "{\"policy\":{\"challenge_ttl\":60}}}", 403, "role_missing");
	/* Governed roles need a reason and a ticket to be proposed. */
	refused_as("adam", &adam, "POST", "/api/v1/invitations", "{\"name\":"
	    "\"zed\",\"team\":\"x\",\"roles\":[\"commander\"]}", 403,
	    "quorum_required");
	refused_as("adam", &adam, "POST", "/api/v1/invitations", "{\"name\":"
	    "\"zed\",\"team\":\"x\",\"roles\":[\"approver\"],\"reason\":"
	    "\"r\",\"ticket\":\"a b\"}", 400, "invalid_field");
	/* The safe actions refuse bad input too. */
	refused_as("bob", &bob, "POST", "/api/v1/people/2/suspend", NULL, 403,
	    "role_missing");
	refused_as("adam", &adam, "POST", "/api/v1/people/999/suspend", NULL,
	    404, "not_found");
	refused_as("adam", &adam, "POST", "/api/v1/credentials/revoke",
	    "{\"credential_id\":\"AAAA\"}", 404, "not_found");
	refused_as("adam", &adam, "POST", "/api/v1/policy/blocked",
	    "{\"connector\":\"*\",\"scope\":\"a b\"}", 400, "invalid_request");
	refused_as("bob", &bob, "POST", "/api/v1/policy/blocked",
	    "{\"connector\":\"*\",\"scope\":\"db:drop\"}", 403,
	    "role_missing");
	assert_int_equal(change_count(), before);
	assert_int_equal(approved_int("challenge_ttl"), ttl);
}

/* The change as proposed shows exactly what changes. */
static void
diff_is(json_t *change, const char *before, const char *after)
{
	json_t *req = json_object_get(change, "request"), *b, *a;

	assert_non_null(b = json_loads(before, 0, NULL));
	assert_non_null(a = json_loads(after, 0, NULL));
	if (!json_equal(json_object_get(req, "before"), b) ||
	    !json_equal(json_object_get(req, "after"), a))
		fail_msg("diff: %s", json_dumps(req, 0));
	json_decref(b);
	json_decref(a);
}

static void
policy_change_waits_for_the_quorum_which_binds_itself(void **state)
{
	json_t *ans = NULL;
	int64_t id;

	(void)state;
	id = propose("{\"type\":\"policy.set\",\"reason\":\"three eyes\","
	    "\"ticket\":\"CHG-1\",\"args\":{\"policy\":{\"quorum\":3,"
	    "\"pending_ttl\":7200}}}", &ans);
	diff_is(ans, "{\"quorum\":2,\"pending_ttl\":86400}",
	    "{\"quorum\":3,\"pending_ttl\":7200}");
	json_decref(ans);
	own_approval_refused(id);
	assert_int_equal(approved_int("quorum"), 2);
	approved_to("bob", &bob, id, "pending");
	assert_int_equal(approved_int("quorum"), 2);
	approved_to("carol", &carol, id, "applied");
	assert_int_equal(approved_int("quorum"), 3);
	assert_int_equal(approved_int("pending_ttl"), 7200);
	/* Lowering it back now needs three approvers besides adam. */
	id = propose("{\"type\":\"policy.set\",\"reason\":\"back to two\","
	    "\"ticket\":\"CHG-2\",\"args\":{\"policy\":{\"quorum\":2}}}",
	    NULL);
	approved_to("bob", &bob, id, "pending");
	approved_to("carol", &carol, id, "pending");
	assert_int_equal(approved_int("quorum"), 3);
	approved_to("dave", &dave, id, "applied");
	assert_int_equal(approved_int("quorum"), 2);
	assert_true(journal_count("change.applied") >= 2);
}

/* A session cookie and CSRF token, kept aside while another signs in. */
struct session {
	char cookie[256];
	char csrf[64];
};

static void
keep_session(struct session *s)
{
	memcpy(s->cookie, d.cookie, sizeof(s->cookie));
	memcpy(s->csrf, d.csrf, sizeof(s->csrf));
}

static void
use_session(const struct session *s)
{
	memcpy(d.cookie, s->cookie, sizeof(d.cookie));
	memcpy(d.csrf, s->csrf, sizeof(d.csrf));
}

/* The registration challenge of an invitation is refused. */
static void
enroll_challenge_refused(const char *code, long status, const char *want,
    const char *words)
{
	char body[128];
	const char *msg;
	json_t *ans = NULL;

	snprintf(body, sizeof(body), "{\"invitation\":\"%s\"}", code);
	assert_int_equal(call("POST", "/api/v1/enroll/challenge", body,
	    &ans), status);
	expect_code(ans, want);
	msg = json_string_value(json_object_get(json_object_get(ans,
	    "error"), "message"));
	if (words != NULL && (msg == NULL || strstr(msg, words) == NULL))
		fail_msg("want \"%s\" in the message, got \"%s\"", words,
		    msg != NULL ? msg : "-");
	json_decref(ans);
}

/* adam proposes bob's roles; carol and dave approve it. */
static void
bob_gets_roles(const char *roles)
{
	char body[256];
	int64_t id;

	snprintf(body, sizeof(body), "{\"type\":\"person.update\",\"reason\":"
	    "\"cover\",\"ticket\":\"CHG-7\",\"args\":{\"person\":%lld,"
	    "\"roles\":%s}}", (long long)bob.person, roles);
	id = propose(body, NULL);
	approved_to("carol", &carol, id, "pending");
	approved_to("dave", &dave, id, "applied");
}

static void
a_role_taken_away_ends_its_powers_at_once(void **state)
{
	struct session bobs;
	json_t *ans = NULL;
	char key[256], code[64];

	(void)state;
	bob_gets_roles("[\"approver\",\"admin\"]");
	assert_int_equal(tkd_signin(&d, "bob", &bob), 200);
	assert_int_equal(call("POST", "/api/v1/api-keys", "{\"name\":"
	    "\"bobs\",\"scopes\":[\"requests:read\"]}", &ans), 201);
	snprintf(key, sizeof(key), "Authorization: Bearer %s",
	    json_string_value(json_object_get(ans, "key")));
	json_decref(ans);
	assert_int_equal(call("POST", "/api/v1/invitations", "{\"name\":"
	    "\"ghost\",\"team\":\"x\",\"roles\":[\"auditor\"]}", &ans),
	    201);
	snprintf(code, sizeof(code), "%s", json_string_value(
	    json_object_get(ans, "invitation")));
	json_decref(ans);
	keep_session(&bobs);
	bob_gets_roles("[\"approver\"]");
	/* The invitation he made as an admin died with the role. */
	enroll_challenge_refused(code, 403, "invitation_void",
	    "no longer an active admin");
	/* bob's session, opened as an admin, acts as what bob is now. */
	use_session(&bobs);
	assert_int_equal(call("POST", "/api/v1/invitations", "{\"name\":"
	    "\"ghost\",\"team\":\"x\",\"roles\":[\"auditor\"]}", &ans),
	    403);
	expect_code(ans, "role_missing");
	json_decref(ans);
	assert_int_equal(call("GET", "/api/v1/people", NULL, &ans), 403);
	json_decref(ans);
	/* The key he made as an admin is void with his admin role. */
	d.cookie[0] = d.csrf[0] = '\0';
	assert_int_equal(tkd_call(&d, "GET", "/api/v1/requests", NULL, key,
	    &ans), 401);
	expect_code(ans, "unauthenticated");
	json_decref(ans);
	assert_int_equal(journal_count("authority.lapsed"), 1);
	/* Given the role back, he does not get them back. */
	bob_gets_roles("[\"approver\",\"admin\"]");
	enroll_challenge_refused(code, 403, "invitation_void",
	    "no longer an active admin");
	d.cookie[0] = d.csrf[0] = '\0';
	assert_int_equal(tkd_call(&d, "GET", "/api/v1/requests", NULL, key,
	    &ans), 401);
	json_decref(ans);
	bob_gets_roles("[\"approver\"]");
}

static void
role_and_team_changes_wait_for_the_quorum(void **state)
{
	unsigned int roles = 0;
	char team[65], body[256];
	int st = 0;
	json_t *ans = NULL;
	int64_t id;

	(void)state;
	snprintf(body, sizeof(body), "{\"type\":\"person.update\",\"reason\":"
	    "\"on call\",\"ticket\":\"CHG-3\",\"args\":{\"person\":%lld,"
	    "\"roles\":[\"requester\",\"commander\"],\"team\":\"sre\"}}",
	    (long long)rita.person);
	id = propose(body, &ans);
	diff_is(ans, "{\"name\":\"rita\",\"roles\":[\"requester\"],"
	    "\"team\":\"dev\"}", "{\"name\":\"rita\",\"roles\":[\"requester\","
	    "\"commander\"],\"team\":\"sre\"}");
	json_decref(ans);
	own_approval_refused(id);
	approved_to("bob", &bob, id, "pending");
	assert_int_equal(person_row("rita", &roles, team, &st), 0);
	assert_int_equal(roles, TK_ROLE_REQUESTER);
	assert_string_equal(team, "dev");
	approved_to("carol", &carol, id, "applied");
	assert_int_equal(person_row("rita", &roles, team, &st), 0);
	assert_int_equal(roles, TK_ROLE_REQUESTER | TK_ROLE_COMMANDER);
	assert_string_equal(team, "sre");
}

/*
 * carol cannot carry her own promotion: with adam proposing it, two
 * approvers besides both of them must agree.
 */
static void
person_a_change_is_about_cannot_approve_it(void **state)
{
	unsigned int roles = 0;
	char team[65], body[256];
	int st = 0, refusals = journal_count("the person this change is "
	    "about");
	json_t *ans = NULL;
	const char *msg;
	int64_t id;

	(void)state;
	snprintf(body, sizeof(body), "{\"type\":\"person.update\",\"reason\":"
	    "\"deputy\",\"ticket\":\"CHG-7\",\"args\":{\"person\":%lld,"
	    "\"roles\":[\"approver\",\"commander\"]}}",
	    (long long)carol.person);
	id = propose(body, NULL);
	assert_int_equal(approve("carol", &carol, id, &ans), 403);
	expect_code(ans, "subject_approval");
	msg = json_string_value(json_object_get(json_object_get(ans,
	    "error"), "message"));
	assert_non_null(msg);
	assert_non_null(strstr(msg, "the person this change is about"));
	json_decref(ans);
	assert_int_equal(journal_count("the person this change is about"),
	    refusals + 1);
	approved_to("bob", &bob, id, "pending");
	assert_int_equal(person_row("carol", &roles, team, &st), 0);
	assert_int_equal(roles, TK_ROLE_APPROVER);
	approved_to("dave", &dave, id, "applied");
	assert_int_equal(person_row("carol", &roles, team, &st), 0);
	assert_int_equal(roles, TK_ROLE_APPROVER | TK_ROLE_COMMANDER);
}

static void
reactivation_waits_for_the_quorum_suspension_does_not(void **state)
{
	struct session daves;
	unsigned int roles = 0;
	char team[65], path[64], self[64], body[256];
	int st = -1;
	json_t *ans = NULL;
	int64_t id;

	(void)state;
	snprintf(path, sizeof(path), "/api/v1/people/%lld/suspend",
	    (long long)dave.person);
	assert_int_equal(tkd_signin(&d, "dave", &dave), 200);
	keep_session(&daves);
	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	assert_int_equal(call("POST", path, NULL, &ans), 200);
	json_decref(ans);
	assert_int_equal(person_row("dave", &roles, team, &st), 0);
	assert_int_equal(st, TK_PERSON_SUSPENDED);
	/* adam, the last admin, cannot suspend himself: none could undo it. */
	snprintf(self, sizeof(self), "/api/v1/people/%lld/suspend",
	    (long long)adam.person);
	assert_int_equal(call("POST", self, NULL, &ans), 409);
	expect_code(ans, "last_admin");
	json_decref(ans);
	assert_int_equal(person_row("adam", &roles, team, &st), 0);
	assert_int_equal(st, TK_PERSON_ACTIVE);
	/* The session dave opened before ends with the suspension. */
	use_session(&daves);
	assert_int_equal(call("GET", "/api/v1/requests", NULL, &ans), 401);
	expect_code(ans, "unauthenticated");
	json_decref(ans);
	assert_true(tkd_signin(&d, "dave", &dave) != 200);
	snprintf(body, sizeof(body), "{\"type\":\"person.reactivate\","
	    "\"reason\":\"back from leave\",\"ticket\":\"CHG-4\",\"args\":"
	    "{\"person\":%lld}}", (long long)dave.person);
	id = propose(body, &ans);
	diff_is(ans, "{\"name\":\"dave\",\"state\":\"suspended\"}",
	    "{\"name\":\"dave\",\"state\":\"active\"}");
	json_decref(ans);
	own_approval_refused(id);
	approved_to("bob", &bob, id, "pending");
	assert_int_equal(person_row("dave", &roles, team, &st), 0);
	assert_int_equal(st, TK_PERSON_SUSPENDED);
	approved_to("carol", &carol, id, "applied");
	assert_int_equal(person_row("dave", &roles, team, &st), 0);
	assert_int_equal(st, TK_PERSON_ACTIVE);
	assert_int_equal(tkd_signin(&d, "dave", &dave), 200);
}

/* adam invites name with roles (governed: reason and ticket). */
static char *
invite(const char *name, const char *roles)
{
	char body[256];
	json_t *ans = NULL;
	char *inv;

	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	snprintf(body, sizeof(body), "{\"name\":\"%s\",\"team\":\"dev\","
	    "\"roles\":%s,\"reason\":\"new hire\",\"ticket\":\"HR-9\"}", name,
	    roles);
	assert_int_equal(call("POST", "/api/v1/invitations", body, &ans),
	    201);
	inv = strdup(json_string_value(json_object_get(ans, "invitation")));
	json_decref(ans);
	d.cookie[0] = d.csrf[0] = '\0';
	return inv;
}

/* The invited person registers key; the status, the answer in *ans. */
static long
register_with(const char *inv, struct tkd_key *key, json_t **ans)
{
	char body[128], *text;
	json_t *a = NULL, *req;
	const char *s;
	uint8_t *ch = NULL;
	size_t len = 0;
	long st;

	memset(key, 0, sizeof(*key));
	assert_non_null(key->sa = softauthn_new(-7));
	key->counter = 2;
	snprintf(body, sizeof(body), "{\"invitation\":\"%s\"}", inv);
	assert_int_equal(call("POST", "/api/v1/enroll/challenge", body, &a),
	    200);
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

/*
 * name's entry in the access list of an evidence pack of yesterday to
 * tomorrow, made by adam; the caller decrefs it.
 */
static json_t *
access_entry(const char *name)
{
	json_t *access, *e, *found = NULL;
	size_t i;

	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	assert_non_null(access = tkd_pack_json(&d, -1, 2, "access.json"));
	json_array_foreach(json_object_get(access, "people"), i, e) {
		if (found == NULL && strcmp(json_string_value(
		    json_object_get(e, "name")), name) == 0)
			found = json_incref(e);
	}
	json_decref(access);
	if (found == NULL)
		fail_msg("%s is not in the access list", name);
	return found;
}

static void
governed_enrollment_waits_for_the_quorum(void **state)
{
	struct tkd_key erin;
	unsigned int roles = 0;
	char team[65], *inv;
	int st = 0;
	json_t *ans = NULL, *cred;
	int64_t id;

	(void)state;
	inv = invite("erin", "[\"approver\"]");
	assert_int_equal(register_with(inv, &erin, &ans), 202);
	id = (int64_t)json_integer_value(json_object_get(json_object_get(ans,
	    "change"), "id"));
	json_decref(ans);
	free(inv);
	assert_int_equal(person_row("erin", &roles, team, &st), -1);
	assert_true(tkd_signin(&d, "erin", &erin) != 200);
	/* No plain invitation races it for the name. */
	refused_as("adam", &adam, "POST", "/api/v1/invitations", "{\"name\":"
	    "\"Erin\",\"team\":\"dev\",\"roles\":[\"requester\"]}", 409,
	    "enrollment_pending");
	/* The approvers see the very key that will be trusted. */
	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	{
		char path[64];

		snprintf(path, sizeof(path), "/api/v1/changes/%lld",
		    (long long)id);
		assert_int_equal(call("GET", path, NULL, &ans), 200);
	}
	cred = json_object_get(json_object_get(json_object_get(ans,
	    "request"), "after"), "credential");
	assert_non_null(json_string_value(json_object_get(cred, "cose_key")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    ans, "request"), "type")), "person.enroll");
	json_decref(ans);
	own_approval_refused(id);
	approved_to("bob", &bob, id, "pending");
	assert_int_equal(person_row("erin", &roles, team, &st), -1);
	approved_to("carol", &carol, id, "applied");
	assert_int_equal(person_row("erin", &roles, team, &st), 0);
	assert_int_equal(roles, TK_ROLE_APPROVER);
	assert_int_equal(tkd_signin(&d, "erin", &erin), 200);
	/* An evidence pack dates her key from the change that trusted it. */
	cred = access_entry("erin");
	assert_non_null(json_string_value(json_object_get(json_array_get(
	    json_object_get(cred, "credentials"), 0), "enrolled")));
	json_decref(cred);
	softauthn_free(&erin.sa);
}

/* Signed in as name, registers newkey as one more key of theirs. */
static long
add_key(const char *name, struct tkd_key *key, struct tkd_key *newkey,
    const char *extra, json_t **ans)
{
	json_t *a = NULL, *req;
	const char *s;
	uint8_t *ch = NULL;
	size_t len = 0;
	char *text, *body;
	long st;

	assert_int_equal(tkd_signin(&d, name, key), 200);
	assert_int_equal(call("POST", "/api/v1/credentials/challenge", NULL,
	    &a), 200);
	s = json_string_value(json_object_get(a, "challenge"));
	assert_int_equal(tk_b64url_decode(s, strlen(s), &ch, &len), 0);
	req = json_pack("{s:O}", "challenge_id", json_object_get(a,
	    "challenge_id"));
	assert_int_equal(tkd_register(&d, newkey, ch, len, req), 0);
	text = json_dumps(req, JSON_COMPACT);
	/* extra: more members, "" or ",\"reason\":..." */
	assert_non_null(body = malloc(strlen(text) + strlen(extra) + 1));
	memcpy(body, text, strlen(text) - 1);
	memcpy(body + strlen(text) - 1, extra, strlen(extra));
	memcpy(body + strlen(text) - 1 + strlen(extra), "}", 2);
	st = call("POST", "/api/v1/credentials", body, ans);
	free(body);
	free(text);
	free(ch);
	json_decref(req);
	json_decref(a);
	return st;
}

static void
added_key_of_an_admin_waits_for_the_quorum(void **state)
{
	struct tkd_key spare;
	json_t *ans = NULL;
	int64_t id;

	(void)state;
	memset(&spare, 0, sizeof(spare));
	assert_non_null(spare.sa = softauthn_new(-7));
	spare.counter = 2;
	refused_as("adam", &adam, "POST", "/api/v1/credentials",
	    "{\"challenge_id\":\"00000000000000000000000000000000\","
	    "\"credential_id\":\"AAAA\",\"client_data\":\"AAAA\","
	    "\"attestation_object\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}", 400, "challenge_unknown");
	assert_int_equal(add_key("adam", &adam, &spare, "", &ans), 403);
	expect_code(ans, "quorum_required");
	json_decref(ans);
	softauthn_free(&spare.sa);
	assert_non_null(spare.sa = softauthn_new(-7));
	assert_int_equal(add_key("adam", &adam, &spare, ",\"reason\":"
	    "\"spare key\",\"ticket\":\"SEC-2\"", &ans), 202);
	id = (int64_t)json_integer_value(json_object_get(json_object_get(ans,
	    "change"), "id"));
	json_decref(ans);
	assert_true(tkd_signin(&d, "adam", &spare) != 200);
	own_approval_refused(id);
	approved_to("bob", &bob, id, "pending");
	assert_true(tkd_signin(&d, "adam", &spare) != 200);
	approved_to("carol", &carol, id, "applied");
	assert_int_equal(tkd_signin(&d, "adam", &spare), 200);
	softauthn_free(&spare.sa);
}

static void
admins_own_enrollees_cannot_approve_his_break_glass(
    void **state)
{
	struct tkd_key m1, m2;
	char *inv, path[96];
	json_t *ans = NULL;
	int64_t e1, e2, bg;

	(void)state;
	inv = invite("mallory1", "[\"approver\"]");
	assert_int_equal(register_with(inv, &m1, &ans), 202);
	e1 = (int64_t)json_integer_value(json_object_get(json_object_get(ans,
	    "change"), "id"));
	json_decref(ans);
	free(inv);
	inv = invite("mallory2", "[\"approver\",\"commander\"]");
	assert_int_equal(register_with(inv, &m2, &ans), 202);
	e2 = (int64_t)json_integer_value(json_object_get(json_object_get(ans,
	    "change"), "id"));
	json_decref(ans);
	free(inv);
	/* adam cannot carry his own enrollments... */
	own_approval_refused(e1);
	own_approval_refused(e2);
	/* ...nor can the pending accounts carry each other's. */
	assert_int_equal(approve_with("adam", &adam, &m1, e2, &ans), 403);
	expect_code(ans, "credential_unknown");
	json_decref(ans);
	assert_true(tkd_signin(&d, "mallory1", &m1) != 200);
	assert_true(tkd_signin(&d, "mallory2", &m2) != 200);
	/* adam's break-glass: his own tap is refused, theirs unknown. */
	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	assert_int_equal(call("POST", "/api/v1/requests", "{\"kind\":"
	    "\"break-glass\",\"incident\":\"INC-9\",\"scopes\":[\"db:admin\"],"
	    "\"ttl\":3600,\"reason\":\"nothing is down\"}", &ans), 201);
	bg = (int64_t)json_integer_value(json_object_get(ans, "id"));
	json_decref(ans);
	own_approval_refused(bg);
	assert_int_equal(approve_with("adam", &adam, &m1, bg, &ans), 403);
	expect_code(ans, "credential_unknown");
	json_decref(ans);
	assert_int_equal(approve_with("adam", &adam, &m2, bg, &ans), 403);
	expect_code(ans, "credential_unknown");
	json_decref(ans);
	snprintf(path, sizeof(path), "/api/v1/requests/%lld", (long long)bg);
	assert_int_equal(call("GET", path, NULL, &ans), 200);
	assert_string_equal(json_string_value(json_object_get(ans, "state")),
	    "pending");
	json_decref(ans);
	assert_string_equal(change_state(e1), "pending");
	assert_string_equal(change_state(e2), "pending");
	softauthn_free(&m1.sa);
	softauthn_free(&m2.sa);
}

static void
change_whose_before_moved_on_does_not_apply(void **state)
{
	unsigned int roles = 0;
	char team[65], body[256];
	int st = 0;
	json_t *ans = NULL;
	int64_t first, second;

	(void)state;
	snprintf(body, sizeof(body), "{\"type\":\"person.update\",\"reason\":"
	    "\"reorg\",\"ticket\":\"CHG-5\",\"args\":{\"person\":%lld,"
	    "\"team\":\"blue\"}}", (long long)bob.person);
	first = propose(body, NULL);
	snprintf(body, sizeof(body), "{\"type\":\"person.update\",\"reason\":"
	    "\"reorg again\",\"ticket\":\"CHG-6\",\"args\":{\"person\":%lld,"
	    "\"team\":\"green\"}}", (long long)bob.person);
	second = propose(body, NULL);
	approved_to("carol", &carol, first, "pending");
	approved_to("carol", &carol, second, "pending");
	approved_to("dave", &dave, second, "applied");
	/* The first was approved for "sec -> blue"; bob is green now. */
	assert_int_equal(approve("dave", &dave, first, &ans), 409);
	expect_code(ans, "change_stale");
	json_decref(ans);
	assert_string_equal(change_state(first), "stale");
	assert_int_equal(person_row("bob", &roles, team, &st), 0);
	assert_string_equal(team, "green");
	assert_int_equal(approve("bob", &bob, first, &ans), 409);
	json_decref(ans);
}

static void
safe_actions_take_effect_at_once_and_are_journaled(void **state)
{
	json_t *ans = NULL, *blocked;
	int before = journal_count("policy.block");
	int revokes = journal_count("credential.revoke");
	char body[512], id[400];

	(void)state;
	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	assert_int_equal(call("POST", "/api/v1/policy/blocked",
	    "{\"connector\":\"*\",\"scope\":\"db:drop\"}", &ans), 200);
	json_decref(ans);
	assert_int_equal(journal_count("policy.block"), before + 1);
	blocked = approved("blocked");
	assert_non_null(json_object_get(blocked, "*"));
	json_decref(blocked);
	assert_int_equal(tkd_signin(&d, "rita", &rita), 200);
	assert_int_equal(call("POST", "/api/v1/requests", "{\"kind\":"
	    "\"elevation\",\"service_account\":\"svc\",\"connector\":\"pg\","
	    "\"scopes\":[\"db:drop\"],\"duration\":600,\"reason\":\"r\"}",
	    &ans), 403);
	expect_code(ans, "blocked_scope");
	json_decref(ans);
	/* A revoked key signs in no more. */
	assert_int_equal(tkd_signin(&d, "dave", &dave), 200);
	snprintf(body, sizeof(body), "{\"credential_id\":\"%s\"}",
	    first_credential(dave.person, id, sizeof(id)));
	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	assert_int_equal(call("POST", "/api/v1/credentials/revoke", body,
	    &ans), 200);
	json_decref(ans);
	assert_int_equal(journal_count("credential.revoke"), revokes + 1);
	assert_true(tkd_signin(&d, "dave", &dave) != 200);
	refused_as("adam", &adam, "POST", "/api/v1/credentials/revoke", body,
	    403, "credential_revoked");
}

/* adam's new-key invitation for person with body; the status, *ans. */
static long
new_key_invitation(int64_t person, const char *body, json_t **ans)
{
	char path[96];

	snprintf(path, sizeof(path), "/api/v1/people/%lld/invitation",
	    (long long)person);
	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	return call("POST", path, body, ans);
}

/* A new-key invitation accepted; the code, for the caller to free. */
static char *
new_key_code(int64_t person, const char *body)
{
	json_t *ans = NULL;
	char *code;

	if (new_key_invitation(person, body, &ans) != 201)
		fail_msg("new-key invitation refused: %s", json_dumps(ans, 0));
	assert_non_null(code = strdup(json_string_value(json_object_get(ans,
	    "invitation"))));
	json_decref(ans);
	d.cookie[0] = d.csrf[0] = '\0';
	return code;
}

/* Every refusal of a new-key invitation leaves no invitation behind. */
static void
bad_new_key_invitations_are_refused(void **state)
{
	char path[96];
	json_t *ans = NULL;
	int made = journal_count("invitation.create");
	static const struct {
		const char *body;
		long status;
		const char *code;
	} bad[] = {
		{ "{}", 403, "quorum_required" },
		{ "{\"reason\":\"lost key\"}", 403, "quorum_required" },
		{ "{\"reason\":\"lost key\",\"ticket\":\"a b\"}", 400,
		    "invalid_field" },
		{ "{\"reason\":\"lost\",\"ticket\":\"T-1\",\"name\":\"x\"}",
		    400, "invalid_field" },
		{ "{\"reason\":7,\"ticket\":\"T-1\"}", 400, "invalid_field" },
		{ "[]", 400, "malformed_json" },
		{ "{\"reason\":", 400, "malformed_json" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (new_key_invitation(dave.person, bad[i].body, &ans) !=
		    bad[i].status)
			fail_msg("%s: want %ld, got %s", bad[i].body,
			    bad[i].status, json_dumps(ans, 0));
		expect_code(ans, bad[i].code);
		json_decref(ans);
	}
	assert_int_equal(new_key_invitation(adam.person, "{\"reason\":\"r\","
	    "\"ticket\":\"T-1\"}", &ans), 403);
	expect_code(ans, "self_invitation");
	json_decref(ans);
	assert_int_equal(new_key_invitation(999999, "{}", &ans), 404);
	expect_code(ans, "not_found");
	json_decref(ans);
	snprintf(path, sizeof(path), "/api/v1/people/%lld/invitation",
	    (long long)dave.person);
	refused_as("rita", &rita, "POST", path, "{}", 403, "role_missing");
	refused_as("bob", &bob, "POST", path, "{\"reason\":\"r\","
	    "\"ticket\":\"T-1\"}", 403, "role_missing");
	assert_int_equal(journal_count("invitation.create"), made);
}

/*
 * dave's only key was revoked: he cannot sign in to register another.
 * adam's new-key invitation lets him register one, which waits for the
 * quorum of approvers other than adam and dave, as any key of an
 * approver does.
 */
static void
new_key_invitation_brings_back_a_locked_out_approver(void **state)
{
	struct tkd_key fresh;
	char *older, *code, path[64];
	json_t *ans = NULL, *after;
	int64_t id;

	(void)state;
	assert_true(tkd_signin(&d, "dave", &dave) != 200);
	older = new_key_code(dave.person, "{\"reason\":\"lost key\","
	    "\"ticket\":\"SEC-8\"}");
	code = new_key_code(dave.person, "{\"reason\":\"lost key\","
	    "\"ticket\":\"SEC-9\"}");
	/* The newer invitation voids the older, and says so. */
	enroll_challenge_refused(older, 400, "invitation_invalid",
	    "replaced by a newer one");
	assert_int_equal(register_with(code, &fresh, &ans), 202);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    ans, "change"), "type")), "credential.add");
	id = (int64_t)json_integer_value(json_object_get(json_object_get(ans,
	    "change"), "id"));
	json_decref(ans);
	enroll_challenge_refused(code, 400, "invitation_invalid",
	    "used already");
	/* The approvers see the very key, for dave, proposed by adam. */
	snprintf(path, sizeof(path), "/api/v1/changes/%lld", (long long)id);
	assert_int_equal(tkd_signin(&d, "bob", &bob), 200);
	assert_int_equal(call("GET", path, NULL, &ans), 200);
	after = json_object_get(json_object_get(ans, "request"), "after");
	assert_string_equal(json_string_value(json_object_get(after, "name")),
	    "dave");
	assert_non_null(json_string_value(json_object_get(json_object_get(
	    after, "credential"), "cose_key")));
	json_decref(ans);
	assert_true(tkd_signin(&d, "dave", &fresh) != 200);
	own_approval_refused(id);
	approved_to("bob", &bob, id, "pending");
	assert_true(tkd_signin(&d, "dave", &fresh) != 200);
	approved_to("carol", &carol, id, "applied");
	assert_int_equal(tkd_signin(&d, "dave", &fresh), 200);
	assert_true(tkd_signin(&d, "dave", &dave) != 200);
	softauthn_free(&dave.sa);
	dave = fresh;
	free(older);
	free(code);
}

/* adam invites name with ungoverned roles; name enrolls key at once. */
static void
enrolled_at_once(const char *name, const char *roles, struct tkd_key *key)
{
	json_t *ans = NULL;
	char *code = invite(name, roles);

	assert_int_equal(register_with(code, key, &ans), 201);
	key->person = (int64_t)json_integer_value(json_object_get(
	    json_object_get(ans, "person"), "id"));
	json_decref(ans);
	free(code);
}

/* A requester's new key asks no quorum: stored at once, journaled. */
static void
new_key_of_a_requester_is_stored_at_once(void **state)
{
	struct tkd_key nina, fresh;
	char body[512], id[400], *code;
	json_t *ans = NULL;
	int adds;

	(void)state;
	enrolled_at_once("nina", "[\"requester\"]", &nina);
	snprintf(body, sizeof(body), "{\"credential_id\":\"%s\"}",
	    first_credential(nina.person, id, sizeof(id)));
	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	assert_int_equal(call("POST", "/api/v1/credentials/revoke", body,
	    &ans), 200);
	json_decref(ans);
	assert_true(tkd_signin(&d, "nina", &nina) != 200);
	code = new_key_code(nina.person, "{}");
	snprintf(body, sizeof(body), "{\"invitation\":\"%s\"}", code);
	assert_int_equal(call("POST", "/api/v1/enroll/challenge", body, &ans),
	    200);
	assert_true(json_is_true(json_object_get(ans, "new_key")));
	assert_string_equal(json_string_value(json_object_get(ans, "name")),
	    "nina");
	json_decref(ans);
	adds = journal_count("credential.register");
	assert_int_equal(register_with(code, &fresh, &ans), 201);
	assert_string_equal(json_string_value(json_object_get(ans, "state")),
	    "registered");
	json_decref(ans);
	assert_int_equal(journal_count("credential.register"), adds + 1);
	assert_int_equal(tkd_signin(&d, "nina", &fresh), 200);
	assert_true(tkd_signin(&d, "nina", &nina) != 200);
	softauthn_free(&nina.sa);
	softauthn_free(&fresh.sa);
	free(code);
}

/* A suspended person gets no new key: reactivation comes first. */
static void
no_new_key_for_a_suspended_person(void **state)
{
	struct tkd_key olga;
	char path[160], *code;
	json_t *ans = NULL;
	int64_t id;
	int made;

	(void)state;
	enrolled_at_once("olga", "[\"auditor\"]", &olga);
	code = new_key_code(olga.person, "{}");
	snprintf(path, sizeof(path), "/api/v1/people/%lld/suspend",
	    (long long)olga.person);
	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	assert_int_equal(call("POST", path, NULL, &ans), 200);
	json_decref(ans);
	d.cookie[0] = d.csrf[0] = '\0';
	/* The code made before the suspension is refused before a touch. */
	enroll_challenge_refused(code, 409, "person_inactive",
	    "suspended or left after it was made");
	made = journal_count("invitation.create");
	assert_int_equal(new_key_invitation(olga.person, "{}", &ans), 409);
	expect_code(ans, "person_inactive");
	json_decref(ans);
	assert_int_equal(journal_count("invitation.create"), made);
	/* Reactivated, she gets no old code back. */
	snprintf(path, sizeof(path), "{\"type\":\"person.reactivate\","
	    "\"reason\":\"back\",\"ticket\":\"HR-3\",\"args\":"
	    "{\"person\":%lld}}", (long long)olga.person);
	id = propose(path, NULL);
	approved_to("bob", &bob, id, "pending");
	approved_to("carol", &carol, id, "applied");
	assert_int_equal(tkd_signin(&d, "olga", &olga), 200);
	d.cookie[0] = d.csrf[0] = '\0';
	enroll_challenge_refused(code, 409, "person_inactive",
	    "suspended or left after it was made");
	softauthn_free(&olga.sa);
	free(code);
}

/* The configuration file with policy (a JSON object) written in. */
static void
write_policy(const char *policy)
{
	char text[4096];

	snprintf(text, sizeof(text), "{\"listen\": \"127.0.0.1:%u\", "
	    "\"pkcs11_uri\": \"%s\", \"signer_path\": \"%s\", "
	    "\"state_dir\": \"%s/state\", \"user\": \"nobody\", "
	    "\"rate_limit_per_minute\": 1000, \"policy\": %s%s}", d.port,
	    d.uri, d.signer, d.dir, policy, tkd_test_settings());
	assert_int_equal(tkd_write_config(&d, text), 0);
}

static void
drift_is_shown(const char *key, json_int_t file_value)
{
	json_t *ans = NULL, *drift;

	assert_int_equal(tkd_signin(&d, "adam", &adam), 200);
	assert_int_equal(call("GET", "/api/v1/policy", NULL, &ans), 200);
	drift = json_object_get(ans, "drift");
	assert_true(json_is_true(json_object_get(drift, "active")));
	assert_true(json_integer_value(json_object_get(drift, "since")) > 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    drift, "after"), key)), file_value);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    ans, "file"), key)), file_value);
	json_decref(ans);
	assert_int_equal(tkd_metric(&d, "twokey_policy_drift"), 1);
	assert_true(tkd_metric(&d, "twokey_policy_drift_since_seconds") > 0);
}

static void
policy_edited_in_the_file_is_reported_and_not_applied(void **state)
{
	int drifts = journal_count("policy.drift");

	(void)state;
	/* Weaker: a year-long elevation, overdue reviews no longer block. */
	write_policy("{\"elevation_max_duration\": 31536000, "
	    "\"overdue_review_blocks\": false}");
	kill(d.pid, SIGHUP);
	assert_true(tkd_log_has(&d, "differs from the approved policy "
	    "(reload)", 5000));
	assert_true(journal_count("policy.drift") > drifts);
	drift_is_shown("elevation_max_duration", 31536000);
	assert_int_equal(approved_int("elevation_max_duration"), 28800);
	/* A restart with another edit: reported again, still not applied. */
	assert_int_equal(tkd_stop(&d, SIGTERM), 0);
	drifts = journal_count("policy.drift");
	write_policy("{\"elevation_max_duration\": 30000000}");
	assert_int_equal(tkd_start(&d), 0);
	assert_true(tkd_log_has(&d, "differs from the approved policy "
	    "(start)", 5000));
	assert_int_equal(journal_count("policy.drift"), drifts + 1);
	drift_is_shown("elevation_max_duration", 30000000);
	assert_int_equal(approved_int("elevation_max_duration"), 28800);
	assert_int_equal(tkd_signin(&d, "rita", &rita), 200);
}

/* bob, an admin again, is suspended while the daemon is down. */
static void
what_an_admin_handed_out_lapses_across_a_restart(void **state)
{
	json_t *ans = NULL;
	char code[64], body[256], path[64];
	int lapsed = journal_count("authority.lapsed");

	(void)state;
	bob_gets_roles("[\"approver\",\"admin\"]");
	assert_int_equal(tkd_signin(&d, "bob", &bob), 200);
	assert_int_equal(call("POST", "/api/v1/invitations", "{\"name\":"
	    "\"quinn\",\"team\":\"x\",\"roles\":[\"auditor\"]}", &ans),
	    201);
	snprintf(code, sizeof(code), "%s", json_string_value(
	    json_object_get(ans, "invitation")));
	json_decref(ans);
	snprintf(body, sizeof(body), "{\"type\":\"person.update\","
	    "\"reason\":\"reorg\",\"ticket\":\"CHG-9\",\"args\":"
	    "{\"person\":%lld,\"team\":\"blue\"}}",
	    (long long)carol.person);
	assert_int_equal(call("POST", "/api/v1/changes", body, &ans), 201);
	snprintf(path, sizeof(path), "/api/v1/changes/%lld", (long long)
	    json_integer_value(json_object_get(ans, "id")));
	json_decref(ans);
	assert_int_equal(tkd_stop(&d, SIGTERM), 0);
	assert_int_equal(tkd_person_state(&d, bob.person,
	    TK_PERSON_SUSPENDED), 0);
	assert_int_equal(tkd_start(&d), 0);
	assert_int_equal(journal_count("authority.lapsed"), lapsed + 1);
	d.cookie[0] = d.csrf[0] = '\0';
	enroll_challenge_refused(code, 403, "invitation_void",
	    "no longer an active admin");
	/* His pending change stays for the approvers, who see that. */
	assert_int_equal(tkd_signin(&d, "carol", &carol), 200);
	assert_int_equal(call("GET", path, NULL, &ans), 200);
	assert_string_equal(json_string_value(json_object_get(ans,
	    "requester_state")), "suspended");
	json_decref(ans);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bad_proposals_are_refused_and_change_nothing),
		cmocka_unit_test(
		    policy_change_waits_for_the_quorum_which_binds_itself),
		cmocka_unit_test(role_and_team_changes_wait_for_the_quorum),
		cmocka_unit_test(a_role_taken_away_ends_its_powers_at_once),
		cmocka_unit_test(person_a_change_is_about_cannot_approve_it),
		cmocka_unit_test(
		    reactivation_waits_for_the_quorum_suspension_does_not),
		cmocka_unit_test(governed_enrollment_waits_for_the_quorum),
		cmocka_unit_test(added_key_of_an_admin_waits_for_the_quorum),
		cmocka_unit_test(
		    admins_own_enrollees_cannot_approve_his_break_glass),
		cmocka_unit_test(change_whose_before_moved_on_does_not_apply),
		cmocka_unit_test(
		    safe_actions_take_effect_at_once_and_are_journaled),
		cmocka_unit_test(bad_new_key_invitations_are_refused),
		cmocka_unit_test(
		    new_key_invitation_brings_back_a_locked_out_approver),
		cmocka_unit_test(new_key_of_a_requester_is_stored_at_once),
		cmocka_unit_test(no_new_key_for_a_suspended_person),
		cmocka_unit_test(
		    policy_edited_in_the_file_is_reported_and_not_applied),
		cmocka_unit_test(
		    what_an_admin_handed_out_lapses_across_a_restart),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
