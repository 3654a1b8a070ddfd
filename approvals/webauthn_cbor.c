/*
 * Strict CBOR for WebAuthn: the attestationObject split, authenticator
 * data and COSE keys. libcbor decodes; the rules it does not enforce
 * (indefinite lengths, duplicate map keys, tags, trailing bytes) are
 * enforced here before any field is used.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cbor.h>

#include "webauthn_int.h"

static int
key_equal(const cbor_item_t *a, const cbor_item_t *b)
{
	if (cbor_typeof(a) != cbor_typeof(b))
		return 0;
	if (cbor_isa_uint(a) || cbor_isa_negint(a))
		return cbor_get_int(a) == cbor_get_int(b);
	return cbor_string_length(a) == cbor_string_length(b) &&
	    memcmp(cbor_string_handle(a), cbor_string_handle(b),
	    cbor_string_length(a)) == 0;
}

static int
map_strict(const cbor_item_t *item, int depth)
{
	struct cbor_pair *p = cbor_map_handle(item);
	size_t i, j, n = cbor_map_size(item);

	if (cbor_map_is_indefinite(item))
		return -1;
	for (i = 0; i < n; i++) {
		if (!cbor_isa_uint(p[i].key) && !cbor_isa_negint(p[i].key) &&
		    !cbor_isa_string(p[i].key))
			return -1;
		if (tk_wa_cbor_strict(p[i].key, depth - 1) != 0 ||
		    tk_wa_cbor_strict(p[i].value, depth - 1) != 0)
			return -1;
		for (j = 0; j < i; j++)
			if (key_equal(p[i].key, p[j].key))
				return -1;
	}
	return 0;
}

int
tk_wa_cbor_strict(const cbor_item_t *item, int depth)
{
	cbor_item_t **a;
	size_t i;

	if (item == NULL || depth <= 0)
		return -1;
	switch (cbor_typeof(item)) {
	case CBOR_TYPE_UINT:
	case CBOR_TYPE_NEGINT:
		return 0;
	case CBOR_TYPE_BYTESTRING:
		return cbor_bytestring_is_indefinite(item) ? -1 : 0;
	case CBOR_TYPE_STRING:
		return cbor_string_is_indefinite(item) ? -1 : 0;
	case CBOR_TYPE_ARRAY:
		if (cbor_array_is_indefinite(item))
			return -1;
		a = cbor_array_handle(item);
		for (i = 0; i < cbor_array_size(item); i++)
			if (tk_wa_cbor_strict(a[i], depth - 1) != 0)
				return -1;
		return 0;
	case CBOR_TYPE_MAP:
		return map_strict(item, depth);
	case CBOR_TYPE_FLOAT_CTRL:
		/* Only true/false/null appear in WebAuthn structures. */
		return cbor_is_bool(item) || cbor_is_null(item) ? 0 : -1;
	default:
		return -1;	/* tags have no place in these structures */
	}
}

/* Reads one item head: major type and argument; -1 on indefinite. */
static int
head(const uint8_t *b, size_t len, size_t *off, uint8_t *major,
    uint64_t *val)
{
	uint8_t ai;
	size_t i, w;

	if (*off >= len)
		return -1;
	*major = b[*off] >> 5;
	ai = b[*off] & 0x1f;
	(*off)++;
	if (ai < 24) {
		*val = ai;
		return 0;
	}
	if (ai > 27)
		return -1;	/* indefinite (31) or reserved */
	w = (size_t)1 << (ai - 24);
	if (len - *off < w)
		return -1;
	for (*val = 0, i = 0; i < w; i++)
		*val = (*val << 8) | b[(*off)++];
	return 0;
}

/*
 * Walks one item without allocating: every declared length must fit in
 * the bytes left. libcbor 0.8 allocates a container for its declared
 * size before reading it, so a five-byte map head could otherwise ask for
 * gigabytes. Work is linear in len; depth is bounded.
 */
