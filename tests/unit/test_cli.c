/*
 * Specification of the twokey program as users meet it: run as a child
 * process ($TWOKEY_BUILD/twokey), against the real twokeyd over verified
 * TLS where a server is needed, and against real SoftHSM2 tokens for
 * `twokey init`. Each case checks the exit code of docs/twokey.1 and
 * the one message on standard error. The security-key paths are in
 * test_cli_key.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "twokey/cli.h"
#include "twokey/common.h"
#include "../lib/daemon_fixture.h"
#include "../lib/softauthn.h"
#include "../lib/token_fixture.h"

static struct tkd d;
static char server[64];
static char out[65536], err[65536];

static void
slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f != NULL) {
		n = fread(buf, 1, cap - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/* Runs prog (NULL: twokey) with args; stdout, stderr to out, err. */
static int
run_prog(const char *prog, const char *arg0, va_list ap)
{
	const char *argv[32];
	char path[1024], o[800], e[800];
	int n = 1, st;
	pid_t pid;

	if (prog == NULL) {
		snprintf(path, sizeof(path), "%s/twokey",
		    getenv("TWOKEY_BUILD"));
		prog = path;
	}
	argv[0] = prog;
	for (argv[n] = arg0; argv[n] != NULL && n < 31;)
		argv[++n] = va_arg(ap, const char *);
	argv[n] = NULL;
	snprintf(o, sizeof(o), "%s/out.txt", d.dir);
	snprintf(e, sizeof(e), "%s/err.txt", d.dir);
	if ((pid = fork()) == 0) {
		if (freopen(o, "w", stdout) == NULL ||
		    freopen(e, "w", stderr) == NULL)
			_exit(99);
		execvp(prog, (char *const *)(uintptr_t)argv);
		_exit(98);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	slurp(o, out, sizeof(out));
	slurp(e, err, sizeof(err));
	fprintf(stderr, "%s %s: exit %d\n%s", prog, arg0,
	    WIFEXITED(st) ? WEXITSTATUS(st) : -1, err);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static int
twokey(const char *arg0, ...)
{
	va_list ap;
	int rc;

	va_start(ap, arg0);
	rc = run_prog(NULL, arg0, ap);
	va_end(ap);
	return rc;
}

static int
program(const char *prog, const char *arg0, ...)
{
	va_list ap;
	int rc;

	va_start(ap, arg0);
	rc = run_prog(prog, arg0, ap);
	va_end(ap);
	return rc;
}

static const char *
file_in(const char *name, const char *text, mode_t mode)
{
	static char path[8][800];
	static int slot;
	FILE *f;

	slot = (slot + 1) % 8;
	snprintf(path[slot], sizeof(path[slot]), "%s/%s", d.dir, name);
	assert_non_null(f = fopen(path[slot], "w"));
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fchmod(fileno(f), mode), 0);
	assert_int_equal(fclose(f), 0);
	return path[slot];
}

/* Only one line on standard error, naming the problem. */
static void
one_line_saying(const char *what)
{
	assert_non_null(strstr(err, what));
	assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);
}

static int
setup(void **state)
{
	char cfg[800];

	(void)state;
	assert_int_equal(tkd_init(&d, "cli", ""), 0);
	assert_int_equal(tkd_start(&d), 0);
	snprintf(server, sizeof(server), "https://localhost:%u", d.port);
	snprintf(cfg, sizeof(cfg), "%s/xdg", d.dir);
	setenv("XDG_CONFIG_HOME", cfg, 1);
	unsetenv("TWOKEY_SERVER");
	unsetenv("TWOKEY_CA");
	unsetenv("TWOKEY_CONFIG");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	tkd_stop(&d, 15);
	tkd_cleanup();
	return 0;
}

static void
help_names_every_command_and_each_has_its_own(void **state)
{
	static const char *cmds[] = { "init", "status", "enroll", "invite",
	    "request", "requests", "approve", "reject", "grants", "review",
	    "revoke", "changes", "propose", "policy", "suspend",
	    "people", "revoke-credential", "block", "export", "evidence",
	    "api-key", "new-key", "leave" };
	char want[64];
	size_t i;

	(void)state;
	assert_int_equal(twokey("--help", NULL), TK_CLI_OK);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(want, sizeof(want), "twokey %s ", cmds[i]);
		assert_non_null(strstr(out, want));
	}
	/* Every usage line, not only each command's first. */
	assert_non_null(strstr(out, "twokey api-key revoke ID\n"));
	assert_non_null(strstr(out, "twokey request break-glass "));
	/* With the lines it goes on on, and without the descriptions. */
	assert_non_null(strstr(out, "  twokey init [--daemon-config FILE] "
	    "[--out DIR]\n              [--bootstrap NAME:TEAM,"));
	assert_non_null(strstr(out, "[--role ROLE...]\n                "
	    "[--reason TEXT --ticket T]\n"));
	assert_non_null(strstr(out, "--connector C\n                 "
	    "--scope S [--scope S...] --duration D --reason TEXT "
	    "[--ticket T]\n"));
	assert_non_null(strstr(out, "[--scope S...]\n                 "
	    "--duration D --reason TEXT\n"));
	assert_non_null(strstr(out, "twokey propose person.update --person "
	    "ID [--team TEAM] [--role ROLE...]\n                 "
	    "--reason TEXT --ticket T\n"));
	assert_null(strstr(out, "Invites a person"));
	assert_null(strstr(out, "  requester, auditor, commander"));
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		assert_int_equal(twokey(cmds[i], "--help", NULL), TK_CLI_OK);
		snprintf(want, sizeof(want), "twokey %s", cmds[i]);
		assert_memory_equal(out, want, strlen(want));
		assert_string_equal(err, "");
	}
}

