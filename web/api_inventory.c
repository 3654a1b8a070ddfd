/*
 * The service-account inventory over HTTPS. Reading it (accounts with
 * their flags, exports, the leavers' accounts) is for admins and
 * auditors; importing is for admins; rotation and use events come from
 * automation with an API key of scope inventory:events (or an admin).
 * The approvals layer validates and decides; a refused import answers
 * with every problem, each with its row and field. An import that binds
 * accounts or moves credentials is never applied by one admin: given a
 * reason and a ticket (query parameters, since the body is the document
 * itself, JSON or CSV) it becomes the governed change inventory.import
 * (202), else it is refused (403 quorum_required) with its diff.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/inventory.h"
#include "web_int.h"

static int
reader(struct req *rq, struct reply *r)
{
	if (rq->who.roles & (TK_ROLE_ADMIN | TK_ROLE_AUDITOR))
		return 1;
	web_reply_error(r, 403, "role_missing", "the inventory is shown to "
	    "admins and auditors");
	return 0;
}

static void
inv_reply(struct reply *r, int rc, json_t *problems)
{
	unsigned int status = 503;
	const char *code = "unavailable";

	switch (rc) {
	case TK_INV_ERR_INVALID:
		status = 400;
		code = "inventory_invalid";
		break;
	case TK_INV_ERR_TOOBIG:
		status = 413;
		code = "inventory_too_large";
		break;
	case TK_INV_ERR_NOT_FOUND:
		status = 404;
		code = "not_found";
		break;
	case TK_INV_ERR_STALE:
		status = 409;
		code = "inventory_changed";
		break;
	default:
		tk_error("inventory: %s", tk_inv_strerror(rc));
		break;
	}
	web_reply_json(r, status, json_pack("{s:{s:s,s:s},s:O*}", "error",
	    "code", code, "message", tk_inv_strerror(rc), "problems",
	    problems));
}

void
web_h_inventory_list(struct tk_web *w, struct req *rq, struct reply *r)
{
	json_t *out = NULL;
	int rc;

	if (!web_backend_ready(w, r) || !reader(rq, r))
		return;
	pthread_mutex_lock(w->be->lock);
	rc = tk_inventory_report(w->be->ap, time(NULL), &out);
	pthread_mutex_unlock(w->be->lock);
	if (rc != 0)
		inv_reply(r, rc, NULL);
	else
		web_reply_json(r, 200, out);
}

void
web_h_inventory_show(struct tk_web *w, struct req *rq, struct reply *r)
{
	json_t *out = NULL;
	int rc;

	if (!web_backend_ready(w, r) || !reader(rq, r))
		return;
	pthread_mutex_lock(w->be->lock);
	rc = tk_inventory_show(w->be->ap, rq->param, time(NULL), &out);
	pthread_mutex_unlock(w->be->lock);
	if (rc != 0)
		inv_reply(r, rc, NULL);
	else
		web_reply_json(r, 200, out);
}

static void
export(struct tk_web *w, struct req *rq, struct reply *r,
    enum tk_inv_format fmt)
{
	char *out = NULL;
	size_t len = 0;
	int rc;

	if (!web_backend_ready(w, r) || !reader(rq, r))
		return;
	pthread_mutex_lock(w->be->lock);
	rc = tk_inventory_export(w->be->ap, fmt, &out, &len);
	pthread_mutex_unlock(w->be->lock);
	if (rc != 0) {
		inv_reply(r, rc, NULL);
		return;
	}
	r->status = 200;
	r->text = out;
	r->text_len = len;
	r->ctype = fmt == TK_INV_CSV ? "text/csv; charset=utf-8" :
	    "application/json";
}

void
web_h_inventory_export(struct tk_web *w, struct req *rq, struct reply *r)
{
	export(w, rq, r, TK_INV_JSON);
}

void
web_h_inventory_export_csv(struct tk_web *w, struct req *rq,
    struct reply *r)
{
	export(w, rq, r, TK_INV_CSV);
}

/* Applied (200), proposed (202), governed without a why (403), or not. */
static void
import_reply(struct reply *r, int rc, int64_t change, json_t *diff,
    json_t *problems)
{
	if (rc == 0 && change == 0)
		web_reply_json(r, 200, json_pack("{s:O}", "diff", diff));
	else if (rc == 0)
		web_reply_json(r, 202, json_pack("{s:{s:I,s:s,s:s},s:O}",
		    "change", "id", (json_int_t)change, "type",
		    "inventory.import", "state", "pending", "diff", diff));
	else if (rc == TK_INV_ERR_GOVERNED)
		web_reply_json(r, 403, json_pack("{s:{s:s,s:s},s:O}", "error",
		    "code", "quorum_required", "message", "this import binds "
		    "accounts to a connector or scenario or moves credentials "
		    "(see diff.governed): send it again with the query "
		    "parameters reason and ticket to propose it as a change "
		    "for the approvers", "diff", diff));
	else if (TK_INV_IS_ERR(rc))
		inv_reply(r, rc, problems);
	else
		web_apr_reply(r, rc, "");
}

