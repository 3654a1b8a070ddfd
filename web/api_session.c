/*
 * Sign-in with a security key, first step: a fresh WebAuthn challenge,
 * single use, kept in memory until it expires. The attempt counts against
 * the per-address limit before anything is issued, so a limited client
 * changes no state. It does not count against the person it names: a
 * challenge is bound to nobody, and a per-person count here would let
 * anyone lock a named person out of sign-in from a few addresses. The
 * per-person limit counts failed assertions instead (api_signin.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "twokey/common.h"
#include "web_int.h"

void
web_h_signin_challenge(struct tk_web *w, struct req *rq, struct reply *r)
{
	uint8_t value[32];
	char *chal = NULL, id[33];
	int rc;

	if (web_rate_check(w, "addr", rq->addr) != 0) {
		web_reply_error(r, 429, "rate_limited", "too many sign-in "
		    "attempts; wait a minute and try again");
		return;
	}
	if ((rc = web_challenge_issue(w, rq->addr, NULL, id, value)) != 0) {
		if (rc == -2)
			web_reply_challenges_held(w, rq, r, 1);
		else
			web_reply_error(r, 503, "busy", "too many sign-ins in "
			    "progress; try again shortly");
		goto out;
	}
	if ((chal = tk_b64url_encode(value, sizeof(value))) == NULL)
		goto out;
	web_reply_json(r, 200, json_pack("{s:s,s:s,s:s,s:I,s:s}",
	    "challenge_id", id, "challenge", chal, "rp_id", w->rp_id,
	    "timeout_ms", (json_int_t)w->challenge_ttl * 1000,
	    "user_verification", "required"));
out:
	free(chal);
	OPENSSL_cleanse(value, sizeof(value));
}

/*
 * Who is signed in, and the CSRF token of this session. The pages keep
 * the token per tab (sessionStorage), so a tab opened by typing the
 * address has the cookie but no token; it asks here rather than telling
 * a signed-in person that their session ended.
 *
 * Handing the token back is safe against cross-site request forgery: the
 * route answers only a request that carries the session cookie, which a
 * browser sends with no request started by another site (SameSite=Strict),
 * and API keys do not reach it. Even a request that did carry it could
 * not be read by the other site: the API sends no CORS headers, so a
 * cross-origin fetch gets no readable answer, and a JSON object served
 * as application/json with nosniff cannot be loaded as a script; it is
 * never cached (no-store). A script that can read same-origin answers can
 * already act as the person, token or not. The token alone is worth
 * nothing without the cookie, and it does not reveal the cookie.
 */
void
web_h_session_show(struct tk_web *w, struct req *rq, struct reply *r)
{
	char csrf[44];

	/* The gate has found the session of this cookie. */
	if (web_session_csrf(rq->cookie, csrf) != 0) {
		web_reply_error(r, 500, "internal", "the token could not be "
		    "computed");
		return;
	}
	web_h_whoami(w, rq, r);
	if (r->status == 200 && (r->json == NULL ||
	    json_object_set_new(r->json, "csrf_token", json_string(csrf)) !=
	    0))
		web_reply_error(r, 500, "internal", "out of memory");
	OPENSSL_cleanse(csrf, sizeof(csrf));
}
