/*
 * Governed changes: every change that could weaken the two-person rule
 * is a request like any other (reason, ticket, canonical JSON, digest,
 * WebAuthn challenges bound to the digest) that takes effect only when
 * the policy's quorum of distinct approvers, never the proposer nor the
 * person the change is about (a target "person/ID"), approve.
 *
 * A change type is one table entry. The approvals layer registers its own
 * (person.enroll, credential.add, person.update, person.reactivate,
 * policy.set, and inventory.import for the service-account inventory,
 * which lives in the same library); another module registers more with
 * tk_change_register before it serves.
 *
 * Life of a change:
 *   propose:  prepare(args) -> target, after;  before(target, after) ->
 *             before, computed by the server from the store. before equal
 *             to after is refused (TK_APR_ERR_NO_CHANGE). The canonical
 *             JSON {"v":1,"kind":"change","type","requester","rid",
 *             "created","reason","ticket","target","before","after"} is
 *             stored and its SHA-256 is what approvers sign. It must fit
 *             in one journal entry (TK_JOURNAL_MAX_DETAILS once escaped
 *             as a string), else TK_APR_ERR_TOO_LARGE.
 *   each vote and the quorum: before(target, after) is computed again;
 *             if it differs from the stored before the change is marked
 *             stale (TK_REQ_STALE), the vote refused with
 *             TK_APR_ERR_STALE, and nothing applies.
 *   quorum:   apply(target, after) in the same transaction as the vote
 *             that reached it, journaled as "change.applied" with type,
 *             target, before and after.
 *
 * Callbacks run inside the store's open transaction on c->db; they must
 * not begin, commit or roll back, nor journal (the caller does). JSON they
 * return must stay canonical under jansson's JSON_COMPACT|JSON_SORT_KEYS:
 * objects, arrays, integers, booleans and strings without control
 * characters, object keys plain ASCII.
 */
#ifndef TWOKEY_CHANGES_H
#define TWOKEY_CHANGES_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "twokey/approvals.h"

#define TK_CHANGE_TARGET_MAX 128
#define TK_CHANGE_TYPES_MAX 32
/* A proposal's JSON, bytes: room for a whole inventory document. */
#define TK_CHANGE_PROPOSAL_MAX (4u * 1024 * 1024 + 8192)

struct tk_change_ctx {
	struct tk_approvals *ap;
	sqlite3 *db;			/* the approvals store, in a txn */
	int64_t now;
	const struct tk_person *proposer;	/* NULL when applying */
	char why[TK_WHY_MAX];		/* a refusal in words, optional */
};

struct tk_change_type {
	const char *name;	/* "person.update": [a-z.-_], 1-32 bytes */
	/* The proposer must hold one of these roles (enum tk_role bits). */
	unsigned int proposer_roles;
	/*
	 * Checks args (the proposer's JSON object) and computes the target
	 * (an object name such as "person/7", NUL-terminated in target) and
	 * the state after (*after, a new reference). Returns 0 or a
	 * TK_APR_ERR_* code (INVALID, NOT_FOUND, EXISTS, NO_CHANGE...).
	 */
	int (*prepare)(struct tk_change_ctx *c, json_t *args,
	    char target[TK_CHANGE_TARGET_MAX], json_t **after);
	/* The current state of target in the terms of after (*before). */
	int (*before)(struct tk_change_ctx *c, const char *target,
	    json_t *after, json_t **before);
	/* Makes after true of target; before matched just now. */
	int (*apply)(struct tk_change_ctx *c, const char *target,
	    json_t *after);
};

/*
 * Adds a type to the process-wide table (at most TK_CHANGE_TYPES_MAX,
 * names unique). Call before any thread uses the approvals layer; the
 * entry must outlive the process's use of it. Returns 0,
 * TK_APR_ERR_INVALID or TK_APR_ERR_EXISTS.
 */
int tk_change_register(const struct tk_change_type *t);

/* The type of that name (built-in or registered), or NULL. */
const struct tk_change_type *tk_change_find(const char *name);

/* Helpers for type implementations. */
/* A credential as a change shows it (id, alg, cose_key, aaguid, ...). */
json_t *tk_credential_to_json(const struct tk_credential *c);
/* ["admin","approver",...] in bit order, for roles bits. */
json_t *tk_change_roles_json(unsigned int roles);
/* Roles from such an array; -1 on an unknown name or a repeat. */
int tk_change_roles_parse(json_t *arr, unsigned int *roles);

#endif
