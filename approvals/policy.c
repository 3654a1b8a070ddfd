/*
 * Policy: the quorum and its guardrails, loaded from the configuration
 * file as JSON. A policy that would weaken the two-person rule (a quorum
 * below 2) is refused at load, never silently raised.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "internal.h"

#define DEFAULT_QUORUM 2
#define DEFAULT_CHALLENGE_TTL 300
#define DEFAULT_PENDING_TTL (24 * 3600)
#define DEFAULT_BREAKGLASS_TTL (4 * 3600)
#define DEFAULT_ELEVATION_MAX (8 * 3600)
#define DEFAULT_REVIEW_DUE (72 * 3600)
/* Upper bounds that catch a typo (a TTL in milliseconds, say). */
#define MAX_TTL ((int64_t)366 * 24 * 3600)

struct tk_policy *
tk_policy_new(void)
{
	struct tk_policy *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->quorum = DEFAULT_QUORUM;
	p->challenge_ttl = DEFAULT_CHALLENGE_TTL;
	p->pending_ttl = DEFAULT_PENDING_TTL;
	p->breakglass_max_ttl = DEFAULT_BREAKGLASS_TTL;
	p->elevation_max_duration = DEFAULT_ELEVATION_MAX;
	p->review_due = DEFAULT_REVIEW_DUE;
	p->overdue_review_blocks = 1;
	p->issuer = strdup("twokey");
	p->audience = strdup("twokey-grants");
	if (p->issuer == NULL || p->audience == NULL)
		tk_policy_free(&p);
	return p;
}

static void
rules_free(struct tk_scope_rule *r, size_t n)
{
	size_t i, j;

	for (i = 0; r != NULL && i < n; i++) {
		free(r[i].connector);
		for (j = 0; j < r[i].nscopes; j++)
			free(r[i].scopes[j]);
		free(r[i].scopes);
	}
	free(r);
}

void
tk_policy_free(struct tk_policy **pp)
{
	struct tk_policy *p;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	free(p->issuer);
	free(p->audience);
	rules_free(p->blocked, p->nblocked);
	rules_free(p->templates, p->ntemplates);
	free(p);
	*pp = NULL;
}

static int
ttl_ok(int64_t v)
{
	return v > 0 && v <= MAX_TTL;
}

int
tk_policy_validate(const struct tk_policy *p)
{
	if (p == NULL)
		return TK_APR_ERR_INVALID;
	if (p->quorum < 2 || p->quorum > TK_QUORUM_MAX) {
		tk_error("quorum %u refused: two-person rule needs 2 to %d",
		    p->quorum, TK_QUORUM_MAX);
		return TK_APR_ERR_POLICY;
	}
	if (!ttl_ok(p->challenge_ttl) || !ttl_ok(p->pending_ttl) ||
	    !ttl_ok(p->breakglass_max_ttl) ||
	    !ttl_ok(p->elevation_max_duration) || !ttl_ok(p->review_due)) {
		tk_error("policy durations must be 1 s to 366 days");
		return TK_APR_ERR_POLICY;
	}
	if (p->issuer == NULL || *p->issuer == '\0' ||
	    p->audience == NULL || *p->audience == '\0') {
		tk_error("policy needs an issuer and an audience");
		return TK_APR_ERR_POLICY;
	}
	return TK_APR_OK;
}

/* {connector: [scope, ...]} into rules. */
static int
rules_from_json(json_t *obj, struct tk_scope_rule **out, size_t *nout)
{
	struct tk_scope_rule *r = NULL;
	const char *key;
	json_t *arr, *s;
	size_t n = 0, i;
	int rc = TK_APR_ERR_POLICY;

	if (!json_is_object(obj))
		goto out;
	if ((r = calloc(json_object_size(obj) + 1, sizeof(*r))) == NULL) {
		rc = TK_APR_ERR_NOMEM;
		goto out;
	}
	json_object_foreach(obj, key, arr) {
		if (!json_is_array(arr) || (strcmp(key, "*") != 0 &&
		    tk_apr_check_token(key) != 0))
			goto out;
		r[n].connector = strdup(key);
		r[n].scopes = calloc(json_array_size(arr) + 1, sizeof(char *));
		n++;
		if (r[n - 1].connector == NULL || r[n - 1].scopes == NULL) {
			rc = TK_APR_ERR_NOMEM;
			goto out;
		}
		json_array_foreach(arr, i, s) {
			if (!json_is_string(s) ||
			    tk_apr_check_token(json_string_value(s)) != 0)
				goto out;
			r[n - 1].scopes[i] = strdup(json_string_value(s));
			if (r[n - 1].scopes[i] == NULL) {
				rc = TK_APR_ERR_NOMEM;
				goto out;
			}
			r[n - 1].nscopes = i + 1;
		}
	}
	*out = r;
	*nout = n;
	r = NULL;
	rc = TK_APR_OK;
out:
	rules_free(r, n);
	return rc;
}

static int
get_int(json_t *root, const char *key, int64_t *v)
{
	json_t *j;

	if ((j = json_object_get(root, key)) == NULL)
		return 0;
	if (!json_is_integer(j))
		return -1;
	*v = (int64_t)json_integer_value(j);
	return 0;
}

static int
get_str(json_t *root, const char *key, char **v)
{
	json_t *j;
	char *s;

	if ((j = json_object_get(root, key)) == NULL)
		return 0;
	if (!json_is_string(j) || tk_apr_check_text(json_string_value(j),
	    TK_TEXT_MAX) != 0)
		return -1;
	if ((s = strdup(json_string_value(j))) == NULL)
		return -1;
	free(*v);
	*v = s;
	return 0;
}

