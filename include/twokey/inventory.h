/*
 * inventory: the service accounts that automation runs under, one per
 * scenario or integration, kept in the approvals store next to the people
 * who own them, with the flags an auditor asks about.
 *
 * An account holds configuration (owner, purpose, systems, data
 * classification, connector, scenario, scopes, where the credential lives,
 * what kind of credential it is, production or not, rotation cadence) and
 * observations (last rotation, last use) that automation reports through
 * events. The credential itself is never stored: only a reference, a
 * "vault:" path or a "pkcs11:" URI (RFC 7512), and a value that looks like
 * a secret (pin-value= in a URI, a bare token) is refused.
 *
 * Configuration as code: the whole inventory is imported and exported as
 * JSON or CSV (columns in approvals/INVENTORY.md). An import describes the
 * whole desired inventory: it is validated as a whole, refused as a whole
 * with every problem listed (row and field), or applied all at once in
 * one transaction and journaled with its diff (added, changed, removed).
 *
 * Governed fields: binding an account to a connector or a scenario, and
 * changing where its credential lives (connector, scenario,
 * credential_ref; every added account binds all three), need the quorum.
 * An import whose diff touches one is never applied by one admin: it is
 * proposed as the governed change "inventory.import" (changes.h), whose
 * "after" is the diff that tk_inventory_plan computes, and applied by
 * tk_inventory_apply in the vote that reaches the quorum. Only diffs
 * that touch no governed field are applied at once.
 *
 * Time: every call that depends on time takes it from the approvals
 * service's clock, except tk_inventory_report, which takes it as an
 * argument so that an evidence pack states the time it describes.
 */
#ifndef TWOKEY_INVENTORY_H
#define TWOKEY_INVENTORY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "twokey/approvals.h"

enum tk_inv_err {
	TK_INV_OK = 0,
	TK_INV_ERR_NOMEM = -1100,
	TK_INV_ERR_INVALID = -1101,	/* refused; problems say why */
	TK_INV_ERR_DB = -1102,		/* the store failed */
	TK_INV_ERR_NOT_FOUND = -1103,	/* no such account */
	TK_INV_ERR_STALE = -1104,	/* store changed since the plan */
	TK_INV_ERR_JOURNAL = -1105,	/* the journal refused the event */
	TK_INV_ERR_TOOBIG = -1106,	/* document over the limits */
	TK_INV_ERR_GOVERNED = -1107,	/* needs the quorum: propose it */
};

/* This module's codes, so that a caller can tell them from others. */
#define TK_INV_IS_ERR(rc) ((rc) <= -1100 && (rc) > -1200)

const char *tk_inv_strerror(int err);

#define TK_INV_ID_MAX 64	/* account id: [A-Za-z0-9_-], bytes */
#define TK_INV_TOKEN_MAX 128	/* connector, scenario, scope, system */
#define TK_INV_PURPOSE_MAX 256
#define TK_INV_REF_MAX 512	/* credential reference */
#define TK_INV_SYSTEMS_MAX 16
#define TK_INV_SCOPES_MAX 32
#define TK_INV_ACCOUNTS_MAX 1000	/* accounts in one inventory */
#define TK_INV_DOC_MAX (4u * 1024 * 1024)	/* import, bytes */
#define TK_INV_ROTATION_MAX 3660	/* days */

enum tk_inv_class {
	TK_INV_PUBLIC = 0,
	TK_INV_INTERNAL = 1,
	TK_INV_CONFIDENTIAL = 2,
	TK_INV_RESTRICTED = 3,
};

enum tk_inv_cred_kind {
	TK_INV_CRED_SERVICE = 0,	/* issued to the account itself */
	TK_INV_CRED_PERSONAL = 1,	/* a person's own token or login */
};

struct tk_inv_account {
	char id[TK_INV_ID_MAX + 1];
	char owner[TK_NAME_MAX + 1];	/* a person's name */
	char purpose[TK_INV_PURPOSE_MAX + 1];
	char systems[TK_INV_SYSTEMS_MAX][TK_INV_TOKEN_MAX + 1];
	size_t nsystems;		/* sorted, unique */
	enum tk_inv_class classification;
	char connector[TK_INV_TOKEN_MAX + 1];
	char scenario[TK_INV_TOKEN_MAX + 1];	/* "" when none */
	char scopes[TK_INV_SCOPES_MAX][TK_INV_TOKEN_MAX + 1];
	size_t nscopes;			/* sorted, unique */
	char credential_ref[TK_INV_REF_MAX + 1];
	enum tk_inv_cred_kind credential_kind;
	int production;
	int64_t rotation_days;		/* 1 to TK_INV_ROTATION_MAX */
	int64_t last_rotation;		/* Unix seconds, 0: never */
	int64_t last_use;		/* Unix seconds, 0: never */
};

