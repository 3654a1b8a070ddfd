/*
 * approvals: people, their FIDO2 credentials, requests, policy, the
 * two-person quorum with segregation of duties, and the grants (ES256
 * JWTs signed in the token) that a quorum produces.
 *
 * A request is filed, checked by policy, stored as canonical JSON with
 * its SHA-256 digest. Each approver asks for a challenge bound to that
 * digest, a fresh nonce and the decision (approve or reject); the security
 * key signs it; the assertion is verified and recorded; the quorum is
 * decided from the recorded ballots and the people's current state. The
 * person behind an assertion is always the owner of our stored credential,
 * never anything the client says.
 *
 * Challenge derivation (auditors recompute it from the stored request):
 *
 *   challenge = SHA-256("twokey-approval-v1" || decision || digest || nonce)
 *
 * "twokey-approval-v1" is those 18 ASCII bytes without a terminator,
 * decision is one byte (0x01 approve, 0x02 reject), digest is the 32-byte
 * SHA-256 of the request's canonical JSON and nonce 32 random bytes. A
 * challenge is single use and expires (policy, 5 minutes by default).
 *
 * Time: every call that depends on time reads the clock given in
 * tk_approvals_config, so that tests move time instead of sleeping.
 */
#ifndef TWOKEY_APPROVALS_H
#define TWOKEY_APPROVALS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

enum tk_apr_err {
	TK_APR_OK = 0,
	TK_APR_ERR_NOMEM = -300,
	TK_APR_ERR_INVALID = -301,	/* malformed input */
	TK_APR_ERR_DB = -302,		/* the SQLite store failed */
	TK_APR_ERR_NOT_FOUND = -303,
	TK_APR_ERR_EXISTS = -304,	/* name or credential id taken */
	TK_APR_ERR_POLICY = -305,	/* policy invalid (quorum below 2...) */
	TK_APR_ERR_BLOCKED_SCOPE = -306,
	TK_APR_ERR_SCOPE_TEMPLATE = -307, /* scope outside the template */
	TK_APR_ERR_DURATION = -308,	/* longer than policy allows */
	TK_APR_ERR_ROLE = -309,		/* the person lacks the role */
	TK_APR_ERR_NOT_PENDING = -310,	/* request granted/rejected/expired */
	TK_APR_ERR_REQUEST_EXPIRED = -311,
	TK_APR_ERR_CHALLENGE_UNKNOWN = -312,
	TK_APR_ERR_CHALLENGE_USED = -313,	/* a replay */
	TK_APR_ERR_CHALLENGE_EXPIRED = -314,
	TK_APR_ERR_OTHER_REQUEST = -315, /* challenge of another request */
	TK_APR_ERR_SELF_APPROVAL = -316,
	TK_APR_ERR_SAME_PERSON = -317,	/* this person already voted */
	TK_APR_ERR_INACTIVE = -318,	/* suspended or left */
	TK_APR_ERR_CREDENTIAL = -319,	/* unknown credential */
	TK_APR_ERR_CLONED = -320,	/* credential flagged possibly cloned */
	TK_APR_ERR_COUNTER = -321,	/* sign counter did not increase */
	TK_APR_ERR_ASSERTION = -322,	/* WebAuthn verification failed */
	TK_APR_ERR_REVIEW_OVERDUE = -323, /* post-incident review missing */
	TK_APR_ERR_SIGN = -324,		/* the token could not sign */
	TK_APR_ERR_JOURNAL = -325,	/* the journal refused the entry */
	TK_APR_ERR_WRONG_PERSON = -326,	/* credential not of the challenged */
	TK_APR_ERR_TEAM = -327,		/* team already represented */
	TK_APR_ERR_REVOKED = -328,
	TK_APR_ERR_STALE = -329,	/* a change's "before" moved on */
	TK_APR_ERR_QUORUM = -330,	/* needs a governed change */
	TK_APR_ERR_NO_CHANGE = -331,	/* the change would change nothing */
	TK_APR_ERR_CRED_REVOKED = -332,	/* credential revoked */
	TK_APR_ERR_TOO_LARGE = -333,	/* a change over one journal entry */
	TK_APR_ERR_SUBJECT = -334,	/* the person a change is about votes */
	TK_APR_ERR_LAST_ADMIN = -335,	/* would leave no active admin */
};

const char *tk_apr_strerror(int err);

