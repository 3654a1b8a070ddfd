/* Helpers shared by the journal tests: a real token, a journal in
 * $TWOKEY_TEST_TMP, entries, exports and the checker. */
#ifndef TWOKEY_JOURNAL_TESTUTIL_H
#define TWOKEY_JOURNAL_TESTUTIL_H

#include <stdint.h>

#include <openssl/x509.h>

#include "twokey/export.h"
#include "twokey/hsm.h"
#include "twokey/journal.h"
#include "../lib/token_fixture.h"

#define JT_ORIGIN "twokey/test-appliance/journal"

struct jt {
	struct tk_fixture_token *fx;
	struct tk_signer *signer;
	X509 *root;		/* the pinned root */
	char tmp[512];
};

/* Token, signer (timeout_ms, 0 = default) and pinned root, or -1. */
int jt_setup(struct jt *t, unsigned int timeout_ms);
void jt_teardown(struct jt *t);

/* $TWOKEY_TEST_TMP/name, in a static buffer per call site's out. */
void jt_path(const struct jt *t, const char *name, char *out, size_t len);

/* Opens (a fresh or existing) journal file name under tmp. */
int jt_open(struct jt *t, const char *name, unsigned int max_batch,
    struct tk_journal **j);

/* Appends "test/append" with details {"seq": seq, "tag": tag}. */
int jt_append(struct tk_journal *j, int64_t seq, const char *tag,
    uint64_t *index);

/* Exports [first, end) to tmp/dirname and checks it; 0 or an error. */
int jt_export_check(struct jt *t, struct tk_journal *j, const char *dirname,
    uint64_t first, uint64_t end, unsigned int flags, const char *since,
    struct tk_export_report *rep);

/* Runs argv (NULL-terminated), returns the exit status, or -1. */
int jt_run(char *const argv[], char *out, size_t outlen);

#endif