/* Flags computed by tk_inventory_flags. */
#define TK_INV_FLAG_NO_ACTIVE_OWNER 0x1u	/* unknown, suspended, left */
#define TK_INV_FLAG_ROTATION_OVERDUE 0x2u	/* or never rotated */
#define TK_INV_FLAG_PERSONAL_IN_PROD 0x4u
#define TK_INV_FLAG_SCOPE_BEYOND_TEMPLATE 0x8u
#define TK_INV_FLAG_BLOCKED_SCOPE 0x10u		/* a scope policy blocks */

/*
 * The flags of one account (pure): owner is the owning person as they
 * are now, or NULL when unknown; p supplies the connector's scope template
 * and blocked scopes (the same rules requests are checked against). A
 * rotation is overdue when the account was never rotated or when now is
 * past last_rotation + rotation_days days.
 */
unsigned int tk_inventory_flags(const struct tk_inv_account *a,
    const struct tk_person *owner, const struct tk_policy *p, int64_t now);

/* ["no_active_owner", ...] for a set of flags (new reference). */
json_t *tk_inventory_flags_json(unsigned int flags);

/* The account as JSON, the form of exports and imports (new reference). */
json_t *tk_inventory_account_json(const struct tk_inv_account *a);

/* "YYYY-MM-DDTHH:MM:SSZ" (UTC, after the epoch) to Unix seconds. */
int tk_inventory_time_parse(const char *s, int64_t *out);

enum tk_inv_format {
	TK_INV_JSON = 1,
	TK_INV_CSV = 2,
};

/*
 * A parsed document: the accounts, in document order. Every problem found
 * (not only the first) is appended to problems, a JSON array the caller
 * owns, as {"row": R, "field": F, "message": M}; R is the 1-based
 * position of the account in "accounts" (JSON) or the CSV record number
 * counting the header as 1, and 0 for the document as a whole.
 */
struct tk_inv_set {
	struct tk_inv_account *a;
	size_t *rows;			/* where each account was read */
	struct tk_person *owners;	/* stored sets: the owners now */
	size_t n;
};

/*
 * Returns 0, or TK_INV_ERR_INVALID with the problems listed and out still
 * holding what could be read (so that a caller can look for more
 * problems), TK_INV_ERR_TOOBIG (over TK_INV_DOC_MAX bytes or
 * TK_INV_ACCOUNTS_MAX accounts) or TK_INV_ERR_NOMEM. The caller clears
 * out in every case.
 */
int tk_inventory_parse(const char *doc, size_t len, enum tk_inv_format fmt,
    struct tk_inv_set *out, json_t *problems);
void tk_inv_set_clear(struct tk_inv_set *s);

/*
 * The document of a set: JSON {"v":1,"accounts":[...]} or CSV with the
 * header row; accounts in the set's order. *out is NUL-terminated; the
 * caller frees it.
 */
int tk_inventory_format(const struct tk_inv_set *s, enum tk_inv_format fmt,
    char **out, size_t *len);

/* ---- the stored inventory (approvals store) ------------------------- */

/*
 * The change a document would make: {"added":[account],"changed":[{"id",
 * "fields":[names],"before":account,"after":account}],"removed":
 * [account],"governed":[names of governed fields touched]}. Validates
 * the whole document against the store too (owners must be people who
 * have not left); on refusal returns TK_INV_ERR_INVALID with every
 * problem in problems (caller's array). Reads only. Caller frees *diff.
 */
int tk_inventory_plan(struct tk_approvals *ap, const char *doc, size_t len,
    enum tk_inv_format fmt, json_t **diff, json_t *problems);

/*
 * Applies a diff from tk_inventory_plan inside the caller's open store
 * transaction, journaling nothing: the caller journals and commits, or
 * rolls back. Refuses with TK_INV_ERR_STALE when the store no longer
 * matches the diff's "before" side in configuration (every field but
 * the observations last_rotation and last_use, which events move at any
 * time), or an owner it names has left. Stored observation times only
 * move forward.
 */
int tk_inventory_apply(struct tk_approvals *ap, const json_t *diff);

/*
 * The direct import: plan, apply and journal in one transaction, only
 * when the diff touches no governed field: one "inventory.account" entry
 * per added, changed or removed account (before and after) and one
 * "inventory.import" entry (counts, SHA-256 of the document) by actor.
 * A diff with governed fields is refused with TK_INV_ERR_GOVERNED. On
 * refusal nothing changes, the refusal is journaled, and problems lists
 * why. *diff (may be NULL) receives the applied diff, or the governed
 * one that was refused.
 */
