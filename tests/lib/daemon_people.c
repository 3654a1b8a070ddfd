/*
 * People for daemon tests: enrolled directly in the state folder (as the
 * key ceremony does), then signed in over HTTPS with softauthn keys.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/hsm.h"
#include "twokey/journal.h"
#include "twokey/packcheck.h"
#include "twokey/webauthn.h"
#include "daemon_fixture.h"
#include "softauthn.h"
#include "token_fixture.h"

struct store {
	struct tk_signer *signer;
	struct tk_journal *journal;
	struct tk_policy *policy;
	struct tk_approvals *ap;
};

static void
store_close(struct store *s)
{
	tk_approvals_free(&s->ap);
	tk_journal_free(&s->journal);
	tk_policy_free(&s->policy);
	tk_signer_free(&s->signer);
}

/*
 * The policy of the daemon's configuration file, so that the store the
 * fixture creates approves the same policy the daemon will read (else
 * the daemon's first start reports the file's policy as drift).
 */
static struct tk_policy *
config_policy(const struct tkd *d)
{
	struct tk_policy *p = NULL;
	json_t *conf, *pol;
	char *text;

	if ((conf = json_load_file(d->conf, 0, NULL)) == NULL)
		return NULL;
	if ((pol = json_object_get(conf, "policy")) == NULL)
		p = tk_policy_new();
	else if ((text = json_dumps(pol, JSON_COMPACT)) != NULL) {
		if (tk_policy_from_json(text, strlen(text), &p) != 0)
			p = NULL;
		free(text);
	}
	json_decref(conf);
	return p;
}

/* The daemon's own store: same files, origin and policy. */
static int
store_open(struct tkd *d, struct store *s)
{
	struct tk_signer_config sc;
	struct tk_journal_config jc;
	struct tk_approvals_config ac;
	char path[700], jpath[700], origin[64];

	memset(s, 0, sizeof(*s));
	snprintf(path, sizeof(path), "%s/state", d->dir);
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return -1;
	memset(&sc, 0, sizeof(sc));
	sc.uri = d->uri;
	sc.signer_path = d->signer;
	sc.timeout_ms = tk_fixture_ms(5000);
	sc.no_seccomp = tk_fixture_under_valgrind();
	if (tk_signer_start(&sc, &s->signer) != 0)
		return -1;
	snprintf(jpath, sizeof(jpath), "%s/state/journal.db", d->dir);
	snprintf(path, sizeof(path), "%s/state/approvals.db", d->dir);
	snprintf(origin, sizeof(origin), "https://localhost:%u", d->port);
	memset(&jc, 0, sizeof(jc));
	jc.path = jpath;
	jc.origin = "twokey/localhost/journal";
	jc.signer = s->signer;
	memset(&ac, 0, sizeof(ac));
	ac.db_path = path;
	ac.signer = s->signer;
	ac.rp_id = "localhost";
	ac.origin = origin;
	ac.require_uv = 1;
	if (tk_journal_open(&jc, &s->journal) != 0 ||
	    (s->policy = config_policy(d)) == NULL)
		goto fail;
	ac.policy = s->policy;
	ac.journal = s->journal;
	if (tk_approvals_open(&ac, &s->ap) != 0)
		goto fail;
	return 0;
fail:
	store_close(s);
	return -1;
}

static int
register_key(struct tkd *d, struct tkd_key *key, const char *name,
    struct tk_credential *c)
{
	static const uint8_t ch[32] = "enrolment-challenge-0123456789a";
	struct softauthn_opts o;
	struct softauthn_resp r;
	struct tk_webauthn_registration reg;
	struct tk_webauthn_expect exp;
	struct tk_webauthn_cred w;
	char origin[64];
	const char *origins[1] = { origin };
	int rc = -1;

