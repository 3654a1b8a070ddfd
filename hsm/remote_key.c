/*
 * EC_KEY_METHOD sign callbacks that forward the digest to a callback, the
 * way libp11 plugs token keys into OpenSSL. The EC_KEY API is deprecated in
 * OpenSSL 3 and confined to this file; a provider would replace it.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <pthread.h>
#include <stdlib.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>

#include "twokey/common.h"
#include "remote_key.h"

static EC_KEY_METHOD *remote_method;
static int remote_index = -1;
static pthread_once_t remote_once = PTHREAD_ONCE_INIT;

static ECDSA_SIG *
remote_sign_sig(const unsigned char *dgst, int dlen, const BIGNUM *kinv,
    const BIGNUM *rp, EC_KEY *ec)
{
	const struct tk_remote_signer *rk = EC_KEY_get_ex_data(ec,
	    remote_index);
	uint8_t rs[64];
	BIGNUM *r = NULL, *s = NULL;
	ECDSA_SIG *sig = NULL;

	(void)kinv;
	(void)rp;
	if (rk == NULL || dlen <= 0 || rk->sign(rk->arg, dgst, (size_t)dlen,
	    rs) != 0)
		return NULL;
	if ((r = BN_bin2bn(rs, 32, NULL)) == NULL ||
	    (s = BN_bin2bn(rs + 32, 32, NULL)) == NULL ||
	    (sig = ECDSA_SIG_new()) == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(sig);
		return NULL;
	}
	return sig;
}

static int
remote_sign(int type, const unsigned char *dgst, int dlen,
    unsigned char *out, unsigned int *outlen, const BIGNUM *kinv,
    const BIGNUM *r, EC_KEY *ec)
{
	ECDSA_SIG *sig;
	int n;

	(void)type;
	if ((sig = remote_sign_sig(dgst, dlen, kinv, r, ec)) == NULL)
		return 0;
	n = i2d_ECDSA_SIG(sig, &out);
	ECDSA_SIG_free(sig);
	if (n <= 0)
		return 0;
	*outlen = (unsigned int)n;
	return 1;
}

static void
remote_init(void)
{
	remote_index = EC_KEY_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if ((remote_method = EC_KEY_METHOD_new(EC_KEY_OpenSSL())) != NULL)
		EC_KEY_METHOD_set_sign(remote_method, remote_sign, NULL,
		    remote_sign_sig);
}

int
tk_remote_key_new(EVP_PKEY *pub, const struct tk_remote_signer *rs,
    EVP_PKEY **out)
{
	EC_KEY *ec = NULL;
	EVP_PKEY *pk = NULL;
	int r = -1;

	*out = NULL;
	if (pthread_once(&remote_once, remote_init) != 0 ||
	    remote_method == NULL || remote_index < 0 || rs == NULL)
		return -1;
	if ((ec = EVP_PKEY_get1_EC_KEY(pub)) == NULL ||
	    EC_KEY_set_method(ec, remote_method) != 1 ||
	    EC_KEY_set_ex_data(ec, remote_index,
	    (void *)(uintptr_t)rs) != 1)
		goto out;
	if ((pk = EVP_PKEY_new()) == NULL || EVP_PKEY_set1_EC_KEY(pk, ec) != 1)
		goto out;
	*out = pk;
	pk = NULL;
	r = 0;
out:
	EC_KEY_free(ec);
	EVP_PKEY_free(pk);
	return r;
}
