/*
 * report.html: the pack as a person reads it. Plain HTML with inline
 * CSS, no scripts, nothing fetched. Policy drift comes first, then the
 * figures, overdue reviews and flagged accounts, then the rest. Every
 * value from the store or the inputs is escaped.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twokey/common.h"
#include "pack_int.h"

static void
esc(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* A JSON value in a cell: strings as they are, the rest compact. */
static void
cell(FILE *f, const json_t *v)
{
	char *s;

	fputs("<td>", f);
	if (json_is_string(v))
		esc(f, json_string_value(v));
	else if (v != NULL && !json_is_null(v)) {
		s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS |
		    JSON_ENCODE_ANY);
		esc(f, s);
		free(s);
	}
	fputs("</td>", f);
}

/* A Unix time as UTC, or nothing for 0 or absent. */
static void
time_cell(FILE *f, const json_t *v)
{
	char t[21];

	fputs("<td>", f);
	if (json_is_integer(v) && json_integer_value(v) != 0) {
		tk_pack_time(json_integer_value(v), t);
		fputs(t, f);
	} else if (json_is_string(v))
		esc(f, json_string_value(v));
	fputs("</td>", f);
}

static void
head(FILE *f, const char *title, const char *const *cols, size_t n)
{
	size_t i;

	fprintf(f, "<h2>%s</h2>\n<table>\n<tr>", title);
	for (i = 0; i < n; i++)
		fprintf(f, "<th>%s</th>", cols[i]);
	fputs("</tr>\n", f);
}

static void
figures(FILE *f, const struct pbuild *b)
{
	const char *k;
	json_t *v;

	fputs("<h2>Summary</h2>\n<table>\n", f);
	json_object_foreach(b->counts, k, v) {
		fprintf(f, "<tr><th>%s</th><td>%" JSON_INTEGER_FORMAT
		    "</td></tr>\n", k, json_integer_value(v));
	}
	fputs("</table>\n", f);
}

static const json_t *
first_of(const json_t *o, const char *a, const char *b)
{
	const json_t *v = json_object_get(o, a);

	return v != NULL ? v : json_object_get(o, b);
}

