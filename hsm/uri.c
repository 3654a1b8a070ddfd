/*
 * RFC 7512 PKCS#11 URIs, parsed strictly: every percent escape must be
 * well formed, a known attribute may appear once, and a PIN may never be
 * carried in the URI itself (pin-value is refused) because URIs end up in
 * argv, the environment and configuration files. Unknown attributes are
 * ignored, as RFC 7512 asks of consumers.
 *
 * Accepted pin-source forms (the PIN file must be mode 0600 or stricter):
 *   pin-source=file:/abs/path    (also file:///abs/path and /abs/path)
 *   pin-source=credential:NAME   $CREDENTIALS_DIRECTORY/NAME, the systemd
 *                                credential NAME (LoadCredential=NAME:...)
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "twokey/common.h"
#include "hsm_int.h"

struct attr_slot {
	const char *name;
	size_t off;		/* offset of the char * in tk_p11_uri */
};

#define SLOT(n, f) { n, offsetof(struct tk_p11_uri, f) }
static const struct attr_slot path_attrs[] = {
	SLOT("token", token),
	SLOT("manufacturer", manufacturer),
	SLOT("serial", serial),
	SLOT("model", model),
	SLOT("object", object),
	SLOT("type", type),
};
#undef SLOT

/* Path attributes we recognise but do not use; their escapes are checked. */
static const char *const path_ignored[] = {
	"library-manufacturer", "library-description", "library-version",
	"slot-description", "slot-manufacturer", "slot-id",
};

static void why_fmt(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Untrusted parts of the URI are escaped before they reach a message. */
#define ESC(s, n) tk_log_escape((char[64]){ 0 }, 64, (s), (n))

static void
why_fmt(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Characters allowed unescaped in an attribute value (RFC 7512 2.3). */
static int
value_char_ok(int c, int query)
{
	if (isalnum(c) || strchr("-._~:[]@!$'()*+,=", c) != NULL)
		return 1;
	if (query && (c == '/' || c == '?' || c == '|'))
		return 1;
	return 0;
}

/*
 * Percent-decodes s[0..n) into a new NUL-terminated buffer. Returns -1 on a
 * malformed escape or a character that must be escaped.
 */
static int
pct_decode(const char *s, size_t n, int query, uint8_t **out, size_t *outlen)
{
	uint8_t *buf;
	size_t i, o = 0;

	if ((buf = malloc(n + 1)) == NULL)
		return -2;
	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i], hi, lo;

		if (c != '%') {
			if (!value_char_ok(c, query))
				goto bad;
			buf[o++] = (uint8_t)c;
			continue;
		}
		if (n - i < 3)
			goto bad;
		if ((hi = hexval(s[i + 1])) < 0 || (lo = hexval(s[i + 2])) < 0)
			goto bad;
		buf[o++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	return 0;
bad:
	free(buf);
	return -1;
}

static char **
slot_of(struct tk_p11_uri *u, size_t off)
{
	return (char **)(void *)((char *)u + off);
}

static int
name_is(const char *name, size_t nlen, const char *want)
{
	return strlen(want) == nlen && memcmp(name, want, nlen) == 0;
}

/*
 * Decodes a text value: no NUL bytes (they would cut the string silently).
 */
static int
decode_text(const char *v, size_t vlen, int query, char **out)
{
	uint8_t *buf;
	size_t len;
	int r;

	if ((r = pct_decode(v, vlen, query, &buf, &len)) != 0)
		return r;
	if (len == 0 || memchr(buf, '\0', len) != NULL) {
		free(buf);
		return len == 0 ? -3 : -4;
	}
	*out = (char *)buf;
	return 0;
}

/* Names what was wrong with a value: r from pct_decode / decode_text. */
static int
bad_value(int r, const char *name, size_t nlen, char *why, size_t whylen)
{
	static const char *const what[] = {
		"malformed percent escape or unescaped character",
		"out of memory", "empty value", "NUL byte" };

	if (r == -2)
		return TK_HSM_ERR_NOMEM;
	why_fmt(why, whylen, "%s in attribute '%s'",
	    what[r >= -4 && r <= -1 ? -r - 1 : 0], ESC(name, nlen));
	return TK_HSM_ERR_URI;
}

static int
path_attr(struct tk_p11_uri *u, const char *name, size_t nlen,
    const char *v, size_t vlen, char *why, size_t whylen)
{
	size_t i;
	int r;

	if (name_is(name, nlen, "id")) {
		if (u->id != NULL)
			goto dup;
		r = pct_decode(v, vlen, 0, &u->id, &u->id_len);
		if (r == 0 && u->id_len == 0)
			r = -3;
		goto decoded;
	}
	for (i = 0; i < sizeof(path_attrs) / sizeof(path_attrs[0]); i++) {
		char **dst = slot_of(u, path_attrs[i].off);

		if (!name_is(name, nlen, path_attrs[i].name))
			continue;
		if (*dst != NULL)
			goto dup;
		r = decode_text(v, vlen, 0, dst);
		goto decoded;
	}
	for (i = 0; i < sizeof(path_ignored) / sizeof(path_ignored[0]); i++) {
		char *tmp = NULL;

		if (!name_is(name, nlen, path_ignored[i]))
			continue;
		r = decode_text(v, vlen, 0, &tmp);
		free(tmp);
		goto decoded;
	}
	return 0;	/* unknown path attributes are ignored (RFC 7512) */
decoded:
	return r == 0 ? 0 : bad_value(r, name, nlen, why, whylen);
dup:
	why_fmt(why, whylen, "attribute '%s' appears twice", ESC(name, nlen));
	return TK_HSM_ERR_URI;
}

/* A systemd credential name: no path separators, no dot-only names. */
static int
credential_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 255 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("-_.@", s[i]) ==
		    NULL)
			return 0;
	return 1;
}

