/*
 * Specification of the twokey-verify program: it is run on files made
 * here (a P-256 key, a signed checkpoint, a tlog-proof) and on broken
 * copies of them; each case checks the exit code and that a failure is
 * reported on exactly one line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "twokey/common.h"
#include "twokey/tlogproof.h"

static const char origin[] = "twokey.example.com/A1/journal";
/* A checkpoint text whose size line is not a number. */
static const char bad_size[] = "twokey.example.com/A1/journal\n1x\n"
    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n";
#define NENTRIES 13

static char tmp[1024];
static char vkey_line[512];	/* the key's vkey string */

static const char *
path(const char *name)
{
	static char buf[16][1200];
	static int slot;

	slot = (slot + 1) % 16;
	snprintf(buf[slot], sizeof(buf[slot]), "%s/%s", tmp, name);
	return buf[slot];
}

static void
write_file(const char *name, const void *data, size_t len)
{
	FILE *f = fopen(path(name), "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void
write_str(const char *name, const char *s)
{
	write_file(name, s, strlen(s));
}

/* Not inlined: gcc then mistakes the result for a pointer to buf. */
static char *__attribute__((noinline))
read_text(const char *name)
{
	uint8_t *buf;
	size_t len;

	assert_int_equal(tk_read_file(path(name), 1 << 22, 0, &buf, &len),
	    0);
	return (char *)buf;
}

/* Lines in a file (count of newlines). */
static size_t
lines_of(const char *name)
{
	char *s = read_text(name), *p;
	size_t n = 0;

	for (p = s; *p != '\0'; p++)
		n += *p == '\n';
	free(s);
	return n;
}

/*
 * Runs twokey-verify with args (NULL-terminated), stdout and stderr to
 * out.txt and err.txt; returns its exit code.
 */
static int
run(const char *arg0, ...)
{
	const char *build = getenv("TWOKEY_BUILD"), *argv[16];
	char prog[1024], out[1200], err[1200];
	va_list ap;
	int n = 1, status;
	pid_t pid;

	assert_non_null(build);
	snprintf(prog, sizeof(prog), "%s/twokey-verify", build);
	argv[0] = prog;
	va_start(ap, arg0);
	for (argv[n] = arg0; argv[n] != NULL && n < 15;)
		argv[++n] = va_arg(ap, const char *);
	va_end(ap);
	argv[n] = NULL;
	snprintf(out, sizeof(out), "%s/out.txt", tmp);
	snprintf(err, sizeof(err), "%s/err.txt", tmp);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (freopen(out, "w", stdout) == NULL ||
		    freopen(err, "w", stderr) == NULL)
			_exit(99);
		execv(prog, (char *const *)(uintptr_t)argv);
		_exit(98);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* text (any bytes) signed by k as a note under origin's name. */
static char *
signed_text(EVP_PKEY *k, const char *text, size_t tlen, size_t *len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t der[80];
	size_t dlen = sizeof(der);
	char *note;

	assert_int_equal(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL,
	    k), 1);
	assert_int_equal(EVP_DigestSign(ctx, der, &dlen, (const uint8_t *)text,
	    tlen), 1);
	assert_int_equal(tk_note_format_ecdsa(text, tlen, origin, k, der,
	    dlen, &note, len), 0);
	EVP_MD_CTX_free(ctx);
	return note;
}

static char *
signed_checkpoint(EVP_PKEY *k, const tk_merkle_hash root, size_t *len)
{
	struct tk_checkpoint cp;
	size_t tlen;
	char *text, *note;

	memset(&cp, 0, sizeof(cp));
	cp.origin = (char *)(uintptr_t)origin;
	cp.size = NENTRIES;
	memcpy(cp.root, root, TK_MERKLE_HASH_LEN);
	assert_int_equal(tk_checkpoint_format(&cp, &text, &tlen), 0);
	note = signed_text(k, text, tlen, len);
	free(text);
	return note;
}

static void
write_pem(const char *name, EVP_PKEY *k)
{
	FILE *f = fopen(path(name), "w");

	assert_non_null(f);
	assert_int_equal(PEM_write_PUBKEY(f, k), 1);
	assert_int_equal(fclose(f), 0);
}

static void
write_proof(const char *name, uint64_t index, const tk_merkle_hash *leaves,
    const char *note, size_t note_len)
{
	tk_merkle_hash hashes[TK_MERKLE_MAX_PROOF];
	struct tk_merkle_array arr;
	struct tk_merkle_source src;
	struct tk_tlog_proof p;
	size_t len;
	char *text;

	memset(&p, 0, sizeof(p));
	tk_merkle_source_array(&src, &arr, leaves, NENTRIES);
	assert_int_equal(tk_merkle_inclusion_proof(&src, index, NENTRIES,
	    hashes, &p.nhashes), 0);
	p.index = index;
	p.hashes = hashes;
	p.checkpoint = (char *)(uintptr_t)note;
	p.checkpoint_len = note_len;
	assert_int_equal(tk_tlog_proof_format(&p, &text, &len), 0);
	write_file(name, text, len);
	free(text);
}

/* A self-signed certificate for k, as the ceremony's audit.pem is. */
static void
write_cert(const char *name, EVP_PKEY *k)
{
	X509 *x = X509_new();
	FILE *f;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_set_pubkey(x, k), 1);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	assert_non_null(f = fopen(path(name), "w"));
	assert_int_equal(PEM_write_X509(f, x), 1);
	assert_int_equal(fclose(f), 0);
	X509_free(x);
}

/*
 * key.pem, key.vkey, key.crt, other.pem, checkpoint, entry3, proof3,
 * and proofs whose checkpoint is not a note or not a checkpoint.
 */
static int
setup(void **state)
{
	const char *t = getenv("TWOKEY_TEST_TMP");
	tk_merkle_hash leaves[NENTRIES], root;
	struct tk_merkle_array arr;
	struct tk_merkle_source src;
	EVP_PKEY *k = EVP_EC_gen("P-256"), *other = EVP_EC_gen("P-256");
	char entry[64], *vkey, *note;
	size_t i, len;

	(void)state;
	snprintf(tmp, sizeof(tmp), "%s", t != NULL ? t : "/tmp");
	for (i = 0; i < NENTRIES; i++) {
		snprintf(entry, sizeof(entry), "{\"seq\":%zu}\n", i);
		assert_int_equal(tk_merkle_leaf_hash(entry, strlen(entry),
		    leaves[i]), 0);
		if (i == 3)
			write_file("entry3", entry, strlen(entry));
	}
	tk_merkle_source_array(&src, &arr, leaves, NENTRIES);
	assert_int_equal(tk_merkle_root(&src, NENTRIES, root), 0);
	write_pem("key.pem", k);
	write_pem("other.pem", other);
	write_cert("key.crt", k);
	assert_int_equal(tk_note_vkey(origin, k, &vkey), 0);
	snprintf(vkey_line, sizeof(vkey_line), "%s\n", vkey);
	write_file("key.vkey", vkey_line, strlen(vkey_line));
	vkey_line[strlen(vkey_line) - 1] = '\0';
	free(vkey);
	note = signed_checkpoint(k, root, &len);
	write_file("checkpoint", note, len);
	write_proof("proof3", 3, (const tk_merkle_hash *)leaves, note, len);
	free(note);
	/* Signed, so that only the checkpoint's text is wrong. */
	note = signed_text(k, bad_size, strlen(bad_size), &len);
	write_proof("proof-badsize", 3, (const tk_merkle_hash *)leaves, note,
	    len);
	free(note);
	write_proof("proof-notnote", 3, (const tk_merkle_hash *)leaves,
	    "no signature\n", 13);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
	return 0;
}

/* The file name with one byte changed at offset off (from the end if <0). */
static void
corrupt_copy(const char *from, const char *to, long off, char c)
{
	char *s = read_text(from);
	size_t len = strlen(s);

	s[off >= 0 ? (size_t)off : len - (size_t)(-off)] = c;
	write_file(to, s, len);
	free(s);
}

static void
assert_one_line_failure(int got, int want)
{
	assert_int_equal(got, want);
	assert_int_equal(lines_of("err.txt"), 1);
	assert_int_equal(lines_of("out.txt"), 0);
}

static void
good_note_verifies_with_vkey_string_vkey_file_and_pem(void **state)
{
	(void)state;
	assert_int_equal(run("note", path("checkpoint"), "--key", vkey_line,
	    NULL), 0);
	assert_int_equal(lines_of("out.txt"), 1);
	assert_int_equal(run("note", path("checkpoint"), "--key",
	    path("key.vkey"), NULL), 0);
	assert_int_equal(run("note", path("checkpoint"), "--key",
	    path("key.pem"), NULL), 0);
	assert_int_equal(run("note", path("checkpoint"), "--key",
	    path("other.pem"), "--key", path("key.pem"), NULL), 0);
}

static void
note_signed_by_another_key_exits_1(void **state)
{
	(void)state;
	assert_one_line_failure(run("note", path("checkpoint"), "--key",
	    path("other.pem"), NULL), 1);
}

static void
edited_checkpoint_exits_1(void **state)
{
	(void)state;
	/* The size line "13" becomes "18". */
	corrupt_copy("checkpoint", "edited", (long)strlen(origin) + 2, '8');
	assert_one_line_failure(run("note", path("edited"), "--key",
	    path("key.pem"), NULL), 1);
}

static void
garbage_truncated_and_bad_base64_notes_exit_4(void **state)
{
	char *s = read_text("checkpoint");

	(void)state;
	write_file("garbage", "\x01\x02garbage\xff\n\n", 12);
	assert_one_line_failure(run("note", path("garbage"), "--key",
	    path("key.pem"), NULL), 4);
	write_file("truncated", s, strlen(s) - 10);
	assert_one_line_failure(run("note", path("truncated"), "--key",
	    path("key.pem"), NULL), 4);
	corrupt_copy("checkpoint", "badb64", -5, '*');
	assert_one_line_failure(run("note", path("badb64"), "--key",
	    path("key.pem"), NULL), 4);
	free(s);
}

static void
huge_note_exits_3_and_huge_line_exits_4(void **state)
{
	size_t big = TK_NOTE_MAX_LEN + 10, line = 600 * 1024;
	char *s = malloc(big);

	(void)state;
	assert_non_null(s);
	memset(s, 'A', big);
	s[big - 1] = '\n';
	write_file("huge", s, big);
	assert_one_line_failure(run("note", path("huge"), "--key",
	    path("key.pem"), NULL), 3);
	s[line] = '\n';
	write_file("hugeline", s, line + 1);
	assert_one_line_failure(run("note", path("hugeline"), "--key",
	    path("key.pem"), NULL), 4);
	free(s);
}

static void
certificate_given_as_key_verifies_like_its_public_key(void **state)
{
	(void)state;
	assert_int_equal(run("note", path("checkpoint"), "--key",
	    path("key.crt"), NULL), 0);
	assert_int_equal(lines_of("out.txt"), 1);
}

static void
missing_key_file_is_named_as_unreadable(void **state)
{
	char *err;

	(void)state;
	assert_one_line_failure(run("note", path("checkpoint"), "--key",
	    path("no-such-key.pem"), NULL), 3);
	err = read_text("err.txt");
	assert_non_null(strstr(err, "cannot read key file"));
	free(err);
}

static void
bad_keys_exit_5_and_bad_usage_exits_2(void **state)
{
	char bad[512];

	(void)state;
	snprintf(bad, sizeof(bad), "%s", vkey_line);
	bad[strlen(origin) + 1] ^= 1;	/* key ID no longer matches */
	assert_one_line_failure(run("note", path("checkpoint"), "--key",
	    bad, NULL), 5);
	assert_one_line_failure(run("note", path("checkpoint"), "--key",
	    path("entry3"), NULL), 5);
	assert_one_line_failure(run("note", path("checkpoint"), NULL), 2);
	assert_one_line_failure(run("note", path("checkpoint"), "--key",
	    NULL), 2);
	assert_one_line_failure(run("frobnicate", NULL), 2);
	assert_one_line_failure(run("note", path("absent"), "--key",
	    path("key.pem"), NULL), 3);
	assert_int_equal(run("--help", NULL), 0);
	assert_true(lines_of("out.txt") > 10);
	assert_int_equal(run("--version", NULL), 0);
	assert_int_equal(lines_of("out.txt"), 1);
}

static void
proof_holds_for_its_entry_only(void **state)
{
	(void)state;
	assert_int_equal(run("proof", path("proof3"), "--entry",
	    path("entry3"), "--key", path("key.pem"), "--origin", origin,
	    NULL), 0);
	assert_int_equal(lines_of("out.txt"), 1);
	write_file("entry4", "{\"seq\":4}\n", 10);
	assert_one_line_failure(run("proof", path("proof3"), "--entry",
	    path("entry4"), "--key", path("key.pem"), NULL), 6);
	assert_one_line_failure(run("proof", path("proof3"), "--entry",
	    path("entry3"), "--key", path("key.pem"), "--origin", "x.example",
	    NULL), 1);
	assert_one_line_failure(run("proof", path("proof3"), "--entry",
	    path("entry3"), "--key", path("other.pem"), NULL), 1);
	assert_one_line_failure(run("proof", path("proof3"), "--key",
	    path("key.pem"), NULL), 2);
}

static void
broken_proof_files_are_named_and_refused(void **state)
{
	char *s = read_text("proof3");
	size_t at;

	(void)state;
	assert_non_null(strstr(s, "index 3\n"));
	at = (size_t)(strstr(s, "index 3\n") - s);
	/* index 3 -> 5: the path no longer leads to the signed root. */
	s[at + 6] = '5';
	write_file("proof5", s, strlen(s));
	assert_one_line_failure(run("proof", path("proof5"), "--entry",
	    path("entry3"), "--key", path("key.pem"), NULL), 6);
	s[at + 6] = '3';
	s[at + 9] = '!';	/* first hash: not base64 */
	write_file("proofbad", s, strlen(s));
	assert_one_line_failure(run("proof", path("proofbad"), "--entry",
	    path("entry3"), "--key", path("key.pem"), NULL), 4);
	write_file("prooftrunc", s, at + 4);
	assert_one_line_failure(run("proof", path("prooftrunc"), "--entry",
	    path("entry3"), "--key", path("key.pem"), NULL), 4);
	free(s);
}

/* err.txt holds needle (and no control character but its newline). */
static void
assert_err_says(const char *needle)
{
	char *err = read_text("err.txt");
	const char *p;

	if (strstr(err, needle) == NULL)
		fail_msg("stderr \"%s\" does not say \"%s\"", err, needle);
	for (p = err; *p != '\0'; p++)
		assert_true((unsigned char)*p >= 0x20 || *p == '\n');
	free(err);
}

/* Exit code want, one line on stderr that says needle. */
static void
assert_refused(int got, int want, const char *needle)
{
	assert_one_line_failure(got, want);
	assert_err_says(needle);
}

static void
a_malformed_note_is_named_by_its_first_problem(void **state)
{
	char *s = read_text("checkpoint");

	(void)state;
	write_str("random", "\xc3\x28\x9a\xff\x01");
	assert_refused(run("note", path("random"), "--key", path("key.pem"),
	    NULL), 4, "note file: line 1, byte 1: not UTF-8 text");
	write_str("control", "origin\nsize\x07\n");
	assert_refused(run("note", path("control"), "--key",
	    path("key.pem"), NULL), 4, "line 2, byte 5: a control character");
	write_str("unsigned", "just text\n");
	assert_refused(run("note", path("unsigned"), "--key",
	    path("key.pem"), NULL), 4, "no blank line between the text and "
	    "the signature lines");
	write_str("nosig", "text\n\n");
	assert_refused(run("note", path("nosig"), "--key", path("key.pem"),
	    NULL), 4, "no signature line after the last blank line");
	write_str("nodash", "text\n\n- name AAAAAAAA\n");
	assert_refused(run("note", path("nodash"), "--key", path("key.pem"),
	    NULL), 4, "line 3: a signature line starts with an em dash");
	write_file("truncated", s, strlen(s) - 10);
	assert_refused(run("note", path("truncated"), "--key",
	    path("key.pem"), NULL), 4, "line 5 (the last) does not end in a "
	    "newline");
	corrupt_copy("checkpoint", "badb64", -5, '*');
	assert_refused(run("note", path("badb64"), "--key", path("key.pem"),
	    NULL), 4, "line 5: the signature is not base64");
	free(s);
}

static void
a_key_that_does_not_load_says_why(void **state)
{
	char bad[512];

	(void)state;
	write_file("random.key", "\x8f\x00\x13 junk \xfe\n", 11);
	assert_refused(run("note", path("checkpoint"), "--key",
	    path("random.key"), NULL), 5, "key file ");
	assert_err_says(": neither a PEM public key or certificate nor a "
	    "verifier key (no '+'");
	/* PEM of another kind (no key material at all: P-256's OID). */
	write_str("params.pem", "-----BEGIN EC PARAMETERS-----\n"
	    "BggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n");
	assert_refused(run("note", path("checkpoint"), "--key",
	    path("params.pem"), NULL), 5, "PEM, but neither a public key "
	    "nor a certificate");
	snprintf(bad, sizeof(bad), "%s", vkey_line);
	/* Another key ID, still 8 hex digits. */
	bad[strlen(origin) + 1] = bad[strlen(origin) + 1] == '0' ? '1' : '0';
	assert_refused(run("note", path("checkpoint"), "--key", bad, NULL),
	    5, "the key ID does not match the name and key");
	assert_refused(run("note", path("checkpoint"), "--key",
	    "name+12345678+!!!!", NULL), 5, "not a verifier key (the key "
	    "after the key ID is not base64)");
	assert_refused(run("proof", path("proof3"), "--entry",
	    path("entry3"), "--key", "name+xyz", NULL), 5, "not a verifier "
	    "key (the key ID after the name is not 8 hex digits");
}

static void
a_bad_proof_or_checkpoint_is_named_by_its_first_problem(void **state)
{
	char *s = read_text("proof3");
	size_t at = (size_t)(strstr(s, "index 3\n") - s);

	(void)state;
	write_str("random.proof", "\x17\x91 binary\n\xff");
	assert_refused(run("proof", path("random.proof"), "--entry",
	    path("entry3"), "--key", path("key.pem"), NULL), 4,
	    "proof file: not a tlog-proof file (line 1 must be "
	    "\"c2sp.org/tlog-proof@v1\")");
	s[at + 6] = 'x';
	write_file("badindex", s, strlen(s));
	assert_refused(run("proof", path("badindex"), "--entry",
	    path("entry3"), "--key", path("key.pem"), NULL), 4,
	    "proof file: line 2 is not \"index\" and an entry number");
	s[at + 6] = '3';
	s[at + 9] = '!';
	write_file("badhash", s, strlen(s));
	assert_refused(run("proof", path("badhash"), "--entry",
	    path("entry3"), "--key", path("key.pem"), NULL), 4,
	    "proof file: line 3 is not a hash (base64)");
	write_file("cut", s, at + 4);
	assert_refused(run("proof", path("cut"), "--entry", path("entry3"),
	    "--key", path("key.pem"), NULL), 4, "proof file: the file ends "
	    "after line 1, before the index line");
	assert_refused(run("proof", path("proof-badsize"), "--entry",
	    path("entry3"), "--key", path("key.pem"), NULL), 4,
	    "checkpoint: line 2 is not a tree size");
	assert_refused(run("proof", path("proof-notnote"), "--entry",
	    path("entry3"), "--key", path("key.pem"), NULL), 4,
	    "checkpoint: no blank line between the text and the signature");
	free(s);
}

/* out.txt (a --help) starts with want and lists the exit codes. */
static void
assert_help(int got, const char *want)
{
	char *out;

	assert_int_equal(got, 0);
	assert_int_equal(lines_of("err.txt"), 0);
	out = read_text("out.txt");
	assert_memory_equal(out, want, strlen(want));
	assert_non_null(strstr(out, "\n 10  pack: "));
	free(out);
}

static void
every_command_prints_its_help_on_stdout_and_exits_0(void **state)
{
	(void)state;
	assert_help(run("note", "--help", NULL),
	    "usage: twokey-verify note NOTE_FILE --key KEY");
	assert_help(run("proof", "--help", NULL),
	    "usage: twokey-verify proof PROOF_FILE --entry ENTRY_FILE");
	assert_help(run("log", "--help", NULL),
	    "usage: twokey-verify log EXPORT (--root ROOT.pem");
	assert_help(run("pack", "--help", NULL),
	    "usage: twokey-verify pack PACK.tar.gz --root ROOT.pem");
	assert_help(run("pack", "x.tar.gz", "-h", NULL),
	    "usage: twokey-verify pack");
	assert_help(run("note", path("checkpoint"), "--key",
	    path("key.pem"), "--help", NULL), "usage: twokey-verify note");
	assert_help(run("--help", NULL), "usage: twokey-verify COMMAND");
}

/* From "exit codes, the same" to the end of text, or the fence. */
static char *
exit_table(char *text)
{
	char *start = strstr(text, "exit codes, the same for every command:");
	char *end;

	assert_non_null(start);
	if ((end = strstr(start, "```")) != NULL)
		*end = '\0';
	return start;
}

static void
readme_has_the_exit_codes_that_help_prints(void **state)
{
	char readme[1024], *out, *doc;
	size_t len;
	uint8_t *buf;

	(void)state;
	assert_non_null(getenv("TWOKEY_TOP"));
	snprintf(readme, sizeof(readme), "%s/README.md", getenv("TWOKEY_TOP"));
	assert_int_equal(tk_read_file(readme, 1 << 20, 0, &buf, &len), 0);
	doc = (char *)buf;
	assert_int_equal(run("--help", NULL), 0);
	out = read_text("out.txt");
	assert_string_equal(exit_table(doc), exit_table(out));
	free(out);
	free(doc);
}

static void
unreadable_root_exits_3_and_one_without_a_certificate_5(void **state)
{
	(void)state;
	write_str("no-pack.tar.gz", "x");
	assert_refused(run("pack", path("no-pack.tar.gz"), "--root",
	    path("absent.pem"), NULL), 3, "cannot read root file");
	assert_refused(run("log", path("no-export"), "--root",
	    path("absent.pem"), NULL), 3, "cannot read root file");
	assert_refused(run("pack", path("no-pack.tar.gz"), "--root",
	    path("key.pem"), NULL), 5, "not a PEM certificate");
	assert_refused(run("log", path("no-export"), "--root",
	    path("key.pem"), NULL), 5, "not a PEM certificate");
	assert_refused(run("pack", path("absent.tar.gz"), "--root",
	    path("key.crt"), NULL), 3, "cannot read pack file");
}

/* One archive member: its name, a regular file unless link is set. */
struct member {
	const char *name;
	const char *link;	/* a symbolic link to this */
	const uint8_t *data;
	size_t len;
};

/* name: a tar.gz of the members (libarchive, as a tool would write). */
static void
write_tgz(const char *name, const struct member *m, size_t n)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e;
	size_t cap = 1 << 20, used = 0, i;
	uint8_t *buf = malloc(cap);

	assert_non_null(a);
	assert_non_null(buf);
	assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_set_format_pax_restricted(a),
	    ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, buf, cap, &used),
	    ARCHIVE_OK);
	for (i = 0; i < n; i++) {
		assert_non_null(e = archive_entry_new());
		archive_entry_set_pathname(e, m[i].name);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_filetype(e, m[i].link != NULL ? AE_IFLNK :
		    AE_IFREG);
		if (m[i].link != NULL)
			archive_entry_set_symlink(e, m[i].link);
		archive_entry_set_size(e, (la_int64_t)m[i].len);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		if (m[i].len > 0)
			assert_int_equal(archive_write_data(a, m[i].data,
			    m[i].len), (la_ssize_t)m[i].len);
		archive_entry_free(e);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	write_file(name, buf, used);
	free(buf);
}

