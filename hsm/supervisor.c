/*
 * The signer's supervisor: a small process forked by tk_signer_start
 * before the caller drops root, which keeps root's rights and nothing
 * else. It never loads a PKCS#11 module, never reads the PIN, has no
 * network socket and no descriptor but its control socket and stdio. On
 * request it starts a fresh twokey-signer (fork + exec, one end of a new
 * socketpair as fd 3) and hands the other end back over SCM_RIGHTS, kills
 * and reaps it, or reports how it ended. So a signer that dies after the
 * network-facing process has dropped root is replaced by one that can
 * still read a root-only PIN file, as OpenSSH's privileged monitor does
 * for its unprivileged child.
 *
 * Control protocol (SOCK_SEQPACKET, one message each way): request
 * { op, flag }; reply { int32 result, int32 value } with the new socket as
 * SCM_RIGHTS on a successful SPAWN. The supervisor exits when the control
 * socket closes, after its signer (whose client end is closed too) ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "twokey/common.h"
#include "twokey/sandbox.h"
#include "hsm_int.h"

#define SIGNER_FD 3
#define SV_CTL_FD 3		/* in the supervisor itself */
/*
 * Without a pidfd (pidfd_open needs Linux 5.3; valgrind 3.19 does not
 * know it either), a child's end is found by waitpid(WNOHANG): this
 * often while waiting for it, and this often while idle.
 */
#define SV_POLL_MS 10
#define SV_IDLE_POLL_MS 200

enum sv_op { SV_SPAWN = 1, SV_KILL = 2, SV_WAIT = 3 };

struct sv_req {
	uint8_t op;
	uint8_t flag;
};

struct sv_resp {
	int32_t result;
	int32_t value;
};

/* The supervisor's one child. */
struct sv_child {
	pid_t pid;
	int pidfd;
	int status;		/* of the last child, once reaped */
};

static void
exec_child(int sock, char *const argv[])
{
	sigset_t all;

	if (sock == SIGNER_FD) {
		if (fcntl(sock, F_SETFD, 0) != 0)
			_exit(127);
	} else if (dup2(sock, SIGNER_FD) != SIGNER_FD)
		_exit(127);
	close_range(SIGNER_FD + 1, ~0U, 0);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	execv(argv[0], argv);
	_exit(127);
}

/* Forgets the child that ended with status st. */
static void
reaped(struct sv_child *c, int st)
{
	c->status = st;
	if (c->pidfd >= 0)
		close(c->pidfd);
	c->pidfd = -1;
	c->pid = -1;
}

static void
reap(struct sv_child *c)
{
	int st = 0;

	if (c->pid <= 0)
		return;
	while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR)
		continue;
	reaped(c, st);
}

/* Reaps the child if it has ended, without waiting; 1 if it had. */
static int
reap_if_ended(struct sv_child *c)
{
	pid_t w;
	int st = 0;

	if (c->pid <= 0)
		return 0;
	while ((w = waitpid(c->pid, &st, WNOHANG)) < 0 && errno == EINTR)
		continue;
	if (w != c->pid)
		return 0;
	reaped(c, st);
	return 1;
}

static void
kill_child(struct sv_child *c)
{
	if (c->pid <= 0)
		return;
	if (c->pidfd < 0 || syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL,
	    NULL, 0) != 0)
		kill(c->pid, SIGKILL);
	reap(c);
}

/* Waits up to ms for the child to end by itself, then kills it. */
static void
wait_child(struct sv_child *c, int ms)
{
	struct timespec ts = { 0, SV_POLL_MS * 1000 * 1000 };
	struct pollfd p;
	int waited;

	if (c->pid <= 0)
		return;
	if (c->pidfd >= 0) {
		p.fd = c->pidfd;
		p.events = POLLIN;
		if (poll(&p, 1, ms) == 1)
			reap(c);
	} else {
		for (waited = 0; waited < ms && !reap_if_ended(c);
		    waited += SV_POLL_MS)
			nanosleep(&ts, NULL);
	}
	kill_child(c);
}

