/* The real twokeyd, started and driven over HTTPS for tests. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "daemon_fixture.h"
#include "token_fixture.h"

/* One SoftHSM2 token with the ceremony done, shared by every daemon. */
static struct tk_fixture_token *token;

static unsigned int
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	unsigned int port = 0;
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

void
tkd_cleanup(void)
{
	tk_fixture_token_free(&token);
}

int
tkd_write_config(struct tkd *d, const char *text)
{
	FILE *f;
	int r = 0;

	if ((f = fopen(d->conf, "w")) == NULL)
		return -1;
	if (fputs(text, f) == EOF)
		r = -1;
	if (fclose(f) != 0)
		r = -1;
	return r;
}

static const char *
settings(int seccomp)
{
	static char text[128];

	snprintf(text, sizeof(text), ",\n\"request_timeout\": %u,\n"
	    "\"signer_timeout\": %u%s", tk_fixture_ms(5000) / 1000,
	    tk_fixture_ms(5000) / 1000, seccomp &&
	    tk_fixture_under_valgrind() ? ",\n\"seccomp\": false" : "");
	return text;
}

const char *
tkd_test_settings(void)
{
	return settings(1);
}

int
tkd_init(struct tkd *d, const char *name, const char *extra)
{
	const char *tmp = getenv("TWOKEY_TEST_TMP");
	char text[8192];

	memset(d, 0, sizeof(*d));
	d->pid = -1;
	if (tmp == NULL)
		tmp = "/tmp";
	snprintf(d->dir, sizeof(d->dir), "%s/%s", tmp, name);
	if (mkdir(d->dir, 0700) != 0 && errno != EEXIST)
		return -1;
	/* The daemon drops root to "nobody", which must reach its state. */
	if (chmod(tmp, 0711) != 0 || chmod(d->dir, 0711) != 0)
		return -1;
	snprintf(d->conf, sizeof(d->conf), "%s/twokeyd.conf", d->dir);
	snprintf(d->log, sizeof(d->log), "%s/twokeyd.log", d->dir);
	snprintf(d->cert, sizeof(d->cert), "%s/state/tls/cert.pem", d->dir);
	if ((d->port = free_port()) == 0)
		return -1;
	if (token == NULL && tk_fixture_token_new(tmp, &token) != 0)
		return -1;
	snprintf(d->uri, sizeof(d->uri), "%s", token->uri);
	snprintf(d->signer, sizeof(d->signer), "%s", token->signer_path);
	snprintf(d->token_pem, sizeof(d->token_pem), "%s", token->token_pem);
	snprintf(d->audit_pem, sizeof(d->audit_pem), "%s", token->audit_pem);
	snprintf(d->root_pem, sizeof(d->root_pem), "%s", token->root_pem);
	snprintf(text, sizeof(text), "{\n\"listen\": \"127.0.0.1:%u\",\n"
	    "\"pkcs11_uri\": \"%s\",\n\"signer_path\": \"%s\",\n"
	    "\"state_dir\": \"%s/state\",\n\"user\": \"nobody\",\n"
	    "\"log_level\": \"debug\"%s%s\n}\n",
	    d->port, d->uri, d->signer, d->dir,
	    settings(strstr(extra, "\"seccomp\"") == NULL), extra);
	return tkd_write_config(d, text);
}

static pid_t
spawn(struct tkd *d, const char *arg)
{
	const char *build = getenv("TWOKEY_BUILD");
	char prog[1024];
	pid_t pid;
	int fd;

	snprintf(prog, sizeof(prog), "%s/twokeyd", build != NULL ? build :
	    "build");
	if ((pid = fork()) != 0)
		return pid;
	fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0 || dup2(fd, 2) < 0)
		_exit(127);
	if (arg != NULL)
		execl(prog, "twokeyd", arg, "-c", d->conf, (char *)NULL);
	else
		execl(prog, "twokeyd", "-c", d->conf, (char *)NULL);
	_exit(127);
}

static int
exit_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return -1;
}

int
tkd_run(struct tkd *d, const char *arg)
{
	pid_t pid = spawn(d, arg);
	int st;

	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return exit_status(st);
}

int
tkd_bootstrap(struct tkd *d, const char *list, char *out, size_t outlen)
{
	const char *build = getenv("TWOKEY_BUILD");
	char prog[1024];
	size_t len = 0;
	ssize_t got;
	pid_t pid;
	int p[2], fd, st;

	snprintf(prog, sizeof(prog), "%s/twokeyd", build != NULL ? build :
	    "build");
	if (outlen == 0 || pipe(p) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd < 0 || dup2(fd, 2) < 0 || dup2(p[1], 1) < 0)
			_exit(127);
		close(p[0]);
		execl(prog, "twokeyd", "--bootstrap", list, "-c", d->conf,
		    (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while (pid > 0 && (got = read(p[0], out + len, outlen - 1 - len)) >
	    0)
		len += (size_t)got;
	out[len] = '\0';
	close(p[0]);
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return exit_status(st);
}

int
tkd_start(struct tkd *d)
{
	struct tkd_resp r;
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	int i, st;

	if ((d->pid = spawn(d, NULL)) < 0)
		return -1;
	for (i = 0; i < (int)(tk_fixture_ms(10000) / 50); i++) {
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = -1;
			return -1;
		}
		if (access(d->cert, R_OK) == 0 &&
		    tkd_request(d, "GET", "/healthz", NULL, NULL, 0, NULL,
		    &r) == 0) {
			tkd_resp_clear(&r);
			return 0;
		}
		nanosleep(&ts, NULL);
	}
	tkd_stop(d, SIGKILL);
	return -1;
}

int
tkd_stop(struct tkd *d, int sig)
{
	int st;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, sig);
	if (waitpid(d->pid, &st, 0) != d->pid)
		return -1;
	d->pid = -1;
	return exit_status(st);
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct tkd_resp *r = arg;
	size_t len = size * n;
	char *nb;

	if ((nb = realloc(r->body, r->len + len + 1)) == NULL)
		return 0;
	memcpy(nb + r->len, p, len);
	r->len += len;
	nb[r->len] = '\0';
	r->body = nb;
	return len;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct tkd_resp *r = arg;
	size_t len = size * n, name = strlen("Set-Cookie: ");
	const char *semi;
	size_t have = strlen(r->headers);

	if (have + len < sizeof(r->headers)) {
		memcpy(r->headers + have, p, len);
		r->headers[have + len] = '\0';
	}
	if (len > name && strncasecmp(p, "Set-Cookie: ", name) == 0) {
		semi = memchr(p, ';', len);
		if (semi == NULL)
			semi = p + len;
		snprintf(r->set_cookie, sizeof(r->set_cookie), "%.*s",
		    (int)((size_t)(semi - p) - name), p + name);
		snprintf(r->set_cookie_attrs, sizeof(r->set_cookie_attrs),
		    "%.*s", (int)(p + len - semi), semi);
		r->set_cookie_attrs[strcspn(r->set_cookie_attrs, "\r\n")] =
		    '\0';
	}
	return len;
}

