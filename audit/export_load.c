/*
 * Export reader: files (from a folder or from memory) into struct
 * tk_export. Only the layout is checked here (names, sizes, line
 * structure, the manifest); nothing is trusted until export_verify.c has
 * checked it against the signed checkpoints.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "twokey/common.h"
#include "twokey/export.h"
#include "export_int.h"

#define MAX_ENTRIES_FILE ((size_t)1 << 32)

int
tk_export_parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return TK_EXPORT_ERR_MALFORMED;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return TK_EXPORT_ERR_MALFORMED;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return TK_EXPORT_ERR_MALFORMED;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int
tk_export_hash_lines(const char *text, size_t len, tk_merkle_hash *out,
    size_t max, size_t *n)
{
	const char *nl;
	uint8_t *dec;
	size_t declen;

	*n = 0;
	while (len > 0) {
		if ((nl = memchr(text, '\n', len)) == NULL || *n >= max)
			return TK_EXPORT_ERR_MALFORMED;
		if (tk_b64_decode(text, (size_t)(nl - text), &dec,
		    &declen) != 0)
			return TK_EXPORT_ERR_MALFORMED;
		if (declen != TK_MERKLE_HASH_LEN) {
			free(dec);
			return TK_EXPORT_ERR_MALFORMED;
		}
		memcpy(out[(*n)++], dec, TK_MERKLE_HASH_LEN);
		free(dec);
		len -= (size_t)(nl - text) + 1;
		text = nl + 1;
	}
	return 0;
}

/*
 * Makes room for element n of a growing array of elements of size sz.
 * The capacity doubles at each power of two, so an export with one file
 * per checkpoint loads in linear time instead of copying the array at
 * every file.
 */
static void *
grow(void *arr, size_t n, size_t sz)
{
	if (n >= TK_EXPORT_MAX_FILES)
		return NULL;
	if (n != 0 && (n & (n - 1)) != 0)
		return arr;
	return realloc(arr, (n == 0 ? 1 : 2 * n) * sz);
}

static int
add_note(struct tk_export *e, uint64_t size, char *text, size_t len)
{
	struct tk_export_note *p;

	if ((p = grow(e->notes, e->nnotes, sizeof(*p))) == NULL)
		return TK_EXPORT_ERR_NOMEM;
	e->notes = p;
	p[e->nnotes].size = size;
	p[e->nnotes].text = text;
	p[e->nnotes++].len = len;
	return 0;
}

static int
add_cons(struct tk_export *e, const char *name, char *text, size_t len)
{
	struct tk_export_cons *p;
	const char *dash;
	uint64_t m, n;

	if ((dash = strchr(name, '-')) == NULL ||
	    tk_export_parse_u64(name, (size_t)(dash - name), &m) != 0 ||
	    tk_export_parse_u64(dash + 1, strlen(dash + 1), &n) != 0)
		return TK_EXPORT_ERR_MALFORMED;
	if ((p = grow(e->cons, e->ncons, sizeof(*p))) == NULL)
		return TK_EXPORT_ERR_NOMEM;
	e->cons = p;
	p[e->ncons].m = m;
	p[e->ncons].n = n;
	p[e->ncons].text = text;
	p[e->ncons++].len = len;
	return 0;
}

static int
add_proof(struct tk_export *e, const char *name, char *text, size_t len)
{
	struct tk_export_proof *p;
	const char *dot;
	uint64_t i;

	if ((dot = strchr(name, '.')) == NULL ||
	    strcmp(dot, ".tlog-proof") != 0 ||
	    tk_export_parse_u64(name, (size_t)(dot - name), &i) != 0)
		return TK_EXPORT_ERR_MALFORMED;
	if ((p = grow(e->proofs, e->nproofs, sizeof(*p))) == NULL)
		return TK_EXPORT_ERR_NOMEM;
	e->proofs = p;
	p[e->nproofs].index = i;
	p[e->nproofs].text = text;
	p[e->nproofs++].len = len;
	return 0;
}

static int
set_once(char **slot, size_t *slot_len, char *text, size_t len)
{
	if (*slot != NULL)
		return TK_EXPORT_ERR_MALFORMED;
	*slot = text;
	*slot_len = len;
	return 0;
}

