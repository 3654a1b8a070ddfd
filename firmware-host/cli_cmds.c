/*
 * The commands that talk to twokeyd. Each returns an exit code of
 * enum tk_cli_exit; what the server refuses is shown with its error
 * code and message (cli_refused).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "cli_int.h"

int
cli_cmd_status(struct cli *c)
{
	struct cli_resp r;
	json_t *j = NULL;
	char origin[256], root[128], *nl;
	long long size = -1;
	int rc, alive = 0, ready = 0;

	memset(&r, 0, sizeof(r));
	if ((rc = cli_http(c, "GET", "/healthz", NULL, AUTH_NONE, &r)) !=
	    TK_CLI_OK)
		return rc;
	alive = r.status == 200;
	cli_resp_clear(&r);
	if ((rc = cli_http(c, "GET", "/readyz", NULL, AUTH_NONE, &r)) !=
	    TK_CLI_OK)
		return rc;
	ready = r.status == 200;
	cli_resp_clear(&r);
	origin[0] = root[0] = '\0';
	if ((rc = cli_http(c, "GET", "/api/v1/journal/checkpoint", NULL,
	    AUTH_NONE, &r)) != TK_CLI_OK)
		return rc;
	/* A checkpoint: origin, tree size, root hash, one per line. */
	if (r.status == 200 && r.body != NULL &&
	    (nl = strchr(r.body, '\n')) != NULL) {
		snprintf(origin, sizeof(origin), "%.*s",
		    (int)(nl - r.body), r.body);
		if (sscanf(nl + 1, "%lld\n%127s", &size, root) != 2)
			size = -1;
	}
	cli_resp_clear(&r);
	cli_safe(origin, origin, sizeof(origin));
	if (c->json) {
		j = json_pack("{s:s,s:b,s:b}", "server", c->server, "alive",
		    alive, "ready", ready);
		if (j != NULL && size >= 0)
			json_object_set_new(j, "journal", json_pack(
			    "{s:s,s:I,s:s}", "origin", origin, "size",
			    (json_int_t)size, "root", root));
		rc = cli_print_json(c, j);
		json_decref(j);
	} else {
		fprintf(c->out, "server   %s\nalive    %s\nready    %s\n",
		    c->server, alive ? "yes" : "no", ready ? "yes" : "no");
		if (size >= 0)
			fprintf(c->out, "journal  %s, %lld entries, root %s\n",
			    origin, size, root);
	}
	if (rc == TK_CLI_OK && !ready) {
		cli_errf(c, "%s is not ready", c->server);
		rc = TK_CLI_EREFUSED;
	}
	return rc;
}

static void
print_request(FILE *f, json_t *q)
{
	json_t *req = json_object_get(q, "request"), *s;
	char t[32], esc[1100];
	size_t i;

	if (cli_is_change(q)) {
		cli_print_change(f, q);
		return;
	}
	fprintf(f, "request %lld  %s  %s  requester %lld  expires %s\n",
	    (long long)json_integer_value(json_object_get(q, "id")),
	    cli_safe(cli_str(q, "kind"), esc, 64), cli_str(q, "state"),
	    (long long)json_integer_value(json_object_get(q, "requester")),
	    cli_when(json_integer_value(json_object_get(q, "expires")), t,
	    sizeof(t)));
	fputs("  scopes:", f);
	json_array_foreach(json_object_get(req, "scopes"), i, s) {
		fprintf(f, " %s", cli_safe(json_string_value(s), esc,
		    256));
	}
	fputc('\n', f);
	if (json_object_get(req, "service_account") != NULL)
		fprintf(f, "  service account: %s (connector %s)\n",
		    cli_safe(cli_str(req, "service_account"), esc, 256),
		    cli_str(req, "connector"));
	if (json_object_get(req, "incident") != NULL)
		fprintf(f, "  incident: %s\n",
		    cli_safe(cli_str(req, "incident"), esc, 256));
	fprintf(f, "  reason: %s\n", cli_safe(cli_str(req, "reason"), esc,
	    sizeof(esc)));
	cli_print_votes(f, q);
}

