/*
 * Specifications of twokeyd's TLS: 1.3 and 1.2 only, AEAD cipher suites
 * with forward secrecy only. Stock `openssl s_client` is the client, with
 * its own floor lowered (@SECLEVEL=0) so that it offers what the daemon
 * must refuse; each refusal has its control, the same client command
 * against `openssl s_server` accepting everything, so the test can fail.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../lib/daemon_fixture.h"

static struct tkd d;

static int
setup(void **state)
{
	(void)state;
	if (tkd_init(&d, "tls", "") != 0)
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

/* Exit status of a shell command, -1 if it did not exit. */
static int
sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * Whether a handshake with these s_client options (which pin one
 * protocol version) completes: s_client prints "New, (NONE), Cipher is
 * (NONE)" when it does not, else "New, " and the cipher's version.
 */
static int
handshake(unsigned int port, const char *opts)
{
	return sh("echo | timeout 10 openssl s_client -connect 127.0.0.1:%u "
	    "-servername localhost %s 2>&1 | grep -q '^New, [TS][LS]*v[0-9]'",
	    port, opts) == 0;
}

/* The control: s_server with an ECDSA key, any protocol, any cipher. */
static pid_t
lax_server(unsigned int *port)
{
	const char *tmp = getenv("TWOKEY_TEST_TMP");
	char dir[512], key[600], cert[600], port_s[16];
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s/lax", tmp != NULL ? tmp : "/tmp");
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	if (sh("mkdir -p %s && openssl req -x509 -newkey ec -pkeyopt "
	    "ec_paramgen_curve:P-256 -nodes -subj /CN=localhost -days 1 "
	    "-keyout %s -out %s >/dev/null 2>&1", dir, key, cert) != 0)
		return -1;
	/* Any free port; the daemon fixture's port is taken. */
	*port = d.port + 1000 > 65000 ? d.port - 1000 : d.port + 1000;
	snprintf(port_s, sizeof(port_s), "%u", *port);
	if ((pid = fork()) == 0) {
		/* -www: it answers, and never reads stdin (EOF ends it). */
		if (freopen("/dev/null", "r", stdin) == NULL ||
		    freopen("/dev/null", "w", stdout) == NULL ||
		    freopen("/dev/null", "w", stderr) == NULL)
			_exit(127);
		execlp("openssl", "openssl", "s_server", "-accept", port_s,
		    "-key", key, "-cert", cert, "-cipher", "ALL:@SECLEVEL=0",
		    "-www", (char *)NULL);
		_exit(127);
	}
	sleep(1);
	return pid;
}

static void
stop(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

static void
tls13_and_tls12_are_accepted(void **state)
{
	(void)state;
	assert_true(handshake(d.port, "-tls1_3"));
	assert_true(handshake(d.port, "-tls1_2"));
}

static void
tls10_and_tls11_are_refused(void **state)
{
	const char *tls10 = "-tls1 -cipher DEFAULT:@SECLEVEL=0";
	const char *tls11 = "-tls1_1 -cipher DEFAULT:@SECLEVEL=0";
	unsigned int port;
	pid_t lax;

	(void)state;
	assert_true((lax = lax_server(&port)) > 0);
	/* The client can speak them: a lax server accepts both. */
	assert_true(handshake(port, tls10));
	assert_true(handshake(port, tls11));
	stop(lax);
	assert_false(handshake(d.port, tls10));
	assert_false(handshake(d.port, tls11));
}

static void
sslv3_is_refused_when_the_client_has_it(void **state)
{
	(void)state;
	if (sh("openssl s_client -help 2>&1 | grep -q -- '-ssl3 '") != 0)
		skip();	/* this OpenSSL was built without SSLv3 */
	assert_false(handshake(d.port, "-ssl3 -cipher DEFAULT:@SECLEVEL=0"));
}

static void
cbc_and_3des_suites_are_refused_aead_accepted(void **state)
{
	static const char *const weak[] = {
		"ECDHE-ECDSA-AES128-SHA",	/* CBC, SHA-1 MAC */
		"ECDHE-ECDSA-AES256-SHA384",	/* CBC */
		"ECDHE-ECDSA-DES-CBC3-SHA",	/* 3DES (Sweet32) */
	};
	char opts[256];
	unsigned int port;
	size_t i;
	pid_t lax;

	(void)state;
	assert_true((lax = lax_server(&port)) > 0);
	for (i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
		snprintf(opts, sizeof(opts), "-tls1_2 -cipher '%s:@SECLEVEL=0'",
		    weak[i]);
		if (i < 2)	/* OpenSSL 3 may lack 3DES: control the rest */
			assert_true(handshake(port, opts));
		assert_false(handshake(d.port, opts));
	}
	stop(lax);
	/* An AEAD suite with ECDHE is the one kind left, and it works. */
	assert_true(handshake(d.port, "-tls1_2 -cipher "
	    "ECDHE-ECDSA-AES128-GCM-SHA256"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tls13_and_tls12_are_accepted),
		cmocka_unit_test(tls10_and_tls11_are_refused),
		cmocka_unit_test(sslv3_is_refused_when_the_client_has_it),
		cmocka_unit_test(
		    cbc_and_3des_suites_are_refused_aead_accepted),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
