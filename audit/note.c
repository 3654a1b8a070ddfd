/*
 * C2SP signed notes: parsing and formatting (verification is in
 * note_verify.c). The parser follows golang.org/x/mod/sumdb/note, the
 * reference implementation, and is stricter in one place: C1 control
 * characters (U+0080..U+009F) and DEL are refused like C0 ones, as the
 * spec says "control characters".
 */
#include <stdlib.h>
#include <string.h>

#include "twokey/common.h"
#include "twokey/note.h"
#include "note_int.h"

static const char sig_prefix[] = "\xe2\x80\x94 ";	/* U+2014, space */
#define SIG_PREFIX_LEN (sizeof(sig_prefix) - 1)

/*
 * Decodes one UTF-8 sequence at s (n bytes available). Returns its length
 * and sets *cp, or 0 for an invalid, overlong, surrogate or out-of-range
 * sequence.
 */
size_t
note_utf8_next(const uint8_t *s, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		len = 2, c = s[0] & 0x1fu, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, c = s[0] & 0x0fu, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, c = s[0] & 0x07u, min = 0x10000;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3fu);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

static int
is_control(uint32_t c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f);
}

static int
is_space(uint32_t c)
{
	return c == ' ' || (c >= 0x09 && c <= 0x0d) || c == 0x85 ||
	    c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	    c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
	    c == 0x3000;
}

int
note_text_check(const char *s, size_t n, struct tk_verify_why *why)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, k, line, byte;
	uint32_t c;

	while (i < n) {
		k = note_utf8_next(p + i, n - i, &c);
		if (k == 0 || (is_control(c) && c != '\n')) {
			verify_line_of(s, i, &line, &byte);
			return verify_why(why, TK_VERIFY_ERR_MALFORMED,
			    k == 0 ? "line %zu, byte %zu: not UTF-8 text" :
			    "line %zu, byte %zu: a control character",
			    line, byte);
		}
		i += k;
	}
	return TK_VERIFY_OK;
}

/* 1 if s is UTF-8 without control characters other than newline. */
int
note_text_valid(const char *s, size_t n)
{
	return note_text_check(s, n, NULL) == TK_VERIFY_OK;
}

int
tk_note_name_valid(const char *name, size_t len)
{
	const uint8_t *p = (const uint8_t *)name;
	size_t i = 0, k;
	uint32_t c;

	if (len == 0)
		return 0;
	while (i < len) {
		if ((k = note_utf8_next(p + i, len - i, &c)) == 0)
			return 0;
		if (is_control(c) || is_space(c) || c == '+')
			return 0;
		i += k;
	}
	return 1;
}

void
tk_note_free(struct tk_note **np)
{
	struct tk_note *n;
	size_t i;

	if (np == NULL || (n = *np) == NULL)
		return;
	for (i = 0; i < n->nsigs; i++) {
		free(n->sigs[i].name);
		free(n->sigs[i].sig);
	}
	free(n->sigs);
	free(n->text);
	free(n);
	*np = NULL;
}

/*
 * Parses "— name base64" (line without its newline) into sig; lineno
 * is the line's number in the note, for why.
 */
static int
parse_sig_line(const char *line, size_t len, size_t lineno,
    struct tk_note_sig *sig, struct tk_verify_why *why)
{
	const char *name, *sp, *b64;
	uint8_t *raw = NULL;
	size_t rawlen, namelen;
	int r = TK_VERIFY_ERR_MALFORMED;

