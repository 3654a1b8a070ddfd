/*
 * The HTTPS server: libmicrohttpd with GnuTLS on a pool of worker threads
 * (handlers may wait for a journal checkpoint, so a slow one must not
 * hold up the others), and the gate every request passes before its
 * handler: route, body size, content type, JSON shape, fields.
 */
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "twokey/common.h"
#include "twokey/web.h"
#include "web_int.h"

const char *
tk_web_strerror(int err)
{
	switch (err) {
	case TK_WEB_OK:
		return "ok";
	case TK_WEB_ERR_NOMEM:
		return "out of memory";
	case TK_WEB_ERR_TLS:
		return "TLS certificate or key refused";
	case TK_WEB_ERR_START:
		return "HTTPS server could not start";
	case TK_WEB_ERR_INVALID:
		return "invalid argument";
	case TK_WEB_ERR_GOVERNED:
		return "approvers exist: the quorum governs enrollment now";
	case TK_WEB_ERR_STATE:
		return "the store or the journal refused the change";
	default:
		return "unknown web error";
	}
}

void
web_reply_json(struct reply *r, unsigned int status, json_t *body)
{
	json_decref(r->json);
	r->status = status;
	r->json = body;
}

void
web_reply_error(struct reply *r, unsigned int status, const char *code,
    const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	web_reply_json(r, status, json_pack("{s:{s:s,s:s}}", "error",
	    "code", code, "message", msg));
}

/* Bodies and cookies may hold secrets (invitations, sessions): wiped. */
static void
req_free(struct req *rq)
{
	if (rq == NULL)
		return;
	json_decref(rq->json);
	if (rq->body != NULL)
		OPENSSL_clear_free(rq->body, rq->body_cap);
	OPENSSL_clear_free(rq, sizeof(*rq));
}

static void
client_addr(struct MHD_Connection *conn, char *out, size_t outlen)
{
	const union MHD_ConnectionInfo *ci;
	socklen_t len;

	snprintf(out, outlen, "unknown");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || ci->client_addr == NULL)
		return;
	len = ci->client_addr->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (getnameinfo(ci->client_addr, len, out, (socklen_t)outlen, NULL,
	    0, NI_NUMERICHOST) != 0)
		snprintf(out, outlen, "unknown");
}

static void
add_security_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Content-Security-Policy",
	    "default-src 'none'; frame-ancestors 'none'");
	MHD_add_response_header(resp, "Strict-Transport-Security",
	    "max-age=31536000");
}

/* What a client needs to act on a refusal: when, how, which methods. */
static void
add_status_headers(struct MHD_Response *resp, const struct reply *r)
{
	char secs[16];

	if (r->status == MHD_HTTP_TOO_MANY_REQUESTS) {
		/* Rate windows are whole minutes, unless the refusal knows. */
		snprintf(secs, sizeof(secs), "%d", r->retry_after > 0 ?
		    r->retry_after : 60 - (int)(time(NULL) % 60));
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER,
		    secs);
	}
	if (r->status == MHD_HTTP_UNAUTHORIZED && r->www_auth != NULL)
		MHD_add_response_header(resp,
		    MHD_HTTP_HEADER_WWW_AUTHENTICATE, r->www_auth);
	if (r->status == MHD_HTTP_METHOD_NOT_ALLOWED && r->allow[0] != '\0')
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
		    r->allow);
}

static void
count_status(struct tk_web *w, unsigned int status)
{
	if (status >= 200 && status < 600)
		atomic_fetch_add(&w->requests[(status - 200) / 100], 1);
}

