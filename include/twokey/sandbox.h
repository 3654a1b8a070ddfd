/*
 * sandbox: what both twokey processes do to themselves once start-up is
 * over. No core dumps and no ptrace by same-user processes; memory locked
 * so that secrets are never written to swap; and a seccomp allow-list
 * (libseccomp) built from a table of system calls, whose default action
 * logs the refused call's number on stderr and ends the process with
 * SIGSYS.
 *
 * Why kill rather than EPERM: a call outside the list is either an
 * attacker at work or a path nobody tested; an error return would let
 * library code continue in a state no test has seen, and lets an attacker
 * probe. The process dies (systemd, or the signer's supervisor, restarts
 * it) and the log names the call, so the gap is found and fixed.
 */
#ifndef TWOKEY_SANDBOX_H
#define TWOKEY_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

enum tk_sandbox_err {
	TK_SANDBOX_OK = 0,
	TK_SANDBOX_ERR_NODUMP = -1,	/* prctl or setrlimit refused */
	TK_SANDBOX_ERR_SECCOMP = -2,	/* the filter could not be built */
};

/* How a listed call's arguments are checked (x86-64 argument slots). */
enum tk_syscall_check {
	TK_SC_ANY = 0,		/* any arguments */
	TK_SC_ARG0_EQ,		/* allowed when arg0 == value (repeatable) */
	TK_SC_ARG0_MASK,	/* allowed when (arg0 & value) == value */
	TK_SC_ENOSYS,		/* answered with ENOSYS, not run */
};

struct tk_syscall_rule {
	const char *name;	/* as libseccomp names it */
	enum tk_syscall_check check;
	uint64_t value;
};

/*
 * Core dumps off (RLIMIT_CORE 0) and the process not dumpable
 * (PR_SET_DUMPABLE 0: no core, no ptrace or /proc/PID/mem by other
 * processes of the same user). Returns TK_SANDBOX_OK or _ERR_NODUMP.
 */
int tk_sandbox_nodump(void);

/*
 * Locks current and future memory (mlockall, MCL_ONFAULT: pages are
 * locked when first touched), so that PINs, keys and tokens in transit are
 * never swapped out. Done when it cannot starve later allocations: with
 * CAP_IPC_LOCK (root) after raising RLIMIT_MEMLOCK to infinity so the
 * limit still holds after a drop, or when the limit already is infinite
 * (systemd LimitMEMLOCK=infinity). Not done in AddressSanitizer builds
 * (its shadow memory is terabytes of reservations). Returns 1 when
 * locked, 0 when skipped (logged at info), never fails the caller.
 */
int tk_sandbox_lock_memory(void);

/*
 * Installs an allow-list made of rules[0..n) and extra[0..nextra) (extra
 * may be NULL) for every thread of the process (TSYNC). Calls that
 * libseccomp does not know on this architecture are skipped. who names
 * the process in the log. Returns TK_SANDBOX_OK or _ERR_SECCOMP.
 */
int tk_sandbox_seccomp(const char *who, const struct tk_syscall_rule *rules,
    size_t n, const struct tk_syscall_rule *extra, size_t nextra);

/*
 * Calls that sanitizer builds add to every list: LeakSanitizer stops the
 * world at exit from a ptrace-ing helper. Empty in release builds.
 */
extern const struct tk_syscall_rule tk_sandbox_sanitizer_rules[];
extern const size_t tk_sandbox_sanitizer_nrules;

/*
 * In sanitizer builds, makes the process dumpable again just before a
 * normal exit so that LeakSanitizer's helper may attach; a no-op in
 * release builds.
 */
void tk_sandbox_before_exit(void);

const char *tk_sandbox_strerror(int err);

#endif
