/* Specifications of the shared codecs and file helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "twokey/common.h"

static void
b64url_round_trips_every_length(void **state)
{
	uint8_t in[70], *dec;
	size_t n, declen;
	char *enc;

	(void)state;
	for (n = 0; n < sizeof(in); n++)
		in[n] = (uint8_t)(n * 37 + 11);
	for (n = 0; n <= sizeof(in); n++) {
		enc = tk_b64url_encode(in, n);
		assert_non_null(enc);
		assert_null(strchr(enc, '='));
		assert_int_equal(tk_b64url_decode(enc, strlen(enc), &dec,
		    &declen), TK_OK);
		assert_int_equal(declen, n);
		if (n > 0)
			assert_memory_equal(dec, in, n);
		free(dec);
		free(enc);
	}
}

static void
b64url_refuses_padding_whitespace_and_std_alphabet(void **state)
{
	static const char *bad[] = { "AA==", "AA A", "A+/A", "A", "AB\n",
	    "AB" /* non-zero unused bits */ };
	uint8_t *dec;
	size_t i, declen;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tk_b64url_decode(bad[i], strlen(bad[i]),
		    &dec, &declen), TK_ERR_INVALID);
}

static void
b64_decodes_rfc4648_vectors(void **state)
{
	static const char *enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==",
	    "Zm9vYmE=", "Zm9vYmFy" };
	static const char *dec[] = { "", "f", "fo", "foo", "foob", "fooba",
	    "foobar" };
	uint8_t *out;
	size_t i, outlen;

	(void)state;
	for (i = 0; i < 7; i++) {
		assert_int_equal(tk_b64_decode(enc[i], strlen(enc[i]), &out,
		    &outlen), TK_OK);
		assert_int_equal(outlen, strlen(dec[i]));
		assert_memory_equal(out, dec[i], outlen);
		free(out);
	}
	assert_int_equal(tk_b64_decode("Zm9", 3, &out, &outlen),
	    TK_ERR_INVALID);
	assert_int_equal(tk_b64_decode("Zm=v", 4, &out, &outlen),
	    TK_ERR_INVALID);
}

static void
hex_round_trips_and_refuses_bad_digits(void **state)
{
	uint8_t in[4] = { 0x00, 0xab, 0x7f, 0xff }, out[4];
	char hex[9];

	(void)state;
	tk_hex_encode(in, 4, hex);
	assert_string_equal(hex, "00ab7fff");
	assert_int_equal(tk_hex_decode("00AB7fff", out, 4), TK_OK);
	assert_memory_equal(in, out, 4);
	assert_int_equal(tk_hex_decode("00ab7ffg", out, 4), TK_ERR_INVALID);
	assert_int_equal(tk_hex_decode("00ab7f", out, 4), TK_ERR_INVALID);
}

static void
log_escape_hides_control_bytes_and_caps_length(void **state)
{
	char out[32];
	char long_in[100];

	(void)state;
	tk_log_escape(out, sizeof(out), "a\nb\x1b", 4);
	assert_string_equal(out, "a\\x0ab\\x1b");
	memset(long_in, 'x', sizeof(long_in));
	tk_log_escape(out, sizeof(out), long_in, sizeof(long_in));
	assert_true(strlen(out) < sizeof(out));
	assert_non_null(strstr(out, "..."));
}

