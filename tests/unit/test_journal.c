/*
 * Specifications of the signed journal: appends, group commit, failure of
 * the signer, proofs, reopening, exports. Real SoftHSM2 token (fixture),
 * real SQLite files in $TWOKEY_TEST_TMP.
 */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/sha.h>

#include "twokey/checkpoint.h"
#include "twokey/export.h"
#include "twokey/journal.h"
#include "twokey/merkle.h"
#include "twokey/note.h"
#include "twokey/tlogproof.h"
#include "journal_testutil.h"

static struct jt T;

static int
group_setup(void **state)
{
	(void)state;
	return jt_setup(&T, 1500);
}

static int
group_teardown(void **state)
{
	(void)state;
	jt_teardown(&T);
	return 0;
}

static void
leaf_is_canonical_ordered_ascii_with_sorted_details(void **state)
{
	struct tk_journal_entry e;
	json_t *d;
	char *leaf;
	size_t len;

	(void)state;
	d = json_loads("{\"z\":1,\"a\":{\"y\":[true,null,\"\\u00e9\"],"
	    "\"b\":-7}}", 0, NULL);
	assert_non_null(d);
	memset(&e, 0, sizeof(e));
	e.actor = "bob";
	e.action = "grant/issue";
	e.details = d;
	assert_int_equal(tk_journal_leaf(&e, 12, "2026-12-03T10:00:00.123Z",
	    &leaf, &len), 0);
	assert_string_equal(leaf, "{\"index\":12,\"time\":"
	    "\"2026-12-03T10:00:00.123Z\",\"actor\":\"bob\",\"action\":"
	    "\"grant/issue\",\"object\":\"\",\"correlation_id\":\"\","
	    "\"details\":{\"a\":{\"b\":-7,\"y\":[true,null,\"\\u00E9\"]},"
	    "\"z\":1}}");
	assert_int_equal(strlen(leaf), len);
	free(leaf);
	json_decref(d);
}

static void
bad_entries_are_refused_and_record_nothing(void **state)
{
	struct tk_journal_entry e;
	struct tk_journal *j = NULL;
	uint64_t size = 99;
	json_t *real, *arr, *deep;
	char big[TK_JOURNAL_MAX_FIELD + 2];
	int i;

	(void)state;
	assert_int_equal(jt_open(&T, "bad.db", 0, &j), 0);
	memset(&e, 0, sizeof(e));
	e.actor = "a";
	assert_int_equal(tk_journal_append(j, &e, NULL),
	    TK_JOURNAL_ERR_INVALID);			/* no action */
	e.action = "x";
	real = json_pack("{s:f}", "amount", 1.5);
	e.details = real;
	assert_int_equal(tk_journal_append(j, &e, NULL),
	    TK_JOURNAL_ERR_INVALID);			/* reals refused */
	arr = json_array();
	e.details = arr;
	assert_int_equal(tk_journal_append(j, &e, NULL),
	    TK_JOURNAL_ERR_INVALID);			/* not an object */
	deep = json_object();
	for (i = 0; i < TK_JOURNAL_MAX_DEPTH + 2; i++)
		deep = json_pack("{s:o}", "d", deep);
	e.details = deep;
	assert_int_equal(tk_journal_append(j, &e, NULL),
	    TK_JOURNAL_ERR_TOOBIG);
	e.details = NULL;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	e.object = big;
	assert_int_equal(tk_journal_append(j, &e, NULL),
	    TK_JOURNAL_ERR_TOOBIG);
	e.object = "\xff\xfe";				/* not UTF-8 */
	assert_int_equal(tk_journal_append(j, &e, NULL),
	    TK_JOURNAL_ERR_INVALID);
	assert_int_equal(tk_journal_size(j, &size), 0);
	assert_int_equal(size, 0);
	json_decref(real);
	json_decref(arr);
	json_decref(deep);
	tk_journal_free(&j);
	assert_null(j);
}