int tk_inventory_import(struct tk_approvals *ap, const char *actor,
    const char *doc, size_t len, enum tk_inv_format fmt, json_t **diff,
    json_t *problems);

/* An admin's import, with why when it needs the quorum. */
struct tk_inv_submission {
	int64_t person;		/* the admin: a person id */
	const char *reason;	/* NULL when none is given */
	const char *ticket;	/* NULL when none is given */
	const char *doc;
	size_t len;
	enum tk_inv_format fmt;
};

/*
 * Proposes the document as the governed change "inventory.import" in the
 * name of s->person (an active admin), with s->reason and s->ticket; a
 * CSV document is carried in its JSON form. The document is checked
 * first: TK_INV_ERR_INVALID or TK_INV_ERR_TOOBIG with every problem
 * listed, journaled as inventory.propose.refused. Otherwise returns what
 * tk_approvals_propose returns: 0 with *change_id set and *diff (may be
 * NULL) the diff as stored for the approvers, or a TK_APR_ERR_* (role,
 * malformed reason or ticket, nothing to change, too large).
 */
int tk_inventory_propose(struct tk_approvals *ap,
    const struct tk_inv_submission *s, json_t **diff, int64_t *change_id,
    json_t *problems);

/*
 * What an admin's import becomes: a diff that touches no governed field
 * is applied at once (tk_inventory_import in s->person's name, reason and
 * ticket unused but checked when given); one that does is proposed
 * (tk_inventory_propose) when both reason and ticket are given, and
 * refused with TK_INV_ERR_GOVERNED, journaled, when they are not.
 * *change_id is the proposed change's id, or 0 when applied or refused;
 * *diff (may be NULL) the diff applied, proposed or refused as governed.
 * Returns a TK_INV_* code or, from a refused proposal, a TK_APR_ERR_*.
 */
int tk_inventory_submit(struct tk_approvals *ap,
    const struct tk_inv_submission *s, json_t **diff, int64_t *change_id,
    json_t *problems);

/* Every stored account, ordered by id. */
int tk_inventory_load(struct tk_approvals *ap, struct tk_inv_set *out);
int tk_inventory_get(struct tk_approvals *ap, const char *id,
    struct tk_inv_account *out);

/* The stored inventory as a document (tk_inventory_format). */
int tk_inventory_export(struct tk_approvals *ap, enum tk_inv_format fmt,
    char **out, size_t *len);

enum tk_inv_event {
	TK_INV_EVENT_ROTATED = 1,
	TK_INV_EVENT_USED = 2,
};

/* Uses closer together than this share one journal entry (seconds). */
#define TK_INV_USE_JOURNAL_EVERY 3600

/*
 * An observation by automation (actor, e.g. "apikey:<id>"): the
 * credential of account id was rotated, or used, at time at (0: now; at
 * most 300 seconds ahead of the clock). The stored time only moves
 * forward. A rotation is always journaled ("inventory.rotated"); uses are
 * coalesced: one "inventory.used" entry per account per
 * TK_INV_USE_JOURNAL_EVERY seconds, with the count of uses it covers.
 */
int tk_inventory_event(struct tk_approvals *ap, const char *actor,
    const char *id, enum tk_inv_event ev, int64_t at);

/*
 * People who are not active (left or suspended) and still own accounts:
 * {"people":[{"name","state","accounts":[ids]}]}, for reassignment.
 * Caller frees *out.
 */
int tk_inventory_reassign(struct tk_approvals *ap, json_t **out);

/*
 * For evidence packs: the inventory as it is, judged at time now (times
 * as "YYYY-MM-DDTHH:MM:SSZ"):
 *
 *   {"v": 1, "at": now,
 *    "summary": {"accounts", "flagged", "rotation_compliant",
 *      "rotation_overdue", "never_rotated", "no_active_owner",
 *      "personal_in_production", "scope_beyond_template",
 *      "blocked_scope"}  (counts),
 *    "accounts": [ the account's export form, plus
 *      "flags": [names], "owner_state": "active"|"suspended"|"left",
 *      "rotation_due": time (absent when never rotated),
 *      "rotation_overdue_days": whole days past due, or 0 ]}
 *
 * Rotation compliant means not overdue (never rotated is overdue).
 * Accounts ordered by id; the same state and now give the same JSON.
 * The flags use the policy the service was opened with. Caller
 * json_decrefs *out. Stable: the evidence pack depends on it.
 */
int tk_inventory_report(struct tk_approvals *ap, time_t now, json_t **out);

/* One account in the report's form; TK_INV_ERR_NOT_FOUND if none. */
int tk_inventory_show(struct tk_approvals *ap, const char *id, time_t now,
    json_t **out);

#endif
