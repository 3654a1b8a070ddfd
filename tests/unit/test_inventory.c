/*
 * Specifications of the service-account inventory: documents refused as
 * a whole with every problem named, imports applied all or nothing and
 * journaled with their diff, round trips, flags, events, leavers. Real
 * SQLite store, real journal on a real SoftHSM2 token.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "twokey/approvals.h"
#include "twokey/inventory.h"
#include "twokey/journal.h"
#include "approvals_env.h"

#define POLICY "{\"templates\":{\"salesforce\":[\"read:accounts\"," \
	"\"write:invoices\"]},\"blocked\":{\"*\":[\"admin:all\"]}}"

/* A good account with these scopes and credential reference. */
#define ACCTS(id, owner, scopes, ref, extra) "{\"id\":\"" id \
	"\",\"owner\":\"" owner "\",\"purpose\":\"invoices to the ledger\"," \
	"\"systems\":[\"erp\",\"salesforce\"],\"classification\":" \
	"\"confidential\",\"connector\":\"salesforce\",\"scopes\":" scopes \
	",\"credential_ref\":\"" ref "\",\"credential_kind\":\"service\"," \
	"\"production\":true,\"rotation_days\":90" extra "}"
#define ACCT(id, owner, extra) ACCTS(id, owner, "[\"read:accounts\"]", \
	"vault:kv/automation/billing", extra)
#define DOC(...) "{\"v\":1,\"accounts\":[" __VA_ARGS__ "]}"

#define CSV_HEADER "id,owner,purpose,systems,classification,connector," \
	"scenario,scopes,credential_ref,credential_kind,production," \
	"rotation_days,last_rotation,last_use\r\n"

/* The test policy, swapped into the one the service holds. */
static int
setup(void **state)
{
	struct tk_policy *p = NULL, tmp;
	struct env *e;

	if (apr_setup(state) != 0)
		return -1;
	e = *state;
	assert_int_equal(tk_policy_from_json(POLICY, strlen(POLICY), &p), 0);
	tmp = *e->policy;
	*e->policy = *p;
	*p = tmp;
	tk_policy_free(&p);
	return 0;
}

static int
import(struct env *e, const char *doc, enum tk_inv_format fmt,
    json_t **diff, json_t **problems)
{
	json_t *pr = json_array();
	int rc;

	rc = tk_inventory_import(e->ap, "adam", doc, strlen(doc), fmt, diff,
	    pr);
	if (problems != NULL)
		*problems = pr;
	else
		json_decref(pr);
	return rc;
}

/* Whether problems holds one for row and field whose message has text. */
static int
has_problem(const json_t *problems, size_t row, const char *field,
    const char *text)
{
	json_t *v;
	size_t i;

	json_array_foreach(problems, i, v)
		if ((size_t)json_integer_value(json_object_get(v, "row")) ==
		    row && strcmp(json_string_value(json_object_get(v,
		    "field")), field) == 0 && strstr(json_string_value(
		    json_object_get(v, "message")), text) != NULL)
			return 1;
	return 0;
}

static void
expect_problem(const json_t *problems, size_t row, const char *field,
    const char *text)
{
	char *s;

	if (has_problem(problems, row, field, text))
		return;
	s = json_dumps(problems, JSON_COMPACT);
	fail_msg("no problem at row %zu field %s (%s) in %s", row, field,
	    text, s);
	free(s);
}

/* The leaf of the journal entry `back` places before the newest. */
static char *
entry(struct env *e, uint64_t back)
{
	uint64_t size = 0;
	uint8_t *leaf = NULL;
	size_t len = 0;
	char *s;

	assert_int_equal(tk_journal_size(e->journal, &size), 0);
	assert_true(size > back);
	assert_int_equal(tk_journal_entry_get(e->journal, size - 1 - back,
	    &leaf, &len), 0);
	assert_non_null(s = calloc(1, len + 1));
	memcpy(s, leaf, len);
	free(leaf);
	return s;
}

