/*
 * Allocation failure over the approval path: for every n, the n-th heap
 * allocation of the process fails while a requester files a request and
 * two approvers each get a challenge and vote, up to the grant. Every run
 * must end in a clean error (or in success, where the failure was
 * tolerated), and afterwards:
 *   - nothing is half done: a step that failed left no trace in the
 *     store (the same step succeeds when tried again, and the path then
 *     reaches the grant);
 *   - the journal holds exactly the entries whose append returned 0,
 *     each with its action and its details, and its export verifies;
 *   - nothing allocated during the runs is live once all is closed.
 *
 * Built for make check and make check-valgrind only (tests/lib/failalloc.h
 * replaces the allocator, which AddressSanitizer owns).
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

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/export.h"
#include "twokey/journal.h"
#include "../lib/failalloc.h"
#include "../lib/softauthn.h"
#include "approvals_env.h"
#include "failalloc_env.h"
#include "journal_testutil.h"

/* An export of the journal, checked by twokey-verify against the root. */
static void
assert_export_verifies(struct env *e, const char *name)
{
	char dir[600], prog[600], out[4096];
	char *argv[] = { prog, (char *)(uintptr_t)"log", dir,
	    (char *)(uintptr_t)"--root", (char *)(uintptr_t)apr_root_pem(),
	    NULL };

	(void)snprintf(dir, sizeof(dir), "%s/%s", getenv("TWOKEY_TEST_TMP"),
	    name);
	(void)snprintf(prog, sizeof(prog), "%s/twokey-verify",
	    getenv("TWOKEY_BUILD"));
	assert_int_equal(tk_journal_export(e->journal, 0, 0, dir, 0), 0);
	if (jt_run(argv, out, sizeof(out)) != 0)
		fail_msg("twokey-verify: %s", out);
}

/*
 * The path makes some 8,700 allocations and each run takes ~40 ms, so
 * make check fails every 5th (about 70 s); TWOKEY_FAILALLOC_STRIDE=1
 * fails each one (about 6 min; run before a release).
 */
#define STRIDE 5

/* Why the last vote was refused, in words. */
static char last_reason[256];

/* How far the armed run got. */
struct run {
	int64_t rid;
	int filed;
	int voted[2];
	int rc;
	const char *step;
};

/* The key signs ch (not counted) and the vote goes in (counted). */
static int
armed_vote(struct env *e, struct key *k, int64_t rid,
    const uint8_t ch[TK_CHALLENGE_LEN])
{
	struct softauthn_opts o;
	struct softauthn_resp r;
	struct tk_assertion as;
	struct tk_vote_result res;
	int rc;

	memset(&r, 0, sizeof(r));
	failalloc_pause();
	softauthn_opts_init(&o, RP, ORIGIN, ch, TK_CHALLENGE_LEN);
	o.counter = ++k->counter;
	assert_int_equal(softauthn_get_assertion(k->sa, &o, &r), 0);
	failalloc_resume();
	as.cred_id = r.id;
	as.cred_id_len = r.id_len;
	as.client_data = r.client_data;
	as.client_data_len = r.client_data_len;
	as.auth_data = r.auth_data;
	as.auth_data_len = r.auth_data_len;
	as.sig = r.sig;
	as.sig_len = r.sig_len;
	rc = tk_approvals_vote(e->ap, rid, &as, &res);
	(void)snprintf(last_reason, sizeof(last_reason), "%s", res.reason);
	softauthn_resp_clear(&r);
	return rc;
}

/* File, then challenge and vote for alice and bob; stops at an error. */
static void
armed_path(struct env *e, uint64_t n, struct run *r)
{
	struct key *keys[2] = { &e->ak, &e->bk };
	uint8_t ch[TK_CHALLENGE_LEN];
	int k;

	memset(r, 0, sizeof(*r));
	last_reason[0] = '\0';
	failalloc_arm(n);
	r->step = "file";
	if ((r->rc = tk_approvals_file(e->ap, e->requester, ELEVATION,
	    strlen(ELEVATION), &r->rid)) != 0)
		return;
	r->filed = 1;
	for (k = 0; k < 2; k++) {
		r->step = "challenge";
		if ((r->rc = tk_approvals_challenge(e->ap, r->rid,
		    keys[k]->person, TK_DECIDE_APPROVE, ch, NULL)) != 0)
			return;
		r->step = "vote";
		if ((r->rc = armed_vote(e, keys[k], r->rid, ch)) != 0)
			return;
		r->voted[k] = 1;
	}
}

/*
 * The errors that say plainly that a resource failed, not the input.
 * Known weak: decoding inside the WebAuthn verification (libcbor's COSE
 * key and authenticator data, libfido2) does not tell running out of
 * memory from bad input, so a vote may be refused as a failed assertion
 * instead: still a refusal that changes nothing and is journaled.
 */
