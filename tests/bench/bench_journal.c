/*
 * Journal benchmark: 100,000 appends from 4 threads through the signer,
 * then the offline check of their export beside plain SHA-256 over the
 * same entry bytes, in the same run.
 *
 *   bench_journal [PKCS11_URI]
 *
 * $TWOKEY_BENCH_APPENDS sets the number of appends (default 100,000,
 * split over the 4 threads). Each thread appends $TWOKEY_BENCH_GROUP
 * entries per tk_journal_append_many call (default 64; 1 gives plain
 * tk_journal_append, where a batch holds at most one entry per thread,
 * since each appender waits for its entry's checkpoint).
 * The token is the URI given (or $TWOKEY_BENCH_URI; its PIN comes from
 * the URI's pin-source, never from here), else a fresh SoftHSM2 token
 * from the test fixture. Figures: entries/s, token signatures per 1,000
 * entries, verification entries/s and its ratio to SHA-256 alone.
 */
#include <sys/wait.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>
#include <openssl/x509.h>

#include "twokey/export.h"
#include "twokey/hsm.h"
#include "twokey/journal.h"
#include "../lib/token_fixture.h"

#define THREADS 4
#define APPENDS 100000

#define GROUP_MAX 1024

static long per_thread = APPENDS / THREADS;
static long group = 64;		/* entries per append_many call */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Appends per_thread entries, group at a time. */
static void *
appender(void *arg)
{
	struct tk_journal *j = arg;
	struct tk_journal_entry e[GROUP_MAX];
	long i, k, n;
	int r = 0;

	memset(e, 0, sizeof(e));
	for (i = 0; i < per_thread && r == 0; i += n) {
		n = per_thread - i < group ? per_thread - i : group;
		for (k = 0; k < n; k++) {
			e[k].actor = "bench@example.com";
			e[k].action = "grant/issue";
			e[k].object = "service-account/ci-deployer";
			e[k].correlation_id = "req-0000";
			e[k].details = json_pack("{s:I, s:s, s:[s,s]}", "seq",
			    (json_int_t)(i + k), "reason", "bench", "scopes",
			    "repo:read", "deploy:staging");
		}
		r = tk_journal_append_many(j, e, (size_t)n, NULL, NULL);
		for (k = 0; k < n; k++)
			json_decref((json_t *)(uintptr_t)e[k].details);
	}
	return r == 0 ? NULL : arg;
}

/* The token's own signing rate through the signer, in this run. */
static double
token_rate(struct tk_signer *s)
{
	uint8_t d[32] = { 1 }, der[80];
	size_t len;
	double t0 = now();
	int i;

	for (i = 0; i < 100; i++) {
		len = sizeof(der);
		d[0] = (uint8_t)i;
		if (tk_signer_sign_digest(s, TK_KEY_AUDIT, d, der, &len) != 0)
			return 0;
	}
	return 100.0 / (now() - t0);
}

static int
start_signer(const char *uri, const char *tmp,
    struct tk_fixture_token **fx, struct tk_signer **s)
{
	struct tk_signer_config cfg;
	char path[600];

	if (uri == NULL) {
		if (tk_fixture_token_new(tmp, fx) != 0)
			return -1;
		return tk_fixture_signer_start(*fx, 0, s);
	}
	snprintf(path, sizeof(path), "%s/twokey-signer",
	    getenv("TWOKEY_BUILD") ? getenv("TWOKEY_BUILD") : "build");
	memset(&cfg, 0, sizeof(cfg));
	cfg.uri = uri;
	cfg.signer_path = path;
	cfg.no_seccomp = tk_fixture_under_valgrind();
	return tk_signer_start(&cfg, s);
}

static int
run_appends(struct tk_journal *j, struct tk_signer *s)
{
	pthread_t th[THREADS];
	uint64_t cps, size;
	double t0, t1, rate = token_rate(s);
	void *bad;
	int i, r = 0;

	printf("token: %.1f signatures/s through the signer\n", rate);
	t0 = now();
	for (i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, appender, j);
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], &bad);
		if (bad != NULL)
			r = -1;
	}
	t1 = now();
	tk_journal_size(j, &size);
	tk_journal_checkpoint_count(j, &cps);
	printf("appends: %llu entries from %d threads, %ld per call, in "
	    "%.2f s: %.0f entries/s, %.1f token signatures per 1,000 "
	    "entries\n", (unsigned long long)size, THREADS, group, t1 - t0,
	    (double)size / (t1 - t0), 1000.0 * (double)cps / (double)size);
	if (rate > 0)
		printf("appends: entries per second / token signatures per "
		    "second = %.1f x (target >= 50)\n",
		    (double)size / (t1 - t0) / rate);
	return r;
}

/*
 * The same entries checked against the latest checkpoint only, as with
 * a slow hardware token whose batches hold many entries: what the tree
 * recomputation costs when signatures are few.
 */
static int
one_checkpoint(struct tk_export *e, const struct tk_export_trust *t,
    double sha)
{
	struct tk_export_checker *c = NULL;
	struct tk_export_report rep;
	struct tk_export_note keep = e->notes[e->nnotes - 1];
	struct tk_export_note *saved = e->notes;
	size_t n = e->nnotes;
	double t0, t1;
	int r;

	e->notes = &keep;
	e->nnotes = 1;
	t0 = now();
	if ((r = tk_export_checker_new(e, t, &c, &rep)) == 0)
		r = tk_export_checker_entries(c, e, &rep);
	t1 = now();
	e->notes = saved;
	e->nnotes = n;
	tk_export_checker_free(&c);
	if (r != 0) {
		printf("one-checkpoint check FAILED: %s\n", rep.what);
		return r;
	}
	printf("verify against the latest checkpoint only: %.0f entries/s, "
	    "ratio to SHA-256 %.3f\n", (double)e->nleaves / (t1 - t0),
	    sha / (t1 - t0));
	return 0;
}

