/* Internal to the web layer: the server, its routes and handlers. */
#ifndef TWOKEY_WEB_INT_H
#define TWOKEY_WEB_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "twokey/web.h"

#define WEB_ADDR_MAX 64
#define WEB_PARAM_MAX 128
#define WEB_CHALLENGES 256
#define WEB_RATE_SLOTS 1024

/* What a handler returns: a status and a JSON body or a text body. */
struct reply {
	unsigned int status;
	json_t *json;		/* owned */
	char *text;		/* owned; with ctype */
	size_t text_len;
	const char *ctype;
};

/* One request as handlers see it, after the gate. */
struct req {
	const struct route *route;
	char addr[WEB_ADDR_MAX];	/* client address, numeric */
	char param[WEB_PARAM_MAX];	/* the {id} segment, if any */
	char *body;
	size_t body_len;
	size_t body_cap;
	int too_big;
	json_t *json;			/* parsed body, owned */
};

struct tk_web;
typedef void (*handler_fn)(struct tk_web *, struct req *, struct reply *);

struct route {
	struct tk_web_route_info info;
	handler_fn fn;
};

struct challenge {
	uint8_t id[16];
	uint8_t value[32];
	time_t expires;		/* 0: free slot */
};

struct rate_slot {
	uint64_t key;		/* keyed hash of "kind:value" */
	time_t window;		/* start of the current minute */
	unsigned int count;
};

enum {
	M_CLASS_2XX, M_CLASS_3XX, M_CLASS_4XX, M_CLASS_5XX, M_CLASSES
};

struct tk_web {
	struct MHD_Daemon *mhd;
	const struct tk_web_backend *be;
	int listen_fd;
	char *cert_pem;
	char *key_pem;
	size_t key_pem_len;
	size_t max_body;
	unsigned int request_timeout;
	unsigned int rate_limit;
	unsigned int challenge_ttl;
	char *rp_id;
	time_t started;
	atomic_int ready;
	atomic_uint inflight;
	atomic_ulong requests[M_CLASSES];
	atomic_ulong refused_body;
	atomic_ulong rate_limited;
	pthread_mutex_t lock;		/* challenges and rate slots */
	struct challenge challenges[WEB_CHALLENGES];
	struct rate_slot rate[WEB_RATE_SLOTS];
	uint8_t rate_key[32];		/* hides the slot keys */
};

/* Route lookup: 0 found, -1 no such path, -2 path without this method. */
int web_route_find(const char *method, const char *url,
    const struct route **out, char *param, size_t paramlen);

/* Replies. */
void web_reply_json(struct reply *r, unsigned int status, json_t *body);
void web_reply_error(struct reply *r, unsigned int status,
    const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Counts an attempt for key ("addr:..." or "person:..."); 0 if allowed. */
int web_rate_check(struct tk_web *w, const char *kind, const char *value);

/* Handlers. */
void web_h_health(struct tk_web *, struct req *, struct reply *);
void web_h_ready(struct tk_web *, struct req *, struct reply *);
void web_h_metrics(struct tk_web *, struct req *, struct reply *);
void web_h_signin_challenge(struct tk_web *, struct req *,
    struct reply *);
void web_h_jwks(struct tk_web *, struct req *, struct reply *);
void web_h_checkpoint(struct tk_web *, struct req *, struct reply *);

#endif
