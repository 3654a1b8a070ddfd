/*
 * Specifications of the export checker: every single-entry edit,
 * deletion, swap of neighbours and truncation of a 1,000-entry export is
 * caught and named by entry; tampered checkpoints and keys are named;
 * bad exports give a clear error; the real twokey-verify agrees.
 *
 * The 1,000 entries are appended one at a time, so each has its own
 * checkpoint and an edit is named by the checkpoint that fails; a second
 * export with batches names edits through its per-entry proofs. The
 * mutations are applied to the loaded export in memory and re-checked
 * with tk_export_checker_entries, so that thousands of cases run fast.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "twokey/checkpoint.h"
#include "twokey/common.h"
#include "twokey/export.h"
#include "twokey/journal.h"
#include "twokey/note.h"
#include "journal_testutil.h"

#define N 1000

static struct jt T;
static struct tk_export *E;		/* sequential, no proofs */
static struct tk_export_checker *C;
static struct tk_export *B;		/* batched, with proofs */
static struct tk_export_checker *BC;
static char edir[600], bdir[600];

static int
load_and_open(const char *dir, struct tk_export **e,
    struct tk_export_checker **c)
{
	struct tk_export_trust t;
	struct tk_export_report rep;

	memset(&t, 0, sizeof(t));
	t.root = T.root;
	if (tk_export_load(dir, e, &rep) != 0 ||
	    tk_export_checker_new(*e, &t, c, &rep) != 0) {
		fprintf(stderr, "%s: %s\n", dir, rep.what);
		return -1;
	}
	return 0;
}

static void *
batch_worker(void *arg)
{
	struct tk_journal *j = arg;
	int i;

	for (i = 0; i < 40; i++)
		if (jt_append(j, i, "batched", NULL) != 0)
			return arg;
	return NULL;
}

static int
make_batched(void)
{
	struct tk_journal *j = NULL;
	pthread_t th[6];
	void *bad;
	int i, r = -1;

	if (jt_open(&T, "batched.db", 0, &j) != 0)
		return -1;
	for (i = 0; i < 6; i++)
		pthread_create(&th[i], NULL, batch_worker, j);
	for (i = 0; i < 6; i++) {
		pthread_join(th[i], &bad);
		if (bad != NULL)
			goto out;
	}
	jt_path(&T, "batched.export", bdir, sizeof(bdir));
	r = tk_journal_export(j, 0, 0, bdir, TK_JOURNAL_EXPORT_PROOFS);
out:
	tk_journal_free(&j);
	return r;
}

static int
group_setup(void **state)
{
	struct tk_journal *j = NULL;
	int i;

	(void)state;
	if (jt_setup(&T, 0) != 0 || jt_open(&T, "mut.db", 0, &j) != 0)
		return -1;
	for (i = 0; i < N; i++)
		if (jt_append(j, i, "mutation", NULL) != 0)
			return -1;
	jt_path(&T, "mut.export", edir, sizeof(edir));
	if (tk_journal_export(j, 0, 0, edir, 0) != 0)
		return -1;
	tk_journal_free(&j);
	if (make_batched() != 0)
		return -1;
	if (load_and_open(edir, &E, &C) != 0 ||
	    load_and_open(bdir, &B, &BC) != 0)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	tk_export_checker_free(&C);
	tk_export_checker_free(&BC);
	tk_export_free(&E);
	tk_export_free(&B);
	jt_teardown(&T);
	return 0;
}

static void
untouched_export_verifies_and_summarises(void **state)
{
	struct tk_export_report rep;

	(void)state;
	assert_int_equal(tk_export_checker_entries(C, E, &rep), 0);
	assert_int_equal(rep.first, 0);
	assert_int_equal(rep.end, N);
	assert_int_equal(rep.checkpoints, N);
	assert_int_equal(rep.latest_size, N);
	assert_int_equal(strlen(rep.first_time), 24);
	assert_true(strcmp(rep.first_time, rep.last_time) <= 0);
	assert_int_equal(tk_export_checker_entries(BC, B, &rep), 0);
	assert_int_equal(rep.end, 240);
	assert_true(rep.checkpoints < 240);
}

