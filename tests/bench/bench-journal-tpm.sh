#!/bin/bash
# The journal benchmark on a TPM 2.0 token (swtpm through tpm2-pkcs11 and
# tpm2-abrmd): a fresh token in a temporary folder (deploy/tpm2-setup.sh),
# twokey's key ceremony on it, then bench_journal with its URI. swtpm and
# its helpers are always stopped on the way out.
#
# Usage: bench-journal-tpm.sh BUILD_DIR
# $TWOKEY_BENCH_TPM_APPENDS sets the number of appends (default 100,000).
# Each of the 4 appenders hands the journal $TWOKEY_BENCH_GROUP entries
# per call (default 64), so batches are large and one slow signature
# covers many entries; with TWOKEY_BENCH_GROUP=1 a batch holds at most 4
# entries and 100,000 appends take several minutes on swtpm.
# Exit 0 on success, 1 on failure, 77 when the TPM packages are missing
# (deploy/install-deps.sh --tpm).
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-build}" && pwd)
setup=$top/deploy/tpm2-setup.sh
appends=${TWOKEY_BENCH_TPM_APPENDS:-100000}
module=${TPM2_PKCS11_MODULE:-/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so}

for t in swtpm tpm2_ptool tpm2-abrmd dbus-daemon pkcs11-tool; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "SKIP: journal on swtpm: $t not installed" \
		    "(deploy/install-deps.sh --tpm)"
		exit 77
	fi
done
if [ ! -r "$module" ]; then
	echo "SKIP: journal on swtpm: tpm2-pkcs11 module missing" \
	    "(deploy/install-deps.sh --tpm)"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/twokey-bench-tpm.XXXXXX")
state=$tmp/token

cleanup() {
	"$setup" --stop "$state" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! "$setup" "$state" >"$tmp/env" 2>"$tmp/setup.err"; then
	sed 's/^/    /' "$tmp/setup.err"
	echo "journal on swtpm: token setup failed"
	exit 1
fi
# The file holds export lines with paths and ports only.
# shellcheck disable=SC1091
. "$tmp/env"
if ! "$build/twokey-signer" --ceremony --uri "$TWOKEY_PKCS11_URI" \
    --out "$tmp/ceremony" >"$tmp/ceremony.log" 2>&1; then
	sed 's/^/    /' "$tmp/ceremony.log"
	echo "journal on swtpm: key ceremony failed"
	exit 1
fi
mkdir "$tmp/run"
echo "journal on swtpm: $appends appends"
TWOKEY_TOP=$top TWOKEY_BUILD=$build TWOKEY_TEST_TMP=$tmp/run \
    TWOKEY_BENCH_APPENDS=$appends \
    "$build/bench/bench_journal" "$TWOKEY_PKCS11_URI"
