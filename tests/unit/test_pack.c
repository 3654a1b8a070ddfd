/*
 * Specifications of evidence packs: built from a real SoftHSM2 token, a
 * real SQLite store and journal, and real assertions; checked by the
 * library, by twokey-verify and by the stock tools an auditor has
 * (openssl cms, sha256sum), exactly as the README shows them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>
#include <jansson.h>
#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "twokey/approvals.h"
#include "twokey/common.h"
#include "twokey/journal.h"
#include "twokey/pack.h"
#include "twokey/packcheck.h"
#include "../lib/token_fixture.h"
#include "approvals_env.h"

#define INVENTORY "{\"accounts\":[{\"id\":\"sa-billing\"," \
	"\"owner\":\"rita\",\"flags\":[]},{\"id\":\"sa-old\"," \
	"\"owner\":\"gone\",\"flags\":[\"no_active_owner\"," \
	"\"rotation_overdue\"]}]}"
#define DRIFT "[{\"time\":\"2026-12-01T10:00:00Z\",\"actor\":\"twokeyd\"," \
	"\"action\":\"policy.drift\",\"details\":{\"file\":\"policy.json\"}}]"

/* The stock-tool path of the README, run in a pack folder: $1 root. */
static const char stock_sh[] =
    "set -e\n"
    "openssl cms -verify -binary -inform DER -in SHA256SUMS.p7s \\\n"
    "    -content SHA256SUMS -CAfile \"$1\" -purpose any "
    "-out /dev/null\n"
    "sha256sum --quiet -c SHA256SUMS\n"
    "diff <(find . -type f ! -name 'SHA256SUMS*' | cut -c3- | sort) \\\n"
    "    <(cut -c67- SHA256SUMS | sort)\n";

struct built {
	uint8_t *tgz;
	size_t len;
	char hex[65];
	int64_t from, to;
	struct tk_pack *pack;
	char dir[1024];		/* extracted pack folder */
	char tgz_path[700];
};

static char tmp[512];
static char root_pem[600];
static char stock_path[600];

