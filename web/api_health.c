/* Liveness, readiness and Prometheus metrics: no session, no body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "twokey/approvals.h"
#include "web_int.h"

void
web_h_health(struct tk_web *w, struct req *rq, struct reply *r)
{
	(void)w;
	(void)rq;
	web_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

void
web_h_ready(struct tk_web *w, struct req *rq, struct reply *r)
{
	static const char *names[] = { "starting", "ready", "stopping" };
	int state = atomic_load(&w->ready);

	(void)rq;
	if (state < 0 || state > 2)
		state = 0;
	web_reply_json(r, state == 1 ? 200 : 503, json_pack("{s:s}",
	    "status", names[state]));
}

static unsigned int
pending_challenges(struct tk_web *w)
{
	time_t now = time(NULL);
	unsigned int n = 0;
	size_t i;

	pthread_mutex_lock(&w->lock);
	for (i = 0; i < WEB_CHALLENGES; i++)
		if (w->challenges[i].expires > now)
			n++;
	pthread_mutex_unlock(&w->lock);
	return n;
}

/*
 * The configuration file's policy against the approved one: a file that
 * differs is never applied, and this gauge keeps it from being silent.
 */
static size_t
policy_metrics(struct tk_web *w, char *buf, size_t cap)
{
	int64_t since = 0;
	int drift = 0, n;

	if (w->be != NULL && w->be->ap != NULL) {
		pthread_mutex_lock(w->be->lock);
		if (tk_approvals_policy_drift(w->be->ap, &drift, &since) != 0)
			drift = 1;	/* unknown is reported, not hidden */
		pthread_mutex_unlock(w->be->lock);
	}
	n = snprintf(buf, cap,
	    "# HELP twokey_policy_drift 1 when the configuration file's "
	    "policy differs from the approved policy (not applied).\n"
	    "# TYPE twokey_policy_drift gauge\ntwokey_policy_drift %d\n"
	    "# HELP twokey_policy_drift_since_seconds Unix time the "
	    "difference was first seen, 0 if none.\n"
	    "# TYPE twokey_policy_drift_since_seconds gauge\n"
	    "twokey_policy_drift_since_seconds %lld\n", drift,
	    (long long)since);
	return n > 0 ? (size_t)n : 0;
}

void
web_h_metrics(struct tk_web *w, struct req *rq, struct reply *r)
{
	static const char *classes[] = { "2xx", "3xx", "4xx", "5xx" };
	char *buf;
	size_t cap = 4096, off = 0, i;
	int n;

	(void)rq;
	if ((buf = malloc(cap)) == NULL)
		return;
	n = snprintf(buf, cap,
	    "# HELP twokey_ready 1 when twokeyd serves requests.\n"
	    "# TYPE twokey_ready gauge\ntwokey_ready %d\n"
	    "# HELP twokey_uptime_seconds Seconds since start.\n"
	    "# TYPE twokey_uptime_seconds gauge\n"
	    "twokey_uptime_seconds %lld\n"
	    "# HELP twokey_http_requests_total Answers by status class.\n"
	    "# TYPE twokey_http_requests_total counter\n",
	    atomic_load(&w->ready) == 1,
	    (long long)(time(NULL) - w->started));
	off = n > 0 ? (size_t)n : 0;
	for (i = 0; i < M_CLASSES && off < cap; i++) {
		n = snprintf(buf + off, cap - off,
		    "twokey_http_requests_total{class=\"%s\"} %lu\n",
		    classes[i], atomic_load(&w->requests[i]));
		off += n > 0 ? (size_t)n : 0;
	}
	if (off < cap) {
		n = snprintf(buf + off, cap - off,
		    "# HELP twokey_http_body_refused_total Bodies too "
		    "large.\n# TYPE twokey_http_body_refused_total counter\n"
		    "twokey_http_body_refused_total %lu\n"
		    "# HELP twokey_rate_limited_total Attempts refused by "
		    "the rate limit.\n"
		    "# TYPE twokey_rate_limited_total counter\n"
		    "twokey_rate_limited_total %lu\n"
		    "# HELP twokey_signin_challenges_pending WebAuthn "
		    "challenges (sign-in, enrollment, key registration) "
		    "issued and not yet used or expired.\n"
		    "# TYPE twokey_signin_challenges_pending gauge\n"
		    "twokey_signin_challenges_pending %u\n"
		    "# HELP twokey_http_requests_in_flight Requests being "
		    "answered, this one included.\n"
		    "# TYPE twokey_http_requests_in_flight gauge\n"
		    "twokey_http_requests_in_flight %u\n",
		    atomic_load(&w->refused_body),
		    atomic_load(&w->rate_limited), pending_challenges(w),
		    atomic_load(&w->inflight));
		off += n > 0 ? (size_t)n : 0;
	}
	if (off < cap)
		off += policy_metrics(w, buf + off, cap - off);
	if (off >= cap) {
		free(buf);
		return;
	}
	r->status = 200;
	r->text = buf;
	r->text_len = off;
	r->ctype = "text/plain; version=0.0.4";
}
