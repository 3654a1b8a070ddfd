/*
 * RFC 9162 Merkle tree: hashes, subtree roots, proof generation and proof
 * verification. Sizes and indices are uint64_t; a proof never holds more
 * than TK_MERKLE_MAX_PROOF hashes.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "twokey/merkle.h"
#include "merkle_hash.h"

static const tk_merkle_hash empty_root = {
	0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14,
	0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
	0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
	0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
};

void
tk_merkle_empty_root(tk_merkle_hash out)
{
	memcpy(out, empty_root, TK_MERKLE_HASH_LEN);
}

int
tk_merkle_leaf_hash(const void *entry, size_t len, tk_merkle_hash out)
{
	struct merkle_hasher *h;
	int r;

	if ((h = merkle_hasher_new()) == NULL)
		return TK_VERIFY_ERR_NOMEM;
	r = merkle_hash_leaf(h, entry, len, out);
	merkle_hasher_free(&h);
	return r;
}

int
tk_merkle_node_hash(const tk_merkle_hash left, const tk_merkle_hash right,
    tk_merkle_hash out)
{
	struct merkle_hasher *h;
	int r;

	if ((h = merkle_hasher_new()) == NULL)
		return TK_VERIFY_ERR_NOMEM;
	r = merkle_hash_node(h, left, right, out);
	merkle_hasher_free(&h);
	return r;
}

/* Largest power of two strictly below n (n >= 2). */
static uint64_t
split_point(uint64_t n)
{
	uint64_t k = 1;

	while (k < n - k)
		k <<= 1;
	return k;
}

static unsigned
bit_len(uint64_t x)
{
	unsigned n = 0;

	while (x != 0) {
		n++;
		x >>= 1;
	}
	return n;
}

static unsigned
pop_count(uint64_t x)
{
	unsigned n = 0;

	for (; x != 0; x &= x - 1)
		n++;
	return n;
}

/* ---- reading hashes from a source ------------------------------------ */

struct array_source {
	const tk_merkle_hash *leaves;
	uint64_t n;
};

static int
array_leaf(void *arg, uint64_t index, tk_merkle_hash out)
{
	const struct array_source *a = arg;

	if (index >= a->n)
		return -1;
	memcpy(out, a->leaves[index], TK_MERKLE_HASH_LEN);
	return 0;
}

void
tk_merkle_source_array(struct tk_merkle_source *src,
    struct tk_merkle_array *arr, const tk_merkle_hash *leaves, uint64_t n)
{
	arr->leaves = leaves;
	arr->n = n;
	src->leaf = array_leaf;
	src->node = NULL;
	src->arg = arr;
}

static int
src_leaf(const struct tk_merkle_source *src, uint64_t i, tk_merkle_hash out)
{
	return src->leaf(src->arg, i, out) == 0 ? TK_VERIFY_OK :
	    TK_VERIFY_ERR_SOURCE;
}

/*
 * MTH over [begin, end) by streaming the leaves through a frontier of
 * perfect subtrees (at most 64) and folding it from the right: n - 1 node
 * hashes, no recursion, no allocation.
 */
static int
mth_stream(struct merkle_hasher *h, const struct tk_merkle_source *src,
    uint64_t begin, uint64_t end, tk_merkle_hash out)
{
	tk_merkle_hash stack[TK_MERKLE_MAX_PROOF + 1];
	size_t top = 0;
	uint64_t i, j;
	int r;

	for (i = begin; i < end; i++) {
		if ((r = src_leaf(src, i, stack[top])) != 0)
			return r;
		top++;
		for (j = i - begin; j & 1; j >>= 1) {
			top--;
			if ((r = merkle_hash_node(h, stack[top - 1],
			    stack[top], stack[top - 1])) != 0)
				return r;
		}
	}
	for (; top > 1; top--)
		if ((r = merkle_hash_node(h, stack[top - 2], stack[top - 1],
		    stack[top - 2])) != 0)
			return r;
	memcpy(out, stack[0], TK_MERKLE_HASH_LEN);
	return TK_VERIFY_OK;
}

