/*
 * Sign-in with a security key, second step, and the session it opens.
 * The person is always the owner of the stored credential that verified,
 * never a name the client sent. Every refusal after the challenge is
 * taken says the same thing to the client ("signin_failed"), so that it
 * learns nothing about which check failed; the log says which.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/journal.h"
#include "twokey/webauthn.h"
#include "web_int.h"

void
web_assertion_clear(struct b64_assertion *a)
{
	free(a->id);
	free(a->cdj);
	free(a->ad);
	free(a->sig);
	memset(a, 0, sizeof(*a));
}

static int
field_b64(json_t *obj, const char *name, uint8_t **out, size_t *len)
{
	const char *s = json_string_value(json_object_get(obj, name));

	return s == NULL ? -1 : tk_b64url_decode(s, strlen(s), out, len);
}

int
web_assertion_decode(json_t *body, struct b64_assertion *a)
{
	memset(a, 0, sizeof(*a));
	if (field_b64(body, "credential_id", &a->id, &a->id_len) != 0 ||
	    field_b64(body, "client_data", &a->cdj, &a->cdj_len) != 0 ||
	    field_b64(body, "authenticator_data", &a->ad, &a->ad_len) != 0 ||
	    field_b64(body, "signature", &a->sig, &a->sig_len) != 0) {
		web_assertion_clear(a);
		return -1;
	}
	return 0;
}

static void
to_wa_cred(const struct tk_credential *c, const char *name,
    struct tk_webauthn_cred *w)
{
	memset(w, 0, sizeof(*w));
	snprintf(w->person, sizeof(w->person), "%s", name);
	memcpy(w->id, c->id, c->id_len);
	w->id_len = c->id_len;
	w->alg = c->alg;
	memcpy(w->cose_key, c->cose_key, c->cose_key_len);
	w->cose_key_len = c->cose_key_len;
	w->sign_count = c->sign_count;
	memcpy(w->aaguid, c->aaguid, sizeof(w->aaguid));
	memcpy(w->fmt, c->fmt, sizeof(w->fmt));
	w->backup_eligible = c->backup_eligible;
	w->backup_state = c->backup_state;
	w->uv_at_registration = c->uv_at_registration;
	w->attestation_trusted = c->attestation_trusted;
}

static int
counter_seen(struct tk_web *w, const struct b64_assertion *a,
    uint32_t sign_count, int regressed)
{
	int r;

	pthread_mutex_lock(w->be->lock);
	r = tk_approvals_signin_counter(w->be->ap, a->id, a->id_len,
	    sign_count, regressed);
	pthread_mutex_unlock(w->be->lock);
	if (r != 0)
		tk_error("sign-in: the signature counter could not be kept: "
		    "%s", tk_apr_strerror(r));
	return r == 0 ? 0 : -1;
}

/*
 * The owner of the credential, if the assertion verifies and they may
 * sign in: 0; -1 not accepted (say nothing more: anyone can send this);
 * SIGNIN_INACTIVE or SIGNIN_FLAGGED once the key has proved itself, so
 * that only its holder learns why.
 */
#define SIGNIN_INACTIVE	(-2)
#define SIGNIN_FLAGGED	(-3)

static int
verify_signin(struct tk_web *w, const struct b64_assertion *a,
    const uint8_t challenge[32], struct tk_person *p)
{
	struct tk_credential c;
	struct tk_webauthn_cred wc;
	struct tk_webauthn_expect exp;
	struct tk_webauthn_assertion as;
	struct tk_webauthn_assert_result res;
	struct tk_webauthn_verdict v;
	const char *origins[TK_CFG_ORIGINS];
	char esc[160];
	int r;

	pthread_mutex_lock(w->be->lock);
	r = tk_approvals_credential_get(w->be->ap, a->id, a->id_len, &c);
	if (r == 0)
		r = tk_approvals_person_get(w->be->ap, c.person_id, p);
	pthread_mutex_unlock(w->be->lock);
	if (r != 0) {
		memset(p, 0, sizeof(*p));
		tk_info("sign-in refused: unknown credential");
		return -1;
	}
	memset(&exp, 0, sizeof(exp));
	exp.rp_id = w->rp_id;
	exp.n_origins = web_allowed_origins(w, origins, TK_CFG_ORIGINS);
	exp.origins = origins;
	exp.challenge = challenge;
	exp.challenge_len = 32;
	exp.require_uv = 1;
	memset(&as, 0, sizeof(as));
	as.raw_id = a->id;
	as.raw_id_len = a->id_len;
	as.client_data = a->cdj;
	as.client_data_len = a->cdj_len;
	as.auth_data = a->ad;
	as.auth_data_len = a->ad_len;
	as.sig = a->sig;
	as.sig_len = a->sig_len;
	to_wa_cred(&c, p->name, &wc);
	r = tk_webauthn_verify_assertion(&exp, &wc, &as, &res, &v);
	if (r != 0) {
		tk_info("sign-in refused for person %lld: %s", (long long)p->id,
		    tk_log_escape(esc, sizeof(esc), v.detail,
		    strlen(v.detail)));
		/* Signed by the key, with a counter a clone would show. */
		if (r == TK_WA_ERR_COUNTER && c.flags == 0) {
			(void)counter_seen(w, a, res.sign_count, 1);
			return SIGNIN_FLAGGED;
		}
		return r == TK_WA_ERR_COUNTER ? SIGNIN_FLAGGED : -1;
	}
	/* Flagged as cloned or revoked, or the person not active. */
	if (c.flags != 0 || p->state != TK_PERSON_ACTIVE) {
		tk_info("sign-in refused: person %lld inactive or credential "
		    "flagged", (long long)p->id);
		return c.flags != 0 ? SIGNIN_FLAGGED : SIGNIN_INACTIVE;
	}
	/* A store failure here refuses the sign-in: no counter, no entry. */
	return counter_seen(w, a, res.sign_count, 0);
}

