/*
 * Verifier keys the signed-note and tlog-proof harnesses trust. The seed
 * corpora hold notes these keys signed when the seeds were made; the
 * private halves were discarded.
 */
#ifndef TWOKEY_FUZZ_KEYS_H
#define TWOKEY_FUZZ_KEYS_H

#include <stddef.h>
#include <string.h>

#include "twokey/note.h"

static const char *const fuzz_vkeys[] = {
	"fuzz.example/log+16471e57+AjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABKXB"
	"op1jUqphQ2CRhjD6PdCVj/SpHI+C7Pe8SaUwgp5015YpCAORrBjEtEe6E+IKHZS1ds6"
	"lELEdysylIKAx874=",
	"fuzz.example/log+1bb422fc+AV4lhkVFLEm1HLM1ZL7NGkNX5gwS5SMrxvl+zufmV"
	"NuP",
};
#define FUZZ_NKEYS (sizeof(fuzz_vkeys) / sizeof(fuzz_vkeys[0]))

/* Parsed once per process; aborts if the embedded keys stop parsing. */
static struct tk_note_verifier *const *
fuzz_keys(void)
{
	static struct tk_note_verifier *keys[FUZZ_NKEYS];
	static int done;
	size_t i;

	if (!done) {
		for (i = 0; i < FUZZ_NKEYS; i++)
			if (tk_note_verifier_from_vkey(fuzz_vkeys[i],
			    strlen(fuzz_vkeys[i]), &keys[i]) != 0)
				abort();
		done = 1;
	}
	return keys;
}

#endif