/* Runs the entry checks on e with leaves replaced by l (n of them). */
static int
check_leaves(struct tk_export_checker *c, struct tk_export *e,
    struct tk_export_leaf *l, size_t n, struct tk_export_report *rep)
{
	struct tk_export_leaf *saved = e->leaves;
	size_t saved_n = e->nleaves;
	int r;

	e->leaves = l;
	e->nleaves = n;
	r = tk_export_checker_entries(c, e, rep);
	e->leaves = saved;
	e->nleaves = saved_n;
	return r;
}

static void
every_single_entry_edit_is_named(void **state)
{
	struct tk_export_report rep;
	struct tk_export_leaf *l;
	uint8_t buf[4096];
	size_t i, at;

	(void)state;
	l = malloc(N * sizeof(*l));
	memcpy(l, E->leaves, N * sizeof(*l));
	for (i = 0; i < N; i++) {
		/* Walk the edited byte over every position of the leaves:
		 * the index, the time, the fields and the details. */
		assert_true(E->leaves[i].len <= sizeof(buf));
		memcpy(buf, E->leaves[i].data, E->leaves[i].len);
		at = (i * 7) % E->leaves[i].len;
		buf[at] = buf[at] == '7' ? '8' : '7';
		l[i].data = buf;
		assert_int_not_equal(check_leaves(C, E, l, N, &rep), 0);
		assert_int_equal(rep.err, TK_EXPORT_ERR_EDITED);
		assert_int_equal(rep.bad_entry, i);
		l[i] = E->leaves[i];
	}
	free(l);
}

static void
every_single_entry_deletion_is_named(void **state)
{
	struct tk_export_report rep;
	struct tk_export_leaf *l;
	size_t i;

	(void)state;
	l = malloc(N * sizeof(*l));
	for (i = 0; i < N; i++) {
		memcpy(l, E->leaves, i * sizeof(*l));
		memcpy(l + i, E->leaves + i + 1, (N - i - 1) * sizeof(*l));
		assert_int_not_equal(check_leaves(C, E, l, N - 1, &rep), 0);
		assert_int_equal(rep.bad_entry, i);
		/* The last entry gone is a truncation by one. */
		assert_int_equal(rep.err, i + 1 < N ? TK_EXPORT_ERR_DELETED :
		    TK_EXPORT_ERR_TRUNCATED);
	}
	free(l);
}

static void
every_swap_of_neighbours_is_named(void **state)
{
	struct tk_export_report rep;
	struct tk_export_leaf *l, tmp;
	size_t i;

	(void)state;
	l = malloc(N * sizeof(*l));
	memcpy(l, E->leaves, N * sizeof(*l));
	for (i = 0; i + 1 < N; i++) {
		tmp = l[i];
		l[i] = l[i + 1];
		l[i + 1] = tmp;
		assert_int_equal(check_leaves(C, E, l, N, &rep),
		    TK_EXPORT_ERR_REORDERED);
		assert_int_equal(rep.bad_entry, i);
		l[i + 1] = l[i];
		l[i] = tmp;
	}
	free(l);
}

static void
every_truncation_is_named(void **state)
{
	struct tk_export_report rep;
	size_t keep;

	(void)state;
	for (keep = 0; keep < N; keep++) {
		assert_int_equal(check_leaves(C, E, E->leaves, keep, &rep),
		    TK_EXPORT_ERR_TRUNCATED);
		assert_int_equal(rep.bad_entry, keep);
	}
}

static void
an_inserted_entry_is_named(void **state)
{
	struct tk_export_report rep;
	struct tk_export_leaf *l;

	(void)state;
	l = malloc((N + 1) * sizeof(*l));
	memcpy(l, E->leaves, 500 * sizeof(*l));
	l[500] = E->leaves[499];			/* a copy of 499 */
	memcpy(l + 501, E->leaves + 500, (N - 500) * sizeof(*l));
	assert_int_equal(check_leaves(C, E, l, N + 1, &rep),
	    TK_EXPORT_ERR_INSERTED);
	assert_int_equal(rep.bad_entry, 500);
	/* And one added after the last entry. */
	memcpy(l, E->leaves, N * sizeof(*l));
	l[N] = E->leaves[N - 1];
	assert_int_not_equal(check_leaves(C, E, l, N + 1, &rep), 0);
	assert_int_equal(rep.bad_entry, N);
	free(l);
}