/* Roles are a bit set. */
enum tk_role {
	TK_ROLE_ADMIN = 1 << 0,
	TK_ROLE_APPROVER = 1 << 1,
	TK_ROLE_REQUESTER = 1 << 2,
	TK_ROLE_COMMANDER = 1 << 3,	/* incident commander */
	TK_ROLE_AUDITOR = 1 << 4,
};
#define TK_ROLE_ALL 0x1fu
/*
 * Roles that approve, obtain break-glass grants or administer: giving
 * them (enrollment, a new credential, a role change) is a governed change.
 */
#define TK_ROLE_GOVERNED \
	((unsigned int)(TK_ROLE_ADMIN | TK_ROLE_APPROVER | TK_ROLE_COMMANDER))

enum tk_person_state {
	TK_PERSON_ACTIVE = 0,
	TK_PERSON_SUSPENDED = 1,
	TK_PERSON_LEFT = 2,
};

#define TK_NAME_MAX 64		/* person names, team names, bytes */

/*
 * The one rule for person and team names, wherever one is set (an
 * invitation, the bootstrap, person.enroll, person.update, the C API):
 * 1 to TK_NAME_MAX bytes of A-Z a-z 0-9 . _ -, beginning and ending
 * with a letter or a digit, so that a name is a plain word (usable as a
 * shell argument, inert in a page) and "bob." or "-x" cannot pose as
 * another. Returns 0 when s is such a name, -1 otherwise (NULL too).
 * Person names are also unique regardless of ASCII case ("ALICE" is
 * taken once "alice" is enrolled).
 */
int tk_apr_check_name(const char *s);

/*
 * A token (scope, connector, service account, incident or ticket id):
 * 1 to TK_TOKEN_MAX bytes of [A-Za-z0-9._:/@_-]. Returns 0 if good.
 */
#define TK_TOKEN_MAX 128
int tk_apr_check_token(const char *s);
/* The rule in words, for refusals. */
#define TK_NAME_RULE "1 to 64 of A-Z a-z 0-9 . _ -, with a letter or " \
	"digit first and last"
#define TK_CRED_ID_MAX 1023	/* WebAuthn credential id, bytes */
#define TK_DIGEST_LEN 32
#define TK_CHALLENGE_LEN 32
#define TK_NONCE_LEN 32

struct tk_person {
	int64_t id;
	char name[TK_NAME_MAX + 1];
	char team[TK_NAME_MAX + 1];
	unsigned int roles;		/* enum tk_role bits */
	enum tk_person_state state;
};

/* Credential flags kept by approvals. */
#define TK_CRED_CLONED 0x1u	/* counter went backwards: refused */
#define TK_CRED_REVOKED 0x2u	/* revoked by an admin: refused */

#define TK_COSE_KEY_MAX 1024
#define TK_AAGUID_LEN 16
#define TK_FMT_MAX 16

/*
 * A registered credential as stored, the fields of the webauthn layer's
 * record plus the owner's person id and our flags. The id is unique across
 * all people; the owner is whoever enrolled it, never the client's word.
 */
struct tk_credential {
	uint8_t id[TK_CRED_ID_MAX];
	size_t id_len;
	int64_t person_id;
	int alg;			/* COSE algorithm */
	uint8_t cose_key[TK_COSE_KEY_MAX];
	size_t cose_key_len;
	uint32_t sign_count;
	uint8_t aaguid[TK_AAGUID_LEN];
	char fmt[TK_FMT_MAX];
	int backup_eligible;
	int backup_state;
	int uv_at_registration;
	int attestation_trusted;
	uint32_t flags;			/* TK_CRED_* */
};

/* ---- policy ------------------------------------------------------- */

/* A connector and a list of scopes (blocked, or a template's allowed). */
struct tk_scope_rule {
	char *connector;	/* "*" in a blocked rule: every connector */
	char **scopes;
	size_t nscopes;
};

