/*
 * Attestation certificate chains. libfido2 1.12 checks the attestation
 * signature with the first x5c certificate and nothing else (it keeps no
 * intermediates and verifies no certificate), so the chain, validity,
 * trust anchor and the per-format certificate rules are checked here with
 * OpenSSL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cbor.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "webauthn_int.h"

#define X5C_MAX		8
#define OID_AAGUID	"1.3.6.1.4.1.45724.1.1.4"
#define OID_TPM_AIK	"2.23.133.8.3"

struct tk_webauthn_roots {
	X509_STORE	*store;
	size_t		 n;
};

struct tk_webauthn_roots *
tk_webauthn_roots_new(void)
{
	struct tk_webauthn_roots *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	if ((r->store = X509_STORE_new()) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void
tk_webauthn_roots_free(struct tk_webauthn_roots **rootsp)
{
	if (rootsp == NULL || *rootsp == NULL)
		return;
	X509_STORE_free((*rootsp)->store);
	free(*rootsp);
	*rootsp = NULL;
}

int
tk_webauthn_roots_add_pem(struct tk_webauthn_roots *roots, const char *pem,
    size_t len)
{
	BIO *bio = NULL;
	X509 *x;
	size_t added = 0;
	int r = TK_WA_ERR_ARG;

	if (roots == NULL || pem == NULL || len > INT32_MAX ||
	    (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		goto out;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (X509_STORE_add_cert(roots->store, x) != 1) {
			X509_free(x);
			goto out;
		}
		X509_free(x);
		added++;
	}
	if (added == 0)
		goto out;
	roots->n += added;
	r = 0;
out:
	BIO_free(bio);
	return r;
}

static int
aaguid_ext_check(X509 *leaf, const uint8_t *aaguid,
    struct tk_webauthn_verdict *v)
{
	ASN1_OBJECT *oid = OBJ_txt2obj(OID_AAGUID, 1);
	ASN1_OCTET_STRING *inner = NULL;
	const ASN1_OCTET_STRING *outer;
	const unsigned char *p;
	X509_EXTENSION *ext;
	int idx, r = TK_WA_ERR_ATT_CERT;

	if (oid == NULL)
		return tk_wa_fail(v, TK_WA_ERR_NOMEM, "out of memory");
	if ((idx = X509_get_ext_by_OBJ(leaf, oid, -1)) < 0) {
		r = 0;	/* the extension is optional */
		goto out;
	}
	ext = X509_get_ext(leaf, idx);
	outer = X509_EXTENSION_get_data(ext);
	p = ASN1_STRING_get0_data(outer);
	if (X509_EXTENSION_get_critical(ext)) {
		r = tk_wa_fail(v, r, "AAGUID certificate extension is marked "
		    "critical");
		goto out;
	}
	inner = d2i_ASN1_OCTET_STRING(NULL, &p, ASN1_STRING_length(outer));
	if (inner == NULL || p != ASN1_STRING_get0_data(outer) +
	    ASN1_STRING_length(outer) ||
	    ASN1_STRING_length(inner) != TK_WA_AAGUID_LEN ||
	    memcmp(ASN1_STRING_get0_data(inner), aaguid,
	    TK_WA_AAGUID_LEN) != 0) {
		r = tk_wa_fail(v, r, "AAGUID in the attestation certificate "
		    "differs from the one in authenticator data");
		goto out;
	}
	r = 0;
out:
	ASN1_OCTET_STRING_free(inner);
	ASN1_OBJECT_free(oid);
	return r;
}

static int
subject_has(X509 *x, int nid, const char *want)
{
	X509_NAME *n = X509_get_subject_name(x);
	const ASN1_STRING *s;
	int i;

	if ((i = X509_NAME_get_index_by_NID(n, nid, -1)) < 0)
		return 0;
	if (want == NULL)
		return 1;
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
	return (size_t)ASN1_STRING_length(s) == strlen(want) &&
	    memcmp(ASN1_STRING_get0_data(s), want, strlen(want)) == 0;
}