static void
version_is_printed_and_exits_0(void **state)
{
	(void)state;
	assert_int_equal(twokey("--version", NULL), TK_CLI_OK);
	assert_string_equal(out, "twokey " TWOKEY_VERSION "\n");
	assert_string_equal(err, "");
	/* Alone: anything beside it is a mistake, not ignored. */
	assert_int_equal(twokey("--version", "extra", NULL), TK_CLI_EUSAGE);
	one_line_saying("--version takes no command, argument or other "
	    "option");
	assert_string_equal(out, "");
	assert_int_equal(twokey("status", "--version", NULL), TK_CLI_EUSAGE);
	assert_int_equal(twokey("--version", "--json", NULL), TK_CLI_EUSAGE);
}

static void
wrong_commands_and_options_are_usage_errors(void **state)
{
	(void)state;
	assert_int_equal(twokey(NULL), TK_CLI_EUSAGE);
	assert_non_null(strstr(err, "usage: twokey"));
	assert_int_equal(twokey("frobnicate", NULL), TK_CLI_EUSAGE);
	one_line_saying("unknown command \"frobnicate\"");
	assert_int_equal(twokey("status", "--bogus", NULL), TK_CLI_EUSAGE);
	one_line_saying("unknown option --bogus");
	/* No abbreviations, and no value echoed. */
	assert_int_equal(twokey("status", "--serv=https://x", NULL),
	    TK_CLI_EUSAGE);
	one_line_saying("unknown option --serv\n");
	assert_int_equal(twokey("status", "--server", NULL), TK_CLI_EUSAGE);
	assert_int_equal(twokey("status", "--scope", "x", "--server",
	    server, NULL), TK_CLI_EUSAGE);
	one_line_saying("status does not take --scope");
	assert_int_equal(twokey("approve", "--server", server, "--ca",
	    d.root_pem, NULL), TK_CLI_EUSAGE);
	assert_non_null(strstr(err, "wrong number of arguments"));
	assert_int_equal(twokey("approve", "seven", "--server", server,
	    "--ca", d.root_pem, NULL), TK_CLI_EUSAGE);
	one_line_saying("a request id is a positive number");
	assert_int_equal(twokey("revoke", "../../x", "--server", server,
	    "--ca", d.root_pem, NULL), TK_CLI_EUSAGE);
	one_line_saying("a grant id is");
	assert_int_equal(twokey("request", "coffee", "--scope", "a",
	    "--reason", "r", "--server", server, "--ca", d.root_pem, NULL),
	    TK_CLI_EUSAGE);
	assert_int_equal(twokey("request", "elevation", "--scope", "a",
	    "--reason", "r", "--duration", "1y", "--server", server, "--ca",
	    d.root_pem, NULL), TK_CLI_EUSAGE);
	one_line_saying("--duration");
	assert_int_equal(twokey("evidence", "--from", "2026-01-01", "--to",
	    "2026-13", "-o", "x", "--server", server, "--ca", d.root_pem,
	    NULL), TK_CLI_EUSAGE);
	one_line_saying("--from and --to are dates");
	assert_int_equal(twokey("status", "--server", server, "--server",
	    server, "--ca", d.root_pem, NULL), TK_CLI_EUSAGE);
	one_line_saying("--server given twice");
}

/* twokey with the server settings and args; all must be usage errors. */
static void
usage_error(const char *want, const char *arg0, ...)
{
	const char *argv[16] = { NULL };
	va_list ap;
	int n = 0;

	va_start(ap, arg0);
	for (argv[n] = arg0; argv[n] != NULL && n < 11;)
		argv[++n] = va_arg(ap, const char *);
	va_end(ap);
	argv[n++] = "--server";
	argv[n++] = server;
	argv[n++] = "--ca";
	argv[n++] = d.root_pem;
	argv[n] = NULL;
	assert_int_equal(twokey(argv[0], argv[1], argv[2], argv[3], argv[4],
	    argv[5], argv[6], argv[7], argv[8], argv[9], argv[10], argv[11],
	    argv[12], argv[13], argv[14], argv[15], NULL), TK_CLI_EUSAGE);
	one_line_saying(want);
}

