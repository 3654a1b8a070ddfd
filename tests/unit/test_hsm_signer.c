/*
 * Specifications of the signer process against a real SoftHSM2 token:
 * signatures verify with OpenSSL and the openssl command, certificates
 * chain to the root, concurrent use works, and a hung or killed signer is
 * replaced while the failing call reports it.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/cms.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "twokey/common.h"
#include "twokey/hsm.h"
#include "../../hsm/hsm_int.h"
#include "../lib/token_fixture.h"

static struct tk_fixture_token *fx;

static int
group_setup(void **state)
{
	(void)state;
	return tk_fixture_token_new(getenv("TWOKEY_TEST_TMP"), &fx);
}

static int
group_teardown(void **state)
{
	(void)state;
	tk_fixture_token_free(&fx);
	return 0;
}

static struct tk_signer *
start(unsigned int timeout_ms)
{
	struct tk_signer *s = NULL;

	assert_int_equal(tk_fixture_signer_start(fx, timeout_ms, &s), 0);
	assert_non_null(s);
	return s;
}

static void
digest_of(const char *msg, uint8_t d[32])
{
	SHA256((const unsigned char *)msg, strlen(msg), d);
}

static int
verify_der(EVP_PKEY *pk, const uint8_t d[32], const uint8_t *der,
    size_t len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
	int ok;

	assert_non_null(ctx);
	ok = EVP_PKEY_verify_init(ctx) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1 &&
	    EVP_PKEY_verify(ctx, der, len, d, 32) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static void
each_purpose_signs_and_openssl_verifies(void **state)
{
	struct tk_signer *s = start(0);
	uint8_t d[32], der[72];
	size_t len;
	int p;

	(void)state;
	digest_of("grant 42 approved by alice and bob", d);
	for (p = 0; p < TK_KEY_PURPOSES; p++) {
		EVP_PKEY *pk = NULL;
		X509 *x = NULL;

		len = sizeof(der);
		assert_int_equal(tk_signer_sign_digest(s,
		    (enum tk_key_purpose)p, d, der, &len), 0);
		assert_true(len >= 8 && len <= 72 && der[0] == 0x30);
		assert_int_equal(tk_signer_public_key(s,
		    (enum tk_key_purpose)p, &pk), 0);
		assert_true(verify_der(pk, d, der, len));
		assert_int_equal(tk_signer_certificate(s,
		    (enum tk_key_purpose)p, &x), 0);
		assert_true(verify_der(X509_get0_pubkey(x), d, der, len));
		d[0] ^= 1;
		assert_false(verify_der(pk, d, der, len));
		d[0] ^= 1;
		EVP_PKEY_free(pk);
		X509_free(x);
	}
	tk_signer_free(&s);
	assert_null(s);
}

static void
purposes_have_distinct_keys(void **state)
{
	struct tk_signer *s = start(0);
	EVP_PKEY *pk[TK_KEY_PURPOSES];
	int p;

	(void)state;
	for (p = 0; p < TK_KEY_PURPOSES; p++)
		assert_int_equal(tk_signer_public_key(s,
		    (enum tk_key_purpose)p, &pk[p]), 0);
	assert_int_not_equal(EVP_PKEY_eq(pk[0], pk[1]), 1);
	assert_int_not_equal(EVP_PKEY_eq(pk[1], pk[2]), 1);
	assert_int_not_equal(EVP_PKEY_eq(pk[0], pk[2]), 1);
	for (p = 0; p < TK_KEY_PURPOSES; p++)
		EVP_PKEY_free(pk[p]);
	tk_signer_free(&s);
}

static char *
tmp_path(const char *name)
{
	static char buf[8][512];
	static int i;
	char *p = buf[i++ % 8];

	snprintf(p, 512, "%s/%s", getenv("TWOKEY_TEST_TMP"), name);
	return p;
}

static void
write_bytes(const char *path, const void *b, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* Runs a shell command; returns its exit status and first output line. */
static int
sh(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");
	int st;

	assert_non_null(p);
	if (out != NULL) {
		out[0] = '\0';
		if (fgets(out, (int)cap, p) != NULL)
			out[strcspn(out, "\n")] = '\0';
	}
	while (fgetc(p) != EOF)
		continue;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
signature_verifies_with_openssl_dgst_command(void **state)
{
	static const char msg[] = "checkpoint 7\ntree size 1024\n";
	struct tk_signer *s = start(0);
	EVP_PKEY *pk = NULL;
	uint8_t d[32], der[72];
	size_t len = sizeof(der);
	char cmd[2048], out[256];
	FILE *f;

	(void)state;
	digest_of(msg, d);
	assert_int_equal(tk_signer_sign_digest(s, TK_KEY_AUDIT, d, der, &len),
	    0);
	assert_int_equal(tk_signer_public_key(s, TK_KEY_AUDIT, &pk), 0);
	write_bytes(tmp_path("msg.txt"), msg, strlen(msg));
	write_bytes(tmp_path("msg.sig"), der, len);
	assert_non_null(f = fopen(tmp_path("audit.pub.pem"), "w"));
	assert_int_equal(PEM_write_PUBKEY(f, pk), 1);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "openssl dgst -sha256 -verify %s "
	    "-signature %s %s 2>&1", tmp_path("audit.pub.pem"),
	    tmp_path("msg.sig"), tmp_path("msg.txt"));
	assert_int_equal(sh(cmd, out, sizeof(out)), 0);
	assert_string_equal(out, "Verified OK");
	/* The same command refuses a changed message. */
	write_bytes(tmp_path("msg.txt"), "checkpoint 8\n", 13);
	assert_int_not_equal(sh(cmd, out, sizeof(out)), 0);
	EVP_PKEY_free(pk);
	tk_signer_free(&s);
}

