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

#include "twokey/common.h"
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

/*
 * What is wrong with a name that must be plain and relative:
 * [A-Za-z0-9._-] segments, none empty, "." or "..". NULL when it is
 * fine.
 */
static const char *
name_problem(const char *s)
{
	const char *seg = s;
	size_t n = strlen(s);

	if (n == 0)
		return "is empty";
	if (n > TK_PACKCHECK_MAX_NAME)
		return "is longer than 200 bytes";
	if (s[0] == '/')
		return "is an absolute path";
	for (;; s++) {
		if (*s == '/' || *s == '\0') {
			if (s - seg == 2 && seg[0] == '.' && seg[1] == '.')
				return "leaves its folder (\"..\")";
			if (s == seg || (s - seg == 1 && seg[0] == '.'))
				return "has an empty or \".\" path segment";
			if (*s == '\0')
				return NULL;
			seg = s + 1;
		} else if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *s) == NULL)
			return "has a character other than A-Z a-z 0-9 . _ -";
	}
}

int
pack_name_ok(const char *s)
{
	return name_problem(s) == NULL;
}

/* path escaped into buf, so that no control character reaches a terminal. */
static const char *
escaped(char *buf, size_t cap, const char *path)
{
	return tk_log_escape(buf, cap, path, strlen(path));
}

/* The folder of path (its first segment) and the rest, checked. */
static int
split(struct tk_pack *p, const char *path, const char **rest,
    struct tk_packcheck_report *rep)
{
	const char *slash = strchr(path, '/'), *problem;
	char esc[TK_PACKCHECK_MAX_NAME + 64];
	size_t n;

	if ((problem = name_problem(path)) != NULL)
		return pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
		    "archive member %s: the name %s", escaped(esc,
		    sizeof(esc), path), problem);
	if (slash == NULL)
		return pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
		    "archive member %s is not in the pack folder",
		    escaped(esc, sizeof(esc), path));
	n = (size_t)(slash - path);
	if (p->folder == NULL) {
		if ((p->folder = strndup(path, n)) == NULL)
			return TK_PACKCHECK_ERR_NOMEM;
	} else if (strlen(p->folder) != n || strncmp(p->folder, path,
	    n) != 0)
		return pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
		    "archive member %s is outside the pack folder %s (the "
		    "archive holds more than one folder)", path, p->folder);
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

/* What a member that is not a regular file is, for the message. */
static const char *
kind_of(struct archive_entry *e)
{
	if (archive_entry_hardlink(e) != NULL)
		return "a hard link";
	switch (archive_entry_filetype(e)) {
	case AE_IFLNK:
		return "a symbolic link";
	case AE_IFCHR:
	case AE_IFBLK:
		return "a device";
	case AE_IFIFO:
		return "a FIFO";
	case AE_IFSOCK:
		return "a socket";
	default:
		return "of an unknown type";
	}
}

/* libarchive's reason, escaped (it may quote the archive's bytes). */
static const char *
archive_why(struct archive *a, char *buf, size_t cap)
{
	const char *s = archive_error_string(a);

	if (s == NULL)
		s = "no reason given";
	return tk_log_escape(buf, cap, s, strlen(s));
}

static int
member(struct archive *a, struct archive_entry *e, struct tk_pack *p,
    size_t *cap, size_t *total, struct tk_packcheck_report *rep)
{
	const char *path = archive_entry_pathname(e), *name = NULL;
	la_int64_t size = archive_entry_size(e);
	char esc[TK_PACKCHECK_MAX_NAME + 64], why[160];
	uint8_t *data;
	int r;

	if (archive_entry_filetype(e) == AE_IFDIR)
		return 0;
	if (path == NULL)
		return pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
		    "an archive member has no name");
	if (archive_entry_filetype(e) != AE_IFREG)
		return pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
		    "archive member %s is %s, not a regular file",
		    escaped(esc, sizeof(esc), path), kind_of(e));
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
		    "the archive is truncated or damaged: member %s ends "
		    "early (%s)", name, archive_why(a, why, sizeof(why)));
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
	char why[160];
	int s, r = 0;

	while (r == 0 && (s = archive_read_next_header(a, &e)) ==
	    ARCHIVE_OK)
		r = member(a, e, p, &cap, &total, rep);
	if (r != 0)
		return r;
	if (s != ARCHIVE_EOF)
		return pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
		    "the archive is truncated or damaged after %zu files (%s)",
		    p->nfiles, archive_why(a, why, sizeof(why)));
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

/*
 * Why archive_read_open refused the bytes. When the gzip stream ends
 * early or is damaged, libarchive fails while building its filters and
 * keeps none, with its own reason ("truncated gzip input"); when the
 * filters worked but no format matched, it keeps them, and the first
 * says whether the bytes were gzip at all.
 */
static int
open_failed(struct archive *a, const uint8_t *tgz, size_t len,
    struct tk_packcheck_report *rep)
{
	char why[160];

	if (len == 0)
		return pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
		    "not a tar.gz archive: the file is empty");
	if (archive_filter_count(a) == 0)
		return pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
		    "the archive is truncated or damaged (%s)",
		    archive_why(a, why, sizeof(why)));
	if (archive_filter_code(a, 0) == ARCHIVE_FILTER_GZIP)
		return pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
		    "not a tar.gz archive: gzip, but no tar archive inside");
	/* gzip's magic bytes, but a header libarchive could not take. */
	if (len >= 2 && tgz[0] == 0x1f && tgz[1] == 0x8b)
		return pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
		    "the archive is truncated or damaged (its gzip header "
		    "is cut short or invalid)");
	return pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
	    "not a tar.gz archive: neither gzip nor tar");
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
	    archive_read_support_format_tar(a) != ARCHIVE_OK) {
		r = pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
		    "libarchive cannot read tar.gz");
		goto out;
	}
	if (archive_read_open_memory(a, tgz, len) != ARCHIVE_OK) {
		r = open_failed(a, tgz, len, rep);
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