static void
governance_commands_refuse_bad_input_before_signing_in(void **state)
{
	(void)state;
	usage_error("--reason and --ticket are required", "propose",
	    "policy.set", "--set", "quorum=3", "--ticket", "T-1", NULL);
	usage_error("--reason and --ticket are required", "propose",
	    "policy.set", "--set", "quorum=3", "--reason", "r", NULL);
	usage_error("--args is not JSON: ", "propose", "person.update",
	    "--args", "{\"person\": 2,", "--reason", "r", "--ticket", "T-1",
	    NULL);
	usage_error("--args must be a JSON object", "propose", "policy.set",
	    "--args", "[1]", "--reason", "r", "--ticket", "T-1", NULL);
	usage_error("--args goes alone", "propose", "policy.set", "--args",
	    "{}", "--set", "quorum=3", "--reason", "r", "--ticket", "T-1",
	    NULL);
	usage_error("--set takes KEY=VALUE", "propose", "policy.set",
	    "--set", "quorum", "--reason", "r", "--ticket", "T-1", NULL);
	usage_error("--set quorum given twice", "propose", "policy.set",
	    "--set", "quorum=3", "--set", "quorum=4", "--reason", "r",
	    "--ticket", "T-1", NULL);
	usage_error("person.update takes --person ID", "propose",
	    "person.update", "--team", "x", "--reason", "r", "--ticket",
	    "T-1", NULL);
	usage_error("a person id is a positive number", "propose",
	    "person.reactivate", "--person", "bob", "--reason", "r",
	    "--ticket", "T-1", NULL);
	usage_error("give binding.set its arguments with --args JSON",
	    "propose", "binding.set", "--reason", "r", "--ticket", "T-1",
	    NULL);
	usage_error("a change id is a positive number", "changes", "7b",
	    NULL);
	usage_error("a person id is a positive number", "suspend", "0",
	    NULL);
	usage_error("a credential id is base64url", "revoke-credential",
	    "a/b", NULL);
	/* base64url ids may start with "-": told how to pass them. */
	usage_error("goes after \"--\"", "revoke-credential", "-Xy8", NULL);
	/* An option's value is never the next option, and is named so. */
	usage_error("--user needs a value", "people", "--user", "--json",
	    NULL);
	usage_error("--from needs a value", "evidence", "--from", NULL);
	usage_error("a person id is a positive number", "suspend", "+5",
	    NULL);
	usage_error("a person id is a positive number", "suspend", "05",
	    NULL);
	usage_error("policy does not take --reason", "policy", "--reason",
	    "r", NULL);
	usage_error("need the quorum: give --reason and --ticket", "invite",
	    "zed", "--team", "x", "--role", "admin", NULL);
}

/*
 * twokey args with the server settings and a user whose security key is
 * nowhere: a sign-in would stop at exit 6, so want_rc (2 or 7) and its
 * message show the mistake was told before any sign-in.
 */
static void
before_signin(int want_rc, const char *want, const char *arg0, ...)
{
	const char *argv[24] = { NULL };
	va_list ap;
	int n = 0;

	va_start(ap, arg0);
	for (argv[n] = arg0; argv[n] != NULL && n < 14;)
		argv[++n] = va_arg(ap, const char *);
	va_end(ap);
	assert_null(argv[n]);
	argv[n++] = "--server";
	argv[n++] = server;
	argv[n++] = "--ca";
	argv[n++] = d.root_pem;
	argv[n++] = "--user";
	argv[n++] = "rita";
	argv[n++] = "--device";
	argv[n++] = "/nonexistent/hidraw9";
	assert_int_equal(twokey(argv[0], argv[1], argv[2], argv[3], argv[4],
	    argv[5], argv[6], argv[7], argv[8], argv[9], argv[10], argv[11],
	    argv[12], argv[13], argv[14], argv[15], argv[16], argv[17],
	    argv[18], argv[19], argv[20], argv[21], argv[22], NULL),
	    want_rc);
	one_line_saying(want);
}

static void
dates_are_checked_before_signing_in(void **state)
{
	(void)state;
	before_signin(TK_CLI_EUSAGE, "\"2026-13-01\" is none", "evidence",
	    "--from", "2026-13-01", "--to", "2026-12-01", "-o", "x", NULL);
	before_signin(TK_CLI_EUSAGE, "\"2026-02-30\" is none", "evidence",
	    "--from", "2026-01-01", "--to", "2026-02-30", "-o", "x", NULL);
	before_signin(TK_CLI_EUSAGE, "\"2026-01-01T24:00:00Z\" is none",
	    "evidence", "--from", "2026-01-01T24:00:00Z", "--to",
	    "2026-02-01", "-o", "x", NULL);
	before_signin(TK_CLI_EUSAGE, "--from must be before --to",
	    "evidence", "--from", "2026-02-01", "--to", "2026-01-01", "-o",
	    "x", NULL);
	before_signin(TK_CLI_EUSAGE, "--from must be before --to",
	    "evidence", "--from", "2026-01-01", "--to",
	    "2026-01-01T00:00:00Z", "-o", "x", NULL);
	before_signin(TK_CLI_EUSAGE, "a pack covers at most 400 days",
	    "evidence", "--from", "2026-01-01", "--to", "2027-02-06", "-o",
	    "x", NULL);
	before_signin(TK_CLI_EUSAGE, "--from DATE and --to DATE are required",
	    "evidence", "--from", "2026-01-01", "-o", "x", NULL);
	/* 400 days to the second is still one pack: on to the key. */
	before_signin(TK_CLI_EKEY, "no security key", "evidence", "--from",
	    "2026-01-01", "--to", "2027-02-05T00:00:00Z", "-o", "-", NULL);
}

