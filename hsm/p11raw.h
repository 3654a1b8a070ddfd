/*
 * Raw PKCS#11 (no libp11) for what libp11 0.4.12 cannot do: generating EC
 * keys, creating certificate objects, reading attributes. Used by the
 * ceremony inside twokey-signer and by tests; never by the network-facing
 * process. One module per process: tk_p11raw_close finalizes it.
 */
#ifndef TWOKEY_HSM_P11RAW_H
#define TWOKEY_HSM_P11RAW_H

#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

struct tk_p11raw {
	void *dl;
	CK_FUNCTION_LIST *f;
	int finalize;		/* we initialized the module */
	CK_SLOT_ID slot;
	CK_SESSION_HANDLE session;
	int have_session;
	int logged_in;
	char why[256];		/* reason of the last failure */
};

/*
 * Loads the module, finds the initialized token with that label, opens a
 * read-write session and, if pin is not NULL, logs in as user. Returns 0 or
 * TK_HSM_ERR_MODULE / _NO_TOKEN / _PIN / _LOCKED with p->why set.
 */
int tk_p11raw_open(struct tk_p11raw *p, const char *module_path,
    const char *token, const char *pin, size_t pinlen);
void tk_p11raw_close(struct tk_p11raw *p);

/* Finds up to max objects matching the template; *n gets the count. */
int tk_p11raw_find(struct tk_p11raw *p, CK_ATTRIBUTE *tmpl, CK_ULONG cnt,
    CK_OBJECT_HANDLE *out, size_t max, size_t *n);

/*
 * Reads one attribute into a new buffer (caller frees). Returns 0, or -1
 * when the attribute is absent or sensitive.
 */
int tk_p11raw_get(struct tk_p11raw *p, CK_OBJECT_HANDLE h,
    CK_ATTRIBUTE_TYPE type, uint8_t **val, size_t *len);

#endif
