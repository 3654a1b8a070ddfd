/*
 * Inventory documents: the JSON form ({"v":1,"accounts":[...]}) and the
 * CSV form (a header row naming the columns, one account per record),
 * read strictly with every problem listed, and written so that reading
 * them back gives the same accounts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/inventory.h"
#include "inventory_int.h"

void
tk_inv_buf_add(struct tk_inv_buf *b, const char *s, size_t n)
{
	size_t cap;
	char *p;

	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap == 0 ? 256 : b->cap;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* One field; pos is past it (at the separator) or err says why not. */
static const char *
csv_field(const char *buf, size_t len, size_t *pos, struct tk_inv_buf *f)
{
	size_t i = *pos;

	if (i < len && buf[i] == '"') {
		for (i++;; i++) {
			if (i >= len)
				return "a quoted field is not closed";
			if (buf[i] == '"' && i + 1 < len &&
			    buf[i + 1] == '"') {
				tk_inv_buf_add(f, "\"", 1);
				i++;
			} else if (buf[i] == '"')
				break;
			else
				tk_inv_buf_add(f, buf + i, 1);
		}
		i++;
		if (i < len && strchr(",\r\n", buf[i]) == NULL)
			return "text after a closing quote";
	} else {
		for (; i < len && buf[i] != ',' && buf[i] != '\r' &&
		    buf[i] != '\n'; i++) {
			if (buf[i] == '"')
				return "a quote inside an unquoted field";
			tk_inv_buf_add(f, buf + i, 1);
		}
	}
	*pos = i;
	if (f->len != strlen(f->p != NULL ? f->p : ""))
		return "a NUL byte in a field";
	return NULL;
}

/* One record into cells; returns why it is refused, or NULL. */
static const char *
csv_record(const char *buf, size_t len, size_t *pos, json_t *cells)
{
	struct tk_inv_buf f;
	const char *err;
	json_t *s;

	for (;;) {
		memset(&f, 0, sizeof(f));
		err = csv_field(buf, len, pos, &f);
		s = err == NULL && !f.failed ? json_stringn(f.p != NULL ?
		    f.p : "", f.len) : NULL;
		free(f.p);
		if (err != NULL)
			return err;
		if (s == NULL)
			return "a field is not valid UTF-8";
		(void)json_array_append_new(cells, s);
		if (*pos >= len)
			return NULL;
		if (buf[*pos] == ',') {
			(*pos)++;
			continue;
		}
		if (buf[*pos] == '\n') {
			(*pos)++;
			return NULL;
		}
		if (*pos + 1 < len && buf[*pos + 1] == '\n') {
			*pos += 2;
			return NULL;
		}
		return "a carriage return without a line feed";
	}
}

