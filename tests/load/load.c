/*
 * twokey-load: the real twokeyd on loopback, driven by wrk.
 *
 *   twokey-load soak   SOAK_SECONDS (default 60) of valid and invalid
 *                      requests at once (tests/load/valid.lua and
 *                      invalid.lua), while this program files requests
 *                      and approves them through the API, in two equal
 *                      halves. Fails unless: no valid request got an
 *                      error (non-2xx or transport), no invalid request
 *                      got 2xx or 5xx, twokeyd's VmRSS at the end is
 *                      within max(1 MiB, 5 %) of its VmRSS after the
 *                      first half (flat), and the journal export
 *                      verifies with twokey-verify.
 *   twokey-load bench  BENCH_SECONDS (default 10) per run of wrk: a
 *                      read route and a static file of the same server,
 *                      in three equal rounds, RSS idle and after each
 *                      round; then the approval route, driven from here
 *                      (wrk cannot make a fresh assertion per request),
 *                      votes one after another.
 *
 * Needs TWOKEY_TOP, TWOKEY_BUILD, TWOKEY_TEST_TMP (tests/load/run-load.sh
 * sets them) and wrk. Exit 77 when wrk is missing.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "../lib/daemon_fixture.h"
#include "../lib/softauthn.h"

#define ELEVATION "{\"kind\":\"elevation\",\"service_account\":\"sa-1\"," \
	"\"connector\":\"salesforce\",\"scopes\":[\"read:accounts\"]," \
	"\"duration\":600,\"reason\":\"load\"}"

/* Between grants in the soak: about 3 a second, 800 calls a minute. */
#define SOAK_GRANT_PAUSE_US 300000

/* A page of web/www, served from memory. */
#define STATIC_PATH "/style.css"

static struct tkd d;
/* One session each: the struct carries the cookie and CSRF token. */
static struct tkd rs, as, bs;
static struct tkd_key rita, alice, bob, carol;

struct wrk_out {
	double rps;
	double p50_ms, p99_ms;
	long requests;
	long non2xx;
	long sock_errors;
	long server_errors, accepted;	/* invalid.lua's counts */
	char text[8192];
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A "Name:  N kB" line of /proc/pid/status, in KiB, or -1. */
static long
status_kib(pid_t pid, const char *name)
{
	char path[64], line[256];
	size_t n = strlen(name);
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, name, n) == 0 && line[n] == ':')
			kib = strtol(line + n + 1, NULL, 10);
	fclose(f);
	return kib;
}

static long
rss_kib(pid_t pid)
{
	return status_kib(pid, "VmRSS");
}

/* A wrk latency figure ("812.00us", "1.20ms", "2.00s") in ms. */
static double
to_ms(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (strncmp(end, "us", 2) == 0)
		return v / 1000.0;
	if (strncmp(end, "ms", 2) == 0)
		return v;
	if (*end == 's')
		return v * 1000.0;
	return v;
}

static void
wrk_parse(struct wrk_out *w)
{
	const char *p;
	long c = 0, r = 0, wr = 0, t = 0;

	if ((p = strstr(w->text, "Requests/sec:")) != NULL)
		w->rps = strtod(p + 13, NULL);
	if ((p = strstr(w->text, " requests in ")) != NULL) {
		while (p > w->text && p[-1] != '\n' && p[-1] != ' ')
			p--;
		w->requests = strtol(p, NULL, 10);
	}
	if ((p = strstr(w->text, "Non-2xx or 3xx responses:")) != NULL)
		w->non2xx = strtol(p + 26, NULL, 10);
	if ((p = strstr(w->text, "Socket errors:")) != NULL &&
	    sscanf(p, "Socket errors: connect %ld, read %ld, write %ld, "
	    "timeout %ld", &c, &r, &wr, &t) == 4)
		w->sock_errors = c + r + wr + t;
	if ((p = strstr(w->text, " 50% ")) != NULL)
		w->p50_ms = to_ms(p + 5 + strspn(p + 5, " "));
	if ((p = strstr(w->text, " 99% ")) != NULL)
		w->p99_ms = to_ms(p + 5 + strspn(p + 5, " "));
	if ((p = strstr(w->text, "invalid: server_errors")) != NULL)
		(void)sscanf(p, "invalid: server_errors %ld accepted %ld",
		    &w->server_errors, &w->accepted);
}