static uint64_t
journal_size(struct env *e)
{
	uint64_t n = 0;

	assert_int_equal(tk_journal_size(e->journal, &n), 0);
	return n;
}

static void
add_two(struct env *e)
{
	assert_int_equal(import(e, DOC(ACCT("sa-billing", "alice", "") ","
	    ACCT("sa-crm", "bob", ",\"scenario\":\"make:4711\"")),
	    TK_INV_JSON, NULL, NULL), 0);
}

/* ---- bad input: refused as a whole, every problem named ---------- */

static void
bad_json_import_is_refused_whole_with_every_problem(void **state)
{
	struct env *e = *state;
	json_t *pr;
	uint64_t before;
	char *s;

	add_two(e);
	before = journal_size(e);
	assert_int_equal(import(e, DOC(
	    ACCT("sa-ok", "alice", "") ","
	    "{\"id\":\"sa-types\",\"owner\":\"alice\",\"purpose\":\"x\","
	    "\"systems\":\"erp\",\"classification\":\"secret\","
	    "\"connector\":\"salesforce\",\"scopes\":[],"
	    "\"credential_ref\":\"vault:kv/a\",\"credential_kind\":\"service\","
	    "\"production\":\"yes\",\"rotation_days\":\"90\",\"colour\":1},"
	    ACCT("sa-nobody", "mallory", "") ","
	    ACCT("sa-ok", "bob", "")), TK_INV_JSON, NULL, &pr),
	    TK_INV_ERR_INVALID);
	expect_problem(pr, 2, "systems", "list");
	expect_problem(pr, 2, "classification", "one of");
	expect_problem(pr, 2, "production", "true or false");
	expect_problem(pr, 2, "rotation_days", "whole number");
	expect_problem(pr, 2, "colour", "unknown field");
	expect_problem(pr, 3, "owner", "no such person");
	expect_problem(pr, 4, "id", "duplicate id \"sa-ok\", first at row 1");
	assert_int_equal(json_array_size(pr), 7);
	/* Nothing changed; the refusal is journaled, once. */
	assert_int_equal(count_rows(e->path, "service_accounts"), 2);
	assert_int_equal(journal_size(e), before + 1);
	s = entry(e, 0);
	assert_non_null(strstr(s, "\"inventory.import.refused\""));
	free(s);
	json_decref(pr);
}

static void
bad_csv_quoting_is_refused_with_each_row(void **state)
{
	struct env *e = *state;
	json_t *pr;

	assert_int_equal(import(e, CSV_HEADER
	    "sa-a,alice,p,erp,internal,salesforce,,read:accounts,vault:kv/a,"
	    "service,true,90,,\r\n"
	    "sa-b,alice,p \"quoted\",erp,internal,salesforce,,,vault:kv/b,"
	    "service,true,90,,\r\n"
	    "sa-c,alice,\"closed\"x,erp,internal,salesforce,,,vault:kv/c,"
	    "service,true,90,,\r\n"
	    "sa-d,alice,p,erp,internal\r\n"
	    "sa-e,alice,\"never closed,erp\r\n", TK_INV_CSV, NULL, &pr),
	    TK_INV_ERR_INVALID);
	expect_problem(pr, 3, "", "a quote inside an unquoted field");
	expect_problem(pr, 4, "", "text after a closing quote");
	expect_problem(pr, 5, "", "5 fields, the header has 14");
	expect_problem(pr, 6, "", "not closed");
	assert_int_equal(json_array_size(pr), 4);
	assert_int_equal(count_rows(e->path, "service_accounts"), 0);
	json_decref(pr);
}

static void
csv_columns_unknown_repeated_or_missing_are_named(void **state)
{
	struct env *e = *state;
	json_t *pr;

	assert_int_equal(import(e, "id,owner,owner,colour\r\n"
	    "a,alice,alice,red\r\n", TK_INV_CSV, NULL, &pr),
	    TK_INV_ERR_INVALID);
	expect_problem(pr, 1, "owner", "column repeated");
	expect_problem(pr, 1, "colour", "unknown column");
	expect_problem(pr, 1, "credential_ref", "column missing");
	expect_problem(pr, 1, "rotation_days", "column missing");
	json_decref(pr);
}

