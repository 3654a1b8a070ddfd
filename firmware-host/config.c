/*
 * twokeyd's configuration: one JSON object, parsed strictly. Each setting
 * is a row of a table (name, kind, bounds, where it goes), so that the
 * documentation, the defaults and the checks cannot drift apart inside
 * this file; docs/configuration.md mirrors the table and a test parses
 * deploy/twokeyd.conf.example against it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "twokey/common.h"
#include "twokey/config.h"
#include "config_int.h"

enum kind { K_STR, K_PATH, K_UINT, K_BOOL, K_LEVEL, K_ORIGINS, K_POLICY };

struct setting {
	const char *name;
	enum kind kind;
	size_t off;		/* offset in struct tk_config */
	unsigned long min, max;	/* numbers; for strings, length bounds */
};

#define OFF(f) offsetof(struct tk_config, f)
static const struct setting settings[] = {
	{ "listen", K_STR, 0, 3, 128 },
	{ "tls_certificate", K_PATH, OFF(tls_certificate), 1, 4096 },
	{ "tls_key", K_PATH, OFF(tls_key), 1, 4096 },
	{ "pkcs11_uri", K_STR, OFF(pkcs11_uri), 8, 4096 },
	{ "signer_path", K_PATH, OFF(signer_path), 1, 4096 },
	{ "state_dir", K_PATH, OFF(state_dir), 1, 4096 },
	{ "user", K_STR, OFF(user), 1, 32 },
	{ "rp_id", K_STR, OFF(rp_id), 1, 253 },
	{ "origins", K_ORIGINS, 0, 1, TK_CFG_ORIGINS_MAX },
	{ "log_level", K_LEVEL, 0, 0, 0 },
	{ "max_body_bytes", K_UINT, OFF(max_body_bytes), 1024, 1048576 },
	{ "max_connections", K_UINT, OFF(max_connections), 1, 4096 },
	{ "max_connections_per_address", K_UINT,
	    OFF(max_connections_per_address), 1, 4096 },
	{ "request_timeout", K_UINT, OFF(request_timeout), 1, 600 },
	{ "signer_timeout", K_UINT, OFF(signer_timeout), 1, 600 },
	{ "session_ttl", K_UINT, OFF(session_ttl), 60, 86400 },
	{ "rate_limit_per_minute", K_UINT, OFF(rate_limit_per_minute), 1,
	    1000 },
	{ "watchdog_interval", K_UINT, OFF(watchdog_interval), 0, 3600 },
	{ "expiry_interval", K_UINT, OFF(expiry_interval), 1, 3600 },
	{ "seccomp", K_BOOL, OFF(seccomp), 0, 1 },
	{ "web_root", K_PATH, OFF(web_root), 1, 4096 },
	{ "policy", K_POLICY, 0, 0, 0 },
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

const char *
tk_cfg_strerror(int err)
{
	switch (err) {
	case TK_CFG_OK:
		return "ok";
	case TK_CFG_ERR_NOMEM:
		return "out of memory";
	case TK_CFG_ERR_IO:
		return "configuration file missing or unreadable";
	case TK_CFG_ERR_SYNTAX:
		return "configuration is not a JSON object";
	case TK_CFG_ERR_SETTING:
		return "invalid setting";
	default:
		return "unknown configuration error";
	}
}

static int
fail(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

static int
set_str(char **dst, const char *v)
{
	char *s;

	if ((s = strdup(v)) == NULL)
		return TK_CFG_ERR_NOMEM;
	free(*dst);
	*dst = s;
	return TK_CFG_OK;
}

static int
set_defaults(struct tk_config *c)
{
	c->listen_port = 8443;
	c->log_level = TK_LOG_INFO;
	c->max_body_bytes = 65536;
	c->max_connections = 64;
	c->max_connections_per_address = 8;
	c->request_timeout = 30;
	c->signer_timeout = 5;
	c->session_ttl = 900;
	c->rate_limit_per_minute = 10;
	c->expiry_interval = 60;
	c->seccomp = 1;
	if (set_str(&c->listen_host, "127.0.0.1") != 0 ||
	    set_str(&c->state_dir, "/var/lib/twokey") != 0 ||
	    set_str(&c->user, "twokey") != 0 ||
	    set_str(&c->rp_id, "localhost") != 0 ||
	    set_str(&c->web_root, TWOKEY_DATADIR "/www") != 0 ||
	    set_str(&c->policy_json, "{}") != 0)
		return TK_CFG_ERR_NOMEM;
	return TK_CFG_OK;
}

void
tk_config_free(struct tk_config **cp)
{
	struct tk_config *c;
	size_t i;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	free(c->listen_host);
	free(c->tls_certificate);
	free(c->tls_key);
	free(c->pkcs11_uri);
	free(c->signer_path);
	free(c->state_dir);
	free(c->user);
	free(c->rp_id);
	free(c->web_root);
	for (i = 0; i < c->norigins; i++)
		free(c->origins[i]);
	free(c->policy_json);
	free(c);
	*cp = NULL;
}

/* Printable ASCII only: settings end up in logs and file names. */
static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

static int
parse_listen(struct tk_config *c, const char *v, char *err, size_t errlen)
{
	const char *colon, *host_end, *host = v;
	unsigned long port;
	char *end, *h;

	if (v[0] == '[') {
		if ((host_end = strchr(v, ']')) == NULL || host_end[1] != ':')
			goto bad;
		host = v + 1;
		colon = host_end + 1;
	} else {
		if ((colon = strrchr(v, ':')) == NULL ||
		    strchr(v, ':') != colon)
			goto bad;
		host_end = colon;
	}
	if (host_end == host || colon[1] < '0' || colon[1] > '9')
		goto bad;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || port == 0 || port > 65535)
		goto bad;
	if ((h = strndup(host, (size_t)(host_end - host))) == NULL)
		return TK_CFG_ERR_NOMEM;
	free(c->listen_host);
	c->listen_host = h;
	c->listen_port = (uint16_t)port;
	return TK_CFG_OK;
bad:
	return fail(err, errlen, TK_CFG_ERR_SETTING,
	    "listen: expected \"address:port\" (port 1-65535), "
	    "e.g. \"127.0.0.1:8443\" or \"[::1]:8443\"");
}

static int
check_uri(const char *v, char *err, size_t errlen)
{
	if (strncmp(v, "pkcs11:", 7) != 0)
		return fail(err, errlen, TK_CFG_ERR_SETTING,
		    "pkcs11_uri: must be an RFC 7512 URI starting with "
		    "\"pkcs11:\"");
	if (strstr(v, "pin-value") != NULL)
		return fail(err, errlen, TK_CFG_ERR_SETTING,
		    "pkcs11_uri: pin-value is refused; give the PIN with "
		    "pin-source=file:/path (mode 0600)");
	return TK_CFG_OK;
}

static int
parse_string(struct tk_config *c, const struct setting *s, json_t *v,
    char *err, size_t errlen)
{
	const char *str;
	size_t len;

	if (!json_is_string(v))
		return fail(err, errlen, TK_CFG_ERR_SETTING,
		    "%s: expected a string", s->name);
	str = json_string_value(v);
	len = json_string_length(v);
	if (len != strlen(str) || !printable(str) || len < s->min ||
	    len > s->max)
		return fail(err, errlen, TK_CFG_ERR_SETTING,
		    "%s: expected %lu to %lu printable ASCII characters",
		    s->name, s->min, s->max);
	if (s->kind == K_PATH && str[0] != '/')
		return fail(err, errlen, TK_CFG_ERR_SETTING,
		    "%s: expected an absolute path", s->name);
	if (strcmp(s->name, "listen") == 0)
		return parse_listen(c, str, err, errlen);
	if (strcmp(s->name, "pkcs11_uri") == 0 &&
	    check_uri(str, err, errlen) != 0)
		return TK_CFG_ERR_SETTING;
	return set_str((char **)(void *)((char *)c + s->off), str);
}

static int
parse_uint(struct tk_config *c, const struct setting *s, json_t *v,
    char *err, size_t errlen)
{
	json_int_t n;

	if (!json_is_integer(v))
		return fail(err, errlen, TK_CFG_ERR_SETTING,
		    "%s: expected a whole number", s->name);
	n = json_integer_value(v);
	if (n < 0 || (unsigned long long)n < s->min ||
	    (unsigned long long)n > s->max)
		return fail(err, errlen, TK_CFG_ERR_SETTING,
		    "%s: must be between %lu and %lu", s->name, s->min,
		    s->max);
	if (s->off == OFF(max_body_bytes))
		c->max_body_bytes = (size_t)n;
	else
		*(unsigned int *)(void *)((char *)c + s->off) =
		    (unsigned int)n;
	return TK_CFG_OK;
}

static int
parse_level(struct tk_config *c, json_t *v, char *err, size_t errlen)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	size_t i;

	if (json_is_string(v))
		for (i = 0; i < 4; i++)
			if (strcmp(json_string_value(v), names[i]) == 0) {
				c->log_level = (enum tk_log_level)i;
				return TK_CFG_OK;
			}
	return fail(err, errlen, TK_CFG_ERR_SETTING,
	    "log_level: expected \"error\", \"warn\", \"info\" or "
	    "\"debug\"");
}

