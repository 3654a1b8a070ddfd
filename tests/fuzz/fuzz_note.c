/*
 * libFuzzer harness: signed-note parsing and verification, and vkey
 * parsing. What parses must format back to the same bytes; what does
 * not says why (fuzz_why.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "twokey/note.h"
#include "fuzz_keys.h"
#include "fuzz_why.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_round_trip(const struct tk_note *n, const uint8_t *data, size_t size)
{
	size_t i, len;
	char *again;

	for (i = 0; i < n->nsigs; i++)
		if (n->sigs[i].sig_len > 4096)
			return;		/* over the formatter's cap */
	if (tk_note_format(n->text, n->text_len, n->sigs, n->nsigs, &again,
	    &len) != 0)
		abort();
	if (len != size || memcmp(again, data, size) != 0)
		abort();
	free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_note_verifier *v = NULL;
	unsigned char verified[FUZZ_NKEYS];
	struct tk_note *n = NULL;
	struct tk_verify_why why;
	int r;

	if ((r = tk_note_verifier_from_vkey_why((const char *)data, size, &v,
	    &why)) == 0)
		tk_note_verifier_free(&v);
	else
		fuzz_check_why(r, &why);
	if ((r = tk_note_parse_why((const char *)data, size, &n,
	    &why)) != 0) {
		fuzz_check_why(r, &why);
		return 0;
	}
	check_round_trip(n, data, size);
	(void)tk_note_verify(n, fuzz_keys(), FUZZ_NKEYS, verified);
	tk_note_free(&n);
	return 0;
}
