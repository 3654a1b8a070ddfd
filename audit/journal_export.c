/*
 * Export writer: a self-contained folder (layout in export.h) that
 * twokey-verify checks offline. Everything is read inside one read
 * transaction, so the folder is a consistent snapshot even while appends
 * go on.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "twokey/common.h"
#include "twokey/export.h"
#include "twokey/journal.h"
#include "journal_int.h"

struct xw {
	struct tk_journal *j;
	int dfd;
	unsigned int flags;
	uint64_t first, end, latest;
	uint64_t *sizes;	/* checkpoints written, ascending */
	size_t nsizes;
	int to_mem;		/* collect files in mem, not in dfd */
	struct tk_journal_file *mem;
	size_t nmem, capmem;
};

/* A copy of one file into x->mem. */
static int
put_mem(struct xw *x, const char *name, const void *data, size_t len)
{
	struct tk_journal_file *f, *nf;
	size_t cap;

	if (x->nmem == x->capmem) {
		cap = x->capmem == 0 ? 64 : x->capmem * 2;
		if ((nf = realloc(x->mem, cap * sizeof(*nf))) == NULL)
			return TK_JOURNAL_ERR_NOMEM;
		x->mem = nf;
		x->capmem = cap;
	}
	f = &x->mem[x->nmem];
	if ((f->name = strdup(name)) == NULL ||
	    (f->data = malloc(len + 1)) == NULL) {
		free(f->name);
		return TK_JOURNAL_ERR_NOMEM;
	}
	memcpy(f->data, data, len);
	f->data[len] = '\0';
	f->len = len;
	x->nmem++;
	return 0;
}

static int
put(struct xw *x, const char *name, const void *data, size_t len)
{
	const uint8_t *p = data;
	ssize_t w;
	int fd, r = TK_JOURNAL_ERR_IO;

	if (x->to_mem)
		return put_mem(x, name, data, len);
	if ((fd = openat(x->dfd, name, O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC, 0644)) < 0) {
		tk_error("export: cannot create %s: %s", name,
		    strerror(errno));
		return r;
	}
	while (len > 0) {
		if ((w = write(fd, p, len)) < 0) {
			if (errno == EINTR)
				continue;
			tk_error("export: write %s: %s", name,
			    strerror(errno));
			goto out;
		}
		p += w;
		len -= (size_t)w;
	}
	r = 0;
out:
	if (close(fd) != 0)
		r = TK_JOURNAL_ERR_IO;
	return r;
}

/* Base64 hashes, one per line. Caller frees *out. */
static int
hash_lines(const tk_merkle_hash *h, size_t n, char **out, size_t *outlen)
{
	char *buf, *b;
	size_t i;

	if ((buf = malloc(n * 45 + 1)) == NULL)
		return TK_JOURNAL_ERR_NOMEM;
	*outlen = 0;
	for (i = 0; i < n; i++) {
		if ((b = tk_b64_encode(h[i], TK_MERKLE_HASH_LEN)) == NULL) {
			free(buf);
			return TK_JOURNAL_ERR_NOMEM;
		}
		memcpy(buf + *outlen, b, 44);
		buf[*outlen + 44] = '\n';
		*outlen += 45;
		free(b);
	}
	buf[*outlen] = '\0';
	*out = buf;
	return 0;
}

static int
open_dir(const char *dir, int *dfd)
{
	static const char *sub[] = { "checkpoints", "consistency", "keys",
	    "proofs" };
	size_t i;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		tk_error("export: cannot create folder: %s", strerror(errno));
		return TK_JOURNAL_ERR_IO;
	}
	if ((*dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return TK_JOURNAL_ERR_IO;
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		/* EEXIST: an existing folder must be empty, see put(). */
		if (mkdirat(*dfd, sub[i], 0755) != 0) {
			tk_error("export: folder not empty or not writable:"
			    " %s", strerror(errno));
			return TK_JOURNAL_ERR_IO;
		}
	}
	return 0;
}

static int
put_entries(struct xw *x)
{
	sqlite3_stmt *st = NULL;
	FILE *f = NULL;
	char *buf = NULL;
	size_t n, buflen = 0;
	uint64_t want = x->first;
	int r = TK_JOURNAL_ERR_NOMEM;

	/* In memory first, so that both sinks get the file through put(). */
	if ((f = open_memstream(&buf, &buflen)) == NULL)
		return r;
	if (sqlite3_prepare_v2(x->j->rdb, "SELECT idx, leaf FROM entries"
	    " WHERE idx >= ? AND idx < ? ORDER BY idx", -1, &st,
	    NULL) != SQLITE_OK) {
		r = TK_JOURNAL_ERR_DB;
		goto out;
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)x->first);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)x->end);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if ((uint64_t)sqlite3_column_int64(st, 0) != want++) {
			r = TK_JOURNAL_ERR_CORRUPT;
			goto out;
		}
		n = (size_t)sqlite3_column_bytes(st, 1);
		if (fwrite(sqlite3_column_blob(st, 1), 1, n, f) != n ||
		    fputc('\n', f) == EOF)
			goto out;
	}
	r = want == x->end ? 0 : TK_JOURNAL_ERR_CORRUPT;