struct tk_policy {
	unsigned int quorum;		/* distinct approvers, at least 2 */
	int distinct_teams;		/* approvers of distinct teams */
	int64_t challenge_ttl;		/* seconds, default 300 */
	int64_t pending_ttl;		/* seconds, default 86400 */
	int64_t breakglass_max_ttl;	/* seconds, default 14400 */
	int64_t elevation_max_duration;	/* seconds, default 28800 */
	int64_t review_due;		/* seconds after a break-glass grant */
	int overdue_review_blocks;	/* default 1 */
	char *issuer;			/* JWT iss */
	char *audience;			/* JWT aud */
	struct tk_scope_rule *blocked;
	size_t nblocked;
	struct tk_scope_rule *templates;  /* connector -> allowed scopes */
	size_t ntemplates;
	char **aaguids;			/* allowed authenticator models, */
	size_t naaguids;		/* 32 hex digits; none: any model */
	char **origins;			/* when any: the only WebAuthn */
	size_t norigins;		/* origins accepted (of the config's) */
};

/* A policy with every default; tk_policy_free releases it. */
struct tk_policy *tk_policy_new(void);
void tk_policy_free(struct tk_policy **p);

/*
 * Loads a policy from JSON (keys: quorum, distinct_teams, challenge_ttl,
 * pending_ttl, breakglass_max_ttl, elevation_max_duration, review_due,
 * overdue_review_blocks, issuer, audience, blocked {connector: [scope]},
 * templates {connector: [scope]}, aaguids, origins); absent keys keep
 * their defaults, unknown keys are refused. The result is validated: a
 * quorum below 2 is refused with TK_APR_ERR_POLICY. Caller frees *out.
 */
int tk_policy_from_json(const char *json, size_t len,
    struct tk_policy **out);
int tk_policy_validate(const struct tk_policy *p);

/* Room for a refusal in words (why), NUL included. */
#define TK_WHY_MAX 256

/*
 * The same checks without logging: a refusal is put in words in why
 * (the key at fault and what it must be), for the person who proposed
 * the policy. Those two log the words at error level, as an operator's
 * configuration file is refused.
 */
int tk_policy_parse(const char *json, size_t len, struct tk_policy **out,
    char *why, size_t whylen);
int tk_policy_check(const struct tk_policy *p, char *why, size_t whylen);

/* ---- requests ----------------------------------------------------- */

enum tk_request_kind {
	TK_REQ_ELEVATION = 1,
	TK_REQ_BREAKGLASS = 2,
	TK_REQ_CHANGE = 3,	/* a governed change (changes.h) */
};

enum tk_request_state {
	TK_REQ_PENDING = 0,
	TK_REQ_GRANTED = 1,
	TK_REQ_REJECTED = 2,
	TK_REQ_EXPIRED = 3,
	TK_REQ_STALE = 4,	/* a change whose "before" moved on */
};

#define TK_SCOPES_MAX 32
#define TK_QUORUM_MAX 32

/* What a requester asks for, parsed from the JSON they sent. */
struct tk_request {
	enum tk_request_kind kind;
	char *service_account;	/* elevation */
	char *connector;	/* elevation */
	char *incident;		/* break-glass */
	char *reason;
	char *ticket;		/* elevation, optional */
	char **scopes;		/* sorted, unique */
	size_t nscopes;
	int64_t duration;	/* elevation duration or break-glass TTL */
};

/*
 * Parses a request as a requester sends it:
 *   {"kind":"elevation","service_account":S,"connector":C,
 *    "scopes":[...],"duration":SECONDS,"reason":R,"ticket":T}
 *   {"kind":"break-glass","incident":I,"scopes":[...],"ttl":SECONDS,
 *    "reason":R}
 * Unknown keys, wrong types, empty or over-long strings, control
 * characters, duplicate scopes and non-positive durations are refused.
 * The requester is never taken from the JSON. Caller frees with
 * tk_request_free.
 */
int tk_request_parse(const char *json, size_t len, struct tk_request **out);
/* The same, with the first problem put in words in why (may be NULL). */
int tk_request_parse_why(const char *json, size_t len,
    struct tk_request **out, char *why, size_t whylen);
void tk_request_free(struct tk_request **req);

/*
 * The canonical JSON of a filed request: RFC 8785 (JCS) restricted to
 * what we store, so that jansson's compact, key-sorted output is already
 * canonical: only objects, arrays, strings and integers (no floats, no
 * null, no booleans), every string free of control characters (refused
 * at parse), object keys fixed ASCII names, scopes sorted bytewise. The
 * object holds v (1), kind, requester (name), rid (a random request id,
 * 32 hex digits), created (Unix seconds), and the request's fields.
 * *out is NUL-terminated and freed by the caller; digest is SHA-256 of
 * its bytes.
 */
