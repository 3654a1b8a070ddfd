/*
 * What the approvals service tests share: one real SoftHSM2 token and
 * signer per program, and per test a fresh SQLite store, a fresh journal,
 * four people with one software security key each, and a clock that the
 * tests move.
 */
#ifndef TWOKEY_TEST_APPROVALS_ENV_H
#define TWOKEY_TEST_APPROVALS_ENV_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "twokey/approvals.h"
#include "twokey/journal.h"
#include "../lib/softauthn.h"

#define RP	"approvals.example"
#define ORIGIN	"https://approvals.example"
#define T0	1800000000

#define ELEVATION "{\"kind\":\"elevation\"," \
	"\"service_account\":\"sa-billing\"," \
	"\"connector\":\"salesforce\",\"scopes\":[\"write:invoices\"," \
	"\"read:accounts\"],\"duration\":3600,\"reason\":\"quarter close\"," \
	"\"ticket\":\"CHG-42\"}"
#define BREAKGLASS "{\"kind\":\"break-glass\",\"incident\":\"INC-7\"," \
	"\"scopes\":[\"admin:db\"],\"ttl\":1800,\"reason\":\"db down\"}"

/* One token and signer for the program; a fresh store per test. */

struct key {
	struct softauthn *sa;
	int64_t person;
	uint32_t counter;
};

struct env {
	struct tk_policy *policy;
	struct tk_journal *journal;
	struct tk_approvals *ap;
	int64_t now;
	char path[512];
	int64_t requester, alice, bob, carol;
	struct key rk, ak, bk, ck;
};

/* An assertion kept so that it can be sent again. */
struct kept {
	struct softauthn_resp r;
	struct tk_assertion as;
};

/* The clock of a struct env: e->now. */
int64_t clock_of(void *arg);

int apr_group_setup(void **state);
int apr_group_teardown(void **state);
int apr_setup(void **state);
/*
 * Makes e->policy the approved policy in force, as a governed change
 * would (written into the store, then the store reopened).
 */
void apr_policy_in_force(struct env *e);
/* The root certificate of the program's token (after apr_group_setup). */
const char *apr_root_pem(void);
int apr_teardown(void **state);

int64_t person(struct env *e, const char *name, const char *team,
    unsigned int roles);
/* A security key registered for person through the real verifier. */
void enroll(struct env *e, struct key *k, int64_t person_id);
/* The same registration, not stored: the credential into *c. */
void registered(struct key *k, int64_t person_id, struct tk_credential *c);
int64_t file(struct env *e, const char *json);
/* The key signs ch with counter; the assertion goes to request rid. */
int sign_and_vote(struct env *e, struct key *k, int64_t rid,
    const uint8_t ch[TK_CHALLENGE_LEN], uint32_t counter,
    struct tk_vote_result *res);
/* A fresh challenge for the key's owner, signed and sent. */
int vote(struct env *e, struct key *k, int64_t rid, enum tk_decision d,
    struct tk_vote_result *res);
void keep(struct key *k, const uint8_t ch[TK_CHALLENGE_LEN],
    uint32_t counter, struct kept *kp);
enum tk_request_state state_of(struct env *e, int64_t rid);
void assert_no_grant(struct env *e, int64_t rid);
/* The last journal entry has this action and text in it. */
void assert_journaled(struct env *e, const char *action, const char *text);
/* Refused with want, reason names why, nothing granted, journaled. */
void assert_refused(struct env *e, int64_t rid, int rc, int want,
    const struct tk_vote_result *res, const char *why);
int count_rows(const char *path, const char *table);

/* 1 if jwt verifies (OpenSSL alone) with the JWKS; *claims: payload. */
int jwt_verifies(const char *jwks, const char *jwt, json_t **claims);
/* base64url of the key's credential id; caller frees. */
char *cred_b64url(const struct key *k);
int has_string(const json_t *arr, const char *s);

#endif
