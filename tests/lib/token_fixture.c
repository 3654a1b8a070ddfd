/* See token_fixture.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "twokey/hsm.h"
#include "twokey/hsm_ceremony.h"
#include "token_fixture.h"

static char *
join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *s = malloc(n);

	if (s != NULL)
		snprintf(s, n, "%s/%s", a, b);
	return s;
}

/* Runs argv, returns its first stdout line (malloc'd) or NULL. */
static char *
run_line(char *const argv[])
{
	char buf[4096];
	size_t got = 0;
	int fds[2], st = 0;
	pid_t pid;
	ssize_t n;

	if (pipe(fds) != 0)
		return NULL;
	if ((pid = fork()) == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	while (pid > 0 && got < sizeof(buf) - 1 &&
	    ((n = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0 ||
	    (n < 0 && errno == EINTR)))
		got += n > 0 ? (size_t)n : 0;
	close(fds[0]);
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		return NULL;
	buf[got] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return got > 0 ? strdup(buf) : NULL;
}

static int
fail(const char *what)
{
	fprintf(stderr, "token fixture: %s\n", what);
	return -1;
}

/* module-path as printed by the script (the path needs no escapes). */
static int
module_of(struct tk_fixture_token *fx)
{
	const char *m = strstr(fx->uri, "?module-path=");

	if (m == NULL)
		return fail("no module-path in the URI");
	m += 13;
	if ((fx->module_path = strndup(m, strcspn(m, "&"))) == NULL)
		return fail("out of memory");
	if (strchr(fx->module_path, '%') != NULL)
		return fail("escaped module path");
	return 0;
}

static int
setup(struct tk_fixture_token *fx, const char *tmpdir, const char *label)
{
	const char *top = getenv("TWOKEY_TOP"), *build = getenv("TWOKEY_BUILD");
	char *script, *argv[5];

	if (tmpdir == NULL || top == NULL || build == NULL)
		return fail("needs TWOKEY_TEST_TMP, TWOKEY_TOP, TWOKEY_BUILD");
	if ((fx->label = strdup(label)) == NULL ||
	    (fx->dir = join(tmpdir, "softhsm")) == NULL ||
	    (fx->conf = join(fx->dir, "softhsm2.conf")) == NULL ||
	    (fx->user_pin_file = join(fx->dir, "user.pin")) == NULL ||
	    (fx->signer_path = join(build, "twokey-signer")) == NULL)
		return fail("out of memory");
	if ((script = join(top, "deploy/softhsm-setup.sh")) == NULL)
		return fail("out of memory");
	argv[0] = (char *)(uintptr_t)"/bin/sh";
	argv[1] = script;
	argv[2] = fx->dir;
	argv[3] = fx->label;
	argv[4] = NULL;
	fx->uri = run_line(argv);
	free(script);
	if (fx->uri == NULL)
		return fail("deploy/softhsm-setup.sh failed");
	if (setenv("SOFTHSM2_CONF", fx->conf, 1) != 0)
		return fail("setenv");
	return module_of(fx);
}

static int
out_paths(struct tk_fixture_token *fx)
{
	char name[64];

	snprintf(name, sizeof(name), "out-%s", fx->label);
	if ((fx->out_dir = join(fx->dir, name)) == NULL ||
	    (fx->root_pem = join(fx->out_dir, "root.pem")) == NULL ||
	    (fx->audit_pem = join(fx->out_dir, "audit.pem")) == NULL ||
	    (fx->token_pem = join(fx->out_dir, "token.pem")) == NULL ||
	    (fx->fingerprint_txt = join(fx->out_dir,
	    "root-fingerprint.txt")) == NULL)
		return fail("out of memory");
	return 0;
}

int
tk_fixture_token_new_empty(const char *tmpdir, const char *label,
    struct tk_fixture_token **out)
{
	struct tk_fixture_token *fx;

	*out = NULL;
	if ((fx = calloc(1, sizeof(*fx))) == NULL)
		return fail("out of memory");
	if (setup(fx, tmpdir, label) != 0 || out_paths(fx) != 0) {
		tk_fixture_token_free(&fx);
		return -1;
	}
	*out = fx;
	return 0;
}

int
tk_fixture_token_ceremony(struct tk_fixture_token *fx)
{
	return tk_ceremony_spawn(fx->signer_path, fx->uri, fx->out_dir);
}

int
tk_fixture_token_new(const char *tmpdir, struct tk_fixture_token **out)
{
	struct tk_fixture_token *fx = NULL;
	int r;

	*out = NULL;
	if (tk_fixture_token_new_empty(tmpdir, "twokey", &fx) != 0)
		return -1;
	if ((r = tk_fixture_token_ceremony(fx)) != 0) {
		fprintf(stderr, "token fixture: ceremony: %s\n",
		    tk_hsm_strerror(r));
		tk_fixture_token_free(&fx);
		return -1;
	}
	*out = fx;
	return 0;
}

unsigned int
tk_fixture_ms(unsigned int ms)
{
	const char *v = getenv("TWOKEY_TEST_TIMEOUT_SCALE");
	unsigned long scale;
	char *end;

	if (v == NULL || *v == '\0')
		return ms;
	scale = strtoul(v, &end, 10);
	if (*end != '\0' || scale < 1 || scale > 1000)
		return ms;
	return ms > 0xffffffffUL / scale ? 0xffffffffU :
	    (unsigned int)(ms * scale);
}

int
tk_fixture_under_valgrind(void)
{
	const char *v = getenv("TWOKEY_VALGRIND");

	return v != NULL && *v != '\0';
}

void
tk_fixture_note(const char *fmt, ...)
{
	va_list ap;

	fputs("[   NOTE   ] ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

int
tk_fixture_signer_start(const struct tk_fixture_token *fx,
    unsigned int timeout_ms, struct tk_signer **out)
{
	struct tk_signer_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.uri = fx->uri;
	cfg.signer_path = fx->signer_path;
	cfg.timeout_ms = tk_fixture_ms(timeout_ms == 0 ? 5000 : timeout_ms);
	cfg.no_seccomp = tk_fixture_under_valgrind();
	return tk_signer_start(&cfg, out);
}

void
tk_fixture_token_free(struct tk_fixture_token **fxp)
{
	struct tk_fixture_token *fx;

	if (fxp == NULL || (fx = *fxp) == NULL)
		return;
	free(fx->label);
	free(fx->dir);
	free(fx->conf);
	free(fx->uri);
	free(fx->user_pin_file);
	free(fx->module_path);
	free(fx->signer_path);
	free(fx->out_dir);
	free(fx->root_pem);
	free(fx->audit_pem);
	free(fx->token_pem);
	free(fx->fingerprint_txt);
	free(fx);
	*fxp = NULL;
}
