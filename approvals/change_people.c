/*
 * The governed changes of people: enrolling a person with a governed
 * role together with their first credential, adding a credential to such
 * a person, changing roles or team, reactivating. Each "after" holds all
 * that applying needs (the credential's public key included), so that an
 * approver signs exactly the key that will be trusted.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "twokey/approvals.h"
#include "twokey/changes.h"
#include "twokey/common.h"
#include "internal.h"

static const char *const state_names[] = { "active", "suspended", "left" };

json_t *
tk_credential_to_json(const struct tk_credential *c)
{
	char *id = tk_b64url_encode(c->id, c->id_len);
	char *key = tk_b64url_encode(c->cose_key, c->cose_key_len);
	char aaguid[2 * TK_AAGUID_LEN + 1];
	json_t *o = NULL;

	tk_hex_encode(c->aaguid, TK_AAGUID_LEN, aaguid);
	if (id != NULL && key != NULL)
		o = json_pack("{s:s,s:i,s:s,s:s,s:s,s:I,s:b,s:b,s:b,s:b}",
		    "id", id, "alg", c->alg, "cose_key", key, "aaguid",
		    aaguid, "fmt", c->fmt, "sign_count",
		    (json_int_t)c->sign_count, "backup_eligible",
		    c->backup_eligible != 0, "backup_state",
		    c->backup_state != 0, "uv", c->uv_at_registration != 0,
		    "attested", c->attestation_trusted != 0);
	free(id);
	free(key);
	return o;
}

static int
b64_into(json_t *o, const char *k, uint8_t *out, size_t cap, size_t *len)
{
	const char *s = json_string_value(json_object_get(o, k));
	uint8_t *raw = NULL;
	size_t n = 0;

	if (s == NULL || tk_b64url_decode(s, strlen(s), &raw, &n) != 0)
		return -1;
	if (n == 0 || n > cap) {
		free(raw);
		return -1;
	}
	memcpy(out, raw, n);
	*len = n;
	free(raw);
	return 0;
}

static int
cred_from_json(json_t *o, int64_t person, struct tk_credential *c)
{
	const char *aaguid, *fmt;
	json_t *sc;

	memset(c, 0, sizeof(*c));
	c->person_id = person;
	aaguid = json_string_value(json_object_get(o, "aaguid"));
	fmt = json_string_value(json_object_get(o, "fmt"));
	sc = json_object_get(o, "sign_count");
	if (!json_is_object(o) || json_object_size(o) != 10 ||
	    b64_into(o, "id", c->id, sizeof(c->id), &c->id_len) != 0 ||
	    b64_into(o, "cose_key", c->cose_key, sizeof(c->cose_key),
	    &c->cose_key_len) != 0 || aaguid == NULL ||
	    tk_hex_decode(aaguid, c->aaguid, sizeof(c->aaguid)) != 0 ||
	    fmt == NULL || strlen(fmt) == 0 ||
	    strlen(fmt) >= sizeof(c->fmt) || tk_apr_check_token(fmt) != 0 ||
	    !json_is_integer(json_object_get(o, "alg")) ||
	    !json_is_integer(sc) || json_integer_value(sc) < 0 ||
	    json_integer_value(sc) > UINT32_MAX ||
	    !json_is_boolean(json_object_get(o, "backup_eligible")) ||
	    !json_is_boolean(json_object_get(o, "backup_state")) ||
	    !json_is_boolean(json_object_get(o, "uv")) ||
	    !json_is_boolean(json_object_get(o, "attested")))
		return TK_APR_ERR_INVALID;
	memcpy(c->fmt, fmt, strlen(fmt) + 1);
	c->alg = (int)json_integer_value(json_object_get(o, "alg"));
	c->sign_count = (uint32_t)json_integer_value(sc);
	c->backup_eligible = json_is_true(json_object_get(o,
	    "backup_eligible"));
	c->backup_state = json_is_true(json_object_get(o, "backup_state"));
	c->uv_at_registration = json_is_true(json_object_get(o, "uv"));
	c->attestation_trusted = json_is_true(json_object_get(o,
	    "attested"));
	return TK_APR_OK;
}

/* "person/ID" into id. */
static int
target_person(const char *target, int64_t *id)
{
	char *end;
	long long v;

	if (strncmp(target, "person/", 7) != 0)
		return TK_APR_ERR_INVALID;
	v = strtoll(target + 7, &end, 10);
	if (*end != '\0' || v <= 0)
		return TK_APR_ERR_INVALID;
	*id = (int64_t)v;
	return TK_APR_OK;
}

