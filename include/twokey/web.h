/*
 * web: the HTTPS JSON API on libmicrohttpd (GnuTLS), TLS only.
 *
 * Every request goes through one gate before a handler sees it: the route
 * table decides method and path (404/405), the body is capped
 * (413 as soon as Content-Length or the bytes read pass the limit), a body
 * must be application/json (415), must parse as one JSON object without
 * duplicate keys (400), and each handler declares its fields so that
 * unknown fields, wrong types and lengths are refused (400) before any
 * state is touched. Errors are JSON: {"error": {"code": "...",
 * "message": "..."}}; codes are stable and listed in web/openapi.json.
 */
#ifndef TWOKEY_WEB_H
#define TWOKEY_WEB_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

struct tk_approvals;
struct tk_journal;

enum tk_web_err {
	TK_WEB_OK = 0,
	TK_WEB_ERR_NOMEM = -700,
	TK_WEB_ERR_TLS = -701,		/* certificate or key refused */
	TK_WEB_ERR_START = -702,	/* libmicrohttpd would not start */
	TK_WEB_ERR_INVALID = -703,	/* bad argument */
	TK_WEB_ERR_GOVERNED = -704,	/* approvers exist: quorum governs */
	TK_WEB_ERR_STATE = -705,	/* store or journal refused */
};

const char *tk_web_strerror(int err);

/*
 * What the handlers act on, owned by the caller. The approvals handle is
 * single-threaded: handlers take lock around every use, and the owner
 * takes it to replace ap (policy reload).
 */
struct tk_web_backend {
	struct tk_approvals *ap;
	pthread_mutex_t *lock;
	struct tk_journal *journal;	/* thread safe */
};

struct tk_web_config {
	const struct tk_web_backend *backend;	/* must outlive the server */
	int listen_fd;			/* bound, listening; web owns it */
	const char *cert_pem;		/* NUL-terminated PEM */
	const char *key_pem;		/* NUL-terminated PEM, wiped by us */
	size_t max_body_bytes;
	unsigned int max_connections;
	unsigned int max_connections_per_address;	/* 0: no limit */
	unsigned int request_timeout;	/* seconds */
	unsigned int rate_limit_per_minute;
	const char *rp_id;
	unsigned int challenge_ttl;	/* sign-in challenge, seconds */
	unsigned int session_ttl;	/* seconds */
	const char *scratch_dir;	/* writable after the privilege drop */
	const char *const *origins;	/* allowed WebAuthn origins */
	size_t norigins;
	const struct tk_web_pages *pages;	/* borrowed; NULL: none */
};

struct tk_web;

/*
 * The approver pages: every regular file of a known type (html, css, js,
 * json, svg, png, ico, txt) under root, read into memory once, so that
 * nothing on disk is opened while serving and only these paths exist.
 * Symlinks, dotfiles, names outside [A-Za-z0-9._-] and folders deeper
 * than three are skipped. A missing root is logged and gives no pages.
 * Load before dropping root; free after tk_web_stop.
 */
struct tk_web_pages;
int tk_web_pages_load(const char *root, struct tk_web_pages **out);
size_t tk_web_pages_count(const struct tk_web_pages *pages);
void tk_web_pages_free(struct tk_web_pages **pages);

/* Starts serving on cfg->listen_fd. *out is freed with tk_web_stop. */
int tk_web_start(const struct tk_web_config *cfg, struct tk_web **out);

/*
 * Stops accepting connections, lets requests in flight finish (up to the
 * request timeout), then frees everything.
 */
void tk_web_stop(struct tk_web **web);

/* Readiness as /readyz reports it (0 starting, 1 ready, 2 stopping). */
void tk_web_set_ready(struct tk_web *web, int state);

/* ---- the first enrollment (twokeyd --bootstrap) -------------------- */

#define TK_WEB_BOOTSTRAP_TTL (24 * 3600)	/* seconds */
#define TK_WEB_BOOTSTRAP_MAX 64			/* people */

struct tk_web_invitee {
	char name[65];		/* 1 to 64 of [A-Za-z0-9._-] */
	char team[65];		/* the same */
	unsigned int roles;	/* enum tk_role bits */
	char code[80];		/* out: the one-time invitation */
};

/*
 * The first enrollment, with the daemon stopped: one bootstrap invitation
 * per person into state_dir/web.db, in one journal entry
 * ("bootstrap.invite": names, teams, roles and expiry, never the codes).
 * Allowed only while the store holds no active approver or admin
 * (TK_WEB_ERR_GOVERNED otherwise). The people must include an admin and
 * at least the quorum of approvers without the admin role; names are
 * unique. Unused invitations of an earlier bootstrap are voided. On
 * success each code holds the secret (the caller shows it once, then
 * wipes it) and *expires the expiry. On refusal nothing is written and
 * msg says why.
 */
int tk_web_bootstrap(const struct tk_web_backend *be, const char *state_dir,
    struct tk_web_invitee *people, size_t n, time_t *expires, char *msg,
    size_t msglen);

/* ---- field checks, shared by every handler -------------------------- */

enum tk_field_type {
	TK_FIELD_STRING = 1,
	TK_FIELD_INTEGER,
	TK_FIELD_BOOLEAN,
	TK_FIELD_B64URL,	/* base64url string, no padding */
	TK_FIELD_STRINGS,	/* array of strings */
	TK_FIELD_OBJECT,
};

struct tk_field {
	const char *name;
	enum tk_field_type type;
	int required;
	size_t min, max;	/* string length (characters), integer, or */
				/* array length for TK_FIELD_STRINGS */
};

/*
 * Checks a JSON object against its fields: required present, no unknown
 * field, each of the right type and within bounds; strings valid UTF-8
 * without NUL or control characters. On refusal, returns -1 and writes a
 * message naming the field into msg.
 */
int tk_web_check_fields(const json_t *obj, const struct tk_field *fields,
    size_t nfields, char *msg, size_t msglen);

/*
 * Parses a request body as the API accepts it: one JSON object, no
 * duplicate keys, nothing after it. Returns NULL and a message on refusal.
 */
json_t *tk_web_parse_body(const char *body, size_t len, char *msg,
    size_t msglen);

/* ---- the route table, for the OpenAPI test ------------------------- */

struct tk_web_route_info {
	const char *method;	/* "GET", "POST", "DELETE" */
	const char *path;	/* OpenAPI template, "/api/v1/requests/{id}" */
	int body;		/* takes a JSON object body */
	const struct tk_field *fields;	/* the body's fields */
	size_t nfields;
};

/* The routes the server answers, in table order; NULL past the end. */
size_t tk_web_route_count(void);
const struct tk_web_route_info *tk_web_route(size_t i);

#endif
