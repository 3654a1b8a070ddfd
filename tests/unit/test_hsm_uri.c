/*
 * Specifications of the RFC 7512 URI parser and the pin-source reader:
 * what is accepted, what is refused, and that a PIN never shows up in an
 * error message.
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

#include "twokey/common.h"
#include "twokey/hsm.h"
#include "../../hsm/hsm_int.h"

static struct tk_p11_uri *
parse_ok(const char *s)
{
	struct tk_p11_uri *u = NULL;
	char why[256];

	assert_int_equal(tk_p11_uri_parse(s, &u, why, sizeof(why)), 0);
	assert_non_null(u);
	return u;
}

static void
parses_the_uri_softhsm_setup_prints(void **state)
{
	struct tk_p11_uri *u = parse_ok("pkcs11:token=twokey?module-path="
	    "/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/var/lib/twokey"
	    "/user.pin");

	(void)state;
	assert_string_equal(u->token, "twokey");
	assert_string_equal(u->module_path, "/usr/lib/softhsm/libsofthsm2.so");
	assert_string_equal(u->pin_file, "/var/lib/twokey/user.pin");
	assert_null(u->pin_credential);
	assert_null(u->object);
	tk_p11_uri_free(&u);
	assert_null(u);
	tk_p11_uri_free(&u);
}

static void
percent_escapes_are_decoded(void **state)
{
	static const uint8_t id[] = { 0x01, 0x00, 0xff };
	struct tk_p11_uri *u = parse_ok("pkcs11:token=my%20token;"
	    "id=%01%00%FF;object=twokey-root;type=private;serial=5efb%2f1"
	    "?module-path=/opt/my%20hsm/p11.so&pin-source=file:/p%3a1");

	(void)state;
	assert_string_equal(u->token, "my token");
	assert_int_equal(u->id_len, sizeof(id));
	assert_memory_equal(u->id, id, sizeof(id));
	assert_string_equal(u->object, "twokey-root");
	assert_string_equal(u->type, "private");
	assert_string_equal(u->serial, "5efb/1");
	assert_string_equal(u->module_path, "/opt/my hsm/p11.so");
	assert_string_equal(u->pin_file, "/p:1");
	tk_p11_uri_free(&u);
}

static void
scheme_is_case_insensitive_and_path_may_be_empty(void **state)
{
	struct tk_p11_uri *u = parse_ok("PKCS11:token=a");

	(void)state;
	assert_string_equal(u->token, "a");
	tk_p11_uri_free(&u);
	u = parse_ok("pkcs11:");
	assert_null(u->token);
	tk_p11_uri_free(&u);
	u = parse_ok("pkcs11:?module-path=/m.so");
	assert_string_equal(u->module_path, "/m.so");
	tk_p11_uri_free(&u);
}

static void
unknown_attributes_are_ignored(void **state)
{
	struct tk_p11_uri *u = parse_ok("pkcs11:x-vendor=1;token=a;"
	    "slot-id=3;library-version=2.6?x-opt=yes&module-path=/m.so");

	(void)state;
	assert_string_equal(u->token, "a");
	assert_string_equal(u->module_path, "/m.so");
	tk_p11_uri_free(&u);
}

static void
pin_source_forms(void **state)
{
	struct tk_p11_uri *u = parse_ok("pkcs11:?pin-source=file:///etc/p");

	(void)state;
	assert_string_equal(u->pin_file, "/etc/p");
	tk_p11_uri_free(&u);
	u = parse_ok("pkcs11:?pin-source=/etc/p");
	assert_string_equal(u->pin_file, "/etc/p");
	tk_p11_uri_free(&u);
	u = parse_ok("pkcs11:?pin-source=credential:twokey-pin");
	assert_null(u->pin_file);
	assert_string_equal(u->pin_credential, "twokey-pin");
	tk_p11_uri_free(&u);
}

static void
malformed_uris_are_refused_with_a_reason(void **state)
{
	static const struct {
		const char *uri, *why;
	} bad[] = {
		{ "", "pkcs11:" },
		{ "http:token=a", "pkcs11:" },
		{ "pkcs11:token=%zz", "malformed percent escape" },
		{ "pkcs11:token=%4", "percent" },
		{ "pkcs11:token=a%", "percent" },
		{ "pkcs11:token=a%00b", "NUL byte in attribute 'token'" },
		{ "pkcs11:token=a;token=b", "twice" },
		{ "pkcs11:id=%01;id=%02", "twice" },
		{ "pkcs11:token", "name=value" },
		{ "pkcs11:=a", "name=value" },
		{ "pkcs11:token=a;;object=b", "name=value" },
		{ "pkcs11:token=a;", "trailing" },
		{ "pkcs11:?module-path=/m&", "trailing" },
		{ "pkcs11:Token=a", "attribute name" },
		{ "pkcs11:token=a b", "percent" },
		{ "pkcs11:token=a#frag", "percent" },
		{ "pkcs11:token=a\n", "percent" },
		{ "pkcs11:token=\xc3\xa9", "percent" },
		{ "pkcs11:token=", "empty value in attribute 'token'" },
		{ "pkcs11:id=", "empty value in attribute 'id'" },
		{ "pkcs11:type=foo", "object type" },
		{ "pkcs11:?module-path=lib/p11.so", "absolute" },
		{ "pkcs11:?module-path=/a&module-path=/b", "twice" },
		{ "pkcs11:?module-name=softhsm2", "module-path" },
		{ "pkcs11:?pin-source=relative/pin", "neither" },
		{ "pkcs11:?pin-source=https://example.org/pin", "neither" },
		{ "pkcs11:?pin-source=credential:../pin", "plain name" },
		{ "pkcs11:?pin-source=credential:a%2fb", "plain name" },
		{ "pkcs11:?pin-source=credential:", "plain name" },
		{ "pkcs11:?pin-source=file:/a&pin-source=file:/b", "twice" },
	};
	struct tk_p11_uri *u;
	char why[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		u = (struct tk_p11_uri *)1;
		if (tk_p11_uri_parse(bad[i].uri, &u, why, sizeof(why)) !=
		    TK_HSM_ERR_URI || u != NULL ||
		    strstr(why, bad[i].why) == NULL)
			fail_msg("uri %zu '%s': got '%s', want '%s'", i,
			    bad[i].uri, why, bad[i].why);
	}
	assert_int_equal(tk_p11_uri_parse(NULL, &u, why, sizeof(why)),
	    TK_HSM_ERR_URI);
}

static void
overlong_uri_is_refused(void **state)
{
	char *s = malloc(TK_P11_URI_MAX + 2);
	struct tk_p11_uri *u;
	char why[256];

	(void)state;
	assert_non_null(s);
	memcpy(s, "pkcs11:token=", 13);
	memset(s + 13, 'a', TK_P11_URI_MAX + 1 - 13);
	s[TK_P11_URI_MAX + 1] = '\0';
	assert_int_equal(tk_p11_uri_parse(s, &u, why, sizeof(why)),
	    TK_HSM_ERR_URI);
	assert_non_null(strstr(why, "4096"));
	s[TK_P11_URI_MAX] = '\0';	/* exactly the limit is fine */
	assert_int_equal(tk_p11_uri_parse(s, &u, why, sizeof(why)), 0);
	tk_p11_uri_free(&u);
	free(s);
}

