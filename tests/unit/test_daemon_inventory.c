/*
 * Specifications of the service-account inventory over HTTPS, on the
 * real twokeyd with verified TLS: imports refused whole with every
 * problem, bindings and credential moves only through the quorum, round
 * trips in both formats, events only with the right API key scope, and
 * the leavers' accounts.
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
#include "../lib/daemon_fixture.h"
#include "../lib/softauthn.h"

#define JSON "application/json"
#define CSV "text/csv"

static struct tkd d;
static struct tkd_key adam, alice, bob, lena;

#define HEADER "id,owner,purpose,systems,classification,connector," \
	"scenario,scopes,credential_ref,credential_kind,production," \
	"rotation_days,last_rotation,last_use\r\n"
#define ROW(id, owner, scopes, ref) id "," owner ",nightly sync,erp," \
	"internal,salesforce,make:1," scopes "," ref ",service,true,90,,\r\n"
#define GOOD HEADER ROW("sa-sync", "adam", "read:accounts", \
	"vault:kv/sync") ROW("sa-ledger", "lena", "read:accounts " \
	"delete:all", "\"pkcs11:token=ci;object=ledger\"")

static int
setup(void **state)
{
	(void)state;
	if (tkd_init(&d, "inventory", ",\n\"rate_limit_per_minute\": 1000,\n"
	    "\"policy\": {\"templates\": {\"salesforce\": "
	    "[\"read:accounts\"]}}") != 0 ||
	    tkd_enroll(&d, "adam", "it", TK_ROLE_ADMIN, &adam) != 0 ||
	    tkd_enroll(&d, "alice", "ops", TK_ROLE_APPROVER, &alice) != 0 ||
	    tkd_enroll(&d, "bob", "sec", TK_ROLE_APPROVER, &bob) != 0 ||
	    tkd_enroll(&d, "lena", "ops", TK_ROLE_REQUESTER, &lena) != 0)
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
	softauthn_free(&bob.sa);
	softauthn_free(&lena.sa);
	return r == 0 ? 0 : -1;
}

static void
signin(const char *name, struct tkd_key *k)
{
	assert_int_equal(tkd_signin(&d, name, k), 200);
}

#define IMPORT "/api/v1/inventory/import"
/* Why, for an import that needs the quorum. */
#define WHY "?reason=new%20sync%20jobs&ticket=CHG-12"

/* Sends a document to path; returns the status and the parsed answer. */
static long
send_to(const char *path, const char *ctype, const char *doc,
    json_t **ans)
{
	struct tkd_resp r;
	long st;

	assert_int_equal(tkd_request(&d, "POST", path, ctype, doc,
	    strlen(doc), NULL, &r), 0);
	st = r.status;
	*ans = json_loads(r.body, 0, NULL);
	assert_non_null(*ans);
	tkd_resp_clear(&r);
	return st;
}

static long
send_doc(const char *ctype, const char *doc, json_t **ans)
{
	return send_to(IMPORT, ctype, doc, ans);
}

static int64_t
change_id(json_t *ans)
{
	return (int64_t)json_integer_value(json_object_get(json_object_get(
	    ans, "change"), "id"));
}

/* name approves change id, which is then in state want. */
static void
approved_to(const char *name, struct tkd_key *key, int64_t id,
    const char *want)
{
	json_t *ans = NULL;

	if (tkd_approve(&d, name, key, id, &ans) != 200)
		fail_msg("%s approving %lld: %s", name, (long long)id,
		    json_dumps(ans, 0));
	assert_string_equal(json_string_value(json_object_get(ans, "state")),
	    want);
	json_decref(ans);
}

/*
 * adam imports doc: applied at once, or proposed with a reason and a
 * ticket and approved by alice and bob. adam is signed in afterwards.
 */
static void
import_through_quorum(const char *ctype, const char *doc)
{
	json_t *ans;
	int64_t id;
	long st;

	signin("adam", &adam);
	st = send_to(IMPORT WHY, ctype, doc, &ans);
	if (st != 200 && st != 202)
		fail_msg("import: %ld %s", st, json_dumps(ans, 0));
	id = change_id(ans);
	json_decref(ans);
	if (st == 202) {
		approved_to("alice", &alice, id, "pending");
		approved_to("bob", &bob, id, "applied");
	}
	signin("adam", &adam);
}

/* GET path; the body, for the caller to free. */
static char *
get_text(const char *path, const char *header, long want)
{
	struct tkd_resp r;
	char *s;

	assert_int_equal(tkd_request(&d, "GET", path, NULL, NULL, 0, header,
	    &r), 0);
	assert_int_equal(r.status, want);
	s = r.body;
	r.body = NULL;
	tkd_resp_clear(&r);
	return s;
}