out:
	sqlite3_finalize(st);
	if (fclose(f) != 0 && r == 0)
		r = TK_JOURNAL_ERR_NOMEM;
	if (r == 0)
		r = put(x, "entries.jsonl", buf, buflen);
	free(buf);
	return r;
}

static int
add_size(struct xw *x, uint64_t size)
{
	uint64_t *p;

	if ((p = realloc(x->sizes, (x->nsizes + 1) * sizeof(*p))) == NULL)
		return TK_JOURNAL_ERR_NOMEM;
	x->sizes = p;
	x->sizes[x->nsizes++] = size;
	return 0;
}

static int
put_checkpoint(struct xw *x, uint64_t size)
{
	char name[48], *note = NULL;
	size_t len;
	int r;

	snprintf(name, sizeof(name), "checkpoints/%" PRIu64, size);
	if ((r = jdb_checkpoint(x->j->rdb, size, &note, &len)) == 0 &&
	    (r = put(x, name, note, len)) == 0)
		r = add_size(x, size);
	free(note);
	return r;
}

/* Checkpoints of sizes first..end, the latest, and consistency proofs. */
static int
put_checkpoints(struct xw *x)
{
	tk_merkle_hash proof[TK_MERKLE_MAX_PROOF];
	struct tk_merkle_source src;
	sqlite3_stmt *st = NULL;
	char name[64], *text;
	size_t i, n, len;
	int r = TK_JOURNAL_ERR_DB;

	if (sqlite3_prepare_v2(x->j->rdb, "SELECT size FROM checkpoints"
	    " WHERE size >= ? AND size <= ? ORDER BY size", -1, &st,
	    NULL) != SQLITE_OK)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)x->first);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)x->end);
	r = 0;
	while (r == 0 && sqlite3_step(st) == SQLITE_ROW)
		r = put_checkpoint(x, (uint64_t)sqlite3_column_int64(st, 0));
	sqlite3_finalize(st);
	if (r == 0 && x->latest > x->end &&
	    (x->flags & TK_JOURNAL_EXPORT_NO_LATEST) == 0)
		r = put_checkpoint(x, x->latest);
	jdb_source(x->j->rdb, &src);
	for (i = 0; r == 0 && i + 1 < x->nsizes; i++) {
		if (tk_merkle_consistency_proof(&src, x->sizes[i],
		    x->sizes[i + 1], proof, &n) != 0)
			return TK_JOURNAL_ERR_CORRUPT;
		if ((r = hash_lines(proof, n, &text, &len)) != 0)
			return r;
		snprintf(name, sizeof(name), "consistency/%" PRIu64 "-%"
		    PRIu64, x->sizes[i], x->sizes[i + 1]);
		r = put(x, name, text, len);
		free(text);
	}
	return r;
}

static int
put_prefix(struct xw *x)
{
	tk_merkle_hash frontier[64];
	char *text = NULL;
	size_t n, len;
	int r;

	if ((r = jdb_frontier(x->j->rdb, x->first, frontier, &n)) != 0 ||
	    (r = hash_lines(frontier, n, &text, &len)) != 0)
		return r;
	r = put(x, "prefix", text, len);
	free(text);
	return r;
}

static int
put_proofs(struct xw *x)
{
	char name[64], *text;
	uint64_t i;
	size_t len;
	int r = 0;

	for (i = x->first; r == 0 && i < x->end; i++) {
		if ((r = tk_journal_tlog_proof_locked(x->j, i, 0, &text,
		    &len)) != 0)
			return r;
		snprintf(name, sizeof(name), "proofs/%" PRIu64 ".tlog-proof",
		    i);
		r = put(x, name, text, len);
		free(text);
	}
	return r;
}

/* Writes a PEM object produced by fn into name. */
static int
put_bio(struct xw *x, const char *name, BIO *b)
{
	char *data;
	long len;

	if ((len = BIO_get_mem_data(b, &data)) <= 0)
		return TK_JOURNAL_ERR_NOMEM;
	return put(x, name, data, (size_t)len);
}

static int
put_cert(struct xw *x, const char *name, enum tk_key_purpose purpose)
{
	X509 *cert = NULL;
	BIO *b = NULL;
	int r, hr;

	if ((hr = tk_signer_certificate(x->j->signer, purpose, &cert)) != 0) {
		tk_error("export: no %s certificate: %s",
		    tk_key_label(purpose), tk_hsm_strerror(hr));
		return TK_JOURNAL_ERR_SIGN;
	}
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(b, cert) != 1)
		r = TK_JOURNAL_ERR_NOMEM;
	else
		r = put_bio(x, name, b);
	BIO_free(b);
	X509_free(cert);
	return r;
}