static enum MHD_Result
send_reply(struct tk_web *w, struct MHD_Connection *conn, struct reply *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *text = r->text;
	size_t len = r->text_len;
	const char *ctype = r->ctype;

	if (r->json != NULL) {
		free(r->text);
		text = tk_json_dumps(r->json, JSON_COMPACT);
		len = text == NULL ? 0 : strlen(text);
		ctype = "application/json";
	}
	r->text = NULL;
	if (text == NULL) {
		r->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		text = strdup("{\"error\":{\"code\":\"internal\","
		    "\"message\":\"out of memory\"}}");
		len = text == NULL ? 0 : strlen(text);
		ctype = "application/json";
	}
	resp = MHD_create_response_from_buffer(len, text,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", ctype);
	if (r->set_cookie[0] != '\0')
		MHD_add_response_header(resp, "Set-Cookie", r->set_cookie);
	if (r->close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	add_status_headers(resp, r);
	add_security_headers(resp);
	count_status(w, r->status);
	ret = MHD_queue_response(conn, r->status, resp);
	MHD_destroy_response(resp);
	json_decref(r->json);
	r->json = NULL;
	return ret;
}

static int
json_content_type(struct MHD_Connection *conn)
{
	const char *ct;
	size_t n = strlen("application/json");

	ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	if (ct == NULL || strncasecmp(ct, "application/json", n) != 0)
		return 0;
	ct += n;
	if (*ct == '\0')
		return 1;
	return strcasecmp(ct, "; charset=utf-8") == 0 ||
	    strcasecmp(ct, ";charset=utf-8") == 0;
}

/* text/csv, for routes that take a document (TK_WEB_BODY_RAW). */
static int
csv_content_type(struct MHD_Connection *conn)
{
	const char *ct;

	ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	return ct != NULL && (strcasecmp(ct, "text/csv") == 0 ||
	    strcasecmp(ct, "text/csv; charset=utf-8") == 0 ||
	    strcasecmp(ct, "text/csv;charset=utf-8") == 0);
}

static enum MHD_Result
refuse_with(struct tk_web *w, struct MHD_Connection *conn, struct reply *r,
    unsigned int status, const char *code, const char *msg)
{
	if (status == MHD_HTTP_CONTENT_TOO_LARGE)
		atomic_fetch_add(&w->refused_body, 1);
	web_reply_error(r, status, code, "%s", msg);
	return send_reply(w, conn, r);
}

static enum MHD_Result
refuse(struct tk_web *w, struct MHD_Connection *conn, unsigned int status,
    const char *code, const char *msg)
{
	struct reply r = { 0 };

	return refuse_with(w, conn, &r, status, code, msg);
}

struct framing {
	unsigned int lengths;	/* Content-Length headers */
	unsigned int encodings;	/* Transfer-Encoding headers */
	unsigned int unknown;	/* of them, not plain "chunked" */
};

static enum MHD_Result
count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct framing *f = cls;

	(void)kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		f->lengths++;
	else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->encodings++;
		if (value == NULL || strcasecmp(value, "chunked") != 0)
			f->unknown++;
	}
	return MHD_YES;
}

/*
 * A request whose length two parties could read differently (two
 * Content-Length headers, or one with Transfer-Encoding, or a transfer
 * coding other than chunked, which libmicrohttpd would wait on) is how
 * requests are smuggled past a proxy: refused, and the connection
 * closed, since where the next request would start is unknown.
 */
static int
ambiguous_framing(struct MHD_Connection *conn)
{
	struct framing f = { 0, 0, 0 };

	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
	return f.lengths > 1 || f.encodings > 1 || f.unknown > 0 ||
	    (f.lengths > 0 && f.encodings > 0);
}

static uint64_t
content_length(struct MHD_Connection *conn)
{
	const char *cl;
	char *end;
	unsigned long long n;

	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl == NULL)
		return 0;
	errno = 0;
	n = strtoull(cl, &end, 10);
	if (errno != 0 || *end != '\0')
		return UINT64_MAX;
	return n;
}

static int
expects_continue(struct MHD_Connection *conn)
{
	const char *e = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_EXPECT);

	return e != NULL && strcasecmp(e, "100-continue") == 0;
}

