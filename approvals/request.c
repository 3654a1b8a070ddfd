/*
 * Requests: strict parsing of what a requester sends, and the canonical
 * JSON whose SHA-256 digest every approval signs (the canonical form is
 * described in approvals.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "internal.h"

int
tk_apr_check_token(const char *s)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > TK_TOKEN_MAX)
		return -1;
	for (; *s != '\0'; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("._:/@-_", *s) != NULL)
			continue;
		return -1;
	}
	return 0;
}

static int
name_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

int
tk_apr_check_name(const char *s)
{
	size_t i, n;

	if (s == NULL || (n = strlen(s)) == 0 || n > TK_NAME_MAX ||
	    !name_alnum(s[0]) || !name_alnum(s[n - 1]))
		return -1;
	for (i = 1; i + 1 < n; i++)
		if (!name_alnum(s[i]) && strchr("._-", s[i]) == NULL)
			return -1;
	return 0;
}

int
tk_apr_check_text(const char *s, size_t max)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > max)
		return -1;
	return tk_text_printable(s, n) ? 0 : -1;
}

void
tk_request_free(struct tk_request **rp)
{
	struct tk_request *r;
	size_t i;

	if (rp == NULL || (r = *rp) == NULL)
		return;
	free(r->service_account);
	free(r->connector);
	free(r->incident);
	free(r->reason);
	free(r->ticket);
	for (i = 0; i < r->nscopes; i++)
		free(r->scopes[i]);
	free(r->scopes);
	free(r);
	*rp = NULL;
}

/*
 * A string member; absent is fine unless required. -1 on anything bad,
 * NOMEM (-2) when a copy could not be made: not the input's fault.
 */
#define NOMEM (-2)

/* Where a refusal is put in words for the requester (buf may be NULL). */
struct why {
	char *buf;
	size_t len;
};