/* Starts wrk on path for secs with script (NULL: none); output to fd. */
static pid_t
wrk_start(const char *path, const char *script, unsigned int secs,
    unsigned int conns, int fd)
{
	char url[256], dur[32], c[16], s[1024];
	const char *top = getenv("TWOKEY_TOP");
	pid_t pid;

	snprintf(url, sizeof(url), "https://127.0.0.1:%u%s", d.port, path);
	snprintf(dur, sizeof(dur), "%us", secs);
	snprintf(c, sizeof(c), "%u", conns);
	if (script != NULL)
		snprintf(s, sizeof(s), "%s/tests/load/%s", top != NULL ? top :
		    ".", script);
	if ((pid = fork()) != 0)
		return pid;
	if (dup2(fd, 1) < 0)
		_exit(127);
	if (script != NULL)
		execlp("wrk", "wrk", "-t1", "-c", c, "-d", dur, "--latency",
		    "-s", s, url, (char *)NULL);
	else
		execlp("wrk", "wrk", "-t1", "-c", c, "-d", dur, "--latency",
		    url, (char *)NULL);
	_exit(127);
}

static int
wrk_finish(pid_t pid, FILE *f, struct wrk_out *w)
{
	size_t n;
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		return -1;
	rewind(f);
	n = fread(w->text, 1, sizeof(w->text) - 1, f);
	w->text[n] = '\0';
	wrk_parse(w);
	return 0;
}

static int
wrk_run(const char *path, const char *script, unsigned int secs,
    unsigned int conns, struct wrk_out *w)
{
	FILE *f = tmpfile();
	pid_t pid;
	int r;

	memset(w, 0, sizeof(*w));
	if (f == NULL)
		return -1;
	pid = wrk_start(path, script, secs, conns, fileno(f));
	r = pid > 0 ? wrk_finish(pid, f, w) : -1;
	fclose(f);
	return r;
}

/* Challenge for decision on id as s, signed by key, and the vote. */
static long
api_vote(struct tkd *s, struct tkd_key *key, int64_t id, double *ms)
{
	char path[128], *body;
	json_t *ans = NULL, *req;
	uint8_t *ch = NULL;
	size_t len = 0;
	const char *c;
	long st;
	double t0;

	snprintf(path, sizeof(path), "/api/v1/requests/%lld/challenge",
	    (long long)id);
	st = tkd_call(s, "POST", path, "{\"decision\":\"approve\"}", NULL,
	    &ans);
	c = json_string_value(json_object_get(ans, "challenge"));
	if (st != 200 || c == NULL ||
	    tk_b64url_decode(c, strlen(c), &ch, &len) != 0) {
		json_decref(ans);
		return st == 200 ? -1 : st;
	}
	json_decref(ans);
	req = json_object();
	if (tkd_assert(s, key, ch, len, req) != 0 ||
	    (body = json_dumps(req, JSON_COMPACT)) == NULL) {
		free(ch);
		json_decref(req);
		return -1;
	}
	free(ch);
	json_decref(req);
	snprintf(path, sizeof(path), "/api/v1/requests/%lld/votes",
	    (long long)id);
	t0 = now_s();
	st = tkd_call(s, "POST", path, body, NULL, NULL);
	if (ms != NULL)
		*ms = (now_s() - t0) * 1000.0;
	free(body);
	return st;
}

/*
 * Files a request as rita; alice and bob approve. 0 when granted, else
 * the first HTTP status that was not the expected one (-1: no answer).
 */
