/*
 * Filing requests, issuing challenges, expiring what is out of time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "internal.h"

static int
overdue_reviews_of(struct tk_approvals *ap, int64_t commander, int64_t now,
    int *count)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = tk_store_prepare(ap, "SELECT count(*) FROM reviews "
	    "WHERE commander_id = ? AND filed = 0 AND due <= ?", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, commander);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st) == SQLITE_ROW ? TK_APR_OK : TK_APR_ERR_DB;
	*count = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc;
}

static int
insert_request(struct tk_approvals *ap, const struct tk_request *req,
    int64_t requester, const char *canonical,
    const uint8_t digest[TK_DIGEST_LEN], int64_t now, int64_t *id)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = tk_store_prepare(ap, "INSERT INTO requests(kind, "
	    "requester_id, canonical, digest, state, created, expires) "
	    "VALUES (?, ?, ?, ?, 0, ?, ?)", &st)) != 0)
		return rc;
	sqlite3_bind_int(st, 1, (int)req->kind);
	sqlite3_bind_int64(st, 2, requester);
	sqlite3_bind_text(st, 3, canonical, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, digest, TK_DIGEST_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, now + ap->policy->pending_ttl);
	if ((rc = tk_store_done(ap, st)) != 0)
		return rc;
	*id = sqlite3_last_insert_rowid(ap->db);
	return TK_APR_OK;
}

/* Policy checks that need the store: overdue post-incident reviews. */
static int
guardrails(struct tk_approvals *ap, const struct tk_request *req,
    const struct tk_person *p, int64_t now)
{
	int rc, overdue = 0;

	if ((rc = tk_policy_check_request(ap->policy, req, p)) != 0)
		return rc;
	if (req->kind != TK_REQ_BREAKGLASS ||
	    !ap->policy->overdue_review_blocks)
		return TK_APR_OK;
	if ((rc = overdue_reviews_of(ap, p->id, now, &overdue)) != 0)
		return rc;
	return overdue > 0 ? TK_APR_ERR_REVIEW_OVERDUE : TK_APR_OK;
}

static int
file_checked(struct tk_approvals *ap, const struct tk_person *p,
    const struct tk_request *req, int64_t now, int64_t *request_id)
{
	uint8_t rnd[16], digest[TK_DIGEST_LEN];
	char rid[33], obj[32], dhex[2 * TK_DIGEST_LEN + 1], *canon = NULL;
	int rc;

	rc = TK_APR_ERR_NOMEM;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		goto out;
	tk_hex_encode(rnd, sizeof(rnd), rid);
	if ((rc = tk_request_canonical(req, p->name, rid, now, &canon,
	    digest)) != 0 ||
	    (rc = insert_request(ap, req, p->id, canon, digest, now,
	    request_id)) != 0)
		goto out;
	tk_hex_encode(digest, sizeof(digest), dhex);
	(void)snprintf(obj, sizeof(obj), "request/%lld",
	    (long long)*request_id);
	rc = tk_apr_record(ap, p->name, "request.file", obj,
	    json_pack("{s:s, s:s}", "digest", dhex, "canonical", canon));
out:
	free(canon);
	return rc;
}

int
tk_approvals_file(struct tk_approvals *ap, int64_t requester,
    const char *json, size_t len, int64_t *request_id)
{
	return tk_approvals_file_why(ap, requester, json, len, request_id,
	    NULL, 0);
}

int
tk_approvals_file_why(struct tk_approvals *ap, int64_t requester,
    const char *json, size_t len, int64_t *request_id, char *why,
    size_t whylen)
{
	struct tk_request *req = NULL;
	struct tk_person p;
	int64_t now = tk_apr_now(ap);
	char actor[TK_NAME_MAX + 1];
	int rc;

	*request_id = 0;
	(void)snprintf(actor, sizeof(actor), "person/%lld",
	    (long long)requester);
	if ((rc = tk_store_begin(ap)) != 0)
		return rc;
	if ((rc = tk_store_person_get(ap, requester, &p)) != 0)
		goto refuse;
	(void)snprintf(actor, sizeof(actor), "%s", p.name);
	if ((rc = tk_request_parse_why(json, len, &req, why, whylen)) != 0 ||
	    (rc = guardrails(ap, req, &p, now)) != 0)
		goto refuse;
	if ((rc = file_checked(ap, &p, req, now, request_id)) != 0 ||
	    (rc = tk_store_commit(ap)) != 0)
		goto fail;
	tk_request_free(&req);
	return TK_APR_OK;
refuse:
	tk_store_rollback(ap);
	tk_request_free(&req);
	return tk_apr_refuse(ap, actor, "request.file", "", rc,
	    why != NULL && why[0] != '\0' ? why : NULL);
fail:
	tk_store_rollback(ap);
	tk_request_free(&req);
	*request_id = 0;
	return rc;
}

