/*
 * Starting the key ceremony from a program that must not load the module
 * itself: fork+exec `twokey-signer --ceremony` and map its exit status
 * back to a tk_hsm_err code.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "twokey/common.h"
#include "twokey/hsm_ceremony.h"
#include "hsm_int.h"

int
tk_ceremony_spawn(const char *signer_path, const char *uri,
    const char *out_dir)
{
	const char *path = signer_path;
	char *argv[] = { NULL, (char *)(uintptr_t)"--ceremony",
	    (char *)(uintptr_t)"--uri", (char *)(uintptr_t)uri,
	    (char *)(uintptr_t)"--out", (char *)(uintptr_t)out_dir, NULL };
	pid_t pid;
	int st = 0, code;

	if (uri == NULL || out_dir == NULL)
		return TK_HSM_ERR_INVALID;
	if (path == NULL && ((path = getenv("TWOKEY_SIGNER_PATH")) == NULL ||
	    path[0] == '\0'))
		path = TWOKEY_LIBEXECDIR "/twokey-signer";
	argv[0] = (char *)(uintptr_t)path;
	if ((pid = fork()) < 0)
		return TK_HSM_ERR_SPAWN;
	if (pid == 0) {
		execv(path, argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return TK_HSM_ERR_SPAWN;
	if (!WIFEXITED(st)) {
		tk_error("key ceremony killed by signal %d",
		    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
		return TK_HSM_ERR_SIGNER_DIED;
	}
	code = WEXITSTATUS(st);
	if (code == 0)
		return 0;
	code = TK_SIGNER_EXIT_BASE - code;
	if (code > TK_HSM_ERR_NOMEM || code < TK_HSM_ERR_INVALID) {
		tk_error("key ceremony program '%s' failed (status %d)", path,
		    WEXITSTATUS(st));
		return TK_HSM_ERR_SPAWN;
	}
	return code;
}