static int
pin_source(struct tk_p11_uri *u, char *src, char *why, size_t whylen)
{
	const char *path = NULL;

	if (strncmp(src, "credential:", 11) == 0) {
		if (!credential_name_ok(src + 11)) {
			why_fmt(why, whylen, "pin-source credential name "
			    "'%s' is not a plain name",
			    ESC(src + 11, strlen(src + 11)));
			return TK_HSM_ERR_URI;
		}
		u->pin_credential = strdup(src + 11);
		return u->pin_credential == NULL ? TK_HSM_ERR_NOMEM : 0;
	}
	if (strncmp(src, "file://", 7) == 0)
		path = src + 7;
	else if (strncmp(src, "file:", 5) == 0)
		path = src + 5;
	else
		path = src;
	if (path[0] != '/') {
		why_fmt(why, whylen, "pin-source '%s' is neither file:/ABSOLUTE"
		    " nor credential:NAME", ESC(src, strlen(src)));
		return TK_HSM_ERR_URI;
	}
	u->pin_file = strdup(path);
	return u->pin_file == NULL ? TK_HSM_ERR_NOMEM : 0;
}

static int
query_attr(struct tk_p11_uri *u, const char *name, size_t nlen,
    const char *v, size_t vlen, char *why, size_t whylen)
{
	char *val = NULL;
	int r;

	if (name_is(name, nlen, "pin-value")) {
		/* The value is never decoded, copied or logged. */
		why_fmt(why, whylen, "pin-value is refused: a PIN must never "
		    "be in a URI; use pin-source=file:/PATH or "
		    "pin-source=credential:NAME");
		return TK_HSM_ERR_URI;
	}
	if (!name_is(name, nlen, "pin-source") &&
	    !name_is(name, nlen, "module-path") &&
	    !name_is(name, nlen, "module-name"))
		return 0;	/* unknown query attributes are ignored */
	if ((r = decode_text(v, vlen, 1, &val)) != 0)
		return bad_value(r, name, nlen, why, whylen);
	r = TK_HSM_ERR_URI;
	if (name_is(name, nlen, "module-name")) {
		why_fmt(why, whylen, "module-name is not supported: give "
		    "module-path");
	} else if (name_is(name, nlen, "module-path")) {
		if (u->module_path != NULL)
			why_fmt(why, whylen, "attribute '%s' appears twice",
			    ESC(name, nlen));
		else if (val[0] != '/')
			why_fmt(why, whylen, "module-path must be absolute");
		else {
			u->module_path = val;
			val = NULL;
			r = 0;
		}
	} else if (u->pin_file != NULL || u->pin_credential != NULL) {
		why_fmt(why, whylen, "attribute '%s' appears twice",
		    ESC(name, nlen));
	} else
		r = pin_source(u, val, why, whylen);
	free(val);
	return r;
}