static void
an_edit_inside_a_batch_is_named_by_its_proof(void **state)
{
	struct tk_export_report rep;
	struct tk_export_leaf *l;
	uint8_t buf[4096];
	size_t i, n = B->nleaves;

	(void)state;
	l = malloc(n * sizeof(*l));
	memcpy(l, B->leaves, n * sizeof(*l));
	for (i = 0; i < n; i += 7) {
		memcpy(buf, B->leaves[i].data, B->leaves[i].len);
		buf[B->leaves[i].len - 3] ^= 0x01;	/* inside details */
		l[i].data = buf;
		assert_int_equal(check_leaves(BC, B, l, n, &rep),
		    TK_EXPORT_ERR_EDITED);
		assert_int_equal(rep.bad_entry, i);
		l[i] = B->leaves[i];
	}
	free(l);
}

static void
a_proof_file_for_another_entry_is_named(void **state)
{
	struct tk_export_report rep;
	char *t3 = B->proofs[3].text;
	size_t l3 = B->proofs[3].len;

	(void)state;
	B->proofs[3].text = B->proofs[4].text;
	B->proofs[3].len = B->proofs[4].len;
	assert_int_equal(tk_export_checker_entries(BC, B, &rep),
	    TK_EXPORT_ERR_PROOF);
	assert_int_equal(rep.bad_entry, 3);
	B->proofs[3].text = t3;
	B->proofs[3].len = l3;
	assert_int_equal(tk_export_checker_entries(BC, B, &rep), 0);
}

static void pinned(struct tk_export_trust *t);

/* Checks export x against a checkpoint saved from another export. */
static int
check_since(struct tk_export *x, const struct tk_export_note *saved,
    struct tk_export_report *rep)
{
	struct tk_export_trust t;

	pinned(&t);
	t.since = saved->text;
	t.since_len = saved->len;
	return tk_export_check(x, &t, rep);
}

static void
a_log_shorter_than_the_saved_checkpoint_has_shrunk(void **state)
{
	struct tk_export_report rep;

	(void)state;
	/* Same key and origin, 240 entries; the auditor saw 1,000. */
	assert_int_equal(check_since(B, &E->notes[N - 1], &rep),
	    TK_EXPORT_ERR_SHRUNK);
	assert_int_equal(check_since(E, &E->notes[N - 1], &rep), 0);
	assert_int_equal(check_since(E, &E->notes[17], &rep), 0);
}

static void
a_saved_checkpoint_from_another_history_is_a_fork(void **state)
{
	struct tk_export_report rep;

	(void)state;
	/* Size 240 in the sequential log, checked against the batched log
	 * whose own checkpoint 240 has another root. */
	assert_int_equal(E->notes[239].size, 240);
	assert_int_equal(check_since(B, &E->notes[239], &rep),
	    TK_EXPORT_ERR_FORK);
	assert_int_equal(rep.bad_checkpoint, 240);
}

/* Replaces note k's text for one phase-one check; returns the error. */
static int
check_with_note(struct tk_export *e, size_t k, char *text,
    const struct tk_export_trust *t, struct tk_export_report *rep)
{
	struct tk_export_checker *c = NULL;
	char *saved = e->notes[k].text;
	size_t saved_len = e->notes[k].len;
	int r;

	e->notes[k].text = text;
	e->notes[k].len = strlen(text);
	r = tk_export_checker_new(e, t, &c, rep);
	tk_export_checker_free(&c);
	e->notes[k].text = saved;
	e->notes[k].len = saved_len;
	return r;
}

static void
pinned(struct tk_export_trust *t)
{
	memset(t, 0, sizeof(*t));
	t->root = T.root;
}

