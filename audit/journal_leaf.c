/*
 * Canonical leaf bytes of a journal entry (format in journal.h).
 *
 * The caller's part (actor .. details) is validated and serialised by the
 * appending thread, before the entry is queued, so that bad input is
 * refused without touching the journal; the writer thread only prepends
 * the index and the time.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "twokey/common.h"
#include "twokey/journal.h"
#include "journal_int.h"
#include "note_int.h"

static json_t *canon_value(const json_t *v, int depth, int *err);

/*
 * The UTF-8 rule jansson applies (no overlong forms, surrogates or code
 * points past U+10FFFF), checked first so that a string that jansson
 * then fails to make can only mean that memory ran out.
 */
static int
utf8_valid(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, k;
	uint32_t c;

	while (i < n) {
		if ((k = note_utf8_next(p + i, n - i, &c)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

static int
key_cmp(const void *a, const void *b)
{
	const char *const *ka = a;
	const char *const *kb = b;

	return strcmp(*ka, *kb);
}

/* A copy of object o with its members inserted in sorted key order. */
static json_t *
canon_object(const json_t *o, int depth, int *err)
{
	const char **keys = NULL;
	const char *k;
	json_t *out = NULL, *v, *c;
	size_t n = 0, i;

	if ((keys = calloc(json_object_size(o) + 1, sizeof(*keys))) == NULL ||
	    (out = json_object()) == NULL) {
		*err = TK_JOURNAL_ERR_NOMEM;
		goto fail;
	}
	json_object_foreach((json_t *)(uintptr_t)o, k, v) {
		keys[n++] = k;
	}
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (i = 0; i < n; i++) {
		if ((c = canon_value(json_object_get(o, keys[i]), depth + 1,
		    err)) == NULL)
			goto fail;
		if (json_object_set_new(out, keys[i], c) != 0) {
			*err = TK_JOURNAL_ERR_NOMEM;
			goto fail;
		}
	}
	free(keys);
	return out;
fail:
	free(keys);
	json_decref(out);
	return NULL;
}

static json_t *
canon_array(const json_t *a, int depth, int *err)
{
	json_t *out, *c;
	size_t i;

	if ((out = json_array()) == NULL) {
		*err = TK_JOURNAL_ERR_NOMEM;
		return NULL;
	}
	for (i = 0; i < json_array_size(a); i++) {
		if ((c = canon_value(json_array_get(a, i), depth + 1,
		    err)) == NULL || json_array_append_new(out, c) != 0) {
			if (c != NULL)
				*err = TK_JOURNAL_ERR_NOMEM;
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* Deep copy in canonical order; reals and deep nesting are refused. */
static json_t *
canon_value(const json_t *v, int depth, int *err)
{
	json_t *c = NULL;

	if (depth > TK_JOURNAL_MAX_DEPTH) {
		*err = TK_JOURNAL_ERR_TOOBIG;
		return NULL;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return canon_object(v, depth, err);
	case JSON_ARRAY:
		return canon_array(v, depth, err);
	case JSON_STRING:
		c = json_stringn(json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		c = json_integer(json_integer_value(v));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
	case JSON_NULL:
		return json_incref((json_t *)(uintptr_t)v);
	case JSON_REAL:
	default:
		*err = TK_JOURNAL_ERR_INVALID;
		return NULL;
	}
	if (c == NULL)
		*err = TK_JOURNAL_ERR_NOMEM;
	return c;
}

static int
set_field(json_t *o, const char *key, const char *val, int required)
{
	size_t len;
	json_t *s;

	if (val == NULL)
		val = "";
	len = strlen(val);
	if (required && len == 0)
		return TK_JOURNAL_ERR_INVALID;
	if (len > TK_JOURNAL_MAX_FIELD)
		return TK_JOURNAL_ERR_TOOBIG;
	if (!utf8_valid(val, len))
		return TK_JOURNAL_ERR_INVALID;
	if ((s = json_stringn(val, len)) == NULL)
		return TK_JOURNAL_ERR_NOMEM;
	if (json_object_set_new(o, key, s) != 0)
		return TK_JOURNAL_ERR_NOMEM;
	return 0;
}

/*
 * Serialises the caller's fields as "{"actor":..,...,"details":{..}}".
 * Caller frees *out.
 */
int
tk_journal_body(const struct tk_journal_entry *e, char **out, size_t *outlen)
{
	json_t *o = NULL, *d = NULL;
	char *s = NULL;
	int r = TK_JOURNAL_ERR_INVALID;

	*out = NULL;
	if (e == NULL || (e->details != NULL && !json_is_object(e->details)))
		goto out;
	if ((o = json_object()) == NULL) {
		r = TK_JOURNAL_ERR_NOMEM;
		goto out;
	}
	if ((r = set_field(o, "actor", e->actor, 1)) != 0 ||
	    (r = set_field(o, "action", e->action, 1)) != 0 ||
	    (r = set_field(o, "object", e->object, 0)) != 0 ||
	    (r = set_field(o, "correlation_id", e->correlation_id, 0)) != 0)
		goto out;
	if (e->details == NULL)
		d = json_object();
	else
		d = canon_value(e->details, 0, &r);
	if (d == NULL) {
		if (r == 0)
			r = TK_JOURNAL_ERR_NOMEM;
		goto out;
	}
	if (json_object_set_new(o, "details", d) != 0) {
		r = TK_JOURNAL_ERR_NOMEM;
		goto out;
	}
	if ((s = tk_json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII |
	    JSON_PRESERVE_ORDER)) == NULL) {
		r = TK_JOURNAL_ERR_NOMEM;
		goto out;
	}
	if (strlen(s) > TK_JOURNAL_MAX_DETAILS + 8 * TK_JOURNAL_MAX_FIELD) {
		r = TK_JOURNAL_ERR_TOOBIG;
		goto out;
	}
	*outlen = strlen(s);
	*out = s;
	s = NULL;
	r = 0;
out:
	free(s);
	json_decref(o);
	return r;
}

/* {"index":N,"time":"T", + body without its "{". Caller frees *out. */
int
tk_journal_join(uint64_t index, const char *time, const char *body,
    size_t body_len, char **out, size_t *outlen)
{
	char head[96];
	size_t hl;
	char *p;
	int n;

	*out = NULL;
	if (body_len < 2 || body[0] != '{' || strlen(time) != 24)
		return TK_JOURNAL_ERR_INVALID;
	n = snprintf(head, sizeof(head), "{\"index\":%" PRIu64
	    ",\"time\":\"%s\",", index, time);
	if (n < 0 || (size_t)n >= sizeof(head))
		return TK_JOURNAL_ERR_INVALID;
	hl = (size_t)n;
	if ((p = malloc(hl + body_len)) == NULL)
		return TK_JOURNAL_ERR_NOMEM;
	memcpy(p, head, hl);
	memcpy(p + hl, body + 1, body_len - 1);
	p[hl + body_len - 1] = '\0';
	*out = p;
	*outlen = hl + body_len - 1;
	return 0;
}

/* Now as "YYYY-MM-DDTHH:MM:SS.mmmZ"; out holds TK_JOURNAL_TIME_LEN. */
void
tk_journal_now(char out[TK_JOURNAL_TIME_LEN])
{
	struct timespec ts;
	struct tm tm;
	size_t n;
	int ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(out, TK_JOURNAL_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n != 19) {
		/* Years past 9999 do not fit the format. */
		memcpy(out, "9999-12-31T23:59:59", 20);
		n = 19;
	}
	ms = (int)(ts.tv_nsec / 1000000) % 1000;
	out[19] = '.';
	out[20] = (char)('0' + ms / 100);
	out[21] = (char)('0' + ms / 10 % 10);
	out[22] = (char)('0' + ms % 10);
	out[23] = 'Z';
	out[24] = '\0';
}

int
tk_journal_leaf(const struct tk_journal_entry *entry, uint64_t index,
    const char *time, char **out, size_t *outlen)
{
	char *body = NULL;
	size_t body_len;
	int r;

	if (out == NULL || outlen == NULL || time == NULL)
		return TK_JOURNAL_ERR_INVALID;
	*out = NULL;
	if ((r = tk_journal_body(entry, &body, &body_len)) != 0)
		return r;
	r = tk_journal_join(index, time, body, body_len, out, outlen);
	free(body);
	return r;
}

const char *
tk_journal_strerror(int err)
{
	switch (err) {
	case TK_JOURNAL_OK:
		return "success";
	case TK_JOURNAL_ERR_NOMEM:
		return "out of memory";
	case TK_JOURNAL_ERR_INVALID:
		return "invalid entry or argument";
	case TK_JOURNAL_ERR_TOOBIG:
		return "entry too large or too deeply nested";
	case TK_JOURNAL_ERR_DB:
		return "journal database error";
	case TK_JOURNAL_ERR_SIGN:
		return "checkpoint could not be signed; entry not recorded";
	case TK_JOURNAL_ERR_CORRUPT:
		return "stored journal does not match its checkpoint";
	case TK_JOURNAL_ERR_RANGE:
		return "no such entry or checkpoint";
	case TK_JOURNAL_ERR_CLOSED:
		return "journal is closing";
	case TK_JOURNAL_ERR_IO:
		return "export could not be written";
	case TK_JOURNAL_ERR_ORIGIN:
		return "journal database has another origin";
	case TK_JOURNAL_ERR_KEY:
		return "audit key does not match the journal's checkpoints";
	default:
		return "unknown journal error";
	}
}
