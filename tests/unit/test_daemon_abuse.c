/*
 * Specifications of twokeyd under abuse: the real binary on a loopback
 * port, attacked the ways a hostile client would (idle connections,
 * lock-out attempts, smuggled requests, truncated paths, key guessing),
 * each followed by a check that honest clients are still served.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "twokey/approvals.h"
#include "twokey/common.h"

#include "../lib/daemon_fixture.h"
#include "../lib/softauthn.h"

#define JSON "application/json"
#define CHALLENGE "/api/v1/session/challenge"

/* A TCP connection to the daemon from the loopback address src. */
static int
tcp_from(const struct tkd *d, const char *src)
{
	struct sockaddr_in a;
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	inet_pton(AF_INET, src, &a.sin_addr);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		goto fail;
	a.sin_port = htons((uint16_t)d->port);
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
idle_connections_from_one_address_leave_room_for_others(void **state)
{
	struct tkd d;
	struct tkd_resp r;
	int fds[12];
	size_t i;

	(void)state;
	assert_int_equal(tkd_init(&d, "slowloris", ",\n"
	    "\"max_connections\": 12,\n\"max_connections_per_address\": 3"),
	    0);
	assert_int_equal(tkd_start(&d), 0);
	/* Every slot the server has, held open without a byte of TLS. */
	for (i = 0; i < 12; i++)
		assert_true((fds[i] = tcp_from(&d, "127.0.0.1")) >= 0);
	pause_ms(300);
	d.source = "127.0.0.2";
	assert_int_equal(tkd_request(&d, "GET", "/healthz", NULL, NULL, 0,
	    NULL, &r), 0);
	assert_int_equal(r.status, 200);
	tkd_resp_clear(&r);
	d.source = NULL;
	for (i = 0; i < 12; i++)
		close(fds[i]);
	assert_int_equal(tkd_stop(&d, SIGTERM), 0);
}

/* A sign-in challenge from src: its id, and its raw value in *ch. */
static long
challenge_from(struct tkd *d, const char *src, const char *name,
    char id[64], uint8_t **ch, size_t *chlen)
{
	struct tkd_resp r;
	char body[128];
	json_t *ans;
	const char *s;
	long status;

	d->source = src;
	snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
	if (tkd_request(d, "POST", CHALLENGE, JSON, body, strlen(body),
	    NULL, &r) != 0)
		return -1;
	status = r.status;
	ans = json_loads(r.body, 0, NULL);
	tkd_resp_clear(&r);
	if (status == 200 && ch != NULL) {
		s = json_string_value(json_object_get(ans, "challenge"));
		if (s == NULL || tk_b64url_decode(s, strlen(s), ch,
		    chlen) != 0)
			status = -1;
		s = json_string_value(json_object_get(ans, "challenge_id"));
		snprintf(id, 64, "%s", s != NULL ? s : "");
	}
	json_decref(ans);
	return status;
}

static void
challenges_for_a_name_cannot_lock_its_person_out(void **state)
{
	struct tkd d;
	struct tkd_key vic;
	char src[32];
	unsigned int i;

	(void)state;
	assert_int_equal(tkd_init(&d, "lockout",
	    ",\n\"rate_limit_per_minute\": 3"), 0);
	assert_int_equal(tkd_enroll(&d, "victim", "ops", TK_ROLE_APPROVER,
	    &vic), 0);
	assert_int_equal(tkd_start(&d), 0);
	for (i = 0; i < 10; i++) {
		snprintf(src, sizeof(src), "127.0.0.%u", 10 + i);
		assert_int_equal(challenge_from(&d, src, "victim", NULL, NULL,
		    NULL), 200);
	}
	d.source = "127.0.0.30";
	assert_int_equal(tkd_signin(&d, "victim", &vic), 200);
	d.source = NULL;
	softauthn_free(&vic.sa);
	assert_int_equal(tkd_stop(&d, SIGTERM), 0);
}

/*
 * One address holds at most four live challenges: the fifth is refused
 * with 429 while another address still gets one, so a few clients
 * cannot fill the shared pool and turn every sign-in away.
 */
/* Signed in as admin, an invitation for a requester; free() it. */
static char *
invite_requester(struct tkd *d, struct tkd_key *admin)
{
	json_t *ans = NULL;
	char *inv;

	assert_int_equal(tkd_signin(d, "victim", admin), 200);
	assert_int_equal(tkd_call(d, "POST", "/api/v1/invitations",
	    "{\"name\":\"newcomer\",\"team\":\"dev\",\"roles\":"
	    "[\"requester\"]}", NULL, &ans), 201);
	inv = strdup(json_string_value(json_object_get(ans, "invitation")));
	assert_non_null(inv);
	json_decref(ans);
	return inv;
}

static void
one_address_cannot_fill_the_challenge_pool(void **state)
{
	struct tkd d;
	struct tkd_key vic;
	struct tkd_resp r;
	char body[128], *invitation;
	const char *h;
	unsigned int i;
	long limited;
	long wait;

	(void)state;
	assert_int_equal(tkd_init(&d, "pool",
	    ",\n\"rate_limit_per_minute\": 100"), 0);
	assert_int_equal(tkd_enroll(&d, "victim", "ops", TK_ROLE_APPROVER |
	    TK_ROLE_ADMIN, &vic), 0);
	assert_int_equal(tkd_start(&d), 0);
	d.source = "127.0.0.61";
	invitation = invite_requester(&d, &vic);
	for (i = 0; i < 4; i++)
		assert_int_equal(challenge_from(&d, "127.0.0.60", "victim",
		    NULL, NULL, NULL), 200);
	limited = tkd_metric(&d, "twokey_rate_limited_total");
	assert_int_equal(challenge_from(&d, "127.0.0.60", "victim", NULL,
	    NULL, NULL), 429);
	assert_int_equal(tkd_metric(&d, "twokey_rate_limited_total"),
	    limited + 1);
	/* Retry-After is when the first of them expires, not a minute. */
	d.source = "127.0.0.60";
	assert_int_equal(tkd_request(&d, "POST", "/api/v1/session/challenge",
	    "application/json", "{\"name\":\"victim\"}", 17, NULL, &r), 0);
	assert_int_equal(r.status, 429);
	assert_non_null(h = strstr(r.headers, "Retry-After: "));
	wait = strtol(h + 13, NULL, 10);
	assert_true(wait > 60 && wait <= 300);
	assert_non_null(strstr(r.body, "4 sign-in challenges are already "
	    "pending"));
	tkd_resp_clear(&r);
	/* Sign-in challenges do not hold up an invited person there. */
	snprintf(body, sizeof(body), "{\"invitation\":\"%s\"}", invitation);
	assert_int_equal(tkd_request(&d, "POST", "/api/v1/enroll/challenge",
	    "application/json", body, strlen(body), NULL, &r), 0);
	assert_int_equal(r.status, 200);
	tkd_resp_clear(&r);
	d.source = "127.0.0.61";
	assert_int_equal(tkd_signin(&d, "victim", &vic), 200);
	d.source = NULL;
	free(invitation);
	softauthn_free(&vic.sa);
	assert_int_equal(tkd_stop(&d, SIGTERM), 0);
}

/* A real assertion by key, but over another challenge than the one named. */
static long
wrong_assertion_from(struct tkd *d, const char *src, struct tkd_key *key)
{
	char id[64], other[64];
	uint8_t *ch = NULL, *ch2 = NULL;
	size_t len = 0, len2 = 0;
	struct tkd_resp r;
	json_t *req;
	char *text = NULL;
	long status = -1;

	if (challenge_from(d, src, "victim", id, &ch, &len) != 200 ||
	    challenge_from(d, src, "victim", other, &ch2, &len2) != 200)
		goto out;
	req = json_pack("{s:s}", "challenge_id", id);
	if (tkd_assert(d, key, ch2, len2, req) == 0)
		text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (text != NULL && tkd_request(d, "POST", "/api/v1/session", JSON,
	    text, strlen(text), NULL, &r) == 0) {
		status = r.status;
		tkd_resp_clear(&r);
	}
out:
	free(text);
	free(ch);
	free(ch2);
	return status;
}

static void
failed_signins_are_limited_per_person(void **state)
{
	struct tkd d;
	struct tkd_key vic;
	char src[32];
	unsigned int i;

	(void)state;
	assert_int_equal(tkd_init(&d, "signfail",
	    ",\n\"rate_limit_per_minute\": 3"), 0);
	assert_int_equal(tkd_enroll(&d, "victim", "ops", TK_ROLE_APPROVER,
	    &vic), 0);
	assert_int_equal(tkd_start(&d), 0);
	for (i = 0; i < 3; i++) {
		snprintf(src, sizeof(src), "127.0.0.%u", 40 + i);
		assert_int_equal(wrong_assertion_from(&d, src, &vic), 401);
	}
	/* A fourth failure for the same person, from a fresh address. */
	assert_int_equal(wrong_assertion_from(&d, "127.0.0.50", &vic), 429);
	d.source = NULL;
	assert_true(tkd_metric(&d, "twokey_rate_limited_total") >= 1);
	softauthn_free(&vic.sa);
	assert_int_equal(tkd_stop(&d, SIGTERM), 0);
}

/*
 * Sends raw bytes over verified TLS (the ceremony's root trusted, as
 * every test does) and reads the answer until the server closes or
 * 5 s pass. Returns the bytes read into out (NUL-terminated), and in
 * *closed whether the server closed the connection.
 */
static size_t
raw_exchange(const struct tkd *d, const char *raw, char *out, size_t cap,
    int *closed)
{
	struct curl_slist *res = NULL;
	char url[64], line[96];
	struct pollfd pfd;
	curl_socket_t fd = CURL_SOCKET_BAD;
	size_t got = 0, n, sent = 0;
	CURLcode rc;
	CURL *c;
	int waited = 0;

	*closed = 0;
	out[0] = '\0';
	snprintf(url, sizeof(url), "https://localhost:%u/", d->port);
	snprintf(line, sizeof(line), "localhost:%u:127.0.0.1", d->port);
	res = curl_slist_append(res, line);
	if ((c = curl_easy_init()) == NULL)
		goto out;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_RESOLVE, res);
	curl_easy_setopt(c, CURLOPT_CAINFO, d->root_pem);
	curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
	if (curl_easy_perform(c) != CURLE_OK ||
	    curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK)
		goto out;
	while (sent < strlen(raw)) {
		rc = curl_easy_send(c, raw + sent, strlen(raw) - sent, &n);
		if (rc != CURLE_OK && rc != CURLE_AGAIN)
			goto out;
		sent += rc == CURLE_OK ? n : 0;
	}
	while (got + 1 < cap && waited < 50) {
		rc = curl_easy_recv(c, out + got, cap - 1 - got, &n);
		if (rc == CURLE_AGAIN) {
			pfd.fd = fd;
			pfd.events = POLLIN;
			if (poll(&pfd, 1, 100) == 0)
				waited++;
			continue;
		}
		if (rc != CURLE_OK || n == 0) {
			*closed = 1;
			break;
		}
		got += n;
		out[got] = '\0';
	}
out:
	curl_easy_cleanup(c);
	curl_slist_free_all(res);
	return got;
}