static char *
write_temp(const char *content, mode_t mode)
{
	char *path = strdup("/tmp/tk-test-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)),
	    (ssize_t)strlen(content));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

static void
secret_file_strips_newline_and_refuses_group_readable(void **state)
{
	char *path;
	uint8_t *buf;
	size_t len;

	(void)state;
	path = write_temp("123456\n", 0600);
	assert_int_equal(tk_read_file(path, 64, 1, &buf, &len), TK_OK);
	assert_int_equal(len, 6);
	assert_memory_equal(buf, "123456", 6);
	tk_secret_free(buf, len);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(tk_read_file(path, 64, 1, &buf, &len), TK_ERR_PERM);
	assert_null(buf);
	unlink(path);
	free(path);
}

static void
file_larger_than_limit_is_refused(void **state)
{
	char *path = write_temp("0123456789", 0600);
	uint8_t *buf;
	size_t len;

	(void)state;
	assert_int_equal(tk_read_file(path, 9, 0, &buf, &len),
	    TK_ERR_TOOBIG);
	assert_int_equal(tk_read_file(path, 10, 0, &buf, &len), TK_OK);
	free(buf);
	unlink(path);
	free(path);
}

/*
 * A verifier reads files under limits of gigabytes; the allocation must
 * follow the file, not the limit. Checked in a child under a 256 MiB
 * address-space limit (not under AddressSanitizer, which reserves far
 * more address space than that for itself).
 */
static void
small_file_under_a_huge_limit_needs_little_memory(void **state)
{
#ifndef __SANITIZE_ADDRESS__
	char *path = write_temp("{\"small\":true}\n", 0644);
	struct rlimit rl = { 256UL << 20, 256UL << 20 };
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		uint8_t *buf;
		size_t len;

		if (setrlimit(RLIMIT_AS, &rl) != 0)
			_exit(2);
		if (tk_read_file(path, (size_t)1 << 32, 0, &buf, &len) != 0 ||
		    len != 15)
			_exit(1);
		free(buf);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	unlink(path);
	free(path);
#else
	(void)state;
#endif
}

static void
printable_text_refuses_malformed_and_invisible(void **state)
{
	const char *bad[] = {
		"\xc0\xaf",		/* overlong slash */
		"\xed\xa0\x80",	/* a surrogate */
		"\xf4\x90\x80\x80",	/* past U+10FFFF */
		"\xe2\x80",		/* cut short */
		"a\xe2\x80\xae" "b",	/* U+202E */
		"tab\there",
		"a\xf3\xa0\x81\x81" "b",	/* U+E0041, a tag letter */
		"a\xe1\xa0\x8e" "b",	/* U+180E, Mongolian separator */
		"a\xcd\x8f" "b",	/* U+034F, grapheme joiner */
		"a\xe3\x85\xa4" "b",	/* U+3164, Hangul filler */
		"a\xe2\xa0\x80" "b",	/* U+2800, braille blank */
		"a\xef\xb8\x80" "b",	/* U+FE00, variation selector */
		"a\xf3\xa0\x84\x80" "b",	/* U+E0100 */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(tk_text_printable(bad[i], strlen(bad[i])),
		    0);
	assert_int_equal(tk_text_printable("Zo\xc3\xab \xe7\x8e\x8b", 8),
	    1);
	assert_int_equal(tk_text_printable("\xf0\x9f\x94\x91", 4), 1);
	/* A check mark asked in colour, U+2714 U+FE0F, is fine. */
	assert_int_equal(tk_text_printable("\xe2\x9c\x94\xef\xb8\x8f", 6),
	    1);
}

static void
utc_dates_are_strict_and_real(void **state)
{
	static const char *bad[] = { "2026-02-30", "2026-13-01",
	    "2026-1-01", "1969-12-31", "2026-01-01T24:00:00Z",
	    "2026-01-01T00:00:00", "2026-01-01 00:00:00Z", "+026-01-01",
	    "yesterday", "", "2026-01-01T00:00:60Z" };
	int64_t t = 0;
	size_t i;

	(void)state;
	assert_int_equal(tk_utc_parse("1970-01-02", &t), 0);
	assert_int_equal(t, 86400);
	assert_int_equal(tk_utc_parse("2024-02-29T23:59:59Z", &t), 0);
	assert_int_equal(t, 1709251199);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (tk_utc_parse(bad[i], &t) == 0)
			fail_msg("\"%s\" was taken as a date", bad[i]);
	assert_int_equal(tk_utc_parse(NULL, &t), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(b64url_round_trips_every_length),
		cmocka_unit_test(utc_dates_are_strict_and_real),
		cmocka_unit_test(
		    b64url_refuses_padding_whitespace_and_std_alphabet),
		cmocka_unit_test(b64_decodes_rfc4648_vectors),
		cmocka_unit_test(hex_round_trips_and_refuses_bad_digits),
		cmocka_unit_test(
		    log_escape_hides_control_bytes_and_caps_length),
		cmocka_unit_test(
		    secret_file_strips_newline_and_refuses_group_readable),
		cmocka_unit_test(file_larger_than_limit_is_refused),
		cmocka_unit_test(
		    printable_text_refuses_malformed_and_invisible),
		cmocka_unit_test(
		    small_file_under_a_huge_limit_needs_little_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
