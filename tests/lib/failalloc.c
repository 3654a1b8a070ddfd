/*
 * The allocator of a failalloc test program (failalloc.h): the public
 * allocation functions, defined in the executable, take precedence over
 * glibc's for every library of the process; the memory itself still
 * comes from glibc's __libc_* entry points.
 */
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <openssl/crypto.h>

#include "failalloc.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

/* The replacements, declared for -Wmissing-prototypes' sake. */
void *malloc(size_t);
void *calloc(size_t, size_t);
void *realloc(void *, size_t);
void *reallocarray(void *, size_t, size_t);
int posix_memalign(void **, size_t, size_t);
void *aligned_alloc(size_t, size_t);
void *memalign(size_t, size_t);
void free(void *);

static atomic_int armed;
static atomic_int paused;
static atomic_int fired;
static atomic_uint_fast64_t counted;
static uint64_t target;

void
failalloc_arm(uint64_t n)
{
	target = n;
	atomic_store(&counted, 0);
	atomic_store(&fired, 0);
	atomic_store(&paused, 0);
	atomic_store(&armed, 1);
}

uint64_t
failalloc_disarm(void)
{
	atomic_store(&armed, 0);
	return (uint64_t)atomic_load(&counted);
}

int
failalloc_fired(void)
{
	return atomic_load(&fired);
}

void
failalloc_pause(void)
{
	atomic_store(&paused, 1);
}

void
failalloc_resume(void)
{
	atomic_store(&paused, 0);
}

/* Whether this allocation is the one to fail. */
static int
should_fail(void)
{
	uint64_t c;

	if (!atomic_load(&armed) || atomic_load(&paused))
		return 0;
	c = (uint64_t)atomic_fetch_add(&counted, 1) + 1;
	if (target == 0 || c != target)
		return 0;
	atomic_store(&fired, 1);
	errno = ENOMEM;
	return 1;
}

/*
 * Live blocks while tracking: an open-addressing table (linear probing,
 * deletion by backward shift, so no tombstones pile up) in memory mapped
 * once, never from the heap it watches.
 */
#define SLOTS (1u << 18)

struct slot {
	void *p;
	size_t size;
	void *caller;
	uint64_t run;		/* the n armed when it was allocated */
	const char *file;	/* OpenSSL's source file, or NULL */
	int line;
	void *stack[10];	/* with TWOKEY_FAILALLOC_STACKS set */
	int depth;
};

static int stacks = -1;
static _Thread_local int in_backtrace;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *table;
static size_t live;
static atomic_int tracking;
static int overflow;

