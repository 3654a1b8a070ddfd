/*
 * Export checker, phase two: the entries. The tree is recomputed from the
 * prefix frontier and the leaves, and its root compared with every signed
 * checkpoint of the range (size and root from the same checkpoint). Each
 * leaf must begin {"index":<its position>,"time":"<24 chars>", which
 * names deletions, insertions and swaps without a JSON parser; an edit
 * elsewhere in a leaf shows as a root mismatch and is named through the
 * per-entry proofs when the export has them, else by its batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "twokey/checkpoint.h"
#include "twokey/export.h"
#include "twokey/merkle.h"
#include "twokey/tlogproof.h"
#include "export_check.h"
#include "export_int.h"

#define TIME_LEN 24

/*
 * Parses the canonical prefix of a leaf; *time points at the 24-character
 * time. Returns 0 or -1.
 */
static int
leaf_prefix(const struct tk_export_leaf *l, uint64_t *index,
    const char **time)
{
	static const char head[] = "{\"index\":", mid[] = ",\"time\":\"";
	const char *p = (const char *)l->data, *end = p + l->len, *d;

	if (l->len < sizeof(head) - 1 || memcmp(p, head, sizeof(head) - 1))
		return -1;
	p += sizeof(head) - 1;
	for (d = p; d < end && *d >= '0' && *d <= '9'; d++)
		;
	if (tk_export_parse_u64(p, (size_t)(d - p), index) != 0)
		return -1;
	if ((size_t)(end - d) < sizeof(mid) - 1 + TIME_LEN + 2 ||
	    memcmp(d, mid, sizeof(mid) - 1) != 0)
		return -1;
	d += sizeof(mid) - 1;
	if (d[TIME_LEN] != '"' || d[TIME_LEN + 1] != ',')
		return -1;
	*time = d;
	return 0;
}

/*
 * Position pos holds a leaf whose index field is wrong: say how. The
 * entry count against the export's range tells a deletion (fewer) or an
 * insertion (more) from an edit of the index field (as many).
 */
static int
misplaced(const struct tk_export *e, size_t i, uint64_t pos,
    struct tk_export_report *rep)
{
	uint64_t q, nq = 0, want = e->end - e->first;
	const char *t;

	if (leaf_prefix(&e->leaves[i], &q, &t) != 0)
		return tk_export_fail(rep, TK_EXPORT_ERR_EDITED, pos,
		    TK_EXPORT_NONE, "entry %llu: edited (does not begin with "
		    "its canonical index and time)", (unsigned long long)pos);
	if (q == pos + 1 && i + 1 < e->nleaves &&
	    leaf_prefix(&e->leaves[i + 1], &nq, &t) == 0 && nq == pos)
		return tk_export_fail(rep, TK_EXPORT_ERR_REORDERED, pos,
		    TK_EXPORT_NONE, "entries %llu and %llu: reordered "
		    "(swapped)", (unsigned long long)pos,
		    (unsigned long long)pos + 1);
	if (q > pos && e->nleaves < want)
		return tk_export_fail(rep, TK_EXPORT_ERR_DELETED, pos,
		    TK_EXPORT_NONE, "entry %llu: deleted (entry %llu comes "
		    "in its place)", (unsigned long long)pos,
		    (unsigned long long)q);
	if (q < pos && e->nleaves > want)
		return tk_export_fail(rep, TK_EXPORT_ERR_INSERTED, pos,
		    TK_EXPORT_NONE, "entry %llu: an entry was inserted here "
		    "(a second entry %llu)", (unsigned long long)pos,
		    (unsigned long long)q);
	return tk_export_fail(rep, TK_EXPORT_ERR_EDITED, pos, TK_EXPORT_NONE,
	    "entry %llu: edited (its index field says %llu)",
	    (unsigned long long)pos, (unsigned long long)q);
}

