/*
 * Specifications of tk_signer_start's failures against a real SoftHSM2
 * token: each gives its own code and a message that names what was wrong
 * (token, key, file, module) and never contains a PIN.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "twokey/common.h"
#include "twokey/hsm.h"
#include "../../hsm/p11raw.h"
#include "../lib/token_fixture.h"

static struct tk_fixture_token *fx;
static char real_pin[300];

static const char *
tmp_path(const char *name)
{
	static char buf[8][512];
	static int i;
	char *p = buf[i++ % 8];

	snprintf(p, 512, "%s/%s", getenv("TWOKEY_TEST_TMP"), name);
	return p;
}

static void
write_file(const char *path, const char *content, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static int
group_setup(void **state)
{
	FILE *f;

	(void)state;
	if (tk_fixture_token_new(getenv("TWOKEY_TEST_TMP"), &fx) != 0 ||
	    (f = fopen(fx->user_pin_file, "r")) == NULL)
		return -1;
	if (fgets(real_pin, sizeof(real_pin), f) == NULL)
		real_pin[0] = '\0';
	fclose(f);
	real_pin[strcspn(real_pin, "\n")] = '\0';
	return strlen(real_pin) >= 8 ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	tk_fixture_token_free(&fx);
	return 0;
}

/*
 * Runs tk_signer_start with stderr (ours and the signer's, which inherits
 * it) going to a file, and returns the code; *log gets what was logged.
 * timeout 0 is the default, scaled by tk_fixture_ms; another is kept.
 */
static int
start_logged(const char *uri, const char *signer, unsigned int timeout,
    char *log, size_t cap)
{
	struct tk_signer_config cfg = { uri, signer, timeout != 0 ? timeout :
	    tk_fixture_ms(5000), tk_fixture_under_valgrind() };
	struct tk_signer *s = NULL;
	const char *path = tmp_path("stderr.log");
	int saved, fd, r;
	ssize_t n;

	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	r = tk_signer_start(&cfg, &s);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	if (r == 0)
		tk_signer_free(&s);
	assert_null(s);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, log, cap - 1);
	close(fd);
	log[n > 0 ? n : 0] = '\0';
	/* Whatever went wrong, no PIN is ever logged; the code's text is. */
	assert_null(strstr(log, real_pin));
	if (r != 0)
		assert_non_null(strstr(log, tk_hsm_strerror(r)));
	return r;
}

static char *
uri_with(const char *token, const char *module, const char *pinfile)
{
	static char buf[2048];

	snprintf(buf, sizeof(buf), "pkcs11:token=%s?module-path=%s"
	    "&pin-source=file:%s", token, module, pinfile);
	return buf;
}

static void
correct_configuration_starts(void **state)
{
	char log[4096];

	(void)state;
	assert_int_equal(start_logged(fx->uri, fx->signer_path, 0, log,
	    sizeof(log)), 0);
	assert_null(strstr(log, "error"));
}

static void
wrong_pin_is_refused_and_named(void **state)
{
	const char *pinfile = tmp_path("wrong.pin");
	char log[4096];

	(void)state;
	write_file(pinfile, "wrong-pin-73915\n", 0600);
	assert_int_equal(start_logged(uri_with("twokey", fx->module_path,
	    pinfile), fx->signer_path, 0, log, sizeof(log)), TK_HSM_ERR_PIN);
	assert_non_null(strstr(log, tk_hsm_strerror(TK_HSM_ERR_PIN)));
	assert_non_null(strstr(log, "wrong user PIN for token 'twokey'"));
	assert_null(strstr(log, "wrong-pin-73915"));
}

/*
 * SoftHSM 2.6.1 never locks a PIN by itself (a dozen wrong PINs only set
 * CKF_USER_PIN_COUNT_LOW), but it reports CKF_USER_PIN_LOCKED from its
 * token file. Sets that flag in the token file of the token with label.
 */
