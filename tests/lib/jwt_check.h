/* Test helper: verify an ES256 JWT against a JWKS document. */
#ifndef TWOKEY_JWT_CHECK_H
#define TWOKEY_JWT_CHECK_H

#include <jansson.h>

/*
 * The JWT's claims when its header names a key (kid) of the JWKS and the
 * ES256 signature over header.payload verifies with it; NULL otherwise.
 */
json_t *jwt_check(const char *jwt, const char *jwks);

#endif
