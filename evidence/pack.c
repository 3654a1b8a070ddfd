/*
 * The evidence pack builder (pack.h): gathers the documents, writes the
 * report, the SHA256SUMS manifest and its CMS signature made in the
 * token, archives everything as a deterministic tar.gz (libarchive) and
 * journals the manifest's digest.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/hsm.h"
#include "twokey/journal.h"
#include "pack_int.h"

const char *
tk_pack_strerror(int err)
{
	switch (err) {
	case TK_PACK_OK:
		return "ok";
	case TK_PACK_ERR_NOMEM:
		return "out of memory";
	case TK_PACK_ERR_INVALID:
		return "invalid argument or input document";
	case TK_PACK_ERR_PERIOD:
		return "the period is empty, reversed or too long";
	case TK_PACK_ERR_STORE:
		return "the approvals store failed";
	case TK_PACK_ERR_JOURNAL:
		return "the journal failed";
	case TK_PACK_ERR_SIGN:
		return "the token could not sign";
	case TK_PACK_ERR_ARCHIVE:
		return "the archive could not be made";
	case TK_PACK_ERR_TOOBIG:
		return "the pack is too large";
	default:
		return "unknown error";
	}
}

void
tk_pack_time(int64_t t, char out[21])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) != 20)
		(void)snprintf(out, 21, "1970-01-01T00:00:00Z");
}

int
pack_add(struct pbuild *b, const char *name, const void *data, size_t len)
{
	struct pfile *nf;
	size_t cap;

	if (len > TK_PACK_MAX_BYTES - b->bytes)
		return TK_PACK_ERR_TOOBIG;
	if (b->nfiles == b->cap) {
		cap = b->cap == 0 ? 64 : b->cap * 2;
		if ((nf = realloc(b->files, cap * sizeof(*nf))) == NULL)
			return TK_PACK_ERR_NOMEM;
		b->files = nf;
		b->cap = cap;
	}
	nf = &b->files[b->nfiles];
	if ((nf->name = strdup(name)) == NULL ||
	    (nf->data = malloc(len + 1)) == NULL) {
		free(nf->name);
		return TK_PACK_ERR_NOMEM;
	}
	memcpy(nf->data, data, len);
	nf->data[len] = '\0';
	nf->len = len;
	b->nfiles++;
	b->bytes += len;
	return 0;
}

int
pack_add_json(struct pbuild *b, const char *name, const json_t *doc)
{
	char *s;
	size_t n;
	int r;

	if ((s = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS)) == NULL)
		return TK_PACK_ERR_NOMEM;
	n = strlen(s);
	s[n] = '\n';	/* json_dumps leaves room: its NUL */
	r = pack_add(b, name, s, n + 1);
	free(s);
	return r;
}

void
pbuild_clear(struct pbuild *b)
{
	size_t i;

	for (i = 0; i < b->nfiles; i++) {
		free(b->files[i].name);
		free(b->files[i].data);
	}
	free(b->files);
	json_decref(b->access);
	json_decref(b->grants);
	json_decref(b->requests);
	json_decref(b->drift);
	json_decref(b->inventory);
	json_decref(b->rotation);
	json_decref(b->counts);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct pfile *)a)->name,
	    ((const struct pfile *)b)->name);
}

/* SHA256SUMS over every file so far, sorted by name. */
int
pack_manifest(struct pbuild *b, char sums_hex[65])
{
	uint8_t d[SHA256_DIGEST_LENGTH];
	char hex[65], *buf = NULL;
	size_t i, len = 0;
	FILE *f;
	int r = TK_PACK_ERR_NOMEM;

	qsort(b->files, b->nfiles, sizeof(*b->files), by_name);
	if ((f = open_memstream(&buf, &len)) == NULL)
		return r;
	for (i = 0; i < b->nfiles; i++) {
		SHA256(b->files[i].data, b->files[i].len, d);
		tk_hex_encode(d, sizeof(d), hex);
		(void)fprintf(f, "%s  %s\n", hex, b->files[i].name);
	}
	if (fclose(f) != 0)
		goto out;
	SHA256((const uint8_t *)buf, len, d);
	tk_hex_encode(d, sizeof(d), sums_hex);
	r = pack_add(b, "SHA256SUMS", buf, len);
out:
	free(buf);
	return r;
}

