/*
 * libFuzzer harness: c2sp.org/tlog-proof parsing and full verification
 * (checkpoint signature, then inclusion of a fixed entry). What parses
 * must format back to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "twokey/tlogproof.h"
#include "fuzz_keys.h"
#include "fuzz_why.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_tlog_proof *p = NULL;
	struct tk_checkpoint *cp = NULL;
	struct tk_verify_why why;
	size_t len;
	char *again;
	int r;

	if ((r = tk_tlog_proof_parse_why((const char *)data, size, &p,
	    &why)) != 0) {
		fuzz_check_why(r, &why);
		return 0;
	}
	if (tk_tlog_proof_format(p, &again, &len) != 0 || len != size ||
	    memcmp(again, data, size) != 0)
		abort();
	free(again);
	/* The seeds prove entries "e0", "e2" and "e4". */
	(void)tk_tlog_proof_verify(p, "e2", 2, fuzz_keys(), FUZZ_NKEYS, NULL,
	    &cp);
	tk_checkpoint_free(&cp);
	tk_tlog_proof_free(&p);
	return 0;
}
