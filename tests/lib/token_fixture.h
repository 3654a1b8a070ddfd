/*
 * Test fixture: a real SoftHSM2 token in a temporary folder, with the
 * twokey key ceremony done, for any test that needs signatures.
 *
 *	struct tk_fixture_token *fx;
 *	struct tk_signer *signer;
 *
 *	tk_fixture_token_new(getenv("TWOKEY_TEST_TMP"), &fx);
 *	tk_fixture_signer_start(fx, 0, &signer);
 *	... tk_signer_sign_digest(signer, TK_KEY_AUDIT, ...) ...
 *	tk_signer_free(&signer);
 *	tk_fixture_token_free(&fx);
 *
 * All tokens made under one tmpdir share TMPDIR/softhsm/softhsm2.conf,
 * which tk_fixture_token_new exports as SOFTHSM2_CONF (process-wide, so
 * use one tmpdir per test program). Needs $TWOKEY_TOP (for
 * deploy/softhsm-setup.sh) and $TWOKEY_BUILD (for twokey-signer), both
 * set by tests/run-tests.sh. The module is never loaded in the calling
 * process: the ceremony runs in twokey-signer.
 */
#ifndef TWOKEY_TEST_TOKEN_FIXTURE_H
#define TWOKEY_TEST_TOKEN_FIXTURE_H

#include "twokey/hsm.h"

struct tk_fixture_token {
	char *label;		/* token label */
	char *dir;		/* STATE_DIR of deploy/softhsm-setup.sh */
	char *conf;		/* the SoftHSM2 configuration file */
	char *uri;		/* PKCS#11 URI with pin-source=file: */
	char *user_pin_file;	/* mode 0600 */
	char *module_path;
	char *signer_path;	/* $TWOKEY_BUILD/twokey-signer */
	char *out_dir;		/* ceremony output folder */
	char *root_pem;		/* out_dir/root.pem (after the ceremony) */
	char *audit_pem;
	char *token_pem;
	char *fingerprint_txt;	/* out_dir/root-fingerprint.txt */
};

/* Token "twokey" with the ceremony done. 0 or -1 (reason on stderr). */
int tk_fixture_token_new(const char *tmpdir, struct tk_fixture_token **out);

/* An initialised token with that label and no keys (no ceremony). */
int tk_fixture_token_new_empty(const char *tmpdir, const char *label,
    struct tk_fixture_token **out);

/* Runs the ceremony on the fixture's token; returns the tk_hsm_err code. */
int tk_fixture_token_ceremony(struct tk_fixture_token *fx);

/*
 * ms scaled by $TWOKEY_TEST_TIMEOUT_SCALE (a whole number, default 1):
 * `make check-valgrind` sets it, because every process then runs some
 * twenty times slower. Use it for every time limit a test waits on.
 */
unsigned int tk_fixture_ms(unsigned int ms);

/*
 * Nonzero when the tests run under valgrind: $TWOKEY_VALGRIND is set and
 * not empty (make check-valgrind). Valgrind does not know the seccomp
 * system call, so no process under it can install a system-call filter:
 * the tests then start the signer with no_seccomp and twokeyd with
 * "seccomp": false, and the tests of the filters themselves skip only
 * the checks that need one, saying so in their output.
 */
int tk_fixture_under_valgrind(void);

/*
 * Prints "[   NOTE   ] " and the message as one line on stdout, where
 * tests/run-tests.sh shows it next to the binary's result: for a check
 * a test skipped, and why.
 */
void tk_fixture_note(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/*
 * tk_signer_start on the fixture; timeout_ms 0 for the default (5000).
 * The timeout is scaled by tk_fixture_ms; under valgrind the signer runs
 * without its filter (tk_fixture_under_valgrind).
 */
int tk_fixture_signer_start(const struct tk_fixture_token *fx,
    unsigned int timeout_ms, struct tk_signer **out);

void tk_fixture_token_free(struct tk_fixture_token **fx);

#endif