#define SOFTHSM_TOKENFLAGS 0x8000534bULL
#define SOFTHSM_TOKENLABEL 0x80005349ULL

static uint64_t
be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Returns 1 if the file was the token with label and is now locked. */
static int
lock_token_file(const char *path, const char *label)
{
	uint8_t b[4096], want[32];
	size_t n, i = 8, flags = 0;
	int match = 0;
	FILE *f = fopen(path, "r+b");

	if (f == NULL)
		return 0;
	n = fread(b, 1, sizeof(b), f);
	memset(want, ' ', sizeof(want));
	memcpy(want, label, strlen(label));
	while (i + 24 <= n) {
		uint64_t type = be64(b + i), kind = be64(b + i + 8);
		uint64_t len = kind == 1 ? 1 : kind == 2 ? 8 : be64(b + i + 16);
		size_t at = kind == 1 ? i + 16 : kind == 2 ? i + 16 : i + 24;

		if (len > n)
			break;
		if (type == SOFTHSM_TOKENLABEL && len == 32 &&
		    memcmp(b + at, want, 32) == 0)
			match = 1;
		if (type == SOFTHSM_TOKENFLAGS && kind == 2)
			flags = at;
		i = at + (size_t)len;
	}
	if (match && flags != 0) {
		b[flags + 5] |= 0x04;	/* CKF_USER_PIN_LOCKED, 0x40000 */
		fseek(f, 0, SEEK_SET);
		fwrite(b, 1, n, f);
	}
	fclose(f);
	return match && flags != 0;
}

static void
locked_pin_is_refused_and_named(void **state)
{
	struct tk_fixture_token *locked = NULL;
	char cmd[1024], path[1024], log[4096];
	FILE *ls;
	int done = 0;

	(void)state;
	assert_int_equal(tk_fixture_token_new_empty(getenv("TWOKEY_TEST_TMP"),
	    "locked", &locked), 0);
	snprintf(cmd, sizeof(cmd), "ls %s/tokens/*/token.object", locked->dir);
	assert_non_null(ls = popen(cmd, "r"));
	while (fgets(path, sizeof(path), ls) != NULL) {
		path[strcspn(path, "\n")] = '\0';
		done += lock_token_file(path, "locked");
	}
	pclose(ls);
	assert_int_equal(done, 1);
	assert_int_equal(start_logged(locked->uri, fx->signer_path, 0, log,
	    sizeof(log)), TK_HSM_ERR_LOCKED);
	assert_non_null(strstr(log, "user PIN of token 'locked' is locked"));
	tk_fixture_token_free(&locked);
}

static void
missing_token_is_named(void **state)
{
	char log[4096];

	(void)state;
	assert_int_equal(start_logged(uri_with("no-such-token",
	    fx->module_path, fx->user_pin_file), fx->signer_path, 0, log,
	    sizeof(log)), TK_HSM_ERR_NO_TOKEN);
	assert_non_null(strstr(log, "no initialized token labelled "
	    "'no-such-token'"));
}

static void
missing_key_is_named(void **state)
{
	struct tk_fixture_token *empty = NULL;
	char log[4096];

	(void)state;
	assert_int_equal(tk_fixture_token_new_empty(getenv("TWOKEY_TEST_TMP"),
	    "nokeys", &empty), 0);
	assert_int_equal(start_logged(empty->uri, fx->signer_path, 0, log,
	    sizeof(log)), TK_HSM_ERR_NO_KEY);
	assert_non_null(strstr(log, "private key labelled 'twokey-root' on "
	    "token 'nokeys'"));
	tk_fixture_token_free(&empty);
}

