/*
 * The operating-system side of start-up: the listening socket (bound
 * while still root, so that port 443 works), the state folder, and the
 * drop from root to the dedicated account for good.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/hsm.h"
#include "daemon.h"

int
tk_listen_socket(const struct tk_config *cfg)
{
	struct addrinfo hints, *ai = NULL;
	char port[8];
	int fd = -1, one = 1, e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	snprintf(port, sizeof(port), "%u", (unsigned int)cfg->listen_port);
	if ((e = getaddrinfo(cfg->listen_host, port, &hints, &ai)) != 0) {
		tk_error("listen: %s is not a numeric address: %s",
		    cfg->listen_host, gai_strerror(e));
		return -1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) != 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, 64) != 0) {
		tk_error("listen: cannot listen on %s port %s: %s",
		    cfg->listen_host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

static uid_t chown_uid;
static gid_t chown_gid;

/*
 * Hands the state folder to the service account, except tls/: the TLS key
 * is read while still root and stays root's, so that the process that
 * parses network input cannot read it once it has dropped root.
 */
static int
chown_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	if (flag == FTW_D && ftw->level == 1 &&
	    strcmp(path + ftw->base, "tls") == 0)
		return FTW_SKIP_SUBTREE;
	return lchown(path, chown_uid, chown_gid) == 0 ? FTW_CONTINUE :
	    FTW_STOP;
}

/* The account to run as, when running as root; -2 if unusable. */
static int
account(const struct tk_config *cfg, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	*uid = getuid();
	*gid = getgid();
	if (geteuid() != 0)
		return 0;
	if ((pw = getpwnam(cfg->user)) == NULL) {
		tk_error("user: no account named %s to run as; create it "
		    "(e.g. useradd --system %s)", cfg->user, cfg->user);
		return -2;
	}
	if (pw->pw_uid == 0) {
		tk_error("user: %s is root; name an unprivileged account",
		    cfg->user);
		return -2;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int
tk_state_prepare(const struct tk_config *cfg, uid_t *uid, gid_t *gid)
{
	if (mkdir(cfg->state_dir, 0700) != 0 && errno != EEXIST) {
		tk_error("state_dir: cannot make %s: %s", cfg->state_dir,
		    strerror(errno));
		return -1;
	}
	return account(cfg, uid, gid);
}

/* Given certificate and key files must be readable now, not at bind. */
static int
tls_files_ok(const struct tk_config *cfg)
{
	if (cfg->tls_certificate != NULL &&
	    access(cfg->tls_certificate, R_OK) != 0) {
		tk_error("tls_certificate: %s: %s", cfg->tls_certificate,
		    strerror(errno));
		return -1;
	}
	if (cfg->tls_key != NULL && access(cfg->tls_key, R_OK) != 0) {
		tk_error("tls_key: %s: %s", cfg->tls_key, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The policy as the approvals layer will load it, with its reason named:
 * AAGUIDs, origins and every rule it alone knows.
 */
static int
policy_ok(const struct tk_config *cfg)
{
	struct tk_policy *p = NULL;
	char why[TK_WHY_MAX] = "";

	if (tk_policy_parse(cfg->policy_json, strlen(cfg->policy_json), &p,
	    why, sizeof(why)) != 0) {
		tk_error("policy: %s", why[0] != '\0' ? why : "out of memory");
		return -1;
	}
	tk_policy_free(&p);
	return 0;
}

int
tk_preflight(const struct tk_config *cfg)
{
	struct addrinfo hints, *ai = NULL;
	char why[256];
	uid_t uid;
	gid_t gid;
	int e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((e = getaddrinfo(cfg->listen_host, "1", &hints, &ai)) != 0) {
		tk_error("listen: %s is not a numeric address: %s",
		    cfg->listen_host, gai_strerror(e));
		return -1;
	}
	freeaddrinfo(ai);
	if (tk_hsm_uri_check(cfg->pkcs11_uri, why, sizeof(why)) != TK_HSM_OK) {
		tk_error("pkcs11_uri: %s", why);
		return -1;
	}
	if (cfg->signer_path != NULL && access(cfg->signer_path, X_OK) != 0) {
		tk_error("signer_path: %s is not an executable program: %s",
		    cfg->signer_path, strerror(errno));
		return -1;
	}
	if (tls_files_ok(cfg) != 0 || policy_ok(cfg) != 0)
		return -1;
	if (cfg->max_connections_per_address >= cfg->max_connections)
		tk_warn("max_connections_per_address (%u) is not below "
		    "max_connections (%u): one address can take every "
		    "connection", cfg->max_connections_per_address,
		    cfg->max_connections);
	/* Only a warning: without pages, twokeyd still serves the API. */
	if (access(cfg->web_root, R_OK | X_OK) != 0)
		tk_warn("web_root: %s cannot be read (%s): only the API will "
		    "be served, no pages", cfg->web_root, strerror(errno));
	return account(cfg, &uid, &gid) == 0 ? 0 : -1;
}

int
tk_state_handover(const struct tk_config *cfg, uid_t uid, gid_t gid)
{
	if (geteuid() != 0)
		return 0;
	chown_uid = uid;
	chown_gid = gid;
	if (nftw(cfg->state_dir, chown_one, 16,
	    FTW_PHYS | FTW_ACTIONRETVAL) != 0) {
		tk_error("state_dir: cannot hand %s to %s: %s",
		    cfg->state_dir, cfg->user, strerror(errno));
		return -1;
	}
	return 0;
}

int
tk_state_lock(const struct tk_config *cfg, int *busy)
{
	char path[4200];
	int fd;

	*busy = 0;
	snprintf(path, sizeof(path), "%s/lock", cfg->state_dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) < 0) {
		tk_error("state_dir: cannot open %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		*busy = errno == EWOULDBLOCK;
		tk_error("state_dir: %s is in use by another twokeyd (or a "
		    "bootstrap): %s", cfg->state_dir, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int
tk_drop_privileges(uid_t uid, gid_t gid)
{
	if (geteuid() != 0)
		return 0;
	if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0) {
		tk_error("cannot drop root: %s", strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 || seteuid(0) == 0) {
		tk_error("dropped root but could get it back; stopping");
		return -1;
	}
	tk_info("running as uid %u gid %u", (unsigned int)uid,
	    (unsigned int)gid);
	return 0;
}