/*
 * An API key. Failures count against the client's address, so that keys
 * cannot be guessed at the speed of the network; an address over the
 * limit is refused before its key is even looked at. Sets rq->via_key
 * when the key is good for this route.
 */
#define INVALID_TOKEN "Bearer realm=\"twokey\", error=\"invalid_token\""

static enum MHD_Result
gate_apikey(struct tk_web *w, struct MHD_Connection *conn, struct req *rq,
    const char *authz)
{
	struct reply rp = { 0 };
	int r;

	if (web_rate_full(w, "apikey-failed", rq->addr))
		return refuse(w, conn, MHD_HTTP_TOO_MANY_REQUESTS,
		    "rate_limited", "too many failed API key attempts; wait "
		    "a minute and try again");
	r = web_apikey_auth(w, authz, rq->route->key_scope, &rq->who);
	if (r == 0) {
		rq->via_key = 1;
		return MHD_YES;
	}
	if (r == -3) {
		rp.www_auth = "Bearer realm=\"twokey\"";
		return refuse_with(w, conn, &rp, MHD_HTTP_UNAUTHORIZED,
		    "unauthenticated", "Authorization takes \"Bearer\" and "
		    "an API key; people sign in with their security key");
	}
	if (r == -4) {
		rp.www_auth = INVALID_TOKEN;
		return refuse_with(w, conn, &rp, MHD_HTTP_UNAUTHORIZED,
		    "unauthenticated", "this API key's creator is no longer "
		    "an active admin, so the key is void; an admin makes a "
		    "new one");
	}
	if (r == -2)
		return refuse(w, conn, MHD_HTTP_FORBIDDEN, "scope_missing",
		    rq->route->key_scope == 0 ? "API keys do not reach this "
		    "resource: it is for people signed in with a security "
		    "key" : "this API key's scopes do not cover this "
		    "resource");
	if (web_rate_check(w, "apikey-failed", rq->addr) != 0)
		return refuse(w, conn, MHD_HTTP_TOO_MANY_REQUESTS,
		    "rate_limited", "too many failed API key attempts; wait "
		    "a minute and try again");
	rp.www_auth = INVALID_TOKEN;
	return refuse_with(w, conn, &rp, MHD_HTTP_UNAUTHORIZED,
	    "unauthenticated", "the API key is unknown or revoked");
}

struct named {
	const char *name;
	unsigned int n;
};

/* Cookie names are case-sensitive, header names are not. */
static enum MHD_Result
count_named(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct named *c = cls;

	(void)value;
	if (kind == MHD_COOKIE_KIND ? strcmp(key, c->name) == 0 :
	    strcasecmp(key, c->name) == 0)
		c->n++;
	return MHD_YES;
}

/* How many cookies or headers (kind) the request has of that name. */
static unsigned int
values_named(struct MHD_Connection *conn, enum MHD_ValueKind kind,
    const char *name)
{
	struct named c = { name, 0 };

	MHD_get_connection_values(conn, kind, count_named, &c);
	return c.n;
}

/*
 * A signed-in person, and on anything but GET the CSRF token of their
 * session in the X-CSRF-Token header. Returns 1 to go on, 0 when *ret
 * holds the refusal.
 */