static void
raw_signature_is_r_and_s_of_the_der_signature(void **state)
{
	struct tk_signer *s = start(0);
	EVP_PKEY *pk = NULL;
	uint8_t d[32], rs[64];
	int i;

	(void)state;
	assert_int_equal(tk_signer_public_key(s, TK_KEY_TOKEN, &pk), 0);
	/* Enough rounds to meet r or s with leading zero bytes. */
	for (i = 0; i < 600; i++) {
		ECDSA_SIG *sig = ECDSA_SIG_new();
		unsigned char *der = NULL;
		int n;

		d[0] = (uint8_t)i;
		d[1] = (uint8_t)(i >> 8);
		memset(d + 2, 0x5a, 30);
		assert_int_equal(tk_signer_sign_digest_raw(s, TK_KEY_TOKEN, d,
		    rs), 0);
		assert_int_equal(ECDSA_SIG_set0(sig, BN_bin2bn(rs, 32, NULL),
		    BN_bin2bn(rs + 32, 32, NULL)), 1);
		assert_true((n = i2d_ECDSA_SIG(sig, &der)) > 0);
		assert_true(verify_der(pk, d, der, (size_t)n));
		OPENSSL_free(der);
		ECDSA_SIG_free(sig);
	}
	EVP_PKEY_free(pk);
	tk_signer_free(&s);
}

static void
write_cert(const char *path, X509 *x)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	fclose(f);
}

