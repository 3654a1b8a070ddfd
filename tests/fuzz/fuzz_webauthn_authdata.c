/*
 * libFuzzer harness: the strict CBOR side of WebAuthn. The first byte
 * picks the parser: 0 attestationObject (then its authenticator data and
 * credential key), 1 assertion authenticator data, 2 registration
 * authenticator data, 3 a COSE public key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../approvals/webauthn_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_authdata(const uint8_t *p, size_t n, int attested)
{
	struct tk_wa_authdata ad;
	struct tk_wa_cose k;

	if (tk_wa_authdata_parse(p, n, attested, &ad, NULL) != 0)
		return;
	/* What parses must lie inside the input. */
	if (attested && (ad.cred_id < p || ad.cose_key + ad.cose_key_len >
	    p + n || ad.cred_id_len == 0 ||
	    ad.cred_id_len > TK_WA_CRED_ID_MAX))
		abort();
	if (attested)
		(void)tk_wa_cose_parse(ad.cose_key, ad.cose_key_len, &k,
		    NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_wa_attobj ao;
	struct tk_wa_cose k;

	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		if (tk_wa_attobj_split(data + 1, size - 1, &ao, NULL) != 0)
			return 0;
		if (ao.auth_data < data + 1 || ao.auth_data + ao.auth_data_len >
		    data + size || ao.att_stmt + ao.att_stmt_len > data + size)
			abort();
		check_authdata(ao.auth_data, ao.auth_data_len, 1);
		break;
	case 1:
		check_authdata(data + 1, size - 1, 0);
		break;
	case 2:
		check_authdata(data + 1, size - 1, 1);
		break;
	default:
		(void)tk_wa_cose_parse(data + 1, size - 1, &k, NULL);
		break;
	}
	return 0;
}
