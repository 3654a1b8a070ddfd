/*
 * Attempt limits for sign-in and approvals, per person and per client
 * address: a fixed one-minute window in a direct-mapped table of slots.
 * Slot keys are a keyed hash, so a client cannot aim its attempts at
 * another person's slot to reset it. A collision between two honest keys
 * only resets a window early; the table is small on purpose (a bounded
 * amount of memory whatever the traffic), which is also its limit: under
 * a flood of distinct addresses, windows are reset early.
 */
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "web_int.h"

uint64_t
web_rate_key(const struct tk_web *w, const char *kind, const char *value)
{
	uint8_t md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	uint64_t k = 0;
	size_t i;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return 0;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, w->rate_key, sizeof(w->rate_key)) == 1 &&
	    EVP_DigestUpdate(ctx, kind, strlen(kind) + 1) == 1 &&
	    EVP_DigestUpdate(ctx, value, strlen(value)) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) == 1)
		for (i = 0; i < 8; i++)
			k = (k << 8) | md[i];
	EVP_MD_CTX_free(ctx);
	return k;
}

int
web_rate_full(struct tk_web *w, const char *kind, const char *value)
{
	uint64_t key = web_rate_key(w, kind, value);
	time_t window = time(NULL) / 60;
	struct rate_slot *s;
	int full;

	pthread_mutex_lock(&w->lock);
	s = &w->rate[key % WEB_RATE_SLOTS];
	full = s->key == key && s->window == window &&
	    s->count >= w->rate_limit;
	pthread_mutex_unlock(&w->lock);
	if (full)
		atomic_fetch_add(&w->rate_limited, 1);
	return full;
}

int
web_rate_check(struct tk_web *w, const char *kind, const char *value)
{
	uint64_t key = web_rate_key(w, kind, value);
	time_t window = time(NULL) / 60;
	struct rate_slot *s;
	int r = 0;

	pthread_mutex_lock(&w->lock);
	s = &w->rate[key % WEB_RATE_SLOTS];
	if (s->key != key || s->window != window) {
		s->key = key;
		s->window = window;
		s->count = 0;
	}
	if (s->count >= w->rate_limit)
		r = -1;
	else
		s->count++;
	pthread_mutex_unlock(&w->lock);
	if (r != 0)
		atomic_fetch_add(&w->rate_limited, 1);
	return r;
}
