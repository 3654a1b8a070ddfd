/* Internal to the web layer: the server, its routes and handlers. */
#ifndef TWOKEY_WEB_INT_H
#define TWOKEY_WEB_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "twokey/web.h"

#define WEB_ADDR_MAX 64
#define WEB_PARAM_MAX 128
#define WEB_CHALLENGES 256
#define WEB_RATE_SLOTS 1024

/* What a handler returns: a status and a JSON body or a text body. */
struct reply {
	unsigned int status;
	json_t *json;		/* owned */
	char *text;		/* owned; with ctype */
	size_t text_len;
	const char *ctype;
	char set_cookie[256];	/* Set-Cookie value, "" for none */
	int close;		/* close the connection after it */
	const char *www_auth;	/* WWW-Authenticate value, or NULL */
	char allow[64];		/* Allow value on 405, "" for none */
	int retry_after;	/* 429: seconds; 0: the rate window's rest */
};

/* Who a request comes from, once its session (or API key) checked out. */
struct who {
	int64_t person;		/* 0: nobody signed in */
	char name[65];
	unsigned int roles;	/* enum tk_role bits */
};

/* One request as handlers see it, after the gate. */
struct req {
	const struct route *route;
	char addr[WEB_ADDR_MAX];	/* client address, numeric */
	char param[WEB_PARAM_MAX];	/* the {id} segment, if any */
	char *body;
	size_t body_len;
	size_t body_cap;
	int too_big;
	json_t *json;			/* parsed body, owned */
	struct who who;
	int via_key;			/* authenticated by an API key */
	int csv;			/* raw body sent as text/csv */
	char cookie[64];		/* the session cookie as sent */
	struct MHD_Connection *conn;	/* for query arguments */
	const struct page *page;	/* a page to serve, once read */
};

struct MHD_Connection;
struct tk_web;
typedef void (*handler_fn)(struct tk_web *, struct req *, struct reply *);

/* What a route demands before its handler runs. */
#define AUTH_NONE 0		/* public */
#define AUTH_SESSION 1		/* a signed-in person; CSRF token on */
				/* every method but GET */

struct route {
	struct tk_web_route_info info;
	handler_fn fn;
	int auth;
	unsigned int key_scope;	/* API keys with this scope may call it; */
				/* 0: sessions only */
};

#define WEB_SESSIONS 256
#define SESSION_COOKIE "tk_session"
#define CSRF_HEADER "X-CSRF-Token"

struct session {
	uint8_t key_hash[32];	/* SHA-256 of the cookie value */
	uint8_t csrf_hash[32];	/* SHA-256 of the CSRF token */
	struct who who;
	time_t expires;		/* 0: free slot */
};

struct challenge {
	uint8_t id[16];
	uint8_t value[32];
	uint8_t bind[32];	/* invitation hash, or zeros (sign-in) */
	uint64_t owner;		/* keyed hash of the asking address */
	time_t expires;		/* 0: free slot */
};

/*
 * Challenges one client address may hold at once. A person signing in
 * or enrolling needs one; the cap keeps a few addresses from filling the
 * shared pool and turning every other sign-in away.
 */
#define WEB_CHALLENGES_PER_ADDR 4

struct rate_slot {
	uint64_t key;		/* keyed hash of "kind:value" */
	time_t window;		/* start of the current minute */
	unsigned int count;
};

enum {
	M_CLASS_2XX, M_CLASS_3XX, M_CLASS_4XX, M_CLASS_5XX, M_CLASSES
};

struct sqlite3;

struct tk_web {
	struct MHD_Daemon *mhd;
	struct sqlite3 *db;		/* web.db; serialized mode */
	const struct tk_web_backend *be;
	int listen_fd;
	char *cert_pem;
	char *key_pem;
	size_t key_pem_len;
	size_t max_body;
	unsigned int request_timeout;
	unsigned int rate_limit;
	unsigned int challenge_ttl;
	char *rp_id;
	time_t started;
	atomic_int ready;
	atomic_uint inflight;
	atomic_ulong requests[M_CLASSES];
	atomic_ulong refused_body;
	atomic_ulong rate_limited;
	pthread_mutex_t lock;		/* challenges and rate slots */
	struct challenge challenges[WEB_CHALLENGES];
	struct rate_slot rate[WEB_RATE_SLOTS];
	struct session sessions[WEB_SESSIONS];
	unsigned int session_ttl;
	char *scratch_dir;		/* private folder for exports */
	const char *const *origins;	/* borrowed from the config */
	size_t norigins;
	uint8_t rate_key[32];		/* hides the slot keys */
	const struct tk_web_pages *pages;	/* borrowed; may be NULL */
};

/* ---- the pages (pages.c): static files from web_root ---- */

