/*
 * libFuzzer harness: an inventory document as an admin imports it, read
 * as JSON and as CSV. Whatever is accepted must be written back in the
 * same form and read again to the same accounts; whatever is refused
 * must come with at least one problem, each naming a row and a field.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "twokey/common.h"
#include "twokey/inventory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
problems_are_named(const json_t *problems)
{
	json_t *v;
	size_t i;

	if (json_array_size(problems) == 0)
		abort();
	json_array_foreach(problems, i, v)
		if (!json_is_integer(json_object_get(v, "row")) ||
		    !json_is_string(json_object_get(v, "field")) ||
		    !json_is_string(json_object_get(v, "message")))
			abort();
}

static void
round_trip(const struct tk_inv_set *s, enum tk_inv_format fmt)
{
	struct tk_inv_set again;
	json_t *problems = json_array();
	char *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0, i;

	if (tk_inventory_format(s, fmt, &a, &alen) != 0)
		abort();
	if (tk_inventory_parse(a, alen, fmt, &again, problems) != 0 ||
	    again.n != s->n)
		abort();
	for (i = 0; i < s->n; i++)
		(void)tk_inventory_flags(&again.a[i], NULL, NULL, 0);
	if (tk_inventory_format(&again, fmt, &b, &blen) != 0 ||
	    alen != blen || memcmp(a, b, alen) != 0)
		abort();
	tk_inv_set_clear(&again);
	json_decref(problems);
	free(a);
	free(b);
}

static void
one(const uint8_t *data, size_t size, enum tk_inv_format fmt)
{
	struct tk_inv_set s;
	json_t *problems = json_array();
	int rc;

	rc = tk_inventory_parse((const char *)data, size, fmt, &s, problems);
	if (rc == 0)
		round_trip(&s, fmt);
	else if (rc == TK_INV_ERR_INVALID || rc == TK_INV_ERR_TOOBIG)
		problems_are_named(problems);
	else
		abort();
	tk_inv_set_clear(&s);
	json_decref(problems);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tk_log_set_level(TK_LOG_ERROR);
	one(data, size, TK_INV_JSON);
	one(data, size, TK_INV_CSV);
	return 0;
}
