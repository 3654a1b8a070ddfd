/*
 * HTTPS to twokeyd with libcurl. The server is verified against the CA
 * file only (the root certificate of the key ceremony): no system trust
 * store, no way to switch verification off, HTTPS only, no redirects.
 * Sessions come from a security-key sign-in and end with the command;
 * the session cookie, CSRF token and API key are sent as headers and
 * wiped afterwards (libcurl frees its own copies without wiping them).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "twokey/common.h"
#include "cli_int.h"

#define MAX_BODY	(64L * 1024 * 1024)
#define SESSION_COOKIE	"tk_session"

void
cli_http_global(int init)
{
	if (init)
		curl_global_init(CURL_GLOBAL_DEFAULT);
	else
		curl_global_cleanup();
}

void
cli_resp_clear(struct cli_resp *r)
{
	/* Answers may hold a CSRF token or an invitation code. */
	if (r->body != NULL)
		OPENSSL_cleanse(r->body, r->len);
	free(r->body);
	OPENSSL_cleanse(r->cookie, sizeof(r->cookie));
	r->body = NULL;
	r->len = 0;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct cli_resp *r = arg;
	size_t len = size * n;
	char *nb;

	if (r->sink != NULL && r->status / 100 == 2) {
		if (fwrite(p, 1, len, r->sink) != len)
			return 0;
		r->len += len;
		return len;
	}
	if (r->len + len > (size_t)MAX_BODY ||
	    (nb = realloc(r->body, r->len + len + 1)) == NULL)
		return 0;
	memcpy(nb + r->len, p, len);
	r->len += len;
	nb[r->len] = '\0';
	r->body = nb;
	return len;
}

/* Keeps the session cookie and the status (for on_body's choice). */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct cli_resp *r = arg;
	size_t len = size * n, pre = strlen("Set-Cookie: ");
	const char *end;

	if (len > 9 && strncmp(p, "HTTP/", 5) == 0) {
		const char *sp = memchr(p, ' ', len);

		if (sp != NULL && (size_t)(sp - p) + 4 <= len)
			r->status = strtol(sp + 1, NULL, 10);
	}
	if (len > pre && strncasecmp(p, "Set-Cookie: ", pre) == 0 &&
	    strncmp(p + pre, SESSION_COOKIE "=", strlen(SESSION_COOKIE) +
	    1) == 0) {
		end = memchr(p, ';', len);
		if (end == NULL)
			end = p + len;
		if ((size_t)(end - p) - pre < sizeof(r->cookie))
			snprintf(r->cookie, sizeof(r->cookie), "%.*s",
			    (int)((size_t)(end - p) - pre), p + pre);
	}
	return len;
}

static struct curl_slist *
add_header(struct curl_slist *l, const char *name, const char *v, int *ok)
{
	char line[1024];
	struct curl_slist *n;
	int len = snprintf(line, sizeof(line), "%s%s", name, v);

	if (len < 0 || (size_t)len >= sizeof(line)) {
		*ok = 0;
		OPENSSL_cleanse(line, sizeof(line));
		return l;
	}
	if ((n = curl_slist_append(l, line)) == NULL)
		*ok = 0;
	OPENSSL_cleanse(line, sizeof(line));
	return n != NULL ? n : l;
}

static struct curl_slist *
headers(struct cli *c, const char *method, int json, enum cli_auth auth,
    int *ok)
{
	struct curl_slist *h = NULL;

	*ok = 1;
	h = add_header(h, "Expect:", "", ok);
	h = add_header(h, "Accept: ", "application/json", ok);
	if (json)
		h = add_header(h, "Content-Type: ", "application/json", ok);
	if (auth == AUTH_READ && c->api_key != NULL)
		h = add_header(h, "Authorization: Bearer ", c->api_key, ok);
	else if (auth != AUTH_NONE && c->signed_in) {
		h = add_header(h, "Cookie: ", c->cookie, ok);
		if (strcmp(method, "GET") != 0)
			h = add_header(h, "X-CSRF-Token: ", c->csrf, ok);
	}
	return h;
}