static void
csv_cells_of_wrong_type_are_named_by_row_and_column(void **state)
{
	struct env *e = *state;
	json_t *pr;

	assert_int_equal(import(e, CSV_HEADER
	    "sa-a,alice,p,erp,internal,salesforce,,read:accounts,vault:kv/a,"
	    "robot,yes,ninety,2026-13-01T00:00:00Z,\r\n", TK_INV_CSV, NULL,
	    &pr), TK_INV_ERR_INVALID);
	expect_problem(pr, 2, "credential_kind", "one of service, personal");
	expect_problem(pr, 2, "production", "true or false");
	expect_problem(pr, 2, "rotation_days", "whole number");
	expect_problem(pr, 2, "last_rotation", "YYYY-MM-DDTHH:MM:SSZ");
	assert_int_equal(json_array_size(pr), 4);
	json_decref(pr);
}

static void
too_big_a_document_is_refused(void **state)
{
	struct env *e = *state;
	size_t n = TK_INV_DOC_MAX + 1;
	json_t *pr = json_array();
	char *doc;

	assert_non_null(doc = malloc(n));
	memset(doc, ' ', n);
	assert_int_equal(tk_inventory_import(e->ap, "adam", doc, n,
	    TK_INV_JSON, NULL, pr), TK_INV_ERR_TOOBIG);
	expect_problem(pr, 0, "", "larger than");
	assert_int_equal(count_rows(e->path, "service_accounts"), 0);
	free(doc);
	json_decref(pr);
}

static void
secrets_as_credential_refs_are_refused_and_never_echoed(void **state)
{
	static const char *bad[] = {
	    "pkcs11:token=ci;object=k?pin-value=123456",
	    "pkcs11:token=ci;object=k?PIN%2dValue=123456",
	    "ghp_R2xvYmFsU2VjcmV0VG9rZW4xMjM0NTY3ODkw",
	    "vault:kv/ci/R2xvYmFsU2VjcmV0VG9rZW4xMjM0NTY3ODkw",
	    "vault:kv/a?token=x",
	    "vault:",
	};
	struct env *e = *state;
	char doc[1024], *s;
	json_t *pr;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(doc, sizeof(doc), DOC(ACCTS("sa-x", "alice", "[]",
		    "%s", "")), bad[i]);
		assert_int_equal(import(e, doc, TK_INV_JSON, NULL, &pr),
		    TK_INV_ERR_INVALID);
		expect_problem(pr, 1, "credential_ref", "");
		s = json_dumps(pr, JSON_COMPACT);
		assert_null(strstr(s, "123456"));
		assert_null(strstr(s, "R2xvYmFs"));
		free(s);
		s = entry(e, 0);
		assert_null(strstr(s, "123456"));
		free(s);
		json_decref(pr);
	}
	assert_int_equal(count_rows(e->path, "service_accounts"), 0);
}

static void
text_that_reads_otherwise_than_it_is_refused(void **state)
{
	struct env *e = *state;
	json_t *pr;

	/* U+202E turns the rest of the purpose around on a page. */
	assert_int_equal(import(e, DOC("{\"id\":\"sa-x\",\"owner\":"
	    "\"alice\",\"purpose\":\"pay \\u202egnp.exe\",\"systems\":[],"
	    "\"classification\":\"public\",\"connector\":\"c\","
	    "\"scopes\":[],\"credential_ref\":\"vault:kv/x\","
	    "\"credential_kind\":\"service\",\"production\":false,"
	    "\"rotation_days\":1}"), TK_INV_JSON, NULL, &pr),
	    TK_INV_ERR_INVALID);
	expect_problem(pr, 1, "purpose", "direction-changing");
	assert_int_equal(json_array_size(pr), 1);
	json_decref(pr);
	/* A spreadsheet would run this cell of an export as a formula. */
	assert_int_equal(import(e, CSV_HEADER "sa-y,alice,=cmd|' /C calc'!A0,"
	    "erp,internal,c,,,vault:kv/y,service,true,90,,\r\n", TK_INV_CSV,
	    NULL, &pr), TK_INV_ERR_INVALID);
	expect_problem(pr, 2, "purpose", "not starting with = + - @");
	assert_int_equal(json_array_size(pr), 1);
	json_decref(pr);
	assert_int_equal(count_rows(e->path, "service_accounts"), 0);
}

