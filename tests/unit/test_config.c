/* Specifications of twokeyd's configuration file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "twokey/config.h"

#define URI "\"pkcs11_uri\": \"pkcs11:token=t?pin-source=file:/p\""

static char err[512];

static struct tk_config *
parse_ok(const char *text)
{
	struct tk_config *c = NULL;

	assert_int_equal(tk_config_parse(text, strlen(text), &c, err,
	    sizeof(err)), TK_CFG_OK);
	assert_non_null(c);
	return c;
}

/* Refused with code, and the message starts with the setting's name. */
static void
refused(const char *text, int code, const char *named)
{
	struct tk_config *c = NULL;

	assert_int_equal(tk_config_parse(text, strlen(text), &c, err,
	    sizeof(err)), code);
	assert_null(c);
	if (strncmp(err, named, strlen(named)) != 0)
		fail_msg("message \"%s\" does not start with \"%s\"", err,
		    named);
}

static void
defaults_apply_when_only_the_uri_is_given(void **state)
{
	struct tk_config *c = parse_ok("{" URI "}");

	(void)state;
	assert_string_equal(c->listen_host, "127.0.0.1");
	assert_int_equal(c->listen_port, 8443);
	assert_null(c->tls_certificate);
	assert_null(c->tls_key);
	assert_string_equal(c->state_dir, "/var/lib/twokey");
	assert_string_equal(c->user, "twokey");
	assert_string_equal(c->rp_id, "localhost");
	assert_int_equal(c->norigins, 1);
	assert_string_equal(c->origins[0], "https://localhost:8443");
	assert_int_equal(c->log_level, TK_LOG_INFO);
	assert_int_equal(c->max_body_bytes, 65536);
	assert_int_equal(c->max_connections, 64);
	assert_int_equal(c->request_timeout, 30);
	assert_int_equal(c->session_ttl, 900);
	assert_int_equal(c->rate_limit_per_minute, 10);
	assert_string_equal(c->policy_json, "{}");
	tk_config_free(&c);
	assert_null(c);
}

static void
example_file_parses_with_its_comments(void **state)
{
	char path[4096];
	struct tk_config *c = NULL;
	const char *top = getenv("TWOKEY_TOP");

	(void)state;
	snprintf(path, sizeof(path), "%s/deploy/twokeyd.conf.example",
	    top != NULL ? top : ".");
	if (tk_config_load(path, &c, err, sizeof(err)) != TK_CFG_OK)
		fail_msg("example refused: %s", err);
	assert_int_equal(c->listen_port, 8443);
	assert_non_null(strstr(c->policy_json, "\"quorum\":2"));
	assert_string_equal(c->web_root, "/usr/local/share/twokey/www");
	tk_config_free(&c);
}

static void
missing_file_is_refused_with_its_path(void **state)
{
	struct tk_config *c = NULL;

	(void)state;
	assert_int_equal(tk_config_load("/nonexistent/twokeyd.conf", &c, err,
	    sizeof(err)), TK_CFG_ERR_IO);
	assert_non_null(strstr(err, "/nonexistent/twokeyd.conf"));
	assert_non_null(strstr(err, "No such file or directory"));
}

static void
unknown_setting_is_refused_and_named(void **state)
{
	(void)state;
	refused("{" URI ", \"lisen\": \"127.0.0.1:1\"}", TK_CFG_ERR_SETTING,
	    "lisen: unknown setting");
}

static void
wrong_type_is_refused_and_named(void **state)
{
	(void)state;
	refused("{" URI ", \"listen\": 8443}", TK_CFG_ERR_SETTING,
	    "listen: expected a string");
	refused("{" URI ", \"max_body_bytes\": \"64k\"}", TK_CFG_ERR_SETTING,
	    "max_body_bytes: expected a whole number");
	refused("{" URI ", \"origins\": \"https://a\"}", TK_CFG_ERR_SETTING,
	    "origins: expected a list");
}

static void
numbers_out_of_range_are_refused_and_named(void **state)
{
	(void)state;
	refused("{" URI ", \"max_body_bytes\": 10}", TK_CFG_ERR_SETTING,
	    "max_body_bytes: must be between 1024 and 1048576");
	refused("{" URI ", \"session_ttl\": -1}", TK_CFG_ERR_SETTING,
	    "session_ttl: must be between");
	refused("{" URI ", \"rate_limit_per_minute\": 0}",
	    TK_CFG_ERR_SETTING, "rate_limit_per_minute: must be between");
}

static void
signer_timeout_defaults_to_five_seconds_and_is_bounded(void **state)
{
	struct tk_config *c = parse_ok("{" URI ", \"signer_timeout\": 120}");

	(void)state;
	assert_int_equal(c->signer_timeout, 120);
	tk_config_free(&c);
	c = parse_ok("{" URI "}");
	assert_int_equal(c->signer_timeout, 5);
	tk_config_free(&c);
	refused("{" URI ", \"signer_timeout\": 0}", TK_CFG_ERR_SETTING,
	    "signer_timeout: must be between 1 and 600");
	refused("{" URI ", \"signer_timeout\": 601}", TK_CFG_ERR_SETTING,
	    "signer_timeout: must be between 1 and 600");
}