int
tk_change_subject(struct tk_approvals *ap, const char *canonical,
    int64_t *person)
{
	struct tk_person p;
	const char *target;
	json_t *root;
	int rc = TK_APR_OK;

	*person = 0;
	if ((root = json_loads(canonical, 0, NULL)) == NULL)
		return TK_APR_ERR_DB;
	target = json_string_value(json_object_get(root, "target"));
	if (target == NULL)
		rc = TK_APR_ERR_DB;
	else if (strncmp(target, "person:", 7) == 0) {
		/* An enrollment: about whoever holds the name by now. */
		if ((rc = tk_approvals_name_holder(ap, target + 7, &p)) == 0)
			*person = p.id;
		else if (rc == TK_APR_ERR_NOT_FOUND)
			rc = TK_APR_OK;
	} else if (target_person(target, person) != 0)
		*person = 0;
	json_decref(root);
	return rc;
}

/* args' "person" (a positive id) as a target, the person into p. */
static int
args_person(struct tk_change_ctx *c, json_t *args, char *target,
    struct tk_person *p)
{
	json_t *v = json_object_get(args, "person");

	if (!json_is_integer(v) || json_integer_value(v) <= 0)
		return TK_APR_ERR_INVALID;
	(void)snprintf(target, TK_CHANGE_TARGET_MAX, "person/%" PRId64,
	    (int64_t)json_integer_value(v));
	return tk_store_person_get(c->ap, (int64_t)json_integer_value(v), p);
}

/*
 * A person or team name in args, or why it is refused: the same rule as
 * an invitation's, so that no route sets a name another refuses.
 */
static int
name_arg(struct tk_change_ctx *c, const char *field, json_t *v)
{
	if (tk_apr_check_name(json_string_value(v)) == 0)
		return TK_APR_OK;
	(void)snprintf(c->why, sizeof(c->why), "field \"%s\" takes "
	    TK_NAME_RULE, field);
	return TK_APR_ERR_INVALID;
}

static int
only(json_t *o, const char *const *keys, size_t n)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(o, k, v) {
		for (i = 0; i < n; i++)
			if (strcmp(k, keys[i]) == 0)
				break;
		if (i == n)
			return -1;
	}
	return 0;
}

int
tk_store_cred_insert(struct tk_approvals *ap, const struct tk_credential *c)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = tk_store_prepare(ap, "INSERT INTO credentials VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st)) != 0)
		return rc;
	sqlite3_bind_blob(st, 1, c->id, (int)c->id_len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, c->person_id);
	sqlite3_bind_int(st, 3, c->alg);
	sqlite3_bind_blob(st, 4, c->cose_key, (int)c->cose_key_len,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)c->sign_count);
	sqlite3_bind_blob(st, 6, c->aaguid, TK_AAGUID_LEN, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, c->fmt, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, c->backup_eligible != 0);
	sqlite3_bind_int(st, 9, c->backup_state != 0);
	sqlite3_bind_int(st, 10, c->uv_at_registration != 0);
	sqlite3_bind_int(st, 11, c->attestation_trusted != 0);
	sqlite3_bind_int64(st, 12, (sqlite3_int64)c->flags);
	return tk_store_done(ap, st);
}

/* ---- person.enroll ---------------------------------------------- */

static int
enroll_before(struct tk_change_ctx *c, const char *target, json_t *after,
    json_t **before)
{
	struct tk_credential cred;
	struct tk_person p;
	int rc;

	(void)target;
	if ((*before = json_object()) == NULL)
		return TK_APR_ERR_NOMEM;
	/* "ALICE" is taken once "alice" is enrolled. */
	rc = tk_approvals_name_holder(c->ap, json_string_value(
	    json_object_get(after, "name")), &p);
	if (rc == 0 && json_object_set_new(*before, "person", json_pack(
	    "{s:s,s:o,s:s}", "team", p.team, "roles",
	    tk_change_roles_json(p.roles), "state",
	    state_names[p.state % 3])) != 0)
		return TK_APR_ERR_NOMEM;
	if (rc != 0 && rc != TK_APR_ERR_NOT_FOUND)
		return rc;
	if (cred_from_json(json_object_get(after, "credential"), 0,
	    &cred) != 0)
		return TK_APR_ERR_DB;
	rc = tk_store_cred_get(c->ap, cred.id, cred.id_len, &cred);
	if (rc == 0 && json_object_set_new(*before, "credential",
	    json_string("registered to someone")) != 0)
		return TK_APR_ERR_NOMEM;
	return rc == 0 || rc == TK_APR_ERR_CREDENTIAL ? TK_APR_OK : rc;
}

