#!/bin/sh
# make run: twokey on its embedded defaults, everything under ./state.
#
#   ./state/token/      SoftHSM2 token and its PIN files (mode 0600; the
#                       PINs are never printed)
#   ./state/ceremony/   root, audit and token certificates from the key
#                       ceremony, and the root fingerprint to pin
#   ./state/daemon/     journal, approvals store, TLS key (made by twokeyd)
#   ./state/twokeyd.conf
#
# Kept between runs: the token and its keys are made once; later runs
# reuse them. Delete ./state to start over (this destroys the keys).
# Usage: run-embedded.sh BUILD_DIR
set -eu

build=$(cd "${1:-build}" && pwd)
top=$(pwd)
state=$top/state
port=${TWOKEY_PORT:-8443}

umask 077
mkdir -p "$state"

uri=$(sh "$top/deploy/softhsm-setup.sh" "$state/token" twokey)
SOFTHSM2_CONF=$state/token/softhsm2.conf
export SOFTHSM2_CONF

if [ ! -f "$state/ceremony/root.pem" ]; then
	echo "run: key ceremony on the SoftHSM2 token"
	"$build/twokey-signer" --ceremony --uri "$uri" --out "$state/ceremony"
fi

user_line=
if [ "$(id -u)" -eq 0 ]; then
	# twokeyd drops root after start-up to an account of its own.
	if ! getent passwd twokey >/dev/null; then
		useradd --system --no-create-home --home-dir /nonexistent \
		    --shell /usr/sbin/nologin twokey
	fi
	user_line='"user": "twokey",'
	# The dropped account must reach its state folder.
	chmod 0711 "$state"
fi

conf=$state/twokeyd.conf
if [ ! -f "$conf" ]; then
	cat >"$conf" <<CONF
# Written by make run; see docs/configuration.md for every setting.
{
  "listen": "127.0.0.1:$port",
  "pkcs11_uri": "$uri",
  "signer_path": "$build/twokey-signer",
  "state_dir": "$state/daemon",
  $user_line
  "rp_id": "localhost",
  "origins": ["https://localhost:$port"]
}
CONF
fi

"$build/twokeyd" -t -c "$conf" >/dev/null

cat <<MSG

twokey on its embedded defaults
  API:        https://localhost:$port/  (try /healthz and /readyz)
  Root certificate for clients and auditors to pin:
              $state/ceremony/root.pem
  Its SHA-256 fingerprint:
              $(head -1 "$state/ceremony/root-fingerprint.txt")
  Check it:   curl --cacert $state/ceremony/root.pem \\
                  https://localhost:$port/readyz
  Stop with Ctrl-C. State is kept in $state.

MSG
exec "$build/twokeyd" -c "$conf"
