/*
 * The service-account inventory, the pure half: one account from its JSON
 * form with every problem named, the flags, and the JSON of an account.
 * Documents (JSON and CSV) are in inventory_doc.c, the store in
 * inventory_store.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/inventory.h"
#include "internal.h"
#include "inventory_int.h"

const char *
tk_inv_strerror(int err)
{
	switch (err) {
	case TK_INV_OK:
		return "success";
	case TK_INV_ERR_NOMEM:
		return "out of memory";
	case TK_INV_ERR_INVALID:
		return "inventory refused";
	case TK_INV_ERR_DB:
		return "inventory store failed";
	case TK_INV_ERR_NOT_FOUND:
		return "no such service account";
	case TK_INV_ERR_STALE:
		return "the inventory changed since the plan was made";
	case TK_INV_ERR_JOURNAL:
		return "the journal refused the event";
	case TK_INV_ERR_TOOBIG:
		return "inventory document too large";
	case TK_INV_ERR_GOVERNED:
		return "the import binds accounts to a connector or scenario "
		    "or moves credentials: it needs the quorum (give a "
		    "reason and a ticket to propose it)";
	default:
		return "unknown error";
	}
}

static const char *class_names[] = { "public", "internal", "confidential",
    "restricted" };
static const char *kind_names[] = { "service", "personal" };

const struct tk_inv_column tk_inv_columns[] = {
	{ "id", INV_T_STRING, 1 },
	{ "owner", INV_T_STRING, 1 },
	{ "purpose", INV_T_STRING, 1 },
	{ "systems", INV_T_LIST, 1 },
	{ "classification", INV_T_STRING, 1 },
	{ "connector", INV_T_STRING, 1 },
	{ "scenario", INV_T_STRING, 0 },
	{ "scopes", INV_T_LIST, 1 },
	{ "credential_ref", INV_T_STRING, 1 },
	{ "credential_kind", INV_T_STRING, 1 },
	{ "production", INV_T_BOOL, 1 },
	{ "rotation_days", INV_T_INT, 1 },
	{ "last_rotation", INV_T_STRING, 0 },
	{ "last_use", INV_T_STRING, 0 },
};
const size_t tk_inv_ncolumns = sizeof(tk_inv_columns) /
    sizeof(tk_inv_columns[0]);

void
tk_inv_problem(json_t *problems, size_t row, const char *field,
    const char *fmt, ...)
{
	char msg[256], esc[80];
	va_list ap;

	if (problems == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tk_log_escape(esc, sizeof(esc), field, strlen(field));
	(void)json_array_append_new(problems, json_pack("{s:I,s:s,s:s}",
	    "row", (json_int_t)row, "field", esc, "message", msg));
}

/* Text a spreadsheet would run as a formula, or with control bytes. */
static int
text_ok(const char *s, size_t max)
{
	if (tk_apr_check_text(s, max) != 0)
		return 0;
	return strchr("=+-@", s[0]) == NULL;
}

static int
token_ok(const char *s)
{
	return tk_apr_check_token(s) == 0 && strlen(s) <= TK_INV_TOKEN_MAX &&
	    strchr("=+-@", s[0]) == NULL;
}

int
tk_inv_id_ok(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > TK_INV_ID_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    (i > 0 && (s[i] == '_' || s[i] == '-')))
			continue;
		return 0;
	}
	return 1;
}

int
tk_inv_time_parse(const char *s, int64_t *out)
{
	/* Only the date-time form, and not the epoch itself. */
	if (strlen(s) != 20 || tk_utc_parse(s, out) != 0 || *out <= 0)
		return -1;
	return 0;
}

int
tk_inventory_time_parse(const char *s, int64_t *out)
{
	return tk_inv_time_parse(s, out) == 0 ? TK_INV_OK :
	    TK_INV_ERR_INVALID;
}

