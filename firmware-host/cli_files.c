/*
 * Commands that move files: the journal export (streamed to a temporary
 * file beside the target, renamed into place only when complete) and
 * enrollment (the invitation code read from a private file or standard
 * input, never from the command line).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "twokey/common.h"
#include "cli_int.h"

#define MAX_INVITATION	128
#define INVITATION_LEN	47	/* "tki_" and 32 bytes in base64url */

/* One archive from path, of content type ctype, into f. */
static int
fetch_to(struct cli *c, const char *path, const char *ctype, FILE *f)
{
	struct cli_resp r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.sink = f;
	if ((rc = cli_http(c, "GET", path, NULL, AUTH_READ, &r)) !=
	    TK_CLI_OK)
		return rc;
	if (r.status != 200)
		rc = cli_refused(c, &r);
	else if (strcmp(r.ctype, ctype) != 0) {
		cli_errf(c, "the answer came back as \"%.64s\", not %s",
		    r.ctype, ctype);
		rc = TK_CLI_EINTERNAL;
	} else if (fflush(f) != 0 || ferror(f)) {
		cli_errf(c, "cannot write the answer: %s", strerror(errno));
		rc = TK_CLI_EFILE;
	} else if (strcmp(c->output, "-") != 0)
		fprintf(c->err, "%zu bytes to %s\n", r.len, c->output);
	cli_resp_clear(&r);
	return rc;
}

/*
 * Downloads path to -o FILE: a temporary file beside it, renamed into
 * place only when complete, so a failure leaves no partial archive.
 */
static int
download(struct cli *c, const char *path, const char *ctype)
{
	char tmp[4096];
	FILE *f = NULL;
	int fd, rc;

	if (c->output == NULL) {
		cli_errf(c, "-o FILE is required (\"-\": standard output)");
		return TK_CLI_EUSAGE;
	}
	if ((rc = cli_authenticate(c, AUTH_READ)) != TK_CLI_OK)
		return rc;
	if (strcmp(c->output, "-") == 0)
		return fetch_to(c, path, ctype, c->out);
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", c->output) >=
	    (int)sizeof(tmp) || (fd = mkstemp(tmp)) < 0 ||
	    (f = fdopen(fd, "wb")) == NULL) {
		cli_errf(c, "cannot write beside %s: %s", c->output,
		    strerror(errno));
		return TK_CLI_EFILE;
	}
	fchmod(fd, 0644);
	rc = fetch_to(c, path, ctype, f);
	if (fclose(f) != 0 && rc == TK_CLI_OK) {
		cli_errf(c, "cannot write %s: %s", c->output, strerror(errno));
		rc = TK_CLI_EFILE;
	}
	if (rc == TK_CLI_OK && rename(tmp, c->output) != 0) {
		cli_errf(c, "cannot write %s: %s", c->output, strerror(errno));
		rc = TK_CLI_EFILE;
	}
	if (rc != TK_CLI_OK)
		unlink(tmp);
	return rc;
}

int
cli_cmd_export(struct cli *c)
{
	return download(c, "/api/v1/journal/export", "application/x-tar");
}

/* YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ; the server checks the values. */
static int
date_ok(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	size_t i, n = strlen(s);

	if (n != 10 && n != 20)
		return 0;
	for (i = 0; i < n; i++)
		if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' :
		    s[i] != shape[i])
			return 0;
	return 1;
}

