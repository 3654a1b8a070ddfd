/*
 * twokey-verify: offline checks an auditor runs without the appliance,
 * the token or the database. Each command is one row of `commands`; the
 * exit code says what failed (exit_codes, one table for all commands).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twokey/common.h"
#include "twokey/checkpoint.h"
#include "twokey/note.h"
#include "twokey/tlogproof.h"
#include "verify_cmd.h"

/* Entries (leaf bytes) larger than this are refused. */
#define ENTRY_MAX ((size_t)16 * 1024 * 1024)

static const struct verify_cmd commands[] = {
	{ "note", verify_cmd_note,
	    "NOTE_FILE --key KEY [--key KEY ...] [--name NAME]",
	    "checks a C2SP signed note: at least one signature by a\n"
	    "given key verifies, and none by a given key fails.\n", 1 },
	{ "proof", verify_cmd_proof,
	    "PROOF_FILE --entry ENTRY_FILE --key KEY [--key KEY ...]\n"
	    "        [--origin ORIGIN] [--name NAME]",
	    "checks a c2sp.org/tlog-proof@v1 file: the checkpoint is\n"
	    "signed by a given key (and has ORIGIN, if given), then\n"
	    "SHA-256(0x00 || ENTRY_FILE) is in its tree at the index,\n"
	    "with size and root taken from the signed checkpoint.\n", 1 },
	/* Commands built on more than libtwokey-verify add rows here. */
	{ "log", verify_cmd_log,
	    "EXPORT (--root ROOT.pem | --fingerprint SHA256)\n"
	    "        [--since CHECKPOINT]",
	    "checks a journal export: the audit certificate chains to\n"
	    "the pinned root, every checkpoint is signed by it and\n"
	    "consistent with the previous one, every entry is in them\n"
	    "(exit 6 names the first edited, deleted, inserted,\n"
	    "reordered or truncated entry); with --since, the log\n"
	    "only grew from that saved checkpoint.\n", 0 },
	{ "pack", verify_cmd_pack, "PACK.tar.gz --root ROOT.pem",
	    "checks an evidence pack: SHA256SUMS.p7s signs SHA256SUMS\n"
	    "by the pack's audit certificate under the pinned root,\n"
	    "every file matches SHA256SUMS (none extra or missing),\n"
	    "the journal slice holds, every approval assertion\n"
	    "verifies against its request, every grant had its\n"
	    "quorum of distinct approvers.\n", 0 },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char keys_help[] =
    "KEY is a verifier key string (name+keyid+base64), or a file\n"
    "holding one, or a PEM public key file (P-256 or Ed25519).\n"
    "A PEM key has no name: it takes --name NAME, or else the name\n"
    "on the signature line that carries its key ID.\n";

/*
 * The one table of exit codes: every command returns these and only
 * these (verify_cmd.h), and README.md's "For auditors" section holds a
 * copy that test_verify_cli compares with this text.
 */
static const char exit_codes[] =
    "exit codes, the same for every command:\n"
    "  0  everything checked holds\n"
    "  1  signature: no trusted signature, or a trusted one fails\n"
    "     (note, proof, log checkpoints, the pack's SHA256SUMS.p7s,\n"
    "     also when it is missing), or the checkpoint origin is not\n"
    "     --origin\n"
    "  2  usage: bad command line\n"
    "  3  input: a file cannot be read or is larger than its limit\n"
    "     (the input, --entry, --key, --root or --since file)\n"
    "  4  malformed: the note, proof, checkpoint, export or pack (or a\n"
    "     file in it) does not parse\n"
    "  5  key: a --key or --root holds no usable key or certificate,\n"
    "     or the signer is not an audit certificate under the root\n"
    "     (log, pack), or the export's keys are not its certificate's\n"
    "  6  not proven: the entry is not at that index (proof), the log\n"
    "     does not hold (log), the journal slice does not hold (pack)\n"
    "  7  internal: out of memory or cryptographic library error\n"
    "  8  pack: a file changed, or is extra or missing\n"
    "  9  pack: an approval assertion or request digest fails\n"
    " 10  pack: a grant without its quorum of distinct approvers\n";

/* Prints text's lines, the first after lead, the others aligned. */
static void
print_indented(FILE *f, const char *lead, const char *text)
{
	const char *nl;
	int width = (int)strlen(lead);

	fputs(lead, f);
	while ((nl = strchr(text, '\n')) != NULL) {
		fprintf(f, "%.*s\n", (int)(nl - text), text);
		text = nl + 1;
		if (*text != '\0')
			fprintf(f, "%*s", width, "");
	}
}

/* "name:  what it checks", continuation lines aligned. */
static void
print_help(FILE *f, const struct verify_cmd *c)
{
	char name[16], lead[16];

	snprintf(name, sizeof(name), "%s:", c->name);
	snprintf(lead, sizeof(lead), "%-7s", name);
	print_indented(f, lead, c->help);
}

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: twokey-verify COMMAND ARGS...\n"
	    "       twokey-verify COMMAND --help\n\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  twokey-verify %s %s\n", commands[i].name,
		    commands[i].usage);
	fprintf(f, "\n%s\n", keys_help);
	for (i = 0; i < NCOMMANDS; i++)
		print_help(f, &commands[i]);
	fprintf(f, "\n%s", exit_codes);
}

