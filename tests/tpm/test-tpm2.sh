#!/bin/bash
# The TPM 2.0 backend end to end: deploy/tpm2-setup.sh provisions a token on
# swtpm in a temporary folder, pkcs11-tool and tests/tpm/tpm2-probe.c use
# it through tpm2-pkcs11, OpenSSL verifies, and --stop leaves no process.
#
# Exit 0 when every check passes, 1 when one fails, 77 (skip) when the
# optional TPM packages are missing (deploy/install-deps.sh --tpm).
# Closing line: "tpm2: N passed, M failed". Runs in a few seconds.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
setup=$top/deploy/tpm2-setup.sh
signer=${TWOKEY_BUILD:-$top/build}/twokey-signer
module=${TPM2_PKCS11_MODULE:-/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so}

skip() {
	echo "SKIP: tpm2: $*"
	exit 77
}

for t in swtpm tpm2_ptool tpm2-abrmd dbus-daemon pkcs11-tool openssl cc \
    pkg-config; do
	command -v "$t" >/dev/null 2>&1 ||
	    skip "$t not installed (deploy/install-deps.sh --tpm)"
done
[ -r "$module" ] ||
    skip "tpm2-pkcs11 module missing (deploy/install-deps.sh --tpm)"
pkg-config --exists p11-kit-1 ||
    skip "p11-kit-1 headers missing (deploy/install-deps.sh --tpm)"

tmp=$(mktemp -d "${TWOKEY_TEST_TMP:-${TMPDIR:-/tmp}}/tpm2.XXXXXX")
state=$tmp/token
passed=0
failed=0