static void
append_returns_index_and_leaf_reads_back_verbatim(void **state)
{
	struct tk_journal *j = NULL;
	uint64_t idx, size;
	uint8_t *leaf;
	size_t len;
	int i;

	(void)state;
	assert_int_equal(jt_open(&T, "basic.db", 0, &j), 0);
	for (i = 0; i < 5; i++) {
		assert_int_equal(jt_append(j, i, "basic", &idx), 0);
		assert_int_equal(idx, (uint64_t)i);
	}
	assert_int_equal(tk_journal_size(j, &size), 0);
	assert_int_equal(size, 5);
	assert_int_equal(tk_journal_entry_get(j, 3, &leaf, &len), 0);
	assert_int_equal(memcmp(leaf, "{\"index\":3,\"time\":\"", 19), 0);
	assert_non_null(strstr((char *)leaf, "\"details\":{\"seq\":3,"
	    "\"tag\":\"basic\"}}"));
	free(leaf);
	assert_int_equal(tk_journal_entry_get(j, 5, &leaf, &len),
	    TK_JOURNAL_ERR_RANGE);
	tk_journal_free(&j);
}

/* The latest checkpoint is the stored one of size, byte for byte. */
static void
latest_is_the_stored_one(struct tk_journal *j, uint64_t size)
{
	char *latest = NULL, *stored = NULL;
	size_t a = 0, b = 0;

	assert_int_equal(tk_journal_checkpoint(j, 0, &latest, &a), 0);
	assert_int_equal(tk_journal_checkpoint(j, size, &stored, &b), 0);
	assert_int_equal(a, b);
	assert_memory_equal(latest, stored, a);
	free(latest);
	free(stored);
}

static void
checkpoint_is_a_c2sp_note_signed_by_the_audit_key(void **state)
{
	struct tk_note_verifier *v = NULL;
	struct tk_checkpoint *cp = NULL;
	struct tk_journal *j = NULL;
	EVP_PKEY *pub = NULL;
	char *note;
	size_t len;

	(void)state;
	assert_int_equal(jt_open(&T, "note.db", 0, &j), 0);
	assert_int_equal(jt_append(j, 1, "note", NULL), 0);
	assert_int_equal(tk_journal_checkpoint(j, 0, &note, &len), 0);
	assert_int_equal(strncmp(note, JT_ORIGIN "\n1\n",
	    strlen(JT_ORIGIN) + 3), 0);
	assert_non_null(strstr(note, "\n\n\xe2\x80\x94 " JT_ORIGIN " "));
	assert_int_equal(tk_signer_public_key(T.signer, TK_KEY_AUDIT, &pub),
	    0);
	assert_int_equal(tk_note_verifier_from_pkey(JT_ORIGIN, pub, &v), 0);
	assert_int_equal(tk_note_verifier_type(v), TK_NOTE_ECDSA);
	assert_int_equal(tk_checkpoint_open(note, len, &v, 1, JT_ORIGIN,
	    &cp), 0);
	assert_int_equal(cp->size, 1);
	tk_checkpoint_free(&cp);
	free(note);
	tk_note_verifier_free(&v);
	EVP_PKEY_free(pub);
	latest_is_the_stored_one(j, 1);
	assert_int_equal(jt_append(j, 1, "note", NULL), 0);
	latest_is_the_stored_one(j, 2);
	tk_journal_free(&j);
	/* Kept in memory, and read back at open. */
	assert_int_equal(jt_open(&T, "note.db", 0, &j), 0);
	latest_is_the_stored_one(j, 2);
	tk_journal_free(&j);
	assert_int_equal(jt_open(&T, "empty-note.db", 0, &j), 0);
	assert_int_equal(tk_journal_checkpoint(j, 0, &note, &len),
	    TK_JOURNAL_ERR_RANGE);
	tk_journal_free(&j);
}

struct worker {
	struct tk_journal *j;
	int id, n, failures;
	uint64_t *acked;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t idx;
	int i;

	for (i = 0; i < w->n; i++) {
		if (jt_append(w->j, (int64_t)w->id * 100000 + i, "thread",
		    &idx) != 0) {
			w->failures++;
			continue;
		}
		w->acked[i] = idx;
	}
	return NULL;
}