static int
put_keys(struct xw *x)
{
	char *vkey = NULL;
	BIO *b = NULL;
	int r = TK_JOURNAL_ERR_NOMEM;

	if (tk_note_vkey(x->j->origin, x->j->pub, &vkey) != 0)
		goto out;
	if ((r = put(x, "keys/journal.vkey", vkey, strlen(vkey))) != 0)
		goto out;
	r = TK_JOURNAL_ERR_NOMEM;
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_PUBKEY(b, x->j->pub) != 1)
		goto out;
	if ((r = put_bio(x, "keys/journal.pem", b)) != 0 ||
	    (r = put_cert(x, "keys/audit.pem", TK_KEY_AUDIT)) != 0 ||
	    (r = put_cert(x, "keys/root.pem", TK_KEY_ROOT)) != 0)
		goto out;
	r = 0;
out:
	BIO_free(b);
	free(vkey);
	return r;
}

static int
put_manifest(struct xw *x, int proofs)
{
	json_t *o;
	char *s = NULL;
	int r = TK_JOURNAL_ERR_NOMEM;

	o = json_pack("{s:s, s:s, s:I, s:I, s:b}", "format", TK_EXPORT_FORMAT,
	    "origin", x->j->origin, "first", (json_int_t)x->first, "end",
	    (json_int_t)x->end, "proofs", proofs);
	if (o != NULL && (s = tk_json_dumps(o, JSON_INDENT(1) |
	    JSON_PRESERVE_ORDER)) != NULL)
		r = put(x, "export.json", s, strlen(s));
	free(s);
	json_decref(o);
	return r;
}

/* Fixes the range inside the read transaction. */
static int
export_range(struct xw *x, uint64_t first, uint64_t end)
{
	tk_merkle_hash root;
	char *note = NULL;
	size_t len;
	int r;

	if ((r = jdb_latest(x->j->rdb, &x->latest, root, &note, &len)) != 0)
		return r;
	free(note);
	if (end == 0 || end > x->latest)
		end = x->latest;
	else if ((r = jdb_covering(x->j->rdb, end - 1, &end)) != 0)
		return r;
	if (first >= end)
		return TK_JOURNAL_ERR_RANGE;
	x->first = first;
	x->end = end;
	return 0;
}

static int
export_locked(struct xw *x, uint64_t first, uint64_t end, const char *dir,
    unsigned int flags)
{
	int r;

	if ((r = jdb_exec(x->j->rdb, "BEGIN")) != 0)
		return r;
	if ((r = export_range(x, first, end)) == 0 &&
	    (x->to_mem || (r = open_dir(dir, &x->dfd)) == 0) &&
	    (r = put_manifest(x, (flags & TK_JOURNAL_EXPORT_PROOFS) != 0)) ==
	    0 && (r = put_entries(x)) == 0 && (r = put_prefix(x)) == 0 &&
	    (r = put_checkpoints(x)) == 0 && (r = put_keys(x)) == 0 &&
	    (flags & TK_JOURNAL_EXPORT_PROOFS) != 0)
		r = put_proofs(x);
	(void)jdb_exec(x->j->rdb, "COMMIT");
	return r;
}

int
tk_journal_export(struct tk_journal *j, uint64_t first, uint64_t end,
    const char *dir, unsigned int flags)
{
	struct xw x;
	int r;

	if (j == NULL || dir == NULL || (end != 0 && end <= first))
		return TK_JOURNAL_ERR_INVALID;
	memset(&x, 0, sizeof(x));
	x.j = j;
	x.dfd = -1;
	x.flags = flags;
	pthread_mutex_lock(&j->rlock);
	r = export_locked(&x, first, end, dir, flags);
	pthread_mutex_unlock(&j->rlock);
	if (x.dfd >= 0)
		close(x.dfd);
	free(x.sizes);
	if (r != 0)
		tk_error("export failed: %s", tk_journal_strerror(r));
	return r;
}

void
tk_journal_files_free(struct tk_journal_file **files, size_t n)
{
	size_t i;

	if (files == NULL || *files == NULL)
		return;
	for (i = 0; i < n; i++) {
		free((*files)[i].name);
		free((*files)[i].data);
	}
	free(*files);
	*files = NULL;
}

int
tk_journal_export_files(struct tk_journal *j, uint64_t first, uint64_t end,
    unsigned int flags, struct tk_journal_file **files, size_t *n)
{
	struct xw x;
	int r;

	if (j == NULL || files == NULL || n == NULL ||
	    (end != 0 && end <= first))
		return TK_JOURNAL_ERR_INVALID;
	*files = NULL;
	*n = 0;
	memset(&x, 0, sizeof(x));
	x.j = j;
	x.dfd = -1;
	x.flags = flags;
	x.to_mem = 1;
	pthread_mutex_lock(&j->rlock);
	r = export_locked(&x, first, end, NULL, flags);
	pthread_mutex_unlock(&j->rlock);
	free(x.sizes);
	if (r != 0) {
		tk_journal_files_free(&x.mem, x.nmem);
		tk_error("export failed: %s", tk_journal_strerror(r));
		return r;
	}
	*files = x.mem;
	*n = x.nmem;
	return 0;
}