int
cli_cmd_requests(struct cli *c)
{
	char path[96];
	json_t *ans = NULL, *q;
	long long id = 0;
	size_t i;
	int rc;

	if (c->nargs == 1 && (rc = cli_parse_id(c, c->args[0], "request",
	    &id)) != TK_CLI_OK)
		return rc;
	if ((rc = cli_authenticate(c, AUTH_READ)) != TK_CLI_OK)
		return rc;
	if (id > 0)
		snprintf(path, sizeof(path), "/api/v1/requests/%lld", id);
	else
		snprintf(path, sizeof(path), "/api/v1/requests");
	if ((rc = cli_call(c, "GET", path, NULL, AUTH_READ, 200, &ans)) !=
	    TK_CLI_OK)
		return rc;
	if (c->json)
		rc = cli_print_json(c, ans);
	else if (id > 0)
		print_request(c->out, ans);
	else if (json_array_size(json_object_get(ans, "pending")) == 0)
		fputs("no pending requests\n", c->out);
	else {
		json_array_foreach(json_object_get(ans, "pending"), i, q) {
			print_request(c->out, q);
		}
	}
	json_decref(ans);
	return rc;
}

/* Seconds from "3600", "90m", "4h", "2d". */
static int
parse_duration(struct cli *c, const char *s, json_int_t *out)
{
	char *end;
	long long v, mul = 1;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end == 's' || *end == 'm' || *end == 'h' || *end == 'd') {
		mul = *end == 's' ? 1 : *end == 'm' ? 60 : *end == 'h' ?
		    3600 : 86400;
		end++;
	}
	if (errno != 0 || end == s || *end != '\0' || v < 1 ||
	    v > 316224000 / mul) {
		cli_errf(c, "--duration: a positive number of seconds, or "
		    "with s, m, h or d (like 90m), not \"%.32s\"", s);
		return TK_CLI_EUSAGE;
	}
	*out = (json_int_t)(v * mul);
	return TK_CLI_OK;
}

/* What each kind takes besides --scope, --duration and --reason. */
static int
request_kind_options(struct cli *c, int bg)
{
	if (bg && (c->incident == NULL || c->account != NULL ||
	    c->connector != NULL || c->ticket != NULL)) {
		cli_errf(c, "request: break-glass takes --incident, and no "
		    "--service-account, --connector or --ticket");
		return TK_CLI_EUSAGE;
	}
	if (!bg && (c->account == NULL || c->connector == NULL ||
	    c->incident != NULL)) {
		cli_errf(c, "request: elevation takes --service-account and "
		    "--connector, and no --incident");
		return TK_CLI_EUSAGE;
	}
	return TK_CLI_OK;
}

/* Every option of a request, as the server will judge it. */
static int
check_request(struct cli *c, int bg, json_int_t *secs)
{
	const char *dup;
	size_t i;
	int rc = TK_CLI_OK;

	if (c->nscopes == 0 || c->reason == NULL || c->duration == NULL) {
		cli_errf(c, "request: --scope, --duration and --reason are "
		    "required");
		return TK_CLI_EUSAGE;
	}
	if ((rc = parse_duration(c, c->duration, secs)) != TK_CLI_OK ||
	    (rc = request_kind_options(c, bg)) != TK_CLI_OK)
		return rc;
	for (i = 0; i < c->nscopes && rc == TK_CLI_OK; i++)
		rc = cli_check_name(c, "--scope", c->scopes[i]);
	if (rc == TK_CLI_OK && (dup = cli_twice(c->scopes,
	    c->nscopes)) != NULL) {
		cli_errf(c, "request: --scope %s given twice", dup);
		rc = TK_CLI_EUSAGE;
	}
	if (rc == TK_CLI_OK && c->account != NULL)
		rc = cli_check_name(c, "--service-account", c->account);
	if (rc == TK_CLI_OK && c->connector != NULL)
		rc = cli_check_name(c, "--connector", c->connector);
	if (rc == TK_CLI_OK && c->incident != NULL)
		rc = cli_check_name(c, "--incident", c->incident);
	if (rc == TK_CLI_OK && c->ticket != NULL)
		rc = cli_check_name(c, "--ticket", c->ticket);
	if (rc == TK_CLI_OK)
		rc = cli_check_text(c, "--reason", c->reason, CLI_TEXT_MAX);
	return rc;
}

