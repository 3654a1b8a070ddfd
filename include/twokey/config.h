/*
 * config: twokeyd's one configuration file, JSON parsed strictly.
 *
 * Every key is optional except pkcs11_uri; absent keys take the defaults
 * documented in docs/configuration.md and deploy/twokeyd.conf.example.
 * Unknown keys, wrong types, out-of-range numbers and malformed values are
 * refused with a message that names the setting (e.g. "policy.quorum:
 * must be at least 2"). The policy object is kept as JSON text for the
 * approvals layer, which owns its meaning; here it is only checked for
 * the keys and types that layer accepts.
 */
#ifndef TWOKEY_CONFIG_H
#define TWOKEY_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "twokey/common.h"

enum tk_cfg_err {
	TK_CFG_OK = 0,
	TK_CFG_ERR_NOMEM = -600,
	TK_CFG_ERR_IO = -601,		/* file missing or unreadable */
	TK_CFG_ERR_SYNTAX = -602,	/* not JSON, or not an object */
	TK_CFG_ERR_SETTING = -603,	/* a setting is unknown or invalid */
};

const char *tk_cfg_strerror(int err);

#define TK_CFG_ORIGINS_MAX 16
#define TK_CFG_MAX_FILE (64 * 1024)

struct tk_config {
	char *listen_host;		/* "127.0.0.1", "::1", ... */
	uint16_t listen_port;		/* 8443; 0 is refused */
	char *tls_certificate;		/* PEM path; NULL: generated */
	char *tls_key;			/* PEM path, mode 0600; NULL: gen. */
	char *pkcs11_uri;		/* RFC 7512, pin-source, no pin-value */
	char *signer_path;		/* NULL: the installed twokey-signer */
	char *state_dir;		/* "/var/lib/twokey" */
	char *user;			/* account to drop to when root */
	char *rp_id;			/* WebAuthn rpId, "localhost" */
	char *origins[TK_CFG_ORIGINS_MAX]; /* https://rp_id[:port] */
	size_t norigins;
	enum tk_log_level log_level;	/* info */
	size_t max_body_bytes;		/* 65536 */
	unsigned int max_connections;	/* 64 */
	unsigned int max_connections_per_address; /* 8 */
	unsigned int request_timeout;	/* seconds, 30 */
	unsigned int signer_timeout;	/* seconds per token call, 5 */
	unsigned int session_ttl;	/* seconds, 900 */
	unsigned int rate_limit_per_minute; /* sign-in/approval tries, 10 */
	unsigned int watchdog_interval;	/* seconds; 0: from systemd */
	unsigned int expiry_interval;	/* seconds between expiry runs, 60 */
	int seccomp;			/* 1; 0 only to debug the filter */
	char *web_root;			/* the pages; DATADIR/www */
	char *policy_json;		/* compact JSON object, "{}" default */
};

/*
 * Parses the configuration text. On failure, err (errlen bytes, may be
 * NULL) holds one line naming the setting and what is wrong with it.
 * On success *out is owned by the caller (tk_config_free).
 */
int tk_config_parse(const char *text, size_t len, struct tk_config **out,
    char *err, size_t errlen);

/*
 * Reads and parses the file at path (at most TK_CFG_MAX_FILE bytes).
 * Lines whose first non-blank character is '#' are comments.
 */
int tk_config_load(const char *path, struct tk_config **out, char *err,
    size_t errlen);

void tk_config_free(struct tk_config **cfg);

#endif
