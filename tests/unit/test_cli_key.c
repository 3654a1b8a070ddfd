/*
 * Specification of the twokey client with USB security keys, end to end:
 * the real twokeyd (bootstrapped, over verified TLS), the client's own
 * code (tk_cli_main, what the twokey program runs) and libfido2's real
 * CTAPHID and CTAP2 client code, talking to softctap keys through
 * fido_dev_set_io_functions. Every key the client signs with was
 * enrolled by the client through the invitation routes: the first
 * approvers (alice, admin and approver; bob and carol) through the
 * bootstrap invitations, everyone with a governed role after them
 * through a change that bob and carol approve with their keys.
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

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>
#include <fido.h>
#include <jansson.h>

#include "twokey/cli.h"
#include "twokey/common.h"
#include "../lib/daemon_fixture.h"
#include "../lib/softctap.h"

#define CONF_EXTRA ",\n\"rate_limit_per_minute\": 1000"

static struct tkd d;
static char code[3][80];	/* alice, bob, carol: bootstrap codes */
static struct softctap *alice, *bob, *carol, *rita, *audrey, *dave;
static char out[65536], err[65536];
static long long breakglass;	/* rita's request, granted */
static long long dave_id;	/* dave's person id, as enroll printed it */

static void
slurp(FILE *f, char *buf, size_t cap)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/*
 * Runs one twokey command line in this process with key as the only
 * security key (NULL: none); its stdout and stderr land in out and err.
 */
static int
cli(struct softctap *key, const char *arg0, ...)
{
	struct tk_cli_env env;
	const char *argv[32];
	va_list ap;
	int n = 1, rc;

	memset(&env, 0, sizeof(env));
	argv[0] = "twokey";
	va_start(ap, arg0);
	for (argv[n] = arg0; argv[n] != NULL && n < 31;)
		argv[++n] = va_arg(ap, const char *);
	va_end(ap);
	argv[n] = NULL;
	assert_non_null(env.out = tmpfile());
	assert_non_null(env.err = tmpfile());
	if (key != NULL) {
		env.fido_io = softctap_io();
		env.fido_path = softctap_path(key);
	}
	rc = tk_cli_main(n, (char **)(uintptr_t)argv, &env);
	slurp(env.out, out, sizeof(out));
	slurp(env.err, err, sizeof(err));
	/* In the test's log, which make check shows on a failure. */
	fprintf(stderr, "twokey %s: exit %d\n%s", arg0, rc, err);
	/* Whatever happened, the session never shows. */
	assert_null(strstr(out, "tk_session"));
	assert_null(strstr(err, "tk_session"));
	return rc;
}

static const char *
secret_file(const char *name, const char *text)
{
	static char path[16][800];
	static int slot;
	FILE *f;

	slot = (slot + 1) % 16;
	snprintf(path[slot], sizeof(path[slot]), "%s/%s", d.dir, name);
	assert_non_null(f = fopen(path[slot], "w"));
	assert_int_equal(fchmod(fileno(f), 0600), 0);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	return path[slot];
}

/* The request id in "request N filed: pending". */
static long long
filed_id(void)
{
	long long id = 0;

	assert_int_equal(sscanf(out, "request %lld filed: pending", &id), 1);
	assert_true(id > 0);
	return id;
}

static long long
file_breakglass(const char *incident)
{
	assert_int_equal(cli(rita, "request", "break-glass", "--user", "rita",
	    "--incident", incident, "--scope", "db:admin", "--duration", "1h",
	    "--reason", "primary database down", NULL), TK_CLI_OK);
	return filed_id();
}

static int
setup(void **state)
{
	char list[1024], cfg[800], *line, *save = NULL;
	int i = 0;

	(void)state;
	assert_int_equal(tkd_init(&d, "cli-key", CONF_EXTRA), 0);
	assert_int_equal(tkd_bootstrap(&d, "alice:ops,bob:sec,carol:dev",
	    list, sizeof(list)), 0);
	for (line = strtok_r(list, "\n", &save); line != NULL && i < 3;
	    line = strtok_r(NULL, "\n", &save), i++)
		snprintf(code[i], sizeof(code[i]), "%s", strrchr(line,
		    '\t') + 1);
	assert_int_equal(i, 3);
	assert_int_equal(tkd_start(&d), 0);
	snprintf(list, sizeof(list), "https://localhost:%u", d.port);
	setenv("TWOKEY_SERVER", list, 1);
	setenv("TWOKEY_CA", d.root_pem, 1);
	snprintf(cfg, sizeof(cfg), "%s/xdg", d.dir);
	setenv("XDG_CONFIG_HOME", cfg, 1);
	assert_non_null(alice = softctap_new());
	assert_non_null(bob = softctap_new());
	assert_non_null(carol = softctap_new());
	assert_non_null(rita = softctap_new());
	assert_non_null(audrey = softctap_new());
	assert_non_null(dave = softctap_new());
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	tkd_stop(&d, 15);
	softctap_free(&alice);
	softctap_free(&bob);
	softctap_free(&carol);
	softctap_free(&rita);
	softctap_free(&audrey);
	softctap_free(&dave);
	tkd_cleanup();
	fido_init(0);
	return 0;
}

static void
enroll_registers_usb_keys_through_bootstrap_invitations(void **state)
{
	struct softctap *keys[3] = { alice, bob, carol };
	const char *names[3] = { "alice", "bob", "carol" };
	char want[64];
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_int_equal(cli(keys[i], "enroll", "--invitation-file",
		    secret_file(names[i], code[i]), NULL), TK_CLI_OK);
		snprintf(want, sizeof(want), "enrolled %s ", names[i]);
		assert_non_null(strstr(out, want));
		assert_non_null(strstr(err, "touch your security key"));
		assert_int_equal(softctap_counter(keys[i]), 1);
	}
}