static void
connections_per_address_default_to_eight_and_are_bounded(void **state)
{
	struct tk_config *c = parse_ok("{" URI "}");

	(void)state;
	assert_int_equal(c->max_connections_per_address, 8);
	tk_config_free(&c);
	c = parse_ok("{" URI ", \"max_connections_per_address\": 2}");
	assert_int_equal(c->max_connections_per_address, 2);
	tk_config_free(&c);
	refused("{" URI ", \"max_connections_per_address\": 0}",
	    TK_CFG_ERR_SETTING, "max_connections_per_address: must be "
	    "between 1 and 4096");
	refused("{" URI ", \"max_connections_per_address\": 4097}",
	    TK_CFG_ERR_SETTING, "max_connections_per_address: must be");
}

static void
listen_takes_ipv4_and_bracketed_ipv6(void **state)
{
	struct tk_config *c;

	(void)state;
	c = parse_ok("{" URI ", \"listen\": \"[::1]:443\"}");
	assert_string_equal(c->listen_host, "::1");
	assert_int_equal(c->listen_port, 443);
	assert_string_equal(c->origins[0], "https://localhost");
	tk_config_free(&c);
	c = parse_ok("{" URI ", \"listen\": \"0.0.0.0:1\"}");
	assert_string_equal(c->listen_host, "0.0.0.0");
	assert_int_equal(c->listen_port, 1);
	tk_config_free(&c);
}

static void
malformed_listen_addresses_are_refused(void **state)
{
	static const char *bad[] = { "127.0.0.1", "127.0.0.1:0",
	    "127.0.0.1:65536", ":8443", "::1:8443", "[::1]8443", "h:84x3",
	    "h:-1", "h: 1" };
	char text[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "{" URI ", \"listen\": \"%s\"}",
		    bad[i]);
		refused(text, TK_CFG_ERR_SETTING, "listen: expected");
	}
}

static void
pkcs11_uri_is_required(void **state)
{
	(void)state;
	refused("{\"listen\": \"127.0.0.1:8443\"}", TK_CFG_ERR_SETTING,
	    "pkcs11_uri: required");
}

static void
pin_value_in_the_uri_is_refused(void **state)
{
	(void)state;
	refused("{\"pkcs11_uri\": \"pkcs11:token=t?pin-value=1234\"}",
	    TK_CFG_ERR_SETTING, "pkcs11_uri: pin-value is refused");
	refused("{\"pkcs11_uri\": \"file:/xyz\"}", TK_CFG_ERR_SETTING,
	    "pkcs11_uri: must be");
}

static void
certificate_without_key_is_refused(void **state)
{
	(void)state;
	refused("{" URI ", \"tls_certificate\": \"/c.pem\"}",
	    TK_CFG_ERR_SETTING, "tls_key: tls_certificate and tls_key");
	refused("{" URI ", \"tls_key\": \"/k.pem\"}",
	    TK_CFG_ERR_SETTING, "tls_certificate: tls_certificate and");
}

static void
relative_paths_are_refused(void **state)
{
	(void)state;
	refused("{" URI ", \"state_dir\": \"state\"}", TK_CFG_ERR_SETTING,
	    "state_dir: expected an absolute path");
}

static void
control_characters_in_strings_are_refused(void **state)
{
	(void)state;
	refused("{" URI ", \"user\": \"a\\nb\"}", TK_CFG_ERR_SETTING,
	    "user: expected");
	/* jansson itself refuses NUL in strings. */
	refused("{" URI ", \"user\": \"a\\u0000b\"}", TK_CFG_ERR_SYNTAX,
	    "configuration: line 1 column 70: a NUL character (\\u0000) is "
	    "not allowed");
}

static void
origins_must_be_https_without_a_path(void **state)
{
	struct tk_config *c;

	(void)state;
	refused("{" URI ", \"origins\": [\"http://localhost\"]}",
	    TK_CFG_ERR_SETTING, "origins[0]: expected");
	refused("{" URI ", \"origins\": [\"https://a\", \"https://b/x\"]}",
	    TK_CFG_ERR_SETTING, "origins[1]: expected");
	refused("{" URI ", \"origins\": []}", TK_CFG_ERR_SETTING,
	    "origins: expected a list of 1 to 16");
	c = parse_ok("{" URI ", \"origins\": [\"https://a:1\", "
	    "\"https://b\"]}");
	assert_int_equal(c->norigins, 2);
	assert_string_equal(c->origins[1], "https://b");
	tk_config_free(&c);
}

