/* See proc_probe.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>

#include "proc_probe.h"

static long
status_field(pid_t pid, const char *name)
{
	char path[64], line[256];
	size_t n = strlen(name);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, name, n) == 0 && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

int
tk_probe_seccomp(pid_t pid)
{
	return (int)status_field(pid, "Seccomp");
}

long long
tk_probe_capabilities(pid_t pid)
{
	char path[64], line[256];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "CapPrm:", 7) == 0)
			v = strtoll(line + 7, NULL, 16);
	fclose(f);
	return v;
}

/* In the probing child: no CAP_SYS_PTRACE, or the target's own uid. */
static int
become_peer(uid_t uid)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3,
	    0 };
	struct __user_cap_data_struct d[2];

	if (uid != 0)
		return setgroups(0, NULL) == 0 && setresgid(uid, uid,
		    uid) == 0 && setresuid(uid, uid, uid) == 0 ? 0 : -1;
	if (syscall(SYS_capget, &h, d) != 0)
		return -1;
	d[0].effective &= ~(1U << CAP_SYS_PTRACE);
	d[0].permitted &= ~(1U << CAP_SYS_PTRACE);
	d[0].inheritable &= ~(1U << CAP_SYS_PTRACE);
	return syscall(SYS_capset, &h, d) == 0 ? 0 : -1;
}

static int
become_capless(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3,
	    0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	return syscall(SYS_capset, &h, d) == 0 ? 0 : -1;
}

int
tk_probe_dumpable(pid_t pid)
{
	char path[64];
	long uid = status_field(pid, "Uid");
	pid_t c;
	int fd, st;

	if (uid < 0 || geteuid() != 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	if ((c = fork()) < 0)
		return -1;
	if (c == 0) {
		if (become_peer((uid_t)uid) != 0)
			_exit(2);
		if ((fd = open(path, O_RDONLY)) >= 0)
			_exit(0);
		_exit(errno == EACCES || errno == EPERM ? 1 : 2);
	}
	if (waitpid(c, &st, 0) != c || !WIFEXITED(st))
		return -1;
	switch (WEXITSTATUS(st)) {
	case 0:
		return 1;
	case 1:
		return 0;
	default:
		return -1;
	}
}

pid_t
tk_probe_child(pid_t ppid)
{
	char path[300], buf[512], *p;
	struct dirent *e;
	pid_t found = -1;
	DIR *d;
	FILE *f;
	size_t n;

	if ((d = opendir("/proc")) == NULL)
		return -1;
	while (found < 0 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		/* pid (comm) state ppid: comm may hold spaces. */
		if ((p = strrchr(buf, ')')) != NULL &&
		    strtol(p + 4, NULL, 10) == (long)ppid)
			found = (pid_t)strtol(buf, NULL, 10);
	}
	closedir(d);
	return found;
}

pid_t
tk_probe_sleeper(uid_t uid)
{
	char b = 0;
	int p[2];
	pid_t c;

	if (pipe(p) != 0)
		return -1;
	if ((c = fork()) != 0) {
		close(p[1]);
		/* Ready once it has written its byte. */
		if (c > 0 && read(p[0], &b, 1) != 1) {
			kill(c, SIGKILL);
			waitpid(c, NULL, 0);
			c = -1;
		}
		close(p[0]);
		return c;
	}
	close(p[0]);
	if (uid != 0 && (setgroups(0, NULL) != 0 || setresgid(uid, uid,
	    uid) != 0 || setresuid(uid, uid, uid) != 0))
		_exit(2);
	/* Root as the signer runs after start-up: no capabilities. */
	if (uid == 0 && become_capless() != 0)
		_exit(2);
	/* A change of uid clears the flag; a plain process has it. */
	(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
	/* Where Yama restricts ptrace to descendants, let the probe in. */
	(void)prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
	if (write(p[1], &b, 1) != 1)
		_exit(2);
	for (;;)
		pause();
}
