/*
 * Sign-in with a security key, first step: a fresh WebAuthn challenge,
 * single use, kept in memory until it expires. The attempt counts against
 * the per-person and per-address limits before anything is issued, so a
 * limited client changes no state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "twokey/common.h"
#include "web_int.h"

/* Takes a free or expired slot; -1 when every slot is live. */
static int
challenge_store(struct tk_web *w, struct challenge *c)
{
	time_t now = time(NULL);
	size_t i;
	int r = -1;

	pthread_mutex_lock(&w->lock);
	for (i = 0; i < WEB_CHALLENGES; i++)
		if (w->challenges[i].expires <= now) {
			w->challenges[i] = *c;
			r = 0;
			break;
		}
	pthread_mutex_unlock(&w->lock);
	return r;
}

void
web_h_signin_challenge(struct tk_web *w, struct req *rq, struct reply *r)
{
	const char *name;
	struct challenge c;
	char *chal = NULL, id[sizeof(c.id) * 2 + 1];

	name = json_string_value(json_object_get(rq->json, "name"));
	if (web_rate_check(w, "addr", rq->addr) != 0 ||
	    web_rate_check(w, "person", name) != 0) {
		web_reply_error(r, 429, "rate_limited", "too many sign-in "
		    "attempts; wait a minute and try again");
		return;
	}
	memset(&c, 0, sizeof(c));
	if (RAND_bytes(c.id, sizeof(c.id)) != 1 ||
	    RAND_bytes(c.value, sizeof(c.value)) != 1)
		goto out;
	c.expires = time(NULL) + (time_t)w->challenge_ttl;
	if (challenge_store(w, &c) != 0) {
		web_reply_error(r, 503, "busy", "too many sign-ins in "
		    "progress; try again shortly");
		goto out;
	}
	tk_hex_encode(c.id, sizeof(c.id), id);
	if ((chal = tk_b64url_encode(c.value, sizeof(c.value))) == NULL)
		goto out;
	web_reply_json(r, 200, json_pack("{s:s,s:s,s:s,s:I,s:s}",
	    "challenge_id", id, "challenge", chal, "rp_id", w->rp_id,
	    "timeout_ms", (json_int_t)w->challenge_ttl * 1000,
	    "user_verification", "required"));
out:
	free(chal);
	OPENSSL_cleanse(&c, sizeof(c));
}