static int
request_body(struct cli *c, json_t **out)
{
	const char *kind = c->args[0];
	json_t *b, *scopes;
	json_int_t secs = 0;
	size_t i;
	int bg = strcmp(kind, "break-glass") == 0, rc;

	*out = NULL;
	if (!bg && strcmp(kind, "elevation") != 0) {
		cli_errf(c, "request: the kind is elevation or break-glass");
		return TK_CLI_EUSAGE;
	}
	if ((rc = check_request(c, bg, &secs)) != TK_CLI_OK)
		return rc;
	if ((scopes = json_array()) == NULL)
		return TK_CLI_EINTERNAL;
	for (i = 0; i < c->nscopes; i++)
		json_array_append_new(scopes, json_string(c->scopes[i]));
	b = json_pack("{s:s,s:o,s:s,s:I}", "kind", kind, "scopes", scopes,
	    "reason", c->reason, bg ? "ttl" : "duration", secs);
	if (b == NULL)
		return TK_CLI_EINTERNAL;
	if (c->account != NULL)
		json_object_set_new(b, "service_account",
		    json_string(c->account));
	if (c->connector != NULL)
		json_object_set_new(b, "connector", json_string(c->connector));
	if (c->incident != NULL)
		json_object_set_new(b, "incident", json_string(c->incident));
	if (c->ticket != NULL)
		json_object_set_new(b, "ticket", json_string(c->ticket));
	*out = b;
	return TK_CLI_OK;
}

int
cli_cmd_request(struct cli *c)
{
	json_t *body = NULL, *ans = NULL;
	int rc;

	if ((rc = request_body(c, &body)) != TK_CLI_OK ||
	    (rc = cli_signin(c)) != TK_CLI_OK ||
	    (rc = cli_call(c, "POST", "/api/v1/requests", body, AUTH_SESSION,
	    201, &ans)) != TK_CLI_OK)
		goto out;
	if (c->json)
		rc = cli_print_json(c, ans);
	else
		fprintf(c->out, "request %lld filed: %s\n",
		    (long long)json_integer_value(json_object_get(ans, "id")),
		    cli_str(ans, "state"));
out:
	json_decref(body);
	json_decref(ans);
	return rc;
}

/*
 * Shows what is about to be signed (a change with its diff), then the
 * key signs the server's challenge; the vote in *vote, and whether it is
 * a change in *change.
 */
static int
vote_assertion(struct cli *c, long long id, const char *decision,
    json_t **vote, int *change)
{
	char path[96];
	json_t *q = NULL, *ch = NULL, *body;
	const char *rp, *b64;
	int rc;

	*vote = NULL;
	snprintf(path, sizeof(path), "/api/v1/requests/%lld", id);
	if ((rc = cli_call(c, "GET", path, NULL, AUTH_SESSION, 200, &q)) !=
	    TK_CLI_OK)
		return rc;
	*change = cli_is_change(q);
	snprintf(path, sizeof(path), "/api/v1/requests/%lld/challenge", id);
	if ((body = json_pack("{s:s}", "decision", decision)) == NULL)
		rc = TK_CLI_EINTERNAL;
	else
		rc = cli_call(c, "POST", path, body, AUTH_SESSION, 200, &ch);
	json_decref(body);
	if (rc != TK_CLI_OK)
		goto out;
	rp = json_string_value(json_object_get(ch, "rp_id"));
	b64 = json_string_value(json_object_get(ch, "challenge"));
	if (rp == NULL || b64 == NULL || (*vote = json_object()) == NULL) {
		cli_errf(c, "the server's challenge is malformed");
		rc = TK_CLI_EINTERNAL;
		goto out;
	}
	fprintf(c->err, "To %s %s %lld (digest %.16s...):\n", decision,
	    *change ? "change" : "request", id, cli_str(q, "digest"));
	print_request(c->err, q);
	fprintf(c->err, "touch your security key.\n");
	fflush(c->err);
	rc = cli_fido_assert(c, rp, b64, *vote);
out:
	json_decref(q);
	json_decref(ch);
	return rc;
}

