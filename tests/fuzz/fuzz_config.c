/* libFuzzer: twokeyd's configuration parser, comments included. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "twokey/config.h"
#include "../../firmware-host/config_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_config *c = NULL;
	char err[256], *text;

	if (size > TK_CFG_MAX_FILE || (text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	tk_config_strip_comments(text, size);
	if (tk_config_parse(text, size, &c, err, sizeof(err)) == TK_CFG_OK &&
	    (c->pkcs11_uri == NULL || c->norigins == 0 ||
	    c->listen_port == 0))
		abort();	/* accepted without what is required */
	tk_config_free(&c);
	free(text);
	return 0;
}