/* Deletes the one object of that class and label through raw PKCS#11. */
static void
delete_object(const struct tk_fixture_token *t, CK_OBJECT_CLASS cls,
    const char *label)
{
	struct tk_p11raw p;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_LABEL, (void *)(uintptr_t)label, strlen(label) },
	};
	CK_OBJECT_HANDLE h[4];
	size_t n, i;
	char pin[300];
	FILE *f = fopen(t->user_pin_file, "r");

	assert_non_null(f);
	assert_non_null(fgets(pin, sizeof(pin), f));
	fclose(f);
	pin[strcspn(pin, "\n")] = '\0';
	assert_int_equal(tk_p11raw_open(&p, t->module_path, t->label, pin,
	    strlen(pin)), 0);
	assert_int_equal(tk_p11raw_find(&p, tmpl, 2, h, 4, &n), 0);
	assert_int_equal(n, 1);
	for (i = 0; i < n; i++)
		assert_int_equal(p.f->C_DestroyObject(p.session, h[i]),
		    CKR_OK);
	tk_p11raw_close(&p);
}

static void
missing_certificate_is_named(void **state)
{
	struct tk_fixture_token *t = NULL;
	char log[4096];

	(void)state;
	assert_int_equal(tk_fixture_token_new_empty(getenv("TWOKEY_TEST_TMP"),
	    "nocert", &t), 0);
	assert_int_equal(tk_fixture_token_ceremony(t), 0);
	delete_object(t, CKO_CERTIFICATE, "twokey-audit");
	assert_int_equal(start_logged(t->uri, fx->signer_path, 0, log,
	    sizeof(log)), TK_HSM_ERR_CERT);
	assert_non_null(strstr(log, "no certificate labelled 'twokey-audit'"));
	tk_fixture_token_free(&t);
}

static void
token_that_refuses_to_sign_is_reported_and_signer_restarted(void **state)
{
	struct tk_fixture_token *t = NULL;
	struct tk_signer *s = NULL;
	uint8_t d[32] = { 7 }, der[72];
	size_t len = sizeof(der);

	(void)state;
	assert_int_equal(tk_fixture_token_new_empty(getenv("TWOKEY_TEST_TMP"),
	    "vanish", &t), 0);
	assert_int_equal(tk_fixture_token_ceremony(t), 0);
	assert_int_equal(tk_fixture_signer_start(t, 0, &s), 0);
	assert_int_equal(tk_signer_sign_digest(s, TK_KEY_TOKEN, d, der, &len),
	    0);
	/* The key disappears under the running signer. */
	delete_object(t, CKO_PRIVATE_KEY, "twokey-token");
	len = sizeof(der);
	assert_int_equal(tk_signer_sign_digest(s, TK_KEY_TOKEN, d, der, &len),
	    TK_HSM_ERR_SIGN);
	assert_int_equal(tk_signer_restarts(s), 1);
	/* The fresh signer cannot find the key either, and says so. */
	len = sizeof(der);
	assert_int_equal(tk_signer_sign_digest(s, TK_KEY_AUDIT, d, der, &len),
	    TK_HSM_ERR_NO_KEY);
	tk_signer_free(&s);
	tk_fixture_token_free(&t);
}

static void
module_that_fails_to_load_is_named(void **state)
{
	static const char *const modules[] = {
		"/nonexistent/libpkcs11-none.so",
		"/etc/passwd",
		"/lib/x86_64-linux-gnu/libz.so.1",	/* not PKCS#11 */
	};
	char log[4096], want[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(modules) / sizeof(modules[0]); i++) {
		assert_int_equal(start_logged(uri_with("twokey", modules[i],
		    fx->user_pin_file), fx->signer_path, 0, log,
		    sizeof(log)), TK_HSM_ERR_MODULE);
		snprintf(want, sizeof(want), "module '%s' failed to load",
		    modules[i]);
		assert_non_null(strstr(log, want));
	}
}

static void
malformed_uri_is_refused_before_any_signer_starts(void **state)
{
	char log[4096];

	(void)state;
	assert_int_equal(start_logged("pkcs11:token=two%zkey", fx->signer_path,
	    0, log, sizeof(log)), TK_HSM_ERR_URI);
	assert_non_null(strstr(log, "malformed PKCS#11 URI: "));
	assert_non_null(strstr(log,
	    "unescaped character in attribute 'token'"));
	assert_null(strstr(log, "twokey-signer["));
	assert_int_equal(start_logged("pkcs11:object=twokey-root?module-path="
	    "/usr/lib/softhsm/libsofthsm2.so", fx->signer_path, 0, log,
	    sizeof(log)), TK_HSM_ERR_URI);
	assert_non_null(strstr(log, "needs token= and module-path="));
}