static void
output_files_are_checked_before_signing_in(void **state)
{
	char missing[900];
	const char *taken = file_in("taken.tar", "mine\n", 0644);

	(void)state;
	snprintf(missing, sizeof(missing), "%s/no/such/x.tar", d.dir);
	before_signin(TK_CLI_EFILE, "its folder ", "export", "-o", missing,
	    NULL);
	assert_non_null(strstr(err, "does not exist"));
	before_signin(TK_CLI_EFILE, "already exists", "export", "-o", taken,
	    NULL);
	before_signin(TK_CLI_EFILE, "its folder /nonexistent does not exist",
	    "evidence", "--from", "2026-01-01", "--to", "2026-02-01", "-o",
	    "/nonexistent/pack.tar.gz", NULL);
	before_signin(TK_CLI_EFILE, "an existing file is never overwritten",
	    "evidence", "--from", "2026-01-01", "--to", "2026-02-01", "-o",
	    taken, NULL);
	before_signin(TK_CLI_EFILE, "is not a folder", "api-key", "create",
	    "ci", "--scope", "journal:read", "-o", "/etc/passwd/key", NULL);
	before_signin(TK_CLI_EFILE, "already exists", "api-key", "create",
	    "ci", "--scope", "journal:read", "-o", taken, NULL);
	/* Untouched. */
	slurp(taken, out, sizeof(out));
	assert_string_equal(out, "mine\n");
	/* "-" is standard output, and a new file in a folder is fine. */
	before_signin(TK_CLI_EKEY, "no security key", "export", "-o", "-",
	    NULL);
	before_signin(TK_CLI_EKEY, "no security key", "export", "-o",
	    "new.tar", NULL);
}

static void
names_roles_and_scopes_are_checked_before_signing_in(void **state)
{
	(void)state;
	before_signin(TK_CLI_EUSAGE, "--role is admin, approver, requester, "
	    "commander or auditor, not \"king\"", "invite", "rita", "--team",
	    "ops", "--role", "king", NULL);
	before_signin(TK_CLI_EUSAGE, "--role requester given twice",
	    "invite", "rita", "--team", "ops", "--role", "requester",
	    "--role", "requester", NULL);
	before_signin(TK_CLI_EUSAGE, "a name is 1 to 64 of A-Z a-z 0-9 . _ -",
	    "invite", "bad name with spaces", "--team", "ops", "--role",
	    "requester", NULL);
	before_signin(TK_CLI_EUSAGE, "with a letter or digit first and last",
	    "invite", "bob.", "--team", "ops", "--role", "requester", NULL);
	before_signin(TK_CLI_EUSAGE, "--team is 1 to 64 bytes of text",
	    "invite", "rita", "--team", "", "--role", "requester", NULL);
	before_signin(TK_CLI_EUSAGE, "--team \"a b\" is not 1 to 64 of",
	    "invite", "rita", "--team", "a b", "--role", "requester", NULL);
	before_signin(TK_CLI_EUSAGE, "--ticket \"not a ticket\" is not a "
	    "name", "invite", "rita", "--team", "ops", "--role", "approver",
	    "--reason", "r", "--ticket", "not a ticket", NULL);
	before_signin(TK_CLI_EUSAGE, "block: the scope \"\" is not a name",
	    "block", "", NULL);
	before_signin(TK_CLI_EUSAGE, "block: the scope \"db drop\" is not "
	    "a name: 1 to 128 of A-Z a-z 0-9 and . _ : / @ -", "block",
	    "db drop", NULL);
	before_signin(TK_CLI_EUSAGE, "block: --connector \"a;b\"", "block",
	    "db:drop", "--connector", "a;b", NULL);
	before_signin(TK_CLI_EUSAGE, "--scope is requests:read, journal:read "
	    "or inventory:events, not \"root:all\"", "api-key", "create",
	    "ci", "--scope", "root:all", NULL);
	before_signin(TK_CLI_EUSAGE, "api-key: --scope journal:read given "
	    "twice", "api-key", "create", "ci", "--scope", "journal:read",
	    "--scope", "journal:read", NULL);
	before_signin(TK_CLI_EUSAGE, "the name is 1 to 64 bytes", "api-key",
	    "create", "", "--scope", "journal:read", NULL);
	before_signin(TK_CLI_EUSAGE, "--credential must be base64url",
	    "requests", "--credential", "a/b", NULL);
	/* Good ones go on to the key. */
	before_signin(TK_CLI_EKEY, "no security key", "block", "db:drop",
	    "--connector", "make", NULL);
}

