/*
 * Specifications of the approver pages as the real twokeyd serves them
 * from web_root over verified TLS: only files found at start, each with
 * its type and the security headers, nothing outside the folder, no
 * symlink, no dotfile.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "../lib/daemon_fixture.h"
#include "../lib/token_fixture.h"

static struct tkd d;
static char www[700];

#define INDEX "<!doctype html><title>twokey</title>"

static int
put(const char *name, const char *text)
{
	char path[800];
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), "%s/%s", www, name);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	if (fputs(text, f) == EOF)
		r = -1;
	if (fclose(f) != 0)
		r = -1;
	return r;
}

/* A folder of pages with a few things that must never be served. */
static int
make_www(void)
{
	const char *tmp = getenv("TWOKEY_TEST_TMP");
	char path[800], target[800];

	snprintf(www, sizeof(www), "%s/www", tmp != NULL ? tmp : "/tmp");
	if (mkdir(www, 0755) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/sub", www);
	if (mkdir(path, 0755) != 0 || put("index.html", INDEX) != 0 ||
	    put("app.js", "\"use strict\";\n") != 0 ||
	    put("style.css", "body { color: #000; }\n") != 0 ||
	    put("sub/deep.html", "<p>deep</p>") != 0 ||
	    put(".secret.html", "dotfile") != 0 ||
	    put("notes.md", "not a page type") != 0)
		return -1;
	/* A file outside the folder, and links to it from inside. */
	snprintf(target, sizeof(target), "%s/outside.html",
	    tmp != NULL ? tmp : "/tmp");
	snprintf(path, sizeof(path), "%s/link.html", www);
	if (symlink(target, path) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/linkdir", www);
	if (symlink(tmp != NULL ? tmp : "/tmp", path) != 0)
		return -1;
	return put("../outside.html", "outside");
}

static int
setup(void **state)
{
	char extra[900];

	(void)state;
	if (make_www() != 0)
		return -1;
	snprintf(extra, sizeof(extra), ",\n\"web_root\": \"%s\"", www);
	if (tkd_init(&d, "pages", extra) != 0)
		return -1;
	return tkd_start(&d);
}

static int
teardown(void **state)
{
	int r;

	(void)state;
	r = tkd_stop(&d, SIGTERM);
	tkd_cleanup();
	return r == 0 ? 0 : -1;
}

/* The value of header name in r, or "" (cut at the line's end). */
static const char *
header(const struct tkd_resp *r, const char *name, char *out, size_t len)
{
	const char *p = r->headers;
	size_t n = strlen(name);

	out[0] = '\0';
	while (p != NULL && *p != '\0') {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			p += n + 1;
			p += strspn(p, " ");
			snprintf(out, len, "%.*s", (int)strcspn(p, "\r\n"), p);
			return out;
		}
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return out;
}

static void
get(const char *path, const char *extra, struct tkd_resp *r)
{
	assert_int_equal(tkd_request(&d, "GET", path, NULL, NULL, 0, extra,
	    r), 0);
}

static void
page_is_served_with_its_type_and_every_security_header(void **state)
{
	struct tkd_resp r;
	char v[512];

	(void)state;
	get("/index.html", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, INDEX);
	assert_string_equal(r.ctype, "text/html; charset=utf-8");
	header(&r, "Content-Security-Policy", v, sizeof(v));
	assert_non_null(strstr(v, "default-src 'self'"));
	assert_non_null(strstr(v, "frame-ancestors 'none'"));
	assert_null(strstr(v, "unsafe-inline"));
	assert_null(strstr(v, "unsafe-eval"));
	assert_string_equal(header(&r, "X-Content-Type-Options", v,
	    sizeof(v)), "nosniff");
	assert_string_equal(header(&r, "Referrer-Policy", v, sizeof(v)),
	    "no-referrer");
	assert_non_null(strstr(header(&r, "Strict-Transport-Security", v,
	    sizeof(v)), "max-age="));
	assert_string_equal(header(&r, "Cache-Control", v, sizeof(v)),
	    "no-cache");
	assert_int_equal(strlen(header(&r, "ETag", v, sizeof(v))), 34);
	tkd_resp_clear(&r);
}

static void
scripts_and_styles_carry_their_own_types(void **state)
{
	struct tkd_resp r;

	(void)state;
	get("/app.js", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.ctype, "text/javascript; charset=utf-8");
	tkd_resp_clear(&r);
	get("/style.css", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.ctype, "text/css; charset=utf-8");
	tkd_resp_clear(&r);
	get("/sub/deep.html", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "<p>deep</p>");
	tkd_resp_clear(&r);
}

static void
root_path_is_the_index_page(void **state)
{
	struct tkd_resp r;

	(void)state;
	get("/", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, INDEX);
	tkd_resp_clear(&r);
}

static void
unchanged_page_is_revalidated_with_304_and_no_body(void **state)
{
	struct tkd_resp r;
	char etag[64], line[128];

	(void)state;
	get("/app.js", NULL, &r);
	header(&r, "ETag", etag, sizeof(etag));
	tkd_resp_clear(&r);
	snprintf(line, sizeof(line), "If-None-Match: %s", etag);
	get("/app.js", line, &r);
	assert_int_equal(r.status, 304);
	assert_int_equal(r.len, 0);
	tkd_resp_clear(&r);
	get("/app.js", "If-None-Match: \"0000\"", &r);
	assert_int_equal(r.status, 200);
	tkd_resp_clear(&r);
	/* Another file's tag is not this one's: tags follow contents. */
	get("/", NULL, &r);
	header(&r, "ETag", line, sizeof(line));
	tkd_resp_clear(&r);
	assert_string_not_equal(line, etag);
	/* Not the hash of nothing (e3b0c442...), which every page had. */
	assert_null(strstr(etag, "e3b0c442"));
	snprintf(line, sizeof(line), "If-None-Match: %s", etag);
	get("/", line, &r);
	assert_int_equal(r.status, 200);
	tkd_resp_clear(&r);
}

static void
head_gives_the_headers_without_the_body(void **state)
{
	struct tkd_resp r;

	(void)state;
	assert_int_equal(tkd_request(&d, "HEAD", "/index.html", NULL, NULL,
	    0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, 0);
	assert_string_equal(r.ctype, "text/html; charset=utf-8");
	tkd_resp_clear(&r);
}

static void
traversal_out_of_the_folder_is_refused(void **state)
{
	static const char *paths[] = {
		"/../outside.html", "/sub/../../outside.html",
		"/%2e%2e/outside.html", "/sub/%2e%2e/%2e%2e/outside.html",
		"/..%2foutside.html", "/sub%2f..%2f..%2foutside.html",
		"//outside.html", "/./index.html", "/sub/../index.html",
		"/../pages/twokeyd.conf", "/index.html/", "/INDEX.HTML",
	};
	struct tkd_resp r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		get(paths[i], NULL, &r);
		if (r.status != 404)
			fail_msg("%s gave %ld", paths[i], r.status);
		assert_null(strstr(r.body, "outside"));
		tkd_resp_clear(&r);
	}
}

static void
symlinks_dotfiles_and_other_types_are_not_served(void **state)
{
	static const char *paths[] = {
		"/link.html", "/linkdir/outside.html", "/.secret.html",
		"/notes.md",
	};
	struct tkd_resp r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		get(paths[i], NULL, &r);
		if (r.status != 404)
			fail_msg("%s gave %ld", paths[i], r.status);
		tkd_resp_clear(&r);
	}
}

static void
missing_page_is_html_for_a_browser_and_json_otherwise(void **state)
{
	struct tkd_resp r;
	char v[512];

	(void)state;
	get("/nothing.html", "Accept: text/html,application/xhtml+xml", &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.ctype, "text/html; charset=utf-8");
	assert_non_null(strstr(r.body, "Not found"));
	header(&r, "Content-Security-Policy", v, sizeof(v));
	assert_non_null(strstr(v, "frame-ancestors 'none'"));
	tkd_resp_clear(&r);
	get("/nothing.html", NULL, &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.ctype, "application/json");
	assert_non_null(strstr(r.body, "\"not_found\""));
	tkd_resp_clear(&r);
	get("/api/v1/nothing", "Accept: text/html", &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(r.ctype, "application/json");
	tkd_resp_clear(&r);
}

static void
pages_take_only_get_and_head(void **state)
{
	struct tkd_resp r;

	(void)state;
	assert_int_equal(tkd_request(&d, "POST", "/index.html",
	    "application/json", "{}", 2, NULL, &r), 0);
	assert_int_equal(r.status, 404);
	tkd_resp_clear(&r);
}

static void
api_routes_are_not_shadowed_by_pages(void **state)
{
	struct tkd_resp r;
	char v[512];

	(void)state;
	get("/healthz", NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.ctype, "application/json");
	/* The API keeps its stricter policy: it serves no content. */
	header(&r, "Content-Security-Policy", v, sizeof(v));
	assert_non_null(strstr(v, "default-src 'none'"));
	tkd_resp_clear(&r);
}

static void
missing_web_root_leaves_the_api_serving(void **state)
{
	struct tkd other;
	struct tkd_resp r;

	(void)state;
	assert_int_equal(tkd_init(&other, "nopages",
	    ",\n\"web_root\": \"/nonexistent/www\""), 0);
	assert_int_equal(tkd_start(&other), 0);
	assert_int_equal(tkd_request(&other, "GET", "/index.html", NULL,
	    NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 404);
	tkd_resp_clear(&r);
	assert_true(tkd_log_has(&other, "no pages are served", 2000));
	assert_int_equal(tkd_stop(&other, SIGTERM), 0);
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000L +
	    (t.tv_nsec - t0->tv_nsec) / 1000000L;
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/*
 * Twenty pages one after another on one kept-alive connection take well
 * under a second: a page queued before its request was read came a
 * delayed ACK late each time (about 90 a second for one client).
 */
static void
pages_keep_pace_on_one_kept_alive_connection(void **state)
{
	struct curl_slist *res = NULL;
	struct timespec t0;
	char url[128], line[64];
	long code = 0, conns = 0, reused = 0;
	CURL *c;
	int i;

	(void)state;
	snprintf(url, sizeof(url), "https://localhost:%u/style.css", d.port);
	snprintf(line, sizeof(line), "localhost:%u:127.0.0.1", d.port);
	assert_non_null(c = curl_easy_init());
	res = curl_slist_append(res, line);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_RESOLVE, res);
	curl_easy_setopt(c, CURLOPT_CAINFO, d.root_pem);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 20; i++) {
		assert_int_equal(curl_easy_perform(c), CURLE_OK);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &conns);
		assert_int_equal(code, 200);
		reused += conns == 0;
	}
	assert_int_equal(reused, 20);
	assert_true(ms_since(&t0) < (long)tk_fixture_ms(1000));
	curl_easy_cleanup(c);
	curl_slist_free_all(res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    page_is_served_with_its_type_and_every_security_header),
		cmocka_unit_test(scripts_and_styles_carry_their_own_types),
		cmocka_unit_test(root_path_is_the_index_page),
		cmocka_unit_test(
		    unchanged_page_is_revalidated_with_304_and_no_body),
		cmocka_unit_test(head_gives_the_headers_without_the_body),
		cmocka_unit_test(traversal_out_of_the_folder_is_refused),
		cmocka_unit_test(
		    symlinks_dotfiles_and_other_types_are_not_served),
		cmocka_unit_test(
		    missing_page_is_html_for_a_browser_and_json_otherwise),
		cmocka_unit_test(pages_take_only_get_and_head),
		cmocka_unit_test(api_routes_are_not_shadowed_by_pages),
		cmocka_unit_test(missing_web_root_leaves_the_api_serving),
		cmocka_unit_test(
		    pages_keep_pace_on_one_kept_alive_connection),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
