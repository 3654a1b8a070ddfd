/*
 * twokey, the command-line client: options, settings, help and the
 * command table. Settings come from an option, else the environment,
 * else the settings file (JSON); secrets never from the command line,
 * where the process list shows them. docs/twokey.1 is the manual.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/crypto.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "cli_int.h"

struct command {
	const char	*name;
	int		(*run)(struct cli *);
	unsigned long	 opts;
	int		 min_args;
	int		 max_args;
	const char	*help;
};

static int cmd_approve(struct cli *c) { return cli_cmd_vote(c, "approve"); }
static int cmd_reject(struct cli *c) { return cli_cmd_vote(c, "reject"); }

static const struct command commands[] = {
	{ "init", cli_cmd_init, OPT(O_HELP) | OPT(O_JSON) | OPT(O_DCONFIG) |
	    OPT(O_OUTDIR) | OPT(O_BOOTSTRAP) | OPT(O_TWOKEYD), 0, 0,
	    "twokey init [--daemon-config FILE] [--out DIR]\n"
	    "            [--bootstrap NAME:TEAM,NAME:TEAM,...] "
	    "[--twokeyd PATH]\n"
	    "  On the appliance, as its administrator, daemon stopped: the "
	    "key ceremony\n  on the token of twokeyd's configuration "
	    "(default /etc/twokey/twokeyd.conf);\n  prints the root "
	    "certificate's SHA-256 fingerprint. With --bootstrap, then\n"
	    "  the first enrollment (twokeyd --bootstrap): one-time "
	    "invitation codes.\n" },
	{ "status", cli_cmd_status, OPTS_COMMON, 0, 0,
	    "twokey status [--json]\n"
	    "  Whether the server is alive and ready, and its journal's "
	    "latest checkpoint.\n" },
	{ "enroll", cli_cmd_enroll, OPTS_COMMON | OPT(O_DEVICE) |
	    OPT(O_INVFILE), 0, 0,
	    "twokey enroll --invitation-file FILE [--device PATH]\n"
	    "  Registers the security key for the invitation in FILE "
	    "(\"-\": standard input).\n" },
	{ "invite", cli_cmd_invite, OPTS_COMMON | OPTS_KEY | OPT(O_TEAM) |
	    OPT(O_ROLE) | OPT(O_REASON) | OPT(O_TICKET), 1, 1,
	    "twokey invite NAME --team TEAM --role ROLE [--role ROLE...]\n"
	    "              [--reason TEXT --ticket T]\n"
	    "  Invites a person (admins); prints the one-time invitation "
	    "code. ROLE:\n  requester, auditor, commander, approver, admin. "
	    "Commander, approver and\n  admin are governed: they need "
	    "--reason and --ticket, and the person's\n  enrollment then "
	    "proposes a change that the quorum must approve.\n" },
	{ "new-key", cli_cmd_new_key, OPTS_COMMON | OPTS_KEY | OPT(O_REASON) |
	    OPT(O_TICKET), 1, 1,
	    "twokey new-key PERSON [--reason TEXT --ticket T]\n"
	    "  A new-key invitation (admins): the one-time code with which "
	    "person\n  PERSON (their id, from twokey people) registers one "
	    "more security key,\n  when theirs are lost, revoked or "
	    "flagged. For a commander, approver or\n  admin it needs "
	    "--reason and --ticket, and the registration proposes a\n  "
	    "change (credential.add) that approvers other than you and "
	    "them approve.\n" },
	{ "request", cli_cmd_request, OPTS_COMMON | OPTS_KEY | OPT(O_SCOPE) |
	    OPT(O_REASON) | OPT(O_ACCOUNT) | OPT(O_CONNECTOR) |
	    OPT(O_DURATION) | OPT(O_INCIDENT) | OPT(O_TICKET), 1, 1,
	    "twokey request elevation --service-account SA --connector C\n"
	    "               --scope S [--scope S...] --duration D "
	    "--reason TEXT [--ticket T]\n"
	    "twokey request break-glass --incident ID --scope S "
	    "[--scope S...]\n"
	    "               --duration D --reason TEXT\n"
	    "  Files a request as the signed-in person; prints its id. "
	    "D: seconds, or\n  a number with s, m, h or d.\n" },
	{ "requests", cli_cmd_requests, OPTS_COMMON | OPTS_KEY |
	    OPT(O_KEYFILE), 0, 1,
	    "twokey requests [ID] [--json]\n"
	    "  The pending requests, or one request with its state.\n" },
	{ "approve", cmd_approve, OPTS_COMMON | OPTS_KEY | OPT(O_REASON), 1,
	    1,
	    "twokey approve ID [--reason TEXT]\n"
	    "  Approves request or change ID with a touch of the security "
	    "key, after\n  showing it (a change with its before/after diff). "
	    "--reason is journaled\n  beside the vote; the key does not "
	    "sign it.\n" },
	{ "reject", cmd_reject, OPTS_COMMON | OPTS_KEY | OPT(O_REASON), 1, 1,
	    "twokey reject ID [--reason TEXT]\n"
	    "  Rejects request or change ID with a touch of the security "
	    "key.\n" },
	{ "grants", cli_cmd_grants, OPTS_COMMON | OPTS_KEY | OPT(O_TOKEN) |
	    OPT(O_KEYFILE), 0, CLI_MAX_LIST,
	    "twokey grants [ID...] [--token] [--json]\n"
	    "  Without ids, the newest grants (who, what, until when, "
	    "review); with ids,\n  the grants of your granted requests "
	    "with their tokens (--token: only the\n  JWTs).\n" },
	{ "review", cli_cmd_review, OPTS_COMMON | OPTS_KEY | OPT(O_TEXT),
	    1, 1,
	    "twokey review ID --text TEXT\n"
	    "  Files the post-incident review of break-glass request ID "
	    "(its commander).\n" },
	{ "revoke", cli_cmd_revoke, OPTS_COMMON | OPTS_KEY, 1, 1,
	    "twokey revoke GRANT\n"
	    "  Ends an active grant early (admins, approvers, commanders); "
	    "GRANT is its\n  id (jti), as twokey grants shows it.\n" },
	{ "changes", cli_cmd_changes, OPTS_COMMON | OPTS_KEY, 0, 1,
	    "twokey changes [ID] [--json]\n"
	    "  The governed changes, newest first, with their state; or "
	    "change ID with\n  its before/after diff and its votes.\n" },
	{ "propose", cli_cmd_propose, OPTS_COMMON | OPTS_KEY | OPT(O_REASON) |
	    OPT(O_TICKET) | OPT(O_ARGS) | OPT(O_SET) | OPT(O_PERSON) |
	    OPT(O_TEAM) | OPT(O_ROLE), 1, 1,
	    "twokey propose TYPE --args JSON --reason TEXT --ticket T\n"
	    "twokey propose policy.set --set KEY=VALUE [--set ...] "
	    "--reason TEXT --ticket T\n"
	    "twokey propose person.update --person ID [--team TEAM] "
	    "[--role ROLE...]\n"
	    "               --reason TEXT --ticket T\n"
	    "twokey propose person.reactivate --person ID --reason TEXT "
	    "--ticket T\n"
	    "  Proposes a governed change and shows its id and diff; it "
	    "applies when the\n  quorum of approvers other than you approve "
	    "it (twokey approve ID). VALUE\n  is JSON (3, true, [\"a\"]), "
	    "else a string. --args is TYPE's arguments\n  object, for any "
	    "type.\n" },
	{ "policy", cli_cmd_policy, OPTS_COMMON | OPTS_KEY, 0, 0,
	    "twokey policy [--json]\n"
	    "  The approved policy, in force, and any drift: a "
	    "configuration file that\n  differs from it (never applied; "
	    "exit 9).\n" },
	{ "people", cli_cmd_people, OPTS_COMMON | OPTS_KEY, 0, 0,
	    "twokey people [--json]\n"
	    "  Everyone enrolled (admins and auditors): the id that suspend "
	    "and\n  propose --person take, name, team, state, roles and "
	    "security keys.\n" },
	{ "suspend", cli_cmd_suspend, OPTS_COMMON | OPTS_KEY, 1, 1,
	    "twokey suspend PERSON\n"
	    "  Suspends a person (their id, from twokey people) at once "
	    "(admins);\n  reactivating is the governed change "
	    "person.reactivate.\n" },
	{ "leave", cli_cmd_leave, OPTS_COMMON | OPTS_KEY, 1, 1,
	    "twokey leave PERSON\n"
	    "  Records that a person (their id) left, at once (admins): "
	    "like suspend,\n  and the service accounts they own are listed "
	    "for reassignment.\n" },
	{ "revoke-credential", cli_cmd_revoke_credential, OPTS_COMMON |
	    OPTS_KEY, 1, 1,
	    "twokey revoke-credential CREDENTIAL\n"
	    "  Revokes a security key (its credential id, base64url) at once "
	    "(admins):\n  it neither signs in nor counts in any vote "
	    "again.\n" },
	{ "block", cli_cmd_block, OPTS_COMMON | OPTS_KEY | OPT(O_CONNECTOR),
	    1, 1,
	    "twokey block SCOPE [--connector C]\n"
	    "  Blocks a scope at once (admins) for connector C, by default "
	    "\"*\", every\n  connector; unblocking is the governed change "
	    "policy.set.\n" },
	{ "export", cli_cmd_export, OPTS_COMMON | OPTS_KEY | OPT(O_KEYFILE) |
	    OPT(O_OUTPUT), 0, 0,
	    "twokey export -o FILE.tar\n"
	    "  The whole signed journal as a tar archive (auditors); check "
	    "it with\n  twokey-verify after extracting it.\n" },
	{ "evidence", cli_cmd_evidence, OPTS_COMMON | OPTS_KEY |
	    OPT(O_KEYFILE) | OPT(O_FROM) | OPT(O_TO) | OPT(O_OUTPUT), 0, 0,
	    "twokey evidence --from DATE --to DATE -o PACK.tar.gz\n"
	    "  The signed evidence pack of the period [from, to) (admins, "
	    "auditors); DATE\n  is YYYY-MM-DD (00:00 UTC) or "
	    "YYYY-MM-DDTHH:MM:SSZ. Check it with\n  twokey-verify pack "
	    "PACK.tar.gz --root root.pem.\n" },
	{ "api-key", cli_cmd_apikey, OPTS_COMMON | OPTS_KEY | OPT(O_SCOPE) |
	    OPT(O_OUTPUT), 1, 2,
	    "twokey api-key create NAME --scope SCOPE [--scope SCOPE] "
	    "[-o FILE]\n"
	    "twokey api-key list\n"
	    "twokey api-key revoke ID\n"
	    "  API keys for automation (admins); scopes requests:read,\n"
	    "  journal:read (also evidence packs), inventory:events "
	    "(rotation and use\n  reports). A new key is shown once: "
	    "written to FILE (a new file,\n  mode 0600), else printed.\n" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct option longopts[] = {
	{ "server", required_argument, NULL, 's' },
	{ "ca", required_argument, NULL, 'C' },
	{ "user", required_argument, NULL, 'u' },
	{ "api-key-file", required_argument, NULL, 'K' },
	{ "device", required_argument, NULL, 'D' },
	{ "credential", required_argument, NULL, 'I' },
	{ "config", required_argument, NULL, 'F' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ "scope", required_argument, NULL, 'S' },
	{ "reason", required_argument, NULL, 'r' },
	{ "service-account", required_argument, NULL, 'a' },
	{ "connector", required_argument, NULL, 'n' },
	{ "duration", required_argument, NULL, 'd' },
	{ "incident", required_argument, NULL, 'i' },
	{ "ticket", required_argument, NULL, 't' },
	{ "team", required_argument, NULL, 'T' },
	{ "role", required_argument, NULL, 'R' },
	{ "invitation-file", required_argument, NULL, 'V' },
	{ "output", required_argument, NULL, 'o' },
	{ "token", no_argument, NULL, 'k' },
	{ "daemon-config", required_argument, NULL, 'c' },
	{ "out", required_argument, NULL, 'O' },
	{ "bootstrap", required_argument, NULL, 'B' },
	{ "twokeyd", required_argument, NULL, 'Y' },
	{ "from", required_argument, NULL, 'W' },
	{ "to", required_argument, NULL, 'X' },
	{ "text", required_argument, NULL, 'x' },
	{ "args", required_argument, NULL, 'A' },
	{ "set", required_argument, NULL, 'E' },
	{ "person", required_argument, NULL, 'P' },
	{ "version", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 },
};

/* The short letter of each enum cli_opt, in its order. */
static const char optletters[O__COUNT + 1] = "sCuKDIFjhSranditTRVokcOBYWXxAEPv";