int
tkd_request(const struct tkd *d, const char *method, const char *path,
    const char *ctype, const char *body, size_t len,
    const char *extra_header, struct tkd_resp *out)
{
	struct curl_slist *hdrs = NULL, *resolve = NULL;
	char url[512], line[256], *ct = NULL;
	CURL *c;
	CURLcode rc = CURLE_FAILED_INIT;

	memset(out, 0, sizeof(*out));
	snprintf(url, sizeof(url), "https://localhost:%u%s", d->port, path);
	snprintf(line, sizeof(line), "localhost:%u:127.0.0.1", d->port);
	if ((c = curl_easy_init()) == NULL)
		return -1;
	resolve = curl_slist_append(resolve, line);
	snprintf(line, sizeof(line), "Content-Type:%s%s",
	    ctype != NULL ? " " : "", ctype != NULL ? ctype : "");
	hdrs = curl_slist_append(hdrs, line);
	/* No 100-continue unless asked: small bodies go out at once. */
	if (extra_header == NULL || strncmp(extra_header, "Expect:", 7) != 0)
		hdrs = curl_slist_append(hdrs, "Expect:");
	if (extra_header != NULL)
		hdrs = curl_slist_append(hdrs, extra_header);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
	/* Trust anchor: the root certificate of the key ceremony. */
	curl_easy_setopt(c, CURLOPT_CAINFO, d->root_pem);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	/* The path as the test wrote it: no "/../" squashed by curl. */
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_TIMEOUT,
	    (long)(tk_fixture_ms(20000) / 1000));
	if (d->source != NULL) {
		snprintf(line, sizeof(line), "host!%s", d->source);
		curl_easy_setopt(c, CURLOPT_INTERFACE, line);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
	if (d->cookie[0] != '\0')
		curl_easy_setopt(c, CURLOPT_COOKIE, d->cookie);
	if (d->csrf[0] != '\0') {
		snprintf(line, sizeof(line), "X-CSRF-Token: %s", d->csrf);
		hdrs = curl_slist_append(hdrs, line);
	}
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
		if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) ==
		    CURLE_OK && ct != NULL)
			snprintf(out->ctype, sizeof(out->ctype), "%s", ct);
	}
	curl_slist_free_all(hdrs);
	curl_slist_free_all(resolve);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK)
		tkd_resp_clear(out);
	return rc == CURLE_OK ? 0 : -1;
}

void
tkd_resp_clear(struct tkd_resp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

long
tkd_call(const struct tkd *d, const char *method, const char *path,
    const char *body, const char *extra_header, json_t **ans)
{
	struct tkd_resp r;
	long status;

	if (ans != NULL)
		*ans = NULL;
	if (tkd_request(d, method, path, body != NULL ? "application/json" :
	    NULL, body, body != NULL ? strlen(body) : 0, extra_header,
	    &r) != 0)
		return -1;
	status = r.status;
	if (ans != NULL)
		*ans = json_loads(r.body, 0, NULL);
	tkd_resp_clear(&r);
	return status;
}

int
tkd_log_has(const struct tkd *d, const char *needle, int ms)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	char buf[65536];
	size_t n;
	FILE *f;
	int i;

	ms = (int)tk_fixture_ms((unsigned int)ms);
	for (i = 0; i <= ms / 20; i++) {
		if ((f = fopen(d->log, "r")) != NULL) {
			n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
			buf[n] = '\0';
			if (strstr(buf, needle) != NULL)
				return 1;
		}
		if (i < ms / 20)
			nanosleep(&ts, NULL);
	}
	return 0;
}

long
tkd_metric(const struct tkd *d, const char *name)
{
	struct tkd_resp r;
	char *p, *end;
	long v = -1;
	size_t n = strlen(name);

	if (tkd_request(d, "GET", "/metrics", NULL, NULL, 0, NULL, &r) != 0)
		return -1;
	for (p = r.body; p != NULL && *p != '\0'; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (strncmp(p, name, n) == 0 && p[n] == ' ') {
			v = strtol(p + n + 1, &end, 10);
			break;
		}
	}
	tkd_resp_clear(&r);
	return v;
}

void
tkd_day(int days, char out[11])
{
	time_t t = time(NULL) + (time_t)days * 86400;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 11, "%Y-%m-%d", &tm) != 10)
		snprintf(out, 11, "1970-01-01");
}