static long
one_grant(double *ms1, double *ms2)
{
	json_t *ans = NULL;
	int64_t id;
	long st;

	st = tkd_call(&rs, "POST", "/api/v1/requests", ELEVATION, NULL,
	    &ans);
	id = (int64_t)json_integer_value(json_object_get(ans, "id"));
	json_decref(ans);
	if (st != 201)
		return st;
	if ((st = api_vote(&as, &alice, id, ms1)) != 200 ||
	    (st = api_vote(&bs, &bob, id, ms2)) != 200)
		return st;
	return 0;
}

static int
start(void)
{
	const char *top = getenv("TWOKEY_TOP");
	char extra[1024];

	/* The approver pages of the source tree, for the static file. */
	snprintf(extra, sizeof(extra), ",\n\"rate_limit_per_minute\": "
	    "1000,\n\"max_connections\": 256,\n"
	    "\"max_connections_per_address\": 256,\n"
	    "\"web_root\": \"%s/web/www\"", top != NULL ? top : ".");
	if (tkd_init(&d, "load", extra) != 0 ||
	    tkd_enroll(&d, "rita", "dev", TK_ROLE_REQUESTER, &rita) != 0 ||
	    tkd_enroll(&d, "alice", "ops", TK_ROLE_APPROVER, &alice) != 0 ||
	    tkd_enroll(&d, "bob", "sec", TK_ROLE_APPROVER, &bob) != 0 ||
	    tkd_enroll(&d, "carol", "aud", TK_ROLE_AUDITOR, &carol) != 0 ||
	    tkd_start(&d) != 0) {
		fprintf(stderr, "load: twokeyd did not start (log: %s)\n",
		    d.log);
		return -1;
	}
	rs = as = bs = d;
	if (tkd_signin(&rs, "rita", &rita) != 200 ||
	    tkd_signin(&as, "alice", &alice) != 200 ||
	    tkd_signin(&bs, "bob", &bob) != 200) {
		fprintf(stderr, "load: sign-in failed\n");
		return -1;
	}
	return 0;
}

static int
untar(const char *tar, size_t len, const char *dir)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char path[1024];
	int r = 0;

	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, tar, len) != ARCHIVE_OK)
		r = -1;
	while (r == 0 && archive_read_next_header(a, &e) == ARCHIVE_OK) {
		snprintf(path, sizeof(path), "%s/%s", dir,
		    archive_entry_pathname(e));
		archive_entry_set_pathname(e, path);
		if (archive_read_extract(a, e, 0) != ARCHIVE_OK)
			r = -1;
	}
	archive_read_free(a);
	return r;
}

