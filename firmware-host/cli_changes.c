/*
 * Governed changes from the command line: the list, one change with its
 * before/after diff, a proposal, and the policy in force with any drift.
 * A change is decided like any request (twokey approve and reject,
 * cli_cmds.c) and shown the same way before the key signs it, so that
 * approvers read the very diff whose digest they sign. What the server
 * sends is escaped before it is printed.
 */
#include <stdlib.h>
#include <string.h>

#include "twokey/common.h"
#include "cli_int.h"

#define MAX_KEYS	128	/* members shown per object */
#define MAX_DEPTH	4	/* nested objects shown as dotted names */
#define MAX_TYPE	32	/* a change type, as the server takes it */
#define MAX_ARGS	16	/* members of --args, as the server takes */

int
cli_is_change(json_t *q)
{
	return strcmp(cli_str(q, "kind"), "change") == 0;
}

static int
all_strings(json_t *arr)
{
	json_t *e;
	size_t i;

	json_array_foreach(arr, i, e) {
		if (!json_is_string(e))
			return 0;
	}
	return json_array_size(arr) > 0;
}

/* v on one line: strings bare, lists of strings joined, else JSON. */
static void
put_value(FILE *f, json_t *v)
{
	char esc[1100], *s;
	json_t *e;
	size_t i;

	if (json_is_string(v) && json_string_length(v) > 0) {
		fputs(cli_safe(json_string_value(v), esc, sizeof(esc)), f);
		return;
	}
	if (json_is_array(v) && all_strings(v)) {
		json_array_foreach(v, i, e) {
			fprintf(f, "%s%s", i > 0 ? ", " : "", cli_safe(
			    json_string_value(e), esc, 256));
		}
		return;
	}
	s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	fputs(s != NULL ? cli_safe(s, esc, sizeof(esc)) : "?", f);
	free(s);
}

static void
put_line(FILE *f, const char *mark, const char *name, json_t *v)
{
	char esc[300];

	fprintf(f, "    %s%s: ", mark, cli_safe(name, esc, sizeof(esc)));
	put_value(f, v);
	fputc('\n', f);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The member names of a and b (objects or NULL), each once, sorted; at
 * most cap of them, *more set when some were left out.
 */
static size_t
union_keys(json_t *a, json_t *b, const char **keys, size_t cap, int *more)
{
	const char *k;
	json_t *v;
	size_t n = 0;

	*more = 0;
	json_object_foreach(a, k, v) {
		if (n < cap)
			keys[n++] = k;
		else
			*more = 1;
	}
	json_object_foreach(b, k, v) {
		if (json_object_get(a, k) != NULL)
			continue;
		if (n < cap)
			keys[n++] = k;
		else
			*more = 1;
	}
	qsort(keys, n, sizeof(*keys), cmp_names);
	return n;
}

static int
nested(json_t *v)
{
	return json_is_object(v) && json_object_size(v) > 0;
}

static int
object_or_none(json_t *v)
{
	return v == NULL || json_is_object(v);
}

static int
recurses(json_t *vb, json_t *va, int depth)
{
	return depth < MAX_DEPTH && (nested(vb) || nested(va)) &&
	    object_or_none(vb) && object_or_none(va);
}

/*
 * before and after, member by member, as a unified diff: "-" the state
 * before, "+" after, unmarked what stays. Plain values come first, then
 * nested objects as dotted names (credential.aaguid), one value a line.
 */
static void
put_diff(FILE *f, const char *prefix, json_t *b, json_t *a, int depth)
{
	const char *keys[MAX_KEYS];
	char name[256];
	json_t *vb, *va;
	size_t n, i;
	int pass, more;

	n = union_keys(b, a, keys, MAX_KEYS, &more);
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++) {
			vb = json_object_get(b, keys[i]);
			va = json_object_get(a, keys[i]);
			if (recurses(vb, va, depth) != pass)
				continue;
			snprintf(name, sizeof(name), "%s%s%s", prefix,
			    prefix[0] != '\0' ? "." : "", keys[i]);
			if (pass == 1)
				put_diff(f, name, vb, va, depth + 1);
			else if (vb != NULL && va != NULL && json_equal(vb, va))
				put_line(f, "  ", name, vb);
			else {
				if (vb != NULL)
					put_line(f, "- ", name, vb);
				if (va != NULL)
					put_line(f, "+ ", name, va);
			}
		}
	if (more)
		fputs("    (more members: see --json)\n", f);
}

