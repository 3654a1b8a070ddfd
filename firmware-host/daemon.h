/* Internal to twokeyd: its start-up steps, each in its own file. */
#ifndef TWOKEY_DAEMON_H
#define TWOKEY_DAEMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "twokey/config.h"
#include "twokey/web.h"

/* Exit codes (sysexits.h values) that systemd and tests tell apart. */
#define TK_EXIT_CONFIG 78	/* EX_CONFIG: bad configuration */
#define TK_EXIT_OSERR 71	/* EX_OSERR: bind, fork, files */
#define TK_EXIT_SOFTWARE 70	/* EX_SOFTWARE: a component failed */
#define TK_EXIT_USAGE 2		/* bad command-line arguments */
#define TK_EXIT_GOVERNED 3	/* --bootstrap: the quorum governs */
#define TK_EXIT_TEMPFAIL 75	/* EX_TEMPFAIL: state folder in use */

struct tk_signer;

/*
 * The TLS certificate and key as PEM text: from the configured files, or
 * (neither configured) a P-256 key and a certificate for rp_id issued by
 * the token's root key through signer, kept in state_dir/tls/ and made
 * on first start. Logs the certificate's SHA-256 fingerprint and SPKI
 * hash. The key is freed with tk_secret_free(*key, *key_len). Returns 0,
 * or -1 with the reason logged.
 */
int tk_tls_load(const struct tk_config *cfg, struct tk_signer *signer,
    char **cert, char **key, size_t *key_len);

/*
 * The checks of start-up that need neither the token nor a change on
 * disk: numeric listen address, the token URI and its PIN file's mode,
 * an executable signer, the account to run as. Run by -t and at start
 * before the signer. Returns 0, or -1 with the setting named in the log.
 */
int tk_preflight(const struct tk_config *cfg);

/* A listening TCP socket on the configured address, or -1 (logged). */
int tk_listen_socket(const struct tk_config *cfg);

/*
 * Makes state_dir (0700) if missing. When running as root, looks up
 * cfg->user (-2 if there is no such account or it is root) and sets
 * uid and gid to it; otherwise leaves the current ids.
 */
int tk_state_prepare(const struct tk_config *cfg, uid_t *uid, gid_t *gid);

/*
 * Hands state_dir (except tls/) to uid:gid when running as root, after the
 * databases are open, so that files they created are the account's too.
 */
int tk_state_handover(const struct tk_config *cfg, uid_t uid, gid_t gid);

/*
 * Takes state_dir/lock (flock, exclusive) for the life of the process, so
 * that one twokeyd, or one bootstrap, uses a state folder at a time.
 * Returns the descriptor, or -1 logged (*busy set when another holds it).
 */
int tk_state_lock(const struct tk_config *cfg, int *busy);

struct tk_backend;

/*
 * Opens the journal (state_dir/journal.db) and the approvals store
 * (state_dir/approvals.db) with the configured policy, and journals the
 * start. Returns 0, or an exit code with the reason logged.
 */
int tk_backend_open(const struct tk_config *cfg, struct tk_signer *signer,
    struct tk_backend **out);
/* The same without the start event: for twokeyd --bootstrap. */
int tk_backend_open_state(const struct tk_config *cfg,
    struct tk_signer *signer, struct tk_backend **out);
void tk_backend_free(struct tk_backend **b);

/*
 * Marks every pending request whose time is up as expired, journaled,
 * under the web layer's lock. Returns how many, or -1 on an error.
 */
int tk_backend_expire(struct tk_backend *b);

/* The handles for the web layer; valid while b lives. */
const struct tk_web_backend *tk_backend_web(struct tk_backend *b);

/*
 * Hands a reloaded configuration's policy (compact JSON) to the store:
 * validates it, journals the reload with the old and new digests, then
 * reopens the store with it, which journals any difference from the
 * approved policy as drift; the approved policy stays in force. On
 * refusal nothing changes. Returns 0 or -1.
 */
int tk_backend_set_policy(struct tk_backend *b, const char *policy_json);

/* First 8 bytes of SHA-256 of the policy JSON, hex, for logs/journal. */
void tk_policy_id(const char *json, char out[17]);

struct tk_web_invitee;

/*
 * twokeyd --bootstrap NAME:TEAM[,NAME:TEAM...]: the first named is admin
 * and approver, the others approvers. parse returns 0, or -1 with the
 * reason on stderr; *people is freed with free() after use.
 */
int tk_bootstrap_parse(const char *list, struct tk_web_invitee **people,
    size_t *n);

/*
 * Makes the invitations through backend b (state open, daemon stopped)
 * and prints one line per person on stdout, "NAME TAB TEAM TAB ROLES TAB
 * CODE", the codes shown this once and wiped. Returns an exit code.
 */
int tk_bootstrap_issue(const struct tk_config *cfg, struct tk_backend *b,
    struct tk_web_invitee *people, size_t n);

/* Drops root for good (groups, gid, uid), then checks it cannot regain. */
int tk_drop_privileges(uid_t uid, gid_t gid);

/*
 * twokeyd's seccomp allow-list (sandbox.c), for every thread; installed
 * when start-up is over. Returns TK_SANDBOX_OK or a tk_sandbox_err.
 */
int tk_sandbox_twokeyd(void);

/*
 * sd_notify(3) without libsystemd (notify.c): sends state ("READY=1",
 * "WATCHDOG=1"...) to $NOTIFY_SOCKET. Returns 0 when sent or when there
 * is no such socket, -1 when it could not be sent.
 */
int tk_notify(const char *state);
/* $WATCHDOG_USEC when the watchdog is meant for this process, else 0. */
uint64_t tk_watchdog_usec(void);

#endif
