/*
 * The twokey command-line client (firmware-host/cli*.c). The program's
 * main() is tk_cli_main with no environment; tests call it in their own
 * process to hand it a software security key's I/O functions, so that
 * libfido2's real client code runs against it. docs/twokey.1 describes
 * the commands, the settings and the exit codes.
 */
#ifndef TWOKEY_CLI_H
#define TWOKEY_CLI_H

#include <stdio.h>

#include <fido.h>

/* Exit codes, the table in docs/twokey.1. */
enum tk_cli_exit {
	TK_CLI_OK = 0,
	TK_CLI_EINTERNAL = 1,	/* out of memory, unexpected answer */
	TK_CLI_EUSAGE = 2,	/* bad command, option or argument */
	TK_CLI_EREFUSED = 3,	/* the server refused (its code shown) */
	TK_CLI_EAUTH = 4,	/* not signed in: sign-in or key refused */
	TK_CLI_ECONNECT = 5,	/* unreachable, or not the pinned server */
	TK_CLI_EKEY = 6,	/* security key absent, failed or refused */
	TK_CLI_EFILE = 7,	/* a local file (settings, CA, key, output) */
	TK_CLI_ETOKEN = 8,	/* init: key ceremony or bootstrap failed */
	TK_CLI_EDRIFT = 9,	/* policy: the file differs from the approved */
};

struct tk_cli_env {
	FILE			*out;		/* NULL: stdout */
	FILE			*err;		/* NULL: stderr */
	FILE			*in;		/* NULL: stdin */
	/* A security key reached through these instead of USB HID. */
	const fido_dev_io_t	*fido_io;
	const char		*fido_path;
};

/* Runs one twokey command line; returns an enum tk_cli_exit value. */
int tk_cli_main(int argc, char **argv, const struct tk_cli_env *env);

#endif
