/*
 * The journal export over HTTPS, for auditors: tk_journal_export writes
 * the self-contained export folder (export.h) into a private scratch
 * folder in the state folder; it is sent as one POSIX tar archive
 * (libarchive) and the scratch folder removed. An auditor unpacks it and
 * runs `twokey-verify log` with the pinned root; nothing here is trusted
 * by that check.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/journal.h"
#include "web_int.h"

#define EXPORT_MAX (64u * 1024 * 1024)

struct membuf {
	char *p;
	size_t len, cap;
};

static la_ssize_t
mem_write(struct archive *a, void *arg, const void *buf, size_t n)
{
	struct membuf *m = arg;
	size_t cap;
	char *np;

	(void)a;
	if (n > EXPORT_MAX - m->len)
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

static struct archive *tar_out;
static size_t tar_root_len;
static pthread_mutex_t tar_lock = PTHREAD_MUTEX_INITIALIZER;

/* nftw callback: one file or folder into tar_out (under tar_lock). */
static int
add_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	struct archive_entry *e;
	char buf[8192];
	ssize_t n;
	int fd, r = 0;

	(void)f;
	if (strlen(path) <= tar_root_len)
		return 0;
	if ((e = archive_entry_new()) == NULL)
		return -1;
	archive_entry_set_pathname(e, path + tar_root_len + 1);
	archive_entry_set_size(e, flag == FTW_F ? st->st_size : 0);
	archive_entry_set_filetype(e, flag == FTW_F ? AE_IFREG : AE_IFDIR);
	archive_entry_set_perm(e, flag == FTW_F ? 0644 : 0755);
	archive_entry_set_mtime(e, st->st_mtime, 0);
	if (archive_write_header(tar_out, e) != ARCHIVE_OK)
		r = -1;
	if (r == 0 && flag == FTW_F) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			r = -1;
		while (r == 0 && (n = read(fd, buf, sizeof(buf))) > 0)
			if (archive_write_data(tar_out, buf, (size_t)n) != n)
				r = -1;
		if (fd >= 0)
			close(fd);
	}
	archive_entry_free(e);
	return r;
}

/* The folder dir into m, entry names relative to its parent. */
static int
tar_folder(const char *dir, struct membuf *m)
{
	const char *slash = strrchr(dir, '/');
	int r = -1;

	if (slash == NULL)
		return -1;
	pthread_mutex_lock(&tar_lock);
	if ((tar_out = archive_write_new()) == NULL)
		goto out;
	tar_root_len = (size_t)(slash - dir);
	if (archive_write_set_format_pax_restricted(tar_out) == ARCHIVE_OK &&
	    archive_write_open(tar_out, m, NULL, mem_write, NULL) ==
	    ARCHIVE_OK && nftw(dir, add_one, 16, FTW_PHYS) == 0 &&
	    archive_write_close(tar_out) == ARCHIVE_OK)
		r = 0;
	archive_write_free(tar_out);
	tar_out = NULL;
out:
	pthread_mutex_unlock(&tar_lock);
	return r;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

void
web_h_journal_export(struct tk_web *w, struct req *rq, struct reply *r)
{
	struct membuf m = { NULL, 0, 0 };
	char tmp[4200], out[4300];
	int rc;

	if (!web_backend_ready(w, r))
		return;
	/* An API key reached here only with the journal:read scope. */
	if ((rq->who.roles & TK_ROLE_AUDITOR) == 0 && !rq->via_key) {
		web_reply_error(r, 403, "role_missing", "the journal export "
		    "is for people with the auditor role");
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s/export.XXXXXX", w->scratch_dir);
	if (mkdtemp(tmp) == NULL) {
		tk_error("export: cannot make a scratch folder: %s",
		    strerror(errno));
		web_reply_error(r, 503, "unavailable", "the export could "
		    "not be written");
		return;
	}
	snprintf(out, sizeof(out), "%s/journal", tmp);
	rc = tk_journal_export(w->be->journal, 0, 0, out,
	    TK_JOURNAL_EXPORT_PROOFS);
	if (rc != 0 || tar_folder(out, &m) != 0) {
		tk_error("export: %s", rc != 0 ? tk_journal_strerror(rc) :
		    "the archive could not be made");
		web_reply_error(r, 503, "unavailable", "the export could "
		    "not be made; see the server log");
		free(m.p);
	} else {
		r->status = 200;
		r->text = m.p;
		r->text_len = m.len;
		r->ctype = "application/x-tar";
		tk_info("journal exported for %s", rq->who.name);
	}
	if (nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		tk_warn("export: scratch folder left behind");
}