static void
requests_and_votes_are_checked_before_signing_in(void **state)
{
	(void)state;
	before_signin(TK_CLI_EUSAGE, "--scope \"db admin\" is not a name",
	    "request", "break-glass", "--incident", "INC-1", "--scope",
	    "db admin", "--duration", "1h", "--reason", "r", NULL);
	before_signin(TK_CLI_EUSAGE, "--scope db:admin given twice",
	    "request", "break-glass", "--incident", "INC-1", "--scope",
	    "db:admin", "--scope", "db:admin", "--duration", "1h",
	    "--reason", "r", NULL);
	before_signin(TK_CLI_EUSAGE, "--scope, --duration and --reason are "
	    "required", "request", "break-glass", "--incident", "INC-1",
	    "--scope", "db:admin", "--reason", "r", NULL);
	before_signin(TK_CLI_EUSAGE, "break-glass takes --incident, and no "
	    "--service-account", "request", "break-glass", "--scope",
	    "db:admin", "--duration", "1h", "--reason", "r", NULL);
	before_signin(TK_CLI_EUSAGE, "break-glass takes --incident",
	    "request", "break-glass", "--incident", "INC-1", "--ticket", "T",
	    "--scope", "db:admin", "--duration", "1h", "--reason", "r", NULL);
	before_signin(TK_CLI_EUSAGE, "elevation takes --service-account and "
	    "--connector", "request", "elevation", "--service-account", "sa",
	    "--scope", "db:admin", "--duration", "1h", "--reason", "r", NULL);
	before_signin(TK_CLI_EUSAGE, "--incident \"INC 1\" is not a name",
	    "request", "break-glass", "--incident", "INC 1", "--scope",
	    "db:admin", "--duration", "1h", "--reason", "r", NULL);
	before_signin(TK_CLI_EUSAGE, "--reason is 1 to 1024 bytes of text",
	    "request", "break-glass", "--incident", "INC-1", "--scope",
	    "db:admin", "--duration", "1h", "--reason", "a\tb", NULL);
	before_signin(TK_CLI_EUSAGE, "--reason is 1 to 1024 bytes", "approve",
	    "7", "--reason", "", NULL);
	before_signin(TK_CLI_EUSAGE, "--text is 1 to 1024 bytes", "review",
	    "7", "--text", "line\nbreak", NULL);
	before_signin(TK_CLI_EUSAGE, "--ticket \"T 1\" is not a name",
	    "propose", "policy.set", "--set", "quorum=3", "--reason", "r",
	    "--ticket", "T 1", NULL);
	before_signin(TK_CLI_EUSAGE, "propose: the type \"policy set\" is "
	    "not a name", "propose", "policy set", "--args", "{}",
	    "--reason", "r", "--ticket", "T-1", NULL);
	before_signin(TK_CLI_EUSAGE, "propose: --role is admin, approver",
	    "propose", "person.update", "--person", "3", "--role", "king",
	    "--reason", "r", "--ticket", "T-1", NULL);
	before_signin(TK_CLI_EUSAGE, "--args must be a JSON object of at most "
	    "16 members", "propose", "x.y", "--args", "{\"a\":1,\"b\":1,"
	    "\"c\":1,\"d\":1,\"e\":1,\"f\":1,\"g\":1,\"h\":1,\"i\":1,"
	    "\"j\":1,\"k\":1,\"l\":1,\"m\":1,\"n\":1,\"o\":1,\"p\":1,"
	    "\"q\":1}", "--reason", "r", "--ticket", "T-1", NULL);
	/* A well-formed request goes on to the key. */
	before_signin(TK_CLI_EKEY, "no security key", "request", "elevation",
	    "--service-account", "sa-billing", "--connector", "make",
	    "--scope", "scenarios:write", "--duration", "30m", "--reason",
	    "quarterly import", "--ticket", "CHG-42", NULL);
}

