/*
 * Client side of the signer process. tk_signer_start forks the
 * supervisor (supervisor.c), which keeps the caller's rights (root, before
 * twokeyd drops them) and fork+execs twokey-signer with one end of a
 * socketpair as fd 3, before this process ever loads a PKCS#11 module;
 * the client waits for the signer's "ready" message. Requests are
 * serialised by a mutex and bounded by a timeout; a signer that times
 * out, dies or answers garbage is killed, reaped and restarted by the
 * supervisor, and the failing call returns the error (it is never retried
 * behind the caller's back, since a signature request must not be
 * silently duplicated). A signer found dead before a request is sent is
 * replaced first: nothing can have been lost then.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ecdsa.h>
#include <openssl/x509.h>

#include "twokey/common.h"
#include "hsm_int.h"
#include "remote_key.h"

#define DEFAULT_TIMEOUT_MS 5000

struct tk_signer;

/* What a tk_signer_evp_pkey key calls back with. */
struct remote_arg {
	struct tk_signer *signer;
	enum tk_key_purpose purpose;
};

struct tk_signer {
	pthread_mutex_t mu;
	struct remote_arg remote_arg[TK_KEY_PURPOSES];
	struct tk_remote_signer remote[TK_KEY_PURPOSES];
	struct tk_supervisor sv;	/* starts, kills and reaps signers */
	struct tk_supervisor_args args;
	int timeout_ms;
	int fd;			/* -1 while no signer runs */
	pid_t pid;		/* the supervisor's child, not ours */
	unsigned int restarts;
	int root_locked;	/* replacements start with --root-locked */
};

/* Kills and reaps the running signer through the supervisor. */
static void
kill_reap(struct tk_signer *s)
{
	int st;

	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->pid <= 0)
		return;
	(void)tk_supervisor_kill(&s->sv, &st);
	s->pid = -1;
}

static int
spawn(struct tk_signer *s)
{
	int r;

	if ((r = tk_supervisor_spawn(&s->sv, s->root_locked, &s->fd,
	    &s->pid)) != 0)
		tk_error("the supervisor could not start a signer: %s",
		    tk_hsm_strerror(r));
	return r;
}

static int
get_status(const uint8_t *b)
{
	uint32_t v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
	int st = v > 0x7fffffffU ? -(int)(~v) - 1 : (int)v;

	if (st != 0 && (st > TK_HSM_ERR_NOMEM || st < TK_HSM_ERR_LAST))
		return TK_HSM_ERR_PROTOCOL;
	return st;
}

/* Reason text sent by the signer, escaped: it is another process. */
static const char *
reason(char *out, size_t cap, const uint8_t *b, size_t len)
{
	return tk_log_escape(out, cap, (const char *)b, len);
}