void
cli_errf(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	fputs("twokey: ", c->err);
	va_start(ap, fmt);
	vfprintf(c->err, fmt, ap);
	va_end(ap);
	fputc('\n', c->err);
	fflush(c->err);
}

/*
 * s for echoing what others sent: as written when it passes the text
 * rule the server keeps (UTF-8 without control or invisible characters)
 * and fits, else with every byte outside printable ASCII escaped.
 */
const char *
cli_safe(const char *s, char *buf, size_t cap)
{
	size_t n;

	if (s == NULL)
		return "";
	/* Text the server's own rule passes is shown as it is written. */
	n = strlen(s);
	if (n < cap && tk_text_printable(s, n)) {
		memcpy(buf, s, n + 1);
		return buf;
	}
	return tk_log_escape(buf, cap, s, n);
}

int
cli_print_json(struct cli *c, json_t *j)
{
	if (j == NULL || json_dumpf(j, c->out, JSON_INDENT(2) |
	    JSON_SORT_KEYS) != 0)
		return TK_CLI_EINTERNAL;
	fputc('\n', c->out);
	return TK_CLI_OK;
}

/* o's member k if it is a string, else "" (answers are not trusted). */
const char *
cli_str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

/* t (seconds since 1970) as UTC, into buf. */
const char *
cli_when(json_int_t t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, cap, "%Y-%m-%d %H:%M:%SZ", &tm) == 0)
		snprintf(buf, cap, "%lld", (long long)t);
	return buf;
}