static void
pin_value_in_uri_is_refused_and_not_logged(void **state)
{
	char uri[2048], log[4096];

	(void)state;
	snprintf(uri, sizeof(uri), "pkcs11:token=twokey?module-path=%s"
	    "&pin-value=%s", fx->module_path, real_pin);
	assert_int_equal(start_logged(uri, fx->signer_path, 0, log,
	    sizeof(log)), TK_HSM_ERR_URI);
	assert_non_null(strstr(log, "pin-value is refused"));
}

static void
group_readable_pin_file_is_refused_and_named(void **state)
{
	char pin[400], log[4096];
	const char *path = tmp_path("group-readable.pin");

	(void)state;
	snprintf(pin, sizeof(pin), "%s\n", real_pin);
	write_file(path, pin, 0640);
	assert_int_equal(start_logged(uri_with("twokey", fx->module_path,
	    path), fx->signer_path, 0, log, sizeof(log)),
	    TK_HSM_ERR_PIN_SOURCE);
	assert_non_null(strstr(log, "group-readable.pin': file is readable "
	    "or writable by others"));
}

static void
missing_pin_file_is_refused_and_named(void **state)
{
	char log[4096];

	(void)state;
	assert_int_equal(start_logged(uri_with("twokey", fx->module_path,
	    "/nonexistent/user.pin"), fx->signer_path, 0, log, sizeof(log)),
	    TK_HSM_ERR_PIN_SOURCE);
	assert_non_null(strstr(log, "PIN file '/nonexistent/user.pin'"));
}

static void
signer_that_never_gets_ready_times_out(void **state)
{
	const char *fake = tmp_path("hanging-signer");
	char log[4096];
	struct timespec t0, t1;
	long ms;

	(void)state;
	write_file(fake, "#!/bin/sh\nexec sleep 30\n", 0755);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(start_logged(fx->uri, fake, 300, log, sizeof(log)),
	    TK_HSM_ERR_TIMEOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) /
	    1000000;
	assert_true(ms >= 300 && ms < 5000);
	assert_non_null(strstr(log, "did not become ready"));
}

static void
missing_signer_program_is_named(void **state)
{
	char log[4096];

	(void)state;
	assert_int_equal(start_logged(fx->uri, "/nonexistent/twokey-signer",
	    0, log, sizeof(log)), TK_HSM_ERR_SPAWN);
	assert_non_null(strstr(log, "'/nonexistent/twokey-signer' could not "
	    "be executed"));
	assert_int_equal(start_logged(fx->uri, "relative/twokey-signer", 0,
	    log, sizeof(log)), TK_HSM_ERR_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(correct_configuration_starts),
		cmocka_unit_test(wrong_pin_is_refused_and_named),
		cmocka_unit_test(locked_pin_is_refused_and_named),
		cmocka_unit_test(missing_token_is_named),
		cmocka_unit_test(missing_key_is_named),
		cmocka_unit_test(missing_certificate_is_named),
		cmocka_unit_test(
		  token_that_refuses_to_sign_is_reported_and_signer_restarted),
		cmocka_unit_test(module_that_fails_to_load_is_named),
		cmocka_unit_test(
		    malformed_uri_is_refused_before_any_signer_starts),
		cmocka_unit_test(pin_value_in_uri_is_refused_and_not_logged),
		cmocka_unit_test(group_readable_pin_file_is_refused_and_named),
		cmocka_unit_test(missing_pin_file_is_refused_and_named),
		cmocka_unit_test(signer_that_never_gets_ready_times_out),
		cmocka_unit_test(missing_signer_program_is_named),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
