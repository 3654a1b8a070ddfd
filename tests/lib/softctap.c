/*
 * softctap: see softctap.h. The CTAPHID layer follows the CTAP 2.0
 * specification, section 8.1 (64-byte reports; an initialization packet
 * with the command and a 16-bit length, then continuation packets with a
 * sequence number), and the CTAP2 layer section 5 (CBOR maps with
 * integer keys). Only what an ES256 key without a PIN needs is there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "softauthn.h"
#include "softctap.h"

#define REPORT		64
#define INIT_DATA	(REPORT - 7)
#define CONT_DATA	(REPORT - 5)
#define MAX_MSG		7609
#define MAX_FRAMES	(MAX_MSG / CONT_DATA + 2)
#define CID_BROADCAST	0xffffffffU

/* CTAPHID commands (without the initialization bit 0x80). */
#define HID_PING	0x01
#define HID_MSG		0x03
#define HID_INIT	0x06
#define HID_CBOR	0x10
#define HID_CANCEL	0x11
#define HID_ERROR	0x3f

/* CTAPHID_ERROR codes. */
#define ERR_INVALID_CMD	0x01
#define ERR_INVALID_LEN	0x03
#define ERR_INVALID_SEQ	0x04
#define ERR_INVALID_CHANNEL 0x0b

/* CTAP2 commands and status codes. */
#define CTAP_MAKE_CRED	0x01
#define CTAP_GET_ASSERT	0x02
#define CTAP_GET_INFO	0x04
#define ST_OK		0x00
#define ST_INVALID_CMD	0x01
#define ST_INVALID_CBOR	0x12
#define ST_MISSING	0x14
#define ST_EXCLUDED	0x19
#define ST_UNSUPPORTED_ALG 0x26
#define ST_NO_CREDENTIALS 0x2e

#define NDEV		8

struct softctap {
	struct softauthn *sa;
	char		 path[32];
	int		 slot;
	uint32_t	 next_cid;
	uint32_t	 counter;
	int		 have_cred;
	int		 rk;
	char		 rp_id[256];
	uint8_t		 user_id[64];
	size_t		 user_id_len;
	uint8_t		 fail_next;
	unsigned int	 hid_errors;
	uint8_t		 last_error;
};

/* One open of a key: a message being received, answers to be read. */
struct handle {
	struct softctap	*sc;
	uint32_t	 cid;
	uint8_t		 cmd;
	uint8_t		 seq;
	size_t		 need;
	size_t		 got;
	uint8_t		 msg[MAX_MSG];
	uint8_t		 out[MAX_FRAMES][REPORT];
	size_t		 nout;
	size_t		 outpos;
};

static struct softctap *devices[NDEV];

struct softctap *
softctap_new(void)
{
	struct softctap *sc;
	int i;

	for (i = 0; i < NDEV && devices[i] != NULL; i++)
		;
	if (i == NDEV || (sc = calloc(1, sizeof(*sc))) == NULL)
		return NULL;
	if ((sc->sa = softauthn_new(-7)) == NULL) {
		free(sc);
		return NULL;
	}
	sc->slot = i;
	sc->next_cid = 0x01020300;
	snprintf(sc->path, sizeof(sc->path), "softctap:%d", i);
	devices[i] = sc;
	return sc;
}

void
softctap_free(struct softctap **scp)
{
	struct softctap *sc;

	if (scp == NULL || (sc = *scp) == NULL)
		return;
	devices[sc->slot] = NULL;
	softauthn_free(&sc->sa);
	free(sc);
	*scp = NULL;
}

const char *
softctap_path(const struct softctap *sc)
{
	return sc->path;
}

void
softctap_fail_next(struct softctap *sc, uint8_t status)
{
	sc->fail_next = status;
}

uint32_t
softctap_counter(const struct softctap *sc)
{
	return sc->counter;
}

unsigned int
softctap_hid_errors(const struct softctap *sc, uint8_t *last)
{
	if (last != NULL)
		*last = sc->last_error;
	return sc->hid_errors;
}

