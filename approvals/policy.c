/*
 * Policy: the quorum and its guardrails, loaded from the configuration
 * file as JSON. A policy that would weaken the two-person rule (a quorum
 * below 2) is refused at load, never silently raised.
 */
#include <stddef.h>
#include <stdio.h>
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

static void
strs_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
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
	strs_free(p->aaguids, p->naaguids);
	strs_free(p->origins, p->norigins);
	free(p);
	*pp = NULL;
}

static int
ttl_ok(int64_t v)
{
	return v > 0 && v <= MAX_TTL;
}

int
tk_policy_check(const struct tk_policy *p, char *why, size_t whylen)
{
	const struct {
		const char *key;
		int64_t v;
	} ttls[] = {
		{ "challenge_ttl", p->challenge_ttl },
		{ "pending_ttl", p->pending_ttl },
		{ "breakglass_max_ttl", p->breakglass_max_ttl },
		{ "elevation_max_duration", p->elevation_max_duration },
		{ "review_due", p->review_due },
	};
	size_t i;

	if (p->quorum < 2 || p->quorum > TK_QUORUM_MAX) {
		(void)snprintf(why, whylen, "quorum %u refused: the "
		    "two-person rule needs 2 to %d distinct approvers",
		    p->quorum, TK_QUORUM_MAX);
		return TK_APR_ERR_POLICY;
	}
	for (i = 0; i < sizeof(ttls) / sizeof(ttls[0]); i++)
		if (!ttl_ok(ttls[i].v)) {
			(void)snprintf(why, whylen, "policy key \"%s\" must "
			    "be 1 to %lld seconds (366 days)", ttls[i].key,
			    (long long)MAX_TTL);
			return TK_APR_ERR_POLICY;
		}
	if (p->issuer == NULL || *p->issuer == '\0' ||
	    p->audience == NULL || *p->audience == '\0') {
		(void)snprintf(why, whylen, "policy needs an issuer and an "
		    "audience");
		return TK_APR_ERR_POLICY;
	}
	return TK_APR_OK;
}

int
tk_policy_validate(const struct tk_policy *p)
{
	char why[TK_WHY_MAX];
	int rc;

	if (p == NULL)
		return TK_APR_ERR_INVALID;
	if ((rc = tk_policy_check(p, why, sizeof(why))) != 0)
		tk_error("%s", why);
	return rc;
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

/* An AAGUID: 32 lowercase hex digits. */
static int
aaguid_ok(const char *s)
{
	return strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32;
}

/* "https://host[:port]", no path, printable. */
static int
origin_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 8 && n <= 300 && strncmp(s, "https://", 8) == 0 &&
	    strchr(s + 8, '/') == NULL && tk_apr_check_text(s, 300) == 0 &&
	    strchr(s, ' ') == NULL;
}

