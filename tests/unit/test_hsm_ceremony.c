/*
 * Specifications of the key ceremony on a real SoftHSM2 token: what it
 * writes, what the keys and certificates look like on the token, and that
 * it never overwrites or leaves half a ceremony behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "twokey/common.h"
#include "twokey/hsm.h"
#include "twokey/hsm_ceremony.h"
#include "../../hsm/p11raw.h"
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

static X509 *
read_pem(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

static void
first_line_of(const char *cmd, char *out, size_t cap)
{
	FILE *p = popen(cmd, "r");

	assert_non_null(p);
	out[0] = '\0';
	if (fgets(out, (int)cap, p) != NULL)
		out[strcspn(out, "\n")] = '\0';
	while (fgetc(p) != EOF)
		continue;
	pclose(p);
}

static void
root_fingerprint_file_matches_openssl(void **state)
{
	X509 *root = read_pem(fx->root_pem);
	unsigned char *der = NULL, md[32];
	char hex[65], line1[128], line2[256], cmd[1024], want[256];
	int n = i2d_X509(root, &der);
	FILE *f = fopen(fx->fingerprint_txt, "r");

	(void)state;
	assert_true(n > 0);
	SHA256(der, (size_t)n, md);
	tk_hex_encode(md, 32, hex);
	assert_non_null(f);
	assert_non_null(fgets(line1, sizeof(line1), f));
	assert_non_null(fgets(line2, sizeof(line2), f));
	assert_int_equal(fgetc(f), EOF);
	fclose(f);
	line1[strcspn(line1, "\n")] = '\0';
	line2[strcspn(line2, "\n")] = '\0';
	assert_string_equal(line1, hex);
	snprintf(cmd, sizeof(cmd), "openssl x509 -noout -fingerprint -sha256 "
	    "-in %s", fx->root_pem);
	first_line_of(cmd, want, sizeof(want));
	assert_string_equal(line2, want);
	OPENSSL_free(der);
	X509_free(root);
}

static long
lifetime_days(X509 *x)
{
	int days = 0, secs = 0;

	assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
	    X509_get0_notAfter(x)), 1);
	return days;
}

static void
certificates_carry_documented_usages_and_lifetimes(void **state)
{
	X509 *root = read_pem(fx->root_pem);
	X509 *audit = read_pem(fx->audit_pem);
	X509 *token = read_pem(fx->token_pem);

	(void)state;
	assert_int_equal(X509_check_ca(root), 1);
	assert_int_equal(X509_get_pathlen(root), 0);
	assert_int_equal(X509_check_issued(root, root), X509_V_OK);
	assert_int_equal(X509_get_key_usage(root), KU_KEY_CERT_SIGN |
	    KU_CRL_SIGN);
	assert_int_equal(lifetime_days(root), TK_CEREMONY_ROOT_DAYS);
	assert_int_equal(X509_check_ca(audit), 0);
	assert_int_equal(X509_check_issued(root, audit), X509_V_OK);
	assert_int_equal(X509_get_key_usage(audit), KU_DIGITAL_SIGNATURE |
	    KU_NON_REPUDIATION);
	assert_int_equal(lifetime_days(audit), TK_CEREMONY_AUDIT_DAYS);
	assert_int_equal(X509_check_ca(token), 0);
	assert_int_equal(X509_check_issued(root, token), X509_V_OK);
	assert_int_equal(X509_get_key_usage(token), KU_DIGITAL_SIGNATURE);
	assert_int_equal(lifetime_days(token), TK_CEREMONY_TOKEN_DAYS);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(audit),
	    X509_get0_serialNumber(token)), 0);
	X509_free(root);
	X509_free(audit);
	X509_free(token);
}

static void
open_raw(struct tk_p11raw *p, const struct tk_fixture_token *t)
{
	char pin[300];
	FILE *f = fopen(t->user_pin_file, "r");

	assert_non_null(f);
	assert_non_null(fgets(pin, sizeof(pin), f));
	fclose(f);
	pin[strcspn(pin, "\n")] = '\0';
	if (tk_p11raw_open(p, t->module_path, t->label, pin, strlen(pin)) !=
	    0)
		fail_msg("%s", p->why);
	OPENSSL_cleanse(pin, sizeof(pin));
}

static int
bool_attr(struct tk_p11raw *p, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t)
{
	uint8_t *v;
	size_t len;
	int b;

	assert_int_equal(tk_p11raw_get(p, h, t, &v, &len), 0);
	assert_int_equal(len, 1);
	b = v[0];
	free(v);
	return b;
}

static CK_OBJECT_HANDLE
one_object(struct tk_p11raw *p, CK_OBJECT_CLASS cls, const char *label)
{
	CK_ATTRIBUTE t[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_LABEL, (void *)(uintptr_t)label, strlen(label) },
	};
	CK_OBJECT_HANDLE h[2];
	size_t n;

	assert_int_equal(tk_p11raw_find(p, t, 2, h, 2, &n), 0);
	assert_int_equal(n, 1);
	return h[0];
}

static void
private_keys_are_sensitive_and_never_extractable(void **state)
{
	struct tk_p11raw p;
	uint8_t *v;
	size_t len;
	int pur;

	(void)state;
	open_raw(&p, fx);
	for (pur = 0; pur < TK_KEY_PURPOSES; pur++) {
		const char *l = tk_key_label((enum tk_key_purpose)pur);
		CK_OBJECT_HANDLE k = one_object(&p, CKO_PRIVATE_KEY, l);
		CK_OBJECT_HANDLE c = one_object(&p, CKO_CERTIFICATE, l);
		uint8_t id[2] = { 0x74, (uint8_t)(pur + 1) };

		assert_true(bool_attr(&p, k, CKA_SENSITIVE));
		assert_false(bool_attr(&p, k, CKA_EXTRACTABLE));
		assert_true(bool_attr(&p, k, CKA_NEVER_EXTRACTABLE));
		assert_true(bool_attr(&p, k, CKA_ALWAYS_SENSITIVE));
		assert_true(bool_attr(&p, k, CKA_TOKEN));
		assert_true(bool_attr(&p, k, CKA_PRIVATE));
		assert_true(bool_attr(&p, k, CKA_SIGN));
		assert_false(bool_attr(&p, k, CKA_DECRYPT));
		assert_false(bool_attr(&p, k, CKA_DERIVE));
		assert_int_equal(tk_p11raw_get(&p, k, CKA_VALUE, &v, &len),
		    -1);
		assert_int_equal(tk_p11raw_get(&p, k, CKA_ID, &v, &len), 0);
		assert_int_equal(len, 2);
		assert_memory_equal(v, id, 2);
		free(v);
		assert_int_equal(tk_p11raw_get(&p, c, CKA_ID, &v, &len), 0);
		assert_memory_equal(v, id, 2);
		free(v);
	}
	tk_p11raw_close(&p);
}

static int
cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every object on the token as sorted "class label id-len hash" lines. */
static void
snapshot(const struct tk_fixture_token *t, char *out, size_t cap)
{
	struct tk_p11raw p;
	CK_OBJECT_HANDLE h[64];
	char *lines[64];
	size_t n, i, o = 0;

	open_raw(&p, t);
	assert_int_equal(tk_p11raw_find(&p, NULL, 0, h, 64, &n), 0);
	for (i = 0; i < n; i++) {
		uint8_t *lab = NULL, *id = NULL, *val = NULL, *cls = NULL;
		uint8_t md[32];
		size_t ll = 0, il = 0, vl = 0, cl = 0;
		char hex[65] = "-", line[256];

		tk_p11raw_get(&p, h[i], CKA_CLASS, &cls, &cl);
		tk_p11raw_get(&p, h[i], CKA_LABEL, &lab, &ll);
		tk_p11raw_get(&p, h[i], CKA_ID, &id, &il);
		if (tk_p11raw_get(&p, h[i], CKA_VALUE, &val, &vl) == 0) {
			SHA256(val, vl, md);
			tk_hex_encode(md, 32, hex);
		}
		snprintf(line, sizeof(line), "%u %.*s %zu %s\n",
		    cls != NULL ? cls[0] : 99u, (int)ll,
		    lab != NULL ? (char *)lab : "", il, hex);
		assert_non_null(lines[i] = strdup(line));
		free(cls);
		free(lab);
		free(id);
		free(val);
	}
	tk_p11raw_close(&p);
	qsort(lines, n, sizeof(lines[0]), cmp_line);
	out[0] = '\0';
	for (i = 0; i < n; i++) {
		o += (size_t)snprintf(out + o, cap - o, "%s", lines[i]);
		assert_true(o < cap);
		free(lines[i]);
	}
}

