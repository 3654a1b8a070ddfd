/*
 * Shared inside approvals/ only: input checks, the store, and the one
 * place where events reach the journal.
 */
#ifndef TWOKEY_APPROVALS_INTERNAL_H
#define TWOKEY_APPROVALS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "twokey/approvals.h"
#include "twokey/changes.h"

#define TK_TEXT_MAX 1024	/* reason and other free text, bytes */
/* Request durations, seconds: far below 2^53, so exact in JCS. */
#define TK_DURATION_MAX ((json_int_t)10 * 366 * 24 * 3600)
/*
 * Request, policy and client data documents; small enough that a request
 * with every character escaped still fits in a journal entry's details.
 */
#define TK_JSON_MAX (16 * 1024)


/* Free text: 1 to max bytes, no control characters (UTF-8 by jansson). */
int tk_apr_check_text(const char *s, size_t max);

struct tk_approvals {
	sqlite3 *db;
	const struct tk_policy *policy;	/* in force: approved, below */
	struct tk_policy *approved;	/* owned */
	char *file_json;		/* the file's policy, canonical */
	struct tk_signer *signer;
	struct tk_journal *journal;
	char *rp_id;
	char *origin;
	int require_uv;
	tk_clock_fn clock;
	void *clock_arg;
};

int64_t tk_apr_now(struct tk_approvals *ap);

/*
 * The single place where approvals events reach the journal: actor did
 * action on object (a request id, a person, a credential), with details
 * (a JSON object, stolen; json_object() for none). NULL details mean
 * that the caller's json_pack ran out of memory: TK_APR_ERR_NOMEM, and
 * nothing is journaled. Returns 0, that, or TK_APR_ERR_JOURNAL.
 */
int tk_apr_record(struct tk_approvals *ap, const char *actor,
    const char *action, const char *object, json_t *details);

/*
 * Journals a refusal: action "<action>.refused" by actor on object with
 * the reason in words. Returns err, or TK_APR_ERR_JOURNAL if the journal
 * failed too.
 */
int tk_apr_refuse(struct tk_approvals *ap, const char *actor,
    const char *action, const char *object, int err, const char *why);

/* Journals the event, then commits; rolls back if either fails. */
int tk_apr_commit_event(struct tk_approvals *ap, const char *actor,
    const char *action, const char *object, json_t *details);

/*
 * TK_APR_OK when someone besides person is an active admin, else
 * TK_APR_ERR_LAST_ADMIN (or a store error).
 */
int tk_apr_other_admins(struct tk_approvals *ap, int64_t person);

/* ---- store.c ---- */
int tk_store_open(struct tk_approvals *ap, const char *path);
int tk_store_begin(struct tk_approvals *ap);
int tk_store_commit(struct tk_approvals *ap);
void tk_store_rollback(struct tk_approvals *ap);
int tk_store_prepare(struct tk_approvals *ap, const char *sql,
    sqlite3_stmt **st);
/* Runs a prepared statement to completion; 0 or TK_APR_ERR_DB/EXISTS. */
int tk_store_done(struct tk_approvals *ap, sqlite3_stmt *st);

int tk_store_person_get(struct tk_approvals *ap, int64_t id,
    struct tk_person *out);
int tk_store_cred_get(struct tk_approvals *ap, const uint8_t *id,
    size_t len, struct tk_credential *out);
int tk_store_cred_update(struct tk_approvals *ap,
    const struct tk_credential *c);

struct tk_challenge_row {
	int64_t request_id;
	int64_t person_id;
	enum tk_decision decision;
	int64_t expires;
	int64_t used;		/* 0 unless used */
};

int tk_store_challenge_get(struct tk_approvals *ap,
    const uint8_t challenge[TK_CHALLENGE_LEN], struct tk_challenge_row *out);
int tk_store_challenge_use(struct tk_approvals *ap,
    const uint8_t challenge[TK_CHALLENGE_LEN], int64_t now);
int tk_store_request_state(struct tk_approvals *ap, int64_t id,
    enum tk_request_state state);