/* A list of unique strings each passing ok; absent leaves it empty. */
static int
get_list(json_t *root, const char *key, int (*ok)(const char *),
    char ***out, size_t *nout)
{
	json_t *arr, *s;
	size_t i, k;

	if ((arr = json_object_get(root, key)) == NULL)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > 64 ||
	    (*out = calloc(json_array_size(arr) + 1, sizeof(char *))) == NULL)
		return -1;
	json_array_foreach(arr, i, s) {
		if (!json_is_string(s) || !ok(json_string_value(s)))
			return -1;
		for (k = 0; k < i; k++)
			if (strcmp((*out)[k], json_string_value(s)) == 0)
				return -1;
		if (((*out)[i] = strdup(json_string_value(s))) == NULL)
			return -1;
		*nout = i + 1;
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

enum field_kind { F_INT, F_BOOL, F_TEXT, F_LIST, F_RULES };

/* Every key a policy may hold, and how its value is read. */
static const struct policy_field {
	const char *key;
	enum field_kind kind;
	size_t off;		/* of the member in struct tk_policy */
	size_t count_off;	/* of its count, for lists */
	int (*ok)(const char *);
	const char *expected;	/* in words, for the refusal */
} policy_fields[] = {
#define AT(m) offsetof(struct tk_policy, m)
	{ "quorum", F_INT, 0, 0, NULL, "an integer from 2 to 32" },
	{ "distinct_teams", F_BOOL, AT(distinct_teams), 0, NULL,
	    "true or false" },
	{ "challenge_ttl", F_INT, AT(challenge_ttl), 0, NULL,
	    "an integer (seconds)" },
	{ "pending_ttl", F_INT, AT(pending_ttl), 0, NULL,
	    "an integer (seconds)" },
	{ "breakglass_max_ttl", F_INT, AT(breakglass_max_ttl), 0, NULL,
	    "an integer (seconds)" },
	{ "elevation_max_duration", F_INT, AT(elevation_max_duration), 0,
	    NULL, "an integer (seconds)" },
	{ "review_due", F_INT, AT(review_due), 0, NULL,
	    "an integer (seconds)" },
	{ "overdue_review_blocks", F_BOOL, AT(overdue_review_blocks), 0,
	    NULL, "true or false" },
	{ "issuer", F_TEXT, AT(issuer), 0, NULL, "printable text" },
	{ "audience", F_TEXT, AT(audience), 0, NULL, "printable text" },
	{ "aaguids", F_LIST, AT(aaguids), AT(naaguids), aaguid_ok,
	    "a list of up to 64 distinct AAGUIDs, 32 lowercase hex digits "
	    "each" },
	{ "origins", F_LIST, AT(origins), AT(norigins), origin_ok,
	    "a list of up to 64 distinct origins, https://host[:port]" },
	{ "blocked", F_RULES, AT(blocked), AT(nblocked), NULL,
	    "an object mapping connectors (or \"*\") to lists of scopes" },
	{ "templates", F_RULES, AT(templates), AT(ntemplates), NULL,
	    "an object mapping connectors to lists of scopes" },
#undef AT
};

static const struct policy_field *
policy_field(const char *key)
{
	size_t i;

	for (i = 0; i < sizeof(policy_fields) / sizeof(policy_fields[0]);
	    i++)
		if (strcmp(policy_fields[i].key, key) == 0)
			return &policy_fields[i];
	return NULL;
}

/* Reads one key's value into p; nonzero when it has the wrong form. */
static int
field_read(json_t *root, const struct policy_field *f, struct tk_policy *p)
{
	char *m = (char *)p + f->off;
	int64_t q = p->quorum;

	switch (f->kind) {
	case F_INT:
		if (strcmp(f->key, "quorum") != 0)
			return get_int(root, f->key, (int64_t *)(void *)m);
		/* A negative or huge quorum must not wrap into an accepted
		 * one, nor be named as another number. */
		if (get_int(root, f->key, &q) != 0 || q < 0 || q > 1000)
			return -1;
		p->quorum = (unsigned int)q;
		return 0;
	case F_BOOL:
		return get_bool(root, f->key, (int *)(void *)m);
	case F_TEXT:
		return get_str(root, f->key, (char **)(void *)m);
	case F_LIST:
		return get_list(root, f->key, f->ok, (char ***)(void *)m,
		    (size_t *)(void *)((char *)p + f->count_off));
	case F_RULES:
		if (json_object_get(root, f->key) == NULL)
			return 0;
		return rules_from_json(json_object_get(root, f->key),
		    (struct tk_scope_rule **)(void *)m,
		    (size_t *)(void *)((char *)p + f->count_off));
	}
	return -1;
}

/* Names a key in a refusal only when it is a plain name. */
static const char *
key_shown(const char *key)
{
	return tk_apr_check_token(key) == 0 ? key : "(not a name)";
}

static int
fields_from_json(json_t *root, struct tk_policy *p, char *why,
    size_t whylen)
{
	const struct policy_field *f;
	const char *key;
	json_t *v;
	int rc;

	if (!json_is_object(root)) {
		(void)snprintf(why, whylen, "a policy is a JSON object");
		return TK_APR_ERR_POLICY;
	}
	json_object_foreach(root, key, v) {
		if ((f = policy_field(key)) == NULL) {
			(void)snprintf(why, whylen, "unknown policy key "
			    "\"%s\"", key_shown(key));
			return TK_APR_ERR_POLICY;
		}
		if ((rc = field_read(root, f, p)) != 0) {
			if (rc == TK_APR_ERR_NOMEM)
				return rc;
			(void)snprintf(why, whylen, "policy key \"%s\" must be "
			    "%s", f->key, f->expected);
			return TK_APR_ERR_POLICY;
		}
	}
	return TK_APR_OK;
}

int
tk_policy_parse(const char *json, size_t len, struct tk_policy **out,
    char *why, size_t whylen)
{
	struct tk_policy *p = NULL;
	json_error_t jerr;
	json_t *root = NULL;
	int rc = TK_APR_ERR_POLICY;

	*out = NULL;
	if (len > TK_JSON_MAX) {
		(void)snprintf(why, whylen, "policy is larger than %d bytes",
		    TK_JSON_MAX);
		goto out;
	}
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		(void)snprintf(why, whylen, "policy is not JSON: line %d: "
		    "%s", jerr.line, jerr.text);
		goto out;
	}
	if ((p = tk_policy_new()) == NULL) {
		rc = TK_APR_ERR_NOMEM;
		goto out;
	}
	if ((rc = fields_from_json(root, p, why, whylen)) != 0 ||
	    (rc = tk_policy_check(p, why, whylen)) != 0)
		goto out;
	*out = p;
	p = NULL;
out:
	tk_policy_free(&p);
	json_decref(root);
	return rc;
}