/* twokey-verify pack on a tar.gz of one file more than ok. */
static int
pack_with(const struct member *bad)
{
	struct member m[2] = {
		{ "twokey-pack-x/pack.json", NULL, (const uint8_t *)"{}", 2 },
	};

	m[1] = *bad;
	write_tgz("bad.tar.gz", m, 2);
	return run("pack", path("bad.tar.gz"), "--root", path("key.crt"),
	    NULL);
}

static void
members_outside_the_folder_or_not_files_are_named(void **state)
{
	static const struct member up = {
		"twokey-pack-x/../../etc/cron.d/x", NULL,
		(const uint8_t *)"x", 1 };
	static const struct member abs = {
		"/etc/passwd", NULL, (const uint8_t *)"x", 1 };
	static const struct member link = {
		"twokey-pack-x/pack.html", "/etc/shadow", NULL, 0 };
	static const struct member esc = {
		"twokey-pack-x/\x1b[2J\x1b]0;owned\x07", NULL,
		(const uint8_t *)"x", 1 };
	static const struct member other = {
		"other-folder/pack.json", NULL, (const uint8_t *)"x", 1 };

	(void)state;
	assert_refused(pack_with(&up), 4, "archive member "
	    "twokey-pack-x/../../etc/cron.d/x: the name leaves its folder");
	assert_refused(pack_with(&abs), 4, "archive member /etc/passwd: the "
	    "name is an absolute path");
	assert_refused(pack_with(&link), 4, "archive member "
	    "twokey-pack-x/pack.html is a symbolic link, not a regular file");
	/* Control characters reach the terminal escaped, never raw. */
	assert_refused(pack_with(&esc), 4, "archive member "
	    "twokey-pack-x/\\x1b[2J\\x1b]0;owned\\x07: the name has a "
	    "character other than");
	assert_refused(pack_with(&other), 4, "archive member "
	    "other-folder/pack.json is outside the pack folder");
}