/* The recorded ballots of a request, voters as they are now. */
struct tk_ballot_set {
	struct tk_ballot *b;
	char (*team)[TK_NAME_MAX + 1];
	uint8_t **cred_id;
	size_t *cred_id_len;
	size_t n;
};

int tk_store_ballots(struct tk_approvals *ap, int64_t request_id,
    struct tk_ballot_set *out);
void tk_ballot_set_clear(struct tk_ballot_set *s);

/* The int64 first column of sql with arg bound to ?1; free(*ids). */
int tk_store_ids(struct tk_approvals *ap, const char *sql, int64_t arg,
    int64_t **ids, size_t *n);

/* ---- policy_store.c: the approved policy and its drift ---- */
/* Creates the policy tables (IF NOT EXISTS); called by tk_store_open. */
int tk_policy_store_schema(struct tk_approvals *ap);
/*
 * At open: the file's policy becomes the approved one on the first
 * start; afterwards a differing file is journaled as drift. Loads the
 * approved policy into ap->approved and ap->policy.
 */
int tk_policy_store_open(struct tk_approvals *ap, const struct tk_policy *file,
    const char *source);
/* Re-reads the approved policy after a commit that changed it. */
int tk_policy_store_reload(struct tk_approvals *ap);
/* The canonical text of the approved policy; free(). */
int tk_policy_store_approved(struct tk_approvals *ap, json_t **out);
/*
 * Stores p (canonical object) as approved, inside the caller's txn; when
 * the file's policy differs, it is recorded as behind the approved one
 * (not drifted) for as long as it stays unchanged.
 */
int tk_policy_store_put(struct tk_approvals *ap, json_t *policy,
    const char *source, int64_t now);
/* Records drift if the file and the approved policy differ (in a txn). */
int tk_policy_store_drift_check(struct tk_approvals *ap, const char *source,
    int64_t now);
/* Whether the file is the one an approved change left behind. */
int tk_policy_store_file_behind(struct tk_approvals *ap, int *behind);

/* ---- change_people.c ---- */
/*
 * The person a change is about, from the target in its canonical JSON:
 * "person/ID" (any type's), or "person:NAME" once someone holds that
 * name in any case; 0 when the target names no person. Their ballots
 * never count, as the requester's do not.
 */
int tk_change_subject(struct tk_approvals *ap, const char *canonical,
    int64_t *person);

/* ---- change.c ---- */
/*
 * The change of request req is still applicable: before recomputed equals
 * the stored one. TK_APR_ERR_STALE with why filled when not.
 */
int tk_change_check(struct tk_approvals *ap, const struct tk_request_info *req,
    int64_t now, char *why, size_t whylen);
/* Applies req's change (quorum reached, in the txn) and journals it. */
int tk_change_apply(struct tk_approvals *ap, const struct tk_request_info *req,
    int64_t now);
/* The policy.set type, and the people types (change_people.c). */
extern const struct tk_change_type tk_change_policy_set;
extern const struct tk_change_type tk_change_person_enroll;
extern const struct tk_change_type tk_change_credential_add;
extern const struct tk_change_type tk_change_person_update;
extern const struct tk_change_type tk_change_person_reactivate;
/* The inventory's governed import (inventory_gov.c). */
extern const struct tk_change_type tk_change_inventory_import;
/* Active and holding one of roles; TK_APR_ERR_INACTIVE / _ROLE. */
int tk_apr_actor_check(struct tk_approvals *ap, int64_t id, unsigned int roles,
    struct tk_person *p);
/* Inserts a credential row (in the caller's txn). */
int tk_store_cred_insert(struct tk_approvals *ap,
    const struct tk_credential *c);

/* ---- grant.c ---- */
/*
 * Signs and stores the grant of a request that reached its quorum; the
 * credential ids of the counted ballots go into the token.
 */
int tk_grant_issue(struct tk_approvals *ap,
    const struct tk_request_info *req, const struct tk_ballot_set *set,
    const struct tk_quorum_result *q, int64_t now, char *jti,
    size_t jti_len);

#endif