/* A positive decimal id; what names it in the error ("request"). */
int
cli_parse_id(struct cli *c, const char *s, const char *what, long long *id)
{
	char *end;

	errno = 0;
	*id = strtoll(s, &end, 10);
	/* Digits only, as the server's paths take them: no sign, space
	 * or leading zero. */
	if (errno != 0 || end == s || *end != '\0' || *id < 1 ||
	    s[0] < '1' || s[0] > '9') {
		cli_errf(c, "a %s id is a positive number, not \"%.32s\"",
		    what, s);
		return TK_CLI_EUSAGE;
	}
	return TK_CLI_OK;
}

/*
 * The checks below mirror what twokeyd accepts (web/routes.c, approvals/),
 * so that a mistake is told before the security key is asked for a
 * touch that the server would then refuse.
 */

/* Scopes, connectors, accounts, incidents, tickets: tk_apr_check_token. */
int
cli_check_name(struct cli *c, const char *what, const char *s)
{
	char esc[80];

	if (tk_apr_check_token(s) == 0)
		return TK_CLI_OK;
	cli_errf(c, "%s \"%s\" is not a name: 1 to %d of A-Z a-z 0-9 and "
	    ". _ : / @ -", what, cli_safe(s, esc, sizeof(esc)), TK_TOKEN_MAX);
	return TK_CLI_EUSAGE;
}

