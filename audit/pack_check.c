/*
 * tk_pack_check: the signature over the manifest and its chain to the
 * pinned root, the manifest against the files, the journal slice, then
 * the approvals (pack_approval.c). See packcheck.h for what each proves.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "twokey/common.h"
#include "twokey/export.h"
#include "twokey/packcheck.h"
#include "pack_int.h"

static X509 *
pem_cert(const struct tk_pack_file *f)
{
	BIO *b;
	X509 *x = NULL;

	if (f == NULL || f->len > INT32_MAX ||
	    (b = BIO_new_mem_buf(f->data, (int)f->len)) == NULL)
		return NULL;
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	return x;
}

static void
signing_time(CMS_ContentInfo *cms, struct tk_packcheck_report *rep)
{
	CMS_SignerInfo *si;
	X509_ATTRIBUTE *at;
	ASN1_TYPE *t;
	BIO *b;
	int i, n;

	si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
	if (si == NULL || (i = CMS_signed_get_attr_by_NID(si,
	    NID_pkcs9_signingTime, -1)) < 0 ||
	    (at = CMS_signed_get_attr(si, i)) == NULL ||
	    (t = X509_ATTRIBUTE_get0_type(at, 0)) == NULL ||
	    (t->type != V_ASN1_UTCTIME && t->type != V_ASN1_GENERALIZEDTIME))
		return;
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (ASN1_TIME_print(b, (const ASN1_TIME *)t->value.asn1_string) ==
	    1 && (n = BIO_read(b, rep->signing_time,
	    (int)sizeof(rep->signing_time) - 1)) > 0)
		rep->signing_time[n] = '\0';
	BIO_free(b);
}

/* The signer under the pinned root. */
static int
check_signer(X509 *signer, X509 *root, struct tk_packcheck_report *rep)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	int r = TK_PACKCHECK_ERR_NOMEM, v;

	if ((store = X509_STORE_new()) == NULL ||
	    X509_STORE_add_cert(store, root) != 1 ||
	    (ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, store, signer, NULL) != 1)
		goto out;
	/* Years later the certificate has expired; the chain still holds. */
	X509_VERIFY_PARAM_set_flags(X509_STORE_CTX_get0_param(ctx),
	    X509_V_FLAG_NO_CHECK_TIME);
	if (X509_verify_cert(ctx) != 1) {
		v = X509_STORE_CTX_get_error(ctx);
		r = pack_fail(rep, TK_PACKCHECK_ERR_CHAIN, "SHA256SUMS.p7s: "
		    "the signer is not certified by the pinned root (%s)",
		    X509_verify_cert_error_string(v));
		goto out;
	}
	X509_NAME_oneline(X509_get_subject_name(signer), rep->signer,
	    (int)sizeof(rep->signer));
	r = 0;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return r;
}

/* *signer (caller frees) once the signature and chain hold. */
static int
check_cms(const struct tk_pack *p, X509 *root, X509 **signer,
    struct tk_packcheck_report *rep)
{
	const struct tk_pack_file *sums = tk_pack_get(p, "SHA256SUMS");
	const struct tk_pack_file *sig = tk_pack_get(p, "SHA256SUMS.p7s");
	CMS_ContentInfo *cms = NULL;
	STACK_OF(X509) *signers = NULL;
	const unsigned char *d;
	BIO *cont = NULL;
	int r;

