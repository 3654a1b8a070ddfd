/*
 * Export checker, phase one: the trust chain (pinned root -> audit
 * certificate -> the key of every checkpoint), every checkpoint's
 * signature, and consistency between successive checkpoints. Phase two
 * (the entries) is in export_entries.c. The first failure is named.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "twokey/checkpoint.h"
#include "twokey/common.h"
#include "twokey/export.h"
#include "twokey/note.h"
#include "export_check.h"
#include "export_int.h"

void
tk_export_report_init(struct tk_export_report *rep)
{
	if (rep == NULL)
		return;
	memset(rep, 0, sizeof(*rep));
	rep->bad_entry = TK_EXPORT_NONE;
	rep->bad_checkpoint = TK_EXPORT_NONE;
}

int
tk_export_fail(struct tk_export_report *rep, int err, uint64_t entry,
    uint64_t checkpoint, const char *fmt, ...)
{
	va_list ap;

	if (rep == NULL || rep->err != 0)
		return err;
	rep->err = err;
	rep->bad_entry = entry;
	rep->bad_checkpoint = checkpoint;
	va_start(ap, fmt);
	vsnprintf(rep->what, sizeof(rep->what), fmt, ap);
	va_end(ap);
	return err;
}

static X509 *
pem_cert(const char *text, size_t len)
{
	X509 *x = NULL;
	BIO *b;

	if (len > INT32_MAX || (b = BIO_new_mem_buf(text, (int)len)) == NULL)
		return NULL;
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	return x;
}

static EVP_PKEY *
pem_pubkey(const char *text, size_t len)
{
	EVP_PKEY *k = NULL;
	BIO *b;

	if (len > INT32_MAX || (b = BIO_new_mem_buf(text, (int)len)) == NULL)
		return NULL;
	k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	BIO_free(b);
	return k;
}

/* The export's root must be the pinned one (or have its fingerprint). */
static int
check_root(const struct tk_export *e, const struct tk_export_trust *t,
    X509 *root, struct tk_export_report *rep)
{
	uint8_t fp[SHA256_DIGEST_LENGTH];
	unsigned int fplen = 0;

	if (t->root != NULL) {
		if (X509_cmp(t->root, root) != 0)
			return tk_export_fail(rep, TK_EXPORT_ERR_CHAIN,
			    TK_EXPORT_NONE, TK_EXPORT_NONE, "keys/root.pem is "
			    "not the pinned root certificate");
		return 0;
	}
	if (X509_digest(root, EVP_sha256(), fp, &fplen) != 1 ||
	    fplen != sizeof(fp) ||
	    CRYPTO_memcmp(fp, t->fingerprint, sizeof(fp)) != 0)
		return tk_export_fail(rep, TK_EXPORT_ERR_CHAIN,
		    TK_EXPORT_NONE, TK_EXPORT_NONE, "keys/root.pem does not "
		    "have the pinned SHA-256 fingerprint");
	(void)e;
	return 0;
}

/*
 * The audit certificate must chain to root. Validity dates are not
 * enforced: an auditor checks old journals years after the certificate
 * expired, and checkpoints carry no time to check them against.
 */
static int
check_chain(X509 *root, X509 *audit, struct tk_export_report *rep)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	int r = TK_EXPORT_ERR_NOMEM;

	if ((store = X509_STORE_new()) == NULL ||
	    X509_STORE_add_cert(store, root) != 1 ||
	    (ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, store, audit, NULL) != 1)
		goto out;
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME);
	if (X509_verify_cert(ctx) != 1) {
		r = tk_export_fail(rep, TK_EXPORT_ERR_CHAIN, TK_EXPORT_NONE,
		    TK_EXPORT_NONE, "keys/audit.pem does not chain to the "
		    "pinned root: %s", X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
		goto out;
	}
	r = 0;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return r;
}