json_t *
tk_inv_csv_parse(const char *buf, size_t len, json_t *problems)
{
	json_t *out = json_array(), *cells;
	size_t pos = 0, row = 0, width = 0;
	const char *err;
	char *nl;

	if (out == NULL)
		return NULL;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		pos = 3;
	while (pos < len) {
		row++;
		if ((cells = json_array()) == NULL)
			goto fail;
		if ((err = csv_record(buf, len, &pos, cells)) != NULL) {
			tk_inv_problem(problems, row, "", "bad CSV: %s", err);
			json_decref(cells);
			nl = memchr(buf + pos, '\n', len - pos);
			pos = nl != NULL ? (size_t)(nl - buf) + 1 : len;
			continue;
		}
		if (width == 0)
			width = json_array_size(cells);
		if (json_array_size(cells) != width)
			tk_inv_problem(problems, row, "", "bad CSV: %zu "
			    "fields, the header has %zu",
			    json_array_size(cells), width);
		if (json_array_append_new(out, json_pack("{s:I,s:o}", "row",
		    (json_int_t)row, "cells", cells)) != 0)
			goto fail;
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

void
tk_inv_csv_field(struct tk_inv_buf *b, const char *s, int last)
{
	const char *q;

	if (strpbrk(s, ",\"\r\n") == NULL)
		tk_inv_buf_add(b, s, strlen(s));
	else {
		tk_inv_buf_add(b, "\"", 1);
		for (; (q = strchr(s, '"')) != NULL; s = q + 1) {
			tk_inv_buf_add(b, s, (size_t)(q - s));
			tk_inv_buf_add(b, "\"\"", 2);
		}
		tk_inv_buf_add(b, s, strlen(s));
		tk_inv_buf_add(b, "\"", 1);
	}
	tk_inv_buf_add(b, last ? "\r\n" : ",", last ? 2 : 1);
}

void
tk_inv_set_clear(struct tk_inv_set *s)
{
	if (s == NULL)
		return;
	free(s->a);
	free(s->rows);
	free(s->owners);
	memset(s, 0, sizeof(*s));
}

static int
set_alloc(struct tk_inv_set *s, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->a = calloc(n + 1, sizeof(*s->a));
	s->rows = calloc(n + 1, sizeof(*s->rows));
	if (s->a == NULL || s->rows == NULL)
		return TK_INV_ERR_NOMEM;
	return TK_INV_OK;
}

/* The column index of each header cell, refusing unknown and repeated. */
static int
csv_header(json_t *cells, int *col, json_t *problems)
{
	size_t i, k, found[32] = { 0 };
	const char *name;
	int bad = 0;

	for (i = 0; i < json_array_size(cells); i++) {
		name = json_string_value(json_array_get(cells, i));
		for (k = 0; k < tk_inv_ncolumns; k++)
			if (strcmp(name, tk_inv_columns[k].name) == 0)
				break;
		col[i] = -1;
		if (k == tk_inv_ncolumns) {
			tk_inv_problem(problems, 1, name, "unknown column");
			bad = 1;
		} else if (found[k]++ > 0) {
			tk_inv_problem(problems, 1, name, "column repeated");
			bad = 1;
		} else
			col[i] = (int)k;
	}
	for (k = 0; k < tk_inv_ncolumns; k++)
		if (tk_inv_columns[k].required && found[k] == 0) {
			tk_inv_problem(problems, 1, tk_inv_columns[k].name,
			    "column missing");
			bad = 1;
		}
	return bad ? -1 : 0;
}

/* A cell as the JSON value its column takes; a misfit stays a string. */
static json_t *
cell_value(enum tk_inv_type t, const char *s)
{
	json_t *a;
	const char *sp;
	size_t n = strlen(s);

	if (t == INV_T_BOOL && (strcmp(s, "true") == 0 ||
	    strcmp(s, "false") == 0))
		return json_boolean(s[0] == 't');
	if (t == INV_T_INT && n > 0 && n <= 9 &&
	    strspn(s, "0123456789") == n)
		return json_integer(strtoll(s, NULL, 10));
	if (t != INV_T_LIST)
		return json_string(s);
	if ((a = json_array()) == NULL || n == 0)
		return a;
	for (;; s = sp + 1) {
		sp = strchr(s, ' ');
		(void)json_array_append_new(a, json_stringn(s, sp != NULL ?
		    (size_t)(sp - s) : strlen(s)));
		if (sp == NULL)
			break;
	}
	return a;
}

static json_t *
csv_object(json_t *cells, const int *col)
{
	const struct tk_inv_column *c;
	json_t *o = json_object();
	const char *s;
	size_t i;

	for (i = 0; o != NULL && i < json_array_size(cells); i++) {
		if (col[i] < 0)
			continue;
		c = &tk_inv_columns[col[i]];
		s = json_string_value(json_array_get(cells, i));
		if (!c->required && *s == '\0')
			continue;
		(void)json_object_set_new(o, c->name, cell_value(c->type, s));
	}
	return o;
}

/* The accounts of a CSV document as JSON objects, rows in rows. */
static json_t *
csv_accounts(const char *doc, size_t len, json_t *problems,
    size_t **rows)
{
	json_t *recs, *out = NULL, *r;
	int col[64];
	size_t i, width;

	*rows = NULL;
	if ((recs = tk_inv_csv_parse(doc, len, problems)) == NULL)
		return NULL;
	if ((out = json_array()) == NULL)
		goto out;
	r = json_array_get(recs, 0);
	width = json_array_size(json_object_get(r, "cells"));
	if (r == NULL || json_integer_value(json_object_get(r, "row")) != 1) {
		tk_inv_problem(problems, 1, "", "the header row is missing "
		    "or unreadable");
		goto out;
	}
	if (width > 64) {
		tk_inv_problem(problems, 1, "", "too many columns");
		goto out;
	}
	if (csv_header(json_object_get(r, "cells"), col, problems) != 0)
		goto out;
	if ((*rows = calloc(json_array_size(recs) + 1, sizeof(**rows))) ==
	    NULL) {
		json_decref(out);
		out = NULL;
		goto out;
	}
	for (i = 1; r != NULL && i < json_array_size(recs); i++) {
		r = json_array_get(recs, i);
		if (json_array_size(json_object_get(r, "cells")) != width)
			continue;	/* already a problem */
		(*rows)[json_array_size(out)] = (size_t)json_integer_value(
		    json_object_get(r, "row"));
		(void)json_array_append_new(out, csv_object(json_object_get(r,
		    "cells"), col));
	}
out:
	json_decref(recs);
	return out;
}

/* The accounts of a JSON document: {"v":1,"accounts":[...]}. */
static json_t *
json_accounts(const char *doc, size_t len, json_t *problems,
    size_t **rows)
{
	json_t *root, *accts, *v, *out = NULL;
	json_error_t e;
	const char *key;
	size_t i;

	*rows = NULL;
	if ((root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &e)) ==
	    NULL) {
		tk_inv_problem(problems, 0, "", "not JSON: line %d column "
		    "%d: %s", e.line, e.column, e.text);
		return json_array();
	}
	if (!json_is_object(root)) {
		tk_inv_problem(problems, 0, "", "must be an object with "
		    "\"v\" and \"accounts\"");
		goto out;
	}
	json_object_foreach(root, key, v)
		if (strcmp(key, "v") != 0 && strcmp(key, "accounts") != 0)
			tk_inv_problem(problems, 0, key, "unknown field");
	v = json_object_get(root, "v");
	if (!json_is_integer(v) || json_integer_value(v) != 1)
		tk_inv_problem(problems, 0, "v", "must be 1");
	accts = json_object_get(root, "accounts");
	if (!json_is_array(accts)) {
		tk_inv_problem(problems, 0, "accounts", "must be a list");
		goto out;
	}
	if ((*rows = calloc(json_array_size(accts) + 1, sizeof(**rows))) ==
	    NULL)
		goto out;
	for (i = 0; i < json_array_size(accts); i++)
		(*rows)[i] = i + 1;
	out = json_incref(accts);
out:
	json_decref(root);
	return out != NULL ? out : json_array();
}

static void
duplicate_ids(const struct tk_inv_set *s, json_t *problems)
{
	size_t i, k;

	for (i = 1; i < s->n; i++)
		for (k = 0; k < i; k++)
			if (s->a[i].id[0] != '\0' &&
			    strcmp(s->a[i].id, s->a[k].id) == 0) {
				tk_inv_problem(problems, s->rows[i], "id",
				    "duplicate id \"%s\", first at row %zu",
				    s->a[i].id, s->rows[k]);
				break;
			}
}

int
tk_inventory_parse(const char *doc, size_t len, enum tk_inv_format fmt,
    struct tk_inv_set *out, json_t *problems)
{
	json_t *objs = NULL;
	size_t i, *rows = NULL, before = json_array_size(problems);
	int rc = TK_INV_ERR_TOOBIG;

	memset(out, 0, sizeof(*out));
	if (len > TK_INV_DOC_MAX) {
		tk_inv_problem(problems, 0, "", "larger than %u bytes",
		    TK_INV_DOC_MAX);
		goto out;
	}
	objs = fmt == TK_INV_CSV ? csv_accounts(doc, len, problems, &rows) :
	    json_accounts(doc, len, problems, &rows);
	rc = TK_INV_ERR_NOMEM;
	if (objs == NULL)
		goto out;
	if (json_array_size(objs) > TK_INV_ACCOUNTS_MAX) {
		tk_inv_problem(problems, 0, "", "more than %d accounts",
		    TK_INV_ACCOUNTS_MAX);
		rc = TK_INV_ERR_TOOBIG;
		goto out;
	}
	if (set_alloc(out, json_array_size(objs)) != 0)
		goto out;
	for (i = 0; rows != NULL && i < json_array_size(objs); i++) {
		out->rows[i] = rows[i];
		(void)tk_inv_account_from_json(json_array_get(objs, i),
		    rows[i], &out->a[i], problems);
		out->n++;
	}
	duplicate_ids(out, problems);
	rc = json_array_size(problems) > before ? TK_INV_ERR_INVALID :
	    TK_INV_OK;
out:
	free(rows);
	json_decref(objs);
	return rc;
}

static void
csv_list(struct tk_inv_buf *b, const char (*l)[TK_INV_TOKEN_MAX + 1],
    size_t n)
{
	struct tk_inv_buf j;
	size_t i;

	memset(&j, 0, sizeof(j));
	tk_inv_buf_add(&j, "", 0);
	for (i = 0; i < n; i++) {
		if (i > 0)
			tk_inv_buf_add(&j, " ", 1);
		tk_inv_buf_add(&j, l[i], strlen(l[i]));
	}
	if (j.failed)
		b->failed = 1;
	else
		tk_inv_csv_field(b, j.p, 0);
	free(j.p);
}

static void
csv_row(struct tk_inv_buf *b, const struct tk_inv_account *a)
{
	json_t *o = tk_inventory_account_json(a);
	char num[32], lr[21] = "", lu[21] = "";

	if (o == NULL) {
		b->failed = 1;
		return;
	}
	if (a->last_rotation > 0)
		tk_inv_time_format(a->last_rotation, lr);
	if (a->last_use > 0)
		tk_inv_time_format(a->last_use, lu);
	(void)snprintf(num, sizeof(num), "%lld", (long long)a->rotation_days);
	tk_inv_csv_field(b, a->id, 0);
	tk_inv_csv_field(b, a->owner, 0);
	tk_inv_csv_field(b, a->purpose, 0);
	csv_list(b, a->systems, a->nsystems);
	tk_inv_csv_field(b, json_string_value(json_object_get(o,
	    "classification")), 0);
	tk_inv_csv_field(b, a->connector, 0);
	tk_inv_csv_field(b, a->scenario, 0);
	csv_list(b, a->scopes, a->nscopes);
	tk_inv_csv_field(b, a->credential_ref, 0);
	tk_inv_csv_field(b, json_string_value(json_object_get(o,
	    "credential_kind")), 0);
	tk_inv_csv_field(b, a->production ? "true" : "false", 0);
	tk_inv_csv_field(b, num, 0);
	tk_inv_csv_field(b, lr, 0);
	tk_inv_csv_field(b, lu, 1);
	json_decref(o);
}

static int
format_csv(const struct tk_inv_set *s, char **out, size_t *len)
{
	struct tk_inv_buf b;
	size_t i;

	memset(&b, 0, sizeof(b));
	for (i = 0; i < tk_inv_ncolumns; i++)
		tk_inv_csv_field(&b, tk_inv_columns[i].name,
		    i + 1 == tk_inv_ncolumns);
	for (i = 0; i < s->n; i++)
		csv_row(&b, &s->a[i]);
	if (b.failed) {
		free(b.p);
		return TK_INV_ERR_NOMEM;
	}
	*out = b.p;
	*len = b.len;
	return TK_INV_OK;
}

int
tk_inventory_format(const struct tk_inv_set *s, enum tk_inv_format fmt,
    char **out, size_t *len)
{
	json_t *doc = NULL, *arr;
	size_t i;
	int rc = TK_INV_ERR_NOMEM;

	*out = NULL;
	*len = 0;
	if (fmt == TK_INV_CSV)
		return format_csv(s, out, len);
	if ((arr = json_array()) == NULL ||
	    (doc = json_pack("{s:i,s:o}", "v", 1, "accounts", arr)) == NULL)
		goto out;
	for (i = 0; i < s->n; i++)
		if (json_array_append_new(arr, tk_inventory_account_json(
		    &s->a[i])) != 0)
			goto out;
	if ((*out = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS)) ==
	    NULL)
		goto out;
	*len = strlen(*out);
	rc = TK_INV_OK;
out:
	json_decref(doc);
	return rc;
}
