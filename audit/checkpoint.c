/*
 * c2sp.org/tlog-checkpoint text: parse, format, and open a signed one.
 * Strict where C2SP is: final newline, non-empty origin, decimal size
 * without leading zeros, a root of exactly 32 bytes, non-empty extension
 * lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twokey/checkpoint.h"
#include "twokey/common.h"
#include "note_int.h"

void
tk_checkpoint_free(struct tk_checkpoint **cpp)
{
	if (cpp == NULL || *cpp == NULL)
		return;
	free((*cpp)->origin);
	free((*cpp)->extensions);
	free(*cpp);
	*cpp = NULL;
}

/*
 * Parses a decimal uint64 of exactly len bytes: digits only, no sign, no
 * leading zero unless the number is 0, no overflow.
 */
int
verify_parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return TK_VERIFY_ERR_MALFORMED;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return TK_VERIFY_ERR_MALFORMED;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return TK_VERIFY_ERR_MALFORMED;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return TK_VERIFY_OK;
}

/*
 * Extension lines: zero or more non-empty lines, each ending in \n.
 * Returns the offset in s of the first bad line (len when all hold).
 */
static size_t
extensions_bad_at(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return len;
	if (s[0] == '\n')
		return 0;
	for (i = 1; i < len; i++)
		if (s[i] == '\n' && s[i - 1] == '\n')
			return i;
	return s[len - 1] != '\n' ? len - 1 : len;
}

static int
extensions_valid(const char *s, size_t len)
{
	return extensions_bad_at(s, len) == len;
}

