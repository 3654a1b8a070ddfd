/*
 * Reading small files whole, with the care that secret files (PINs, API
 * key material) need: refuse modes that let others read them, and wipe
 * every copy we make.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "twokey/common.h"

void
tk_secret_free(void *p, size_t len)
{
	if (p != NULL)
		OPENSSL_clear_free(p, len);
}

/*
 * Reads fd to its end into *buf (of *cap bytes, grown by doubling up to
 * max + 1), so that the allocation follows what the file holds rather
 * than the limit: a verifier allowed a 4 GiB file must not ask for 4 GiB
 * to read a small one. TK_ERR_TOOBIG past max bytes.
 */
static int
read_all(int fd, uint8_t **buf, size_t *cap, size_t max, size_t *len)
{
	size_t got = 0;
	uint8_t *p;

	for (;;) {
		ssize_t n;

		if (got == *cap) {
			size_t ncap = *cap > max / 2 ? max + 1 : *cap * 2;

			if (got > max)
				return TK_ERR_TOOBIG;
			if ((p = malloc(ncap)) == NULL)
				return TK_ERR_NOMEM;
			memcpy(p, *buf, got);
			OPENSSL_clear_free(*buf, *cap);
			*buf = p;
			*cap = ncap;
		}
		n = read(fd, *buf + got, *cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return TK_ERR_IO;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > max)
		return TK_ERR_TOOBIG;
	*len = got;
	return TK_OK;
}

int
tk_read_file(const char *path, size_t max, int secret, uint8_t **out,
    size_t *outlen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0, cap;
	int fd, r = TK_ERR_IO;

	*out = NULL;
	*outlen = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return TK_ERR_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	if (secret && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		r = TK_ERR_PERM;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		r = TK_ERR_TOOBIG;
		goto out;
	}
	/* Room for the whole file, one more byte to see EOF, and a NUL. */
	cap = (size_t)st.st_size + 2;
	if ((buf = malloc(cap)) == NULL) {
		r = TK_ERR_NOMEM;
		goto out;
	}
	if ((r = read_all(fd, &buf, &cap, max, &len)) != TK_OK)
		goto out;
	if (secret && len > 0 && buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	buf = NULL;
	r = TK_OK;
out:
	if (buf != NULL)
		tk_secret_free(buf, cap);
	close(fd);
	return r;
}