static int
add_key(struct tk_export *e, const char *name, char *text, size_t len)
{
	if (strcmp(name, "journal.vkey") == 0)
		return set_once(&e->vkey, &e->vkey_len, text, len);
	if (strcmp(name, "journal.pem") == 0)
		return set_once(&e->journal_pem, &e->journal_pem_len, text,
		    len);
	if (strcmp(name, "audit.pem") == 0)
		return set_once(&e->audit_pem, &e->audit_pem_len, text, len);
	if (strcmp(name, "root.pem") == 0)
		return set_once(&e->root_pem, &e->root_pem_len, text, len);
	return TK_EXPORT_ERR_MALFORMED;
}

static int
parse_manifest(struct tk_export *e, const char *text, size_t len)
{
	json_t *o, *fmt, *origin, *first, *end, *proofs;
	int r = TK_EXPORT_ERR_MALFORMED;

	if (e->origin != NULL ||
	    (o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return r;
	fmt = json_object_get(o, "format");
	origin = json_object_get(o, "origin");
	first = json_object_get(o, "first");
	end = json_object_get(o, "end");
	proofs = json_object_get(o, "proofs");
	if (!json_is_string(fmt) || strcmp(json_string_value(fmt),
	    TK_EXPORT_FORMAT) != 0 || !json_is_string(origin) ||
	    json_string_length(origin) == 0 ||
	    json_string_length(origin) > 1024 ||
	    strlen(json_string_value(origin)) != json_string_length(origin) ||
	    !json_is_integer(first) || !json_is_integer(end) ||
	    !json_is_boolean(proofs) || json_integer_value(first) < 0 ||
	    json_integer_value(end) <= json_integer_value(first))
		goto out;
	if ((e->origin = strdup(json_string_value(origin))) == NULL) {
		r = TK_EXPORT_ERR_NOMEM;
		goto out;
	}
	e->first = (uint64_t)json_integer_value(first);
	e->end = (uint64_t)json_integer_value(end);
	e->has_proofs = json_is_true(proofs);
	r = 0;
out:
	json_decref(o);
	return r;
}

/* Takes ownership of data (malloc'd, len + 1 bytes, NUL at len). */
static int
route(struct tk_export *e, const char *name, char *data, size_t len)
{
	uint64_t size;
	int r;

	if (strcmp(name, "entries.jsonl") == 0) {
		if (e->entries_buf != NULL) {
			free(data);
			return TK_EXPORT_ERR_MALFORMED;
		}
		e->entries_buf = (uint8_t *)data;
		e->entries_len = len;
		return 0;
	}
	if (len > TK_EXPORT_MAX_SMALL)
		r = TK_EXPORT_ERR_TOOBIG;
	else if (strcmp(name, "export.json") == 0) {
		r = parse_manifest(e, data, len);
		free(data);
		return r;
	} else if (strcmp(name, "prefix") == 0) {
		if (e->prefix != NULL)
			r = TK_EXPORT_ERR_MALFORMED;
		else if ((e->prefix = calloc(64, sizeof(*e->prefix))) == NULL)
			r = TK_EXPORT_ERR_NOMEM;
		else
			r = tk_export_hash_lines(data, len, e->prefix, 64,
			    &e->nprefix);
		free(data);
		return r;
	} else if (strncmp(name, "checkpoints/", 12) == 0) {
		r = tk_export_parse_u64(name + 12, strlen(name + 12), &size);
		if (r == 0)
			r = add_note(e, size, data, len);
	} else if (strncmp(name, "consistency/", 12) == 0)
		r = add_cons(e, name + 12, data, len);
	else if (strncmp(name, "proofs/", 7) == 0)
		r = add_proof(e, name + 7, data, len);
	else if (strncmp(name, "keys/", 5) == 0)
		r = add_key(e, name + 5, data, len);
	else {
		free(data);	/* other files (a README) are not ours */
		return 0;
	}
	if (r != 0)
		free(data);
	return r;
}

static int
split_entries(struct tk_export *e)
{
	const uint8_t *p = e->entries_buf, *end = p + e->entries_len, *nl;
	size_t n = 0, cap = 0;
	struct tk_export_leaf *l;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL ||
		    nl == p || (size_t)(nl - p) > TK_EXPORT_MAX_LEAF ||
		    n >= TK_EXPORT_MAX_ENTRIES)
			return TK_EXPORT_ERR_MALFORMED;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((l = realloc(e->leaves, cap * sizeof(*l))) == NULL)
				return TK_EXPORT_ERR_NOMEM;
			e->leaves = l;
		}
		e->leaves[n].data = p;
		e->leaves[n++].len = (size_t)(nl - p);
		p = nl + 1;
	}
	e->nleaves = n;
	return 0;
}