static int
parse_origins(struct tk_config *c, json_t *v, char *err, size_t errlen)
{
	json_t *o;
	size_t i;
	const char *s;

	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > TK_CFG_ORIGINS_MAX)
		return fail(err, errlen, TK_CFG_ERR_SETTING,
		    "origins: expected a list of 1 to %d origins",
		    TK_CFG_ORIGINS_MAX);
	json_array_foreach(v, i, o) {
		s = json_is_string(o) ? json_string_value(o) : NULL;
		if (s == NULL || strncmp(s, "https://", 8) != 0 ||
		    strlen(s) > 300 || !printable(s) ||
		    strchr(s + 8, '/') != NULL || s[8] == '\0')
			return fail(err, errlen, TK_CFG_ERR_SETTING,
			    "origins[%zu]: expected \"https://host[:port]\" "
			    "without a path", i);
		if ((c->origins[c->norigins] = strdup(s)) == NULL)
			return TK_CFG_ERR_NOMEM;
		c->norigins++;
	}
	return TK_CFG_OK;
}


static int
parse_one(struct tk_config *c, const struct setting *s, json_t *v,
    char *err, size_t errlen)
{
	char *dump;

	switch (s->kind) {
	case K_STR:
	case K_PATH:
		return parse_string(c, s, v, err, errlen);
	case K_UINT:
		return parse_uint(c, s, v, err, errlen);
	case K_BOOL:
		if (!json_is_boolean(v))
			return fail(err, errlen, TK_CFG_ERR_SETTING,
			    "%s: expected true or false", s->name);
		*(int *)(void *)((char *)c + s->off) = json_is_true(v);
		return TK_CFG_OK;
	case K_LEVEL:
		return parse_level(c, v, err, errlen);
	case K_ORIGINS:
		return parse_origins(c, v, err, errlen);
	case K_POLICY:
		if (tk_config_check_policy(v, err, errlen) != 0)
			return TK_CFG_ERR_SETTING;
		if ((dump = tk_json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS)) ==
		    NULL)
			return TK_CFG_ERR_NOMEM;
		free(c->policy_json);
		c->policy_json = dump;
		return TK_CFG_OK;
	}
	return TK_CFG_ERR_SETTING;
}