static void
the_server_and_its_ca_must_be_named_and_https(void **state)
{
	(void)state;
	assert_int_equal(twokey("status", NULL), TK_CLI_EUSAGE);
	one_line_saying("no server");
	assert_int_equal(twokey("status", "--server", server, NULL),
	    TK_CLI_EUSAGE);
	one_line_saying("no CA file");
	assert_int_equal(twokey("status", "--server", "http://localhost:1",
	    "--ca", d.root_pem, NULL), TK_CLI_EUSAGE);
	one_line_saying("plain HTTP is never used");
	assert_int_equal(twokey("status", "--server",
	    "https://localhost:1/api?x", "--ca", d.root_pem, NULL),
	    TK_CLI_EUSAGE);
	one_line_saying("without a path");
	/* A bad port is the user's, not an unreachable server. */
	assert_int_equal(twokey("status", "--server",
	    "https://localhost:99999", "--ca", d.root_pem, NULL),
	    TK_CLI_EUSAGE);
	one_line_saying("the server's port must be 1 to 65535, not "
	    "\"99999\"");
	assert_int_equal(twokey("status", "--server", "https://localhost:0",
	    "--ca", d.root_pem, NULL), TK_CLI_EUSAGE);
	one_line_saying("1 to 65535");
	assert_int_equal(twokey("status", "--server", "https://localhost:",
	    "--ca", d.root_pem, NULL), TK_CLI_EUSAGE);
	one_line_saying("1 to 65535");
	/* No scheme at all is not plain HTTP. */
	assert_int_equal(twokey("status", "--server", "localhost:8443",
	    "--ca", d.root_pem, NULL), TK_CLI_EUSAGE);
	one_line_saying("give https://HOST[:PORT]");
	assert_null(strstr(err, "plain HTTP"));
	assert_int_equal(twokey("status", "--server", "", "--ca", d.root_pem,
	    NULL), TK_CLI_EUSAGE);
	one_line_saying("give https://HOST[:PORT]");
	assert_null(strstr(err, "plain HTTP"));
	/* User info is refused, and its password never shown. */
	assert_int_equal(twokey("status", "--server",
	    "https://user:Sesame42@localhost:8443", "--ca", d.root_pem,
	    NULL), TK_CLI_EUSAGE);
	one_line_saying("user info (NAME:PASSWORD@) is not allowed");
	assert_null(strstr(err, "Sesame42"));
	assert_int_equal(twokey("status", "--server", "https://[::1",
	    "--ca", d.root_pem, NULL), TK_CLI_EUSAGE);
	one_line_saying("HOST is a name, an IPv4 address or an IPv6 one");
	/* An IPv6 address with a port parses. */
	assert_int_equal(twokey("status", "--server", "https://[::1]:1",
	    "--ca", d.root_pem, NULL), TK_CLI_ECONNECT);
	assert_int_equal(twokey("status", "--server", server, "--ca",
	    "/nonexistent/root.pem", NULL), TK_CLI_EFILE);
	one_line_saying("cannot read the CA file /nonexistent/root.pem");
	/* A readable file that is not a certificate is a local mistake. */
	assert_int_equal(twokey("status", "--server", server, "--ca",
	    file_in("not-a-cert.pem", "root:x:0:0::/root:/bin/sh\n", 0644),
	    NULL), TK_CLI_EFILE);
	one_line_saying("holds no PEM certificate");
	assert_int_equal(twokey("status", "--server", server, "--ca", d.dir,
	    NULL), TK_CLI_EFILE);
	one_line_saying("is a directory");
	assert_null(strstr(err, "holds no PEM certificate"));
}

static void
status_reports_a_ready_server_and_its_journal(void **state)
{
	(void)state;
	assert_int_equal(twokey("status", "--server", server, "--ca",
	    d.root_pem, NULL), TK_CLI_OK);
	assert_non_null(strstr(out, "ready    yes"));
	assert_non_null(strstr(out, "journal  twokey/localhost/journal"));
	assert_string_equal(err, "");
	assert_int_equal(twokey("status", "--json", "--server", server,
	    "--ca", d.root_pem, NULL), TK_CLI_OK);
	assert_non_null(strstr(out, "\"ready\": true"));
}

static void
settings_come_from_the_environment_and_the_file(void **state)
{
	char text[1600];
	const char *cfg;

	(void)state;
	snprintf(text, sizeof(text), "{\"server\": \"%s\", \"ca\": \"%s\"}",
	    server, d.root_pem);
	cfg = file_in("settings.json", text, 0644);
	assert_int_equal(twokey("status", "--config", cfg, NULL), TK_CLI_OK);
	setenv("TWOKEY_SERVER", server, 1);
	setenv("TWOKEY_CA", d.root_pem, 1);
	assert_int_equal(twokey("status", NULL), TK_CLI_OK);
	/* An option beats the environment. */
	assert_int_equal(twokey("status", "--server", "https://localhost:1",
	    NULL), TK_CLI_ECONNECT);
	unsetenv("TWOKEY_SERVER");
	unsetenv("TWOKEY_CA");
	cfg = file_in("bad.json", "{\"server\": \"x\", \"colour\": \"red\"}",
	    0644);
	assert_int_equal(twokey("status", "--config", cfg, NULL),
	    TK_CLI_EFILE);
	one_line_saying("unknown setting or not a string: \"colour\"");
	assert_int_equal(twokey("status", "--config", "/nonexistent.json",
	    NULL), TK_CLI_EFILE);
	one_line_saying("/nonexistent.json: No such file or directory");
	assert_int_equal(twokey("status", "--config", d.dir, NULL),
	    TK_CLI_EFILE);
	one_line_saying(": it is a directory");
}

static void
an_unreachable_server_exits_5(void **state)
{
	(void)state;
	/* Port 1 on loopback: nothing listens there. */
	assert_int_equal(twokey("status", "--server", "https://127.0.0.1:1",
	    "--ca", d.root_pem, NULL), TK_CLI_ECONNECT);
	one_line_saying("cannot reach https://127.0.0.1:1");
}

/*
 * No security key: sign-in stops before it asks for a challenge, so that
 * repeated tries cost the address none of its four live challenges.
 */