static void
owner_who_has_left_is_refused_on_import(void **state)
{
	struct env *e = *state;
	json_t *pr;

	assert_int_equal(tk_approvals_person_set_state(e->ap, "root",
	    e->carol, TK_PERSON_LEFT), 0);
	assert_int_equal(import(e, DOC(ACCT("sa-x", "carol", "")),
	    TK_INV_JSON, NULL, &pr), TK_INV_ERR_INVALID);
	expect_problem(pr, 1, "owner", "has left");
	json_decref(pr);
}

/* ---- good imports: all at once, journaled with the diff ----------- */

static void
good_import_is_applied_and_journaled_with_its_diff(void **state)
{
	struct env *e = *state;
	json_t *diff = NULL;
	uint64_t before = journal_size(e);
	char *s;

	assert_int_equal(import(e, DOC(ACCT("sa-billing", "alice", "") ","
	    ACCT("sa-crm", "bob", ",\"scenario\":\"make:4711\"")),
	    TK_INV_JSON, &diff, NULL), 0);
	assert_int_equal(count_rows(e->path, "service_accounts"), 2);
	assert_int_equal(json_array_size(json_object_get(diff, "added")), 2);
	assert_int_equal(json_array_size(json_object_get(diff, "governed")),
	    3);
	/* Two account entries and the summary, in one batch. */
	assert_int_equal(journal_size(e), before + 3);
	s = entry(e, 0);
	assert_non_null(strstr(s, "\"inventory.import\""));
	assert_non_null(strstr(s, "\"added\":2"));
	assert_non_null(strstr(s, "not enforced yet"));
	free(s);
	s = entry(e, 1);
	assert_non_null(strstr(s, "\"inventory.account\""));
	assert_non_null(strstr(s, "inventory/sa-crm"));
	assert_non_null(strstr(s, "\"change\":\"added\""));
	free(s);
	json_decref(diff);
}

static void
second_import_changes_and_removes_with_before_and_after(void **state)
{
	struct env *e = *state;
	json_t *diff = NULL, *ch;
	char *s;

	add_two(e);
	assert_int_equal(import(e, DOC(ACCTS("sa-billing", "alice",
	    "[\"write:invoices\",\"read:accounts\"]", "vault:kv/new", "")),
	    TK_INV_JSON, &diff, NULL), 0);
	assert_int_equal(count_rows(e->path, "service_accounts"), 1);
	ch = json_array_get(json_object_get(diff, "changed"), 0);
	s = json_dumps(json_object_get(ch, "fields"), JSON_COMPACT);
	assert_string_equal(s, "[\"scopes\",\"credential_ref\"]");
	free(s);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    ch, "before"), "credential_ref")), "vault:kv/automation/billing");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    ch, "after"), "credential_ref")), "vault:kv/new");
	s = json_dumps(json_object_get(diff, "governed"), JSON_COMPACT);
	assert_string_equal(s, "[\"credential_ref\"]");
	free(s);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(diff, "removed"), 0), "id")), "sa-crm");
	s = entry(e, 1);
	assert_non_null(strstr(s, "\"change\":\"changed\""));
	assert_non_null(strstr(s, "vault:kv/new"));
	free(s);
	s = entry(e, 2);
	assert_non_null(strstr(s, "\"change\":\"removed\""));
	assert_non_null(strstr(s, "inventory/sa-crm"));
	free(s);
	json_decref(diff);
}