/* journal.vkey and journal.pem must both be the certificate's key. */
static int
check_keys(struct tk_export_checker *c, const struct tk_export *e,
    EVP_PKEY *certkey, struct tk_export_report *rep)
{
	struct tk_note_verifier *vk = NULL;
	EVP_PKEY *pem = NULL;
	int r = TK_EXPORT_ERR_KEY;

	if ((pem = pem_pubkey(e->journal_pem, e->journal_pem_len)) == NULL ||
	    EVP_PKEY_eq(pem, certkey) != 1) {
		tk_export_fail(rep, r, TK_EXPORT_NONE, TK_EXPORT_NONE,
		    "keys/journal.pem is not the audit certificate's key");
		goto out;
	}
	if (tk_note_verifier_from_pkey(e->origin, certkey, &c->ver) != 0) {
		tk_export_fail(rep, r, TK_EXPORT_NONE, TK_EXPORT_NONE,
		    "the audit certificate's key is not a P-256 note key");
		goto out;
	}
	if (tk_note_verifier_from_vkey(e->vkey, e->vkey_len, &vk) != 0 ||
	    strcmp(tk_note_verifier_name(vk), e->origin) != 0 ||
	    tk_note_verifier_key_id(vk) != tk_note_verifier_key_id(c->ver) ||
	    tk_note_verifier_type(vk) != TK_NOTE_ECDSA) {
		tk_export_fail(rep, r, TK_EXPORT_NONE, TK_EXPORT_NONE,
		    "keys/journal.vkey is not the audit certificate's key "
		    "under the export's origin");
		goto out;
	}
	snprintf(c->key_id, sizeof(c->key_id), "%08lx",
	    (unsigned long)tk_note_verifier_key_id(c->ver));
	r = 0;
out:
	tk_note_verifier_free(&vk);
	EVP_PKEY_free(pem);
	return r;
}

static int
check_trust(struct tk_export_checker *c, const struct tk_export *e,
    const struct tk_export_trust *t, struct tk_export_report *rep)
{
	X509 *root = NULL, *audit = NULL;
	int r;

	if ((root = pem_cert(e->root_pem, e->root_pem_len)) == NULL ||
	    (audit = pem_cert(e->audit_pem, e->audit_pem_len)) == NULL) {
		r = tk_export_fail(rep, TK_EXPORT_ERR_MALFORMED,
		    TK_EXPORT_NONE, TK_EXPORT_NONE, "keys/root.pem or "
		    "keys/audit.pem is not a PEM certificate");
		goto out;
	}
	if ((r = check_root(e, t, root, rep)) != 0 ||
	    (r = check_chain(t->root != NULL ? t->root : root, audit,
	    rep)) != 0 ||
	    (r = check_keys(c, e, X509_get0_pubkey(audit), rep)) != 0)
		goto out;
	X509_NAME_oneline(X509_get_subject_name(audit), c->signer,
	    sizeof(c->signer));
out:
	X509_free(root);
	X509_free(audit);
	return r;
}

static int
open_error(int vr, struct tk_export_report *rep, uint64_t size,
    const char *what)
{
	if (vr == TK_VERIFY_ERR_NO_SIG)
		return tk_export_fail(rep, TK_EXPORT_ERR_UNKNOWN_KEY,
		    TK_EXPORT_NONE, size, "%s: not signed by the audit key "
		    "(unknown key)", what);
	if (vr == TK_VERIFY_ERR_BAD_SIG)
		return tk_export_fail(rep, TK_EXPORT_ERR_BAD_SIG,
		    TK_EXPORT_NONE, size, "%s: bad signature", what);
	if (vr == TK_VERIFY_ERR_ORIGIN)
		return tk_export_fail(rep, TK_EXPORT_ERR_UNKNOWN_KEY,
		    TK_EXPORT_NONE, size, "%s: origin is not the export's",
		    what);
	return tk_export_fail(rep, TK_EXPORT_ERR_MALFORMED, TK_EXPORT_NONE,
	    size, "%s: malformed signed checkpoint (%s)", what,
	    tk_verify_strerror(vr));
}

/* Opens note i into c->cps[i]; returns the tk_verify_err. */
static int
open_note(struct tk_export_checker *c, const struct tk_export *e, size_t i)
{
	struct tk_checkpoint *cp = NULL;
	int vr;

	if ((vr = tk_checkpoint_open(e->notes[i].text, e->notes[i].len,
	    &c->ver, 1, e->origin, &cp)) != 0)
		return vr;
	c->cps[i].size = cp->size;
	memcpy(c->cps[i].root, cp->root, TK_MERKLE_HASH_LEN);
	tk_checkpoint_free(&cp);
	return 0;
}

struct note_job {
	struct tk_export_checker *c;
	const struct tk_export *e;
	size_t from, step;
	int *vr;
};

static void *
note_worker(void *arg)
{
	struct note_job *job = arg;
	size_t i;

	for (i = job->from; i < job->e->nnotes; i += job->step)
		job->vr[i] = open_note(job->c, job->e, i);
	return NULL;
}