static void
a_missing_key_exits_6_and_takes_no_challenge(void **state)
{
	json_t *ans = NULL;
	int i;

	(void)state;
	for (i = 0; i < 6; i++) {
		assert_int_equal(twokey("requests", "--server", server, "--ca",
		    d.root_pem, "--user", "rita", "--device",
		    "/nonexistent/hidraw9", NULL), TK_CLI_EKEY);
		one_line_saying("no security key at /nonexistent/hidraw9");
	}
	assert_int_equal(tkd_call(&d, "POST", "/api/v1/session/challenge",
	    "{\"name\":\"rita\"}", NULL, &ans), 200);
	json_decref(ans);
}

static void
a_server_the_ca_does_not_vouch_for_is_refused(void **state)
{
	struct softauthn *sa = softauthn_new(-7);
	const char *other;

	(void)state;
	assert_non_null(sa);
	/* Another CA altogether, and the server's own leaf (no chain). */
	other = file_in("other-ca.pem", softauthn_ca_pem(sa), 0644);
	assert_int_equal(twokey("status", "--server", server, "--ca", other,
	    NULL), TK_CLI_ECONNECT);
	one_line_saying("its certificate is not trusted by the CA file");
	softauthn_free(&sa);
	/* The right CA but another name than the certificate's. */
	snprintf(server, sizeof(server), "https://127.0.0.1:%u", d.port);
	assert_int_equal(twokey("status", "--server", server, "--ca",
	    d.root_pem, NULL), TK_CLI_ECONNECT);
	one_line_saying("not trusted by the CA file");
	snprintf(server, sizeof(server), "https://localhost:%u", d.port);
}

static void
a_refusal_shows_the_servers_code_and_message(void **state)
{
	const char *inv = file_in("inv", "tki_AAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAA", 0600);

	(void)state;
	assert_int_equal(twokey("enroll", "--invitation-file", inv,
	    "--server", server, "--ca", d.root_pem, NULL), TK_CLI_EREFUSED);
	one_line_saying("refused by the server (HTTP 400): "
	    "invitation_invalid: ");
}

static void
secrets_are_refused_on_the_command_line_and_in_open_files(void **state)
{
	const char *key = file_in("open.key", "tk_0123456789abcdef0123456789"
	    "abcdef_opensesame", 0644);

	(void)state;
	assert_int_equal(twokey("requests", "--api-key", "tk_x_y", "--server",
	    server, "--ca", d.root_pem, NULL), TK_CLI_EUSAGE);
	assert_null(strstr(err, "tk_x_y"));
	assert_int_equal(twokey("requests", "--api-key=tk_x_y", "--server",
	    server, "--ca", d.root_pem, NULL), TK_CLI_EUSAGE);
	assert_null(strstr(err, "tk_x_y"));
	assert_int_equal(twokey("requests", "--api-key-file", key,
	    "--server", server, "--ca", d.root_pem, NULL), TK_CLI_EFILE);
	one_line_saying("readable by its owner only");
	assert_null(strstr(err, "opensesame"));
	assert_int_equal(twokey("enroll", "--invitation-file", key,
	    "--server", server, "--ca", d.root_pem, NULL), TK_CLI_EFILE);
	assert_int_equal(twokey("enroll", "--server", server, "--ca",
	    d.root_pem, NULL), TK_CLI_EUSAGE);
	one_line_saying("the code is never an option");
}

static void
invitation_files_are_checked_before_the_server_is_asked(void **state)
{
	const char *empty = file_in("empty.code", "", 0600);
	const char *torn = file_in("torn.code", "tki_AAAAsecretpart\n", 0600);
	char missing[900];

	(void)state;
	assert_int_equal(twokey("enroll", "--invitation-file", empty,
	    "--server", server, "--ca", d.root_pem, NULL), TK_CLI_EFILE);
	one_line_saying("no invitation code in ");
	snprintf(missing, sizeof(missing), "%s/nowhere.code", d.dir);
	assert_int_equal(twokey("enroll", "--invitation-file", missing,
	    "--server", server, "--ca", d.root_pem, NULL), TK_CLI_EFILE);
	one_line_saying(": No such file or directory");
	assert_int_equal(twokey("enroll", "--invitation-file", d.dir,
	    "--server", server, "--ca", d.root_pem, NULL), TK_CLI_EFILE);
	one_line_saying("it is a directory");
	/* A code cut short is told, and not shown. */
	assert_int_equal(twokey("enroll", "--invitation-file", torn,
	    "--server", server, "--ca", d.root_pem, NULL), TK_CLI_EFILE);
	one_line_saying("a code is tki_ and 43 letters, digits, _ or -");
	assert_null(strstr(err, "secretpart"));
}

