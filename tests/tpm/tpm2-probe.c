/*
 * tpm2-probe: raw PKCS#11 checks against one token, used by
 * tests/tpm/test-tpm2.sh and to measure the TPM signing rate.
 *
 *   tpm2-probe MODULE TOKEN PIN_FILE attrs LABEL
 *	prints CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_NEVER_EXTRACTABLE,
 *	CKA_ALWAYS_SENSITIVE and CKA_SIGN of the private key LABEL as 0/1
 *   tpm2-probe MODULE TOKEN PIN_FILE sign LABEL N
 *	times N CKM_ECDSA signatures over a fixed 32-byte digest in one
 *	logged-in session (C_SignInit + C_Sign each)
 *   tpm2-probe MODULE TOKEN PIN_FILE keygen LABEL...
 *	in one session, generates a P-256 pair per LABEL with the template
 *	the key ceremony uses (token, private, sensitive, not extractable,
 *	sign only), then signs once with each new key
 *
 * Stand-alone on purpose (dlopen + p11-kit's pkcs11.h, no project code) so
 * the TPM test can build it without the Makefile. Exit 0 on success, 1 on
 * any PKCS#11 failure (named on stderr), 2 on bad usage.
 */

#include <sys/stat.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <p11-kit/pkcs11.h>

#define PIN_MAX	128

struct probe {
	void			*dl;
	CK_FUNCTION_LIST_PTR	 f;
	CK_SESSION_HANDLE	 s;
	int			 initialized;
	int			 open;
};

static int
fail(const char *what, CK_RV rv)
{
	fprintf(stderr, "tpm2-probe: %s failed: rv=0x%lx\n", what,
	    (unsigned long)rv);
	return 1;
}

/* Reads the PIN file, refusing one that group or others may read. */
static int
read_pin(const char *path, char *pin, size_t cap, size_t *len)
{
	struct stat	 st;
	FILE		*fp = NULL;
	size_t		 n;
	int		 r = 1;

	if ((fp = fopen(path, "r")) == NULL ||
	    fstat(fileno(fp), &st) != 0) {
		fprintf(stderr, "tpm2-probe: %s: %s\n", path, strerror(errno));
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		fprintf(stderr, "tpm2-probe: %s: group/other may read it\n",
		    path);
		goto out;
	}
	n = fread(pin, 1, cap, fp);
	while (n > 0 && (pin[n - 1] == '\n' || pin[n - 1] == '\r'))
		n--;
	if (n == 0 || n == cap) {
		fprintf(stderr, "tpm2-probe: %s: empty or too long\n", path);
		goto out;
	}
	*len = n;
	r = 0;
out:
	if (fp != NULL)
		fclose(fp);
	return r;
}

static int
label_matches(const CK_UTF8CHAR *field, size_t cap, const char *label)
{
	size_t	n = strlen(label), i;

	if (n > cap || memcmp(field, label, n) != 0)
		return 0;
	for (i = n; i < cap; i++)
		if (field[i] != ' ')
			return 0;
	return 1;
}