static void
expect_code(json_t *ans, const char *code)
{
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(ans, "error"), "code")), code);
}

static int
problem_at(json_t *ans, long row, const char *field)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(ans, "problems"), i, v)
		if (json_integer_value(json_object_get(v, "row")) == row &&
		    strcmp(json_string_value(json_object_get(v, "field")),
		    field) == 0)
			return 1;
	return 0;
}

static void
load_good(void)
{
	import_through_quorum(CSV, GOOD);
}

static size_t
change_count(void)
{
	json_t *ans = NULL;
	size_t n;

	assert_int_equal(tkd_call(&d, "GET", "/api/v1/changes", NULL, NULL,
	    &ans), 200);
	n = json_array_size(json_object_get(ans, "changes"));
	json_decref(ans);
	return n;
}

/* GOOD with sa-sync's credential somewhere else. */
#define MOVED HEADER ROW("sa-sync", "adam", "read:accounts", \
	"vault:kv/sync-v2") ROW("sa-ledger", "lena", "read:accounts " \
	"delete:all", "\"pkcs11:token=ci;object=ledger\"")

static void
one_admin_cannot_move_a_credential_the_quorum_can(void **state)
{
	char *before, *after, *s;
	json_t *ans, *diff;
	int64_t id;

	(void)state;
	load_good();
	before = get_text("/api/v1/inventory/export", NULL, 200);
	/* Alone: refused, with what it would change. */
	assert_int_equal(send_doc(CSV, MOVED, &ans), 403);
	expect_code(ans, "quorum_required");
	s = json_dumps(json_object_get(json_object_get(ans, "diff"),
	    "governed"), JSON_COMPACT);
	assert_string_equal(s, "[\"credential_ref\"]");
	free(s);
	json_decref(ans);
	/* With a reason and a ticket: a change for the approvers. */
	assert_int_equal(send_to(IMPORT WHY, CSV, MOVED, &ans), 202);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    ans, "change"), "type")), "inventory.import");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    ans, "change"), "state")), "pending");
	diff = json_object_get(ans, "diff");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(diff, "changed"), 0), "id")), "sa-sync");
	id = change_id(ans);
	json_decref(ans);
	after = get_text("/api/v1/inventory/export", NULL, 200);
	assert_string_equal(before, after);
	free(after);
	/* adam's own approval does not count; one approver is not two. */
	assert_int_equal(tkd_approve(&d, "adam", &adam, id, &ans), 403);
	expect_code(ans, "self_approval");
	json_decref(ans);
	approved_to("alice", &alice, id, "pending");
	signin("adam", &adam);
	after = get_text("/api/v1/inventory/export", NULL, 200);
	assert_string_equal(before, after);
	free(after);
	approved_to("bob", &bob, id, "applied");
	signin("adam", &adam);
	after = get_text("/api/v1/inventory/export", NULL, 200);
	assert_non_null(strstr(after, "vault:kv/sync-v2"));
	free(after);
	free(before);
}

static void
other_edits_apply_at_once(void **state)
{
	json_t *ans;
	char *s;

	(void)state;
	load_good();
	assert_int_equal(send_doc(CSV, HEADER ROW("sa-sync", "adam",
	    "read:accounts write:invoices", "vault:kv/sync"), &ans), 200);
	s = json_dumps(json_object_get(json_object_get(ans, "diff"),
	    "removed"), JSON_COMPACT);
	assert_non_null(strstr(s, "sa-ledger"));
	free(s);
	assert_int_equal(json_array_size(json_object_get(json_object_get(ans,
	    "diff"), "governed")), 0);
	json_decref(ans);
}

static void
a_bad_reason_or_ticket_is_refused_and_changes_nothing(void **state)
{
	size_t n;
	json_t *ans;
	char *before, *after;

	(void)state;
	load_good();
	n = change_count();
	before = get_text("/api/v1/inventory/export", NULL, 200);
	assert_int_equal(send_to(IMPORT "?reason=why", CSV, MOVED, &ans),
	    400);
	expect_code(ans, "inventory_invalid");
	assert_true(problem_at(ans, 0, "ticket"));
	json_decref(ans);
	assert_int_equal(send_to(IMPORT "?reason=why&ticket=a%20b", CSV,
	    MOVED, &ans), 400);
	assert_true(problem_at(ans, 0, "ticket"));
	json_decref(ans);
	assert_int_equal(change_count(), n);
	after = get_text("/api/v1/inventory/export", NULL, 200);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

/* A POST /api/v1/changes body proposing doc (a JSON document). */
static char *
proposal(json_t *doc)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:O}", "type",
	    "inventory.import", "reason", "scenario move", "ticket",
	    "CHG-13", "args", doc);
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	return s;
}