	if (len < SIG_PREFIX_LEN ||
	    memcmp(line, sig_prefix, SIG_PREFIX_LEN) != 0) {
		(void)verify_why(why, r, "line %zu: a signature line starts "
		    "with an em dash (U+2014) and a space", lineno);
		goto out;
	}
	name = line + SIG_PREFIX_LEN;
	if ((sp = memchr(name, ' ', len - SIG_PREFIX_LEN)) == NULL) {
		(void)verify_why(why, r, "line %zu: no space between the key "
		    "name and the signature", lineno);
		goto out;
	}
	namelen = (size_t)(sp - name);
	b64 = sp + 1;
	if (!tk_note_name_valid(name, namelen)) {
		(void)verify_why(why, r, "line %zu: the key name is empty or "
		    "has whitespace or '+'", lineno);
		goto out;
	}
	if (tk_b64_decode(b64, len - (size_t)(b64 - line), &raw,
	    &rawlen) != 0) {
		(void)verify_why(why, r, "line %zu: the signature is not "
		    "base64", lineno);
		goto out;
	}
	if (rawlen < 5) {
		(void)verify_why(why, r, "line %zu: the signature is shorter "
		    "than a key ID and one byte", lineno);
		goto out;
	}
	r = TK_VERIFY_ERR_NOMEM;
	if ((sig->name = strndup(name, namelen)) == NULL ||
	    (sig->sig = malloc(rawlen - 4)) == NULL)
		goto out;
	sig->key_id = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 |
	    (uint32_t)raw[2] << 8 | raw[3];
	memcpy(sig->sig, raw + 4, rawlen - 4);
	sig->sig_len = rawlen - 4;
	r = TK_VERIFY_OK;
out:
	free(raw);
	return r;
}

/*
 * Parses the signature block (every line ends in a newline); lineno is
 * the number of its first line in the note.
 */
static int
parse_sigs(struct tk_note *n, const char *s, size_t len, size_t lineno,
    struct tk_verify_why *why)
{
	const char *nl;
	size_t count = 0, i;
	int r;

	for (i = 0; i < len; i++)
		if (s[i] == '\n')
			count++;
	if (len == 0)
		return verify_why(why, TK_VERIFY_ERR_MALFORMED, "no signature "
		    "line after the last blank line");
	if (s[len - 1] != '\n')
		return verify_why(why, TK_VERIFY_ERR_MALFORMED, "line %zu "
		    "(the last) does not end in a newline", lineno + count);
	if (count > TK_NOTE_MAX_SIGS)
		return verify_why(why, TK_VERIFY_ERR_TOOBIG, "more than %d "
		    "signature lines", TK_NOTE_MAX_SIGS);
	if ((n->sigs = calloc(count, sizeof(*n->sigs))) == NULL)
		return TK_VERIFY_ERR_NOMEM;
	while (len > 0) {
		nl = memchr(s, '\n', len);
		r = parse_sig_line(s, (size_t)(nl - s), lineno++,
		    &n->sigs[n->nsigs], why);
		n->nsigs++;	/* so that a half-filled entry is freed */
		if (r != TK_VERIFY_OK)
			return r;
		len -= (size_t)(nl - s) + 1;
		s = nl + 1;
	}
	return TK_VERIFY_OK;
}

/* Offset of the last "\n\n" in s, or -1. */
static long
last_blank_line(const char *s, size_t len)
{
	size_t i;

	for (i = len; i >= 2; i--)
		if (s[i - 1] == '\n' && s[i - 2] == '\n')
			return (long)(i - 2);
	return -1;
}

int
tk_note_parse_why(const char *msg, size_t len, struct tk_note **out,
    struct tk_verify_why *why)
{
	struct tk_note *n = NULL;
	size_t sig_line, byte;
	long split;
	int r;

	*out = NULL;
	if (why != NULL)
		why->text[0] = '\0';
	if (len > TK_NOTE_MAX_LEN)
		return verify_why(why, TK_VERIFY_ERR_TOOBIG, "the note is "
		    "larger than %zu bytes", TK_NOTE_MAX_LEN);
	if ((r = note_text_check(msg, len, why)) != TK_VERIFY_OK)
		return r;
	if ((split = last_blank_line(msg, len)) < 0)
		return verify_why(why, TK_VERIFY_ERR_MALFORMED, "no blank line "
		    "between the text and the signature lines");
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return TK_VERIFY_ERR_NOMEM;
	r = TK_VERIFY_ERR_NOMEM;
	n->text_len = (size_t)split + 1;
	if ((n->text = strndup(msg, n->text_len)) == NULL)
		goto out;
	verify_line_of(msg, (size_t)split + 2, &sig_line, &byte);
	if ((r = parse_sigs(n, msg + split + 2, len - (size_t)split - 2,
	    sig_line, why)) != TK_VERIFY_OK)
		goto out;
	*out = n;
	n = NULL;
out:
	tk_note_free(&n);
	return r;
}