static void
log_levels_are_named_words(void **state)
{
	struct tk_config *c;

	(void)state;
	c = parse_ok("{" URI ", \"log_level\": \"debug\"}");
	assert_int_equal(c->log_level, TK_LOG_DEBUG);
	tk_config_free(&c);
	refused("{" URI ", \"log_level\": 3}", TK_CFG_ERR_SETTING,
	    "log_level: expected");
	refused("{" URI ", \"log_level\": \"verbose\"}", TK_CFG_ERR_SETTING,
	    "log_level: expected");
}

static void
quorum_below_two_is_refused_and_named(void **state)
{
	(void)state;
	refused("{" URI ", \"policy\": {\"quorum\": 1}}", TK_CFG_ERR_SETTING,
	    "policy.quorum: must be");
	refused("{" URI ", \"policy\": {\"quorum\": \"2\"}}",
	    TK_CFG_ERR_SETTING, "policy.quorum: must be");
}

static void
policy_keys_and_types_are_checked_and_named(void **state)
{
	(void)state;
	refused("{" URI ", \"policy\": {\"quorom\": 2}}", TK_CFG_ERR_SETTING,
	    "policy.quorom: unknown setting");
	refused("{" URI ", \"policy\": {\"distinct_teams\": 1}}",
	    TK_CFG_ERR_SETTING, "policy.distinct_teams: expected true");
	refused("{" URI ", \"policy\": {\"challenge_ttl\": 0}}",
	    TK_CFG_ERR_SETTING, "policy.challenge_ttl: expected seconds");
	refused("{" URI ", \"policy\": {\"blocked\": {\"*\": \"admin\"}}}",
	    TK_CFG_ERR_SETTING, "policy.blocked: expected an object");
	refused("{" URI ", \"policy\": {\"issuer\": \"a b\"}}",
	    TK_CFG_ERR_SETTING, "policy.issuer: expected");
	refused("{" URI ", \"policy\": []}", TK_CFG_ERR_SETTING,
	    "policy: expected an object");
}

static void
policy_is_kept_as_sorted_compact_json(void **state)
{
	struct tk_config *c;

	(void)state;
	c = parse_ok("{" URI ", \"policy\": { \"quorum\": 3, \"blocked\": "
	    "{\"*\": [\"admin\"]} }}");
	assert_string_equal(c->policy_json,
	    "{\"blocked\":{\"*\":[\"admin\"]},\"quorum\":3}");
	tk_config_free(&c);
}

static void
malformed_json_names_line_and_column(void **state)
{
	(void)state;
	refused("{\n" URI ",\n}", TK_CFG_ERR_SYNTAX, "configuration: line 3");
	refused("[]", TK_CFG_ERR_SYNTAX, "configuration: the file must hold "
	    "one JSON object");
	refused("", TK_CFG_ERR_SYNTAX, "configuration: line");
}

static void
duplicate_settings_are_refused(void **state)
{
	(void)state;
	refused("{" URI ", " URI "}", TK_CFG_ERR_SYNTAX,
	    "configuration: line 1 column 64: a key is given twice");
}

static void
rp_id_must_be_a_host_name(void **state)
{
	(void)state;
	refused("{" URI ", \"rp_id\": \"bad host name!\"}",
	    TK_CFG_ERR_SETTING, "rp_id: must be a host name");
	refused("{" URI ", \"rp_id\": \"-x.example\"}", TK_CFG_ERR_SETTING,
	    "rp_id:");
	refused("{" URI ", \"rp_id\": \"a..example\"}", TK_CFG_ERR_SETTING,
	    "rp_id:");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_apply_when_only_the_uri_is_given),
		cmocka_unit_test(example_file_parses_with_its_comments),
		cmocka_unit_test(missing_file_is_refused_with_its_path),
		cmocka_unit_test(rp_id_must_be_a_host_name),
		cmocka_unit_test(unknown_setting_is_refused_and_named),
		cmocka_unit_test(wrong_type_is_refused_and_named),
		cmocka_unit_test(numbers_out_of_range_are_refused_and_named),
		cmocka_unit_test(
		    signer_timeout_defaults_to_five_seconds_and_is_bounded),
		cmocka_unit_test(
		    connections_per_address_default_to_eight_and_are_bounded),
		cmocka_unit_test(listen_takes_ipv4_and_bracketed_ipv6),
		cmocka_unit_test(malformed_listen_addresses_are_refused),
		cmocka_unit_test(pkcs11_uri_is_required),
		cmocka_unit_test(pin_value_in_the_uri_is_refused),
		cmocka_unit_test(certificate_without_key_is_refused),
		cmocka_unit_test(relative_paths_are_refused),
		cmocka_unit_test(control_characters_in_strings_are_refused),
		cmocka_unit_test(origins_must_be_https_without_a_path),
		cmocka_unit_test(log_levels_are_named_words),
		cmocka_unit_test(quorum_below_two_is_refused_and_named),
		cmocka_unit_test(policy_keys_and_types_are_checked_and_named),
		cmocka_unit_test(policy_is_kept_as_sorted_compact_json),
		cmocka_unit_test(malformed_json_names_line_and_column),
		cmocka_unit_test(duplicate_settings_are_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
