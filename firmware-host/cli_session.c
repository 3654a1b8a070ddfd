/*
 * A session for one command: the security key signs the server's
 * sign-in challenge, the session ends when the command does. Nothing of
 * it is written anywhere; the cookie and CSRF token are wiped.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "twokey/common.h"
#include "cli_int.h"

static int
signin_assertion(struct cli *c, json_t *ch, json_t **req)
{
	const char *rp = json_string_value(json_object_get(ch, "rp_id"));
	const char *b64 = json_string_value(json_object_get(ch, "challenge"));
	json_t *id = json_object_get(ch, "challenge_id");

	if (rp == NULL || b64 == NULL || !json_is_string(id) ||
	    (*req = json_pack("{s:O}", "challenge_id", id)) == NULL) {
		cli_errf(c, "the server's sign-in challenge is malformed");
		return TK_CLI_EINTERNAL;
	}
	fprintf(c->err, "Signing in as %s: touch your security key.\n",
	    c->user);
	fflush(c->err);
	return cli_fido_assert(c, rp, b64, *req);
}

/* --credential, told before the key is looked for. */
static int
check_credential(struct cli *c)
{
	uint8_t *id = NULL;
	size_t len = 0;

	if (c->credential == NULL)
		return TK_CLI_OK;
	if (tk_b64url_decode(c->credential, strlen(c->credential), &id,
	    &len) != 0 || len == 0) {
		free(id);
		cli_errf(c, "--credential must be base64url, as enroll "
		    "printed it");
		return TK_CLI_EUSAGE;
	}
	free(id);
	return TK_CLI_OK;
}

int
cli_signin(struct cli *c)
{
	struct cli_resp r;
	json_t *req = NULL, *ch = NULL, *ans = NULL;
	const char *csrf;
	int rc;

	memset(&r, 0, sizeof(r));
	if (c->user == NULL) {
		cli_errf(c, "signing in needs a name: --user NAME, "
		    "TWOKEY_USER, or \"user\" in the settings file");
		return TK_CLI_EUSAGE;
	}
	if ((rc = cli_check_text(c, "--user", c->user, CLI_LABEL_MAX)) !=
	    TK_CLI_OK || (rc = check_credential(c)) != TK_CLI_OK)
		return rc;
	if ((rc = cli_fido_present(c)) != TK_CLI_OK)
		return rc;
	if ((req = json_pack("{s:s}", "name", c->user)) == NULL)
		return TK_CLI_EINTERNAL;
	rc = cli_call(c, "POST", "/api/v1/session/challenge", req, AUTH_NONE,
	    200, &ch);
	json_decref(req);
	req = NULL;
	if (rc != TK_CLI_OK || (rc = signin_assertion(c, ch, &req)) !=
	    TK_CLI_OK || (rc = cli_http(c, "POST", "/api/v1/session", req,
	    AUTH_NONE, &r)) != TK_CLI_OK)
		goto out;
	if (r.status != 200) {
		rc = cli_refused(c, &r);
		/* A key refused at sign-in (suspended, flagged): exit 4. */
		if (r.status == 403)
			rc = TK_CLI_EAUTH;
		goto out;
	}
	ans = json_loads(r.body != NULL ? r.body : "", 0, NULL);
	csrf = json_string_value(json_object_get(ans, "csrf_token"));
	rc = TK_CLI_EINTERNAL;
	if (csrf == NULL || r.cookie[0] == '\0' ||
	    strlen(csrf) >= sizeof(c->csrf)) {
		cli_errf(c, "the server signed in without a session");
		goto out;
	}
	memcpy(c->cookie, r.cookie, sizeof(c->cookie));
	snprintf(c->csrf, sizeof(c->csrf), "%s", csrf);
	c->signed_in = 1;
	rc = TK_CLI_OK;
out:
	if (ans != NULL) {
		/* The CSRF token is in the parsed answer too. */
		json_object_del(ans, "csrf_token");
		json_decref(ans);
	}
	json_decref(req);
	json_decref(ch);
	cli_resp_clear(&r);
	return rc;
}

void
cli_signout(struct cli *c)
{
	struct cli_resp r;

	memset(&r, 0, sizeof(r));
	if (cli_http(c, "DELETE", "/api/v1/session", NULL, AUTH_SESSION,
	    &r) == TK_CLI_OK)
		cli_resp_clear(&r);
	c->signed_in = 0;
	OPENSSL_cleanse(c->cookie, sizeof(c->cookie));
	OPENSSL_cleanse(c->csrf, sizeof(c->csrf));
}

/* A session, unless an API key may do (auth AUTH_READ). */
int
cli_authenticate(struct cli *c, enum cli_auth auth)
{
	if (auth == AUTH_READ && c->api_key != NULL)
		return TK_CLI_OK;
	return cli_signin(c);
}
