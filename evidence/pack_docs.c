/*
 * The documents of a pack, read from the approvals store and the
 * journal: access list, requests with their ballots, grants, drift,
 * the inputs, the policy, the journal slice and the certificates.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/hsm.h"
#include "twokey/journal.h"
#include "pack_int.h"

/* The leaf's time ("YYYY-MM-DDTHH:MM:SS.mmmZ") for a period bound. */
static void
leaf_time(int64_t t, char out[25])
{
	char iso[21];

	tk_pack_time(t, iso);
	(void)snprintf(out, 25, "%.19s.000Z", iso);
}

static int
journal_slice(struct pbuild *b)
{
	struct tk_journal_file *f = NULL;
	char t[25], name[300];
	json_t *x;
	size_t i, n = 0;
	int r;

	leaf_time(b->cfg->from, t);
	if (tk_journal_index_at(b->cfg->journal, t, &b->jfirst) != 0)
		return TK_PACK_ERR_JOURNAL;
	leaf_time(b->cfg->to, t);
	if (tk_journal_index_at(b->cfg->journal, t, &b->jend) != 0)
		return TK_PACK_ERR_JOURNAL;
	if (b->jend <= b->jfirst) {
		b->jend = b->jfirst;
		return 0;
	}
	if (tk_journal_export_files(b->cfg->journal, b->jfirst, b->jend,
	    TK_JOURNAL_EXPORT_PROOFS | TK_JOURNAL_EXPORT_NO_LATEST, &f,
	    &n) != 0)
		return TK_PACK_ERR_JOURNAL;
	r = 0;
	for (i = 0; r == 0 && i < n; i++) {
		(void)snprintf(name, sizeof(name), "journal/%s", f[i].name);
		r = pack_add(b, name, f[i].data, f[i].len);
		/* The export rounds its end up to a checkpoint: take it. */
		if (r == 0 && strcmp(f[i].name, "export.json") == 0) {
			x = json_loadb((const char *)f[i].data, f[i].len, 0,
			    NULL);
			if (json_is_integer(json_object_get(x, "end")))
				b->jend = (uint64_t)json_integer_value(
				    json_object_get(x, "end"));
			json_decref(x);
		}
	}
	tk_journal_files_free(&f, n);
	return r;
}

/* Whether r is one of ours (a visitor's) rather than the journal's. */
static int
pack_own_err(int r)
{
	return r <= TK_PACK_ERR_NOMEM && r >= TK_PACK_ERR_TOOBIG;
}

/* Journal visitor: the leaf's "details" and "time" into an array. */
static int
collect_leaf(void *arg, uint64_t index, const uint8_t *leaf, size_t len)
{
	json_t *arr = arg, *o;

	(void)index;
	if ((o = json_loadb((const char *)leaf, len, 0, NULL)) == NULL)
		return TK_PACK_ERR_JOURNAL;
	return json_array_append_new(arr, o) == 0 ? 0 : TK_PACK_ERR_NOMEM;
}

/*
 * The credential id an entry trusts: a direct registration names it in
 * details.credential; an applied person.enroll or credential.add carries
 * the whole credential in details.after.credential. NULL for others.
 */
static const char *
trusted_credential(const json_t *e)
{
	const json_t *d = json_object_get(e, "details");
	const char *c = json_string_value(json_object_get(d, "credential"));

	if (c != NULL)
		return c;
	return json_string_value(json_object_get(json_object_get(
	    json_object_get(d, "after"), "credential"), "id"));
}

/* The time of the entry that first trusted credential id, or null. */
static json_t *
enrolled_at(const json_t *regs, const char *id)
{
	const json_t *e;
	const char *c;
	size_t i;

	json_array_foreach(regs, i, e) {
		c = trusted_credential(e);
		if (id != NULL && c != NULL && strcmp(c, id) == 0)
			return json_incref(json_object_get(e, "time"));
	}
	return json_null();
}

/*
 * The access list is of the period: a key no entry up to the period's
 * end trusted came later and goes, and so does a person all of whose
 * keys came later. Someone enrolled without a key stays.
 */