/* Who proposed it: the server's view, else the canonical JSON's. */
static const char *
proposer(json_t *q)
{
	const char *s = cli_str(q, "requester_name");

	return s[0] != '\0' ? s : cli_str(json_object_get(q, "request"),
	    "requester");
}

void
cli_print_change(FILE *f, json_t *q)
{
	json_t *req = json_object_get(q, "request");
	char t[32], esc[1100], who[140];

	cli_safe(proposer(q), who, 70);
	cli_safe(cli_str(q, "requester_team"), who + 70, 70);
	fprintf(f, "change %lld  %s  %s  proposed by %s (%s)  expires %s\n",
	    (long long)json_integer_value(json_object_get(q, "id")),
	    cli_safe(cli_str(req, "type"), esc, 64), cli_str(q, "state"),
	    who, who + 70, cli_when(json_integer_value(json_object_get(q,
	    "expires")), t, sizeof(t)));
	if (strcmp(cli_str(q, "requester_state"), "suspended") == 0 ||
	    strcmp(cli_str(q, "requester_state"), "left") == 0)
		fprintf(f, "  note: %s is %s since proposing it\n", who,
		    cli_str(q, "requester_state"));
	fprintf(f, "  target: %s\n", cli_safe(cli_str(req, "target"), esc,
	    256));
	fprintf(f, "  ticket: %s\n", cli_safe(cli_str(req, "ticket"), esc,
	    256));
	fprintf(f, "  reason: %s\n", cli_safe(cli_str(req, "reason"), esc,
	    sizeof(esc)));
	fputs("  before -> after:\n", f);
	put_diff(f, "", json_object_get(req, "before"),
	    json_object_get(req, "after"), 0);
	cli_print_votes(f, q);
}

/* Each vote of request or change q, with its reason when it has one. */
void
cli_print_votes(FILE *f, json_t *q)
{
	char t[32], who[140], why[1100];
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(q, "votes"), i, v) {
		cli_safe(cli_str(v, "person"), who, 70);
		cli_safe(cli_str(v, "team"), who + 70, 70);
		fprintf(f, "  vote: %s (%s) %s at %s", who, who + 70,
		    cli_str(v, "decision"), cli_when(json_integer_value(
		    json_object_get(v, "at")), t, sizeof(t)));
		if (json_is_string(json_object_get(v, "reason")))
			fprintf(f, ": %s", cli_safe(cli_str(v, "reason"), why,
			    sizeof(why)));
		fputc('\n', f);
	}
}

static void
print_change_line(FILE *f, json_t *q)
{
	json_t *req = json_object_get(q, "request");
	char t[32], esc[1100];

	fprintf(f, "change %lld  %s  %s  by %s", (long long)
	    json_integer_value(json_object_get(q, "id")), cli_safe(cli_str(
	    req, "type"), esc, 64), cli_str(q, "state"), cli_safe(proposer(q),
	    esc + 64, 70));
	fprintf(f, "  target %s", cli_safe(cli_str(req, "target"), esc, 200));
	fprintf(f, "  ticket %s  created %s\n", cli_safe(cli_str(req,
	    "ticket"), esc, 200), cli_when(json_integer_value(
	    json_object_get(q, "created")), t, sizeof(t)));
	fprintf(f, "  reason: %s\n", cli_safe(cli_str(req, "reason"), esc,
	    sizeof(esc)));
}

int
cli_cmd_changes(struct cli *c)
{
	char path[96];
	json_t *ans = NULL, *q;
	long long id = 0;
	size_t i;
	int rc;

	if (c->nargs == 1 && (rc = cli_parse_id(c, c->args[0], "change",
	    &id)) != TK_CLI_OK)
		return rc;
	if (id > 0)
		snprintf(path, sizeof(path), "/api/v1/changes/%lld", id);
	else
		snprintf(path, sizeof(path), "/api/v1/changes");
	if ((rc = cli_signin(c)) != TK_CLI_OK ||
	    (rc = cli_call(c, "GET", path, NULL, AUTH_SESSION, 200, &ans)) !=
	    TK_CLI_OK)
		return rc;
	if (c->json)
		rc = cli_print_json(c, ans);
	else if (id > 0)
		cli_print_change(c->out, ans);
	else if (json_array_size(json_object_get(ans, "changes")) == 0)
		fputs("no governed changes\n", c->out);
	else {
		json_array_foreach(json_object_get(ans, "changes"), i, q) {
			print_change_line(c->out, q);
		}
	}
	json_decref(ans);
	return rc;
}