static int
gate_session(struct tk_web *w, struct MHD_Connection *conn, struct req *rq,
    const char *method, enum MHD_Result *ret)
{
	const char *cookie, *csrf = NULL, *authz;
	struct reply rp = { 0 };
	int r = -1;

	/*
	 * Two Authorization or Cookie headers (a client sends one of each,
	 * RFC 9110 and 6265) could be read one way by a proxy and another
	 * here: neither signs anyone in.
	 */
	if (values_named(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION) > 1 || values_named(conn,
	    MHD_HEADER_KIND, MHD_HTTP_HEADER_COOKIE) > 1) {
		*ret = refuse(w, conn, MHD_HTTP_UNAUTHORIZED,
		    "unauthenticated", "a request carries one Authorization "
		    "header and one Cookie header at most");
		return 0;
	}
	authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	if (authz != NULL) {
		*ret = gate_apikey(w, conn, rq, authz);
		return rq->via_key;
	}
	/*
	 * A state change without the header, or with two (which one a
	 * proxy would pass on is anyone's guess), matches no token.
	 */
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
	    ((csrf = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    CSRF_HEADER)) == NULL ||
	    values_named(conn, MHD_HEADER_KIND, CSRF_HEADER) != 1))
		csrf = "";
	cookie = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND,
	    SESSION_COOKIE);
	/* Two session cookies (one tossed in by another origin): neither. */
	if (cookie != NULL && strlen(cookie) < sizeof(rq->cookie) &&
	    values_named(conn, MHD_COOKIE_KIND, SESSION_COOKIE) == 1)
		r = web_session_check(w, cookie, csrf, &rq->who);
	if (r == -1) {
		rp.www_auth = rq->route->key_scope != 0 ?
		    "Bearer realm=\"twokey\"" : NULL;
		*ret = refuse_with(w, conn, &rp, MHD_HTTP_UNAUTHORIZED,
		    "unauthenticated", "sign in with your security key "
		    "first");
		return 0;
	}
	if (r != 0) {
		*ret = refuse(w, conn, MHD_HTTP_FORBIDDEN, "csrf_failed",
		    "the X-CSRF-Token header is missing or does not match "
		    "your session");
		return 0;
	}
	snprintf(rq->cookie, sizeof(rq->cookie), "%s", cookie);
	if (web_who_current(w, &rq->who) != 0) {
		web_session_drop(w, cookie);
		memset(&rq->who, 0, sizeof(rq->who));
		*ret = refuse(w, conn, MHD_HTTP_UNAUTHORIZED,
		    "unauthenticated", "your account is suspended or has "
		    "left: this session is ended");
		return 0;
	}
	return 1;
}

struct query_seen {
	const char *const *allowed;
	unsigned int seen;	/* bit i: allowed[i] was given */
	const char *bad;	/* the first key refused */
	int duplicate;
};

static enum MHD_Result
query_one(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct query_seen *q = cls;
	unsigned int i;

	(void)kind;
	(void)value;
	for (i = 0; q->allowed != NULL && q->allowed[i] != NULL; i++)
		if (strcmp(q->allowed[i], key) == 0)
			break;
	if (q->allowed == NULL || q->allowed[i] == NULL) {
		q->bad = key;
		return MHD_NO;
	}
	if ((q->seen & (1u << i)) != 0) {
		q->bad = q->allowed[i];
		q->duplicate = 1;
		return MHD_NO;
	}
	q->seen |= 1u << i;
	return MHD_YES;
}

/*
 * A query parameter the route does not read, or one given twice, is a
 * client's mistake worth naming: ignoring it would let "?from=a&from=b"
 * mean whichever one libmicrohttpd returns first.
 */
static int
query_check(const struct route *rt, struct MHD_Connection *conn,
    char *msg, size_t msglen)
{
	struct query_seen q = { web_route_query(rt), 0, NULL, 0 };
	size_t n;

	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, query_one, &q);
	if (q.bad == NULL)
		return 0;
	n = strlen(q.bad);
	if (q.duplicate)
		snprintf(msg, msglen, "query parameter \"%s\" is given more "
		    "than once", q.bad);
	else if (q.allowed == NULL)
		snprintf(msg, msglen, "this resource takes no query "
		    "parameters");
	else if (n > 0 && n <= 32 && strspn(q.bad, "abcdefghijklmnopqrstuvwxyz"
	    "_-") == n)
		snprintf(msg, msglen, "unknown query parameter \"%s\"",
		    q.bad);
	else
		snprintf(msg, msglen, "unknown query parameter");
	return -1;
}