static void
a_spent_invitation_is_refused_with_the_servers_code(void **state)
{
	(void)state;
	assert_int_equal(cli(audrey, "enroll", "--invitation-file",
	    secret_file("again", code[1]), NULL), TK_CLI_EREFUSED);
	assert_non_null(strstr(err, "refused by the server (HTTP 4"));
	assert_non_null(strstr(err, "invitation_invalid") != NULL ?
	    strstr(err, "invitation_invalid") : strstr(err,
	    "bootstrap_closed"));
	/* Refused before the key was asked for anything. */
	assert_int_equal(softctap_counter(audrey), 0);
}

/* The code on the last line of the invitation's output. */
static const char *
invited(void)
{
	char *nl;

	out[strcspn(out, "\0")] = '\0';
	if ((nl = strrchr(out, '\n')) != NULL && nl[1] == '\0')
		*nl = '\0';
	nl = strrchr(out, '\n');
	assert_non_null(nl);
	return nl + 1;
}

static void
invite_gives_a_code_the_invitee_enrolls_with(void **state)
{
	(void)state;
	assert_int_equal(cli(alice, "invite", "audrey", "--user", "alice",
	    "--team", "audit", "--role", "auditor", NULL), TK_CLI_OK);
	assert_non_null(strstr(out, "invitation for audrey"));
	assert_null(strstr(out, "quorum"));
	assert_int_equal(cli(audrey, "enroll", "--invitation-file",
	    secret_file("audrey", invited()), NULL), TK_CLI_OK);
	assert_non_null(strstr(out, "enrolled audrey (team audit) as "
	    "person "));
}

static void
governed_invitation_without_reason_is_a_usage_error(void **state)
{
	uint32_t before = softctap_counter(alice);

	(void)state;
	assert_int_equal(cli(alice, "invite", "mallory", "--user", "alice",
	    "--team", "ops", "--role", "approver", NULL), TK_CLI_EUSAGE);
	assert_non_null(strstr(err, "need the quorum: give --reason and "
	    "--ticket"));
	assert_int_equal(cli(alice, "invite", "mallory", "--user", "alice",
	    "--team", "ops", "--role", "requester", "--role", "commander",
	    "--reason", "on call", NULL), TK_CLI_EUSAGE);
	/* So are a role, a name and a ticket the server would refuse. */
	assert_int_equal(cli(alice, "invite", "rita", "--user", "alice",
	    "--team", "ops", "--role", "king", NULL), TK_CLI_EUSAGE);
	assert_non_null(strstr(err, "not \"king\""));
	assert_int_equal(cli(alice, "invite", "bad name with spaces",
	    "--user", "alice", "--team", "ops", "--role", "requester", NULL),
	    TK_CLI_EUSAGE);
	assert_int_equal(cli(alice, "invite", "mallory", "--user", "alice",
	    "--team", "ops", "--role", "approver", "--reason", "r",
	    "--ticket", "not a ticket", NULL), TK_CLI_EUSAGE);
	assert_non_null(strstr(err, "--ticket \"not a ticket\" is not a "
	    "name"));
	/* Refused before the key was asked for anything. */
	assert_int_equal(softctap_counter(alice), before);
	/* What only the server knows still shows its code. */
	assert_int_equal(cli(alice, "invite", "bob", "--user", "alice",
	    "--team", "ops", "--role", "requester", NULL), TK_CLI_EREFUSED);
	assert_non_null(strstr(err, "HTTP 409"));
	assert_non_null(strstr(err, "exists"));
}

/* The change id in "enrollment of NAME proposed as change N". */
static long long
proposed_enrollment(const char *name)
{
	char want[96];
	const char *p;
	long long id = 0;

	snprintf(want, sizeof(want), "enrollment of %s proposed as change ",
	    name);
	assert_non_null(p = strstr(out, want));
	assert_int_equal(sscanf(p + strlen(want), "%lld", &id), 1);
	assert_true(id > 0);
	return id;
}

static void
a_commander_enrolls_only_once_the_quorum_approves(void **state)
{
	char id[32], want[160];
	long long change;

	(void)state;
	assert_int_equal(cli(alice, "invite", "rita", "--user", "alice",
	    "--team", "ops", "--role", "commander", "--reason",
	    "incident commander for the on-call rota", "--ticket", "HR-12",
	    NULL), TK_CLI_OK);
	assert_non_null(strstr(out, "rita's enrollment needs the quorum's "
	    "approval"));
	assert_int_equal(cli(rita, "enroll", "--invitation-file",
	    secret_file("rita", invited()), NULL), TK_CLI_OK);
	change = proposed_enrollment("rita");
	snprintf(id, sizeof(id), "%lld", change);
	/* Not yet a person: her key signs, the server refuses her. */
	assert_int_equal(cli(rita, "requests", "--user", "rita", NULL),
	    TK_CLI_EAUTH);
	/* The approvers read what they are asked to trust. */
	assert_int_equal(cli(bob, "changes", id, "--user", "bob", NULL),
	    TK_CLI_OK);
	snprintf(want, sizeof(want), "change %s  person.enroll  pending  "
	    "proposed by alice (ops)", id);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "  ticket: HR-12\n"));
	assert_non_null(strstr(out, "    + name: rita\n"));
	assert_non_null(strstr(out, "    + roles: commander\n"));
	assert_non_null(strstr(out, "    + credential.cose_key: "));
	/* Two approvers other than alice, each with a touch. */
	assert_int_equal(cli(bob, "approve", id, "--user", "bob", NULL),
	    TK_CLI_OK);
	snprintf(want, sizeof(want), "change %s: your approval is recorded; "
	    "state pending, 1 approvals", id);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(err, "+ roles: commander"));
	assert_int_equal(cli(carol, "approve", id, "--user", "carol",
	    "--json", NULL), TK_CLI_OK);
	assert_non_null(strstr(out, "\"state\": \"applied\""));
	assert_int_equal(cli(rita, "requests", "--user", "rita", NULL),
	    TK_CLI_OK);
	assert_int_equal(cli(alice, "changes", "--user", "alice", NULL),
	    TK_CLI_OK);
	snprintf(want, sizeof(want), "change %s  person.enroll  applied  by "
	    "alice  target person:rita  ticket HR-12", id);
	assert_non_null(strstr(out, want));
}