int
tk_policy_from_json(const char *json, size_t len, struct tk_policy **out)
{
	char why[TK_WHY_MAX] = "";
	int rc;

	if ((rc = tk_policy_parse(json, len, out, why, sizeof(why))) != 0)
		tk_error("%s", why[0] != '\0' ? why : "policy: out of memory");
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

/* ---- the canonical form, for storing and comparing policies ---- */

static int
cmp_scope(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A sorted JSON array of n strings (the order never means anything). */
static json_t *
sorted_strings(char **v, size_t n)
{
	json_t *arr = json_array();
	char **c;
	size_t i;

	if (arr == NULL || (c = calloc(n + 1, sizeof(char *))) == NULL) {
		json_decref(arr);
		return NULL;
	}
	if (n > 0)
		memcpy(c, v, n * sizeof(char *));
	qsort(c, n, sizeof(char *), cmp_scope);
	for (i = 0; i < n; i++)
		if (json_array_append_new(arr, json_string(c[i])) != 0) {
			json_decref(arr);
			arr = NULL;
			break;
		}
	free(c);
	return arr;
}

static json_t *
rules_json(const struct tk_scope_rule *r, size_t n)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; o != NULL && i < n; i++)
		if (json_object_set_new(o, r[i].connector,
		    sorted_strings(r[i].scopes, r[i].nscopes)) != 0) {
			json_decref(o);
			o = NULL;
		}
	return o;
}

json_t *
tk_policy_to_json(const struct tk_policy *p)
{
	if (p == NULL)
		return NULL;
	return json_pack("{s:i,s:b,s:I,s:I,s:I,s:I,s:I,s:b,s:s,s:s,s:o,s:o,"
	    "s:o,s:o}", "quorum", (int)p->quorum, "distinct_teams",
	    p->distinct_teams != 0, "challenge_ttl",
	    (json_int_t)p->challenge_ttl, "pending_ttl",
	    (json_int_t)p->pending_ttl, "breakglass_max_ttl",
	    (json_int_t)p->breakglass_max_ttl, "elevation_max_duration",
	    (json_int_t)p->elevation_max_duration, "review_due",
	    (json_int_t)p->review_due, "overdue_review_blocks",
	    p->overdue_review_blocks != 0, "issuer", p->issuer, "audience",
	    p->audience, "blocked", rules_json(p->blocked, p->nblocked),
	    "templates", rules_json(p->templates, p->ntemplates), "aaguids",
	    sorted_strings(p->aaguids, p->naaguids), "origins",
	    sorted_strings(p->origins, p->norigins));
}
