/*
 * libFuzzer harness: checkpoint text parsing. What parses must format
 * back to the same bytes (one encoding per checkpoint).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "twokey/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_checkpoint *cp = NULL;
	size_t len;
	char *again;

	if (tk_checkpoint_parse((const char *)data, size, &cp) != 0)
		return 0;
	if (tk_checkpoint_format(cp, &again, &len) != 0 || len != size ||
	    memcmp(again, data, size) != 0)
		abort();
	free(again);
	tk_checkpoint_free(&cp);
	return 0;
}
