/*
 * Specifications of request parsing, the canonical form and its digest,
 * the policy and its guardrails, and the challenge derivation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/sha.h>

#include "twokey/approvals.h"
#include "twokey/common.h"

#define ELEVATION "{\"kind\":\"elevation\"," \
	"\"service_account\":\"sa-billing\"," \
	"\"connector\":\"salesforce\",\"scopes\":[\"write:invoices\"," \
	"\"read:accounts\"],\"duration\":3600,\"reason\":\"quarter close\"," \
	"\"ticket\":\"CHG-42\"}"

static struct tk_request *
parse(const char *json)
{
	struct tk_request *r = NULL;

	assert_int_equal(tk_request_parse(json, strlen(json), &r), TK_APR_OK);
	return r;
}

static void
elevation_parses_with_scopes_sorted(void **state)
{
	struct tk_request *r = parse(ELEVATION);

	(void)state;
	assert_int_equal(r->kind, TK_REQ_ELEVATION);
	assert_string_equal(r->service_account, "sa-billing");
	assert_string_equal(r->connector, "salesforce");
	assert_int_equal(r->nscopes, 2);
	assert_string_equal(r->scopes[0], "read:accounts");
	assert_string_equal(r->scopes[1], "write:invoices");
	assert_int_equal(r->duration, 3600);
	tk_request_free(&r);
	assert_null(r);
}

static void
canonical_form_is_sorted_compact_and_digested(void **state)
{
	static const char expect[] = "{\"connector\":\"salesforce\","
	    "\"created\":1700000000,\"duration\":3600,\"kind\":\"elevation\","
	    "\"reason\":\"quarter close\",\"requester\":\"alice\","
	    "\"rid\":\"00112233445566778899aabbccddeeff\","
	    "\"scopes\":[\"read:accounts\",\"write:invoices\"],"
	    "\"service_account\":\"sa-billing\",\"ticket\":\"CHG-42\",\"v\":1}";
	struct tk_request *r = parse(ELEVATION);
	uint8_t digest[TK_DIGEST_LEN], want[TK_DIGEST_LEN];
	char *c = NULL;

	(void)state;
	assert_int_equal(tk_request_canonical(r, "alice",
	    "00112233445566778899aabbccddeeff", 1700000000, &c, digest), 0);
	assert_string_equal(c, expect);
	SHA256((const uint8_t *)expect, strlen(expect), want);
	assert_memory_equal(digest, want, sizeof(want));
	free(c);
	tk_request_free(&r);
}

static void
reordered_input_gives_the_same_digest(void **state)
{
	static const char other[] = "{\"ticket\":\"CHG-42\",\"reason\":"
	    "\"quarter close\",\"duration\":3600,\"scopes\":[\"read:accounts\","
	    "\"write:invoices\"],\"connector\":\"salesforce\","
	    "\"service_account\":\"sa-billing\",\"kind\":\"elevation\"}";
	struct tk_request *a = parse(ELEVATION), *b = parse(other);
	uint8_t da[TK_DIGEST_LEN], db[TK_DIGEST_LEN];
	char *ca = NULL, *cb = NULL;

	(void)state;
	assert_int_equal(tk_request_canonical(a, "alice", "r1", 5, &ca, da),
	    0);
	assert_int_equal(tk_request_canonical(b, "alice", "r1", 5, &cb, db),
	    0);
	assert_string_equal(ca, cb);
	assert_memory_equal(da, db, sizeof(da));
	free(ca);
	free(cb);
	tk_request_free(&a);
	tk_request_free(&b);
}

static void
scope_and_account_names_allow_underscores(void **state)
{
	struct tk_request *r = parse("{\"kind\":\"elevation\","
	    "\"service_account\":\"sa_billing\",\"connector\":\"sf\","
	    "\"scopes\":[\"read_all\"],\"duration\":60,\"reason\":\"r\"}");

	(void)state;
	assert_string_equal(r->service_account, "sa_billing");
	assert_string_equal(r->scopes[0], "read_all");
	tk_request_free(&r);
}

static void
break_glass_parses_with_ttl(void **state)
{
	struct tk_request *r = parse("{\"kind\":\"break-glass\",\"incident\":"
	    "\"INC-7\",\"scopes\":[\"admin:db\"],\"ttl\":1800,\"reason\":"
	    "\"database down\"}");

	(void)state;
	assert_int_equal(r->kind, TK_REQ_BREAKGLASS);
	assert_string_equal(r->incident, "INC-7");
	assert_int_equal(r->duration, 1800);
	tk_request_free(&r);
}

static void
malformed_requests_are_refused(void **state)
{
	static const char *bad[] = {
	    "",
	    "[]",
	    "{\"kind\":\"elevation\"}",
	    "{\"kind\":\"other\",\"scopes\":[\"a\"],\"ttl\":1,"
	    "\"reason\":\"r\"}",
	    /* unknown key */
	    "{\"kind\":\"break-glass\",\"incident\":\"I\",\"scopes\":[\"a\"],"
	    "\"ttl\":1,\"reason\":\"r\",\"requester\":\"mallory\"}",
	    /* a field of the other kind */
	    "{\"kind\":\"break-glass\",\"incident\":\"I\",\"scopes\":[\"a\"],"
	    "\"duration\":1,\"reason\":\"r\"}",
	    /* duplicate scope, duplicate key, float, zero, negative */
	    "{\"kind\":\"break-glass\",\"incident\":\"I\",\"scopes\":[\"a\","
	    "\"a\"],\"ttl\":1,\"reason\":\"r\"}",
	    "{\"kind\":\"break-glass\",\"incident\":\"I\",\"incident\":\"J\","
	    "\"scopes\":[\"a\"],\"ttl\":1,\"reason\":\"r\"}",
	    "{\"kind\":\"break-glass\",\"incident\":\"I\",\"scopes\":[\"a\"],"
	    "\"ttl\":1.5,\"reason\":\"r\"}",
	    "{\"kind\":\"break-glass\",\"incident\":\"I\",\"scopes\":[\"a\"],"
	    "\"ttl\":0,\"reason\":\"r\"}",
	    "{\"kind\":\"break-glass\",\"incident\":\"I\",\"scopes\":[\"a\"],"
	    "\"ttl\":-5,\"reason\":\"r\"}",
	    /* beyond what JCS keeps exact */
	    "{\"kind\":\"break-glass\",\"incident\":\"I\",\"scopes\":[\"a\"],"
	    "\"ttl\":9007199254740993,\"reason\":\"r\"}",
	    /* control character, empty scope list, scope with a space */
	    "{\"kind\":\"break-glass\",\"incident\":\"I\",\"scopes\":[\"a\"],"
	    "\"ttl\":1,\"reason\":\"a\\nb\"}",
	    "{\"kind\":\"break-glass\",\"incident\":\"I\",\"scopes\":[],"
	    "\"ttl\":1,\"reason\":\"r\"}",
	    "{\"kind\":\"break-glass\",\"incident\":\"I\",\"scopes\":[\"a b\"],"
	    "\"ttl\":1,\"reason\":\"r\"}",
	    /* embedded NUL */
	    "{\"kind\":\"break-glass\",\"incident\":\"I\",\"scopes\":[\"a\"],"
	    "\"ttl\":1,\"reason\":\"r\\u0000x\"}",
	};
	struct tk_request *r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = (struct tk_request *)&r;
		assert_int_equal(tk_request_parse(bad[i], strlen(bad[i]), &r),
		    TK_APR_ERR_INVALID);
		assert_null(r);
	}
}