static int
clean_error(const struct run *r)
{
	return r->rc == TK_APR_ERR_NOMEM || r->rc == TK_APR_ERR_DB ||
	    r->rc == TK_APR_ERR_SIGN || r->rc == TK_APR_ERR_JOURNAL ||
	    (r->rc == TK_APR_ERR_ASSERTION && strcmp(r->step, "vote") == 0);
}

static size_t
pending_count(struct env *e)
{
	int64_t *ids = NULL;
	size_t n = 0;

	assert_int_equal(tk_approvals_pending(e->ap, &ids, &n), 0);
	free(ids);
	return n;
}

/* What the failed run left undone succeeds now, up to the grant. */
static void
complete_path(struct env *e, struct run *r)
{
	struct key *keys[2] = { &e->ak, &e->bk };
	struct tk_vote_result res;
	struct tk_grant_info g;
	int k, rc;

	if (!r->filed) {
		/* A failed filing left no request behind. */
		assert_int_equal(pending_count(e), 0);
		r->rid = file(e, ELEVATION);
	}
	for (k = 0; k < 2; k++) {
		if (r->voted[k])
			continue;
		if ((rc = vote(e, keys[k], r->rid, TK_DECIDE_APPROVE,
		    &res)) != 0)
			fail_msg("after a failed %s, %s's vote gave %s (%s)",
			    r->step, k == 0 ? "alice" : "bob",
			    tk_apr_strerror(rc), res.reason);
	}
	assert_int_equal(state_of(e, r->rid), TK_REQ_GRANTED);
	assert_int_equal(tk_approvals_grant_get(e->ap, r->rid, &g), 0);
	tk_grant_info_clear(&g);
	assert_int_equal(pending_count(e), 0);
}

/* Every entry of the path carries the details its caller built. */
static void
assert_details_kept(size_t from)
{
	size_t i;

	for (i = from; i < fa_nacks; i++)
		if (fa_acks[i].no_details)
			fail_msg("entry %llu (%s) lost its details",
			    (unsigned long long)fa_acks[i].index,
			    fa_acks[i].action);
}

static int
group_setup(void **state)
{
	int r = apr_group_setup(state);

	tk_log_set_level(TK_LOG_ERROR);
	return r;
}

static void
approval_path_fails_cleanly_at_every_allocation(void **state)
{
	void *st = NULL;
	struct env *e;
	struct run r;
	uint64_t n, counted = 0;
	size_t from;
	unsigned int failures = 0, tolerated = 0;

	(void)state;
	if (!fa_allocator_is_ours()) {
		print_message("the allocator is not ours: skipped\n");
		skip();
	}
	fa_nacks = 0;
	assert_int_equal(apr_setup(&st), 0);
	e = st;
	/* One whole path first: lazy state of the libraries is made. */
	armed_path(e, 0, &r);
	(void)failalloc_disarm();
	assert_int_equal(r.rc, 0);
	assert_export_verifies(e, "export-before");
	ERR_raise(ERR_LIB_USER, ERR_R_MALLOC_FAILURE);
	ERR_clear_error();
	failalloc_track_start();
	from = fa_nacks;
	for (n = fa_first(); ; n += fa_stride(STRIDE)) {
		armed_path(e, n, &r);
		counted = failalloc_disarm();
		if (!failalloc_fired()) {
			assert_int_equal(r.rc, 0);
			break;
		}
		if (r.rc != 0 && !clean_error(&r))
			fail_msg("allocation %llu: %s gave %d (%s) %s",
			    (unsigned long long)n, r.step, r.rc,
			    tk_apr_strerror(r.rc), last_reason);
		if (r.rc != 0)
			failures++;
		else
			tolerated++;
		complete_path(e, &r);
		fa_assert_journal_holds_the_acks(e->journal, from);
		assert_details_kept(from);
		from = fa_nacks;
	}
	print_message("approval path: %llu allocations; %u runs failed "
	    "cleanly, %u tolerated the failure\n",
	    (unsigned long long)counted, failures, tolerated);
	assert_true(failures > 0);
	assert_export_verifies(e, "export-after");
	assert_int_equal(apr_teardown(&st), 0);
	assert_int_equal(failalloc_track_stop(20), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    approval_path_fails_cleanly_at_every_allocation),
	};
	int r;

	if (failalloc_openssl_init() != 0) {
		fprintf(stderr, "OpenSSL allocated before main\n");
		return 1;
	}
	fa_use_memory_tmp();
	r = cmocka_run_group_tests(tests, group_setup, apr_group_teardown);
	fa_remove_memory_tmp();
	return r;
}
