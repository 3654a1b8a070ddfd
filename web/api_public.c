/*
 * Public documents: the grant-signing keys as JWKS (RFC 7517) and the
 * journal's latest signed checkpoint (a C2SP tlog-checkpoint note), which
 * monitors fetch to see that the log only grows. Neither is secret.
 */
#include <stdlib.h>
#include <string.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/journal.h"
#include "web_int.h"

int
web_backend_ready(struct tk_web *w, struct reply *r)
{
	if (w->be != NULL && w->be->ap != NULL && w->be->journal != NULL)
		return 1;
	web_reply_error(r, 503, "unavailable", "the store is not open");
	return 0;
}

int
web_journal(struct tk_web *w, struct reply *r, const char *actor,
    const char *action, const char *object, json_t *details)
{
	struct tk_journal_entry e;
	int rc;

	memset(&e, 0, sizeof(e));
	e.actor = actor;
	e.action = action;
	e.object = object;
	e.details = details;
	rc = tk_journal_append(w->be->journal, &e, NULL);
	json_decref(details);
	if (rc != 0) {
		tk_error("journal refused %s: %s", action,
		    tk_journal_strerror(rc));
		web_reply_error(r, 503, "unavailable", "the journal could "
		    "not record this; nothing was done");
		return -1;
	}
	return 0;
}

json_t *
web_roles_json(unsigned int roles)
{
	static const char *names[] = { "admin", "approver", "requester",
	    "commander", "auditor" };
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && i < 5; i++)
		if (roles & (1u << i))
			json_array_append_new(a, json_string(names[i]));
	return a;
}

void
web_h_jwks(struct tk_web *w, struct req *rq, struct reply *r)
{
	char *jwks = NULL;
	json_t *j;
	int rc;

	(void)rq;
	if (!web_backend_ready(w, r))
		return;
	pthread_mutex_lock(w->be->lock);
	rc = tk_approvals_jwks(w->be->ap, &jwks);
	pthread_mutex_unlock(w->be->lock);
	if (rc != 0 || (j = json_loads(jwks, 0, NULL)) == NULL) {
		tk_error("JWKS: %s", tk_apr_strerror(rc));
		web_reply_error(r, 503, "unavailable", "the signing key "
		    "could not be read from the token");
		free(jwks);
		return;
	}
	free(jwks);
	web_reply_json(r, 200, j);
}

void
web_h_checkpoint(struct tk_web *w, struct req *rq, struct reply *r)
{
	char *note = NULL;
	size_t len = 0;
	int rc;

	(void)rq;
	if (!web_backend_ready(w, r))
		return;
	if ((rc = tk_journal_checkpoint(w->be->journal, 0, &note,
	    &len)) != 0) {
		tk_error("checkpoint: %s", tk_journal_strerror(rc));
		web_reply_error(r, 503, "unavailable", "no checkpoint could "
		    "be read");
		return;
	}
	r->status = 200;
	r->text = note;
	r->text_len = len;
	r->ctype = "text/plain; charset=utf-8";
}