static struct tk_policy *
load(const char *json, int expect)
{
	struct tk_policy *p = NULL;

	assert_int_equal(tk_policy_from_json(json, strlen(json), &p), expect);
	return p;
}

static void
policy_defaults_are_two_people_and_documented_times(void **state)
{
	struct tk_policy *p = load("{}", TK_APR_OK);

	(void)state;
	assert_int_equal(p->quorum, 2);
	assert_int_equal(p->challenge_ttl, 300);
	assert_int_equal(p->pending_ttl, 86400);
	assert_int_equal(p->breakglass_max_ttl, 4 * 3600);
	assert_int_equal(p->overdue_review_blocks, 1);
	tk_policy_free(&p);
}

static void
policy_below_two_is_refused_at_load(void **state)
{
	(void)state;
	assert_null(load("{\"quorum\":1}", TK_APR_ERR_POLICY));
	assert_null(load("{\"quorum\":0}", TK_APR_ERR_POLICY));
	assert_null(load("{\"quorum\":-2}", TK_APR_ERR_POLICY));
	assert_null(load("{\"quorum\":4294967298}", TK_APR_ERR_POLICY));
	assert_null(load("{\"quorum\":\"2\"}", TK_APR_ERR_POLICY));
	assert_null(load("{\"quorom\":3}", TK_APR_ERR_POLICY));
	assert_null(load("{\"pending_ttl\":0}", TK_APR_ERR_POLICY));
}