/* Queues one answer as an initialization packet and continuations. */
static void
answer(struct handle *h, uint32_t cid, uint8_t cmd, const uint8_t *p,
    size_t n)
{
	size_t off, chunk;
	uint8_t *f;
	uint8_t seq = 0;

	if (n > MAX_MSG)
		return;
	f = h->out[h->nout = 0];
	h->outpos = 0;
	memset(f, 0, REPORT);
	memcpy(f, &cid, 4);
	f[4] = (uint8_t)(0x80 | cmd);
	f[5] = (uint8_t)(n >> 8);
	f[6] = (uint8_t)n;
	chunk = n < INIT_DATA ? n : INIT_DATA;
	memcpy(f + 7, p, chunk);
	h->nout = 1;
	for (off = chunk; off < n; off += chunk) {
		f = h->out[h->nout++];
		memset(f, 0, REPORT);
		memcpy(f, &cid, 4);
		f[4] = seq++;
		chunk = n - off < CONT_DATA ? n - off : CONT_DATA;
		memcpy(f + 5, p + off, chunk);
	}
}

static void
hid_error(struct handle *h, uint32_t cid, uint8_t code)
{
	h->sc->hid_errors++;
	h->sc->last_error = code;
	h->need = h->got = 0;
	answer(h, cid, HID_ERROR, &code, 1);
}

static void
do_init(struct handle *h, uint32_t cid, const uint8_t *nonce, size_t n)
{
	uint8_t r[17];
	uint32_t newcid = cid;

	if (n != 8) {
		hid_error(h, cid, ERR_INVALID_LEN);
		return;
	}
	if (cid == CID_BROADCAST)
		newcid = ++h->sc->next_cid;
	memcpy(r, nonce, 8);
	memcpy(r + 8, &newcid, 4);
	r[12] = 2;		/* CTAPHID protocol version */
	r[13] = 1;		/* device version 1.0.0 */
	r[14] = 0;
	r[15] = 0;
	r[16] = 0x04;		/* CAPABILITY_CBOR; MSG answered too */
	h->cid = newcid;
	answer(h, cid, HID_INIT, r, sizeof(r));
}

/* libcbor helpers: a definite map built pair by pair. */
static int
put(cbor_item_t *m, cbor_item_t *k, cbor_item_t *v)
{
	struct cbor_pair p;

	if (m == NULL || k == NULL || v == NULL) {
		if (k != NULL)
			cbor_decref(&k);
		if (v != NULL)
			cbor_decref(&v);
		return -1;
	}
	p.key = cbor_move(k);
	p.value = cbor_move(v);
	return cbor_map_add(m, p) ? 0 : -1;
}

static cbor_item_t *
text_array(const char *s)
{
	cbor_item_t *a = cbor_new_definite_array(1);

	if (a != NULL && !cbor_array_push(a, cbor_move(cbor_build_string(
	    s))))
		cbor_decref(&a);
	return a;
}

static cbor_item_t *
info_options(void)
{
	static const char *names[] = { "rk", "up", "uv", "plat" };
	cbor_item_t *m = cbor_new_definite_map(4);
	size_t i;

	for (i = 0; i < 4; i++)
		if (put(m, cbor_build_string(names[i]),
		    cbor_build_bool(i < 3)) != 0) {
			if (m != NULL)
				cbor_decref(&m);
			return NULL;
		}
	return m;
}

static cbor_item_t *
get_info(void)
{
	cbor_item_t *m = cbor_new_definite_map(5), *protos;

	protos = cbor_new_definite_array(1);
	if (protos != NULL && !cbor_array_push(protos,
	    cbor_move(cbor_build_uint8(1))))
		cbor_decref(&protos);
	if (put(m, cbor_build_uint8(1), text_array("FIDO_2_0")) != 0 ||
	    put(m, cbor_build_uint8(3), cbor_build_bytestring(
	    (const unsigned char *)SOFTAUTHN_AAGUID, 16)) != 0 ||
	    put(m, cbor_build_uint8(4), info_options()) != 0 ||
	    put(m, cbor_build_uint8(5), cbor_build_uint16(1200)) != 0 ||
	    put(m, cbor_build_uint8(6), protos) != 0) {
		if (m != NULL)
			cbor_decref(&m);
		return NULL;
	}
	return m;
}

/* The value under integer key k in a CTAP2 request map, or NULL. */
static cbor_item_t *
member(cbor_item_t *req, uint8_t k)
{
	struct cbor_pair *p = cbor_map_handle(req);
	size_t i;

	for (i = 0; i < cbor_map_size(req); i++)
		if (cbor_isa_uint(p[i].key) && cbor_get_int(p[i].key) == k)
			return p[i].value;
	return NULL;
}