/* Why a signer that closed the socket before "ready" went away. */
static int
reap_early(struct tk_signer *s)
{
	int st = 0, r = TK_HSM_ERR_SPAWN;

	close(s->fd);
	s->fd = -1;
	(void)tk_supervisor_wait(&s->sv, &st);
	s->pid = -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		tk_error("%s: '%s' could not be executed",
		    tk_hsm_strerror(r), s->args.path);
	else if (WIFEXITED(st))
		tk_error("%s: it exited before it was ready (status %d)",
		    tk_hsm_strerror(r), WEXITSTATUS(st));
	else
		tk_error("%s: killed by signal %d before it was ready",
		    tk_hsm_strerror(r), WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return r;
}

/* Starts a signer and waits for its first message. */
static int
start_locked(struct tk_signer *s)
{
	uint8_t buf[4 + TK_SIGNER_WHY_MAX];
	char why[TK_SIGNER_WHY_MAX];
	size_t len;
	int r;

	if ((r = spawn(s)) != 0)
		return r;
	r = tk_signer_recv(s->fd, buf, sizeof(buf), &len, s->timeout_ms);
	if (r == TK_HSM_ERR_SIGNER_DIED)
		return reap_early(s);
	if (r == 0 && len < 4)
		r = TK_HSM_ERR_PROTOCOL;
	if (r != 0) {
		tk_error("signer did not become ready: %s",
		    tk_hsm_strerror(r));
		kill_reap(s);
		return r;
	}
	if ((r = get_status(buf)) != 0) {
		tk_error("signer failed to start: %s: %s", tk_hsm_strerror(r),
		    reason(why, sizeof(why), buf + 4, len - 4));
		kill_reap(s);
	}
	return r;
}

/* After a failed call: kill the signer and start a fresh one. */
static void
restart_locked(struct tk_signer *s)
{
	kill_reap(s);
	__atomic_add_fetch(&s->restarts, 1, __ATOMIC_RELAXED);
	if (start_locked(s) != 0)
		tk_error("signer restart failed; the next call retries");
}

/*
 * Whether the signer closed its end while idle (it sends nothing
 * unsolicited after "ready"): it died between requests, so no request
 * of ours can be lost, and a fresh one may be started before sending.
 */
static int
died_while_idle(const struct tk_signer *s)
{
	struct pollfd p = { s->fd, POLLIN, 0 };

	return s->fd >= 0 && poll(&p, 1, 0) == 1 &&
	    (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

static int
exchange_locked(struct tk_signer *s, const uint8_t *req, size_t reqlen,
    uint8_t *buf, size_t *len)
{
	char why[TK_SIGNER_WHY_MAX];
	int r;

	if (died_while_idle(s)) {
		tk_warn("the signer ended between requests; starting a new "
		    "one");
		kill_reap(s);
	}
	if (s->fd < 0) {
		__atomic_add_fetch(&s->restarts, 1, __ATOMIC_RELAXED);
		if ((r = start_locked(s)) != 0)
			return r;
	}
	if ((r = tk_signer_send(s->fd, req, reqlen)) == 0)
		r = tk_signer_recv(s->fd, buf, TK_SIGNER_RESP_MAX, len,
		    s->timeout_ms);
	if (r == 0 && *len < 4)
		r = TK_HSM_ERR_PROTOCOL;
	if (r != 0) {
		tk_error("signer request failed: %s; restarting the signer",
		    tk_hsm_strerror(r));
		restart_locked(s);
		return r;
	}
	if ((r = get_status(buf)) != 0) {
		tk_error("signer: %s: %s", tk_hsm_strerror(r),
		    reason(why, sizeof(why), buf + 4, *len - 4));
		/* A token that refuses to sign gets a fresh login. */
		if (r == TK_HSM_ERR_SIGN || r == TK_HSM_ERR_PROTOCOL)
			restart_locked(s);
	}
	return r;
}

/* One request; on success the payload is buf[4 .. *len). */
static int
request(struct tk_signer *s, int op, enum tk_key_purpose purpose,
    const uint8_t *digest, uint8_t *buf, size_t *len)
{
	uint8_t req[2 + 32];
	size_t reqlen = 2;
	int r;

	if (s == NULL || (int)purpose < 0 || purpose >= TK_KEY_PURPOSES)
		return TK_HSM_ERR_INVALID;
	req[0] = (uint8_t)op;
	req[1] = (uint8_t)purpose;
	if (digest != NULL) {
		memcpy(req + 2, digest, 32);
		reqlen += 32;
	}
	if ((r = pthread_mutex_lock(&s->mu)) != 0)
		return TK_HSM_ERR_IO;
	r = exchange_locked(s, req, reqlen, buf, len);
	pthread_mutex_unlock(&s->mu);
	return r;
}

static const char *
signer_path(const struct tk_signer_config *cfg)
{
	const char *p;

	if (cfg->signer_path != NULL)
		return cfg->signer_path;
	if ((p = getenv("TWOKEY_SIGNER_PATH")) != NULL && p[0] != '\0')
		return p;
	return TWOKEY_LIBEXECDIR "/twokey-signer";
}

static int
check_uri(const char *uri)
{
	struct tk_p11_uri *u = NULL;
	char why[TK_SIGNER_WHY_MAX];
	int r;

	if ((r = tk_p11_uri_parse(uri, &u, why, sizeof(why))) != 0) {
		if (r == TK_HSM_ERR_URI)
			tk_error("%s: %s", tk_hsm_strerror(r), why);
		return r;
	}
	if (u->token == NULL || u->module_path == NULL) {
		tk_error("%s: it needs token= and module-path=",
		    tk_hsm_strerror(TK_HSM_ERR_URI));
		r = TK_HSM_ERR_URI;
	}
	tk_p11_uri_free(&u);
	return r;
}

int
tk_signer_start(const struct tk_signer_config *cfg, struct tk_signer **out)
{
	struct tk_signer *s = NULL;
	const char *path;
	int r = TK_HSM_ERR_INVALID;

	if (out == NULL)
		return TK_HSM_ERR_INVALID;
	*out = NULL;
	if (cfg == NULL || (r = check_uri(cfg->uri)) != 0)
		return r == 0 ? TK_HSM_ERR_INVALID : r;
	path = signer_path(cfg);
	if (path[0] != '/') {
		tk_error("%s: the signer path must be absolute",
		    tk_hsm_strerror(TK_HSM_ERR_INVALID));
		return TK_HSM_ERR_INVALID;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TK_HSM_ERR_NOMEM;
	s->fd = -1;
	s->pid = -1;
	s->sv.ctl = -1;
	s->sv.pid = -1;
	s->args.no_seccomp = cfg->no_seccomp;
	s->timeout_ms = cfg->timeout_ms == 0 ? DEFAULT_TIMEOUT_MS :
	    cfg->timeout_ms > 0x7fffffffU ? 0x7fffffff : (int)cfg->timeout_ms;
	if ((s->args.uri = strdup(cfg->uri)) == NULL ||
	    (s->args.path = strdup(path)) == NULL ||
	    pthread_mutex_init(&s->mu, NULL) != 0) {
		free(s->args.uri);
		free(s->args.path);
		free(s);
		return TK_HSM_ERR_NOMEM;
	}
	/* Forked now, while the caller may still be root. */
	if ((r = tk_supervisor_start(&s->sv, &s->args)) != 0 ||
	    (r = start_locked(s)) != 0) {
		tk_signer_free(&s);
		return r;
	}
	*out = s;
	return 0;
}

/*
 * Closing the socket asks the signer to log out and exit; closing the
 * control socket then ends the supervisor once its signer has ended.
 */
void
tk_signer_free(struct tk_signer **sp)
{
	struct tk_signer *s;

	if (sp == NULL || (s = *sp) == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	tk_supervisor_stop(&s->sv);
	pthread_mutex_destroy(&s->mu);
	free(s->args.uri);
	free(s->args.path);
	free(s);
	*sp = NULL;
}

int
tk_signer_sign_digest(struct tk_signer *signer, enum tk_key_purpose purpose,
    const uint8_t digest[32], uint8_t *der, size_t *der_len)
{
	uint8_t buf[TK_SIGNER_RESP_MAX];
	const unsigned char *p;
	ECDSA_SIG *sig;
	size_t len;
	int r;

	if (digest == NULL || der == NULL || der_len == NULL)
		return TK_HSM_ERR_INVALID;
	if ((r = request(signer, TK_SIGNER_OP_SIGN, purpose, digest, buf,
	    &len)) != 0)
		return r;
	p = buf + 4;
	if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)(len - 4))) == NULL ||
	    p != buf + len) {
		ECDSA_SIG_free(sig);
		tk_error("signer returned a malformed signature");
		return TK_HSM_ERR_PROTOCOL;
	}
	ECDSA_SIG_free(sig);
	if (*der_len < len - 4)
		return TK_HSM_ERR_INVALID;
	memcpy(der, buf + 4, len - 4);
	*der_len = len - 4;
	return 0;
}

int
tk_signer_sign_digest_raw(struct tk_signer *signer,
    enum tk_key_purpose purpose, const uint8_t digest[32], uint8_t rs[64])
{
	uint8_t der[80];
	size_t len = sizeof(der);
	const unsigned char *p = der;
	const BIGNUM *r_, *s_;
	ECDSA_SIG *sig;
	int r;

	if (rs == NULL)
		return TK_HSM_ERR_INVALID;
	if ((r = tk_signer_sign_digest(signer, purpose, digest, der,
	    &len)) != 0)
		return r;
	if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL)
		return TK_HSM_ERR_PROTOCOL;
	ECDSA_SIG_get0(sig, &r_, &s_);
	if (BN_bn2binpad(r_, rs, 32) != 32 || BN_bn2binpad(s_, rs + 32,
	    32) != 32)
		r = TK_HSM_ERR_PROTOCOL;
	ECDSA_SIG_free(sig);
	return r;
}

