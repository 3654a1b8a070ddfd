/*
 * Specifications of the service-account inventory: documents refused as
 * a whole with every problem named, imports applied all or nothing and
 * journaled with their diff, governed fields (connector, scenario,
 * credential_ref) only through the quorum, round trips, flags, events,
 * leavers. Real SQLite store, real journal on a real SoftHSM2 token.
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
#include "twokey/changes.h"
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

/* adam: the admin who imports (an approver too, with a key). */
static int64_t adam;
static struct key adam_key;

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
	adam = person(e, "adam", "it", TK_ROLE_ADMIN | TK_ROLE_APPROVER);
	memset(&adam_key, 0, sizeof(adam_key));
	enroll(e, &adam_key, adam);
	return 0;
}

static int
teardown(void **state)
{
	softauthn_free(&adam_key.sa);
	return apr_teardown(state);
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

/* adam submits doc with a reason and a ticket: the change's id. */
static int64_t
propose(struct env *e, const char *doc, enum tk_inv_format fmt,
    json_t **diff)
{
	struct tk_inv_submission sub = { adam, "new integration", "CHG-7",
	    doc, strlen(doc), fmt };
	json_t *pr = json_array();
	int64_t id = 0;

	assert_int_equal(tk_inventory_submit(e->ap, &sub, diff, &id, pr), 0);
	assert_true(id > 0);
	assert_int_equal(json_array_size(pr), 0);
	json_decref(pr);
	return id;
}

/* A governed import, proposed by adam and approved by alice and bob. */
static void
through_quorum(struct env *e, const char *doc, enum tk_inv_format fmt)
{
	struct tk_vote_result res;
	int64_t id = propose(e, doc, fmt, NULL);

	assert_int_equal(vote(e, &e->ak, id, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(vote(e, &e->bk, id, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(res.state, TK_REQ_GRANTED);
}

#define TWO DOC(ACCT("sa-billing", "alice", "") "," \
	ACCT("sa-crm", "bob", ",\"scenario\":\"make:4711\""))

static void
add_two(struct env *e)
{
	through_quorum(e, TWO, TK_INV_JSON);
}

/* The stored account's field, for comparisons. */
static char *
field_of(struct env *e, const char *id, const char *field)
{
	struct tk_inv_account a;
	json_t *o;
	char *s;

	assert_int_equal(tk_inventory_get(e->ap, id, &a), 0);
	assert_non_null(o = tk_inventory_account_json(&a));
	s = json_dumps(json_object_get(o, field), JSON_ENCODE_ANY);
	json_decref(o);
	return s;
}

static void
expect_field(struct env *e, const char *id, const char *field,
    const char *want)
{
	char *s = field_of(e, id, field);

	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

static size_t
changes(struct env *e)
{
	int64_t *ids = NULL;
	size_t n = 0;

	assert_int_equal(tk_approvals_changes(e->ap, &ids, &n), 0);
	free(ids);
	return n;
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

/* ---- governed fields: never one admin alone -------------------------- */

static void
one_admin_alone_cannot_add_bind_or_move_a_credential(void **state)
{
	struct env *e = *state;
	json_t *diff = NULL, *pr;
	uint64_t before = journal_size(e);
	char *s;

	/* Adding accounts binds them: refused, with the diff it would be. */
	assert_int_equal(import(e, TWO, TK_INV_JSON, &diff, &pr),
	    TK_INV_ERR_GOVERNED);
	assert_int_equal(count_rows(e->path, "service_accounts"), 0);
	s = json_dumps(json_object_get(diff, "governed"), JSON_COMPACT);
	assert_string_equal(s, "[\"connector\",\"credential_ref\","
	    "\"scenario\"]");
	free(s);
	json_decref(diff);
	json_decref(pr);
	assert_int_equal(journal_size(e), before + 1);
	s = entry(e, 0);
	assert_non_null(strstr(s, "\"inventory.import.refused\""));
	free(s);
	add_two(e);
	/* Each governed field of a stored account, one at a time. */
	assert_int_equal(import(e, DOC(ACCTS("sa-billing", "alice",
	    "[\"read:accounts\"]", "vault:kv/elsewhere", "") ","
	    ACCT("sa-crm", "bob", ",\"scenario\":\"make:4711\"")),
	    TK_INV_JSON, NULL, NULL), TK_INV_ERR_GOVERNED);
	assert_int_equal(import(e, DOC(ACCT("sa-billing", "alice", "") ","
	    ACCT("sa-crm", "bob", ",\"scenario\":\"make:9999\"")),
	    TK_INV_JSON, NULL, NULL), TK_INV_ERR_GOVERNED);
	assert_int_equal(import(e, DOC(ACCT("sa-billing", "alice",
	    ",\"scenario\":\"make:1\"") ","
	    ACCT("sa-crm", "bob", ",\"scenario\":\"make:4711\"")),
	    TK_INV_JSON, NULL, NULL), TK_INV_ERR_GOVERNED);
	assert_int_equal(import(e, CSV_HEADER
	    "sa-billing,alice,p,erp,internal,zapier,,,vault:kv/automation/"
	    "billing,service,true,90,,\r\n"
	    "sa-crm,bob,p,erp,internal,salesforce,make:4711,,vault:kv/"
	    "automation/billing,service,true,90,,\r\n", TK_INV_CSV, NULL,
	    NULL), TK_INV_ERR_GOVERNED);
	expect_field(e, "sa-billing", "credential_ref",
	    "\"vault:kv/automation/billing\"");
	expect_field(e, "sa-billing", "connector", "\"salesforce\"");
	expect_field(e, "sa-crm", "scenario", "\"make:4711\"");
	expect_field(e, "sa-billing", "purpose", "\"invoices to the ledger\"");
	/* A submission without a reason and a ticket is refused the same. */
	{
		const char *doc = DOC(ACCT("sa-billing", "alice",
		    ",\"scenario\":\"make:2\"") "," ACCT("sa-crm", "bob",
		    ",\"scenario\":\"make:4711\""));
		struct tk_inv_submission sub = { adam, NULL, NULL, doc,
		    strlen(doc), TK_INV_JSON };
		int64_t id = 7;

		pr = json_array();
		assert_int_equal(tk_inventory_submit(e->ap, &sub, NULL, &id,
		    pr), TK_INV_ERR_GOVERNED);
		assert_int_equal(id, 0);
		json_decref(pr);
	}
	assert_int_equal(changes(e), 1);
}

static void
governed_import_waits_for_the_quorum_and_binds_its_diff(void **state)
{
	struct env *e = *state;
	struct tk_request_info info;
	struct tk_vote_result res;
	json_t *diff = NULL, *c;
	char *again;
	int64_t id = propose(e, TWO, TK_INV_JSON, &diff);

	/* The change holds the diff; nothing is stored yet. */
	assert_int_equal(json_array_size(json_object_get(diff, "added")), 2);
	assert_int_equal(count_rows(e->path, "service_accounts"), 0);
	assert_int_equal(tk_approvals_request_get(e->ap, id, &info), 0);
	assert_int_equal(info.kind, TK_REQ_CHANGE);
	assert_non_null(c = json_loads(info.canonical, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(c, "type")),
	    "inventory.import");
	assert_string_equal(json_string_value(json_object_get(c, "target")),
	    "inventory");
	assert_true(json_equal(json_object_get(c, "after"), diff));
	assert_int_equal(json_array_size(json_object_get(json_object_get(c,
	    "before"), "accounts")), 0);
	/* Booleans (production) keep the canonical form canonical. */
	assert_non_null(strstr(info.canonical, "\"production\":true"));
	assert_non_null(again = json_dumps(c, JSON_COMPACT |
	    JSON_SORT_KEYS));
	assert_string_equal(again, info.canonical);
	free(again);
	json_decref(c);
	tk_request_info_clear(&info);
	json_decref(diff);
	/* The proposer's own approval never counts. */
	assert_int_equal(vote(e, &adam_key, id, TK_DECIDE_APPROVE, &res),
	    TK_APR_ERR_SELF_APPROVAL);
	assert_int_equal(vote(e, &e->ak, id, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(res.state, TK_REQ_PENDING);
	assert_int_equal(count_rows(e->path, "service_accounts"), 0);
	assert_int_equal(vote(e, &e->bk, id, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(res.state, TK_REQ_GRANTED);
	assert_int_equal(count_rows(e->path, "service_accounts"), 2);
	expect_field(e, "sa-crm", "scenario", "\"make:4711\"");
	/* Applied in the vote, journaled with the diff. */
	again = entry(e, 1);
	assert_non_null(strstr(again, "\"change.applied\""));
	assert_non_null(strstr(again, "\"inventory.import\""));
	assert_non_null(strstr(again, "vault:kv/automation/billing"));
	free(again);
}

static void
a_credential_move_is_applied_by_the_quorum_only(void **state)
{
	struct env *e = *state;
	struct tk_vote_result res;
	json_t *diff = NULL, *ch;
	char *s;
	int64_t id;

	add_two(e);
	id = propose(e, DOC(ACCTS("sa-billing", "alice",
	    "[\"read:accounts\"]", "pkcs11:token=ci;object=billing", "") ","
	    ACCT("sa-crm", "bob", ",\"scenario\":\"make:4711\"")),
	    TK_INV_JSON, &diff);
	ch = json_array_get(json_object_get(diff, "changed"), 0);
	s = json_dumps(json_object_get(ch, "fields"), JSON_COMPACT);
	assert_string_equal(s, "[\"credential_ref\"]");
	free(s);
	s = json_dumps(json_object_get(diff, "governed"), JSON_COMPACT);
	assert_string_equal(s, "[\"credential_ref\"]");
	free(s);
	json_decref(diff);
	assert_int_equal(vote(e, &e->ck, id, TK_DECIDE_APPROVE, &res), 0);
	expect_field(e, "sa-billing", "credential_ref",
	    "\"vault:kv/automation/billing\"");
	assert_int_equal(vote(e, &e->ak, id, TK_DECIDE_APPROVE, &res), 0);
	expect_field(e, "sa-billing", "credential_ref",
	    "\"pkcs11:token=ci;object=billing\"");
}

static void
other_edits_and_removals_apply_at_once_and_are_journaled(void **state)
{
	struct env *e = *state;
	json_t *diff = NULL, *ch;
	uint64_t before;
	char *s;

	add_two(e);
	before = journal_size(e);
	assert_int_equal(import(e, DOC(ACCTS("sa-billing", "bob",
	    "[\"write:invoices\",\"read:accounts\"]",
	    "vault:kv/automation/billing", "")), TK_INV_JSON, &diff, NULL), 0);
	assert_int_equal(count_rows(e->path, "service_accounts"), 1);
	assert_int_equal(json_array_size(json_object_get(diff, "governed")),
	    0);
	ch = json_array_get(json_object_get(diff, "changed"), 0);
	s = json_dumps(json_object_get(ch, "fields"), JSON_COMPACT);
	assert_string_equal(s, "[\"owner\",\"scopes\"]");
	free(s);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    ch, "before"), "owner")), "alice");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(diff, "removed"), 0), "id")), "sa-crm");
	/* One entry per account, then the summary, in one batch. */
	assert_int_equal(journal_size(e), before + 3);
	s = entry(e, 0);
	assert_non_null(strstr(s, "\"inventory.import\""));
	assert_non_null(strstr(s, "\"changed\":1"));
	assert_non_null(strstr(s, "\"removed\":1"));
	free(s);
	s = entry(e, 1);
	assert_non_null(strstr(s, "\"change\":\"changed\""));
	assert_non_null(strstr(s, "write:invoices"));
	free(s);
	s = entry(e, 2);
	assert_non_null(strstr(s, "\"change\":\"removed\""));
	assert_non_null(strstr(s, "inventory/sa-crm"));
	free(s);
	json_decref(diff);
	/* A submission with a reason needs no quorum for these either. */
	{
		const char *doc = DOC(ACCT("sa-billing", "alice", ""));
		struct tk_inv_submission sub = { adam, "owner back", "CHG-8",
		    doc, strlen(doc), TK_INV_JSON };
		json_t *pr = json_array();
		int64_t id = 7;

		assert_int_equal(tk_inventory_submit(e->ap, &sub, NULL, &id,
		    pr), 0);
		assert_int_equal(id, 0);
		json_decref(pr);
	}
	expect_field(e, "sa-billing", "owner", "\"alice\"");
	assert_int_equal(changes(e), 1);
}

static void
a_change_whose_accounts_moved_on_goes_stale(void **state)
{
	struct env *e = *state;
	struct tk_vote_result res;
	uint8_t ch[TK_CHALLENGE_LEN];
	int64_t first, second;

	add_two(e);
	first = propose(e, DOC(ACCTS("sa-billing", "alice", "[]",
	    "vault:kv/first", "") "," ACCT("sa-crm", "bob",
	    ",\"scenario\":\"make:4711\"")), TK_INV_JSON, NULL);
	second = propose(e, DOC(ACCTS("sa-billing", "alice", "[]",
	    "vault:kv/second", "") "," ACCT("sa-crm", "bob",
	    ",\"scenario\":\"make:4711\"")), TK_INV_JSON, NULL);
	assert_int_equal(vote(e, &e->ak, first, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(vote(e, &e->ak, second, TK_DECIDE_APPROVE, &res), 0);
	/* Bob's challenge for the first is issued while it still holds. */
	assert_int_equal(tk_approvals_challenge(e->ap, first, e->bob,
	    TK_DECIDE_APPROVE, ch, NULL), 0);
	assert_int_equal(vote(e, &e->bk, second, TK_DECIDE_APPROVE, &res), 0);
	expect_field(e, "sa-billing", "credential_ref", "\"vault:kv/second\"");
	/* The first was planned against what the second replaced. */
	assert_int_equal(sign_and_vote(e, &e->bk, first, ch, ++e->bk.counter,
	    &res), TK_APR_ERR_STALE);
	assert_int_equal(state_of(e, first), TK_REQ_STALE);
	assert_non_null(strstr(res.reason, "vault:kv/second"));
	expect_field(e, "sa-billing", "credential_ref", "\"vault:kv/second\"");
}

static void
a_direct_edit_of_a_touched_account_makes_the_change_stale(void **state)
{
	struct env *e = *state;
	uint8_t ch[TK_CHALLENGE_LEN];
	int64_t id;

	add_two(e);
	id = propose(e, DOC(ACCTS("sa-billing", "alice", "[\"read:accounts\"]",
	    "vault:kv/next", "")), TK_INV_JSON, NULL);
	/* Another admin renames its purpose directly meanwhile. */
	assert_int_equal(import(e, "{\"v\":1,\"accounts\":["
	    "{\"id\":\"sa-billing\",\"owner\":\"alice\",\"purpose\":"
	    "\"ledger\",\"systems\":[\"erp\",\"salesforce\"],"
	    "\"classification\":\"confidential\",\"connector\":"
	    "\"salesforce\",\"scopes\":[\"read:accounts\"],"
	    "\"credential_ref\":\"vault:kv/automation/billing\","
	    "\"credential_kind\":\"service\",\"production\":true,"
	    "\"rotation_days\":90}," ACCT("sa-crm", "bob",
	    ",\"scenario\":\"make:4711\"") "]}", TK_INV_JSON, NULL, NULL),
	    0);
	assert_int_equal(tk_approvals_challenge(e->ap, id, e->alice,
	    TK_DECIDE_APPROVE, ch, NULL), TK_APR_ERR_STALE);
	assert_int_equal(state_of(e, id), TK_REQ_STALE);
	expect_field(e, "sa-billing", "credential_ref",
	    "\"vault:kv/automation/billing\"");
	assert_int_equal(count_rows(e->path, "service_accounts"), 2);
}

static void
rotations_and_uses_do_not_make_a_change_stale(void **state)
{
	struct env *e = *state;
	struct tk_vote_result res;
	struct tk_inv_account a;
	int64_t id;

	add_two(e);
	id = propose(e, DOC(ACCT("sa-billing", "alice", "") "," ACCTS("sa-crm",
	    "bob", "[]", "vault:kv/crm", ",\"scenario\":\"make:4711\"")),
	    TK_INV_JSON, NULL);
	/* Automation reports while the approvers look. */
	assert_int_equal(tk_inventory_event(e->ap, "bot", "sa-crm",
	    TK_INV_EVENT_ROTATED, T0 - 60), 0);
	assert_int_equal(tk_inventory_event(e->ap, "bot", "sa-crm",
	    TK_INV_EVENT_USED, 0), 0);
	assert_int_equal(vote(e, &e->ak, id, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(vote(e, &e->bk, id, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(res.state, TK_REQ_GRANTED);
	assert_int_equal(tk_inventory_get(e->ap, "sa-crm", &a), 0);
	assert_string_equal(a.credential_ref, "vault:kv/crm");
	/* The observed times are kept, not taken back to the plan's. */
	assert_int_equal(a.last_rotation, T0 - 60);
	assert_int_equal(a.last_use, T0);
}

static void
an_owner_who_left_since_the_proposal_makes_it_stale(void **state)
{
	struct env *e = *state;
	struct tk_vote_result res;
	uint8_t ch[TK_CHALLENGE_LEN];
	int64_t id = propose(e, DOC(ACCT("sa-x", "carol", "")), TK_INV_JSON,
	    NULL);

	assert_int_equal(tk_approvals_challenge(e->ap, id, e->alice,
	    TK_DECIDE_APPROVE, ch, NULL), 0);
	assert_int_equal(tk_approvals_person_set_state(e->ap, "root",
	    e->carol, TK_PERSON_LEFT), 0);
	assert_int_equal(sign_and_vote(e, &e->ak, id, ch, ++e->ak.counter,
	    &res), TK_APR_ERR_STALE);
	assert_non_null(strstr(res.reason, "departed_owners"));
	assert_int_equal(count_rows(e->path, "service_accounts"), 0);
}

static void
bad_governed_proposals_are_refused_with_every_problem(void **state)
{
	struct env *e = *state;
	const char *bad = DOC(ACCT("sa-x", "mallory", "") ","
	    "{\"id\":\"sa-y\",\"colour\":1}");
	const char *good = DOC(ACCT("sa-x", "alice", ""));
	struct tk_inv_submission sub = { adam, "r", "CHG-1", bad,
	    strlen(bad), TK_INV_JSON };
	json_t *pr = json_array();
	int64_t id = 7;
	char *s;

	assert_int_equal(tk_inventory_propose(e->ap, &sub, NULL, &id, pr),
	    TK_INV_ERR_INVALID);
	expect_problem(pr, 1, "owner", "no such person");
	expect_problem(pr, 2, "colour", "unknown field");
	expect_problem(pr, 2, "credential_ref", "missing");
	assert_int_equal(id, 0);
	s = entry(e, 0);
	assert_non_null(strstr(s, "\"inventory.propose.refused\""));
	free(s);
	json_decref(pr);
	/* A reason without a ticket, a ticket with a space. */
	sub.doc = good;
	sub.len = strlen(good);
	sub.ticket = NULL;
	pr = json_array();
	assert_int_equal(tk_inventory_submit(e->ap, &sub, NULL, &id, pr),
	    TK_INV_ERR_INVALID);
	expect_problem(pr, 0, "ticket", "both");
	json_decref(pr);
	sub.ticket = "CHG 1";
	pr = json_array();
	assert_int_equal(tk_inventory_submit(e->ap, &sub, NULL, &id, pr),
	    TK_INV_ERR_INVALID);
	expect_problem(pr, 0, "ticket", "A-Z");
	json_decref(pr);
	/* Someone without the admin role. */
	sub.ticket = "CHG-1";
	sub.person = e->alice;
	pr = json_array();
	assert_int_equal(tk_inventory_submit(e->ap, &sub, NULL, &id, pr),
	    TK_APR_ERR_ROLE);
	assert_int_equal(tk_inventory_propose(e->ap, &sub, NULL, &id, pr),
	    TK_APR_ERR_ROLE);
	json_decref(pr);
	assert_int_equal(changes(e), 0);
	assert_int_equal(count_rows(e->path, "service_accounts"), 0);
}

static void
malformed_change_args_are_refused(void **state)
{
	static const char *bad[] = {
		"{\"type\":\"inventory.import\",\"reason\":\"r\","
		    "\"ticket\":\"T-1\",\"args\":{}}",
		"{\"type\":\"inventory.import\",\"reason\":\"r\","
		    "\"ticket\":\"T-1\",\"args\":{\"v\":1,"
		    "\"accounts\":\"all\"}}",
		"{\"type\":\"inventory.import\",\"reason\":\"r\","
		    "\"ticket\":\"T-1\",\"args\":{\"v\":2,"
		    "\"accounts\":[]}}",
		"{\"type\":\"inventory.import\",\"reason\":\"r\","
		    "\"ticket\":\"T-1\",\"args\":" DOC(ACCT("sa-x",
		    "nobody", "")) "}",
	};
	static const char *none = "{\"type\":\"inventory.import\","
	    "\"reason\":\"r\",\"ticket\":\"T-1\",\"args\":"
	    "{\"v\":1,\"accounts\":[]}}";
	struct env *e = *state;
	int64_t id = 7;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tk_approvals_propose(e->ap, adam, bad[i],
		    strlen(bad[i]), &id, NULL, 0), TK_APR_ERR_INVALID);
	/* An empty inventory is no change to an empty store. */
	assert_int_equal(tk_approvals_propose(e->ap, adam, none,
	    strlen(none), &id, NULL, 0), TK_APR_ERR_NO_CHANGE);
	assert_int_equal(id, 0);
	assert_int_equal(changes(e), 0);
}

/* A document of n accounts sa-000...; the caller frees it. */
static char *
many(size_t n)
{
	size_t i, cap = 512 * n + 64;
	char *doc, *p;

	assert_non_null(doc = malloc(cap));
	p = doc + snprintf(doc, cap, "{\"v\":1,\"accounts\":[");
	for (i = 0; i < n; i++)
		p += snprintf(p, cap - (size_t)(p - doc), "%s" ACCT("sa-%03zu",
		    "alice", ""), i > 0 ? "," : "", i);
	(void)snprintf(p, cap - (size_t)(p - doc), "]}");
	return doc;
}

static void
a_change_too_large_for_one_journal_entry_is_refused(void **state)
{
	struct env *e = *state;
	struct tk_inv_submission sub = { 0, "bulk", "CHG-9", NULL, 0,
	    TK_INV_JSON };
	json_t *pr = json_array();
	int64_t id = 7;
	char *doc = many(100);

	/* A hundred new accounts fit in one change; four hundred do not. */
	sub.person = adam;
	sub.doc = doc;
	sub.len = strlen(doc);
	assert_int_equal(tk_inventory_submit(e->ap, &sub, NULL, &id, pr), 0);
	assert_true(id > 0);
	free(doc);
	sub.doc = doc = many(400);
	sub.len = strlen(doc);
	assert_int_equal(tk_inventory_submit(e->ap, &sub, NULL, &id, pr),
	    TK_APR_ERR_TOO_LARGE);
	assert_int_equal(id, 0);
	assert_int_equal(changes(e), 1);
	assert_int_equal(count_rows(e->path, "service_accounts"), 0);
	json_decref(pr);
	free(doc);
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

	through_quorum(e, DOC(ACCT("sa-q", "alice", ""
	    ",\"scenario\":\"make:1\"")), TK_INV_JSON);
	through_quorum(e, "{\"v\":1,\"accounts\":[{\"id\":\"sa-q\","
	    "\"owner\":\"alice\",\"purpose\":\"says \\\"hi\\\", then bye\","
	    "\"systems\":[],\"classification\":\"public\",\"connector\":"
	    "\"salesforce\",\"scopes\":[\"write:invoices\",\"read:accounts\"],"
	    "\"credential_ref\":\"pkcs11:token=ci;object=k%20a\","
	    "\"credential_kind\":\"personal\",\"production\":false,"
	    "\"rotation_days\":30}]}", TK_INV_JSON);
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
	through_quorum(e, DOC(ACCT("sa-billing", "alice", "") ","
	    ACCT("sa-crm", "bob", "") "," ACCT("sa-ledger", "alice", "")),
	    TK_INV_JSON);
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
	const char *edit = DOC(ACCT("sa-billing", "alice", "") ","
	    ACCTS("sa-crm", "bob", "[]", "vault:kv/automation/billing",
	    ",\"scenario\":\"make:4711\""));
	json_t *diff = NULL, *pr = json_array();

	add_two(e);
	assert_int_equal(tk_inventory_plan(e->ap, doc, strlen(doc),
	    TK_INV_JSON, &diff, pr), 0);
	assert_int_equal(json_array_size(json_object_get(diff, "removed")),
	    1);
	/* An observation is not configuration: the plan still holds. */
	assert_int_equal(tk_inventory_event(e->ap, "bot", "sa-crm",
	    TK_INV_EVENT_ROTATED, 0), 0);
	/* A change of sa-crm's scopes is. */
	assert_int_equal(import(e, edit, TK_INV_JSON, NULL, NULL), 0);
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

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

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
		T(one_admin_alone_cannot_add_bind_or_move_a_credential),
		T(governed_import_waits_for_the_quorum_and_binds_its_diff),
		T(a_credential_move_is_applied_by_the_quorum_only),
		T(other_edits_and_removals_apply_at_once_and_are_journaled),
		T(a_change_whose_accounts_moved_on_goes_stale),
		T(a_direct_edit_of_a_touched_account_makes_the_change_stale),
		T(rotations_and_uses_do_not_make_a_change_stale),
		T(an_owner_who_left_since_the_proposal_makes_it_stale),
		T(bad_governed_proposals_are_refused_with_every_problem),
		T(malformed_change_args_are_refused),
		T(a_change_too_large_for_one_journal_entry_is_refused),
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