/* Appends n per thread from nthreads threads; returns the checkpoints. */
static uint64_t
append_concurrently(struct tk_journal *j, int nthreads, int n,
    uint64_t **acked_out)
{
	pthread_t th[16];
	struct worker w[16];
	uint64_t before, after, *acked;
	int i;

	assert_true(nthreads <= 16);
	acked = calloc((size_t)(nthreads * n), sizeof(*acked));
	assert_non_null(acked);
	assert_int_equal(tk_journal_checkpoint_count(j, &before), 0);
	for (i = 0; i < nthreads; i++) {
		w[i].j = j;
		w[i].id = i;
		w[i].n = n;
		w[i].failures = 0;
		w[i].acked = acked + i * n;
		assert_int_equal(pthread_create(&th[i], NULL, worker_main,
		    &w[i]), 0);
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	assert_int_equal(tk_journal_checkpoint_count(j, &after), 0);
	*acked_out = acked;
	return after - before;
}

static void
concurrent_appends_are_all_present_and_the_export_verifies(void **state)
{
	struct tk_export_report rep;
	struct tk_journal *j = NULL;
	uint64_t *acked, size, k;
	uint8_t *leaf, *seen;
	size_t len;
	char want[64];
	int i, t;

	(void)state;
	assert_int_equal(jt_open(&T, "conc.db", 0, &j), 0);
	(void)append_concurrently(j, 8, 100, &acked);
	assert_int_equal(tk_journal_size(j, &size), 0);
	assert_int_equal(size, 800);
	seen = calloc(800, 1);
	for (t = 0; t < 8; t++)
		for (i = 0; i < 100; i++) {
			k = acked[t * 100 + i];
			assert_true(k < 800);
			assert_int_equal(seen[k], 0);	/* indices unique */
			seen[k] = 1;
			assert_int_equal(tk_journal_entry_get(j, k, &leaf,
			    &len), 0);
			snprintf(want, sizeof(want), "{\"seq\":%d,",
			    t * 100000 + i);
			assert_non_null(strstr((char *)leaf, want));
			free(leaf);
		}
	assert_int_equal(jt_export_check(&T, j, "conc.export", 0, 0, 0, NULL,
	    &rep), 0);
	assert_int_equal(rep.end, 800);
	free(seen);
	free(acked);
	tk_journal_free(&j);
}

static void
concurrent_appends_share_checkpoints(void **state)
{
	struct tk_journal *j = NULL;
	uint64_t *acked, sigs;

	(void)state;
	assert_int_equal(jt_open(&T, "group.db", 0, &j), 0);
	sigs = append_concurrently(j, 8, 50, &acked);
	fprintf(stderr, "400 entries, %llu checkpoints\n",
	    (unsigned long long)sigs);
	assert_true(sigs < 400);
	assert_true(sigs > 0);
	free(acked);
	tk_journal_free(&j);
}

static void
max_batch_bounds_the_entries_per_checkpoint(void **state)
{
	struct tk_journal *j = NULL;
	uint64_t *acked, sigs;

	(void)state;
	assert_int_equal(jt_open(&T, "batch1.db", 1, &j), 0);
	sigs = append_concurrently(j, 4, 10, &acked);
	assert_int_equal(sigs, 40);
	free(acked);
	tk_journal_free(&j);
}

/* n entries {"seq":i,"tag":tag}; the caller frees with free_entries. */
static struct tk_journal_entry *
make_entries(size_t n, const char *tag)
{
	struct tk_journal_entry *e = calloc(n, sizeof(*e));
	size_t i;

	assert_non_null(e);
	for (i = 0; i < n; i++) {
		e[i].actor = "bench";
		e[i].action = "test.many";
		e[i].details = json_pack("{s:I, s:s}", "seq", (json_int_t)i,
		    "tag", tag);
		assert_non_null(e[i].details);
	}
	return e;
}

static void
free_entries(struct tk_journal_entry *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		json_decref((json_t *)(uintptr_t)e[i].details);
	free(e);
}

static void
append_many_is_consecutive_and_one_caller_fills_a_batch(void **state)
{
	struct tk_journal *j = NULL;
	struct tk_journal_entry *e = make_entries(200, "many");
	struct tk_export_report rep;
	uint64_t first = 99, size, cps;
	size_t acked = 0;

	(void)state;
	assert_int_equal(jt_open(&T, "many.db", 0, &j), 0);
	assert_int_equal(jt_append(j, 0, "before", NULL), 0);
	assert_int_equal(tk_journal_append_many(j, e, 200, &first, &acked),
	    0);
	assert_int_equal(first, 1);
	assert_int_equal(acked, 200);
	assert_int_equal(tk_journal_size(j, &size), 0);
	assert_int_equal(size, 201);
	/* One signature for the lone entry, at most two for the 200. */
	assert_int_equal(tk_journal_checkpoint_count(j, &cps), 0);
	assert_true(cps >= 2 && cps <= 3);
	assert_int_equal(jt_export_check(&T, j, "many-export", 0, 0, 0, NULL,
	    &rep), 0);
	assert_int_equal(rep.end, 201);
	free_entries(e, 200);
	tk_journal_free(&j);
}

static void
append_many_spans_batches_in_order(void **state)
{
	struct tk_journal *j = NULL;
	struct tk_journal_entry *e = make_entries(20, "span");
	uint64_t first = 99, cps;
	size_t acked = 0;
	uint8_t *leaf;
	size_t len;

	(void)state;
	assert_int_equal(jt_open(&T, "span.db", 8, &j), 0);
	assert_int_equal(tk_journal_append_many(j, e, 20, &first, &acked),
	    0);
	assert_int_equal(first, 0);
	assert_int_equal(acked, 20);
	assert_int_equal(tk_journal_checkpoint_count(j, &cps), 0);
	assert_int_equal(cps, 3);	/* 8 + 8 + 4 */
	assert_int_equal(tk_journal_entry_get(j, 19, &leaf, &len), 0);
	assert_non_null(strstr((char *)leaf, "\"seq\":19,"));
	free(leaf);
	free_entries(e, 20);
	tk_journal_free(&j);
}

static void
append_many_with_one_bad_entry_records_none(void **state)
{
	struct tk_journal *j = NULL;
	struct tk_journal_entry *e = make_entries(5, "bad");
	uint64_t size;
	size_t acked = 7;

	(void)state;
	assert_int_equal(jt_open(&T, "manybad.db", 0, &j), 0);
	e[3].actor = "";	/* actor is required */
	assert_int_equal(tk_journal_append_many(j, e, 5, NULL, &acked),
	    TK_JOURNAL_ERR_INVALID);
	assert_int_equal(acked, 0);
	assert_int_equal(tk_journal_size(j, &size), 0);
	assert_int_equal(size, 0);
	assert_int_equal(tk_journal_append_many(j, e, 0, NULL, NULL),
	    TK_JOURNAL_ERR_INVALID);
	free_entries(e, 5);
	tk_journal_free(&j);
}

/*
 * Whether process pid runs twokey-signer: some word of its command line
 * ends in it. Not its name (comm): a program run under valgrind is
 * named after valgrind's tool, with the program among its arguments.
 */
static int
runs_signer(pid_t pid)
{
	char path[64], buf[4096], *w;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/cmdline", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (w = buf; w < buf + n; w += strlen(w) + 1) {
		const char *base = strrchr(w, '/');

		if (strcmp(base != NULL ? base + 1 : w, "twokey-signer") == 0)
			return 1;
	}
	return 0;
}