static int
sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs a shell command line; its exit status. */
static int
sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	(void)vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	assert_true(st != -1 && WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void
write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int
group_setup(void **state)
{
	if (apr_group_setup(state) != 0)
		return -1;
	(void)snprintf(tmp, sizeof(tmp), "%s", getenv("TWOKEY_TEST_TMP"));
	(void)snprintf(stock_path, sizeof(stock_path), "%s/stock.sh", tmp);
	(void)snprintf(root_pem, sizeof(root_pem), "%s/root.pem", tmp);
	write_file(stock_path, stock_sh, strlen(stock_sh));
	return 0;
}

static void
save_root(struct env *e)
{
	X509 *x = NULL;
	FILE *f;

	assert_int_equal(tk_signer_certificate(tk_journal_signer(e->journal),
	    TK_KEY_ROOT, &x), 0);
	assert_non_null(f = fopen(root_pem, "w"));
	assert_int_equal(PEM_write_X509(f, x), 1);
	assert_int_equal(fclose(f), 0);
	X509_free(x);
}

/*
 * Two granted requests (one break-glass), one rejected, one pending,
 * the elevation's grant revoked; the approvals clock follows the wall
 * clock, which the journal's entry times use.
 */
static void
populate(struct env *e, int64_t *from)
{
	struct tk_vote_result res;
	struct tk_grant_info g;
	int64_t r1, r2, r3;

	*from = (int64_t)time(NULL) - 5;
	e->now = *from + 5;
	r1 = file(e, ELEVATION);
	assert_int_equal(vote(e, &e->ak, r1, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(vote(e, &e->bk, r1, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(res.state, TK_REQ_GRANTED);
	r2 = file(e, BREAKGLASS);
	assert_int_equal(vote(e, &e->ak, r2, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(vote(e, &e->ck, r2, TK_DECIDE_APPROVE, &res), 0);
	assert_int_equal(res.state, TK_REQ_GRANTED);
	r3 = file(e, ELEVATION);
	assert_int_equal(vote(e, &e->bk, r3, TK_DECIDE_REJECT, &res), 0);
	assert_int_equal(res.state, TK_REQ_REJECTED);
	(void)file(e, ELEVATION);
	assert_int_equal(tk_approvals_grant_get(e->ap, r1, &g), 0);
	assert_int_equal(tk_approvals_grant_revoke(e->ap, "root", g.jti), 0);
	tk_grant_info_clear(&g);
	save_root(e);
}

/* Waits until the wall clock has passed t, so the period is closed. */
static void
wait_past(int64_t t)
{
	while ((int64_t)time(NULL) <= t)
		(void)usleep(100 * 1000);
}

static int
build_with(struct env *e, struct tk_journal *j, struct built *b)
{
	struct tk_pack_config c;
	json_t *inv = json_loads(INVENTORY, 0, NULL);
	json_t *drift = json_loads(DRIFT, 0, NULL);
	int r;

	memset(&c, 0, sizeof(c));
	c.ap = e->ap;
	c.journal = j;
	c.actor = "carol";
	c.from = b->from;
	c.to = b->to;
	c.now = (int64_t)time(NULL);
	c.inventory = inv;
	c.drift = drift;
	r = tk_pack_build(&c, &b->tgz, &b->len, b->hex);
	json_decref(inv);
	json_decref(drift);
	return r;
}

/* Builds, reads back, writes pack.tar.gz and extracts it. */
static void
build(struct env *e, struct tk_journal *j, struct built *b,
    const char *name)
{
	struct tk_packcheck_report rep;
	char where[600];

	assert_int_equal(build_with(e, j, b), 0);
	assert_int_equal(tk_pack_read(b->tgz, b->len, &b->pack, &rep), 0);
	(void)snprintf(where, sizeof(where), "%s/%s", tmp, name);
	(void)snprintf(b->tgz_path, sizeof(b->tgz_path), "%s.tar.gz", where);
	write_file(b->tgz_path, b->tgz, b->len);
	assert_int_equal(sh("rm -rf '%s' && mkdir '%s' && tar xzf '%s' -C "
	    "'%s'", where, where, b->tgz_path, where), 0);
	(void)snprintf(b->dir, sizeof(b->dir), "%s/%s", where,
	    b->pack->folder);
}

static void
built_clear(struct built *b)
{
	tk_pack_free(&b->pack);
	free(b->tgz);
	b->tgz = NULL;
}

static void
closed_period_pack(struct env *e, struct built *b, const char *name)
{
	memset(b, 0, sizeof(*b));
	populate(e, &b->from);
	b->to = (int64_t)time(NULL) + 1;
	wait_past(b->to);
	build(e, e->journal, b, name);
}

static json_t *
doc(const struct built *b, const char *name)
{
	const struct tk_pack_file *f = tk_pack_get(b->pack, name);
	json_t *o;

	assert_non_null(f);
	assert_non_null(o = json_loadb((const char *)f->data, f->len, 0,
	    NULL));
	return o;
}

static json_int_t
count(const json_t *pack_json, const char *key)
{
	const json_t *v = json_object_get(json_object_get(pack_json,
	    "counts"), key);

	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static size_t
files_under(const struct tk_pack *p, const char *prefix)
{
	size_t i, n = 0;

	for (i = 0; i < p->nfiles; i++)
		n += strncmp(p->files[i].name, prefix, strlen(prefix)) == 0;
	return n;
}

static void
pack_holds_the_state_it_came_from(void **state)
{
	struct env *e = *state;
	struct built b;
	json_t *pj, *ac, *gr, *rq, *g;
	const struct tk_pack_file *html;
	const char *s;
	size_t i;

	closed_period_pack(e, &b, "state");
	pj = doc(&b, "pack.json");
	assert_string_equal(json_string_value(json_object_get(pj, "format")),
	    TK_PACK_FORMAT);
	assert_int_equal(count(pj, "people"), 4);
	assert_int_equal(count(pj, "credentials"), 4);
	assert_int_equal(count(pj, "requests"), 4);
	assert_int_equal(count(pj, "granted"), 2);
	assert_int_equal(count(pj, "rejected"), 1);
	assert_int_equal(count(pj, "pending"), 1);
	assert_int_equal(count(pj, "grants"), 2);
	assert_int_equal(count(pj, "break_glass"), 1);
	assert_int_equal(count(pj, "revoked"), 1);
	assert_int_equal(count(pj, "inventory_accounts"), 2);
	assert_int_equal(count(pj, "inventory_flagged"), 1);
	assert_int_equal(count(pj, "drift_events"), 1);
	assert_true(count(pj, "journal_entries") > 0);
	assert_int_equal(files_under(b.pack, "requests/"), 4);
	assert_true(files_under(b.pack, "journal/proofs/") > 0);
	/* The granted elevation carries both assertions and keys. */
	rq = doc(&b, "requests/00000001.json");
	assert_string_equal(json_string_value(json_object_get(rq, "state")),
	    "granted");
	assert_int_equal(json_array_size(json_object_get(rq, "ballots")), 2);
	assert_non_null(json_string_value(json_object_get(json_array_get(
	    json_object_get(rq, "ballots"), 0), "cose_key")));
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(rq, "grant"), "state")), "revoked");
	/* Access list: enrolled from the journal, last use from ballots. */
	ac = doc(&b, "access.json");
	assert_non_null(json_string_value(json_object_get(json_array_get(
	    json_object_get(json_array_get(json_object_get(ac, "people"), 0),
	    "credentials"), 0), "enrolled")));
	gr = doc(&b, "grants.json");
	assert_int_equal(json_array_size(json_object_get(gr, "grants")), 2);
	for (i = 0; i < 2; i++) {
		g = json_array_get(json_object_get(gr, "grants"), i);
		s = json_string_value(json_object_get(g, "kind"));
		assert_non_null(s);
		if (strcmp(s, "break-glass") != 0)
			continue;
		s = json_string_value(json_object_get(json_object_get(g,
		    "review"), "status"));
		assert_non_null(s);
		assert_string_equal(s, "due");
		assert_int_equal(json_integer_value(json_object_get(g,
		    "ttl")), 1800);
	}
	/* The report: drift and flagged items before the rest, no script. */
	assert_non_null(html = tk_pack_get(b.pack, "report.html"));
	s = (const char *)html->data;
	assert_non_null(strstr(s, "Policy drift"));
	assert_true(strstr(s, "Policy drift") < strstr(s, "<h2>Summary"));
	assert_non_null(strstr(s, "policy.json"));
	assert_true(strstr(s, "Policy drift") < strstr(s, "Flagged service"));
	assert_true(strstr(s, "Flagged service") < strstr(s, "Requests filed"));
	assert_true(strstr(s, "sa-old") < strstr(s, "sa-billing"));
	assert_null(strstr(s, "<script"));
	json_decref(pj);
	json_decref(rq);
	json_decref(ac);
	json_decref(gr);
	built_clear(&b);
}

static int
verify_cli(const char *tgz)
{
	return sh("'%s/twokey-verify' pack '%s' --root '%s' >'%s/out.txt' "
	    "2>&1", getenv("TWOKEY_BUILD"), tgz, root_pem, tmp);
}

static int
stock(const char *dir)
{
	return sh("cd '%s' && bash '%s' '%s' >/dev/null 2>&1", dir,
	    stock_path, root_pem);
}

static void
a_fresh_pack_passes_twokey_verify_and_the_stock_tools(void **state)
{
	struct env *e = *state;
	struct tk_packcheck_report rep;
	struct built b;
	char cut[600];

	closed_period_pack(e, &b, "fresh");
	assert_int_equal(tk_pack_check(b.pack, NULL, &rep),
	    TK_PACKCHECK_ERR_INVALID);
	assert_int_equal(verify_cli(b.tgz_path), 0);
	assert_int_equal(stock(b.dir), 0);
	/* A download cut short is named so, not as another kind of file. */
	(void)snprintf(cut, sizeof(cut), "%s/cut.tar.gz", tmp);
	write_file(cut, b.tgz, b.len / 2);
	assert_int_equal(verify_cli(cut), 4);
	assert_int_equal(sh("grep -q 'malformed pack: the archive is "
	    "truncated or damaged' '%s/out.txt'", tmp), 0);
	/* The README's commands for a pack whose certificate expired. */
	assert_int_equal(sh("cd '%s' && openssl cms -verify -binary -inform "
	    "DER -in SHA256SUMS.p7s -content SHA256SUMS -CAfile '%s' "
	    "-purpose any -no_check_time -out /dev/null 2>/dev/null && "
	    "sha256sum --quiet -c SHA256SUMS", b.dir, root_pem), 0);
	assert_int_equal(sh("cd '%s' && openssl cms -verify -binary -inform "
	    "DER -in SHA256SUMS.p7s -content SHA256SUMS -CAfile '%s' "
	    "-purpose any -attime %lld -out /dev/null 2>/dev/null", b.dir,
	    root_pem, (long long)b.to), 0);
	/* In 2040 the certificate has expired: the flag is what passes. */
	assert_int_equal(sh("cd '%s' && openssl cms -verify -binary -inform "
	    "DER -in SHA256SUMS.p7s -content SHA256SUMS -CAfile '%s' "
	    "-purpose any -attime 2208988800 -out /dev/null 2>/dev/null",
	    b.dir, root_pem), 4);
	built_clear(&b);
}

/* A copy of p without file i, or with one more file (i == n). */
static struct tk_pack *
variant(const struct tk_pack *p, size_t drop, struct tk_pack_file *add)
{
	struct tk_pack *v = calloc(1, sizeof(*v));
	size_t i, n = 0;

	assert_non_null(v);
	assert_non_null(v->files = calloc(p->nfiles + 1, sizeof(*v->files)));
	for (i = 0; i < p->nfiles; i++)
		if (i != drop)
			v->files[n++] = p->files[i];
	if (add != NULL) {
		for (i = n; i > 0 && strcmp(v->files[i - 1].name,
		    add->name) > 0; i--)
			v->files[i] = v->files[i - 1];
		v->files[i] = *add;
		n++;
	}
	v->nfiles = n;
	v->folder = p->folder;
	return v;
}

static int
check(const struct tk_pack *p, struct tk_packcheck_report *rep)
{
	X509 *root = NULL;
	FILE *f = fopen(root_pem, "r");
	int r;

	assert_non_null(f);
	assert_non_null(root = PEM_read_X509(f, NULL, NULL, NULL));
	fclose(f);
	r = tk_pack_check(p, root, rep);
	X509_free(root);
	return r;
}

static int
signature_file(const char *name)
{
	return strcmp(name, "SHA256SUMS") == 0 ||
	    strcmp(name, "SHA256SUMS.p7s") == 0;
}

/* Flips one bit of the byte at off in the file at path. */
static void
flip_file(const char *path, size_t off)
{
	FILE *f = fopen(path, "r+");
	int c;

	assert_non_null(f);
	assert_int_equal(fseek(f, (long)off, SEEK_SET), 0);
	assert_true((c = fgetc(f)) != EOF);
	assert_int_equal(fseek(f, (long)off, SEEK_SET), 0);
	assert_int_equal(fputc(c ^ 0x01, f), c ^ 0x01);
	assert_int_equal(fclose(f), 0);
}

/* Both checkers on one file of the pack changed, then removed. */
static void
change_and_remove(struct built *b, size_t i, const char *work,
    int stock_too)
{
	struct tk_packcheck_report rep;
	struct tk_pack_file *f = &b->pack->files[i];
	struct tk_pack *v;
	char path[1024];
	int r, r2;

	/* An empty file (a journal prefix from 0) changes by growing. */
	if (f->len == 0)
		f->len = 1;
	else
		f->data[f->len / 2] ^= 0x01;
	r = check(b->pack, &rep);
	v = variant(b->pack, i, NULL);
	r2 = check(v, &rep);
	free(v->files);
	free(v);
	assert_true(r2 == TK_PACKCHECK_ERR_SIGNATURE ||
	    r2 == TK_PACKCHECK_ERR_MANIFEST);
	if (f->data[0] == '\0' && f->len == 1)
		f->len = 0;
	else
		f->data[f->len / 2] ^= 0x01;
	if (r == 0)
		fail_msg("changed %s was not caught", f->name);
	/* A byte of the certificate inside the signature: its chain. */
	if (strcmp(f->name, "SHA256SUMS.p7s") == 0)
		assert_true(r == TK_PACKCHECK_ERR_SIGNATURE ||
		    r == TK_PACKCHECK_ERR_CHAIN);
	else
		assert_int_equal(r, signature_file(f->name) ?
		    TK_PACKCHECK_ERR_SIGNATURE : TK_PACKCHECK_ERR_MANIFEST);
	assert_int_equal(sh("rm -rf '%s' && cp -a '%s' '%s'", work, b->dir,
	    work), 0);
	(void)snprintf(path, sizeof(path), "%s/%s", work, f->name);
	if (f->len == 0)
		write_file(path, "\n", 1);
	else
		flip_file(path, f->len / 2);
	if (!stock_too)
		return;
	if (stock(work) == 0)
		fail_msg("stock tools missed a change of %s", f->name);
	assert_int_equal(sh("rm -rf '%s' && cp -a '%s' '%s' && rm '%s/%s'",
	    work, b->dir, work, work, f->name), 0);
	if (stock(work) == 0)
		fail_msg("stock tools missed the removal of %s", f->name);
}

static void
every_changed_added_or_removed_file_is_caught_by_both_paths(void **state)
{
	struct env *e = *state;
	struct tk_packcheck_report rep;
	struct tk_pack_file extra;
	struct tk_pack *v;
	struct built b;
	char work[700], path[800];
	size_t i, proofs;

	closed_period_pack(e, &b, "tamper");
	(void)snprintf(work, sizeof(work), "%s/work", tmp);
	/*
	 * Every file through the library; through the stock tools every
	 * file but the per-entry proofs after the first two (one kind of
	 * file, and each stock run costs three processes).
	 */
	for (i = 0, proofs = 0; i < b.pack->nfiles; i++)
		change_and_remove(&b, i, work, strncmp(b.pack->files[i].name,
		    "journal/proofs/", 15) != 0 || proofs++ < 2);
	/* One file more, in the pack folder and in a sub-folder. */
	extra.name = (char *)(uintptr_t)"requests/00000099.json";
	extra.data = (uint8_t *)(uintptr_t)"{}\n";
	extra.len = 3;
	v = variant(b.pack, b.pack->nfiles, &extra);
	assert_int_equal(check(v, &rep), TK_PACKCHECK_ERR_MANIFEST);
	assert_non_null(strstr(rep.what, "requests/00000099.json"));
	free(v->files);
	free(v);
	assert_int_equal(sh("rm -rf '%s' && cp -a '%s' '%s' && echo {} > "
	    "'%s/requests/00000099.json'", work, b.dir, work, work), 0);
	assert_true(stock(work) != 0);
	/* twokey-verify names each class with its own exit code. */
	(void)snprintf(path, sizeof(path), "%s/t.tar.gz", tmp);
	assert_int_equal(sh("cd '%s/..' && tar czf '%s' '%s'", work, path,
	    "work"), 0);
	assert_int_equal(verify_cli(path), 8);
	assert_int_equal(sh("rm -rf '%s' && cp -a '%s' '%s' && printf x >> "
	    "'%s/SHA256SUMS' && cd '%s/..' && tar czf '%s' work", work,
	    b.dir, work, work, work, path), 0);
	assert_int_equal(verify_cli(path), 1);
	assert_int_equal(sh("rm -rf '%s' && cp -a '%s' '%s' && rm "
	    "'%s/report.html' && cd '%s/..' && tar czf '%s' work", work,
	    b.dir, work, work, work, path), 0);
	assert_int_equal(verify_cli(path), 8);
	assert_int_equal(sh("grep -q 'report.html is listed in SHA256SUMS "
	    "but missing' '%s/out.txt'", tmp), 0);
	built_clear(&b);
}

/* A second token with its own ceremony, and a journal signed by it. */
static void
a_pack_signed_by_another_token_is_refused(void **state)
{
	struct env *e = *state;
	struct tk_fixture_token *fx = NULL;
	struct tk_signer *other = NULL;
	struct tk_journal *j = NULL;
	struct tk_journal_config jc;
	struct tk_packcheck_report rep;
	struct built b;
	char jpath[600];

	assert_int_equal(tk_fixture_token_new_empty(tmp, "other", &fx), 0);
	assert_int_equal(tk_fixture_token_ceremony(fx), 0);
	assert_int_equal(tk_fixture_signer_start(fx, 0, &other), 0);
	(void)snprintf(jpath, sizeof(jpath), "%s/other-journal.db", tmp);
	memset(&jc, 0, sizeof(jc));
	jc.path = jpath;
	jc.origin = "twokey/other/journal";
	jc.signer = other;
	assert_int_equal(tk_journal_open(&jc, &j), 0);
	memset(&b, 0, sizeof(b));
	populate(e, &b.from);
	b.to = (int64_t)time(NULL) + 1;
	wait_past(b.to);
	build(e, j, &b, "other");
	/* Its own root vouches for it; ours does not. */
	assert_int_equal(check(b.pack, &rep), TK_PACKCHECK_ERR_CHAIN);
	assert_int_equal(verify_cli(b.tgz_path), 5);
	assert_true(stock(b.dir) != 0);
	built_clear(&b);
	tk_journal_free(&j);
	tk_signer_free(&other);
	tk_fixture_token_free(&fx);
}

struct tar_meta {
	int64_t mtime;
	int64_t uid;
	size_t n;
};

static struct tar_meta
tar_meta(const struct built *b)
{
	struct tar_meta m = { -1, -1, 0 };
	struct archive *a = archive_read_new();
	struct archive_entry *en;

	assert_non_null(a);
	assert_int_equal(archive_read_support_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_read_support_format_tar(a), ARCHIVE_OK);
	assert_int_equal(archive_read_open_memory(a, b->tgz, b->len),
	    ARCHIVE_OK);
	while (archive_read_next_header(a, &en) == ARCHIVE_OK) {
		if (m.n++ == 0) {
			m.mtime = (int64_t)archive_entry_mtime(en);
			m.uid = (int64_t)archive_entry_uid(en);
		}
		assert_int_equal(archive_entry_mtime(en), m.mtime);
		assert_int_equal(archive_entry_uid(en), 0);
		assert_int_equal(archive_entry_gid(en), 0);
	}
	archive_read_free(a);
	return m;
}

/* The journal holds an evidence.pack entry with this manifest digest. */
static int
journaled(struct env *e, const char *hex)
{
	uint64_t size = 0, i;
	uint8_t *leaf;
	size_t len;
	int found = 0;

	assert_int_equal(tk_journal_size(e->journal, &size), 0);
	for (i = 0; i < size && !found; i++) {
		assert_int_equal(tk_journal_entry_get(e->journal, i, &leaf,
		    &len), 0);
		found = memmem(leaf, len, "\"evidence.pack\"", 15) != NULL &&
		    memmem(leaf, len, hex, 64) != NULL;
		free(leaf);
	}
	return found;
}

static void
same_period_gives_the_same_files_but_the_signing_time(void **state)
{
	struct env *e = *state;
	struct built a, b;
	struct tar_meta ma, mb;
	size_t i;

	closed_period_pack(e, &a, "first");
	memset(&b, 0, sizeof(b));
	b.from = a.from;
	b.to = a.to;
	(void)sleep(1);		/* a later signing time */
	build(e, e->journal, &b, "second");
	assert_int_equal(a.pack->nfiles, b.pack->nfiles);
	for (i = 0; i < a.pack->nfiles; i++) {
		assert_string_equal(a.pack->files[i].name,
		    b.pack->files[i].name);
		if (strcmp(a.pack->files[i].name, "SHA256SUMS.p7s") == 0)
			continue;
		assert_int_equal(a.pack->files[i].len, b.pack->files[i].len);
		assert_memory_equal(a.pack->files[i].data,
		    b.pack->files[i].data, a.pack->files[i].len);
	}
	assert_string_equal(a.hex, b.hex);
	assert_int_equal(sh("cmp -s '%s/SHA256SUMS.p7s' "
	    "'%s/SHA256SUMS.p7s'", a.dir, b.dir), 1);
	ma = tar_meta(&a);
	mb = tar_meta(&b);
	assert_int_equal(ma.mtime, a.to);
	assert_int_equal(mb.mtime, a.to);
	assert_int_equal(ma.n, a.pack->nfiles);
	/* Each pack's manifest digest is on the record. */
	assert_true(journaled(e, a.hex));
	built_clear(&a);
	built_clear(&b);
}

/*
 * A pack re-signed by the appliance's own key after an approval was
 * forged: the manifest and its signature hold, the approval check does
 * not. (A compromised server can sign anything; it cannot make a
 * security key sign.)
 */
static void
resign(struct env *e, struct tk_pack *p)
{
	struct tk_pack_file *sums = NULL, *sig = NULL;
	uint8_t d[32], *der = NULL;
	char hex[65], *buf = NULL;
	size_t i, len = 0;
	CMS_ContentInfo *cms;
	EVP_PKEY *pk = NULL;
	X509 *cert = NULL;
	BIO *in;
	FILE *f;
	int n;

	assert_non_null(f = open_memstream(&buf, &len));
	for (i = 0; i < p->nfiles; i++) {
		if (strcmp(p->files[i].name, "SHA256SUMS") == 0)
			sums = &p->files[i];
		else if (strcmp(p->files[i].name, "SHA256SUMS.p7s") == 0)
			sig = &p->files[i];
		else {
			SHA256(p->files[i].data, p->files[i].len, d);
			tk_hex_encode(d, 32, hex);
			fprintf(f, "%s  %s\n", hex, p->files[i].name);
		}
	}
	assert_int_equal(fclose(f), 0);
	if (sums == NULL || sig == NULL)
		fail_msg("the pack lacks its manifest");
	free(sums->data);
	sums->data = (uint8_t *)buf;
	sums->len = len;
	assert_int_equal(tk_signer_evp_pkey(tk_journal_signer(e->journal),
	    TK_KEY_AUDIT, &pk), 0);
	assert_int_equal(tk_signer_certificate(tk_journal_signer(e->journal),
	    TK_KEY_AUDIT, &cert), 0);
	assert_non_null(in = BIO_new_mem_buf(buf, (int)len));
	assert_non_null(cms = CMS_sign(cert, pk, NULL, in, CMS_DETACHED |
	    CMS_BINARY));
	assert_true((n = i2d_CMS_ContentInfo(cms, &der)) > 0);
	free(sig->data);
	assert_non_null(sig->data = malloc((size_t)n));
	memcpy(sig->data, der, (size_t)n);
	sig->len = (size_t)n;
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	X509_free(cert);
	EVP_PKEY_free(pk);
}

/* Replaces a pack file's text (the old data freed). */
static void
replace(struct tk_pack *p, const char *name, json_t *o)
{
	struct tk_pack_file *f = (struct tk_pack_file *)(uintptr_t)
	    tk_pack_get(p, name);
	char *s;

	assert_non_null(f);
	assert_non_null(s = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS));
	free(f->data);
	f->data = (uint8_t *)s;
	f->len = strlen(s);
}

static void
resigned_packs_still_name_forged_approvals_and_entries(void **state)
{
	struct env *e = *state;
	struct tk_packcheck_report rep;
	struct built b;
	json_t *rq, *ballots;
	struct tk_pack_file *en;
	char *sig;

	closed_period_pack(e, &b, "forged");
	/* Baseline: re-signing an untouched pack changes nothing. */
	resign(e, b.pack);
	assert_int_equal(check(b.pack, &rep), 0);
	/* One approver dropped from a granted request: quorum fails. */
	rq = doc(&b, "requests/00000001.json");
	ballots = json_object_get(rq, "ballots");
	assert_int_equal(json_array_remove(ballots, 1), 0);
	replace(b.pack, "requests/00000001.json", rq);
	resign(e, b.pack);
	assert_int_equal(check(b.pack, &rep), TK_PACKCHECK_ERR_QUORUM);
	assert_non_null(strstr(rep.what, "requests/00000001.json"));
	json_decref(rq);
	/* A signature swapped between two ballots: the assertion fails. */
	tk_pack_free(&b.pack);
	assert_int_equal(tk_pack_read(b.tgz, b.len, &b.pack, &rep), 0);
	rq = doc(&b, "requests/00000002.json");
	ballots = json_object_get(rq, "ballots");
	sig = strdup(json_string_value(json_object_get(json_array_get(
	    ballots, 0), "sig")));
	(void)json_object_set(json_array_get(ballots, 0), "sig",
	    json_object_get(json_array_get(ballots, 1), "sig"));
	(void)json_object_set_new(json_array_get(ballots, 1), "sig",
	    json_string(sig));
	free(sig);
	replace(b.pack, "requests/00000002.json", rq);
	json_decref(rq);
	resign(e, b.pack);
	assert_int_equal(check(b.pack, &rep), TK_PACKCHECK_ERR_APPROVAL);
	assert_non_null(strstr(rep.what, "does not verify"));
	/* One journal entry edited: the journal check names it. */
	tk_pack_free(&b.pack);
	assert_int_equal(tk_pack_read(b.tgz, b.len, &b.pack, &rep), 0);
	en = (struct tk_pack_file *)(uintptr_t)tk_pack_get(b.pack,
	    "journal/entries.jsonl");
	assert_non_null(en);
	assert_non_null(sig = strstr((char *)en->data, "\"actor\":\""));
	sig[9] = sig[9] == 'x' ? 'y' : 'x';
	resign(e, b.pack);
	assert_int_equal(check(b.pack, &rep), TK_PACKCHECK_ERR_JOURNAL);
	built_clear(&b);
}

static void
a_bad_period_is_refused_and_journals_nothing(void **state)
{
	struct env *e = *state;
	struct built b;
	uint64_t before = 0, after = 0;

	memset(&b, 0, sizeof(b));
	assert_int_equal(tk_journal_size(e->journal, &before), 0);
	b.from = 2000;
	b.to = 1000;
	assert_int_equal(build_with(e, e->journal, &b), TK_PACK_ERR_PERIOD);
	b.to = b.from;
	assert_int_equal(build_with(e, e->journal, &b), TK_PACK_ERR_PERIOD);
	b.to = b.from + TK_PACK_MAX_PERIOD + 1;
	assert_int_equal(build_with(e, e->journal, &b), TK_PACK_ERR_PERIOD);
	assert_null(b.tgz);
	assert_int_equal(tk_journal_size(e->journal, &after), 0);
	assert_int_equal(after, before);
}

static void
a_period_without_journal_entries_still_verifies(void **state)
{
	struct env *e = *state;
	struct tk_packcheck_report rep;
	struct built b;
	json_t *pj;

	memset(&b, 0, sizeof(b));
	save_root(e);
	b.from = 1000000000;
	b.to = b.from + 86400;
	build(e, e->journal, &b, "empty");
	pj = doc(&b, "pack.json");
	assert_true(json_is_null(json_object_get(pj, "journal")));
	assert_int_equal(count(pj, "requests"), 0);
	assert_int_equal(files_under(b.pack, "journal/"), 0);
	assert_int_equal(check(b.pack, &rep), 0);
	json_decref(pj);
	built_clear(&b);
}

static void
twokey_verify_pack_names_usage_input_and_malformed_archives(void **state)
{
	const char *v = getenv("TWOKEY_BUILD");
	char junk[600];

	(void)state;
	(void)snprintf(junk, sizeof(junk), "%s/junk.tar.gz", tmp);
	write_file(junk, "not an archive", 14);
	assert_int_equal(sh("'%s/twokey-verify' pack 2>/dev/null", v), 2);
	assert_int_equal(sh("'%s/twokey-verify' pack '%s' 2>/dev/null", v,
	    junk), 2);
	assert_int_equal(sh("'%s/twokey-verify' pack '%s' --root '%s' "
	    "--extra 2>/dev/null", v, junk, root_pem), 2);
	/* A root that cannot be read is input (3), like the pack. */
	assert_int_equal(sh("'%s/twokey-verify' pack '%s' --root '%s/none' "
	    "2>/dev/null", v, junk, tmp), 3);
	/* One that holds no certificate is a bad key (5). */
	assert_int_equal(sh("'%s/twokey-verify' pack '%s' --root '%s' "
	    "2>/dev/null", v, junk, junk), 5);
	assert_int_equal(sh("'%s/twokey-verify' pack '%s/none' --root '%s' "
	    "2>/dev/null", v, tmp, root_pem), 3);
	assert_int_equal(sh("'%s/twokey-verify' pack '%s' --root '%s' "
	    ">/dev/null 2>&1", v, junk, root_pem), 4);
}

#define T(f) cmocka_unit_test_setup_teardown(f, apr_setup, apr_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(pack_holds_the_state_it_came_from),
		T(a_fresh_pack_passes_twokey_verify_and_the_stock_tools),
		T(every_changed_added_or_removed_file_is_caught_by_both_paths),
		T(a_pack_signed_by_another_token_is_refused),
		T(same_period_gives_the_same_files_but_the_signing_time),
		T(resigned_packs_still_name_forged_approvals_and_entries),
		T(a_bad_period_is_refused_and_journals_nothing),
		T(a_period_without_journal_entries_still_verifies),
		T(twokey_verify_pack_names_usage_input_and_malformed_archives),
	};

	return cmocka_run_group_tests(tests, group_setup, apr_group_teardown);
}