void
tk_inv_time_format(int64_t t, char out[21])
{
	struct tm tm;
	time_t tt = (time_t)t;

	out[0] = '\0';
	if (gmtime_r(&tt, &tm) != NULL)
		(void)strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * A reference to where the credential lives, never the credential:
 * "vault:" and a path of [A-Za-z0-9._/-] segments, or an RFC 7512
 * "pkcs11:" URI without pin-value (in any case or percent-encoding).
 * A path segment that looks like a token (24 or more characters mixing
 * letters and digits, nothing else) is refused as a probable secret.
 */
static int
looks_secret(const char *seg, size_t n)
{
	size_t i, alpha = 0, digit = 0;

	if (n < 24)
		return 0;
	for (i = 0; i < n; i++) {
		if ((seg[i] >= 'a' && seg[i] <= 'z') ||
		    (seg[i] >= 'A' && seg[i] <= 'Z'))
			alpha++;
		else if (seg[i] >= '0' && seg[i] <= '9')
			digit++;
		else if (seg[i] != '_' && seg[i] != '-')
			return 0;
	}
	return alpha > 0 && digit > 0;
}

static const char *
vault_ref_problem(const char *p)
{
	size_t n;

	if (*p == '\0')
		return "a vault reference needs a path after \"vault:\"";
	while (*p != '\0') {
		n = strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
		    "vwxyz0123456789._-");
		if (n == 0 && *p != '/')
			return "a vault path takes only letters, digits and "
			    "._-/";
		if (looks_secret(p, n))
			return "looks like a secret value; give where the "
			    "credential lives, not the credential";
		p += n;
		if (*p == '/')
			p++;
	}
	return NULL;
}

static const char *
pkcs11_ref_problem(const char *p)
{
	char dec[TK_INV_REF_MAX + 1];
	size_t i = 0;
	unsigned int hi, lo;

	for (; *p != '\0' && i < sizeof(dec) - 1; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return "a PKCS#11 URI takes printable ASCII only";
		if (*p == '%') {
			if (sscanf(p + 1, "%1x%1x", &hi, &lo) != 2)
				return "bad percent-encoding in the URI";
			dec[i++] = (char)(hi << 4 | lo);
			p += 2;
		} else
			dec[i++] = *p;
	}
	dec[i] = '\0';
	for (i = 0; dec[i] != '\0'; i++)
		if (strncasecmp(dec + i, "pin-value", 9) == 0)
			return "pin-value is a secret; name the token, not "
			    "its PIN";
	return NULL;
}

const char *
tk_inv_ref_problem(const char *ref)
{
	if (strncmp(ref, "vault:", 6) == 0)
		return vault_ref_problem(ref + 6);
	if (strncmp(ref, "pkcs11:", 7) == 0)
		return pkcs11_ref_problem(ref + 7);
	return "must be a vault path (vault:...) or a PKCS#11 URI "
	    "(pkcs11:...); never the secret itself";
}

static int
known_column(const char *key)
{
	size_t i;

	for (i = 0; i < tk_inv_ncolumns; i++)
		if (strcmp(key, tk_inv_columns[i].name) == 0)
			return 1;
	return 0;
}

/* The string member key, or NULL with a problem (missing or wrong). */
static const char *
member_str(json_t *o, const char *key, int required, size_t row,
    json_t *problems)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL) {
		if (required)
			tk_inv_problem(problems, row, key, "missing");
		return NULL;
	}
	if (!json_is_string(v) ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		tk_inv_problem(problems, row, key, "must be a string");
		return NULL;
	}
	return json_string_value(v);
}

static void
take_text(json_t *o, const char *key, char *dst, size_t max, size_t row,
    json_t *problems)
{
	const char *s = member_str(o, key, 1, row, problems);

	if (s == NULL)
		return;
	if (!text_ok(s, max))
		tk_inv_problem(problems, row, key, "must be 1 to %zu bytes "
		    "without control, invisible or direction-changing "
		    "characters, not starting with = + - @", max);
	else
		memcpy(dst, s, strlen(s) + 1);
}

static void
take_token(json_t *o, const char *key, int required, char *dst,
    size_t row, json_t *problems)
{
	const char *s = member_str(o, key, required, row, problems);

	if (s == NULL)
		return;
	if (!token_ok(s))
		tk_inv_problem(problems, row, key, "must be 1 to %d of "
		    "A-Z a-z 0-9 . _ : / @ -, not starting with - or @",
		    TK_INV_TOKEN_MAX);
	else
		memcpy(dst, s, strlen(s) + 1);
}