/* ---- round trips ---------------------------------------------------- */

static void
json_export_reimports_without_change(void **state)
{
	struct env *e = *state;
	json_t *diff = NULL;
	char *out = NULL;
	size_t len = 0;

	add_two(e);
	assert_int_equal(tk_inventory_event(e->ap, "bot", "sa-crm",
	    TK_INV_EVENT_ROTATED, T0 - 86400), 0);
	assert_int_equal(tk_inventory_export(e->ap, TK_INV_JSON, &out, &len),
	    0);
	assert_non_null(strstr(out, "\"last_rotation\": \"2027-01-14T08:"));
	assert_int_equal(import(e, out, TK_INV_JSON, &diff, NULL), 0);
	assert_int_equal(json_array_size(json_object_get(diff, "added")) +
	    json_array_size(json_object_get(diff, "changed")) +
	    json_array_size(json_object_get(diff, "removed")), 0);
	json_decref(diff);
	free(out);
}

static void
csv_export_quotes_what_needs_it_and_reimports_the_same(void **state)
{
	struct env *e = *state;
	struct tk_inv_set a, b;
	json_t *diff = NULL, *pr = json_array();
	char *csv = NULL, *json1 = NULL, *json2 = NULL;
	size_t len = 0, l2 = 0;

	assert_int_equal(import(e, DOC(ACCT("sa-q", "alice", ""
	    ",\"scenario\":\"make:1\"")), TK_INV_JSON, NULL, NULL), 0);
	assert_int_equal(import(e, "{\"v\":1,\"accounts\":[{\"id\":\"sa-q\","
	    "\"owner\":\"alice\",\"purpose\":\"says \\\"hi\\\", then bye\","
	    "\"systems\":[],\"classification\":\"public\",\"connector\":"
	    "\"salesforce\",\"scopes\":[\"write:invoices\",\"read:accounts\"],"
	    "\"credential_ref\":\"pkcs11:token=ci;object=k%20a\","
	    "\"credential_kind\":\"personal\",\"production\":false,"
	    "\"rotation_days\":30}]}", TK_INV_JSON, NULL, NULL), 0);
	assert_int_equal(tk_inventory_export(e->ap, TK_INV_CSV, &csv, &len),
	    0);
	assert_non_null(strstr(csv, ",\"says \"\"hi\"\", then bye\","));
	assert_non_null(strstr(csv, ",read:accounts write:invoices,"));
	assert_int_equal(tk_inventory_parse(csv, len, TK_INV_CSV, &a, pr), 0);
	assert_int_equal(tk_inventory_load(e->ap, &b), 0);
	assert_int_equal(tk_inventory_format(&a, TK_INV_JSON, &json1, &len),
	    0);
	assert_int_equal(tk_inventory_format(&b, TK_INV_JSON, &json2, &l2),
	    0);
	assert_string_equal(json1, json2);
	assert_int_equal(import(e, csv, TK_INV_CSV, &diff, NULL), 0);
	assert_int_equal(json_array_size(json_object_get(diff, "changed")),
	    0);
	tk_inv_set_clear(&a);
	tk_inv_set_clear(&b);
	json_decref(diff);
	json_decref(pr);
	free(csv);
	free(json1);
	free(json2);
}

/* ---- flags (pure) ----------------------------------------------------- */

static void
base_account(struct tk_inv_account *a)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->id, sizeof(a->id), "sa");
	snprintf(a->connector, sizeof(a->connector), "salesforce");
	snprintf(a->scopes[0], sizeof(a->scopes[0]), "read:accounts");
	a->nscopes = 1;
	a->rotation_days = 90;
	a->last_rotation = T0 - 10 * 86400;
}

