/*
 * libFuzzer harness: what a requester or a browser sends to approvals —
 * request JSON, the policy file, the challenge in clientDataJSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "twokey/approvals.h"
#include "twokey/common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
canonical_is_stable(const struct tk_request *r)
{
	uint8_t d1[TK_DIGEST_LEN], d2[TK_DIGEST_LEN];
	char *c1 = NULL, *c2 = NULL;

	if (tk_request_canonical(r, "fuzz", "rid", 1, &c1, d1) != 0)
		abort();
	if (tk_request_canonical(r, "fuzz", "rid", 1, &c2, d2) != 0 ||
	    strcmp(c1, c2) != 0 || memcmp(d1, d2, sizeof(d1)) != 0)
		abort();
	free(c1);
	free(c2);
}

/*
 * The stored (approved) form of a policy loads back to the same form:
 * otherwise an unchanged file would be reported as drift.
 */
static void
policy_round_trips(const struct tk_policy *p)
{
	struct tk_policy *q = NULL;
	json_t *a, *b;
	char *s;

	if ((a = tk_policy_to_json(p)) == NULL ||
	    (s = json_dumps(a, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		abort();
	if (tk_policy_from_json(s, strlen(s), &q) != 0 ||
	    (b = tk_policy_to_json(q)) == NULL || !json_equal(a, b))
		abort();
	json_decref(a);
	json_decref(b);
	free(s);
	tk_policy_free(&q);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tk_request *r = NULL;
	struct tk_policy *p = NULL;
	uint8_t ch[TK_CHALLENGE_LEN];

	tk_log_set_level(TK_LOG_ERROR);
	if (tk_request_parse((const char *)data, size, &r) == 0) {
		canonical_is_stable(r);
		tk_request_free(&r);
	}
	if (tk_policy_from_json((const char *)data, size, &p) == 0) {
		if (p->quorum < 2)
			abort();
		policy_round_trips(p);
		tk_policy_free(&p);
	}
	(void)tk_challenge_from_client_data(data, size, ch);
	return 0;
}
