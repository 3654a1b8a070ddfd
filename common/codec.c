/*
 * base64, base64url and hex. OpenSSL does the base64 arithmetic; this file
 * adds the strictness twokey needs for input from the network: one
 * alphabet, no whitespace, canonical padding only. And JSON text that is
 * whole or nothing (tk_json_dumps).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "twokey/common.h"

/* Inputs beyond this are refused before any allocation. */
#define TK_B64_MAX ((size_t)64 * 1024 * 1024)

char *
tk_b64_encode(const uint8_t *in, size_t len)
{
	size_t cap;
	char *out;

	if (len > TK_B64_MAX)
		return NULL;
	cap = 4 * ((len + 2) / 3) + 1;
	if ((out = malloc(cap)) == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

char *
tk_b64url_encode(const uint8_t *in, size_t len)
{
	char *out, *p;

	if ((out = tk_b64_encode(in, len)) == NULL)
		return NULL;
	for (p = out; *p != '\0'; p++) {
		if (*p == '+')
			*p = '-';
		else if (*p == '/')
			*p = '_';
		else if (*p == '=') {
			*p = '\0';
			break;
		}
	}
	return out;
}

static int
b64_char_ok(char c, int url)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	if (url)
		return c == '-' || c == '_';
	return c == '+' || c == '/';
}

/*
 * Decodes padded standard base64 of length len (a multiple of 4, checked
 * by the caller) whose alphabet has been checked.
 */
static int
b64_decode_checked(const char *in, size_t len, size_t pad, uint8_t **out,
    size_t *outlen)
{
	uint8_t *buf;
	int n;

	if ((buf = malloc(len / 4 * 3 + 1)) == NULL)
		return TK_ERR_NOMEM;
	n = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)len);
	if (n < 0 || (size_t)n < pad) {
		free(buf);
		return TK_ERR_INVALID;
	}
	*out = buf;
	*outlen = (size_t)n - pad;
	return TK_OK;
}

/*
 * A final group's unused bits must be zero, or two strings would decode
 * to the same bytes; refusing them keeps encodings canonical.
 */
static int
b64_tail_canonical(char last, size_t pad, int url)
{
	static const char std[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p;
	int v;

	if (pad == 0)
		return 1;
	if (url && last == '-')
		last = '+';
	else if (url && last == '_')
		last = '/';
	if ((p = strchr(std, last)) == NULL)
		return 0;
	v = (int)(p - std);
	return pad == 1 ? (v & 0x3) == 0 : (v & 0xf) == 0;
}

static int
b64_decode_any(const char *in, size_t len, int url, uint8_t **out,
    size_t *outlen)
{
	char *tmp = NULL;
	size_t i, pad = 0, body = len, padded;
	int r = TK_ERR_INVALID;

	*out = NULL;
	*outlen = 0;
	if (len > TK_B64_MAX)
		return TK_ERR_TOOBIG;
	if (!url) {
		if (len % 4 != 0)
			goto out;
		while (body > 0 && pad < 2 && in[body - 1] == '=') {
			body--;
			pad++;
		}
	} else {
		if (len % 4 == 1)
			goto out;
		pad = (4 - len % 4) % 4;
	}
	for (i = 0; i < body; i++)
		if (!b64_char_ok(in[i], url))
			goto out;
	if (body > 0 && !b64_tail_canonical(in[body - 1], pad, url))
		goto out;
	padded = body + pad;
	if ((tmp = malloc(padded + 1)) == NULL) {
		r = TK_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < body; i++) {
		char c = in[i];

		if (url && c == '-')
			c = '+';
		else if (url && c == '_')
			c = '/';
		tmp[i] = c;
	}
	memset(tmp + body, '=', pad);
	tmp[padded] = '\0';
	r = b64_decode_checked(tmp, padded, pad, out, outlen);
out:
	free(tmp);
	return r;
}

int
tk_b64_decode(const char *in, size_t len, uint8_t **out, size_t *outlen)
{
	return b64_decode_any(in, len, 0, out, outlen);
}

int
tk_b64url_decode(const char *in, size_t len, uint8_t **out, size_t *outlen)
{
	return b64_decode_any(in, len, 1, out, outlen);
}

void
tk_hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

static int
hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
tk_hex_decode(const char *in, uint8_t *out, size_t outlen)
{
	size_t i;

	if (strlen(in) != 2 * outlen)
		return TK_ERR_INVALID;
	for (i = 0; i < outlen; i++) {
		int hi = hex_nibble(in[2 * i]);
		int lo = hex_nibble(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return TK_ERR_INVALID;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return TK_OK;
}

/*
 * json_dumpb writes into the caller's buffer, which never fails, so no
 * write can be lost the way json_dumps loses one (see common.h). The
 * first pass measures, the second writes; a failure inside jansson
 * (its loop check allocates) makes either pass return 0.
 */
char *
tk_json_dumps(const json_t *json, size_t flags)
{
	size_t need, got;
	char *s;

	if (json == NULL || (need = json_dumpb(json, NULL, 0, flags)) == 0)
		return NULL;
	if ((s = malloc(need + 1)) == NULL)
		return NULL;
	got = json_dumpb(json, s, need, flags);
	if (got != need) {
		free(s);
		return NULL;
	}
	s[need] = '\0';
	return s;
}

/*
 * jansson's allocations, watched: its lexer (2.14, lex_save) drops a
 * byte it could not store and carries on, so json_loadb can return a
 * document whose strings lost a character. A failure of any jansson
 * allocation during a parse makes tk_json_loadb refuse the result.
 */
static _Thread_local int json_nomem;
static pthread_once_t json_once = PTHREAD_ONCE_INIT;

static void *
json_alloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL)
		json_nomem = 1;
	return p;
}

static void
json_alloc_init(void)
{
	json_set_alloc_funcs(json_alloc, free);
}

json_t *
tk_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *err,
    int *nomem)
{
	json_t *j;

	(void)pthread_once(&json_once, json_alloc_init);
	json_nomem = 0;
	j = json_loadb(buf, len, flags, err);
	*nomem = json_nomem;
	if (json_nomem) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/*
 * Code points that draw nothing, or nothing but a blank, though they are
 * not spaces: fillers (Hangul, braille), the combining grapheme joiner,
 * Khmer's inherent vowels, Mongolian selectors, musical formatting,
 * variation selectors (U+FE0F aside, which asks for an emoji's colour)
 * and the tag and supplementary selector planes, all of which can carry
 * text that a reader does not see.
 */
static int
blank(uint32_t cp)
{
	return cp == 0x34f || cp == 0x115f || cp == 0x1160 ||
	    cp == 0x17b4 || cp == 0x17b5 || (cp >= 0x180b && cp <= 0x180f) ||
	    cp == 0x2800 || cp == 0x3164 || cp == 0xffa0 ||
	    (cp >= 0xfe00 && cp <= 0xfe0e) ||
	    (cp >= 0x1d173 && cp <= 0x1d17a) ||
	    (cp >= 0xe0000 && cp <= 0xe0fff);
}

/*
 * Code points that change how the text around them reads without being
 * seen: C1 controls, the soft hyphen, zero-width and direction marks,
 * embeddings, overrides and isolates, line and paragraph separators, the
 * byte order mark and the interlinear annotation marks. A name holding
 * U+202E shows an approver other words than the ones it is made of.
 */
static int
invisible(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	    cp == 0xad || cp == 0x61c || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x206f) ||
	    cp == 0xfeff || (cp >= 0xfff9 && cp <= 0xfffb) || blank(cp);
}