static struct tk_person
person(unsigned int roles)
{
	struct tk_person p;

	memset(&p, 0, sizeof(p));
	p.id = 7;
	(void)snprintf(p.name, sizeof(p.name), "carol");
	(void)snprintf(p.team, sizeof(p.team), "ops");
	p.roles = roles;
	p.state = TK_PERSON_ACTIVE;
	return p;
}

static void
guardrails_name_what_they_refuse(void **state)
{
	struct tk_policy *p = load("{\"blocked\":{\"salesforce\":"
	    "[\"write:invoices\"],\"*\":[\"root\"]},\"templates\":"
	    "{\"salesforce\":[\"read:accounts\",\"read:leads\"]}}", TK_APR_OK);
	struct tk_request *r = parse(ELEVATION);
	struct tk_person who = person(TK_ROLE_REQUESTER);

	(void)state;
	assert_int_equal(tk_policy_check_request(p, r, &who),
	    TK_APR_ERR_BLOCKED_SCOPE);
	free(r->scopes[1]);
	r->scopes[1] = strdup("write:leads");
	assert_int_equal(tk_policy_check_request(p, r, &who),
	    TK_APR_ERR_SCOPE_TEMPLATE);
	free(r->scopes[1]);
	r->scopes[1] = strdup("read:leads");
	assert_int_equal(tk_policy_check_request(p, r, &who), TK_APR_OK);
	r->duration = 9 * 3600;
	assert_int_equal(tk_policy_check_request(p, r, &who),
	    TK_APR_ERR_DURATION);
	r->duration = 3600;
	who.roles = TK_ROLE_APPROVER;
	assert_int_equal(tk_policy_check_request(p, r, &who),
	    TK_APR_ERR_ROLE);
	who.roles = TK_ROLE_REQUESTER;
	who.state = TK_PERSON_SUSPENDED;
	assert_int_equal(tk_policy_check_request(p, r, &who),
	    TK_APR_ERR_INACTIVE);
	tk_request_free(&r);
	tk_policy_free(&p);
}

static void
break_glass_needs_a_commander_and_at_most_four_hours(void **state)
{
	struct tk_policy *p = load("{\"blocked\":{\"*\":[\"root\"]}}",
	    TK_APR_OK);
	struct tk_request *r = parse("{\"kind\":\"break-glass\",\"incident\":"
	    "\"INC-7\",\"scopes\":[\"admin:db\"],\"ttl\":14400,\"reason\":"
	    "\"database down\"}");
	struct tk_person who = person(TK_ROLE_REQUESTER);

	(void)state;
	assert_int_equal(tk_policy_check_request(p, r, &who),
	    TK_APR_ERR_ROLE);
	who.roles = TK_ROLE_COMMANDER;
	assert_int_equal(tk_policy_check_request(p, r, &who), TK_APR_OK);
	r->duration = 14401;
	assert_int_equal(tk_policy_check_request(p, r, &who),
	    TK_APR_ERR_DURATION);
	r->duration = 60;
	free(r->scopes[0]);
	r->scopes[0] = strdup("root");
	assert_int_equal(tk_policy_check_request(p, r, &who),
	    TK_APR_ERR_BLOCKED_SCOPE);
	tk_request_free(&r);
	tk_policy_free(&p);
}