/*
 * MTH over [begin, end), end > begin, asking src->node for each aligned
 * perfect subtree on the way down and recursing into halves on a miss.
 * The recursion depth is bounded by 2 * 64.
 */
static int
mth(struct merkle_hasher *h, const struct tk_merkle_source *src,
    uint64_t begin, uint64_t end, tk_merkle_hash out)
{
	tk_merkle_hash right;
	uint64_t n = end - begin, k;
	unsigned level;
	int r;

	if (src->node == NULL)
		return mth_stream(h, src, begin, end, out);
	if (n == 1)
		return src_leaf(src, begin, out);
	if ((n & (n - 1)) == 0 && begin % n == 0) {
		level = bit_len(n) - 1;
		r = src->node(src->arg, level, begin >> level, out);
		if (r == 0)
			return TK_VERIFY_OK;
		if (r < 0)
			return TK_VERIFY_ERR_SOURCE;
	}
	k = split_point(n);
	if ((r = mth(h, src, begin, begin + k, out)) != 0 ||
	    (r = mth(h, src, begin + k, end, right)) != 0)
		return r;
	return merkle_hash_node(h, out, right, out);
}

int
tk_merkle_subtree_root(const struct tk_merkle_source *src, uint64_t begin,
    uint64_t end, tk_merkle_hash out)
{
	struct merkle_hasher *h;
	int r;

	if (end <= begin)
		return TK_VERIFY_ERR_RANGE;
	if ((h = merkle_hasher_new()) == NULL)
		return TK_VERIFY_ERR_NOMEM;
	r = mth(h, src, begin, end, out);
	merkle_hasher_free(&h);
	return r;
}

int
tk_merkle_root(const struct tk_merkle_source *src, uint64_t n,
    tk_merkle_hash out)
{
	if (n == 0) {
		tk_merkle_empty_root(out);
		return TK_VERIFY_OK;
	}
	return tk_merkle_subtree_root(src, 0, n, out);
}

/* ---- proof generation (RFC 9162 2.1.3.1 and 2.1.4.1) ---------------- */

static void
reverse_hashes(tk_merkle_hash *p, size_t n)
{
	tk_merkle_hash t;
	size_t i;

	for (i = 0; i < n / 2; i++) {
		memcpy(t, p[i], TK_MERKLE_HASH_LEN);
		memcpy(p[i], p[n - 1 - i], TK_MERKLE_HASH_LEN);
		memcpy(p[n - 1 - i], t, TK_MERKLE_HASH_LEN);
	}
}

/*
 * PATH(m, D[lo:hi]) walked top-down: at each split the sibling subtree's
 * root is taken, so the hashes come out root side first and are reversed
 * at the end into the RFC order (leaf side first).
 */
int
tk_merkle_inclusion_proof(const struct tk_merkle_source *src,
    uint64_t index, uint64_t n, tk_merkle_hash *proof, size_t *len)
{
	struct merkle_hasher *h = NULL;
	uint64_t lo = 0, hi = n, k;
	size_t count = 0;
	int r = TK_VERIFY_ERR_RANGE;

	*len = 0;
	if (index >= n)
		goto out;
	r = TK_VERIFY_ERR_NOMEM;
	if ((h = merkle_hasher_new()) == NULL)
		goto out;
	r = TK_VERIFY_OK;
	while (hi - lo > 1 && r == TK_VERIFY_OK) {
		k = split_point(hi - lo);
		if (index - lo < k) {
			r = mth(h, src, lo + k, hi, proof[count++]);
			hi = lo + k;
		} else {
			r = mth(h, src, lo, lo + k, proof[count++]);
			lo += k;
		}
	}
	if (r != TK_VERIFY_OK)
		goto out;
	reverse_hashes(proof, count);
	*len = count;
out:
	merkle_hasher_free(&h);
	return r;
}