int tk_request_canonical(const struct tk_request *req,
    const char *requester, const char *rid, int64_t created, char **out,
    uint8_t digest[TK_DIGEST_LEN]);

/*
 * Guardrails run before any approver sees a request: the requester is
 * active and holds the role (requester for an elevation, incident
 * commander for a break-glass), the duration is within the policy's
 * maximum, no scope is blocked for the connector (or for every connector,
 * "*"; break-glass requests use the connector name "break-glass"), and
 * where the policy has a template for the connector every scope is in it.
 */
int tk_policy_check_request(const struct tk_policy *p,
    const struct tk_request *req, const struct tk_person *requester);

/*
 * One scope on one connector: TK_APR_ERR_BLOCKED_SCOPE when a blocked
 * rule for the connector or for "*" lists it, TK_APR_ERR_SCOPE_TEMPLATE
 * when the connector has a template that lacks it, else 0. Requests and
 * the service-account inventory are judged by this one rule.
 */
int tk_policy_scope_verdict(const struct tk_policy *p, const char *connector,
    const char *scope);

/* ---- the decision rule (pure) ---------------------------------------- */

enum tk_decision {
	TK_DECIDE_APPROVE = 1,
	TK_DECIDE_REJECT = 2,
};

/* One recorded vote and the voter as they are now. */
struct tk_ballot {
	int64_t person_id;
	const char *team;
	unsigned int roles;
	enum tk_person_state state;
	uint32_t cred_flags;
	enum tk_decision decision;
};

struct tk_quorum_result {
	enum tk_request_state state;	/* PENDING, GRANTED or REJECTED */
	unsigned int approvals;		/* distinct valid approvers */
	size_t counted[TK_QUORUM_MAX];	/* ballot index of each counted */
};

/*
 * Whether a new ballot may be recorded for a request filed by requester
 * about subject (the person a governed change targets, "person/ID"; 0
 * when it is about no person), given the ballots already recorded:
 * refuses the requester and the subject, approving or rejecting
 * (SELF_APPROVAL), a person without the approver role (ROLE), a
 * suspended or departed person (INACTIVE), a flagged credential
 * (CLONED), a person who already voted, with any of their credentials
 * (SAME_PERSON), and, with distinct_teams, a second approver of a team
 * already counted (TEAM).
 */
int tk_quorum_admit(const struct tk_policy *p, int64_t requester,
    int64_t subject, const struct tk_ballot *recorded, size_t n,
    const struct tk_ballot *b);

/*
 * The decision over recorded ballots in order: a ballot counts when its
 * person is neither the requester nor the subject, is active, holds the
 * approver role, and its credential is not flagged; a person counts
 * once; with distinct_teams a team counts once. The first counting
 * rejection before the quorum is reached rejects the request; the
 * quorum's count of counting approvals grants it.
 */
void tk_quorum_decide(const struct tk_policy *p, int64_t requester,
    int64_t subject, const struct tk_ballot *ballots, size_t n,
    struct tk_quorum_result *out);

/* ---- challenges (pure) ---------------------------------------------- */

int tk_challenge_derive(enum tk_decision decision,
    const uint8_t digest[TK_DIGEST_LEN], const uint8_t nonce[TK_NONCE_LEN],
    uint8_t challenge[TK_CHALLENGE_LEN]);

/*
 * The challenge inside a clientDataJSON (base64url "challenge" member),
 * decoded; refuses anything but exactly TK_CHALLENGE_LEN bytes.
 */
int tk_challenge_from_client_data(const uint8_t *cdj, size_t len,
    uint8_t challenge[TK_CHALLENGE_LEN]);

/* ---- the service: store, votes, grants ------------------------------ */

struct tk_approvals;
struct tk_signer;
struct tk_journal;

/* Returns the current time in Unix seconds. */
typedef int64_t (*tk_clock_fn)(void *arg);

struct tk_approvals_config {
	const char *db_path;		/* SQLite file, created if missing */
	/*
	 * The configuration file's policy, validated. On the first start it
	 * becomes the approved policy; afterwards the approved policy in the
	 * store stays in force and a file that differs is journaled as drift
	 * ("policy.drift") and reported, never applied.
	 */
	const struct tk_policy *policy;
	const char *policy_source;	/* "start" or "reload"; NULL: start */
	struct tk_signer *signer;	/* signs grants; not owned */
	struct tk_journal *journal;	/* every event; required, not owned */
	const char *rp_id;		/* WebAuthn relying party id */
	const char *origin;		/* the one allowed origin */
	int require_uv;			/* user verification required */
	tk_clock_fn clock;		/* NULL: the system clock */
	void *clock_arg;
};

