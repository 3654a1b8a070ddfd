/*
 * Governed changes (changes.h): the type table, proposing, the check that
 * a change's "before" still holds, and applying one at its quorum. The
 * votes themselves go through vote.c like any request's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "twokey/approvals.h"
#include "twokey/changes.h"
#include "twokey/common.h"
#include "twokey/journal.h"
#include "internal.h"

static const struct tk_change_type *builtin[] = {
	&tk_change_person_enroll,
	&tk_change_credential_add,
	&tk_change_person_update,
	&tk_change_person_reactivate,
	&tk_change_policy_set,
	&tk_change_inventory_import,
};
#define NBUILTIN (sizeof(builtin) / sizeof(builtin[0]))

static const struct tk_change_type *registered[TK_CHANGE_TYPES_MAX];
static size_t nregistered;

static const char *const role_names[] = { "admin", "approver",
    "requester", "commander", "auditor" };

json_t *
tk_change_roles_json(unsigned int roles)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < 5; i++)
		if ((roles & (1u << i)) != 0 &&
		    json_array_append_new(a, json_string(role_names[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

int
tk_change_roles_parse(json_t *arr, unsigned int *roles)
{
	const char *s;
	json_t *v;
	size_t i, k;

	*roles = 0;
	if (!json_is_array(arr) || json_array_size(arr) > 5)
		return -1;
	json_array_foreach(arr, i, v) {
		if ((s = json_string_value(v)) == NULL)
			return -1;
		for (k = 0; k < 5; k++)
			if (strcmp(s, role_names[k]) == 0)
				break;
		if (k == 5 || (*roles & (1u << k)) != 0)
			return -1;
		*roles |= 1u << k;
	}
	return 0;
}

const struct tk_change_type *
tk_change_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < NBUILTIN; i++)
		if (strcmp(builtin[i]->name, name) == 0)
			return builtin[i];
	for (i = 0; i < nregistered; i++)
		if (strcmp(registered[i]->name, name) == 0)
			return registered[i];
	return NULL;
}

int
tk_change_register(const struct tk_change_type *t)
{
	size_t n;

	if (t == NULL || t->name == NULL || t->prepare == NULL ||
	    t->before == NULL || t->apply == NULL ||
	    (n = strlen(t->name)) == 0 || n > 32 ||
	    strspn(t->name, "abcdefghijklmnopqrstuvwxyz.-_") != n)
		return TK_APR_ERR_INVALID;
	if (tk_change_find(t->name) != NULL)
		return TK_APR_ERR_EXISTS;
	if (nregistered == TK_CHANGE_TYPES_MAX)
		return TK_APR_ERR_INVALID;
	registered[nregistered++] = t;
	return TK_APR_OK;
}

int
tk_apr_actor_check(struct tk_approvals *ap, int64_t id, unsigned int roles,
    struct tk_person *p)
{
	int rc;

	if ((rc = tk_store_person_get(ap, id, p)) != 0)
		return rc;
	if (p->state != TK_PERSON_ACTIVE)
		return TK_APR_ERR_INACTIVE;
	if ((p->roles & roles) == 0)
		return TK_APR_ERR_ROLE;
	return TK_APR_OK;
}

/* What the proposer sent, checked for shape. */
struct proposal {
	const struct tk_change_type *type;
	const char *reason;
	const char *ticket;
	json_t *args;
};

static int
proposal_parse(json_t *root, struct proposal *pr, char *why, size_t whylen)
{
	const char *k, *type;
	json_t *v;

	if (!json_is_object(root) || json_object_size(root) != 4)
		goto shape;
	json_object_foreach(root, k, v)
		if (strcmp(k, "type") != 0 && strcmp(k, "reason") != 0 &&
		    strcmp(k, "ticket") != 0 && strcmp(k, "args") != 0)
			goto shape;
	pr->reason = json_string_value(json_object_get(root, "reason"));
	pr->ticket = json_string_value(json_object_get(root, "ticket"));
	pr->args = json_object_get(root, "args");
	if (tk_apr_check_text(pr->reason, TK_TEXT_MAX) != 0 ||
	    tk_apr_check_token(pr->ticket) != 0 || !json_is_object(pr->args))
		goto shape;
	type = json_string_value(json_object_get(root, "type"));
	if ((pr->type = tk_change_find(type)) == NULL) {
		(void)snprintf(why, whylen, "unknown change type \"%s\"",
		    type != NULL && tk_apr_check_token(type) == 0 ? type :
		    "(not a name)");
		return TK_APR_ERR_INVALID;
	}
	return TK_APR_OK;
shape:
	(void)snprintf(why, whylen, "a change is {\"type\", \"reason\" "
	    "(text), \"ticket\" (a name), \"args\" (an object)} and "
	    "nothing else");
	return TK_APR_ERR_INVALID;
}

