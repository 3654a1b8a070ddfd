/*
 * tk_pack_build: the order of a build. Documents first (pack_docs.c),
 * then the figures (pack.json), drift.json and report.html from them,
 * then the manifest, its signature, the archive, and last the journal
 * entry of the manifest's digest.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/journal.h"
#include "pack_int.h"

/* Elements of arr whose member key is the string value. */
static json_int_t
count_eq(const json_t *arr, const char *key, const char *value)
{
	const json_t *e;
	json_int_t n = 0;
	size_t i;

	json_array_foreach(arr, i, e) {
		const char *s = json_string_value(json_object_get(e, key));

		if (s != NULL && strcmp(s, value) == 0)
			n++;
	}
	return n;
}

/* Inventory accounts with a non-empty "flags" array. */
json_int_t
pack_flagged(const json_t *accounts)
{
	const json_t *e;
	json_int_t n = 0;
	size_t i;

	json_array_foreach(accounts, i, e)
		if (json_array_size(json_object_get(e, "flags")) > 0)
			n++;
	return n;
}

static json_int_t
count_reviews(const json_t *grants, const char *status)
{
	const json_t *g;
	json_int_t n = 0;
	size_t i;

	json_array_foreach(grants, i, g) {
		const char *s = json_string_value(json_object_get(
		    json_object_get(g, "review"), "status"));

		if (s != NULL && strcmp(s, status) == 0)
			n++;
	}
	return n;
}

static int
counts(struct pbuild *b)
{
	const json_t *people = json_object_get(b->access, "people");
	const json_t *grants = json_object_get(b->grants, "grants");
	const json_t *p, *inv = json_object_get(b->inventory, "accounts");
	json_int_t creds = 0;
	size_t i;

	json_array_foreach(people, i, p)
		creds += (json_int_t)json_array_size(json_object_get(p,
		    "credentials"));
	b->counts = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
	    "people", (json_int_t)json_array_size(people),
	    "people_active", count_eq(people, "state", "active"),
	    "credentials", creds,
	    "requests", (json_int_t)json_array_size(b->requests),
	    "granted", count_eq(b->requests, "state", "granted"),
	    "rejected", count_eq(b->requests, "state", "rejected"),
	    "pending", count_eq(b->requests, "state", "pending"),
	    "expired", count_eq(b->requests, "state", "expired"),
	    "grants", (json_int_t)json_array_size(grants),
	    "break_glass", count_eq(grants, "kind", "break-glass"),
	    "revoked", count_eq(grants, "state", "revoked"),
	    "reviews_overdue", count_reviews(grants, "overdue"),
	    "inventory_accounts", (json_int_t)json_array_size(inv),
	    "inventory_flagged", pack_flagged(inv),
	    "rotation_accounts", (json_int_t)json_array_size(
	    json_object_get(b->rotation, "accounts")),
	    "drift_events", (json_int_t)json_array_size(b->drift),
	    "journal_entries", (json_int_t)(b->jend - b->jfirst));
	return b->counts != NULL ? 0 : TK_PACK_ERR_NOMEM;
}

static int
meta(struct pbuild *b)
{
	char from[21], to[21], asof[21];
	json_t *o, *j, *d;
	int r;

	if ((r = counts(b)) != 0)
		return r;
	tk_pack_time(b->cfg->from, from);
	tk_pack_time(b->cfg->to, to);
	tk_pack_time(b->as_of, asof);
	j = b->jend > b->jfirst ? json_pack("{s:I, s:I}", "first",
	    (json_int_t)b->jfirst, "end", (json_int_t)b->jend) : json_null();
	o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:O}", "format",
	    TK_PACK_FORMAT, "from", from, "to", to, "as_of", asof,
	    "journal", j, "counts", b->counts);
	d = json_pack("{s:O}", "events", b->drift);
	if (o == NULL || d == NULL)
		r = TK_PACK_ERR_NOMEM;
	else if ((r = pack_add_json(b, "pack.json", o)) == 0)
		r = pack_add_json(b, "drift.json", d);
	json_decref(o);
	json_decref(d);
	return r;
}

/* The manifest's digest, journaled so that the pack is on the record. */
static int
record(struct pbuild *b, const char *sums_hex)
{
	struct tk_journal_entry e;
	char from[21], to[21], obj[64];
	json_t *d;
	int r;

	tk_pack_time(b->cfg->from, from);
	tk_pack_time(b->cfg->to, to);
	(void)snprintf(obj, sizeof(obj), "pack/%" PRId64 "-%" PRId64,
	    b->cfg->from, b->cfg->to);
	if ((d = json_pack("{s:s, s:s, s:s, s:I}", "from", from, "to", to,
	    "sha256sums", sums_hex, "files", (json_int_t)b->nfiles)) == NULL)
		return TK_PACK_ERR_NOMEM;
	memset(&e, 0, sizeof(e));
	e.actor = b->cfg->actor;
	e.action = "evidence.pack";
	e.object = obj;
	e.details = d;
	r = tk_journal_append(b->cfg->journal, &e, NULL) == 0 ? 0 :
	    TK_PACK_ERR_JOURNAL;
	json_decref(d);
	return r;
}

static int
check_config(const struct tk_pack_config *c)
{
	if (c == NULL || c->ap == NULL || c->journal == NULL ||
	    c->actor == NULL || c->actor[0] == '\0')
		return TK_PACK_ERR_INVALID;
	if (c->from < 0 || c->to <= c->from ||
	    c->to - c->from > TK_PACK_MAX_PERIOD)
		return TK_PACK_ERR_PERIOD;
	return 0;
}

int
tk_pack_build(const struct tk_pack_config *cfg, uint8_t **tgz,
    size_t *len, char sums_hex[65])
{
	struct pbuild b;
	char hex[65];
	int r;

	if (tgz == NULL || len == NULL)
		return TK_PACK_ERR_INVALID;
	*tgz = NULL;
	*len = 0;
	if ((r = check_config(cfg)) != 0)
		return r;
	memset(&b, 0, sizeof(b));
	b.cfg = cfg;
	b.as_of = cfg->now < cfg->to ? cfg->now : cfg->to;
	if ((r = pack_docs(&b)) != 0 || (r = meta(&b)) != 0 ||
	    (r = pack_report(&b)) != 0 || (r = pack_manifest(&b, hex)) != 0 ||
	    (r = pack_sign(&b)) != 0 || (r = pack_archive(&b, tgz, len)) != 0)
		goto out;
	if ((r = record(&b, hex)) != 0) {
		free(*tgz);
		*tgz = NULL;
		*len = 0;
		goto out;
	}
	if (sums_hex != NULL)
		memcpy(sums_hex, hex, sizeof(hex));
out:
	if (r != 0)
		tk_error("evidence pack: %s", tk_pack_strerror(r));
	pbuild_clear(&b);
	return r;
}
