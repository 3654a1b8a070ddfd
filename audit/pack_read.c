/*
 * Reading an evidence pack (packcheck.h) from a tar.gz in memory with
 * libarchive. The archive is untrusted until its signature checks out,
 * so the reader is strict: regular files only, one top folder, plain
 * relative names, no duplicates, and limits on count and size.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "twokey/packcheck.h"
#include "pack_int.h"

const char *
tk_packcheck_strerror(int err)
{
	switch (err) {
	case TK_PACKCHECK_OK:
		return "ok";
	case TK_PACKCHECK_ERR_NOMEM:
		return "out of memory";
	case TK_PACKCHECK_ERR_TOOBIG:
		return "too large";
	case TK_PACKCHECK_ERR_MALFORMED:
		return "malformed pack";
	case TK_PACKCHECK_ERR_SIGNATURE:
		return "manifest signature missing or invalid";
	case TK_PACKCHECK_ERR_CHAIN:
		return "signer not certified by the pinned root";
	case TK_PACKCHECK_ERR_MANIFEST:
		return "files do not match the manifest";
	case TK_PACKCHECK_ERR_JOURNAL:
		return "the journal slice does not hold";
	case TK_PACKCHECK_ERR_APPROVAL:
		return "an approval does not verify";
	case TK_PACKCHECK_ERR_QUORUM:
		return "a grant lacks its quorum of approvers";
	case TK_PACKCHECK_ERR_INVALID:
		return "invalid argument";
	default:
		return "unknown error";
	}
}

/* Sets rep's failure and returns err. */
int
pack_fail(struct tk_packcheck_report *rep, int err, const char *fmt, ...)
{
	va_list ap;

	rep->err = err;
	va_start(ap, fmt);
	(void)vsnprintf(rep->what, sizeof(rep->what), fmt, ap);
	va_end(ap);
	return err;
}

void
tk_pack_free(struct tk_pack **pp)
{
	struct tk_pack *p;
	size_t i;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	for (i = 0; i < p->nfiles; i++) {
		free(p->files[i].name);
		free(p->files[i].data);
	}
	free(p->files);
	free(p->folder);
	free(p);
	*pp = NULL;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct tk_pack_file *)a)->name,
	    ((const struct tk_pack_file *)b)->name);
}

const struct tk_pack_file *
tk_pack_get(const struct tk_pack *p, const char *name)
{
	struct tk_pack_file key;

	if (p == NULL || name == NULL || p->nfiles == 0)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.name = (char *)(uintptr_t)name;
	return bsearch(&key, p->files, p->nfiles, sizeof(key), by_name);
}

/* A plain relative name: [A-Za-z0-9._-] segments, none "." or "..". */
int
pack_name_ok(const char *s)
{
	const char *seg = s;
	size_t n = strlen(s);

	if (n == 0 || n > TK_PACKCHECK_MAX_NAME)
		return 0;
	for (;; s++) {
		if (*s == '/' || *s == '\0') {
			if (s == seg || (s - seg == 1 && seg[0] == '.') ||
			    (s - seg == 2 && seg[0] == '.' && seg[1] == '.'))
				return 0;
			if (*s == '\0')
				return 1;
			seg = s + 1;
		} else if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *s) == NULL)
			return 0;
	}
}

/* The folder of path (its first segment) and the rest, checked. */
static int
split(struct tk_pack *p, const char *path, const char **rest,
    struct tk_packcheck_report *rep)
{
	const char *slash = strchr(path, '/');
	size_t n;

	if (slash == NULL || !pack_name_ok(path))
		return pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
		    "archive member outside the pack folder or badly named");
	n = (size_t)(slash - path);
	if (p->folder == NULL) {
		if ((p->folder = strndup(path, n)) == NULL)
			return TK_PACKCHECK_ERR_NOMEM;
	} else if (strlen(p->folder) != n || strncmp(p->folder, path,
	    n) != 0)
		return pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
		    "archive holds more than one folder");
	*rest = slash + 1;
	return 0;
}