	if (sig == NULL)
		return pack_fail(rep, TK_PACKCHECK_ERR_SIGNATURE,
		    "SHA256SUMS.p7s is missing");
	if (sums == NULL)
		return pack_fail(rep, TK_PACKCHECK_ERR_MANIFEST,
		    "SHA256SUMS is missing");
	d = sig->data;
	if (sig->len > INT32_MAX || (cms = d2i_CMS_ContentInfo(NULL, &d,
	    (long)sig->len)) == NULL || d != sig->data + sig->len)
		return pack_fail(rep, TK_PACKCHECK_ERR_SIGNATURE,
		    "SHA256SUMS.p7s is not a DER CMS signature");
	r = TK_PACKCHECK_ERR_NOMEM;
	if (sums->len > INT32_MAX || (cont = BIO_new_mem_buf(sums->data,
	    (int)sums->len)) == NULL)
		goto out;
	if (CMS_verify(cms, NULL, NULL, cont, NULL, CMS_BINARY |
	    CMS_NO_SIGNER_CERT_VERIFY) != 1) {
		r = pack_fail(rep, TK_PACKCHECK_ERR_SIGNATURE,
		    "SHA256SUMS.p7s does not verify over SHA256SUMS");
		goto out;
	}
	if ((signers = CMS_get0_signers(cms)) == NULL ||
	    sk_X509_num(signers) != 1) {
		r = pack_fail(rep, TK_PACKCHECK_ERR_SIGNATURE,
		    "SHA256SUMS.p7s must have exactly one signer");
		goto out;
	}
	if ((r = check_signer(sk_X509_value(signers, 0), root, rep)) == 0) {
		signing_time(cms, rep);
		*signer = sk_X509_value(signers, 0);
		X509_up_ref(*signer);
	}
out:
	sk_X509_free(signers);
	BIO_free(cont);
	CMS_ContentInfo_free(cms);
	return r;
}

static int
is_manifest(const char *name)
{
	return strcmp(name, "SHA256SUMS") == 0 ||
	    strcmp(name, "SHA256SUMS.p7s") == 0;
}

/* One "HEX  NAME" line; marks the file seen. */
static int
manifest_line(const struct tk_pack *p, const char *line, size_t n,
    unsigned char *seen, struct tk_packcheck_report *rep)
{
	const struct tk_pack_file *f;
	uint8_t want[32], got[32];
	char hex[65], name[TK_PACKCHECK_MAX_NAME + 1];

	if (n < 67 || n - 66 > TK_PACKCHECK_MAX_NAME ||
	    line[64] != ' ' || line[65] != ' ')
		return pack_fail(rep, TK_PACKCHECK_ERR_MANIFEST,
		    "SHA256SUMS: a line is not \"SHA256  NAME\"");
	memcpy(hex, line, 64);
	hex[64] = '\0';
	memcpy(name, line + 66, n - 66);
	name[n - 66] = '\0';
	if (tk_hex_decode(hex, want, 32) != 0 || !pack_name_ok(name) ||
	    is_manifest(name))
		return pack_fail(rep, TK_PACKCHECK_ERR_MANIFEST,
		    "SHA256SUMS: a line is not \"SHA256  NAME\"");
	if ((f = tk_pack_get(p, name)) == NULL)
		return pack_fail(rep, TK_PACKCHECK_ERR_MANIFEST,
		    "%s is listed in SHA256SUMS but missing", name);
	if (seen[f - p->files]++ != 0)
		return pack_fail(rep, TK_PACKCHECK_ERR_MANIFEST,
		    "%s is listed twice in SHA256SUMS", name);
	SHA256(f->data, f->len, got);
	if (CRYPTO_memcmp(got, want, 32) != 0)
		return pack_fail(rep, TK_PACKCHECK_ERR_MANIFEST,
		    "%s has changed: its SHA-256 is not the manifest's", name);
	return 0;
}

static int
check_manifest(const struct tk_pack *p, struct tk_packcheck_report *rep)
{
	const struct tk_pack_file *sums = tk_pack_get(p, "SHA256SUMS");
	const char *s = (const char *)sums->data, *end = s + sums->len, *nl;
	unsigned char *seen;
	size_t i;
	int r = 0;

	if ((seen = calloc(p->nfiles, 1)) == NULL)
		return TK_PACKCHECK_ERR_NOMEM;
	while (r == 0 && s < end) {
		if ((nl = memchr(s, '\n', (size_t)(end - s))) == NULL) {
			r = pack_fail(rep, TK_PACKCHECK_ERR_MANIFEST,
			    "SHA256SUMS does not end with a newline");
			break;
		}
		r = manifest_line(p, s, (size_t)(nl - s), seen, rep);
		s = nl + 1;
	}
	for (i = 0; r == 0 && i < p->nfiles; i++)
		if (!seen[i] && !is_manifest(p->files[i].name))
			r = pack_fail(rep, TK_PACKCHECK_ERR_MANIFEST,
			    "%s is not in SHA256SUMS", p->files[i].name);
	free(seen);
	return r;
}