/*
 * Opens the store (WAL, schema version checked) and validates the policy.
 * Caller frees *out with tk_approvals_free. One tk_approvals is used by
 * one thread at a time; open one per thread to serve several (SQLite
 * serialises their writes).
 */
int tk_approvals_open(const struct tk_approvals_config *cfg,
    struct tk_approvals **out);
void tk_approvals_free(struct tk_approvals **ap);

/*
 * People. name and team follow tk_apr_check_name; a name is unique
 * regardless of case (TK_APR_ERR_EXISTS). actor is the name recorded in
 * the journal.
 */
int tk_approvals_person_add(struct tk_approvals *ap, const char *actor,
    const char *name, const char *team, unsigned int roles, int64_t *id);
int tk_approvals_person_get(struct tk_approvals *ap, int64_t id,
    struct tk_person *out);
int tk_approvals_person_set_state(struct tk_approvals *ap, const char *actor,
    int64_t id, enum tk_person_state state);

/*
 * Who can govern: counts of active people holding the admin role, the
 * approver role, and the approver role without the admin role, with the
 * policy's quorum. The first enrollment (bootstrap) is decided on these.
 */
struct tk_roster {
	unsigned int admins;
	unsigned int approvers;
	unsigned int plain_approvers;
	unsigned int quorum;
};
int tk_approvals_roster(struct tk_approvals *ap, struct tk_roster *out);

struct tk_webauthn_cred;

/*
 * The stored form of a registration that tk_webauthn_verify_registration
 * accepted, owned by person (the enrolling session's person, never the
 * client's word).
 */
int tk_credential_from_webauthn(const struct tk_webauthn_cred *w,
    int64_t person, struct tk_credential *out);

/* Stores a verified registration for cred->person_id; refuses a taken id. */
int tk_approvals_credential_add(struct tk_approvals *ap, const char *actor,
    const struct tk_credential *cred);
int tk_approvals_credential_get(struct tk_approvals *ap, const uint8_t *id,
    size_t id_len, struct tk_credential *out);

/*
 * Files a request for requester (the authenticated person) from the JSON
 * of tk_request_parse; guardrails run first. On success *request_id names
 * it; it stays pending until granted, rejected or expired.
 */
int tk_approvals_file(struct tk_approvals *ap, int64_t requester,
    const char *json, size_t len, int64_t *request_id);
/* The same; a malformed request's first problem in words in why. */
int tk_approvals_file_why(struct tk_approvals *ap, int64_t requester,
    const char *json, size_t len, int64_t *request_id, char *why,
    size_t whylen);

struct tk_request_info {
	int64_t id;
	enum tk_request_kind kind;
	enum tk_request_state state;
	int64_t requester;
	int64_t created;
	int64_t expires;		/* pending until then */
	uint8_t digest[TK_DIGEST_LEN];
	char *canonical;		/* owned; tk_request_info_clear */
};

int tk_approvals_request_get(struct tk_approvals *ap, int64_t id,
    struct tk_request_info *out);
/* Ids of requests pending at the current time, oldest first; free(*ids). */
int tk_approvals_pending(struct tk_approvals *ap, int64_t **ids,
    size_t *n);
void tk_request_info_clear(struct tk_request_info *info);

/*
 * A fresh challenge for person to decide on a pending request; single use,
 * valid for the policy's challenge_ttl. *expires may be NULL.
 */
int tk_approvals_challenge(struct tk_approvals *ap, int64_t request_id,
    int64_t person, enum tk_decision decision,
    uint8_t challenge[TK_CHALLENGE_LEN], int64_t *expires);

/* A WebAuthn get() response, decoded from base64url. */
struct tk_assertion {
	const uint8_t *cred_id;
	size_t cred_id_len;
	const uint8_t *client_data;
	size_t client_data_len;
	const uint8_t *auth_data;
	size_t auth_data_len;
	const uint8_t *sig;
	size_t sig_len;
};

struct tk_vote_result {
	enum tk_request_state state;	/* of the request after the vote */
	unsigned int approvals;		/* distinct approvers counted */
	int64_t person;			/* owner of the credential, or 0 */
	char reason[256];		/* why refused, in words; "" if not */
};