	snprintf(origin, sizeof(origin), "https://localhost:%u", d->port);
	memset(&r, 0, sizeof(r));
	memset(&reg, 0, sizeof(reg));
	memset(&exp, 0, sizeof(exp));
	softauthn_opts_init(&o, "localhost", origin, ch, sizeof(ch));
	if (softauthn_make_credential(key->sa, &o, &r) != 0)
		goto out;
	reg.raw_id = r.id;
	reg.raw_id_len = r.id_len;
	reg.client_data = r.client_data;
	reg.client_data_len = r.client_data_len;
	reg.att_obj = r.att_obj;
	reg.att_obj_len = r.att_obj_len;
	exp.rp_id = "localhost";
	exp.origins = origins;
	exp.n_origins = 1;
	exp.challenge = ch;
	exp.challenge_len = sizeof(ch);
	if (tk_webauthn_verify_registration(&exp, &reg, name, &w, NULL) == 0 &&
	    tk_credential_from_webauthn(&w, key->person, c) == 0)
		rc = 0;
out:
	softauthn_resp_clear(&r);
	return rc;
}

int
tkd_enroll(struct tkd *d, const char *name, const char *team,
    unsigned int roles, struct tkd_key *key)
{
	struct store s;
	struct tk_credential c;
	int rc = -1;

	memset(key, 0, sizeof(*key));
	key->counter = 2;	/* registration used 1 */
	if ((key->sa = softauthn_new(-7)) == NULL || store_open(d, &s) != 0)
		return -1;
	if (tk_approvals_person_add(s.ap, "ceremony", name, team, roles,
	    &key->person) == 0 && register_key(d, key, name, &c) == 0 &&
	    tk_approvals_credential_add(s.ap, "ceremony", &c) == 0)
		rc = 0;
	store_close(&s);
	return rc;
}

static int
put_b64(json_t *obj, const char *name, const uint8_t *p, size_t len)
{
	char *b = tk_b64url_encode(p, len);
	int r;

	if (b == NULL)
		return -1;
	r = json_object_set_new(obj, name, json_string(b));
	free(b);
	return r;
}

int
tkd_assert(struct tkd *d, struct tkd_key *key, const uint8_t *challenge,
    size_t len, json_t *obj)
{
	struct softauthn_opts o;
	struct softauthn_resp r;
	char origin[64];
	int rc = -1;

	snprintf(origin, sizeof(origin), "https://localhost:%u", d->port);
	memset(&r, 0, sizeof(r));
	softauthn_opts_init(&o, "localhost", origin, challenge, len);
	o.counter = key->counter++;
	if (softauthn_get_assertion(key->sa, &o, &r) == 0 &&
	    put_b64(obj, "credential_id", r.id, r.id_len) == 0 &&
	    put_b64(obj, "client_data", r.client_data,
	    r.client_data_len) == 0 &&
	    put_b64(obj, "authenticator_data", r.auth_data,
	    r.auth_data_len) == 0 &&
	    put_b64(obj, "signature", r.sig, r.sig_len) == 0)
		rc = 0;
	softauthn_resp_clear(&r);
	return rc;
}

/* POSTs a JSON object; returns the status and the parsed answer. */
static long
post_json(struct tkd *d, const char *path, json_t *body, json_t **answer,
    struct tkd_resp *resp)
{
	char *text = json_dumps(body, JSON_COMPACT);
	long status = -1;

	*answer = NULL;
	if (text != NULL && tkd_request(d, "POST", path, "application/json",
	    text, strlen(text), NULL, resp) == 0) {
		status = resp->status;
		*answer = json_loads(resp->body, 0, NULL);
	}
	free(text);
	return status;
}

long
tkd_signin(struct tkd *d, const char *name, struct tkd_key *key)
{
	struct tkd_resp resp;
	json_t *req, *ans = NULL;
	uint8_t *ch = NULL;
	size_t chlen = 0;
	const char *s;
	long status;

	d->cookie[0] = d->csrf[0] = '\0';
	req = json_pack("{s:s}", "name", name);
	status = post_json(d, "/api/v1/session/challenge", req, &ans, &resp);
	json_decref(req);
	tkd_resp_clear(&resp);
	s = json_string_value(json_object_get(ans, "challenge"));
	if (status != 200 || s == NULL ||
	    tk_b64url_decode(s, strlen(s), &ch, &chlen) != 0)
		goto out;
	req = json_pack("{s:O}", "challenge_id",
	    json_object_get(ans, "challenge_id"));
	json_decref(ans);
	ans = NULL;
	if (req == NULL || tkd_assert(d, key, ch, chlen, req) != 0) {
		json_decref(req);
		status = -1;
		goto out;
	}
	status = post_json(d, "/api/v1/session", req, &ans, &resp);
	json_decref(req);
	s = json_string_value(json_object_get(ans, "csrf_token"));
	if (status == 200 && s != NULL) {
		snprintf(d->cookie, sizeof(d->cookie), "%s", resp.set_cookie);
		snprintf(d->cookie_attrs, sizeof(d->cookie_attrs), "%s",
		    resp.set_cookie_attrs);
		snprintf(d->csrf, sizeof(d->csrf), "%s", s);
	}
	tkd_resp_clear(&resp);
out:
	free(ch);
	json_decref(ans);
	return status;
}

