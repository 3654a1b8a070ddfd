/*
 * failalloc: makes the n-th heap allocation of this process fail, and
 * finds what was allocated and never freed.
 *
 * Linking tests/lib/failalloc.c into a test program replaces malloc,
 * calloc, realloc, reallocarray, posix_memalign, aligned_alloc, memalign
 * and free for the whole process: our code, SQLite (its default
 * allocator calls malloc), OpenSSL (CRYPTO_malloc calls malloc), jansson,
 * libfido2, libcbor, and glibc itself (strdup, asprintf, fopen, which
 * call the replaced malloc). Memory is still obtained from glibc through
 * its __libc_* entry points. Not covered: other processes (the signer
 * and its PKCS#11 module), memory mapped directly (thread stacks,
 * SQLite's WAL index), and allocations on the stack.
 *
 * Incompatible with AddressSanitizer, which owns malloc: build such a
 * program only without SANITIZE (make check, not make check-asan).
 *
 * Counting is process-wide (every thread), so that allocations made by
 * the journal's writer thread on behalf of a caller count too.
 */
#ifndef TWOKEY_TEST_FAILALLOC_H
#define TWOKEY_TEST_FAILALLOC_H

#include <stddef.h>
#include <stdint.h>

/*
 * From now on, count allocations and make the n-th fail (n >= 1; 0
 * counts without failing). Only one fails; later ones succeed again.
 */
void failalloc_arm(uint64_t n);
/* Stop counting and failing; returns how many were counted. */
uint64_t failalloc_disarm(void);
/* Whether the armed failure has happened since failalloc_arm. */
int failalloc_fired(void);

/*
 * Pause and resume counting (for work of the test itself between the
 * calls under test, e.g. a security key signing an assertion).
 */
void failalloc_pause(void);
void failalloc_resume(void);

/*
 * Leak tracking: from failalloc_track_start, every block allocated is
 * remembered until it is freed. failalloc_track_stop returns how many
 * are still live, and prints up to max of them (size and caller) to
 * stderr. Blocks that a library keeps by design are not counted
 * (OpenSSL's fetch cache; see kept_by_design). The verdict on leaks
 * inside libraries is valgrind's (make check-valgrind): this one cannot
 * tell a reachable block from a lost one.
 */
void failalloc_track_start(void);

/*
 * Routes OpenSSL's allocations through CRYPTO_set_mem_functions, so that
 * a live block names the OpenSSL source file that made it. Call it first
 * thing in main, before OpenSSL allocates anything. 0 or -1.
 */
int failalloc_openssl_init(void);
size_t failalloc_track_stop(size_t max);

#endif