/*
 * Walks the attributes of one component (path: ';'-separated, query:
 * '&'-separated) and hands each name=value pair to the right handler.
 */
static int
walk(struct tk_p11_uri *u, const char *s, size_t n, int query, char *why,
    size_t whylen)
{
	const char sep = query ? '&' : ';';
	size_t i = 0;
	int r;

	while (i < n) {
		const char *a = s + i, *end, *eq;
		size_t alen, nlen, k;

		end = memchr(a, sep, n - i);
		alen = end != NULL ? (size_t)(end - a) : n - i;
		eq = memchr(a, '=', alen);
		if (alen == 0 || eq == NULL || eq == a) {
			why_fmt(why, whylen, "attribute '%s' is not "
			    "name=value", ESC(a, alen));
			return TK_HSM_ERR_URI;
		}
		nlen = (size_t)(eq - a);
		for (k = 0; k < nlen; k++)
			if (!islower((unsigned char)a[k]) &&
			    !isdigit((unsigned char)a[k]) && a[k] != '-') {
				why_fmt(why, whylen, "bad attribute name "
				    "'%s'", ESC(a, nlen));
				return TK_HSM_ERR_URI;
			}
		r = query ? query_attr(u, a, nlen, eq + 1, alen - nlen - 1,
		    why, whylen) : path_attr(u, a, nlen, eq + 1,
		    alen - nlen - 1, why, whylen);
		if (r != 0)
			return r;
		i += alen + 1;
		if (end != NULL && i == n) {
			why_fmt(why, whylen, "trailing separator");
			return TK_HSM_ERR_URI;
		}
	}
	return 0;
}

static int
type_ok(const char *t)
{
	static const char *const types[] = { "private", "public", "cert",
	    "secret-key", "data" };
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(t, types[i]) == 0)
			return 1;
	return 0;
}

int
tk_p11_uri_parse(const char *uri, struct tk_p11_uri **out, char *why,
    size_t whylen)
{
	struct tk_p11_uri *u = NULL;
	const char *p, *q;
	size_t n;
	int r = TK_HSM_ERR_URI;

	*out = NULL;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (uri == NULL || (n = strnlen(uri, TK_P11_URI_MAX + 1)) >
	    TK_P11_URI_MAX) {
		why_fmt(why, whylen, "missing or longer than 4096");
		return TK_HSM_ERR_URI;
	}
	if (n < 7 || strncasecmp(uri, "pkcs11:", 7) != 0) {
		why_fmt(why, whylen, "does not start with pkcs11:");
		return TK_HSM_ERR_URI;
	}
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return TK_HSM_ERR_NOMEM;
	p = uri + 7;
	q = strchr(p, '?');
	if ((r = walk(u, p, q != NULL ? (size_t)(q - p) : strlen(p), 0, why,
	    whylen)) != 0)
		goto out;
	if (q != NULL && (r = walk(u, q + 1, strlen(q + 1), 1, why,
	    whylen)) != 0)
		goto out;
	if (u->type != NULL && !type_ok(u->type)) {
		why_fmt(why, whylen, "unknown object type '%s'",
		    ESC(u->type, strlen(u->type)));
		r = TK_HSM_ERR_URI;
		goto out;
	}
	*out = u;
	u = NULL;
	r = 0;
out:
	tk_p11_uri_free(&u);
	return r;
}

void
tk_p11_uri_free(struct tk_p11_uri **up)
{
	struct tk_p11_uri *u;

	if (up == NULL || (u = *up) == NULL)
		return;
	free(u->token);
	free(u->manufacturer);
	free(u->serial);
	free(u->model);
	free(u->object);
	free(u->id);
	free(u->type);
	free(u->module_path);
	free(u->pin_file);
	free(u->pin_credential);
	free(u);
	*up = NULL;
}