static json_t *
who_json(const struct who *who)
{
	return json_pack("{s:I,s:s,s:o}", "id", (json_int_t)who->person,
	    "name", who->name, "roles", web_roles_json(who->roles));
}

static void
open_session(struct tk_web *w, struct req *rq, const struct tk_person *p,
    struct reply *r)
{
	struct who who;
	char cookie[44], csrf[44], obj[40];

	memset(&who, 0, sizeof(who));
	who.person = p->id;
	snprintf(who.name, sizeof(who.name), "%s", p->name);
	who.roles = p->roles;
	snprintf(obj, sizeof(obj), "person:%lld", (long long)p->id);
	if (web_journal(w, r, p->name, "session.login", obj, json_pack(
	    "{s:s}", "address", rq->addr)) != 0)
		return;
	if (web_session_create(w, &who, cookie, csrf) != 0) {
		web_reply_error(r, 503, "busy", "too many sessions open; try "
		    "again shortly");
		return;
	}
	snprintf(r->set_cookie, sizeof(r->set_cookie), SESSION_COOKIE
	    "=%s; Path=/; Max-Age=%u; HttpOnly; Secure; SameSite=Strict",
	    cookie, w->session_ttl);
	web_reply_json(r, 200, json_pack("{s:o,s:s,s:I}", "person",
	    who_json(&who), "csrf_token", csrf, "expires_in",
	    (json_int_t)w->session_ttl));
	OPENSSL_cleanse(cookie, sizeof(cookie));
	OPENSSL_cleanse(csrf, sizeof(csrf));
}

void
web_h_signin(struct tk_web *w, struct req *rq, struct reply *r)
{
	struct b64_assertion a;
	struct tk_person p;
	uint8_t challenge[32];
	const char *cid;
	int v;

	if (!web_backend_ready(w, r))
		return;
	if (web_rate_check(w, "addr", rq->addr) != 0) {
		web_reply_error(r, 429, "rate_limited", "too many sign-in "
		    "attempts; wait a minute and try again");
		return;
	}
	cid = json_string_value(json_object_get(rq->json, "challenge_id"));
	if (web_assertion_decode(rq->json, &a) != 0) {
		web_reply_error(r, 400, "invalid_field", "the assertion "
		    "fields must be base64url");
		return;
	}
	if (web_challenge_take(w, cid, NULL, challenge) != 0) {
		web_reply_error(r, 400, "challenge_unknown", "this sign-in "
		    "challenge is unknown, used or expired; ask for a new "
		    "one");
		goto out;
	}
	memset(&p, 0, sizeof(p));
	if ((v = verify_signin(w, &a, challenge, &p)) != 0) {
		/* A failure counts against the credential's owner, if any. */
		if (p.name[0] != '\0' &&
		    web_rate_check(w, "signin-failed", p.name) != 0)
			web_reply_error(r, 429, "rate_limited", "too many "
			    "failed sign-ins for this person; wait a minute "
			    "and try again");
		else if (v == SIGNIN_INACTIVE)
			web_reply_error(r, 403, "person_inactive", "your "
			    "account is suspended or has left; an admin can "
			    "tell you why");
		else if (v == SIGNIN_FLAGGED)
			web_reply_error(r, 403, "credential_flagged", "this "
			    "security key is revoked or flagged as possibly "
			    "cloned and is refused for good; sign in with "
			    "another key of yours, or ask an admin");
		else
			web_reply_error(r, 401, "signin_failed", "the "
			    "security key's answer was not accepted");
		goto out;
	}
	if (web_rate_full(w, "signin-failed", p.name)) {
		web_reply_error(r, 429, "rate_limited", "too many sign-in "
		    "attempts; wait a minute and try again");
		goto out;
	}
	open_session(w, rq, &p, r);
out:
	OPENSSL_cleanse(challenge, sizeof(challenge));
	web_assertion_clear(&a);
}

void
web_h_whoami(struct tk_web *w, struct req *rq, struct reply *r)
{
	(void)w;
	web_reply_json(r, 200, json_pack("{s:o}", "person",
	    who_json(&rq->who)));
}

void
web_h_signout(struct tk_web *w, struct req *rq, struct reply *r)
{
	char obj[40];

	snprintf(obj, sizeof(obj), "person:%lld", (long long)rq->who.person);
	if (web_journal(w, r, rq->who.name, "session.logout", obj, NULL) !=
	    0)
		return;
	web_session_drop(w, rq->cookie);
	snprintf(r->set_cookie, sizeof(r->set_cookie), SESSION_COOKIE
	    "=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
	web_reply_json(r, 200, json_pack("{s:s}", "status", "signed out"));
}
