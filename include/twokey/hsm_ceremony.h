/*
 * hsm ceremony: creating the three purpose keys on an empty token and
 * issuing their certificates. Runs in the twokey-signer program
 * (`twokey-signer --ceremony --uri URI --out DIR`), never in the
 * network-facing process; tk_ceremony_spawn starts that from any program.
 *
 * What it makes, all on the token named by the URI:
 *  - three ECDSA P-256 key pairs generated inside the token (private key
 *    CKA_SENSITIVE, not CKA_EXTRACTABLE, CKA_SIGN only, CKA_PRIVATE), with
 *    CKA_LABEL tk_key_label(purpose) and a 2-byte CKA_ID 0x74 0x01..0x03
 *    (2 bytes because YubiHSM 2 object ids are 16-bit);
 *  - a self-signed root certificate (CA:TRUE, pathlen 0, keyCertSign and
 *    cRLSign), valid 30 years, because auditors verify evidence packs
 *    signed under it for decades and the root is pinned by fingerprint;
 *  - an audit certificate (digitalSignature, nonRepudiation) valid 10
 *    years: the audit key's lifetime. Journal checkpoints and evidence
 *    packs must be signed within it; verifiers check the signing time
 *    against it, not the time of verification, so old packs stay valid;
 *  - a token certificate (digitalSignature) valid 5 years; grants it signs
 *    live minutes to days.
 * Certificates are stored as CKO_CERTIFICATE objects with the same label
 * and id as their key.
 *
 * It refuses (TK_HSM_ERR_KEY_EXISTS) when any object with one of the three
 * labels or ids is already on the token, and on any failure it destroys
 * every object it created, so the token is left as it was.
 *
 * Files written to out_dir (created if missing, mode 0755 files 0644):
 *   root.pem, audit.pem, token.pem   the certificates
 *   root-fingerprint.txt             two lines: the SHA-256 of the root
 *       certificate's DER in lowercase hex, then the same as printed by
 *       `openssl x509 -noout -fingerprint -sha256 -in root.pem`.
 */
#ifndef TWOKEY_HSM_CEREMONY_H
#define TWOKEY_HSM_CEREMONY_H

#define TK_CEREMONY_ROOT_DAYS	10958	/* 30 years */
#define TK_CEREMONY_AUDIT_DAYS	3653	/* 10 years */
#define TK_CEREMONY_TOKEN_DAYS	1827	/* 5 years */

/*
 * Runs the ceremony in this process (which loads the module). fp_hex, if
 * not NULL, receives the root fingerprint (64 hex digits and a NUL).
 * Returns 0 or a tk_hsm_err code, logged with the reason.
 */
int tk_ceremony_run(const char *uri, const char *out_dir, char fp_hex[65]);

/*
 * Runs `signer_path --ceremony` (NULL: as for tk_signer_start) in a child
 * and waits for it. Returns 0 or the child's tk_hsm_err code.
 */
int tk_ceremony_spawn(const char *signer_path, const char *uri,
    const char *out_dir);

#endif
