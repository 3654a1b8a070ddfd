/*
 * The systemd notification protocol, sd_notify(3): one datagram of
 * "KEY=value" lines to the AF_UNIX socket named by $NOTIFY_SOCKET (a path,
 * or "@name" in the abstract namespace), and the watchdog interval from
 * $WATCHDOG_USEC (for us only when $WATCHDOG_PID, if set, is our pid).
 *
 * systemd documents this protocol as a stable interface that programs may
 * speak without libsystemd. twokeyd speaks it itself because libsystemd
 * maps libgcrypt, liblzma, libzstd, liblz4 and libcap into the process
 * for these few lines: about 0.7 MiB of resident memory on an appliance
 * that must idle under 16 MiB, and more code within reach of an attacker.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"

/* The address of $NOTIFY_SOCKET; 0 when unset, -1 when unusable. */
static int
notify_address(struct sockaddr_un *sa, socklen_t *len)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t n;

	if (path == NULL || path[0] == '\0')
		return 0;
	n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n < 2 ||
	    n >= sizeof(sa->sun_path))
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, n);
	if (path[0] == '@')
		sa->sun_path[0] = '\0';
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	return 1;
}

int
tk_notify(const char *state)
{
	struct sockaddr_un sa;
	socklen_t len = 0;
	size_t n = strlen(state);
	int fd, r, rc = -1;

	if ((r = notify_address(&sa, &len)) <= 0)
		return r;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (sendto(fd, state, n, MSG_NOSIGNAL, (const struct sockaddr *)&sa,
	    len) == (ssize_t)n)
		rc = 0;
	(void)close(fd);
	return rc;
}

/* A whole decimal number in s, at least 1; 0 otherwise. */
static unsigned long long
positive(const char *s)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	return v;
}

uint64_t
tk_watchdog_usec(void)
{
	const char *pid = getenv("WATCHDOG_PID");

	if (pid != NULL && positive(pid) != (unsigned long long)getpid())
		return 0;
	return (uint64_t)positive(getenv("WATCHDOG_USEC"));
}