/* The first call for a request: everything decidable from the headers. */
static enum MHD_Result
gate_headers(struct tk_web *w, struct MHD_Connection *conn,
    struct req *rq, const char *url, const char *method, int *refused)
{
	uint64_t cl = content_length(conn);
	enum MHD_Result ret;
	char qmsg[96];
	int r;

	*refused = 1;
	if (ambiguous_framing(conn)) {
		struct reply rp = { 0 };

		web_reply_error(&rp, MHD_HTTP_BAD_REQUEST, "ambiguous_length",
		    "send one Content-Length or chunked encoding (no other "
		    "transfer coding), not both nor twice");
		rp.close = 1;
		return send_reply(w, conn, &rp);
	}
	r = web_route_find(method, url, &rq->route, rq->param,
	    sizeof(rq->param));
	if (r == -1 && web_page_wanted(conn, method, url)) {
		count_status(w, MHD_HTTP_NOT_FOUND);
		return (enum MHD_Result)web_page_not_found(conn);
	}
	if (r == -1)
		return refuse(w, conn, MHD_HTTP_NOT_FOUND, "not_found",
		    "no such resource");
	if (r == -2) {
		struct reply rp = { 0 };

		web_route_allow(url, rp.allow, sizeof(rp.allow));
		return refuse_with(w, conn, &rp, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "method_not_allowed", "this resource does not accept "
		    "that method");
	}
	if (rq->route->auth == AUTH_SESSION && !gate_session(w, conn, rq,
	    method, &ret))
		return ret;
	if (query_check(rq->route, conn, qmsg, sizeof(qmsg)) != 0)
		return refuse(w, conn, MHD_HTTP_BAD_REQUEST, "invalid_query",
		    qmsg);
	if (!rq->route->info.body && cl > 0)
		return refuse(w, conn, MHD_HTTP_BAD_REQUEST,
		    "body_not_allowed", "this resource takes no body");
	if (rq->route->info.body) {
		if (rq->route->info.body == TK_WEB_BODY_RAW &&
		    csv_content_type(conn))
			rq->csv = 1;
		else if (!json_content_type(conn))
			return refuse(w, conn,
			    MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
			    "unsupported_media_type",
			    rq->route->info.body == TK_WEB_BODY_RAW ?
			    "send the body as Content-Type: application/json "
			    "or text/csv" : "send the body as "
			    "Content-Type: application/json");
		/*
		 * Too large: refused at once when the client waits for
		 * "100 Continue" or the body is far too large (the
		 * connection is then closed under it); otherwise read and
		 * dropped, so that the client sees the answer instead of
		 * a reset while it is still sending.
		 */
		if (cl > w->max_body && (expects_continue(conn) ||
		    cl / 16 > w->max_body))
			return refuse(w, conn, MHD_HTTP_CONTENT_TOO_LARGE,
			    "body_too_large", "the body is larger than this "
			    "server accepts");
		if (cl > w->max_body)
			rq->too_big = 1;
	}
	*refused = 0;
	return MHD_YES;
}

static void
gather(struct tk_web *w, struct req *rq, const char *data, size_t len)
{
	size_t cap;
	char *nb;

	if (rq->too_big)
		return;
	if (!rq->route->info.body ||
	    len > w->max_body - rq->body_len) {
		rq->too_big = 1;
		if (rq->body != NULL)
			OPENSSL_clear_free(rq->body, rq->body_cap);
		rq->body = NULL;
		rq->body_len = rq->body_cap = 0;
		return;
	}
	if (rq->body_len + len > rq->body_cap) {
		cap = rq->body_cap == 0 ? 4096 : rq->body_cap;
		while (cap < rq->body_len + len)
			cap *= 2;
		if ((nb = OPENSSL_clear_realloc(rq->body, rq->body_cap,
		    cap)) == NULL) {
			rq->too_big = 1;
			return;
		}
		rq->body = nb;
		rq->body_cap = cap;
	}
	memcpy(rq->body + rq->body_len, data, len);
	rq->body_len += len;
}