static int
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static void
second_ceremony_refuses_and_leaves_token_unchanged(void **state)
{
	char before[8192], after[8192], out[1024];

	(void)state;
	snapshot(fx, before, sizeof(before));
	assert_non_null(strstr(before, "twokey-audit"));
	snprintf(out, sizeof(out), "%s/again", fx->dir);
	assert_int_equal(tk_ceremony_spawn(fx->signer_path, fx->uri, out),
	    TK_HSM_ERR_KEY_EXISTS);
	snapshot(fx, after, sizeof(after));
	assert_string_equal(before, after);
	assert_false(exists(out));
}

/*
 * Puts a stranger's object on the token: a data object with that label,
 * or, with an id, a certificate object (data objects have no CKA_ID).
 */
static void
create_object(const struct tk_fixture_token *t, const char *label,
    const uint8_t *id, size_t idlen)
{
	struct tk_p11raw p;
	CK_OBJECT_CLASS data = CKO_DATA, cert = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_BBOOL yes = CK_TRUE;
	X509 *x = read_pem(fx->token_pem);
	unsigned char *der = NULL, *subj = NULL;
	int dl = i2d_X509(x, &der);
	int sl = i2d_X509_NAME(X509_get_subject_name(x), &subj);
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, idlen > 0 ? &cert : &data, sizeof(data) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_LABEL, (void *)(uintptr_t)label, strlen(label) },
		{ CKA_CERTIFICATE_TYPE, &ct, sizeof(ct) },
		{ CKA_ID, (void *)(uintptr_t)id, idlen },
		{ CKA_SUBJECT, subj, (CK_ULONG)sl },
		{ CKA_VALUE, der, (CK_ULONG)dl },
	};
	CK_OBJECT_HANDLE h;
	CK_RV rv;

	assert_true(dl > 0 && sl > 0);
	open_raw(&p, t);
	rv = p.f->C_CreateObject(p.session, tmpl, idlen > 0 ? 7 : 3, &h);
	tk_p11raw_close(&p);
	OPENSSL_free(der);
	OPENSSL_free(subj);
	X509_free(x);
	assert_int_equal(rv, CKR_OK);
}

