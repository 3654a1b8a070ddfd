/*
 * Specifications of the body checks every API route runs before its
 * handler: what a client is told, in which words, for each kind of bad
 * body, and which strings a name or a reason may hold.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "twokey/web.h"

static const struct tk_field name_only[] = {
	{ "name", TK_FIELD_STRING, 1, 1, 8 },
};

static int
check(const char *body, char *msg, size_t msglen)
{
	json_t *obj;
	int r;

	obj = tk_web_parse_body(body, strlen(body), msg, msglen);
	if (obj == NULL)
		return -2;
	r = tk_web_check_fields(obj, name_only, 1, msg, msglen);
	json_decref(obj);
	return r;
}

static void
json_null_is_named_as_not_an_object(void **state)
{
	const char *scalars[] = { "null", "true", "42", "\"x\"", "[]" };
	char msg[160];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
		msg[0] = '\0';
		assert_int_equal(check(scalars[i], msg, sizeof(msg)), -2);
		assert_string_equal(msg, "the body must be a JSON object");
	}
}

static void
broken_json_names_the_place(void **state)
{
	char msg[160];

	(void)state;
	assert_int_equal(check("{\"name\":", msg, sizeof(msg)), -2);
	assert_non_null(strstr(msg, "not valid JSON"));
	assert_non_null(strstr(msg, "column"));
	/* What is wrong, in words, where jansson can tell. */
	assert_int_equal(check("{\"name\":\"a\",\"name\":\"b\"}", msg,
	    sizeof(msg)), -2);
	assert_non_null(strstr(msg, "a key is given twice"));
	assert_int_equal(check("{\"name\":\"a\\u0000\"}", msg, sizeof(msg)),
	    -2);
	assert_non_null(strstr(msg, "NUL character"));
}

static void
lengths_are_utf8_bytes_as_the_description_says(void **state)
{
	char msg[160];

	(void)state;
	/* Four characters, eight bytes: within max 8; five are not. */
	assert_int_equal(check("{\"name\":\"\u00e9\u00e9\u00e9\u00e9\"}",
	    msg, sizeof(msg)), 0);
	assert_int_equal(check("{\"name\":\"\u00e9\u00e9\u00e9\u00e9"
	    "\u00e9\"}", msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "1 to 8 bytes long (UTF-8)"));
}

static void
a_fixed_length_is_said_as_one_number(void **state)
{
	static const struct tk_field id_only[] = {
		{ "id", TK_FIELD_STRING, 1, 4, 4 },
	};
	char msg[160];
	json_t *obj;

	(void)state;
	obj = tk_web_parse_body("{\"id\":\"abc\"}", 12, msg, sizeof(msg));
	assert_non_null(obj);
	assert_int_equal(tk_web_check_fields(obj, id_only, 1, msg,
	    sizeof(msg)), -1);
	assert_string_equal(msg, "field \"id\" must be exactly 4 bytes long");
	json_decref(obj);
}

static void
invisible_and_direction_characters_are_refused(void **state)
{
	/* Each would let a name or reason read differently on a page. */
	const char *bad[] = {
		"{\"name\":\"ab\\u202ecd\"}",	/* right-to-left override */
		"{\"name\":\"ab\\u2066cd\"}",	/* left-to-right isolate */
		"{\"name\":\"ab\\u200fcd\"}",	/* right-to-left mark */
		"{\"name\":\"ab\\u200bcd\"}",	/* zero width space */
		"{\"name\":\"ab\\u2028cd\"}",	/* line separator */
		"{\"name\":\"ab\\ufeffcd\"}",	/* byte order mark */
		"{\"name\":\"ab\\u0085cd\"}",	/* C1 next line */
		"{\"name\":\"ab\\u061ccd\"}",	/* Arabic letter mark */
		"{\"name\":\"ab\\u0007cd\"}",	/* bell */
	};
	char msg[160];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg[0] = '\0';
		assert_int_equal(check(bad[i], msg, sizeof(msg)), -1);
		assert_non_null(strstr(msg, "not allowed"));
	}
	assert_int_equal(check("{\"name\":\"Zo\\u00eb \\u738b\"}", msg,
	    sizeof(msg)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(json_null_is_named_as_not_an_object),
		cmocka_unit_test(broken_json_names_the_place),
		cmocka_unit_test(
		    lengths_are_utf8_bytes_as_the_description_says),
		cmocka_unit_test(a_fixed_length_is_said_as_one_number),
		cmocka_unit_test(
		    invisible_and_direction_characters_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
