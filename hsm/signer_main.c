/*
 * twokey-signer: the only twokey program that loads a PKCS#11 module.
 *
 *   twokey-signer --fd N --uri URI [--root-locked] [--no-seccomp]
 *	serve the signer protocol (hsm_int.h) on the inherited socket N;
 *	started by the supervisor of tk_signer_start, never by hand.
 *   twokey-signer --ceremony --uri URI --out DIR
 *	run the key ceremony (hsm_ceremony.h) and write the root certificate
 *	and its fingerprint to DIR.
 *
 * The exit status is 0 or TK_SIGNER_EXIT_BASE - err (hsm_int.h). Core
 * dumps and ptrace by other processes of the same user are disabled,
 * and memory is locked, before the PIN is read; the seccomp filter
 * follows once the token is open (signer_server.c).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twokey/common.h"
#include "twokey/hsm_ceremony.h"
#include "twokey/sandbox.h"
#include "hsm_int.h"

static int
harden(void)
{
	if (tk_sandbox_nodump() != TK_SANDBOX_OK)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int
exit_code(int err)
{
	return err == 0 ? 0 : TK_SIGNER_EXIT_BASE - err;
}

static void
usage(void)
{
	fprintf(stderr, "usage: twokey-signer --fd N --uri URI "
	    "[--root-locked] [--no-seccomp]\n"
	    "       twokey-signer --ceremony --uri URI --out DIR\n");
}

static int
parse_fd(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 3 || v > 1024 ||
	    fcntl((int)v, F_GETFD) < 0)
		return -1;
	return (int)v;
}

int
main(int argc, char **argv)
{
	const char *uri = NULL, *out = NULL;
	int fd = -1, ceremony = 0, root_locked = 0, no_seccomp = 0, i;

	tk_log_set_ident("twokey-signer");
	if (harden() != 0) {
		tk_error("cannot disable core dumps");
		return exit_code(TK_HSM_ERR_SPAWN);
	}
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ceremony") == 0)
			ceremony = 1;
		else if (strcmp(argv[i], "--root-locked") == 0)
			root_locked = 1;
		else if (strcmp(argv[i], "--no-seccomp") == 0)
			no_seccomp = 1;
		else if (strcmp(argv[i], "--fd") == 0 && i + 1 < argc)
			fd = parse_fd(argv[++i]);
		else if (strcmp(argv[i], "--uri") == 0 && i + 1 < argc)
			uri = argv[++i];
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else {
			usage();
			return exit_code(TK_HSM_ERR_INVALID);
		}
	}
	if (uri == NULL || (ceremony ? out == NULL : fd < 0)) {
		usage();
		return exit_code(TK_HSM_ERR_INVALID);
	}
	if (ceremony)
		return exit_code(tk_ceremony_run(uri, out, NULL));
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	(void)tk_sandbox_lock_memory();
	i = exit_code(tk_signer_serve(fd, uri, root_locked, no_seccomp));
	tk_sandbox_before_exit();
	return i;
}