static size_t
count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static void
expect_ambiguous(const struct tkd *d, const char *raw)
{
	char buf[8192];
	int closed;

	raw_exchange(d, raw, buf, sizeof(buf), &closed);
	if (strncmp(buf, "HTTP/1.1 400 ", 13) != 0)
		fail_msg("answer: %.200s", buf);
	assert_non_null(strstr(buf, "\"code\":\"ambiguous_length\""));
	assert_non_null(strcasestr(buf, "\r\nConnection: close\r\n"));
	assert_int_equal(count_of(buf, "HTTP/1.1 "), 1);
	assert_true(closed);
}

#define SMUGGLED "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"

static void
smuggled_request_framing_is_refused_and_closed(void **state)
{
	struct tkd d;
	char raw[1024], buf[8192];
	int closed;
	const char *body = "{\"name\":\"bob\"}";

	(void)state;
	assert_int_equal(tkd_init(&d, "smuggle", ""), 0);
	assert_int_equal(tkd_start(&d), 0);
	/* Two lengths: the first covers the body, the second the rest. */
	snprintf(raw, sizeof(raw), "POST " CHALLENGE " HTTP/1.1\r\n"
	    "Host: localhost\r\nContent-Type: " JSON "\r\n"
	    "Content-Length: %zu\r\nContent-Length: %zu\r\n\r\n%s"
	    SMUGGLED, strlen(body), strlen(body) + strlen(SMUGGLED), body);
	expect_ambiguous(&d, raw);
	/* A length and chunked framing together. */
	snprintf(raw, sizeof(raw), "POST " CHALLENGE " HTTP/1.1\r\n"
	    "Host: localhost\r\nContent-Type: " JSON "\r\n"
	    "Content-Length: %zu\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "%zx\r\n%s\r\n0\r\n\r\n" SMUGGLED, strlen(body) + 5,
	    strlen(body), body);
	expect_ambiguous(&d, raw);
	/* A coding other than chunked: refused, not waited on. */
	snprintf(raw, sizeof(raw), "POST " CHALLENGE " HTTP/1.1\r\n"
	    "Host: localhost\r\nContent-Type: " JSON "\r\n"
	    "Transfer-Encoding: gzip\r\n\r\n%s", body);
	expect_ambiguous(&d, raw);
	/* No Host, or two: refused, as HTTP/1.1 asks. */
	raw_exchange(&d, "GET /healthz HTTP/1.1\r\nConnection: close\r\n"
	    "\r\n", buf, sizeof(buf), &closed);
	assert_int_equal(strncmp(buf, "HTTP/1.1 400 ", 13), 0);
	assert_non_null(strstr(buf, "\"code\":\"bad_host\""));
	raw_exchange(&d, "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n"
	    "Connection: close\r\n\r\n", buf, sizeof(buf), &closed);
	assert_int_equal(strncmp(buf, "HTTP/1.1 400 ", 13), 0);
	/* Any version after 1.0 asks for it; 1.0 may go without. */
	raw_exchange(&d, "GET /healthz HTTP/1.2\r\nConnection: close\r\n"
	    "\r\n", buf, sizeof(buf), &closed);
	assert_non_null(strstr(buf, "\"code\":\"bad_host\""));
	raw_exchange(&d, "GET /healthz HTTP/1.0\r\n\r\n", buf, sizeof(buf),
	    &closed);
	assert_int_equal(strncmp(buf + 8, " 200 ", 5), 0);
	assert_int_equal(tkd_stop(&d, SIGTERM), 0);
}

