/*
 * c2sp.org/tlog-proof@v1 files: parse, format, verify. The checkpoint at
 * the end is kept verbatim; only tk_tlog_proof_verify opens it, and the
 * tree size and root used for the inclusion check come from it alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twokey/common.h"
#include "twokey/tlogproof.h"
#include "note_int.h"

void
tk_tlog_proof_free(struct tk_tlog_proof **pp)
{
	if (pp == NULL || *pp == NULL)
		return;
	free((*pp)->extra);
	free((*pp)->hashes);
	free((*pp)->checkpoint);
	free(*pp);
	*pp = NULL;
}

/* Next line at *off without its newline; -1 at the end. */
static int
take_line(const char *s, size_t len, size_t *off, const char **line,
    size_t *llen)
{
	const char *nl;

	if (*off >= len ||
	    (nl = memchr(s + *off, '\n', len - *off)) == NULL)
		return -1;
	*line = s + *off;
	*llen = (size_t)(nl - *line);
	*off += *llen + 1;
	return 0;
}

static int
starts_with(const char *line, size_t llen, const char *prefix)
{
	size_t n = strlen(prefix);

	return llen >= n && memcmp(line, prefix, n) == 0;
}

/* Header, optional extra, index. */
static int
parse_head(struct tk_tlog_proof *p, const char *s, size_t len,
    size_t *off)
{
	const char *line;
	size_t llen;

	if (take_line(s, len, off, &line, &llen) != 0 ||
	    llen != strlen(TK_TLOG_PROOF_HEADER) ||
	    memcmp(line, TK_TLOG_PROOF_HEADER, llen) != 0 ||
	    take_line(s, len, off, &line, &llen) != 0)
		return TK_VERIFY_ERR_MALFORMED;
	if (starts_with(line, llen, "extra ")) {
		if (tk_b64_decode(line + 6, llen - 6, &p->extra,
		    &p->extra_len) != 0)
			return TK_VERIFY_ERR_MALFORMED;
		p->has_extra = 1;
		if (take_line(s, len, off, &line, &llen) != 0)
			return TK_VERIFY_ERR_MALFORMED;
	}
	if (!starts_with(line, llen, "index ") ||
	    verify_parse_u64(line + 6, llen - 6, &p->index) != 0)
		return TK_VERIFY_ERR_MALFORMED;
	return TK_VERIFY_OK;
}

/* Audit path lines up to the blank line. */
static int
parse_hashes(struct tk_tlog_proof *p, const char *s, size_t len,
    size_t *off)
{
	const char *line;
	uint8_t *raw;
	size_t llen, rawlen;

	if ((p->hashes = calloc(TK_MERKLE_MAX_PROOF,
	    sizeof(*p->hashes))) == NULL)
		return TK_VERIFY_ERR_NOMEM;
	for (;;) {
		if (take_line(s, len, off, &line, &llen) != 0)
			return TK_VERIFY_ERR_MALFORMED;
		if (llen == 0)
			return TK_VERIFY_OK;
		if (p->nhashes == TK_MERKLE_MAX_PROOF)
			return TK_VERIFY_ERR_TOOBIG;
		if (tk_b64_decode(line, llen, &raw, &rawlen) != 0)
			return TK_VERIFY_ERR_MALFORMED;
		if (rawlen != TK_MERKLE_HASH_LEN) {
			free(raw);
			return TK_VERIFY_ERR_MALFORMED;
		}
		memcpy(p->hashes[p->nhashes++], raw, TK_MERKLE_HASH_LEN);
		free(raw);
	}
}

int
tk_tlog_proof_parse(const char *text, size_t len,
    struct tk_tlog_proof **out)
{
	struct tk_tlog_proof *p = NULL;
	size_t off = 0;
	int r;

	*out = NULL;
	if (len > TK_TLOG_PROOF_MAX_LEN)
		return TK_VERIFY_ERR_TOOBIG;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return TK_VERIFY_ERR_NOMEM;
	if ((r = parse_head(p, text, len, &off)) != 0 ||
	    (r = parse_hashes(p, text, len, &off)) != 0)
		goto out;
	r = TK_VERIFY_ERR_MALFORMED;
	if (off >= len || memchr(text + off, '\0', len - off) != NULL)
		goto out;
	r = TK_VERIFY_ERR_NOMEM;
	if ((p->checkpoint = strndup(text + off, len - off)) == NULL)
		goto out;
	p->checkpoint_len = len - off;
	*out = p;
	p = NULL;
	r = TK_VERIFY_OK;
out:
	tk_tlog_proof_free(&p);
	return r;
}