/* --set KEY=VALUE...: {"policy": {KEY: VALUE...}}, VALUE JSON or text. */
static int
policy_args(struct cli *c, json_t **args)
{
	json_t *keys = json_object(), *v;
	const char *eq;
	char key[65];
	size_t i;

	if (keys == NULL)
		return TK_CLI_EINTERNAL;
	for (i = 0; i < c->nsets; i++) {
		eq = strchr(c->sets[i], '=');
		if (eq == NULL || eq == c->sets[i] || eq - c->sets[i] >= 65) {
			cli_errf(c, "propose: --set takes KEY=VALUE, not "
			    "\"%.64s\"", c->sets[i]);
			json_decref(keys);
			return TK_CLI_EUSAGE;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - c->sets[i]),
		    c->sets[i]);
		if (json_object_get(keys, key) != NULL) {
			cli_errf(c, "propose: --set %s given twice", key);
			json_decref(keys);
			return TK_CLI_EUSAGE;
		}
		if ((v = json_loads(eq + 1, JSON_DECODE_ANY |
		    JSON_REJECT_DUPLICATES, NULL)) == NULL)
			v = json_string(eq + 1);
		json_object_set_new(keys, key, v);
	}
	*args = json_pack("{s:o}", "policy", keys);
	return *args != NULL ? TK_CLI_OK : TK_CLI_EINTERNAL;
}

/* --person ID [--team TEAM] [--role ROLE...]. */
static int
person_args(struct cli *c, int update, json_t **args)
{
	json_t *roles;
	long long id;
	size_t i;
	int rc;

	if (c->person == NULL || (update && c->team == NULL &&
	    c->nroles == 0) || (!update && (c->team != NULL ||
	    c->nroles > 0))) {
		cli_errf(c, "propose: %s", update ? "person.update takes "
		    "--person ID and --team, --role or both" :
		    "person.reactivate takes --person ID alone");
		return TK_CLI_EUSAGE;
	}
	if ((rc = cli_parse_id(c, c->person, "person", &id)) != TK_CLI_OK ||
	    (c->team != NULL && (rc = cli_check_team(c, c->team)) !=
	    TK_CLI_OK) ||
	    (rc = cli_check_roles(c, "propose")) != TK_CLI_OK)
		return rc;
	if ((*args = json_pack("{s:I}", "person", (json_int_t)id)) == NULL)
		return TK_CLI_EINTERNAL;
	if (c->team != NULL)
		json_object_set_new(*args, "team", json_string(c->team));
	if (c->nroles > 0 && (roles = json_array()) != NULL) {
		for (i = 0; i < c->nroles; i++)
			json_array_append_new(roles, json_string(c->roles[i]));
		json_object_set_new(*args, "roles", roles);
	}
	return TK_CLI_OK;
}

static int
json_args(struct cli *c, json_t **args)
{
	json_error_t e;

	if (c->nsets > 0 || c->person != NULL || c->team != NULL ||
	    c->nroles > 0) {
		cli_errf(c, "propose: --args goes alone, without --set, "
		    "--person, --team or --role");
		return TK_CLI_EUSAGE;
	}
	if ((*args = json_loads(c->change_args, JSON_REJECT_DUPLICATES,
	    &e)) == NULL) {
		cli_errf(c, "propose: --args is not JSON: %.80s (column %d)",
		    e.text, e.column);
		return TK_CLI_EUSAGE;
	}
	if (!json_is_object(*args) || json_object_size(*args) >
	    MAX_ARGS) {
		cli_errf(c, "propose: --args must be a JSON object of at most "
		    "%d members", MAX_ARGS);
		json_decref(*args);
		*args = NULL;
		return TK_CLI_EUSAGE;
	}
	return TK_CLI_OK;
}

