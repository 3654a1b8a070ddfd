/*
 * libFuzzer: the gate every request body passes (JSON object, no
 * duplicates, declared fields only, types and bounds). The field list
 * covers every field type the API uses.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "twokey/web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct tk_field fields[] = {
	{ "name", TK_FIELD_STRING, 1, 1, 64 },
	{ "id", TK_FIELD_B64URL, 0, 1, 1400 },
	{ "duration", TK_FIELD_INTEGER, 0, 1, 86400 },
	{ "approve", TK_FIELD_BOOLEAN, 0, 0, 0 },
	{ "scopes", TK_FIELD_STRINGS, 0, 1, 32 },
	{ "details", TK_FIELD_OBJECT, 0, 0, 16 },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char msg[200];
	json_t *j;

	j = tk_web_parse_body((const char *)data, size, msg, sizeof(msg));
	if (j == NULL)
		return 0;
	if (!json_is_object(j))
		abort();
	if (tk_web_check_fields(j, fields, sizeof(fields) /
	    sizeof(fields[0]), msg, sizeof(msg)) == 0 &&
	    !json_is_string(json_object_get(j, "name")))
		abort();	/* a required field was let through */
	json_decref(j);
	return 0;
}