static int
note_cmp(const void *a, const void *b)
{
	const struct tk_export_note *x = a, *y = b;

	return x->size < y->size ? -1 : x->size > y->size;
}

static int
cons_cmp(const void *a, const void *b)
{
	const struct tk_export_cons *x = a, *y = b;

	if (x->m != y->m)
		return x->m < y->m ? -1 : 1;
	return x->n < y->n ? -1 : x->n > y->n;
}

static int
proof_cmp(const void *a, const void *b)
{
	const struct tk_export_proof *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

static int
finish(struct tk_export *e, struct tk_export_report *rep)
{
	size_t i;
	int r;

	if (e->origin == NULL)
		return tk_export_fail(rep, TK_EXPORT_ERR_MALFORMED,
		    TK_EXPORT_NONE, TK_EXPORT_NONE, "export.json missing");
	if (e->entries_buf == NULL || e->prefix == NULL ||
	    e->vkey == NULL || e->journal_pem == NULL ||
	    e->audit_pem == NULL || e->root_pem == NULL || e->nnotes == 0)
		return tk_export_fail(rep, TK_EXPORT_ERR_MALFORMED,
		    TK_EXPORT_NONE, TK_EXPORT_NONE, "export incomplete: "
		    "entries, prefix, keys or checkpoints missing");
	if ((r = split_entries(e)) != 0)
		return tk_export_fail(rep, r, e->first + e->nleaves,
		    TK_EXPORT_NONE, "entries.jsonl: line %zu is empty, too "
		    "long or not ended by a newline", e->nleaves + 1);
	/* qsort must not see the NULL of an empty array. */
	qsort(e->notes, e->nnotes, sizeof(*e->notes), note_cmp);
	if (e->ncons > 0)
		qsort(e->cons, e->ncons, sizeof(*e->cons), cons_cmp);
	if (e->nproofs > 0)
		qsort(e->proofs, e->nproofs, sizeof(*e->proofs), proof_cmp);
	for (i = 1; i < e->nnotes; i++)
		if (e->notes[i].size == e->notes[i - 1].size)
			return tk_export_fail(rep, TK_EXPORT_ERR_MALFORMED,
			    TK_EXPORT_NONE, e->notes[i].size,
			    "checkpoint %llu given twice",
			    (unsigned long long)e->notes[i].size);
	for (i = 1; i < e->nproofs; i++)
		if (e->proofs[i].index == e->proofs[i - 1].index)
			return tk_export_fail(rep, TK_EXPORT_ERR_MALFORMED,
			    e->proofs[i].index, TK_EXPORT_NONE,
			    "proof given twice");
	return 0;
}

static int
add_file(struct tk_export *e, const char *name, char *data, size_t len,
    struct tk_export_report *rep)
{
	char esc[128];
	int r;

	if ((r = route(e, name, data, len)) != 0)
		return tk_export_fail(rep, r, TK_EXPORT_NONE, TK_EXPORT_NONE,
		    "%s: %s", tk_log_escape(esc, sizeof(esc), name,
		    strlen(name)), r == TK_EXPORT_ERR_TOOBIG ?
		    "file too large" : "malformed or unexpected file");
	return 0;
}

int
tk_export_from_files(const struct tk_export_file *files, size_t n,
    struct tk_export **out, struct tk_export_report *rep)
{
	struct tk_export *e = NULL;
	char *copy;
	size_t i;
	int r = TK_EXPORT_ERR_NOMEM;

	tk_export_report_init(rep);
	if (out == NULL || (files == NULL && n > 0))
		return TK_EXPORT_ERR_INVALID;
	*out = NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if (files[i].len > MAX_ENTRIES_FILE) {
			r = tk_export_fail(rep, TK_EXPORT_ERR_TOOBIG,
			    TK_EXPORT_NONE, TK_EXPORT_NONE, "file too large");
			goto out;
		}
		if ((copy = malloc(files[i].len + 1)) == NULL) {
			r = TK_EXPORT_ERR_NOMEM;
			goto out;
		}
		if (files[i].len > 0)
			memcpy(copy, files[i].data, files[i].len);
		copy[files[i].len] = '\0';
		if ((r = add_file(e, files[i].name, copy, files[i].len,
		    rep)) != 0)
			goto out;
	}
	if ((r = finish(e, rep)) != 0)
		goto out;
	*out = e;
	e = NULL;
	r = 0;
out:
	if (r != 0 && rep != NULL && rep->err == 0)
		tk_export_fail(rep, r, TK_EXPORT_NONE, TK_EXPORT_NONE, "%s",
		    tk_export_strerror(r));
	tk_export_free(&e);
	return r;
}