/* The whole body is in: shape and fields, then the handler. */
static enum MHD_Result
dispatch(struct tk_web *w, struct MHD_Connection *conn, struct req *rq)
{
	struct reply r = { 0 };
	char msg[200];

	rq->conn = conn;
	if (rq->too_big)
		return refuse(w, conn, MHD_HTTP_CONTENT_TOO_LARGE,
		    "body_too_large", "the body is larger than this server "
		    "accepts");
	if (rq->route->info.body == TK_WEB_BODY_JSON) {
		rq->json = tk_web_parse_body(rq->body, rq->body_len, msg,
		    sizeof(msg));
		if (rq->json == NULL)
			return refuse(w, conn, MHD_HTTP_BAD_REQUEST,
			    "malformed_json", msg);
		if (tk_web_check_fields(rq->json, rq->route->info.fields,
		    rq->route->info.nfields, msg, sizeof(msg)) != 0)
			return refuse(w, conn, MHD_HTTP_BAD_REQUEST,
			    "invalid_field", msg);
	}
	r.status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	rq->route->fn(w, rq, &r);
	if (r.json == NULL && r.text == NULL)
		web_reply_error(&r, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "internal", "the server failed; see its log");
	return send_reply(w, conn, &r);
}

/*
 * libmicrohttpd's decoding, except that a decoded NUL (which would cut
 * the path short for every string function after it: "/healthz%00..."
 * routed as "/healthz") turns the whole value into BAD_PATH, which no
 * route has, and which on_request refuses.
 */
#define BAD_PATH "\x7f"

static size_t
unescape(void *cls, struct MHD_Connection *conn, char *uri)
{
	size_t len;

	(void)cls;
	(void)conn;
	len = MHD_http_unescape(uri);
	if (memchr(uri, '\0', len) == NULL)
		return len;
	memcpy(uri, BAD_PATH, sizeof(BAD_PATH));
	return strlen(BAD_PATH);
}

/*
 * The page for GET or HEAD, if url names one. It is queued on the next
 * call, once the request is read: a response queued from the first call
 * (headers only) makes libmicrohttpd 0.9.75 answer each request of a
 * keep-alive connection a delayed ACK late (~90 req/s per client).
 */
static const struct page *
find_page(struct tk_web *w, const char *url, const char *method)
{
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return NULL;
	return web_page_find(w->pages, url);
}

static enum MHD_Result
serve_page(struct tk_web *w, struct MHD_Connection *conn,
    const struct page *pg)
{
	unsigned int status = 0;
	enum MHD_Result ret;

	ret = (enum MHD_Result)web_page_serve(conn, pg, &status);
	count_status(w, status);
	return ret;
}

/*
 * HTTP/1.1 asks for exactly one Host header (RFC 9112, 3.2); two could
 * be read differently by a proxy in front and by us.
 */