static const struct setting *
find_setting(const char *name)
{
	size_t i;

	for (i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].name, name) == 0)
			return &settings[i];
	return NULL;
}

/*
 * A WebAuthn RP ID is a domain: labels of letters, digits and '-', not
 * starting or ending with '-', joined by dots. It also names the journal
 * (twokey/RPID/journal) and the TLS certificate.
 */
static int
host_name_ok(const char *s)
{
	size_t n;

	for (;;) {
		n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");
		if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
			return 0;
		if (s[n] == '\0')
			return 1;
		if (s[n] != '.')
			return 0;
		s += n + 1;
	}
}

/* Settings that depend on each other, and the ones that are required. */
static int
check_whole(struct tk_config *c, char *err, size_t errlen)
{
	char origin[300];
	int n;

	if (c->pkcs11_uri == NULL)
		return fail(err, errlen, TK_CFG_ERR_SETTING,
		    "pkcs11_uri: required (the token holding the keys)");
	if (!host_name_ok(c->rp_id))
		return fail(err, errlen, TK_CFG_ERR_SETTING,
		    "rp_id: must be a host name (letters, digits and '-', "
		    "joined by dots), the one in the origins");
	if ((c->tls_certificate == NULL) != (c->tls_key == NULL))
		return fail(err, errlen, TK_CFG_ERR_SETTING,
		    "%s: tls_certificate and tls_key go together; give "
		    "both or neither", c->tls_key == NULL ? "tls_key" :
		    "tls_certificate");
	if (c->norigins == 0) {
		n = c->listen_port == 443 ?
		    snprintf(origin, sizeof(origin), "https://%s", c->rp_id) :
		    snprintf(origin, sizeof(origin), "https://%s:%u",
		    c->rp_id, (unsigned int)c->listen_port);
		if (n < 0 || (size_t)n >= sizeof(origin))
			return fail(err, errlen, TK_CFG_ERR_SETTING,
			    "rp_id: too long to make the default origin");
		if ((c->origins[0] = strdup(origin)) == NULL)
			return TK_CFG_ERR_NOMEM;
		c->norigins = 1;
	}
	return TK_CFG_OK;
}

