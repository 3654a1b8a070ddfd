/*
 * libFuzzer harness: checkpoint text parsing. What parses must format
 * back to the same bytes (one encoding per checkpoint); what does not
 * says why (fuzz_why.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "twokey/checkpoint.h"
#include "fuzz_why.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_checkpoint *cp = NULL;
	struct tk_verify_why why;
	size_t len;
	char *again;
	int r;

	if ((r = tk_checkpoint_parse_why((const char *)data, size, &cp,
	    &why)) != 0) {
		fuzz_check_why(r, &why);
		return 0;
	}
	if (tk_checkpoint_format(cp, &again, &len) != 0 || len != size ||
	    memcmp(again, data, size) != 0)
		abort();
	free(again);
	tk_checkpoint_free(&cp);
	return 0;
}
