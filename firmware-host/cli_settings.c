/*
 * Where the client finds its server, trust anchor, user and API key:
 * an option, else an environment variable, else the settings file, a
 * JSON object (--config, TWOKEY_CONFIG, or ~/.config/twokey/config.json
 * when it exists). The API key comes only from a file (mode 0600 or
 * stricter) or TWOKEY_API_KEY, never from an option.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "twokey/common.h"
#include "cli_int.h"

#define MAX_SETTINGS	(64 * 1024)
#define MAX_API_KEY	512

static const char *const file_keys[] = {
	"server", "ca", "user", "api_key_file", "device", "credential",
};

static int
check_file(struct cli *c, const char *path, json_t *j)
{
	const char *k;
	json_t *v;
	size_t i;

	if (!json_is_object(j)) {
		cli_errf(c, "%s: expected a JSON object", path);
		return TK_CLI_EFILE;
	}
	json_object_foreach(j, k, v) {
		for (i = 0; i < sizeof(file_keys) / sizeof(file_keys[0]); i++)
			if (strcmp(k, file_keys[i]) == 0)
				break;
		if (i == sizeof(file_keys) / sizeof(file_keys[0]) ||
		    !json_is_string(v)) {
			cli_errf(c, "%s: unknown setting or not a string: "
			    "\"%.64s\"", path, k);
			return TK_CLI_EFILE;
		}
	}
	return TK_CLI_OK;
}

static int
load_file(struct cli *c, json_t **out)
{
	const char *path = c->config, *base;
	char def[1024];
	json_error_t e;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (path == NULL && (path = getenv("TWOKEY_CONFIG")) != NULL &&
	    *path == '\0')
		path = NULL;
	if (path == NULL) {
		if ((base = getenv("XDG_CONFIG_HOME")) != NULL && *base != '\0')
			snprintf(def, sizeof(def), "%s/twokey/config.json",
			    base);
		else if ((base = getenv("HOME")) != NULL && *base != '\0')
			snprintf(def, sizeof(def),
			    "%s/.config/twokey/config.json", base);
		else
			return TK_CLI_OK;
		if (access(def, F_OK) != 0)
			return TK_CLI_OK;
		path = def;
	}
	if ((rc = tk_read_file(path, MAX_SETTINGS, 0, &buf, &len)) != 0) {
		cli_errf(c, "cannot read the settings file %s: %s", path,
		    cli_read_failure(path, rc));
		return TK_CLI_EFILE;
	}
	*out = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &e);
	free(buf);
	if (*out == NULL) {
		cli_errf(c, "%s line %d: %s", path, e.line, e.text);
		return TK_CLI_EFILE;
	}
	if ((rc = check_file(c, path, *out)) != TK_CLI_OK) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

static int
pick(char **dst, const char *opt, const char *env, json_t *file,
    const char *key)
{
	const char *v = opt;

	if (v == NULL && (v = getenv(env)) != NULL && *v == '\0')
		v = NULL;
	if (v == NULL)
		v = json_string_value(json_object_get(file, key));
	if (v == NULL)
		return 0;
	return (*dst = strdup(v)) == NULL ? -1 : 0;
}

/* HOST: a DNS name, an IPv4 address, or an IPv6 one in brackets. */
static int
host_ok(const char *h, size_t n)
{
	if (n > 2 && h[0] == '[')
		return h[n - 1] == ']' && strspn(h + 1, "0123456789abcdefABCDEF"
		    ":.") == n - 2;
	return n > 0 && n <= 253 && strspn(h, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n;
}

/* The port after ":", 1 to 65535; ok when there is none. */
static int
port_ok(struct cli *c, const char *p)
{
	size_t n = strlen(p);
	char esc[40];
	long v = 0;

	if (n >= 1 && n <= 5 && strspn(p, "0123456789") == n)
		v = strtol(p, NULL, 10);
	if (v >= 1 && v <= 65535)
		return 1;
	cli_errf(c, "the server's port must be 1 to 65535, not \"%s\"",
	    cli_safe(p, esc, sizeof(esc)));
	return 0;
}

/*
 * https://HOST[:PORT] with an optional "/". The address itself is never
 * echoed: it might hold user info, and with it a password.
 */
static int
check_server(struct cli *c)
{
	char *h = c->server, *port;
	size_t n;

	if (strncasecmp(h, "http://", 7) == 0) {
		cli_errf(c, "the server must be an https:// address "
		    "(https://HOST[:PORT]); plain HTTP is never used");
		return TK_CLI_EUSAGE;
	}
	if (strncmp(h, "https://", 8) != 0) {
		cli_errf(c, "the server must start with https://: give "
		    "https://HOST[:PORT]");
		return TK_CLI_EUSAGE;
	}
	h += 8;
	if ((n = strlen(h)) > 0 && h[n - 1] == '/')
		h[--n] = '\0';
	if (strchr(h, '@') != NULL) {
		cli_errf(c, "the server must be https://HOST[:PORT]: user "
		    "info (NAME:PASSWORD@) is not allowed");
		return TK_CLI_EUSAGE;
	}
	if (strpbrk(h, "/?#") != NULL) {
		cli_errf(c, "the server must be https://HOST[:PORT], "
		    "without a path");
		return TK_CLI_EUSAGE;
	}
	/* The port's ":" is the last one, after any IPv6 "]". */
	port = strrchr(h, ':');
	if (port != NULL && strchr(port, ']') != NULL)
		port = NULL;
	if (port != NULL && !port_ok(c, port + 1))
		return TK_CLI_EUSAGE;
	if (!host_ok(h, port != NULL ? (size_t)(port - h) : n)) {
		cli_errf(c, "the server must be https://HOST[:PORT]: HOST is "
		    "a name, an IPv4 address or an IPv6 one in [ ]");
		return TK_CLI_EUSAGE;
	}
	if ((c->origin = strdup(c->server)) == NULL)
		return TK_CLI_EINTERNAL;
	n = strlen(c->origin);
	if (n > 4 && strcmp(c->origin + n - 4, ":443") == 0)
		c->origin[n - 4] = '\0';
	return TK_CLI_OK;
}

static int
api_key_ok(const char *k, size_t n)
{
	return n > 0 && n <= MAX_API_KEY && strspn(k, "abcdefghijklmnopqrstu"
	    "vwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static int
load_api_key(struct cli *c)
{
	char *env = getenv("TWOKEY_API_KEY");
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (env != NULL && *env != '\0') {
		len = strlen(env);
		if ((c->api_key = strdup(env)) == NULL)
			return TK_CLI_EINTERNAL;
		/* Not left for children of this process to inherit. */
		OPENSSL_cleanse(env, len);
		unsetenv("TWOKEY_API_KEY");
	} else if (c->api_key_file != NULL) {
		if ((rc = tk_read_file(c->api_key_file, MAX_API_KEY + 2, 1,
		    &buf, &len)) != 0) {
			cli_errf(c, "cannot read the API key file %s: %s",
			    c->api_key_file, cli_read_failure(c->api_key_file,
			    rc));
			return TK_CLI_EFILE;
		}
		c->api_key = (char *)buf;
	} else
		return TK_CLI_OK;
	c->api_key_len = len;
	if (!api_key_ok(c->api_key, len)) {
		cli_errf(c, "the API key is malformed (expected "
		    "tk_<id>_<secret>)");
		return TK_CLI_EFILE;
	}
	return TK_CLI_OK;
}

/*
 * The CA file must hold a certificate: a wrong file is the user's local
 * mistake (exit 7), not a server that failed verification (exit 5).
 */
static int
check_ca_file(struct cli *c)
{
	X509 *x = NULL;
	struct stat st;
	FILE *f;

	/* A folder opens, and would then read as no certificate. */
	if (stat(c->ca, &st) == 0 && S_ISDIR(st.st_mode)) {
		cli_errf(c, "the CA file %s is a directory; give the root "
		    "certificate of the key ceremony (root.pem)", c->ca);
		return TK_CLI_EFILE;
	}
	if ((f = fopen(c->ca, "r")) == NULL) {
		cli_errf(c, "cannot read the CA file %s: %s", c->ca,
		    strerror(errno));
		return TK_CLI_EFILE;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	(void)fclose(f);
	ERR_clear_error();
	if (x == NULL) {
		cli_errf(c, "the CA file %s holds no PEM certificate; give "
		    "the root certificate of the key ceremony (root.pem)",
		    c->ca);
		return TK_CLI_EFILE;
	}
	X509_free(x);
	return TK_CLI_OK;
}

int
cli_settings(struct cli *c, const char **vals)
{
	json_t *file = NULL;
	int rc;

	if ((rc = load_file(c, &file)) != TK_CLI_OK)
		return rc;
	rc = TK_CLI_EINTERNAL;
	if (pick(&c->server, vals[O_SERVER], "TWOKEY_SERVER", file,
	    "server") != 0 || pick(&c->ca, vals[O_CA], "TWOKEY_CA", file,
	    "ca") != 0 || pick(&c->user, vals[O_USER], "TWOKEY_USER", file,
	    "user") != 0 || pick(&c->api_key_file, vals[O_KEYFILE],
	    "TWOKEY_API_KEY_FILE", file, "api_key_file") != 0 ||
	    pick(&c->device, vals[O_DEVICE], "TWOKEY_DEVICE", file,
	    "device") != 0 || pick(&c->credential, vals[O_CRED],
	    "TWOKEY_CREDENTIAL", file, "credential") != 0)
		goto out;
	rc = TK_CLI_EUSAGE;
	if (c->server == NULL) {
		cli_errf(c, "no server: give --server https://HOST:PORT, "
		    "TWOKEY_SERVER, or \"server\" in the settings file");
		goto out;
	}
	if ((rc = check_server(c)) != TK_CLI_OK)
		goto out;
	rc = TK_CLI_EUSAGE;
	if (c->ca == NULL) {
		cli_errf(c, "no CA file: give --ca FILE (the root "
		    "certificate of the key ceremony), TWOKEY_CA, or \"ca\" "
		    "in the settings file; the server is always verified");
		goto out;
	}
	if ((rc = check_ca_file(c)) != TK_CLI_OK)
		goto out;
	rc = load_api_key(c);
out:
	json_decref(file);
	return rc;
}

void
cli_settings_free(struct cli *c)
{
	free(c->server);
	free(c->origin);
	free(c->ca);
	free(c->user);
	free(c->api_key_file);
	free(c->device);
	free(c->credential);
	if (c->api_key != NULL)
		tk_secret_free(c->api_key, c->api_key_len);
	c->server = c->origin = c->ca = c->user = c->api_key_file = NULL;
	c->device = c->credential = c->api_key = NULL;
	c->api_key_len = 0;
}
