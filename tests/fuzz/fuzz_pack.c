/*
 * libFuzzer harness: the evidence pack reader and checker on an
 * untrusted archive (packcheck.h). The input is the archive itself,
 * tar.gz or plain tar. When it reads, the pack is checked against its
 * own certs/root.pem, so that the checker runs past the chain; every
 * refusal must say what failed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "twokey/common.h"
#include "twokey/packcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct tk_pack *p)
{
	const struct tk_pack_file *f = tk_pack_get(p, "certs/root.pem");
	struct tk_packcheck_report rep;
	X509 *root = NULL;
	BIO *b;
	int r;

	if (f == NULL || f->len > 65536 ||
	    (b = BIO_new_mem_buf(f->data, (int)f->len)) == NULL)
		return;
	root = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (root == NULL)
		return;
	r = tk_pack_check(p, root, &rep);
	if (r != 0 && r != TK_PACKCHECK_ERR_NOMEM && rep.what[0] == '\0')
		abort();
	X509_free(root);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_packcheck_report rep;
	struct tk_pack *p = NULL;
	int r;

	tk_log_set_level(TK_LOG_ERROR);
	r = tk_pack_read(data, size, &p, &rep);
	if (r == 0)
		check(p);
	else if (r != TK_PACKCHECK_ERR_NOMEM && rep.what[0] == '\0')
		abort();
	tk_pack_free(&p);
	return 0;
}
