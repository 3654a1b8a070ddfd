/*
 * twokey-verify log EXPORT (--root ROOT.pem | --fingerprint SHA256)
 *     [--since CHECKPOINT]
 *
 * Prints a short summary and exits 0 only when everything holds; else
 * names the first bad entry or checkpoint and exits with twokey-verify's
 * code for the cause (verify_cmd.h; VX_PROOF when the log does not hold:
 * edited, deleted, inserted, reordered, truncated, inconsistent, forked).
 * Lives in libtwokey-verify.a beside the export checker, so the program
 * needs no source of ours.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "twokey/common.h"
#include "twokey/export.h"
#include "verify_cmd.h"

static void
usage(void)
{
	fprintf(stderr, "usage: twokey-verify log EXPORT "
	    "(--root ROOT.pem | --fingerprint SHA256) "
	    "[--since CHECKPOINT]\n");
}

/* 64 hex digits, colons allowed between pairs. */
static int
parse_fingerprint(const char *s, uint8_t out[32])
{
	char hex[65];
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (*s == ':')
			continue;
		if (n >= 64)
			return -1;
		hex[n++] = (char)(*s >= 'A' && *s <= 'F' ? *s - 'A' + 'a' :
		    *s);
	}
	hex[n] = '\0';
	if (n != 64 || tk_hex_decode(hex, out, 32) != 0)
		return -1;
	return 0;
}

static void
print_summary(const struct tk_export_report *rep, const char *since)
{
	char first[96], last[96], signer[512], key_id[96];

	/* What the export says of itself reaches the terminal escaped. */
	tk_log_escape(first, sizeof(first), rep->first_time,
	    strlen(rep->first_time));
	tk_log_escape(last, sizeof(last), rep->last_time,
	    strlen(rep->last_time));
	tk_log_escape(signer, sizeof(signer), rep->signer,
	    strlen(rep->signer));
	tk_log_escape(key_id, sizeof(key_id), rep->key_id,
	    strlen(rep->key_id));
	printf("twokey-verify: log verified\n");
	printf("  entries:     %llu..%llu (%llu)\n",
	    (unsigned long long)rep->first,
	    (unsigned long long)rep->end - 1,
	    (unsigned long long)(rep->end - rep->first));
	printf("  time span:   %s .. %s\n", first, last);
	printf("  checkpoints: %zu, latest size %llu\n", rep->checkpoints,
	    (unsigned long long)rep->latest_size);
	printf("  signer:      %s (note key ID %s)\n", signer, key_id);
	if (since != NULL)
		printf("  since:       the log only grew from the saved "
		    "checkpoint\n");
}

/* twokey-verify's exit code for an export error. */
static int
exit_for(int err)
{
	switch (err) {
	case TK_EXPORT_OK:
		return VX_OK;
	case TK_EXPORT_ERR_UNKNOWN_KEY:
	case TK_EXPORT_ERR_BAD_SIG:
		return VX_SIGNATURE;
	case TK_EXPORT_ERR_IO:
	case TK_EXPORT_ERR_TOOBIG:
		return VX_IO;
	case TK_EXPORT_ERR_MALFORMED:
		return VX_MALFORMED;
	case TK_EXPORT_ERR_CHAIN:
	case TK_EXPORT_ERR_KEY:
		return VX_KEY;
	case TK_EXPORT_ERR_NOMEM:
	case TK_EXPORT_ERR_INVALID:
		return VX_INTERNAL;
	default:
		return VX_PROOF;	/* the log does not hold */
	}
}

static int
run(const char *dir, struct tk_export_trust *t)
{
	struct tk_export_report rep;
	struct tk_export *e = NULL;
	char what[512];
	int r;

	if ((r = tk_export_load(dir, &e, &rep)) == 0)
		r = tk_export_check(e, t, &rep);
	tk_export_free(&e);
	if (r != 0) {
		fprintf(stderr, "twokey-verify: log: %s: %s\n",
		    tk_export_strerror(r), tk_log_escape(what, sizeof(what),
		    rep.what, strlen(rep.what)));
		return exit_for(r);
	}
	print_summary(&rep, t->since);
	return 0;
}

int
verify_cmd_log(int argc, char **argv)
{
	struct tk_export_trust t;
	const char *dir = NULL, *root = NULL, *fp = NULL, *since = NULL;
	uint8_t fpb[32], *sdata = NULL;
	size_t slen = 0;
	char esc[128];
	int i, status = VX_INTERNAL;

	memset(&t, 0, sizeof(t));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--root") == 0 && i + 1 < argc)
			root = argv[++i];
		else if (strcmp(argv[i], "--fingerprint") == 0 && i + 1 < argc)
			fp = argv[++i];
		else if (strcmp(argv[i], "--since") == 0 && i + 1 < argc)
			since = argv[++i];
		else if (argv[i][0] != '-' && dir == NULL)
			dir = argv[i];
		else {
			usage();
			return VX_USAGE;
		}
	}
	if (dir == NULL || (root == NULL) == (fp == NULL)) {
		usage();
		return VX_USAGE;
	}
	if (fp != NULL && parse_fingerprint(fp, fpb) != 0) {
		fprintf(stderr, "twokey-verify: --fingerprint wants 64 hex "
		    "digits\n");
		status = VX_USAGE;
		goto out;
	}
	t.fingerprint = fp != NULL ? fpb : NULL;
	if (root != NULL && (status = verify_load_root("log", root,
	    &t.root)) != VX_OK)
		goto out;
	if (since != NULL && tk_read_file(since, TK_EXPORT_MAX_SMALL, 0,
	    &sdata, &slen) != 0) {
		tk_log_escape(esc, sizeof(esc), since, strlen(since));
		status = verify_fail(VX_IO, "log", "cannot read the saved "
		    "checkpoint %s (or larger than %zu bytes)", esc,
		    TK_EXPORT_MAX_SMALL);
		goto out;
	}
	t.since = (const char *)sdata;
	t.since_len = slen;
	status = run(dir, &t);
out:
	X509_free(t.root);
	free(sdata);
	return status;
}
