/*
 * What the allocation failure tests share: every journal append of the
 * program passes through a wrapper (linked with
 * -Wl,--wrap=tk_journal_append) that remembers what the journal
 * acknowledged, so that the journal can be held to exactly that.
 */
#ifndef TWOKEY_TEST_FAILALLOC_ENV_H
#define TWOKEY_TEST_FAILALLOC_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "twokey/journal.h"

struct fa_ack {
	uint64_t index;
	char action[48];
	int no_details;		/* the caller passed no details */
};

#define FA_ACKS_MAX 65536
extern struct fa_ack fa_acks[FA_ACKS_MAX];
extern size_t fa_nacks;

int __real_tk_journal_append(struct tk_journal *j,
    const struct tk_journal_entry *entry, uint64_t *index_out);
int __wrap_tk_journal_append(struct tk_journal *j,
    const struct tk_journal_entry *entry, uint64_t *index_out);

/*
 * The journal holds exactly the acknowledged entries: as many as were
 * acknowledged, and each (from the from-th on) at its index with its
 * action (cmocka asserts).
 */
void fa_assert_journal_holds_the_acks(struct tk_journal *j, size_t from);

/*
 * The n of the runs: from TWOKEY_FAILALLOC_FIRST (default 1) in steps
 * of TWOKEY_FAILALLOC_STRIDE, else of dflt (16 dflt under valgrind, make
 * check-valgrind), to keep CI within its time.
 */
uint64_t fa_first(void);
uint64_t fa_stride(uint64_t dflt);

/*
 * Whether the allocator is ours: valgrind (without
 * --soname-synonyms=somalloc=nouserintercepts) replaces it.
 */
int fa_allocator_is_ours(void);

/*
 * Moves TWOKEY_TEST_TMP to a fresh folder in /dev/shm (if there is one):
 * every run commits to SQLite with fsync, which on a disk costs more
 * than the rest of the run; what is tested does not depend on the disk.
 * fa_remove_memory_tmp removes that folder.
 */
void fa_use_memory_tmp(void);
void fa_remove_memory_tmp(void);

#endif