static int
enroll_prepare(struct tk_change_ctx *c, json_t *args,
    char target[TK_CHANGE_TARGET_MAX], json_t **after)
{
	static const char *const keys[] = { "name", "team", "roles",
	    "credential" };
	struct tk_credential cred;
	const char *name, *team;
	json_t *before = NULL;
	unsigned int roles;
	int rc;

	name = json_string_value(json_object_get(args, "name"));
	team = json_string_value(json_object_get(args, "team"));
	if ((rc = name_arg(c, "name", json_object_get(args, "name"))) != 0 ||
	    (rc = name_arg(c, "team", json_object_get(args, "team"))) != 0)
		return rc;
	if (only(args, keys, 4) != 0 ||
	    tk_change_roles_parse(json_object_get(args, "roles"),
	    &roles) != 0 || roles == 0 ||
	    cred_from_json(json_object_get(args, "credential"), 0,
	    &cred) != 0)
		return TK_APR_ERR_INVALID;
	(void)snprintf(target, TK_CHANGE_TARGET_MAX, "person:%s", name);
	if ((*after = json_pack("{s:s,s:s,s:o,s:o}", "name", name, "team",
	    team, "roles", tk_change_roles_json(roles), "credential",
	    tk_credential_to_json(&cred))) == NULL)
		return TK_APR_ERR_NOMEM;
	/* A taken name or credential is refused now, not left to go stale. */
	if ((rc = enroll_before(c, target, *after, &before)) == 0 &&
	    json_object_size(before) != 0)
		rc = TK_APR_ERR_EXISTS;
	json_decref(before);
	return rc;
}