static void
pin_value_is_refused_and_never_echoed(void **state)
{
	static const char *uris[] = {
		"pkcs11:token=a?pin-value=s3cr3t-4711",
		"pkcs11:token=a?module-path=/m.so&pin-value=s3cr3t-4711",
		"pkcs11:token=a?pin-value=s3cr3t-4711&pin-source=file:/p",
		"pkcs11:token=a?pin-value=s3cr3t%2d4711",
	};
	struct tk_p11_uri *u;
	char why[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(uris) / sizeof(uris[0]); i++) {
		assert_int_equal(tk_p11_uri_parse(uris[i], &u, why,
		    sizeof(why)), TK_HSM_ERR_URI);
		assert_non_null(strstr(why, "pin-value is refused"));
		assert_null(strstr(why, "s3cr3t"));
		assert_null(strstr(why, "4711"));
	}
}

static const char *
tmp_file(const char *name, const char *content, mode_t mode)
{
	static char path[4][512];
	static int n;
	char *p = path[n++ % 4];
	FILE *f;

	snprintf(p, 512, "%s/%s", getenv("TWOKEY_TEST_TMP"), name);
	assert_non_null(f = fopen(p, "w"));
	fputs(content, f);
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
	return p;
}

static int
read_pin_of(const char *uri, char **pin, size_t *len, char *why,
    size_t whylen)
{
	struct tk_p11_uri *u = parse_ok(uri);
	int r = tk_p11_uri_read_pin(u, pin, len, why, whylen);

	tk_p11_uri_free(&u);
	return r;
}

