/* Reading the shared tlog vectors in place (see tlog_cases.h). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "twokey/common.h"
#include "tlog_cases.h"

/*
 * jansson refuses integers above INT64_MAX, and the inclusion vectors use
 * 2^64 - 1 as an index. Long digit runs outside strings are therefore
 * quoted before parsing, and tlog_u64 reads such strings exactly.
 */
static char *
quote_big_integers(const char *in, size_t len, size_t *outlen)
{
	char *out = malloc(len * 2 + 1);
	size_t i = 0, o = 0, run;
	int in_str = 0;

	assert_non_null(out);
	while (i < len) {
		if (in_str) {
			if (in[i] == '\\' && i + 1 < len)
				out[o++] = in[i++];
			else if (in[i] == '"')
				in_str = 0;
			out[o++] = in[i++];
			continue;
		}
		if (in[i] == '"')
			in_str = 1;
		for (run = 0; i + run < len && in[i + run] >= '0' &&
		    in[i + run] <= '9'; run++)
			;
		if (run >= 19 && (i == 0 || (in[i - 1] != '-' &&
		    in[i - 1] != '.'))) {
			out[o++] = '"';
			memcpy(out + o, in + i, run);
			o += run;
			out[o++] = '"';
			i += run;
			continue;
		}
		if (run > 0) {
			memcpy(out + o, in + i, run);
			o += run;
			i += run;
			continue;
		}
		out[o++] = in[i++];
	}
	*outlen = o;
	return out;
}

json_t *
tlog_cases_load(const char *file)
{
	const char *top = getenv("TWOKEY_TOP");
	json_error_t jerr;
	char path[4096], *text, *quoted;
	size_t len, qlen;
	json_t *j;
	FILE *f;
	int n;

	if (top == NULL)
		top = ".";
	n = snprintf(path, sizeof(path), "%s/../shared/cases/tlog/%s", top,
	    file);
	assert_true(n > 0 && (size_t)n < sizeof(path));
	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s", path);
	text = malloc(4 * 1024 * 1024);
	assert_non_null(text);
	len = fread(text, 1, 4 * 1024 * 1024, f);
	assert_true(feof(f));
	fclose(f);
	quoted = quote_big_integers(text, len, &qlen);
	j = json_loadb(quoted, qlen, 0, &jerr);
	if (j == NULL)
		fail_msg("cannot load %s: %s", path, jerr.text);
	free(text);
	free(quoted);
	return j;
}

int
tlog_b64_hash(const char *s, tk_merkle_hash out)
{
	uint8_t *buf;
	size_t len;
	int r = -1;

	if (tk_b64_decode(s, strlen(s), &buf, &len) != 0)
		return -1;
	if (len == TK_MERKLE_HASH_LEN) {
		memcpy(out, buf, len);
		r = 0;
	}
	free(buf);
	return r;
}

int
tlog_hex_hash(const char *s, tk_merkle_hash out)
{
	return tk_hex_decode(s, out, TK_MERKLE_HASH_LEN) == 0 ? 0 : -1;
}

int
tlog_b64_proof(const json_t *arr, tk_merkle_hash *out, size_t *len)
{
	size_t i;
	json_t *v;

	*len = 0;
	if (!json_is_array(arr) || json_array_size(arr) > TK_MERKLE_MAX_PROOF)
		return -1;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) ||
		    tlog_b64_hash(json_string_value(v), out[i]) != 0)
			return -1;
	}
	*len = json_array_size(arr);
	return 0;
}

const char *
tlog_str(const json_t *c, const char *key)
{
	const json_t *v = json_object_get(c, key);

	if (!json_is_string(v))
		fail_msg("field %s missing", key);
	return json_string_value(v);
}

uint64_t
tlog_u64(const json_t *c, const char *key)
{
	const json_t *v = json_object_get(c, key);
	unsigned long long u;
	char *end;

	if (json_is_string(v)) {
		errno = 0;
		u = strtoull(json_string_value(v), &end, 10);
		if (errno != 0 || *end != '\0')
			fail_msg("field %s not a uint64", key);
		return (uint64_t)u;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		fail_msg("field %s missing", key);
	return (uint64_t)json_integer_value(v);
}
