/*
 * Specifications of the service-account inventory over HTTPS, on the
 * real twokeyd with verified TLS: imports refused whole with every
 * problem, round trips in both formats, events only with the right
 * API key scope, and the leavers' accounts.
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
static struct tkd_key adam, alice, lena;

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
	softauthn_free(&lena.sa);
	return r == 0 ? 0 : -1;
}

static void
signin(const char *name, struct tkd_key *k)
{
	assert_int_equal(tkd_signin(&d, name, k), 200);
}

/* Sends a document; returns the status and the parsed answer. */
static long
send_doc(const char *ctype, const char *doc, json_t **ans)
{
	struct tkd_resp r;
	long st;

	assert_int_equal(tkd_request(&d, "POST", "/api/v1/inventory/import",
	    ctype, doc, strlen(doc), NULL, &r), 0);
	st = r.status;
	*ans = json_loads(r.body, 0, NULL);
	assert_non_null(*ans);
	tkd_resp_clear(&r);
	return st;
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
	json_t *ans;

	signin("adam", &adam);
	assert_int_equal(send_doc(CSV, GOOD, &ans), 200);
	json_decref(ans);
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
	json_t *ans, *p;

	(void)state;
	load_good();
	assert_int_equal(tkd_call(&d, "GET", "/api/v1/inventory/reassign",
	    NULL, NULL, &ans), 200);
	assert_int_equal(json_array_size(json_object_get(ans, "people")), 0);
	json_decref(ans);
	assert_int_equal(tkd_stop(&d, SIGTERM), 0);
	assert_int_equal(tkd_person_state(&d, lena.person, TK_PERSON_LEFT),
	    0);
	assert_int_equal(tkd_start(&d), 0);
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
