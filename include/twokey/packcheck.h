/*
 * Evidence pack reader and checker (pack.h describes the layout), in the
 * offline verifier library: OpenSSL, jansson, libarchive (to read the
 * tar.gz) and common/ only.
 *
 * tk_pack_check proves, in this order, stopping at the first failure:
 *  1. SHA256SUMS.p7s is a CMS signature over SHA256SUMS by the pack's
 *     certs/audit.pem, and that certificate chains to the pinned root
 *     (validity dates not enforced: packs are checked years later);
 *  2. every file is listed in SHA256SUMS with its digest, and every
 *     listed file is there (no extra, no missing file);
 *  3. the journal slice (journal/) holds: keys, checkpoints, consistency,
 *     every entry and per-entry proof (export.h), and is the range that
 *     pack.json names;
 *  4. every request's digest is SHA-256 of its canonical JSON; every
 *     ballot's challenge is SHA-256("twokey-approval-v1" || decision ||
 *     digest || nonce), the clientDataJSON carries it (type webauthn.get,
 *     the policy's origin), the authenticator data has the rpId hash and
 *     user presence (and verification when the policy requires it), and
 *     the assertion signature verifies with the enclosed COSE key (ES256);
 *  5. every granted request has at least the policy's quorum (never
 *     under 2) of distinct approvers who are not the requester (distinct
 *     teams when the policy says so), counting only verified approvals.
 */
#ifndef TWOKEY_PACKCHECK_H
#define TWOKEY_PACKCHECK_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

enum tk_packcheck_err {
	TK_PACKCHECK_OK = 0,
	TK_PACKCHECK_ERR_NOMEM = -900,
	TK_PACKCHECK_ERR_TOOBIG = -901,	/* over a documented limit */
	TK_PACKCHECK_ERR_MALFORMED = -902, /* archive or file unparsable */
	TK_PACKCHECK_ERR_SIGNATURE = -903, /* CMS missing or fails */
	TK_PACKCHECK_ERR_CHAIN = -904,	/* signer not under the root */
	TK_PACKCHECK_ERR_MANIFEST = -905, /* file changed, extra, missing */
	TK_PACKCHECK_ERR_JOURNAL = -906, /* the journal slice does not hold */
	TK_PACKCHECK_ERR_APPROVAL = -907, /* digest, challenge, assertion */
	TK_PACKCHECK_ERR_QUORUM = -908,	/* a grant without enough approvers */
	TK_PACKCHECK_ERR_INVALID = -909, /* bad argument */
};

const char *tk_packcheck_strerror(int err);

#define TK_PACKCHECK_MAX_BYTES ((size_t)64 * 1024 * 1024) /* unpacked */
#define TK_PACKCHECK_MAX_FILES ((size_t)1 << 20)
#define TK_PACKCHECK_MAX_NAME 200

struct tk_pack_file {
	char *name;		/* relative to the pack folder */
	uint8_t *data;		/* NUL-terminated */
	size_t len;
};

struct tk_pack {
	char *folder;
	struct tk_pack_file *files;	/* sorted by name */
	size_t nfiles;
};

struct tk_packcheck_report {
	int err;
	char what[512];		/* the first failure, naming the file */
	/* summary */
	size_t files, requests, ballots, granted;
	uint64_t journal_first, journal_end;
	char signer[256];
	char signing_time[64];
};

/*
 * Reads a pack.tar.gz from memory: regular files only, all under one
 * folder, no "..", no duplicate, within the limits above.
 */
int tk_pack_read(const uint8_t *tgz, size_t len, struct tk_pack **out,
    struct tk_packcheck_report *rep);
void tk_pack_free(struct tk_pack **p);

/* The file name, or NULL. */
const struct tk_pack_file *tk_pack_get(const struct tk_pack *p,
    const char *name);

/* Every check above against the pinned root certificate. */
int tk_pack_check(const struct tk_pack *p, X509 *root,
    struct tk_packcheck_report *rep);

#endif