void
tk_request_info_clear(struct tk_request_info *info)
{
	if (info == NULL)
		return;
	free(info->canonical);
	memset(info, 0, sizeof(*info));
}

int
tk_approvals_request_get(struct tk_approvals *ap, int64_t id,
    struct tk_request_info *out)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *c;
	int r, rc;

	memset(out, 0, sizeof(*out));
	if ((rc = tk_store_prepare(ap, "SELECT kind, state, requester_id, "
	    "created, expires, digest, canonical FROM requests WHERE id = ?",
	    &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	if ((r = sqlite3_step(st)) != SQLITE_ROW) {
		rc = r == SQLITE_DONE ? TK_APR_ERR_NOT_FOUND : TK_APR_ERR_DB;
		goto out;
	}
	out->id = id;
	out->kind = (enum tk_request_kind)sqlite3_column_int(st, 0);
	out->state = (enum tk_request_state)sqlite3_column_int(st, 1);
	out->requester = sqlite3_column_int64(st, 2);
	out->created = sqlite3_column_int64(st, 3);
	out->expires = sqlite3_column_int64(st, 4);
	rc = TK_APR_ERR_DB;
	if ((out->kind != TK_REQ_ELEVATION && out->kind != TK_REQ_BREAKGLASS &&
	    out->kind != TK_REQ_CHANGE) ||
	    out->state < TK_REQ_PENDING || out->state > TK_REQ_STALE ||
	    sqlite3_column_bytes(st, 5) != TK_DIGEST_LEN ||
	    (c = sqlite3_column_text(st, 6)) == NULL)
		goto out;
	memcpy(out->digest, sqlite3_column_blob(st, 5), TK_DIGEST_LEN);
	rc = TK_APR_ERR_NOMEM;
	if ((out->canonical = strdup((const char *)c)) == NULL)
		goto out;
	rc = TK_APR_OK;
out:
	sqlite3_finalize(st);
	if (rc != 0)
		tk_request_info_clear(out);
	return rc;
}

static int
insert_challenge(struct tk_approvals *ap, int64_t request_id,
    int64_t person, enum tk_decision d, const uint8_t nonce[TK_NONCE_LEN],
    const uint8_t challenge[TK_CHALLENGE_LEN], int64_t now)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = tk_store_prepare(ap, "INSERT INTO challenges(challenge, "
	    "request_id, person_id, decision, nonce, issued, expires) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?)", &st)) != 0)
		return rc;
	sqlite3_bind_blob(st, 1, challenge, TK_CHALLENGE_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, request_id);
	sqlite3_bind_int64(st, 3, person);
	sqlite3_bind_int(st, 4, (int)d);
	sqlite3_bind_blob(st, 5, nonce, TK_NONCE_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now);
	sqlite3_bind_int64(st, 7, now + ap->policy->challenge_ttl);
	return tk_store_done(ap, st);
}

/* A request that can still be decided at now. */
static int
request_open(struct tk_approvals *ap, int64_t id, int64_t now,
    struct tk_request_info *info)
{
	int rc;

	if ((rc = tk_approvals_request_get(ap, id, info)) != 0)
		return rc;
	if (info->state != TK_REQ_PENDING)
		return TK_APR_ERR_NOT_PENDING;
	if (now >= info->expires)
		return TK_APR_ERR_REQUEST_EXPIRED;
	return TK_APR_OK;
}

/*
 * A change whose "before" moved on gets no challenge: it is marked stale
 * (kept, journaled with the reason) and err returned.
 */
static int
stale_refused(struct tk_approvals *ap, int64_t id, const char *actor,
    const char *obj, int err, const char *why)
{
	int rc;

	if (err != TK_APR_ERR_STALE) {
		tk_store_rollback(ap);
		return err;
	}
	if ((rc = tk_store_request_state(ap, id, TK_REQ_STALE)) != 0 ||
	    (rc = tk_apr_refuse(ap, actor, "challenge.issue", obj, err,
	    why)) != err || (rc = tk_store_commit(ap)) != 0) {
		tk_store_rollback(ap);
		return rc != err ? rc : TK_APR_ERR_DB;
	}
	return err;
}

