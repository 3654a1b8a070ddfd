/* Helpers shared by the journal tests (see journal_testutil.h). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/pem.h>

#include "../lib/token_fixture.h"
#include "journal_testutil.h"

int
jt_setup(struct jt *t, unsigned int timeout_ms)
{
	const char *tmp = getenv("TWOKEY_TEST_TMP");
	FILE *f;

	memset(t, 0, sizeof(*t));
	if (tmp == NULL)
		return -1;
	snprintf(t->tmp, sizeof(t->tmp), "%s", tmp);
	if (tk_fixture_token_new(tmp, &t->fx) != 0 ||
	    tk_fixture_signer_start(t->fx, timeout_ms, &t->signer) != 0)
		return -1;
	if ((f = fopen(t->fx->root_pem, "r")) == NULL)
		return -1;
	t->root = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return t->root != NULL ? 0 : -1;
}

void
jt_teardown(struct jt *t)
{
	X509_free(t->root);
	tk_signer_free(&t->signer);
	tk_fixture_token_free(&t->fx);
}

void
jt_path(const struct jt *t, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", t->tmp, name);
}

int
jt_open(struct jt *t, const char *name, unsigned int max_batch,
    struct tk_journal **j)
{
	struct tk_journal_config cfg;
	char path[600];

	jt_path(t, name, path, sizeof(path));
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = path;
	cfg.origin = JT_ORIGIN;
	cfg.signer = t->signer;
	cfg.max_batch = max_batch;
	return tk_journal_open(&cfg, j);
}

int
jt_append(struct tk_journal *j, int64_t seq, const char *tag,
    uint64_t *index)
{
	struct tk_journal_entry e;
	json_t *d;
	int r;

	d = json_pack("{s:I, s:s}", "seq", (json_int_t)seq, "tag", tag);
	memset(&e, 0, sizeof(e));
	e.actor = "alice@example.com";
	e.action = "test/append";
	e.object = "request/42";
	e.correlation_id = "corr-1";
	e.details = d;
	r = tk_journal_append(j, &e, index);
	json_decref(d);
	return r;
}

int
jt_export_check(struct jt *t, struct tk_journal *j, const char *dirname,
    uint64_t first, uint64_t end, unsigned int flags, const char *since,
    struct tk_export_report *rep)
{
	struct tk_export_trust trust;
	struct tk_export *e = NULL;
	char dir[600];
	int r;

	jt_path(t, dirname, dir, sizeof(dir));
	if ((r = tk_journal_export(j, first, end, dir, flags)) != 0)
		return r;
	memset(&trust, 0, sizeof(trust));
	trust.root = t->root;
	trust.since = since;
	trust.since_len = since != NULL ? strlen(since) : 0;
	if ((r = tk_export_load(dir, &e, rep)) == 0)
		r = tk_export_check(e, &trust, rep);
	if (r != 0)
		fprintf(stderr, "export %s: %s: %s\n", dirname,
		    tk_export_strerror(r), rep->what);
	tk_export_free(&e);
	return r;
}

int
jt_run(char *const argv[], char *out, size_t outlen)
{
	char junk[512];
	int fds[2], status;
	size_t n = 0;
	ssize_t got;
	pid_t pid;

	if (pipe(fds) != 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);

	for (;;) {
		if (n + 1 < outlen)
			got = read(fds[0], out + n, outlen - n - 1);
		else
			got = read(fds[0], junk, sizeof(junk));
		if (got <= 0)
			break;
		if (n + 1 < outlen)
			n += (size_t)got;
	}
	out[n] = '\0';
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}
