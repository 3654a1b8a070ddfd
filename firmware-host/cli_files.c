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
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "twokey/common.h"
#include "twokey/pack.h"
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
 * -o FILE, told before any sign-in: a new file (none is overwritten) in
 * a folder that exists and may be written.
 */
int
cli_check_output(struct cli *c, const char *file)
{
	char dir[4096], *slash;
	const char *why = NULL;
	struct stat st;

	if (file[0] == '\0') {
		cli_errf(c, "-o: the file name is empty");
		return TK_CLI_EUSAGE;
	}
	if (lstat(file, &st) == 0) {
		cli_errf(c, "%s already exists; an existing file is never "
		    "overwritten", file);
		return TK_CLI_EFILE;
	}
	if (errno != ENOENT && errno != ENOTDIR) {
		cli_errf(c, "cannot write %s: %s", file, strerror(errno));
		return TK_CLI_EFILE;
	}
	if (snprintf(dir, sizeof(dir), "%s", file) >= (int)sizeof(dir)) {
		cli_errf(c, "cannot write %s: the path is too long", file);
		return TK_CLI_EFILE;
	}
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir ? 1 : 0] = '\0';
	if (stat(dir, &st) != 0)
		why = errno == ENOENT ? "does not exist" : strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		why = "is not a folder";
	else if (access(dir, W_OK | X_OK) != 0)
		why = strerror(errno);
	if (why != NULL) {
		cli_errf(c, "cannot write %s: its folder %s %s", file, dir,
		    why);
		return TK_CLI_EFILE;
	}
	return TK_CLI_OK;
}

/*
 * tmp to file, unless file has appeared meanwhile: link() refuses to
 * replace it where rename() would not.
 */
static int
place(struct cli *c, const char *tmp)
{
	if (link(tmp, c->output) == 0) {
		(void)unlink(tmp);
		return TK_CLI_OK;
	}
	if (errno == EEXIST)
		cli_errf(c, "%s appeared meanwhile; it is left as it is",
		    c->output);
	/* A file system without hard links (FAT): checked before. */
	else if ((errno == EPERM || errno == EOPNOTSUPP) &&
	    rename(tmp, c->output) == 0)
		return TK_CLI_OK;
	else
		cli_errf(c, "cannot write %s: %s", c->output,
		    strerror(errno));
	return TK_CLI_EFILE;
}

/*
 * Downloads path to -o FILE: a temporary file beside it, put in place
 * only when complete, so a failure leaves no partial archive. The
 * caller has checked -o (cli_check_output).
 */
static int
download(struct cli *c, const char *path, const char *ctype)
{
	char tmp[4096];
	FILE *f = NULL;
	int fd, rc;

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
	if (rc == TK_CLI_OK)
		rc = place(c, tmp);
	if (rc != TK_CLI_OK)
		unlink(tmp);
	return rc;
}

/* -o FILE or "-": TK_CLI_OK, else said. */
static int
download_target(struct cli *c)
{
	if (c->output == NULL) {
		cli_errf(c, "-o FILE is required (\"-\": standard output)");
		return TK_CLI_EUSAGE;
	}
	if (strcmp(c->output, "-") == 0)
		return TK_CLI_OK;
	return cli_check_output(c, c->output);
}

int
cli_cmd_export(struct cli *c)
{
	int rc;

	if ((rc = download_target(c)) != TK_CLI_OK)
		return rc;
	return download(c, "/api/v1/journal/export", "application/x-tar");
}

/* --from and --to: real dates, from before to, at most a pack apart. */
static int
check_period(struct cli *c)
{
	int64_t from = 0, to = 0;
	char esc[48];
	const char *bad = NULL;

	if (c->from == NULL || c->to == NULL) {
		cli_errf(c, "evidence: --from DATE and --to DATE are "
		    "required");
		return TK_CLI_EUSAGE;
	}
	/* The server's own rules (tk_utc_parse), checked before a touch. */
	if (tk_utc_parse(c->from, &from) != 0)
		bad = c->from;
	else if (tk_utc_parse(c->to, &to) != 0)
		bad = c->to;
	if (bad != NULL) {
		cli_errf(c, "evidence: --from and --to are dates, "
		    "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ; \"%s\" is none",
		    cli_safe(bad, esc, sizeof(esc)));
		return TK_CLI_EUSAGE;
	}
	if (from >= to) {
		cli_errf(c, "evidence: --from must be before --to (the period "
		    "is [from, to))");
		return TK_CLI_EUSAGE;
	}
	if (to - from > TK_PACK_MAX_PERIOD) {
		cli_errf(c, "evidence: a pack covers at most %lld days",
		    (long long)(TK_PACK_MAX_PERIOD / 86400));
		return TK_CLI_EUSAGE;
	}
	return TK_CLI_OK;
}

int
cli_cmd_evidence(struct cli *c)
{
	char path[128];
	int rc;

	if ((rc = check_period(c)) != TK_CLI_OK ||
	    (rc = download_target(c)) != TK_CLI_OK)
		return rc;
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
	char esc[200];
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
	fprintf(c->err, "%s %s: touch your security key.\n",
	    json_is_true(json_object_get(ch, "new_key")) ?
	    "A new security key for" : "Enrolling",
	    cli_safe(name, esc, sizeof(esc)));
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

/* 202: a governed enrollment or new key, now a change for the quorum. */
static void
print_proposed(struct cli *c, json_t *ans)
{
	char esc[200];
	json_t *change = json_object_get(ans, "change");
	long long id = (long long)json_integer_value(json_object_get(change,
	    "id"));

	cli_safe(cli_str(ans, "name"), esc, sizeof(esc));
	if (strcmp(cli_str(change, "type"), "credential.add") == 0)
		fprintf(c->out, "the new key of %s proposed as change %lld, "
		    "pending the quorum's approval;\nit signs in once "
		    "approvers other than the inviter and %s approve it\n"
		    "(twokey changes %lld, twokey approve %lld). Credential "
		    "id %s\n", esc, id, esc, id, id,
		    cli_str(ans, "credential_id"));
	else
		fprintf(c->out, "enrollment of %s proposed as change %lld, "
		    "pending the quorum's approval;\n%s exists once approvers "
		    "other than the inviter approve it (twokey changes %lld,"
		    "\ntwokey approve %lld). Credential id %s\n", esc, id, esc,
		    id, id, cli_str(ans, "credential_id"));
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
	else if (p == NULL)
		fprintf(c->out, "new security key of %s registered; "
		    "credential id %s\n", cli_safe(cli_str(ans, "name"), esc,
		    sizeof(esc)), cli_str(ans, "credential_id"));
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