int
tk_config_parse(const char *text, size_t len, struct tk_config **out,
    char *err, size_t errlen)
{
	struct tk_config *c = NULL;
	const struct setting *s;
	json_error_t jerr;
	json_t *root = NULL, *v;
	const char *key;
	char esc[80];
	int r = TK_CFG_ERR_NOMEM;

	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((c = calloc(1, sizeof(*c))) == NULL || set_defaults(c) != 0)
		goto out;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL && jerr.line > 0) {
		r = fail(err, errlen, TK_CFG_ERR_SYNTAX,
		    "configuration: line %d column %d: %s", jerr.line,
		    jerr.column, json_error_code(&jerr) ==
		    json_error_invalid_syntax ? tk_log_escape(esc, sizeof(esc),
		    jerr.text, strlen(jerr.text)) :
		    tk_json_error_words(&jerr));
		goto out;
	}
	/* Some errors (a NUL byte, say) have no position to give. */
	if (root == NULL || !json_is_object(root)) {
		r = fail(err, errlen, TK_CFG_ERR_SYNTAX, "configuration: %s",
		    root == NULL ? tk_json_error_words(&jerr) : "the file must "
		    "hold one JSON object, { ... }");
		goto out;
	}
	json_object_foreach(root, key, v) {
		if ((s = find_setting(key)) == NULL) {
			r = fail(err, errlen, TK_CFG_ERR_SETTING,
			    "%s: unknown setting", tk_log_escape(esc,
			    sizeof(esc), key, strlen(key)));
			goto out;
		}
		if ((r = parse_one(c, s, v, err, errlen)) != TK_CFG_OK)
			goto out;
	}
	if ((r = check_whole(c, err, errlen)) != TK_CFG_OK)
		goto out;
	*out = c;
	c = NULL;
	r = TK_CFG_OK;
out:
	if (r == TK_CFG_ERR_NOMEM)
		fail(err, errlen, r, "configuration: out of memory");
	json_decref(root);
	tk_config_free(&c);
	return r;
}

/*
 * The file may carry comment lines: a line whose first non-blank byte is
 * '#' becomes blanks (so line numbers in errors stay right). No valid
 * JSON line starts with '#', since JSON strings cannot span lines.
 */
void
tk_config_strip_comments(char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i < len && s[i] == '#')
			while (i < len && s[i] != '\n')
				s[i++] = ' ';
		while (i < len && s[i] != '\n')
			i++;
		i++;
	}
}

int
tk_config_load(const char *path, struct tk_config **out, char *err,
    size_t errlen)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	char esc[256];
	int r;

	*out = NULL;
	/* access() first, for a reason in words (missing, no permission). */
	if (access(path, R_OK) != 0)
		return fail(err, errlen, TK_CFG_ERR_IO, "%s: %s",
		    tk_log_escape(esc, sizeof(esc), path, strlen(path)),
		    strerror(errno));
	r = tk_read_file(path, TK_CFG_MAX_FILE, 0, &buf, &len);
	if (r != TK_OK) {
		return fail(err, errlen, TK_CFG_ERR_IO, "%s: %s",
		    tk_log_escape(esc, sizeof(esc), path, strlen(path)),
		    r == TK_ERR_TOOBIG ? "larger than 64 KiB" :
		    "cannot be read (not a regular file?)");
	}
	tk_config_strip_comments((char *)buf, len);
	r = tk_config_parse((const char *)buf, len, out, err, errlen);
	free(buf);
	return r;
}
