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

static int
starts_with(const char *line, size_t llen, const char *prefix)
{
	size_t n = strlen(prefix);

	return llen >= n && memcmp(line, prefix, n) == 0;
}

/* The proof file being parsed: where we are, and why it failed. */
struct cursor {
	const char *s;
	size_t len;
	size_t off;
	size_t line;		/* number of the line last read */
	struct tk_verify_why *why;
};

/* The next line, or -1 at the end of the file (lines end in \n). */
static int
next_line(struct cursor *c, const char **line, size_t *llen)
{
	if (verify_next_line(c->s, c->len, &c->off, line, llen) != 0)
		return -1;
	c->line++;
	return 0;
}

static int
ends_early(struct cursor *c, const char *missing)
{
	return verify_why(c->why, TK_VERIFY_ERR_MALFORMED, "the file ends "
	    "after line %zu, before %s", c->line, missing);
}

/* Header, optional extra, index. */
static int
parse_head(struct tk_tlog_proof *p, struct cursor *c)
{
	const char *line;
	size_t llen;

	if (next_line(c, &line, &llen) != 0 ||
	    llen != strlen(TK_TLOG_PROOF_HEADER) ||
	    memcmp(line, TK_TLOG_PROOF_HEADER, llen) != 0)
		return verify_why(c->why, TK_VERIFY_ERR_MALFORMED, "not a "
		    "tlog-proof file (line 1 must be \"%s\")",
		    TK_TLOG_PROOF_HEADER);
	if (next_line(c, &line, &llen) != 0)
		return ends_early(c, "the index line");
	if (starts_with(line, llen, "extra ")) {
		if (tk_b64_decode(line + 6, llen - 6, &p->extra,
		    &p->extra_len) != 0)
			return verify_why(c->why, TK_VERIFY_ERR_MALFORMED,
			    "line %zu: \"extra\" is not followed by base64",
			    c->line);
		p->has_extra = 1;
		if (next_line(c, &line, &llen) != 0)
			return ends_early(c, "the index line");
	}
	if (!starts_with(line, llen, "index ") ||
	    verify_parse_u64(line + 6, llen - 6, &p->index) != 0)
		return verify_why(c->why, TK_VERIFY_ERR_MALFORMED, "line %zu "
		    "is not \"index\" and an entry number (decimal, without "
		    "leading zeros)", c->line);
	return TK_VERIFY_OK;
}

/* One audit path line into p->hashes. */
static int
parse_hash(struct tk_tlog_proof *p, struct cursor *c, const char *line,
    size_t llen)
{
	uint8_t *raw;
	size_t rawlen;

	if (p->nhashes == TK_MERKLE_MAX_PROOF)
		return verify_why(c->why, TK_VERIFY_ERR_TOOBIG, "line %zu: "
		    "more than %d hashes in the audit path", c->line,
		    TK_MERKLE_MAX_PROOF);
	if (tk_b64_decode(line, llen, &raw, &rawlen) != 0)
		return verify_why(c->why, TK_VERIFY_ERR_MALFORMED, "line %zu "
		    "is not a hash (base64), nor the blank line before the "
		    "checkpoint", c->line);
	if (rawlen != TK_MERKLE_HASH_LEN) {
		free(raw);
		return verify_why(c->why, TK_VERIFY_ERR_MALFORMED, "line %zu: "
		    "the hash is %zu bytes, not %d", c->line, rawlen,
		    TK_MERKLE_HASH_LEN);
	}
	memcpy(p->hashes[p->nhashes++], raw, TK_MERKLE_HASH_LEN);
	free(raw);
	return TK_VERIFY_OK;
}

/* Audit path lines up to the blank line. */
static int
parse_hashes(struct tk_tlog_proof *p, struct cursor *c)
{
	const char *line;
	size_t llen;
	int r;

	if ((p->hashes = calloc(TK_MERKLE_MAX_PROOF,
	    sizeof(*p->hashes))) == NULL)
		return TK_VERIFY_ERR_NOMEM;
	for (;;) {
		if (next_line(c, &line, &llen) != 0)
			return ends_early(c, "the blank line and the "
			    "checkpoint");
		if (llen == 0)
			return TK_VERIFY_OK;
		if ((r = parse_hash(p, c, line, llen)) != TK_VERIFY_OK)
			return r;
	}
}

int
tk_tlog_proof_parse_why(const char *text, size_t len,
    struct tk_tlog_proof **out, struct tk_verify_why *why)
{
	struct tk_tlog_proof *p = NULL;
	struct cursor c;
	int r;

	*out = NULL;
	if (why != NULL)
		why->text[0] = '\0';
	memset(&c, 0, sizeof(c));
	c.s = text;
	c.len = len;
	c.why = why;
	if (len > TK_TLOG_PROOF_MAX_LEN)
		return verify_why(why, TK_VERIFY_ERR_TOOBIG, "the proof file "
		    "is larger than %zu bytes", TK_TLOG_PROOF_MAX_LEN);
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return TK_VERIFY_ERR_NOMEM;
	if ((r = parse_head(p, &c)) != 0 || (r = parse_hashes(p, &c)) != 0)
		goto out;
	if (c.off >= len) {
		r = ends_early(&c, "the checkpoint");
		goto out;
	}
	if (memchr(text + c.off, '\0', len - c.off) != NULL) {
		r = verify_why(why, TK_VERIFY_ERR_MALFORMED, "the checkpoint "
		    "(from line %zu) holds a NUL byte", c.line + 1);
		goto out;
	}
	r = TK_VERIFY_ERR_NOMEM;
	if ((p->checkpoint = strndup(text + c.off, len - c.off)) == NULL)
		goto out;
	p->checkpoint_len = len - c.off;
	*out = p;
	p = NULL;
	r = TK_VERIFY_OK;
out:
	tk_tlog_proof_free(&p);
	return r;
}

int
tk_tlog_proof_parse(const char *text, size_t len,
    struct tk_tlog_proof **out)
{
	return tk_tlog_proof_parse_why(text, len, out, NULL);
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
