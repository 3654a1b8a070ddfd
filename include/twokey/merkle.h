/*
 * RFC 9162 (= RFC 6962 hashing) Merkle tree with SHA-256.
 *
 *   leaf hash  = SHA-256(0x00 || entry)
 *   node hash  = SHA-256(0x01 || left || right)
 *   empty tree = SHA-256("")
 *
 * A tree of n leaves splits at k, the largest power of two below n.
 * Leaf indices are 0-based. Errors are enum tk_verify_err (verify.h).
 *
 * Proof GENERATION reads hashes through a struct tk_merkle_source, so the
 * journal can feed it from SQLite: it supplies leaf hashes, and optionally
 * stored hashes of perfect subtrees (see tk_merkle_builder's node
 * callback). With stored subtrees a proof costs O(log n) look-ups and
 * O(log n) hashes (for the tree's ragged right edge), and no leaf scan;
 * without them it costs O(n) hashing. Proof VERIFICATION needs
 * only the proof (RFC 9162 2.1.3.2 and 2.1.4.2).
 *
 * Size-0 policy: a consistency proof from old size 0 is REFUSED with
 * TK_VERIFY_ERR_EMPTY_OLD, whatever the proof, before any hash is looked
 * at (as transparency-dev/merkle does). The empty tree is a prefix of
 * every tree, so such a "proof" would prove nothing, yet a caller could
 * record it as a check done. A verifier walking a checkpoint history
 * starts at the first signed checkpoint and never asks for consistency
 * from 0; c2sp.org/tlog-witness's "old size 0 is trivially consistent" is
 * a statement about witnesses, not a proof, and is left to such callers.
 *
 * Size and root must come together from one signed checkpoint: RFC 9162
 * verification binds a proof to the root, not fully to the size.
 */
#ifndef TWOKEY_MERKLE_H
#define TWOKEY_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "twokey/verify.h"

#define TK_MERKLE_HASH_LEN 32
/* No proof in a tree of at most 2^64 - 1 leaves is longer than this. */
#define TK_MERKLE_MAX_PROOF 64

typedef uint8_t tk_merkle_hash[TK_MERKLE_HASH_LEN];

/* SHA-256(0x00 || entry). Returns 0 or TK_VERIFY_ERR_CRYPTO. */
int tk_merkle_leaf_hash(const void *entry, size_t len, tk_merkle_hash out);
/* SHA-256(0x01 || left || right); out may alias left or right. */
int tk_merkle_node_hash(const tk_merkle_hash left,
    const tk_merkle_hash right, tk_merkle_hash out);
/* SHA-256(""), the root of the empty tree. */
void tk_merkle_empty_root(tk_merkle_hash out);

/*
 * Where proof generation and subtree roots read hashes from.
 *
 * leaf: required; writes the leaf hash of leaf index (< the size asked
 * for) and returns 0, or a negative value to abort (the caller then gets
 * TK_VERIFY_ERR_SOURCE).
 *
 * node: optional (NULL: everything is computed from leaves); writes the
 * hash of the perfect subtree of height `level` (>= 1) covering leaves
 * [index << level, (index + 1) << level) and returns 0; returns 1 when it
 * does not have that subtree stored (the library then computes it from
 * its two halves), or a negative value to abort.
 */
struct tk_merkle_source {
	int (*leaf)(void *arg, uint64_t index, tk_merkle_hash out);
	int (*node)(void *arg, unsigned level, uint64_t index,
	    tk_merkle_hash out);
	void *arg;
};

/* Backing store for tk_merkle_source_array; fields are private. */
struct tk_merkle_array {
	const tk_merkle_hash *leaves;
	uint64_t n;
};

/*
 * Fills src to read leaf hashes from an array of n hashes (no node
 * callback), through arr, which like the array must outlive src.
 */
void tk_merkle_source_array(struct tk_merkle_source *src,
    struct tk_merkle_array *arr, const tk_merkle_hash *leaves, uint64_t n);

/*
 * MTH(D[begin:end]): the RFC 9162 hash of the leaves [begin, end), end >
 * begin; the root of a tree of size n is tk_merkle_subtree_root(src, 0,
 * n). Uses src->node for every aligned perfect subtree inside the range.
 * O(end - begin) hashing without stored nodes, O(log n) look-ups with.
 */
int tk_merkle_subtree_root(const struct tk_merkle_source *src,
    uint64_t begin, uint64_t end, tk_merkle_hash out);