static int
prescan(const uint8_t *b, size_t len, size_t *off, int depth)
{
	size_t start = *off;
	uint64_t val, i, n;
	uint8_t major;

	if (depth <= 0 || head(b, len, off, &major, &val) != 0)
		return -1;
	switch (major) {
	case 0:
	case 1:
		return 0;
	case 2:
	case 3:
		if (val > len - *off)
			return -1;
		*off += (size_t)val;
		return 0;
	case 4:
	case 5:
		if (val > len - *off)
			return -1;
		n = major == 5 ? 2 * val : val;
		for (i = 0; i < n; i++)
			if (prescan(b, len, off, depth - 1) != 0)
				return -1;
		return 0;
	case 7:
		/* false, true, null in their one-byte form only */
		return *off - start == 1 && val >= 20 && val <= 22 ? 0 : -1;
	default:
		return -1;	/* tags */
	}
}

cbor_item_t *
tk_wa_cbor_load(const uint8_t *buf, size_t len, size_t *used)
{
	struct cbor_load_result r;
	cbor_item_t *item;
	size_t n = 0;

	*used = 0;
	if (buf == NULL || len == 0 ||
	    prescan(buf, len, &n, TK_WA_CBOR_DEPTH) != 0)
		return NULL;
	memset(&r, 0, sizeof(r));
	if ((item = cbor_load(buf, n, &r)) == NULL)
		return NULL;
	if (r.error.code != CBOR_ERR_NONE || r.read != n ||
	    tk_wa_cbor_strict(item, TK_WA_CBOR_DEPTH) != 0) {
		cbor_decref(&item);
		return NULL;
	}
	*used = n;
	return item;
}

cbor_item_t *
tk_wa_map_get(const cbor_item_t *map, const char *key)
{
	struct cbor_pair *p;
	size_t i, klen = strlen(key);

	if (!cbor_isa_map(map))
		return NULL;
	p = cbor_map_handle(map);
	for (i = 0; i < cbor_map_size(map); i++)
		if (cbor_isa_string(p[i].key) &&
		    cbor_string_length(p[i].key) == klen &&
		    memcmp(cbor_string_handle(p[i].key), key, klen) == 0)
			return p[i].value;
	return NULL;
}

/* Reads a definite map head; returns its length in bytes or 0. */
static size_t
map_head(const uint8_t *buf, size_t len, uint64_t *n)
{
	uint8_t ai;
	size_t i, w;

	if (len < 1 || (buf[0] >> 5) != 5)
		return 0;
	ai = buf[0] & 0x1f;
	if (ai < 24) {
		*n = ai;
		return 1;
	}
	if (ai > 27)
		return 0;	/* indefinite (31) or reserved */
	w = (size_t)1 << (ai - 24);
	if (len < 1 + w)
		return 0;
	for (*n = 0, i = 0; i < w; i++)
		*n = (*n << 8) | buf[1 + i];
	return 1 + w;
}

static int
attobj_member(const uint8_t *buf, size_t len, const cbor_item_t *key,
    const cbor_item_t *val, size_t off, size_t used, struct tk_wa_attobj *ao,
    struct tk_webauthn_verdict *v)
{
	const char *k = (const char *)cbor_string_handle(key);
	size_t kl = cbor_string_length(key);

	(void)len;
	if (kl == 3 && memcmp(k, "fmt", 3) == 0) {
		if (!cbor_isa_string(val) || cbor_string_length(val) == 0 ||
		    cbor_string_length(val) >= sizeof(ao->fmt))
			return tk_wa_fail(v, TK_WA_ERR_ATTOBJ,
			    "attestationObject fmt is not a short text string");
		memcpy(ao->fmt, cbor_string_handle(val),
		    cbor_string_length(val));
		ao->fmt[cbor_string_length(val)] = '\0';
		if (strlen(ao->fmt) != cbor_string_length(val))
			return tk_wa_fail(v, TK_WA_ERR_ATTOBJ,
			    "attestationObject fmt contains a NUL byte");
	} else if (kl == 7 && memcmp(k, "attStmt", 7) == 0) {
		if (!cbor_isa_map(val))
			return tk_wa_fail(v, TK_WA_ERR_ATTOBJ,
			    "attestationObject attStmt is not a map");
		ao->att_stmt = buf + off;
		ao->att_stmt_len = used;
	} else if (kl == 8 && memcmp(k, "authData", 8) == 0) {
		if (!cbor_isa_bytestring(val))
			return tk_wa_fail(v, TK_WA_ERR_ATTOBJ,
			    "attestationObject authData is not a byte string");
		/* The content of a definite bstr ends its encoding. */
		ao->auth_data_len = cbor_bytestring_length(val);
		ao->auth_data = buf + off + used - ao->auth_data_len;
	} else
		return tk_wa_fail(v, TK_WA_ERR_ATTOBJ,
		    "attestationObject has a member other than fmt, attStmt "
		    "and authData");
	return 0;
}