/* name: text gzip'd, with no tar inside (libarchive's raw format). */
static void
write_gzip(const char *name, const char *text)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	uint8_t buf[4096];
	size_t used = 0;

	assert_non_null(a);
	assert_non_null(e);
	assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, buf, sizeof(buf),
	    &used), ARCHIVE_OK);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_size(e, (la_int64_t)strlen(text));
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, text, strlen(text)),
	    (la_ssize_t)strlen(text));
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(e);
	write_file(name, buf, used);
}

/* twokey-verify pack on the first n bytes of tgz. */
static int
pack_cut(const uint8_t *tgz, size_t n)
{
	write_file("cut.tar.gz", tgz, n);
	return run("pack", path("cut.tar.gz"), "--root", path("key.crt"),
	    NULL);
}

static void
a_truncated_archive_is_told_apart_from_a_foreign_file(void **state)
{
	struct member m = { "twokey-pack-x/journal.bin", NULL, NULL, 1 << 18 };
	uint8_t *noise = malloc(m.len), *tgz;
	uint32_t x = 12345;
	size_t i, len;

	(void)state;
	assert_non_null(noise);
	for (i = 0; i < m.len; i++) {	/* does not compress */
		x = x * 1103515245u + 12345u;
		noise[i] = (uint8_t)(x >> 24);
	}
	m.data = noise;
	write_tgz("whole.tar.gz", &m, 1);
	assert_int_equal(tk_read_file(path("whole.tar.gz"), 1 << 20, 0, &tgz,
	    &len), 0);
	assert_true(len > m.len);
	/* Cut in the gzip header, before the first member, inside it. */
	assert_refused(pack_cut(tgz, 6), 4, "the archive is truncated or "
	    "damaged (its gzip header is cut short or invalid)");
	assert_refused(pack_cut(tgz, 200), 4, "the archive is truncated or "
	    "damaged (");
	assert_refused(pack_cut(tgz, len / 4 * 3), 4, "the archive is "
	    "truncated or damaged: member journal.bin ends early (");
	assert_refused(pack_cut(tgz, 0), 4, "not a tar.gz archive: the file "
	    "is empty");
	write_str("text.tar.gz", "a text file\n");
	assert_refused(run("pack", path("text.tar.gz"), "--root",
	    path("key.crt"), NULL), 4, "not a tar.gz archive: neither gzip "
	    "nor tar");
	write_gzip("text.gz", "a text file, gzip'd\n");
	assert_refused(run("pack", path("text.gz"), "--root",
	    path("key.crt"), NULL), 4, "not a tar.gz archive: gzip, but no "
	    "tar archive inside");
	free(tgz);
	free(noise);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		    good_note_verifies_with_vkey_string_vkey_file_and_pem),
		cmocka_unit_test(note_signed_by_another_key_exits_1),
		cmocka_unit_test(edited_checkpoint_exits_1),
		cmocka_unit_test(garbage_truncated_and_bad_base64_notes_exit_4),
		cmocka_unit_test(huge_note_exits_3_and_huge_line_exits_4),
		cmocka_unit_test(bad_keys_exit_5_and_bad_usage_exits_2),
		cmocka_unit_test(
		    certificate_given_as_key_verifies_like_its_public_key),
		cmocka_unit_test(missing_key_file_is_named_as_unreadable),
		cmocka_unit_test(proof_holds_for_its_entry_only),
		cmocka_unit_test(broken_proof_files_are_named_and_refused),
		cmocka_unit_test(
		    a_malformed_note_is_named_by_its_first_problem),
		cmocka_unit_test(a_key_that_does_not_load_says_why),
		cmocka_unit_test(
		    a_bad_proof_or_checkpoint_is_named_by_its_first_problem),
		cmocka_unit_test(
		    every_command_prints_its_help_on_stdout_and_exits_0),
		cmocka_unit_test(readme_has_the_exit_codes_that_help_prints),
		cmocka_unit_test(
		    unreadable_root_exits_3_and_one_without_a_certificate_5),
		cmocka_unit_test(
		    members_outside_the_folder_or_not_files_are_named),
		cmocka_unit_test(
		    a_truncated_archive_is_told_apart_from_a_foreign_file),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
