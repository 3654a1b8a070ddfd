/*
 * Reading small files whole, with the care that secret files (PINs, API
 * key material) need: refuse modes that let others read them, and wipe
 * every copy we make.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
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

static int
read_all(int fd, uint8_t *buf, size_t cap, size_t *len)
{
	size_t got = 0;

	for (;;) {
		ssize_t n = read(fd, buf + got, cap - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return TK_ERR_IO;
		if (n == 0)
			break;
		got += (size_t)n;
		if (got == cap)
			return TK_ERR_TOOBIG;
	}
	*len = got;
	return TK_OK;
}

int
tk_read_file(const char *path, size_t max, int secret, uint8_t **out,
    size_t *outlen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0, cap = max + 1;
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
	if ((buf = malloc(cap)) == NULL) {
		r = TK_ERR_NOMEM;
		goto out;
	}
	if ((r = read_all(fd, buf, cap, &len)) != TK_OK)
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
