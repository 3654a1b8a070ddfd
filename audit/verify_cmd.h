/*
 * twokey-verify's command table and the helpers its commands share:
 * exit codes, reading input files, loading trusted keys, and the one-line
 * failure report. A command that needs more than libtwokey-verify (the
 * journal export check, for instance) lives in its own file, declares its
 * function here and adds one row to the table in verify_main.c.
 */
#ifndef TWOKEY_AUDIT_VERIFY_CMD_H
#define TWOKEY_AUDIT_VERIFY_CMD_H

#include <stddef.h>
#include <stdint.h>

#include "twokey/note.h"

/*
 * Exit codes, one meaning across all commands, printed as one table by
 * --help (exit_codes in verify_main.c) that the README copies. Never
 * reuse one for another cause.
 */
enum verify_exit {
	VX_OK = 0,		/* everything checked holds */
	VX_SIGNATURE = 1,	/* no trusted signature, one failed, origin */
	VX_USAGE = 2,		/* bad command line */
	VX_IO = 3,		/* a file cannot be read or is too big */
	VX_MALFORMED = 4,	/* an input file does not parse */
	VX_KEY = 5,		/* no usable --key or --root, or a signer */
				/* certificate not under the root */
	VX_PROOF = 6,		/* entry not proven, log or journal broken */
	VX_INTERNAL = 7,	/* out of memory, cryptographic library */
	VX_MANIFEST = 8,	/* pack: a file changed, extra or missing */
	VX_APPROVAL = 9,	/* pack: an approval does not verify */
	VX_QUORUM = 10,		/* pack: a grant lacks its approvers */
};

struct verify_cmd {
	const char *name;
	int (*run)(int argc, char **argv);	/* argv[0] is the name */
	const char *usage;			/* arguments after the name */
	const char *help;	/* what it checks, lines ending in \n */
	int takes_keys;		/* 1: --key KEY, explained in --help */
};

int verify_cmd_note(int argc, char **argv);
int verify_cmd_proof(int argc, char **argv);
/* audit/verify_log.c (journal exports, export.h) */
int verify_cmd_log(int argc, char **argv);
/* audit/verify_pack.c (evidence packs, packcheck.h) */
int verify_cmd_pack(int argc, char **argv);

/*
 * Prints "twokey-verify: CMD: message" on one line to stderr and returns
 * code, so callers write `return verify_fail(...)`. Callers escape what
 * they quote from files or the command line (tk_log_escape).
 * (verify_report.c, in the library with the log and pack commands.)
 */
int verify_fail(int code, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Reads the PEM root certificate given with --root into *out (caller
 * frees): VX_IO when the file cannot be read, VX_KEY when it holds no
 * PEM certificate, reported for cmd.
 */
int verify_load_root(const char *cmd, const char *path, X509 **out);

/* Exit code for a library error (enum tk_verify_err). */
int verify_exit_for(int err);

/*
 * Reads a whole regular file of at most max bytes (NUL-terminated; caller
 * frees). On failure reports it for cmd with what (e.g. "note") and
 * returns the exit code.
 */
int verify_read(const char *cmd, const char *what, const char *path,
    size_t max, uint8_t **out, size_t *len);

/*
 * Trusted keys given with --key: a vkey string, or a file holding a vkey
 * or a PEM public key (P-256 or Ed25519). A PEM key carries no name: it
 * takes `name` if given, else the name on the note's signature line whose
 * key ID is the key's (the key itself is what is pinned).
 */
#define VERIFY_MAX_KEYS 16
struct verify_keys {
	const char *spec[VERIFY_MAX_KEYS];
	size_t nspec;
	struct tk_note_verifier *v[VERIFY_MAX_KEYS];
	size_t n;
};

int verify_keys_load(const char *cmd, struct verify_keys *k,
    const struct tk_note *note, const char *name);
void verify_keys_clear(struct verify_keys *k);

#endif
