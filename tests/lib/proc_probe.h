/*
 * proc_probe: what the kernel says about another process, for tests of
 * the sandbox: its seccomp mode, whether it is dumpable, its children.
 */
#ifndef TWOKEY_PROC_PROBE_H
#define TWOKEY_PROC_PROBE_H

#include <sys/types.h>

/* The "Seccomp:" value of /proc/PID/status (2: filter), or -1. */
int tk_probe_seccomp(pid_t pid);

/* The permitted capability set (CapPrm) of pid, or -1. */
long long tk_probe_capabilities(pid_t pid);

/*
 * Whether pid is dumpable, seen as the kernel enforces it: a child takes
 * the target's uid (or, for a root target, drops CAP_SYS_PTRACE) and
 * opens /proc/PID/mem, which a process of the same user may open only
 * if the target is dumpable. 1 dumpable, 0 not, -1 could not tell.
 * Must run as root.
 */
int tk_probe_dumpable(pid_t pid);

/* The first process whose parent is ppid (by /proc), or -1. */
pid_t tk_probe_child(pid_t ppid);

/*
 * A process that sleeps until killed, dumpable, running as uid (0: root
 * without capabilities, as the signer runs once the token is open), for
 * tk_probe_dumpable's control case. Returns its pid or -1.
 */
pid_t tk_probe_sleeper(uid_t uid);

#endif