static int
has_eku(X509 *x, const char *oidtxt)
{
	EXTENDED_KEY_USAGE *eku;
	ASN1_OBJECT *want = OBJ_txt2obj(oidtxt, 1);
	int i, found = 0;

	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	for (i = 0; eku != NULL && want != NULL &&
	    i < sk_ASN1_OBJECT_num(eku); i++)
		if (OBJ_cmp(sk_ASN1_OBJECT_value(eku, i), want) == 0)
			found = 1;
	EXTENDED_KEY_USAGE_free(eku);
	ASN1_OBJECT_free(want);
	return found;
}

/* WebAuthn L3 8.2.1 (packed) and 8.3.1 (tpm) certificate requirements. */
static int
leaf_rules(X509 *leaf, const char *fmt, const uint8_t *aaguid,
    struct tk_webauthn_verdict *v)
{
	int packed = strcmp(fmt, "packed") == 0;
	int tpm = strcmp(fmt, "tpm") == 0;

	if (!packed && !tpm)
		return 0;
	if (X509_get_version(leaf) != X509_VERSION_3)
		return tk_wa_fail(v, TK_WA_ERR_ATT_CERT, "%s attestation "
		    "certificate is not X.509 version 3", fmt);
	if (X509_get_extension_flags(leaf) & EXFLAG_CA)
		return tk_wa_fail(v, TK_WA_ERR_ATT_CERT, "%s attestation "
		    "certificate is a CA certificate", fmt);
	if (packed && (!subject_has(leaf, NID_countryName, NULL) ||
	    !subject_has(leaf, NID_organizationName, NULL) ||
	    !subject_has(leaf, NID_commonName, NULL) ||
	    !subject_has(leaf, NID_organizationalUnitName,
	    "Authenticator Attestation")))
		return tk_wa_fail(v, TK_WA_ERR_ATT_CERT, "packed attestation "
		    "certificate subject lacks C, O, CN or OU=Authenticator "
		    "Attestation");
	/*
	 * The TPM subject-alternative-name (TPM manufacturer, model, version)
	 * is not checked: only the empty subject and the AIK key purpose are.
	 */
	if (tpm && X509_NAME_entry_count(X509_get_subject_name(leaf)) != 0)
		return tk_wa_fail(v, TK_WA_ERR_ATT_CERT, "tpm attestation "
		    "certificate has a non-empty subject");
	if (tpm && !has_eku(leaf, OID_TPM_AIK))
		return tk_wa_fail(v, TK_WA_ERR_ATT_CERT, "tpm attestation "
		    "certificate lacks the AIK extended key usage");
	return aaguid_ext_check(leaf, aaguid, v);
}

static int
x5c_load(const cbor_item_t *x5c, STACK_OF(X509) *certs,
    struct tk_webauthn_verdict *v)
{
	cbor_item_t **a = cbor_array_handle(x5c);
	const unsigned char *p;
	size_t i, n = cbor_array_size(x5c);
	X509 *x;

	if (n == 0 || n > X5C_MAX)
		return tk_wa_fail(v, TK_WA_ERR_ATTOBJ, "x5c holds %zu "
		    "certificates, not 1..%d", n, X5C_MAX);
	for (i = 0; i < n; i++) {
		if (!cbor_isa_bytestring(a[i]) ||
		    cbor_bytestring_length(a[i]) > INT32_MAX)
			return tk_wa_fail(v, TK_WA_ERR_ATTOBJ, "x5c element "
			    "%zu is not a byte string", i);
		p = cbor_bytestring_handle(a[i]);
		x = d2i_X509(NULL, &p, (long)cbor_bytestring_length(a[i]));
		if (x == NULL || p != cbor_bytestring_handle(a[i]) +
		    cbor_bytestring_length(a[i])) {
			X509_free(x);
			return tk_wa_fail(v, TK_WA_ERR_ATT_CERT, "x5c element "
			    "%zu is not exactly one DER certificate", i);
		}
		if (sk_X509_push(certs, x) <= 0) {
			X509_free(x);
			return tk_wa_fail(v, TK_WA_ERR_NOMEM, "out of memory");
		}
	}
	return 0;
}