void
web_h_inventory_import(struct tk_web *w, struct req *rq, struct reply *r)
{
	struct tk_inv_submission s;
	json_t *problems, *diff = NULL;
	int64_t change = 0;
	int rc;

	if (!web_backend_ready(w, r))
		return;
	if ((rq->who.roles & TK_ROLE_ADMIN) == 0) {
		web_reply_error(r, 403, "role_missing", "the inventory is "
		    "imported by admins");
		return;
	}
	if ((problems = json_array()) == NULL)
		return;
	memset(&s, 0, sizeof(s));
	s.person = rq->who.person;
	s.reason = MHD_lookup_connection_value(rq->conn,
	    MHD_GET_ARGUMENT_KIND, "reason");
	s.ticket = MHD_lookup_connection_value(rq->conn,
	    MHD_GET_ARGUMENT_KIND, "ticket");
	s.doc = rq->body != NULL ? rq->body : "";
	s.len = rq->body_len;
	s.fmt = rq->csv ? TK_INV_CSV : TK_INV_JSON;
	pthread_mutex_lock(w->be->lock);
	rc = tk_inventory_submit(w->be->ap, &s, &diff, &change, problems);
	pthread_mutex_unlock(w->be->lock);
	import_reply(r, rc, change, diff, problems);
	json_decref(diff);
	json_decref(problems);
}

/*
 * POST /api/v1/changes of type inventory.import: args is the document
 * (JSON only; CSV goes through the import route). Answers as the changes
 * route does, except that a bad document lists every problem.
 */
void
web_inventory_propose(struct tk_web *w, struct req *rq, struct reply *r)
{
	struct tk_inv_submission s;
	struct tk_request_info info;
	json_t *problems = json_array();
	char *doc = NULL;
	int64_t id = 0;
	int rc = TK_INV_ERR_NOMEM;

	memset(&s, 0, sizeof(s));
	memset(&info, 0, sizeof(info));
	if (problems == NULL || (doc = json_dumps(json_object_get(rq->json,
	    "args"), JSON_COMPACT)) == NULL)
		goto out;
	s.person = rq->who.person;
	s.reason = json_string_value(json_object_get(rq->json, "reason"));
	s.ticket = json_string_value(json_object_get(rq->json, "ticket"));
	s.doc = doc;
	s.len = strlen(doc);
	s.fmt = TK_INV_JSON;
	pthread_mutex_lock(w->be->lock);
	if ((rc = tk_inventory_propose(w->be->ap, &s, NULL, &id,
	    problems)) == 0 && (rc = tk_approvals_request_get(w->be->ap, id,
	    &info)) == 0)
		web_reply_json(r, 201, web_request_json(w, &info));
	pthread_mutex_unlock(w->be->lock);
out:
	if (rc == TK_APR_ERR_INVALID)
		web_reply_error(r, 400, "invalid_change", "the reason or the "
		    "ticket is malformed");
	else if (TK_INV_IS_ERR(rc))
		inv_reply(r, rc, problems);
	else if (rc != 0)
		web_apr_reply(r, rc, "");
	tk_request_info_clear(&info);
	json_decref(problems);
	free(doc);
}

void
web_h_inventory_event(struct tk_web *w, struct req *rq, struct reply *r)
{
	const char *ev, *at;
	enum tk_inv_event e;
	int64_t t = 0;
	int rc;

	if (!web_backend_ready(w, r))
		return;
	if (!rq->via_key && (rq->who.roles & TK_ROLE_ADMIN) == 0) {
		web_reply_error(r, 403, "role_missing", "events come from an "
		    "API key with scope inventory:events, or an admin");
		return;
	}
	ev = json_string_value(json_object_get(rq->json, "event"));
	at = json_string_value(json_object_get(rq->json, "at"));
	if (strcmp(ev, "rotated") == 0)
		e = TK_INV_EVENT_ROTATED;
	else if (strcmp(ev, "used") == 0)
		e = TK_INV_EVENT_USED;
	else {
		web_reply_error(r, 400, "invalid_field", "field \"event\" must "
		    "be \"rotated\" or \"used\"");
		return;
	}
	if (at != NULL && tk_inventory_time_parse(at, &t) != 0) {
		web_reply_error(r, 400, "invalid_field", "field \"at\" must be "
		    "a UTC time as YYYY-MM-DDTHH:MM:SSZ");
		return;
	}
	pthread_mutex_lock(w->be->lock);
	rc = tk_inventory_event(w->be->ap, rq->who.name, json_string_value(
	    json_object_get(rq->json, "account")), e, t);
	pthread_mutex_unlock(w->be->lock);
	if (rc == TK_INV_ERR_INVALID)
		web_reply_error(r, 400, "invalid_event", "the account name is "
		    "malformed or the time is in the future");
	else if (rc != 0)
		inv_reply(r, rc, NULL);
	else
		web_reply_json(r, 200, json_pack("{s:O,s:s}", "account",
		    json_object_get(rq->json, "account"), "event", ev));
}

void
web_h_inventory_reassign(struct tk_web *w, struct req *rq, struct reply *r)
{
	json_t *out = NULL;
	int rc;

	if (!web_backend_ready(w, r) || !reader(rq, r))
		return;
	pthread_mutex_lock(w->be->lock);
	rc = tk_inventory_reassign(w->be->ap, &out);
	pthread_mutex_unlock(w->be->lock);
	if (rc != 0)
		inv_reply(r, rc, NULL);
	else
		web_reply_json(r, 200, out);
}