static int
format_check(const struct tk_tlog_proof *p)
{
	if (p->nhashes > TK_MERKLE_MAX_PROOF || p->checkpoint == NULL ||
	    p->checkpoint_len == 0 ||
	    memchr(p->checkpoint, '\0', p->checkpoint_len) != NULL ||
	    p->checkpoint_len > TK_TLOG_PROOF_MAX_LEN ||
	    (p->has_extra && p->extra_len > TK_TLOG_PROOF_MAX_LEN / 2))
		return TK_VERIFY_ERR_MALFORMED;
	return TK_VERIFY_OK;
}

/* Appends s (n bytes) at *off; the caller sized buf. */
static void
put(char *buf, size_t *off, const char *s, size_t n)
{
	memcpy(buf + *off, s, n);
	*off += n;
}

int
tk_tlog_proof_format(const struct tk_tlog_proof *p, char **out,
    size_t *outlen)
{
	char *buf = NULL, *b64 = NULL, idx[32];
	size_t cap, off = 0, i;
	int r, n;

	*out = NULL;
	*outlen = 0;
	if ((r = format_check(p)) != 0)
		return r;
	r = TK_VERIFY_ERR_NOMEM;
	if (p->has_extra && (b64 = tk_b64_encode(p->extra,
	    p->extra_len)) == NULL)
		goto out;
	cap = sizeof(TK_TLOG_PROOF_HEADER) + (b64 ? 7 + strlen(b64) : 0) +
	    sizeof(idx) + p->nhashes * 45 + 1 + p->checkpoint_len + 1;
	if ((buf = malloc(cap)) == NULL)
		goto out;
	put(buf, &off, TK_TLOG_PROOF_HEADER "\n",
	    sizeof(TK_TLOG_PROOF_HEADER));
	if (b64 != NULL) {
		put(buf, &off, "extra ", 6);
		put(buf, &off, b64, strlen(b64));
		put(buf, &off, "\n", 1);
	}
	n = snprintf(idx, sizeof(idx), "index %llu\n",
	    (unsigned long long)p->index);
	put(buf, &off, idx, (size_t)n);
	for (i = 0; i < p->nhashes; i++) {
		free(b64);
		if ((b64 = tk_b64_encode(p->hashes[i],
		    TK_MERKLE_HASH_LEN)) == NULL)
			goto out;
		put(buf, &off, b64, strlen(b64));
		put(buf, &off, "\n", 1);
	}
	put(buf, &off, "\n", 1);
	put(buf, &off, p->checkpoint, p->checkpoint_len);
	buf[off] = '\0';
	*out = buf;
	*outlen = off;
	buf = NULL;
	r = TK_VERIFY_OK;
out:
	free(b64);
	free(buf);
	return r;
}

int
tk_tlog_proof_verify(const struct tk_tlog_proof *p, const void *entry,
    size_t len, struct tk_note_verifier *const *keys, size_t nkeys,
    const char *origin, struct tk_checkpoint **cpp)
{
	struct tk_checkpoint *cp = NULL;
	tk_merkle_hash leaf;
	int r;

	if (cpp != NULL)
		*cpp = NULL;
	if ((r = tk_checkpoint_open(p->checkpoint, p->checkpoint_len, keys,
	    nkeys, origin, &cp)) != 0)
		goto out;
	if ((r = tk_merkle_leaf_hash(entry, len, leaf)) != 0)
		goto out;
	if ((r = tk_merkle_verify_inclusion(p->index, cp->size, leaf,
	    (const tk_merkle_hash *)p->hashes, p->nhashes, cp->root)) != 0)
		goto out;
	if (cpp != NULL) {
		*cpp = cp;
		cp = NULL;
	}
out:
	tk_checkpoint_free(&cp);
	return r;
}