static int
drop_later(struct pbuild *b)
{
	json_t *people = json_object_get(b->access, "people"), *p, *creds;
	size_t i, k, had;

	for (i = json_array_size(people); i-- > 0;) {
		p = json_array_get(people, i);
		creds = json_object_get(p, "credentials");
		had = json_array_size(creds);
		for (k = had; k-- > 0;)
			if (json_is_null(json_object_get(json_array_get(creds,
			    k), "enrolled")) && json_array_remove(creds,
			    k) != 0)
				return TK_PACK_ERR_NOMEM;
		if (had > 0 && json_array_size(creds) == 0 &&
		    json_array_remove(people, i) != 0)
			return TK_PACK_ERR_NOMEM;
	}
	return 0;
}

/*
 * Each credential's "enrolled": the time of the entry that trusted it, a
 * registration or the applied change that enrolled it.
 */
static int
add_enrolled(struct pbuild *b, uint64_t end)
{
	json_t *regs, *p, *c;
	size_t i, k;
	int r;

	if ((regs = json_array()) == NULL)
		return TK_PACK_ERR_NOMEM;
	if ((r = tk_journal_scan_action(b->cfg->journal, "credential.register",
	    0, end, collect_leaf, regs)) != 0 ||
	    (r = tk_journal_scan_action(b->cfg->journal, "change.applied", 0,
	    end, collect_leaf, regs)) != 0) {
		json_decref(regs);
		return pack_own_err(r) ? r : TK_PACK_ERR_JOURNAL;
	}
	json_array_foreach(json_object_get(b->access, "people"), i, p) {
		json_array_foreach(json_object_get(p, "credentials"), k, c) {
			(void)json_object_set_new(c, "enrolled", enrolled_at(
			    regs, json_string_value(json_object_get(c,
			    "id"))));
		}
	}
	json_decref(regs);
	return drop_later(b);
}

static int
drift_events(struct pbuild *b)
{
	const json_t *in = b->cfg->drift;
	int r;

	if ((b->drift = json_array()) == NULL)
		return TK_PACK_ERR_NOMEM;
	if (in != NULL && (!json_is_array(in) ||
	    json_array_extend(b->drift, (json_t *)(uintptr_t)in) != 0))
		return TK_PACK_ERR_INVALID;
	if (b->jend > b->jfirst && (r = tk_journal_scan_action(
	    b->cfg->journal, "policy.drift", b->jfirst, b->jend,
	    collect_leaf, b->drift)) != 0)
		return pack_own_err(r) ? r : TK_PACK_ERR_JOURNAL;
	return 0;
}

/* A request's evidence with its grant's state as of the pack. */
static int
one_request(struct pbuild *b, int64_t id)
{
	json_t *o, *g;
	char *ev = NULL, name[48];
	int r;

	if (tk_approvals_evidence(b->cfg->ap, id, &ev) != 0)
		return TK_PACK_ERR_STORE;
	o = json_loads(ev, 0, NULL);
	free(ev);
	if (o == NULL)
		return TK_PACK_ERR_NOMEM;
	if ((g = json_object_get(o, "grant")) != NULL) {
		(void)json_object_set_new(g, "state", json_string(
		    tk_grant_state_at(json_integer_value(json_object_get(g,
		    "expires")), json_integer_value(json_object_get(g,
		    "revoked")), b->as_of)));
	}
	(void)snprintf(name, sizeof(name), "requests/%08" PRId64 ".json",
	    id);
	if ((r = pack_add_json(b, name, o)) == 0 &&
	    json_array_append(b->requests, o) != 0)
		r = TK_PACK_ERR_NOMEM;
	json_decref(o);
	return r;
}

static int
requests(struct pbuild *b)
{
	int64_t *ids = NULL;
	size_t i, n = 0;
	int r = 0;

	if ((b->requests = json_array()) == NULL)
		return TK_PACK_ERR_NOMEM;
	if (tk_approvals_period_requests(b->cfg->ap, b->cfg->from,
	    b->cfg->to, &ids, &n) != 0)
		return TK_PACK_ERR_STORE;
	for (i = 0; r == 0 && i < n; i++)
		r = one_request(b, ids[i]);
	free(ids);
	return r;
}