/*
 * The twokey-signer processes under task dir (a /proc/PID/task folder):
 * its children, and the children of a signer supervisor among them.
 */
static int
signers_under(const char *dir, pid_t *out, int max, int depth)
{
	char path[384], comm[64], buf[4096], *p, *end;
	struct dirent *d;
	FILE *f;
	DIR *dp;
	int n = 0;
	long v;

	if ((dp = opendir(dir)) == NULL)
		return 0;
	while ((d = readdir(dp)) != NULL && n < max) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/children", dir,
		    d->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
		fclose(f);
		for (p = buf; *p != '\0' && n < max; p = end) {
			v = strtol(p, &end, 10);
			if (end == p)
				break;
			snprintf(path, sizeof(path), "/proc/%ld/comm", v);
			if ((f = fopen(path, "r")) == NULL)
				continue;
			comm[0] = '\0';
			if (fgets(comm, sizeof(comm), f) == NULL)
				comm[0] = '\0';
			fclose(f);
			if (runs_signer((pid_t)v))
				out[n++] = (pid_t)v;
			else if (depth == 0 &&
			    strncmp(comm, "twokey-supv", 11) == 0) {
				snprintf(path, sizeof(path), "/proc/%ld/task",
				    v);
				n += signers_under(path, out + n, max - n, 1);
			}
		}
	}
	closedir(dp);
	return n;
}