static void
an_edited_checkpoint_has_a_bad_signature(void **state)
{
	struct tk_export_trust t;
	struct tk_export_report rep;
	char *text;

	(void)state;
	pinned(&t);
	text = strdup(E->notes[41].text);
	text[strlen(JT_ORIGIN) + 4] ^= 0x01;	/* a byte of the root */
	assert_int_equal(check_with_note(E, 41, text, &t, &rep),
	    TK_EXPORT_ERR_BAD_SIG);
	assert_int_equal(rep.bad_checkpoint, 42);
	free(text);
}

static void
a_checkpoint_signed_by_another_key_is_an_unknown_key(void **state)
{
	struct tk_export_trust t;
	struct tk_export_report rep;
	uint8_t der[80];
	size_t der_len = sizeof(der);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY *k;
	char *note, *body;
	size_t len, blen;

	(void)state;
	pinned(&t);
	k = EVP_EC_gen("P-256");
	assert_non_null(k);
	/* The same checkpoint text, signed by a key of our own. */
	body = strndup(E->notes[9].text, (size_t)(strstr(E->notes[9].text,
	    "\n\n") - E->notes[9].text + 1));
	blen = strlen(body);
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k),
	    1);
	assert_int_equal(EVP_DigestSign(md, der, &der_len, (uint8_t *)body,
	    blen), 1);
	EVP_MD_CTX_free(md);
	assert_int_equal(tk_note_format_ecdsa(body, blen, JT_ORIGIN, k, der,
	    der_len, &note, &len), 0);
	assert_int_equal(check_with_note(E, 9, note, &t, &rep),
	    TK_EXPORT_ERR_UNKNOWN_KEY);
	assert_int_equal(rep.bad_checkpoint, 10);
	free(note);
	free(body);
	EVP_PKEY_free(k);
}

static void
a_checkpoint_under_another_size_is_named(void **state)
{
	struct tk_export_trust t;
	struct tk_export_report rep;

	(void)state;
	pinned(&t);
	/* checkpoints/21 holding the checkpoint of size 20. */
	assert_int_equal(check_with_note(E, 20, E->notes[19].text, &t, &rep),
	    TK_EXPORT_ERR_REORDERED);
	assert_int_equal(rep.bad_checkpoint, 21);
}

static void
a_deleted_checkpoint_breaks_the_consistency_chain(void **state)
{
	struct tk_export_checker *c = NULL;
	struct tk_export_trust t;
	struct tk_export_report rep;
	struct tk_export_note saved = E->notes[500];

	(void)state;
	pinned(&t);
	memmove(E->notes + 500, E->notes + 501,
	    (E->nnotes - 501) * sizeof(*E->notes));
	E->nnotes--;
	assert_int_equal(tk_export_checker_new(E, &t, &c, &rep),
	    TK_EXPORT_ERR_INCONSISTENT);
	assert_int_equal(rep.bad_checkpoint, 502);
	E->nnotes++;
	memmove(E->notes + 501, E->notes + 500,
	    (E->nnotes - 501) * sizeof(*E->notes));
	E->notes[500] = saved;
	assert_int_equal(tk_export_checker_new(E, &t, &c, &rep), 0);
	tk_export_checker_free(&c);
}

static X509 *
other_root(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"not our root", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	X509_sign(x, k, EVP_sha256());
	EVP_PKEY_free(k);
	return x;
}

static void
a_wrong_root_or_fingerprint_breaks_the_chain(void **state)
{
	struct tk_export_checker *c = NULL;
	struct tk_export_trust t;
	struct tk_export_report rep;
	uint8_t fp[32];
	unsigned int fplen;
	X509 *other = other_root();

	(void)state;
	memset(&t, 0, sizeof(t));
	t.root = other;
	assert_int_equal(tk_export_checker_new(E, &t, &c, &rep),
	    TK_EXPORT_ERR_CHAIN);
	memset(&t, 0, sizeof(t));
	assert_int_equal(X509_digest(T.root, EVP_sha256(), fp, &fplen), 1);
	t.fingerprint = fp;
	assert_int_equal(tk_export_checker_new(E, &t, &c, &rep), 0);
	tk_export_checker_free(&c);
	fp[5] ^= 1;
	assert_int_equal(tk_export_checker_new(E, &t, &c, &rep),
	    TK_EXPORT_ERR_CHAIN);
	X509_free(other);
}

