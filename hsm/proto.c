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
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads exactly len bytes before the deadline (-1: none). */
static int
read_full(int fd, uint8_t *buf, size_t len, long long deadline)
{
	size_t got = 0;

	while (got < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int wait = -1, pr;
		ssize_t n;

		if (deadline >= 0) {
			long long left = deadline - now_ms();

			if (left <= 0)
				return TK_HSM_ERR_TIMEOUT;
			wait = left > 0x7fffffff ? 0x7fffffff : (int)left;
		}
		pr = poll(&pfd, 1, wait);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return TK_HSM_ERR_IO;
		if (pr == 0)
			return TK_HSM_ERR_TIMEOUT;
		n = recv(fd, buf + got, len - got, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return errno == ECONNRESET ? TK_HSM_ERR_SIGNER_DIED :
			    TK_HSM_ERR_IO;
		if (n == 0)
			return TK_HSM_ERR_SIGNER_DIED;
		got += (size_t)n;
	}
	return 0;
}

int
tk_signer_recv(int fd, uint8_t *buf, size_t cap, size_t *len,
    int timeout_ms)
{
	long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	uint8_t hdr[4];
	size_t n;
	int r;

	*len = 0;
	if ((r = read_full(fd, hdr, sizeof(hdr), deadline)) != 0)
		return r;
	n = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
	    (size_t)hdr[2] << 8 | hdr[3];
	if (n > cap)
		return TK_HSM_ERR_PROTOCOL;
	if ((r = read_full(fd, buf, n, deadline)) != 0)
		return r;
	*len = n;
	return 0;
}