int
cli_cmd_evidence(struct cli *c)
{
	char path[128];

	if (c->from == NULL || c->to == NULL || !date_ok(c->from) ||
	    !date_ok(c->to)) {
		cli_errf(c, "evidence: --from and --to are dates, "
		    "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
		return TK_CLI_EUSAGE;
	}
	snprintf(path, sizeof(path), "/api/v1/evidence?from=%s&to=%s",
	    c->from, c->to);
	return download(c, path, "application/gzip");
}

/*
 * The code, as the server makes it: "tki_" and 43 base64url characters.
 * A wrong one is told here, before the server is asked; it is never
 * echoed, being a secret or a part of one.
 */
static int
code_ok(struct cli *c, const char *code, const char *from)
{
	size_t n = strlen(code);

	if (n == 0) {
		cli_errf(c, "no invitation code %s", from);
		return TK_CLI_EFILE;
	}
	if (n != INVITATION_LEN || strncmp(code, "tki_", 4) != 0 ||
	    strspn(code + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
	    "tuvwxyz0123456789_-") != n - 4) {
		cli_errf(c, "no invitation code %s: a code is tki_ and 43 "
		    "letters, digits, _ or -", from);
		return TK_CLI_EFILE;
	}
	return TK_CLI_OK;
}

/* The code from a file readable by its owner only, or stdin. */
static int
read_invitation(struct cli *c, char *code, size_t cap)
{
	char from[4200];
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (c->invfile == NULL) {
		cli_errf(c, "enroll: --invitation-file FILE is required "
		    "(\"-\": standard input); the code is never an option");
		return TK_CLI_EUSAGE;
	}
	if (strcmp(c->invfile, "-") == 0) {
		snprintf(from, sizeof(from), "on standard input");
		if (fgets(code, (int)cap, c->in) == NULL)
			code[0] = '\0';
	} else if ((rc = tk_read_file(c->invfile, cap - 1, 1, &buf,
	    &len)) != 0) {
		cli_errf(c, "cannot read the invitation file %s: %s",
		    c->invfile, cli_read_failure(c->invfile, rc));
		return TK_CLI_EFILE;
	} else {
		snprintf(from, sizeof(from), "in %s", c->invfile);
		memcpy(code, buf, len);
		code[len] = '\0';
		tk_secret_free(buf, len);
	}
	code[strcspn(code, "\r\n")] = '\0';
	return code_ok(c, code, from);
}

/* The registration; *status 201 (enrolled) or 202 (a change). */
static int
enroll_with(struct cli *c, const char *code, long *status, json_t **ans)
{
	json_t *body, *ch = NULL, *reg = NULL;
	const char *rp, *b64, *name;
	int rc;

	if ((body = json_pack("{s:s}", "invitation", code)) == NULL)
		return TK_CLI_EINTERNAL;
	rc = cli_call(c, "POST", "/api/v1/enroll/challenge", body, AUTH_NONE,
	    200, &ch);
	json_decref(body);
	if (rc != TK_CLI_OK)
		return rc;
	rp = json_string_value(json_object_get(ch, "rp_id"));
	b64 = json_string_value(json_object_get(ch, "challenge"));
	name = json_string_value(json_object_get(ch, "name"));
	rc = TK_CLI_EINTERNAL;
	if (rp == NULL || b64 == NULL || name == NULL ||
	    (reg = json_pack("{s:s,s:O}", "invitation", code, "challenge_id",
	    json_object_get(ch, "challenge_id"))) == NULL) {
		cli_errf(c, "the server's registration challenge is "
		    "malformed");
		goto out;
	}
	fprintf(c->err, "Enrolling %s: touch your security key.\n", name);
	fflush(c->err);
	if ((rc = cli_fido_register(c, rp, name, b64, reg)) != TK_CLI_OK)
		goto out;
	if ((rc = cli_call_2xx(c, "POST", "/api/v1/enroll", reg, AUTH_NONE,
	    status, ans)) == TK_CLI_OK && *status != 201 && *status != 202) {
		cli_errf(c, "the server answered the enrollment with HTTP "
		    "%ld", *status);
		rc = TK_CLI_EINTERNAL;
	}
	if (rc == TK_CLI_OK)
		json_object_set(*ans, "credential_id",
		    json_object_get(reg, "credential_id"));
out:
	json_decref(ch);
	json_decref(reg);
	return rc;
}

/* 202: a governed enrollment, now a change for the quorum. */
static void
print_proposed(struct cli *c, json_t *ans)
{
	char esc[200];
	long long id = (long long)json_integer_value(json_object_get(
	    json_object_get(ans, "change"), "id"));

	fprintf(c->out, "enrollment of %s proposed as change %lld, pending "
	    "the quorum's approval;\n%s exists once approvers other than "
	    "the inviter approve it (twokey changes %lld,\ntwokey approve "
	    "%lld). Credential id %s\n", cli_safe(cli_str(ans, "name"), esc,
	    sizeof(esc)), id, esc, id, id, cli_str(ans, "credential_id"));
}

int
cli_cmd_enroll(struct cli *c)
{
	char code[MAX_INVITATION], esc[200];
	json_t *ans = NULL, *p;
	long status = 0;
	int rc;

	if ((rc = read_invitation(c, code, sizeof(code))) != TK_CLI_OK)
		goto out;
	if ((rc = enroll_with(c, code, &status, &ans)) != TK_CLI_OK)
		goto out;
	p = json_object_get(ans, "person");
	if (c->json)
		rc = cli_print_json(c, ans);
	else if (status == 202)
		print_proposed(c, ans);
	else
		fprintf(c->out, "enrolled %s (team %s) as person %lld; "
		    "credential id %s\n", cli_safe(cli_str(p, "name"), esc,
		    100), cli_safe(cli_str(p, "team"), esc + 100, 100),
		    (long long)json_integer_value(json_object_get(p, "id")),
		    cli_str(ans, "credential_id"));
out:
	OPENSSL_cleanse(code, sizeof(code));
	json_decref(ans);
	return rc;
}
