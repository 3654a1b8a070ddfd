/* Internal to the configuration parser. */
#ifndef TWOKEY_CONFIG_INT_H
#define TWOKEY_CONFIG_INT_H

#include <stddef.h>

#include <jansson.h>

/*
 * Checks the policy object's keys and types, naming the first bad one in
 * err as "policy.KEY: ...". Returns 0 or TK_CFG_ERR_SETTING.
 */
int tk_config_check_policy(json_t *v, char *err, size_t errlen);

/* Blanks comment lines (first non-blank byte '#') in place. */
void tk_config_strip_comments(char *s, size_t len);

#endif
