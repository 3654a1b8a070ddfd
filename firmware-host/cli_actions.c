/*
 * The actions that only make things safer and so take effect at once,
 * from any admin, without the quorum: suspending a person or recording
 * that they left, revoking a security key, blocking a scope. Undoing
 * any of them is a governed change (person.reactivate, policy.set); the
 * server journals each.
 */
#include <string.h>

#include "cli_int.h"

#define MAX_CREDENTIAL_ID	1366	/* base64url of 1 KiB, as the API */

/* One person as a line: id, name, team, state, roles, keys. */
static void
put_person(struct cli *c, json_t *p)
{
	char name[80], team[80], roles[96] = "";
	json_t *r, *cred;
	size_t i, n = 0, flagged = 0;

	json_array_foreach(json_object_get(p, "roles"), i, r)
		n += (size_t)snprintf(roles + n, n < sizeof(roles) ?
		    sizeof(roles) - n : 0, "%s%s", i > 0 ? "," : "",
		    json_is_string(r) ? json_string_value(r) : "?");
	json_array_foreach(json_object_get(p, "credentials"), i, cred)
		if (json_is_true(json_object_get(cred, "cloned")) ||
		    json_is_true(json_object_get(cred, "revoked")))
			flagged++;
	fprintf(c->out, "%-5lld %-16s %-12s %-9s %-28s %zu", (long long)
	    json_integer_value(json_object_get(p, "id")),
	    cli_safe(cli_str(p, "name"), name, sizeof(name)),
	    cli_safe(cli_str(p, "team"), team, sizeof(team)),
	    cli_str(p, "state"), roles,
	    json_array_size(json_object_get(p, "credentials")));
	if (flagged > 0)
		fprintf(c->out, " (%zu revoked or flagged)", flagged);
	fputc('\n', c->out);
}

static void
put_people(struct cli *c, json_t *people)
{
	json_t *p;
	size_t i;

	fprintf(c->out, "%-5s %-16s %-12s %-9s %-28s %s\n", "ID", "NAME",
	    "TEAM", "STATE", "ROLES", "KEYS");
	json_array_foreach(people, i, p) {
		put_person(c, p);
	}
}

int
cli_cmd_people(struct cli *c)
{
	json_t *ans = NULL;
	int rc;

	if ((rc = cli_signin(c)) != TK_CLI_OK ||
	    (rc = cli_call(c, "GET", "/api/v1/people", NULL, AUTH_SESSION,
	    200, &ans)) != TK_CLI_OK)
		return rc;
	if (c->json)
		rc = cli_print_json(c, ans);
	else
		put_people(c, json_object_get(ans, "people"));
	json_decref(ans);
	return rc;
}

/* The new state, and the service accounts that now need an owner. */
static void
print_inactive(struct cli *c, long long id, json_t *ans)
{
	json_t *owned = json_object_get(ans, "accounts_to_reassign"), *a;
	char esc[200];
	size_t i;

	fprintf(c->out, "person %lld: %s\n", id, cli_str(ans, "state"));
	if (json_array_size(owned) == 0) {
		fputs("owns no service account\n", c->out);
		return;
	}
	fputs("owns, to give another owner (inventory import):", c->out);
	json_array_foreach(owned, i, a) {
		fprintf(c->out, " %s", cli_safe(json_string_value(a), esc,
		    sizeof(esc)));
	}
	fputc('\n', c->out);
}

/* Suspends person PERSON, or records that they left (action). */
static int
person_inactive(struct cli *c, const char *action)
{
	char path[96];
	json_t *ans = NULL;
	long long id;
	int rc;

	if ((rc = cli_parse_id(c, c->args[0], "person", &id)) != TK_CLI_OK)
		return rc;
	snprintf(path, sizeof(path), "/api/v1/people/%lld/%s", id, action);
	if ((rc = cli_signin(c)) != TK_CLI_OK ||
	    (rc = cli_call(c, "POST", path, NULL, AUTH_SESSION, 200,
	    &ans)) != TK_CLI_OK)
		return rc;
	if (c->json)
		rc = cli_print_json(c, ans);
	else
		print_inactive(c, id, ans);
	json_decref(ans);
	return rc;
}

int
cli_cmd_suspend(struct cli *c)
{
	return person_inactive(c, "suspend");
}

int
cli_cmd_leave(struct cli *c)
{
	return person_inactive(c, "leave");
}

int
cli_cmd_revoke_credential(struct cli *c)
{
	const char *cred = c->args[0];
	json_t *body, *ans = NULL;
	size_t n = strlen(cred);
	int rc;

	if (n == 0 || n > MAX_CREDENTIAL_ID || strspn(cred, "ABCDEFGHIJKLMN"
	    "OPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != n) {
		cli_errf(c, "revoke-credential: a credential id is base64url "
		    "(A-Z a-z 0-9 _ -), as enroll printed it");
		return TK_CLI_EUSAGE;
	}
	if ((body = json_pack("{s:s}", "credential_id", cred)) == NULL)
		return TK_CLI_EINTERNAL;
	if ((rc = cli_signin(c)) != TK_CLI_OK ||
	    (rc = cli_call(c, "POST", "/api/v1/credentials/revoke", body,
	    AUTH_SESSION, 200, &ans)) != TK_CLI_OK)
		goto out;
	if (c->json)
		rc = cli_print_json(c, ans);
	else
		fprintf(c->out, "credential %s: %s\n", cred, cli_str(ans,
		    "state"));
out:
	json_decref(body);
	json_decref(ans);
	return rc;
}

int
cli_cmd_block(struct cli *c)
{
	const char *conn = c->connector != NULL ? c->connector : "*";
	json_t *body, *ans = NULL;
	char esc[2][300];
	int rc;

	if ((rc = cli_check_name(c, "block: the scope", c->args[0])) !=
	    TK_CLI_OK || (strcmp(conn, "*") != 0 && (rc = cli_check_name(c,
	    "block: --connector", conn)) != TK_CLI_OK))
		return rc;
	if ((body = json_pack("{s:s,s:s}", "connector", conn, "scope",
	    c->args[0])) == NULL)
		return TK_CLI_EINTERNAL;
	if ((rc = cli_signin(c)) != TK_CLI_OK ||
	    (rc = cli_call(c, "POST", "/api/v1/policy/blocked", body,
	    AUTH_SESSION, 200, &ans)) != TK_CLI_OK)
		goto out;
	if (c->json)
		rc = cli_print_json(c, ans);
	else if (strcmp(conn, "*") == 0)
		fprintf(c->out, "scope %s blocked for every connector\n",
		    cli_safe(c->args[0], esc[0], sizeof(esc[0])));
	else
		fprintf(c->out, "scope %s blocked for connector %s\n",
		    cli_safe(c->args[0], esc[0], sizeof(esc[0])),
		    cli_safe(conn, esc[1], sizeof(esc[1])));
out:
	json_decref(body);
	json_decref(ans);
	return rc;
}
