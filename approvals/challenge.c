/*
 * Approval challenges: derived from the request digest, the decision and
 * a fresh nonce (see approvals.h), so that a security key signs exactly
 * one decision on one request and an auditor can recompute what it signed.
 */
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "internal.h"

static const char domain[] = "twokey-approval-v1";

int
tk_challenge_derive(enum tk_decision decision,
    const uint8_t digest[TK_DIGEST_LEN], const uint8_t nonce[TK_NONCE_LEN],
    uint8_t challenge[TK_CHALLENGE_LEN])
{
	EVP_MD_CTX *md = NULL;
	unsigned int len = 0;
	uint8_t d;
	int rc = TK_APR_ERR_INVALID;

	if (decision != TK_DECIDE_APPROVE && decision != TK_DECIDE_REJECT)
		goto out;
	d = (uint8_t)decision;
	rc = TK_APR_ERR_NOMEM;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(md, domain, sizeof(domain) - 1) != 1 ||
	    EVP_DigestUpdate(md, &d, 1) != 1 ||
	    EVP_DigestUpdate(md, digest, TK_DIGEST_LEN) != 1 ||
	    EVP_DigestUpdate(md, nonce, TK_NONCE_LEN) != 1 ||
	    EVP_DigestFinal_ex(md, challenge, &len) != 1 ||
	    len != TK_CHALLENGE_LEN)
		goto out;
	rc = TK_APR_OK;
out:
	EVP_MD_CTX_free(md);
	return rc;
}

int
tk_challenge_from_client_data(const uint8_t *cdj, size_t len,
    uint8_t challenge[TK_CHALLENGE_LEN])
{
	json_t *root = NULL;
	const char *s;
	uint8_t *raw = NULL;
	size_t rawlen = 0;
	int rc = TK_APR_ERR_INVALID, nomem = 0;

	if (cdj == NULL || len == 0 || len > TK_JSON_MAX)
		goto out;
	if ((root = tk_json_loadb((const char *)cdj, len,
	    JSON_REJECT_DUPLICATES, NULL, &nomem)) == NULL ||
	    !json_is_object(root)) {
		if (nomem)
			rc = TK_APR_ERR_NOMEM;
		goto out;
	}
	if ((s = json_string_value(json_object_get(root, "challenge"))) ==
	    NULL)
		goto out;
	if ((nomem = tk_b64url_decode(s, strlen(s), &raw, &rawlen)) != 0 ||
	    rawlen != TK_CHALLENGE_LEN) {
		if (nomem == TK_ERR_NOMEM)
			rc = TK_APR_ERR_NOMEM;
		goto out;
	}
	memcpy(challenge, raw, TK_CHALLENGE_LEN);
	rc = TK_APR_OK;
out:
	free(raw);
	json_decref(root);
	return rc;
}
