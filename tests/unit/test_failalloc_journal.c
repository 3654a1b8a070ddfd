/*
 * Allocation failure: for every n, the n-th heap allocation of the
 * process fails during a journal append (the approval path is
 * test_failalloc_approvals.c). Every run must end in a clean error (or
 * in success, where the failure was tolerated), and afterwards the
 * journal holds exactly the entries whose append returned 0, each with
 * the action it was given; it keeps working; its export verifies
 * against the pinned root; and nothing allocated during the runs is
 * still live once it is closed (leaks).
 *
 * tests/lib/failalloc.c replaces the process's allocator (see its header
 * for what that covers and what not), so this program is built for make
 * check and make check-valgrind only, never under AddressSanitizer.
 * Under valgrind it runs every 16th n (failalloc_env.h), and valgrind
 * judges the leaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/err.h>

#include "twokey/common.h"
#include "twokey/journal.h"
#include "../lib/failalloc.h"
#include "failalloc_env.h"
#include "journal_testutil.h"

static struct jt T;

/* Export of the whole journal, checked against the pinned root. */
static void
assert_export_verifies(struct tk_journal *j, const char *name)
{
	struct tk_export_report rep;

	memset(&rep, 0, sizeof(rep));
	assert_int_equal(jt_export_check(&T, j, name, 0, 0, 0, NULL, &rep),
	    0);
}

/* Lazy one-time state of the libraries, made before leaks are counted. */
static void
warm_up(void)
{
	ERR_raise(ERR_LIB_USER, ERR_R_MALLOC_FAILURE);
	ERR_clear_error();
}

static int
group_setup(void **state)
{
	(void)state;
	tk_log_set_level(TK_LOG_ERROR);
	return jt_setup(&T, 0);
}

/* Skips the test when something else (valgrind) owns the allocator. */
static void
need_our_allocator(void)
{
	if (!fa_allocator_is_ours()) {
		print_message("the allocator is not ours: skipped\n");
		skip();
	}
}

static int
group_teardown(void **state)
{
	(void)state;
	jt_teardown(&T);
	return 0;
}

/*
 * jansson 2.14's json_dumps, failing to grow its buffer while writing an
 * object key, carries on and returns the text without that key; the
 * journal signed such a leaf. tk_json_dumps gives whole text or none.
 */
static void
json_text_is_whole_or_absent_at_every_allocation(void **state)
{
	const size_t flags = JSON_COMPACT | JSON_SORT_KEYS;
	json_t *o;
	char *want, *got;
	uint64_t n;
	int nulls = 0;

	(void)state;
	need_our_allocator();
	assert_non_null(o = json_pack("{s:s, s:s, s:{s:[i, s]}}",
	    "a-rather-long-key-to-grow-the-buffer", "value", "action",
	    "test/armed", "details", "list", 7, "caf\u00e9"));
	assert_non_null(want = json_dumps(o, flags));
	failalloc_track_start();
	for (n = 1; ; n++) {
		failalloc_arm(n);
		got = tk_json_dumps(o, flags);
		(void)failalloc_disarm();
		if (!failalloc_fired()) {
			assert_non_null(got);
			assert_string_equal(got, want);
			free(got);
			break;
		}
		if (got == NULL)
			nulls++;
		else
			assert_string_equal(got, want);
		free(got);
	}
	assert_int_equal(failalloc_track_stop(20), 0);
	assert_true(nulls > 0);
	free(want);
	json_decref(o);
}

static int
journal_append_failure_is_clean(int r)
{
	return r == 0 || r == TK_JOURNAL_ERR_NOMEM ||
	    r == TK_JOURNAL_ERR_DB || r == TK_JOURNAL_ERR_SIGN;
}

/* Appends "test/armed" with some details, the n-th allocation failing. */
static int
armed_append(struct tk_journal *j, uint64_t n)
{
	struct tk_journal_entry e;
	uint64_t idx;
	json_t *d;
	int r;

	assert_non_null(d = json_pack("{s:I, s:s, s:[s, i]}", "seq",
	    (json_int_t)n, "tag", "armed", "list", "caf\u00e9", 7));
	memset(&e, 0, sizeof(e));
	e.actor = "alice@example.com";
	e.action = "test/armed";
	e.object = "request/42";
	e.correlation_id = "corr-1";
	e.details = d;
	failalloc_arm(n);
	r = tk_journal_append(j, &e, &idx);
	json_decref(d);
	return r;
}

static void
journal_append_fails_cleanly_at_every_allocation(void **state)
{
	struct tk_journal *j = NULL;
	uint64_t n, idx, counted = 0;
	size_t from = 0;
	int r, failures = 0;

	(void)state;
	need_our_allocator();
	fa_nacks = 0;
	warm_up();
	assert_int_equal(jt_open(&T, "append.db", 0, &j), 0);
	assert_int_equal(jt_append(j, 0, "warm-up", &idx), 0);
	failalloc_track_start();
	for (n = fa_first(); ; n += fa_stride(1)) {
		r = armed_append(j, n);
		counted = failalloc_disarm();
		if (!failalloc_fired()) {
			assert_int_equal(r, 0);
			break;
		}
		if (!journal_append_failure_is_clean(r))
			fail_msg("allocation %llu: append gave %d (%s)",
			    (unsigned long long)n, r, tk_journal_strerror(r));
		failures += r != 0;
		/* The journal keeps working. */
		assert_int_equal(jt_append(j, (int64_t)n, "after", &idx), 0);
		fa_assert_journal_holds_the_acks(j, from);
		from = fa_nacks;
	}
	print_message("journal append: %llu allocations, %d runs failed "
	    "cleanly\n", (unsigned long long)counted, failures);
	assert_true(failures > 0);
	tk_journal_free(&j);
	assert_int_equal(failalloc_track_stop(20), 0);
	/* Opening it again checks the stored tree against its checkpoint. */
	assert_int_equal(jt_open(&T, "append.db", 0, &j), 0);
	fa_assert_journal_holds_the_acks(j, 0);
	assert_export_verifies(j, "append-export");
	tk_journal_free(&j);
}

int
main(void)
{
	int r;

	if (failalloc_openssl_init() != 0) {
		fprintf(stderr, "OpenSSL allocated before main\n");
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    json_text_is_whole_or_absent_at_every_allocation),
		cmocka_unit_test(
		    journal_append_fails_cleanly_at_every_allocation),
	};

	fa_use_memory_tmp();
	r = cmocka_run_group_tests(tests, group_setup, group_teardown);
	fa_remove_memory_tmp();
	return r;
}
