/*
 * Helpers that every layer of twokey needs and that depend on nothing of
 * ours: logging with levels and escaping of untrusted strings, base64url
 * and hex codecs, reading small secret files, and wiping.
 *
 * Error convention used across twokey: 0 on success, a negative code named
 * by the module (TK_ERR_* here) on failure.
 */
#ifndef TWOKEY_COMMON_H
#define TWOKEY_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum tk_err {
	TK_OK = 0,
	TK_ERR_NOMEM = -1,
	TK_ERR_INVALID = -2,	/* malformed input */
	TK_ERR_TOOBIG = -3,	/* input larger than allowed */
	TK_ERR_IO = -4,		/* a file could not be read or written */
	TK_ERR_PERM = -5,	/* a file has unsafe ownership or mode */
};

const char *tk_strerror(int err);

enum tk_log_level {
	TK_LOG_ERROR = 0,
	TK_LOG_WARN = 1,
	TK_LOG_INFO = 2,
	TK_LOG_DEBUG = 3,
};

/* Messages above this level are dropped; default TK_LOG_INFO. */
void tk_log_set_level(enum tk_log_level level);
void tk_log_set_ident(const char *ident);

/*
 * Logs one line to stderr: "ident[pid]: level: func: message". Never pass a
 * secret; pass untrusted strings through tk_log_escape first.
 */
void tk_log_at(enum tk_log_level level, const char *func, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

#define tk_error(...) tk_log_at(TK_LOG_ERROR, __func__, __VA_ARGS__)
#define tk_warn(...) tk_log_at(TK_LOG_WARN, __func__, __VA_ARGS__)
#define tk_info(...) tk_log_at(TK_LOG_INFO, __func__, __VA_ARGS__)
#define tk_debug(...) tk_log_at(TK_LOG_DEBUG, __func__, __VA_ARGS__)

/*
 * Copies at most cap-1 bytes of an untrusted string into out as printable
 * ASCII: control and non-ASCII bytes become \xNN, and a cut string ends in
 * "...". Returns out. cap must be at least 8.
 */
char *tk_log_escape(char *out, size_t cap, const char *in, size_t len);

/*
 * 1 when s[0..len) is well-formed UTF-8 without control characters and
 * without the invisible or direction-changing code points that let text
 * read otherwise than it is (U+202E and its kin); 0 otherwise. For names,
 * reasons and every other string that people read on a page or a log.
 */
int tk_text_printable(const char *s, size_t len);

/*
 * base64url without padding (RFC 4648 section 5). Encoding returns a
 * NUL-terminated string the caller frees with free(). Decoding refuses
 * padding, whitespace and any byte outside the alphabet, and the caller
 * frees *out with free().
 */
char *tk_b64url_encode(const uint8_t *in, size_t len);
int tk_b64url_decode(const char *in, size_t len, uint8_t **out,
    size_t *outlen);

/* Standard base64 with padding, no line breaks; caller frees. */
char *tk_b64_encode(const uint8_t *in, size_t len);
int tk_b64_decode(const char *in, size_t len, uint8_t **out, size_t *outlen);

/* Lower-case hex; out must hold 2 * len + 1 bytes. */
void tk_hex_encode(const uint8_t *in, size_t len, char *out);
int tk_hex_decode(const char *in, uint8_t *out, size_t outlen);

/*
 * JSON text of json (json_dumps flags), whole or not at all: jansson
 * 2.14's json_dumps ignores a failed allocation while it writes an
 * object's key and returns text with that key missing, which would be
 * signed or hashed as it is. Caller frees; NULL when out of memory.
 */
char *tk_json_dumps(const json_t *json, size_t flags);

/*
 * json_loadb that never returns a damaged document: jansson 2.14's lexer
 * drops a byte it could not store for want of memory and goes on. Sets
 * *nomem (and returns NULL) when any allocation of jansson failed during
 * the parse, so that running out of memory is not taken for bad input.
 */
json_t *tk_json_loadb(const char *buf, size_t len, size_t flags,
    json_error_t *err, int *nomem);

/*
 * What is wrong with a JSON text that jansson refused, in words for the
 * person who sent it ("a key is given twice", "a NUL character (\u0000)
 * is not allowed"...), never naming jansson's own flags.
 */
const char *tk_json_error_words(const json_error_t *err);

/*
 * A strict UTC date, YYYY-MM-DD, or date-time, YYYY-MM-DDTHH:MM:SSZ, of
 * a real day from 1970 on, as seconds since 1970; -1 if it is not one.
 */
int tk_utc_parse(const char *s, int64_t *out);

/*
 * Reads a whole file of at most max bytes into memory the caller releases
 * with tk_secret_free (for secrets) or free. With secret set, refuses a
 * file that others can read or write, and strips one trailing newline.
 */
int tk_read_file(const char *path, size_t max, int secret, uint8_t **out,
    size_t *outlen);
void tk_secret_free(void *p, size_t len);

/*
 * The page cache of every SQLite connection of the appliance, 256 KiB
 * instead of SQLite's 2 MiB: with the default, resident memory grows
 * with the journal and the store until each connection's cache is full,
 * which the soak test sees as growth under load. The files are local
 * and the kernel caches them anyway.
 */
#define TK_SQLITE_CACHE "PRAGMA cache_size=-256;"

/* The release, as twokey, twokeyd and twokey-verify --version print it. */
#define TWOKEY_VERSION "0.1.0"

#endif