static int
known_keys_only(json_t *root)
{
	static const char *known[] = { "quorum", "distinct_teams",
	    "challenge_ttl", "pending_ttl", "breakglass_max_ttl",
	    "elevation_max_duration", "review_due", "overdue_review_blocks",
	    "issuer", "audience", "blocked", "templates" };
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(root, key, v) {
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (i == sizeof(known) / sizeof(known[0]))
			return -1;
	}
	return 0;
}

static int
get_bool(json_t *root, const char *key, int *v)
{
	json_t *j;

	if ((j = json_object_get(root, key)) == NULL)
		return 0;
	if (!json_is_boolean(j))
		return -1;
	*v = json_is_true(j);
	return 0;
}

static int
fields_from_json(json_t *root, struct tk_policy *p)
{
	int64_t q = p->quorum;

	if (!json_is_object(root) || known_keys_only(root) != 0)
		return -1;
	if (get_int(root, "quorum", &q) != 0 ||
	    get_bool(root, "distinct_teams", &p->distinct_teams) != 0 ||
	    get_int(root, "challenge_ttl", &p->challenge_ttl) != 0 ||
	    get_int(root, "pending_ttl", &p->pending_ttl) != 0 ||
	    get_int(root, "breakglass_max_ttl", &p->breakglass_max_ttl) != 0 ||
	    get_int(root, "elevation_max_duration",
	    &p->elevation_max_duration) != 0 ||
	    get_int(root, "review_due", &p->review_due) != 0 ||
	    get_bool(root, "overdue_review_blocks",
	    &p->overdue_review_blocks) != 0 ||
	    get_str(root, "issuer", &p->issuer) != 0 ||
	    get_str(root, "audience", &p->audience) != 0)
		return -1;
	/* A negative or huge quorum must not wrap into an accepted one. */
	if (q < 0 || q > 1000)
		q = 0;
	p->quorum = (unsigned int)q;
	return 0;
}

int
tk_policy_from_json(const char *json, size_t len, struct tk_policy **out)
{
	struct tk_policy *p = NULL;
	json_error_t jerr;
	json_t *root = NULL, *j;
	int rc = TK_APR_ERR_POLICY;

	*out = NULL;
	if (len > TK_JSON_MAX)
		goto out;
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		tk_error("policy is not JSON: line %d: %s", jerr.line,
		    jerr.text);
		goto out;
	}
	if ((p = tk_policy_new()) == NULL) {
		rc = TK_APR_ERR_NOMEM;
		goto out;
	}
	if (fields_from_json(root, p) != 0) {
		tk_error("policy has an unknown key or a value of wrong type");
		goto out;
	}
	if (((j = json_object_get(root, "blocked")) != NULL &&
	    (rc = rules_from_json(j, &p->blocked, &p->nblocked)) != 0) ||
	    ((j = json_object_get(root, "templates")) != NULL &&
	    (rc = rules_from_json(j, &p->templates, &p->ntemplates)) != 0)) {
		tk_error("policy scope lists must map names to scope lists");
		goto out;
	}
	if ((rc = tk_policy_validate(p)) != 0)
		goto out;
	*out = p;
	p = NULL;
	rc = TK_APR_OK;
out:
	tk_policy_free(&p);
	json_decref(root);
	return rc;
}

static int
rule_has(const struct tk_scope_rule *r, const char *scope)
{
	size_t i;

	for (i = 0; i < r->nscopes; i++)
		if (strcmp(r->scopes[i], scope) == 0)
			return 1;
	return 0;
}

int
tk_policy_scope_verdict(const struct tk_policy *p, const char *connector,
    const char *scope)
{
	size_t i;
	int rc = TK_APR_OK;

	for (i = 0; i < p->nblocked; i++) {
		if (strcmp(p->blocked[i].connector, "*") != 0 &&
		    strcmp(p->blocked[i].connector, connector) != 0)
			continue;
		if (rule_has(&p->blocked[i], scope))
			return TK_APR_ERR_BLOCKED_SCOPE;
	}
	for (i = 0; i < p->ntemplates; i++)
		if (strcmp(p->templates[i].connector, connector) == 0 &&
		    !rule_has(&p->templates[i], scope))
			rc = TK_APR_ERR_SCOPE_TEMPLATE;
	return rc;
}

/* A blocked scope anywhere outweighs a scope outside the template. */
static int
scopes_allowed(const struct tk_policy *p, const struct tk_request *req)
{
	const char *conn = req->kind == TK_REQ_ELEVATION ? req->connector :
	    "break-glass";
	size_t k;
	int v, rc = TK_APR_OK;

	for (k = 0; k < req->nscopes; k++) {
		v = tk_policy_scope_verdict(p, conn, req->scopes[k]);
		if (v == TK_APR_ERR_BLOCKED_SCOPE)
			return v;
		if (v != TK_APR_OK)
			rc = v;
	}
	return rc;
}

int
tk_policy_check_request(const struct tk_policy *p,
    const struct tk_request *req, const struct tk_person *requester)
{
	unsigned int role;
	int64_t max;
	int rc;

	if (req->kind == TK_REQ_BREAKGLASS) {
		role = TK_ROLE_COMMANDER;
		max = p->breakglass_max_ttl;
	} else {
		role = TK_ROLE_REQUESTER;
		max = p->elevation_max_duration;
	}
	if (requester->state != TK_PERSON_ACTIVE)
		return TK_APR_ERR_INACTIVE;
	if ((requester->roles & role) == 0)
		return TK_APR_ERR_ROLE;
	if (req->duration > max)
		return TK_APR_ERR_DURATION;
	if ((rc = scopes_allowed(p, req)) != 0)
		return rc;
	return TK_APR_OK;
}