int
tk_wa_attobj_split(const uint8_t *buf, size_t len, struct tk_wa_attobj *ao,
    struct tk_webauthn_verdict *v)
{
	cbor_item_t *key = NULL, *val = NULL;
	uint64_t n, i;
	size_t off, used;
	int r = TK_WA_ERR_ATTOBJ;

	memset(ao, 0, sizeof(*ao));
	if ((off = map_head(buf, len, &n)) == 0 || n != 3)
		return tk_wa_fail(v, r, "attestationObject is not a definite "
		    "CBOR map of three members");
	for (i = 0; i < n; i++) {
		key = tk_wa_cbor_load(buf + off, len - off, &used);
		if (key == NULL || !cbor_isa_string(key)) {
			r = tk_wa_fail(v, r, "attestationObject key %u is not "
			    "a strict CBOR text string", (unsigned)i);
			goto out;
		}
		off += used;
		if ((val = tk_wa_cbor_load(buf + off, len - off,
		    &used)) == NULL) {
			r = tk_wa_fail(v, r, "attestationObject value %u is "
			    "not strict CBOR", (unsigned)i);
			goto out;
		}
		if ((r = attobj_member(buf, len, key, val, off, used, ao,
		    v)) != 0)
			goto out;
		r = TK_WA_ERR_ATTOBJ;
		off += used;
		cbor_decref(&key);
		cbor_decref(&val);
	}
	if (off != len)
		r = tk_wa_fail(v, r, "attestationObject has %zu trailing bytes",
		    len - off);
	else if (ao->fmt[0] == '\0' || ao->att_stmt == NULL ||
	    ao->auth_data == NULL)
		r = tk_wa_fail(v, r, "attestationObject repeats a member");
	else
		r = 0;
out:
	if (key != NULL)
		cbor_decref(&key);
	if (val != NULL)
		cbor_decref(&val);
	return r;
}

static int
ext_parse(const cbor_item_t *map, struct tk_wa_authdata *ad,
    struct tk_webauthn_verdict *v)
{
	const cbor_item_t *cp, *hs;

	if (!cbor_isa_map(map) || cbor_map_size(map) == 0)
		return tk_wa_fail(v, TK_WA_ERR_EXTENSIONS, "extension data "
		    "is not a non-empty map");
	if ((cp = tk_wa_map_get(map, "credProtect")) != NULL) {
		if (!cbor_isa_uint(cp) || cbor_get_int(cp) < 1 ||
		    cbor_get_int(cp) > 3)
			return tk_wa_fail(v, TK_WA_ERR_EXTENSIONS,
			    "credProtect output is not 1, 2 or 3");
		ad->ext_cred_protect = (int)cbor_get_int(cp);
	}
	/* A boolean after create(), the encrypted output after get(). */
	if ((hs = tk_wa_map_get(map, "hmac-secret")) != NULL) {
		if (cbor_is_bool(hs))
			ad->ext_hmac_secret = cbor_get_bool(hs) ? 1 : 0;
		else if (cbor_isa_bytestring(hs))
			ad->ext_hmac_secret = 1;
		else
			return tk_wa_fail(v, TK_WA_ERR_EXTENSIONS,
			    "hmac-secret output is neither boolean nor bytes");
	}
	/* Other extension outputs are ignored but had to be strict CBOR. */
	ad->ext_present = 1;
	return 0;
}