static void
a_foreign_journal_key_is_refused(void **state)
{
	struct tk_export_checker *c = NULL;
	struct tk_export_trust t;
	struct tk_export_report rep;
	EVP_PKEY *k = EVP_EC_gen("P-256");
	char *saved = E->journal_pem, *pem;
	size_t saved_len = E->journal_pem_len;
	long len;
	BIO *b = BIO_new(BIO_s_mem());

	(void)state;
	pinned(&t);
	PEM_write_bio_PUBKEY(b, k);
	len = BIO_get_mem_data(b, &pem);
	E->journal_pem = pem;
	E->journal_pem_len = (size_t)len;
	assert_int_equal(tk_export_checker_new(E, &t, &c, &rep),
	    TK_EXPORT_ERR_KEY);
	E->journal_pem = saved;
	E->journal_pem_len = saved_len;
	BIO_free(b);
	EVP_PKEY_free(k);
}

/* A fresh copy of the sequential export under tmp/name. */
static void
copy_export(const char *name, char *out, size_t len)
{
	char *argv[] = { "/bin/cp", "-a", edir, out, NULL };
	char msg[256];

	jt_path(&T, name, out, len);
	argv[3] = out;
	assert_int_equal(jt_run(argv, msg, sizeof(msg)), 0);
}

static void
write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[800];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* Loads and checks dir; returns the error and fills rep. */
static int
check_dir(const char *dir, struct tk_export_report *rep)
{
	struct tk_export_trust t;
	struct tk_export *e = NULL;
	int r;

	pinned(&t);
	if ((r = tk_export_load(dir, &e, rep)) == 0)
		r = tk_export_check(e, &t, rep);
	tk_export_free(&e);
	return r;
}