/* COMMAND --help: its usage, what it checks, the exit codes. */
static void
command_usage(const struct verify_cmd *c)
{
	printf("usage: twokey-verify %s %s\n\n", c->name, c->usage);
	print_help(stdout, c);
	if (c->takes_keys)
		printf("\n%s", keys_help);
	printf("\n%s", exit_codes);
}

/* 1 if the arguments after the command ask for its help. */
static int
asks_help(int argc, char **argv)
{
	int i;

	for (i = 2; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

struct opts {
	const char *file;
	const char *entry;
	const char *origin;
	const char *name;
	struct verify_keys keys;
};

/* Parses ARGS of note/proof; returns VX_OK or VX_USAGE (reported). */
static int
parse_opts(const char *cmd, int argc, char **argv, struct opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], **slot = NULL;

		if (strcmp(a, "--key") == 0) {
			if (o->keys.nspec == VERIFY_MAX_KEYS)
				return verify_fail(VX_USAGE, cmd,
				    "too many --key (at most %d)",
				    VERIFY_MAX_KEYS);
			slot = &o->keys.spec[o->keys.nspec++];
		} else if (strcmp(a, "--entry") == 0)
			slot = &o->entry;
		else if (strcmp(a, "--origin") == 0)
			slot = &o->origin;
		else if (strcmp(a, "--name") == 0)
			slot = &o->name;
		else if (a[0] == '-' && a[1] != '\0')
			return verify_fail(VX_USAGE, cmd, "unknown option");
		else if (o->file == NULL) {
			o->file = a;
			continue;
		} else
			return verify_fail(VX_USAGE, cmd, "extra argument");
		if (++i >= argc)
			return verify_fail(VX_USAGE, cmd, "%s needs a value",
			    a);
		*slot = argv[i];
	}
	if (o->file == NULL)
		return verify_fail(VX_USAGE, cmd, "input file missing");
	return VX_OK;
}

/* The names of the keys that verified, for the success line. */
static void
print_signers(struct tk_note_verifier *const *keys, size_t n,
    const unsigned char *ok)
{
	char esc[128];
	size_t i;
	const char *sep = "";

	for (i = 0; i < n; i++) {
		if (!ok[i])
			continue;
		tk_log_escape(esc, sizeof(esc), tk_note_verifier_name(keys[i]),
		    strlen(tk_note_verifier_name(keys[i])));
		printf("%s%s", sep, esc);
		sep = ", ";
	}
}

/* The parser's reason, or the error's name when it gave none. */
static const char *
why_text(int err, const struct tk_verify_why *why)
{
	return why->text[0] != '\0' ? why->text : tk_verify_strerror(err);
}

int
verify_cmd_note(int argc, char **argv)
{
	unsigned char ok[VERIFY_MAX_KEYS];
	struct tk_verify_why why;
	struct tk_note *note = NULL;
	struct opts o;
	uint8_t *buf = NULL;
	size_t len;
	int r, x;

	if ((x = parse_opts("note", argc, argv, &o)) != VX_OK)
		return x;
	if (o.entry != NULL || o.origin != NULL)
		return verify_fail(VX_USAGE, "note", "--entry and --origin "
		    "belong to proof");
	if ((x = verify_read("note", "note", o.file, TK_NOTE_MAX_LEN, &buf,
	    &len)) != VX_OK)
		goto out;
	if ((r = tk_note_parse_why((const char *)buf, len, &note,
	    &why)) != 0) {
		x = verify_fail(verify_exit_for(r), "note", "note file: %s",
		    why_text(r, &why));
		goto out;
	}
	if ((x = verify_keys_load("note", &o.keys, note, o.name)) != VX_OK)
		goto out;
	if ((r = tk_note_verify(note, o.keys.v, o.keys.n, ok)) != 0) {
		x = verify_fail(verify_exit_for(r), "note", "%s",
		    tk_verify_strerror(r));
		goto out;
	}
	printf("OK: note signed by ");
	print_signers(o.keys.v, o.keys.n, ok);
	printf("\n");
	x = VX_OK;
out:
	verify_keys_clear(&o.keys);
	tk_note_free(&note);
	free(buf);
	return x;
}

