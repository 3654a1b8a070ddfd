/* Raw PKCS#11: loading a module, finding a token, logging in. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "twokey/common.h"
#include "twokey/hsm.h"
#include "p11raw.h"

#define ESC(s) tk_log_escape((char[96]){ 0 }, 96, (s), strlen(s))

static int
load(struct tk_p11raw *p, const char *module_path)
{
	CK_C_INITIALIZE_ARGS args;
	CK_C_GetFunctionList get;
	CK_RV rv;

	p->dl = dlopen(module_path, RTLD_NOW | RTLD_LOCAL);
	if (p->dl == NULL || (get = (CK_C_GetFunctionList)dlsym(p->dl,
	    "C_GetFunctionList")) == NULL || get(&p->f) != CKR_OK ||
	    p->f == NULL) {
		snprintf(p->why, sizeof(p->why), "PKCS#11 module '%s' failed "
		    "to load", ESC(module_path));
		return TK_HSM_ERR_MODULE;
	}
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = p->f->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		snprintf(p->why, sizeof(p->why), "PKCS#11 module '%s' failed "
		    "to initialize (0x%lx)", ESC(module_path), rv);
		return TK_HSM_ERR_MODULE;
	}
	p->finalize = rv == CKR_OK;
	return 0;
}

static int
label_is(const CK_UTF8CHAR *lab, const char *want)
{
	size_t n = 32, wl = strlen(want);

	while (n > 0 && lab[n - 1] == ' ')
		n--;
	return n == wl && memcmp(lab, want, n) == 0;
}

/* Initialized tokens only, as in the signer. */
static int
find_slot(struct tk_p11raw *p, const char *token, CK_TOKEN_INFO *ti)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = 64, i;

	if (p->f->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK)
		n = 0;
	for (i = 0; i < n; i++) {
		if (p->f->C_GetTokenInfo(slots[i], ti) != CKR_OK ||
		    (ti->flags & CKF_TOKEN_INITIALIZED) == 0)
			continue;
		if (label_is(ti->label, token)) {
			p->slot = slots[i];
			return 0;
		}
	}
	snprintf(p->why, sizeof(p->why), "no initialized token labelled "
	    "'%s'", ESC(token));
	return TK_HSM_ERR_NO_TOKEN;
}

static int
login(struct tk_p11raw *p, const char *token, const char *pin,
    size_t pinlen, const CK_TOKEN_INFO *ti)
{
	CK_RV rv;

	if ((ti->flags & CKF_USER_PIN_LOCKED) != 0) {
		snprintf(p->why, sizeof(p->why), "the user PIN of token '%s' "
		    "is locked", ESC(token));
		return TK_HSM_ERR_LOCKED;
	}
	rv = p->f->C_Login(p->session, CKU_USER,
	    (CK_UTF8CHAR *)(uintptr_t)pin, (CK_ULONG)pinlen);
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
		p->logged_in = rv == CKR_OK;
		return 0;
	}
	if (rv == CKR_PIN_LOCKED) {
		snprintf(p->why, sizeof(p->why), "the user PIN of token '%s' "
		    "is locked", ESC(token));
		return TK_HSM_ERR_LOCKED;
	}
	snprintf(p->why, sizeof(p->why), rv == CKR_PIN_INCORRECT ?
	    "wrong user PIN for token '%s' (0x%lx)" :
	    "login to token '%s' failed (0x%lx)", ESC(token), rv);
	return TK_HSM_ERR_PIN;
}

int
tk_p11raw_open(struct tk_p11raw *p, const char *module_path,
    const char *token, const char *pin, size_t pinlen)
{
	CK_TOKEN_INFO ti;
	int r;

	memset(p, 0, sizeof(*p));
	if ((r = load(p, module_path)) != 0 ||
	    (r = find_slot(p, token, &ti)) != 0)
		return r;
	if (p->f->C_OpenSession(p->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
	    NULL, NULL, &p->session) != CKR_OK) {
		snprintf(p->why, sizeof(p->why), "cannot open a session on "
		    "token '%s'", ESC(token));
		return TK_HSM_ERR_NO_TOKEN;
	}
	p->have_session = 1;
	if (pin != NULL && (r = login(p, token, pin, pinlen, &ti)) != 0)
		return r;
	return 0;
}

void
tk_p11raw_close(struct tk_p11raw *p)
{
	if (p->f != NULL) {
		if (p->logged_in)
			p->f->C_Logout(p->session);
		if (p->have_session)
			p->f->C_CloseSession(p->session);
		if (p->finalize)
			p->f->C_Finalize(NULL);
	}
	if (p->dl != NULL)
		dlclose(p->dl);
	memset(p, 0, sizeof(*p));
}

int
tk_p11raw_find(struct tk_p11raw *p, CK_ATTRIBUTE *tmpl, CK_ULONG cnt,
    CK_OBJECT_HANDLE *out, size_t max, size_t *n)
{
	CK_ULONG got = 0;
	CK_RV rv;

	*n = 0;
	if (p->f->C_FindObjectsInit(p->session, tmpl, cnt) != CKR_OK)
		return -1;
	rv = p->f->C_FindObjects(p->session, out, (CK_ULONG)max, &got);
	p->f->C_FindObjectsFinal(p->session);
	if (rv != CKR_OK)
		return -1;
	*n = got;
	return 0;
}

int
tk_p11raw_get(struct tk_p11raw *p, CK_OBJECT_HANDLE h,
    CK_ATTRIBUTE_TYPE type, uint8_t **val, size_t *len)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };

	*val = NULL;
	*len = 0;
	if (p->f->C_GetAttributeValue(p->session, h, &a, 1) != CKR_OK ||
	    a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return -1;
	if ((a.pValue = malloc(a.ulValueLen + 1)) == NULL)
		return -1;
	if (p->f->C_GetAttributeValue(p->session, h, &a, 1) != CKR_OK) {
		free(a.pValue);
		return -1;
	}
	*val = a.pValue;
	*len = a.ulValueLen;
	return 0;
}