static int
pin_path(const struct tk_p11_uri *u, char **path, char *why, size_t whylen)
{
	const char *dir;
	size_t n;

	*path = NULL;
	if (u->pin_file != NULL) {
		*path = strdup(u->pin_file);
		return *path == NULL ? TK_HSM_ERR_NOMEM : 0;
	}
	if (u->pin_credential == NULL) {
		why_fmt(why, whylen, "the URI has no pin-source");
		return TK_HSM_ERR_PIN_SOURCE;
	}
	dir = getenv("CREDENTIALS_DIRECTORY");
	if (dir == NULL || dir[0] != '/') {
		why_fmt(why, whylen, "pin-source credential:%s needs "
		    "$CREDENTIALS_DIRECTORY (systemd LoadCredential=)",
		    ESC(u->pin_credential, strlen(u->pin_credential)));
		return TK_HSM_ERR_PIN_SOURCE;
	}
	n = strlen(dir) + 1 + strlen(u->pin_credential) + 1;
	if ((*path = malloc(n)) == NULL)
		return TK_HSM_ERR_NOMEM;
	snprintf(*path, n, "%s/%s", dir, u->pin_credential);
	return 0;
}

int
tk_p11_uri_read_pin(const struct tk_p11_uri *u, char **pin, size_t *len,
    char *why, size_t whylen)
{
	uint8_t *buf = NULL;
	size_t blen = 0;
	char *path = NULL;
	int r;

	*pin = NULL;
	*len = 0;
	if ((r = pin_path(u, &path, why, whylen)) != 0)
		return r;
	r = tk_read_file(path, TK_P11_PIN_MAX, 1, &buf, &blen);
	if (r == TK_ERR_NOMEM) {
		r = TK_HSM_ERR_NOMEM;
		goto out;
	}
	if (r != TK_OK || blen == 0 || memchr(buf, '\0', blen) != NULL) {
		why_fmt(why, whylen, "PIN file '%s': %s",
		    ESC(path, strlen(path)), r == TK_OK ?
		    "empty or contains a NUL byte" : tk_strerror(r));
		r = TK_HSM_ERR_PIN_SOURCE;
		goto out;
	}
	*pin = (char *)buf;
	*len = blen;
	buf = NULL;
	r = 0;
out:
	if (buf != NULL)
		tk_secret_free(buf, blen + 1);
	free(path);
	return r;
}

int
tk_hsm_uri_check(const char *uri, char *why, size_t whylen)
{
	struct tk_p11_uri *u = NULL;
	struct stat st;
	char *path = NULL;
	int r;

	if ((r = tk_p11_uri_parse(uri, &u, why, whylen)) != 0)
		return r;
	if ((r = pin_path(u, &path, why, whylen)) != 0)
		goto out;
	r = TK_HSM_ERR_PIN_SOURCE;
	if (stat(path, &st) != 0)
		why_fmt(why, whylen, "PIN file %s: %s", ESC(path, strlen(path)),
		    strerror(errno));
	else if (!S_ISREG(st.st_mode))
		why_fmt(why, whylen, "PIN file %s is not a regular file",
		    ESC(path, strlen(path)));
	else if ((st.st_mode & 077) != 0)
		why_fmt(why, whylen, "PIN file %s may be read by group or "
		    "others; make it mode 0600", ESC(path, strlen(path)));
	else
		r = TK_HSM_OK;
	/* A module named by path must be there; by name, dlopen looks. */
	if (r == TK_HSM_OK && u->module_path != NULL &&
	    strchr(u->module_path, '/') != NULL &&
	    access(u->module_path, R_OK) != 0) {
		why_fmt(why, whylen, "module-path %s: %s",
		    ESC(u->module_path, strlen(u->module_path)),
		    strerror(errno));
		r = TK_HSM_ERR_URI;
	}
out:
	free(path);
	tk_p11_uri_free(&u);
	return r;
}