static void
the_changes_route_takes_a_json_document(void **state)
{
	char *js, *body;
	json_t *doc, *ans, *req;
	size_t n;

	(void)state;
	load_good();
	n = change_count();
	js = get_text("/api/v1/inventory/export", NULL, 200);
	assert_non_null(doc = json_loads(js, 0, NULL));
	free(js);
	json_object_set_new(json_array_get(json_object_get(doc, "accounts"),
	    0), "scenario", json_string("make:2"));
	body = proposal(doc);
	assert_int_equal(tkd_call(&d, "POST", "/api/v1/changes", body, NULL,
	    &ans), 201);
	free(body);
	req = json_object_get(ans, "request");
	assert_string_equal(json_string_value(json_object_get(req, "type")),
	    "inventory.import");
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    json_object_get(req, "after"), "governed"), 0)), "scenario");
	json_decref(ans);
	/* A bad document: every problem listed, nothing proposed. */
	json_object_set_new(json_array_get(json_object_get(doc, "accounts"),
	    1), "owner", json_string("mallory"));
	json_object_set_new(json_array_get(json_object_get(doc, "accounts"),
	    1), "colour", json_string("red"));
	body = proposal(doc);
	assert_int_equal(tkd_call(&d, "POST", "/api/v1/changes", body, NULL,
	    &ans), 400);
	free(body);
	expect_code(ans, "inventory_invalid");
	assert_true(problem_at(ans, 2, "owner"));
	assert_true(problem_at(ans, 2, "colour"));
	json_decref(ans);
	json_decref(doc);
	assert_non_null(doc = json_pack("{s:i,s:s}", "v", 1, "accounts",
	    "all"));
	body = proposal(doc);
	assert_int_equal(tkd_call(&d, "POST", "/api/v1/changes", body, NULL,
	    &ans), 400);
	free(body);
	assert_true(json_array_size(json_object_get(ans, "problems")) > 0);
	json_decref(ans);
	json_decref(doc);
	assert_int_equal(change_count(), n + 1);
}

static void
a_change_whose_account_moved_on_goes_stale(void **state)
{
	json_t *ans;
	int64_t id;
	char *s;

	(void)state;
	load_good();
	assert_int_equal(send_to(IMPORT WHY, CSV, MOVED, &ans), 202);
	id = change_id(ans);
	json_decref(ans);
	/* Meanwhile sa-sync's scopes change directly. */
	assert_int_equal(send_doc(CSV, HEADER ROW("sa-sync", "adam",
	    "read:accounts write:invoices", "vault:kv/sync") ROW("sa-ledger",
	    "lena", "read:accounts delete:all",
	    "\"pkcs11:token=ci;object=ledger\""), &ans), 200);
	json_decref(ans);
	assert_int_equal(tkd_approve(&d, "alice", &alice, id, &ans), 409);
	expect_code(ans, "change_stale");
	json_decref(ans);
	signin("adam", &adam);
	s = get_text("/api/v1/inventory/export", NULL, 200);
	assert_null(strstr(s, "sync-v2"));
	free(s);
}

