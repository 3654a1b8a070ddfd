/* Internal to the twokey client (cli*.c); see include/twokey/cli.h. */
#ifndef TWOKEY_CLI_INT_H
#define TWOKEY_CLI_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "twokey/cli.h"

#define CLI_MAX_LIST	32	/* --scope, --role */
#define CLI_TEXT_MAX	1024	/* a reason, a review */
#define CLI_LABEL_MAX	64	/* a name or team, an API key name */

/* Options given on the command line, as bits of cli.given. */
enum cli_opt {
	O_SERVER, O_CA, O_USER, O_KEYFILE, O_DEVICE, O_CRED, O_CONFIG,
	O_JSON, O_HELP, O_SCOPE, O_REASON, O_ACCOUNT, O_CONNECTOR,
	O_DURATION, O_INCIDENT, O_TICKET, O_TEAM, O_ROLE, O_INVFILE,
	O_OUTPUT, O_TOKEN, O_DCONFIG, O_OUTDIR, O_BOOTSTRAP, O_TWOKEYD,
	O_FROM, O_TO, O_TEXT, O_ARGS, O_SET, O_PERSON, O_VERSION, O__COUNT
};

#define OPT(o)		(1UL << (o))
/* Every command takes these. */
#define OPTS_COMMON	(OPT(O_SERVER) | OPT(O_CA) | OPT(O_CONFIG) | \
			 OPT(O_HELP) | OPT(O_JSON))
#define OPTS_KEY	(OPT(O_USER) | OPT(O_DEVICE) | OPT(O_CRED))

enum cli_auth {
	AUTH_NONE,	/* public routes */
	AUTH_SESSION,	/* a security-key sign-in */
	AUTH_READ,	/* the API key if one is set, else a sign-in */
};

struct cli {
	FILE			*out;
	FILE			*err;
	FILE			*in;
	const fido_dev_io_t	*fido_io;
	const char		*fido_path;

	/* Settings: option, else environment, else the settings file. */
	char			*server;	/* https://host[:port] */
	char			*origin;	/* WebAuthn origin of it */
	char			*ca;		/* the root certificate */
	char			*user;
	char			*api_key_file;
	char			*device;
	char			*credential;	/* base64url, optional */
	int			 json;

	/* The command's own options and operands. */
	unsigned long		 given;
	const char		*scopes[CLI_MAX_LIST];
	size_t			 nscopes;
	const char		*roles[CLI_MAX_LIST];
	size_t			 nroles;
	const char		*sets[CLI_MAX_LIST];	/* --set K=V */
	size_t			 nsets;
	const char		*reason, *account, *connector, *incident;
	const char		*ticket, *team, *invfile, *output, *dconfig;
	const char		*outdir, *bootstrap, *twokeyd, *from, *to;
	const char		*duration, *text, *change_args, *person;
	const char		*config;
	int			 token_only;
	char			**args;
	int			 nargs;

	/* Secrets, wiped when done. */
	char			*api_key;
	size_t			 api_key_len;
	char			 cookie[128];	/* "tk_session=..." */
	char			 csrf[64];
	int			 signed_in;
};

struct cli_resp {
	long	 status;
	char	*body;		/* NUL-terminated; NULL when sent to a file */
	size_t	 len;
	char	 ctype[96];
	char	 cookie[128];	/* the session from Set-Cookie */
	FILE	*sink;		/* when set, the body goes here */
};

/* cli.c */
void cli_errf(struct cli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
const char *cli_safe(const char *s, char *buf, size_t cap);
int cli_print_json(struct cli *c, json_t *j);
const char *cli_str(json_t *o, const char *k);
const char *cli_when(json_int_t t, char *buf, size_t cap);
int cli_parse_id(struct cli *c, const char *s, const char *what,
    long long *id);
/* Why tk_read_file(path) gave rc, for an error message. */
const char *cli_read_failure(const char *path, int rc);
/* Usage checks made before any sign-in: TK_CLI_OK, else said. */
int cli_check_name(struct cli *c, const char *what, const char *s);
int cli_check_team(struct cli *c, const char *team);
int cli_check_text(struct cli *c, const char *what, const char *s,
    size_t max);
int cli_check_roles(struct cli *c, const char *cmd);
const char *cli_twice(const char *const *list, size_t n);

/* cli_settings.c: server, CA, user, key; vals[] are the options. */
int cli_settings(struct cli *c, const char **vals);
void cli_settings_free(struct cli *c);

/* cli_http.c: each returns an exit code (TK_CLI_OK when answered). */
void cli_resp_clear(struct cli_resp *r);
int cli_http(struct cli *c, const char *method, const char *path,
    json_t *body, enum cli_auth auth, struct cli_resp *r);
int cli_call(struct cli *c, const char *method, const char *path,
    json_t *body, enum cli_auth auth, long want, json_t **ans);
/* As cli_call, for routes with more than one success (201, 202). */
int cli_call_2xx(struct cli *c, const char *method, const char *path,
    json_t *body, enum cli_auth auth, long *status, json_t **ans);
int cli_refused(struct cli *c, const struct cli_resp *r);
int cli_signin(struct cli *c);
int cli_authenticate(struct cli *c, enum cli_auth auth);
void cli_signout(struct cli *c);
void cli_http_global(int init);

/* cli_fido.c */
/*
 * TK_CLI_OK when a security key is named (--device, a test's I/O hooks)
 * or one is plugged in; else TK_CLI_EKEY, said. Sign-in asks this before
 * it takes a challenge, so a missing key costs the address none.
 */
int cli_fido_present(struct cli *c);
int cli_fido_assert(struct cli *c, const char *rp_id, const char *b64ch,
    json_t *obj);
int cli_fido_register(struct cli *c, const char *rp_id, const char *name,
    const char *b64ch, json_t *obj);

/* cli_files.c: -o FILE, a new file in a folder that may be written. */
int cli_check_output(struct cli *c, const char *file);

/* cli_changes.c: a governed change as approvers read it. */
void cli_print_change(FILE *f, json_t *q);
void cli_print_votes(FILE *f, json_t *q);
int cli_is_change(json_t *q);

/* cli_cmds.c, cli_init.c, cli_changes.c, cli_safe.c: the commands. */
int cli_cmd_status(struct cli *c);
int cli_cmd_requests(struct cli *c);
int cli_cmd_request(struct cli *c);
int cli_cmd_vote(struct cli *c, const char *decision);
int cli_cmd_grants(struct cli *c);
int cli_cmd_export(struct cli *c);
int cli_cmd_evidence(struct cli *c);
int cli_cmd_invite(struct cli *c);
int cli_cmd_new_key(struct cli *c);
int cli_cmd_enroll(struct cli *c);
int cli_cmd_init(struct cli *c);
int cli_cmd_apikey(struct cli *c);
int cli_cmd_review(struct cli *c);
int cli_cmd_revoke(struct cli *c);
int cli_cmd_changes(struct cli *c);
int cli_cmd_propose(struct cli *c);
int cli_cmd_policy(struct cli *c);
int cli_cmd_people(struct cli *c);
int cli_cmd_suspend(struct cli *c);
int cli_cmd_leave(struct cli *c);
int cli_cmd_revoke_credential(struct cli *c);
int cli_cmd_block(struct cli *c);

#endif