static int
find_slot(struct probe *p, const char *label, CK_SLOT_ID *out)
{
	CK_SLOT_ID	 slots[64];
	CK_ULONG	 n = 64, i;
	CK_TOKEN_INFO	 ti;
	CK_RV		 rv;

	if ((rv = p->f->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_OK)
		return fail("C_GetSlotList", rv);
	for (i = 0; i < n; i++) {
		if (p->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		if (label_matches(ti.label, sizeof(ti.label), label)) {
			*out = slots[i];
			return 0;
		}
	}
	fprintf(stderr, "tpm2-probe: no token labelled %s\n", label);
	return 1;
}

static int
probe_open(struct probe *p, const char *module, const char *token,
    const char *pin_file)
{
	CK_C_GetFunctionList	 get;
	CK_C_INITIALIZE_ARGS	 args;
	CK_SLOT_ID		 slot;
	char			 pin[PIN_MAX];
	size_t			 pin_len = 0;
	CK_RV			 rv;
	int			 r = 1;

	if ((p->dl = dlopen(module, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "tpm2-probe: %s\n", dlerror());
		goto out;
	}
	*(void **)&get = dlsym(p->dl, "C_GetFunctionList");
	if (get == NULL || get(&p->f) != CKR_OK) {
		fprintf(stderr, "tpm2-probe: no C_GetFunctionList\n");
		goto out;
	}
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	if ((rv = p->f->C_Initialize(&args)) != CKR_OK) {
		r = fail("C_Initialize", rv);
		goto out;
	}
	p->initialized = 1;
	if (find_slot(p, token, &slot) != 0 ||
	    read_pin(pin_file, pin, sizeof(pin), &pin_len) != 0)
		goto out;
	rv = p->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
	    NULL, NULL, &p->s);
	if (rv != CKR_OK) {
		r = fail("C_OpenSession", rv);
		goto out;
	}
	p->open = 1;
	rv = p->f->C_Login(p->s, CKU_USER, (CK_UTF8CHAR_PTR)pin, pin_len);
	if (rv != CKR_OK) {
		r = fail("C_Login", rv);
		goto out;
	}
	r = 0;
out:
	explicit_bzero(pin, sizeof(pin));
	return r;
}

static void
probe_close(struct probe *p)
{
	if (p->open) {
		p->f->C_Logout(p->s);
		p->f->C_CloseSession(p->s);
	}
	if (p->initialized)
		p->f->C_Finalize(NULL);
	if (p->dl != NULL)
		dlclose(p->dl);
	memset(p, 0, sizeof(*p));
}

static int
find_key(struct probe *p, const char *label, CK_OBJECT_HANDLE *key)
{
	CK_OBJECT_CLASS	 cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE	 tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_LABEL, (void *)(uintptr_t)label, strlen(label) },
	};
	CK_ULONG	 n = 0;
	CK_RV		 rv;

	if ((rv = p->f->C_FindObjectsInit(p->s, tmpl, 2)) != CKR_OK)
		return fail("C_FindObjectsInit", rv);
	rv = p->f->C_FindObjects(p->s, key, 1, &n);
	p->f->C_FindObjectsFinal(p->s);
	if (rv != CKR_OK)
		return fail("C_FindObjects", rv);
	if (n != 1) {
		fprintf(stderr, "tpm2-probe: no private key labelled %s\n",
		    label);
		return 1;
	}
	return 0;
}

static int
cmd_attrs(struct probe *p, const char *label)
{
	CK_OBJECT_HANDLE key;
	CK_BBOOL	 v[7] = { 0 };
	CK_ATTRIBUTE	 a[] = {
		{ CKA_SENSITIVE, &v[0], 1 },
		{ CKA_EXTRACTABLE, &v[1], 1 },
		{ CKA_NEVER_EXTRACTABLE, &v[2], 1 },
		{ CKA_ALWAYS_SENSITIVE, &v[3], 1 },
		{ CKA_SIGN, &v[4], 1 },
		{ CKA_DECRYPT, &v[5], 1 },
		{ CKA_DERIVE, &v[6], 1 },
	};
	const char	*names[] = { "CKA_SENSITIVE", "CKA_EXTRACTABLE",
	    "CKA_NEVER_EXTRACTABLE", "CKA_ALWAYS_SENSITIVE", "CKA_SIGN",
	    "CKA_DECRYPT", "CKA_DERIVE" };
	CK_RV		 rv;
	size_t		 i;

	if (find_key(p, label, &key) != 0)
		return 1;
	if ((rv = p->f->C_GetAttributeValue(p->s, key, a, 7)) != CKR_OK)
		return fail("C_GetAttributeValue", rv);
	for (i = 0; i < 7; i++)
		printf("%s=%d\n", names[i], v[i] ? 1 : 0);
	return 0;
}

static int
sign_once(struct probe *p, CK_OBJECT_HANDLE key)
{
	CK_MECHANISM	 m = { CKM_ECDSA, NULL, 0 };
	CK_BYTE		 digest[32], sig[128];
	CK_ULONG	 len = sizeof(sig);
	CK_RV		 rv;

	memset(digest, 0xa5, sizeof(digest));
	if ((rv = p->f->C_SignInit(p->s, &m, key)) != CKR_OK)
		return fail("C_SignInit", rv);
	if ((rv = p->f->C_Sign(p->s, digest, sizeof(digest), sig, &len)) !=
	    CKR_OK)
		return fail("C_Sign", rv);
	if (len != 64) {
		fprintf(stderr, "tpm2-probe: ECDSA P-256 signature of %lu "
		    "bytes, want 64 (r||s)\n", (unsigned long)len);
		return 1;
	}
	return 0;
}

