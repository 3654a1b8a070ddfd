/*
 * Every case in shared/cases/webauthn (read in place) through the
 * twokey-webauthn-case program: the verdict must equal the case's expect,
 * and a refusal must come from the check the expect names (mapping below).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <jansson.h>

#define CASES_MIN	30

/*
 * The expect strings are prose written by whoever assembled the cases;
 * this table maps a phrase in them to the check name the tool prints
 * (tk_webauthn_errname). First match wins, so specific phrases go first.
 */
static const struct {
	const char	*phrase;
	const char	*check;
} reasons[] = {
	{ "signature does not verify", "sig" },
	{ "signCount", "counter" },
	{ "rpIdHash", "rpid" },
	{ "UP flag", "up" },
	{ "user verification required", "uv" },
	{ "clientDataJSON.type", "type" },
	{ "tokenBinding", "token-binding" },
	{ "challenge", "challenge" },
	{ "origin", "origin" },
};

struct one {
	char	path[4096];
	char	name[256];
};

static const char *
expected_check(const char *expect)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strstr(expect, reasons[i].phrase) != NULL)
			return reasons[i].check;
	return NULL;
}

/* Runs the tool; returns its exit status and its first output line. */
static int
run_tool(const char *path, char *line, size_t cap)
{
	char cmd[8192];
	const char *build = getenv("TWOKEY_BUILD");
	FILE *p;
	int st;

	assert_non_null(build);
	assert_true((size_t)snprintf(cmd, sizeof(cmd),
	    "'%s/twokey-webauthn-case' '%s'", build, path) < sizeof(cmd));
	assert_non_null(p = popen(cmd, "r"));
	line[0] = '\0';
	if (fgets(line, (int)cap, p) != NULL)
		line[strcspn(line, "\n")] = '\0';
	st = pclose(p);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void
case_verdict_matches_expect(void **state)
{
	const struct one *c = *state;
	char line[512], want[64];
	const char *expect, *check;
	json_error_t e;
	json_t *j;
	int rc;

	assert_non_null(j = json_load_file(c->path, 0, &e));
	assert_non_null(expect = json_string_value(json_object_get(j,
	    "expect")));
	rc = run_tool(c->path, line, sizeof(line));
	print_message("%s: %s\n", c->name, line);
	if (strcmp(expect, "ok") == 0) {
		assert_int_equal(rc, 0);
		assert_string_equal(line, "ok");
	} else {
		assert_int_equal(rc, 1);
		assert_non_null(check = expected_check(expect));
		snprintf(want, sizeof(want), "fail: %s: ", check);
		if (strncmp(line, want, strlen(want)) != 0)
			fail_msg("%s: expected a refusal by \"%s\" (%s), got "
			    "\"%s\"", c->name, check, expect, line);
	}
	json_decref(j);
}

static void
unreadable_case_exits_2(void **state)
{
	char line[512];

	(void)state;
	assert_int_equal(run_tool("/nonexistent/case.json", line,
	    sizeof(line)), 2);
}

static size_t
list_cases(const char *dir, struct one **out)
{
	struct dirent **ents = NULL;
	struct one *cs;
	size_t n = 0, len;
	int i, m;

	m = scandir(dir, &ents, NULL, alphasort);
	assert_true(m > 0);
	cs = calloc((size_t)m, sizeof(*cs));
	assert_non_null(cs);
	for (i = 0; i < m; i++) {
		len = strlen(ents[i]->d_name);
		if (len > 5 && len < sizeof(cs[n].name) &&
		    strcmp(ents[i]->d_name + len - 5, ".json") == 0 &&
		    strlen(dir) + len + 2 <= sizeof(cs[n].path)) {
			memcpy(cs[n].path, dir, strlen(dir));
			cs[n].path[strlen(dir)] = '/';
			memcpy(cs[n].path + strlen(dir) + 1, ents[i]->d_name,
			    len + 1);
			memcpy(cs[n].name, ents[i]->d_name, len - 5);
			n++;
		}
		free(ents[i]);
	}
	free(ents);
	*out = cs;
	return n;
}

int
main(void)
{
	const char *top = getenv("TWOKEY_TOP");
	struct CMUnitTest *tests;
	struct one *cs = NULL;
	char dir[3072];
	size_t i, n;
	int rc;

	if (top == NULL) {
		fprintf(stderr, "TWOKEY_TOP is not set\n");
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/../shared/cases/webauthn", top);
	n = list_cases(dir, &cs);
	if (n < CASES_MIN) {
		fprintf(stderr, "only %zu cases in %s\n", n, dir);
		return 1;
	}
	tests = calloc(n + 1, sizeof(*tests));
	if (tests == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		tests[i].name = cs[i].name;
		tests[i].test_func = case_verdict_matches_expect;
		tests[i].initial_state = &cs[i];
	}
	tests[n].name = "unreadable_case_exits_2";
	tests[n].test_func = unreadable_case_exits_2;
	rc = _cmocka_run_group_tests("webauthn_cases", tests, n + 1, NULL,
	    NULL);
	free(tests);
	free(cs);
	return rc;
}