/* One code point of well-formed UTF-8; its length, or 0 if malformed. */
static size_t
utf8_next(const unsigned char *p, size_t left, uint32_t *cp)
{
	size_t n, i;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, *cp = p[0] & 0x1fu;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, *cp = p[0] & 0x0fu;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, *cp = p[0] & 0x07u;
	else
		return 0;
	if (n > left)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (p[i] & 0x3fu);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((n == 3 && *cp < 0x800) || (n == 4 && *cp < 0x10000) ||
	    (*cp >= 0xd800 && *cp <= 0xdfff) || *cp > 0x10ffff)
		return 0;
	return n;
}

int
tk_text_printable(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t i, n;

	for (i = 0; i < len; i += n)
		if ((n = utf8_next(p + i, len - i, &cp)) == 0 ||
		    invisible(cp))
			return 0;
	return 1;
}

const char *
tk_json_error_words(const json_error_t *err)
{
	switch (json_error_code(err)) {
	case json_error_duplicate_key:
		return "a key is given twice in one object";
	case json_error_null_character:
	case json_error_null_byte_in_key:
		return "a NUL character (\\u0000) is not allowed";
	case json_error_invalid_utf8:
		return "the text is not valid UTF-8";
	case json_error_numeric_overflow:
		return "a number is too large";
	case json_error_premature_end_of_input:
		return "the text ends too early";
	case json_error_end_of_input_expected:
		return "there is more after the end of the value";
	case json_error_wrong_type:
		return "expected a JSON object";
	case json_error_item_not_found:
	case json_error_index_out_of_range:
	case json_error_out_of_memory:
	case json_error_stack_overflow:
		return "nested too deeply, or too large";
	case json_error_cannot_open_file:
	case json_error_invalid_argument:
	case json_error_invalid_syntax:
	case json_error_invalid_format:
	case json_error_unknown:
	default:
		return "invalid syntax";
	}
}

static int
digits(const char *s, size_t n, int *out)
{
	size_t i;

	*out = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*out = *out * 10 + (s[i] - '0');
	}
	return 0;
}

int
tk_utc_parse(const char *s, int64_t *out)
{
	struct tm tm, back;
	int y, mo, d, h = 0, mi = 0, se = 0;
	size_t n = s != NULL ? strlen(s) : 0;
	time_t t;

	if ((n != 10 && n != 20) || digits(s, 4, &y) != 0 || s[4] != '-' ||
	    digits(s + 5, 2, &mo) != 0 || s[7] != '-' ||
	    digits(s + 8, 2, &d) != 0)
		return -1;
	if (n == 20 && (s[10] != 'T' || digits(s + 11, 2, &h) != 0 ||
	    s[13] != ':' || digits(s + 14, 2, &mi) != 0 || s[16] != ':' ||
	    digits(s + 17, 2, &se) != 0 || s[19] != 'Z'))
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
	    mi > 59 || se > 59)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	/* 2026-02-30 normalises to March: refuse it. */
	if ((t = timegm(&tm)) == (time_t)-1 || gmtime_r(&t, &back) == NULL ||
	    back.tm_mday != d || back.tm_mon != mo - 1)
		return -1;
	*out = (int64_t)t;
	return 0;
}