static void
flags_name_each_finding_and_nothing_else(void **state)
{
	struct env *e = *state;
	struct tk_person active = { .state = TK_PERSON_ACTIVE };
	struct tk_person left = { .state = TK_PERSON_LEFT };
	struct tk_person susp = { .state = TK_PERSON_SUSPENDED };
	struct tk_inv_account a;

	base_account(&a);
	assert_int_equal(tk_inventory_flags(&a, &active, e->policy, T0), 0);
	assert_int_equal(tk_inventory_flags(&a, NULL, e->policy, T0),
	    TK_INV_FLAG_NO_ACTIVE_OWNER);
	assert_int_equal(tk_inventory_flags(&a, &left, e->policy, T0),
	    TK_INV_FLAG_NO_ACTIVE_OWNER);
	assert_int_equal(tk_inventory_flags(&a, &susp, e->policy, T0),
	    TK_INV_FLAG_NO_ACTIVE_OWNER);
	/* Due at last_rotation + 90 days: on time then, overdue after. */
	assert_int_equal(tk_inventory_flags(&a, &active, e->policy,
	    T0 + 80 * 86400), 0);
	assert_int_equal(tk_inventory_flags(&a, &active, e->policy,
	    T0 + 80 * 86400 + 1), TK_INV_FLAG_ROTATION_OVERDUE);
	a.last_rotation = 0;
	assert_int_equal(tk_inventory_flags(&a, &active, e->policy, T0),
	    TK_INV_FLAG_ROTATION_OVERDUE);
	base_account(&a);
	a.credential_kind = TK_INV_CRED_PERSONAL;
	assert_int_equal(tk_inventory_flags(&a, &active, e->policy, T0), 0);
	a.production = 1;
	assert_int_equal(tk_inventory_flags(&a, &active, e->policy, T0),
	    TK_INV_FLAG_PERSONAL_IN_PROD);
	base_account(&a);
	snprintf(a.scopes[1], sizeof(a.scopes[1]), "delete:everything");
	a.nscopes = 2;
	assert_int_equal(tk_inventory_flags(&a, &active, e->policy, T0),
	    TK_INV_FLAG_SCOPE_BEYOND_TEMPLATE);
	snprintf(a.scopes[1], sizeof(a.scopes[1]), "admin:all");
	assert_int_equal(tk_inventory_flags(&a, &active, e->policy, T0),
	    TK_INV_FLAG_BLOCKED_SCOPE);
	/* No template for the connector: nothing to go beyond. */
	snprintf(a.connector, sizeof(a.connector), "zapier");
	snprintf(a.scopes[1], sizeof(a.scopes[1]), "anything");
	assert_int_equal(tk_inventory_flags(&a, &active, e->policy, T0), 0);
}

/* ---- events ----------------------------------------------------------- */

static void
every_rotation_is_journaled_and_moves_forward_only(void **state)
{
	struct env *e = *state;
	struct tk_inv_account a;
	uint64_t before;
	char *s;

	add_two(e);
	before = journal_size(e);
	assert_int_equal(tk_inventory_event(e->ap, "apikey:1", "sa-crm",
	    TK_INV_EVENT_ROTATED, T0 - 100), 0);
	assert_int_equal(tk_inventory_event(e->ap, "apikey:1", "sa-crm",
	    TK_INV_EVENT_ROTATED, T0 - 200), 0);
	assert_int_equal(journal_size(e), before + 2);
	s = entry(e, 0);
	assert_non_null(strstr(s, "\"inventory.rotated\""));
	assert_non_null(strstr(s, "inventory/sa-crm"));
	free(s);
	assert_int_equal(tk_inventory_get(e->ap, "sa-crm", &a), 0);
	assert_int_equal(a.last_rotation, T0 - 100);
}

