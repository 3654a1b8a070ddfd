/*
 * Specifications of GET /api/v1/evidence on the real twokeyd: the pack of
 * a period, made over verified TLS on a real SoftHSM2 token, verifies
 * offline with twokey-verify; bad input is refused with a stable code and
 * journals nothing.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/packcheck.h"
#include "../lib/daemon_fixture.h"
#include "../lib/softauthn.h"

static struct tkd d;
static struct tkd_key rita, alice, bob, carol, olga;

static int
setup(void **state)
{
	(void)state;
	if (tkd_init(&d, "evidence", ",\n\"rate_limit_per_minute\": 1000") !=
	    0 || tkd_enroll(&d, "rita", "dev", TK_ROLE_REQUESTER |
	    TK_ROLE_COMMANDER, &rita) != 0 ||
	    tkd_enroll(&d, "alice", "ops", TK_ROLE_APPROVER, &alice) != 0 ||
	    tkd_enroll(&d, "bob", "sec", TK_ROLE_APPROVER, &bob) != 0 ||
	    tkd_enroll(&d, "carol", "audit", TK_ROLE_AUDITOR, &carol) != 0 ||
	    tkd_enroll(&d, "olga", "ops", TK_ROLE_ADMIN, &olga) != 0)
		return -1;
	return tkd_start(&d);
}

static int
teardown(void **state)
{
	int r;

	(void)state;
	r = tkd_stop(&d, SIGTERM);
	softauthn_free(&rita.sa);
	softauthn_free(&alice.sa);
	softauthn_free(&bob.sa);
	softauthn_free(&carol.sa);
	softauthn_free(&olga.sa);
	return r == 0 ? 0 : -1;
}

/* A request for name's break-glass, approved by alice and bob. */
static void
granted_breakglass(void)
{
	struct tkd_key *keys[] = { &alice, &bob };
	const char *names[] = { "alice", "bob" };
	char path[128];
	json_t *ans, *req;
	uint8_t *ch = NULL;
	const char *s;
	size_t i, len = 0;
	int64_t id;

	assert_int_equal(tkd_signin(&d, "rita", &rita), 200);
	assert_int_equal(tkd_call(&d, "POST", "/api/v1/requests",
	    "{\"kind\":\"break-glass\",\"incident\":\"INC-9\",\"scopes\":"
	    "[\"db:admin\"],\"ttl\":3600,\"reason\":\"disk full\"}", NULL,
	    &ans), 201);
	id = (int64_t)json_integer_value(json_object_get(ans, "id"));
	json_decref(ans);
	for (i = 0; i < 2; i++) {
		assert_int_equal(tkd_signin(&d, names[i], keys[i]), 200);
		snprintf(path, sizeof(path), "/api/v1/requests/%lld/challenge",
		    (long long)id);
		assert_int_equal(tkd_call(&d, "POST", path,
		    "{\"decision\":\"approve\"}", NULL, &ans), 200);
		s = json_string_value(json_object_get(ans, "challenge"));
		assert_non_null(s);
		assert_int_equal(tk_b64url_decode(s, strlen(s), &ch, &len), 0);
		json_decref(ans);
		req = json_object();
		assert_int_equal(tkd_assert(&d, keys[i], ch, len, req), 0);
		free(ch);
		s = json_dumps(req, JSON_COMPACT);
		json_decref(req);
		snprintf(path, sizeof(path), "/api/v1/requests/%lld/votes",
		    (long long)id);
		assert_int_equal(tkd_call(&d, "POST", path, s, NULL, &ans),
		    200);
		free((void *)(uintptr_t)s);
		json_decref(ans);
	}
}

