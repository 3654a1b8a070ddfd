/*
 * libFuzzer harness: clientDataJSON checks. The first byte picks the
 * ceremony type; the rest is the untrusted JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../approvals/webauthn_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t challenge[32] = "twokey-fuzz-challenge-0123456789";
static const char *const origins[] = { "https://approvals.example",
    "https://approvals.example:8443" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_webauthn_expect exp;
	struct tk_webauthn_verdict v;
	int r;

	if (size < 1)
		return 0;
	memset(&exp, 0, sizeof(exp));
	exp.rp_id = "approvals.example";
	exp.origins = origins;
	exp.n_origins = 2;
	exp.challenge = challenge;
	exp.challenge_len = sizeof(challenge);
	r = tk_wa_clientdata_check(data + 1, size - 1, (data[0] & 1) ?
	    "webauthn.get" : "webauthn.create", &exp, &v);
	/* A refusal always names a check and says what was seen. */
	if (r != 0 && (v.code != r || v.detail[0] == '\0' ||
	    memchr(v.detail, '\0', sizeof(v.detail)) == NULL))
		abort();
	return 0;
}