int
tk_note_parse(const char *msg, size_t len, struct tk_note **out)
{
	return tk_note_parse_why(msg, len, out, NULL);
}

/* Bytes one signature line takes: "— " name " " base64 "\n". */
static size_t
sig_line_len(const struct tk_note_sig *s)
{
	return SIG_PREFIX_LEN + strlen(s->name) + 1 +
	    4 * ((4 + s->sig_len + 2) / 3) + 1;
}

static int
format_check(const char *text, size_t len, const struct tk_note_sig *sigs,
    size_t nsigs, size_t *total)
{
	size_t i;

	if (len == 0 || text[len - 1] != '\n' || !note_text_valid(text, len))
		return TK_VERIFY_ERR_MALFORMED;
	if (nsigs == 0)
		return TK_VERIFY_ERR_NO_SIG;
	if (nsigs > TK_NOTE_MAX_SIGS || len > TK_NOTE_MAX_LEN)
		return TK_VERIFY_ERR_TOOBIG;
	*total = len + 1;
	for (i = 0; i < nsigs; i++) {
		if (sigs[i].name == NULL || sigs[i].sig_len == 0 ||
		    sigs[i].sig_len > 4096 ||
		    !tk_note_name_valid(sigs[i].name, strlen(sigs[i].name)))
			return TK_VERIFY_ERR_MALFORMED;
		*total += sig_line_len(&sigs[i]);
	}
	if (*total > TK_NOTE_MAX_LEN)
		return TK_VERIFY_ERR_TOOBIG;
	return TK_VERIFY_OK;
}

/* Appends one signature line at p; returns the bytes written or 0. */
static size_t
format_sig(char *p, const struct tk_note_sig *s)
{
	uint8_t raw[4 + 4096];
	size_t n = 0, l;
	char *b64;

	raw[0] = (uint8_t)(s->key_id >> 24);
	raw[1] = (uint8_t)(s->key_id >> 16);
	raw[2] = (uint8_t)(s->key_id >> 8);
	raw[3] = (uint8_t)s->key_id;
	memcpy(raw + 4, s->sig, s->sig_len);
	if ((b64 = tk_b64_encode(raw, 4 + s->sig_len)) == NULL)
		return 0;
	memcpy(p, sig_prefix, SIG_PREFIX_LEN);
	n += SIG_PREFIX_LEN;
	l = strlen(s->name);
	memcpy(p + n, s->name, l);
	n += l;
	p[n++] = ' ';
	l = strlen(b64);
	memcpy(p + n, b64, l);
	n += l;
	p[n++] = '\n';
	free(b64);
	return n;
}

int
tk_note_format(const char *text, size_t len, const struct tk_note_sig *sigs,
    size_t nsigs, char **out, size_t *outlen)
{
	size_t total = 0, off, i, k;
	char *buf;
	int r;

	*out = NULL;
	*outlen = 0;
	if ((r = format_check(text, len, sigs, nsigs, &total)) != 0)
		return r;
	if ((buf = malloc(total + 1)) == NULL)
		return TK_VERIFY_ERR_NOMEM;
	memcpy(buf, text, len);
	buf[len] = '\n';
	off = len + 1;
	for (i = 0; i < nsigs; i++) {
		if ((k = format_sig(buf + off, &sigs[i])) == 0) {
			free(buf);
			return TK_VERIFY_ERR_NOMEM;
		}
		off += k;
	}
	buf[off] = '\0';
	*out = buf;
	*outlen = off;
	return TK_VERIFY_OK;
}
