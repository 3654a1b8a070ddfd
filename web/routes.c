/*
 * The route table: the one place that says which methods and paths the
 * server answers, what body each takes and who handles it. web/openapi.json
 * describes the same table; test_openapi compares them both ways.
 */
#include <string.h>

#include "twokey/web.h"
#include "web_int.h"

static const struct tk_field signin_challenge_fields[] = {
	{ "name", TK_FIELD_STRING, 1, 1, 64 },
};

/* A WebAuthn get() answer, base64url fields (sizes as decoded x 4/3). */
#define ASSERTION_FIELDS \
	{ "credential_id", TK_FIELD_B64URL, 1, 1, 1366 }, \
	{ "client_data", TK_FIELD_B64URL, 1, 2, 5462 }, \
	{ "authenticator_data", TK_FIELD_B64URL, 1, 50, 2731 }, \
	{ "signature", TK_FIELD_B64URL, 1, 2, 700 }

static const struct tk_field signin_fields[] = {
	{ "challenge_id", TK_FIELD_STRING, 1, 32, 32 },
	ASSERTION_FIELDS,
};

/* Shapes only; the approvals layer checks the request itself. */
static const struct tk_field request_fields[] = {
	{ "kind", TK_FIELD_STRING, 1, 1, 16 },
	{ "service_account", TK_FIELD_STRING, 0, 1, 128 },
	{ "connector", TK_FIELD_STRING, 0, 1, 128 },
	{ "incident", TK_FIELD_STRING, 0, 1, 128 },
	{ "scopes", TK_FIELD_STRINGS, 1, 1, 32 },
	{ "duration", TK_FIELD_INTEGER, 0, 1, 316224000 },
	{ "ttl", TK_FIELD_INTEGER, 0, 1, 316224000 },
	{ "reason", TK_FIELD_STRING, 1, 1, 1024 },
	{ "ticket", TK_FIELD_STRING, 0, 1, 128 },
};

static const struct tk_field challenge_fields[] = {
	{ "decision", TK_FIELD_STRING, 1, 6, 7 },
};

static const struct tk_field vote_fields[] = {
	ASSERTION_FIELDS,
	{ "reason", TK_FIELD_STRING, 0, 1, 1024 },
};

static const struct tk_field review_fields[] = {
	{ "text", TK_FIELD_STRING, 1, 1, 1024 },
};

static const struct tk_field invite_fields[] = {
	{ "name", TK_FIELD_STRING, 1, 1, 64 },
	{ "team", TK_FIELD_STRING, 1, 1, 64 },
	{ "roles", TK_FIELD_STRINGS, 1, 1, 5 },
	/* Required with a governed role: the enrollment is a change. */
	{ "reason", TK_FIELD_STRING, 0, 1, 1024 },
	{ "ticket", TK_FIELD_STRING, 0, 1, 128 },
};

/* Required when the person holds a governed role: the key is a change. */
static const struct tk_field new_key_invite_fields[] = {
	{ "reason", TK_FIELD_STRING, 0, 1, 1024 },
	{ "ticket", TK_FIELD_STRING, 0, 1, 128 },
};

static const struct tk_field enroll_challenge_fields[] = {
	{ "invitation", TK_FIELD_STRING, 1, 47, 47 },
};

static const struct tk_field enroll_fields[] = {
	{ "invitation", TK_FIELD_STRING, 1, 47, 47 },
	{ "challenge_id", TK_FIELD_STRING, 1, 32, 32 },
	{ "credential_id", TK_FIELD_B64URL, 1, 1, 1366 },
	{ "client_data", TK_FIELD_B64URL, 1, 2, 5462 },
	{ "attestation_object", TK_FIELD_B64URL, 1, 50, 16384 },
};

static const struct tk_field apikey_fields[] = {
	{ "name", TK_FIELD_STRING, 1, 1, 64 },
	{ "scopes", TK_FIELD_STRINGS, 1, 1, 3 },
};