/* Free text (reasons, reviews, teams): never echoed, it may be long. */
int
cli_check_text(struct cli *c, const char *what, const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n >= 1 && n <= max && tk_text_printable(s, n))
		return TK_CLI_OK;
	cli_errf(c, "%s is 1 to %zu bytes of text without control "
	    "characters", what, max);
	return TK_CLI_EUSAGE;
}

/* --team: text, then the server's name rule (tk_apr_check_name). */
int
cli_check_team(struct cli *c, const char *team)
{
	char esc[80];
	int rc;

	if ((rc = cli_check_text(c, "--team", team, CLI_LABEL_MAX)) !=
	    TK_CLI_OK || tk_apr_check_name(team) == 0)
		return rc;
	cli_errf(c, "--team \"%s\" is not " TK_NAME_RULE,
	    cli_safe(team, esc, sizeof(esc)));
	return TK_CLI_EUSAGE;
}

/* What in list[0..n) is there twice, or NULL. */
const char *
cli_twice(const char *const *list, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (strcmp(list[i], list[j]) == 0)
				return list[i];
	return NULL;
}

/* --role...: the server's five roles, each once. */
int
cli_check_roles(struct cli *c, const char *cmd)
{
	static const char *const roles[] = { "admin", "approver",
	    "requester", "commander", "auditor" };
	const char *dup;
	char esc[40];
	size_t i, k;

	for (i = 0; i < c->nroles; i++) {
		for (k = 0; k < sizeof(roles) / sizeof(roles[0]); k++)
			if (strcmp(c->roles[i], roles[k]) == 0)
				break;
		if (k == sizeof(roles) / sizeof(roles[0])) {
			cli_errf(c, "%s: --role is admin, approver, requester, "
			    "commander or auditor, not \"%s\"", cmd,
			    cli_safe(c->roles[i], esc, sizeof(esc)));
			return TK_CLI_EUSAGE;
		}
	}
	if ((dup = cli_twice(c->roles, c->nroles)) != NULL) {
		cli_errf(c, "%s: --role %s given twice", cmd, dup);
		return TK_CLI_EUSAGE;
	}
	return TK_CLI_OK;
}