/* Exports the journal as the auditor and runs twokey-verify on it. */
static int
export_verifies(void)
{
	struct tkd cs = d;
	struct tkd_resp r;
	char dir[700], jdir[800], prog[1024], out[800];
	pid_t pid;
	int st;

	if (tkd_signin(&cs, "carol", &carol) != 200 ||
	    tkd_request(&cs, "GET", "/api/v1/journal/export", NULL, NULL, 0,
	    NULL, &r) != 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/export", d.dir);
	if (r.status != 200 || mkdir(dir, 0700) != 0 ||
	    untar(r.body, r.len, dir) != 0) {
		tkd_resp_clear(&r);
		return -1;
	}
	tkd_resp_clear(&r);
	snprintf(jdir, sizeof(jdir), "%s/journal", dir);
	snprintf(prog, sizeof(prog), "%s/twokey-verify",
	    getenv("TWOKEY_BUILD"));
	snprintf(out, sizeof(out), "%s/verify.txt", d.dir);
	if ((pid = fork()) == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(127);
		execl(prog, "twokey-verify", "log", jdir, "--root",
		    d.root_pem, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static unsigned int
env_secs(const char *name, unsigned int dflt)
{
	const char *v = getenv(name);
	unsigned long n;

	if (v == NULL || (n = strtoul(v, NULL, 10)) == 0 || n > 86400)
		return dflt;
	return (unsigned int)n;
}

/* One half of the soak: both wrk streams, and grants meanwhile. */
static int
soak_half(unsigned int secs, struct wrk_out *v, struct wrk_out *bad,
    unsigned int *grants)
{
	FILE *fv = tmpfile(), *fb = tmpfile();
	pid_t pv, pb;
	double end = now_s() + secs;
	long st;
	int r = -1;

	memset(v, 0, sizeof(*v));
	memset(bad, 0, sizeof(*bad));
	if (fv == NULL || fb == NULL)
		goto out;
	pv = wrk_start("/", "valid.lua", secs, 8, fileno(fv));
	pb = wrk_start("/", "invalid.lua", secs, 8, fileno(fb));
	while (now_s() < end - 0.5) {
		if ((st = one_grant(NULL, NULL)) != 0) {
			fprintf(stderr, "soak: a grant through the API "
			    "failed under load (HTTP %ld)\n", st);
			goto wait;
		}
		(*grants)++;
		/*
		 * Paced under the approval rate limit (1,000 challenges and
		 * votes a minute from one address at most): a 429 here would
		 * be the limit working, not a failure under load.
		 */
		usleep(SOAK_GRANT_PAUSE_US);
	}
	r = 0;
wait:
	if (wrk_finish(pv, fv, v) != 0 || wrk_finish(pb, fb, bad) != 0)
		r = -1;
out:
	if (fv != NULL)
		fclose(fv);
	if (fb != NULL)
		fclose(fb);
	return r;
}

static int
soak(void)
{
	unsigned int secs = env_secs("SOAK_SECONDS", 60), grants = 0;
	struct wrk_out v[2], bad[2];
	long rss[3], slack;
	int i, fail = 0;

	rss[0] = rss_kib(d.pid);
	for (i = 0; i < 2; i++) {
		if (soak_half(secs / 2, &v[i], &bad[i], &grants) != 0)
			return 1;
		rss[i + 1] = rss_kib(d.pid);
		printf("half %d: valid %ld requests (%.0f/s), %ld non-2xx, "
		    "%ld transport errors; invalid %ld requests, %ld 5xx, "
		    "%ld 2xx; VmRSS %ld KiB\n", i + 1, v[i].requests,
		    v[i].rps, v[i].non2xx, v[i].sock_errors,
		    bad[i].requests, bad[i].server_errors, bad[i].accepted,
		    rss[i + 1]);
		if (v[i].requests == 0 || v[i].non2xx != 0 ||
		    v[i].sock_errors != 0) {
			fprintf(stderr, "soak: valid requests failed:\n%s",
			    v[i].text);
			fail = 1;
		}
		if (bad[i].requests == 0 || bad[i].server_errors != 0 ||
		    bad[i].accepted != 0) {
			fprintf(stderr, "soak: invalid requests:\n%s",
			    bad[i].text);
			fail = 1;
		}
	}
	slack = rss[1] / 20 > 1024 ? rss[1] / 20 : 1024;
	printf("grants through the API meanwhile: %u; VmRSS idle %ld KiB, "
	    "after half 1 %ld KiB, after half 2 %ld KiB (flat: growth <= "
	    "%ld KiB)\n", grants, rss[0], rss[1], rss[2], slack);
	if (rss[2] - rss[1] > slack) {
		fprintf(stderr, "soak: resident memory grew\n");
		fail = 1;
	}
	if (export_verifies() != 0) {
		fprintf(stderr, "soak: the journal export does not verify\n");
		fail = 1;
	} else
		printf("journal export verifies with twokey-verify\n");
	return fail;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Votes one after another: rate and latency of POST .../votes. */
static int
bench_votes(unsigned int n)
{
	double *ms = calloc(2 * (size_t)n, sizeof(double)), t0, t;
	unsigned int i;

	if (ms == NULL)
		return -1;
	t0 = now_s();
	for (i = 0; i < n; i++)
		if (one_grant(&ms[2 * i], &ms[2 * i + 1]) != 0) {
			free(ms);
			return -1;
		}
	t = now_s() - t0;
	qsort(ms, 2 * (size_t)n, sizeof(double), cmp_double);
	printf("approval route (POST /api/v1/requests/{id}/votes, fresh "
	    "assertions, one client, each vote journaled): %u votes, "
	    "p50 %.2f ms, p99 %.2f ms; %.1f grants/s with filing and "
	    "challenges\n", 2 * n, ms[n], ms[(2 * n * 99) / 100],
	    (double)n / t);
	free(ms);
	return 0;
}

static int
bench(void)
{
	unsigned int secs = env_secs("BENCH_SECONDS", 10);
	struct wrk_out w[3], st[3];
	long idle, rss[3], anon[3];
	int i;

	idle = rss_kib(d.pid);
	printf("twokeyd VmRSS idle: %ld KiB (target < 16384): RssAnon %ld, "
	    "RssFile %ld (shared library pages)\n", idle,
	    status_kib(d.pid, "RssAnon"), status_kib(d.pid, "RssFile"));
	/*
	 * Three equal rounds: the first also touches, once, what a worker
	 * thread keeps (its stack, its malloc arena), so growth is judged
	 * between the second and the third.
	 */
	for (i = 0; i < 3; i++) {
		if (wrk_run("/api/v1/journal/checkpoint", NULL, secs, 8,
		    &w[i]) != 0 || w[i].non2xx != 0)
			return 1;
		if (wrk_run(STATIC_PATH, NULL, secs, 8, &st[i]) != 0 ||
		    st[i].non2xx != 0)
			return 1;
		if (getenv("LOAD_VERBOSE") != NULL)
			printf("%s%s", w[i].text, st[i].text);
		rss[i] = rss_kib(d.pid);
		anon[i] = status_kib(d.pid, "RssAnon");
		printf("round %d: wrk 8 connections keep-alive, %u s each: "
		    "GET /api/v1/journal/checkpoint %.0f req/s (p50 %.2f ms, "
		    "p99 %.2f ms); static GET " STATIC_PATH " %.0f req/s (p50 "
		    "%.2f ms, p99 %.2f ms); read/static %.2f (target >= "
		    "0.5); VmRSS %ld KiB\n", i + 1, secs, w[i].rps,
		    w[i].p50_ms, w[i].p99_ms, st[i].rps, st[i].p50_ms,
		    st[i].p99_ms, st[i].rps > 0 ? w[i].rps / st[i].rps : 0.0,
		    rss[i]);
	}
	printf("VmRSS growth round 1 -> round 2: %ld KiB (%.1f %%); round 2 "
	    "-> round 3: %ld KiB (%.1f %%)\n", rss[1] - rss[0],
	    100.0 * (double)(rss[1] - rss[0]) / (double)rss[0],
	    rss[2] - rss[1], 100.0 * (double)(rss[2] - rss[1]) /
	    (double)rss[1]);
	/* The heap apart from library pages touched for the first time. */
	printf("RssAnon after each round: %ld, %ld, %ld KiB; round 2 -> "
	    "round 3: %ld KiB\n", anon[0], anon[1], anon[2],
	    anon[2] - anon[1]);
	return bench_votes(env_secs("BENCH_VOTES", 50)) != 0;
}

int
main(int argc, char **argv)
{
	int r;

	if (argc != 2 || (strcmp(argv[1], "soak") != 0 &&
	    strcmp(argv[1], "bench") != 0)) {
		fprintf(stderr, "usage: twokey-load soak|bench\n");
		return 2;
	}
	if (access("/usr/bin/wrk", X_OK) != 0) {
		fprintf(stderr, "load: wrk is missing "
		    "(deploy/install-deps.sh installs it)\n");
		return 77;
	}
	tk_log_set_level(TK_LOG_ERROR);
	if (start() != 0) {
		tkd_stop(&d, SIGKILL);
		return 1;
	}
	r = strcmp(argv[1], "soak") == 0 ? soak() : bench();
	if (tkd_stop(&d, SIGTERM) != 0) {
		fprintf(stderr, "load: twokeyd did not stop cleanly\n");
		r = 1;
	}
	tkd_cleanup();
	softauthn_free(&rita.sa);
	softauthn_free(&alice.sa);
	softauthn_free(&bob.sa);
	softauthn_free(&carol.sa);
	return r;
}