/* SHA256SUMS.p7s: CMS detached, DER, by the AUDIT key in the token. */
int
pack_sign(struct pbuild *b)
{
	struct tk_signer *s = tk_journal_signer(b->cfg->journal);
	const struct pfile *m = &b->files[b->nfiles - 1];
	CMS_ContentInfo *cms = NULL;
	EVP_PKEY *pk = NULL;
	X509 *cert = NULL;
	BIO *in = NULL;
	uint8_t *der = NULL;
	int n, r = TK_PACK_ERR_SIGN;

	if (tk_signer_evp_pkey(s, TK_KEY_AUDIT, &pk) != 0 ||
	    tk_signer_certificate(s, TK_KEY_AUDIT, &cert) != 0)
		goto out;
	if ((in = BIO_new_mem_buf(m->data, (int)m->len)) == NULL ||
	    (cms = CMS_sign(cert, pk, NULL, in, CMS_DETACHED |
	    CMS_BINARY)) == NULL ||
	    (n = i2d_CMS_ContentInfo(cms, &der)) <= 0) {
		tk_error("pack: the manifest could not be signed");
		goto out;
	}
	r = pack_add(b, "SHA256SUMS.p7s", der, (size_t)n);
out:
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	X509_free(cert);
	EVP_PKEY_free(pk);
	return r;
}

struct membuf {
	uint8_t *p;
	size_t len, cap;
};

static la_ssize_t
mem_write(struct archive *a, void *arg, const void *buf, size_t n)
{
	struct membuf *m = arg;
	uint8_t *np;
	size_t cap;

	(void)a;
	if (n > TK_PACK_MAX_BYTES - m->len)
		return -1;
	if (m->len + n > m->cap) {
		cap = m->cap == 0 ? 65536 : m->cap;
		while (cap < m->len + n)
			cap *= 2;
		if ((np = realloc(m->p, cap)) == NULL)
			return -1;
		m->p = np;
		m->cap = cap;
	}
	memcpy(m->p + m->len, buf, n);
	m->len += n;
	return (la_ssize_t)n;
}

/* The folder name: twokey-pack-<from>-<to>, compact UTC times. */
static void
folder_name(const struct tk_pack_config *cfg, char out[64])
{
	char f[21], t[21], cf[17], ct[17];
	size_t i, k;

	tk_pack_time(cfg->from, f);
	tk_pack_time(cfg->to, t);
	for (i = k = 0; f[i] != '\0'; i++)
		if (f[i] != '-' && f[i] != ':')
			cf[k++] = f[i];
	cf[k] = '\0';
	for (i = k = 0; t[i] != '\0'; i++)
		if (t[i] != '-' && t[i] != ':')
			ct[k++] = t[i];
	ct[k] = '\0';
	(void)snprintf(out, 64, "twokey-pack-%s-%s", cf, ct);
}

static int
tar_entry(struct archive *a, const char *dir, const struct pfile *f,
    int64_t mtime)
{
	struct archive_entry *e;
	char path[512];
	int r = -1;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, f->name);
	if ((e = archive_entry_new()) == NULL)
		return -1;
	archive_entry_set_pathname(e, path);
	archive_entry_set_size(e, (la_int64_t)f->len);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	if (archive_write_header(a, e) == ARCHIVE_OK &&
	    archive_write_data(a, f->data, f->len) == (la_ssize_t)f->len)
		r = 0;
	archive_entry_free(e);
	return r;
}

int
pack_archive(struct pbuild *b, uint8_t **out, size_t *len)
{
	struct membuf m = { NULL, 0, 0 };
	struct archive *a;
	char dir[64];
	size_t i;
	int r = TK_PACK_ERR_ARCHIVE;

	folder_name(b->cfg, dir);
	if ((a = archive_write_new()) == NULL)
		return TK_PACK_ERR_NOMEM;
	/* ustar: no pax times; gzip without its timestamp. */
	if (archive_write_set_format_ustar(a) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
	    archive_write_set_options(a, "gzip:!timestamp") != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open(a, &m, NULL, mem_write, NULL) != ARCHIVE_OK)
		goto out;
	/* as_of, not to: a period still open would date every member in
	 * the future, and tar warns about each one. */
	for (i = 0; i < b->nfiles; i++)
		if (tar_entry(a, dir, &b->files[i], b->as_of) != 0)
			goto out;
	if (archive_write_close(a) != ARCHIVE_OK)
		goto out;
	*out = m.p;
	*len = m.len;
	m.p = NULL;
	r = 0;
out:
	if (r != 0)
		tk_error("pack: archive: %s", archive_error_string(a) !=
		    NULL ? archive_error_string(a) : "failed");
	archive_write_free(a);
	free(m.p);
	return r;
}
