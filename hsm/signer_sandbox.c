/*
 * twokey-signer's system-call allow-list, installed once the module is
 * loaded, logged in and the keys found. Tighter than twokeyd's: no socket
 * accepts or binds, no exec, no fork, no ptrace, no packet or netlink
 * socket, no directory or permission changes. What stays is what a
 * PKCS#11 module needs while signing: SoftHSM2 re-reads and locks its
 * token files; tpm2-pkcs11 keeps an SQLite store and talks to swtpm (TCP)
 * or tpm2-abrmd (D-Bus over AF_UNIX, with GLib's threads), and may
 * reconnect, so file I/O and AF_UNIX/AF_INET/AF_INET6 client sockets
 * remain.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "twokey/common.h"
#include "twokey/sandbox.h"
#include "hsm_int.h"

static const struct tk_syscall_rule signer_rules[] = {
	/* memory */
	{ "brk", TK_SC_ANY, 0 },
	{ "mmap", TK_SC_ANY, 0 },
	{ "munmap", TK_SC_ANY, 0 },
	{ "mremap", TK_SC_ANY, 0 },
	{ "mprotect", TK_SC_ANY, 0 },
	{ "madvise", TK_SC_ANY, 0 },
	/* threads only (GLib's D-Bus worker for tpm2-abrmd) */
	{ "clone", TK_SC_ARG0_MASK, CLONE_THREAD },
	{ "clone3", TK_SC_ENOSYS, 0 },
	{ "futex", TK_SC_ANY, 0 },
	{ "set_robust_list", TK_SC_ANY, 0 },
	{ "rseq", TK_SC_ANY, 0 },
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
	{ "getrandom", TK_SC_ANY, 0 },
	{ "uname", TK_SC_ANY, 0 },
	/* signals */
	{ "rt_sigaction", TK_SC_ANY, 0 },
	{ "rt_sigprocmask", TK_SC_ANY, 0 },
	{ "rt_sigreturn", TK_SC_ANY, 0 },
	/* an interrupted wait resumed by the kernel (seen under gdb) */
	{ "restart_syscall", TK_SC_ANY, 0 },
	{ "tgkill", TK_SC_ANY, 0 },
	/* time */
	{ "clock_gettime", TK_SC_ANY, 0 },
	{ "gettimeofday", TK_SC_ANY, 0 },
	{ "time", TK_SC_ANY, 0 },
	{ "nanosleep", TK_SC_ANY, 0 },
	{ "clock_nanosleep", TK_SC_ANY, 0 },
	/* the client socket, token files and the module's own descriptors */
	{ "read", TK_SC_ANY, 0 },
	{ "write", TK_SC_ANY, 0 },
	{ "readv", TK_SC_ANY, 0 },
	{ "writev", TK_SC_ANY, 0 },
	{ "pread64", TK_SC_ANY, 0 },
	{ "pwrite64", TK_SC_ANY, 0 },
	{ "lseek", TK_SC_ANY, 0 },
	{ "close", TK_SC_ANY, 0 },
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
	{ "getdents64", TK_SC_ANY, 0 },
	{ "fsync", TK_SC_ANY, 0 },
	{ "fdatasync", TK_SC_ANY, 0 },
	{ "ftruncate", TK_SC_ANY, 0 },
	{ "unlink", TK_SC_ANY, 0 },
	{ "rename", TK_SC_ANY, 0 },
	{ "getcwd", TK_SC_ANY, 0 },
	{ "readlink", TK_SC_ANY, 0 },
	/* waiting */
	{ "poll", TK_SC_ANY, 0 },
	{ "ppoll", TK_SC_ANY, 0 },
	{ "select", TK_SC_ANY, 0 },
	{ "pselect6", TK_SC_ANY, 0 },
	{ "eventfd2", TK_SC_ANY, 0 },
	{ "pipe2", TK_SC_ANY, 0 },
	/* client sockets to a TPM resource manager or simulator */
	{ "socket", TK_SC_ARG0_EQ, AF_UNIX },
	{ "socket", TK_SC_ARG0_EQ, AF_INET },
	{ "socket", TK_SC_ARG0_EQ, AF_INET6 },
	{ "connect", TK_SC_ANY, 0 },
	{ "getsockname", TK_SC_ANY, 0 },
	{ "getpeername", TK_SC_ANY, 0 },
	{ "getsockopt", TK_SC_ANY, 0 },
	{ "setsockopt", TK_SC_ANY, 0 },
	{ "shutdown", TK_SC_ANY, 0 },
	{ "sendto", TK_SC_ANY, 0 },
	{ "recvfrom", TK_SC_ANY, 0 },
	{ "sendmsg", TK_SC_ANY, 0 },
	{ "recvmsg", TK_SC_ANY, 0 },
};

/*
 * A signer started as root needed root only to read the PIN file and
 * open the token; the token's files are root's own, so uid 0 without any
 * capability still reaches them. With every capability gone, a
 * compromised signer cannot override file permissions, signal or trace
 * other users' processes, or bind privileged ports.
 */
int
tk_signer_drop_capabilities(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3,
	    0 };
	struct __user_cap_data_struct d[2];

	if (geteuid() != 0)
		return 0;
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d) != 0) {
		tk_error("cannot drop capabilities: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
tk_signer_sandbox(void)
{
	int r;

	if (tk_signer_drop_capabilities() != 0)
		return TK_SANDBOX_ERR_SECCOMP;

	r = tk_sandbox_seccomp("twokey-signer", signer_rules,
	    sizeof(signer_rules) / sizeof(signer_rules[0]), NULL, 0);
	if (r == TK_SANDBOX_OK)
		tk_debug("system call filter installed (%zu rules)",
		    sizeof(signer_rules) / sizeof(signer_rules[0]));
	return r;
}