int
tk_approvals_challenge(struct tk_approvals *ap, int64_t request_id,
    int64_t person, enum tk_decision decision,
    uint8_t challenge[TK_CHALLENGE_LEN], int64_t *expires)
{
	struct tk_request_info info;
	struct tk_person p;
	uint8_t nonce[TK_NONCE_LEN];
	int64_t now = tk_apr_now(ap);
	char obj[32], nhex[2 * TK_NONCE_LEN + 1], why[256] = "";
	int rc;

	memset(&info, 0, sizeof(info));
	(void)snprintf(obj, sizeof(obj), "request/%lld",
	    (long long)request_id);
	if ((rc = tk_store_begin(ap)) != 0)
		return rc;
	if ((rc = tk_store_person_get(ap, person, &p)) != 0 ||
	    (rc = request_open(ap, request_id, now, &info)) != 0)
		goto refuse;
	if (info.kind == TK_REQ_CHANGE &&
	    (rc = tk_change_check(ap, &info, now, why, sizeof(why))) != 0) {
		tk_request_info_clear(&info);
		return stale_refused(ap, request_id, p.name, obj, rc, why);
	}
	rc = TK_APR_ERR_NOMEM;
	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		goto fail;
	if ((rc = tk_challenge_derive(decision, info.digest, nonce,
	    challenge)) != 0)
		goto refuse;
	if ((rc = insert_challenge(ap, request_id, person, decision, nonce,
	    challenge, now)) != 0)
		goto fail;
	tk_request_info_clear(&info);
	if (expires != NULL)
		*expires = now + ap->policy->challenge_ttl;
	tk_hex_encode(nonce, sizeof(nonce), nhex);
	return tk_apr_commit_event(ap, p.name, "challenge.issue", obj,
	    json_pack("{s:s, s:s}", "decision", decision == TK_DECIDE_APPROVE ?
	    "approve" : "reject", "nonce", nhex));
refuse:
	tk_store_rollback(ap);
	tk_request_info_clear(&info);
	return tk_apr_refuse(ap, p.id != 0 ? p.name : "-", "challenge.issue",
	    obj, rc, NULL);
fail:
	tk_store_rollback(ap);
	tk_request_info_clear(&info);
	return rc;
}

static int
expire_one(struct tk_approvals *ap, int64_t id)
{
	char obj[32];
	int rc;

	if ((rc = tk_store_request_state(ap, id, TK_REQ_EXPIRED)) != 0)
		return rc;
	(void)snprintf(obj, sizeof(obj), "request/%lld", (long long)id);
	return tk_apr_record(ap, "twokey", "request.expire", obj,
	    json_object());
}

int
tk_approvals_expire(struct tk_approvals *ap, unsigned int *n)
{
	sqlite3_stmt *st = NULL;
	int64_t ids[64];
	size_t i, k = 0;
	int r, rc;

	if (n != NULL)
		*n = 0;
	if ((rc = tk_store_begin(ap)) != 0)
		return rc;
	/* In batches, so that one transaction stays short. */
	if ((rc = tk_store_prepare(ap, "SELECT id FROM requests WHERE "
	    "state = 0 AND expires <= ? ORDER BY id LIMIT 64", &st)) != 0)
		goto fail;
	sqlite3_bind_int64(st, 1, tk_apr_now(ap));
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		ids[k++] = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	rc = TK_APR_ERR_DB;
	if (r != SQLITE_DONE)
		goto fail;
	for (i = 0; i < k; i++)
		if ((rc = expire_one(ap, ids[i])) != 0)
			goto fail;
	if ((rc = tk_store_commit(ap)) != 0)
		goto fail;
	if (n != NULL)
		*n = (unsigned int)k;
	return TK_APR_OK;
fail:
	tk_store_rollback(ap);
	return rc;
}

int
tk_approvals_pending(struct tk_approvals *ap, int64_t **ids, size_t *n)
{
	return tk_store_ids(ap, "SELECT id FROM requests WHERE state = 0 "
	    "AND expires > ? ORDER BY id", tk_apr_now(ap), ids, n);
}