/* Why tk_read_file(path) gave rc, in words for the user. */
const char *
cli_read_failure(const char *path, int rc)
{
	struct stat st;
	int e = errno;

	if (rc == TK_ERR_PERM)
		return "others may read or write it; it must be readable by "
		    "its owner only (chmod 600)";
	if (rc == TK_ERR_TOOBIG)
		return "it is too big";
	if (rc == TK_ERR_NOMEM)
		return strerror(ENOMEM);
	if (stat(path, &st) != 0)
		return strerror(errno);
	if (S_ISDIR(st.st_mode))
		return "it is a directory";
	if (!S_ISREG(st.st_mode))
		return "it is not a regular file";
	return strerror(e);
}

/*
 * Whether line goes on with the usage line above it: indented, then an
 * option ("--reason TEXT") or an optional part ("[--ticket T]"). The
 * description lines are indented too, but begin with a word.
 */
static int
continues_usage(const char *line)
{
	size_t sp = strspn(line, " ");

	return sp > 0 && (line[sp] == '[' || line[sp] == '-');
}

static void
usage_all(FILE *f)
{
	const char *line;
	size_t i, len;
	int in_usage;

	fputs("usage: twokey COMMAND [OPTIONS] [ARGS]\n\n"
	    "Commands:\n", f);
	/* Every usage line of every command with its continuations. */
	for (i = 0; i < NCOMMANDS; i++) {
		in_usage = 0;
		for (line = commands[i].help; *line != '\0'; line += len) {
			len = strcspn(line, "\n");
			if (strncmp(line, "twokey ", 7) == 0)
				in_usage = 1;
			else if (!in_usage || !continues_usage(line))
				in_usage = 0;
			if (in_usage)
				fprintf(f, "  %.*s\n", (int)len, line);
			if (line[len] == '\n')
				len++;
		}
	}
	fputs("\nEvery command but init talks to twokeyd over HTTPS:\n"
	    "  --server URL     https://host[:port]   (TWOKEY_SERVER)\n"
	    "  --ca FILE        the root certificate of the key ceremony "
	    "(TWOKEY_CA)\n"
	    "  --user NAME      who signs in with the security key "
	    "(TWOKEY_USER)\n"
	    "  --device PATH    the security key (TWOKEY_DEVICE); default: "
	    "the first found\n"
	    "  --credential ID  its credential id, base64url, for keys "
	    "without resident\n"
	    "                   credentials (TWOKEY_CREDENTIAL)\n"
	    "  --api-key-file FILE  an API key for read-only automation "
	    "(TWOKEY_API_KEY_FILE)\n"
	    "  --config FILE    settings file (TWOKEY_CONFIG; default\n"
	    "                   ~/.config/twokey/config.json)\n"
	    "  --json           data as JSON\n\n"
	    "twokey COMMAND --help describes a command; man twokey, the "
	    "rest.\n", f);
}

