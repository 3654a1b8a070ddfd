/*
 * Sign-in challenges and sessions, in memory. A session is a random
 * cookie value (HttpOnly, Secure, SameSite=Strict) plus a CSRF token that
 * every state change must echo in a header; only SHA-256 of each is kept,
 * compared in constant time. The token is derived from the cookie (see
 * csrf_of), so that the session's own cookie can get it back for a page
 * opened in another tab. Sessions end at their TTL, at sign-out, and
 * when twokeyd stops (nothing is persisted).
 */
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "web_int.h"

/*
 * Whose share a challenge counts against: the address, once for
 * sign-ins and once for enrollments and key registrations, so that
 * anonymous sign-in challenges cannot hold up an invited person.
 */
static uint64_t
challenge_owner(const struct tk_web *w, const char *addr, int signin)
{
	return web_rate_key(w, signin ? "challenge-signin" :
	    "challenge-invited", addr);
}

/* A free slot for owner, or -1 full, -2 owner holds its share. */
static int
challenge_slot_locked(const struct tk_web *w, uint64_t owner, time_t now)
{
	int i, free_slot = -1;
	unsigned int held = 0;

	for (i = 0; i < WEB_CHALLENGES; i++) {
		if (w->challenges[i].expires <= now) {
			if (free_slot < 0)
				free_slot = i;
		} else if (w->challenges[i].owner == owner)
			held++;
	}
	if (held >= WEB_CHALLENGES_PER_ADDR)
		return -2;
	return free_slot;
}

int
web_challenge_issue(struct tk_web *w, const char *addr, const uint8_t *bind,
    char id_hex[33], uint8_t value[32])
{
	struct challenge c;
	time_t now = time(NULL);
	int slot;

	memset(&c, 0, sizeof(c));
	if (RAND_bytes(c.id, sizeof(c.id)) != 1 ||
	    RAND_bytes(c.value, sizeof(c.value)) != 1)
		return -1;
	if (bind != NULL)
		memcpy(c.bind, bind, sizeof(c.bind));
	c.owner = challenge_owner(w, addr, bind == NULL);
	c.expires = now + (time_t)w->challenge_ttl;
	pthread_mutex_lock(&w->lock);
	if ((slot = challenge_slot_locked(w, c.owner, now)) >= 0)
		w->challenges[slot] = c;
	pthread_mutex_unlock(&w->lock);
	if (slot >= 0) {
		tk_hex_encode(c.id, sizeof(c.id), id_hex);
		memcpy(value, c.value, 32);
	}
	OPENSSL_cleanse(&c, sizeof(c));
	return slot >= 0 ? 0 : slot;
}

/* Seconds until the first of addr's live challenges expires (at least 1). */
static int
challenge_wait(struct tk_web *w, const char *addr, int signin)
{
	uint64_t owner = challenge_owner(w, addr, signin);
	time_t now = time(NULL), first = 0;
	int i;

	pthread_mutex_lock(&w->lock);
	for (i = 0; i < WEB_CHALLENGES; i++)
		if (w->challenges[i].expires > now &&
		    w->challenges[i].owner == owner &&
		    (first == 0 || w->challenges[i].expires < first))
			first = w->challenges[i].expires;
	pthread_mutex_unlock(&w->lock);
	return first > now ? (int)(first - now) : 1;
}

void
web_reply_challenges_held(struct tk_web *w, const struct req *rq,
    struct reply *r, int signin)
{
	atomic_fetch_add(&w->rate_limited, 1);
	web_reply_error(r, 429, "rate_limited", "%d %s challenges are "
	    "already pending from this address (the most it may hold); "
	    "answer one or wait for it to expire", WEB_CHALLENGES_PER_ADDR,
	    signin ? "sign-in" : "enrollment or key registration");
	r->retry_after = challenge_wait(w, rq->addr, signin);
}

int
web_challenge_take(struct tk_web *w, const char *id_hex,
    const uint8_t *bind, uint8_t value[32])
{
	static const uint8_t zero[32];
	uint8_t id[16];
	time_t now = time(NULL);
	size_t i;
	int r = -1;

	if (id_hex == NULL || strlen(id_hex) != 32 ||
	    tk_hex_decode(id_hex, id, sizeof(id)) != TK_OK)
		return -1;
	if (bind == NULL)
		bind = zero;
	pthread_mutex_lock(&w->lock);
	for (i = 0; i < WEB_CHALLENGES; i++) {
		struct challenge *c = &w->challenges[i];

		if (c->expires == 0 || CRYPTO_memcmp(c->id, id, 16) != 0)
			continue;
		if (c->expires > now && CRYPTO_memcmp(c->bind, bind, 32) == 0) {
			memcpy(value, c->value, 32);
			r = 0;
		}
		OPENSSL_cleanse(c, sizeof(*c));
		break;
	}
	pthread_mutex_unlock(&w->lock);
	return r;
}

