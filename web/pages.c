/*
 * The approver pages: static files read once from web_root at start,
 * before root is dropped, and served from memory. Only what the walk
 * found can ever be served, so a request path is looked up, never
 * joined to a folder: "..", encoded slashes and symlinks have nothing to
 * reach. The walk itself follows no symlink (O_NOFOLLOW at every step),
 * skips dotfiles and names outside [A-Za-z0-9._-], and keeps only the
 * file types in the table below, each with its own Content-Type.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/evp.h>

#include "twokey/common.h"
#include "twokey/web.h"
#include "web_int.h"

#define PAGES_MAX 256			/* files */
#define PAGE_MAX_BYTES (2u << 20)	/* one file */
#define PAGES_MAX_BYTES (16u << 20)	/* all of them */
#define PAGES_DEPTH 3			/* folders below web_root */
#define PAGE_PATH_MAX 200

struct page {
	char path[PAGE_PATH_MAX];	/* "/index.html" */
	const char *ctype;
	char *data;
	size_t len;
	char etag[36];			/* quoted, 128 bits of SHA-256 */
};

struct tk_web_pages {
	struct page *p;
	size_t n;
	size_t bytes;
};

static const struct {
	const char *ext;
	const char *ctype;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".txt", "text/plain; charset=utf-8" },
};

/* The pages' policy: scripts and styles from files of this origin only. */
#define PAGE_CSP "default-src 'self'; script-src 'self'; " \
	"style-src 'self'; img-src 'self'; connect-src 'self'; " \
	"object-src 'none'; base-uri 'none'; form-action 'self'; " \
	"frame-ancestors 'none'"

static const char not_found_html[] =
	"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	"<title>Not found - twokey</title></head><body><h1>Not found</h1>"
	"<p>There is no such page. <a href=\"/\">Go to the start page</a>."
	"</p></body></html>\n";

static const char *
type_of(const char *name)
{
	size_t i, n = strlen(name), e;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		e = strlen(types[i].ext);
		if (n > e && strcasecmp(name + n - e, types[i].ext) == 0)
			return types[i].ctype;
	}
	return NULL;
}

static int
name_ok(const char *name)
{
	return name[0] != '.' && name[0] != '\0' &&
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == strlen(name);
}

static int
etag_of(struct page *pg)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[33];

	if (EVP_Digest(pg->data, pg->len, md, &mdlen, EVP_sha256(), NULL) !=
	    1 || mdlen < 16)
		return -1;
	tk_hex_encode(md, 16, hex);
	snprintf(pg->etag, sizeof(pg->etag), "\"%s\"", hex);
	return 0;
}

/* Reads one regular file (fd, already opened without following links). */
static int
read_page(struct tk_web_pages *ps, int fd, const char *path,
    const char *ctype)
{
	struct page *pg;
	struct stat st;
	size_t got = 0;
	ssize_t r;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > PAGE_MAX_BYTES ||
	    ps->bytes + (size_t)st.st_size > PAGES_MAX_BYTES ||
	    ps->n == PAGES_MAX) {
		tk_warn("web_root: %s skipped (not a regular file, or over "
		    "the size limits)", path);
		return 0;
	}
	pg = &ps->p[ps->n];
	memset(pg, 0, sizeof(*pg));
	if ((pg->data = malloc((size_t)st.st_size + 1)) == NULL)
		return -1;
	while (got < (size_t)st.st_size && (r = read(fd, pg->data + got,
	    (size_t)st.st_size - got)) > 0)
		got += (size_t)r;
	pg->len = got;	/* before the ETag, which hashes len bytes */
	if (got != (size_t)st.st_size || etag_of(pg) != 0) {
		tk_warn("web_root: %s could not be read", path);
		free(pg->data);
		pg->data = NULL;
		pg->len = 0;
		return 0;
	}
	pg->ctype = ctype;
	snprintf(pg->path, sizeof(pg->path), "%s", path);
	ps->bytes += got;
	ps->n++;
	return 0;
}

static int walk(struct tk_web_pages *ps, int dfd, const char *prefix,
    int depth);

static int
walk_entry(struct tk_web_pages *ps, int dfd, const char *prefix,
    const char *name, int depth)
{
	char path[PAGE_PATH_MAX];
	const char *ctype;
	struct stat st;
	int fd, r;

	if (!name_ok(name) || (size_t)snprintf(path, sizeof(path), "%s/%s",
	    prefix, name) >= sizeof(path))
		return 0;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return 0;
	if (S_ISDIR(st.st_mode) && depth < PAGES_DEPTH) {
		if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY |
		    O_NOFOLLOW | O_CLOEXEC)) < 0)
			return 0;
		return walk(ps, fd, path, depth + 1);
	}
	if (!S_ISREG(st.st_mode) || (ctype = type_of(name)) == NULL) {
		tk_debug("web_root: %s skipped (not a page type, or a link)",
		    path);
		return 0;
	}
	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return 0;
	r = read_page(ps, fd, path, ctype);
	close(fd);
	return r;
}