static void
the_proposers_own_approval_of_a_change_is_refused(void **state)
{
	struct softctap *frank;
	char id[32];
	long long change;
	json_t *j;

	(void)state;
	assert_int_equal(cli(alice, "invite", "frank", "--user", "alice",
	    "--team", "sec", "--role", "approver", "--reason", "new hire",
	    "--ticket", "HR-13", "--json", NULL), TK_CLI_OK);
	assert_non_null(j = json_loads(out, 0, NULL));
	assert_true(json_is_true(json_object_get(j, "governed")));
	assert_non_null(frank = softctap_new());
	assert_int_equal(cli(frank, "enroll", "--json", "--invitation-file",
	    secret_file("frank", json_string_value(json_object_get(j,
	    "invitation"))), NULL), TK_CLI_OK);
	softctap_free(&frank);
	json_decref(j);
	assert_non_null(j = json_loads(out, 0, NULL));
	change = (long long)json_integer_value(json_object_get(
	    json_object_get(j, "change"), "id"));
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(j, "change"), "type")), "person.enroll");
	json_decref(j);
	assert_true(change > 0);
	snprintf(id, sizeof(id), "%lld", change);
	assert_int_equal(cli(alice, "approve", id, "--user", "alice", NULL),
	    TK_CLI_EREFUSED);
	assert_non_null(strstr(err, "HTTP 403"));
	assert_non_null(strstr(err, "self_approval"));
	/* A rejection, with its reason, ends it. */
	assert_int_equal(cli(bob, "reject", id, "--user", "bob", "--reason",
	    "the hire fell through", NULL), TK_CLI_OK);
	assert_non_null(strstr(out, "your rejection is recorded; state "
	    "rejected"));
	assert_int_equal(cli(carol, "changes", id, "--user", "carol", NULL),
	    TK_CLI_OK);
	assert_non_null(strstr(out, "  rejected  "));
	assert_non_null(strstr(out, "vote: bob (sec) reject at "));
}

static void
an_unknown_change_is_the_servers_not_found(void **state)
{
	(void)state;
	assert_int_equal(cli(bob, "changes", "99999", "--user", "bob", NULL),
	    TK_CLI_EREFUSED);
	assert_non_null(strstr(err, "HTTP 404"));
	assert_non_null(strstr(err, "not_found"));
	assert_int_equal(cli(bob, "approve", "99999", "--user", "bob", NULL),
	    TK_CLI_EREFUSED);
	assert_non_null(strstr(err, "not_found"));
	/* A type the server does not know, and one it does not take here. */
	assert_int_equal(cli(alice, "propose", "wizardry", "--user", "alice",
	    "--args", "{}", "--reason", "r", "--ticket", "T-1", NULL),
	    TK_CLI_EREFUSED);
	assert_non_null(strstr(err, "invalid_change"));
	assert_int_equal(cli(alice, "propose", "person.enroll", "--user",
	    "alice", "--args", "{}", "--reason", "r", "--ticket", "T-1",
	    NULL), TK_CLI_EREFUSED);
	assert_non_null(strstr(err, "registration_required"));
}

static void
a_request_is_filed_and_listed_for_approvers(void **state)
{
	char want[64];

	(void)state;
	breakglass = file_breakglass("INC-7");
	assert_int_equal(cli(bob, "requests", "--user", "bob", NULL),
	    TK_CLI_OK);
	snprintf(want, sizeof(want), "request %lld  break-glass  pending",
	    breakglass);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "primary database down"));
}

static void
the_requesters_own_approval_is_refused_with_its_code(void **state)
{
	char id[32];

	(void)state;
	snprintf(id, sizeof(id), "%lld", breakglass);
	assert_int_equal(cli(rita, "approve", id, "--user", "rita", NULL),
	    TK_CLI_EREFUSED);
	assert_non_null(strstr(err, "HTTP 403"));
	assert_non_null(strstr(err, "self_approval") != NULL ?
	    strstr(err, "self_approval") : strstr(err, "role_missing"));
}

static void
two_approvals_with_usb_keys_grant_the_request(void **state)
{
	char id[32];
	uint32_t before = softctap_counter(bob);

	(void)state;
	snprintf(id, sizeof(id), "%lld", breakglass);
	assert_int_equal(cli(bob, "approve", id, "--user", "bob", NULL),
	    TK_CLI_OK);
	assert_non_null(strstr(out, "state pending, 1 approvals"));
	assert_non_null(strstr(err, "db:admin"));
	/* One touch to sign in, one to sign the approval. */
	assert_int_equal(softctap_counter(bob), before + 2);
	assert_int_equal(cli(carol, "approve", id, "--user", "carol",
	    "--json", NULL), TK_CLI_OK);
	assert_non_null(strstr(out, "\"state\": \"granted\""));
	assert_non_null(strstr(out, "\"approvals\": 2"));
}

static void
grants_gives_the_requester_the_signed_token(void **state)
{
	char id[32], *dot;

	(void)state;
	snprintf(id, sizeof(id), "%lld", breakglass);
	assert_int_equal(cli(rita, "grants", id, "--user", "rita", "--token",
	    NULL), TK_CLI_OK);
	/* A JWT: three base64url parts. */
	assert_non_null(dot = strchr(out, '.'));
	assert_non_null(strchr(dot + 1, '.'));
	assert_int_equal(strspn(out, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl"
	    "mnopqrstuvwxyz0123456789-_."), strlen(out) - 1);
	/* Only the requester sees it. */
	assert_int_equal(cli(bob, "grants", id, "--user", "bob", NULL),
	    TK_CLI_EREFUSED);
}