/* The status of a raw GET of path with the header lines extra. */
static int
raw_status(const struct tkd *d, const char *path, const char *extra)
{
	char raw[1024], buf[8192];
	int closed;

	snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\nHost: localhost\r\n"
	    "%sConnection: close\r\n\r\n", path, extra);
	raw_exchange(d, raw, buf, sizeof(buf), &closed);
	return strncmp(buf, "HTTP/1.1 ", 9) == 0 ? (int)strtol(buf + 9, NULL,
	    10) : -1;
}

/* Two Cookie or Authorization headers: a proxy might pass either. */
static void
two_credentials_in_one_request_sign_in_no_one(void **state)
{
	struct tkd d;
	struct tkd_key olga;
	char one[512], two[1024];
	json_t *ans = NULL;

	(void)state;
	assert_int_equal(tkd_init(&d, "twice", ""), 0);
	assert_int_equal(tkd_enroll(&d, "olga", "it", TK_ROLE_ADMIN, &olga),
	    0);
	assert_int_equal(tkd_start(&d), 0);
	assert_int_equal(tkd_signin(&d, "olga", &olga), 200);
	snprintf(one, sizeof(one), "Cookie: %s\r\n", d.cookie);
	assert_int_equal(raw_status(&d, "/api/v1/session", one), 200);
	snprintf(two, sizeof(two), "%sCookie: a=b\r\n", one);
	assert_int_equal(raw_status(&d, "/api/v1/session", two), 401);
	assert_int_equal(tkd_call(&d, "POST", "/api/v1/api-keys", "{\"name\":"
	    "\"ci\",\"scopes\":[\"requests:read\"]}", NULL, &ans), 201);
	snprintf(one, sizeof(one), "Authorization: Bearer %s\r\n",
	    json_string_value(json_object_get(ans, "key")));
	json_decref(ans);
	assert_int_equal(raw_status(&d, "/api/v1/requests", one), 200);
	snprintf(two, sizeof(two), "%sAuthorization: Bearer nope\r\n", one);
	assert_int_equal(raw_status(&d, "/api/v1/requests", two), 401);
	softauthn_free(&olga.sa);
	assert_int_equal(tkd_stop(&d, SIGTERM), 0);
}