static void
the_manual_renders_without_warnings_and_has_the_exit_codes(void **state)
{
	char page[1024];

	(void)state;
	snprintf(page, sizeof(page), "%s/docs/twokey.1",
	    getenv("TWOKEY_TOP"));
	setenv("MANWIDTH", "80", 1);
	assert_int_equal(program("man", "--warnings", "-l", page, NULL), 0);
	assert_string_equal(err, "");
	assert_non_null(strstr(out, "EXIT STATUS"));
	assert_non_null(strstr(out, "6   security key"));
	assert_non_null(strstr(out, "9   policy drift"));
	assert_non_null(strstr(out, "twokey propose"));
	assert_non_null(strstr(out, "TWOKEY_API_KEY_FILE"));
}

/* A configuration for twokeyd on token fx, in folder name. */
static const char *
init_config(const char *name, const struct tk_fixture_token *fx)
{
	static char path[800];
	char text[4096], dir[700];

	snprintf(dir, sizeof(dir), "%s/%s", d.dir, name);
	assert_int_equal(mkdir(dir, 0711), 0);
	snprintf(text, sizeof(text), "{\"listen\": \"127.0.0.1:1\", "
	    "\"pkcs11_uri\": \"%s\", \"signer_path\": \"%s\", \"state_dir\": "
	    "\"%s/state\", \"user\": \"nobody\"%s}\n", fx->uri,
	    fx->signer_path, dir, tkd_test_settings());
	snprintf(path, sizeof(path), "%s/%s/twokeyd.conf", d.dir, name);
	snprintf(dir, sizeof(dir), "%s/twokeyd.conf", name);
	file_in(dir, text, 0644);
	return path;
}

static void
init_makes_the_keys_prints_the_fingerprint_and_bootstraps(void **state)
{
	struct tk_fixture_token *fx = NULL;
	char fp[1024], want[1200], hex[65], twokeyd[1024];
	const char *conf;

	(void)state;
	assert_int_equal(tk_fixture_token_new_empty(getenv(
	    "TWOKEY_TEST_TMP"), "cli-init", &fx), 0);
	conf = init_config("init", fx);
	snprintf(twokeyd, sizeof(twokeyd), "%s/twokeyd",
	    getenv("TWOKEY_BUILD"));
	assert_int_equal(twokey("init", "--daemon-config", conf,
	    "--bootstrap", "alice:ops,bob:sec,carol:dev", "--twokeyd",
	    twokeyd, NULL), TK_CLI_OK);
	snprintf(fp, sizeof(fp), "%s/init/ceremony/root-fingerprint.txt",
	    d.dir);
	slurp(fp, hex, sizeof(hex));
	assert_int_equal(strlen(hex), 64);
	snprintf(want, sizeof(want), "SHA-256 fingerprint: %s\n", hex);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "alice\tops\tadmin,approver\ttki_"));
	assert_non_null(strstr(out, "carol\tdev\tapprover\ttki_"));
	/* Twice: the token holds its keys; refused, named, untouched. */
	assert_int_equal(twokey("init", "--daemon-config", conf, NULL),
	    TK_CLI_ETOKEN);
	assert_non_null(strstr(err, "the key ceremony failed"));
	tk_fixture_token_free(&fx);
}

static void
init_refuses_a_configuration_it_cannot_read(void **state)
{
	(void)state;
	assert_int_equal(twokey("init", "--daemon-config", "/nonexistent.conf",
	    NULL), TK_CLI_EFILE);
	one_line_saying("/nonexistent.conf");
	assert_int_equal(twokey("init", "--server", server, NULL),
	    TK_CLI_EUSAGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(help_names_every_command_and_each_has_its_own),
		cmocka_unit_test(version_is_printed_and_exits_0),
		cmocka_unit_test(wrong_commands_and_options_are_usage_errors),
		cmocka_unit_test(
		    governance_commands_refuse_bad_input_before_signing_in),
		cmocka_unit_test(dates_are_checked_before_signing_in),
		cmocka_unit_test(output_files_are_checked_before_signing_in),
		cmocka_unit_test(
		    names_roles_and_scopes_are_checked_before_signing_in),
		cmocka_unit_test(
		    requests_and_votes_are_checked_before_signing_in),
		cmocka_unit_test(the_server_and_its_ca_must_be_named_and_https),
		cmocka_unit_test(
		    status_reports_a_ready_server_and_its_journal),
		cmocka_unit_test(
		    settings_come_from_the_environment_and_the_file),
		cmocka_unit_test(an_unreachable_server_exits_5),
		cmocka_unit_test(a_missing_key_exits_6_and_takes_no_challenge),
		cmocka_unit_test(
		    a_server_the_ca_does_not_vouch_for_is_refused),
		cmocka_unit_test(a_refusal_shows_the_servers_code_and_message),
		cmocka_unit_test(
		    secrets_are_refused_on_the_command_line_and_in_open_files),
		cmocka_unit_test(
		    invitation_files_are_checked_before_the_server_is_asked),
		cmocka_unit_test(
		    the_manual_renders_without_warnings_and_has_the_exit_codes),
		cmocka_unit_test(
		    init_makes_the_keys_prints_the_fingerprint_and_bootstraps),
		cmocka_unit_test(init_refuses_a_configuration_it_cannot_read),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