/* Root of the tree of size n; n == 0 gives the empty root. */
int tk_merkle_root(const struct tk_merkle_source *src, uint64_t n,
    tk_merkle_hash out);

/*
 * RFC 9162 2.1.3.1: the inclusion proof (audit path, leaf side first) of
 * leaf index in the tree of size n. proof holds TK_MERKLE_MAX_PROOF
 * hashes; *len receives the count. TK_VERIFY_ERR_RANGE if index >= n.
 */
int tk_merkle_inclusion_proof(const struct tk_merkle_source *src,
    uint64_t index, uint64_t n, tk_merkle_hash *proof, size_t *len);

/*
 * RFC 9162 2.1.4.1: the consistency proof from size m to size n, 0 < m <=
 * n (m == n gives an empty proof). proof holds TK_MERKLE_MAX_PROOF hashes.
 * m == 0 gives TK_VERIFY_ERR_EMPTY_OLD, m > n TK_VERIFY_ERR_RANGE.
 */
int tk_merkle_consistency_proof(const struct tk_merkle_source *src,
    uint64_t m, uint64_t n, tk_merkle_hash *proof, size_t *len);

/*
 * RFC 9162 2.1.3.2. Returns 0 only if leaf at index with the given proof
 * leads to root in a tree of size n. TK_VERIFY_ERR_RANGE for index >= n,
 * TK_VERIFY_ERR_PROOF_SIZE for a proof of the wrong length,
 * TK_VERIFY_ERR_MISMATCH when the recomputed root differs.
 */
int tk_merkle_verify_inclusion(uint64_t index, uint64_t n,
    const tk_merkle_hash leaf, const tk_merkle_hash *proof, size_t len,
    const tk_merkle_hash root);

/*
 * RFC 9162 2.1.4.2, including the final check that sn reaches 0. m == 0
 * is refused (TK_VERIFY_ERR_EMPTY_OLD, see the size-0 policy above); m
 * == n needs an empty proof and equal roots; m > n gives
 * TK_VERIFY_ERR_RANGE.
 */
int tk_merkle_verify_consistency(uint64_t m, uint64_t n,
    const tk_merkle_hash old_root, const tk_merkle_hash new_root,
    const tk_merkle_hash *proof, size_t len);

/*
 * Streaming tree builder: appends leaves in order, keeps the O(log n)
 * right frontier (the roots of the perfect subtrees of the current size,
 * largest first), and gives the root at any time. Appending is amortised
 * O(1) hashing per leaf; one reusable digest context, no allocation after
 * tk_merkle_builder_new. This is what the journal uses when it appends
 * and what twokey-verify uses to recompute a root over an export.
 */
struct tk_merkle_builder;

/*
 * Called for every perfect subtree that an append completes, leaves
 * (level 0) included, with the same (level, index) naming as
 * tk_merkle_source.node, so the journal can store them for proofs.
 * A negative return aborts the append with TK_VERIFY_ERR_SOURCE.
 */
typedef int (*tk_merkle_node_cb)(void *arg, unsigned level, uint64_t index,
    const tk_merkle_hash hash);

/* Returns a new empty builder (caller frees), or NULL without memory. */
struct tk_merkle_builder *tk_merkle_builder_new(void);
void tk_merkle_builder_free(struct tk_merkle_builder **bp);
void tk_merkle_builder_set_node_cb(struct tk_merkle_builder *b,
    tk_merkle_node_cb cb, void *arg);

/*
 * Resumes a tree of size n from its frontier: the roots of its perfect
 * subtrees, largest first, one per set bit of n (count = popcount(n)), as
 * tk_merkle_builder_frontier gives them.
 */
int tk_merkle_builder_restore(struct tk_merkle_builder *b, uint64_t n,
    const tk_merkle_hash *frontier, size_t count);
/* Copies the frontier (at most 64 hashes) into out; *count receives it. */
void tk_merkle_builder_frontier(const struct tk_merkle_builder *b,
    tk_merkle_hash *out, size_t *count);

int tk_merkle_builder_append_entry(struct tk_merkle_builder *b,
    const void *entry, size_t len);
int tk_merkle_builder_append_leaf(struct tk_merkle_builder *b,
    const tk_merkle_hash leaf);
uint64_t tk_merkle_builder_size(const struct tk_merkle_builder *b);
/* Root of the current size (the empty root for size 0). */
int tk_merkle_builder_root(struct tk_merkle_builder *b, tk_merkle_hash out);

#endif