static int
sha256(const char *s, uint8_t md[32])
{
	unsigned int len = 0;

	return EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL) == 1 &&
	    len == 32 ? 0 : -1;
}

static int
fresh_secret(char out[44])
{
	uint8_t raw[32];
	char *b;

	if (RAND_bytes(raw, sizeof(raw)) != 1 ||
	    (b = tk_b64url_encode(raw, sizeof(raw))) == NULL)
		return -1;
	memcpy(out, b, 44);	/* 43 characters and the NUL */
	OPENSSL_clear_free(b, 44);
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

/*
 * The CSRF token of the session whose cookie is given: HMAC-SHA256 of a
 * fixed label keyed with the cookie, base64url. Nobody computes it
 * without the cookie's 256 random bits, which a page of another site
 * never reads (HttpOnly) nor sends (SameSite=Strict); and the token does
 * not give the cookie back. Derived rather than drawn, it needs no copy
 * in memory beside its hash to be handed back (web_session_csrf).
 */
static int
csrf_of(const char *cookie, char out[44])
{
	static const char label[] = "twokey session csrf token";
	uint8_t mac[32];
	unsigned int len = 0;
	char *b = NULL;
	int r = -1;

	if (HMAC(EVP_sha256(), cookie, (int)strlen(cookie),
	    (const unsigned char *)label, sizeof(label) - 1, mac,
	    &len) == NULL || len != sizeof(mac) ||
	    (b = tk_b64url_encode(mac, sizeof(mac))) == NULL)
		goto out;
	memcpy(out, b, 44);	/* 43 characters and the NUL */
	OPENSSL_clear_free(b, 44);
	r = 0;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	return r;
}

int
web_session_create(struct tk_web *w, const struct who *who, char cookie[44],
    char csrf[44])
{
	struct session s;
	time_t now = time(NULL);
	size_t i;
	int r = -1;

	memset(&s, 0, sizeof(s));
	if (fresh_secret(cookie) != 0 || csrf_of(cookie, csrf) != 0 ||
	    sha256(cookie, s.key_hash) != 0 || sha256(csrf, s.csrf_hash) != 0)
		return -1;
	s.who = *who;
	s.expires = now + (time_t)w->session_ttl;
	pthread_mutex_lock(&w->lock);
	for (i = 0; i < WEB_SESSIONS; i++)
		if (w->sessions[i].expires <= now) {
			w->sessions[i] = s;
			r = 0;
			break;
		}
	pthread_mutex_unlock(&w->lock);
	OPENSSL_cleanse(&s, sizeof(s));
	return r;
}

static struct session *
find_locked(struct tk_web *w, const uint8_t key[32], time_t now)
{
	size_t i;

	for (i = 0; i < WEB_SESSIONS; i++)
		if (w->sessions[i].expires > now &&
		    CRYPTO_memcmp(w->sessions[i].key_hash, key, 32) == 0)
			return &w->sessions[i];
	return NULL;
}

int
web_session_check(struct tk_web *w, const char *cookie, const char *csrf,
    struct who *who)
{
	uint8_t key[32], tok[32];
	struct session *s;
	int r = -1;

	memset(who, 0, sizeof(*who));
	if (cookie == NULL || cookie[0] == '\0' || sha256(cookie, key) != 0)
		return -1;
	if (csrf != NULL && sha256(csrf, tok) != 0)
		return -1;
	pthread_mutex_lock(&w->lock);
	if ((s = find_locked(w, key, time(NULL))) != NULL) {
		if (csrf != NULL && CRYPTO_memcmp(s->csrf_hash, tok, 32) != 0)
			r = -2;
		else {
			*who = s->who;
			r = 0;
		}
	}
	pthread_mutex_unlock(&w->lock);
	return r;
}

int
web_session_csrf(const char *cookie, char csrf[44])
{
	if (cookie == NULL || cookie[0] == '\0')
		return -1;
	return csrf_of(cookie, csrf);
}

void
web_session_drop(struct tk_web *w, const char *cookie)
{
	uint8_t key[32];
	struct session *s;

	if (sha256(cookie, key) != 0)
		return;
	pthread_mutex_lock(&w->lock);
	if ((s = find_locked(w, key, time(NULL))) != NULL)
		OPENSSL_cleanse(s, sizeof(*s));
	pthread_mutex_unlock(&w->lock);
}

int
web_who_current(struct tk_web *w, struct who *who)
{
	struct tk_person p;
	int rc;

	if (w->be == NULL || w->be->ap == NULL)
		return -1;
	pthread_mutex_lock(w->be->lock);
	rc = tk_approvals_person_get(w->be->ap, who->person, &p);
	pthread_mutex_unlock(w->be->lock);
	if (rc != 0 || p.state != TK_PERSON_ACTIVE)
		return -1;
	who->roles = p.roles;
	return 0;
}