static void
purpose_certificates_chain_to_root_with_openssl_verify(void **state)
{
	struct tk_signer *s = start(0);
	X509 *x[TK_KEY_PURPOSES], *pinned;
	char cmd[2048], out[256];
	FILE *f;
	int p;

	(void)state;
	for (p = 0; p < TK_KEY_PURPOSES; p++)
		assert_int_equal(tk_signer_certificate(s,
		    (enum tk_key_purpose)p, &x[p]), 0);
	/* The signer's root is the one the ceremony wrote out. */
	assert_non_null(f = fopen(fx->root_pem, "r"));
	assert_non_null(pinned = PEM_read_X509(f, NULL, NULL, NULL));
	fclose(f);
	assert_int_equal(X509_cmp(pinned, x[TK_KEY_ROOT]), 0);
	write_cert(tmp_path("c-audit.pem"), x[TK_KEY_AUDIT]);
	write_cert(tmp_path("c-token.pem"), x[TK_KEY_TOKEN]);
	snprintf(cmd, sizeof(cmd), "openssl verify -CAfile %s %s %s 2>&1 | "
	    "grep -c ': OK$'", fx->root_pem, tmp_path("c-audit.pem"),
	    tmp_path("c-token.pem"));
	sh(cmd, out, sizeof(out));
	assert_string_equal(out, "2");
	/* A purpose certificate is not a CA for the other. */
	snprintf(cmd, sizeof(cmd), "openssl verify -CAfile %s %s 2>&1",
	    tmp_path("c-audit.pem"), tmp_path("c-token.pem"));
	assert_int_not_equal(sh(cmd, NULL, 0), 0);
	for (p = 0; p < TK_KEY_PURPOSES; p++)
		X509_free(x[p]);
	X509_free(pinned);
	tk_signer_free(&s);
}

struct worker {
	struct tk_signer *s;
	EVP_PKEY *pk;
	int id, ok;
};

static void *
sign_500(void *arg)
{
	struct worker *w = arg;
	uint8_t d[32], der[72];
	size_t len;
	int i;

	for (i = 0; i < 500; i++) {
		memset(d, w->id, sizeof(d));
		d[30] = (uint8_t)(i >> 8);
		d[31] = (uint8_t)i;
		len = sizeof(der);
		if (tk_signer_sign_digest(w->s, TK_KEY_AUDIT, d, der,
		    &len) != 0 || !verify_der(w->pk, d, der, len))
			return NULL;
		w->ok++;
	}
	return NULL;
}

static void
eight_threads_sign_500_each_and_all_verify(void **state)
{
	struct tk_signer *s = start(0);
	struct worker w[8];
	pthread_t t[8];
	EVP_PKEY *pk = NULL;
	int i, total = 0;

	(void)state;
	assert_int_equal(tk_signer_public_key(s, TK_KEY_AUDIT, &pk), 0);
	for (i = 0; i < 8; i++) {
		w[i].s = s;
		w[i].pk = pk;
		w[i].id = i + 1;
		w[i].ok = 0;
		assert_int_equal(pthread_create(&t[i], NULL, sign_500, &w[i]),
		    0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		total += w[i].ok;
	}
	assert_int_equal(total, 8 * 500);
	assert_int_equal(tk_signer_restarts(s), 0);
	EVP_PKEY_free(pk);
	tk_signer_free(&s);
}

static int
sign_once(struct tk_signer *s)
{
	uint8_t d[32] = { 1, 2, 3 }, der[72];
	size_t len = sizeof(der);

	return tk_signer_sign_digest(s, TK_KEY_ROOT, d, der, &len);
}

static int
is_gone(pid_t pid)
{
	return kill(pid, 0) != 0 && errno == ESRCH;
}

/* The supervisor reaps a signer that died on its own; wait for that. */
static void
wait_gone(pid_t pid)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	unsigned int i;

	for (i = 0; i < tk_fixture_ms(5000) / 10 && !is_gone(pid); i++)
		nanosleep(&ts, NULL);
	assert_true(is_gone(pid));
}

static void
hung_signer_times_out_and_is_replaced(void **state)
{
	struct tk_signer *s = start(1500);
	pid_t old = tk_signer_pid(s);

	(void)state;
	assert_true(old > 0);
	assert_int_equal(sign_once(s), 0);
	assert_int_equal(kill(old, SIGSTOP), 0);
	assert_int_equal(sign_once(s), TK_HSM_ERR_TIMEOUT);
	assert_true(is_gone(old));	/* killed and reaped */
	assert_int_equal(tk_signer_restarts(s), 1);
	assert_true(tk_signer_pid(s) > 0 && tk_signer_pid(s) != old);
	assert_int_equal(sign_once(s), 0);
	tk_signer_free(&s);
}