/*
 * SUBPROOF(m, D[lo:hi], b) walked top-down as above; the subtree where
 * the walk stops (MTH(D[lo:lo+m]) when b is false) comes first in the
 * RFC order, so it is appended last before the reversal.
 */
int
tk_merkle_consistency_proof(const struct tk_merkle_source *src,
    uint64_t m, uint64_t n, tk_merkle_hash *proof, size_t *len)
{
	struct merkle_hasher *h = NULL;
	uint64_t lo = 0, hi = n, k;
	size_t count = 0;
	int r, whole = 1;

	*len = 0;
	if (m == 0)
		return TK_VERIFY_ERR_EMPTY_OLD;
	if (m > n)
		return TK_VERIFY_ERR_RANGE;
	if ((h = merkle_hasher_new()) == NULL)
		return TK_VERIFY_ERR_NOMEM;
	r = TK_VERIFY_OK;
	while (m != hi - lo && r == TK_VERIFY_OK) {
		k = split_point(hi - lo);
		if (m <= k) {
			r = mth(h, src, lo + k, hi, proof[count++]);
			hi = lo + k;
		} else {
			r = mth(h, src, lo, lo + k, proof[count++]);
			m -= k;
			lo += k;
			whole = 0;
		}
	}
	if (r == TK_VERIFY_OK && !whole)
		r = mth(h, src, lo, hi, proof[count++]);
	if (r == TK_VERIFY_OK) {
		reverse_hashes(proof, count);
		*len = count;
	}
	merkle_hasher_free(&h);
	return r;
}

/* ---- proof verification (RFC 9162 2.1.3.2 and 2.1.4.2) -------------- */

static int
hash_equal(const tk_merkle_hash a, const tk_merkle_hash b)
{
	return CRYPTO_memcmp(a, b, TK_MERKLE_HASH_LEN) == 0;
}

/* Shifts fn and sn right until LSB(fn) is set or fn is 0. */
static void
shift_to_odd(uint64_t *fn, uint64_t *sn)
{
	while ((*fn & 1) == 0 && *fn != 0) {
		*fn >>= 1;
		*sn >>= 1;
	}
}

int
tk_merkle_verify_inclusion(uint64_t index, uint64_t n,
    const tk_merkle_hash leaf, const tk_merkle_hash *proof, size_t len,
    const tk_merkle_hash root)
{
	struct merkle_hasher *h;
	tk_merkle_hash r;
	uint64_t fn, sn;
	unsigned inner;
	size_t i;
	int err = TK_VERIFY_OK;

	if (index >= n)
		return TK_VERIFY_ERR_RANGE;
	inner = bit_len(index ^ (n - 1));
	if (len != inner + pop_count(inner >= 64 ? 0 : index >> inner))
		return TK_VERIFY_ERR_PROOF_SIZE;
	if ((h = merkle_hasher_new()) == NULL)
		return TK_VERIFY_ERR_NOMEM;
	fn = index;
	sn = n - 1;
	memcpy(r, leaf, TK_MERKLE_HASH_LEN);
	for (i = 0; i < len && err == TK_VERIFY_OK; i++) {
		if (sn == 0) {
			err = TK_VERIFY_ERR_PROOF_SIZE;
			break;
		}
		if ((fn & 1) || fn == sn) {
			err = merkle_hash_node(h, proof[i], r, r);
			if ((fn & 1) == 0)
				shift_to_odd(&fn, &sn);
		} else
			err = merkle_hash_node(h, r, proof[i], r);
		fn >>= 1;
		sn >>= 1;
	}
	merkle_hasher_free(&h);
	if (err != TK_VERIFY_OK)
		return err;
	if (sn != 0)
		return TK_VERIFY_ERR_PROOF_SIZE;
	return hash_equal(r, root) ? TK_VERIFY_OK : TK_VERIFY_ERR_MISMATCH;
}

