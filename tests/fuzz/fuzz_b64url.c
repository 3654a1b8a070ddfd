/* libFuzzer harness: base64url decoding of untrusted strings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "twokey/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out = NULL;
	size_t outlen = 0;
	char *again;

	if (tk_b64url_decode((const char *)data, size, &out, &outlen) != 0)
		return 0;
	/* What decodes must encode back to exactly the input. */
	again = tk_b64url_encode(out, outlen);
	if (again == NULL || strlen(again) != size ||
	    memcmp(again, data, size) != 0)
		abort();
	free(again);
	free(out);
	return 0;
}