/* The pids of our twokey-signer processes (from /proc). */
static int
signer_pids(pid_t *out, int max)
{
	return signers_under("/proc/self/task", out, max, 0);
}

struct failer {
	struct tk_journal *j;
	int seq;
	int rc;
	uint64_t idx;
};

static void *
failer_main(void *arg)
{
	struct failer *f = arg;

	f->rc = jt_append(f->j, f->seq, "during-stop", &f->idx);
	return NULL;
}

/* 1 if some entry of j holds details {"seq": seq, ...}. */
static int
has_seq(struct tk_journal *j, int seq)
{
	uint64_t size, i;
	uint8_t *leaf;
	size_t len;
	char want[48];
	int found = 0;

	snprintf(want, sizeof(want), "{\"seq\":%d,", seq);
	assert_int_equal(tk_journal_size(j, &size), 0);
	for (i = 0; i < size && !found; i++) {
		assert_int_equal(tk_journal_entry_get(j, i, &leaf, &len), 0);
		found = strstr((char *)leaf, want) != NULL;
		free(leaf);
	}
	return found;
}

/*
 * The signer is stopped (SIGSTOP) so the signature times out. The batch
 * in flight fails as a whole and leaves nothing; appenders that queued
 * behind it may be signed by the restarted signer. Whatever happened,
 * the journal holds exactly the acknowledged entries.
 */