/*
 * Signature checks dominate a long history (one ECDSA verification per
 * checkpoint), so they run on up to MAX_THREADS threads; each writes only
 * its own slots. The verdicts are then read in order, so the first bad
 * checkpoint is the one named, as in a serial run.
 */
#define MAX_THREADS 8

static void
open_notes(struct tk_export_checker *c, const struct tk_export *e, int *vr)
{
	struct note_job jobs[MAX_THREADS];
	pthread_t th[MAX_THREADS];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = 1, i, started;

	if (e->nnotes >= 64 && ncpu > 1)
		n = ncpu < MAX_THREADS ? (size_t)ncpu : MAX_THREADS;
	for (i = 0; i < n; i++) {
		jobs[i].c = c;
		jobs[i].e = e;
		jobs[i].from = i;
		jobs[i].step = n;
		jobs[i].vr = vr;
	}
	for (started = 1; started < n; started++)
		if (pthread_create(&th[started], NULL, note_worker,
		    &jobs[started]) != 0)
			break;
	/* Shares no thread could take are done here. */
	for (i = started; i < n; i++)
		(void)note_worker(&jobs[i]);
	(void)note_worker(&jobs[0]);
	for (i = 1; i < started; i++)
		pthread_join(th[i], NULL);
}

static int
check_notes(struct tk_export_checker *c, const struct tk_export *e,
    struct tk_export_report *rep)
{
	char what[64];
	int *vr;
	size_t i;
	int r = 0;

	if ((c->cps = calloc(e->nnotes, sizeof(*c->cps))) == NULL ||
	    (vr = calloc(e->nnotes, sizeof(*vr))) == NULL)
		return TK_EXPORT_ERR_NOMEM;
	open_notes(c, e, vr);
	for (i = 0; i < e->nnotes && r == 0; i++) {
		snprintf(what, sizeof(what), "checkpoint %llu",
		    (unsigned long long)e->notes[i].size);
		if (vr[i] != 0)
			r = open_error(vr[i], rep, e->notes[i].size, what);
		else if (c->cps[i].size != e->notes[i].size)
			r = tk_export_fail(rep, TK_EXPORT_ERR_REORDERED,
			    TK_EXPORT_NONE, e->notes[i].size, "file "
			    "checkpoints/%llu holds the checkpoint of size "
			    "%llu", (unsigned long long)e->notes[i].size,
			    (unsigned long long)c->cps[i].size);
		else
			c->ncps++;
	}
	free(vr);
	return r;
}

static const struct tk_export_cons *
find_cons(const struct tk_export *e, uint64_t m, uint64_t n)
{
	size_t lo = 0, hi = e->ncons, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (e->cons[mid].m < m || (e->cons[mid].m == m &&
		    e->cons[mid].n < n))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < e->ncons && e->cons[lo].m == m && e->cons[lo].n == n)
		return &e->cons[lo];
	return NULL;
}

static int
check_consistency(struct tk_export_checker *c, const struct tk_export *e,
    struct tk_export_report *rep)
{
	tk_merkle_hash proof[TK_MERKLE_MAX_PROOF];
	const struct tk_export_cons *f;
	uint64_t m, n;
	size_t i, np;

	for (i = 0; i + 1 < c->ncps; i++) {
		m = c->cps[i].size;
		n = c->cps[i + 1].size;
		if ((f = find_cons(e, m, n)) == NULL)
			return tk_export_fail(rep, TK_EXPORT_ERR_INCONSISTENT,
			    TK_EXPORT_NONE, n, "consistency proof %llu-%llu "
			    "missing", (unsigned long long)m,
			    (unsigned long long)n);
		if (tk_export_hash_lines(f->text, f->len, proof,
		    TK_MERKLE_MAX_PROOF, &np) != 0)
			return tk_export_fail(rep, TK_EXPORT_ERR_MALFORMED,
			    TK_EXPORT_NONE, n, "consistency/%llu-%llu: "
			    "malformed", (unsigned long long)m,
			    (unsigned long long)n);
		if (tk_merkle_verify_consistency(m, n, c->cps[i].root,
		    c->cps[i + 1].root, proof, np) != 0)
			return tk_export_fail(rep, TK_EXPORT_ERR_INCONSISTENT,
			    TK_EXPORT_NONE, n, "checkpoint %llu is not "
			    "consistent with checkpoint %llu (log rewritten)",
			    (unsigned long long)n, (unsigned long long)m);
	}
	return 0;
}