static json_t *
change_object(const struct proposal *pr, const struct tk_person *p,
    const char *rid, int64_t now, const char *target, json_t *before,
    json_t *after)
{
	return json_pack("{s:i,s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:O,s:O}", "v",
	    1, "kind", "change", "type", pr->type->name, "requester", p->name,
	    "rid", rid, "created", (json_int_t)now, "reason", pr->reason,
	    "ticket", pr->ticket, "target", target, "before", before,
	    "after", after);
}

static int
insert_change(struct tk_approvals *ap, int64_t requester, const char *canon,
    const uint8_t digest[TK_DIGEST_LEN], int64_t now, int64_t *id)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = tk_store_prepare(ap, "INSERT INTO requests(kind, "
	    "requester_id, canonical, digest, state, created, expires) "
	    "VALUES (?, ?, ?, ?, 0, ?, ?)", &st)) != 0)
		return rc;
	sqlite3_bind_int(st, 1, (int)TK_REQ_CHANGE);
	sqlite3_bind_int64(st, 2, requester);
	sqlite3_bind_text(st, 3, canon, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, digest, TK_DIGEST_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, now + ap->policy->pending_ttl);
	if ((rc = tk_store_done(ap, st)) != 0)
		return rc;
	*id = sqlite3_last_insert_rowid(ap->db);
	return TK_APR_OK;
}

/*
 * Whether the canonical JSON fits in the details of its change.propose
 * journal entry, where it is one string (quotes escaped, non-ASCII as
 * \u escapes). change.applied holds less: before and after as objects.
 */
static int
fits_journal(const char *canon)
{
	json_t *s = json_string(canon);
	char *t = NULL;
	int ok;

	if (s == NULL || (t = json_dumps(s, JSON_ENCODE_ANY |
	    JSON_ENSURE_ASCII)) == NULL)
		ok = -1;
	else
		ok = strlen(t) + 256 <= TK_JOURNAL_MAX_DETAILS;
	free(t);
	json_decref(s);
	return ok;
}

/* Stores the change with its canonical JSON and journals it. */
static int
propose_store(struct tk_approvals *ap, const struct proposal *pr,
    const struct tk_person *p, const char *target, json_t *before,
    json_t *after, int64_t now, int64_t *id)
{
	uint8_t rnd[16], digest[TK_DIGEST_LEN];
	char rid[33], obj[32], dhex[2 * TK_DIGEST_LEN + 1], *canon = NULL;
	json_t *o = NULL;
	int rc = TK_APR_ERR_NOMEM;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		goto out;
	tk_hex_encode(rnd, sizeof(rnd), rid);
	if ((o = change_object(pr, p, rid, now, target, before, after)) ==
	    NULL || (canon = json_dumps(o, JSON_COMPACT |
	    JSON_SORT_KEYS)) == NULL ||
	    SHA256((const unsigned char *)canon, strlen(canon),
	    digest) == NULL)
		goto out;
	if ((rc = fits_journal(canon)) <= 0) {
		rc = rc < 0 ? TK_APR_ERR_NOMEM : TK_APR_ERR_TOO_LARGE;
		goto out;
	}
	if ((rc = insert_change(ap, p->id, canon, digest, now, id)) != 0)
		goto out;
	tk_hex_encode(digest, sizeof(digest), dhex);
	(void)snprintf(obj, sizeof(obj), "request/%lld", (long long)*id);
	rc = tk_apr_record(ap, p->name, "change.propose", obj,
	    json_pack("{s:s,s:s}", "digest", dhex, "canonical", canon));
out:
	free(canon);
	json_decref(o);
	return rc;
}

static int
propose_in(struct tk_approvals *ap, struct tk_change_ctx *c,
    const struct proposal *pr, int64_t *id)
{
	char target[TK_CHANGE_TARGET_MAX] = "";
	json_t *before = NULL, *after = NULL;
	int rc;

	if ((c->proposer->roles & pr->type->proposer_roles) == 0)
		return TK_APR_ERR_ROLE;
	if ((rc = pr->type->prepare(c, pr->args, target, &after)) != 0 ||
	    (rc = pr->type->before(c, target, after, &before)) != 0)
		goto out;
	rc = TK_APR_ERR_NO_CHANGE;
	if (before == NULL || after == NULL || json_equal(before, after) ||
	    tk_apr_check_text(target, TK_CHANGE_TARGET_MAX - 1) != 0)
		goto out;
	rc = propose_store(ap, pr, c->proposer, target, before, after,
	    c->now, id);
out:
	json_decref(before);
	json_decref(after);
	return rc;
}

