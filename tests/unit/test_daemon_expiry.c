/*
 * Specifications of twokeyd's expiry runs: a pending request whose time
 * is up is marked expired and journaled without anyone touching it, so
 * that the journal says what became of every request.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <sqlite3.h>

#include "twokey/approvals.h"
#include "../lib/daemon_fixture.h"
#include "../lib/softauthn.h"
#include "../lib/token_fixture.h"

static struct tkd d;
static struct tkd_key rita;

static int
setup(void **state)
{
	(void)state;
	if (tkd_init(&d, "expiry", ",\n\"expiry_interval\": 1,\n"
	    "\"policy\": {\"pending_ttl\": 2}") != 0 ||
	    tkd_enroll(&d, "rita", "dev", TK_ROLE_REQUESTER |
	    TK_ROLE_COMMANDER, &rita) != 0)
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
	tkd_cleanup();
	curl_global_cleanup();
	return r == 0 ? 0 : -1;
}

/* The state of request id in the store, read as the daemon keeps it. */
static int
stored_state(int64_t id)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char path[700];
	int s = -1;

	snprintf(path, sizeof(path), "%s/state/approvals.db", d.dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT state FROM requests "
	    "WHERE id = ?", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		s = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return s;
}

/* How many journal entries mention needle. */
static int
journal_count(const char *needle)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char path[700];
	int n = -1;

	snprintf(path, sizeof(path), "%s/state/journal.db", d.dir);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY,
	    NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM "
	    "entries WHERE instr(CAST(leaf AS TEXT), ?) > 0", -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, needle, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void
a_request_nobody_answers_is_expired_and_journaled(void **state)
{
	json_t *ans = NULL;
	int64_t id;
	unsigned int waited = 0;

	(void)state;
	assert_int_equal(tkd_signin(&d, "rita", &rita), 200);
	assert_int_equal(tkd_call(&d, "POST", "/api/v1/requests",
	    "{\"kind\":\"break-glass\",\"incident\":\"INC-1\",\"scopes\":"
	    "[\"db:admin\"],\"ttl\":600,\"reason\":\"disk full\"}", NULL,
	    &ans), 201);
	id = (int64_t)json_integer_value(json_object_get(ans, "id"));
	json_decref(ans);
	assert_int_equal(stored_state(id), TK_REQ_PENDING);
	assert_int_equal(journal_count("request.expire"), 0);
	while (stored_state(id) == TK_REQ_PENDING &&
	    waited < tk_fixture_ms(10000)) {
		usleep(100000);
		waited += 100;
	}
	assert_int_equal(stored_state(id), TK_REQ_EXPIRED);
	assert_int_equal(journal_count("request.expire"), 1);
	assert_true(tkd_log_has(&d, "pending request(s) expired", 2000));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    a_request_nobody_answers_is_expired_and_journaled),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