static int
verify(const char *path)
{
	char cmd[4096];
	int st;

	snprintf(cmd, sizeof(cmd), "'%s/twokey-verify' pack '%s' --root '%s'"
	    " >/dev/null", getenv("TWOKEY_BUILD"), path, d.root_pem);
	st = system(cmd);
	assert_true(st != -1 && WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* Whether tar unpacks path, as an auditor would, without a word. */
static int
untar_quietly(const char *path)
{
	char cmd[4096], said[1024], dir[700];
	FILE *f;
	size_t n;
	int st;

	snprintf(dir, sizeof(dir), "%s/untar", d.dir);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && tar -xzf '%s' -C '%s' "
	    "2>&1", dir, path, dir);
	assert_non_null(f = popen(cmd, "r"));
	n = fread(said, 1, sizeof(said) - 1, f);
	said[n] = '\0';
	st = pclose(f);
	if (n > 0)
		fail_msg("tar said: %s", said);
	return st;
}

static void
an_auditor_gets_a_pack_that_verifies_offline(void **state)
{
	struct tk_packcheck_report rep;
	struct tk_pack *p = NULL;
	const struct tk_pack_file *f;
	struct tkd_resp r;
	char url[128], from[11], to[11], path[700];
	json_t *pj;
	FILE *out;

	(void)state;
	granted_breakglass();
	tkd_day(-1, from);
	tkd_day(2, to);
	snprintf(url, sizeof(url), "/api/v1/evidence?from=%s&to=%s", from,
	    to);
	assert_int_equal(tkd_signin(&d, "carol", &carol), 200);
	assert_int_equal(tkd_request(&d, "GET", url, NULL, NULL, 0, NULL, &r),
	    0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.ctype, "application/gzip");
	snprintf(path, sizeof(path), "%s/pack.tar.gz", d.dir);
	assert_non_null(out = fopen(path, "w"));
	assert_int_equal(fwrite(r.body, 1, r.len, out), r.len);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(verify(path), 0);
	/* The period is still open: no member is dated in the future. */
	assert_int_equal(untar_quietly(path), 0);
	/* What it holds is the daemon's state. */
	assert_int_equal(tk_pack_read((const uint8_t *)r.body, r.len, &p,
	    &rep), 0);
	assert_non_null(f = tk_pack_get(p, "pack.json"));
	assert_non_null(pj = json_loads((const char *)f->data, 0, NULL));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    pj, "counts"), "requests")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    pj, "counts"), "break_glass")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    pj, "counts"), "people")), 5);
	json_decref(pj);
	tk_pack_free(&p);
	tkd_resp_clear(&r);
	assert_true(tkd_log_has(&d, "evidence pack made for carol", 2000));
	/* Last week's pack lists no one: every key here came later. */
	assert_non_null(pj = tkd_pack_json(&d, -8, -1, "access.json"));
	assert_int_equal(json_array_size(json_object_get(pj, "people")), 0);
	json_decref(pj);
	/* An admin may as well; an approver may not. */
	assert_int_equal(tkd_signin(&d, "olga", &olga), 200);
	assert_int_equal(tkd_call(&d, "GET", url, NULL, NULL, NULL), 200);
	assert_int_equal(tkd_signin(&d, "alice", &alice), 200);
	assert_int_equal(tkd_call(&d, "GET", url, NULL, NULL, NULL), 403);
}