static size_t
home(const void *p)
{
	return (size_t)(((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ULL) &
	    (SLOTS - 1);
}

static void
track_add_at(void *p, size_t size, void *caller, const char *file, int line)
{
	size_t i;

	void *stack[10];
	int depth = 0;

	if (p == NULL || !atomic_load(&tracking) || in_backtrace)
		return;
	if (stacks) {
		/* backtrace allocates once, when it loads libgcc_s. */
		in_backtrace = 1;
		depth = backtrace(stack, 10);
		in_backtrace = 0;
	}
	pthread_mutex_lock(&lock);
	if (tracking && live < SLOTS / 2) {
		for (i = home(p); table[i].p != NULL; i = (i + 1) &
		    (SLOTS - 1))
			;
		table[i].p = p;
		table[i].size = size;
		table[i].caller = caller;
		table[i].run = target;
		table[i].file = file;
		table[i].line = line;
		if (depth > 0)
			memcpy(table[i].stack, stack, sizeof(stack));
		table[i].depth = depth;
		live++;
	} else if (tracking)
		overflow = 1;
	pthread_mutex_unlock(&lock);
}

static void
track_add(void *p, size_t size, void *caller)
{
	track_add_at(p, size, caller, NULL, 0);
}

static void
track_del(void *p)
{
	size_t i, j, h;

	if (p == NULL || !atomic_load(&tracking))
		return;
	pthread_mutex_lock(&lock);
	if (!tracking || live == 0)
		goto out;
	for (i = home(p); table[i].p != NULL && table[i].p != p;
	    i = (i + 1) & (SLOTS - 1))
		;
	if (table[i].p == NULL)
		goto out;
	live--;
	/* Shift back every later entry of the run that may move into i. */
	for (j = (i + 1) & (SLOTS - 1); table[j].p != NULL;
	    j = (j + 1) & (SLOTS - 1)) {
		h = home(table[j].p);
		if (((j - h) & (SLOTS - 1)) >= ((j - i) & (SLOTS - 1))) {
			table[i] = table[j];
			i = j;
		}
	}
	table[i].p = NULL;
out:
	pthread_mutex_unlock(&lock);
}

void
failalloc_track_start(void)
{
	pthread_mutex_lock(&lock);
	if (table == NULL) {
		table = mmap(NULL, SLOTS * sizeof(*table), PROT_READ |
		    PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (table == MAP_FAILED)
			table = NULL;
	}
	if (stacks < 0)
		stacks = getenv("TWOKEY_FAILALLOC_STACKS") != NULL;
	if (table != NULL) {
		memset(table, 0, SLOTS * sizeof(*table));
		live = 0;
		overflow = 0;
		tracking = 1;
	}
	pthread_mutex_unlock(&lock);
}

/*
 * Blocks that stay live by design, not leaks: OpenSSL's fetch cache
 * (ossl_method_store_cache_set) remembers the result of each algorithm
 * fetch for the life of the library context, and a fetch that ran out of
 * memory half-way is cached as a new query; the texts of errors stay in
 * a thread's error queue (crypto/err/) until it is cleared or the thread
 * ends.
 */
static int
kept_by_design(const struct slot *sl)
{
	return sl->file != NULL && (strstr(sl->file, "crypto/property/") !=
	    NULL || strstr(sl->file, "crypto/err/") != NULL);
}

size_t
failalloc_track_stop(size_t max)
{
	size_t i, n = 0, shown = 0;
	Dl_info info;

	pthread_mutex_lock(&lock);
	tracking = 0;
	for (i = 0; table != NULL && i < SLOTS; i++) {
		if (table[i].p == NULL || kept_by_design(&table[i]))
			continue;
		n++;
		if (shown++ >= max)
			continue;
		memset(&info, 0, sizeof(info));
		(void)dladdr(table[i].caller, &info);
		fprintf(stderr, "failalloc: %zu bytes live, allocated in the "
		    "run failing allocation %llu, from %p (%s, %s)\n",
		    table[i].size, (unsigned long long)table[i].run,
		    table[i].caller,
		    info.dli_sname != NULL ? info.dli_sname : "?",
		    info.dli_fname != NULL ? info.dli_fname : "?");
		if (table[i].file != NULL)
			fprintf(stderr, "failalloc:   OpenSSL %s:%d\n",
			    table[i].file, table[i].line);
		backtrace_symbols_fd(table[i].stack, table[i].depth, 2);
	}
	if (table == NULL || overflow)
		n = (size_t)-1;
	pthread_mutex_unlock(&lock);
	return n;
}

void *
malloc(size_t size)
{
	void *p;

	if (should_fail())
		return NULL;
	p = __libc_malloc(size);
	track_add(p, size, __builtin_return_address(0));
	return p;
}

void *
calloc(size_t n, size_t size)
{
	void *p;

	if (should_fail())
		return NULL;
	p = __libc_calloc(n, size);
	track_add(p, n * size, __builtin_return_address(0));
	return p;
}

void *
realloc(void *old, size_t size)
{
	void *p;

	if (old != NULL && size == 0) {
		track_del(old);
		return __libc_realloc(old, 0);
	}
	if (should_fail())
		return NULL;
	if ((p = __libc_realloc(old, size)) != NULL) {
		track_del(old);
		track_add(p, size, __builtin_return_address(0));
	}
	return p;
}

void *
reallocarray(void *old, size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	if (old != NULL && n * size == 0) {
		track_del(old);
		return __libc_realloc(old, 0);
	}
	if (should_fail())
		return NULL;
	if ((p = __libc_realloc(old, n * size)) != NULL) {
		track_del(old);
		track_add(p, n * size, __builtin_return_address(0));
	}
	return p;
}

int
posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	if (align < sizeof(void *) || (align & (align - 1)) != 0)
		return EINVAL;
	if (should_fail())
		return ENOMEM;
	if ((p = __libc_memalign(align, size)) == NULL)
		return ENOMEM;
	track_add(p, size, __builtin_return_address(0));
	*out = p;
	return 0;
}

void *
aligned_alloc(size_t align, size_t size)
{
	void *p;

	if (should_fail())
		return NULL;
	p = __libc_memalign(align, size);
	track_add(p, size, __builtin_return_address(0));
	return p;
}

void *
memalign(size_t align, size_t size)
{
	void *p;

	if (should_fail())
		return NULL;
	p = __libc_memalign(align, size);
	track_add(p, size, __builtin_return_address(0));
	return p;
}

void
free(void *p)
{
	track_del(p);
	__libc_free(p);
}

/*
 * OpenSSL's allocations, through CRYPTO_set_mem_functions: counted and
 * failed like the others, and remembered with the OpenSSL source file
 * and line that made them.
 */
static void *
crypto_malloc(size_t size, const char *file, int line)
{
	void *p;

	if (should_fail())
		return NULL;
	p = __libc_malloc(size);
	track_add_at(p, size, __builtin_return_address(0), file, line);
	return p;
}

static void *
crypto_realloc(void *old, size_t size, const char *file, int line)
{
	void *p;

	if (old != NULL && size == 0) {
		track_del(old);
		return __libc_realloc(old, 0);
	}
	if (should_fail())
		return NULL;
	if ((p = __libc_realloc(old, size)) != NULL) {
		track_del(old);
		track_add_at(p, size, __builtin_return_address(0), file,
		    line);
	}
	return p;
}

static void
crypto_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	track_del(p);
	__libc_free(p);
}

int
failalloc_openssl_init(void)
{
	return CRYPTO_set_mem_functions(crypto_malloc, crypto_realloc,
	    crypto_free) == 1 ? 0 : -1;
}
