/*
 * twokey-verify pack PACK.tar.gz --root ROOT.pem
 *
 * Checks an evidence pack (packcheck.h) against the pinned root and
 * exits with twokey-verify's code for the first failure (verify_cmd.h,
 * one table for all commands): 1 the manifest signature, 5 the signer's
 * chain, 8 a file against the manifest (changed, extra, missing), 6 the
 * journal slice, 9 an approval, 10 a grant's quorum; 3 a pack or root
 * that cannot be read, 4 an archive that is not a whole tar.gz of plain
 * files. Lives in libtwokey-verify.a beside the checker.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "twokey/common.h"
#include "twokey/packcheck.h"
#include "verify_cmd.h"

static int
exit_for(int err)
{
	switch (err) {
	case TK_PACKCHECK_OK:
		return VX_OK;
	case TK_PACKCHECK_ERR_SIGNATURE:
		return VX_SIGNATURE;
	case TK_PACKCHECK_ERR_CHAIN:
		return VX_KEY;
	case TK_PACKCHECK_ERR_TOOBIG:
		return VX_IO;
	case TK_PACKCHECK_ERR_MALFORMED:
		return VX_MALFORMED;
	case TK_PACKCHECK_ERR_MANIFEST:
		return VX_MANIFEST;
	case TK_PACKCHECK_ERR_JOURNAL:
		return VX_PROOF;
	case TK_PACKCHECK_ERR_APPROVAL:
		return VX_APPROVAL;
	case TK_PACKCHECK_ERR_QUORUM:
		return VX_QUORUM;
	default:
		return VX_INTERNAL;
	}
}

static void
print_summary(const struct tk_pack *p, const struct tk_packcheck_report *r)
{
	char esc[256], signer[512], when[128];

	/* What the pack says of itself reaches the terminal escaped. */
	tk_log_escape(esc, sizeof(esc), p->folder, strlen(p->folder));
	tk_log_escape(signer, sizeof(signer), r->signer, strlen(r->signer));
	tk_log_escape(when, sizeof(when), r->signing_time,
	    strlen(r->signing_time));
	printf("twokey-verify: pack verified\n");
	printf("  pack:        %s (%zu files, all in SHA256SUMS)\n", esc,
	    r->files);
	printf("  signer:      %s\n", signer);
	printf("  signed at:   %s (the signer's own claim)\n",
	    when[0] != '\0' ? when : "not stated");
	if (r->journal_end > r->journal_first)
		printf("  journal:     entries %llu..%llu, checkpoints and "
		    "proofs hold\n", (unsigned long long)r->journal_first,
		    (unsigned long long)r->journal_end - 1);
	else
		printf("  journal:     no entry in the period\n");
	printf("  requests:    %zu, %zu ballots re-verified, %zu granted "
	    "with their quorum\n", r->requests, r->ballots, r->granted);
}

static int
run(const char *path, X509 *root)
{
	struct tk_packcheck_report rep;
	struct tk_pack *p = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	char esc[128];
	int r;

	if ((r = tk_read_file(path, TK_PACKCHECK_MAX_BYTES, 0, &buf,
	    &len)) != 0) {
		tk_log_escape(esc, sizeof(esc), path, strlen(path));
		if (r == TK_ERR_TOOBIG)
			return verify_fail(VX_IO, "pack", "pack file %s is "
			    "larger than %zu bytes", esc,
			    TK_PACKCHECK_MAX_BYTES);
		if (r == TK_ERR_NOMEM)
			return verify_fail(VX_INTERNAL, "pack", "out of "
			    "memory");
		return verify_fail(VX_IO, "pack", "cannot read pack file %s",
		    esc);
	}
	if ((r = tk_pack_read(buf, len, &p, &rep)) == 0)
		r = tk_pack_check(p, root, &rep);
	if (r != 0)
		fprintf(stderr, "twokey-verify: pack: %s: %s\n",
		    tk_packcheck_strerror(r), rep.what);
	else
		print_summary(p, &rep);
	tk_pack_free(&p);
	free(buf);
	return exit_for(r);
}

int
verify_cmd_pack(int argc, char **argv)
{
	const char *path = NULL, *rootp = NULL;
	X509 *root = NULL;
	int i, x;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--root") == 0 && i + 1 < argc)
			rootp = argv[++i];
		else if (argv[i][0] != '-' && path == NULL)
			path = argv[i];
		else
			break;
	}
	if (i < argc || path == NULL || rootp == NULL) {
		fprintf(stderr, "usage: twokey-verify pack PACK.tar.gz "
		    "--root ROOT.pem\n");
		return VX_USAGE;
	}
	if ((x = verify_load_root("pack", rootp, &root)) != VX_OK)
		return x;
	x = run(path, root);
	X509_free(root);
	return x;
}