static int
cmp_token(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static void
take_list(json_t *o, const char *key, char (*dst)[TK_INV_TOKEN_MAX + 1],
    size_t max, size_t *n, size_t row, json_t *problems)
{
	json_t *arr = json_object_get(o, key), *v;
	size_t i;

	*n = 0;
	if (arr == NULL) {
		tk_inv_problem(problems, row, key, "missing");
		return;
	}
	if (!json_is_array(arr) || json_array_size(arr) > max) {
		tk_inv_problem(problems, row, key, "must be a list of at most "
		    "%zu names", max);
		return;
	}
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || strlen(json_string_value(v)) !=
		    json_string_length(v) || !token_ok(json_string_value(v))) {
			tk_inv_problem(problems, row, key, "item %zu must be "
			    "1 to %d of A-Z a-z 0-9 . _ : / @ -", i + 1,
			    TK_INV_TOKEN_MAX);
			continue;
		}
		memcpy(dst[*n], json_string_value(v),
		    json_string_length(v) + 1);
		(*n)++;
	}
	qsort(dst, *n, sizeof(*dst), cmp_token);
	for (i = 1; i < *n; i++)
		if (strcmp(dst[i - 1], dst[i]) == 0)
			tk_inv_problem(problems, row, key, "\"%s\" is listed "
			    "twice", dst[i]);
}

static int
take_enum(json_t *o, const char *key, const char **names, size_t nnames,
    size_t row, json_t *problems)
{
	const char *s = member_str(o, key, 1, row, problems);
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; i < nnames; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	tk_inv_problem(problems, row, key, "must be one of %s%s%s%s%s%s%s",
	    names[0], nnames > 1 ? ", " : "", nnames > 1 ? names[1] : "",
	    nnames > 2 ? ", " : "", nnames > 2 ? names[2] : "",
	    nnames > 3 ? ", " : "", nnames > 3 ? names[3] : "");
	return 0;
}

static void
take_time(json_t *o, const char *key, int64_t *dst, size_t row,
    json_t *problems)
{
	const char *s = member_str(o, key, 0, row, problems);

	*dst = 0;
	if (s != NULL && tk_inv_time_parse(s, dst) != 0)
		tk_inv_problem(problems, row, key, "must be a UTC time as "
		    "YYYY-MM-DDTHH:MM:SSZ");
}

static void
take_numbers(json_t *o, struct tk_inv_account *a, size_t row,
    json_t *problems)
{
	json_t *v;

	if ((v = json_object_get(o, "production")) == NULL)
		tk_inv_problem(problems, row, "production", "missing");
	else if (!json_is_boolean(v))
		tk_inv_problem(problems, row, "production", "must be true or "
		    "false");
	else
		a->production = json_is_true(v);
	if ((v = json_object_get(o, "rotation_days")) == NULL)
		tk_inv_problem(problems, row, "rotation_days", "missing");
	else if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > TK_INV_ROTATION_MAX)
		tk_inv_problem(problems, row, "rotation_days", "must be a "
		    "whole number of days from 1 to %d", TK_INV_ROTATION_MAX);
	else
		a->rotation_days = (int64_t)json_integer_value(v);
}

size_t
tk_inv_account_from_json(json_t *o, size_t row, struct tk_inv_account *a,
    json_t *problems)
{
	size_t before = json_array_size(problems);
	const char *key, *why;
	json_t *v;

	memset(a, 0, sizeof(*a));
	if (!json_is_object(o)) {
		tk_inv_problem(problems, row, "", "an account must be an "
		    "object");
		return json_array_size(problems) - before;
	}
	json_object_foreach(o, key, v)
		if (!known_column(key))
			tk_inv_problem(problems, row, key, "unknown field");
	if ((key = member_str(o, "id", 1, row, problems)) != NULL) {
		if (!tk_inv_id_ok(key))
			tk_inv_problem(problems, row, "id", "must be 1 to %d "
			    "of A-Z a-z 0-9 _ -, starting with a letter or "
			    "digit", TK_INV_ID_MAX);
		else
			memcpy(a->id, key, strlen(key) + 1);
	}
	take_text(o, "owner", a->owner, TK_NAME_MAX, row, problems);
	take_text(o, "purpose", a->purpose, TK_INV_PURPOSE_MAX, row,
	    problems);
	take_list(o, "systems", a->systems, TK_INV_SYSTEMS_MAX, &a->nsystems,
	    row, problems);
	a->classification = (enum tk_inv_class)take_enum(o, "classification",
	    class_names, 4, row, problems);
	take_token(o, "connector", 1, a->connector, row, problems);
	take_token(o, "scenario", 0, a->scenario, row, problems);
	take_list(o, "scopes", a->scopes, TK_INV_SCOPES_MAX, &a->nscopes, row,
	    problems);
	if ((key = member_str(o, "credential_ref", 1, row, problems)) !=
	    NULL) {
		/* The value is never echoed: it might be the secret. */
		if (strlen(key) == 0 || strlen(key) > TK_INV_REF_MAX)
			tk_inv_problem(problems, row, "credential_ref", "must "
			    "be 1 to %d bytes", TK_INV_REF_MAX);
		else if ((why = tk_inv_ref_problem(key)) != NULL)
			tk_inv_problem(problems, row, "credential_ref", "%s",
			    why);
		else
			memcpy(a->credential_ref, key, strlen(key) + 1);
	}
	a->credential_kind = (enum tk_inv_cred_kind)take_enum(o,
	    "credential_kind", kind_names, 2, row, problems);
	take_numbers(o, a, row, problems);
	take_time(o, "last_rotation", &a->last_rotation, row, problems);
	take_time(o, "last_use", &a->last_use, row, problems);
	return json_array_size(problems) - before;
}