struct page;
struct MHD_Connection;
struct MHD_Response;

/* The page at url ("/" is "/index.html"), or NULL. */
const struct page *web_page_find(const struct tk_web_pages *ps,
    const char *url);
/* Queues the page (200, or 304 on a matching If-None-Match); *status
 * says which. Returns an enum MHD_Result. */
int web_page_serve(struct MHD_Connection *conn, const struct page *pg,
    unsigned int *status);
/* 1 when a 404 for this request should be an HTML page. */
int web_page_wanted(struct MHD_Connection *conn, const char *method,
    const char *url);
int web_page_not_found(struct MHD_Connection *conn);
/* The security headers of every page. */
void web_page_headers(struct MHD_Response *resp);

/* Route lookup: 0 found, -1 no such path, -2 path without this method. */
int web_route_find(const char *method, const char *url,
    const struct route **out, char *param, size_t paramlen);

/* The methods url's routes take, as an Allow header ("GET, POST"). */
void web_route_allow(const char *url, char *out, size_t outlen);
/* The query parameters a route reads (NULL-terminated), or NULL: none. */
const char *const *web_route_query(const struct route *rt);

/* Replies. */
void web_reply_json(struct reply *r, unsigned int status, json_t *body);
void web_reply_error(struct reply *r, unsigned int status,
    const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Counts an attempt for key ("addr:..." or "person:..."); 0 if allowed. */
int web_rate_check(struct tk_web *w, const char *kind, const char *value);

/* 1 when key's window is full (counted as a refusal), without counting. */
int web_rate_full(struct tk_web *w, const char *kind, const char *value);

/* The keyed hash behind the limits, for tables that count by address. */
uint64_t web_rate_key(const struct tk_web *w, const char *kind,
    const char *value);

/*
 * WebAuthn challenges for sign-in (bind NULL) and enrollment (bind: the
 * invitation's hash), asked for from addr. issue fills id_hex (33 bytes)
 * and value; -1 when every slot is live, -2 when addr already holds
 * WEB_CHALLENGES_PER_ADDR live ones of the same kind (sign-in, or
 * bound). take removes the challenge (single use) and returns 0 with its
 * value if it existed, had not expired and has that binding.
 */
int web_challenge_issue(struct tk_web *w, const char *addr,
    const uint8_t *bind, char id_hex[33], uint8_t value[32]);
int web_challenge_take(struct tk_web *w, const char *id_hex,
    const uint8_t *bind, uint8_t value[32]);
/*
 * The 429 for an address that holds WEB_CHALLENGES_PER_ADDR live
 * challenges of one kind (web_challenge_issue's -2): sign-in challenges
 * (signin 1) or those bound to an invitation or a person (enrollment,
 * key registration), with a Retry-After of the seconds until the first
 * of them expires. Counted in twokey_rate_limited_total.
 */
void web_reply_challenges_held(struct tk_web *w, const struct req *rq,
    struct reply *r, int signin);

/*
 * Sessions. create: a new session for who; cookie receives a fresh
 * base64url secret and csrf the session's token, derived from it (44
 * bytes each with NUL). check: 0 when the cookie names a live session
 * (and, with csrf non-NULL, the token matches), filling *who; -1 unknown
 * or expired, -2 CSRF mismatch. csrf: the token that goes with a cookie
 * (the caller has checked its session), 0 or -1.
 */
int web_session_create(struct tk_web *w, const struct who *who,
    char cookie[44], char csrf[44]);
int web_session_check(struct tk_web *w, const char *cookie,
    const char *csrf, struct who *who);
int web_session_csrf(const char *cookie, char csrf[44]);
void web_session_drop(struct tk_web *w, const char *cookie);
/*
 * A session remembers who signed in, not what they may do: their state
 * and roles are read anew from the store on every request, so that a
 * suspension or a role taken away takes effect at once. 0 with
 * who->roles updated; -1 when the person is no longer active.
 */
int web_who_current(struct tk_web *w, struct who *who);

/* A WebAuthn get() answer from a JSON body (base64url fields
 * credential_id, client_data, authenticator_data, signature). */
struct b64_assertion {
	uint8_t *id, *cdj, *ad, *sig;
	size_t id_len, cdj_len, ad_len, sig_len;
};
int web_assertion_decode(json_t *body, struct b64_assertion *a);
void web_assertion_clear(struct b64_assertion *a);

/* 1 when the store and journal are open; else a 503 is in r. */
int web_backend_ready(struct tk_web *w, struct reply *r);

/*
 * Journals one web event (actor, action, object, details; details taken).
 * Returns 0, or -1 with a 503 in r: an action that cannot be recorded
 * does not happen.
 */
int web_journal(struct tk_web *w, struct reply *r, const char *actor,
    const char *action, const char *object, json_t *details);

/* ["admin", "approver", ...] for a set of enum tk_role bits. */
json_t *web_roles_json(unsigned int roles);

/* The Authorization: Bearer key of a request, when it came with one. */
#define ROUTE_KEY_NONE 0u

/* ---- the web store (web.db): invitations and API keys ---- */

struct invitation {
	char name[65];
	char team[65];
	char inviter[65];
	unsigned int roles;
	time_t expires;
	int bootstrap;		/* made by twokeyd --bootstrap */
	int64_t person;		/* a new key for this person; 0: new person */
};

/* API key scopes. */
#define SCOPE_REQUESTS_READ 0x1u	/* list and show requests */
#define SCOPE_JOURNAL_READ 0x2u	/* the journal export */
#define SCOPE_INVENTORY_EVENTS 0x4u	/* rotation and use reports */
#define SCOPES_ALL 0x7u

struct apikey {
	char id[33];		/* public id, hex */
	char name[65];
	char creator[65];
	unsigned int scopes;
};

int web_store_open(struct tk_web *w, const char *dir);
void web_store_close(struct tk_web *w);
int web_hash(const char *secret, uint8_t md[32]);
int web_new_secret(const char *prefix, char *out, size_t outlen);
int web_invite_add(struct tk_web *w, const uint8_t hash[32],
    const struct invitation *inv);
int web_invite_get(struct tk_web *w, const uint8_t hash[32],
    struct invitation *inv);
int web_invite_use(struct tk_web *w, const uint8_t hash[32]);
int web_invite_void_bootstrap(struct tk_web *w);
int web_invite_void_person(struct tk_web *w, int64_t person);
/*
 * The column "used" of an invitation: why it is no longer live. The _S
 * forms are for SQL text.
 */
#define INVITE_LIVE 0
#define INVITE_USED 1
#define INVITE_VOIDED 2		/* its maker is no longer an active admin */
#define INVITE_VOIDED_S "2"
#define INVITE_REPLACED 3	/* a newer one for the same name or person */
#define INVITE_REPLACED_S "3"
#define INVITE_EXPIRED 4	/* not stored: live but past its time */
#define INVITE_CLOSED 5		/* its person was suspended or left */
#define INVITE_CLOSED_S "5"
int web_invite_state(struct tk_web *w, const uint8_t hash[32]);
int web_invite_void_name(struct tk_web *w, const char *name);
/*
 * Spends the invitations and revokes the API keys of every maker who is
 * no longer an active admin (authority.c); call without the backend
 * lock.
 */
void web_authority_sweep(struct tk_web *w);
int web_vote_reason_add(struct tk_web *w, int64_t request,
    const char *person, const char *reason);
void web_vote_reasons_fill(struct tk_web *w, int64_t request,
    json_t *votes);
int web_apikey_add(struct tk_web *w, const struct apikey *k,
    const uint8_t hash[32]);
int web_apikey_find(struct tk_web *w, const uint8_t hash[32],
    struct apikey *k);
json_t *web_apikey_list(struct tk_web *w);
int web_apikey_revoke(struct tk_web *w, const char *id);
json_t *web_scopes_json(unsigned int scopes);
int web_apikey_auth(struct tk_web *w, const char *header, unsigned int scope,
    struct who *who);

/* The refusal for an approvals error; detail (may be "") says more. */
void web_apr_reply(struct reply *r, int rc, const char *detail);
/* The {id} of the path as a positive id, or 0. */
int64_t web_path_id(const struct req *rq);
struct tk_request_info;
/*
 * A request (or change) as the API shows it, canonical JSON included,
 * with who asked, who voted and the policy template; call with the
 * backend lock held.
 */
json_t *web_request_json(struct tk_web *w,
    const struct tk_request_info *info);

/* Handlers. */
void web_h_health(struct tk_web *, struct req *, struct reply *);
void web_h_ready(struct tk_web *, struct req *, struct reply *);
void web_h_metrics(struct tk_web *, struct req *, struct reply *);
void web_h_signin_challenge(struct tk_web *, struct req *,
    struct reply *);
void web_h_signin(struct tk_web *, struct req *, struct reply *);
void web_h_whoami(struct tk_web *, struct req *, struct reply *);
void web_h_session_show(struct tk_web *, struct req *, struct reply *);
void web_h_signout(struct tk_web *, struct req *, struct reply *);
void web_h_request_file(struct tk_web *, struct req *, struct reply *);
void web_h_request_list(struct tk_web *, struct req *, struct reply *);
void web_h_request_show(struct tk_web *, struct req *, struct reply *);
void web_h_request_challenge(struct tk_web *, struct req *,
    struct reply *);
void web_h_request_vote(struct tk_web *, struct req *, struct reply *);
void web_h_request_grant(struct tk_web *, struct req *, struct reply *);
void web_h_request_review(struct tk_web *, struct req *, struct reply *);
void web_h_grant_revoke(struct tk_web *, struct req *, struct reply *);
void web_h_grant_list(struct tk_web *, struct req *, struct reply *);
void web_h_journal_export(struct tk_web *, struct req *, struct reply *);
void web_h_evidence(struct tk_web *, struct req *, struct reply *);
void web_h_invite(struct tk_web *, struct req *, struct reply *);
void web_h_enroll_challenge(struct tk_web *, struct req *,
    struct reply *);
void web_h_enroll(struct tk_web *, struct req *, struct reply *);
void web_h_apikey_create(struct tk_web *, struct req *, struct reply *);
void web_h_apikey_list(struct tk_web *, struct req *, struct reply *);
void web_h_apikey_revoke(struct tk_web *, struct req *, struct reply *);
void web_h_jwks(struct tk_web *, struct req *, struct reply *);
void web_h_checkpoint(struct tk_web *, struct req *, struct reply *);
void web_h_inventory_list(struct tk_web *, struct req *, struct reply *);
void web_h_inventory_show(struct tk_web *, struct req *, struct reply *);
void web_h_inventory_export(struct tk_web *, struct req *,
    struct reply *);
void web_h_inventory_export_csv(struct tk_web *, struct req *,
    struct reply *);
void web_h_inventory_import(struct tk_web *, struct req *,
    struct reply *);
void web_h_inventory_event(struct tk_web *, struct req *, struct reply *);
void web_h_inventory_reassign(struct tk_web *, struct req *,
    struct reply *);
/* A proposed inventory.import, from the changes route (api_inventory.c). */
void web_inventory_propose(struct tk_web *, struct req *, struct reply *);
/* Governed changes and the safe immediate actions (api_changes.c). */
void web_h_change_propose(struct tk_web *, struct req *, struct reply *);
void web_h_change_list(struct tk_web *, struct req *, struct reply *);
void web_h_change_show(struct tk_web *, struct req *, struct reply *);
void web_h_policy_show(struct tk_web *, struct req *, struct reply *);
void web_h_people_list(struct tk_web *, struct req *, struct reply *);
void web_h_policy_block(struct tk_web *, struct req *, struct reply *);
void web_h_person_suspend(struct tk_web *, struct req *, struct reply *);
void web_h_person_leave(struct tk_web *, struct req *, struct reply *);
void web_h_credential_revoke(struct tk_web *, struct req *,
    struct reply *);
struct tk_webauthn_cred;
/*
 * Verifies the WebAuthn registration in the body (credential_id,
 * client_data, attestation_object) for name against challenge, with the
 * accepted origins and the approved policy's authenticator models.
 */
int web_verify_registration(struct tk_web *w, struct req *rq,
    const uint8_t challenge[32], const char *name,
    struct tk_webauthn_cred *cred);
void web_h_credential_challenge(struct tk_web *, struct req *,
    struct reply *);
void web_h_credential_add(struct tk_web *, struct req *, struct reply *);
struct tk_person;
struct tk_credential;
/*
 * A verified key c of person p: stored at once, journaled with actor,
 * when p holds no governed role (201 into r); otherwise proposed as the
 * change "credential.add" by proposer with reason and ticket (202).
 * Called with the backend lock held. TK_APR_ERR_QUORUM when reason or
 * ticket is missing; another approvals error, r untouched.
 */
int web_key_add_or_propose(struct tk_web *w, const struct tk_person *p,
    int64_t proposer, const char *actor, const char *reason,
    const char *ticket, const struct tk_credential *c, struct reply *r);
/* Invitations (api_invite.c): a new person, or a new key for one. */
void web_h_person_invitation(struct tk_web *, struct req *,
    struct reply *);

#define TK_CFG_ORIGINS 16
/*
 * The WebAuthn origins accepted now: the configured ones, and of those
 * only the ones the approved policy lists when it lists any (a file
 * edit cannot add an origin). Fills out (cap entries); returns how many.
 */
size_t web_allowed_origins(struct tk_web *w, const char **out, size_t cap);
/* Creates the invitation_changes table in web.db (api_changes.c). */
int web_changes_schema(struct tk_web *w);
/* The reason and ticket of a governed invitation, kept and read back. */
int web_invite_reason_add(struct tk_web *w, const uint8_t hash[32],
    const char *reason, const char *ticket);
int web_invite_reason_get(struct tk_web *w, const uint8_t hash[32],
    char *reason, size_t rlen, char *ticket, size_t tlen);

#endif