struct pending {
	struct tk_signer *s;
	int r;
};

static void *
sign_in_thread(void *arg)
{
	struct pending *pd = arg;

	pd->r = sign_once(pd->s);
	return NULL;
}

static void
signer_killed_mid_request_is_replaced(void **state)
{
	struct tk_signer *s = start(10000);
	struct pending pd = { s, 1 };
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	pid_t old = tk_signer_pid(s);
	pthread_t t;

	(void)state;
	/* Stop it so the request is surely in flight when it dies. */
	assert_int_equal(kill(old, SIGSTOP), 0);
	assert_int_equal(pthread_create(&t, NULL, sign_in_thread, &pd), 0);
	nanosleep(&ts, NULL);
	assert_int_equal(kill(old, SIGKILL), 0);
	pthread_join(t, NULL);
	assert_int_equal(pd.r, TK_HSM_ERR_SIGNER_DIED);
	assert_true(is_gone(old));
	assert_int_equal(tk_signer_restarts(s), 1);
	assert_int_equal(sign_once(s), 0);
	tk_signer_free(&s);
}

/*
 * A signer that died while idle cannot have lost a request: the next
 * call starts a new one first, and succeeds.
 */
static void
signer_dead_between_requests_is_replaced_before_the_call(void **state)
{
	struct tk_signer *s = start(0);
	pid_t old = tk_signer_pid(s);

	(void)state;
	assert_int_equal(kill(old, SIGKILL), 0);
	wait_gone(old);
	assert_int_equal(sign_once(s), 0);
	assert_int_equal(tk_signer_restarts(s), 1);
	assert_true(tk_signer_pid(s) > 0 && tk_signer_pid(s) != old);
	tk_signer_free(&s);
}

static int
sign_with(struct tk_signer *s, enum tk_key_purpose p)
{
	uint8_t d[32] = { 7 }, der[72];
	size_t len = sizeof(der);

	return tk_signer_sign_digest(s, p, d, der, &len);
}

static void
locked_root_refuses_to_sign_even_after_a_restart(void **state)
{
	struct tk_signer *s = start(0);
	pid_t old;

	(void)state;
	assert_int_equal(sign_with(s, TK_KEY_ROOT), 0);
	assert_int_equal(tk_signer_lock_root(s), 0);
	assert_int_equal(sign_with(s, TK_KEY_ROOT), TK_HSM_ERR_LOCKED_KEY);
	assert_int_equal(sign_with(s, TK_KEY_AUDIT), 0);
	assert_int_equal(sign_with(s, TK_KEY_TOKEN), 0);
	/* A replacement signer must not come back unlocked. */
	old = tk_signer_pid(s);
	assert_int_equal(kill(old, SIGKILL), 0);
	wait_gone(old);
	assert_int_equal(sign_with(s, TK_KEY_ROOT), TK_HSM_ERR_LOCKED_KEY);
	assert_int_equal(sign_with(s, TK_KEY_AUDIT), 0);
	assert_int_equal(tk_signer_restarts(s), 1);
	tk_signer_free(&s);
}

static void
unknown_purpose_is_refused_without_a_restart(void **state)
{
	struct tk_signer *s = start(0);
	uint8_t d[32] = { 0 }, der[72], rs[64];
	size_t len = sizeof(der);
	EVP_PKEY *pk = NULL;

	(void)state;
	assert_int_equal(tk_signer_sign_digest(s, (enum tk_key_purpose)3, d,
	    der, &len), TK_HSM_ERR_INVALID);
	assert_int_equal(tk_signer_sign_digest_raw(s, (enum tk_key_purpose)-1,
	    d, rs), TK_HSM_ERR_INVALID);
	assert_int_equal(tk_signer_public_key(s, (enum tk_key_purpose)9, &pk),
	    TK_HSM_ERR_INVALID);
	assert_null(pk);
	len = 8;	/* too small for any P-256 signature */
	assert_int_equal(tk_signer_sign_digest(s, TK_KEY_ROOT, d, der, &len),
	    TK_HSM_ERR_INVALID);
	assert_int_equal(tk_signer_restarts(s), 0);
	tk_signer_free(&s);
}