/* Walks the folder dfd (taken), adding its pages under prefix. */
static int
walk(struct tk_web_pages *ps, int dfd, const char *prefix, int depth)
{
	struct dirent *de;
	DIR *dir;
	int r = 0;

	if ((dir = fdopendir(dfd)) == NULL) {
		close(dfd);
		return 0;
	}
	while (r == 0 && (de = readdir(dir)) != NULL)
		r = walk_entry(ps, dirfd(dir), prefix, de->d_name, depth);
	closedir(dir);
	return r;
}

static int
page_cmp(const void *a, const void *b)
{
	return strcmp(((const struct page *)a)->path,
	    ((const struct page *)b)->path);
}

void
tk_web_pages_free(struct tk_web_pages **psp)
{
	struct tk_web_pages *ps;
	size_t i;

	if (psp == NULL || (ps = *psp) == NULL)
		return;
	for (i = 0; i < ps->n; i++)
		free(ps->p[i].data);
	free(ps->p);
	free(ps);
	*psp = NULL;
}

int
tk_web_pages_load(const char *root, struct tk_web_pages **out)
{
	struct tk_web_pages *ps;
	int fd;

	*out = NULL;
	if (root == NULL)
		return TK_WEB_ERR_INVALID;
	if ((ps = calloc(1, sizeof(*ps))) == NULL ||
	    (ps->p = calloc(PAGES_MAX, sizeof(*ps->p))) == NULL) {
		free(ps);
		return TK_WEB_ERR_NOMEM;
	}
	if ((fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		tk_warn("web_root %s: %s; no pages are served, only the API",
		    root, strerror(errno));
		*out = ps;
		return TK_WEB_OK;
	}
	if (walk(ps, fd, "", 0) != 0) {
		tk_web_pages_free(&ps);
		return TK_WEB_ERR_NOMEM;
	}
	qsort(ps->p, ps->n, sizeof(*ps->p), page_cmp);
	tk_info("web_root %s: %zu pages, %zu bytes", root, ps->n, ps->bytes);
	*out = ps;
	return TK_WEB_OK;
}

size_t
tk_web_pages_count(const struct tk_web_pages *ps)
{
	return ps != NULL ? ps->n : 0;
}

const struct page *
web_page_find(const struct tk_web_pages *ps, const char *url)
{
	struct page key;

	if (ps == NULL || ps->n == 0)
		return NULL;
	if (strcmp(url, "/") == 0)
		url = "/index.html";
	if (strlen(url) >= sizeof(key.path))
		return NULL;
	snprintf(key.path, sizeof(key.path), "%s", url);
	return bsearch(&key, ps->p, ps->n, sizeof(*ps->p), page_cmp);
}

void
web_page_headers(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Content-Security-Policy", PAGE_CSP);
	MHD_add_response_header(resp, "Cross-Origin-Opener-Policy",
	    "same-origin");
	MHD_add_response_header(resp, "Cross-Origin-Resource-Policy",
	    "same-origin");
	MHD_add_response_header(resp, "Strict-Transport-Security",
	    "max-age=31536000");
}

/* Whether If-None-Match names this page's ETag (or is "*"). */
static int
not_modified(struct MHD_Connection *conn, const struct page *pg)
{
	const char *inm;

	inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_IF_NONE_MATCH);
	if (inm == NULL)
		return 0;
	return strcmp(inm, "*") == 0 || strstr(inm, pg->etag) != NULL;
}

/*
 * The page from memory, without a copy. no-cache: browsers keep it but
 * ask each time (a 304 costs a few bytes), so that an upgrade of the
 * pages is seen at once.
 */
int
web_page_serve(struct MHD_Connection *conn, const struct page *pg,
    unsigned int *status)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	*status = not_modified(conn, pg) ? MHD_HTTP_NOT_MODIFIED :
	    MHD_HTTP_OK;
	resp = MHD_create_response_from_buffer(*status == MHD_HTTP_OK ?
	    pg->len : 0, pg->data, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	if (*status == MHD_HTTP_OK)
		MHD_add_response_header(resp, "Content-Type", pg->ctype);
	MHD_add_response_header(resp, "ETag", pg->etag);
	MHD_add_response_header(resp, "Cache-Control", "no-cache");
	web_page_headers(resp);
	ret = MHD_queue_response(conn, *status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Whether a 404 should be a page: a browser asking for a page. */
int
web_page_wanted(struct MHD_Connection *conn, const char *method,
    const char *url)
{
	const char *accept;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return 0;
	if (strncmp(url, "/api/", 5) == 0)
		return 0;
	accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_ACCEPT);
	return accept != NULL && strstr(accept, "text/html") != NULL;
}

int
web_page_not_found(struct MHD_Connection *conn)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(sizeof(not_found_html) - 1,
	    (void *)(uintptr_t)not_found_html, MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type",
	    "text/html; charset=utf-8");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	web_page_headers(resp);
	ret = MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, resp);
	MHD_destroy_response(resp);
	return ret;
}