/* Reads dir/sub/name into the export; sub may be "". */
static int
load_one(struct tk_export *e, const char *dir, const char *sub,
    const char *name, struct tk_export_report *rep)
{
	char path[4096], rel[512];
	uint8_t *data = NULL;
	size_t len;
	int r;

	if (snprintf(rel, sizeof(rel), "%s%s%s", sub, *sub ? "/" : "",
	    name) >= (int)sizeof(rel) || snprintf(path, sizeof(path),
	    "%s/%s", dir, rel) >= (int)sizeof(path))
		return tk_export_fail(rep, TK_EXPORT_ERR_TOOBIG,
		    TK_EXPORT_NONE, TK_EXPORT_NONE, "file name too long");
	r = tk_read_file(path, strcmp(rel, "entries.jsonl") == 0 ?
	    MAX_ENTRIES_FILE : TK_EXPORT_MAX_SMALL, 0, &data, &len);
	if (r == TK_ERR_TOOBIG)
		return tk_export_fail(rep, TK_EXPORT_ERR_TOOBIG,
		    TK_EXPORT_NONE, TK_EXPORT_NONE, "%.200s: file too large",
		    rel);
	if (r != 0)
		return tk_export_fail(rep, TK_EXPORT_ERR_IO, TK_EXPORT_NONE,
		    TK_EXPORT_NONE, "%.200s: cannot be read", rel);
	return add_file(e, rel, (char *)data, len, rep);
}

static int
load_dir(struct tk_export *e, const char *dir, const char *sub,
    struct tk_export_report *rep)
{
	char path[4096];
	struct dirent *d;
	struct stat sb;
	DIR *dp;
	int r = 0;

	snprintf(path, sizeof(path), "%s%s%s", dir, *sub ? "/" : "", sub);
	if ((dp = opendir(path)) == NULL)
		return *sub ? 0 : tk_export_fail(rep, TK_EXPORT_ERR_IO,
		    TK_EXPORT_NONE, TK_EXPORT_NONE, "cannot open the export"
		    " folder: %s", strerror(errno));
	while (r == 0 && (d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(dp), d->d_name, &sb, AT_SYMLINK_NOFOLLOW) !=
		    0 || !S_ISREG(sb.st_mode))
			continue;
		r = load_one(e, dir, sub, d->d_name, rep);
	}
	closedir(dp);
	return r;
}

int
tk_export_load(const char *dir, struct tk_export **out,
    struct tk_export_report *rep)
{
	static const char *subs[] = { "", "checkpoints", "consistency",
	    "proofs", "keys" };
	struct tk_export *e = NULL;
	size_t i;
	int r = TK_EXPORT_ERR_NOMEM;

	tk_export_report_init(rep);
	if (out == NULL || dir == NULL)
		return TK_EXPORT_ERR_INVALID;
	*out = NULL;
	if ((e = calloc(1, sizeof(*e))) == NULL)
		goto out;
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if ((r = load_dir(e, dir, subs[i], rep)) != 0)
			goto out;
	if ((r = finish(e, rep)) != 0)
		goto out;
	*out = e;
	e = NULL;
out:
	if (r != 0 && rep != NULL && rep->err == 0)
		tk_export_fail(rep, r, TK_EXPORT_NONE, TK_EXPORT_NONE, "%s",
		    tk_export_strerror(r));
	tk_export_free(&e);
	return r;
}

void
tk_export_free(struct tk_export **ep)
{
	struct tk_export *e;
	size_t i;

	if (ep == NULL || (e = *ep) == NULL)
		return;
	for (i = 0; i < e->nnotes; i++)
		free(e->notes[i].text);
	for (i = 0; i < e->ncons; i++)
		free(e->cons[i].text);
	for (i = 0; i < e->nproofs; i++)
		free(e->proofs[i].text);
	free(e->notes);
	free(e->cons);
	free(e->proofs);
	free(e->origin);
	free(e->entries_buf);
	free(e->leaves);
	free(e->prefix);
	free(e->vkey);
	free(e->journal_pem);
	free(e->audit_pem);
	free(e->root_pem);
	free(e);
	*ep = NULL;
}
