/*
 * twokeyd: the appliance process. Start-up order matters and is fixed:
 * configuration (refused with exit 78 and the setting named), the state
 * folder, the TLS material and the listening socket while still root,
 * then the drop to the dedicated account, then the HTTPS server, then
 * readiness to systemd. Signals are taken synchronously in the main
 * thread: SIGTERM and SIGINT stop after requests in flight finish; SIGHUP
 * reloads the policy and reports a change.
 *
 * The signer process starts first of all, before anything could load a
 * PKCS#11 module into this process, and it keeps root's rights (it reads
 * the PIN file); this process drops them once the journal and the store
 * are open and the socket is bound.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "twokey/common.h"
#include "twokey/config.h"
#include "twokey/hsm.h"
#include "twokey/sandbox.h"
#include "twokey/web.h"
#include "daemon.h"

#define DEFAULT_CONFIG "/etc/twokey/twokeyd.conf"

struct daemon {
	const char *config_path;
	struct tk_config *cfg;
	struct tk_web *web;
	struct tk_signer *signer;
	struct tk_backend *backend;
	struct tk_web_pages *pages;
	uid_t uid;
	gid_t gid;
	int lock_fd;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: twokeyd [-t] [-c config] "
	    "[--bootstrap NAME:TEAM,...]\n"
	    "  -c config  configuration file (default " DEFAULT_CONFIG ")\n"
	    "  -t         check the configuration and exit\n"
	    "  --version  print the version and exit\n"
	    "  --help     print this and exit\n"
	    "  --bootstrap NAME:TEAM,NAME:TEAM,...\n"
	    "             first enrollment, daemon stopped: one-time "
	    "invitations\n"
	    "             for an admin+approver (first) and approvers; "
	    "refused once\n"
	    "             any approver or admin is enrolled\n");
}

static int
load_config(const char *path, struct tk_config **cfg)
{
	char err[512];

	if (tk_config_load(path, cfg, err, sizeof(err)) != TK_CFG_OK) {
		tk_error("configuration refused: %s", err);
		return -1;
	}
	return 0;
}

static void
reload(struct daemon *d)
{
	struct tk_config *n = NULL;

	tk_info("SIGHUP: reloading the policy from the configuration file");
	if (load_config(d->config_path, &n) != 0) {
		tk_error("keeping the running policy");
		return;
	}
	if (strcmp(n->policy_json, d->cfg->policy_json) == 0)
		tk_info("policy unchanged");
	else if (tk_backend_set_policy(d->backend, n->policy_json) != 0)
		tk_error("keeping the running policy");
	else {
		free(d->cfg->policy_json);
		d->cfg->policy_json = n->policy_json;
		n->policy_json = NULL;
	}
	tk_config_free(&n);
}

static int
start_web(struct daemon *d, int fd, char *cert, char *key)
{
	struct tk_web_config wc;
	int r;

	memset(&wc, 0, sizeof(wc));
	wc.backend = tk_backend_web(d->backend);
	wc.listen_fd = fd;
	wc.cert_pem = cert;
	wc.key_pem = key;
	wc.max_body_bytes = d->cfg->max_body_bytes;
	wc.max_connections = d->cfg->max_connections;
	wc.max_connections_per_address = d->cfg->max_connections_per_address;
	wc.request_timeout = d->cfg->request_timeout;
	wc.rate_limit_per_minute = d->cfg->rate_limit_per_minute;
	wc.rp_id = d->cfg->rp_id;
	wc.challenge_ttl = 300;
	wc.session_ttl = d->cfg->session_ttl;
	wc.scratch_dir = d->cfg->state_dir;
	wc.origins = (const char *const *)d->cfg->origins;
	wc.norigins = d->cfg->norigins;
	wc.pages = d->pages;
	if ((r = tk_web_start(&wc, &d->web)) != TK_WEB_OK) {
		tk_error("HTTPS server: %s", tk_web_strerror(r));
		return -1;
	}
	return 0;
}

/* Errors that a corrected configuration or token set-up would fix. */
static int
signer_exit_code(int r)
{
	switch (r) {
	case TK_HSM_ERR_URI:
	case TK_HSM_ERR_MODULE:
	case TK_HSM_ERR_NO_TOKEN:
	case TK_HSM_ERR_PIN:
	case TK_HSM_ERR_LOCKED:
	case TK_HSM_ERR_PIN_SOURCE:
	case TK_HSM_ERR_NO_KEY:
		return TK_EXIT_CONFIG;
	default:
		return TK_EXIT_SOFTWARE;
	}
}

static int
start_signer(struct daemon *d)
{
	struct tk_signer_config sc;
	int r;

	memset(&sc, 0, sizeof(sc));
	sc.uri = d->cfg->pkcs11_uri;
	sc.signer_path = d->cfg->signer_path;
	sc.no_seccomp = !d->cfg->seccomp;
	sc.timeout_ms = d->cfg->signer_timeout * 1000;
	if ((r = tk_signer_start(&sc, &d->signer)) != TK_HSM_OK) {
		tk_error("pkcs11_uri: the signer could not start: %s",
		    tk_hsm_strerror(r));
		return signer_exit_code(r);
	}
	tk_info("signer started; token keys found");
	return 0;
}

