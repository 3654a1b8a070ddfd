/*
 * twokey api-key create|list|revoke (admins): API keys for read-only
 * automation. A new key is shown once: written to a new file of mode
 * 0600 with -o, else printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "twokey/common.h"
#include "cli_int.h"

static int
save_key(struct cli *c, const char *key)
{
	size_t n = strlen(key);
	int fd, rc = TK_CLI_OK;

	if ((fd = open(c->output, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0) {
		cli_errf(c, "cannot create %s: %s (an existing file is never "
		    "overwritten)", c->output, strerror(errno));
		return TK_CLI_EFILE;
	}
	if (write(fd, key, n) != (ssize_t)n || write(fd, "\n", 1) != 1) {
		cli_errf(c, "cannot write %s: %s", c->output, strerror(errno));
		rc = TK_CLI_EFILE;
	}
	if (close(fd) != 0 && rc == TK_CLI_OK)
		rc = TK_CLI_EFILE;
	if (rc != TK_CLI_OK)
		unlink(c->output);
	return rc;
}

/* The scopes the server gives keys (web/api_keys.c), each once. */
static int
check_scopes(struct cli *c)
{
	static const char *const known[] = { "requests:read",
	    "journal:read", "inventory:events" };
	const char *dup;
	char esc[48];
	size_t i, k;

	for (i = 0; i < c->nscopes; i++) {
		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (strcmp(c->scopes[i], known[k]) == 0)
				break;
		if (k == sizeof(known) / sizeof(known[0])) {
			cli_errf(c, "api-key: --scope is requests:read, "
			    "journal:read or inventory:events, not \"%s\"",
			    cli_safe(c->scopes[i], esc, sizeof(esc)));
			return TK_CLI_EUSAGE;
		}
	}
	if ((dup = cli_twice(c->scopes, c->nscopes)) != NULL) {
		cli_errf(c, "api-key: --scope %s given twice", dup);
		return TK_CLI_EUSAGE;
	}
	return TK_CLI_OK;
}

static int
check_create(struct cli *c)
{
	int rc;

	if (c->nargs != 2 || c->nscopes == 0) {
		cli_errf(c, "usage: twokey api-key create NAME --scope SCOPE "
		    "[-o FILE]");
		return TK_CLI_EUSAGE;
	}
	if ((rc = cli_check_text(c, "api-key: the name", c->args[1],
	    CLI_LABEL_MAX)) != TK_CLI_OK || (rc = check_scopes(c)) !=
	    TK_CLI_OK)
		return rc;
	return c->output != NULL ? cli_check_output(c, c->output) :
	    TK_CLI_OK;
}

static int
key_create(struct cli *c)
{
	json_t *scopes, *body, *ans = NULL;
	const char *key;
	size_t i;
	int rc;

	if ((rc = check_create(c)) != TK_CLI_OK)
		return rc;
	if ((scopes = json_array()) == NULL)
		return TK_CLI_EINTERNAL;
	for (i = 0; i < c->nscopes; i++)
		json_array_append_new(scopes, json_string(c->scopes[i]));
	if ((body = json_pack("{s:s,s:o}", "name", c->args[1], "scopes",
	    scopes)) == NULL)
		return TK_CLI_EINTERNAL;
	if ((rc = cli_signin(c)) != TK_CLI_OK ||
	    (rc = cli_call(c, "POST", "/api/v1/api-keys", body, AUTH_SESSION,
	    201, &ans)) != TK_CLI_OK)
		goto out;
	if ((key = json_string_value(json_object_get(ans, "key"))) == NULL) {
		rc = TK_CLI_EINTERNAL;
		goto out;
	}
	if (c->output != NULL && (rc = save_key(c, key)) == TK_CLI_OK) {
		json_object_del(ans, "key");
		json_object_set_new(ans, "file", json_string(c->output));
	}
	if (rc == TK_CLI_OK && c->json)
		rc = cli_print_json(c, ans);
	else if (rc == TK_CLI_OK)
		fprintf(c->out, "api key %s (%s): %s\n", json_string_value(
		    json_object_get(ans, "id")), c->args[1],
		    c->output != NULL ? c->output : key);
out:
	json_decref(body);
	json_decref(ans);
	return rc;
}

static int
key_list(struct cli *c)
{
	json_t *ans = NULL, *k, *s;
	size_t i, j;
	char esc[200];
	int rc;

	if ((rc = cli_signin(c)) != TK_CLI_OK ||
	    (rc = cli_call(c, "GET", "/api/v1/api-keys", NULL, AUTH_SESSION,
	    200, &ans)) != TK_CLI_OK)
		return rc;
	if (c->json)
		rc = cli_print_json(c, ans);
	else
		json_array_foreach(json_object_get(ans, "keys"), i, k) {
			fprintf(c->out, "%s  %s%s ", cli_safe(json_string_value(
			    json_object_get(k, "id")), esc, 64),
			    cli_safe(json_string_value(json_object_get(k,
			    "name")), esc + 64, 136), json_is_true(
			    json_object_get(k, "revoked")) ? " (revoked)" :
			    "");
			json_array_foreach(json_object_get(k, "scopes"), j,
			    s) {
				fprintf(c->out, " %s", cli_safe(
				    json_string_value(s), esc, 64));
			}
			fputc('\n', c->out);
		}
	json_decref(ans);
	return rc;
}

static int
key_revoke(struct cli *c)
{
	char path[128];
	json_t *ans = NULL;
	int rc;

	if (c->nargs != 2 || strlen(c->args[1]) != 32 ||
	    strspn(c->args[1], "0123456789abcdef") != 32) {
		cli_errf(c, "usage: twokey api-key revoke ID (32 hex digits)");
		return TK_CLI_EUSAGE;
	}
	snprintf(path, sizeof(path), "/api/v1/api-keys/%s", c->args[1]);
	if ((rc = cli_signin(c)) != TK_CLI_OK ||
	    (rc = cli_call(c, "DELETE", path, NULL, AUTH_SESSION, 200,
	    &ans)) != TK_CLI_OK)
		return rc;
	if (c->json)
		rc = cli_print_json(c, ans);
	else
		fprintf(c->out, "api key %s revoked\n", c->args[1]);
	json_decref(ans);
	return rc;
}

int
cli_cmd_apikey(struct cli *c)
{
	if (strcmp(c->args[0], "create") == 0)
		return key_create(c);
	if (c->given & (OPT(O_SCOPE) | OPT(O_OUTPUT))) {
		cli_errf(c, "api-key %s takes no --scope or -o",
		    c->args[0]);
		return TK_CLI_EUSAGE;
	}
	if (strcmp(c->args[0], "list") == 0 && c->nargs == 1)
		return key_list(c);
	if (strcmp(c->args[0], "revoke") == 0)
		return key_revoke(c);
	cli_errf(c, "usage: twokey api-key create|list|revoke ...");
	return TK_CLI_EUSAGE;
}