static void
challenge_is_sha256_of_domain_decision_digest_nonce(void **state)
{
	uint8_t digest[32], nonce[32], buf[18 + 1 + 64], want[32], got[32];
	uint8_t rej[32];
	size_t i;

	(void)state;
	for (i = 0; i < 32; i++) {
		digest[i] = (uint8_t)i;
		nonce[i] = (uint8_t)(0xa0 + i);
	}
	memcpy(buf, "twokey-approval-v1", 18);
	buf[18] = 0x01;
	memcpy(buf + 19, digest, 32);
	memcpy(buf + 51, nonce, 32);
	SHA256(buf, sizeof(buf), want);
	assert_int_equal(tk_challenge_derive(TK_DECIDE_APPROVE, digest, nonce,
	    got), 0);
	assert_memory_equal(got, want, 32);
	assert_int_equal(tk_challenge_derive(TK_DECIDE_REJECT, digest, nonce,
	    rej), 0);
	assert_memory_not_equal(got, rej, 32);
	assert_int_equal(tk_challenge_derive((enum tk_decision)0, digest,
	    nonce, got), TK_APR_ERR_INVALID);
}

static void
challenge_is_read_from_client_data_strictly(void **state)
{
	uint8_t ch[32], want[32];
	char *b64, cdj[256];
	size_t i;

	(void)state;
	for (i = 0; i < 32; i++)
		want[i] = (uint8_t)(i * 7);
	b64 = tk_b64url_encode(want, 32);
	(void)snprintf(cdj, sizeof(cdj), "{\"type\":\"webauthn.get\","
	    "\"challenge\":\"%s\",\"origin\":\"https://a\"}", b64);
	assert_int_equal(tk_challenge_from_client_data((uint8_t *)cdj,
	    strlen(cdj), ch), 0);
	assert_memory_equal(ch, want, 32);
	/* 31 bytes is not one of ours. */
	free(b64);
	b64 = tk_b64url_encode(want, 31);
	(void)snprintf(cdj, sizeof(cdj), "{\"challenge\":\"%s\"}", b64);
	assert_int_equal(tk_challenge_from_client_data((uint8_t *)cdj,
	    strlen(cdj), ch), TK_APR_ERR_INVALID);
	free(b64);
	assert_int_equal(tk_challenge_from_client_data((const uint8_t *)"{",
	    1, ch), TK_APR_ERR_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(elevation_parses_with_scopes_sorted),
		cmocka_unit_test(canonical_form_is_sorted_compact_and_digested),
		cmocka_unit_test(reordered_input_gives_the_same_digest),
		cmocka_unit_test(scope_and_account_names_allow_underscores),
		cmocka_unit_test(break_glass_parses_with_ttl),
		cmocka_unit_test(malformed_requests_are_refused),
		cmocka_unit_test(
		    policy_defaults_are_two_people_and_documented_times),
		cmocka_unit_test(policy_below_two_is_refused_at_load),
		cmocka_unit_test(guardrails_name_what_they_refuse),
		cmocka_unit_test(
		    break_glass_needs_a_commander_and_at_most_four_hours),
		cmocka_unit_test(
		    challenge_is_sha256_of_domain_decision_digest_nonce),
		cmocka_unit_test(challenge_is_read_from_client_data_strictly),
	};

	tk_log_set_level(TK_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