static void
bad_import_is_refused_whole_with_every_problem(void **state)
{
	char *before, *after, *dump;
	json_t *ans;

	(void)state;
	load_good();
	before = get_text("/api/v1/inventory/export", NULL, 200);
	assert_int_equal(send_doc(CSV, HEADER
	    ROW("sa-sync", "adam", "read:accounts", "vault:kv/sync")
	    ROW("sa-sync", "mallory", "read:accounts", "vault:kv/x")
	    ROW("sa-pin", "adam", "x", "pkcs11:token=a?pin-value=1234")
	    "sa-q,adam,bad\"quote,erp,internal,salesforce,,,vault:kv/q,"
	    "service,true,90,,\r\n", &ans), 400);
	expect_code(ans, "inventory_invalid");
	assert_true(problem_at(ans, 3, "id"));
	assert_true(problem_at(ans, 3, "owner"));
	assert_true(problem_at(ans, 4, "credential_ref"));
	assert_true(problem_at(ans, 5, ""));
	assert_int_equal(json_array_size(json_object_get(ans, "problems")),
	    4);
	/* The refused value is never echoed. */
	assert_non_null(dump = json_dumps(ans, 0));
	assert_null(strstr(dump, "1234"));
	free(dump);
	json_decref(ans);
	assert_int_equal(send_doc(JSON, "{\"v\":1,\"accounts\":[{\"id\":7}],"
	    "\"extra\":true}", &ans), 400);
	assert_true(problem_at(ans, 0, "extra"));
	assert_true(problem_at(ans, 1, "id"));
	assert_true(problem_at(ans, 1, "owner"));
	json_decref(ans);
	after = get_text("/api/v1/inventory/export", NULL, 200);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void
exports_in_both_formats_import_back_without_change(void **state)
{
	char *csv, *js;
	json_t *ans;

	(void)state;
	load_good();
	csv = get_text("/api/v1/inventory/export.csv", NULL, 200);
	assert_non_null(strstr(csv, ",pkcs11:token=ci;object=ledger,"));
	assert_int_equal(send_doc(CSV, csv, &ans), 200);
	assert_int_equal(json_array_size(json_object_get(json_object_get(ans,
	    "diff"), "changed")), 0);
	assert_int_equal(json_array_size(json_object_get(json_object_get(ans,
	    "diff"), "added")), 0);
	json_decref(ans);
	js = get_text("/api/v1/inventory/export", NULL, 200);
	assert_int_equal(send_doc(JSON, js, &ans), 200);
	assert_int_equal(json_array_size(json_object_get(json_object_get(ans,
	    "diff"), "removed")), 0);
	json_decref(ans);
	free(csv);
	free(js);
}

static void
accounts_are_shown_with_their_flags(void **state)
{
	json_t *ans, *a;

	(void)state;
	load_good();
	assert_int_equal(tkd_call(&d, "GET",
	    "/api/v1/inventory/accounts/sa-ledger", NULL, NULL, &ans), 200);
	a = json_object_get(ans, "flags");
	assert_string_equal(json_string_value(json_array_get(a, 0)),
	    "rotation_overdue");
	assert_string_equal(json_string_value(json_array_get(a, 1)),
	    "scope_beyond_template");
	json_decref(ans);
	assert_int_equal(tkd_call(&d, "GET",
	    "/api/v1/inventory/accounts/sa-none", NULL, NULL, &ans), 404);
	json_decref(ans);
}

static void
only_admins_import_and_only_readers_read(void **state)
{
	json_t *ans;

	(void)state;
	signin("alice", &alice);
	assert_int_equal(send_doc(CSV, GOOD, &ans), 403);
	expect_code(ans, "role_missing");
	json_decref(ans);
	assert_int_equal(tkd_call(&d, "GET", "/api/v1/inventory/accounts",
	    NULL, NULL, &ans), 403);
	json_decref(ans);
	signin("adam", &adam);
	assert_int_equal(send_doc("text/plain", GOOD, &ans), 415);
	json_decref(ans);
}

/* An API key with these scopes, as an Authorization header line. */
static void
key_with(const char *scopes, char *hdr, size_t len)
{
	char body[128];
	json_t *ans;

	signin("adam", &adam);
	snprintf(body, sizeof(body), "{\"name\":\"bot\",\"scopes\":%s}",
	    scopes);
	assert_int_equal(tkd_call(&d, "POST", "/api/v1/api-keys", body, NULL,
	    &ans), 201);
	snprintf(hdr, len, "Authorization: Bearer %s", json_string_value(
	    json_object_get(ans, "key")));
	json_decref(ans);
}

static void
events_need_a_key_with_the_inventory_scope(void **state)
{
	char wrong[256], right[256];
	json_t *ans;
	const char *ev = "{\"account\":\"sa-sync\",\"event\":\"rotated\","
	    "\"at\":\"2026-01-02T03:04:05Z\"}";

	(void)state;
	load_good();
	key_with("[\"requests:read\",\"journal:read\"]", wrong,
	    sizeof(wrong));
	key_with("[\"inventory:events\"]", right, sizeof(right));
	d.cookie[0] = d.csrf[0] = '\0';
	assert_int_equal(tkd_call(&d, "POST", "/api/v1/inventory/events", ev,
	    wrong, &ans), 403);
	expect_code(ans, "scope_missing");
	json_decref(ans);
	assert_int_equal(tkd_call(&d, "POST", "/api/v1/inventory/events", ev,
	    right, &ans), 200);
	json_decref(ans);
	assert_int_equal(tkd_call(&d, "POST", "/api/v1/inventory/events",
	    "{\"account\":\"sa-none\",\"event\":\"used\"}", right, &ans), 404);
	json_decref(ans);
	assert_int_equal(tkd_call(&d, "POST", "/api/v1/inventory/events",
	    "{\"account\":\"sa-sync\",\"event\":\"deleted\"}", right, &ans),
	    400);
	json_decref(ans);
	/* The key reads nothing else. */
	assert_int_equal(tkd_call(&d, "GET", "/api/v1/inventory/accounts",
	    NULL, right, &ans), 403);
	json_decref(ans);
	signin("adam", &adam);
	assert_int_equal(tkd_call(&d, "GET",
	    "/api/v1/inventory/accounts/sa-sync", NULL, NULL, &ans), 200);
	assert_string_equal(json_string_value(json_object_get(ans,
	    "last_rotation")), "2026-01-02T03:04:05Z");
	json_decref(ans);
}

static void
a_leavers_accounts_are_listed_for_reassignment(void **state)
{
	char path[64];
	json_t *ans, *p;

	(void)state;
	load_good();
	assert_int_equal(tkd_call(&d, "GET", "/api/v1/inventory/reassign",
	    NULL, NULL, &ans), 200);
	assert_int_equal(json_array_size(json_object_get(ans, "people")), 0);
	json_decref(ans);
	/* Only an admin records a leaver; the last admin cannot leave. */
	snprintf(path, sizeof(path), "/api/v1/people/%lld/leave",
	    (long long)lena.person);
	signin("alice", &alice);
	assert_int_equal(tkd_call(&d, "POST", path, NULL, NULL, &ans), 403);
	json_decref(ans);
	signin("adam", &adam);
	snprintf(path, sizeof(path), "/api/v1/people/%lld/leave",
	    (long long)adam.person);
	assert_int_equal(tkd_call(&d, "POST", path, NULL, NULL, &ans), 409);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    ans, "error"), "code")), "last_admin");
	json_decref(ans);
	assert_int_equal(tkd_call(&d, "POST", "/api/v1/people/99999/leave",
	    NULL, NULL, &ans), 404);
	json_decref(ans);
	snprintf(path, sizeof(path), "/api/v1/people/%lld/leave",
	    (long long)lena.person);
	assert_int_equal(tkd_call(&d, "POST", path, NULL, NULL, &ans), 200);
	assert_string_equal(json_string_value(json_object_get(ans, "state")),
	    "left");
	/* The answer names what she owns, now without an owner. */
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    ans, "accounts_to_reassign"), 0)), "sa-ledger");
	json_decref(ans);
	/* Gone stays gone: neither suspended nor left a second time. */
	assert_int_equal(tkd_call(&d, "POST", path, NULL, NULL, &ans), 409);
	json_decref(ans);
	snprintf(path, sizeof(path), "/api/v1/people/%lld/suspend",
	    (long long)lena.person);
	assert_int_equal(tkd_call(&d, "POST", path, NULL, NULL, &ans), 409);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    ans, "error"), "code")), "no_change");
	json_decref(ans);
	assert_true(tkd_signin(&d, "lena", &lena) != 200);
	signin("adam", &adam);
	assert_int_equal(tkd_call(&d, "GET", "/api/v1/inventory/reassign",
	    NULL, NULL, &ans), 200);
	p = json_array_get(json_object_get(ans, "people"), 0);
	assert_string_equal(json_string_value(json_object_get(p, "name")),
	    "lena");
	assert_string_equal(json_string_value(json_object_get(p, "state")),
	    "left");
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    p, "accounts"), 0)), "sa-ledger");
	json_decref(ans);
	/* Importing her accounts unchanged is refused until reassigned. */
	assert_int_equal(send_doc(CSV, GOOD, &ans), 400);
	assert_true(problem_at(ans, 3, "owner"));
	json_decref(ans);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    bad_import_is_refused_whole_with_every_problem),
		cmocka_unit_test(
		    one_admin_cannot_move_a_credential_the_quorum_can),
		cmocka_unit_test(other_edits_apply_at_once),
		cmocka_unit_test(
		    a_bad_reason_or_ticket_is_refused_and_changes_nothing),
		cmocka_unit_test(the_changes_route_takes_a_json_document),
		cmocka_unit_test(a_change_whose_account_moved_on_goes_stale),
		cmocka_unit_test(
		    exports_in_both_formats_import_back_without_change),
		cmocka_unit_test(accounts_are_shown_with_their_flags),
		cmocka_unit_test(only_admins_import_and_only_readers_read),
		cmocka_unit_test(events_need_a_key_with_the_inventory_scope),
		cmocka_unit_test(
		    a_leavers_accounts_are_listed_for_reassignment),
	};
	int rc;

	rc = cmocka_run_group_tests(tests, setup, teardown);
	tkd_cleanup();
	return rc;
}