/* Which part of a proof check an error code comes from. */
static const char *
proof_stage(int err)
{
	switch (verify_exit_for(err)) {
	case VX_PROOF:
		return "entry not proven";
	case VX_SIGNATURE:
	case VX_MALFORMED:
	case VX_IO:		/* only the checkpoint has limits here */
		return "checkpoint";
	default:
		return "proof";
	}
}

static void
print_proven(const struct tk_tlog_proof *p, const struct tk_checkpoint *cp)
{
	char esc[256], *root;

	tk_log_escape(esc, sizeof(esc), cp->origin, strlen(cp->origin));
	root = tk_b64_encode(cp->root, sizeof(cp->root));
	printf("OK: entry %llu is in %s at size %llu, root %s\n",
	    (unsigned long long)p->index, esc, (unsigned long long)cp->size,
	    root != NULL ? root : "?");
	free(root);
}

/*
 * Why the proof's checkpoint was refused as malformed or too large:
 * the library opens it in one step, so parse it again, note then
 * checkpoint text, to name the first problem. Empty for other errors.
 */
static void
checkpoint_why(const struct tk_tlog_proof *p, int err,
    struct tk_verify_why *why)
{
	struct tk_checkpoint *cp = NULL;
	struct tk_note *note = NULL;

	why->text[0] = '\0';
	if (err != TK_VERIFY_ERR_MALFORMED && err != TK_VERIFY_ERR_TOOBIG)
		return;
	if (tk_note_parse_why(p->checkpoint, p->checkpoint_len, &note,
	    why) == 0)
		(void)tk_checkpoint_parse_why(note->text, note->text_len, &cp,
		    why);
	tk_checkpoint_free(&cp);
	tk_note_free(&note);
}

int
verify_cmd_proof(int argc, char **argv)
{
	struct tk_verify_why why;
	struct tk_tlog_proof *p = NULL;
	struct tk_checkpoint *cp = NULL;
	struct tk_note *note = NULL;
	uint8_t *buf = NULL, *entry = NULL;
	size_t len, elen;
	struct opts o;
	int r, x;

	if ((x = parse_opts("proof", argc, argv, &o)) != VX_OK)
		return x;
	if (o.entry == NULL)
		return verify_fail(VX_USAGE, "proof", "--entry missing");
	if ((x = verify_read("proof", "proof", o.file, TK_TLOG_PROOF_MAX_LEN,
	    &buf, &len)) != VX_OK ||
	    (x = verify_read("proof", "entry", o.entry, ENTRY_MAX, &entry,
	    &elen)) != VX_OK)
		goto out;
	if ((r = tk_tlog_proof_parse_why((const char *)buf, len, &p,
	    &why)) != 0) {
		x = verify_fail(verify_exit_for(r), "proof", "proof file: %s",
		    why_text(r, &why));
		goto out;
	}
	/* Parsed only to name PEM keys; the library parses it again. */
	(void)tk_note_parse(p->checkpoint, p->checkpoint_len, &note);
	if ((x = verify_keys_load("proof", &o.keys, note, o.name)) != VX_OK)
		goto out;
	if ((r = tk_tlog_proof_verify(p, entry, elen, o.keys.v, o.keys.n,
	    o.origin, &cp)) != 0) {
		checkpoint_why(p, r, &why);
		x = verify_fail(verify_exit_for(r), "proof", "%s: %s",
		    proof_stage(r), why_text(r, &why));
		goto out;
	}
	print_proven(p, cp);
	x = VX_OK;
out:
	verify_keys_clear(&o.keys);
	tk_checkpoint_free(&cp);
	tk_tlog_proof_free(&p);
	tk_note_free(&note);
	free(entry);
	free(buf);
	return x;
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return VX_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return VX_OK;
	}
	/* An auditor's report names the verifier that was run. */
	if (strcmp(argv[1], "--version") == 0) {
		printf("twokey-verify %s\n", TWOKEY_VERSION);
		return VX_OK;
	}
	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		if (asks_help(argc, argv)) {
			command_usage(&commands[i]);
			return VX_OK;
		}
		return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "twokey-verify: unknown command; see --help\n");
	return VX_USAGE;
}