static int
host_ok(struct MHD_Connection *conn, const char *version)
{
	unsigned int n = values_named(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_HOST);

	/* HTTP/1.0 may go without one; every later version needs it. */
	if (version != NULL && strcmp(version, MHD_HTTP_VERSION_1_0) == 0)
		return n <= 1;
	return n == 1;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct tk_web *w = cls;
	struct req *rq = *con_cls;
	enum MHD_Result ret;
	int refused;

	if (rq == NULL) {
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		*con_cls = rq;
		atomic_fetch_add(&w->inflight, 1);
		client_addr(conn, rq->addr, sizeof(rq->addr));
		if (strcmp(url, BAD_PATH) == 0)
			return refuse(w, conn, MHD_HTTP_BAD_REQUEST,
			    "bad_path", "the path holds an encoded NUL");
		if (!host_ok(conn, version))
			return refuse(w, conn, MHD_HTTP_BAD_REQUEST,
			    "bad_host", "a request carries exactly one Host "
			    "header (HTTP/1.0: at most one)");
		if ((rq->page = find_page(w, url, method)) != NULL)
			return MHD_YES;
		ret = gate_headers(w, conn, rq, url, method, &refused);
		if (refused)
			rq->route = NULL;
		return ret;
	}
	if (rq->page != NULL) {
		*upload_data_size = 0;
		ret = serve_page(w, conn, rq->page);
		rq->page = NULL;
		return ret;
	}
	if (rq->route == NULL) {
		/* Refused already: drop what the client still sends. */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		gather(w, rq, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	ret = dispatch(w, conn, rq);
	rq->route = NULL;
	return ret;
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct tk_web *w = cls;

	(void)conn;
	(void)toe;
	if (*con_cls == NULL)
		return;
	req_free(*con_cls);
	*con_cls = NULL;
	atomic_fetch_sub(&w->inflight, 1);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256], esc[256];

	(void)cls;
	/* libmicrohttpd's messages are about clients (failed handshakes,
	 * resets); they are not ours to warn about in a normal run. */
	vsnprintf(line, sizeof(line), fmt, ap);
	tk_debug("libmicrohttpd: %s", tk_log_escape(esc, sizeof(esc), line,
	    strcspn(line, "\n")));
}

static void
web_free(struct tk_web *w)
{
	if (w == NULL)
		return;
	if (w->listen_fd >= 0)
		close(w->listen_fd);
	free(w->cert_pem);
	tk_secret_free(w->key_pem, w->key_pem_len);
	free(w->rp_id);
	free(w->scratch_dir);
	web_store_close(w);
	pthread_mutex_destroy(&w->lock);
	OPENSSL_cleanse(w->rate_key, sizeof(w->rate_key));
	free(w);
}

static int
web_new(const struct tk_web_config *cfg, struct tk_web **out)
{
	struct tk_web *w;

	*out = NULL;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return TK_WEB_ERR_NOMEM;
	w->listen_fd = -1;
	pthread_mutex_init(&w->lock, NULL);
	w->key_pem_len = strlen(cfg->key_pem) + 1;
	w->cert_pem = strdup(cfg->cert_pem);
	w->key_pem = strdup(cfg->key_pem);
	w->rp_id = strdup(cfg->rp_id);
	w->scratch_dir = strdup(cfg->scratch_dir != NULL ? cfg->scratch_dir :
	    "/tmp");
	if (w->cert_pem == NULL || w->key_pem == NULL || w->rp_id == NULL ||
	    w->scratch_dir == NULL ||
	    RAND_bytes(w->rate_key, sizeof(w->rate_key)) != 1) {
		web_free(w);
		return TK_WEB_ERR_NOMEM;
	}
	w->be = cfg->backend;
	w->max_body = cfg->max_body_bytes;
	w->request_timeout = cfg->request_timeout;
	w->rate_limit = cfg->rate_limit_per_minute;
	w->challenge_ttl = cfg->challenge_ttl;
	w->session_ttl = cfg->session_ttl > 0 ? cfg->session_ttl : 900;
	w->origins = cfg->origins;
	w->norigins = cfg->norigins;
	w->pages = cfg->pages;
	w->started = time(NULL);
	*out = w;
	return TK_WEB_OK;
}

/*
 * GnuTLS priorities: TLS 1.3 and 1.2 only; AEAD ciphers only (AES-GCM,
 * ChaCha20-Poly1305: no CBC, no SHA-1 MAC, no 3DES or RC4); forward
 * secrecy only (ECDHE; no static RSA or finite-field DHE); X25519 and
 * the NIST P-256/P-384 groups; no SHA-1 signatures; the server's order.
 */
#define TLS_PRIORITIES "NONE:+VERS-TLS1.3:+VERS-TLS1.2:" \
	"+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:+AEAD:" \
	"+ECDHE-ECDSA:+ECDHE-RSA:" \
	"+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:" \
	"+SIGN-ALL:-SIGN-RSA-SHA1:-SIGN-ECDSA-SHA1:-SIGN-DSA-SHA1:" \
	"+COMP-NULL:+CTYPE-X509:%SERVER_PRECEDENCE"

/*
 * A fixed pool of long-lived threads, not a thread per connection:
 * GnuTLS 3.7 keeps the random generator state of every thread that ever
 * made a TLS handshake until the library is unloaded (about 230 bytes a
 * thread), so a thread per connection made memory grow with every
 * connection ever accepted. A handler that waits (a journal checkpoint,
 * the token) holds one worker; the others serve on.
 */
#define WEB_WORKERS 8

static unsigned int
pool_size(const struct tk_web_config *cfg)
{
	return cfg->max_connections < WEB_WORKERS ?
	    (unsigned int)cfg->max_connections : WEB_WORKERS;
}

int
tk_web_start(const struct tk_web_config *cfg, struct tk_web **out)
{
	struct tk_web *w = NULL;
	int r;

	*out = NULL;
	if (cfg == NULL || cfg->listen_fd < 0 || cfg->cert_pem == NULL ||
	    cfg->key_pem == NULL || cfg->rp_id == NULL ||
	    cfg->max_body_bytes == 0)
		return TK_WEB_ERR_INVALID;
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		tk_error("libmicrohttpd was built without TLS");
		return TK_WEB_ERR_TLS;
	}
	if ((r = web_new(cfg, &w)) != TK_WEB_OK)
		return r;
	if (web_store_open(w, w->scratch_dir) != 0) {
		web_free(w);
		return TK_WEB_ERR_START;
	}
	/* A role or state changed while the daemon was down. */
	web_authority_sweep(w);
	w->mhd = MHD_start_daemon(MHD_USE_TLS | MHD_USE_EPOLL_INTERNAL_THREAD |
	    MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, w,
	    MHD_OPTION_THREAD_POOL_SIZE, pool_size(cfg),
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, w,
	    MHD_OPTION_LISTEN_SOCKET, cfg->listen_fd,
	    MHD_OPTION_HTTPS_MEM_CERT, w->cert_pem,
	    MHD_OPTION_HTTPS_MEM_KEY, w->key_pem,
	    MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES,
	    MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    cfg->max_connections_per_address,
	    MHD_OPTION_CONNECTION_TIMEOUT, cfg->request_timeout,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
	    MHD_OPTION_UNESCAPE_CALLBACK, unescape, w,
	    MHD_OPTION_END);
	if (w->mhd == NULL) {
		tk_error("libmicrohttpd refused to start (certificate, key "
		    "or socket)");
		web_free(w);
		return TK_WEB_ERR_START;
	}
	w->listen_fd = -1;	/* libmicrohttpd owns it now */
	*out = w;
	return TK_WEB_OK;
}

void
tk_web_set_ready(struct tk_web *w, int state)
{
	if (w != NULL)
		atomic_store(&w->ready, state);
}

void
tk_web_stop(struct tk_web **wp)
{
	struct tk_web *w;
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	unsigned int waited = 0;
	MHD_socket fd;

	if (wp == NULL || (w = *wp) == NULL)
		return;
	atomic_store(&w->ready, 2);
	if (w->mhd != NULL) {
		/* No new connections; requests in flight run to the end. */
		fd = MHD_quiesce_daemon(w->mhd);
		if (fd != MHD_INVALID_SOCKET)
			close(fd);
		while (atomic_load(&w->inflight) > 0 &&
		    waited < w->request_timeout * 20) {
			nanosleep(&ts, NULL);
			waited++;
		}
		if (atomic_load(&w->inflight) > 0)
			tk_warn("stopping with %u requests unfinished",
			    atomic_load(&w->inflight));
		MHD_stop_daemon(w->mhd);
	}
	web_free(w);
	*wp = NULL;
}