static void
ceremony_refuses_when_one_label_is_taken_and_creates_nothing(void **state)
{
	struct tk_fixture_token *t = NULL;
	char before[4096], after[4096];

	(void)state;
	assert_int_equal(tk_fixture_token_new_empty(getenv("TWOKEY_TEST_TMP"),
	    "partial", &t), 0);
	create_object(t, "twokey-token", NULL, 0);
	snapshot(t, before, sizeof(before));
	assert_int_equal(tk_fixture_token_ceremony(t), TK_HSM_ERR_KEY_EXISTS);
	snapshot(t, after, sizeof(after));
	assert_string_equal(before, after);
	assert_false(exists(t->root_pem));
	tk_fixture_token_free(&t);
}

static void
ceremony_refuses_when_one_id_is_taken_and_creates_nothing(void **state)
{
	static const uint8_t audit_id[] = { 0x74, 0x02 };
	struct tk_fixture_token *t = NULL;
	char before[4096], after[4096];

	(void)state;
	assert_int_equal(tk_fixture_token_new_empty(getenv("TWOKEY_TEST_TMP"),
	    "sameid", &t), 0);
	create_object(t, "someone-else", audit_id, sizeof(audit_id));
	snapshot(t, before, sizeof(before));
	assert_int_equal(tk_fixture_token_ceremony(t), TK_HSM_ERR_KEY_EXISTS);
	snapshot(t, after, sizeof(after));
	assert_string_equal(before, after);
	tk_fixture_token_free(&t);
}

static void
failed_ceremony_destroys_what_it_created(void **state)
{
	struct tk_fixture_token *t = NULL;
	char after[4096];

	(void)state;
	assert_int_equal(tk_fixture_token_new_empty(getenv("TWOKEY_TEST_TMP"),
	    "rollback", &t), 0);
	/* Keys and certificates get made, then the output cannot be. */
	free(t->out_dir);
	assert_non_null(t->out_dir = strdup("/etc/passwd/twokey-out"));
	assert_int_equal(tk_fixture_token_ceremony(t), TK_HSM_ERR_IO);
	snapshot(t, after, sizeof(after));
	assert_string_equal(after, "");
	/* Nothing is left in the way of a second, successful run. */
	free(t->out_dir);
	assert_non_null(t->out_dir = strdup(t->dir));
	assert_int_equal(tk_fixture_token_ceremony(t), 0);
	snapshot(t, after, sizeof(after));
	assert_non_null(strstr(after, "twokey-root"));
	tk_fixture_token_free(&t);
}

static void
ceremony_errors_are_named(void **state)
{
	char uri[2048];

	(void)state;
	snprintf(uri, sizeof(uri), "pkcs11:token=absent?module-path=%s"
	    "&pin-source=file:%s", fx->module_path, fx->user_pin_file);
	assert_int_equal(tk_ceremony_spawn(fx->signer_path, uri, fx->dir),
	    TK_HSM_ERR_NO_TOKEN);
	assert_int_equal(tk_ceremony_spawn(fx->signer_path, "pkcs11:token=a"
	    "?pin-value=1234", fx->dir), TK_HSM_ERR_URI);
	snprintf(uri, sizeof(uri), "pkcs11:token=twokey?module-path=/none.so"
	    "&pin-source=file:%s", fx->user_pin_file);
	assert_int_equal(tk_ceremony_spawn(fx->signer_path, uri, fx->dir),
	    TK_HSM_ERR_MODULE);
	assert_int_equal(tk_ceremony_spawn("/nonexistent/signer", fx->uri,
	    fx->dir), TK_HSM_ERR_SPAWN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(root_fingerprint_file_matches_openssl),
		cmocka_unit_test(
		    certificates_carry_documented_usages_and_lifetimes),
		cmocka_unit_test(
		    private_keys_are_sensitive_and_never_extractable),
		cmocka_unit_test(
		    second_ceremony_refuses_and_leaves_token_unchanged),
		cmocka_unit_test(
		  ceremony_refuses_when_one_label_is_taken_and_creates_nothing),
		cmocka_unit_test(
		    ceremony_refuses_when_one_id_is_taken_and_creates_nothing),
		cmocka_unit_test(failed_ceremony_destroys_what_it_created),
		cmocka_unit_test(ceremony_errors_are_named),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
