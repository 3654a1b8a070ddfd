/* Internal: the checker state shared by export_verify.c and
 * export_entries.c. */
#ifndef TWOKEY_EXPORT_CHECK_H
#define TWOKEY_EXPORT_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "twokey/merkle.h"
#include "twokey/note.h"

struct tk_export_cp {
	uint64_t size;
	tk_merkle_hash root;
};

struct tk_export_checker {
	struct tk_note_verifier *ver;	/* the audit certificate's key */
	struct tk_export_cp *cps;	/* verified, same order as notes */
	size_t ncps;
	int has_since;
	uint64_t since_size;
	tk_merkle_hash since_root;
	char signer[256];
	char key_id[9];
};

#endif