/* Sent raw: libcurl would resolve the dot segments itself. */
static void
expect_bad_path(const struct tkd *d, const char *path)
{
	char raw[512], buf[8192];
	int closed;

	snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\n\r\n", path);
	raw_exchange(d, raw, buf, sizeof(buf), &closed);
	if (strncmp(buf, "HTTP/1.1 400 ", 13) != 0 ||
	    strstr(buf, "\"code\":\"bad_path\"") == NULL)
		fail_msg("%s: %.300s", path, buf);
}

static void
nul_in_the_path_is_refused(void **state)
{
	struct tkd d;
	struct tkd_resp r;

	(void)state;
	assert_int_equal(tkd_init(&d, "nulpath", ""), 0);
	assert_int_equal(tkd_start(&d), 0);
	expect_bad_path(&d, "/healthz%00");
	expect_bad_path(&d, "/jwks%00../../etc");
	expect_bad_path(&d, "/.well-known/jwks.json%00x");
	/* An escaped path without NUL still routes. */
	assert_int_equal(tkd_request(&d, "GET", "/health%7a", NULL, NULL, 0,
	    NULL, &r), 0);
	assert_int_equal(r.status, 200);
	tkd_resp_clear(&r);
	assert_int_equal(tkd_stop(&d, SIGTERM), 0);
}