int
cli_cmd_vote(struct cli *c, const char *decision)
{
	char path[96];
	json_t *vote = NULL, *ans = NULL;
	long long id;
	int rc, change = 0;

	if ((rc = cli_parse_id(c, c->args[0], "request", &id)) !=
	    TK_CLI_OK || (c->reason != NULL && (rc = cli_check_text(c,
	    "--reason", c->reason, CLI_TEXT_MAX)) != TK_CLI_OK) ||
	    (rc = cli_signin(c)) != TK_CLI_OK ||
	    (rc = vote_assertion(c, id, decision, &vote, &change)) !=
	    TK_CLI_OK)
		goto out;
	/* A note beside the vote, journaled; the key signs the digest. */
	if (c->reason != NULL && json_object_set_new(vote, "reason",
	    json_string(c->reason)) != 0) {
		rc = TK_CLI_EINTERNAL;
		goto out;
	}
	snprintf(path, sizeof(path), "/api/v1/requests/%lld/votes", id);
	if ((rc = cli_call(c, "POST", path, vote, AUTH_SESSION, 200,
	    &ans)) != TK_CLI_OK)
		goto out;
	if (c->json)
		rc = cli_print_json(c, ans);
	else
		fprintf(c->out, "%s %lld: your %s is recorded; state %s, "
		    "%lld approvals\n", change ? "change" : "request", id,
		    strcmp(decision, "approve") == 0 ? "approval" :
		    "rejection", cli_str(ans, "state"), (long long)
		    json_integer_value(json_object_get(ans, "approvals")));
out:
	json_decref(vote);
	json_decref(ans);
	return rc;
}

static void
print_grant(struct cli *c, json_t *g)
{
	char t1[32], t2[32], esc[200];
	json_int_t due = json_integer_value(json_object_get(g, "review_due"));
	json_int_t filed = json_integer_value(json_object_get(g,
	    "review_filed"));

	fprintf(c->out, "grant %s  request %lld  %s  %s  %s  expires %s",
	    cli_safe(cli_str(g, "jti"), esc, 130), (long long)
	    json_integer_value(json_object_get(g, "request_id")),
	    cli_str(g, "kind"), cli_safe(cli_str(g, "requester"), esc + 130,
	    70), cli_str(g, "state"), cli_when(json_integer_value(
	    json_object_get(g, "expires")), t1, sizeof(t1)));
	if (filed > 0)
		fprintf(c->out, "  review filed %s", cli_when(filed, t2,
		    sizeof(t2)));
	else if (due > 0)
		fprintf(c->out, "  review due %s", cli_when(due, t2,
		    sizeof(t2)));
	fputc('\n', c->out);
}

/* The newest grants, without tokens: a sign-in or an API key. */
static int
grants_list(struct cli *c)
{
	json_t *ans = NULL, *g;
	size_t i;
	int rc;

	if (c->token_only) {
		cli_errf(c, "grants: --token needs request ids (tokens go to "
		    "their requesters only)");
		return TK_CLI_EUSAGE;
	}
	if ((rc = cli_authenticate(c, AUTH_READ)) != TK_CLI_OK ||
	    (rc = cli_call(c, "GET", "/api/v1/grants", NULL, AUTH_READ, 200,
	    &ans)) != TK_CLI_OK)
		return rc;
	if (c->json)
		rc = cli_print_json(c, ans);
	else if (json_array_size(json_object_get(ans, "grants")) == 0)
		fputs("no grants\n", c->out);
	else {
		json_array_foreach(json_object_get(ans, "grants"), i, g) {
			print_grant(c, g);
		}
	}
	json_decref(ans);
	return rc;
}

int
cli_cmd_grants(struct cli *c)
{
	char path[96], t1[32], t2[32];
	json_t *ans = NULL, *all = json_array();
	long long id;
	int i, rc = TK_CLI_OK;

	if (c->nargs == 0) {
		json_decref(all);
		return grants_list(c);
	}
	for (i = 0; i < c->nargs && rc == TK_CLI_OK; i++)
		rc = cli_parse_id(c, c->args[i], "request", &id);
	if (all == NULL || rc != TK_CLI_OK ||
	    (rc = cli_signin(c)) != TK_CLI_OK)
		goto out;
	for (i = 0; i < c->nargs && rc == TK_CLI_OK; i++) {
		cli_parse_id(c, c->args[i], "request", &id);
		snprintf(path, sizeof(path), "/api/v1/requests/%lld/grant",
		    id);
		if ((rc = cli_call(c, "GET", path, NULL, AUTH_SESSION, 200,
		    &ans)) != TK_CLI_OK)
			break;
		if (c->token_only)
			fprintf(c->out, "%s\n", cli_str(ans, "token"));
		else if (!c->json)
			fprintf(c->out, "request %lld  grant %s  %s  issued %s"
			    "  expires %s\n%s\n", id, cli_str(ans, "jti"),
			    cli_str(ans, "state"), cli_when(json_integer_value(
			    json_object_get(ans, "issued")), t1, sizeof(t1)),
			    cli_when(json_integer_value(json_object_get(ans,
			    "expires")), t2, sizeof(t2)), cli_str(ans,
			    "token"));
		json_array_append(all, ans);
		json_decref(ans);
		ans = NULL;
	}
	if (rc == TK_CLI_OK && c->json && !c->token_only)
		rc = cli_print_json(c, all);
out:
	json_decref(all);
	return rc;
}

