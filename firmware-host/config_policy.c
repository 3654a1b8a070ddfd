/*
 * The policy object inside the configuration file. The approvals layer
 * owns what a policy means and validates it again when it loads it; this
 * check exists so that a bad policy stops twokeyd at start with the key
 * named, instead of a generic "policy refused" later.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "twokey/config.h"
#include "config_int.h"

#define POLICY_MAX_SECONDS (366 * 86400)

enum pkind { P_QUORUM, P_BOOL, P_SECONDS, P_TEXT, P_RULES, P_LIST };

static const struct {
	const char *name;
	enum pkind kind;
} keys[] = {
	{ "quorum", P_QUORUM },
	{ "distinct_teams", P_BOOL },
	{ "challenge_ttl", P_SECONDS },
	{ "pending_ttl", P_SECONDS },
	{ "breakglass_max_ttl", P_SECONDS },
	{ "elevation_max_duration", P_SECONDS },
	{ "review_due", P_SECONDS },
	{ "overdue_review_blocks", P_BOOL },
	{ "issuer", P_TEXT },
	{ "audience", P_TEXT },
	{ "blocked", P_RULES },
	{ "templates", P_RULES },
	{ "aaguids", P_LIST },
	{ "origins", P_LIST },
};

static int
bad(char *err, size_t errlen, const char *key, const char *what)
{
	char esc[80];

	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "policy.%s: %s", tk_log_escape(esc,
		    sizeof(esc), key, strlen(key)), what);
	return TK_CFG_ERR_SETTING;
}

static int
token_ok(json_t *s)
{
	const char *p;
	size_t len;

	if (!json_is_string(s))
		return 0;
	p = json_string_value(s);
	len = json_string_length(s);
	if (len == 0 || len > 128 || len != strlen(p))
		return 0;
	for (; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p > 0x7e)
			return 0;
	return 1;
}

/* {connector: [scope, ...]}; "*" stands for every connector. */
static int
rules_ok(json_t *v)
{
	const char *conn;
	json_t *arr, *s;
	size_t i;

	if (!json_is_object(v))
		return 0;
	json_object_foreach(v, conn, arr) {
		if (strlen(conn) == 0 || strlen(conn) > 128 ||
		    !json_is_array(arr) || json_array_size(arr) > 256)
			return 0;
		json_array_foreach(arr, i, s)
			if (!token_ok(s))
				return 0;
	}
	return 1;
}

/* Shapes only: the approvals layer checks each string's form. */
static int
list_ok(json_t *v)
{
	json_t *s;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) > 64)
		return 0;
	json_array_foreach(v, i, s)
		if (!json_is_string(s) || json_string_length(s) > 300)
			return 0;
	return 1;
}

static int
check_one(const char *key, enum pkind kind, json_t *v, char *err,
    size_t errlen)
{
	json_int_t n;

	switch (kind) {
	case P_QUORUM:
		n = json_is_integer(v) ? json_integer_value(v) : 0;
		if (n < 2 || n > 32)
			return bad(err, errlen, key, "must be a whole number "
			    "from 2 to 32 (never fewer than two people)");
		return 0;
	case P_BOOL:
		if (!json_is_boolean(v))
			return bad(err, errlen, key, "expected true or false");
		return 0;
	case P_SECONDS:
		n = json_is_integer(v) ? json_integer_value(v) : 0;
		if (n < 1 || n > POLICY_MAX_SECONDS)
			return bad(err, errlen, key, "expected seconds, from "
			    "1 to 31622400 (366 days)");
		return 0;
	case P_TEXT:
		if (!token_ok(v))
			return bad(err, errlen, key, "expected 1 to 128 "
			    "printable characters without spaces");
		return 0;
	case P_LIST:
		if (!list_ok(v))
			return bad(err, errlen, key, "expected a list of up to "
			    "64 distinct strings (aaguids: 32 lowercase hex "
			    "digits; origins: \"https://host[:port]\")");
		return 0;
	case P_RULES:
		if (!rules_ok(v))
			return bad(err, errlen, key, "expected an object "
			    "{\"connector\": [\"scope\", ...]}");
		return 0;
	}
	return bad(err, errlen, key, "unknown kind");
}

int
tk_config_check_policy(json_t *v, char *err, size_t errlen)
{
	const char *key;
	json_t *val;
	size_t i;

	if (!json_is_object(v)) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "policy: expected an object");
		return TK_CFG_ERR_SETTING;
	}
	json_object_foreach(v, key, val) {
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(keys[i].name, key) == 0)
				break;
		if (i == sizeof(keys) / sizeof(keys[0]))
			return bad(err, errlen, key, "unknown setting");
		if (check_one(key, keys[i].kind, val, err, errlen) != 0)
			return TK_CFG_ERR_SETTING;
	}
	return 0;
}