/* One raw request with Connection: close; the whole answer in buf. */
static void
raw_get(const struct tkd *d, const char *method, const char *path,
    const char *header, char *buf, size_t cap)
{
	char raw[512];
	int closed;

	snprintf(raw, sizeof(raw), "%s %s HTTP/1.1\r\nHost: localhost\r\n"
	    "%s%sConnection: close\r\n\r\n", method, path,
	    header != NULL ? header : "", header != NULL ? "\r\n" : "");
	raw_exchange(d, raw, buf, cap, &closed);
}

#define BEARER "Authorization: Bearer tk_not_a_key_0123456789"

static void
api_key_guessing_is_limited_per_address(void **state)
{
	struct tkd d;
	char buf[8192];
	unsigned int i;

	(void)state;
	assert_int_equal(tkd_init(&d, "keyguess",
	    ",\n\"rate_limit_per_minute\": 3"), 0);
	assert_int_equal(tkd_start(&d), 0);
	for (i = 0; i < 3; i++) {
		raw_get(&d, "GET", "/api/v1/requests", BEARER, buf,
		    sizeof(buf));
		if (strncmp(buf, "HTTP/1.1 401 ", 13) != 0)
			fail_msg("guess %u: %.200s", i, buf);
		assert_non_null(strcasestr(buf, "\r\nWWW-Authenticate: "
		    "Bearer "));
	}
	raw_get(&d, "GET", "/api/v1/requests", BEARER, buf, sizeof(buf));
	if (strncmp(buf, "HTTP/1.1 429 ", 13) != 0)
		fail_msg("fourth guess: %.200s", buf);
	assert_non_null(strstr(buf, "\"code\":\"rate_limited\""));
	assert_non_null(strcasestr(buf, "\r\nRetry-After: "));
	assert_true(tkd_metric(&d, "twokey_rate_limited_total") >= 1);
	assert_int_equal(tkd_stop(&d, SIGTERM), 0);
}

static void
wrong_method_names_the_allowed_ones(void **state)
{
	struct tkd d;
	char buf[8192];

	(void)state;
	assert_int_equal(tkd_init(&d, "allow", ""), 0);
	assert_int_equal(tkd_start(&d), 0);
	raw_get(&d, "DELETE", "/healthz", NULL, buf, sizeof(buf));
	assert_int_equal(strncmp(buf, "HTTP/1.1 405 ", 13), 0);
	assert_non_null(strcasestr(buf, "\r\nAllow: GET, HEAD\r\n"));
	raw_get(&d, "GET", "/api/v1/api-keys/abc", NULL, buf, sizeof(buf));
	assert_int_equal(strncmp(buf, "HTTP/1.1 405 ", 13), 0);
	assert_non_null(strcasestr(buf, "\r\nAllow: DELETE\r\n"));
	assert_int_equal(tkd_stop(&d, SIGTERM), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    idle_connections_from_one_address_leave_room_for_others),
		cmocka_unit_test(
		    challenges_for_a_name_cannot_lock_its_person_out),
		cmocka_unit_test(failed_signins_are_limited_per_person),
		cmocka_unit_test(
		    smuggled_request_framing_is_refused_and_closed),
		cmocka_unit_test(nul_in_the_path_is_refused),
		cmocka_unit_test(two_credentials_in_one_request_sign_in_no_one),
		cmocka_unit_test(one_address_cannot_fill_the_challenge_pool),
		cmocka_unit_test(api_key_guessing_is_limited_per_address),
		cmocka_unit_test(wrong_method_names_the_allowed_ones),
	};
	int r;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	tkd_cleanup();
	curl_global_cleanup();
	return r;
}
