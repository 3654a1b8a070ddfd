/*
 * Helpers of twokey-verify's commands that live in libtwokey-verify.a,
 * beside the log and pack commands that use them (verify_cmd.h): the
 * one-line failure report and the pinned root certificate.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "twokey/common.h"
#include "verify_cmd.h"

/* A root certificate file, with room for a chain or comments. */
#define ROOT_FILE_MAX ((size_t)1024 * 1024)

int
verify_fail(int code, const char *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "twokey-verify: %s: %s\n", cmd, msg);
	return code;
}

int
verify_load_root(const char *cmd, const char *path, X509 **out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	char esc[128];
	BIO *bio = NULL;
	int r, x = VX_INTERNAL;

	*out = NULL;
	tk_log_escape(esc, sizeof(esc), path, strlen(path));
	r = tk_read_file(path, ROOT_FILE_MAX, 0, &buf, &len);
	if (r == TK_ERR_TOOBIG) {
		x = verify_fail(VX_IO, cmd, "root file %s is larger than %zu "
		    "bytes", esc, ROOT_FILE_MAX);
		goto out;
	}
	if (r != TK_OK) {
		x = r == TK_ERR_NOMEM ? verify_fail(VX_INTERNAL, cmd, "out of "
		    "memory") : verify_fail(VX_IO, cmd, "cannot read root "
		    "file %s", esc);
		goto out;
	}
	if ((bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		x = verify_fail(VX_INTERNAL, cmd, "out of memory");
		goto out;
	}
	if ((*out = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		x = verify_fail(VX_KEY, cmd, "root file %s: not a PEM "
		    "certificate", esc);
		goto out;
	}
	x = VX_OK;
out:
	BIO_free(bio);
	free(buf);
	return x;
}