static void
uses_are_coalesced_to_one_entry_an_hour_with_their_count(void **state)
{
	struct env *e = *state;
	struct tk_inv_account a;
	uint64_t before;
	char *s;

	add_two(e);
	before = journal_size(e);
	assert_int_equal(tk_inventory_event(e->ap, "bot", "sa-crm",
	    TK_INV_EVENT_USED, 0), 0);
	e->now += 60;
	assert_int_equal(tk_inventory_event(e->ap, "bot", "sa-crm",
	    TK_INV_EVENT_USED, 0), 0);
	e->now += 60;
	assert_int_equal(tk_inventory_event(e->ap, "bot", "sa-crm",
	    TK_INV_EVENT_USED, 0), 0);
	assert_int_equal(journal_size(e), before + 1);
	/* Stored at once even when not journaled. */
	assert_int_equal(tk_inventory_get(e->ap, "sa-crm", &a), 0);
	assert_int_equal(a.last_use, T0 + 120);
	e->now += TK_INV_USE_JOURNAL_EVERY;
	assert_int_equal(tk_inventory_event(e->ap, "bot", "sa-crm",
	    TK_INV_EVENT_USED, 0), 0);
	assert_int_equal(journal_size(e), before + 2);
	s = entry(e, 0);
	assert_non_null(strstr(s, "\"inventory.used\""));
	assert_non_null(strstr(s, "\"uses\":3"));
	free(s);
}

static void
events_for_unknown_accounts_or_future_times_are_refused(void **state)
{
	struct env *e = *state;
	struct tk_inv_account a;
	char *s;

	add_two(e);
	assert_int_equal(tk_inventory_event(e->ap, "bot", "sa-none",
	    TK_INV_EVENT_ROTATED, 0), TK_INV_ERR_NOT_FOUND);
	s = entry(e, 0);
	assert_non_null(strstr(s, "\"inventory.event.refused\""));
	free(s);
	assert_int_equal(tk_inventory_event(e->ap, "bot", "sa-crm",
	    TK_INV_EVENT_ROTATED, T0 + 3600), TK_INV_ERR_INVALID);
	assert_int_equal(tk_inventory_event(e->ap, "bot", "../x",
	    TK_INV_EVENT_USED, 0), TK_INV_ERR_INVALID);
	assert_int_equal(tk_inventory_get(e->ap, "sa-crm", &a), 0);
	assert_int_equal(a.last_rotation, 0);
}

/* ---- leavers ------------------------------------------------------- */

static void
leavers_accounts_are_listed_for_reassignment(void **state)
{
	struct env *e = *state;
	json_t *out = NULL, *rep = NULL, *p;
	char *s;

	add_two(e);
	assert_int_equal(import(e, DOC(ACCT("sa-billing", "alice", "") ","
	    ACCT("sa-crm", "bob", "") "," ACCT("sa-ledger", "alice", "")),
	    TK_INV_JSON, NULL, NULL), 0);
	assert_int_equal(tk_inventory_reassign(e->ap, &out), 0);
	assert_int_equal(json_array_size(json_object_get(out, "people")), 0);
	json_decref(out);
	assert_int_equal(tk_approvals_person_set_state(e->ap, "root",
	    e->alice, TK_PERSON_LEFT), 0);
	assert_int_equal(tk_inventory_reassign(e->ap, &out), 0);
	p = json_array_get(json_object_get(out, "people"), 0);
	assert_int_equal(json_array_size(json_object_get(out, "people")), 1);
	assert_string_equal(json_string_value(json_object_get(p, "name")),
	    "alice");
	assert_string_equal(json_string_value(json_object_get(p, "state")),
	    "left");
	s = json_dumps(json_object_get(p, "accounts"), JSON_COMPACT);
	assert_string_equal(s, "[\"sa-billing\",\"sa-ledger\"]");
	free(s);
	/* And the report flags them at once. */
	assert_int_equal(tk_inventory_report(e->ap, T0, &rep), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    rep, "summary"), "no_active_owner")), 2);
	json_decref(rep);
	json_decref(out);
}