static void
a_grant_is_revoked_and_its_review_filed(void **state)
{
	char id[32], jti[160];
	json_t *j;

	(void)state;
	snprintf(id, sizeof(id), "%lld", breakglass);
	assert_int_equal(cli(rita, "grants", id, "--user", "rita", "--json",
	    NULL), TK_CLI_OK);
	assert_non_null(j = json_loads(out, 0, NULL));
	snprintf(jti, sizeof(jti), "%s", json_string_value(json_object_get(
	    json_array_get(j, 0), "jti")));
	json_decref(j);
	assert_true(strlen(jti) > 8);
	/* A jti may start with "-": "--" ends the options. */
	assert_int_equal(cli(bob, "revoke", "--user", "bob", "--", jti,
	    NULL), TK_CLI_OK);
	assert_non_null(strstr(out, ": revoked"));
	/* Twice: the server says why not. */
	assert_int_equal(cli(bob, "revoke", "--user", "bob", "--", jti,
	    NULL), TK_CLI_EREFUSED);
	assert_non_null(strstr(err, "grant_not_active"));
	assert_int_equal(cli(rita, "grants", id, "--user", "rita", NULL),
	    TK_CLI_OK);
	assert_non_null(strstr(out, "  revoked  "));
	/* The review: its commander only. */
	assert_int_equal(cli(bob, "review", id, "--user", "bob", "--text",
	    "not mine", NULL), TK_CLI_EREFUSED);
	assert_int_equal(cli(rita, "review", id, "--user", "rita", "--text",
	    "replica promoted; the disk had filled", NULL), TK_CLI_OK);
	assert_non_null(strstr(out, "review"));
	/* The list, for anyone signed in: revoked, review filed. */
	assert_int_equal(cli(carol, "grants", "--user", "carol", NULL),
	    TK_CLI_OK);
	assert_non_null(strstr(out, jti));
	assert_non_null(strstr(out, "break-glass  rita  revoked"));
	assert_non_null(strstr(out, "review filed"));
	assert_null(strstr(out, "eyJ"));	/* no token in the list */
}

static void
reject_signs_a_rejection(void **state)
{
	char id[32];

	(void)state;
	snprintf(id, sizeof(id), "%lld", file_breakglass("INC-8"));
	assert_int_equal(cli(bob, "reject", id, "--user", "bob", "--reason",
	    "INC-8 is closed \xe2\x9c\x93 d\xc3\xa9j\xc3\xa0", NULL),
	    TK_CLI_OK);
	assert_non_null(strstr(out, "your rejection is recorded; state "
	    "rejected"));
	/* The requester reads who rejected it, and why. */
	assert_int_equal(cli(rita, "requests", id, "--user", "rita", NULL),
	    TK_CLI_OK);
	assert_non_null(strstr(out, "  rejected  "));
	assert_non_null(strstr(out, "\n  vote: bob ("));
	assert_non_null(strstr(out, " reject at "));
	/* Written as the server keeps it: UTF-8, not escaped bytes. */
	assert_non_null(strstr(out, ": INC-8 is closed \xe2\x9c\x93 "
	    "d\xc3\xa9j\xc3\xa0\n"));
}

static void
a_touch_refused_on_the_key_exits_6(void **state)
{
	char id[32];

	(void)state;
	snprintf(id, sizeof(id), "%lld", file_breakglass("INC-9"));
	softctap_fail_next(bob, 0x27);	/* CTAP2_ERR_OPERATION_DENIED */
	assert_int_equal(cli(bob, "approve", id, "--user", "bob", NULL),
	    TK_CLI_EKEY);
	assert_non_null(strstr(err, "not confirmed on the security key"));
	assert_int_equal(cli(carol, "requests", id, "--user", "carol", NULL),
	    TK_CLI_OK);
	assert_non_null(strstr(out, "pending"));
}

static void
a_key_without_a_credential_here_exits_6(void **state)
{
	struct softctap *blank = softctap_new();

	(void)state;
	assert_non_null(blank);
	assert_int_equal(cli(blank, "requests", "--user", "bob", NULL),
	    TK_CLI_EKEY);
	assert_non_null(strstr(err, "holds no credential"));
	softctap_free(&blank);
}

/* A credential the server never saw, made by libfido2 directly. */
static void
make_foreign_credential(struct softctap *k)
{
	static const unsigned char cdh[32];
	fido_dev_t *dev = fido_dev_new();
	fido_cred_t *c = fido_cred_new();

	assert_non_null(dev);
	assert_non_null(c);
	assert_int_equal(fido_dev_set_io_functions(dev, softctap_io()), 0);
	assert_int_equal(fido_dev_open(dev, softctap_path(k)), FIDO_OK);
	assert_int_equal(fido_cred_set_type(c, COSE_ES256), FIDO_OK);
	assert_int_equal(fido_cred_set_clientdata_hash(c, cdh, sizeof(cdh)),
	    FIDO_OK);
	assert_int_equal(fido_cred_set_rp(c, "localhost", NULL), FIDO_OK);
	assert_int_equal(fido_cred_set_user(c, (const unsigned char *)"bob",
	    3, "bob", NULL, NULL), FIDO_OK);
	assert_int_equal(fido_cred_set_rk(c, FIDO_OPT_TRUE), FIDO_OK);
	assert_int_equal(fido_dev_make_cred(dev, c, NULL), FIDO_OK);
	fido_cred_free(&c);
	fido_dev_close(dev);
	fido_dev_free(&dev);
}

static void
an_unknown_credential_is_refused_at_sign_in_exit_4(void **state)
{
	struct softctap *foreign = softctap_new();

	(void)state;
	assert_non_null(foreign);
	make_foreign_credential(foreign);
	assert_int_equal(cli(foreign, "requests", "--user", "bob", NULL),
	    TK_CLI_EAUTH);
	assert_non_null(strstr(err, "HTTP 401"));
	assert_non_null(strstr(err, "signin_failed"));
	softctap_free(&foreign);
}

static char *
read_all(const char *path, size_t *len)
{
	uint8_t *buf = NULL;

	assert_int_equal(tk_read_file(path, 64 << 20, 0, &buf, len), 0);
	return (char *)buf;
}