static int
spawn_child(struct sv_child *c, const struct tk_supervisor_args *a,
    int root_locked, int *fd)
{
	char fdarg[] = "3";
	char *argv[8];
	int sv[2], n = 0;

	argv[n++] = a->path;
	argv[n++] = (char *)(uintptr_t)"--fd";
	argv[n++] = fdarg;
	argv[n++] = (char *)(uintptr_t)"--uri";
	argv[n++] = a->uri;
	if (root_locked)
		argv[n++] = (char *)(uintptr_t)"--root-locked";
	if (a->no_seccomp)
		argv[n++] = (char *)(uintptr_t)"--no-seccomp";
	argv[n] = NULL;
	kill_child(c);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -errno;
	if ((c->pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (c->pid == 0)
		exec_child(sv[1], argv);
	close(sv[1]);
	*fd = sv[0];
	c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	return 0;
}

static int
send_resp(int ctl, int32_t result, int32_t value, int fd)
{
	struct sv_resp resp = { result, value };
	struct iovec iov = { &resp, sizeof(resp) };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m;
	struct cmsghdr *cm;

	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		m.msg_control = u.buf;
		m.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	while (sendmsg(ctl, &m, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* One request; -1 ends the supervisor. */
static int
serve_one(int ctl, struct sv_child *c, const struct tk_supervisor_args *a)
{
	struct sv_req req;
	ssize_t n;
	int fd = -1, r;

	while ((n = recv(ctl, &req, sizeof(req), 0)) < 0 && errno == EINTR)
		continue;
	if (n <= 0)
		return -1;
	if (n != (ssize_t)sizeof(req))
		return send_resp(ctl, TK_HSM_ERR_PROTOCOL, 0, -1);
	switch (req.op) {
	case SV_SPAWN:
		if ((r = spawn_child(c, a, req.flag != 0, &fd)) != 0) {
			tk_error("cannot start the signer: %s", strerror(-r));
			return send_resp(ctl, TK_HSM_ERR_SPAWN, 0, -1);
		}
		r = send_resp(ctl, 0, (int32_t)c->pid, fd);
		close(fd);
		return r;
	case SV_KILL:
		kill_child(c);
		return send_resp(ctl, 0, c->status, -1);
	case SV_WAIT:
		wait_child(c, 2000);
		return send_resp(ctl, 0, c->status, -1);
	default:
		return send_resp(ctl, TK_HSM_ERR_PROTOCOL, 0, -1);
	}
}

/*
 * A signer that ended on its own is reaped at once and the end logged;
 * without a pidfd this looks, and returns if it is still running.
 */
static void
reaped_alone(struct sv_child *c)
{
	pid_t pid = c->pid;

	if (c->pidfd >= 0)
		reap(c);
	else if (!reap_if_ended(c))
		return;
	if (WIFSIGNALED(c->status))
		tk_warn("signer %d killed by signal %d", (int)pid,
		    WTERMSIG(c->status));
	else if (WEXITSTATUS(c->status) != 0)
		tk_warn("signer %d exited with status %d", (int)pid,
		    WEXITSTATUS(c->status));
}

static void
supervise(int ctl, const struct tk_supervisor_args *a)
{
	struct sv_child c = { -1, -1, 0 };
	struct pollfd p[2];
	int no_pidfd;

	for (;;) {
		p[0].fd = ctl;
		p[0].events = POLLIN;
		p[0].revents = 0;
		p[1].fd = c.pidfd;
		p[1].events = POLLIN;
		p[1].revents = 0;
		no_pidfd = c.pid > 0 && c.pidfd < 0;
		if (poll(p, c.pidfd >= 0 ? 2 : 1, no_pidfd ? SV_IDLE_POLL_MS :
		    -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (no_pidfd || (c.pidfd >= 0 && (p[1].revents & POLLIN) != 0))
			reaped_alone(&c);
		if (p[0].revents != 0 && serve_one(ctl, &c, a) != 0)
			break;
	}
	/* The client is gone; so is the signer's peer. Let it log out. */
	wait_child(&c, 2000);
}

int
tk_supervisor_start(struct tk_supervisor *sv,
    const struct tk_supervisor_args *a)
{
	int p[2];
	pid_t pid;

	sv->ctl = -1;
	sv->pid = -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p) != 0) {
		tk_error("socketpair: %s", strerror(errno));
		return TK_HSM_ERR_SPAWN;
	}
	if ((pid = fork()) < 0) {
		tk_error("fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return TK_HSM_ERR_SPAWN;
	}
	if (pid == 0) {
		sigset_t none;

		if (dup2(p[1], SV_CTL_FD) != SV_CTL_FD)
			_exit(1);
		close_range(SV_CTL_FD + 1, ~0U, 0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_IGN);
		/* A terminal's ^C or hang-up is for twokeyd to act on. */
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		(void)prctl(PR_SET_NAME, "twokey-supv", 0, 0, 0);
		(void)tk_sandbox_nodump();
		tk_log_set_ident("twokey-supervisor");
		supervise(SV_CTL_FD, a);
		_exit(0);
	}
	close(p[1]);
	sv->ctl = p[0];
	sv->pid = pid;
	return 0;
}

static int
call(struct tk_supervisor *sv, uint8_t op, uint8_t flag, int32_t *value,
    int *fd)
{
	struct sv_req req = { op, flag };
	struct sv_resp resp;
	struct iovec iov = { &resp, sizeof(resp) };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m;
	struct cmsghdr *cm;
	ssize_t n;

	if (fd != NULL)
		*fd = -1;
	if (sv->ctl < 0)
		return TK_HSM_ERR_SPAWN;
	while (send(sv->ctl, &req, sizeof(req), MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			goto gone;
	memset(&m, 0, sizeof(m));
	memset(&u, 0, sizeof(u));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = u.buf;
	m.msg_controllen = sizeof(u.buf);
	while ((n = recvmsg(sv->ctl, &m, MSG_CMSG_CLOEXEC)) < 0)
		if (errno != EINTR)
			goto gone;
	if (n != (ssize_t)sizeof(resp))
		goto gone;
	for (cm = CMSG_FIRSTHDR(&m); cm != NULL; cm = CMSG_NXTHDR(&m, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int))) {
			if (fd != NULL)
				memcpy(fd, CMSG_DATA(cm), sizeof(int));
			else {
				int extra;

				memcpy(&extra, CMSG_DATA(cm), sizeof(int));
				close(extra);
			}
		}
	*value = resp.value;
	return resp.result;
gone:
	tk_error("the signer's supervisor is gone; restart the service");
	close(sv->ctl);
	sv->ctl = -1;
	return TK_HSM_ERR_SPAWN;
}

int
tk_supervisor_spawn(struct tk_supervisor *sv, int root_locked, int *fd,
    pid_t *pid)
{
	int32_t v = 0;
	int r = call(sv, SV_SPAWN, (uint8_t)(root_locked != 0), &v, fd);

	if (r == 0 && *fd < 0)
		r = TK_HSM_ERR_PROTOCOL;
	if (r != 0 && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	*pid = r == 0 ? (pid_t)v : -1;
	return r;
}

int
tk_supervisor_kill(struct tk_supervisor *sv, int *status)
{
	int32_t v = 0;
	int r = call(sv, SV_KILL, 0, &v, NULL);

	*status = (int)v;
	return r;
}

int
tk_supervisor_wait(struct tk_supervisor *sv, int *status)
{
	int32_t v = 0;
	int r = call(sv, SV_WAIT, 0, &v, NULL);

	*status = (int)v;
	return r;
}

void
tk_supervisor_stop(struct tk_supervisor *sv)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i, st;

	if (sv->ctl >= 0)
		close(sv->ctl);
	sv->ctl = -1;
	/* It waits up to 2 s for its signer, then ends by itself. */
	for (i = 0; sv->pid > 0 && i < 300; i++) {
		pid_t w = waitpid(sv->pid, &st, WNOHANG);

		if (w == sv->pid || (w < 0 && errno != EINTR))
			sv->pid = -1;
		else
			nanosleep(&ts, NULL);
	}
	if (sv->pid > 0 && kill(sv->pid, SIGKILL) == 0)
		while (waitpid(sv->pid, &st, 0) < 0 && errno == EINTR)
			continue;
	sv->pid = -1;
}