static const struct command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

static int
opt_index(int ch)
{
	const char *p = ch > 0 && ch != ' ' ? strchr(optletters, ch) : NULL;

	return p != NULL ? (int)(p - optletters) : -1;
}

static int
add_list(struct cli *c, const char **list, size_t *n, const char *v,
    const char *what)
{
	if (*n == CLI_MAX_LIST) {
		cli_errf(c, "at most %d %s", CLI_MAX_LIST, what);
		return TK_CLI_EUSAGE;
	}
	list[(*n)++] = v;
	return TK_CLI_OK;
}

/* Stores one option's value; flag values go to vals[] for settings. */
static int
take_option(struct cli *c, int o, const char *v, const char **vals)
{
	c->given |= OPT(o);
	switch (o) {
	case O_SCOPE:
		return add_list(c, c->scopes, &c->nscopes, v, "scopes");
	case O_ROLE:
		return add_list(c, c->roles, &c->nroles, v, "roles");
	case O_SET:
		return add_list(c, c->sets, &c->nsets, v, "--set");
	case O_JSON:
		c->json = 1;
		break;
	case O_TOKEN:
		c->token_only = 1;
		break;
	default:
		if (vals[o] != NULL) {
			cli_errf(c, "--%s given twice", longopts[o].name);
			return TK_CLI_EUSAGE;
		}
		vals[o] = v;
		break;
	}
	return TK_CLI_OK;
}

/* The short options, as getopt takes them: -s -u -o with a value, -h. */
#define SHORT_OPTIONS "s:u:o:h"

/* Whether s is an option of ours, long ("--user", "--user=x") or short. */
static int
is_option(const char *s)
{
	size_t n, i;

	if (s[0] != '-' || s[1] == '\0')
		return 0;
	if (s[1] != '-')
		return s[2] == '\0' && s[1] != ':' &&
		    strchr(SHORT_OPTIONS, s[1]) != NULL;
	n = strcspn(s + 2, "=");
	for (i = 0; longopts[i].name != NULL; i++)
		if (strlen(longopts[i].name) == n &&
		    strncmp(longopts[i].name, s + 2, n) == 0)
			return 1;
	return 0;
}

/*
 * The value of option argv[a] is argv[a + 1]: it must be there and not
 * be another option ("--user --json" would sign in as "--json").
 */