static int
untar(const char *tar, size_t len, const char *dir)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char path[1024];
	int r = 0;

	archive_read_support_format_tar(a);
	if (archive_read_open_memory(a, tar, len) != ARCHIVE_OK)
		r = -1;
	while (r == 0 && archive_read_next_header(a, &e) == ARCHIVE_OK) {
		snprintf(path, sizeof(path), "%s/%s", dir,
		    archive_entry_pathname(e));
		archive_entry_set_pathname(e, path);
		if (archive_read_extract(a, e, 0) != ARCHIVE_OK)
			r = -1;
	}
	archive_read_free(a);
	return r;
}

/* twokey-verify KIND PATH --root root.pem: its exit code. */
static int
verify(const char *kind, const char *path)
{
	char prog[1024];
	pid_t pid;
	int st;

	snprintf(prog, sizeof(prog), "%s/twokey-verify",
	    getenv("TWOKEY_BUILD"));
	if ((pid = fork()) == 0) {
		execl(prog, "twokey-verify", kind, path, "--root", d.root_pem,
		    (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void
export_by_an_auditor_verifies_with_twokey_verify(void **state)
{
	char tar[800], dir[800], *buf;
	uint32_t before;
	size_t len;

	(void)state;
	snprintf(tar, sizeof(tar), "%s/journal.tar", d.dir);
	assert_int_equal(cli(audrey, "export", "-o", tar, "--user", "audrey",
	    NULL), TK_CLI_OK);
	buf = read_all(tar, &len);
	assert_true(len > 512);
	assert_memory_equal(buf + 257, "ustar", 5);
	snprintf(dir, sizeof(dir), "%s/export", d.dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(untar(buf, len, dir), 0);
	free(buf);
	snprintf(dir, sizeof(dir), "%s/export/journal", d.dir);
	assert_int_equal(verify("log", dir), 0);
	/* An admin is no auditor: refused, and no file is left behind. */
	snprintf(tar, sizeof(tar), "%s/admin.tar", d.dir);
	assert_int_equal(cli(alice, "export", "-o", tar, "--user", "alice",
	    NULL), TK_CLI_EREFUSED);
	assert_int_equal(access(tar, F_OK), -1);
	/* The archive is there now: told before the key is touched. */
	before = softctap_counter(audrey);
	snprintf(tar, sizeof(tar), "%s/journal.tar", d.dir);
	assert_int_equal(cli(audrey, "export", "-o", tar, "--user", "audrey",
	    NULL), TK_CLI_EFILE);
	assert_non_null(strstr(err, "already exists"));
	snprintf(tar, sizeof(tar), "%s/gone/journal.tar", d.dir);
	assert_int_equal(cli(audrey, "export", "-o", tar, "--user", "audrey",
	    NULL), TK_CLI_EFILE);
	assert_non_null(strstr(err, "does not exist"));
	assert_int_equal(softctap_counter(audrey), before);
}

static void
an_evidence_pack_verifies_with_twokey_verify(void **state)
{
	char pack[800], *buf;
	uint32_t before;
	size_t len;

	(void)state;
	snprintf(pack, sizeof(pack), "%s/pack.tar.gz", d.dir);
	assert_int_equal(cli(audrey, "evidence", "--from", "2026-01-01",
	    "--to", "2027-01-01", "-o", pack, "--user", "audrey", NULL),
	    TK_CLI_OK);
	buf = read_all(pack, &len);
	assert_true(len > 100);
	assert_int_equal((uint8_t)buf[0], 0x1f);
	assert_int_equal((uint8_t)buf[1], 0x8b);
	free(buf);
	assert_int_equal(verify("pack", pack), 0);
	/* A period backwards or unreal: told before the key is touched. */
	before = softctap_counter(audrey);
	snprintf(pack, sizeof(pack), "%s/backwards.tar.gz", d.dir);
	assert_int_equal(cli(audrey, "evidence", "--from", "2027-01-01",
	    "--to", "2026-01-01", "-o", pack, "--user", "audrey", NULL),
	    TK_CLI_EUSAGE);
	assert_non_null(strstr(err, "--from must be before --to"));
	assert_int_equal(cli(audrey, "evidence", "--from", "2026-13-01",
	    "--to", "2027-01-01", "-o", pack, "--user", "audrey", NULL),
	    TK_CLI_EUSAGE);
	assert_int_equal(softctap_counter(audrey), before);
	/* What the server refuses: its code, and no file. */
	assert_int_equal(cli(bob, "evidence", "--from", "2026-01-01",
	    "--to", "2027-01-01", "-o", pack, "--user", "bob", NULL),
	    TK_CLI_EREFUSED);
	assert_non_null(strstr(err, "HTTP 403"));
	assert_int_equal(access(pack, F_OK), -1);
}

static void
an_api_key_reads_without_any_security_key(void **state)
{
	char keyfile[800], *key;
	size_t len;
	struct stat st;

	(void)state;
	snprintf(keyfile, sizeof(keyfile), "%s/robot.key", d.dir);
	assert_int_equal(cli(alice, "api-key", "create", "robot", "--user",
	    "alice", "--scope", "requests:read", "-o", keyfile, NULL),
	    TK_CLI_OK);
	assert_int_equal(stat(keyfile, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	key = read_all(keyfile, &len);
	key[strcspn(key, "\n")] = '\0';
	assert_true(strlen(key) > 40);
	assert_null(strstr(out, key));
	setenv("TWOKEY_API_KEY_FILE", keyfile, 1);
	/* No security key at all: the API key alone reads the list. */
	assert_int_equal(cli(NULL, "requests", "--json", NULL), TK_CLI_OK);
	assert_non_null(strstr(out, "\"pending\""));
	assert_int_equal(cli(NULL, "grants", "--json", NULL), TK_CLI_OK);
	assert_non_null(strstr(out, "\"grants\""));
	/* A scope the key lacks is the server's refusal, key not shown. */
	assert_int_equal(cli(NULL, "export", "-o", "-", NULL),
	    TK_CLI_EREFUSED);
	assert_null(strstr(err, key));
	unsetenv("TWOKEY_API_KEY_FILE");
	/* From the environment it is read once and taken out of it. */
	setenv("TWOKEY_API_KEY", key, 1);
	assert_int_equal(cli(NULL, "requests", NULL), TK_CLI_OK);
	assert_null(getenv("TWOKEY_API_KEY"));
	tk_secret_free(key, len);
}

static void
an_elevation_is_filed_for_a_service_account(void **state)
{
	char id[32];
	const char *p;

	(void)state;
	assert_int_equal(cli(alice, "invite", "dave", "--user", "alice",
	    "--team", "dev", "--role", "requester", NULL), TK_CLI_OK);
	assert_int_equal(cli(dave, "enroll", "--invitation-file",
	    secret_file("dave", invited()), NULL), TK_CLI_OK);
	assert_non_null(p = strstr(out, " as person "));
	assert_int_equal(sscanf(p, " as person %lld;", &dave_id), 1);
	assert_int_equal(cli(dave, "request", "elevation", "--user", "dave",
	    "--service-account", "sa-billing", "--connector", "make",
	    "--scope", "scenarios:write", "--duration", "30m", "--reason",
	    "quarterly import", "--ticket", "CHG-42", NULL), TK_CLI_OK);
	snprintf(id, sizeof(id), "%lld", filed_id());
	assert_int_equal(cli(carol, "requests", id, "--user", "carol",
	    "--json", NULL), TK_CLI_OK);
	assert_non_null(strstr(out, "\"duration\": 1800"));
	assert_non_null(strstr(out, "\"service_account\": \"sa-billing\""));
	assert_non_null(strstr(out, "\"ticket\": \"CHG-42\""));
}

/* The change id in "change N proposed". */
static long long
proposed_id(void)
{
	long long id = 0;

	assert_int_equal(sscanf(out, "change %lld proposed", &id), 1);
	assert_true(id > 0);
	return id;
}

static void
a_team_change_is_proposed_and_applied_by_the_quorum(void **state)
{
	char person[32], id[32];

	(void)state;
	snprintf(person, sizeof(person), "%lld", dave_id);
	assert_int_equal(cli(alice, "propose", "person.update", "--user",
	    "alice", "--person", person, "--team", "billing", "--reason",
	    "moved to billing", "--ticket", "HR-14", NULL), TK_CLI_OK);
	assert_non_null(strstr(out, "      name: dave\n"));
	assert_non_null(strstr(out, "    - team: dev\n"));
	assert_non_null(strstr(out, "    + team: billing\n"));
	snprintf(id, sizeof(id), "%lld", proposed_id());
	assert_int_equal(cli(bob, "approve", id, "--user", "bob", NULL),
	    TK_CLI_OK);
	assert_int_equal(cli(carol, "approve", id, "--user", "carol", NULL),
	    TK_CLI_OK);
	assert_non_null(strstr(out, "state applied, 2 approvals"));
	/* Nothing changes twice: the server's code for it. */
	assert_int_equal(cli(alice, "propose", "person.update", "--user",
	    "alice", "--args", "{\"person\": 0, \"team\": \"x\"}",
	    "--reason", "r", "--ticket", "T-1", NULL), TK_CLI_EREFUSED);
	assert_int_equal(cli(alice, "propose", "person.update", "--user",
	    "alice", "--person", person, "--team", "billing", "--reason",
	    "again", "--ticket", "HR-15", NULL), TK_CLI_EREFUSED);
	assert_non_null(strstr(err, "HTTP 409"));
	assert_non_null(strstr(err, "no_change"));
}

static void
a_policy_change_leaves_the_file_behind(void **state)
{
	char id[32];
	json_t *j;

	(void)state;
	assert_int_equal(cli(carol, "policy", "--user", "carol", NULL),
	    TK_CLI_OK);
	assert_non_null(strstr(out, "approved policy, in force:\n"));
	assert_non_null(strstr(out, "      quorum: 2\n"));
	assert_non_null(strstr(out, "no drift"));
	assert_int_equal(cli(alice, "propose", "policy.set", "--user", "alice",
	    "--set", "pending_ttl=7200", "--reason", "answer within two "
	    "hours", "--ticket", "CHG-7", NULL), TK_CLI_OK);
	assert_non_null(strstr(out, "    + pending_ttl: 7200\n"));
	assert_non_null(strstr(out, "    - pending_ttl: "));
	snprintf(id, sizeof(id), "%lld", proposed_id());
	assert_int_equal(cli(alice, "approve", id, "--user", "alice", NULL),
	    TK_CLI_EREFUSED);
	assert_non_null(strstr(err, "self_approval"));
	assert_int_equal(cli(bob, "approve", id, "--user", "bob", NULL),
	    TK_CLI_OK);
	assert_int_equal(cli(carol, "approve", id, "--user", "carol", NULL),
	    TK_CLI_OK);
	assert_non_null(strstr(out, "state applied"));
	/*
	 * In force now. The file still holds the old value: it is behind
	 * an approved change, which is said, but no alarm: nobody edited it.
	 */
	assert_int_equal(cli(carol, "policy", "--user", "carol", NULL),
	    TK_CLI_OK);
	assert_non_null(strstr(out, "      pending_ttl: 7200\n"));
	assert_non_null(strstr(out, "the configuration file is behind"));
	assert_null(strstr(err, "POLICY DRIFT"));
	assert_int_equal(cli(carol, "policy", "--user", "carol", "--json",
	    NULL), TK_CLI_OK);
	assert_non_null(j = json_loads(out, 0, NULL));
	assert_true(json_is_false(json_object_get(json_object_get(j, "drift"),
	    "active")));
	assert_true(json_is_true(json_object_get(json_object_get(j, "drift"),
	    "behind")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    j, "approved"), "pending_ttl")), 7200);
	json_decref(j);
}

static void
a_revoked_api_key_reads_no_more(void **state)
{
	char keyfile[800], id[40];
	uint32_t before;

	(void)state;
	snprintf(keyfile, sizeof(keyfile), "%s/audit.key", d.dir);
	assert_int_equal(cli(alice, "api-key", "create", "auditbot", "--user",
	    "alice", "--scope", "journal:read", "-o", keyfile, NULL),
	    TK_CLI_OK);
	assert_int_equal(sscanf(out, "api key %32[0-9a-f] (auditbot)", id),
	    1);
	/* Never over an existing file, and told before any touch. */
	before = softctap_counter(alice);
	assert_int_equal(cli(alice, "api-key", "create", "again", "--user",
	    "alice", "--scope", "journal:read", "-o", keyfile, NULL),
	    TK_CLI_EFILE);
	assert_int_equal(cli(alice, "api-key", "create", "again", "--user",
	    "alice", "--scope", "root:all", NULL), TK_CLI_EUSAGE);
	assert_int_equal(softctap_counter(alice), before);
	assert_int_equal(cli(alice, "api-key", "list", "--user", "alice",
	    NULL), TK_CLI_OK);
	assert_non_null(strstr(out, id));
	assert_non_null(strstr(out, "auditbot"));
	setenv("TWOKEY_API_KEY_FILE", keyfile, 1);
	assert_int_equal(cli(NULL, "export", "-o", "-", NULL), TK_CLI_OK);
	assert_int_equal(cli(alice, "api-key", "revoke", id, "--user",
	    "alice", NULL), TK_CLI_OK);
	assert_int_equal(cli(NULL, "export", "-o", "-", NULL), TK_CLI_EAUTH);
	unsetenv("TWOKEY_API_KEY_FILE");
}

static void
a_wrong_api_key_is_refused_and_never_echoed(void **state)
{
	static const char bogus[] = "tk_0123456789abcdef0123456789abcdef_"
	    "notthesecretatallnotthesecretatallxx";

	(void)state;
	setenv("TWOKEY_API_KEY_FILE", secret_file("bogus.key", bogus), 1);
	assert_int_equal(cli(NULL, "requests", NULL), TK_CLI_EAUTH);
	assert_non_null(strstr(err, "HTTP 401"));
	assert_null(strstr(err, "notthesecret"));
	assert_null(strstr(out, "notthesecret"));
	unsetenv("TWOKEY_API_KEY_FILE");
}

/* The credential id in enroll's "credential id ID" line, into buf. */
static const char *
enrolled_credential(char *buf, size_t cap)
{
	const char *p = strstr(out, "credential id ");

	assert_non_null(p);
	p += strlen("credential id ");
	assert_true(strcspn(p, "\n") < cap);
	snprintf(buf, cap, "%.*s", (int)strcspn(p, "\n"), p);
	assert_true(strlen(buf) > 8);
	return buf;
}

static void
safe_actions_take_effect_at_once(void **state)
{
	struct softctap *eve = softctap_new();
	char person[32], cred[400], want[48];
	const char *line;

	(void)state;
	assert_non_null(eve);
	/* A scope blocked for every connector, at once. */
	assert_int_equal(cli(alice, "block", "db:drop", "--user", "alice",
	    NULL), TK_CLI_OK);
	assert_non_null(strstr(out, "scope db:drop blocked for every "
	    "connector"));
	assert_int_equal(cli(rita, "request", "break-glass", "--user", "rita",
	    "--incident", "INC-10", "--scope", "db:drop", "--duration", "1h",
	    "--reason", "cleanup", NULL), TK_CLI_EREFUSED);
	assert_non_null(strstr(err, "blocked_scope"));
	/* An empty scope is told at once; not an admin, by the server. */
	assert_int_equal(cli(alice, "block", "", "--user", "alice", NULL),
	    TK_CLI_EUSAGE);
	assert_int_equal(cli(bob, "block", "db:truncate", "--user", "bob",
	    NULL), TK_CLI_EREFUSED);
	assert_non_null(strstr(err, "role_missing"));
	/* A key revoked signs in no more. */
	assert_int_equal(cli(alice, "invite", "eve", "--user", "alice",
	    "--team", "dev", "--role", "requester", NULL), TK_CLI_OK);
	assert_int_equal(cli(eve, "enroll", "--invitation-file",
	    secret_file("eve", invited()), NULL), TK_CLI_OK);
	enrolled_credential(cred, sizeof(cred));
	assert_int_equal(cli(alice, "revoke-credential", "--user", "alice",
	    "--", cred, NULL), TK_CLI_OK);
	assert_non_null(strstr(out, ": revoked"));
	assert_int_equal(cli(eve, "requests", "--user", "eve", NULL),
	    TK_CLI_EAUTH);
	assert_int_equal(cli(alice, "revoke-credential", "--user", "alice",
	    "--", cred, NULL), TK_CLI_EREFUSED);
	assert_non_null(strstr(err, "credential_revoked"));
	/* The id to suspend comes from the list of people. */
	snprintf(person, sizeof(person), "%lld", dave_id);
	assert_int_equal(cli(alice, "people", "--user", "alice", NULL),
	    TK_CLI_OK);
	assert_non_null(strstr(out, "ID    NAME "));
	snprintf(want, sizeof(want), "\n%-5s dave ", person);
	assert_non_null(line = strstr(out, want));
	assert_non_null(strstr(line, " active "));
	/* eve's key, revoked above, is marked so. */
	assert_non_null(line = strstr(out, " eve "));
	assert_non_null(strstr(line, "(1 revoked or flagged)\n"));
	/* A person suspended signs in no more either. */
	assert_int_equal(cli(alice, "suspend", person, "--user", "alice",
	    NULL), TK_CLI_OK);
	assert_non_null(strstr(out, ": suspended"));
	assert_int_equal(cli(dave, "requests", "--user", "dave", NULL),
	    TK_CLI_EAUTH);
	assert_int_equal(cli(alice, "suspend", "99999", "--user", "alice",
	    NULL), TK_CLI_EREFUSED);
	assert_non_null(strstr(err, "not_found"));
	softctap_free(&eve);
}

/* name's person id, as twokey people lists it, into buf. */
static const char *
person_id(const char *name, char *buf, size_t cap)
{
	char want[80];
	const char *line;

	assert_int_equal(cli(alice, "people", "--user", "alice", NULL),
	    TK_CLI_OK);
	snprintf(want, sizeof(want), " %s ", name);
	assert_non_null(line = strstr(out, want));
	while (line > out && line[-1] != '\n')
		line--;
	snprintf(buf, cap, "%.*s", (int)strcspn(line, " "), line);
	assert_true(strlen(buf) > 0 && strspn(buf, "0123456789") ==
	    strlen(buf));
	return buf;
}

static void
a_new_key_invitation_brings_a_locked_out_person_back(void **state)
{
	struct softctap *eve2 = softctap_new(), *bob2 = softctap_new();
	char eve[32], bobs[32];
	uint32_t touches;

	(void)state;
	assert_non_null(eve2);
	assert_non_null(bob2);
	person_id("eve", eve, sizeof(eve));
	person_id("bob", bobs, sizeof(bobs));
	/* Told before the key is touched. */
	touches = softctap_counter(alice);
	assert_int_equal(cli(alice, "new-key", eve, "--user", "alice",
	    "--reason", "lost", NULL), TK_CLI_EUSAGE);
	assert_non_null(strstr(err, "--reason and --ticket go together"));
	assert_int_equal(cli(alice, "new-key", "eve", "--user", "alice",
	    NULL), TK_CLI_EUSAGE);
	assert_int_equal(softctap_counter(alice), touches);
	assert_int_equal(cli(carol, "new-key", eve, "--user", "carol", NULL),
	    TK_CLI_EREFUSED);
	assert_non_null(strstr(err, "role_missing"));
	/* bob is an approver: his new key needs a reason, then the quorum. */
	assert_int_equal(cli(alice, "new-key", bobs, "--user", "alice", NULL),
	    TK_CLI_EREFUSED);
	assert_non_null(strstr(err, "quorum_required"));
	/* eve's only key was revoked; a requester's new key is hers now. */
	assert_int_equal(cli(alice, "new-key", eve, "--user", "alice", NULL),
	    TK_CLI_OK);
	assert_non_null(strstr(out, "new-key invitation for eve, single "
	    "use"));
	assert_int_equal(cli(eve2, "enroll", "--invitation-file",
	    secret_file("eve2", invited()), NULL), TK_CLI_OK);
	assert_non_null(strstr(err, "A new security key for eve: touch"));
	assert_non_null(strstr(out, "new security key of eve registered; "
	    "credential id "));
	assert_int_equal(cli(eve2, "requests", "--user", "eve", NULL),
	    TK_CLI_OK);
	assert_int_equal(cli(alice, "new-key", bobs, "--user", "alice",
	    "--reason", "lost key", "--ticket", "SEC-12", NULL), TK_CLI_OK);
	assert_int_equal(cli(bob2, "enroll", "--invitation-file",
	    secret_file("bob2", invited()), NULL), TK_CLI_OK);
	assert_non_null(strstr(out, "the new key of bob proposed as change "));
	assert_int_equal(cli(bob2, "requests", "--user", "bob", NULL),
	    TK_CLI_EAUTH);
	/* eve leaves: her new key signs in no more either. */
	assert_int_equal(cli(alice, "leave", eve, "--user", "alice", NULL),
	    TK_CLI_OK);
	assert_non_null(strstr(out, ": left\nowns no service account\n"));
	assert_int_equal(cli(eve2, "requests", "--user", "eve", NULL),
	    TK_CLI_EAUTH);
	softctap_free(&eve2);
	softctap_free(&bob2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    enroll_registers_usb_keys_through_bootstrap_invitations),
		cmocka_unit_test(
		    a_spent_invitation_is_refused_with_the_servers_code),
		cmocka_unit_test(invite_gives_a_code_the_invitee_enrolls_with),
		cmocka_unit_test(
		    governed_invitation_without_reason_is_a_usage_error),
		cmocka_unit_test(
		    a_commander_enrolls_only_once_the_quorum_approves),
		cmocka_unit_test(
		    the_proposers_own_approval_of_a_change_is_refused),
		cmocka_unit_test(an_unknown_change_is_the_servers_not_found),
		cmocka_unit_test(a_request_is_filed_and_listed_for_approvers),
		cmocka_unit_test(an_elevation_is_filed_for_a_service_account),
		cmocka_unit_test(
		    a_team_change_is_proposed_and_applied_by_the_quorum),
		cmocka_unit_test(
		    a_policy_change_leaves_the_file_behind),
		cmocka_unit_test(
		    the_requesters_own_approval_is_refused_with_its_code),
		cmocka_unit_test(two_approvals_with_usb_keys_grant_the_request),
		cmocka_unit_test(grants_gives_the_requester_the_signed_token),
		cmocka_unit_test(a_grant_is_revoked_and_its_review_filed),
		cmocka_unit_test(reject_signs_a_rejection),
		cmocka_unit_test(a_touch_refused_on_the_key_exits_6),
		cmocka_unit_test(a_key_without_a_credential_here_exits_6),
		cmocka_unit_test(
		    an_unknown_credential_is_refused_at_sign_in_exit_4),
		cmocka_unit_test(
		    export_by_an_auditor_verifies_with_twokey_verify),
		cmocka_unit_test(an_evidence_pack_verifies_with_twokey_verify),
		cmocka_unit_test(an_api_key_reads_without_any_security_key),
		cmocka_unit_test(a_revoked_api_key_reads_no_more),
		cmocka_unit_test(a_wrong_api_key_is_refused_and_never_echoed),
		cmocka_unit_test(safe_actions_take_effect_at_once),
		cmocka_unit_test(
		    a_new_key_invitation_brings_a_locked_out_person_back),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