/* An input document {"accounts":[...]}, or that with none. */
static int
input_doc(const json_t *in, json_t **out)
{
	if (in == NULL)
		*out = json_pack("{s:[]}", "accounts");
	else if (!json_is_object(in) ||
	    !json_is_array(json_object_get(in, "accounts")))
		return TK_PACK_ERR_INVALID;
	else
		*out = json_deep_copy(in);
	return *out != NULL ? 0 : TK_PACK_ERR_NOMEM;
}

static int
policy_doc(struct pbuild *b)
{
	struct tk_approvals_settings set;
	const struct tk_policy *p;
	json_t *o;
	int r;

	tk_approvals_settings(b->cfg->ap, &set);
	p = set.policy;

	o = json_pack("{s:I, s:b, s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I}",
	    "quorum", (json_int_t)p->quorum, "distinct_teams",
	    p->distinct_teams, "rp_id", set.rp_id, "origin", set.origin,
	    "require_uv", set.require_uv,
	    "challenge_ttl", (json_int_t)p->challenge_ttl,
	    "pending_ttl", (json_int_t)p->pending_ttl,
	    "breakglass_max_ttl", (json_int_t)p->breakglass_max_ttl,
	    "elevation_max_duration", (json_int_t)p->elevation_max_duration,
	    "review_due", (json_int_t)p->review_due);
	if (o == NULL)
		return TK_PACK_ERR_NOMEM;
	r = pack_add_json(b, "policy.json", o);
	json_decref(o);
	return r;
}

static int
cert(struct pbuild *b, const char *name, enum tk_key_purpose purpose)
{
	X509 *x = NULL;
	BIO *bio = NULL;
	char *data;
	long len;
	int r = TK_PACK_ERR_SIGN;

	if (tk_signer_certificate(tk_journal_signer(b->cfg->journal),
	    purpose, &x) != 0)
		return r;
	r = TK_PACK_ERR_NOMEM;
	if ((bio = BIO_new(BIO_s_mem())) != NULL &&
	    PEM_write_bio_X509(bio, x) == 1 &&
	    (len = BIO_get_mem_data(bio, &data)) > 0)
		r = pack_add(b, name, data, (size_t)len);
	BIO_free(bio);
	X509_free(x);
	return r;
}

int
pack_docs(struct pbuild *b)
{
	int r;

	if ((r = input_doc(b->cfg->inventory, &b->inventory)) != 0 ||
	    (r = input_doc(b->cfg->rotation, &b->rotation)) != 0 ||
	    (r = journal_slice(b)) != 0 || (r = drift_events(b)) != 0)
		return r;
	if (tk_approvals_access_list(b->cfg->ap, b->cfg->to,
	    &b->access) != 0 || tk_approvals_period_grants(b->cfg->ap,
	    b->cfg->from, b->cfg->to, b->as_of, &b->grants) != 0)
		return TK_PACK_ERR_STORE;
	if ((r = add_enrolled(b, b->jend)) != 0 || (r = requests(b)) != 0 ||
	    (r = policy_doc(b)) != 0 ||
	    (r = cert(b, "certs/root.pem", TK_KEY_ROOT)) != 0 ||
	    (r = cert(b, "certs/audit.pem", TK_KEY_AUDIT)) != 0 ||
	    (r = cert(b, "certs/token.pem", TK_KEY_TOKEN)) != 0)
		return r;
	if ((r = pack_add_json(b, "access.json", b->access)) != 0 ||
	    (r = pack_add_json(b, "grants.json", b->grants)) != 0 ||
	    (r = pack_add_json(b, "inventory.json", b->inventory)) != 0 ||
	    (r = pack_add_json(b, "rotation.json", b->rotation)) != 0)
		return r;
	return 0;
}