/* Starts twokey-signer by hand on a socketpair, stderr to a file. */
static pid_t
spawn_raw(int *fd, const char *errpath)
{
	int sv[2];
	pid_t pid;
	uint8_t buf[512];
	size_t len;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		FILE *e = fopen(errpath, "w");

		if (e == NULL || dup2(fileno(e), 2) < 0 ||
		    dup2(sv[1], 3) != 3)
			_exit(99);
		/* valgrind cannot install the filter: see token_fixture.h */
		execl(fx->signer_path, fx->signer_path, "--fd", "3", "--uri",
		    fx->uri, tk_fixture_under_valgrind() ? "--no-seccomp" :
		    (char *)NULL, (char *)NULL);
		_exit(98);
	}
	close(sv[1]);
	*fd = sv[0];
	assert_int_equal(tk_signer_recv(*fd, buf, sizeof(buf), &len,
	    (int)tk_fixture_ms(10000)), 0);
	assert_true(len == 9 && memcmp(buf, "\0\0\0\0ready", 9) == 0);
	return pid;
}

static int
status_of(int fd, const uint8_t *req, size_t len)
{
	uint8_t buf[TK_SIGNER_RESP_MAX];
	size_t n;

	assert_int_equal(tk_signer_send(fd, req, len), 0);
	assert_int_equal(tk_signer_recv(fd, buf, sizeof(buf), &n,
	    (int)tk_fixture_ms(10000)), 0);
	assert_true(n >= 4);
	return (int)((uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
	    (uint32_t)buf[2] << 8 | buf[3]);
}

static void
signer_refuses_requests_outside_the_fixed_set(void **state)
{
	static const uint8_t bad_op[] = { 9, 0 };
	static const uint8_t short_digest[2 + 31] = { TK_SIGNER_OP_SIGN, 1 };
	static const uint8_t long_pubkey[] = { TK_SIGNER_OP_PUBKEY, 1, 0 };
	static const uint8_t bad_purpose[] = { TK_SIGNER_OP_CERT, 3 };
	static const uint8_t empty[1] = { 0 };
	static const uint8_t good[] = { TK_SIGNER_OP_PUBKEY, 1 };
	char cmd[1024], out[64];
	int fd, st;
	pid_t pid = spawn_raw(&fd, tmp_path("raw.err"));

	(void)state;
	assert_int_equal(status_of(fd, bad_op, sizeof(bad_op)),
	    TK_HSM_ERR_INVALID);
	assert_int_equal(status_of(fd, short_digest, sizeof(short_digest)),
	    TK_HSM_ERR_INVALID);
	assert_int_equal(status_of(fd, long_pubkey, sizeof(long_pubkey)),
	    TK_HSM_ERR_INVALID);
	assert_int_equal(status_of(fd, bad_purpose, sizeof(bad_purpose)),
	    TK_HSM_ERR_INVALID);
	assert_int_equal(status_of(fd, empty, 0), TK_HSM_ERR_INVALID);
	assert_int_equal(status_of(fd, good, sizeof(good)), 0);
	close(fd);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	snprintf(cmd, sizeof(cmd), "grep -c 'refused request' %s",
	    tmp_path("raw.err"));
	sh(cmd, out, sizeof(out));
	assert_string_equal(out, "5");
}

static void
oversized_frame_ends_the_signer(void **state)
{
	uint8_t big[TK_SIGNER_REQ_MAX + 1];
	int fd, st;
	pid_t pid = spawn_raw(&fd, tmp_path("raw2.err"));

	(void)state;
	memset(big, 1, sizeof(big));
	assert_int_equal(tk_signer_send(fd, big, sizeof(big)), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 0);
	close(fd);
}

static void
signer_runs_without_core_dumps(void **state)
{
	struct tk_signer *s = start(0);
	char cmd[256], out[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "grep '^Max core file size' /proc/%ld/"
	    "limits | awk '{ print $5, $6 }'", (long)tk_signer_pid(s));
	sh(cmd, out, sizeof(out));
	assert_string_equal(out, "0 0");
	tk_signer_free(&s);
}

static void
freeing_the_client_ends_the_signer(void **state)
{
	struct tk_signer *s = start(0);
	pid_t pid = tk_signer_pid(s);

	(void)state;
	assert_false(is_gone(pid));
	tk_signer_free(&s);
	assert_null(s);
	assert_true(is_gone(pid));
	tk_signer_free(&s);	/* NULL is fine */
}

static void
evp_key_signs_cms_that_openssl_cms_verifies(void **state)
{
	static const char data[] = "evidence pack 2026-Q4\n";
	struct tk_signer *s = start(0);
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	BIO *in, *out;
	CMS_ContentInfo *cms;
	char cmd[2048], line[256];

	(void)state;
	assert_int_equal(tk_signer_evp_pkey(s, TK_KEY_AUDIT, &key), 0);
	assert_int_equal(tk_signer_certificate(s, TK_KEY_AUDIT, &cert), 0);
	assert_non_null(in = BIO_new_mem_buf(data, (int)strlen(data)));
	cms = CMS_sign(cert, key, NULL, in, CMS_DETACHED | CMS_BINARY);
	assert_non_null(cms);
	assert_non_null(out = BIO_new_file(tmp_path("pack.p7s"), "wb"));
	assert_int_equal(i2d_CMS_bio(out, cms), 1);
	BIO_free(out);
	write_bytes(tmp_path("pack.txt"), data, strlen(data));
	snprintf(cmd, sizeof(cmd), "openssl cms -verify -binary -inform DER "
	    "-in %s -content %s -CAfile %s -purpose any -out /dev/null 2>&1",
	    tmp_path("pack.p7s"), tmp_path("pack.txt"), fx->root_pem);
	assert_int_equal(sh(cmd, line, sizeof(line)), 0);
	assert_string_equal(line, "CMS Verification successful");
	write_bytes(tmp_path("pack.txt"), "evidence pack 2027\n", 19);
	assert_int_not_equal(sh(cmd, line, sizeof(line)), 0);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	X509_free(cert);
	EVP_PKEY_free(key);
	tk_signer_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_purpose_signs_and_openssl_verifies),
		cmocka_unit_test(purposes_have_distinct_keys),
		cmocka_unit_test(signature_verifies_with_openssl_dgst_command),
		cmocka_unit_test(raw_signature_is_r_and_s_of_the_der_signature),
		cmocka_unit_test(
		    purpose_certificates_chain_to_root_with_openssl_verify),
		cmocka_unit_test(eight_threads_sign_500_each_and_all_verify),
		cmocka_unit_test(hung_signer_times_out_and_is_replaced),
		cmocka_unit_test(signer_killed_mid_request_is_replaced),
		cmocka_unit_test(
		  signer_dead_between_requests_is_replaced_before_the_call),
		cmocka_unit_test(unknown_purpose_is_refused_without_a_restart),
		cmocka_unit_test(
		    locked_root_refuses_to_sign_even_after_a_restart),
		cmocka_unit_test(signer_refuses_requests_outside_the_fixed_set),
		cmocka_unit_test(oversized_frame_ends_the_signer),
		cmocka_unit_test(signer_runs_without_core_dumps),
		cmocka_unit_test(freeing_the_client_ends_the_signer),
		cmocka_unit_test(evp_key_signs_cms_that_openssl_cms_verifies),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