static unsigned
trailing_zeros(uint64_t x)
{
	unsigned n = 0;

	while ((x & 1) == 0 && n < 64) {
		x >>= 1;
		n++;
	}
	return n;
}

/* The proof length 2.1.4.1 produces for 0 < m < n. */
static size_t
consistency_len(uint64_t m, uint64_t n)
{
	unsigned shift = trailing_zeros(m);
	unsigned inner = bit_len((m - 1) ^ (n - 1));
	unsigned border = pop_count(inner >= 64 ? 0 : (m - 1) >> inner);
	size_t start = m == (uint64_t)1 << shift ? 0 : 1;

	return start + (inner - shift) + border;
}

/* Steps 3-6 of 2.1.4.2 over the proof c[0..len) (c[0] is the seed). */
static int
consistency_walk(struct merkle_hasher *h, uint64_t m, uint64_t n,
    const tk_merkle_hash *c, size_t len, tk_merkle_hash fr,
    tk_merkle_hash sr)
{
	uint64_t fn = m - 1, sn = n - 1;
	size_t i;
	int err = TK_VERIFY_OK;

	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	memcpy(fr, c[0], TK_MERKLE_HASH_LEN);
	memcpy(sr, c[0], TK_MERKLE_HASH_LEN);
	for (i = 1; i < len && err == TK_VERIFY_OK; i++) {
		if (sn == 0)
			return TK_VERIFY_ERR_PROOF_SIZE;
		if ((fn & 1) || fn == sn) {
			if ((err = merkle_hash_node(h, c[i], fr, fr)) == 0)
				err = merkle_hash_node(h, c[i], sr, sr);
			if ((fn & 1) == 0)
				shift_to_odd(&fn, &sn);
		} else
			err = merkle_hash_node(h, sr, c[i], sr);
		fn >>= 1;
		sn >>= 1;
	}
	if (err == TK_VERIFY_OK && sn != 0)
		err = TK_VERIFY_ERR_PROOF_SIZE;
	return err;
}

int
tk_merkle_verify_consistency(uint64_t m, uint64_t n,
    const tk_merkle_hash old_root, const tk_merkle_hash new_root,
    const tk_merkle_hash *proof, size_t len)
{
	tk_merkle_hash c[TK_MERKLE_MAX_PROOF + 1], fr, sr;
	struct merkle_hasher *h;
	size_t clen = 0;
	int err;

	if (m == 0)
		return TK_VERIFY_ERR_EMPTY_OLD;
	if (m > n)
		return TK_VERIFY_ERR_RANGE;
	if (m == n) {
		if (len != 0)
			return TK_VERIFY_ERR_PROOF_SIZE;
		return hash_equal(old_root, new_root) ? TK_VERIFY_OK :
		    TK_VERIFY_ERR_MISMATCH;
	}
	if (len == 0 || len > TK_MERKLE_MAX_PROOF ||
	    len != consistency_len(m, n))
		return TK_VERIFY_ERR_PROOF_SIZE;
	/* 2.1.4.2 step 2: a power-of-two old tree is its own seed. */
	if ((m & (m - 1)) == 0)
		memcpy(c[clen++], old_root, TK_MERKLE_HASH_LEN);
	memcpy(c[clen], proof, len * TK_MERKLE_HASH_LEN);
	clen += len;
	if ((h = merkle_hasher_new()) == NULL)
		return TK_VERIFY_ERR_NOMEM;
	err = consistency_walk(h, m, n, c, clen, fr, sr);
	merkle_hasher_free(&h);
	if (err != TK_VERIFY_OK)
		return err;
	if (!hash_equal(fr, old_root) || !hash_equal(sr, new_root))
		return TK_VERIFY_ERR_MISMATCH;
	return TK_VERIFY_OK;
}

/* ---- streaming builder ---------------------------------------------- */

struct tk_merkle_builder {
	struct merkle_hasher *h;
	uint64_t size;
	size_t top;			/* frontier entries in use */
	tk_merkle_hash f[TK_MERKLE_MAX_PROOF];
	tk_merkle_node_cb cb;
	void *arg;
};