static int refuse_why(struct why *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
refuse_why(struct why *w, const char *fmt, ...)
{
	va_list ap;

	if (w->buf != NULL && w->len > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(w->buf, w->len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

#define TOKEN_RULE "1 to 128 of A-Z a-z 0-9 and . _ : / @ -"

static int
take_str(json_t *root, const char *key, int required, int token,
    char **out, struct why *w)
{
	json_t *j;
	const char *s;

	if ((j = json_object_get(root, key)) == NULL)
		return required ? refuse_why(w, "field \"%s\" is required",
		    key) : 0;
	if (!json_is_string(j))
		return refuse_why(w, "field \"%s\" must be a string", key);
	s = json_string_value(j);
	if (strlen(s) != json_string_length(j))
		return refuse_why(w, "field \"%s\" holds a NUL character",
		    key);
	if (token ? tk_apr_check_token(s) : tk_apr_check_text(s,
	    TK_TEXT_MAX))
		return refuse_why(w, token ? "field \"%s\" takes "
		    TOKEN_RULE : "field \"%s\" must be printable text of "
		    "1 to 1024 bytes", key);
	return (*out = strdup(s)) == NULL ? NOMEM : 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
take_scopes(json_t *root, struct tk_request *r, struct why *w)
{
	json_t *arr, *s;
	size_t i, n;

	arr = json_object_get(root, "scopes");
	if (!json_is_array(arr) || (n = json_array_size(arr)) == 0 ||
	    n > TK_SCOPES_MAX) {
		if (w->buf != NULL)
			(void)snprintf(w->buf, w->len, "field \"scopes\" "
			    "lists 1 to %d scopes", TK_SCOPES_MAX);
		return -1;
	}
	if ((r->scopes = calloc(n, sizeof(char *))) == NULL)
		return NOMEM;
	json_array_foreach(arr, i, s) {
		if (!json_is_string(s) ||
		    tk_apr_check_token(json_string_value(s)) != 0)
			return refuse_why(w, "each of \"%s\" takes "
			    TOKEN_RULE, "scopes");
		if ((r->scopes[i] = strdup(json_string_value(s))) == NULL)
			return NOMEM;
		r->nscopes = i + 1;
	}
	qsort(r->scopes, n, sizeof(char *), cmp_str);
	/* The scopes passed the token rule: safe to name. */
	for (i = 1; i < n; i++)
		if (strcmp(r->scopes[i - 1], r->scopes[i]) == 0)
			return refuse_why(w, "scope \"%s\" is listed twice",
			    r->scopes[i]);
	return 0;
}

static int
only_keys(json_t *root, const char *const *keys, size_t n)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(root, key, v) {
		for (i = 0; i < n; i++)
			if (strcmp(key, keys[i]) == 0)
				break;
		if (i == n)
			return -1;
	}
	return 0;
}

static int
take_fields(json_t *root, struct tk_request *r, struct why *w)
{
	static const char *const elev[] = { "kind", "service_account",
	    "connector", "scopes", "duration", "reason", "ticket" };
	static const char *const bg[] = { "kind", "incident", "scopes",
	    "ttl", "reason" };
	const char *kind, *dname;
	json_t *d;
	int e;

	if ((kind = json_string_value(json_object_get(root, "kind"))) == NULL)
		return refuse_why(w, "field \"%s\" is elevation or "
		    "break-glass", "kind");
	if (strcmp(kind, "elevation") == 0) {
		r->kind = TK_REQ_ELEVATION;
		if (only_keys(root, elev, 7) != 0)
			return refuse_why(w, "an %s request takes kind, "
			    "service_account, connector, scopes, duration, "
			    "reason and ticket only", "elevation");
		if ((e = take_str(root, "service_account", 1, 1,
		    &r->service_account, w)) != 0 ||
		    (e = take_str(root, "connector", 1, 1,
		    &r->connector, w)) != 0 ||
		    (e = take_str(root, "ticket", 0, 1, &r->ticket, w)) != 0)
			return e;
		dname = "duration";
	} else if (strcmp(kind, "break-glass") == 0) {
		r->kind = TK_REQ_BREAKGLASS;
		if (only_keys(root, bg, 5) != 0)
			return refuse_why(w, "a %s request takes kind, "
			    "incident, scopes, ttl and reason only",
			    "break-glass");
		if ((e = take_str(root, "incident", 1, 1, &r->incident,
		    w)) != 0)
			return e;
		dname = "ttl";
	} else
		return refuse_why(w, "field \"%s\" is elevation or "
		    "break-glass", "kind");
	if ((e = take_str(root, "reason", 1, 0, &r->reason, w)) != 0 ||
	    (e = take_scopes(root, r, w)) != 0)
		return e;
	/* Bounded so that the canonical form stays exact in JCS (2^53). */
	d = json_object_get(root, dname);
	if (!json_is_integer(d) || json_integer_value(d) <= 0 ||
	    json_integer_value(d) > TK_DURATION_MAX)
		return refuse_why(w, "field \"%s\" is a positive number of "
		    "seconds", dname);
	r->duration = (int64_t)json_integer_value(d);
	return 0;
}

int
tk_request_parse(const char *json, size_t len, struct tk_request **out)
{
	return tk_request_parse_why(json, len, out, NULL, 0);
}

int
tk_request_parse_why(const char *json, size_t len, struct tk_request **out,
    char *why, size_t whylen)
{
	struct tk_request *r = NULL;
	struct why w = { why, whylen };
	json_error_t jerr;
	json_t *root = NULL;
	int rc = TK_APR_ERR_INVALID, nomem = 0;

	*out = NULL;
	if (json == NULL || len == 0 || len > TK_JSON_MAX)
		goto out;
	if ((root = tk_json_loadb(json, len, JSON_REJECT_DUPLICATES,
	    &jerr, &nomem)) == NULL || !json_is_object(root)) {
		if (nomem)
			rc = TK_APR_ERR_NOMEM;
		goto out;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		rc = TK_APR_ERR_NOMEM;
		goto out;
	}
	if ((nomem = take_fields(root, r, &w)) != 0) {
		if (nomem == NOMEM)
			rc = TK_APR_ERR_NOMEM;
		goto out;
	}
	*out = r;
	r = NULL;
	rc = TK_APR_OK;
out:
	tk_request_free(&r);
	json_decref(root);
	return rc;
}

static int
set_str(json_t *o, const char *key, const char *v)
{
	if (v == NULL)
		return 0;
	return json_object_set_new(o, key, json_string(v));
}

static json_t *
canonical_object(const struct tk_request *req, const char *requester,
    const char *rid, int64_t created)
{
	json_t *o, *scopes;
	size_t i;
	int bad = 0;

	if ((o = json_object()) == NULL)
		return NULL;
	if ((scopes = json_array()) == NULL) {
		json_decref(o);
		return NULL;
	}
	for (i = 0; i < req->nscopes; i++)
		bad |= json_array_append_new(scopes,
		    json_string(req->scopes[i]));
	bad |= json_object_set_new(o, "scopes", scopes);
	bad |= json_object_set_new(o, "v", json_integer(1));
	bad |= set_str(o, "kind", req->kind == TK_REQ_ELEVATION ?
	    "elevation" : "break-glass");
	bad |= set_str(o, "requester", requester);
	bad |= set_str(o, "rid", rid);
	bad |= json_object_set_new(o, "created", json_integer(created));
	bad |= json_object_set_new(o, req->kind == TK_REQ_ELEVATION ?
	    "duration" : "ttl", json_integer(req->duration));
	bad |= set_str(o, "service_account", req->service_account);
	bad |= set_str(o, "connector", req->connector);
	bad |= set_str(o, "incident", req->incident);
	bad |= set_str(o, "reason", req->reason);
	bad |= set_str(o, "ticket", req->ticket);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
tk_request_canonical(const struct tk_request *req, const char *requester,
    const char *rid, int64_t created, char **out,
    uint8_t digest[TK_DIGEST_LEN])
{
	json_t *o = NULL;
	char *s = NULL;
	int rc = TK_APR_ERR_INVALID;

	*out = NULL;
	if (req == NULL || tk_apr_check_text(requester, TK_NAME_MAX) != 0 ||
	    tk_apr_check_token(rid) != 0 || created < 0)
		goto out;
	rc = TK_APR_ERR_NOMEM;
	if ((o = canonical_object(req, requester, rid, created)) == NULL)
		goto out;
	if ((s = tk_json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		goto out;
	if (SHA256((const unsigned char *)s, strlen(s), digest) == NULL)
		goto out;
	*out = s;
	s = NULL;
	rc = TK_APR_OK;
out:
	free(s);
	json_decref(o);
	return rc;
}
