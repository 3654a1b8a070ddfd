/*
 * GET /api/v1/evidence?from=DATE&to=DATE: the evidence pack of the
 * period [from, to) as application/gzip (evidence/pack.h). DATE is
 * YYYY-MM-DD (midnight UTC) or YYYY-MM-DDTHH:MM:SSZ. For admins and
 * auditors, and API keys with the journal:read scope. The pack is
 * signed in the token and its manifest digest journaled before it is
 * sent; the auditor checks it with twokey-verify pack or stock tools.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/inventory.h"
#include "twokey/pack.h"
#include "web_int.h"

/* from and to from the query; 0, or -1 with the 400 in r. */
static int
period(struct req *rq, struct reply *r, int64_t *from, int64_t *to)
{
	const char *f, *t;

	f = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND,
	    "from");
	t = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND,
	    "to");
	if (f == NULL || t == NULL) {
		web_reply_error(r, 400, "invalid_query", "from and to are "
		    "required");
		return -1;
	}
	if (tk_utc_parse(f, from) != 0 || tk_utc_parse(t, to) != 0) {
		web_reply_error(r, 400, "invalid_date", "from and to are "
		    "dates, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)");
		return -1;
	}
	if (*from >= *to) {
		web_reply_error(r, 400, "invalid_period", "from must be "
		    "before to");
		return -1;
	}
	if (*to - *from > TK_PACK_MAX_PERIOD) {
		web_reply_error(r, 400, "period_too_long", "a pack covers at "
		    "most %lld days", (long long)(TK_PACK_MAX_PERIOD / 86400));
		return -1;
	}
	return 0;
}

/*
 * Rotation compliance, one row per account of the inventory report: when
 * it was last rotated, when it is due, how many days past due, and the
 * flag rotation_overdue when it is (never rotated counts as overdue).
 */
static json_t *
rotation_of(const json_t *inventory)
{
	json_t *rows = json_array(), *row, *flags;
	const json_t *a;
	size_t i;

	if (rows == NULL)
		return NULL;
	json_array_foreach(json_object_get(inventory, "accounts"), i, a) {
		flags = json_array();
		if (json_integer_value(json_object_get(a,
		    "rotation_overdue_days")) > 0 ||
		    json_object_get(a, "rotation_due") == NULL)
			(void)json_array_append_new(flags,
			    json_string("rotation_overdue"));
		row = json_pack("{s:O,s:O*,s:O*,s:O*,s:O*,s:O*,s:o}",
		    "id", json_object_get(a, "id"),
		    "owner", json_object_get(a, "owner"),
		    "rotation_days", json_object_get(a, "rotation_days"),
		    "last_rotation", json_object_get(a, "last_rotation"),
		    "rotation_due", json_object_get(a, "rotation_due"),
		    "rotation_overdue_days", json_object_get(a,
		    "rotation_overdue_days"), "flags", flags);
		if (row == NULL || json_array_append_new(rows, row) != 0) {
			json_decref(rows);
			return NULL;
		}
	}
	return json_pack("{s:o}", "accounts", rows);
}

/*
 * The pack's inputs from the inventory, judged at the end of the period
 * (or now, if sooner) so that the same period gives the same files. The
 * inventory has no history: it is the inventory as it stands, not as it
 * stood at the end of a past period. Call with the backend lock held.
 */
static int
inventory_inputs(struct tk_web *w, int64_t as_of, json_t **inv,
    json_t **rot)
{
	*rot = NULL;
	if (tk_inventory_report(w->be->ap, (time_t)as_of, inv) != 0)
		return -1;
	if ((*rot = rotation_of(*inv)) == NULL) {
		json_decref(*inv);
		*inv = NULL;
		return -1;
	}
	return 0;
}

void
web_h_evidence(struct tk_web *w, struct req *rq, struct reply *r)
{
	json_t *inv = NULL, *rot = NULL;
	struct tk_pack_config c;
	uint8_t *tgz = NULL;
	size_t len = 0;
	int64_t from, to;
	int rc;

	if (!web_backend_ready(w, r))
		return;
	/* An API key reached here only with the journal:read scope. */
	if ((rq->who.roles & (TK_ROLE_AUDITOR | TK_ROLE_ADMIN)) == 0 &&
	    !rq->via_key) {
		web_reply_error(r, 403, "role_missing", "evidence packs are "
		    "for people with the auditor or admin role");
		return;
	}
	if (period(rq, r, &from, &to) != 0)
		return;
	memset(&c, 0, sizeof(c));
	c.ap = w->be->ap;
	c.journal = w->be->journal;
	c.actor = rq->who.name;
	c.from = from;
	c.to = to;
	c.now = (int64_t)time(NULL);
	/* Drift events come from the journal's policy.drift entries. */
	pthread_mutex_lock(w->be->lock);
	rc = inventory_inputs(w, c.now < to ? c.now : to, &inv, &rot);
	c.inventory = inv;
	c.rotation = rot;
	if (rc == 0)
		rc = tk_pack_build(&c, &tgz, &len, NULL);
	pthread_mutex_unlock(w->be->lock);
	json_decref(inv);
	json_decref(rot);
	if (rc != 0) {
		web_reply_error(r, 503, "unavailable", "the evidence pack "
		    "could not be made; see the server log");
		return;
	}
	r->status = 200;
	r->text = (char *)tgz;
	r->text_len = len;
	r->ctype = "application/gzip";
	tk_info("evidence pack made for %s", rq->who.name);
}