/* The value under text key name in a map, or NULL. */
static cbor_item_t *
named(cbor_item_t *m, const char *name)
{
	struct cbor_pair *p;
	size_t i, n = strlen(name);

	if (m == NULL || !cbor_isa_map(m))
		return NULL;
	p = cbor_map_handle(m);
	for (i = 0; i < cbor_map_size(m); i++)
		if (cbor_isa_string(p[i].key) && cbor_string_is_definite(
		    p[i].key) && cbor_string_length(p[i].key) == n &&
		    memcmp(cbor_string_handle(p[i].key), name, n) == 0)
			return p[i].value;
	return NULL;
}

static int
text_copy(cbor_item_t *s, char *out, size_t cap)
{
	size_t n;

	if (s == NULL || !cbor_isa_string(s) || !cbor_string_is_definite(s) ||
	    (n = cbor_string_length(s)) >= cap)
		return -1;
	memcpy(out, cbor_string_handle(s), n);
	out[n] = '\0';
	return 0;
}

/* clientDataHash: key 1 of makeCredential, key 2 of getAssertion. */
static const uint8_t *
cdh_of(cbor_item_t *req, uint8_t key)
{
	cbor_item_t *c = member(req, key);

	return c != NULL && cbor_isa_bytestring(c) &&
	    cbor_bytestring_is_definite(c) && cbor_bytestring_length(c) == 32 ?
	    cbor_bytestring_handle(c) : NULL;
}

static int
offers_es256(cbor_item_t *params)
{
	cbor_item_t **a, *alg;
	size_t i;

	if (params == NULL || !cbor_isa_array(params))
		return 0;
	a = cbor_array_handle(params);
	for (i = 0; i < cbor_array_size(params); i++) {
		alg = named(a[i], "alg");
		if (alg != NULL && cbor_isa_negint(alg) &&
		    cbor_get_int(alg) == 6)
			return 1;
	}
	return 0;
}

/* Whether a list of credential descriptors names our credential. */
static int
lists_us(const struct softctap *sc, cbor_item_t *list)
{
	const uint8_t *id;
	cbor_item_t **a, *v;
	size_t i, n;

	if (list == NULL || !cbor_isa_array(list))
		return 0;
	id = softauthn_cred_id(sc->sa, &n);
	a = cbor_array_handle(list);
	for (i = 0; i < cbor_array_size(list); i++) {
		v = named(a[i], "id");
		if (v != NULL && cbor_isa_bytestring(v) &&
		    cbor_bytestring_is_definite(v) &&
		    cbor_bytestring_length(v) == n &&
		    memcmp(cbor_bytestring_handle(v), id, n) == 0)
			return 1;
	}
	return 0;
}

/* authData and its signature for rp_id over cdh, counter stepped. */
static int
sign_for(struct softctap *sc, const char *rp_id, int attested,
    const uint8_t *cdh, cbor_item_t **ad_item, cbor_item_t **sig_item)
{
	uint8_t *ad = NULL, *sig = NULL;
	size_t adlen = 0, siglen = 0;
	int r = -1;

	*ad_item = *sig_item = NULL;
	sc->counter++;
	if (softauthn_ctap_auth_data(sc->sa, rp_id, sc->counter, attested,
	    &ad, &adlen) == 0 && softauthn_ctap_sign(sc->sa, ad, adlen, cdh,
	    &sig, &siglen) == 0) {
		*ad_item = cbor_build_bytestring(ad, adlen);
		*sig_item = cbor_build_bytestring(sig, siglen);
		r = *ad_item != NULL && *sig_item != NULL ? 0 : -1;
	}
	free(ad);
	free(sig);
	return r;
}