static void
drift(FILE *f, const struct pbuild *b)
{
	static const char *cols[] = { "time", "actor", "action", "details" };
	const json_t *e;
	size_t i;

	head(f, "Policy drift", cols, 4);
	/* Journal entries, or another module's events (at, source...). */
	json_array_foreach(b->drift, i, e) {
		fputs("<tr class=\"bad\">", f);
		time_cell(f, first_of(e, "time", "at"));
		cell(f, first_of(e, "actor", "source"));
		cell(f, json_object_get(e, "action"));
		cell(f, json_object_get(e, "details") != NULL ?
		    json_object_get(e, "details") : e);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
grant_row(FILE *f, const json_t *g, int bad)
{
	const json_t *rv = json_object_get(g, "review");

	fprintf(f, "<tr%s>", bad ? " class=\"bad\"" : "");
	cell(f, json_object_get(g, "jti"));
	cell(f, json_object_get(g, "request"));
	cell(f, json_object_get(g, "kind"));
	time_cell(f, json_object_get(g, "issued"));
	cell(f, json_object_get(g, "ttl"));
	cell(f, json_object_get(g, "state"));
	time_cell(f, json_object_get(g, "revoked"));
	cell(f, json_object_get(rv, "status"));
	time_cell(f, json_object_get(rv, "due"));
	fputs("</tr>\n", f);
}

static const char *grant_cols[] = { "grant", "request", "kind", "issued",
    "TTL (s)", "state", "revoked", "review", "review due" };

static void
grants(FILE *f, const struct pbuild *b, int overdue_only)
{
	const json_t *g, *arr = json_object_get(b->grants, "grants");
	const char *st;
	size_t i;

	head(f, overdue_only ? "Overdue post-incident reviews" : "Grants",
	    grant_cols, 9);
	json_array_foreach(arr, i, g) {
		st = json_string_value(json_object_get(json_object_get(g,
		    "review"), "status"));
		if (!overdue_only || (st != NULL &&
		    strcmp(st, "overdue") == 0))
			grant_row(f, g, st != NULL &&
			    strcmp(st, "overdue") == 0);
	}
	fputs("</table>\n", f);
}

static void
accounts(FILE *f, const char *title, const json_t *arr, int flagged)
{
	static const char *cols[] = { "account", "owner", "flags",
	    "details" };
	const json_t *e;
	size_t i;
	int bad;

	head(f, title, cols, 4);
	json_array_foreach(arr, i, e) {
		bad = json_array_size(json_object_get(e, "flags")) > 0;
		if (bad != flagged)
			continue;
		fprintf(f, "<tr%s>", bad ? " class=\"bad\"" : "");
		cell(f, first_of(e, "id", "name"));
		cell(f, json_object_get(e, "owner"));
		cell(f, json_object_get(e, "flags"));
		cell(f, e);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
requests(FILE *f, const struct pbuild *b)
{
	static const char *cols[] = { "request", "state", "ballots",
	    "digest", "request (canonical)" };
	const json_t *r;
	size_t i;

	head(f, "Requests filed in the period", cols, 5);
	json_array_foreach(b->requests, i, r) {
		fputs("<tr>", f);
		cell(f, json_object_get(r, "id"));
		cell(f, json_object_get(r, "state"));
		fprintf(f, "<td>%zu</td>", json_array_size(json_object_get(r,
		    "ballots")));
		cell(f, json_object_get(r, "digest"));
		cell(f, json_object_get(r, "request"));
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
access_list(FILE *f, const struct pbuild *b)
{
	static const char *cols[] = { "person", "team", "roles", "state",
	    "credential", "enrolled", "last vote", "cloned", "revoked" };
	const json_t *p, *c, *arr = json_object_get(b->access, "people");
	size_t i, k;

	head(f, "Access list", cols, 9);
	json_array_foreach(arr, i, p) {
		json_array_foreach(json_object_get(p, "credentials"), k, c) {
			fputs("<tr>", f);
			cell(f, json_object_get(p, "name"));
			cell(f, json_object_get(p, "team"));
			cell(f, json_object_get(p, "roles"));
			cell(f, json_object_get(p, "state"));
			cell(f, json_object_get(c, "id"));
			cell(f, json_object_get(c, "enrolled"));
			time_cell(f, json_object_get(c, "last_used"));
			cell(f, json_object_get(c, "cloned"));
			cell(f, json_object_get(c, "revoked"));
			fputs("</tr>\n", f);
		}
		if (json_array_size(json_object_get(p, "credentials")) == 0) {
			fputs("<tr>", f);
			cell(f, json_object_get(p, "name"));
			cell(f, json_object_get(p, "team"));
			cell(f, json_object_get(p, "roles"));
			cell(f, json_object_get(p, "state"));
			fputs("<td></td><td></td><td></td><td></td><td></td>"
			    "</tr>\n", f);
		}
	}
	fputs("</table>\n", f);
}

static void
top(FILE *f, const struct pbuild *b)
{
	char from[21], to[21], asof[21];

	tk_pack_time(b->cfg->from, from);
	tk_pack_time(b->cfg->to, to);
	tk_pack_time(b->as_of, asof);
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n<title>twokey evidence pack</title>\n"
	    "<style>body{font-family:sans-serif;margin:2em}"
	    "table{border-collapse:collapse;margin-bottom:1.5em}"
	    "td,th{border:1px solid #999;padding:2px 6px;text-align:left;"
	    "vertical-align:top;font-size:90%}"
	    "tr.bad td{background:#fdd}</style>\n</head>\n<body>\n", f);
	fprintf(f, "<h1>twokey evidence pack</h1>\n<p>Period %s to %s "
	    "(end excluded), as of %s. Check it with <code>openssl cms "
	    "-verify</code> and <code>sha256sum -c SHA256SUMS</code>, or "
	    "<code>twokey-verify pack</code>; this page is one of the signed "
	    "files but proves nothing by itself.</p>\n", from, to, asof);
	if (b->jend > b->jfirst)
		fprintf(f, "<p>Journal entries %" PRIu64 " to %" PRIu64
		    " with their checkpoints and proofs are in "
		    "<code>journal/</code>.</p>\n", b->jfirst, b->jend - 1);
	else
		fputs("<p>No journal entry falls in the period.</p>\n", f);
}

int
pack_report(struct pbuild *b)
{
	const json_t *inv = json_object_get(b->inventory, "accounts");
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return TK_PACK_ERR_NOMEM;
	top(f, b);
	drift(f, b);
	figures(f, b);
	grants(f, b, 1);
	accounts(f, "Flagged service accounts", inv, 1);
	accounts(f, "Rotation overdue", json_object_get(b->rotation,
	    "accounts"), 1);
	requests(f, b);
	grants(f, b, 0);
	accounts(f, "Other service accounts", inv, 0);
	accounts(f, "Rotation on time", json_object_get(b->rotation,
	    "accounts"), 0);
	access_list(f, b);
	fputs("</body>\n</html>\n", f);
	if (fclose(f) != 0) {
		free(buf);
		return TK_PACK_ERR_NOMEM;
	}
	r = pack_add(b, "report.html", buf, len);
	free(buf);
	return r;
}
