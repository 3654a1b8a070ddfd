/*
 * twokeyd's system-call allow-list, installed once start-up is over: the
 * socket is bound, root is dropped, the signer (and its supervisor) run,
 * the HTTPS server's threads are up. What is left is what libmicrohttpd
 * (a thread per connection, poll), GnuTLS, OpenSSL, SQLite (files, locks,
 * fsync), jansson, libarchive (evidence packs in state_dir) and the
 * signer client (a socketpair, descriptors passed by the supervisor) do
 * while serving. No exec, no fork, no new network socket, no ptrace, no
 * module, mount or key-ring calls: a compromise of this process gets a
 * process that can only serve, sign through the signer and write its
 * own state.
 */
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "twokey/common.h"
#include "twokey/sandbox.h"
#include "daemon.h"

static const struct tk_syscall_rule twokeyd_rules[] = {
	/* memory */
	{ "brk", TK_SC_ANY, 0 },
	{ "mmap", TK_SC_ANY, 0 },
	{ "munmap", TK_SC_ANY, 0 },
	{ "mremap", TK_SC_ANY, 0 },
	{ "mprotect", TK_SC_ANY, 0 },
	{ "madvise", TK_SC_ANY, 0 },
	{ "membarrier", TK_SC_ANY, 0 },
	/* threads: clone only for threads; clone3 hides its flags */
	{ "clone", TK_SC_ARG0_MASK, CLONE_THREAD },
	{ "clone3", TK_SC_ENOSYS, 0 },
	{ "futex", TK_SC_ANY, 0 },
	{ "set_robust_list", TK_SC_ANY, 0 },
	{ "rseq", TK_SC_ANY, 0 },
	{ "set_tid_address", TK_SC_ANY, 0 },
	{ "exit", TK_SC_ANY, 0 },
	{ "exit_group", TK_SC_ANY, 0 },
	{ "sched_yield", TK_SC_ANY, 0 },
	{ "sched_getaffinity", TK_SC_ANY, 0 },
	{ "getpid", TK_SC_ANY, 0 },
	{ "gettid", TK_SC_ANY, 0 },
	{ "getuid", TK_SC_ANY, 0 },
	{ "geteuid", TK_SC_ANY, 0 },
	{ "getgid", TK_SC_ANY, 0 },
	{ "getegid", TK_SC_ANY, 0 },
	{ "prctl", TK_SC_ARG0_EQ, PR_SET_NAME },
	{ "prctl", TK_SC_ARG0_EQ, PR_GET_NAME },
	{ "prctl", TK_SC_ARG0_EQ, PR_GET_DUMPABLE },
	{ "getrlimit", TK_SC_ANY, 0 },
	{ "prlimit64", TK_SC_ARG0_EQ, 0 },
	{ "uname", TK_SC_ANY, 0 },
	/* glibc's qsort sizes its buffer by sysconf(_SC_PHYS_PAGES) */
	{ "sysinfo", TK_SC_ANY, 0 },
	{ "getrandom", TK_SC_ANY, 0 },
	/* signals: sigtimedwait in main, raise, the supervisor's reaping */
	{ "rt_sigaction", TK_SC_ANY, 0 },
	{ "rt_sigprocmask", TK_SC_ANY, 0 },
	{ "rt_sigreturn", TK_SC_ANY, 0 },
	/* an interrupted wait resumed by the kernel (seen under gdb) */
	{ "restart_syscall", TK_SC_ANY, 0 },
	{ "rt_sigtimedwait", TK_SC_ANY, 0 },
	{ "tgkill", TK_SC_ANY, 0 },
	{ "wait4", TK_SC_ANY, 0 },
	{ "waitid", TK_SC_ANY, 0 },
	/* time */
	{ "clock_gettime", TK_SC_ANY, 0 },
	{ "clock_getres", TK_SC_ANY, 0 },
	{ "gettimeofday", TK_SC_ANY, 0 },
	{ "time", TK_SC_ANY, 0 },
	{ "nanosleep", TK_SC_ANY, 0 },
	{ "clock_nanosleep", TK_SC_ANY, 0 },
	/* descriptors and files (SQLite, state_dir, evidence packs) */
	{ "read", TK_SC_ANY, 0 },
	{ "write", TK_SC_ANY, 0 },
	{ "readv", TK_SC_ANY, 0 },
	{ "writev", TK_SC_ANY, 0 },
	{ "pread64", TK_SC_ANY, 0 },
	{ "pwrite64", TK_SC_ANY, 0 },
	{ "lseek", TK_SC_ANY, 0 },
	{ "close", TK_SC_ANY, 0 },
	{ "dup", TK_SC_ANY, 0 },
	{ "fcntl", TK_SC_ANY, 0 },
	{ "flock", TK_SC_ANY, 0 },
	{ "openat", TK_SC_ANY, 0 },
	{ "open", TK_SC_ANY, 0 },
	{ "fstat", TK_SC_ANY, 0 },
	{ "stat", TK_SC_ANY, 0 },
	{ "lstat", TK_SC_ANY, 0 },
	{ "newfstatat", TK_SC_ANY, 0 },
	{ "statx", TK_SC_ANY, 0 },
	{ "access", TK_SC_ANY, 0 },
	{ "faccessat", TK_SC_ANY, 0 },
	{ "faccessat2", TK_SC_ANY, 0 },
	{ "readlink", TK_SC_ANY, 0 },
	{ "getcwd", TK_SC_ANY, 0 },
	{ "getdents64", TK_SC_ANY, 0 },
	{ "fsync", TK_SC_ANY, 0 },
	{ "fdatasync", TK_SC_ANY, 0 },
	{ "ftruncate", TK_SC_ANY, 0 },
	{ "fallocate", TK_SC_ANY, 0 },
	{ "unlink", TK_SC_ANY, 0 },
	{ "unlinkat", TK_SC_ANY, 0 },
	{ "rename", TK_SC_ANY, 0 },
	{ "renameat", TK_SC_ANY, 0 },
	{ "renameat2", TK_SC_ANY, 0 },
	{ "mkdir", TK_SC_ANY, 0 },
	{ "mkdirat", TK_SC_ANY, 0 },
	{ "rmdir", TK_SC_ANY, 0 },
	{ "fchmod", TK_SC_ANY, 0 },
	{ "umask", TK_SC_ANY, 0 },
	/* waiting */
	{ "poll", TK_SC_ANY, 0 },
	{ "ppoll", TK_SC_ANY, 0 },
	{ "select", TK_SC_ANY, 0 },
	{ "pselect6", TK_SC_ANY, 0 },
	{ "epoll_create1", TK_SC_ANY, 0 },
	{ "epoll_ctl", TK_SC_ANY, 0 },
	{ "epoll_wait", TK_SC_ANY, 0 },
	{ "epoll_pwait", TK_SC_ANY, 0 },
	{ "eventfd2", TK_SC_ANY, 0 },
	{ "pipe2", TK_SC_ANY, 0 },
	/* the listening socket's connections; sd_notify's AF_UNIX datagram */
	{ "accept", TK_SC_ANY, 0 },
	{ "accept4", TK_SC_ANY, 0 },
	{ "shutdown", TK_SC_ANY, 0 },
	{ "getsockname", TK_SC_ANY, 0 },
	{ "getpeername", TK_SC_ANY, 0 },
	{ "getsockopt", TK_SC_ANY, 0 },
	{ "setsockopt", TK_SC_ANY, 0 },
	{ "sendto", TK_SC_ANY, 0 },
	{ "recvfrom", TK_SC_ANY, 0 },
	{ "sendmsg", TK_SC_ANY, 0 },
	{ "recvmsg", TK_SC_ANY, 0 },
	{ "socket", TK_SC_ARG0_EQ, AF_UNIX },
};

int
tk_sandbox_twokeyd(void)
{
	int r;

	r = tk_sandbox_seccomp("twokeyd", twokeyd_rules,
	    sizeof(twokeyd_rules) / sizeof(twokeyd_rules[0]), NULL, 0);
	if (r != TK_SANDBOX_OK)
		return r;
	tk_info("system call filter installed (%zu rules; others stop the "
	    "process)", sizeof(twokeyd_rules) / sizeof(twokeyd_rules[0]));
	return TK_SANDBOX_OK;
}