/*
 * The last step of start-up: from here on this process only serves. The
 * filter can be turned off for debugging only, and then every start says
 * so where operators look.
 */
static int
sandbox(struct daemon *d)
{
	int r;

	if (!d->cfg->seccomp) {
		tk_warn("seccomp is OFF (\"seccomp\": false): twokeyd and the "
		    "signer run without their system-call filters; this is "
		    "a debugging aid, never for production");
		return 0;
	}
	if ((r = tk_sandbox_twokeyd()) != TK_SANDBOX_OK) {
		tk_error("sandbox: %s", tk_sandbox_strerror(r));
		return TK_EXIT_OSERR;
	}
	return 0;
}

/* Everything up to serving; returns 0 or an exit code. */
static int
startup(struct daemon *d)
{
	char *cert = NULL, *key = NULL;
	size_t key_len = 0;
	int fd = -1, r, code = TK_EXIT_OSERR;

	if (tk_preflight(d->cfg) != 0) {
		code = TK_EXIT_CONFIG;
		goto out;
	}
	if ((code = start_signer(d)) != 0)
		goto out;
	code = TK_EXIT_OSERR;
	if ((r = tk_state_prepare(d->cfg, &d->uid, &d->gid)) != 0) {
		code = r == -2 ? TK_EXIT_CONFIG : TK_EXIT_OSERR;
		goto out;
	}
	if ((d->lock_fd = tk_state_lock(d->cfg, &r)) < 0) {
		code = r ? TK_EXIT_TEMPFAIL : TK_EXIT_OSERR;
		goto out;
	}
	if (tk_tls_load(d->cfg, d->signer, &cert, &key, &key_len) != 0) {
		code = TK_EXIT_CONFIG;
		goto out;
	}
	/* The TLS certificate was the root key's last job until restart. */
	if ((r = tk_signer_lock_root(d->signer)) != TK_HSM_OK) {
		tk_error("could not lock the root key: %s",
		    tk_hsm_strerror(r));
		goto out;
	}
	if ((code = tk_backend_open(d->cfg, d->signer, &d->backend)) != 0)
		goto out;
	code = TK_EXIT_OSERR;
	/* Read while root may still read them; served from memory. */
	if (tk_web_pages_load(d->cfg->web_root, &d->pages) != TK_WEB_OK)
		goto out;
	if ((fd = tk_listen_socket(d->cfg)) < 0 ||
	    tk_state_handover(d->cfg, d->uid, d->gid) != 0 ||
	    tk_drop_privileges(d->uid, d->gid) != 0)
		goto out;
	if (start_web(d, fd, cert, key) != 0) {
		code = TK_EXIT_SOFTWARE;
		goto out;
	}
	fd = -1;
	if ((code = sandbox(d)) != 0)
		goto out;
out:
	if (fd >= 0)
		close(fd);
	free(cert);
	tk_secret_free(key, key_len);
	return code;
}

/*
 * twokeyd --bootstrap: the state opened as start-up opens it, the
 * invitations made, the state handed to the service account, and exit.
 */
static int
bootstrap(struct daemon *d, const char *list)
{
	struct tk_web_invitee *people = NULL;
	size_t n = 0;
	int r, code;

	if (tk_bootstrap_parse(list, &people, &n) != 0)
		return TK_EXIT_USAGE;
	if ((code = start_signer(d)) != 0)
		goto out;
	code = TK_EXIT_OSERR;
	if ((r = tk_state_prepare(d->cfg, &d->uid, &d->gid)) != 0) {
		code = r == -2 ? TK_EXIT_CONFIG : TK_EXIT_OSERR;
		goto out;
	}
	if ((d->lock_fd = tk_state_lock(d->cfg, &r)) < 0) {
		if (r)
			tk_error("stop twokeyd before the bootstrap");
		code = r ? TK_EXIT_TEMPFAIL : TK_EXIT_OSERR;
		goto out;
	}
	if ((code = tk_backend_open_state(d->cfg, d->signer,
	    &d->backend)) != 0)
		goto out;
	code = tk_bootstrap_issue(d->cfg, d->backend, people, n);
	tk_backend_free(&d->backend);
	/* Files made here as root must be the service account's. */
	if (tk_state_handover(d->cfg, d->uid, d->gid) != 0 && code == 0)
		code = TK_EXIT_OSERR;
out:
	free(people);
	return code;
}

/* Half the systemd watchdog interval in seconds; 0 when there is none. */
static unsigned int
watchdog_period(const struct tk_config *cfg)
{
	uint64_t usec = tk_watchdog_usec();

	if (usec >= 2000000)
		return (unsigned int)(usec / 2000000);
	if (usec > 0)
		return 1;
	return cfg->watchdog_interval;
}