static int
transport_error(struct cli *c, CURLcode rc, const char *detail)
{
	char esc[300];

	cli_safe(detail[0] != '\0' ? detail : curl_easy_strerror(rc), esc,
	    sizeof(esc));
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
		cli_errf(c, "refused to talk to %s: its certificate is not "
		    "trusted by the CA file %s (%s)", c->server, c->ca, esc);
		return TK_CLI_ECONNECT;
	case CURLE_WRITE_ERROR:
		cli_errf(c, "the answer could not be stored (%s)", esc);
		return TK_CLI_EFILE;
	default:
		cli_errf(c, "cannot reach %s: %s", c->server, esc);
		return TK_CLI_ECONNECT;
	}
}

static void
setup(struct cli *c, CURL *h, const char *url, struct curl_slist *hdrs,
    struct cli_resp *r, char *errbuf)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_CAINFO, c->ca);
	/* The CA file alone: not the system's store. */
	curl_easy_setopt(h, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "twokey");
}

int
cli_http(struct cli *c, const char *method, const char *path, json_t *body,
    enum cli_auth auth, struct cli_resp *r)
{
	char url[1024], errbuf[CURL_ERROR_SIZE], *text = NULL, *ct = NULL;
	struct curl_slist *hdrs = NULL;
	CURL *h = NULL;
	CURLcode rc;
	int ok, res = TK_CLI_EINTERNAL;

	r->status = 0;
	r->len = 0;
	r->body = NULL;
	r->cookie[0] = r->ctype[0] = errbuf[0] = '\0';
	if (snprintf(url, sizeof(url), "%s%s", c->server, path) >=
	    (int)sizeof(url) || (h = curl_easy_init()) == NULL)
		goto out;
	hdrs = headers(c, method, body != NULL, auth, &ok);
	if (!ok || (body != NULL && (text = json_dumps(body,
	    JSON_COMPACT)) == NULL))
		goto out;
	setup(c, h, url, hdrs, r, errbuf);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (text != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)strlen(text));
	}
	if ((rc = curl_easy_perform(h)) != CURLE_OK) {
		res = transport_error(c, rc, errbuf);
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK &&
	    ct != NULL)
		snprintf(r->ctype, sizeof(r->ctype), "%s", ct);
	res = TK_CLI_OK;
out:
	/* Bodies may carry assertions or invitation codes. */
	if (text != NULL)
		tk_secret_free(text, strlen(text));
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	if (res != TK_CLI_OK)
		cli_resp_clear(r);
	return res;
}

/* The server's {"error":{"code","message"}}, shown; the exit code. */
int
cli_refused(struct cli *c, const struct cli_resp *r)
{
	json_t *j = r->body != NULL ? json_loads(r->body, 0, NULL) : NULL;
	json_t *e = json_object_get(j, "error");
	char code[96], msg[600];

	if (json_is_object(e))
		cli_errf(c, "refused by the server (HTTP %ld): %s: %s",
		    r->status, cli_safe(json_string_value(json_object_get(e,
		    "code")), code, sizeof(code)),
		    cli_safe(json_string_value(json_object_get(e,
		    "message")), msg, sizeof(msg)));
	else
		cli_errf(c, "refused by the server (HTTP %ld) without an "
		    "explanation", r->status);
	json_decref(j);
	return r->status == 401 ? TK_CLI_EAUTH : TK_CLI_EREFUSED;
}

/* The answer as JSON when its status is want (0: any 2xx). */
static int
call(struct cli *c, const char *method, const char *path, json_t *body,
    enum cli_auth auth, long want, long *status, json_t **ans)
{
	struct cli_resp r;
	int rc;

	memset(&r, 0, sizeof(r));
	*ans = NULL;
	if ((rc = cli_http(c, method, path, body, auth, &r)) != TK_CLI_OK)
		return rc;
	if (status != NULL)
		*status = r.status;
	if (want != 0 ? r.status != want : r.status / 100 != 2)
		rc = cli_refused(c, &r);
	else if ((*ans = json_loads(r.body != NULL ? r.body : "", 0,
	    NULL)) == NULL) {
		cli_errf(c, "the server's answer to %s %s is not JSON", method,
		    path);
		rc = TK_CLI_EINTERNAL;
	}
	cli_resp_clear(&r);
	return rc;
}

int
cli_call(struct cli *c, const char *method, const char *path, json_t *body,
    enum cli_auth auth, long want, json_t **ans)
{
	return call(c, method, path, body, auth, want, NULL, ans);
}

int
cli_call_2xx(struct cli *c, const char *method, const char *path,
    json_t *body, enum cli_auth auth, long *status, json_t **ans)
{
	return call(c, method, path, body, auth, 0, status, ans);
}