int
tk_signer_public_key(struct tk_signer *signer, enum tk_key_purpose purpose,
    EVP_PKEY **out)
{
	uint8_t buf[TK_SIGNER_RESP_MAX];
	const unsigned char *p = buf + 4;
	size_t len;
	int r;

	if (out == NULL)
		return TK_HSM_ERR_INVALID;
	*out = NULL;
	if ((r = request(signer, TK_SIGNER_OP_PUBKEY, purpose, NULL, buf,
	    &len)) != 0)
		return r;
	if ((*out = d2i_PUBKEY(NULL, &p, (long)(len - 4))) == NULL) {
		tk_error("signer returned a malformed public key");
		return TK_HSM_ERR_PROTOCOL;
	}
	return 0;
}

int
tk_signer_certificate(struct tk_signer *signer, enum tk_key_purpose purpose,
    X509 **out)
{
	uint8_t buf[TK_SIGNER_RESP_MAX];
	const unsigned char *p = buf + 4;
	size_t len;
	int r;

	if (out == NULL)
		return TK_HSM_ERR_INVALID;
	*out = NULL;
	if ((r = request(signer, TK_SIGNER_OP_CERT, purpose, NULL, buf,
	    &len)) != 0)
		return r;
	if ((*out = d2i_X509(NULL, &p, (long)(len - 4))) == NULL) {
		tk_error("signer returned a malformed certificate");
		return TK_HSM_ERR_PROTOCOL;
	}
	return 0;
}

