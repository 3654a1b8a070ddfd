/*
 * twokey init: the key ceremony on the token of twokeyd's configuration,
 * run by twokey-signer (the only program that loads the PKCS#11 module
 * and reads the PIN file), then, with --bootstrap, the first enrollment
 * by `twokeyd --bootstrap` with the same configuration. Both refuse to
 * run twice: the ceremony when the token already holds its keys, the
 * bootstrap once approvers are enrolled. The daemon must be stopped.
 */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "twokey/config.h"
#include "twokey/hsm.h"
#include "twokey/hsm_ceremony.h"
#include "cli_int.h"

#define DEFAULT_DCONFIG	"/etc/twokey/twokeyd.conf"

static int
print_fingerprint(struct cli *c, const char *out)
{
	char path[4200], line[200];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/root-fingerprint.txt", out);
	if ((f = fopen(path, "r")) == NULL)
		return TK_CLI_EFILE;
	ok = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	if (!ok || strlen(line) < 64)
		return TK_CLI_EFILE;
	line[64] = '\0';
	if (c->json)
		fprintf(c->out, "{\"root\": \"%s/root.pem\", \"sha256\": "
		    "\"%s\"}\n", out, line);
	else
		fprintf(c->out, "root certificate: %s/root.pem\n"
		    "SHA-256 fingerprint: %s\n", out, line);
	fflush(c->out);
	return TK_CLI_OK;
}

/* twokeyd --bootstrap LIST -c CONF; its codes go to our output. */
static int
bootstrap(struct cli *c, const char *conf)
{
	const char *prog = c->twokeyd != NULL ? c->twokeyd : "twokeyd";
	pid_t pid;
	int st;

	fflush(c->out);
	fflush(c->err);
	if ((pid = fork()) < 0)
		return TK_CLI_EINTERNAL;
	if (pid == 0) {
		if (dup2(fileno(c->out), 1) < 0 || dup2(fileno(c->err), 2) < 0)
			_exit(127);
		execlp(prog, "twokeyd", "--bootstrap", c->bootstrap, "-c", conf,
		    (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid)
		return TK_CLI_EINTERNAL;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return TK_CLI_OK;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		cli_errf(c, "cannot run %s (--twokeyd PATH names it)", prog);
	else
		cli_errf(c, "the first enrollment failed (twokeyd --bootstrap "
		    "exit %d; its reason is above)", WIFEXITED(st) ?
		    WEXITSTATUS(st) : -1);
	return TK_CLI_ETOKEN;
}

static int
default_out(const char *conf, char *out, size_t cap)
{
	char *copy = strdup(conf);
	int n;

	if (copy == NULL)
		return -1;
	n = snprintf(out, cap, "%s/ceremony", dirname(copy));
	free(copy);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int
cli_cmd_init(struct cli *c)
{
	const char *conf = c->dconfig != NULL ? c->dconfig : DEFAULT_DCONFIG;
	struct tk_config *cfg = NULL;
	char err[256], out[4096];
	int r, rc = TK_CLI_EFILE;

	if (tk_config_load(conf, &cfg, err, sizeof(err)) != 0) {
		cli_errf(c, "%s", err);
		goto done;
	}
	if (c->outdir != NULL)
		snprintf(out, sizeof(out), "%s", c->outdir);
	else if (default_out(conf, out, sizeof(out)) != 0)
		goto done;
	fprintf(c->err, "Key ceremony on %s (root, audit and token keys)\n",
	    conf);
	fflush(c->err);
	if ((r = tk_ceremony_spawn(cfg->signer_path, cfg->pkcs11_uri,
	    out)) != 0) {
		cli_errf(c, "the key ceremony failed: %s", tk_hsm_strerror(r));
		rc = TK_CLI_ETOKEN;
		goto done;
	}
	if ((rc = print_fingerprint(c, out)) != TK_CLI_OK) {
		cli_errf(c, "the ceremony wrote no fingerprint in %s", out);
		goto done;
	}
	if (c->bootstrap != NULL)
		rc = bootstrap(c, conf);
done:
	tk_config_free(&cfg);
	return rc;
}