struct tk_merkle_builder *
tk_merkle_builder_new(void)
{
	struct tk_merkle_builder *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	if ((b->h = merkle_hasher_new()) == NULL) {
		free(b);
		return NULL;
	}
	return b;
}

void
tk_merkle_builder_free(struct tk_merkle_builder **bp)
{
	if (bp == NULL || *bp == NULL)
		return;
	merkle_hasher_free(&(*bp)->h);
	free(*bp);
	*bp = NULL;
}

void
tk_merkle_builder_set_node_cb(struct tk_merkle_builder *b,
    tk_merkle_node_cb cb, void *arg)
{
	b->cb = cb;
	b->arg = arg;
}

int
tk_merkle_builder_restore(struct tk_merkle_builder *b, uint64_t n,
    const tk_merkle_hash *frontier, size_t count)
{
	if (count != pop_count(n) || count > TK_MERKLE_MAX_PROOF)
		return TK_VERIFY_ERR_RANGE;
	if (count > 0)
		memcpy(b->f, frontier, count * TK_MERKLE_HASH_LEN);
	b->size = n;
	b->top = count;
	return TK_VERIFY_OK;
}

void
tk_merkle_builder_frontier(const struct tk_merkle_builder *b,
    tk_merkle_hash *out, size_t *count)
{
	if (b->top > 0)
		memcpy(out, b->f, b->top * TK_MERKLE_HASH_LEN);
	*count = b->top;
}

uint64_t
tk_merkle_builder_size(const struct tk_merkle_builder *b)
{
	return b->size;
}

/*
 * Merges the new leaf with the frontier without writing to it until every
 * node callback has accepted, so a refused append leaves the builder as
 * it was.
 */
int
tk_merkle_builder_append_leaf(struct tk_merkle_builder *b,
    const tk_merkle_hash leaf)
{
	tk_merkle_hash cur;
	uint64_t i = b->size, j;
	size_t t = b->top;
	unsigned level;
	int r;

	if (i == UINT64_MAX)
		return TK_VERIFY_ERR_RANGE;
	memcpy(cur, leaf, TK_MERKLE_HASH_LEN);
	if (b->cb != NULL && b->cb(b->arg, 0, i, cur) < 0)
		return TK_VERIFY_ERR_SOURCE;
	for (j = i, level = 1; j & 1; j >>= 1, level++) {
		t--;
		if ((r = merkle_hash_node(b->h, b->f[t], cur, cur)) != 0)
			return r;
		if (b->cb != NULL && b->cb(b->arg, level, i >> level, cur) < 0)
			return TK_VERIFY_ERR_SOURCE;
	}
	memcpy(b->f[t], cur, TK_MERKLE_HASH_LEN);
	b->top = t + 1;
	b->size = i + 1;
	return TK_VERIFY_OK;
}

int
tk_merkle_builder_append_entry(struct tk_merkle_builder *b,
    const void *entry, size_t len)
{
	tk_merkle_hash leaf;
	int r;

	if ((r = merkle_hash_leaf(b->h, entry, len, leaf)) != 0)
		return r;
	return tk_merkle_builder_append_leaf(b, leaf);
}

int
tk_merkle_builder_root(struct tk_merkle_builder *b, tk_merkle_hash out)
{
	tk_merkle_hash cur;
	size_t t;
	int r;

	if (b->top == 0) {
		tk_merkle_empty_root(out);
		return TK_VERIFY_OK;
	}
	memcpy(cur, b->f[b->top - 1], TK_MERKLE_HASH_LEN);
	for (t = b->top - 1; t > 0; t--)
		if ((r = merkle_hash_node(b->h, b->f[t - 1], cur, cur)) != 0)
			return r;
	memcpy(out, cur, TK_MERKLE_HASH_LEN);
	return TK_VERIFY_OK;
}