/* The latest notBefore in certs, or 0 when one cannot be read. */
static time_t
latest_issue(STACK_OF(X509) *certs)
{
	struct tm tm;
	time_t t, latest = 0;
	int i;

	for (i = 0; i < sk_X509_num(certs); i++) {
		memset(&tm, 0, sizeof(tm));
		if (ASN1_TIME_to_tm(X509_get0_notBefore(sk_X509_value(certs,
		    i)), &tm) != 1 || (t = timegm(&tm)) == (time_t)-1)
			return 0;
		if (t > latest)
			latest = t;
	}
	return latest;
}

/* Errors that mean "no path to a configured root" rather than "bad". */
static int
untrusted(int e)
{
	return e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	    e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
	    e == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
	    e == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
	    e == X509_V_ERR_CERT_SIGNATURE_FAILURE ||
	    e == X509_V_ERR_AKID_SKID_MISMATCH;
}

/*
 * Without configured roots the last x5c certificate is taken as the
 * anchor (partial chain): validity and each signature in the chain are
 * still checked, but nothing says who made the authenticator.
 */
static int
chain_verify(STACK_OF(X509) *certs, const struct tk_webauthn_expect *exp,
    struct tk_webauthn_verdict *v)
{
	X509_STORE *own = NULL, *store;
	X509_STORE_CTX *ctx = NULL;
	time_t at;
	int e, r = TK_WA_ERR_NOMEM;

	if (exp->roots != NULL)
		store = exp->roots->store;
	else {
		if ((own = X509_STORE_new()) == NULL ||
		    X509_STORE_add_cert(own, sk_X509_value(certs,
		    sk_X509_num(certs) - 1)) != 1)
			goto out;
		X509_STORE_set_flags(own, X509_V_FLAG_PARTIAL_CHAIN);
		store = own;
	}
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, store, sk_X509_value(certs, 0),
	    certs) != 1)
		goto out;
	if (exp->at_time == TK_WA_AT_ISSUE) {
		if ((at = latest_issue(certs)) == 0) {
			r = tk_wa_fail(v, TK_WA_ERR_ATT_CERT, "attestation "
			    "certificate has an unreadable notBefore");
			goto out;
		}
		X509_STORE_CTX_set_time(ctx, 0, at);
	} else if (exp->at_time != 0)
		X509_STORE_CTX_set_time(ctx, 0, exp->at_time);
	if (X509_verify_cert(ctx) != 1) {
		e = X509_STORE_CTX_get_error(ctx);
		r = tk_wa_fail(v, exp->roots != NULL && untrusted(e) ?
		    TK_WA_ERR_ATT_TRUST : TK_WA_ERR_ATT_CERT,
		    "attestation certificate chain: %s (depth %d)",
		    X509_verify_cert_error_string(e),
		    X509_STORE_CTX_get_error_depth(ctx));
		goto out;
	}
	r = 0;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(own);
	return r;
}

int
tk_wa_x5c_check(const cbor_item_t *att_stmt, const char *fmt,
    const uint8_t *aaguid, const struct tk_webauthn_expect *exp,
    int *trusted, struct tk_webauthn_verdict *v)
{
	const cbor_item_t *x5c = tk_wa_map_get(att_stmt, "x5c");
	STACK_OF(X509) *certs = NULL;
	int r;

	*trusted = 0;
	if (x5c == NULL) {
		if (exp->roots != NULL)
			return tk_wa_fail(v, TK_WA_ERR_ATT_TRUST, "policy "
			    "requires attestation by a known authenticator "
			    "maker, but the %s statement has no x5c", fmt);
		return 0;
	}
	if (!cbor_isa_array(x5c))
		return tk_wa_fail(v, TK_WA_ERR_ATTOBJ, "x5c is not an array");
	if ((certs = sk_X509_new_null()) == NULL)
		return tk_wa_fail(v, TK_WA_ERR_NOMEM, "out of memory");
	if ((r = x5c_load(x5c, certs, v)) != 0 ||
	    (r = leaf_rules(sk_X509_value(certs, 0), fmt, aaguid, v)) != 0 ||
	    (r = chain_verify(certs, exp, v)) != 0)
		goto out;
	*trusted = exp->roots != NULL;
	r = 0;
out:
	sk_X509_pop_free(certs, X509_free);
	return r;
}