/* Seconds that sha256sum(1) takes over FILE, or -1. */
static double
time_sha256sum(const char *file)
{
	double t0 = now();
	pid_t pid;
	int st;

	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		execlp("sha256sum", "sha256sum", "--", file, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return -1;
	return now() - t0;
}

/* Loads and checks the export; times each phase and SHA-256 alone. */
static int
run_verify(const char *dir, X509 *root)
{
	struct tk_export_checker *c = NULL;
	struct tk_export_report rep;
	struct tk_export_trust t;
	struct tk_export *e = NULL;
	uint8_t md[32];
	char file[700];
	double t0, t1, t2, t3, t4, sha, cmd, total;
	int r;

	memset(&t, 0, sizeof(t));
	t.root = root;
	t0 = now();
	if ((r = tk_export_load(dir, &e, &rep)) != 0)
		goto out;
	t1 = now();
	if ((r = tk_export_checker_new(e, &t, &c, &rep)) != 0)
		goto out;
	t2 = now();
	if ((r = tk_export_checker_entries(c, e, &rep)) != 0)
		goto out;
	t3 = now();
	SHA256(e->entries_buf, e->entries_len, md);
	t4 = now();
	sha = t4 - t3;
	total = t3 - t0;
	printf("verify: %zu entries, %zu checkpoints, %.1f MB: load %.3f s, "
	    "keys+signatures+consistency %.3f s, entries %.3f s\n",
	    e->nleaves, e->nnotes, (double)e->entries_len / 1e6, t1 - t0,
	    t2 - t1, t3 - t2);
	printf("verify: %.0f entries/s in all; entries phase alone %.0f "
	    "entries/s; SHA-256 over the same bytes %.0f entries/s\n",
	    (double)e->nleaves / total, (double)e->nleaves / (t3 - t2),
	    (double)e->nleaves / sha);
	printf("ratio to SHA-256 (target >= 0.5): whole check %.3f, "
	    "entries phase %.3f\n", sha / total, sha / (t3 - t2));
	snprintf(file, sizeof(file), "%s/entries.jsonl", dir);
	if ((cmd = time_sha256sum(file)) > 0)
		printf("sha256sum(1) over %s: %.0f entries/s; ratio of the "
		    "whole check to sha256sum (target >= 0.5) %.3f: %s\n",
		    "entries.jsonl", (double)e->nleaves / cmd, cmd / total,
		    cmd / total >= 0.5 ? "met" : "NOT met");
	else
		printf("sha256sum(1) over entries.jsonl failed\n");
	r = one_checkpoint(e, &t, sha);
out:
	if (r != 0)
		printf("verify FAILED: %s\n", rep.what);
	tk_export_checker_free(&c);
	tk_export_free(&e);
	return r;
}

int
main(int argc, char **argv)
{
	const char *uri = argc > 1 ? argv[1] : getenv("TWOKEY_BENCH_URI");
	const char *tmp = getenv("TWOKEY_TEST_TMP");
	struct tk_fixture_token *fx = NULL;
	struct tk_journal_config cfg;
	struct tk_journal *j = NULL;
	struct tk_signer *s = NULL;
	char db[600], dir[600];
	X509 *root = NULL;
	char *end;
	double t0;
	long n;
	int r = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (tmp == NULL)
		tmp = "/tmp";
	if (getenv("TWOKEY_BENCH_APPENDS") != NULL) {
		n = strtol(getenv("TWOKEY_BENCH_APPENDS"), &end, 10);
		if (*end != '\0' || n < THREADS || n > 100000000) {
			fprintf(stderr, "bench_journal: bad "
			    "TWOKEY_BENCH_APPENDS\n");
			return 1;
		}
		per_thread = n / THREADS;
	}
	if (getenv("TWOKEY_BENCH_GROUP") != NULL) {
		group = strtol(getenv("TWOKEY_BENCH_GROUP"), &end, 10);
		if (*end != '\0' || group < 1 || group > GROUP_MAX) {
			fprintf(stderr, "bench_journal: bad "
			    "TWOKEY_BENCH_GROUP\n");
			return 1;
		}
	}
	snprintf(db, sizeof(db), "%s/bench-journal.db", tmp);
	snprintf(dir, sizeof(dir), "%s/bench-journal.export", tmp);
	if (start_signer(uri, tmp, &fx, &s) != 0) {
		fprintf(stderr, "bench_journal: no signer\n");
		goto out;
	}
	printf("token: %s\n", uri != NULL ? "given URI" : "SoftHSM2 fixture");
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = db;
	cfg.origin = "twokey/bench/journal";
	cfg.signer = s;
	if (tk_journal_open(&cfg, &j) != 0 || run_appends(j, s) != 0)
		goto out;
	t0 = now();
	if (tk_journal_export(j, 0, 0, dir, 0) != 0)
		goto out;
	printf("export: %.2f s\n", now() - t0);
	if (tk_signer_certificate(s, TK_KEY_ROOT, &root) != 0)
		goto out;
	r = run_verify(dir, root) == 0 ? 0 : 1;
out:
	X509_free(root);
	tk_journal_free(&j);
	tk_signer_free(&s);
	tk_fixture_token_free(&fx);
	return r;
}