static json_t *
list_json(const char (*l)[TK_INV_TOKEN_MAX + 1], size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		(void)json_array_append_new(a, json_string(l[i]));
	return a;
}

static void
set_time(json_t *o, const char *key, int64_t t)
{
	char buf[21];

	if (t <= 0)
		return;
	tk_inv_time_format(t, buf);
	(void)json_object_set_new(o, key, json_string(buf));
}

json_t *
tk_inventory_account_json(const struct tk_inv_account *a)
{
	json_t *o;

	o = json_pack("{s:s,s:s,s:s,s:o,s:s,s:s,s:o,s:s,s:s,s:b,s:I}",
	    "id", a->id, "owner", a->owner, "purpose", a->purpose,
	    "systems", list_json(a->systems, a->nsystems),
	    "classification", class_names[a->classification & 3],
	    "connector", a->connector,
	    "scopes", list_json(a->scopes, a->nscopes),
	    "credential_ref", a->credential_ref,
	    "credential_kind", kind_names[a->credential_kind & 1],
	    "production", a->production,
	    "rotation_days", (json_int_t)a->rotation_days);
	if (o == NULL)
		return NULL;
	if (a->scenario[0] != '\0')
		(void)json_object_set_new(o, "scenario",
		    json_string(a->scenario));
	set_time(o, "last_rotation", a->last_rotation);
	set_time(o, "last_use", a->last_use);
	return o;
}

unsigned int
tk_inventory_flags(const struct tk_inv_account *a,
    const struct tk_person *owner, const struct tk_policy *p, int64_t now)
{
	unsigned int f = 0;
	size_t i;
	int v;

	if (owner == NULL || owner->state != TK_PERSON_ACTIVE)
		f |= TK_INV_FLAG_NO_ACTIVE_OWNER;
	if (a->last_rotation <= 0 ||
	    now > a->last_rotation + a->rotation_days * 86400)
		f |= TK_INV_FLAG_ROTATION_OVERDUE;
	if (a->credential_kind == TK_INV_CRED_PERSONAL && a->production)
		f |= TK_INV_FLAG_PERSONAL_IN_PROD;
	for (i = 0; p != NULL && i < a->nscopes; i++) {
		v = tk_policy_scope_verdict(p, a->connector, a->scopes[i]);
		if (v == TK_APR_ERR_BLOCKED_SCOPE)
			f |= TK_INV_FLAG_BLOCKED_SCOPE;
		else if (v == TK_APR_ERR_SCOPE_TEMPLATE)
			f |= TK_INV_FLAG_SCOPE_BEYOND_TEMPLATE;
	}
	return f;
}

const char *const tk_inv_flag_names[TK_INV_NFLAGS] = { "no_active_owner",
    "rotation_overdue", "personal_in_production", "scope_beyond_template",
    "blocked_scope" };

json_t *
tk_inventory_flags_json(unsigned int flags)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < TK_INV_NFLAGS; i++)
		if (flags & (1u << i))
			(void)json_array_append_new(a,
			    json_string(tk_inv_flag_names[i]));
	return a;
}
