/*
 * Internals of the hsm module shared by the client, the signer program and
 * the ceremony: the parsed PKCS#11 URI and the wire protocol between the
 * client and the signer process. Not part of the contract in hsm.h.
 */
#ifndef TWOKEY_HSM_INT_H
#define TWOKEY_HSM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "twokey/hsm.h"

/* A parsed RFC 7512 URI; see tk_p11_uri_parse in uri.c. */
struct tk_p11_uri {
	char *token;		/* path attribute "token", NULL if absent */
	char *manufacturer;
	char *serial;
	char *model;
	char *object;		/* path attribute "object" */
	uint8_t *id;		/* path attribute "id", raw bytes */
	size_t id_len;
	char *type;		/* "private", "public", "cert", ... */
	char *module_path;	/* query attribute "module-path" */
	char *pin_file;		/* pin-source=file:PATH */
	char *pin_credential;	/* pin-source=credential:NAME */
};

#define TK_P11_URI_MAX 4096
#define TK_P11_PIN_MAX 256

/*
 * Parses uri. On error returns TK_HSM_ERR_URI, logs what was wrong (the
 * attribute, never a pin-value) and copies a short reason into why (may be
 * NULL). *out is freed with tk_p11_uri_free.
 */
int tk_p11_uri_parse(const char *uri, struct tk_p11_uri **out, char *why,
    size_t whylen);
void tk_p11_uri_free(struct tk_p11_uri **uri);

/*
 * Reads the PIN named by the URI's pin-source. The caller wipes and frees
 * it with tk_secret_free(*pin, *len + 1). TK_HSM_ERR_PIN_SOURCE when the
 * file is missing, empty, too long or readable by group or others.
 */
int tk_p11_uri_read_pin(const struct tk_p11_uri *uri, char **pin,
    size_t *len, char *why, size_t whylen);

/*
 * Wire protocol over the socketpair. Every message is a 4-byte big-endian
 * length followed by that many bytes.
 *
 * Request:  op (1 byte), purpose (1 byte), then for SIGN the 32-byte
 *           digest. Nothing else is accepted.
 * Response: status (4 bytes, big-endian two's complement tk_hsm_err), then
 *           the DER payload on success or a short printable reason on
 *           error. The signer sends one unsolicited response when it has
 *           started (status 0, payload "ready") or failed to start.
 */
enum tk_signer_op {
	TK_SIGNER_OP_SIGN = 1,
	TK_SIGNER_OP_PUBKEY = 2,
	TK_SIGNER_OP_CERT = 3,
	/*
	 * From now on, refuse SIGN with the root key. The root key
	 * certifies other keys: once start-up has issued what it needs,
	 * a compromised client must not be able to mint certificates.
	 * There is no way back short of a new signer started unlocked,
	 * and the client starts every replacement signer locked.
	 */
	TK_SIGNER_OP_LOCK_ROOT = 4,
};

#define TK_SIGNER_REQ_MAX 64
#define TK_SIGNER_RESP_MAX 8192
#define TK_SIGNER_WHY_MAX 256

/*
 * Exit status of `twokey-signer --ceremony` and the signer on a start-up
 * error: 0 or TK_SIGNER_EXIT_BASE - err for a tk_hsm_err err.
 */
#define TK_SIGNER_EXIT_BASE (-90)

/* Sends one framed message; handles EINTR and short writes; no SIGPIPE. */
int tk_signer_send(int fd, const uint8_t *buf, size_t len);

/*
 * Receives one framed message of at most cap bytes into buf within
 * timeout_ms (negative: wait forever). Returns 0, TK_HSM_ERR_TIMEOUT,
 * TK_HSM_ERR_SIGNER_DIED on EOF, TK_HSM_ERR_PROTOCOL on a bad length, or
 * TK_HSM_ERR_IO.
 */
int tk_signer_recv(int fd, uint8_t *buf, size_t cap, size_t *len,
    int timeout_ms);

/* The signer program's entry points (signer_server.c, ceremony.c). */
int tk_signer_serve(int fd, const char *uri, int root_locked,
    int no_seccomp);

/*
 * The signer's seccomp allow-list (signer_sandbox.c), installed once the
 * module is loaded, logged in and the keys found, after every capability
 * is dropped. Returns a tk_sandbox_err.
 */
int tk_signer_sandbox(void);

/*
 * A signer run as root drops every capability (it keeps uid 0, which
 * owns the token's files); also with --no-seccomp, which turns off the
 * filter only. 0, or -1 logged. Does nothing for another user.
 */
int tk_signer_drop_capabilities(void);

/*
 * The supervisor (supervisor.c): a process forked while the caller is
 * still root, which keeps root and starts, kills and reaps signers on
 * request, handing each new signer's socket back over SCM_RIGHTS.
 */
struct tk_supervisor {
	int ctl;		/* control socket; -1 when gone */
	pid_t pid;
};

/* What every signer the supervisor starts is given. */
struct tk_supervisor_args {
	char *path;		/* twokey-signer */
	char *uri;
	int no_seccomp;		/* pass --no-seccomp (debugging only) */
};

/* Forks the supervisor; a copies what it needs. TK_HSM_ERR_SPAWN. */
int tk_supervisor_start(struct tk_supervisor *sv,
    const struct tk_supervisor_args *a);
/*
 * Kills and reaps the current signer if any, starts a new one (with
 * --root-locked if root_locked) and returns the client end of its socket
 * in *fd and its process id in *pid.
 */
int tk_supervisor_spawn(struct tk_supervisor *sv, int root_locked, int *fd,
    pid_t *pid);
/* Kills and reaps the current signer; *status is its wait status. */
int tk_supervisor_kill(struct tk_supervisor *sv, int *status);
/* Waits (up to 2 s, then kills) for the current signer to end. */
int tk_supervisor_wait(struct tk_supervisor *sv, int *status);
/* Closes the control socket and reaps the supervisor (bounded). */
void tk_supervisor_stop(struct tk_supervisor *sv);

#endif