/* A rotation or use of an inventory account's credential. */
static const struct tk_field inventory_event_fields[] = {
	{ "account", TK_FIELD_STRING, 1, 1, 64 },
	{ "event", TK_FIELD_STRING, 1, 4, 7 },
	{ "at", TK_FIELD_STRING, 0, 20, 20 },
};

/* ---- governed changes and the safe immediate actions ---- */
static const struct tk_field change_fields[] = {
	{ "type", TK_FIELD_STRING, 1, 1, 32 },
	{ "reason", TK_FIELD_STRING, 1, 1, 1024 },
	{ "ticket", TK_FIELD_STRING, 1, 1, 128 },
	{ "args", TK_FIELD_OBJECT, 1, 0, 16 },
};

static const struct tk_field block_fields[] = {
	{ "connector", TK_FIELD_STRING, 1, 1, 128 },
	{ "scope", TK_FIELD_STRING, 1, 1, 128 },
};

static const struct tk_field cred_revoke_fields[] = {
	{ "credential_id", TK_FIELD_B64URL, 1, 1, 1366 },
};

static const struct tk_field cred_add_fields[] = {
	{ "challenge_id", TK_FIELD_STRING, 1, 32, 32 },
	{ "credential_id", TK_FIELD_B64URL, 1, 1, 1366 },
	{ "client_data", TK_FIELD_B64URL, 1, 2, 5462 },
	{ "attestation_object", TK_FIELD_B64URL, 1, 50, 16384 },
	{ "reason", TK_FIELD_STRING, 0, 1, 1024 },
	{ "ticket", TK_FIELD_STRING, 0, 1, 128 },
};
/* ---- end governed changes ---- */

#define FIELDS(a) (a), (sizeof(a) / sizeof((a)[0]))

