/*
 * libFuzzer harness: the journal export reader and checker on untrusted
 * files. The input is an in-memory export: records of
 *
 *   NAME '\0' LEN (4 bytes, little-endian) DATA (LEN bytes)
 *
 * (tests/fuzz/mkseed-export.sh turns an export folder into one). When the
 * files load, the export is checked against the fingerprint of its own
 * root certificate, so that the whole checker runs, not just the parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "twokey/common.h"
#include "twokey/export.h"

#define MAX_FILES 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
split(const uint8_t *data, size_t size, struct tk_export_file *f)
{
	const uint8_t *nul;
	size_t n = 0, len;

	while (size > 0 && n < MAX_FILES) {
		if ((nul = memchr(data, '\0', size)) == NULL)
			break;
		len = (size_t)(nul - data) + 1;
		if (size - len < 4)
			break;
		f[n].name = (const char *)data;
		data += len;
		size -= len;
		len = (size_t)data[0] | (size_t)data[1] << 8 |
		    (size_t)data[2] << 16 | (size_t)data[3] << 24;
		data += 4;
		size -= 4;
		if (len > size)
			len = size;
		f[n].data = data;
		f[n++].len = len;
		data += len;
		size -= len;
	}
	return n;
}

static void
check(const struct tk_export *e)
{
	struct tk_export_report rep;
	struct tk_export_trust t;
	uint8_t fp[32];
	unsigned int fplen;
	X509 *root = NULL;
	BIO *b;

	if ((b = BIO_new_mem_buf(e->root_pem, (int)e->root_pem_len)) == NULL)
		return;
	root = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (root == NULL || X509_digest(root, EVP_sha256(), fp, &fplen) != 1)
		goto out;
	memset(&t, 0, sizeof(t));
	t.fingerprint = fp;
	if (tk_export_check(e, &t, &rep) != 0 && rep.what[0] == '\0')
		abort();	/* every failure must say what */
out:
	X509_free(root);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_export_file f[MAX_FILES];
	struct tk_export_report rep;
	struct tk_export *e = NULL;
	size_t n;

	tk_log_set_level(TK_LOG_ERROR);
	n = split(data, size, f);
	if (tk_export_from_files(f, n, &e, &rep) == 0)
		check(e);
	else if (rep.what[0] == '\0')
		abort();
	tk_export_free(&e);
	return 0;
}
