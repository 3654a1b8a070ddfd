/*
 * Specifications of the governed-change machinery in the approvals layer,
 * with a real token, journal and SQLite store: a change type registered
 * from outside (as another module would register its own) lives the
 * whole life of a change, credential additions wait for the
 * quorum, the proposer never counts, a stale change never applies, and
 * the approved policy and its drift are kept in the store.
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
#include <openssl/sha.h>
#include <sqlite3.h>

#include "twokey/approvals.h"
#include "twokey/changes.h"
#include "twokey/common.h"
#include "approvals_env.h"

/* ---- a type of our own: one row of a table the "inventory" owns ---- */

static int
own_table(sqlite3 *db)
{
	return sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS test_bindings("
	    "account TEXT PRIMARY KEY, scenario TEXT NOT NULL)", NULL, NULL,
	    NULL) == SQLITE_OK ? 0 : TK_APR_ERR_DB;
}

static int
binding_before(struct tk_change_ctx *c, const char *target, json_t *after,
    json_t **before)
{
	sqlite3_stmt *st = NULL;
	int rc;

	(void)after;
	if ((rc = own_table(c->db)) != 0 || sqlite3_prepare_v2(c->db,
	    "SELECT scenario FROM test_bindings WHERE account = ?", -1, &st,
	    NULL) != SQLITE_OK)
		return TK_APR_ERR_DB;
	sqlite3_bind_text(st, 1, target + 8, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*before = json_pack("{s:s}", "scenario",
		    (const char *)sqlite3_column_text(st, 0));
	else
		*before = json_pack("{s:s}", "scenario", "");
	sqlite3_finalize(st);
	return *before == NULL ? TK_APR_ERR_NOMEM : 0;
}

static int
binding_prepare(struct tk_change_ctx *c, json_t *args,
    char target[TK_CHANGE_TARGET_MAX], json_t **after)
{
	const char *a = json_string_value(json_object_get(args, "account"));
	const char *s = json_string_value(json_object_get(args, "scenario"));

	(void)c;
	if (a == NULL || s == NULL || json_object_size(args) != 2)
		return TK_APR_ERR_INVALID;
	snprintf(target, TK_CHANGE_TARGET_MAX, "account/%s", a);
	*after = json_pack("{s:s}", "scenario", s);
	return 0;
}

static int
binding_apply(struct tk_change_ctx *c, const char *target, json_t *after)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (sqlite3_prepare_v2(c->db, "INSERT OR REPLACE INTO "
	    "test_bindings(account, scenario) VALUES (?, ?)", -1, &st,
	    NULL) != SQLITE_OK)
		return TK_APR_ERR_DB;
	sqlite3_bind_text(st, 1, target + 8, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, json_string_value(json_object_get(after,
	    "scenario")), -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : TK_APR_ERR_DB;
}

static const struct tk_change_type binding = {
	"test.binding", TK_ROLE_REQUESTER, binding_prepare, binding_before,
	binding_apply,
};

static int
group_setup(void **state)
{
	if (apr_group_setup(state) != 0 ||
	    tk_change_register(&binding) != 0)
		return -1;
	return 0;
}

static int64_t
propose(struct env *e, int64_t who, const char *json)
{
	int64_t id = 0;

	assert_int_equal(tk_approvals_propose(e->ap, who, json, strlen(json),
	    &id, NULL, 0), 0);
	assert_true(id > 0);
	return id;
}

static char *
scenario_of(struct env *e, const char *account)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *s = NULL;

	assert_int_equal(sqlite3_open(e->path, &db), SQLITE_OK);
	if (sqlite3_prepare_v2(db, "SELECT scenario FROM test_bindings "
	    "WHERE account = ?", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			s = strdup((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return s;
}

#define BIND(s) "{\"type\":\"test.binding\",\"reason\":\"new flow\"," \
	"\"ticket\":\"CHG-7\",\"args\":{\"account\":\"sa-billing\"," \
	"\"scenario\":\"" s "\"}}"

static void
registered_type_is_proposed_and_applied_by_the_quorum(
    void **state)
{
	struct env *e = *state;
	struct tk_request_info info;
	struct tk_vote_result res;
	uint8_t md[TK_DIGEST_LEN];
	json_t *c;
	char *s;
	int64_t id = propose(e, e->requester, BIND("invoices"));

	assert_int_equal(tk_approvals_request_get(e->ap, id, &info), 0);
	assert_int_equal(info.kind, TK_REQ_CHANGE);
	/* The digest every approver signs covers exactly this diff. */
	SHA256((const unsigned char *)info.canonical,
	    strlen(info.canonical), md);
	assert_memory_equal(md, info.digest, TK_DIGEST_LEN);
	assert_non_null(c = json_loads(info.canonical, 0, NULL));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    c, "before"), "scenario")), "");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    c, "after"), "scenario")), "invoices");
	assert_string_equal(json_string_value(json_object_get(c, "target")),
	    "account/sa-billing");
	json_decref(c);
	tk_request_info_clear(&info);
	/* The proposer (an approver too) never counts. */
	assert_int_equal(vote(e, &e->rk, id, TK_DECIDE_APPROVE, &res),
	    TK_APR_ERR_SELF_APPROVAL);
	assert_int_equal(vote(e, &e->ak, id, TK_DECIDE_APPROVE, &res), 0);
	assert_null(scenario_of(e, "sa-billing"));
	assert_int_equal(vote(e, &e->bk, id, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(res.state, TK_REQ_GRANTED);
	assert_non_null(s = scenario_of(e, "sa-billing"));
	assert_string_equal(s, "invoices");
	free(s);
}

static void
change_whose_before_moved_on_goes_stale(void **state)
{
	struct env *e = *state;
	struct tk_vote_result res;
	int64_t first = propose(e, e->requester, BIND("invoices"));
	int64_t second = propose(e, e->requester, BIND("payroll"));
	char *s;

	uint8_t ch[TK_CHALLENGE_LEN];

	assert_int_equal(vote(e, &e->ak, first, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(vote(e, &e->ak, second, TK_DECIDE_APPROVE, &res), 0);
	/* Bob's challenge for the first is issued while it still holds. */
	assert_int_equal(tk_approvals_challenge(e->ap, first, e->bob,
	    TK_DECIDE_APPROVE, ch, NULL), 0);
	assert_int_equal(vote(e, &e->bk, second, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(sign_and_vote(e, &e->bk, first, ch, ++e->bk.counter,
	    &res), TK_APR_ERR_STALE);
	assert_int_equal(res.state, TK_REQ_STALE);
	assert_non_null(strstr(res.reason, "payroll"));
	assert_int_equal(state_of(e, first), TK_REQ_STALE);
	assert_non_null(s = scenario_of(e, "sa-billing"));
	assert_string_equal(s, "payroll");
	free(s);
	assert_int_equal(tk_approvals_challenge(e->ap, first, e->carol,
	    TK_DECIDE_APPROVE, ch, NULL), TK_APR_ERR_NOT_PENDING);
}

static void
stale_change_gets_no_challenge(void **state)
{
	struct env *e = *state;
	struct tk_vote_result res;
	uint8_t ch[TK_CHALLENGE_LEN];
	int64_t first = propose(e, e->requester, BIND("invoices"));
	int64_t second = propose(e, e->requester, BIND("payroll"));

	assert_int_equal(vote(e, &e->ak, second, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(vote(e, &e->bk, second, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(tk_approvals_challenge(e->ap, first, e->carol,
	    TK_DECIDE_APPROVE, ch, NULL), TK_APR_ERR_STALE);
	assert_int_equal(state_of(e, first), TK_REQ_STALE);
}

static void
bad_types_are_not_registered(void **state)
{
	static const struct tk_change_type nameless = { "Bad Name",
	    TK_ROLE_ADMIN, binding_prepare, binding_before, binding_apply };
	static const struct tk_change_type partial = { "test.partial",
	    TK_ROLE_ADMIN, binding_prepare, NULL, binding_apply };

	(void)state;
	assert_int_equal(tk_change_register(&binding), TK_APR_ERR_EXISTS);
	assert_int_equal(tk_change_register(&nameless), TK_APR_ERR_INVALID);
	assert_int_equal(tk_change_register(&partial), TK_APR_ERR_INVALID);
	assert_non_null(tk_change_find("policy.set"));
	assert_null(tk_change_find("test.partial"));
}

static void
bad_proposals_are_refused_and_store_nothing(void **state)
{
	struct env *e = *state;
	int64_t id = 7, *ids = NULL;
	size_t n = 9;
	static const char *bad[] = {
		"", "[]", "{\"type\":\"test.binding\"}",
		BIND("x") "x",
		"{\"type\":\"nope\",\"reason\":\"r\",\"ticket\":\"T\","
		    "\"args\":{}}",
		"{\"type\":\"test.binding\",\"reason\":\"r\",\"ticket\":\"T\","
		    "\"args\":{\"account\":\"a\"}}",
		"{\"type\":\"test.binding\",\"reason\":\"\",\"ticket\":\"T\","
		    "\"args\":{\"account\":\"a\",\"scenario\":\"s\"}}",
		"{\"type\":\"test.binding\",\"reason\":\"r\",\"ticket\":\"T\","
		    "\"args\":{\"account\":\"a\",\"scenario\":\"s\"},\"x\":1}",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tk_approvals_propose(e->ap, e->requester,
		    bad[i], strlen(bad[i]), &id, NULL, 0),
		    TK_APR_ERR_INVALID);
	assert_int_equal(id, 0);
	/* A proposer without the type's role. */
	assert_int_equal(tk_approvals_propose(e->ap, e->alice, BIND("x"),
	    strlen(BIND("x")), &id, NULL, 0), TK_APR_ERR_ROLE);
	assert_int_equal(tk_approvals_changes(e->ap, &ids, &n), 0);
	assert_int_equal(n, 0);
	free(ids);
}

static void
added_key_of_an_approver_waits_for_the_quorum(void **state)
{
	struct env *e = *state;
	struct tk_credential c, got;
	struct tk_vote_result res;
	struct key extra;
	json_t *args;
	char *json;
	int64_t id;

	memset(&extra, 0, sizeof(extra));
	registered(&extra, e->carol, &c);
	args = json_pack("{s:s,s:s,s:s,s:{s:I,s:o}}", "type",
	    "credential.add", "reason", "second key", "ticket", "SEC-1",
	    "args", "person", (json_int_t)e->carol, "credential",
	    tk_credential_to_json(&c));
	assert_non_null(json = json_dumps(args, JSON_COMPACT));
	json_decref(args);
	id = propose(e, e->carol, json);
	free(json);
	assert_int_equal(tk_approvals_credential_get(e->ap, c.id, c.id_len,
	    &got), TK_APR_ERR_CREDENTIAL);
	/* Carol's first key cannot carry her second one. */
	assert_int_equal(vote(e, &e->ck, id, TK_DECIDE_APPROVE, &res),
	    TK_APR_ERR_SELF_APPROVAL);
	assert_int_equal(vote(e, &e->ak, id, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(vote(e, &e->bk, id, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(res.state, TK_REQ_GRANTED);
	assert_int_equal(tk_approvals_credential_get(e->ap, c.id, c.id_len,
	    &got), 0);
	assert_int_equal(got.person_id, e->carol);
	assert_memory_equal(got.cose_key, c.cose_key, c.cose_key_len);
	softauthn_free(&extra.sa);
}

/* ---- the person a change is about, and names ----------------------- */

/* adam: an admin who proposes (an approver too, with a key). */
static int64_t
admin(struct env *e, struct key *k)
{
	int64_t id = person(e, "adam", "it", TK_ROLE_ADMIN |
	    TK_ROLE_APPROVER);

	memset(k, 0, sizeof(*k));
	enroll(e, k, id);
	return id;
}

static char *
update_json(int64_t who, const char *args)
{
	char *json;
	size_t n = strlen(args) + 160;

	assert_non_null(json = malloc(n));
	(void)snprintf(json, n, "{\"type\":\"person.update\",\"reason\":"
	    "\"promotion\",\"ticket\":\"CHG-8\",\"args\":{\"person\":%lld%s}}",
	    (long long)who, args);
	return json;
}

static void
person_a_change_is_about_cannot_decide_on_it(void **state)
{
	struct env *e = *state;
	struct tk_vote_result res;
	struct tk_person p;
	struct key adam_key;
	int64_t adam = admin(e, &adam_key), id;
	char *json = update_json(e->carol, ",\"roles\":[\"admin\","
	    "\"approver\"]");

	id = propose(e, adam, json);
	free(json);
	/* carol approving her own promotion, or rejecting it: refused. */
	assert_refused(e, id, vote(e, &e->ck, id, TK_DECIDE_APPROVE, &res),
	    TK_APR_ERR_SUBJECT, &res, "the person this change is about");
	assert_refused(e, id, vote(e, &e->ck, id, TK_DECIDE_REJECT, &res),
	    TK_APR_ERR_SUBJECT, &res, "the person this change is about");
	assert_int_equal(res.state, TK_REQ_PENDING);
	assert_int_equal(vote(e, &e->ak, id, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(res.state, TK_REQ_PENDING);
	assert_int_equal(res.approvals, 1);
	assert_int_equal(tk_approvals_person_get(e->ap, e->carol, &p), 0);
	assert_int_equal(p.roles, TK_ROLE_APPROVER);
	/* Two approvers besides proposer and subject apply it. */
	assert_int_equal(vote(e, &e->bk, id, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(res.state, TK_REQ_GRANTED);
	assert_int_equal(res.approvals, 2);
	assert_int_equal(tk_approvals_person_get(e->ap, e->carol, &p), 0);
	assert_int_equal(p.roles, TK_ROLE_ADMIN | TK_ROLE_APPROVER);
	softauthn_free(&adam_key.sa);
}

/* Anyone may propose a key for someone else; that someone never counts. */
static void
key_for_another_person_is_not_approved_by_them(void **state)
{
	struct env *e = *state;
	struct tk_credential c;
	struct tk_vote_result res;
	struct key extra;
	json_t *args;
	char *json;
	int64_t id;

	memset(&extra, 0, sizeof(extra));
	registered(&extra, e->carol, &c);
	args = json_pack("{s:s,s:s,s:s,s:{s:I,s:o}}", "type",
	    "credential.add", "reason", "a key for carol", "ticket", "SEC-3",
	    "args", "person", (json_int_t)e->carol, "credential",
	    tk_credential_to_json(&c));
	assert_non_null(json = json_dumps(args, JSON_COMPACT));
	json_decref(args);
	id = propose(e, e->alice, json);
	free(json);
	assert_refused(e, id, vote(e, &e->ck, id, TK_DECIDE_APPROVE, &res),
	    TK_APR_ERR_SUBJECT, &res, "the person this change is about");
	assert_int_equal(vote(e, &e->bk, id, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(res.state, TK_REQ_PENDING);
	softauthn_free(&extra.sa);
}

static void
names_are_plain_words_with_a_letter_or_digit_at_each_end(void **state)
{
#define L32 "abcdefghijklmnopqrstuvwxyz012345"
	static const char *good[] = { "alice", "a", "7", "x9", "mary-jane",
	    "j.doe", "ops_2", "A.B-C_D", L32 L32 };
	static const char *bad[] = { "", "bob.", "..", "-x", ".x", "x-",
	    "_x", "x_", "a b", "<img src=x onerror=alert(7)> team",
	    "caf\xc3\xa9", "tab\tname", L32 L32 "6" };
#undef L32
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (tk_apr_check_name(good[i]) != 0)
			fail_msg("\"%s\" refused", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tk_apr_check_name(bad[i]) == 0)
			fail_msg("\"%s\" taken", bad[i]);
	assert_int_equal(tk_apr_check_name(NULL), -1);
}

/* The proposal is refused with want and why in words; nothing stored. */
static void
proposal_refused(struct env *e, int64_t who, const char *json, int want,
    const char *why)
{
	char words[TK_WHY_MAX] = "";
	int64_t id = 7;
	int rc;

	rc = tk_approvals_propose(e->ap, who, json, strlen(json), &id, words,
	    sizeof(words));
	if (rc != want)
		fail_msg("%s: got %d (%s), want %d", json, rc,
		    tk_apr_strerror(rc), want);
	if (strstr(words, why) == NULL)
		fail_msg("%s: why \"%s\" lacks \"%s\"", json, words, why);
	assert_int_equal(id, 0);
}

static char *
enroll_json(const char *name, const char *team)
{
	struct tk_credential c;
	struct key k;
	json_t *o;
	char *json;

	memset(&k, 0, sizeof(k));
	registered(&k, 0, &c);
	o = json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:[s],s:o}}", "type",
	    "person.enroll", "reason", "new hire", "ticket", "HR-1", "args",
	    "name", name, "team", team, "roles", "approver", "credential",
	    tk_credential_to_json(&c));
	assert_non_null(json = json_dumps(o, JSON_COMPACT));
	json_decref(o);
	softauthn_free(&k.sa);
	return json;
}

static void
changes_set_only_names_by_the_rule(void **state)
{
	struct env *e = *state;
	struct tk_person p;
	struct key adam_key;
	int64_t adam = admin(e, &adam_key), *ids = NULL;
	size_t i, n = 9;
	static const char *teams[] = { "<img src=x onerror=alert(7)> team",
	    "ops.", "-ops", "" };
	static const char *names[] = { "bob.", "..", "-x", "a b" };
	char *json, args[128];

	for (i = 0; i < sizeof(teams) / sizeof(teams[0]); i++) {
		(void)snprintf(args, sizeof(args), ",\"team\":\"%s\"",
		    teams[i]);
		json = update_json(e->carol, args);
		proposal_refused(e, adam, json, TK_APR_ERR_INVALID,
		    "field \"team\" takes 1 to 64 of A-Z a-z 0-9 . _ -, with "
		    "a letter or digit first and last");
		free(json);
		json = enroll_json("newcomer", teams[i]);
		proposal_refused(e, adam, json, TK_APR_ERR_INVALID,
		    "field \"team\" takes");
		free(json);
	}
	assert_journaled(e, "change.propose.refused", "takes 1 to 64");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		json = enroll_json(names[i], "ops");
		proposal_refused(e, adam, json, TK_APR_ERR_INVALID,
		    "field \"name\" takes");
		free(json);
	}
	assert_int_equal(tk_approvals_person_get(e->ap, e->carol, &p), 0);
	assert_string_equal(p.team, "ops");
	assert_int_equal(tk_approvals_changes(e->ap, &ids, &n), 0);
	assert_int_equal(n, 0);
	free(ids);
	/* A good name still makes a change. */
	json = enroll_json("newcomer", "ops");
	(void)propose(e, adam, json);
	free(json);
	softauthn_free(&adam_key.sa);
}

static void
names_are_unique_regardless_of_case(void **state)
{
	struct env *e = *state;
	struct tk_person p;
	struct key adam_key;
	int64_t adam = admin(e, &adam_key), id = 0;
	char *json;

	/* "ALICE" beside alice: refused by the C API and by person.enroll. */
	assert_int_equal(tk_approvals_person_add(e->ap, "root", "ALICE",
	    "ops", TK_ROLE_REQUESTER, &id), TK_APR_ERR_EXISTS);
	assert_journaled(e, "person.enroll.refused", "already taken");
	assert_int_equal(tk_approvals_person_add(e->ap, "root", "Bob", "sec",
	    TK_ROLE_REQUESTER, &id), TK_APR_ERR_EXISTS);
	assert_int_equal(tk_approvals_person_add(e->ap, "root", "bob.", "sec",
	    TK_ROLE_REQUESTER, &id), TK_APR_ERR_INVALID);
	assert_int_equal(tk_approvals_person_add(e->ap, "root", "bobby",
	    "<b>sec</b>", TK_ROLE_REQUESTER, &id), TK_APR_ERR_INVALID);
	assert_int_equal(tk_approvals_person_by_name(e->ap, "ALICE", &p),
	    TK_APR_ERR_NOT_FOUND);
	json = enroll_json("ALICE", "ops");
	proposal_refused(e, adam, json, TK_APR_ERR_EXISTS, "");
	free(json);
	/* The holder of a name, whatever its case. */
	assert_int_equal(tk_approvals_name_holder(e->ap, "aLiCe", &p), 0);
	assert_int_equal(p.id, e->alice);
	assert_string_equal(p.name, "alice");
	assert_int_equal(tk_approvals_name_holder(e->ap, "alicia", &p),
	    TK_APR_ERR_NOT_FOUND);
	/* A new name of any case is fine, and then taken in every case. */
	assert_int_equal(tk_approvals_person_add(e->ap, "root", "Dave",
	    "qa", TK_ROLE_REQUESTER, &id), 0);
	assert_int_equal(tk_approvals_person_add(e->ap, "root", "dave", "qa",
	    TK_ROLE_REQUESTER, &id), TK_APR_ERR_EXISTS);
	softauthn_free(&adam_key.sa);
}

static void
reactivation_is_not_immediate(void **state)
{
	struct env *e = *state;

	assert_int_equal(tk_approvals_person_set_state(e->ap, "root", e->bob,
	    TK_PERSON_SUSPENDED), 0);
	assert_int_equal(tk_approvals_person_set_state(e->ap, "root", e->bob,
	    TK_PERSON_ACTIVE), TK_APR_ERR_QUORUM);
}

static void
first_start_approves_the_file_and_later_files_only_drift(void **state)
{
	struct env *e = *state;
	char *events = NULL, *pol = NULL;
	json_t *arr, *p;
	int active = 1;
	int64_t since = 1;

	assert_int_equal(tk_approvals_policy_drift(e->ap, &active, &since),
	    0);
	assert_int_equal(active, 0);
	/* The file now asks for a weaker review rule; reopen. */
	e->policy->overdue_review_blocks = 0;
	tk_approvals_free(&e->ap);
	{
		struct tk_approvals_config cfg;

		memset(&cfg, 0, sizeof(cfg));
		cfg.db_path = e->path;
		cfg.policy = e->policy;
		cfg.journal = e->journal;
		cfg.rp_id = RP;
		cfg.origin = ORIGIN;
		cfg.clock = clock_of;
		cfg.clock_arg = e;
		cfg.policy_source = "reload";
		assert_int_equal(tk_approvals_open(&cfg, &e->ap), 0);
	}
	assert_int_equal(tk_approvals_policy(e->ap)->overdue_review_blocks,
	    1);
	assert_int_equal(tk_approvals_policy_drift(e->ap, &active, &since),
	    0);
	assert_int_equal(active, 1);
	assert_int_equal(since, T0);
	assert_int_equal(tk_approvals_drift_events(e->ap, 0, T0 + 1,
	    &events), 0);
	assert_non_null(arr = json_loads(events, 0, NULL));
	assert_int_equal(json_array_size(arr), 1);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(arr, 0), "source")), "reload");
	assert_true(json_is_false(json_object_get(json_object_get(
	    json_array_get(arr, 0), "after"), "overdue_review_blocks")));
	json_decref(arr);
	free(events);
	assert_int_equal(tk_approvals_policy_json(e->ap, &pol), 0);
	assert_non_null(p = json_loads(pol, 0, NULL));
	assert_true(json_is_true(json_object_get(json_object_get(p,
	    "approved"), "overdue_review_blocks")));
	assert_true(json_is_false(json_object_get(json_object_get(p,
	    "file"), "overdue_review_blocks")));
	json_decref(p);
	free(pol);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, apr_setup, apr_teardown)
		T(registered_type_is_proposed_and_applied_by_the_quorum),
		T(change_whose_before_moved_on_goes_stale),
		T(stale_change_gets_no_challenge),
		T(bad_types_are_not_registered),
		T(bad_proposals_are_refused_and_store_nothing),
		T(added_key_of_an_approver_waits_for_the_quorum),
		T(person_a_change_is_about_cannot_decide_on_it),
		T(key_for_another_person_is_not_approved_by_them),
		T(names_are_plain_words_with_a_letter_or_digit_at_each_end),
		T(changes_set_only_names_by_the_rule),
		T(names_are_unique_regardless_of_case),
		T(reactivation_is_not_immediate),
		T(first_start_approves_the_file_and_later_files_only_drift),
#undef T
	};

	return cmocka_run_group_tests(tests, group_setup, apr_group_teardown);
}
