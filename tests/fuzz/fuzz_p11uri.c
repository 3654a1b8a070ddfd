/*
 * libFuzzer harness for the RFC 7512 URI parser (hsm/uri.c): any input
 * must either parse into NUL-free, non-empty attributes or be refused with
 * TK_HSM_ERR_URI and a reason, without crashing, leaking or reading past
 * the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "twokey/hsm.h"
#include "../../hsm/hsm_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_text(const char *s)
{
	if (s != NULL && s[0] == '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_p11_uri *u = NULL;
	char why[256];
	char *s;
	int r;

	if (size > TK_P11_URI_MAX + 16)
		return 0;
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	r = tk_p11_uri_parse(s, &u, why, sizeof(why));
	if (r == 0) {
		if (u == NULL)
			abort();
		check_text(u->token);
		check_text(u->object);
		check_text(u->module_path);
		check_text(u->pin_file);
		check_text(u->pin_credential);
		if (u->module_path != NULL && u->module_path[0] != '/')
			abort();
		if (u->pin_file != NULL && u->pin_file[0] != '/')
			abort();
		if (u->pin_credential != NULL &&
		    strchr(u->pin_credential, '/') != NULL)
			abort();
		if (u->id != NULL && u->id_len == 0)
			abort();
	} else if (u != NULL || (r == TK_HSM_ERR_URI && why[0] == '\0'))
		abort();
	tk_p11_uri_free(&u);
	free(s);
	return 0;
}
