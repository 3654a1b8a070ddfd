#!/bin/sh
# Installs the Debian packages that twokey needs to build, test and run.
# Non-interactive and idempotent: packages already present are left alone,
# and the package lists are refreshed only when something is missing.
#
# Usage: install-deps.sh [--tpm | --browser]
#   --tpm      also install the optional TPM 2.0 test backend (swtpm,
#              tpm2-pkcs11, tpm2-abrmd on a private D-Bus bus) used by
#              deploy/tpm2-setup.sh and tests/tpm/. Not needed by
#              `make check`, so the default stays lean.
#   --browser  also install Debian's chromium, nodejs and npm for the
#              browser end-to-end tests (make check-browser), which fetch
#              playwright-core from npm; also not needed by `make check`.
set -eu

PACKAGES="
build-essential pkg-config clang libclang-rt-14-dev cppcheck valgrind wrk
libssl-dev openssl
libp11-dev libengine-pkcs11-openssl softhsm2 opensc libp11-kit-dev
libfido2-dev libcbor-dev
libsqlite3-dev sqlite3
libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev
libseccomp-dev libarchive-dev
libcmocka-dev
systemd
ca-certificates curl
man-db groff-base
"

# Optional: a software TPM 2.0 as a second real PKCS#11 backend.
TPM_PACKAGES="
swtpm swtpm-tools tpm2-tools tpm2-abrmd libtss2-tcti-tabrmd0
libtpm2-pkcs11-1 libtpm2-pkcs11-tools dbus libp11-kit-dev
"

# Optional: the browser that plays the approvers in tests/browser/. A
# Node.js that brings its own npm (NodeSource's nodejs, which conflicts
# with Debian's npm) is kept as it is.
BROWSER_PACKAGES="chromium"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1
then
	BROWSER_PACKAGES="$BROWSER_PACKAGES nodejs npm"
fi

case "${1:-}" in
"")
	;;
--tpm)
	PACKAGES="$PACKAGES $TPM_PACKAGES"
	;;
--browser)
	PACKAGES="$PACKAGES $BROWSER_PACKAGES"
	;;
*)
	echo "usage: install-deps.sh [--tpm | --browser]" >&2
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