static const struct tk_export_proof *
find_proof(const struct tk_export *e, uint64_t index)
{
	size_t lo = 0, hi = e->nproofs, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (e->proofs[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < e->nproofs && e->proofs[lo].index == index)
		return &e->proofs[lo];
	return NULL;
}

/* First verified checkpoint covering entry pos, or ncps. */
static size_t
covering(const struct tk_export_checker *c, uint64_t pos)
{
	size_t lo = 0, hi = c->ncps, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (c->cps[mid].size <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Checks the tlog-proof of entry pos. Its checkpoint is normally one of
 * the export's, already verified; any other is verified in full. When
 * locating (a checkpoint root failed), a failing proof names the entry
 * as edited; otherwise the roots hold and it is the proof that is bad.
 */
static int
check_proof(const struct tk_export_checker *c, const struct tk_export *e,
    uint64_t pos, const struct tk_export_leaf *l, int locating,
    struct tk_export_report *rep)
{
	const struct tk_export_proof *f;
	struct tk_tlog_proof *p = NULL;
	tk_merkle_hash h;
	size_t k;
	int r = TK_EXPORT_ERR_PROOF;

	if ((f = find_proof(e, pos)) == NULL)
		return tk_export_fail(rep, r, pos, TK_EXPORT_NONE,
		    "entry %llu: proof missing", (unsigned long long)pos);
	if (tk_tlog_proof_parse(f->text, f->len, &p) != 0 || p->index != pos) {
		tk_export_fail(rep, r, pos, TK_EXPORT_NONE, "entry %llu: "
		    "proof malformed or for another entry",
		    (unsigned long long)pos);
		goto out;
	}
	k = covering(c, pos);
	if (k < c->ncps && p->checkpoint_len == e->notes[k].len &&
	    memcmp(p->checkpoint, e->notes[k].text, p->checkpoint_len) == 0) {
		if (tk_merkle_leaf_hash(l->data, l->len, h) == 0 &&
		    tk_merkle_verify_inclusion(pos, c->cps[k].size, h,
		    (const tk_merkle_hash *)p->hashes, p->nhashes,
		    c->cps[k].root) == 0)
			r = 0;
	} else if (tk_tlog_proof_verify(p, l->data, l->len, &c->ver, 1,
	    e->origin, NULL) == 0)
		r = 0;
	if (r != 0 && locating)
		r = tk_export_fail(rep, TK_EXPORT_ERR_EDITED, pos,
		    TK_EXPORT_NONE, "entry %llu: edited (its inclusion proof "
		    "fails)", (unsigned long long)pos);
	else if (r != 0)
		tk_export_fail(rep, r, pos, TK_EXPORT_NONE, "entry %llu: its "
		    "inclusion proof does not verify",
		    (unsigned long long)pos);
out:
	tk_tlog_proof_free(&p);
	return r;
}

/* The root of checkpoint `size` failed over entries [from, size). */
static int
localize(const struct tk_export_checker *c, const struct tk_export *e,
    uint64_t from, uint64_t size, struct tk_export_report *rep)
{
	uint64_t pos;
	int r;

	if (e->has_proofs) {
		for (pos = from; pos < size; pos++)
			if ((r = check_proof(c, e, pos,
			    &e->leaves[pos - e->first], 1, rep)) != 0)
				return r;
		return tk_export_fail(rep, TK_EXPORT_ERR_MALFORMED,
		    TK_EXPORT_NONE, size, "prefix: the hashes of the entries "
		    "before %llu do not match checkpoint %llu",
		    (unsigned long long)e->first, (unsigned long long)size);
	}
	if (size - from == 1)
		return tk_export_fail(rep, TK_EXPORT_ERR_EDITED, from, size,
		    "entry %llu: edited (checkpoint %llu does not match)",
		    (unsigned long long)from, (unsigned long long)size);
	return tk_export_fail(rep, TK_EXPORT_ERR_EDITED, from, size,
	    "entries %llu..%llu: one was edited (checkpoint %llu does not "
	    "match; export with proofs to name it)", (unsigned long long)from,
	    (unsigned long long)size - 1, (unsigned long long)size);
}

struct walk {
	struct tk_merkle_builder *b;
	size_t ci;		/* next checkpoint to meet */
	uint64_t from;		/* first entry not yet under a checkpoint */
	int since_seen;
};

/* Compares the builder's root at its size with whatever is due there. */
static int
meet(const struct tk_export_checker *c, const struct tk_export *e,
    struct walk *w, struct tk_export_report *rep)
{
	uint64_t size = tk_merkle_builder_size(w->b);
	tk_merkle_hash root;

	/* The root costs O(log n) hashes: only where something is due. */
	if ((w->ci >= c->ncps || c->cps[w->ci].size != size) &&
	    (!c->has_since || c->since_size != size))
		return 0;
	if (tk_merkle_builder_root(w->b, root) != 0)
		return tk_export_fail(rep, TK_EXPORT_ERR_NOMEM,
		    TK_EXPORT_NONE, TK_EXPORT_NONE, "hashing failed");
	if (c->has_since && c->since_size == size) {
		if (CRYPTO_memcmp(root, c->since_root, sizeof(root)) != 0)
			return tk_export_fail(rep, TK_EXPORT_ERR_FORK,
			    TK_EXPORT_NONE, size, "the saved checkpoint of "
			    "size %llu is not in this log (rewritten)",
			    (unsigned long long)size);
		w->since_seen = 1;
	}
	if (w->ci >= c->ncps || c->cps[w->ci].size != size)
		return 0;
	if (CRYPTO_memcmp(root, c->cps[w->ci].root, sizeof(root)) != 0) {
		if (size == e->first)
			return tk_export_fail(rep, TK_EXPORT_ERR_MALFORMED,
			    TK_EXPORT_NONE, size, "prefix does not match "
			    "checkpoint %llu", (unsigned long long)size);
		return localize(c, e, w->from, size, rep);
	}
	w->from = size;
	w->ci++;
	return 0;
}

static int
walk(const struct tk_export_checker *c, const struct tk_export *e,
    struct walk *w, struct tk_export_report *rep)
{
	const char *t;
	uint64_t q, pos;
	size_t i;
	int r;

	if (tk_merkle_builder_restore(w->b, e->first,
	    (const tk_merkle_hash *)e->prefix, e->nprefix) != 0)
		return tk_export_fail(rep, TK_EXPORT_ERR_MALFORMED,
		    TK_EXPORT_NONE, TK_EXPORT_NONE, "prefix: not the frontier "
		    "of a tree of size %llu", (unsigned long long)e->first);
	w->ci = covering(c, e->first > 0 ? e->first - 1 : 0);
	if (e->first == 0)
		w->ci = 0;
	w->from = e->first;
	if (e->first > 0 && (r = meet(c, e, w, rep)) != 0)
		return r;
	for (i = 0; i < e->nleaves; i++) {
		pos = e->first + i;
		if (leaf_prefix(&e->leaves[i], &q, &t) != 0 || q != pos)
			return misplaced(e, i, pos, rep);
		if (tk_merkle_builder_append_entry(w->b, e->leaves[i].data,
		    e->leaves[i].len) != 0)
			return tk_export_fail(rep, TK_EXPORT_ERR_NOMEM,
			    TK_EXPORT_NONE, TK_EXPORT_NONE, "hashing failed");
		if ((r = meet(c, e, w, rep)) != 0)
			return r;
	}
	return 0;
}

/* After the walk: is every entry there and under a checkpoint? */
static int
check_ends(const struct tk_export_checker *c, const struct tk_export *e,
    const struct walk *w, struct tk_export_report *rep)
{
	uint64_t last = e->first + e->nleaves;

	if (last < e->end)
		return tk_export_fail(rep, TK_EXPORT_ERR_TRUNCATED, last,
		    TK_EXPORT_NONE, "entry %llu: missing, entries end at %llu "
		    "but the export runs to %llu (truncated)",
		    (unsigned long long)last, (unsigned long long)last,
		    (unsigned long long)e->end);
	if (last > e->end)
		return tk_export_fail(rep, TK_EXPORT_ERR_INSERTED, e->end,
		    TK_EXPORT_NONE, "entry %llu: inserted after the export's "
		    "last entry", (unsigned long long)e->end);
	if (w->from != last) {
		if (w->ci < c->ncps)
			return tk_export_fail(rep, TK_EXPORT_ERR_TRUNCATED,
			    last, c->cps[w->ci].size, "entry %llu: missing, "
			    "checkpoint %llu covers more entries (truncated)",
			    (unsigned long long)last,
			    (unsigned long long)c->cps[w->ci].size);
		return tk_export_fail(rep, TK_EXPORT_ERR_INSERTED, w->from,
		    TK_EXPORT_NONE, "entries %llu..%llu: no checkpoint covers "
		    "them", (unsigned long long)w->from,
		    (unsigned long long)last - 1);
	}
	return 0;
}

static int
check_since(const struct tk_export_checker *c, const struct walk *w,
    struct tk_export_report *rep)
{
	uint64_t latest = c->cps[c->ncps - 1].size;
	size_t i;

	if (!c->has_since || w->since_seen || c->since_size == 0)
		return 0;
	if (c->since_size > latest)
		return tk_export_fail(rep, TK_EXPORT_ERR_SHRUNK,
		    TK_EXPORT_NONE, latest, "the log has %llu entries, fewer "
		    "than the %llu of the saved checkpoint (truncated)",
		    (unsigned long long)latest,
		    (unsigned long long)c->since_size);
	for (i = 0; i < c->ncps; i++)
		if (c->cps[i].size == c->since_size) {
			if (CRYPTO_memcmp(c->cps[i].root, c->since_root,
			    TK_MERKLE_HASH_LEN) != 0)
				break;
			return 0;
		}
	if (i < c->ncps)
		return tk_export_fail(rep, TK_EXPORT_ERR_FORK, TK_EXPORT_NONE,
		    c->since_size, "the saved checkpoint of size %llu is not "
		    "in this log (rewritten)",
		    (unsigned long long)c->since_size);
	return tk_export_fail(rep, TK_EXPORT_ERR_FORK, TK_EXPORT_NONE,
	    c->since_size, "the saved checkpoint of size %llu is outside "
	    "this export; export a range that includes it",
	    (unsigned long long)c->since_size);
}

static void
summary(const struct tk_export_checker *c, const struct tk_export *e,
    struct tk_export_report *rep)
{
	const char *t;
	uint64_t q;

	rep->first = e->first;
	rep->end = e->first + e->nleaves;
	rep->latest_size = c->cps[c->ncps - 1].size;
	rep->checkpoints = c->ncps;
	if (e->nleaves > 0 && leaf_prefix(&e->leaves[0], &q, &t) == 0)
		memcpy(rep->first_time, t, TIME_LEN);
	if (e->nleaves > 0 &&
	    leaf_prefix(&e->leaves[e->nleaves - 1], &q, &t) == 0)
		memcpy(rep->last_time, t, TIME_LEN);
	memcpy(rep->signer, c->signer, sizeof(rep->signer));
	memcpy(rep->key_id, c->key_id, sizeof(rep->key_id));
}

int
tk_export_checker_entries(struct tk_export_checker *c,
    const struct tk_export *e, struct tk_export_report *rep)
{
	struct walk w;
	uint64_t i;
	int r;

	tk_export_report_init(rep);
	if (c == NULL || e == NULL || c->ncps == 0)
		return tk_export_fail(rep, TK_EXPORT_ERR_INVALID,
		    TK_EXPORT_NONE, TK_EXPORT_NONE, "nothing to check");
	memset(&w, 0, sizeof(w));
	if ((w.b = tk_merkle_builder_new()) == NULL)
		return tk_export_fail(rep, TK_EXPORT_ERR_NOMEM,
		    TK_EXPORT_NONE, TK_EXPORT_NONE, "out of memory");
	if ((r = walk(c, e, &w, rep)) != 0 ||
	    (r = check_ends(c, e, &w, rep)) != 0 ||
	    (r = check_since(c, &w, rep)) != 0)
		goto out;
	for (i = 0; e->has_proofs && i < e->nleaves; i++)
		if ((r = check_proof(c, e, e->first + i, &e->leaves[i], 0,
		    rep)) != 0)
			goto out;
	if (e->has_proofs && e->nproofs != e->nleaves) {
		r = tk_export_fail(rep, TK_EXPORT_ERR_PROOF, TK_EXPORT_NONE,
		    TK_EXPORT_NONE, "proofs given for entries outside the "
		    "export");
		goto out;
	}
	summary(c, e, rep);
out:
	if (r != 0 && rep != NULL && rep->err == 0)
		tk_export_fail(rep, r, TK_EXPORT_NONE, TK_EXPORT_NONE, "%s",
		    tk_export_strerror(r));
	tk_merkle_builder_free(&w.b);
	return r;
}