/* The change's arguments from --args, or from TYPE's own options. */
static int
propose_args(struct cli *c, const char *type, json_t **args)
{
	char esc[100];
	int rc;

	*args = NULL;
	if (c->reason == NULL || c->ticket == NULL) {
		cli_errf(c, "propose: --reason and --ticket are required");
		return TK_CLI_EUSAGE;
	}
	if (strlen(type) > MAX_TYPE) {
		cli_errf(c, "propose: a change type is at most %d bytes",
		    MAX_TYPE);
		return TK_CLI_EUSAGE;
	}
	if ((rc = cli_check_name(c, "propose: the type", type)) !=
	    TK_CLI_OK || (rc = cli_check_text(c, "--reason", c->reason,
	    CLI_TEXT_MAX)) != TK_CLI_OK || (rc = cli_check_name(c,
	    "--ticket", c->ticket)) != TK_CLI_OK)
		return rc;
	if (c->change_args != NULL)
		return json_args(c, args);
	if (strcmp(type, "policy.set") == 0 && c->nsets > 0 &&
	    c->person == NULL && c->team == NULL && c->nroles == 0)
		return policy_args(c, args);
	if (strcmp(type, "person.update") == 0 && c->nsets == 0)
		return person_args(c, 1, args);
	if (strcmp(type, "person.reactivate") == 0 && c->nsets == 0)
		return person_args(c, 0, args);
	cli_errf(c, "propose: give %s its arguments with --args JSON%s",
	    cli_safe(type, esc, sizeof(esc)), strcmp(type, "policy.set") ==
	    0 ? " or --set KEY=VALUE" : "");
	return TK_CLI_EUSAGE;
}

int
cli_cmd_propose(struct cli *c)
{
	const char *type = c->args[0];
	json_t *args = NULL, *body = NULL, *ans = NULL;
	long long id;
	int rc;

	if ((rc = propose_args(c, type, &args)) != TK_CLI_OK)
		goto out;
	if ((body = json_pack("{s:s,s:s,s:s,s:O}", "type", type, "reason",
	    c->reason, "ticket", c->ticket, "args", args)) == NULL) {
		rc = TK_CLI_EINTERNAL;
		goto out;
	}
	if ((rc = cli_signin(c)) != TK_CLI_OK ||
	    (rc = cli_call(c, "POST", "/api/v1/changes", body, AUTH_SESSION,
	    201, &ans)) != TK_CLI_OK)
		goto out;
	id = (long long)json_integer_value(json_object_get(ans, "id"));
	if (c->json)
		rc = cli_print_json(c, ans);
	else {
		fprintf(c->out, "change %lld proposed: it applies when "
		    "approvers other than you approve it\n(twokey approve "
		    "%lld).\n", id, id);
		cli_print_change(c->out, ans);
	}
out:
	json_decref(args);
	json_decref(body);
	json_decref(ans);
	return rc;
}

/* The drift, loud: on standard error always, with the keys on stdout. */
static void
print_drift(struct cli *c, json_t *drift)
{
	json_int_t since = json_integer_value(json_object_get(drift,
	    "since"));
	char t[32];

	if (since > 0)
		cli_when(since, t, sizeof(t));
	else
		snprintf(t, sizeof(t), "an unknown time");
	cli_errf(c, "POLICY DRIFT since %s: the configuration file's policy "
	    "differs from the approved policy and is NOT applied", t);
	if (c->json)
		return;
	fprintf(c->out, "\nPOLICY DRIFT since %s:\nthe configuration file "
	    "differs from the approved policy and is NOT applied.\nEdit the "
	    "file to match, or propose policy.set for the quorum.\n"
	    "\"-\" approved (in force), \"+\" the file:\n", t);
	put_diff(c->out, "", json_object_get(drift, "before"),
	    json_object_get(drift, "after"), 0);
}

int
cli_cmd_policy(struct cli *c)
{
	json_t *ans = NULL, *drift, *appr;
	int rc;

	if ((rc = cli_signin(c)) != TK_CLI_OK ||
	    (rc = cli_call(c, "GET", "/api/v1/policy", NULL, AUTH_SESSION,
	    200, &ans)) != TK_CLI_OK)
		return rc;
	drift = json_object_get(ans, "drift");
	appr = json_object_get(ans, "approved");
	if (c->json)
		rc = cli_print_json(c, ans);
	else {
		fputs("approved policy, in force:\n", c->out);
		put_diff(c->out, "", appr, appr, 0);
		if (json_is_true(json_object_get(drift, "behind")))
			fputs("no drift: the configuration file is behind "
			    "an approved change; edit it to match the policy "
			    "above\n", c->out);
		else if (!json_is_true(json_object_get(drift, "active")))
			fputs("no drift: the configuration file matches\n",
			    c->out);
	}
	if (rc == TK_CLI_OK && json_is_true(json_object_get(drift,
	    "active"))) {
		print_drift(c, drift);
		rc = TK_CLI_EDRIFT;
	}
	json_decref(ans);
	return rc;
}