static uint8_t
make_cred(struct softctap *sc, cbor_item_t *req, cbor_item_t **resp)
{
	cbor_item_t *rp, *user, *uid, *opt, *rk, *ad, *sig, *st = NULL;
	const uint8_t *cdh = cdh_of(req, 1);
	char rp_id[256];

	rp = member(req, 2);
	user = member(req, 3);
	uid = named(user, "id");
	if (cdh == NULL || text_copy(named(rp, "id"), rp_id,
	    sizeof(rp_id)) != 0 || uid == NULL ||
	    !cbor_isa_bytestring(uid) || !cbor_bytestring_is_definite(uid) ||
	    cbor_bytestring_length(uid) > sizeof(sc->user_id))
		return ST_MISSING;
	if (!offers_es256(member(req, 4)))
		return ST_UNSUPPORTED_ALG;
	if (sc->have_cred && lists_us(sc, member(req, 5)))
		return ST_EXCLUDED;
	opt = member(req, 7);
	rk = named(opt, "rk");
	if (sign_for(sc, rp_id, 1, cdh, &ad, &sig) != 0 ||
	    (st = cbor_new_definite_map(2)) == NULL ||
	    put(st, cbor_build_string("alg"), cbor_build_negint8(6)) != 0 ||
	    put(st, cbor_build_string("sig"), sig) != 0 ||
	    (*resp = cbor_new_definite_map(3)) == NULL ||
	    put(*resp, cbor_build_uint8(1), cbor_build_string("packed")) !=
	    0 || put(*resp, cbor_build_uint8(2), ad) != 0 ||
	    put(*resp, cbor_build_uint8(3), st) != 0) {
		if (*resp != NULL)
			cbor_decref(resp);
		return ST_INVALID_CBOR;
	}
	snprintf(sc->rp_id, sizeof(sc->rp_id), "%s", rp_id);
	memcpy(sc->user_id, cbor_bytestring_handle(uid),
	    cbor_bytestring_length(uid));
	sc->user_id_len = cbor_bytestring_length(uid);
	sc->rk = rk != NULL && cbor_is_bool(rk) && cbor_get_bool(rk);
	sc->have_cred = 1;
	return ST_OK;
}

static cbor_item_t *
descriptor(const struct softctap *sc)
{
	cbor_item_t *m = cbor_new_definite_map(2);
	const uint8_t *id;
	size_t n;

	id = softauthn_cred_id(sc->sa, &n);
	if (put(m, cbor_build_string("id"), cbor_build_bytestring(id,
	    n)) != 0 || put(m, cbor_build_string("type"),
	    cbor_build_string("public-key")) != 0) {
		if (m != NULL)
			cbor_decref(&m);
		return NULL;
	}
	return m;
}

static cbor_item_t *
user_entity(const struct softctap *sc)
{
	cbor_item_t *m = cbor_new_definite_map(1);

	if (put(m, cbor_build_string("id"), cbor_build_bytestring(
	    sc->user_id, sc->user_id_len)) != 0) {
		if (m != NULL)
			cbor_decref(&m);
		return NULL;
	}
	return m;
}

static uint8_t
get_assert(struct softctap *sc, cbor_item_t *req, cbor_item_t **resp)
{
	cbor_item_t *allow = member(req, 3), *ad, *sig;
	const uint8_t *cdh = cdh_of(req, 2);
	char rp_id[256];
	int listed;

	if (cdh == NULL || text_copy(member(req, 1), rp_id,
	    sizeof(rp_id)) != 0)
		return ST_MISSING;
	listed = allow != NULL && cbor_isa_array(allow) &&
	    cbor_array_size(allow) > 0;
	if (!sc->have_cred || strcmp(rp_id, sc->rp_id) != 0 ||
	    (listed && !lists_us(sc, allow)) || (!listed && !sc->rk))
		return ST_NO_CREDENTIALS;
	if (sign_for(sc, rp_id, 0, cdh, &ad, &sig) != 0 ||
	    (*resp = cbor_new_definite_map(listed ? 3 : 4)) == NULL ||
	    put(*resp, cbor_build_uint8(1), descriptor(sc)) != 0 ||
	    put(*resp, cbor_build_uint8(2), ad) != 0 ||
	    put(*resp, cbor_build_uint8(3), sig) != 0 ||
	    (!listed && put(*resp, cbor_build_uint8(4),
	    user_entity(sc)) != 0)) {
		if (*resp != NULL)
			cbor_decref(resp);
		return ST_INVALID_CBOR;
	}
	return ST_OK;
}

/* One CTAP2 command: the status byte, then the CBOR answer if any. */
static void
do_cbor(struct handle *h, const uint8_t *p, size_t n)
{
	struct cbor_load_result res;
	struct softctap *sc = h->sc;
	cbor_item_t *req = NULL, *resp = NULL;
	unsigned char *enc = NULL, *msg;
	size_t enclen = 0, cap = 0;
	uint8_t st = ST_OK;

	if (p[0] == CTAP_GET_INFO)
		resp = get_info();
	else if (p[0] != CTAP_MAKE_CRED && p[0] != CTAP_GET_ASSERT)
		st = ST_INVALID_CMD;
	else if (sc->fail_next != 0) {
		st = sc->fail_next;
		sc->fail_next = 0;
	} else if (n < 2 || (req = cbor_load(p + 1, n - 1, &res)) == NULL ||
	    res.read != n - 1 || !cbor_isa_map(req))
		st = ST_INVALID_CBOR;
	else
		st = p[0] == CTAP_MAKE_CRED ? make_cred(sc, req, &resp) :
		    get_assert(sc, req, &resp);
	if (st == ST_OK && (resp == NULL ||
	    (enclen = cbor_serialize_alloc(resp, &enc, &cap)) == 0))
		st = ST_INVALID_CBOR;
	if (st != ST_OK)
		enclen = 0;
	if ((msg = malloc(enclen + 1)) != NULL) {
		msg[0] = st;
		if (enclen > 0)
			memcpy(msg + 1, enc, enclen);
		answer(h, h->cid, HID_CBOR, msg, enclen + 1);
	}
	free(msg);
	free(enc);
	if (req != NULL)
		cbor_decref(&req);
	if (resp != NULL)
		cbor_decref(&resp);
}

