/*
 * softctap: a software CTAP2 security key behind a USB HID transport,
 * for tests. libfido2 reaches it through fido_dev_set_io_functions, so
 * its own CTAPHID framing (INIT, CBOR, MSG, errors) and its CTAP2
 * client code (authenticatorGetInfo, makeCredential, getAssertion) run
 * unchanged, as with a key on a USB port. The credential is one ES256
 * softauthn key; user presence and built-in user verification are always
 * given (no touch is waited for) and the signature counter goes up by
 * one per operation. Test code only: the key lives in memory, in clear.
 */
#ifndef TWOKEY_SOFTCTAP_H
#define TWOKEY_SOFTCTAP_H

#include <stddef.h>
#include <stdint.h>

#include <fido.h>

struct softctap;

/* A new key with no credential yet, or NULL. */
struct softctap *softctap_new(void);
void softctap_free(struct softctap **scp);

/* The path that opens this key ("softctap:N"), valid while it lives. */
const char *softctap_path(const struct softctap *sc);

/* I/O functions that reach every live softctap key by its path. */
const fido_dev_io_t *softctap_io(void);

/*
 * The next CTAP2 command (makeCredential, getAssertion) is answered with
 * this status byte instead of being performed, once: 0x27 is
 * CTAP2_ERR_OPERATION_DENIED (the user refused), 0x2e
 * CTAP2_ERR_NO_CREDENTIALS.
 */
void softctap_fail_next(struct softctap *sc, uint8_t status);

/* The signature counter last used (0 before the first operation). */
uint32_t softctap_counter(const struct softctap *sc);

/* Frames the key answered with CTAPHID_ERROR, and the last code. */
unsigned int softctap_hid_errors(const struct softctap *sc,
    uint8_t *last);

#endif
