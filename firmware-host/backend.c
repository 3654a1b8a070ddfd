/*
 * What twokeyd serves from: the journal and the approvals store, both in
 * the state folder. The policy in force is the approved one in the store
 * (the quorum's); the configuration file's policy is handed to the store
 * at start and on SIGHUP only to be compared: on the first start it
 * becomes the approved one, afterwards a difference is journaled as
 * "policy.drift", exposed in /metrics and GET /api/v1/policy, and not
 * applied (docs/configuration.md explains why).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/hsm.h"
#include "twokey/journal.h"
#include "daemon.h"

struct tk_backend {
	const struct tk_config *cfg;
	struct tk_signer *signer;
	struct tk_journal *journal;
	struct tk_approvals *ap;
	struct tk_policy *policy;
	char *policy_json;
	pthread_mutex_t lock;
	struct tk_web_backend web;
};

void
tk_policy_id(const char *json, char out[17])
{
	uint8_t md[32];
	unsigned int len = 0;

	if (EVP_Digest(json, strlen(json), md, &len, EVP_sha256(),
	    NULL) != 1)
		memset(md, 0, sizeof(md));
	tk_hex_encode(md, 8, out);
}

/* Appends one daemon event; takes the reference to details. */
static int
journal_event(struct tk_backend *b, const char *action, json_t *details)
{
	struct tk_journal_entry e;
	int r;

	memset(&e, 0, sizeof(e));
	e.actor = "twokeyd";
	e.action = action;
	e.object = "daemon";
	e.details = details;
	r = tk_journal_append(b->journal, &e, NULL);
	json_decref(details);
	if (r != 0)
		tk_error("journal refused %s: %s", action,
		    tk_journal_strerror(r));
	return r;
}

static int
open_store(struct tk_backend *b, struct tk_policy *policy,
    const char *source, struct tk_approvals **out)
{
	struct tk_approvals_config ac;
	char path[4200];
	int r;

	snprintf(path, sizeof(path), "%s/approvals.db", b->cfg->state_dir);
	memset(&ac, 0, sizeof(ac));
	ac.db_path = path;
	ac.policy = policy;
	ac.policy_source = source;
	ac.signer = b->signer;
	ac.journal = b->journal;
	ac.rp_id = b->cfg->rp_id;
	ac.origin = b->cfg->origins[0];
	ac.require_uv = 1;
	if ((r = tk_approvals_open(&ac, out)) != 0)
		tk_error("approvals store %s: %s", path, tk_apr_strerror(r));
	return r;
}

static int
parse_policy(const char *json, struct tk_policy **out)
{
	int r = tk_policy_from_json(json, strlen(json), out);

	if (r != 0)
		tk_error("policy: refused by the approvals layer: %s",
		    tk_apr_strerror(r));
	return r;
}

static int
open_journal(struct tk_backend *b)
{
	struct tk_journal_config jc;
	char path[4200], origin[300];
	int r;

	snprintf(path, sizeof(path), "%s/journal.db", b->cfg->state_dir);
	snprintf(origin, sizeof(origin), "twokey/%s/journal",
	    b->cfg->rp_id);
	memset(&jc, 0, sizeof(jc));
	jc.path = path;
	jc.origin = origin;
	jc.signer = b->signer;
	if ((r = tk_journal_open(&jc, &b->journal)) != 0)
		tk_error("journal %s: %s", path, tk_journal_strerror(r));
	return r;
}

int
tk_backend_open(const struct tk_config *cfg, struct tk_signer *signer,
    struct tk_backend **out)
{
	char id[17];
	int code;

	if ((code = tk_backend_open_state(cfg, signer, out)) != 0)
		return code;
	tk_policy_id((*out)->policy_json, id);
	if (journal_event(*out, "daemon.start", json_pack("{s:s}", "policy",
	    id)) != 0) {
		tk_backend_free(out);
		return TK_EXIT_SOFTWARE;
	}
	return 0;
}

int
tk_backend_open_state(const struct tk_config *cfg, struct tk_signer *signer,
    struct tk_backend **out)
{
	struct tk_backend *b;
	int code = TK_EXIT_SOFTWARE;

	*out = NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return TK_EXIT_OSERR;
	pthread_mutex_init(&b->lock, NULL);
	b->cfg = cfg;
	b->signer = signer;
	if ((b->policy_json = strdup(cfg->policy_json)) == NULL)
		goto out;
	if (parse_policy(cfg->policy_json, &b->policy) != 0) {
		code = TK_EXIT_CONFIG;
		goto out;
	}
	if (open_journal(b) != 0 ||
	    open_store(b, b->policy, "start", &b->ap) != 0)
		goto out;
	b->web.ap = b->ap;
	b->web.lock = &b->lock;
	b->web.journal = b->journal;
	*out = b;
	b = NULL;
	code = 0;
out:
	tk_backend_free(&b);
	return code;
}

int
tk_backend_expire(struct tk_backend *b)
{
	unsigned int n = 0;
	int total = 0, rc;

	/* tk_approvals_expire takes at most 64 per transaction. */
	do {
		pthread_mutex_lock(&b->lock);
		rc = tk_approvals_expire(b->ap, &n);
		pthread_mutex_unlock(&b->lock);
		total += (int)n;
	} while (rc == 0 && n == 64);
	return rc == 0 ? total : -1;
}

const struct tk_web_backend *
tk_backend_web(struct tk_backend *b)
{
	return &b->web;
}

int
tk_backend_set_policy(struct tk_backend *b, const char *policy_json)
{
	struct tk_policy *p = NULL;
	struct tk_approvals *ap = NULL;
	char was[17], now[17], *json = NULL;
	int r = -1;

	if (parse_policy(policy_json, &p) != 0 ||
	    (json = strdup(policy_json)) == NULL)
		goto out;
	tk_policy_id(b->policy_json, was);
	tk_policy_id(policy_json, now);
	pthread_mutex_lock(&b->lock);
	if (journal_event(b, "policy.reload", json_pack("{s:s,s:s,s:s}",
	    "was", was, "now", now, "source", "configuration file")) != 0 ||
	    open_store(b, p, "reload", &ap) != 0) {
		pthread_mutex_unlock(&b->lock);
		goto out;
	}
	tk_approvals_free(&b->ap);
	tk_policy_free(&b->policy);
	free(b->policy_json);
	b->ap = b->web.ap = ap;
	b->policy = p;
	b->policy_json = json;
	p = NULL;
	json = NULL;
	pthread_mutex_unlock(&b->lock);
	/* The store compared it: any difference is journaled as drift. */
	tk_warn("configuration file policy reloaded (%s -> %s); the approved "
	    "policy stays in force", was, now);
	r = 0;
out:
	free(json);
	tk_policy_free(&p);
	return r;
}

void
tk_backend_free(struct tk_backend **bp)
{
	struct tk_backend *b;

	if (bp == NULL || (b = *bp) == NULL)
		return;
	tk_approvals_free(&b->ap);
	tk_journal_free(&b->journal);
	tk_policy_free(&b->policy);
	free(b->policy_json);
	pthread_mutex_destroy(&b->lock);
	free(b);
	*bp = NULL;
}