int
tk_approvals_propose(struct tk_approvals *ap, int64_t proposer,
    const char *json, size_t len, int64_t *request_id, char *why,
    size_t whylen)
{
	struct tk_change_ctx c;
	struct proposal pr;
	struct tk_person p;
	json_t *root = NULL;
	int rc;

	*request_id = 0;
	memset(&c, 0, sizeof(c));
	memset(&p, 0, sizeof(p));
	c.ap = ap;
	c.db = ap->db;
	c.now = tk_apr_now(ap);
	c.proposer = &p;
	if ((rc = tk_store_begin(ap)) != 0)
		return rc;
	if ((rc = tk_apr_actor_check(ap, proposer, TK_ROLE_ALL, &p)) != 0)
		goto refuse;
	rc = TK_APR_ERR_INVALID;
	if (json == NULL || len == 0 || len > TK_CHANGE_PROPOSAL_MAX ||
	    (root = json_loadb(json, len, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL || (rc = proposal_parse(root, &pr, c.why,
	    sizeof(c.why))) != 0 ||
	    (rc = propose_in(ap, &c, &pr, request_id)) != 0)
		goto refuse;
	json_decref(root);
	if ((rc = tk_store_commit(ap)) != 0) {
		tk_store_rollback(ap);
		*request_id = 0;
	}
	return rc;
refuse:
	json_decref(root);
	tk_store_rollback(ap);
	*request_id = 0;
	if (why != NULL && whylen > 0)
		(void)snprintf(why, whylen, "%s", c.why);
	if (rc == TK_APR_ERR_DB || rc == TK_APR_ERR_NOMEM)
		return rc;
	return tk_apr_refuse(ap, p.id != 0 ? p.name : "-", "change.propose",
	    "", rc, c.why[0] != '\0' ? c.why : NULL);
}

/* The stored change: type, target, before, after (references owned). */
struct stored {
	json_t *root;
	const struct tk_change_type *type;
	const char *target;
	json_t *before;
	json_t *after;
};

static int
stored_load(const struct tk_request_info *req, struct stored *s)
{
	memset(s, 0, sizeof(*s));
	if (req->kind != TK_REQ_CHANGE || (s->root = json_loads(
	    req->canonical, 0, NULL)) == NULL)
		return TK_APR_ERR_DB;
	s->type = tk_change_find(json_string_value(json_object_get(s->root,
	    "type")));
	s->target = json_string_value(json_object_get(s->root, "target"));
	s->before = json_object_get(s->root, "before");
	s->after = json_object_get(s->root, "after");
	if (s->type == NULL || s->target == NULL || s->before == NULL ||
	    s->after == NULL) {
		json_decref(s->root);
		s->root = NULL;
		return TK_APR_ERR_DB;
	}
	return TK_APR_OK;
}

int
tk_change_check(struct tk_approvals *ap, const struct tk_request_info *req,
    int64_t now, char *why, size_t whylen)
{
	struct tk_change_ctx c;
	struct stored s;
	json_t *cur = NULL;
	char *t = NULL;
	int rc;

	memset(&c, 0, sizeof(c));
	c.ap = ap;
	c.db = ap->db;
	c.now = now;
	if ((rc = stored_load(req, &s)) != 0)
		return rc;
	rc = s.type->before(&c, s.target, s.after, &cur);
	if (rc == 0 && !json_equal(cur, s.before)) {
		t = json_dumps(cur, JSON_COMPACT | JSON_SORT_KEYS);
		(void)snprintf(why, whylen, "%s changed since the proposal; "
		    "it is now %s", s.target, t != NULL ? t : "?");
		rc = TK_APR_ERR_STALE;
	} else if (rc == TK_APR_ERR_NOT_FOUND) {
		(void)snprintf(why, whylen, "%s no longer exists", s.target);
		rc = TK_APR_ERR_STALE;
	}
	free(t);
	json_decref(cur);
	json_decref(s.root);
	return rc;
}

int
tk_change_apply(struct tk_approvals *ap, const struct tk_request_info *req,
    int64_t now)
{
	struct tk_change_ctx c;
	struct stored s;
	char obj[32];
	int rc;

	memset(&c, 0, sizeof(c));
	c.ap = ap;
	c.db = ap->db;
	c.now = now;
	if ((rc = stored_load(req, &s)) != 0)
		return rc;
	(void)snprintf(obj, sizeof(obj), "request/%lld", (long long)req->id);
	if ((rc = s.type->apply(&c, s.target, s.after)) == 0)
		rc = tk_apr_record(ap, "twokey", "change.applied", obj,
		    json_pack("{s:s,s:s,s:O,s:O}", "type", s.type->name,
		    "target", s.target, "before", s.before, "after",
		    s.after));
	json_decref(s.root);
	return rc;
}

int
tk_approvals_changes(struct tk_approvals *ap, int64_t **ids, size_t *n)
{
	return tk_store_ids(ap, "SELECT id FROM requests WHERE kind = ? "
	    "ORDER BY id DESC LIMIT 256", (int64_t)TK_REQ_CHANGE, ids, n);
}