static int
attested_parse(const uint8_t *buf, size_t len, size_t *off,
    struct tk_wa_authdata *ad, struct tk_webauthn_verdict *v)
{
	cbor_item_t *key;
	size_t used;

	if (len - *off < TK_WA_AAGUID_LEN + 2)
		return tk_wa_fail(v, TK_WA_ERR_AUTHDATA, "attested credential "
		    "data is truncated");
	ad->aaguid = buf + *off;
	*off += TK_WA_AAGUID_LEN;
	ad->cred_id_len = (size_t)buf[*off] << 8 | buf[*off + 1];
	*off += 2;
	if (ad->cred_id_len == 0 || ad->cred_id_len > TK_WA_CRED_ID_MAX)
		return tk_wa_fail(v, TK_WA_ERR_CRED_ID, "credential id length "
		    "%zu is not within 1..%d", ad->cred_id_len,
		    TK_WA_CRED_ID_MAX);
	if (len - *off < ad->cred_id_len)
		return tk_wa_fail(v, TK_WA_ERR_AUTHDATA, "credential id runs "
		    "past the end of authenticator data");
	ad->cred_id = buf + *off;
	*off += ad->cred_id_len;
	if ((key = tk_wa_cbor_load(buf + *off, len - *off, &used)) == NULL)
		return tk_wa_fail(v, TK_WA_ERR_AUTHDATA, "credential public "
		    "key is not strict CBOR");
	cbor_decref(&key);
	if (used > TK_WA_COSE_KEY_MAX)
		return tk_wa_fail(v, TK_WA_ERR_AUTHDATA, "credential public "
		    "key is longer than %d bytes", TK_WA_COSE_KEY_MAX);
	ad->cose_key = buf + *off;
	ad->cose_key_len = used;
	*off += used;
	return 0;
}

int
tk_wa_authdata_parse(const uint8_t *buf, size_t len, int attested,
    struct tk_wa_authdata *ad, struct tk_webauthn_verdict *v)
{
	cbor_item_t *ext = NULL;
	size_t off = TK_WA_AUTHDATA_MIN, used;
	int r;

	memset(ad, 0, sizeof(*ad));
	if (buf == NULL || len < TK_WA_AUTHDATA_MIN)
		return tk_wa_fail(v, TK_WA_ERR_AUTHDATA, "authenticator data "
		    "is %zu bytes, shorter than %d", len, TK_WA_AUTHDATA_MIN);
	ad->rp_id_hash = buf;
	ad->flags = buf[32];
	ad->sign_count = (uint32_t)buf[33] << 24 | (uint32_t)buf[34] << 16 |
	    (uint32_t)buf[35] << 8 | buf[36];
	ad->attested = (ad->flags & TK_WA_FLAG_AT) != 0;
	if (ad->attested != attested)
		return tk_wa_fail(v, TK_WA_ERR_FLAGS, "AT flag is %s in %s",
		    ad->attested ? "set" : "clear",
		    attested ? "a registration" : "an assertion");
	if ((ad->flags & TK_WA_FLAG_BS) && !(ad->flags & TK_WA_FLAG_BE))
		return tk_wa_fail(v, TK_WA_ERR_FLAGS, "BS flag set without BE "
		    "(backed up but not backup eligible)");
	if (ad->attested && (r = attested_parse(buf, len, &off, ad, v)) != 0)
		return r;
	if (ad->flags & TK_WA_FLAG_ED) {
		if ((ext = tk_wa_cbor_load(buf + off, len - off,
		    &used)) == NULL)
			return tk_wa_fail(v, TK_WA_ERR_EXTENSIONS, "ED flag "
			    "set but no strict CBOR extension map follows");
		off += used;
		r = ext_parse(ext, ad, v);
		cbor_decref(&ext);
		if (r != 0)
			return r;
	}
	if (off != len)
		return tk_wa_fail(v, TK_WA_ERR_AUTHDATA, "authenticator data "
		    "has %zu trailing bytes", len - off);
	return 0;
}