static int
value_follows(struct cli *c, int argc, char **argv, int a)
{
	if (a + 1 < argc && !is_option(argv[a + 1]) &&
	    strcmp(argv[a + 1], "--") != 0)
		return TK_CLI_OK;
	cli_errf(c, "%.40s needs a value", argv[a]);
	return TK_CLI_EUSAGE;
}

/*
 * Long options must be spelled out: getopt_long would take "--api-key
 * SECRET" as --api-key-file and then name the "file" in an error.
 * Nothing after "=" is ever echoed.
 */
static int
exact_long_options(struct cli *c, int argc, char **argv)
{
	const char *s;
	size_t n, i;
	int a;

	for (a = 1; a < argc; a++) {
		if (strcmp(argv[a], "--") == 0)
			break;
		if (argv[a][0] == '-' && argv[a][1] != '-' &&
		    argv[a][1] != '\0') {
			/* base64url ids (credentials, grants) may start
			 * with "-": say how to pass one. */
			if (argv[a][1] == ':' || (s = strchr(SHORT_OPTIONS,
			    argv[a][1])) == NULL) {
				cli_errf(c, "\"%.40s\" is not an option: an "
				    "id that starts with \"-\" goes after "
				    "\"--\"", argv[a]);
				return TK_CLI_EUSAGE;
			}
			/* Its value, when it takes one, comes next. */
			if (s[1] == ':' && argv[a][2] == '\0') {
				if (value_follows(c, argc, argv, a) !=
				    TK_CLI_OK)
					return TK_CLI_EUSAGE;
				a++;
			}
			continue;
		}
		if (strncmp(argv[a], "--", 2) != 0)
			continue;
		n = strcspn(argv[a] + 2, "=");
		for (i = 0; longopts[i].name != NULL; i++)
			if (strlen(longopts[i].name) == n &&
			    strncmp(longopts[i].name, argv[a] + 2, n) == 0)
				break;
		if (longopts[i].name == NULL) {
			cli_errf(c, "unknown option --%.*s", (int)(n > 40 ?
			    40 : n), argv[a] + 2);
			return TK_CLI_EUSAGE;
		}
		/* A value the next argument holds is skipped. */
		if (longopts[i].has_arg == required_argument &&
		    argv[a][2 + n] == '\0') {
			if (value_follows(c, argc, argv, a) != TK_CLI_OK)
				return TK_CLI_EUSAGE;
			a++;
		}
	}
	return TK_CLI_OK;
}

static int
parse_options(struct cli *c, int argc, char **argv, const char **vals)
{
	int ch, o, rc;

	if ((rc = exact_long_options(c, argc, argv)) != TK_CLI_OK)
		return rc;
	opterr = 0;
	optind = 0;	/* glibc: start afresh (tests call us repeatedly) */
	while ((ch = getopt_long(argc, argv, SHORT_OPTIONS, longopts,
	    NULL)) != -1) {
		if (ch == '?' || ch == ':') {
			if (optopt != 0 && opt_index(optopt) >= 0)
				cli_errf(c, "option -%c needs a value",
				    optopt);
			else
				cli_errf(c, "unknown option, or an option "
				    "without its value, in \"%.40s\"",
				    argv[optind - 1]);
			return TK_CLI_EUSAGE;
		}
		if ((o = opt_index(ch)) < 0)
			return TK_CLI_EUSAGE;
		if ((rc = take_option(c, o, optarg, vals)) != TK_CLI_OK)
			return rc;
	}
	c->args = argv + optind;
	c->nargs = argc - optind;
	return TK_CLI_OK;
}

static int
check_options(struct cli *c, const struct command *cmd)
{
	unsigned long extra = c->given & ~cmd->opts;
	int o;

	for (o = 0; o < O__COUNT; o++)
		if (extra & OPT(o)) {
			cli_errf(c, "%s does not take --%s (see twokey %s "
			    "--help)", cmd->name, longopts[o].name,
			    cmd->name);
			return TK_CLI_EUSAGE;
		}
	if (c->nargs - 1 < cmd->min_args || c->nargs - 1 > cmd->max_args) {
		cli_errf(c, "wrong number of arguments; usage:");
		fputs(cmd->help, c->err);
		return TK_CLI_EUSAGE;
	}
	return TK_CLI_OK;
}