int
verify_next_line(const char *s, size_t len, size_t *off, const char **line,
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
parse_root(const char *s, size_t len, tk_merkle_hash root)
{
	uint8_t *raw = NULL;
	size_t rawlen = 0;
	int r = TK_VERIFY_ERR_MALFORMED;

	if (tk_b64_decode(s, len, &raw, &rawlen) == 0 &&
	    rawlen == TK_MERKLE_HASH_LEN) {
		memcpy(root, raw, TK_MERKLE_HASH_LEN);
		r = TK_VERIFY_OK;
	}
	free(raw);
	return r;
}

/* Origin, size and root: the first three lines of the text. */
static int
parse_head(struct tk_checkpoint *cp, const char *text, size_t len,
    size_t *off, struct tk_verify_why *why)
{
	const char *line;
	size_t llen;

	if (verify_next_line(text, len, off, &line, &llen) != 0 || llen == 0)
		return verify_why(why, TK_VERIFY_ERR_MALFORMED, "line 1 (the "
		    "origin) is empty");
	if ((cp->origin = strndup(line, llen)) == NULL)
		return TK_VERIFY_ERR_NOMEM;
	if (verify_next_line(text, len, off, &line, &llen) != 0)
		return verify_why(why, TK_VERIFY_ERR_MALFORMED, "line 2 (the "
		    "tree size) is missing");
	if (verify_parse_u64(line, llen, &cp->size) != 0)
		return verify_why(why, TK_VERIFY_ERR_MALFORMED, "line 2 is not "
		    "a tree size (a decimal number without leading zeros)");
	if (verify_next_line(text, len, off, &line, &llen) != 0)
		return verify_why(why, TK_VERIFY_ERR_MALFORMED, "line 3 (the "
		    "root hash) is missing");
	if (parse_root(line, llen, cp->root) != 0)
		return verify_why(why, TK_VERIFY_ERR_MALFORMED, "line 3 is not "
		    "a root hash (base64 of 32 bytes)");
	return TK_VERIFY_OK;
}

int
tk_checkpoint_parse_why(const char *text, size_t len,
    struct tk_checkpoint **out, struct tk_verify_why *why)
{
	struct tk_checkpoint *cp = NULL;
	size_t off = 0, bad, line, byte;
	int r;

	*out = NULL;
	if (why != NULL)
		why->text[0] = '\0';
	if (len > TK_NOTE_MAX_LEN)
		return verify_why(why, TK_VERIFY_ERR_TOOBIG, "the checkpoint "
		    "is larger than %zu bytes", TK_NOTE_MAX_LEN);
	if (len == 0 || text[len - 1] != '\n')
		return verify_why(why, TK_VERIFY_ERR_MALFORMED, "the "
		    "checkpoint is empty or does not end in a newline");
	if ((r = note_text_check(text, len, why)) != TK_VERIFY_OK)
		return r;
	if ((cp = calloc(1, sizeof(*cp))) == NULL)
		return TK_VERIFY_ERR_NOMEM;
	if ((r = parse_head(cp, text, len, &off, why)) != TK_VERIFY_OK)
		goto out;
	if ((bad = extensions_bad_at(text + off, len - off)) != len - off) {
		verify_line_of(text, off + bad, &line, &byte);
		r = verify_why(why, TK_VERIFY_ERR_MALFORMED, "line %zu: an "
		    "extension line is empty", line);
		goto out;
	}
	if (off < len) {
		r = TK_VERIFY_ERR_NOMEM;
		if ((cp->extensions = strndup(text + off, len - off)) == NULL)
			goto out;
		cp->ext_len = len - off;
	}
	*out = cp;
	cp = NULL;
	r = TK_VERIFY_OK;
out:
	tk_checkpoint_free(&cp);
	return r;
}

int
tk_checkpoint_parse(const char *text, size_t len,
    struct tk_checkpoint **out)
{
	return tk_checkpoint_parse_why(text, len, out, NULL);
}

int
tk_checkpoint_format(const struct tk_checkpoint *cp, char **out,
    size_t *outlen)
{
	char *b64 = NULL, *buf = NULL;
	size_t olen, cap;
	int n, r = TK_VERIFY_ERR_MALFORMED;

	*out = NULL;
	*outlen = 0;
	if (cp->origin == NULL || (olen = strlen(cp->origin)) == 0 ||
	    memchr(cp->origin, '\n', olen) != NULL ||
	    !note_text_valid(cp->origin, olen) ||
	    (cp->ext_len > 0 && (cp->extensions == NULL ||
	    !note_text_valid(cp->extensions, cp->ext_len) ||
	    !extensions_valid(cp->extensions, cp->ext_len))))
		goto out;
	r = TK_VERIFY_ERR_NOMEM;
	if ((b64 = tk_b64_encode(cp->root, TK_MERKLE_HASH_LEN)) == NULL)
		goto out;
	cap = olen + 1 + 21 + strlen(b64) + 1 + cp->ext_len + 1;
	if ((buf = malloc(cap)) == NULL)
		goto out;
	n = snprintf(buf, cap, "%s\n%llu\n%s\n", cp->origin,
	    (unsigned long long)cp->size, b64);
	if (n < 0 || (size_t)n + cp->ext_len >= cap)
		goto out;
	if (cp->ext_len > 0)
		memcpy(buf + n, cp->extensions, cp->ext_len);
	buf[(size_t)n + cp->ext_len] = '\0';
	*outlen = (size_t)n + cp->ext_len;
	*out = buf;
	buf = NULL;
	r = TK_VERIFY_OK;
out:
	free(b64);
	free(buf);
	return r;
}

int
tk_checkpoint_open(const char *msg, size_t len,
    struct tk_note_verifier *const *keys, size_t nkeys, const char *origin,
    struct tk_checkpoint **out)
{
	struct tk_note *n = NULL;
	struct tk_checkpoint *cp = NULL;
	int r;

	*out = NULL;
	if ((r = tk_note_open(msg, len, keys, nkeys, &n)) != 0)
		goto out;
	if ((r = tk_checkpoint_parse(n->text, n->text_len, &cp)) != 0)
		goto out;
	r = TK_VERIFY_ERR_ORIGIN;
	if (origin != NULL && strcmp(origin, cp->origin) != 0)
		goto out;
	*out = cp;
	cp = NULL;
	r = TK_VERIFY_OK;
out:
	tk_checkpoint_free(&cp);
	tk_note_free(&n);
	return r;
}
