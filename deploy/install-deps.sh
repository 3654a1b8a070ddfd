#!/bin/sh
# Installs the Debian packages that twokey needs to build, test and run.
# Non-interactive and idempotent: packages already present are left alone,
# and the package lists are refreshed only when something is missing.
#
# Usage: install-deps.sh [--tpm]
#   --tpm  also install the optional TPM 2.0 test backend (swtpm, tpm2-pkcs11,
#          tpm2-abrmd on a private D-Bus bus) used by deploy/tpm2-setup.sh and
#          tests/tpm/. Not needed by `make check`, so the default stays lean.
set -eu

PACKAGES="
build-essential pkg-config clang libclang-rt-14-dev cppcheck valgrind wrk
libssl-dev openssl
libp11-dev libengine-pkcs11-openssl softhsm2 opensc libp11-kit-dev
libfido2-dev libcbor-dev
libsqlite3-dev sqlite3
libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev
libseccomp-dev libarchive-dev libsystemd-dev
libcmocka-dev
ca-certificates curl
"

# Optional: a software TPM 2.0 as a second real PKCS#11 backend.
TPM_PACKAGES="
swtpm swtpm-tools tpm2-tools tpm2-abrmd libtss2-tcti-tabrmd0
libtpm2-pkcs11-1 libtpm2-pkcs11-tools dbus libp11-kit-dev
"

case "${1:-}" in
"")
	;;
--tpm)
	PACKAGES="$PACKAGES $TPM_PACKAGES"
	;;
*)
	echo "usage: install-deps.sh [--tpm]" >&2
	exit 2
	;;
esac

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps: all packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