long
tkd_approve(struct tkd *d, const char *name, struct tkd_key *key,
    int64_t id, json_t **ans)
{
	char path[128], *text = NULL;
	json_t *req = NULL;
	uint8_t *ch = NULL;
	const char *s;
	size_t len = 0;
	long st;

	*ans = NULL;
	if ((st = tkd_signin(d, name, key)) != 200)
		return st;
	snprintf(path, sizeof(path), "/api/v1/requests/%lld/challenge",
	    (long long)id);
	if ((st = tkd_call(d, "POST", path, "{\"decision\":\"approve\"}",
	    NULL, ans)) != 200)
		return st;
	s = json_string_value(json_object_get(*ans, "challenge"));
	st = -1;
	if (s == NULL || tk_b64url_decode(s, strlen(s), &ch, &len) != 0 ||
	    (req = json_object()) == NULL ||
	    tkd_assert(d, key, ch, len, req) != 0)
		goto out;
	json_decref(*ans);
	*ans = NULL;
	text = json_dumps(req, JSON_COMPACT);
	snprintf(path, sizeof(path), "/api/v1/requests/%lld/votes",
	    (long long)id);
	if (text != NULL)
		st = tkd_call(d, "POST", path, text, NULL, ans);
out:
	free(text);
	json_decref(req);
	free(ch);
	return st;
}

int
tkd_register(struct tkd *d, struct tkd_key *key, const uint8_t *challenge,
    size_t len, json_t *obj)
{
	struct softauthn_opts o;
	struct softauthn_resp r;
	char origin[64];
	int rc = -1;

	snprintf(origin, sizeof(origin), "https://localhost:%u", d->port);
	memset(&r, 0, sizeof(r));
	softauthn_opts_init(&o, "localhost", origin, challenge, len);
	if (softauthn_make_credential(key->sa, &o, &r) == 0 &&
	    put_b64(obj, "credential_id", r.id, r.id_len) == 0 &&
	    put_b64(obj, "client_data", r.client_data,
	    r.client_data_len) == 0 &&
	    put_b64(obj, "attestation_object", r.att_obj,
	    r.att_obj_len) == 0)
		rc = 0;
	key->counter = 2;
	softauthn_resp_clear(&r);
	return rc;
}

int
tkd_person_state(struct tkd *d, int64_t person, int state)
{
	struct store s;
	int rc;

	if (store_open(d, &s) != 0)
		return -1;
	rc = tk_approvals_person_set_state(s.ap, "ceremony", person,
	    (enum tk_person_state)state) == 0 ? 0 : -1;
	store_close(&s);
	return rc;
}

json_t *
tkd_pack_json(const struct tkd *d, int from_days, int to_days,
    const char *name)
{
	struct tk_packcheck_report rep;
	const struct tk_pack_file *f;
	struct tk_pack *p = NULL;
	struct tkd_resp r;
	char url[96], from[11], to[11];
	json_t *j = NULL;

	tkd_day(from_days, from);
	tkd_day(to_days, to);
	snprintf(url, sizeof(url), "/api/v1/evidence?from=%s&to=%s", from,
	    to);
	if (tkd_request(d, "GET", url, NULL, NULL, 0, NULL, &r) != 0)
		return NULL;
	if (r.status == 200 && tk_pack_read((const uint8_t *)r.body, r.len,
	    &p, &rep) == 0 && (f = tk_pack_get(p, name)) != NULL)
		j = json_loadb((const char *)f->data, f->len, 0, NULL);
	tk_pack_free(&p);
	tkd_resp_clear(&r);
	return j;
}