/* pack.json's journal range; first == end == 0 when it has none. */
static int
journal_range(const struct tk_pack *p, uint64_t *first, uint64_t *end,
    struct tk_packcheck_report *rep)
{
	const struct tk_pack_file *f = tk_pack_get(p, "pack.json");
	json_t *o = NULL, *j;
	int r = 0;

	*first = *end = 0;
	if (f == NULL || (o = json_loadb((const char *)f->data, f->len, 0,
	    NULL)) == NULL || (j = json_object_get(o, "journal")) == NULL)
		r = pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
		    "pack.json is missing or malformed");
	else if (json_is_object(j)) {
		if (json_integer_value(json_object_get(j, "first")) < 0 ||
		    json_integer_value(json_object_get(j, "end")) <= 0)
			r = pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
			    "pack.json: bad journal range");
		*first = (uint64_t)json_integer_value(json_object_get(j,
		    "first"));
		*end = (uint64_t)json_integer_value(json_object_get(j, "end"));
	} else if (!json_is_null(j))
		r = pack_fail(rep, TK_PACKCHECK_ERR_MALFORMED,
		    "pack.json: bad journal range");
	json_decref(o);
	return r;
}

static int
check_journal(const struct tk_pack *p, X509 *root,
    struct tk_packcheck_report *rep)
{
	struct tk_export_file *files;
	struct tk_export_report er;
	struct tk_export_trust t;
	struct tk_export *e = NULL;
	uint64_t first, end;
	size_t i, n = 0;
	int r;

	if ((r = journal_range(p, &first, &end, rep)) != 0)
		return r;
	if ((files = calloc(p->nfiles, sizeof(*files))) == NULL)
		return TK_PACKCHECK_ERR_NOMEM;
	for (i = 0; i < p->nfiles; i++)
		if (strncmp(p->files[i].name, "journal/", 8) == 0) {
			files[n].name = p->files[i].name + 8;
			files[n].data = p->files[i].data;
			files[n++].len = p->files[i].len;
		}
	memset(&t, 0, sizeof(t));
	t.root = root;
	if (n == 0 && end == 0)
		r = 0;
	else if ((r = tk_export_from_files(files, n, &e, &er)) != 0 ||
	    (r = tk_export_check(e, &t, &er)) != 0)
		r = pack_fail(rep, TK_PACKCHECK_ERR_JOURNAL, "journal/: %s: %s",
		    tk_export_strerror(r), er.what);
	else if (er.first != first || er.end != end)
		r = pack_fail(rep, TK_PACKCHECK_ERR_JOURNAL, "journal/ holds "
		    "entries %llu..%llu, pack.json says %llu..%llu",
		    (unsigned long long)er.first, (unsigned long long)er.end,
		    (unsigned long long)first, (unsigned long long)end);
	rep->journal_first = first;
	rep->journal_end = end;
	tk_export_free(&e);
	free(files);
	return r;
}

int
tk_pack_check(const struct tk_pack *p, X509 *root,
    struct tk_packcheck_report *rep)
{
	X509 *signer = NULL, *audit = NULL;
	int r;

	if (rep == NULL)
		return TK_PACKCHECK_ERR_INVALID;
	rep->err = 0;
	rep->what[0] = '\0';
	if (p == NULL || root == NULL)
		return pack_fail(rep, TK_PACKCHECK_ERR_INVALID, "no pack or "
		    "no root");
	rep->files = p->nfiles;
	if ((r = check_cms(p, root, &signer, rep)) != 0 ||
	    (r = check_manifest(p, rep)) != 0)
		goto out;
	/* Signed files only from here on. */
	if ((audit = pem_cert(tk_pack_get(p, "certs/audit.pem"))) == NULL ||
	    X509_cmp(audit, signer) != 0) {
		r = pack_fail(rep, TK_PACKCHECK_ERR_CHAIN, "SHA256SUMS.p7s: "
		    "the signer is not the pack's certs/audit.pem");
		goto out;
	}
	if ((r = check_journal(p, root, rep)) != 0 ||
	    (r = pack_check_approvals(p, rep)) != 0)
		goto out;
out:
	X509_free(audit);
	X509_free(signer);
	return r;
}
