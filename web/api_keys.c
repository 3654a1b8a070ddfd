/*
 * API keys for automation: an administrator makes one with a name and
 * scopes; the secret ("tk_" + id + "_" + 43 base64url characters) is
 * shown once and only its SHA-256 kept. A request presents it as
 * "Authorization: Bearer ..." on the routes that accept its scope; no
 * cookie is involved, so no CSRF token either. Keys are revoked, never
 * deleted, so the journal's references stay meaningful.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "web_int.h"

/* Bit i of a key's scopes is scope_names[i]. */
static const char *scope_names[] = { "requests:read", "journal:read",
    "inventory:events" };
#define NSCOPES (sizeof(scope_names) / sizeof(scope_names[0]))

json_t *
web_scopes_json(unsigned int scopes)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < NSCOPES; i++)
		if (scopes & (1u << i))
			json_array_append_new(a, json_string(scope_names[i]));
	return a;
}

static int
scopes_from_json(json_t *arr, unsigned int *scopes)
{
	json_t *v;
	size_t i, k;

	*scopes = 0;
	json_array_foreach(arr, i, v) {
		for (k = 0; k < NSCOPES; k++)
			if (strcmp(json_string_value(v), scope_names[k]) == 0)
				break;
		if (k == NSCOPES)
			return -1;
		*scopes |= 1u << k;
	}
	return 0;
}

static int
admin_only(struct req *rq, struct reply *r)
{
	if (rq->who.roles & TK_ROLE_ADMIN)
		return 1;
	web_reply_error(r, 403, "role_missing", "API keys are managed by "
	    "people with the admin role");
	return 0;
}

void
web_h_apikey_create(struct tk_web *w, struct req *rq, struct reply *r)
{
	struct apikey k;
	uint8_t raw[16], hash[32];
	char secret[128], prefix[48], obj[48];

	if (!web_backend_ready(w, r) || !admin_only(rq, r))
		return;
	memset(&k, 0, sizeof(k));
	if (scopes_from_json(json_object_get(rq->json, "scopes"),
	    &k.scopes) != 0) {
		web_reply_error(r, 400, "invalid_field", "field \"scopes\" "
		    "takes requests:read, journal:read and inventory:events");
		return;
	}
	snprintf(k.name, sizeof(k.name), "%s", json_string_value(
	    json_object_get(rq->json, "name")));
	snprintf(k.creator, sizeof(k.creator), "%s", rq->who.name);
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return;
	tk_hex_encode(raw, sizeof(raw), k.id);
	snprintf(prefix, sizeof(prefix), "tk_%s_", k.id);
	if (web_new_secret(prefix, secret, sizeof(secret)) != 0 ||
	    web_hash(secret, hash) != 0)
		goto out;
	snprintf(obj, sizeof(obj), "apikey:%s", k.id);
	if (web_journal(w, r, rq->who.name, "apikey.create", obj,
	    json_pack("{s:s,s:I}", "name", k.name, "scopes",
	    (json_int_t)k.scopes)) != 0)
		goto out;
	if (web_apikey_add(w, &k, hash) != 0) {
		web_reply_error(r, 503, "unavailable", "the key could not be "
		    "stored");
		goto out;
	}
	web_reply_json(r, 201, json_pack("{s:s,s:s,s:s,s:o}", "id", k.id,
	    "name", k.name, "key", secret, "scopes",
	    web_scopes_json(k.scopes)));
out:
	OPENSSL_cleanse(secret, sizeof(secret));
}

void
web_h_apikey_list(struct tk_web *w, struct req *rq, struct reply *r)
{
	json_t *list;

	if (!admin_only(rq, r))
		return;
	if ((list = web_apikey_list(w)) == NULL) {
		web_reply_error(r, 503, "unavailable", "the keys could not be "
		    "read");
		return;
	}
	web_reply_json(r, 200, json_pack("{s:o}", "keys", list));
}

void
web_h_apikey_revoke(struct tk_web *w, struct req *rq, struct reply *r)
{
	char obj[48];

	if (!web_backend_ready(w, r) || !admin_only(rq, r))
		return;
	/* Revoked first: if the journal then fails, the key is off
	 * anyway, which is the safe side. */
	if (web_apikey_revoke(w, rq->param) != 0) {
		web_reply_error(r, 404, "not_found", "no active key with "
		    "that id");
		return;
	}
	snprintf(obj, sizeof(obj), "apikey:%.32s", rq->param);
	if (web_journal(w, r, rq->who.name, "apikey.revoke", obj, NULL) != 0)
		return;
	web_reply_json(r, 200, json_pack("{s:s,s:b}", "id", rq->param,
	    "revoked", 1));
}

/*
 * A key acts with its creator's authority: it is void as soon as the
 * creator is suspended, leaves or loses the admin role.
 */
static int
creator_still_admin(struct tk_web *w, const char *creator)
{
	struct tk_person p;
	int rc;

	if (w->be == NULL || w->be->ap == NULL)
		return 0;
	pthread_mutex_lock(w->be->lock);
	rc = tk_approvals_person_by_name(w->be->ap, creator, &p);
	pthread_mutex_unlock(w->be->lock);
	return rc == 0 && p.state == TK_PERSON_ACTIVE &&
	    (p.roles & TK_ROLE_ADMIN) != 0;
}

/*
 * Authenticates "Authorization: Bearer <key>" for a route that accepts
 * scope. Returns 0 and fills who, or -1 (unknown key), -2 (scope), -3
 * (another scheme than Bearer) or -4 (its creator is no longer an
 * active admin).
 */
int
web_apikey_auth(struct tk_web *w, const char *header, unsigned int scope,
    struct who *who)
{
	struct apikey k;
	uint8_t hash[32];

	memset(who, 0, sizeof(*who));
	/* The scheme name is case-insensitive (RFC 9110, 11.1). */
	if (strncasecmp(header, "Bearer ", 7) != 0)
		return -3;
	if (web_hash(header + 7, hash) != 0 ||
	    web_apikey_find(w, hash, &k) != 0)
		return -1;
	if (!creator_still_admin(w, k.creator))
		return -4;
	if (scope == 0 || (k.scopes & scope) != scope)
		return -2;
	snprintf(who->name, sizeof(who->name), "apikey:%.32s", k.id);
	return 0;
}
