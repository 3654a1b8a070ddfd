/* Names shared by every part of the hsm module. */
#include "twokey/hsm.h"

const char *
tk_key_label(enum tk_key_purpose purpose)
{
	switch (purpose) {
	case TK_KEY_ROOT:
		return "twokey-root";
	case TK_KEY_AUDIT:
		return "twokey-audit";
	case TK_KEY_TOKEN:
		return "twokey-token";
	}
	return "twokey-invalid";
}

const char *
tk_hsm_strerror(int err)
{
	switch (err) {
	case TK_HSM_OK:
		return "success";
	case TK_HSM_ERR_NOMEM:
		return "out of memory";
	case TK_HSM_ERR_URI:
		return "malformed PKCS#11 URI";
	case TK_HSM_ERR_MODULE:
		return "PKCS#11 module failed to load";
	case TK_HSM_ERR_NO_TOKEN:
		return "no initialized token with that label";
	case TK_HSM_ERR_PIN:
		return "wrong PIN";
	case TK_HSM_ERR_LOCKED:
		return "PIN locked on the token";
	case TK_HSM_ERR_PIN_SOURCE:
		return "PIN file missing, empty or readable by others";
	case TK_HSM_ERR_NO_KEY:
		return "purpose key not found on the token";
	case TK_HSM_ERR_KEY_EXISTS:
		return "key or certificate already exists; refusing to "
		    "overwrite";
	case TK_HSM_ERR_SIGN:
		return "the token refused to sign";
	case TK_HSM_ERR_TIMEOUT:
		return "the signer did not answer in time";
	case TK_HSM_ERR_SIGNER_DIED:
		return "the signer exited mid-request";
	case TK_HSM_ERR_PROTOCOL:
		return "malformed message from the signer";
	case TK_HSM_ERR_SPAWN:
		return "the signer could not be started";
	case TK_HSM_ERR_CERT:
		return "certificate missing or invalid";
	case TK_HSM_ERR_IO:
		return "input/output error";
	case TK_HSM_ERR_INVALID:
		return "bad argument";
	}
	return "unknown error";
}