static int
add(struct tk_pack *p, size_t *cap, const char *name, uint8_t *data,
    size_t len)
{
	struct tk_pack_file *nf;
	size_t c;

	if (p->nfiles == *cap) {
		c = *cap == 0 ? 64 : *cap * 2;
		if ((nf = realloc(p->files, c * sizeof(*nf))) == NULL)
			return TK_PACKCHECK_ERR_NOMEM;
		p->files = nf;
		*cap = c;
	}
	if ((p->files[p->nfiles].name = strdup(name)) == NULL)
		return TK_PACKCHECK_ERR_NOMEM;
	p->files[p->nfiles].data = data;
	p->files[p->nfiles].len = len;
	p->nfiles++;
	return 0;
}

static int
member(struct archive *a, struct archive_entry *e, struct tk_pack *p,
    size_t *cap, size_t *total, struct tk_packcheck_report *rep)
{
	const char *path = archive_entry_pathname(e), *name = NULL;
	la_int64_t size = archive_entry_size(e);
	uint8_t *data;
	int r;

	if (archive_entry_filetype(e) == AE_IFDIR)
		return 0;
	if (path == NULL || archive_entry_filetype(e) != AE_IFREG)
		return pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
		    "archive member is not a regular file");
	if ((r = split(p, path, &name, rep)) != 0)
		return r;
	if (size < 0 || (size_t)size > TK_PACKCHECK_MAX_BYTES - *total ||
	    p->nfiles >= TK_PACKCHECK_MAX_FILES)
		return pack_fail(rep, TK_PACKCHECK_ERR_TOOBIG,
		    "pack over %zu bytes or %zu files",
		    TK_PACKCHECK_MAX_BYTES, TK_PACKCHECK_MAX_FILES);
	*total += (size_t)size;
	if ((data = malloc((size_t)size + 1)) == NULL)
		return TK_PACKCHECK_ERR_NOMEM;
	if (archive_read_data(a, data, (size_t)size) != size) {
		free(data);
		return pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
		    "archive member %s is cut short", name);
	}
	data[size] = '\0';
	if ((r = add(p, cap, name, data, (size_t)size)) != 0)
		free(data);
	return r;
}

static int
read_all(struct archive *a, struct tk_pack *p,
    struct tk_packcheck_report *rep)
{
	struct archive_entry *e;
	size_t cap = 0, total = 0, i;
	int s, r = 0;

	while (r == 0 && (s = archive_read_next_header(a, &e)) ==
	    ARCHIVE_OK)
		r = member(a, e, p, &cap, &total, rep);
	if (r != 0)
		return r;
	if (s != ARCHIVE_EOF)
		return pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
		    "not a readable tar.gz: %s", archive_error_string(a) !=
		    NULL ? archive_error_string(a) : "?");
	if (p->nfiles == 0)
		return pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
		    "the archive is empty");
	qsort(p->files, p->nfiles, sizeof(*p->files), by_name);
	for (i = 1; i < p->nfiles; i++)
		if (strcmp(p->files[i - 1].name, p->files[i].name) == 0)
			return pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
			    "%s is in the archive twice", p->files[i].name);
	return 0;
}

int
tk_pack_read(const uint8_t *tgz, size_t len, struct tk_pack **out,
    struct tk_packcheck_report *rep)
{
	struct tk_pack *p = NULL;
	struct archive *a = NULL;
	int r = TK_PACKCHECK_ERR_NOMEM;

	memset(rep, 0, sizeof(*rep));
	if (out == NULL || (tgz == NULL && len != 0))
		return pack_fail(rep, TK_PACKCHECK_ERR_INVALID, "no input");
	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (a = archive_read_new()) == NULL)
		goto out;
	/* gzip'd ustar/pax only: nothing else is a pack. */
	if (archive_read_support_filter_gzip(a) != ARCHIVE_OK ||
	    archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open_memory(a, tgz, len) != ARCHIVE_OK) {
		r = pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
		    "not a tar.gz archive");
		goto out;
	}
	if ((r = read_all(a, p, rep)) != 0)
		goto out;
	rep->files = p->nfiles;
	*out = p;
	p = NULL;
out:
	if (r == TK_PACKCHECK_ERR_NOMEM)
		(void)pack_fail(rep, r, "out of memory");
	archive_read_free(a);
	tk_pack_free(&p);
	return r;
}
