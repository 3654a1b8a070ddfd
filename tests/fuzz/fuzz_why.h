/*
 * What the parsers' *_why variants promise (verify.h), checked on every
 * input a harness refuses: a refusal for bad input (malformed, too big,
 * a bad key) names its cause, in printable ASCII only, so that
 * twokey-verify can print it as it is.
 */
#ifndef TWOKEY_FUZZ_WHY_H
#define TWOKEY_FUZZ_WHY_H

#include <stdlib.h>

#include "twokey/verify.h"

static void
fuzz_check_why(int err, const struct tk_verify_why *why)
{
	const char *p;

	if ((err == TK_VERIFY_ERR_MALFORMED || err == TK_VERIFY_ERR_TOOBIG ||
	    err == TK_VERIFY_ERR_KEY || err == TK_VERIFY_ERR_UNSUPPORTED) &&
	    why->text[0] == '\0')
		abort();
	for (p = why->text; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			abort();
}

#endif