static void
signer_failure_fails_every_appender_and_records_nothing(void **state)
{
	struct tk_export_report rep;
	struct tk_journal *j = NULL;
	struct failer f[4];
	pthread_t th[4];
	pid_t pids[8];
	EVP_PKEY *pub = NULL;
	uint64_t size, cps, cps_after, idx;
	int i, n, ok = 0;

	(void)state;
	assert_int_equal(jt_open(&T, "fail.db", 0, &j), 0);
	assert_int_equal(jt_append(j, 1, "before", NULL), 0);
	assert_int_equal(tk_journal_checkpoint_count(j, &cps), 0);
	n = signer_pids(pids, 8);
	assert_true(n >= 1);
	for (i = 0; i < n; i++)
		kill(pids[i], SIGSTOP);
	for (i = 0; i < 4; i++) {
		f[i].j = j;
		f[i].seq = 1000 + i;
		assert_int_equal(pthread_create(&th[i], NULL, failer_main,
		    &f[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_true(f[i].rc == 0 || f[i].rc == TK_JOURNAL_ERR_SIGN);
		ok += f[i].rc == 0;
	}
	for (i = 0; i < n; i++)
		kill(pids[i], SIGCONT);
	assert_true(ok < 4);			/* the stopped batch failed */
	assert_int_equal(tk_journal_size(j, &size), 0);
	assert_int_equal(size, 1 + (uint64_t)ok);
	assert_int_equal(tk_journal_checkpoint_count(j, &cps_after), 0);
	assert_true(cps_after - cps <= (uint64_t)ok);
	for (i = 0; i < 4; i++)
		assert_int_equal(has_seq(j, f[i].seq), f[i].rc == 0);
	/* The failed entries left no trace: the next append takes the next
	 * index (the signer was restarted) and the journal verifies. */
	assert_int_equal(jt_append(j, 2, "after", &idx), 0);
	assert_int_equal(idx, size);
	assert_int_equal(jt_export_check(&T, j, "fail.export", 0, 0, 0, NULL,
	    &rep), 0);
	assert_int_equal(rep.end, size + 1);
	tk_journal_free(&j);
	/* The signer restarted from the journal's writer thread outlives
	 * that thread (it belongs to the caller). */
	assert_int_equal(tk_signer_public_key(T.signer, TK_KEY_AUDIT, &pub),
	    0);
	EVP_PKEY_free(pub);
}

static void
proofs_verify_against_every_checkpoint(void **state)
{
	tk_merkle_hash proof[TK_MERKLE_MAX_PROOF], leafh;
	struct tk_checkpoint *a = NULL, *b = NULL;
	struct tk_note_verifier *v = NULL;
	struct tk_tlog_proof *tp = NULL;
	struct tk_journal *j = NULL;
	EVP_PKEY *pub = NULL;
	uint8_t *leaf;
	char *na, *nb, *text;
	size_t len, la, lb, np, tl;
	uint64_t i, m, n;

	(void)state;
	assert_int_equal(jt_open(&T, "proof.db", 0, &j), 0);
	for (i = 0; i < 13; i++)
		assert_int_equal(jt_append(j, (int64_t)i, "proof", NULL), 0);
	assert_int_equal(tk_signer_public_key(T.signer, TK_KEY_AUDIT, &pub),
	    0);
	assert_int_equal(tk_note_verifier_from_pkey(JT_ORIGIN, pub, &v), 0);
	for (m = 1; m <= 13; m++) {
		assert_int_equal(tk_journal_checkpoint(j, m, &na, &la), 0);
		assert_int_equal(tk_checkpoint_open(na, la, &v, 1, JT_ORIGIN,
		    &a), 0);
		for (i = 0; i < m; i++) {
			assert_int_equal(tk_journal_entry_get(j, i, &leaf,
			    &len), 0);
			assert_int_equal(tk_merkle_leaf_hash(leaf, len, leafh),
			    0);
			assert_int_equal(tk_journal_inclusion_proof(j, i, m,
			    proof, &np), 0);
			assert_int_equal(tk_merkle_verify_inclusion(i, m,
			    leafh, proof, np, a->root), 0);
			free(leaf);
		}
		for (n = m; n <= 13; n++) {
			assert_int_equal(tk_journal_checkpoint(j, n, &nb, &lb),
			    0);
			assert_int_equal(tk_checkpoint_open(nb, lb, &v, 1,
			    JT_ORIGIN, &b), 0);
			assert_int_equal(tk_journal_consistency_proof(j, m, n,
			    proof, &np), 0);
			assert_int_equal(tk_merkle_verify_consistency(m, n,
			    a->root, b->root, proof, np), 0);
			tk_checkpoint_free(&b);
			free(nb);
		}
		tk_checkpoint_free(&a);
		free(na);
	}
	/* A tlog-proof verifies on its own. */
	assert_int_equal(tk_journal_tlog_proof(j, 4, 0, &text, &tl), 0);
	assert_int_equal(tk_tlog_proof_parse(text, tl, &tp), 0);
	assert_int_equal(tk_journal_entry_get(j, 4, &leaf, &len), 0);
	assert_int_equal(tk_tlog_proof_verify(tp, leaf, len, &v, 1, JT_ORIGIN,
	    NULL), 0);
	free(leaf);
	free(text);
	tk_tlog_proof_free(&tp);
	assert_int_equal(tk_journal_inclusion_proof(j, 13, 13, proof, &np),
	    TK_JOURNAL_ERR_RANGE);
	tk_note_verifier_free(&v);
	EVP_PKEY_free(pub);
	tk_journal_free(&j);
}

static void
reopen_resumes_the_tree_and_refuses_another_origin(void **state)
{
	struct tk_journal_config cfg;
	struct tk_export_report rep;
	struct tk_journal *j = NULL;
	uint64_t idx;
	char path[600];
	int i;

	(void)state;
	assert_int_equal(jt_open(&T, "reopen.db", 0, &j), 0);
	for (i = 0; i < 6; i++)
		assert_int_equal(jt_append(j, i, "first", NULL), 0);
	tk_journal_free(&j);
	assert_int_equal(jt_open(&T, "reopen.db", 0, &j), 0);
	assert_int_equal(jt_append(j, 6, "second", &idx), 0);
	assert_int_equal(idx, 6);
	assert_int_equal(jt_export_check(&T, j, "reopen.export", 0, 0, 0,
	    NULL, &rep), 0);
	tk_journal_free(&j);
	jt_path(&T, "reopen.db", path, sizeof(path));
	memset(&cfg, 0, sizeof(cfg));
	cfg.path = path;
	cfg.origin = "twokey/other/journal";
	cfg.signer = T.signer;
	assert_int_equal(tk_journal_open(&cfg, &j), TK_JOURNAL_ERR_ORIGIN);
	assert_null(j);
	cfg.origin = "has space";
	assert_int_equal(tk_journal_open(&cfg, &j), TK_JOURNAL_ERR_INVALID);
}

static void
range_export_rounds_up_and_since_proves_growth(void **state)
{
	struct tk_export_report rep;
	struct tk_journal *j = NULL;
	uint64_t *acked;
	char *saved, *other;
	size_t len;
	int i;

	(void)state;
	assert_int_equal(jt_open(&T, "range.db", 0, &j), 0);
	for (i = 0; i < 9; i++)
		assert_int_equal(jt_append(j, i, "range", NULL), 0);
	assert_int_equal(tk_journal_checkpoint(j, 9, &saved, &len), 0);
	assert_int_equal(tk_journal_checkpoint(j, 4, &other, &len), 0);
	(void)append_concurrently(j, 4, 20, &acked);
	free(acked);
	/* A middle range, its end rounded up to a covering checkpoint. */
	assert_int_equal(jt_export_check(&T, j, "range.a", 5, 40, 0, saved,
	    &rep), 0);
	assert_int_equal(rep.first, 5);
	assert_true(rep.end >= 40);
	assert_int_equal(jt_export_check(&T, j, "range.b", 3, 0,
	    TK_JOURNAL_EXPORT_PROOFS, saved, &rep), 0);
	assert_int_equal(rep.end, 89);
	/* A saved checkpoint before the range cannot be linked: refused. */
	assert_int_equal(jt_export_check(&T, j, "range.c", 10, 0, 0, other,
	    &rep), TK_EXPORT_ERR_FORK);
	free(saved);
	free(other);
	tk_journal_free(&j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    leaf_is_canonical_ordered_ascii_with_sorted_details),
		cmocka_unit_test(bad_entries_are_refused_and_record_nothing),
		cmocka_unit_test(
		    append_returns_index_and_leaf_reads_back_verbatim),
		cmocka_unit_test(
		    checkpoint_is_a_c2sp_note_signed_by_the_audit_key),
		cmocka_unit_test(
		    concurrent_appends_are_all_present_and_the_export_verifies),
		cmocka_unit_test(concurrent_appends_share_checkpoints),
		cmocka_unit_test(max_batch_bounds_the_entries_per_checkpoint),
		cmocka_unit_test(
		    append_many_is_consecutive_and_one_caller_fills_a_batch),
		cmocka_unit_test(append_many_spans_batches_in_order),
		cmocka_unit_test(append_many_with_one_bad_entry_records_none),
		cmocka_unit_test(
		    signer_failure_fails_every_appender_and_records_nothing),
		cmocka_unit_test(proofs_verify_against_every_checkpoint),
		cmocka_unit_test(
		    reopen_resumes_the_tree_and_refuses_another_origin),
		cmocka_unit_test(
		    range_export_rounds_up_and_since_proves_growth),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
