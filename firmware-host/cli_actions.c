/*
 * The actions that only make things safer and so take effect at once,
 * from any admin, without the quorum: suspending a person, revoking a
 * security key, blocking a scope. Undoing any of them is a governed
 * change (person.reactivate, policy.set); the server journals each.
 */
#include <string.h>

#include "cli_int.h"

#define MAX_CREDENTIAL_ID	1366	/* base64url of 1 KiB, as the API */

int
cli_cmd_suspend(struct cli *c)
{
	char path[96];
	json_t *ans = NULL;
	long long id;
	int rc;

	if ((rc = cli_parse_id(c, c->args[0], "person", &id)) != TK_CLI_OK)
		return rc;
	snprintf(path, sizeof(path), "/api/v1/people/%lld/suspend", id);
	if ((rc = cli_signin(c)) != TK_CLI_OK ||
	    (rc = cli_call(c, "POST", path, NULL, AUTH_SESSION, 200,
	    &ans)) != TK_CLI_OK)
		return rc;
	if (c->json)
		rc = cli_print_json(c, ans);
	else
		fprintf(c->out, "person %lld: %s\n", id, cli_str(ans,
		    "state"));
	json_decref(ans);
	return rc;
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