static double
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmd_sign(struct probe *p, const char *label, const char *count)
{
	CK_OBJECT_HANDLE key;
	char		*end;
	long		 n, i;
	double		 t0, ms;

	errno = 0;
	n = strtol(count, &end, 10);
	if (errno != 0 || *end != '\0' || n < 1 || n > 100000) {
		fprintf(stderr, "tpm2-probe: bad count %s\n", count);
		return 2;
	}
	if (find_key(p, label, &key) != 0)
		return 1;
	t0 = now_ms();
	for (i = 0; i < n; i++)
		if (sign_once(p, key) != 0)
			return 1;
	ms = now_ms() - t0;
	printf("sign: %ld ECDSA P-256 signatures in %.1f ms: "
	    "%.2f ms each, %.1f/s\n", n, ms, ms / (double)n,
	    (double)n * 1e3 / ms);
	return 0;
}

static int
keygen_one(struct probe *p, const char *label, CK_OBJECT_HANDLE *priv)
{
	/* DER OID of prime256v1 */
	static const CK_BYTE p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48,
	    0xce, 0x3d, 0x03, 0x01, 0x07 };
	CK_MECHANISM	 m = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_BBOOL	 yes = CK_TRUE, no = CK_FALSE;
	void		*lbl = (void *)(uintptr_t)label;
	CK_ULONG	 ll = strlen(label);
	/*
	 * No CKA_VERIFY here: tpm2-pkcs11 1.9.0 refuses CKA_VERIFY=TRUE
	 * next to CKA_DECRYPT=FALSE on the private half ("attr mismatch
	 * 0x10a", CKR_GENERAL_ERROR) and leaves two transient objects
	 * loaded in the TPM, which breaks every later login on a bare
	 * swtpm until they are flushed.
	 */
	CK_ATTRIBUTE	 pub[] = {
		{ CKA_EC_PARAMS, (void *)(uintptr_t)p256, sizeof(p256) },
		{ CKA_TOKEN, &yes, 1 },
		{ CKA_LABEL, lbl, ll }, { CKA_ID, lbl, ll },
	};
	CK_ATTRIBUTE	 prv[] = {
		{ CKA_TOKEN, &yes, 1 }, { CKA_PRIVATE, &yes, 1 },
		{ CKA_SENSITIVE, &yes, 1 }, { CKA_EXTRACTABLE, &no, 1 },
		{ CKA_SIGN, &yes, 1 }, { CKA_DECRYPT, &no, 1 },
		{ CKA_DERIVE, &no, 1 },
		{ CKA_LABEL, lbl, ll }, { CKA_ID, lbl, ll },
	};
	CK_OBJECT_HANDLE pubh;
	CK_RV		 rv;

	rv = p->f->C_GenerateKeyPair(p->s, &m, pub, 4, prv, 9, &pubh, priv);
	if (rv != CKR_OK)
		return fail("C_GenerateKeyPair", rv);
	return 0;
}

static int
cmd_keygen(struct probe *p, int n, char **labels)
{
	CK_OBJECT_HANDLE keys[8];
	int		 i;
	double		 t0;

	if (n < 1 || n > 8)
		return 2;
	for (i = 0; i < n; i++) {
		t0 = now_ms();
		if (keygen_one(p, labels[i], &keys[i]) != 0)
			return 1;
		printf("keygen: %s in %.1f ms\n", labels[i], now_ms() - t0);
	}
	for (i = 0; i < n; i++) {
		if (sign_once(p, keys[i]) != 0)
			return 1;
		printf("keygen: %s signs\n", labels[i]);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct probe	 p;
	int		 r = 2;

	memset(&p, 0, sizeof(p));
	if (argc < 6) {
		fprintf(stderr, "usage: tpm2-probe MODULE TOKEN PIN_FILE "
		    "attrs LABEL | sign LABEL N | keygen LABEL...\n");
		return 2;
	}
	if (probe_open(&p, argv[1], argv[2], argv[3]) != 0) {
		r = 1;
		goto out;
	}
	if (strcmp(argv[4], "attrs") == 0 && argc == 6)
		r = cmd_attrs(&p, argv[5]);
	else if (strcmp(argv[4], "sign") == 0 && argc == 7)
		r = cmd_sign(&p, argv[5], argv[6]);
	else if (strcmp(argv[4], "keygen") == 0)
		r = cmd_keygen(&p, argc - 5, argv + 5);
	else
		fprintf(stderr, "tpm2-probe: unknown command %s\n", argv[4]);
out:
	probe_close(&p);
	return r;
}