/* The saved checkpoint must be signed by the same key. */
static int
open_since(struct tk_export_checker *c, const struct tk_export *e,
    const struct tk_export_trust *t, struct tk_export_report *rep)
{
	struct tk_checkpoint *cp = NULL;
	int vr;

	if (t->since == NULL)
		return 0;
	if ((vr = tk_checkpoint_open(t->since, t->since_len, &c->ver, 1,
	    e->origin, &cp)) != 0)
		return open_error(vr, rep, TK_EXPORT_NONE,
		    "saved checkpoint (--since)");
	c->has_since = 1;
	c->since_size = cp->size;
	memcpy(c->since_root, cp->root, TK_MERKLE_HASH_LEN);
	tk_checkpoint_free(&cp);
	return 0;
}

int
tk_export_checker_new(const struct tk_export *e,
    const struct tk_export_trust *t, struct tk_export_checker **out,
    struct tk_export_report *rep)
{
	struct tk_export_checker *c = NULL;
	int r = TK_EXPORT_ERR_INVALID;

	tk_export_report_init(rep);
	if (out == NULL)
		return r;
	*out = NULL;
	if (e == NULL || t == NULL ||
	    (t->root == NULL) == (t->fingerprint == NULL))
		return tk_export_fail(rep, r, TK_EXPORT_NONE, TK_EXPORT_NONE,
		    "give exactly one trust anchor: root or fingerprint");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return tk_export_fail(rep, TK_EXPORT_ERR_NOMEM,
		    TK_EXPORT_NONE, TK_EXPORT_NONE, "out of memory");
	if ((r = check_trust(c, e, t, rep)) != 0 ||
	    (r = check_notes(c, e, rep)) != 0 ||
	    (r = check_consistency(c, e, rep)) != 0 ||
	    (r = open_since(c, e, t, rep)) != 0)
		goto out;
	*out = c;
	c = NULL;
out:
	if (r != 0 && rep != NULL && rep->err == 0)
		tk_export_fail(rep, r, TK_EXPORT_NONE, TK_EXPORT_NONE, "%s",
		    tk_export_strerror(r));
	tk_export_checker_free(&c);
	return r;
}

void
tk_export_checker_free(struct tk_export_checker **cp)
{
	struct tk_export_checker *c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	tk_note_verifier_free(&c->ver);
	free(c->cps);
	free(c);
	*cp = NULL;
}

int
tk_export_check(const struct tk_export *e, const struct tk_export_trust *t,
    struct tk_export_report *rep)
{
	struct tk_export_checker *c = NULL;
	int r;

	if ((r = tk_export_checker_new(e, t, &c, rep)) == 0)
		r = tk_export_checker_entries(c, e, rep);
	tk_export_checker_free(&c);
	return r;
}

const char *
tk_export_strerror(int err)
{
	switch (err) {
	case TK_EXPORT_OK:
		return "verified";
	case TK_EXPORT_ERR_NOMEM:
		return "out of memory";
	case TK_EXPORT_ERR_IO:
		return "cannot read the export";
	case TK_EXPORT_ERR_MALFORMED:
		return "malformed export";
	case TK_EXPORT_ERR_TOOBIG:
		return "export file too large";
	case TK_EXPORT_ERR_CHAIN:
		return "broken certificate chain";
	case TK_EXPORT_ERR_KEY:
		return "key does not match the certificate";
	case TK_EXPORT_ERR_UNKNOWN_KEY:
		return "unknown key";
	case TK_EXPORT_ERR_BAD_SIG:
		return "bad signature";
	case TK_EXPORT_ERR_INCONSISTENT:
		return "inconsistent checkpoints";
	case TK_EXPORT_ERR_EDITED:
		return "edited";
	case TK_EXPORT_ERR_DELETED:
		return "deleted";
	case TK_EXPORT_ERR_INSERTED:
		return "inserted";
	case TK_EXPORT_ERR_REORDERED:
		return "reordered";
	case TK_EXPORT_ERR_TRUNCATED:
		return "truncated";
	case TK_EXPORT_ERR_PROOF:
		return "bad inclusion proof";
	case TK_EXPORT_ERR_SHRUNK:
		return "log shrank since the saved checkpoint";
	case TK_EXPORT_ERR_FORK:
		return "saved checkpoint not in this log";
	case TK_EXPORT_ERR_INVALID:
		return "invalid argument";
	default:
		return "unknown export error";
	}
}