/* The journal's size from the public checkpoint. */
static long long
journal_size(void)
{
	struct tkd_resp r;
	long long n;
	char *nl;

	assert_int_equal(tkd_request(&d, "GET", "/api/v1/journal/checkpoint",
	    NULL, NULL, 0, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(nl = strchr(r.body, '\n'));
	n = strtoll(nl + 1, NULL, 10);
	tkd_resp_clear(&r);
	return n;
}

static void
refused(const char *query, long status, const char *code)
{
	char url[256];
	json_t *ans = NULL;

	snprintf(url, sizeof(url), "/api/v1/evidence%s", query);
	assert_int_equal(tkd_call(&d, "GET", url, NULL, NULL, &ans), status);
	if (code != NULL) {
		assert_non_null(ans);
		assert_string_equal(json_string_value(json_object_get(
		    json_object_get(ans, "error"), "code")), code);
	}
	json_decref(ans);
}

static void
bad_periods_are_refused_with_a_code_and_journal_nothing(void **state)
{
	long long before;

	(void)state;
	assert_int_equal(tkd_signin(&d, "carol", &carol), 200);
	before = journal_size();
	refused("", 400, "invalid_query");
	refused("?from=2026-01-01", 400, "invalid_query");
	refused("?to=2026-01-01", 400, "invalid_query");
	refused("?from=2026-13-01&to=2027-01-01", 400, "invalid_date");
	refused("?from=2026-02-30&to=2027-01-01", 400, "invalid_date");
	refused("?from=yesterday&to=2027-01-01", 400, "invalid_date");
	refused("?from=2026-01-01T00:00:00&to=2027-01-01", 400,
	    "invalid_date");
	refused("?from=2026-01-01T24:00:00Z&to=2027-01-01", 400,
	    "invalid_date");
	refused("?from=%2B2026-01-01&to=2027-01-01", 400, "invalid_date");
	refused("?from=1969-12-31&to=2027-01-01", 400, "invalid_date");
	refused("?from=2026-06-01&to=2026-01-01", 400, "invalid_period");
	refused("?from=2026-06-01&to=2026-06-01", 400, "invalid_period");
	refused("?from=2024-01-01&to=2026-01-01", 400, "period_too_long");
	/* Which "from" would count is not left to chance. */
	refused("?from=2026-01-01&from=2026-02-01&to=2026-03-01", 400,
	    "invalid_query");
	refused("?from=2026-01-01&to=2026-03-01&format=zip", 400,
	    "invalid_query");
	assert_int_equal(journal_size(), before);
	/* Signed out: no session, no pack. */
	d.cookie[0] = '\0';
	refused("?from=2026-01-01&to=2026-02-01", 401, NULL);
}

/*
 * GET the pack of [yesterday, in two days) as carol; it verifies offline
 * (an applied governed change among its requests, with no grant); parse
 * it.
 */
static struct tk_pack *
fetch_pack(void)
{
	struct tk_packcheck_report rep;
	struct tk_pack *p = NULL;
	struct tkd_resp r;
	char url[128], from[11], to[11], path[700];
	FILE *out;

	tkd_day(-1, from);
	tkd_day(2, to);
	snprintf(url, sizeof(url), "/api/v1/evidence?from=%s&to=%s", from,
	    to);
	assert_int_equal(tkd_signin(&d, "carol", &carol), 200);
	assert_int_equal(tkd_request(&d, "GET", url, NULL, NULL, 0, NULL, &r),
	    0);
	assert_int_equal(r.status, 200);
	snprintf(path, sizeof(path), "%s/pack-inventory.tar.gz", d.dir);
	assert_non_null(out = fopen(path, "w"));
	assert_int_equal(fwrite(r.body, 1, r.len, out), r.len);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(verify(path), 0);
	assert_int_equal(tk_pack_read((const uint8_t *)r.body, r.len, &p,
	    &rep), 0);
	tkd_resp_clear(&r);
	return p;
}

static json_t *
pack_json(struct tk_pack *p, const char *name)
{
	const struct tk_pack_file *f;
	json_t *o;

	assert_non_null(f = tk_pack_get(p, name));
	assert_non_null(o = json_loadb((const char *)f->data, f->len, 0,
	    NULL));
	return o;
}

static json_int_t
count(const json_t *pj, const char *name)
{
	return json_integer_value(json_object_get(json_object_get(pj,
	    "counts"), name));
}

/*
 * Two accounts: sa-fresh rotated an hour ago, sa-stale never rotated.
 * Adding them binds them: olga proposes, alice and bob approve.
 */
static void
import_inventory(void)
{
	char doc[1024], when[21];
	time_t t = time(NULL) - 3600;
	struct tm tm;
	json_t *ans = NULL;
	int64_t id;

	assert_non_null(gmtime_r(&t, &tm));
	assert_int_equal(strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
	    &tm), 20);
	snprintf(doc, sizeof(doc), "{\"v\":1,\"accounts\":["
	    "{\"id\":\"sa-fresh\",\"owner\":\"rita\",\"purpose\":\"sync\","
	    "\"systems\":[\"erp\"],\"classification\":\"internal\","
	    "\"connector\":\"erp\",\"scopes\":[\"read\"],"
	    "\"credential_ref\":\"vault:kv/fresh\",\"credential_kind\":"
	    "\"service\",\"production\":true,\"rotation_days\":30,"
	    "\"last_rotation\":\"%s\"},"
	    "{\"id\":\"sa-stale\",\"owner\":\"rita\",\"purpose\":\"backup\","
	    "\"systems\":[],\"classification\":\"internal\","
	    "\"connector\":\"erp\",\"scopes\":[],"
	    "\"credential_ref\":\"vault:kv/stale\",\"credential_kind\":"
	    "\"service\",\"production\":false,\"rotation_days\":30}]}", when);
	assert_int_equal(tkd_signin(&d, "olga", &olga), 200);
	assert_int_equal(tkd_call(&d, "POST", "/api/v1/inventory/import"
	    "?reason=audit%20scope&ticket=AUD-1", doc, NULL, &ans), 202);
	id = (int64_t)json_integer_value(json_object_get(json_object_get(ans,
	    "change"), "id"));
	json_decref(ans);
	assert_int_equal(tkd_approve(&d, "alice", &alice, id, &ans), 200);
	json_decref(ans);
	assert_int_equal(tkd_approve(&d, "bob", &bob, id, &ans), 200);
	assert_string_equal(json_string_value(json_object_get(ans, "state")),
	    "applied");
	json_decref(ans);
}

/* The file's policy differs from the approved one: drift on SIGHUP. */
static void
edit_policy_file(void)
{
	char text[8192];

	snprintf(text, sizeof(text), "{\"listen\": \"127.0.0.1:%u\", "
	    "\"pkcs11_uri\": \"%s\", \"signer_path\": \"%s\", "
	    "\"state_dir\": \"%s/state\", \"user\": \"nobody\", "
	    "\"log_level\": \"debug\", \"rate_limit_per_minute\": 1000, "
	    "\"policy\": {\"elevation_max_duration\": 31536000}%s}", d.port,
	    d.uri, d.signer, d.dir, tkd_test_settings());
	assert_int_equal(tkd_write_config(&d, text), 0);
	assert_int_equal(kill(d.pid, SIGHUP), 0);
	assert_true(tkd_log_has(&d, "differs from the approved policy "
	    "(reload)", 5000));
}

static void
the_pack_holds_the_inventory_and_lists_drift_first(void **state)
{
	const struct tk_pack_file *f;
	struct tk_pack *p;
	json_t *pj, *inv, *rot, *a;
	const char *html, *drift, *flagged, *requests;
	size_t i;
	int stale_flagged = 0;

	(void)state;
	import_inventory();
	edit_policy_file();
	p = fetch_pack();
	pj = pack_json(p, "pack.json");
	assert_int_equal(count(pj, "inventory_accounts"), 2);
	assert_int_equal(count(pj, "inventory_flagged"), 1);
	assert_int_equal(count(pj, "rotation_accounts"), 2);
	assert_true(count(pj, "drift_events") >= 1);
	inv = pack_json(p, "inventory.json");
	json_array_foreach(json_object_get(inv, "accounts"), i, a) {
		if (strcmp(json_string_value(json_object_get(a, "id")),
		    "sa-stale") == 0)
			stale_flagged = json_array_size(json_object_get(a,
			    "flags")) > 0;
		else
			assert_int_equal(json_array_size(json_object_get(a,
			    "flags")), 0);
	}
	assert_true(stale_flagged);
	rot = pack_json(p, "rotation.json");
	assert_int_equal(json_array_size(json_object_get(rot, "accounts")), 2);
	/* The report puts drift first, then what is flagged or overdue. */
	assert_non_null(f = tk_pack_get(p, "report.html"));
	html = (const char *)f->data;
	assert_non_null(drift = strstr(html, "Policy drift"));
	assert_non_null(flagged = strstr(html, "Rotation overdue"));
	assert_non_null(requests = strstr(html, "Requests filed"));
	assert_non_null(strstr(drift, "elevation_max_duration"));
	assert_true(drift < flagged && flagged < requests);
	assert_non_null(strstr(flagged, "sa-stale"));
	json_decref(rot);
	json_decref(inv);
	json_decref(pj);
	tk_pack_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(an_auditor_gets_a_pack_that_verifies_offline),
		cmocka_unit_test(
		    bad_periods_are_refused_with_a_code_and_journal_nothing),
		cmocka_unit_test(
		    the_pack_holds_the_inventory_and_lists_drift_first),
	};
	int r;

	r = cmocka_run_group_tests(tests, setup, teardown);
	tkd_cleanup();
	curl_global_cleanup();
	return r;
}