/*
 * Records one decision (approve or reject, fixed when the challenge was
 * issued) on request_id, carried by a WebAuthn assertion. Returns 0 when
 * the vote was recorded, or the refusal; either way the event is
 * journaled and res (may be NULL) says why. On quorum the grant is
 * issued in the same transaction.
 */
int tk_approvals_vote(struct tk_approvals *ap, int64_t request_id,
    const struct tk_assertion *as, struct tk_vote_result *res);

/* Marks pending requests whose time is up as expired; *n may be NULL. */
int tk_approvals_expire(struct tk_approvals *ap, unsigned int *n);

enum tk_grant_state {
	TK_GRANT_ACTIVE = 0,
	TK_GRANT_EXPIRED = 1,
	TK_GRANT_REVOKED = 2,
};

struct tk_grant_info {
	char jti[64];
	int64_t request_id;
	enum tk_request_kind kind;
	enum tk_grant_state state;	/* at the current time */
	int64_t issued;
	int64_t expires;
	int64_t revoked;		/* 0 unless revoked */
	char *jwt;			/* owned; tk_grant_info_clear */
};

int tk_approvals_grant_get(struct tk_approvals *ap, int64_t request_id,
    struct tk_grant_info *out);
void tk_grant_info_clear(struct tk_grant_info *g);
/* Revokes an active grant; a revoked or expired one is refused. */
int tk_approvals_grant_revoke(struct tk_approvals *ap, const char *actor,
    const char *jti);

/*
 * The evidence of a request as compact JSON (caller frees *out): id,
 * request (the canonical JSON), digest, state, ballots (person, team,
 * decision, at, credential, alg, cose_key, nonce, challenge, client_data,
 * auth_data, sig; binary members base64url) and the grant if any (jti,
 * jwt, state, issued, expires, revoked). Enough to recompute every
 * challenge and re-verify every assertion offline.
 */
int tk_approvals_evidence(struct tk_approvals *ap, int64_t request_id,
    char **out);

/* ---- evidence packs (approvals/access.c) --------------------------- */

/*
 * The access list: {"people":[{id, name, team, roles, state,
 * credentials: [{id, alg, aaguid, fmt, sign_count, cloned, revoked,
 * last_used}]}]},
 * people by name (id as the journal's "person/ID" names them),
 * credentials by id; last_used is the latest ballot before `before` (0
 * if none). Caller frees *out (json_decref).
 */
int tk_approvals_access_list(struct tk_approvals *ap, int64_t before,
    json_t **out);

/* Ids of the requests filed in [from, to), oldest first; free(*ids). */
int tk_approvals_period_requests(struct tk_approvals *ap, int64_t from,
    int64_t to, int64_t **ids, size_t *n);

/*
 * {"grants":[{jti, request, kind, issued, expires, ttl, state, revoked,
 * review}]}: the grants issued in [from, to), with state, revocation and
 * review ({due, filed, status: due|overdue|filed} or null) as of `at`.
 */
int tk_approvals_period_grants(struct tk_approvals *ap, int64_t from,
    int64_t to, int64_t at, json_t **out);

/* What the service enforces, for evidence packs; borrowed from ap. */
struct tk_approvals_settings {
	const struct tk_policy *policy;
	const char *rp_id;
	const char *origin;
	int require_uv;
};
void tk_approvals_settings(struct tk_approvals *ap,
    struct tk_approvals_settings *out);

/* "active", "expired" or "revoked" at time at. */
const char *tk_grant_state_at(int64_t expires, int64_t revoked, int64_t at);

/* JWKS (RFC 7517) of the token key; caller frees *out. */
int tk_approvals_jwks(struct tk_approvals *ap, char **out);

/*
 * Post-incident reviews. Each break-glass grant leaves one due
 * review_due seconds after issue; the commander who asked files it.
 * Overdue: request ids (caller frees *ids) of reviews past due and unfiled.
 */
int tk_approvals_review_file(struct tk_approvals *ap, int64_t request_id,
    int64_t person, const char *text);
int tk_approvals_reviews_overdue(struct tk_approvals *ap, int64_t **ids,
    size_t *n);