static int
enroll_apply(struct tk_change_ctx *c, const char *target, json_t *after)
{
	struct tk_credential cred;
	sqlite3_stmt *st = NULL;
	unsigned int roles;
	int rc;

	(void)target;
	if (tk_change_roles_parse(json_object_get(after, "roles"),
	    &roles) != 0)
		return TK_APR_ERR_DB;
	if ((rc = tk_store_prepare(c->ap, "INSERT INTO people(name, team, "
	    "roles, state) VALUES (?, ?, ?, 0)", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, json_string_value(json_object_get(after,
	    "name")), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, json_string_value(json_object_get(after,
	    "team")), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, (int)roles);
	if ((rc = tk_store_done(c->ap, st)) != 0)
		return rc;
	if (cred_from_json(json_object_get(after, "credential"),
	    sqlite3_last_insert_rowid(c->db), &cred) != 0)
		return TK_APR_ERR_DB;
	return tk_store_cred_insert(c->ap, &cred);
}

const struct tk_change_type tk_change_person_enroll = {
	"person.enroll", TK_ROLE_ADMIN, enroll_prepare, enroll_before,
	enroll_apply,
};

/* ---- credential.add ---------------------------------------------- */

static json_t *
cred_ids(struct tk_approvals *ap, int64_t person)
{
	sqlite3_stmt *st = NULL;
	json_t *a = json_array();
	char *b;

	if (a == NULL || tk_store_prepare(ap, "SELECT id FROM credentials "
	    "WHERE person_id = ? ORDER BY id", &st) != 0) {
		json_decref(a);
		return NULL;
	}
	sqlite3_bind_int64(st, 1, person);
	while (sqlite3_step(st) == SQLITE_ROW) {
		b = tk_b64url_encode(sqlite3_column_blob(st, 0),
		    (size_t)sqlite3_column_bytes(st, 0));
		if (b == NULL || json_array_append_new(a,
		    json_string(b)) != 0) {
			free(b);
			json_decref(a);
			a = NULL;
			break;
		}
		free(b);
	}
	sqlite3_finalize(st);
	return a;
}

static int
credadd_before(struct tk_change_ctx *c, const char *target, json_t *after,
    json_t **before)
{
	struct tk_person p;
	int64_t id;
	int rc;

	(void)after;
	if ((rc = target_person(target, &id)) != 0 ||
	    (rc = tk_store_person_get(c->ap, id, &p)) != 0)
		return rc;
	*before = json_pack("{s:s,s:o}", "name", p.name, "credentials",
	    cred_ids(c->ap, id));
	return *before == NULL ? TK_APR_ERR_NOMEM : TK_APR_OK;
}

static int
credadd_prepare(struct tk_change_ctx *c, json_t *args,
    char target[TK_CHANGE_TARGET_MAX], json_t **after)
{
	static const char *const keys[] = { "person", "credential" };
	struct tk_credential cred, old;
	struct tk_person p;
	json_t *ids;
	int rc;

	if (only(args, keys, 2) != 0 || cred_from_json(json_object_get(args,
	    "credential"), 0, &cred) != 0)
		return TK_APR_ERR_INVALID;
	if ((rc = args_person(c, args, target, &p)) != 0)
		return rc;
	if ((rc = tk_store_cred_get(c->ap, cred.id, cred.id_len,
	    &old)) != TK_APR_ERR_CREDENTIAL)
		return rc == 0 ? TK_APR_ERR_EXISTS : rc;
	if ((ids = cred_ids(c->ap, p.id)) == NULL ||
	    json_array_append_new(ids, json_string(json_string_value(
	    json_object_get(json_object_get(args, "credential"),
	    "id")))) != 0) {
		json_decref(ids);
		return TK_APR_ERR_NOMEM;
	}
	*after = json_pack("{s:s,s:o,s:o}", "name", p.name, "credentials",
	    ids, "credential", tk_credential_to_json(&cred));
	return *after == NULL ? TK_APR_ERR_NOMEM : TK_APR_OK;
}

static int
credadd_apply(struct tk_change_ctx *c, const char *target, json_t *after)
{
	struct tk_credential cred;
	int64_t id;

	if (target_person(target, &id) != 0 ||
	    cred_from_json(json_object_get(after, "credential"), id,
	    &cred) != 0)
		return TK_APR_ERR_DB;
	return tk_store_cred_insert(c->ap, &cred);
}

const struct tk_change_type tk_change_credential_add = {
	"credential.add", TK_ROLE_ALL, credadd_prepare, credadd_before,
	credadd_apply,
};

/* ---- person.update: roles and team ------------------------------- */

static int
update_before(struct tk_change_ctx *c, const char *target, json_t *after,
    json_t **before)
{
	struct tk_person p;
	int64_t id;
	int rc;

	if ((rc = target_person(target, &id)) != 0 ||
	    (rc = tk_store_person_get(c->ap, id, &p)) != 0)
		return rc;
	if ((*before = json_pack("{s:s}", "name", p.name)) == NULL)
		return TK_APR_ERR_NOMEM;
	if (json_object_get(after, "roles") != NULL &&
	    json_object_set_new(*before, "roles",
	    tk_change_roles_json(p.roles)) != 0)
		return TK_APR_ERR_NOMEM;
	if (json_object_get(after, "team") != NULL &&
	    json_object_set_new(*before, "team", json_string(p.team)) != 0)
		return TK_APR_ERR_NOMEM;
	return TK_APR_OK;
}

/*
 * Taking the admin role from the last active admin would leave no one to
 * propose any change, invite or suspend: refused, in words.
 */
static int
other_admins(struct tk_change_ctx *c, const struct tk_person *p)
{
	int rc;

	/* A policy refusal here, with the reason in words. */
	if ((rc = tk_apr_other_admins(c->ap, p->id)) != TK_APR_ERR_LAST_ADMIN)
		return rc;
	(void)snprintf(c->why, sizeof(c->why), "%s is the last active admin: "
	    "give another person the admin role first", p->name);
	return TK_APR_ERR_POLICY;
}

static int
update_prepare(struct tk_change_ctx *c, json_t *args,
    char target[TK_CHANGE_TARGET_MAX], json_t **after)
{
	static const char *const keys[] = { "person", "roles", "team" };
	struct tk_person p;
	json_t *r = json_object_get(args, "roles");
	json_t *t = json_object_get(args, "team");
	unsigned int roles = 0;
	int rc;

	if (t != NULL && (rc = name_arg(c, "team", t)) != 0)
		return rc;
	if (only(args, keys, 3) != 0 || (r == NULL && t == NULL) ||
	    (r != NULL && tk_change_roles_parse(r, &roles) != 0))
		return TK_APR_ERR_INVALID;
	if ((rc = args_person(c, args, target, &p)) != 0)
		return rc;
	if (r != NULL && (p.roles & TK_ROLE_ADMIN) != 0 &&
	    (roles & TK_ROLE_ADMIN) == 0 && (rc = other_admins(c, &p)) != 0)
		return rc;
	if ((*after = json_pack("{s:s}", "name", p.name)) == NULL ||
	    (r != NULL && json_object_set_new(*after, "roles",
	    tk_change_roles_json(roles)) != 0) ||
	    (t != NULL && json_object_set(*after, "team", t) != 0))
		return TK_APR_ERR_NOMEM;
	return TK_APR_OK;
}

static int
update_apply(struct tk_change_ctx *c, const char *target, json_t *after)
{
	sqlite3_stmt *st = NULL;
	struct tk_person p;
	unsigned int roles;
	const char *team;
	int64_t id;
	int rc;

	if (target_person(target, &id) != 0 ||
	    (rc = tk_store_person_get(c->ap, id, &p)) != 0)
		return TK_APR_ERR_DB;
	roles = p.roles;
	if (json_object_get(after, "roles") != NULL &&
	    tk_change_roles_parse(json_object_get(after, "roles"),
	    &roles) != 0)
		return TK_APR_ERR_DB;
	if ((team = json_string_value(json_object_get(after, "team"))) ==
	    NULL)
		team = p.team;
	if ((rc = tk_store_prepare(c->ap, "UPDATE people SET roles = ?, "
	    "team = ? WHERE id = ?", &st)) != 0)
		return rc;
	sqlite3_bind_int(st, 1, (int)roles);
	sqlite3_bind_text(st, 2, team, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, id);
	return tk_store_done(c->ap, st);
}

const struct tk_change_type tk_change_person_update = {
	"person.update", TK_ROLE_ADMIN, update_prepare, update_before,
	update_apply,
};

/* ---- person.reactivate ------------------------------------------- */

static int
react_before(struct tk_change_ctx *c, const char *target, json_t *after,
    json_t **before)
{
	struct tk_person p;
	int64_t id;
	int rc;

	(void)after;
	if ((rc = target_person(target, &id)) != 0 ||
	    (rc = tk_store_person_get(c->ap, id, &p)) != 0)
		return rc;
	*before = json_pack("{s:s,s:s}", "name", p.name, "state",
	    state_names[p.state % 3]);
	return *before == NULL ? TK_APR_ERR_NOMEM : TK_APR_OK;
}

static int
react_prepare(struct tk_change_ctx *c, json_t *args,
    char target[TK_CHANGE_TARGET_MAX], json_t **after)
{
	static const char *const keys[] = { "person" };
	struct tk_person p;
	int rc;

	if (only(args, keys, 1) != 0)
		return TK_APR_ERR_INVALID;
	if ((rc = args_person(c, args, target, &p)) != 0)
		return rc;
	*after = json_pack("{s:s,s:s}", "name", p.name, "state", "active");
	return *after == NULL ? TK_APR_ERR_NOMEM : TK_APR_OK;
}

static int
react_apply(struct tk_change_ctx *c, const char *target, json_t *after)
{
	sqlite3_stmt *st = NULL;
	int64_t id;
	int rc;

	(void)after;
	if (target_person(target, &id) != 0)
		return TK_APR_ERR_DB;
	if ((rc = tk_store_prepare(c->ap, "UPDATE people SET state = 0 "
	    "WHERE id = ?", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	return tk_store_done(c->ap, st);
}

const struct tk_change_type tk_change_person_reactivate = {
	"person.reactivate", TK_ROLE_ADMIN, react_prepare, react_before,
	react_apply,
};

/* ---- lookups and the immediate credential revocation --------------- */

/* The person the query (one ?1 for the name) finds first. */
static int
person_found(struct tk_approvals *ap, const char *sql, const char *name,
    struct tk_person *out)
{
	sqlite3_stmt *st = NULL;
	int64_t id = 0;
	int r, rc;

	memset(out, 0, sizeof(*out));
	if (tk_apr_check_text(name, TK_NAME_MAX) != 0)
		return TK_APR_ERR_NOT_FOUND;
	if ((rc = tk_store_prepare(ap, sql, &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if ((r = sqlite3_step(st)) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (r != SQLITE_ROW)
		return r == SQLITE_DONE ? TK_APR_ERR_NOT_FOUND : TK_APR_ERR_DB;
	return tk_store_person_get(ap, id, out);
}

int
tk_approvals_person_by_name(struct tk_approvals *ap, const char *name,
    struct tk_person *out)
{
	return person_found(ap, "SELECT id FROM people WHERE name = ?1",
	    name, out);
}

int
tk_approvals_name_holder(struct tk_approvals *ap, const char *name,
    struct tk_person *out)
{
	/*
	 * NOCASE folds ASCII only, which is all that the name rule lets in.
	 * A store from before the rule may hold two spellings: the exact one
	 * comes first.
	 */
	return person_found(ap, "SELECT id FROM people WHERE name = ?1 "
	    "COLLATE NOCASE ORDER BY name = ?1 DESC, id LIMIT 1", name, out);
}

int
tk_approvals_credential_revoke(struct tk_approvals *ap, int64_t actor_id,
    const uint8_t *id, size_t id_len)
{
	struct tk_credential c;
	struct tk_person p;
	char obj[32] = "credential", *b64;
	int rc;

	memset(&p, 0, sizeof(p));
	if ((rc = tk_store_begin(ap)) != 0)
		return rc;
	if ((rc = tk_apr_actor_check(ap, actor_id, TK_ROLE_ADMIN, &p)) != 0 ||
	    (rc = tk_store_cred_get(ap, id, id_len, &c)) != 0)
		goto refuse;
	(void)snprintf(obj, sizeof(obj), "person/%" PRId64, c.person_id);
	if ((c.flags & TK_CRED_REVOKED) != 0) {
		rc = TK_APR_ERR_CRED_REVOKED;
		goto refuse;
	}
	c.flags |= TK_CRED_REVOKED;
	if ((rc = tk_store_cred_update(ap, &c)) != 0)
		goto refuse;
	if ((b64 = tk_b64url_encode(c.id, c.id_len)) == NULL) {
		rc = TK_APR_ERR_NOMEM;
		goto refuse;
	}
	rc = tk_apr_commit_event(ap, p.name, "credential.revoke", obj,
	    json_pack("{s:s}", "credential", b64));
	free(b64);
	return rc;
refuse:
	tk_store_rollback(ap);
	if (rc == TK_APR_ERR_DB || rc == TK_APR_ERR_NOMEM)
		return rc;
	return tk_apr_refuse(ap, p.id != 0 ? p.name : "-",
	    "credential.revoke", obj, rc, NULL);
}

/* A regression flags the credential, journaled; else the counter moves. */
static int
counter_store(struct tk_approvals *ap, struct tk_credential *c,
    const struct tk_person *p, uint32_t sign_count, int regressed)
{
	char obj[32], *b64;
	int rc;

	if (!regressed) {
		if (sign_count <= c->sign_count)
			return TK_APR_OK;
		c->sign_count = sign_count;
		return tk_store_cred_update(ap, c);
	}
	c->flags |= TK_CRED_CLONED;
	if ((rc = tk_store_cred_update(ap, c)) != 0)
		return rc;
	if ((b64 = tk_b64url_encode(c->id, c->id_len)) == NULL)
		return TK_APR_ERR_NOMEM;
	(void)snprintf(obj, sizeof(obj), "person/%" PRId64, c->person_id);
	rc = tk_apr_record(ap, p->name, "credential.flag", obj,
	    json_pack("{s:s,s:s,s:I,s:I}", "credential", b64, "reason",
	    "sign counter did not increase at sign-in: possibly cloned",
	    "stored", (json_int_t)c->sign_count, "seen",
	    (json_int_t)sign_count));
	free(b64);
	return rc;
}

int
tk_approvals_signin_counter(struct tk_approvals *ap, const uint8_t *id,
    size_t id_len, uint32_t sign_count, int regressed)
{
	struct tk_credential c;
	struct tk_person p;
	int rc;

	if ((rc = tk_store_begin(ap)) != 0)
		return rc;
	if ((rc = tk_store_cred_get(ap, id, id_len, &c)) != 0 ||
	    (rc = tk_store_person_get(ap, c.person_id, &p)) != 0 ||
	    (rc = counter_store(ap, &c, &p, sign_count, regressed)) != 0) {
		tk_store_rollback(ap);
		return rc;
	}
	if ((rc = tk_store_commit(ap)) != 0)
		tk_store_rollback(ap);
	return rc;
}
