/*
 * web/openapi.json and the server's route table must say the same thing:
 * every route described, every described operation served, and each body
 * described with the same fields, the same required ones, the same types
 * and bounds, and no additional properties.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <jansson.h>

#include "twokey/web.h"

static json_t *spec;

static int
load_spec(void **state)
{
	const char *top = getenv("TWOKEY_TOP");
	char path[4096];
	json_error_t e;

	(void)state;
	snprintf(path, sizeof(path), "%s/web/openapi.json",
	    top != NULL ? top : ".");
	spec = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
	if (spec == NULL)
		fprintf(stderr, "%s: line %d: %s\n", path, e.line, e.text);
	return spec == NULL ? -1 : 0;
}

static int
free_spec(void **state)
{
	(void)state;
	json_decref(spec);
	return 0;
}

static json_t *
operation(const char *method, const char *path)
{
	char m[16];
	size_t i;

	for (i = 0; method[i] != '\0' && i < sizeof(m) - 1; i++)
		m[i] = (char)(method[i] | 0x20);
	m[i] = '\0';
	return json_object_get(json_object_get(json_object_get(spec,
	    "paths"), path), m);
}

static void
every_route_is_described(void **state)
{
	const struct tk_web_route_info *r;
	size_t i;

	(void)state;
	assert_true(tk_web_route_count() > 0);
	for (i = 0; (r = tk_web_route(i)) != NULL; i++)
		if (operation(r->method, r->path) == NULL)
			fail_msg("%s %s is served but not in openapi.json",
			    r->method, r->path);
	assert_int_equal(i, tk_web_route_count());
}

static int
served(const char *method, const char *path)
{
	const struct tk_web_route_info *r;
	size_t i;

	for (i = 0; (r = tk_web_route(i)) != NULL; i++)
		if (strcasecmp(r->method, method) == 0 &&
		    strcmp(r->path, path) == 0)
			return 1;
	return 0;
}

static void
every_described_operation_is_served(void **state)
{
	static const char *methods[] = { "get", "put", "post", "delete",
	    "patch", "options", "head", "trace" };
	const char *path, *m;
	json_t *item, *op;
	size_t i, n = 0;

	(void)state;
	json_object_foreach(json_object_get(spec, "paths"), path, item) {
		json_object_foreach(item, m, op) {
			for (i = 0; i < sizeof(methods) / sizeof(methods[0]);
			    i++)
				if (strcmp(m, methods[i]) == 0)
					break;
			if (i == sizeof(methods) / sizeof(methods[0]))
				continue;	/* parameters, summary... */
			if (!served(m, path))
				fail_msg("%s %s is described but not served",
				    m, path);
			n++;
		}
	}
	assert_int_equal(n, tk_web_route_count());
}

static const char *
schema_type(enum tk_field_type t)
{
	switch (t) {
	case TK_FIELD_STRING:
	case TK_FIELD_B64URL:
		return "string";
	case TK_FIELD_INTEGER:
		return "integer";
	case TK_FIELD_BOOLEAN:
		return "boolean";
	case TK_FIELD_STRINGS:
		return "array";
	case TK_FIELD_OBJECT:
		return "object";
	}
	return "?";
}

static void
field_matches(const struct tk_web_route_info *r, const struct tk_field *f,
    json_t *schema)
{
	json_t *p = json_object_get(json_object_get(schema, "properties"),
	    f->name), *req = json_object_get(schema, "required"), *v;
	int required = 0;
	size_t i;

	if (p == NULL)
		fail_msg("%s %s: field %s not described", r->method, r->path,
		    f->name);
	assert_string_equal(json_string_value(json_object_get(p, "type")),
	    schema_type(f->type));
	json_array_foreach(req, i, v)
		if (strcmp(json_string_value(v), f->name) == 0)
			required = 1;
	if (required != f->required)
		fail_msg("%s %s: field %s required %d in C, %d described",
		    r->method, r->path, f->name, f->required, required);
	if (f->type == TK_FIELD_STRING || f->type == TK_FIELD_B64URL) {
		assert_int_equal(json_integer_value(json_object_get(p,
		    "minLength")), f->min);
		assert_int_equal(json_integer_value(json_object_get(p,
		    "maxLength")), f->max);
	}
}

static void
request_bodies_match_the_field_checks(void **state)
{
	const struct tk_web_route_info *r;
	json_t *body, *schema;
	size_t i, j;

	(void)state;
	for (i = 0; (r = tk_web_route(i)) != NULL; i++) {
		body = json_object_get(operation(r->method, r->path),
		    "requestBody");
		if (!r->body) {
			if (body != NULL)
				fail_msg("%s %s takes no body", r->method,
				    r->path);
			continue;
		}
		if (r->body == TK_WEB_BODY_RAW) {
			/* A document, parsed by its handler: JSON or CSV. */
			assert_non_null(json_object_get(json_object_get(body,
			    "content"), "application/json"));
			assert_non_null(json_object_get(json_object_get(body,
			    "content"), "text/csv"));
			continue;
		}
		schema = json_object_get(json_object_get(json_object_get(
		    body, "content"), "application/json"), "schema");
		assert_non_null(schema);
		assert_true(json_is_false(json_object_get(schema,
		    "additionalProperties")));
		assert_int_equal(json_object_size(json_object_get(schema,
		    "properties")), r->nfields);
		for (j = 0; j < r->nfields; j++)
			field_matches(r, &r->fields[j], schema);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_route_is_described),
		cmocka_unit_test(every_described_operation_is_served),
		cmocka_unit_test(request_bodies_match_the_field_checks),
	};

	return cmocka_run_group_tests(tests, load_spec, free_spec);
}
