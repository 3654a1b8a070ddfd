/*
 * The checks every request body passes before a handler acts on it: one
 * JSON object, no duplicate keys, only the declared fields, each of the
 * declared type and size. Handlers then read fields without re-checking.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "twokey/common.h"
#include "twokey/web.h"

json_t *
tk_web_parse_body(const char *body, size_t len, char *msg, size_t msglen)
{
	json_error_t jerr;
	json_t *root;

	if (len == 0) {
		snprintf(msg, msglen, "the body is empty; expected a JSON "
		    "object");
		return NULL;
	}
	/*
	 * jansson refuses NUL bytes and bad UTF-8 unless told otherwise.
	 * Scalars are decoded too, so that "null" is told it is not an
	 * object rather than that it is not JSON.
	 */
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
	    &jerr);
	if (root == NULL) {
		snprintf(msg, msglen, "the body is not valid JSON: %s (line "
		    "%d, column %d)", tk_json_error_words(&jerr), jerr.line,
		    jerr.column);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		snprintf(msg, msglen, "the body must be a JSON object");
		return NULL;
	}
	return root;
}

/* No control or invisible characters: these reach logs, pages, JSON. */
static int
text_ok(const char *s, size_t len)
{
	return strlen(s) == len && tk_text_printable(s, len);
}

static int
b64url_ok(const char *s, size_t len)
{
	uint8_t *dec = NULL;
	size_t declen;
	int ok;

	ok = tk_b64url_decode(s, len, &dec, &declen) == TK_OK;
	free(dec);
	return ok;
}

static int
string_ok(const struct tk_field *f, const json_t *v, char *msg,
    size_t msglen)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);

	if (len < f->min || len > f->max) {
		if (f->min == f->max)
			snprintf(msg, msglen, "field \"%s\" must be exactly "
			    "%zu bytes long", f->name, f->min);
		else
			snprintf(msg, msglen, "field \"%s\" must be %zu to "
			    "%zu bytes long (UTF-8)", f->name, f->min, f->max);
		return 0;
	}
	if (f->type == TK_FIELD_B64URL ? !b64url_ok(s, len) :
	    !text_ok(s, len)) {
		snprintf(msg, msglen, "field \"%s\" has characters that are "
		    "not allowed%s", f->name, f->type == TK_FIELD_B64URL ?
		    " (expected base64url without padding)" : "");
		return 0;
	}
	return 1;
}

static int
strings_ok(const struct tk_field *f, const json_t *v, char *msg,
    size_t msglen)
{
	const json_t *e;
	size_t i, n = json_array_size(v);

	if (n < f->min || n > f->max) {
		snprintf(msg, msglen, "field \"%s\" must list %zu to %zu "
		    "items", f->name, f->min, f->max);
		return 0;
	}
	for (i = 0; i < n; i++) {
		e = json_array_get(v, i);
		if (!json_is_string(e) || json_string_length(e) == 0 ||
		    json_string_length(e) > 256 ||
		    !text_ok(json_string_value(e), json_string_length(e))) {
			snprintf(msg, msglen, "field \"%s\" item %zu must be "
			    "a string of 1 to 256 printable bytes",
			    f->name, i);
			return 0;
		}
	}
	return 1;
}

static const char *
type_name(enum tk_field_type t)
{
	switch (t) {
	case TK_FIELD_STRING:
	case TK_FIELD_B64URL:
		return "a string";
	case TK_FIELD_INTEGER:
		return "a whole number";
	case TK_FIELD_BOOLEAN:
		return "true or false";
	case TK_FIELD_STRINGS:
		return "a list of strings";
	case TK_FIELD_OBJECT:
		return "an object";
	}
	return "?";
}

static int
type_matches(enum tk_field_type t, const json_t *v)
{
	switch (t) {
	case TK_FIELD_STRING:
	case TK_FIELD_B64URL:
		return json_is_string(v);
	case TK_FIELD_INTEGER:
		return json_is_integer(v);
	case TK_FIELD_BOOLEAN:
		return json_is_boolean(v);
	case TK_FIELD_STRINGS:
		return json_is_array(v);
	case TK_FIELD_OBJECT:
		return json_is_object(v);
	}
	return 0;
}

static int
field_ok(const struct tk_field *f, const json_t *v, char *msg,
    size_t msglen)
{
	json_int_t n;

	if (!type_matches(f->type, v)) {
		snprintf(msg, msglen, "field \"%s\" must be %s", f->name,
		    type_name(f->type));
		return 0;
	}
	switch (f->type) {
	case TK_FIELD_STRING:
	case TK_FIELD_B64URL:
		return string_ok(f, v, msg, msglen);
	case TK_FIELD_STRINGS:
		return strings_ok(f, v, msg, msglen);
	case TK_FIELD_INTEGER:
		n = json_integer_value(v);
		if (n < 0 || (size_t)n < f->min || (size_t)n > f->max) {
			snprintf(msg, msglen, "field \"%s\" must be from %zu "
			    "to %zu", f->name, f->min, f->max);
			return 0;
		}
		return 1;
	case TK_FIELD_OBJECT:
		if (json_object_size(v) > f->max) {
			snprintf(msg, msglen, "field \"%s\" has more than %zu "
			    "members", f->name, f->max);
			return 0;
		}
		return 1;
	case TK_FIELD_BOOLEAN:
		return 1;
	}
	return 0;
}

int
tk_web_check_fields(const json_t *obj, const struct tk_field *fields,
    size_t nfields, char *msg, size_t msglen)
{
	const char *key;
	const json_t *v;
	char esc[72];
	size_t i;

	/* json_object_foreach wants a non-const object; it only reads. */
	json_t *o = (json_t *)(uintptr_t)obj;

	json_object_foreach(o, key, v) {
		for (i = 0; i < nfields; i++)
			if (strcmp(fields[i].name, key) == 0)
				break;
		if (i == nfields) {
			snprintf(msg, msglen, "unknown field \"%s\"",
			    tk_log_escape(esc, sizeof(esc), key,
			    strlen(key)));
			return -1;
		}
		if (!field_ok(&fields[i], v, msg, msglen))
			return -1;
	}
	for (i = 0; i < nfields; i++)
		if (fields[i].required &&
		    json_object_get(obj, fields[i].name) == NULL) {
			snprintf(msg, msglen, "field \"%s\" is required",
			    fields[i].name);
			return -1;
		}
	return 0;
}