/*
 * Whether role needs the quorum. The server decides (TK_ROLE_GOVERNED);
 * asking first spares a touch of the key for a certain refusal.
 */
static int
governed_role(const char *role)
{
	return strcmp(role, "admin") == 0 || strcmp(role, "approver") == 0 ||
	    strcmp(role, "commander") == 0;
}

/* A name as the server takes it (tk_apr_check_name, its own rule). */
static int
check_person_name(struct cli *c, const char *name)
{
	char esc[80];

	if (tk_apr_check_name(name) == 0)
		return TK_CLI_OK;
	cli_errf(c, "invite: a name is " TK_NAME_RULE ", not \"%s\"",
	    cli_safe(name, esc, sizeof(esc)));
	return TK_CLI_EUSAGE;
}

/* Everything of an invitation that can be told here; *governed too. */
static int
check_invite(struct cli *c, int *governed)
{
	size_t i;
	int rc;

	*governed = 0;
	if (c->team == NULL || c->nroles == 0) {
		cli_errf(c, "invite: --team and at least one --role are "
		    "required");
		return TK_CLI_EUSAGE;
	}
	if ((rc = check_person_name(c, c->args[0])) != TK_CLI_OK ||
	    (rc = cli_check_team(c, c->team)) != TK_CLI_OK ||
	    (rc = cli_check_roles(c, "invite")) != TK_CLI_OK)
		return rc;
	for (i = 0; i < c->nroles; i++)
		*governed |= governed_role(c->roles[i]);
	if (*governed && (c->reason == NULL || c->ticket == NULL)) {
		cli_errf(c, "invite: the commander, approver and admin roles "
		    "need the quorum: give --reason and --ticket");
		return TK_CLI_EUSAGE;
	}
	if (c->reason != NULL && (rc = cli_check_text(c, "--reason",
	    c->reason, CLI_TEXT_MAX)) != TK_CLI_OK)
		return rc;
	if (c->ticket != NULL)
		return cli_check_name(c, "--ticket", c->ticket);
	return TK_CLI_OK;
}

/* {"name","team","roles"[,"reason","ticket"]}; *governed as it says. */
static int
invite_body(struct cli *c, json_t **out, int *governed)
{
	json_t *roles;
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = check_invite(c, governed)) != TK_CLI_OK)
		return rc;
	if ((roles = json_array()) == NULL)
		return TK_CLI_EINTERNAL;
	for (i = 0; i < c->nroles; i++)
		json_array_append_new(roles, json_string(c->roles[i]));
	if ((*out = json_pack("{s:s,s:s,s:o}", "name", c->args[0], "team",
	    c->team, "roles", roles)) == NULL)
		return TK_CLI_EINTERNAL;
	if (c->reason != NULL)
		json_object_set_new(*out, "reason", json_string(c->reason));
	if (c->ticket != NULL)
		json_object_set_new(*out, "ticket", json_string(c->ticket));
	return TK_CLI_OK;
}

int
cli_cmd_invite(struct cli *c)
{
	json_t *body = NULL, *ans = NULL;
	char t[32], esc[200];
	int rc, governed;

	if ((rc = invite_body(c, &body, &governed)) != TK_CLI_OK ||
	    (rc = cli_signin(c)) != TK_CLI_OK ||
	    (rc = cli_call(c, "POST", "/api/v1/invitations", body,
	    AUTH_SESSION, 201, &ans)) != TK_CLI_OK)
		goto out;
	cli_safe(cli_str(ans, "name"), esc, sizeof(esc));
	if (c->json) {
		json_object_set_new(ans, "governed", json_boolean(governed));
		rc = cli_print_json(c, ans);
	} else {
		if (governed)
			fprintf(c->out, "%s's enrollment needs the quorum's "
			    "approval: enrolling with this code proposes a "
			    "change\n(person.enroll) that approvers other "
			    "than you approve (twokey changes).\n", esc);
		fprintf(c->out, "invitation for %s, single use, expires %s:\n"
		    "%s\n", esc, cli_when(json_integer_value(
		    json_object_get(ans, "expires")), t, sizeof(t)),
		    cli_str(ans, "invitation"));
	}
out:
	json_decref(body);
	json_decref(ans);
	return rc;
}

