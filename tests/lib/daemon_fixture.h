/*
 * daemon_fixture: runs the real twokeyd binary ($TWOKEY_BUILD/twokeyd) on
 * a free loopback port with a fresh state folder under $TWOKEY_TEST_TMP,
 * and speaks HTTPS to it with libcurl, verifying the server against the
 * certificate the daemon made (no verification switched off).
 */
#ifndef TWOKEY_DAEMON_FIXTURE_H
#define TWOKEY_DAEMON_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

struct softauthn;

struct tkd {
	pid_t pid;
	unsigned int port;
	char dir[512];		/* this daemon's folder */
	char conf[600];		/* its configuration file */
	char log[600];		/* its stderr */
	char cert[700];		/* state/tls/cert.pem */
	const char *source;	/* client source address, NULL: default */
	char uri[2048];		/* the shared test token's PKCS#11 URI */
	char signer[1024];	/* twokey-signer */
	char token_pem[1024];	/* certificate of the grant-signing key */
	char cookie[256];	/* sent as Cookie when set */
	char csrf[64];		/* sent as X-CSRF-Token when set */
	char cookie_attrs[256];	/* attributes of the session cookie */
	char audit_pem[1024];	/* certificate of the journal's key */
	char root_pem[1024];	/* the root certificate auditors pin */
};

struct tkd_resp {
	long status;
	char set_cookie[256];	/* the name=value part of Set-Cookie */
	char set_cookie_attrs[256];	/* the rest of it */
	char *body;		/* NUL-terminated; free() */
	size_t len;
	char ctype[128];
	char headers[2048];	/* every header line, "\r\n" each, cut */
};

/*
 * Prepares a fresh folder named name and writes a configuration with a
 * free port, the shared test token (a real SoftHSM2 token with the key
 * ceremony done, made on first use), plus the extra members (a JSON
 * fragment starting with ",", or ""). Returns 0 or -1.
 */
int tkd_init(struct tkd *d, const char *name, const char *extra);

/*
 * The members every twokeyd configuration of the tests carries, as a
 * JSON fragment starting with ",", for a test that writes its own file:
 * request_timeout and signer_timeout, scaled by tk_fixture_ms, and
 * "seccomp": false under valgrind, which cannot install the filters
 * (tk_fixture_under_valgrind). tkd_init adds them on its own (without
 * "seccomp" when its extra sets that).
 */
const char *tkd_test_settings(void);

/* Frees the shared SoftHSM2 token made by the first tkd_init. */
void tkd_cleanup(void);

/* Writes text as the configuration file verbatim. */
int tkd_write_config(struct tkd *d, const char *text);

/* Starts twokeyd with args; waits until /healthz answers (or it exits). */
int tkd_start(struct tkd *d);

/* Runs twokeyd to completion (for refusals); returns its exit status. */
int tkd_run(struct tkd *d, const char *arg);

/*
 * Runs twokeyd --bootstrap list to completion (the daemon stopped), its
 * stdout into out (NUL-terminated, cut at outlen), stderr to the log.
 * Returns the exit status, or -1.
 */
int tkd_bootstrap(struct tkd *d, const char *list, char *out,
    size_t outlen);

/* Sends sig, waits for the exit; returns the exit status (-1: signal). */
int tkd_stop(struct tkd *d, int sig);

/*
 * One HTTPS request. ctype NULL sends no Content-Type; body NULL sends
 * none. extra_header is one raw header line or NULL. Returns 0 when an
 * answer came back, -1 on a transport failure.
 */
int tkd_request(const struct tkd *d, const char *method, const char *path,
    const char *ctype, const char *body, size_t len,
    const char *extra_header, struct tkd_resp *out);
void tkd_resp_clear(struct tkd_resp *r);

/*
 * One JSON request (body NULL: none): the HTTP status, or -1 on a
 * transport failure; the parsed answer in *ans (may be NULL) for the
 * caller to json_decref.
 */
long tkd_call(const struct tkd *d, const char *method, const char *path,
    const char *body, const char *extra_header, json_t **ans);

/* YYYY-MM-DD (UTC) of today plus days, into out. */
void tkd_day(int days, char out[11]);

/*
 * (daemon_people.c) File name of the evidence pack of [today +
 * from_days, today + to_days) as the current session gets it, parsed as
 * JSON (json_decref it); NULL when the pack is refused, unreadable or
 * lacks the file.
 */
json_t *tkd_pack_json(const struct tkd *d, int from_days, int to_days,
    const char *name);

/* Whether the daemon's log holds needle (polls up to ms milliseconds). */
int tkd_log_has(const struct tkd *d, const char *needle, int ms);

/* A numeric metric from /metrics ("name" or "name{labels}"), or -1. */
long tkd_metric(const struct tkd *d, const char *name);

/* A person's security key, as the test holds it. */
struct tkd_key {
	struct softauthn *sa;
	int64_t person;
	uint32_t counter;	/* of the next assertion */
};

/*
 * Enrolls a person with one security key directly in the state folder,
 * as the key ceremony at `twokey init` does, before the daemon starts
 * (it must not be running). roles are enum tk_role bits.
 */
int tkd_enroll(struct tkd *d, const char *name, const char *team,
    unsigned int roles, struct tkd_key *key);

/*
 * Sets a person's state (enum tk_person_state) directly in the state
 * folder, journaled as the ceremony; the daemon must not be running.
 */
int tkd_person_state(struct tkd *d, int64_t person, int state);

/*
 * Signs in with key over HTTPS (challenge, assertion, session): on
 * success d->cookie and d->csrf hold the session. Returns the HTTP
 * status of the last step, or -1.
 */
long tkd_signin(struct tkd *d, const char *name, struct tkd_key *key);

/*
 * Fills a WebAuthn assertion for challenge (raw bytes) as the JSON
 * members "credential_id", "client_data", "authenticator_data",
 * "signature" into obj. Returns 0 or -1.
 */
struct json_t;
int tkd_assert(struct tkd *d, struct tkd_key *key, const uint8_t *challenge,
    size_t len, struct json_t *obj);

/*
 * Signs in as name with key and approves request id (challenge, the
 * key's assertion, vote). Returns the HTTP status of the last step, or
 * -1; that step's answer in *ans, for the caller to json_decref.
 */
long tkd_approve(struct tkd *d, const char *name, struct tkd_key *key,
    int64_t id, json_t **ans);

/*
 * Fills a WebAuthn registration by key for challenge as the members
 * "credential_id", "client_data", "attestation_object" of obj.
 */
int tkd_register(struct tkd *d, struct tkd_key *key,
    const uint8_t *challenge, size_t len, struct json_t *obj);

#endif