static int
remote_sign(void *arg, const uint8_t *digest, size_t len, uint8_t rs[64])
{
	const struct remote_arg *ra = arg;

	if (len != 32)
		return -1;
	return tk_signer_sign_digest_raw(ra->signer, ra->purpose, digest, rs);
}

int
tk_signer_evp_pkey(struct tk_signer *signer, enum tk_key_purpose purpose,
    EVP_PKEY **out)
{
	EVP_PKEY *pub = NULL;
	int r;

	if (out == NULL)
		return TK_HSM_ERR_INVALID;
	*out = NULL;
	if ((r = tk_signer_public_key(signer, purpose, &pub)) != 0)
		return r;
	signer->remote_arg[purpose].signer = signer;
	signer->remote_arg[purpose].purpose = purpose;
	signer->remote[purpose].sign = remote_sign;
	signer->remote[purpose].arg = &signer->remote_arg[purpose];
	if (tk_remote_key_new(pub, &signer->remote[purpose], out) != 0)
		r = TK_HSM_ERR_NOMEM;
	EVP_PKEY_free(pub);
	return r;
}

unsigned int
tk_signer_restarts(const struct tk_signer *signer)
{
	return signer == NULL ? 0 :
	    __atomic_load_n(&signer->restarts, __ATOMIC_RELAXED);
}

pid_t
tk_signer_pid(struct tk_signer *signer)
{
	pid_t pid;

	if (signer == NULL || pthread_mutex_lock(&signer->mu) != 0)
		return -1;
	pid = signer->pid;
	pthread_mutex_unlock(&signer->mu);
	return pid;
}

int
tk_signer_lock_root(struct tk_signer *signer)
{
	uint8_t buf[TK_SIGNER_RESP_MAX];
	uint8_t req[2] = { TK_SIGNER_OP_LOCK_ROOT, TK_KEY_ROOT };
	size_t len;
	int r;

	if (signer == NULL)
		return TK_HSM_ERR_INVALID;
	if (pthread_mutex_lock(&signer->mu) != 0)
		return TK_HSM_ERR_IO;
	/* Set first: a signer restarted by this very call starts locked. */
	signer->root_locked = 1;
	r = exchange_locked(signer, req, sizeof(req), buf, &len);
	pthread_mutex_unlock(&signer->mu);
	return r;
}