/*
 * A new-key invitation for a person already enrolled (by id): the code
 * with which they register one more security key. Whether --reason and
 * --ticket are needed depends on the person's roles, which the server
 * knows; given, both are checked here first.
 */
int
cli_cmd_new_key(struct cli *c)
{
	char path[96], t[32], esc[200];
	json_t *body = NULL, *ans = NULL;
	long long id;
	int rc;

	if ((rc = cli_parse_id(c, c->args[0], "person", &id)) != TK_CLI_OK)
		return rc;
	if ((c->reason == NULL) != (c->ticket == NULL)) {
		cli_errf(c, "new-key: --reason and --ticket go together");
		return TK_CLI_EUSAGE;
	}
	if (c->reason != NULL && ((rc = cli_check_text(c, "--reason",
	    c->reason, CLI_TEXT_MAX)) != TK_CLI_OK ||
	    (rc = cli_check_name(c, "--ticket", c->ticket)) != TK_CLI_OK))
		return rc;
	body = c->reason == NULL ? json_object() : json_pack("{s:s,s:s}",
	    "reason", c->reason, "ticket", c->ticket);
	if (body == NULL)
		return TK_CLI_EINTERNAL;
	snprintf(path, sizeof(path), "/api/v1/people/%lld/invitation", id);
	if ((rc = cli_signin(c)) != TK_CLI_OK ||
	    (rc = cli_call(c, "POST", path, body, AUTH_SESSION, 201,
	    &ans)) != TK_CLI_OK)
		goto out;
	if (c->json) {
		rc = cli_print_json(c, ans);
		goto out;
	}
	fprintf(c->out, "new-key invitation for %s, single use, expires %s "
	    "(it voids any older one):\n%s\n", cli_safe(cli_str(ans, "name"),
	    esc, sizeof(esc)), cli_when(json_integer_value(json_object_get(
	    ans, "expires")), t, sizeof(t)), cli_str(ans, "invitation"));
out:
	json_decref(body);
	json_decref(ans);
	return rc;
}

int
cli_cmd_review(struct cli *c)
{
	char path[96];
	json_t *body = NULL, *ans = NULL;
	long long id;
	int rc;

	if ((rc = cli_parse_id(c, c->args[0], "request", &id)) != TK_CLI_OK)
		return rc;
	if (c->text == NULL) {
		cli_errf(c, "review: --text is required");
		return TK_CLI_EUSAGE;
	}
	if ((rc = cli_check_text(c, "--text", c->text, CLI_TEXT_MAX)) !=
	    TK_CLI_OK)
		return rc;
	if ((body = json_pack("{s:s}", "text", c->text)) == NULL)
		return TK_CLI_EINTERNAL;
	snprintf(path, sizeof(path), "/api/v1/requests/%lld/review", id);
	if ((rc = cli_signin(c)) != TK_CLI_OK ||
	    (rc = cli_call(c, "POST", path, body, AUTH_SESSION, 201,
	    &ans)) != TK_CLI_OK)
		goto out;
	if (c->json)
		rc = cli_print_json(c, ans);
	else
		fprintf(c->out, "request %lld: review %s\n", id,
		    cli_str(ans, "status"));
out:
	json_decref(body);
	json_decref(ans);
	return rc;
}

int
cli_cmd_revoke(struct cli *c)
{
	const char *jti = c->args[0];
	char path[192];
	json_t *ans = NULL;
	size_t n = strlen(jti);
	int rc;

	if (n == 0 || n > 127 || strspn(jti, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_-") != n) {
		cli_errf(c, "revoke: a grant id is 1 to 127 of A-Z a-z 0-9 "
		    "_ -");
		return TK_CLI_EUSAGE;
	}
	snprintf(path, sizeof(path), "/api/v1/grants/%s/revoke", jti);
	if ((rc = cli_signin(c)) != TK_CLI_OK ||
	    (rc = cli_call(c, "POST", path, NULL, AUTH_SESSION, 200,
	    &ans)) != TK_CLI_OK)
		return rc;
	if (c->json)
		rc = cli_print_json(c, ans);
	else
		fprintf(c->out, "grant %s: %s\n", jti, cli_str(ans, "state"));
	json_decref(ans);
	return rc;
}