static void
dispatch(struct handle *h, uint32_t cid)
{
	static const uint8_t sw_ins_not_supported[2] = { 0x6d, 0x00 };

	h->need = 0;
	switch (h->cmd) {
	case HID_INIT:
		do_init(h, cid, h->msg, h->got);
		break;
	case HID_PING:
		answer(h, cid, HID_PING, h->msg, h->got);
		break;
	case HID_MSG:
		/* No U2F here: every CTAP1 instruction is unsupported. */
		answer(h, cid, HID_MSG, sw_ins_not_supported, 2);
		break;
	case HID_CBOR:
		if (h->got == 0)
			hid_error(h, cid, ERR_INVALID_LEN);
		else
			do_cbor(h, h->msg, h->got);
		break;
	case HID_CANCEL:
		break;
	default:
		hid_error(h, cid, ERR_INVALID_CMD);
		break;
	}
}

static void *
io_open(const char *path)
{
	struct handle *h;
	int i;

	for (i = 0; i < NDEV; i++)
		if (devices[i] != NULL && strcmp(path, devices[i]->path) == 0)
			break;
	if (i == NDEV || (h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->sc = devices[i];
	h->cid = CID_BROADCAST;
	return h;
}

static void
io_close(void *arg)
{
	free(arg);
}

/* A known channel: broadcast (INIT only) or one handed out. */
static int
channel_ok(const struct handle *h, uint32_t cid, uint8_t cmd)
{
	if (cid == CID_BROADCAST)
		return cmd == HID_INIT;
	return cid != 0 && cid == h->cid;
}

static int
io_write(void *arg, const unsigned char *buf, size_t len)
{
	struct handle *h = arg;
	const uint8_t *f = buf + 1;	/* after the report id */
	uint32_t cid;
	size_t chunk;

	if (len != REPORT + 1)
		return -1;
	memcpy(&cid, f, 4);
	if (f[4] & 0x80) {
		h->cmd = f[4] & 0x7f;
		h->need = (size_t)f[5] << 8 | f[6];
		h->got = 0;
		h->seq = 0;
		if (!channel_ok(h, cid, h->cmd)) {
			hid_error(h, cid, ERR_INVALID_CHANNEL);
			return (int)len;
		}
		if (h->need > MAX_MSG) {
			hid_error(h, cid, ERR_INVALID_LEN);
			return (int)len;
		}
		chunk = h->need < INIT_DATA ? h->need : INIT_DATA;
		memcpy(h->msg, f + 7, chunk);
		h->got = chunk;
	} else {
		/* A continuation with nothing under way is ignored. */
		if (h->need == 0 || h->got >= h->need)
			return (int)len;
		if (!channel_ok(h, cid, h->cmd) || f[4] != h->seq) {
			hid_error(h, cid, ERR_INVALID_SEQ);
			return (int)len;
		}
		h->seq++;
		chunk = h->need - h->got < CONT_DATA ? h->need - h->got :
		    CONT_DATA;
		memcpy(h->msg + h->got, f + 5, chunk);
		h->got += chunk;
	}
	if (h->got == h->need)
		dispatch(h, cid);
	return (int)len;
}

/* Nothing queued is a timeout: the key never makes libfido2 wait. */
static int
io_read(void *arg, unsigned char *buf, size_t len, int ms)
{
	struct handle *h = arg;

	(void)ms;
	if (len != REPORT || h->outpos >= h->nout)
		return -1;
	memcpy(buf, h->out[h->outpos++], REPORT);
	return REPORT;
}

const fido_dev_io_t *
softctap_io(void)
{
	static const fido_dev_io_t io = {
		io_open, io_close, io_read, io_write,
	};

	return &io;
}