static const struct route routes[] = {
	{ { "GET", "/healthz", 0, NULL, 0 }, web_h_health, AUTH_NONE, 0 },
	{ { "GET", "/readyz", 0, NULL, 0 }, web_h_ready, AUTH_NONE, 0 },
	{ { "GET", "/metrics", 0, NULL, 0 }, web_h_metrics, AUTH_NONE, 0 },
	{ { "GET", "/jwks", 0, NULL, 0 }, web_h_jwks, AUTH_NONE, 0 },
	{ { "GET", "/api/v1/journal/checkpoint", 0, NULL, 0 },
	    web_h_checkpoint, AUTH_NONE, 0 },
	{ { "POST", "/api/v1/session/challenge", 1,
	    FIELDS(signin_challenge_fields) }, web_h_signin_challenge,
	    AUTH_NONE, 0 },
	{ { "POST", "/api/v1/session", 1, FIELDS(signin_fields) },
	    web_h_signin, AUTH_NONE, 0 },
	{ { "GET", "/api/v1/session", 0, NULL, 0 }, web_h_session_show,
	    AUTH_SESSION, 0 },
	{ { "DELETE", "/api/v1/session", 0, NULL, 0 }, web_h_signout,
	    AUTH_SESSION, 0 },
	{ { "POST", "/api/v1/requests", 1, FIELDS(request_fields) },
	    web_h_request_file, AUTH_SESSION, 0 },
	{ { "GET", "/api/v1/requests", 0, NULL, 0 }, web_h_request_list,
	    AUTH_SESSION, SCOPE_REQUESTS_READ },
	{ { "GET", "/api/v1/requests/{id}", 0, NULL, 0 },
	    web_h_request_show, AUTH_SESSION, SCOPE_REQUESTS_READ },
	{ { "POST", "/api/v1/requests/{id}/challenge", 1,
	    FIELDS(challenge_fields) }, web_h_request_challenge,
	    AUTH_SESSION, 0 },
	{ { "POST", "/api/v1/requests/{id}/votes", 1, FIELDS(vote_fields) },
	    web_h_request_vote, AUTH_SESSION, 0 },
	{ { "GET", "/api/v1/requests/{id}/grant", 0, NULL, 0 },
	    web_h_request_grant, AUTH_SESSION, 0 },
	{ { "POST", "/api/v1/requests/{id}/review", 1,
	    FIELDS(review_fields) }, web_h_request_review, AUTH_SESSION, 0 },
	{ { "GET", "/api/v1/grants", 0, NULL, 0 }, web_h_grant_list,
	    AUTH_SESSION, SCOPE_REQUESTS_READ },
	{ { "POST", "/api/v1/grants/{jti}/revoke", 0, NULL, 0 },
	    web_h_grant_revoke, AUTH_SESSION, 0 },
	{ { "GET", "/api/v1/journal/export", 0, NULL, 0 },
	    web_h_journal_export, AUTH_SESSION, SCOPE_JOURNAL_READ },
	{ { "GET", "/api/v1/evidence", 0, NULL, 0 }, web_h_evidence,
	    AUTH_SESSION, SCOPE_JOURNAL_READ },
	{ { "POST", "/api/v1/invitations", 1, FIELDS(invite_fields) },
	    web_h_invite, AUTH_SESSION, 0 },
	{ { "POST", "/api/v1/enroll/challenge", 1,
	    FIELDS(enroll_challenge_fields) }, web_h_enroll_challenge,
	    AUTH_NONE, 0 },
	{ { "POST", "/api/v1/enroll", 1, FIELDS(enroll_fields) },
	    web_h_enroll, AUTH_NONE, 0 },
	{ { "POST", "/api/v1/api-keys", 1, FIELDS(apikey_fields) },
	    web_h_apikey_create, AUTH_SESSION, 0 },
	{ { "GET", "/api/v1/api-keys", 0, NULL, 0 }, web_h_apikey_list,
	    AUTH_SESSION, 0 },
	{ { "DELETE", "/api/v1/api-keys/{id}", 0, NULL, 0 },
	    web_h_apikey_revoke, AUTH_SESSION, 0 },
	{ { "GET", "/api/v1/inventory/accounts", 0, NULL, 0 },
	    web_h_inventory_list, AUTH_SESSION, 0 },
	{ { "GET", "/api/v1/inventory/accounts/{id}", 0, NULL, 0 },
	    web_h_inventory_show, AUTH_SESSION, 0 },
	{ { "GET", "/api/v1/inventory/export", 0, NULL, 0 },
	    web_h_inventory_export, AUTH_SESSION, 0 },
	{ { "GET", "/api/v1/inventory/export.csv", 0, NULL, 0 },
	    web_h_inventory_export_csv, AUTH_SESSION, 0 },
	{ { "POST", "/api/v1/inventory/import", TK_WEB_BODY_RAW, NULL, 0 },
	    web_h_inventory_import, AUTH_SESSION, 0 },
	{ { "POST", "/api/v1/inventory/events", 1,
	    FIELDS(inventory_event_fields) }, web_h_inventory_event,
	    AUTH_SESSION, SCOPE_INVENTORY_EVENTS },
	{ { "GET", "/api/v1/inventory/reassign", 0, NULL, 0 },
	    web_h_inventory_reassign, AUTH_SESSION, 0 },
	/* ---- governed changes and the safe immediate actions ---- */
	{ { "POST", "/api/v1/changes", 1, FIELDS(change_fields) },
	    web_h_change_propose, AUTH_SESSION, 0 },
	{ { "GET", "/api/v1/changes", 0, NULL, 0 }, web_h_change_list,
	    AUTH_SESSION, 0 },
	{ { "GET", "/api/v1/changes/{id}", 0, NULL, 0 }, web_h_change_show,
	    AUTH_SESSION, 0 },
	{ { "GET", "/api/v1/policy", 0, NULL, 0 }, web_h_policy_show,
	    AUTH_SESSION, 0 },
	{ { "POST", "/api/v1/policy/blocked", 1, FIELDS(block_fields) },
	    web_h_policy_block, AUTH_SESSION, 0 },
	{ { "GET", "/api/v1/people", 0, NULL, 0 }, web_h_people_list,
	    AUTH_SESSION, 0 },
	{ { "POST", "/api/v1/people/{id}/suspend", 0, NULL, 0 },
	    web_h_person_suspend, AUTH_SESSION, 0 },
	{ { "POST", "/api/v1/people/{id}/leave", 0, NULL, 0 },
	    web_h_person_leave, AUTH_SESSION, 0 },
	{ { "POST", "/api/v1/people/{id}/invitation", 1,
	    FIELDS(new_key_invite_fields) }, web_h_person_invitation,
	    AUTH_SESSION, 0 },
	{ { "POST", "/api/v1/credentials/revoke", 1,
	    FIELDS(cred_revoke_fields) }, web_h_credential_revoke,
	    AUTH_SESSION, 0 },
	{ { "POST", "/api/v1/credentials/challenge", 0, NULL, 0 },
	    web_h_credential_challenge, AUTH_SESSION, 0 },
	{ { "POST", "/api/v1/credentials", 1, FIELDS(cred_add_fields) },
	    web_h_credential_add, AUTH_SESSION, 0 },
	/* ---- end governed changes ---- */
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

size_t
tk_web_route_count(void)
{
	return NROUTES;
}

const struct tk_web_route_info *
tk_web_route(size_t i)
{
	return i < NROUTES ? &routes[i].info : NULL;
}

/*
 * Matches url against a template where "{name}" stands for one non-empty
 * segment of at most paramlen-1 bytes of [A-Za-z0-9_-], copied to param.
 */
static int
path_matches(const char *tmpl, const char *url, char *param,
    size_t paramlen)
{
	size_t n;

	while (*tmpl != '\0') {
		if (*tmpl == '{') {
			n = strspn(url, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "abcdefghijklmnopqrstuvwxyz0123456789_-");
			if (n == 0 || n >= paramlen)
				return 0;
			memcpy(param, url, n);
			param[n] = '\0';
			url += n;
			tmpl = strchr(tmpl, '}');
			if (tmpl == NULL)
				return 0;
			tmpl++;
			continue;
		}
		if (*tmpl++ != *url++)
			return 0;
	}
	return *url == '\0';
}

void
web_route_allow(const char *url, char *out, size_t outlen)
{
	char param[WEB_PARAM_MAX];
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < NROUTES && n < outlen; i++) {
		if (!path_matches(routes[i].info.path, url, param,
		    sizeof(param)))
			continue;
		n += (size_t)snprintf(out + n, outlen - n, "%s%s%s",
		    n > 0 ? ", " : "", routes[i].info.method,
		    strcmp(routes[i].info.method, "GET") == 0 ? ", HEAD" : "");
	}
}

int
web_route_find(const char *method, const char *url,
    const struct route **out, char *param, size_t paramlen)
{
	size_t i;
	int path_seen = 0;

	/* HEAD is GET without the body, which libmicrohttpd leaves out. */
	if (strcmp(method, "HEAD") == 0)
		method = "GET";
	*out = NULL;
	for (i = 0; i < NROUTES; i++) {
		param[0] = '\0';
		if (!path_matches(routes[i].info.path, url, param, paramlen))
			continue;
		path_seen = 1;
		if (strcmp(routes[i].info.method, method) == 0) {
			*out = &routes[i];
			return 0;
		}
	}
	param[0] = '\0';
	return path_seen ? -2 : -1;
}

const char *const *
web_route_query(const struct route *rt)
{
	static const char *const period[] = { "from", "to", NULL };
	static const char *const governed[] = { "reason", "ticket", NULL };

	if (rt->fn == web_h_evidence)
		return period;
	if (rt->fn == web_h_inventory_import)
		return governed;
	return NULL;
}