cleanup() {
	"$setup" --stop "$state" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# check NAME COMMAND...: one behaviour, reported by name.
check() {
	local name=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then
		echo "ok - $name"
		passed=$((passed + 1))
	else
		echo "not ok - $name"
		sed 's/^/    /' "$tmp/out"
		failed=$((failed + 1))
	fi
}

p11() {
	TK_PIN=$(cat "$state/user.pin") pkcs11-tool --module "$module" \
	    --token-label twokey "$@"
}

# --- the behaviours ---------------------------------------------------

setup_prints_env_and_uri_but_no_pin() {
	"$setup" "$state" >"$tmp/env" 2>"$tmp/setup.err" || {
		cat "$tmp/setup.err"
		return 1
	}
	grep -q "^export TPM2_PKCS11_STORE='$state/store'\$" "$tmp/env" &&
	    grep -q "^export TPM2_PKCS11_TCTI=" "$tmp/env" &&
	    grep -q "pin-source=file:$state/user.pin'\$" "$tmp/env" &&
	    grep -q "module-path=$module" "$tmp/env" || return 1
	local pin
	for pin in "$state/user.pin" "$state/so.pin"; do
		[ "$(stat -c %a "$pin")" = 600 ] || return 1
		[ "$(wc -c <"$pin")" -ge 16 ] || return 1
		! grep -qF "$(cat "$pin")" "$tmp/env" "$tmp/setup.err" ||
		    return 1
	done
}

setup_again_on_same_folder_is_harmless() {
	"$setup" "$state" >"$tmp/env2" && cmp "$tmp/env" "$tmp/env2"
}

ec_p256_key_generates_with_pkcs11_tool() {
	p11 --pin env:TK_PIN --keypairgen --key-type EC:prime256v1 \
	    --label x --id 01 --usage-sign &&
	    p11 --read-object --type pubkey --id 01 -o "$tmp/pub.der" &&
	    openssl pkey -pubin -inform DER -in "$tmp/pub.der" \
		-out "$tmp/pub.pem" &&
	    openssl pkey -pubin -in "$tmp/pub.pem" -noout -text |
	    grep -q 'prime256v1'
}

ecdsa_on_digest_verifies_with_openssl() {
	printf 'grant 42 approved by two people\n' >"$tmp/msg"
	openssl dgst -sha256 -binary "$tmp/msg" >"$tmp/msg.sha256"
	p11 --pin env:TK_PIN --sign -m ECDSA --id 01 -i "$tmp/msg.sha256" \
	    -o "$tmp/sig.raw" &&
	    [ "$(wc -c <"$tmp/sig.raw")" -eq 64 ] &&
	    p11 --pin env:TK_PIN --sign -m ECDSA --id 01 \
		-i "$tmp/msg.sha256" -o "$tmp/sig.der" \
		--signature-format openssl &&
	    openssl dgst -sha256 -verify "$tmp/pub.pem" \
		-signature "$tmp/sig.der" "$tmp/msg" | grep -qx 'Verified OK'
}

ecdsa_sha256_verifies_with_openssl() {
	p11 --pin env:TK_PIN --sign -m ECDSA-SHA256 --id 01 -i "$tmp/msg" \
	    -o "$tmp/sig2.der" --signature-format openssl &&
	    openssl dgst -sha256 -verify "$tmp/pub.pem" \
		-signature "$tmp/sig2.der" "$tmp/msg" | grep -qx 'Verified OK'
}

signature_does_not_verify_another_message() {
	printf 'grant 43 approved by two people\n' >"$tmp/other"
	! openssl dgst -sha256 -verify "$tmp/pub.pem" \
	    -signature "$tmp/sig.der" "$tmp/other"
}

private_key_is_sensitive_and_never_extractable() {
	"$tmp/tpm2-probe" "$module" twokey "$state/user.pin" attrs x \
	    >"$tmp/attrs" || return 1
	cat "$tmp/attrs"
	grep -qx CKA_SENSITIVE=1 "$tmp/attrs" &&
	    grep -qx CKA_EXTRACTABLE=0 "$tmp/attrs" &&
	    grep -qx CKA_NEVER_EXTRACTABLE=1 "$tmp/attrs"
}

wrong_pin_is_refused() {
	if TK_BAD=0000000000000000 pkcs11-tool --module "$module" \
	    --token-label twokey --pin env:TK_BAD --list-objects \
	    >"$tmp/bad" 2>&1; then
		return 1
	fi
	grep -q CKR_PIN_INCORRECT "$tmp/bad"
}

certificate_object_is_stored_and_read_back() {
	openssl req -x509 -new -key "$tmp/cakey.pem" -subj /CN=twokey-test \
	    -days 1 -outform DER -out "$tmp/cert.der" 2>/dev/null &&
	    p11 --pin env:TK_PIN --write-object "$tmp/cert.der" --type cert \
		--label x --id 01 &&
	    p11 --read-object --type cert --id 01 -o "$tmp/cert.back" &&
	    cmp "$tmp/cert.der" "$tmp/cert.back"
}

ceremony_makes_three_keys_in_one_session() {
	"$tmp/tpm2-probe" "$module" twokey "$state/user.pin" keygen \
	    root audit token &&
	    for k in root audit token; do
		"$tmp/tpm2-probe" "$module" twokey "$state/user.pin" attrs \
		    "$k" | grep -qx CKA_EXTRACTABLE=0 || return 1
	    done
}

# twokey's own ceremony (twokey-signer --ceremony, built by make) on the
# TPM: three P-256 keys with the ceremony's template, certificates issued
# by the root key in the TPM, a chain that stock OpenSSL accepts.
twokey_ceremony_issues_a_chain_openssl_accepts() {
	local uri
	uri="pkcs11:token=twokey?module-path=$module&pin-source=file:$state/user.pin"
	"$signer" --ceremony --uri "$uri" --out "$tmp/ceremony" &&
	    openssl verify -CAfile "$tmp/ceremony/root.pem" \
	    "$tmp/ceremony/audit.pem" "$tmp/ceremony/token.pem"
}

# The signer serving on the TPM (tpm2-pkcs11 over abrmd's D-Bus), as
# twokeyd starts it: its seccomp filter is in after login and signing
# still works, so the filter keeps what tpm2-pkcs11 and its TCTI need.
signer_signs_on_the_tpm_under_its_filter() {
	local uri
	uri="pkcs11:token=twokey?module-path=$module&pin-source=file:$state/user.pin"
	"$tmp/signer-probe" "$uri" "$signer" 20
}

# swtpm writes its pid file without a newline.
record_pids() {
	local f
	for f in "$state/swtpm.pid" "$state/run/abrmd.pid" \
	    "$state/run/dbus.pid"; do
		tr -d '\n' <"$f"
		echo
	done >"$tmp/pids"
}

# A zombie waiting for its parent counts as gone.
pid_gone() {
	[ ! -e "/proc/$1" ] ||
	    [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]
}

stop_leaves_no_process() {
	local pid n=0
	record_pids
	"$setup" --stop "$state" || return 1
	while read -r pid; do
		n=$((n + 1))
		pid_gone "$pid" || { echo "pid $pid still running"; return 1; }
	done <"$tmp/pids"
	[ "$n" -eq 3 ] && [ ! -e "$state/swtpm.pid" ] && [ ! -e "$state/run" ]
}

keys_survive_stop_and_start() {
	"$setup" --start "$state" >"$tmp/env3" || return 1
	# shellcheck disable=SC1091
	. "$tmp/env3"
	p11 --pin env:TK_PIN --sign -m ECDSA --id 01 -i "$tmp/msg.sha256" \
	    -o "$tmp/sig3.der" --signature-format openssl &&
	    openssl dgst -sha256 -verify "$tmp/pub.pem" \
		-signature "$tmp/sig3.der" "$tmp/msg" | grep -qx 'Verified OK'
}

report_signing_rate() {
	"$tmp/tpm2-probe" "$module" twokey "$state/user.pin" sign x 100 |
	    tee "$tmp/rate"
	grep -q '^sign: 100 ' "$tmp/rate"
}

# --- run --------------------------------------------------------------

start=$(date +%s)
# shellcheck disable=SC2046
cc -std=c11 -O2 -D_GNU_SOURCE -Wall -Wextra -Werror $(pkg-config \
    --cflags p11-kit-1) -o "$tmp/tpm2-probe" "$top/tests/tpm/tpm2-probe.c" \
    -ldl || { echo "tpm2: cannot build tpm2-probe"; exit 1; }
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/cakey.pem"
build=${TWOKEY_BUILD:-$top/build}
# shellcheck disable=SC2046
cc -std=c11 -O2 -D_GNU_SOURCE -I"$top/include" -o "$tmp/signer-probe" \
    "$top/tests/tpm/signer-probe.c" "$build/libtwokey-hsm.a" \
    "$build/libtwokey-common.a" $(pkg-config --libs libcrypto \
    libseccomp) -lpthread 2>"$tmp/probe.err" || rm -f "$tmp/signer-probe"

check setup_prints_env_and_uri_but_no_pin setup_prints_env_and_uri_but_no_pin
if [ "$failed" -ne 0 ]; then
	echo "tpm2: $passed passed, $failed failed"
	exit 1
fi
# shellcheck disable=SC1091
. "$tmp/env"
check setup_again_on_same_folder_is_harmless \
    setup_again_on_same_folder_is_harmless
check ec_p256_key_generates_with_pkcs11_tool \
    ec_p256_key_generates_with_pkcs11_tool
check ecdsa_on_digest_verifies_with_openssl \
    ecdsa_on_digest_verifies_with_openssl
check ecdsa_sha256_verifies_with_openssl ecdsa_sha256_verifies_with_openssl
check signature_does_not_verify_another_message \
    signature_does_not_verify_another_message
check private_key_is_sensitive_and_never_extractable \
    private_key_is_sensitive_and_never_extractable
check wrong_pin_is_refused wrong_pin_is_refused
check certificate_object_is_stored_and_read_back \
    certificate_object_is_stored_and_read_back
check ceremony_makes_three_keys_in_one_session \
    ceremony_makes_three_keys_in_one_session
if [ -x "$signer" ]; then
	check twokey_ceremony_issues_a_chain_openssl_accepts \
	    twokey_ceremony_issues_a_chain_openssl_accepts
else
	echo "not ok - twokey_ceremony_issues_a_chain_openssl_accepts"
	echo "    $signer missing: run make first"
	failed=$((failed + 1))
fi
if [ -x "$tmp/signer-probe" ]; then
	check signer_signs_on_the_tpm_under_its_filter \
	    signer_signs_on_the_tpm_under_its_filter
else
	echo "not ok - signer_signs_on_the_tpm_under_its_filter"
	echo "    cannot build tests/tpm/signer-probe.c: run make first"
	failed=$((failed + 1))
fi
check report_signing_rate report_signing_rate
sed 's/^/    /' "$tmp/rate" 2>/dev/null
check stop_leaves_no_process stop_leaves_no_process
check keys_survive_stop_and_start keys_survive_stop_and_start
check stop_leaves_no_process stop_leaves_no_process

echo "tpm2: $(( $(date +%s) - start )) s"
echo "tpm2: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