static void
bad_exports_give_a_clear_error(void **state)
{
	struct tk_export_report rep;
	char dir[600], path[800], *big;
	static const char garbage[] = "\x00\xff garbage \x01\n";

	(void)state;
	/* entries.jsonl cut in the middle of a line */
	copy_export("bad.cut", dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/entries.jsonl", dir);
	assert_int_equal(truncate(path, 1000), 0);
	assert_int_equal(check_dir(dir, &rep), TK_EXPORT_ERR_MALFORMED);
	assert_non_null(strstr(rep.what, "entries.jsonl"));
	/* garbage manifest, prefix, checkpoint, consistency proof, key */
	copy_export("bad.manifest", dir, sizeof(dir));
	write_file(dir, "export.json", garbage, sizeof(garbage) - 1);
	assert_int_equal(check_dir(dir, &rep), TK_EXPORT_ERR_MALFORMED);
	copy_export("bad.note", dir, sizeof(dir));
	write_file(dir, "checkpoints/7", garbage, sizeof(garbage) - 1);
	assert_int_equal(check_dir(dir, &rep), TK_EXPORT_ERR_MALFORMED);
	assert_int_equal(rep.bad_checkpoint, 7);
	copy_export("bad.cons", dir, sizeof(dir));
	write_file(dir, "consistency/7-8", garbage, sizeof(garbage) - 1);
	assert_int_equal(check_dir(dir, &rep), TK_EXPORT_ERR_MALFORMED);
	copy_export("bad.key", dir, sizeof(dir));
	write_file(dir, "keys/audit.pem", garbage, sizeof(garbage) - 1);
	assert_int_equal(check_dir(dir, &rep), TK_EXPORT_ERR_MALFORMED);
	copy_export("bad.name", dir, sizeof(dir));
	write_file(dir, "checkpoints/007", garbage, sizeof(garbage) - 1);
	assert_int_equal(check_dir(dir, &rep), TK_EXPORT_ERR_MALFORMED);
	/* huge fields: a checkpoint over the limit, a 2 MiB entry */
	big = malloc(2 << 20);
	memset(big, 'a', 2 << 20);
	copy_export("bad.huge", dir, sizeof(dir));
	write_file(dir, "checkpoints/9", big, TK_EXPORT_MAX_SMALL + 1);
	assert_int_equal(check_dir(dir, &rep), TK_EXPORT_ERR_TOOBIG);
	copy_export("bad.leaf", dir, sizeof(dir));
	big[(2 << 20) - 1] = '\n';
	write_file(dir, "entries.jsonl", big, 2 << 20);
	assert_int_equal(check_dir(dir, &rep), TK_EXPORT_ERR_MALFORMED);
	free(big);
	/* nothing there */
	jt_path(&T, "no-such-export", dir, sizeof(dir));
	assert_int_equal(check_dir(dir, &rep), TK_EXPORT_ERR_IO);
	/* an empty folder */
	jt_path(&T, "empty-export", dir, sizeof(dir));
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(check_dir(dir, &rep), TK_EXPORT_ERR_MALFORMED);
}

/* Runs twokey-verify log on dir with extra args; returns the status. */
static int
cli(const char *dir, const char *opt, const char *val, char *out,
    size_t len)
{
	char prog[600];
	char *argv[] = { prog, "log", (char *)(uintptr_t)dir,
	    (char *)(uintptr_t)opt, (char *)(uintptr_t)val, NULL };

	snprintf(prog, sizeof(prog), "%s/twokey-verify",
	    getenv("TWOKEY_BUILD"));
	return jt_run(argv, out, len);
}

static void
twokey_verify_log_agrees(void **state)
{
	char out[4096], dir[600], fp[100], path[800];
	uint8_t d[32];
	unsigned int dl;
	FILE *f;

	(void)state;
	assert_int_equal(cli(edir, "--root", T.fx->root_pem, out,
	    sizeof(out)), 0);
	assert_non_null(strstr(out, "verified"));
	assert_non_null(strstr(out, "(1000)"));
	assert_int_equal(X509_digest(T.root, EVP_sha256(), d, &dl), 1);
	tk_hex_encode(d, 32, fp);
	assert_int_equal(cli(edir, "--fingerprint", fp, out, sizeof(out)), 0);
	fp[0] = fp[0] == 'a' ? 'b' : 'a';
	assert_int_equal(cli(edir, "--fingerprint", fp, out, sizeof(out)), 5);
	assert_non_null(strstr(out, "fingerprint"));
	/* an edited entry on disk is named */
	copy_export("cli.edit", dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/entries.jsonl", dir);
	f = fopen(path, "r+");
	assert_non_null(f);
	assert_int_equal(fseek(f, (long)(E->leaves[123].data -
	    E->entries_buf) + 60, SEEK_SET), 0);
	fputc('#', f);
	fclose(f);
	assert_int_equal(cli(dir, "--root", T.fx->root_pem, out,
	    sizeof(out)), 6);
	assert_non_null(strstr(out, "entry 123: edited"));
	/* usage */
	assert_int_equal(cli(edir, NULL, NULL, out, sizeof(out)), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(untouched_export_verifies_and_summarises),
		cmocka_unit_test(every_single_entry_edit_is_named),
		cmocka_unit_test(every_single_entry_deletion_is_named),
		cmocka_unit_test(every_swap_of_neighbours_is_named),
		cmocka_unit_test(every_truncation_is_named),
		cmocka_unit_test(an_inserted_entry_is_named),
		cmocka_unit_test(an_edit_inside_a_batch_is_named_by_its_proof),
		cmocka_unit_test(a_proof_file_for_another_entry_is_named),
		cmocka_unit_test(
		    a_log_shorter_than_the_saved_checkpoint_has_shrunk),
		cmocka_unit_test(
		    a_saved_checkpoint_from_another_history_is_a_fork),
		cmocka_unit_test(an_edited_checkpoint_has_a_bad_signature),
		cmocka_unit_test(
		    a_checkpoint_signed_by_another_key_is_an_unknown_key),
		cmocka_unit_test(a_checkpoint_under_another_size_is_named),
		cmocka_unit_test(
		    a_deleted_checkpoint_breaks_the_consistency_chain),
		cmocka_unit_test(a_wrong_root_or_fingerprint_breaks_the_chain),
		cmocka_unit_test(a_foreign_journal_key_is_refused),
		cmocka_unit_test(bad_exports_give_a_clear_error),
		cmocka_unit_test(twokey_verify_log_agrees),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
