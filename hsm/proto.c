/*
 * Framing of the signer protocol (see hsm_int.h): a 4-byte big-endian
 * length, then the message. Both ends use these; the client passes a
 * timeout, the signer waits forever for its single client.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "hsm_int.h"

int
tk_signer_send(int fd, const uint8_t *buf, size_t len)
{
	uint8_t hdr[4];
	struct iovec iov[2];
	struct msghdr msg;
	size_t done = 0, total = len + 4;

	if (len > TK_SIGNER_RESP_MAX)
		return TK_HSM_ERR_INVALID;
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
	while (done < total) {
		ssize_t n;

		memset(&msg, 0, sizeof(msg));
		if (done < 4) {
			iov[0].iov_base = hdr + done;
			iov[0].iov_len = 4 - done;
			iov[1].iov_base = (void *)(uintptr_t)buf;
			iov[1].iov_len = len;
			msg.msg_iovlen = len > 0 ? 2 : 1;
		} else {
			iov[0].iov_base = (void *)(uintptr_t)(buf + done - 4);
			iov[0].iov_len = total - done;
			msg.msg_iovlen = 1;
		}
		msg.msg_iov = iov;
		n = sendmsg(fd, &msg, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EPIPE || errno == ECONNRESET ?
			    TK_HSM_ERR_SIGNER_DIED : TK_HSM_ERR_IO;
		done += (size_t)n;
	}
	return 0;
}

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Waits until fd is readable or the deadline (microseconds) passes. */
static int
wait_readable(int fd, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	long long t;
	int pr;

	for (;;) {
		if ((t = now_us()) >= deadline)
			return TK_HSM_ERR_TIMEOUT;
		pr = poll(&pfd, 1, (int)((deadline - t + 999) / 1000));
		if (pr > 0)
			return 0;
		if (pr < 0 && errno != EINTR)
			return TK_HSM_ERR_IO;
	}
}

/*
 * Reads one frame. Frames are small and sent with one sendmsg, so one
 * recv usually gets all of it; the fewer system calls per request, the
 * closer the signer gets to signing in-process. Only one frame may be in
 * flight: bytes past the frame's end are a protocol error. Without a
 * timeout (the signer's side) recv simply blocks.
 */
int
tk_signer_recv(int fd, uint8_t *buf, size_t cap, size_t *len,
    int timeout_ms)
{
	uint8_t frame[4 + TK_SIGNER_RESP_MAX];
	long long deadline = timeout_ms < 0 ? -1 :
	    now_us() + timeout_ms * 1000LL;
	size_t got = 0, want = 4;
	int r;

	*len = 0;
	if (cap > TK_SIGNER_RESP_MAX)
		cap = TK_SIGNER_RESP_MAX;
	while (got < want) {
		ssize_t n;

		if (deadline >= 0 && (r = wait_readable(fd, deadline)) != 0)
			return r;
		n = recv(fd, frame + got, sizeof(frame) - got,
		    deadline >= 0 ? MSG_DONTWAIT : 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return errno == ECONNRESET ? TK_HSM_ERR_SIGNER_DIED :
			    TK_HSM_ERR_IO;
		if (n == 0)
			return TK_HSM_ERR_SIGNER_DIED;
		got += (size_t)n;
		if (got >= 4 && want == 4) {
			want = 4 + ((size_t)frame[0] << 24 |
			    (size_t)frame[1] << 16 | (size_t)frame[2] << 8 |
			    frame[3]);
			if (want - 4 > cap)
				return TK_HSM_ERR_PROTOCOL;
		}
	}
	if (got != want)
		return TK_HSM_ERR_PROTOCOL;
	memcpy(buf, frame + 4, want - 4);
	*len = want - 4;
	return 0;
}