static void
pin_is_read_from_a_private_file(void **state)
{
	char uri[600], why[256], *pin;
	size_t len;

	(void)state;
	snprintf(uri, sizeof(uri), "pkcs11:?pin-source=file:%s",
	    tmp_file("ok.pin", "12345678\n", 0600));
	assert_int_equal(read_pin_of(uri, &pin, &len, why, sizeof(why)), 0);
	assert_int_equal(len, 8);
	assert_string_equal(pin, "12345678");
	tk_secret_free(pin, len + 1);
}

static void
unsafe_missing_or_empty_pin_files_are_refused(void **state)
{
	const char *files[3];
	const char *want[] = { "readable", "input/output", "empty" };
	char uri[600], why[256], *pin = NULL;
	size_t len, i;

	(void)state;
	files[0] = tmp_file("group.pin", "87654321\n", 0640);
	files[1] = "/nonexistent/twokey/user.pin";
	files[2] = tmp_file("empty.pin", "\n", 0600);
	for (i = 0; i < 3; i++) {
		snprintf(uri, sizeof(uri), "pkcs11:?pin-source=file:%s",
		    files[i]);
		assert_int_equal(read_pin_of(uri, &pin, &len, why,
		    sizeof(why)), TK_HSM_ERR_PIN_SOURCE);
		assert_null(pin);
		assert_non_null(strstr(why, want[i]));
		assert_non_null(strstr(why, "PIN file"));
		assert_null(strstr(why, "87654321"));
	}
}

static void
credential_pin_source_reads_the_credentials_directory(void **state)
{
	char why[256], *pin = NULL;
	size_t len;

	(void)state;
	tmp_file("twokey-pin", "cred-pin-1\n", 0600);
	assert_int_equal(setenv("CREDENTIALS_DIRECTORY",
	    getenv("TWOKEY_TEST_TMP"), 1), 0);
	assert_int_equal(read_pin_of("pkcs11:?pin-source=credential:"
	    "twokey-pin", &pin, &len, why, sizeof(why)), 0);
	assert_string_equal(pin, "cred-pin-1");
	tk_secret_free(pin, len + 1);
	pin = NULL;
	assert_int_equal(unsetenv("CREDENTIALS_DIRECTORY"), 0);
	assert_int_equal(read_pin_of("pkcs11:?pin-source=credential:"
	    "twokey-pin", &pin, &len, why, sizeof(why)),
	    TK_HSM_ERR_PIN_SOURCE);
	assert_non_null(strstr(why, "CREDENTIALS_DIRECTORY"));
	assert_int_equal(read_pin_of("pkcs11:token=a", &pin, &len, why,
	    sizeof(why)), TK_HSM_ERR_PIN_SOURCE);
	assert_non_null(strstr(why, "no pin-source"));
}

static void
labels_and_messages_are_named(void **state)
{
	int e;

	(void)state;
	assert_string_equal(tk_key_label(TK_KEY_ROOT), "twokey-root");
	assert_string_equal(tk_key_label(TK_KEY_AUDIT), "twokey-audit");
	assert_string_equal(tk_key_label(TK_KEY_TOKEN), "twokey-token");
	for (e = TK_HSM_ERR_LAST; e <= TK_HSM_ERR_NOMEM; e++)
		assert_string_not_equal(tk_hsm_strerror(e), "unknown error");
	assert_string_equal(tk_hsm_strerror(-1), "unknown error");
	assert_string_equal(tk_hsm_strerror(TK_HSM_ERR_PIN), "wrong PIN");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_the_uri_softhsm_setup_prints),
		cmocka_unit_test(percent_escapes_are_decoded),
		cmocka_unit_test(
		    scheme_is_case_insensitive_and_path_may_be_empty),
		cmocka_unit_test(unknown_attributes_are_ignored),
		cmocka_unit_test(pin_source_forms),
		cmocka_unit_test(malformed_uris_are_refused_with_a_reason),
		cmocka_unit_test(overlong_uri_is_refused),
		cmocka_unit_test(pin_value_is_refused_and_never_echoed),
		cmocka_unit_test(pin_is_read_from_a_private_file),
		cmocka_unit_test(
		    unsafe_missing_or_empty_pin_files_are_refused),
		cmocka_unit_test(
		    credential_pin_source_reads_the_credentials_directory),
		cmocka_unit_test(labels_and_messages_are_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
