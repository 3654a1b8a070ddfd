/*
 * twokeyd --bootstrap: the first enrollment at the appliance. The list
 * names the people; the first is admin and approver, the others
 * approvers. The web layer checks everything (no governing person yet, an
 * admin and the quorum of other approvers, unique names) and journals the
 * whole bootstrap as one entry; the one-time codes reach stdout only,
 * once, and are never logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/web.h"
#include "daemon.h"

/* One "NAME:TEAM" of length len into p. */
static int
parse_one(const char *s, size_t len, struct tk_web_invitee *p)
{
	const char *colon = memchr(s, ':', len);
	size_t nl, tl;

	if (colon == NULL)
		return -1;
	nl = (size_t)(colon - s);
	tl = len - nl - 1;
	if (nl == 0 || tl == 0 || nl >= sizeof(p->name) ||
	    tl >= sizeof(p->team))
		return -1;
	memcpy(p->name, s, nl);
	p->name[nl] = '\0';
	memcpy(p->team, colon + 1, tl);
	p->team[tl] = '\0';
	return 0;
}

int
tk_bootstrap_parse(const char *list, struct tk_web_invitee **people,
    size_t *n)
{
	struct tk_web_invitee *p;
	const char *s = list, *e;
	size_t k = 0;

	*people = NULL;
	*n = 0;
	if ((p = calloc(TK_WEB_BOOTSTRAP_MAX, sizeof(*p))) == NULL)
		return -1;
	for (;;) {
		e = strchr(s, ',');
		if (k == TK_WEB_BOOTSTRAP_MAX || parse_one(s, e != NULL ?
		    (size_t)(e - s) : strlen(s), &p[k]) != 0) {
			fprintf(stderr, "twokeyd: --bootstrap: person %zu: "
			    "want NAME:TEAM[,NAME:TEAM...] (at most %d, each "
			    "part 1 to 64 bytes)\n", k + 1,
			    TK_WEB_BOOTSTRAP_MAX);
			free(p);
			return -1;
		}
		p[k].roles = k == 0 ? TK_ROLE_ADMIN | TK_ROLE_APPROVER :
		    TK_ROLE_APPROVER;
		k++;
		if (e == NULL)
			break;
		s = e + 1;
	}
	*people = p;
	*n = k;
	return 0;
}

static void
print_people(const struct tk_web_invitee *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%s\t%s\t%s\t%s\n", p[i].name, p[i].team,
		    (p[i].roles & TK_ROLE_ADMIN) ? "admin,approver" :
		    "approver", p[i].code);
	fflush(stdout);
}

int
tk_bootstrap_issue(const struct tk_config *cfg, struct tk_backend *b,
    struct tk_web_invitee *people, size_t n)
{
	char msg[256], when[32];
	struct tm tm;
	time_t expires = 0;
	size_t i;
	int r;

	r = tk_web_bootstrap(tk_backend_web(b), cfg->state_dir, people, n,
	    &expires, msg, sizeof(msg));
	if (r != TK_WEB_OK) {
		tk_error("bootstrap: %s", msg);
		return r == TK_WEB_ERR_GOVERNED ? TK_EXIT_GOVERNED :
		    r == TK_WEB_ERR_INVALID ? TK_EXIT_USAGE :
		    TK_EXIT_SOFTWARE;
	}
	if (gmtime_r(&expires, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(when, sizeof(when), "%lld", (long long)expires);
	print_people(people, n);
	for (i = 0; i < n; i++)
		OPENSSL_cleanse(people[i].code, sizeof(people[i].code));
	tk_info("bootstrap: %zu one-time invitations (journaled as "
	    "bootstrap.invite), valid until %s; the codes were printed once "
	    "and are kept nowhere", n, when);
	return 0;
}
