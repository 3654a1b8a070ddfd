/* See sandbox.h. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <seccomp.h>

#include "twokey/common.h"
#include "twokey/sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define TK_SANITIZED 1
#else
#define TK_SANITIZED 0
#endif

#if TK_SANITIZED
const struct tk_syscall_rule tk_sandbox_sanitizer_rules[] = {
	{ "ptrace", TK_SC_ANY, 0 },
	/* its helper shares the memory (CLONE_VM); fork() still dies */
	{ "clone", TK_SC_ARG0_MASK, CLONE_VM },
	{ "wait4", TK_SC_ANY, 0 },
	{ "waitid", TK_SC_ANY, 0 },
	{ "prctl", TK_SC_ANY, 0 },
	{ "sched_yield", TK_SC_ANY, 0 },
	{ "readlink", TK_SC_ANY, 0 },
	{ "getrlimit", TK_SC_ANY, 0 },
	{ "prlimit64", TK_SC_ANY, 0 },
	{ "sigaltstack", TK_SC_ANY, 0 },
	{ "open", TK_SC_ANY, 0 },
	{ "openat", TK_SC_ANY, 0 },
	{ "getdents64", TK_SC_ANY, 0 },
	{ "getdents", TK_SC_ANY, 0 },	/* its thread lister, on x86-64 */
	{ "ioctl", TK_SC_ANY, 0 },	/* isatty() of the leak report */
	{ "kill", TK_SC_ANY, 0 },
	{ "tkill", TK_SC_ANY, 0 },
	{ "getppid", TK_SC_ANY, 0 },
	{ "exit", TK_SC_ANY, 0 },
	{ "munmap", TK_SC_ANY, 0 },
	{ "mmap", TK_SC_ANY, 0 },
	{ "sched_getaffinity", TK_SC_ANY, 0 },
	{ "process_vm_readv", TK_SC_ANY, 0 },
};
const size_t tk_sandbox_sanitizer_nrules =
    sizeof(tk_sandbox_sanitizer_rules) / sizeof(tk_sandbox_sanitizer_rules[0]);
#else
const struct tk_syscall_rule tk_sandbox_sanitizer_rules[] = {
	{ NULL, TK_SC_ANY, 0 }
};
const size_t tk_sandbox_sanitizer_nrules = 0;
#endif

const char *
tk_sandbox_strerror(int err)
{
	switch (err) {
	case TK_SANDBOX_OK:
		return "ok";
	case TK_SANDBOX_ERR_NODUMP:
		return "core dumps could not be disabled";
	case TK_SANDBOX_ERR_SECCOMP:
		return "the system call filter could not be installed";
	default:
		return "unknown sandbox error";
	}
}

int
tk_sandbox_nodump(void)
{
	struct rlimit rl = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &rl) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return TK_SANDBOX_ERR_NODUMP;
	return TK_SANDBOX_OK;
}

void
tk_sandbox_before_exit(void)
{
	if (TK_SANITIZED)
		(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

int
tk_sandbox_lock_memory(void)
{
	struct rlimit rl;

	if (TK_SANITIZED) {
		tk_debug("memory not locked in a sanitizer build");
		return 0;
	}
	if (geteuid() == 0) {
		/* Kept after the drop from root, when CAP_IPC_LOCK is gone. */
		rl.rlim_cur = rl.rlim_max = RLIM_INFINITY;
		(void)setrlimit(RLIMIT_MEMLOCK, &rl);
	}
	if (getrlimit(RLIMIT_MEMLOCK, &rl) != 0 ||
	    rl.rlim_cur != RLIM_INFINITY) {
		tk_info("memory not locked: RLIMIT_MEMLOCK is finite (set "
		    "LimitMEMLOCK=infinity); secrets may reach swap");
		return 0;
	}
	if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0) {
		tk_info("memory not locked: mlockall: %s; secrets may reach "
		    "swap", strerror(errno));
		return 0;
	}
	return 1;
}

/* For the SIGSYS handler, which may only use async-signal-safe calls. */
static char trap_who[32];

static size_t
put_str(char *buf, size_t at, size_t cap, const char *s)
{
	while (*s != '\0' && at < cap)
		buf[at++] = *s++;
	return at;
}

static void
on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	char buf[128], num[12];
	size_t at = 0, k = sizeof(num);
	unsigned int nr = si->si_syscall < 0 ? 0 :
	    (unsigned int)si->si_syscall;

	(void)ctx;
	do {
		num[--k] = (char)('0' + nr % 10);
		nr /= 10;
	} while (nr > 0 && k > 0);
	at = put_str(buf, at, sizeof(buf), trap_who);
	at = put_str(buf, at, sizeof(buf), ": error: seccomp: system call ");
	while (k < sizeof(num) && at < sizeof(buf))
		buf[at++] = num[k++];
	at = put_str(buf, at, sizeof(buf), " refused; stopping\n");
	(void)!write(2, buf, at);
	/* SA_RESETHAND made the action the default: end with SIGSYS. */
	raise(sig);
	_exit(128 + SIGSYS);
}

static int
add_rule(scmp_filter_ctx f, const struct tk_syscall_rule *r)
{
	int nr = seccomp_syscall_resolve_name(r->name);

	if (nr == __NR_SCMP_ERROR)
		return 0;	/* not on this architecture */
	switch (r->check) {
	case TK_SC_ANY:
		return seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 0);
	case TK_SC_ARG0_EQ:
		return seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 1,
		    SCMP_A0(SCMP_CMP_EQ, r->value));
	case TK_SC_ARG0_MASK:
		return seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 1,
		    SCMP_A0(SCMP_CMP_MASKED_EQ, r->value, r->value));
	case TK_SC_ENOSYS:
		return seccomp_rule_add(f, SCMP_ACT_ERRNO(ENOSYS), nr, 0);
	}
	return -EINVAL;
}

static int
add_rules(scmp_filter_ctx f, const struct tk_syscall_rule *rules, size_t n)
{
	size_t i;
	int e;

	for (i = 0; i < n; i++)
		if ((e = add_rule(f, &rules[i])) != 0) {
			tk_error("seccomp: rule for %s: %s", rules[i].name,
			    strerror(-e));
			return -1;
		}
	return 0;
}

int
tk_sandbox_seccomp(const char *who, const struct tk_syscall_rule *rules,
    size_t n, const struct tk_syscall_rule *extra, size_t nextra)
{
	struct sigaction sa;
	scmp_filter_ctx f = NULL;
	int e, r = TK_SANDBOX_ERR_SECCOMP;

	(void)put_str(trap_who, 0, sizeof(trap_who) - 1, who);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = (int)(SA_SIGINFO | SA_NODEFER | SA_RESETHAND);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) != 0) {
		tk_error("seccomp: SIGSYS handler: %s", strerror(errno));
		return r;
	}
	if ((f = seccomp_init(SCMP_ACT_TRAP)) == NULL) {
		tk_error("seccomp: out of memory");
		return r;
	}
	if ((e = seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1)) != 0 ||
	    (e = seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 1)) != 0) {
		tk_error("seccomp: attributes: %s", strerror(-e));
		goto out;
	}
	if (add_rules(f, rules, n) != 0 ||
	    (extra != NULL && add_rules(f, extra, nextra) != 0) ||
	    add_rules(f, tk_sandbox_sanitizer_rules,
	    tk_sandbox_sanitizer_nrules) != 0)
		goto out;
	if ((e = seccomp_load(f)) != 0) {
		tk_error("seccomp: load: %s", strerror(-e));
		goto out;
	}
	r = TK_SANDBOX_OK;
out:
	seccomp_release(f);
	return r;
}
