/*
 * twokey-verify log EXPORT (--root ROOT.pem | --fingerprint SHA256)
 *     [--since CHECKPOINT]
 *
 * Prints a short summary and exits 0 only when everything holds; else
 * names the first bad entry or checkpoint and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "twokey/common.h"
#include "twokey/export.h"
#include "verify_log.h"

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

static X509 *
read_root(const char *path)
{
	X509 *x = NULL;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

static void
print_summary(const struct tk_export_report *rep, const char *since)
{
	printf("twokey-verify: log verified\n");
	printf("  entries:     %llu..%llu (%llu)\n",
	    (unsigned long long)rep->first,
	    (unsigned long long)rep->end - 1,
	    (unsigned long long)(rep->end - rep->first));
	printf("  time span:   %s .. %s\n", rep->first_time, rep->last_time);
	printf("  checkpoints: %zu, latest size %llu\n", rep->checkpoints,
	    (unsigned long long)rep->latest_size);
	printf("  signer:      %s (note key ID %s)\n", rep->signer,
	    rep->key_id);
	if (since != NULL)
		printf("  since:       the log only grew from the saved "
		    "checkpoint\n");
}

static int
run(const char *dir, struct tk_export_trust *t)
{
	struct tk_export_report rep;
	struct tk_export *e = NULL;
	int r;

	if ((r = tk_export_load(dir, &e, &rep)) == 0)
		r = tk_export_check(e, t, &rep);
	tk_export_free(&e);
	if (r != 0) {
		printf("twokey-verify: log FAILED: %s: %s\n",
		    tk_export_strerror(r), rep.what);
		return 1;
	}
	print_summary(&rep, t->since);
	return 0;
}

int
tk_verify_log_main(int argc, char **argv)
{
	struct tk_export_trust t;
	const char *dir = NULL, *root = NULL, *fp = NULL, *since = NULL;
	uint8_t fpb[32], *sdata = NULL;
	size_t slen = 0;
	int i, status = 1;

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
			return 2;
		}
	}
	if (dir == NULL || (root == NULL) == (fp == NULL)) {
		usage();
		return 2;
	}
	if (fp != NULL && parse_fingerprint(fp, fpb) != 0) {
		fprintf(stderr, "twokey-verify: --fingerprint wants 64 hex "
		    "digits\n");
		status = 2;
		goto out;
	}
	t.fingerprint = fp != NULL ? fpb : NULL;
	if (root != NULL && (t.root = read_root(root)) == NULL) {
		printf("twokey-verify: log FAILED: cannot read the root "
		    "certificate %s\n", root);
		goto out;
	}
	if (since != NULL && tk_read_file(since, TK_EXPORT_MAX_SMALL, 0,
	    &sdata, &slen) != 0) {
		printf("twokey-verify: log FAILED: cannot read the saved "
		    "checkpoint %s\n", since);
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
