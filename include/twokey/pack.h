/*
 * pack: the evidence pack of a period, one signed archive that an
 * auditor checks offline with stock tools (openssl cms, sha256sum) or
 * with `twokey-verify pack` (packcheck.h).
 *
 * Layout (pack.tar.gz, every file under one folder named for the period,
 * twokey-pack-<from>-<to>/, times as YYYYMMDDTHHMMSSZ):
 *
 *   pack.json          format, period, as_of, journal range, counts
 *   policy.json        the policy in force (quorum, teams, rp_id, origin)
 *   drift.json         {"events":[...]}: policy drift, the caller's list
 *                      then the period's "policy.drift" journal entries
 *   access.json        people, roles, state, credentials (enrolled, last
 *                      used, sign count, cloned): the keys trusted by
 *                      the period's end and their people; state now
 *   inventory.json     the service-account inventory report (input)
 *   rotation.json      rotation compliance (input)
 *   grants.json        grants issued in the period: TTL, state,
 *                      revocation, post-incident review
 *   requests/NNNNNNNN.json  every request filed in the period with its
 *                      ballots: nonce, assertion, approver's COSE key
 *                      (tk_approvals_evidence)
 *   journal/...        the journal export of the period (export.h) with
 *                      per-entry proofs and no checkpoint past the period
 *   certs/root.pem, certs/audit.pem, certs/token.pem
 *   report.html        for people: drift, figures, overdue and flagged
 *                      items first; plain HTML, no scripts
 *   SHA256SUMS         sha256sum(1) format, every file above, sorted
 *   SHA256SUMS.p7s     CMS SignedData (DER), detached, over SHA256SUMS,
 *                      signed in the token by the AUDIT key
 *
 * Why the AUDIT key: it is the key that already vouches for the journal
 * (checkpoints), so an auditor trusts one certificate, under the pinned
 * root, for the whole record; the ceremony has no fourth key, and the
 * TOKEN key signs grants that people carry (a signature by it means
 * "access", not "record"). The two kinds of message cannot be confused:
 * a checkpoint signature covers note text that starts with the origin,
 * a CMS signature covers DER signed attributes (a SET, byte 0x31).
 *
 * Same period, same files: everything is evaluated as of
 * as_of = min(now, to); files are sorted by name; the archive has fixed
 * mtimes (as_of), owners (0) and modes, and gzip without a timestamp. Only
 * the CMS signing time differs between two packs of one period built
 * from the same state. Requests are those filed in [from, to); their
 * ballots are all the ballots they have.
 *
 * The SHA-256 of SHA256SUMS is journaled ("evidence.pack") once the pack
 * is made, so a later journal export proves which pack was issued.
 */
#ifndef TWOKEY_PACK_H
#define TWOKEY_PACK_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct tk_approvals;
struct tk_journal;

enum tk_pack_err {
	TK_PACK_OK = 0,
	TK_PACK_ERR_NOMEM = -800,
	TK_PACK_ERR_INVALID = -801,	/* bad argument or input document */
	TK_PACK_ERR_PERIOD = -802,	/* from >= to, or over the limit */
	TK_PACK_ERR_STORE = -803,	/* the approvals store failed */
	TK_PACK_ERR_JOURNAL = -804,	/* the journal failed */
	TK_PACK_ERR_SIGN = -805,	/* the token could not sign */
	TK_PACK_ERR_ARCHIVE = -806,	/* libarchive failed */
	TK_PACK_ERR_TOOBIG = -807,	/* over TK_PACK_MAX_BYTES */
};

const char *tk_pack_strerror(int err);

#define TK_PACK_FORMAT "twokey-evidence-pack/1"
#define TK_PACK_MAX_PERIOD ((int64_t)400 * 86400)	/* seconds */
#define TK_PACK_MAX_BYTES ((size_t)64 * 1024 * 1024)	/* the archive */

struct tk_pack_config {
	struct tk_approvals *ap;	/* its policy, rp_id and origin too */
	struct tk_journal *journal;	/* its signer signs the pack */
	const char *actor;		/* who asked; journaled */
	int64_t from, to;		/* the period [from, to), Unix s */
	int64_t now;
	/*
	 * Inputs of other modules, copied in as they are: the inventory
	 * report ({"accounts":[...]}, tk_inventory_report), rotation
	 * compliance ({"accounts":[...]}) and policy drift events (an array
	 * of objects). NULL: empty.
	 */
	const json_t *inventory;
	const json_t *rotation;
	const json_t *drift;
};

/*
 * Builds the pack, signs it, journals its manifest digest, and returns
 * the archive in *tgz (caller frees) and the SHA-256 of SHA256SUMS in hex
 * (sums_hex may be NULL). Nothing is journaled when it fails.
 */
int tk_pack_build(const struct tk_pack_config *cfg, uint8_t **tgz,
    size_t *len, char sums_hex[65]);

/* "2026-10-01T00:00:00Z" for t; out holds at least 21 bytes. */
void tk_pack_time(int64_t t, char out[21]);

#endif