static void
cli_done(struct cli *c)
{
	if (c->signed_in)
		cli_signout(c);
	cli_settings_free(c);
	OPENSSL_cleanse(c->cookie, sizeof(c->cookie));
	OPENSSL_cleanse(c->csrf, sizeof(c->csrf));
	fflush(c->out);
	fflush(c->err);
}

static int
run(struct cli *c, int argc, char **argv)
{
	const char *vals[O__COUNT];
	const struct command *cmd;
	int rc;

	memset(vals, 0, sizeof(vals));
	if ((rc = parse_options(c, argc, argv, vals)) != TK_CLI_OK)
		return rc;
	if (c->given & OPT(O_VERSION)) {
		if (c->nargs > 0 || c->given != OPT(O_VERSION)) {
			cli_errf(c, "--version takes no command, argument or "
			    "other option");
			return TK_CLI_EUSAGE;
		}
		fprintf(c->out, "twokey %s\n", TWOKEY_VERSION);
		return TK_CLI_OK;
	}
	if (c->nargs == 0 || strcmp(c->args[0], "help") == 0) {
		usage_all(c->nargs == 0 && !(c->given & OPT(O_HELP)) ?
		    c->err : c->out);
		return c->nargs == 0 && !(c->given & OPT(O_HELP)) ?
		    TK_CLI_EUSAGE : TK_CLI_OK;
	}
	if ((cmd = find_command(c->args[0])) == NULL) {
		cli_errf(c, "unknown command \"%.64s\" (twokey --help lists "
		    "them)", c->args[0]);
		return TK_CLI_EUSAGE;
	}
	if (c->given & OPT(O_HELP)) {
		fputs(cmd->help, c->out);
		return TK_CLI_OK;
	}
	if ((rc = check_options(c, cmd)) != TK_CLI_OK)
		return rc;
	c->config = vals[O_CONFIG];
	c->reason = vals[O_REASON];
	c->account = vals[O_ACCOUNT];
	c->connector = vals[O_CONNECTOR];
	c->duration = vals[O_DURATION];
	c->text = vals[O_TEXT];
	c->incident = vals[O_INCIDENT];
	c->ticket = vals[O_TICKET];
	c->team = vals[O_TEAM];
	c->invfile = vals[O_INVFILE];
	c->output = vals[O_OUTPUT];
	c->dconfig = vals[O_DCONFIG];
	c->outdir = vals[O_OUTDIR];
	c->bootstrap = vals[O_BOOTSTRAP];
	c->twokeyd = vals[O_TWOKEYD];
	c->from = vals[O_FROM];
	c->to = vals[O_TO];
	c->change_args = vals[O_ARGS];
	c->person = vals[O_PERSON];
	/* init runs on the appliance and needs no server settings. */
	if (cmd->run != cli_cmd_init &&
	    (rc = cli_settings(c, vals)) != TK_CLI_OK)
		return rc;
	c->args++;
	c->nargs--;
	return cmd->run(c);
}

int
tk_cli_main(int argc, char **argv, const struct tk_cli_env *env)
{
	struct cli c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.out = env != NULL && env->out != NULL ? env->out : stdout;
	c.err = env != NULL && env->err != NULL ? env->err : stderr;
	c.in = env != NULL && env->in != NULL ? env->in : stdin;
	if (env != NULL && env->fido_io != NULL) {
		c.fido_io = env->fido_io;
		c.fido_path = env->fido_path;
	}
	cli_http_global(1);
	rc = run(&c, argc, argv);
	cli_done(&c);
	cli_http_global(0);
	return rc;
}
