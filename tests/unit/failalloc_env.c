/* Shared by the allocation failure tests (failalloc_env.h). */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../lib/failalloc.h"
#include "failalloc_env.h"

struct fa_ack fa_acks[FA_ACKS_MAX];
size_t fa_nacks;

/* Linked with --wrap: every append of the program passes here. */
int
__wrap_tk_journal_append(struct tk_journal *j,
    const struct tk_journal_entry *entry, uint64_t *index_out)
{
	uint64_t index = 0;
	int r;

	r = __real_tk_journal_append(j, entry, &index);
	if (r == 0 && fa_nacks < FA_ACKS_MAX) {
		fa_acks[fa_nacks].index = index;
		(void)snprintf(fa_acks[fa_nacks].action,
		    sizeof(fa_acks[fa_nacks].action), "%s", entry->action);
		fa_acks[fa_nacks].no_details = entry->details == NULL;
		fa_nacks++;
	}
	if (index_out != NULL)
		*index_out = index;
	return r;
}

void
fa_assert_journal_holds_the_acks(struct tk_journal *j, size_t from)
{
	uint64_t size = 0;
	uint8_t *leaf;
	size_t i, len;
	char needle[80], *s;

	assert_int_equal(tk_journal_size(j, &size), 0);
	assert_int_equal(size, fa_nacks);
	for (i = from; i < fa_nacks; i++) {
		leaf = NULL;
		assert_true(fa_acks[i].index < size);
		assert_int_equal(tk_journal_entry_get(j, fa_acks[i].index,
		    &leaf, &len), 0);
		assert_non_null(s = calloc(1, len + 1));
		memcpy(s, leaf, len);
		(void)snprintf(needle, sizeof(needle), "\"action\":\"%s\"",
		    fa_acks[i].action);
		if (strstr(s, needle) == NULL)
			fail_msg("entry %llu is not %s: %s",
			    (unsigned long long)fa_acks[i].index,
			    fa_acks[i].action, s);
		free(s);
		free(leaf);
	}
}

static uint64_t
env_number(const char *name)
{
	const char *v = getenv(name);

	return v != NULL ? strtoull(v, NULL, 10) : 0;
}

uint64_t
fa_first(void)
{
	uint64_t n = env_number("TWOKEY_FAILALLOC_FIRST");

	return n > 0 ? n : 1;
}

uint64_t
fa_stride(uint64_t dflt)
{
	uint64_t n = env_number("TWOKEY_FAILALLOC_STRIDE");
	const char *vg = getenv("TWOKEY_VALGRIND");

	if (n > 0)
		return n;
	return vg != NULL && *vg != '\0' ? 16 * dflt : dflt;
}

int
fa_allocator_is_ours(void)
{
	void *volatile p;
	uint64_t n;

	failalloc_arm(0);
	p = malloc(16);
	n = failalloc_disarm();
	free(p);
	return n == 1;
}

static char memtmp[64];

static int
remove_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
fa_use_memory_tmp(void)
{
	snprintf(memtmp, sizeof(memtmp), "/dev/shm/twokey-failalloc.XXXXXX");
	if (access("/dev/shm", W_OK) != 0 || mkdtemp(memtmp) == NULL) {
		memtmp[0] = '\0';
		return;
	}
	setenv("TWOKEY_TEST_TMP", memtmp, 1);
}

void
fa_remove_memory_tmp(void)
{
	if (memtmp[0] != '\0')
		(void)nftw(memtmp, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	memtmp[0] = '\0';
}