static void
departed_approver_stops_counting_at_once(void **state)
{
	struct env *e = *state;
	struct tk_vote_result res;
	int64_t rid = file(e, ELEVATION);

	assert_int_equal(vote(e, &e->ak, rid, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(res.approvals, 1);
	assert_int_equal(tk_approvals_person_set_state(e->ap, "root",
	    e->alice, TK_PERSON_LEFT), 0);
	/* Bob's approval would have made two: alice no longer counts. */
	assert_int_equal(vote(e, &e->bk, rid, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(res.approvals, 1);
	assert_int_equal(state_of(e, rid), TK_REQ_PENDING);
	assert_no_grant(e, rid);
	assert_int_equal(vote(e, &e->ck, rid, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(state_of(e, rid), TK_REQ_GRANTED);
}

/* ---- plans and the report ---------------------------------------- */

static void
a_plan_is_refused_once_the_store_moved_under_it(void **state)
{
	struct env *e = *state;
	const char *doc = DOC(ACCT("sa-crm", "carol", ""));
	json_t *diff = NULL, *pr = json_array();

	add_two(e);
	assert_int_equal(tk_inventory_plan(e->ap, doc, strlen(doc),
	    TK_INV_JSON, &diff, pr), 0);
	assert_int_equal(json_array_size(json_object_get(diff, "removed")),
	    1);
	assert_int_equal(tk_inventory_event(e->ap, "bot", "sa-crm",
	    TK_INV_EVENT_ROTATED, 0), 0);
	assert_int_equal(tk_inventory_apply(e->ap, diff), TK_INV_ERR_STALE);
	json_decref(diff);
	json_decref(pr);
}

static void
report_counts_rotation_compliance_at_the_given_time(void **state)
{
	struct env *e = *state;
	json_t *rep = NULL, *sum, *a;

	add_two(e);
	assert_int_equal(tk_inventory_event(e->ap, "bot", "sa-crm",
	    TK_INV_EVENT_ROTATED, T0), 0);
	assert_int_equal(tk_inventory_report(e->ap, T0 + 86400, &rep), 0);
	sum = json_object_get(rep, "summary");
	assert_int_equal(json_integer_value(json_object_get(sum, "accounts")),
	    2);
	assert_int_equal(json_integer_value(json_object_get(sum,
	    "rotation_compliant")), 1);
	assert_int_equal(json_integer_value(json_object_get(sum,
	    "never_rotated")), 1);
	a = json_array_get(json_object_get(rep, "accounts"), 1);
	assert_string_equal(json_string_value(json_object_get(a, "id")),
	    "sa-crm");
	assert_string_equal(json_string_value(json_object_get(a,
	    "rotation_due")), "2027-04-15T08:00:00Z");
	json_decref(rep);
	assert_int_equal(tk_inventory_report(e->ap, T0 + 100 * 86400, &rep),
	    0);
	a = json_array_get(json_object_get(rep, "accounts"), 1);
	assert_int_equal(json_integer_value(json_object_get(a,
	    "rotation_overdue_days")), 10);
	json_decref(rep);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, apr_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(bad_json_import_is_refused_whole_with_every_problem),
		T(bad_csv_quoting_is_refused_with_each_row),
		T(csv_columns_unknown_repeated_or_missing_are_named),
		T(csv_cells_of_wrong_type_are_named_by_row_and_column),
		T(too_big_a_document_is_refused),
		T(secrets_as_credential_refs_are_refused_and_never_echoed),
		T(text_that_reads_otherwise_than_it_is_refused),
		T(owner_who_has_left_is_refused_on_import),
		T(good_import_is_applied_and_journaled_with_its_diff),
		T(second_import_changes_and_removes_with_before_and_after),
		T(json_export_reimports_without_change),
		T(csv_export_quotes_what_needs_it_and_reimports_the_same),
		T(flags_name_each_finding_and_nothing_else),
		T(every_rotation_is_journaled_and_moves_forward_only),
		T(uses_are_coalesced_to_one_entry_an_hour_with_their_count),
		T(events_for_unknown_accounts_or_future_times_are_refused),
		T(leavers_accounts_are_listed_for_reassignment),
		T(departed_approver_stops_counting_at_once),
		T(a_plan_is_refused_once_the_store_moved_under_it),
		T(report_counts_rotation_compliance_at_the_given_time),
	};

	return cmocka_run_group_tests(tests, apr_group_setup,
	    apr_group_teardown);
}