/*
 * For the people deciding on a request, as compact JSON (caller frees
 * *out): requester_name, requester_team, votes [{person, team, decision,
 * at}] in order, and template: the policy's allowed scopes for the
 * request's connector ("break-glass" for break-glass), or null when the
 * policy has none for it.
 */
int tk_approvals_request_view(struct tk_approvals *ap, int64_t request_id,
    char **out);

/*
 * The newest max grants as a compact JSON array (caller frees *out), each
 * {jti, request_id, kind, requester, issued, expires, revoked, state,
 * review_due, review_filed} (0 where there is no review); never the JWT.
 */
int tk_approvals_grants_list(struct tk_approvals *ap, size_t max,
    char **out);

/* ---- governed changes and the approved policy (changes.h) ------------ */

/* The person of that name; TK_APR_ERR_NOT_FOUND if none. */
int tk_approvals_person_by_name(struct tk_approvals *ap, const char *name,
    struct tk_person *out);
/*
 * The person whose name is name regardless of ASCII case (the exact
 * spelling first, should an older store hold two), so that a new name
 * can be refused when it only differs in case from one enrolled;
 * TK_APR_ERR_NOT_FOUND if none.
 */
int tk_approvals_name_holder(struct tk_approvals *ap, const char *name,
    struct tk_person *out);

/*
 * Proposes a governed change for proposer (the authenticated person):
 *   {"type":T,"reason":R,"ticket":K,"args":{...}}
 * The type's prepare checks args and the server computes target, before
 * and after; the change is stored as a request of kind TK_REQ_CHANGE
 * whose canonical JSON holds them, so that each approver's assertion is
 * bound to exactly that diff. It is applied, in the vote that reaches the
 * quorum, only if before still matches the store (TK_REQ_STALE if not).
 * A refusal may be put in words in why (what is wrong, for the proposer;
 * empty when the code says it all); why may be NULL.
 */
int tk_approvals_propose(struct tk_approvals *ap, int64_t proposer,
    const char *json, size_t len, int64_t *request_id, char *why,
    size_t whylen);

/* Ids of every change request (newest first, at most 256); free(*ids). */
int tk_approvals_changes(struct tk_approvals *ap, int64_t **ids, size_t *n);

/*
 * After a sign-in assertion with credential id verified (regressed 0),
 * or verified but for a sign counter not above the stored one (regressed
 * 1): a higher counter is stored, so that a clone of the key is caught at
 * the next sign-in or vote; a regression flags the credential as possibly
 * cloned (journaled as credential.flag), as a vote does.
 */
int tk_approvals_signin_counter(struct tk_approvals *ap, const uint8_t *id,
    size_t id_len, uint32_t sign_count, int regressed);

/*
 * Safe at once, from any active admin (actor_id), journaled: suspending
 * a person (tk_approvals_person_set_state with SUSPENDED or LEFT),
 * revoking a credential, blocking a scope for a connector ("*": all).
 * Reactivating a person is refused here (TK_APR_ERR_QUORUM): it is the
 * governed change "person.reactivate".
 */
int tk_approvals_credential_revoke(struct tk_approvals *ap,
    int64_t actor_id, const uint8_t *id, size_t id_len);
int tk_approvals_policy_block(struct tk_approvals *ap, int64_t actor_id,
    const char *connector, const char *scope);

/*
 * The policy as the API shows it (caller frees *out), compact JSON:
 *   {"approved":{...},"file":{...},"drift":{"active":B,"since":T,
 *    "before":{...},"after":{...}}}
 * approved is the policy in force (the last one the quorum approved, or
 * the first start's file), file the configuration file's as last loaded,
 * before/after the keys where they differ.
 */
int tk_approvals_policy_json(struct tk_approvals *ap, char **out);
/* Whether the file differs from the approved policy, and since when. */
int tk_approvals_policy_drift(struct tk_approvals *ap, int *active,
    int64_t *since);
/*
 * Drift events with from <= at < to, oldest first, as a JSON array
 * (caller frees *out) of {"id","at","source","before","after"}: for the
 * evidence pack, which lists them first.
 */
int tk_approvals_drift_events(struct tk_approvals *ap, int64_t from,
    int64_t to, char **out);

/* The policy in force (valid until the next change or reopen). */
const struct tk_policy *tk_approvals_policy(struct tk_approvals *ap);

/* The full canonical JSON object of a policy (every key); json_decref. */
json_t *tk_policy_to_json(const struct tk_policy *p);

#endif