/* Expires what is due when the expiry interval has passed since *next. */
static void
housekeeping(struct daemon *d, time_t *next)
{
	time_t now = time(NULL);
	int n;

	if (now < *next)
		return;
	*next = now + (time_t)d->cfg->expiry_interval;
	if ((n = tk_backend_expire(d->backend)) < 0)
		tk_warn("expiring pending requests failed; retried in %u s",
		    d->cfg->expiry_interval);
	else if (n > 0)
		tk_info("%d pending request(s) expired", n);
}

/* The main loop's wake-up: the watchdog's period or the expiry's. */
static unsigned int
tick(const struct daemon *d, unsigned int period)
{
	if (period > 0 && period < d->cfg->expiry_interval)
		return period;
	return d->cfg->expiry_interval;
}

static int
serve(struct daemon *d, const sigset_t *sigs)
{
	unsigned int period = watchdog_period(d->cfg);
	time_t next = 0;
	struct timespec ts;
	int sig;

	tk_web_set_ready(d->web, 1);
	tk_notify("READY=1\nSTATUS=serving");
	tk_info("serving https on %s port %u", d->cfg->listen_host,
	    (unsigned int)d->cfg->listen_port);
	for (;;) {
		housekeeping(d, &next);
		ts.tv_sec = (time_t)tick(d, period);
		ts.tv_nsec = 0;
		sig = sigtimedwait(sigs, NULL, &ts);
		if (sig < 0) {
			if (errno == EAGAIN && period > 0)
				tk_notify("WATCHDOG=1");
			continue;
		}
		if (sig == SIGHUP) {
			tk_notify("RELOADING=1");
			reload(d);
			tk_notify("READY=1");
			continue;
		}
		tk_info("signal %d: finishing requests in flight", sig);
		tk_notify("STOPPING=1");
		return 0;
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bootstrap", required_argument, NULL, 'B' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d;
	sigset_t sigs;
	const char *people = NULL;
	int ch, check_only = 0, code;

	memset(&d, 0, sizeof(d));
	d.config_path = DEFAULT_CONFIG;
	d.lock_fd = -1;
	tk_log_set_ident("twokeyd");
	/*
	 * Two malloc arenas, not eight per core: the worker threads' short
	 * requests gain nothing from more, and each arena keeps memory of
	 * its own (the appliance idles under 16 MiB).
	 */
	(void)mallopt(M_ARENA_MAX, 2);
	/*
	 * No openssl.cnf (it could load providers or engines into the
	 * network process) and no error strings (never logged; they cost a
	 * third of a MiB of resident memory).
	 */
	if (OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG |
	    OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, NULL) != 1) {
		tk_error("cannot initialise OpenSSL");
		return TK_EXIT_SOFTWARE;
	}
	/* Before anything secret is in memory: no core, no ptrace. */
	if (tk_sandbox_nodump() != TK_SANDBOX_OK) {
		tk_error("cannot disable core dumps");
		return TK_EXIT_OSERR;
	}
	while ((ch = getopt_long(argc, argv, "c:th", longopts, NULL)) != -1) {
		switch (ch) {
		case 'B':
			people = optarg;
			break;
		case 'c':
			d.config_path = optarg;
			break;
		case 't':
			check_only = 1;
			break;
		case 'V':
			printf("twokeyd %s\n", TWOKEY_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (check_only && people != NULL) {
		fprintf(stderr, "twokeyd: -t checks the configuration and "
		    "--bootstrap enrolls; give one of them\n");
		return 2;
	}
	if (load_config(d.config_path, &d.cfg) != 0)
		return TK_EXIT_CONFIG;
	tk_log_set_level(d.cfg->log_level);
	if (check_only) {
		/* Everything start-up checks before the token; no signer. */
		code = tk_preflight(d.cfg) == 0 ? 0 : TK_EXIT_CONFIG;
		if (code == 0)
			tk_info("configuration ok");
		tk_config_free(&d.cfg);
		return code;
	}
	if (people != NULL) {
		code = bootstrap(&d, people);
		tk_signer_free(&d.signer);
		tk_config_free(&d.cfg);
		if (d.lock_fd >= 0)
			close(d.lock_fd);
		return code;
	}
	/* Blocked before any thread exists, so that only sigtimedwait in
	 * this thread ever takes them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	(void)tk_sandbox_lock_memory();
	if ((code = startup(&d)) == 0)
		code = serve(&d, &sigs);
	tk_web_stop(&d.web);
	tk_web_pages_free(&d.pages);
	tk_backend_free(&d.backend);
	tk_signer_free(&d.signer);
	tk_config_free(&d.cfg);
	if (d.lock_fd >= 0)
		close(d.lock_fd);
	if (code == 0)
		tk_info("stopped");
	tk_sandbox_before_exit();
	return code;
}
